// sudo with `Defaults requiretty` (the default of EL5-7) on a real sshd and the real sudo of this
// machine: sudo refuses to run without a terminal, so the connector runs its commands on a pty.
// The connector contract runs through it with dash and busybox sh, with Debian's `use_pty` (sudo
// runs the command in a session of its own) and without it (as EL5-7's sudo); then what the
// terminal must not change: no password echo, stderr apart.
import { execFile } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ConnectionTarget, Connector, ConnectorOptions } from '../../../src/connectors/connector.ts';
import { SshConnector } from '../../../src/connectors/ssh.ts';
import { apiModule, makeProject, recapOf, runCli } from '../../support/project.ts';
import { allowSudo, ensureTestUser, removeSudoRule, rootSkipReason, startSshd, TEST_USER, type Sshd } from '../../support/sshd.ts';
import { connectionError, connectorContract } from './contract.ts';

const execFileAsync = promisify(execFile);

describe.skipIf(rootSkipReason !== undefined)(`sudo with requiretty over ssh${rootSkipReason ? ` (skipped: ${rootSkipReason})` : ''}`, () => {
  let sshd: Sshd;
  let dir: string;
  let knownHosts: string;
  let busyboxSh: string;
  let password: string;
  const open: Connector[] = [];

  beforeAll(async () => {
    sshd = await startSshd();
    dir = await mkdtemp(join(tmpdir(), 'provision-requiretty-'));
    await chmod(dir, 0o755);
    knownHosts = join(dir, 'known_hosts');
    await writeFile(knownHosts, `${sshd.hostKeyLine}\n`);
    busyboxSh = join(dir, 'sh');
    await symlink('/usr/bin/busybox', busyboxSh);
    password = await ensureTestUser();
  });

  afterEach(async () => {
    await Promise.all(open.splice(0).map((connector) => connector.close()));
  });

  afterAll(async () => {
    await removeSudoRule();
    await sshd?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  function target(become: ConnectionTarget['become'], ssh: Partial<ConnectionTarget['ssh']> = {}): ConnectionTarget {
    return {
      name: 'el5-box',
      address: '127.0.0.1',
      port: sshd.port,
      user: TEST_USER,
      key: sshd.clientKeyPath,
      transport: 'ssh',
      become,
      ssh: { hostKeyChecking: 'strict', knownHosts, connectTimeout: 5, commandTimeout: 60, ...ssh },
    };
  }

  function connector(t: ConnectionTarget, options: ConnectorOptions = {}): SshConnector {
    const c = new SshConnector(t, { env: { SUDO_PASSWORD: password }, ...options });
    open.push(c);
    return c;
  }

  const withPassword = (settings: Partial<ConnectionTarget['ssh']> = {}, options: ConnectorOptions = {}) =>
    connector(target({ sudo: true, passwordEnv: 'SUDO_PASSWORD' }, settings), options);

  describe('with a password', () => {
    beforeAll(() => allowSudo({ password: true, requiretty: true }));
    afterAll(() => removeSudoRule());

    it('is a real requiretty: sudo without a terminal refuses', async () => {
      const ssh = await execFileAsync(
        'ssh',
        ['-T', '-i', sshd.clientKeyPath, '-p', String(sshd.port), '-o', 'BatchMode=yes', '-o', `UserKnownHostsFile=${knownHosts}`, `${TEST_USER}@127.0.0.1`, 'sudo -S -p "" true'],
        { encoding: 'utf8' },
      ).then(
        () => ({ stderr: '' }),
        (error: { stderr: string }) => error,
      );
      expect(ssh.stderr).toContain('you must have a tty to run sudo');
    });

    it('runs as root on a terminal (requiretty is satisfied)', async () => {
      // Which process leads the session (sudo's monitor, the login shell) depends on the sudo
      // version and on the PID namespace the test runs in, so only the terminal is asserted.
      const result = await withPassword().run('id -u; ps -o tty= -p $$\n');
      expect(result.stdout).toMatch(/^0\npts\/\d+\s*\n$/);
      expect(result.stderr).toBe('');
    });

    it('never echoes the password and never passes it to the script, whose stdin ends with it', async () => {
      const c = withPassword();
      const results = [await c.run('main() { cat; echo "end"; }; main\n'), await c.run('echo "$(cat)"; echo end\n')];
      expect(results.map((r) => r.stdout)).toEqual(['end\n', '\nend\n']);
      for (const result of results) expect(`${result.stdout}${result.stderr}`).not.toContain(password);
    });

    it('keeps stdout and stderr apart, interleaved writes included', async () => {
      const result = await withPassword().run('i=0; while [ $i -lt 200 ]; do echo "out $i"; echo "err $i" >&2; i=$((i + 1)); done; exit 4\n');
      const expected = (stream: string) => Array.from({ length: 200 }, (_, i) => `${stream} ${i}\n`).join('');
      expect(result).toEqual({ stdout: expected('out'), stderr: expected('err'), exitCode: 4 });
    });

    it('fails with kind sudo and sudo\'s own words when the password is wrong', async () => {
      const c = connector(target({ sudo: true, passwordEnv: 'SUDO_PASSWORD' }), { env: { SUDO_PASSWORD: 'not-the-password' } });
      const error = await connectionError(c.run('id -u\n'));
      expect(error.kind).toBe('sudo');
      expect(error.message).toContain('incorrect password');
      expect(error.message).not.toContain('not-the-password');
    });

    it('runs a playbook (host lock, probes and changes all on the terminal), then changes nothing', async () => {
      const file = join(dir, 'playbook-made.conf');
      const project = await makeProject({
        'package.json': '{ "type": "module" }\n',
        'inventory.yaml': `all:\n  hosts:\n    el5-box:\n      address: 127.0.0.1\n      port: ${sshd.port}\n      user: ${TEST_USER}\n      key: ${sshd.clientKeyPath}\n      become: { sudo: true, password_env: SUDO_PASSWORD }\n      ssh: { known_hosts: ${knownHosts}, host_key_checking: strict }\n`,
        'roles/conf/index.ts': `import { defineRole, ops } from ${JSON.stringify(apiModule)};
export default defineRole({ name: 'conf', defaults: {}, tasks: () => [
  { name: 'config', op: ops.file({ path: ${JSON.stringify(file)}, content: 'made as root\\n', mode: '0600' }) },
  { name: 'stamp', op: ops.command({ run: 'echo stamped > ${file}.stamp; echo note >&2', creates: ${JSON.stringify(`${file}.stamp`)} }) },
] });
`,
        'playbooks/site.yml': '- name: Old host\n  hosts: all\n  roles: [conf]\n',
      });
      try {
        const run = () => runCli(project, ['-i', 'inventory.yaml', 'playbooks/site.yml'], { env: { SUDO_PASSWORD: password } });
        const first = await run();
        expect(recapOf(first)?.hosts, first.stderr + first.stdout).toEqual([expect.objectContaining({ host: 'el5-box', changed: 2, failed: 0, unreachable: 0 })]);
        expect(await readFile(file, 'utf8')).toBe('made as root\n');
        expect((await stat(file)).uid).toBe(0);
        const second = await run();
        expect(recapOf(second)?.hosts).toEqual([expect.objectContaining({ host: 'el5-box', changed: 0, failed: 0, unreachable: 0 })]);
        expect(`${first.stdout}${first.stderr}${second.stdout}${second.stderr}`).not.toContain(password);
      } finally {
        await project.remove();
      }
    });

    describe('the connector contract, with dash', () => {
      connectorContract({ connector: (settings) => withPassword(settings), dir: () => dir });
    });

    describe('the connector contract, with busybox sh', () => {
      connectorContract({ connector: (settings) => withPassword(settings, { shell: busyboxSh }), dir: () => dir });
    });
  });

  describe('with a password, and sudo running the command in the same session (!use_pty, as on EL5-7)', () => {
    beforeAll(() => allowSudo({ password: true, requiretty: true, usePty: false }));
    afterAll(() => removeSudoRule());

    it('runs as root on the ssh session\'s terminal', async () => {
      const result = await withPassword().run('id -u; ps -o tty= -p $$\n');
      expect(result.stdout).toMatch(/^0\npts\/\d+\s*\n$/);
      expect(result.stderr).toBe('');
    });

    describe('the connector contract', () => {
      connectorContract({ connector: (settings) => withPassword(settings), dir: () => dir });
    });
  });

  describe('without a password (NOPASSWD)', () => {
    beforeAll(() => allowSudo({ password: false, requiretty: true }));
    afterAll(() => removeSudoRule());

    it('runs as root and moves binary files unchanged', async () => {
      const c = connector(target({ sudo: true }));
      expect(await c.run('id -un; echo warning >&2\n')).toEqual({ stdout: 'root\n', stderr: 'warning\n', exitCode: 0 });
      const data = Buffer.from(Array.from({ length: 256 * 64 }, (_, i) => i % 256));
      const path = join(dir, 'nopasswd.bin');
      await c.put(path, data, 0o600);
      expect((await c.get(path)).equals(data)).toBe(true);
    });
  });
});
