// Jump hosts (ssh.jump, OpenSSH's ProxyJump) with real sshd servers on 127.0.0.1: the connector
// contract through a jump host, one connection to a jump host for every host behind it (closed
// with the last of them), chains, host keys checked on both hops, and the failures. That a host
// reachable ONLY through its jump host is reached is shown on the lab (ssh-jump-lab.test.ts).
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ConnectionTarget, Connector } from '../../../src/connectors/connector.ts';
import type { HostToConnect } from '../../../src/connectors/index.ts';
import { JumpHosts } from '../../../src/connectors/jump-hosts.ts';
import { SshConnector } from '../../../src/connectors/ssh.ts';
import { freePort, rootSkipReason, startSshd, type Sshd } from '../../support/sshd.ts';
import { connectionError, connectorContract, until } from './contract.ts';

const execFileAsync = promisify(execFile);

/** The pids of the processes serving `sshd`'s open connections (one child of the listener each). */
async function connectionsOf(sshd: Sshd): Promise<number> {
  const found = await execFileAsync('pgrep', ['-P', String(sshd.pid)]).then(
    ({ stdout }) => stdout.trim().split('\n').filter(Boolean).length,
    () => 0, // pgrep exits 1 when nothing matches
  );
  return found;
}

describe.skipIf(rootSkipReason !== undefined)(`jump hosts on 127.0.0.1${rootSkipReason ? ` (skipped: ${rootSkipReason})` : ''}`, () => {
  let bastion: Sshd;
  let inner: Sshd;
  let other: Sshd;
  let dir: string;
  let knownHosts: string;
  const open: Connector[] = [];

  beforeAll(async () => {
    [bastion, inner, other] = await Promise.all([startSshd(), startSshd(), startSshd()]);
    dir = await mkdtemp(join(tmpdir(), 'provision-jump-'));
    knownHosts = join(dir, 'known_hosts');
    writeFileSync(knownHosts, `${[bastion, inner, other].map((server) => server.hostKeyLine).join('\n')}\n`);
  });

  afterEach(async () => {
    await Promise.all(open.splice(0).map((connector) => connector.close()));
  });

  afterAll(async () => {
    await Promise.all([bastion, inner, other].map((server) => server?.stop()));
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** The inventory: bastion (direct), web1 and web2 behind it, deep behind web1. */
  function hosts(overrides: Record<string, Partial<HostToConnect>> = {}): Map<string, HostToConnect> {
    const host = (name: string, server: Sshd, jump?: string): HostToConnect => ({
      name,
      address: '127.0.0.1',
      port: server.port,
      user: 'root',
      key: server.clientKeyPath,
      transport: 'ssh',
      ...overrides[name],
      ssh: { hostKeyChecking: 'strict', knownHosts, connectTimeout: 5, commandTimeout: 60, ...(jump ? { jump } : {}), ...overrides[name]?.ssh },
    });
    return new Map([
      ['bastion', host('bastion', bastion)],
      ['web1', host('web1', inner, 'bastion')],
      ['web2', host('web2', other, 'bastion')],
      ['deep', host('deep', other, 'web1')],
    ]);
  }

  function connectorFor(name: string, jumpHosts: JumpHosts, inventory = hosts()): SshConnector {
    const c = new SshConnector({ ...inventory.get(name)!, transport: 'ssh' } as ConnectionTarget, { env: {}, jumpHosts });
    open.push(c);
    return c;
  }

  /** Jump hosts looked up in `inventory`, or (at connect time: the servers start in beforeAll) in hosts(). */
  const jumpHostsOf = (inventory?: Map<string, HostToConnect>) => new JumpHosts((name) => (inventory ?? hosts()).get(name), { env: {} });

  describe('the connector contract through a jump host', () => {
    const jumpHosts = jumpHostsOf();
    connectorContract({
      connector: (settings) => connectorFor('web1', jumpHosts, hosts({ web1: { ssh: { ...hosts().get('web1')!.ssh, ...settings } } })),
      dir: () => dir,
    });
  });

  it('logs in to the target over a connection that the jump host opened', async () => {
    const before = { bastion: bastion.acceptedLogins(), inner: inner.acceptedLogins() };
    const result = await connectorFor('web1', jumpHostsOf()).run('echo "$SSH_CONNECTION"\n');
    // sshd on the target sees the connection come from sshd on the jump host (127.0.0.1 here too).
    expect(result.stdout).toMatch(new RegExp(`^127\\.0\\.0\\.1 \\d+ 127\\.0\\.0\\.1 ${inner.port}\\n$`));
    expect(bastion.acceptedLogins() - before.bastion).toBe(1);
    expect(inner.acceptedLogins() - before.inner).toBe(1);
  });

  it('shares one connection to the jump host between the hosts behind it, and closes it after the last', async () => {
    const before = bastion.acceptedLogins();
    const connectionsBefore = await connectionsOf(bastion);
    const jumpHosts = jumpHostsOf();
    const web1 = connectorFor('web1', jumpHosts);
    const web2 = connectorFor('web2', jumpHosts);
    const outputs = await Promise.all([web1.run('echo one\n'), web2.run('echo two\n'), web1.run('echo three\n')]);
    expect(outputs.map((r) => r.stdout)).toEqual(['one\n', 'two\n', 'three\n']);
    expect(bastion.acceptedLogins() - before).toBe(1);
    expect(await connectionsOf(bastion)).toBe(connectionsBefore + 1);

    await web1.close();
    expect((await web2.run('echo still\n')).stdout).toBe('still\n');
    await web2.close();
    for (let i = 0; i < 50 && (await connectionsOf(bastion)) > connectionsBefore; i++) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await connectionsOf(bastion)).toBe(connectionsBefore);

    // A host that connects later gets a new connection to the jump host.
    expect((await connectorFor('web1', jumpHosts).run('echo again\n')).stdout).toBe('again\n');
    expect(bastion.acceptedLogins() - before).toBe(2);
  });

  it('follows a chain: a jump host behind a jump host', async () => {
    const before = { bastion: bastion.acceptedLogins(), inner: inner.acceptedLogins(), other: other.acceptedLogins() };
    expect((await connectorFor('deep', jumpHostsOf()).run('echo deep\n')).stdout).toBe('deep\n');
    expect({ bastion: bastion.acceptedLogins() - before.bastion, inner: inner.acceptedLogins() - before.inner, other: other.acceptedLogins() - before.other }).toEqual({
      bastion: 1,
      inner: 1,
      other: 1,
    });
  });

  it("checks the target's host key on its own known_hosts entry", async () => {
    const wrong = join(dir, 'known_hosts_wrong_target');
    // The jump host is known; web1's entry holds another server's key.
    writeFileSync(wrong, `${bastion.hostKeyLine}\n${other.hostKeyLine.replace(`]:${other.port} `, `]:${inner.port} `)}\n`);
    const inventory = hosts({ web1: { ssh: { ...hosts().get('web1')!.ssh, knownHosts: wrong } } });
    const error = await connectionError(connectorFor('web1', jumpHostsOf(inventory), inventory).connect());
    expect(error.kind).toBe('host-key');
    expect(error.host).toBe('web1');
    expect(error.message).toContain(`host key for web1 (127.0.0.1:${inner.port}) has CHANGED`);
  });

  it("checks the jump host's key, and says the target was not reached because of it", async () => {
    const wrong = join(dir, 'known_hosts_wrong_jump');
    writeFileSync(wrong, `${other.hostKeyLine.replace(`]:${other.port} `, `]:${bastion.port} `)}\n`);
    const inventory = hosts({ bastion: { ssh: { ...hosts().get('bastion')!.ssh, knownHosts: wrong } } });
    const error = await connectionError(connectorFor('web1', jumpHostsOf(inventory), inventory).connect());
    expect(error.kind).toBe('host-key');
    expect(error.host).toBe('web1');
    expect(error.message).toMatch(/^cannot reach web1 through its jump host bastion: host key for bastion \(127\.0\.0\.1:\d+\) has CHANGED/);
  });

  it('says when the jump host cannot connect to the target', async () => {
    const closed = await freePort();
    const inventory = hosts({ web1: { port: closed } });
    const error = await connectionError(connectorFor('web1', jumpHostsOf(inventory), inventory).connect());
    expect(error.kind).toBe('unreachable');
    expect(error.message).toMatch(new RegExp(`^cannot reach web1 through its jump host bastion: bastion could not connect to 127\\.0\\.0\\.1:${closed}: .*refused`, 'i'));
  });

  it('refuses a jump host that is not in the inventory, and jump hosts that loop', async () => {
    const missing = hosts({ web1: { ssh: { ...hosts().get('web1')!.ssh, jump: 'bastoin' } } });
    const unknown = await connectionError(connectorFor('web1', jumpHostsOf(missing), missing).connect());
    expect(unknown.message).toBe('cannot reach web1 through its jump host bastoin: the jump host bastoin of web1 is not in the inventory');

    const loop = hosts({ bastion: { ssh: { ...hosts().get('bastion')!.ssh, jump: 'deep' } } });
    const looped = await connectionError(connectorFor('web1', jumpHostsOf(loop), loop).connect());
    expect(looped.message).toBe('cannot reach web1 through its jump host bastion: jump hosts form a loop: web1 -> bastion -> deep -> web1');
  });

  it('reports a dropped jump connection as unreachable, and reconnects through a new one', async () => {
    const c = connectorFor('web1', jumpHostsOf());
    let pgid = 0;
    const running = c.run('echo "pgid $$"; sleep 100\n', { onStdout: (chunk) => (pgid ||= Number(/pgid (\d+)/.exec(chunk)?.[1] ?? 0)) });
    await until(() => pgid > 0);
    try {
      // Kill the sshd processes serving the jump host's connection: the tunnel goes with it.
      const { stdout } = await execFileAsync('pgrep', ['-P', String(bastion.pid)]);
      for (const pid of stdout.trim().split('\n')) process.kill(Number(pid), 'SIGKILL');
      expect((await connectionError(running)).kind).toBe('unreachable');
      expect((await c.run('echo again\n')).stdout).toBe('again\n');
    } finally {
      process.kill(-pgid, 'SIGKILL'); // sshd on the target leaves the command running, as OpenSSH does
    }
  });
});
