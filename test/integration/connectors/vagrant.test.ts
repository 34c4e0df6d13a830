// The vagrant connector against a real sshd on loopback (test/support/sshd.ts), with a stand-in
// `vagrant` on PATH that answers `vagrant ssh-config MACHINE` as Vagrant does, for one machine of
// one Vagrantfile directory: the connector contract over the ssh it configures, then what only
// vagrant has (which machine, where, what fails), then a run of the CLI on a vagrant inventory.
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ConnectionTarget, Connector, ConnectorOptions } from '../../../src/connectors/connector.ts';
import { createConnector } from '../../../src/connectors/index.ts';
import { VagrantConnector } from '../../../src/connectors/vagrant.ts';
import { quote } from '../../../src/core/shell.ts';
import { apiModule, changedTasks, makeProject, recapOf, runCli } from '../../support/project.ts';
import { rootSkipReason, startSshd, type Sshd } from '../../support/sshd.ts';
import { connectionError, connectorContract } from './contract.ts';

describe.skipIf(rootSkipReason !== undefined)(`vagrant connector (stand-in vagrant, real sshd)${rootSkipReason ? ` (skipped: ${rootSkipReason})` : ''}`, () => {
  let sshd: Sshd;
  let dir: string;
  /** the Vagrantfile's directory: the stand-in answers only when run there */
  let vagrantDir: string;
  let binDir: string;
  let knownHosts: string;
  let callLog: string;
  const open: Connector[] = [];

  beforeAll(async () => {
    sshd = await startSshd();
    dir = await mkdtemp(join(tmpdir(), 'provision-vagrant-test-'));
    await chmod(dir, 0o755);
    vagrantDir = join(dir, 'lab');
    binDir = join(dir, 'bin');
    await mkdir(vagrantDir);
    await mkdir(binDir);
    await writeFile(join(vagrantDir, 'Vagrantfile'), '# the stand-in vagrant never reads it\n');
    knownHosts = join(dir, 'known_hosts');
    await writeFile(knownHosts, `${sshd.hostKeyLine}\n`);
    callLog = join(dir, 'vagrant-calls');
    await writeFakeVagrant();
  });

  afterEach(async () => {
    await Promise.all(open.splice(0).map((connector) => connector.close()));
  });

  afterAll(async () => {
    await sshd?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /**
   * `vagrant ssh-config web1` in the Vagrantfile's directory prints the sshd's address, port, user
   * and key with strict checking against a known_hosts file; `default-policy` is a machine with
   * Vagrant's usual policy (no checking); every other machine is "not created", as Vagrant says.
   */
  async function writeFakeVagrant(): Promise<void> {
    const config = (machine: string, checking: string[]) =>
      [`Host ${machine}`, '  HostName 127.0.0.1', '  User root', `  Port ${sshd.port}`, ...checking, '  PasswordAuthentication no', `  IdentityFile ${sshd.clientKeyPath}`, '  IdentitiesOnly yes', '  LogLevel FATAL', ''].join('\n');
    const script = `#!/bin/sh
echo "$*" >> ${quote(callLog)}
if [ "$1" != ssh-config ]; then echo "stand-in vagrant: only ssh-config is implemented" >&2; exit 2; fi
if [ "$(pwd)" != ${quote(vagrantDir)} ]; then
  echo "A Vagrant environment or target machine is required to run this command." >&2; exit 1
fi
case "$2" in
web1) cat <<'EOF'
${config('web1', ['  UserKnownHostsFile ' + knownHosts, '  StrictHostKeyChecking yes'])}
EOF
;;
default-policy) cat <<'EOF'
${config('default-policy', ['  UserKnownHostsFile /dev/null', '  StrictHostKeyChecking no'])}
EOF
;;
*) echo "The provider for this Vagrant-managed machine is reporting that it is not yet ready for SSH. Depending on your provider this can carry different meanings. Make sure your machine is created and running and try again." >&2; exit 1 ;;
esac
`;
    await writeFile(join(binDir, 'vagrant'), script, { mode: 0o755 });
  }

  const env = (): NodeJS.ProcessEnv => ({ PATH: `${binDir}${delimiter}${process.env.PATH ?? ''}` });

  function target(overrides: Partial<ConnectionTarget> = {}, ssh: Partial<ConnectionTarget['ssh']> = {}): ConnectionTarget {
    return {
      name: 'web1',
      address: '192.168.2.252', // the lab address: not where the connector goes
      port: 22,
      user: 'root',
      transport: 'vagrant',
      vagrant: { dir: vagrantDir, machine: 'web1' },
      ...overrides,
      ssh: { hostKeyChecking: 'accept-new', connectTimeout: 5, commandTimeout: 60, ...ssh },
    };
  }

  function connector(t: ConnectionTarget = target(), options: ConnectorOptions = {}): Connector {
    const c = createConnector(t, { env: env(), ...options });
    open.push(c);
    return c;
  }

  it('is what createConnector makes for transport vagrant', () => {
    expect(connector()).toBeInstanceOf(VagrantConnector);
  });

  describe('over the ssh that vagrant ssh-config describes', () => {
    connectorContract({ connector: (settings) => connector(target({}, settings)), dir: () => dir });
  });

  it('asks vagrant once per connection, in the Vagrantfile directory, for the machine', async () => {
    await writeFile(callLog, '');
    const c = connector();
    for (let i = 0; i < 3; i++) expect((await c.run('echo $SSH_CONNECTION\n')).stdout).toMatch(new RegExp(`^127\\.0\\.0\\.1 \\d+ 127\\.0\\.0\\.1 ${sshd.port}\\n$`));
    await c.put(join(dir, 'via-vagrant'), 'x\n');
    expect(await readFile(callLog, 'utf8')).toBe('ssh-config web1\n');
  });

  it("takes Vagrant's host key policy: no checking, said as a warning", async () => {
    const warnings: string[] = [];
    const c = connector(target({ name: 'default-policy', vagrant: { dir: vagrantDir, machine: 'default-policy' } }, { hostKeyChecking: 'strict' }), { onWarning: (w) => warnings.push(w) });
    expect((await c.run('echo ok\n')).stdout).toBe('ok\n');
    expect(warnings).toEqual([expect.stringMatching(/^host key checking is off for default-policy: accepting its ssh-ed25519 key SHA256:/)]);
  });

  it('reports a machine that is not up, and how to bring it up', async () => {
    const error = await connectionError(connector(target({ name: 'web2', vagrant: { dir: vagrantDir, machine: 'web2' } })).run('true\n'));
    expect(error.kind).toBe('unreachable');
    expect(error.message).toContain(`vagrant ssh-config web2 (in ${vagrantDir}) failed: The provider for this Vagrant-managed machine is reporting that it is not yet ready for SSH.`);
    expect(error.hint).toBe(`bring the machine up (vagrant up web2 in ${vagrantDir}); check vagrant.machine and vagrant.dir of web2`);
  });

  it('reports a wrong Vagrantfile directory', async () => {
    const missing = join(dir, 'no-such-dir');
    const error = await connectionError(connector(target({ vagrant: { dir: missing, machine: 'web1' } })).run('true\n'));
    expect(error.message).toBe(`the Vagrantfile directory ${missing} of web1 does not exist`);
    const elsewhere = await connectionError(connector(target({ vagrant: { dir, machine: 'web1' } })).run('true\n'));
    expect(elsewhere.message).toContain('A Vagrant environment or target machine is required');
  });

  it('reports a machine without vagrant installed', async () => {
    const error = await connectionError(createConnector(target(), { env: { PATH: join(dir, 'empty') } }).run('true\n'));
    expect(error.message).toBe('web1 is a Vagrant machine, but the vagrant command is not installed');
    expect(error.hint).toContain('apt-get install vagrant');
  });

  it('runs a playbook through the CLI: the machine named like the host, in the Vagrantfile beside the inventory', async () => {
    const project = await makeProject({
      'package.json': '{ "type": "module" }\n',
      'Vagrantfile': '# the stand-in vagrant never reads it\n',
      'roles/demo/index.ts': `import { defineRole, ops } from ${JSON.stringify(apiModule)};
export default defineRole({ name: 'demo', defaults: { path: '' }, tasks: ({ vars }) => [{ name: 'greeting', op: ops.file({ path: vars.path, content: 'hello from vagrant\\n' }) }] });
`,
      'playbooks/site.yml': '- name: Demo\n  hosts: all\n  roles: [demo]\n',
      'inventory/vagrant.yaml': `all:\n  hosts:\n    web1: { transport: vagrant, vagrant: { dir: .. }, address: 192.168.2.252, vars: { path: ${join(dir, 'from-cli')} } }\n`,
    });
    try {
      // The stand-in answers in the project's directory now: the inventory's vagrant.dir.
      vagrantDir = project.dir;
      await writeFakeVagrant();
      const first = await runCli(project, ['-i', 'inventory/vagrant.yaml', 'playbooks/site.yml'], { env: env() });
      expect(first.stderr).toBe('');
      expect(first.exitCode).toBe(0);
      expect(changedTasks(first)).toEqual(['web1: greeting']);
      expect(await readFile(join(dir, 'from-cli'), 'utf8')).toBe('hello from vagrant\n');
      const second = await runCli(project, ['-i', 'inventory/vagrant.yaml', 'playbooks/site.yml'], { env: env() });
      expect(changedTasks(second)).toEqual([]);
      expect(recapOf(second)!.hosts[0]).toMatchObject({ host: 'web1', ok: 1, changed: 0 });
    } finally {
      await project.remove();
    }
  });
});
