// Jump hosts on the lab's namespace hosts: a host that answers ssh ONLY from its jump host (a
// firewall rule in its own network namespace drops everyone else) is unreachable directly and
// reached through the jump host, also two hops deep, by the connector and by a playbook run.
//
// It uses the running lab when there is one (three of its namespace hosts, preferably client, web1
// and web2), else brings up a lab of three namespace hosts and takes it down afterwards. The lab's
// own sshd (port 22) stays as it is, since other runs may be using these hosts: each host gets a
// second sshd on JUMP_PORT, which is the one the firewall rules guard; all of it is removed after.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ConnectionTarget, Connector } from '../../../src/connectors/connector.ts';
import type { HostToConnect } from '../../../src/connectors/index.ts';
import { JumpHosts } from '../../../src/connectors/jump-hosts.ts';
import { SshConnector } from '../../../src/connectors/ssh.ts';
import { labDown, labStatus, labUp } from '../../../src/lab/lab.ts';
import { labPaths } from '../../../src/lab/paths.ts';
import { StateFile } from '../../../src/lab/state.ts';
import { apiModule, makeProject, recapOf, runCli, type Project } from '../../support/project.ts';
import { FIRST_BUILD_TIMEOUT_MS, skipReason, sshOk } from '../lab/support.ts';
import { connectionError } from './contract.ts';

const execFileAsync = promisify(execFile);

const JUMP_PORT = 2222;
const PID_FILE = '/run/provision-jump-test-sshd.pid';

interface LabMember {
  name: string;
  address: string;
  netns: string;
}

describe.skipIf(skipReason)('jump hosts on the lab', () => {
  let broughtUp = false;
  /** outer answers anyone; middle answers only outer; inner answers only middle */
  let outer: LabMember;
  let middle: LabMember;
  let inner: LabMember;
  let dir: string;
  let knownHosts: string;
  const firewallRules: Array<{ netns: string; rule: string[] }> = [];
  const started: LabMember[] = [];
  const open: Connector[] = [];

  beforeAll(async () => {
    [outer, middle, inner] = await labMembers();
    dir = await mkdtemp(join(tmpdir(), 'provision-jump-lab-'));

    for (const host of [outer, middle, inner]) {
      await sshOk(host.address, `/usr/sbin/sshd -o ListenAddress=${host.address}:${JUMP_PORT} -o PidFile=${PID_FILE}`);
      started.push(host);
    }
    await allowOnly(middle, outer.address);
    await allowOnly(inner, middle.address);

    // The hosts' keys as the lab recorded them, for the second sshd's port.
    knownHosts = join(dir, 'known_hosts');
    const lines = (await readFile(labPaths().knownHosts, 'utf8')).split('\n');
    const forPort = [outer, middle, inner].flatMap((host) =>
      lines.filter((line) => line.startsWith(`${host.address} `)).map((line) => `[${host.address}]:${JUMP_PORT} ${line.slice(host.address.length + 1)}`),
    );
    await writeFile(knownHosts, `${forPort.join('\n')}\n`);
  }, FIRST_BUILD_TIMEOUT_MS);

  afterEach(async () => {
    await Promise.all(open.splice(0).map((connector) => connector.close()));
  });

  afterAll(async () => {
    for (const { netns, rule } of firewallRules) await execFileAsync('ip', ['netns', 'exec', netns, 'iptables', '-D', ...rule]).catch(() => undefined);
    for (const host of started) await sshOk(host.address, `kill "$(cat ${PID_FILE})" && rm -f ${PID_FILE}`).catch(() => undefined);
    if (dir) await rm(dir, { recursive: true, force: true });
    if (broughtUp) await labDown();
  });

  /** Three running namespace hosts of the lab, bringing a lab up when none runs. */
  async function labMembers(): Promise<[LabMember, LabMember, LabMember]> {
    let status = await labStatus();
    if (status === undefined) {
      const inventory = join(tmpdir(), 'provision-jump-lab.yaml');
      await writeFile(
        inventory,
        ['all:', '  hosts:', ...['10', '11', '12'].map((last, i) => `    jump${i}: { address: 10.213.2.${last}, lab: { kind: namespace } }`), ''].join('\n'),
      );
      broughtUp = true; // set first: labDown also removes what a failed labUp left
      await labUp({ inventoryFile: inventory });
      status = (await labStatus()) ?? [];
    }
    const state = await StateFile.read(labPaths().state);
    const usable = status.filter((host) => host.kind === 'namespace' && host.running && host.sshBanner !== undefined);
    const preferred = ['client', 'web1', 'web2'].map((name) => usable.find((host) => host.name === name));
    const chosen = preferred.every(Boolean) ? preferred : usable.slice(0, 3);
    if (chosen.length < 3 || chosen.some((host) => host === undefined)) {
      throw new Error(`the running lab has fewer than three namespace hosts answering ssh (${usable.map((host) => host.name).join(', ')}); these tests need three`);
    }
    return chosen.map((host) => {
      const netns = state?.state.hosts[host!.name]?.resources.find((resource) => resource.type === 'netns');
      if (netns?.type !== 'netns') throw new Error(`the lab state has no network namespace for ${host!.name}`);
      return { name: host!.name, address: host!.address, netns: netns.name };
    }) as [LabMember, LabMember, LabMember];
  }

  /** In the host's own network namespace: its second sshd answers only `source`. */
  async function allowOnly(host: LabMember, source: string): Promise<void> {
    const rule = ['INPUT', '-p', 'tcp', '--dport', String(JUMP_PORT), '!', '-s', source, '-j', 'DROP'];
    firewallRules.push({ netns: host.netns, rule });
    await execFileAsync('ip', ['netns', 'exec', host.netns, 'iptables', '-I', ...rule]);
  }

  /** The three hosts as an inventory: middle behind outer, inner behind middle. */
  function inventory(): Map<string, HostToConnect> {
    const host = (member: LabMember, jump?: LabMember): HostToConnect => ({
      name: member.name,
      address: member.address,
      port: JUMP_PORT,
      user: 'root',
      key: labPaths().key,
      transport: 'ssh',
      ssh: { hostKeyChecking: 'strict', knownHosts, connectTimeout: 3, commandTimeout: 60, ...(jump ? { jump: jump.name } : {}) },
    });
    return new Map([
      [outer.name, host(outer)],
      [middle.name, host(middle, outer)],
      [inner.name, host(inner, middle)],
    ]);
  }

  function connector(member: LabMember, change: (target: HostToConnect) => HostToConnect = (target) => target): SshConnector {
    const hosts = inventory();
    const c = new SshConnector(change(hosts.get(member.name)!) as ConnectionTarget, { env: {}, jumpHosts: new JumpHosts((name) => hosts.get(name), { env: {} }) });
    open.push(c);
    return c;
  }

  it('cannot reach a host directly when its sshd answers only its jump host', async () => {
    const direct = connector(middle, (target) => ({ ...target, ssh: { ...target.ssh, jump: undefined, connectTimeout: 2 } }));
    const error = await connectionError(direct.connect());
    expect(error.kind).toBe('unreachable');
    expect(error.message).toContain('within 2s');
  });

  it('reaches it through its jump host', async () => {
    const result = await connector(middle).run('uname -n; echo "$SSH_CONNECTION" | cut -d" " -f1,3,4\n');
    expect(result.stdout).toBe(`${middle.name}\n${outer.address} ${middle.address} ${JUMP_PORT}\n`);
  });

  it('reaches a host two jumps away', async () => {
    const result = await connector(inner).run('uname -n; echo "$SSH_CONNECTION" | cut -d" " -f1\n');
    expect(result.stdout).toBe(`${inner.name}\n${middle.address}\n`);
  });

  it('says which hop failed when a jump host cannot reach the next host', async () => {
    // inner answers only middle: through outer directly, the connection is dropped.
    const error = await connectionError(connector(inner, (target) => ({ ...target, ssh: { ...target.ssh, jump: outer.name } })).connect());
    expect(error.kind).toBe('unreachable');
    expect(error.message).toBe(`cannot reach ${inner.name} through its jump host ${outer.name}: ${outer.name} could not connect to ${inner.address}:${JUMP_PORT} within 3s`);
  });

  describe('a playbook run', () => {
    let project: Project;
    const marker = '/tmp/provision-jump-lab-test';

    beforeAll(async () => {
      const host = (member: LabMember, jump?: LabMember) =>
        `    ${member.name}: { address: ${member.address}, port: ${JUMP_PORT}, key: ${labPaths().key}, ssh: { known_hosts: ${knownHosts}, host_key_checking: strict${jump ? `, jump: ${jump.name}` : ''} } }`;
      project = await makeProject({
        'package.json': '{ "type": "module" }\n',
        // Not a lab inventory (no lab: settings): the hosts are reached on the test's port with the test's known_hosts.
        'inventory.yaml': ['all:', '  hosts:', host(outer), host(middle, outer), host(inner, middle), ''].join('\n'),
        'roles/mark/index.ts': `import { defineRole, ops } from ${JSON.stringify(apiModule)};
export default defineRole({ name: 'mark', defaults: {}, tasks: ({ host }) => [{ name: 'marker', op: ops.file({ path: ${JSON.stringify(marker)}, content: host.name + '\\n' }) }] });
`,
        'playbooks/site.yml': `- name: Behind jump hosts\n  hosts: ${middle.name}:${inner.name}\n  roles: [mark]\n`,
      });
    });

    afterAll(async () => {
      for (const host of [middle, inner]) await sshOk(host.address, `rm -f ${marker}`).catch(() => undefined);
      await project?.remove();
    });

    it('converges the hosts behind jump hosts, then changes nothing', async () => {
      const first = await runCli(project, ['-i', 'inventory.yaml', 'playbooks/site.yml']);
      expect(recapOf(first)?.exitCode, first.stderr + first.stdout).toBe(0);
      expect(recapOf(first)?.hosts.map((row) => [row.host, row.changed])).toEqual([
        [middle.name, 1],
        [inner.name, 1],
      ]);
      for (const host of [middle, inner]) expect(await sshOk(host.address, `cat ${marker}`)).toBe(`${host.name}\n`);
      const second = await runCli(project, ['-i', 'inventory.yaml', 'playbooks/site.yml']);
      expect(recapOf(second)?.hosts.map((row) => [row.host, row.changed, row.unreachable])).toEqual([
        [middle.name, 0, 0],
        [inner.name, 0, 0],
      ]);
    });
  });
});
