// `lab up` then `lab down` leaves no trace on this machine, also when `lab up` was killed half-way
// or the state file was lost; both commands are idempotent.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserError } from '../../../src/core/errors.ts';
import type { LabHostDriver } from '../../../src/lab/driver.ts';
import { labDown, labUp } from '../../../src/lab/lab.ts';
import { namespaceDriver } from '../../../src/lab/namespace-host.ts';
import { firewallOpeningsFor, insertFirewallRule } from '../../../src/lab/network.ts';
import { labPaths } from '../../../src/lab/paths.ts';
import { sshBanner } from '../../../src/lab/ssh-check.ts';
import { poll } from '../../../src/lab/wait.ts';
import { assertNoLabRunning, command, differences, FIRST_BUILD_TIMEOUT_MS, LAB_CLI, skipReason, snapshot, TEST_HOSTS, writeTestInventory, type MachineSnapshot } from './support.ts';

describe.skipIf(skipReason)('lab up and lab down', () => {
  let inventoryFile: string;
  let before: MachineSnapshot;

  beforeAll(async () => {
    assertNoLabRunning();
    inventoryFile = await writeTestInventory();
    before = await snapshot();
  });

  afterAll(async () => {
    // A failed test must not leave its lab behind for the next one.
    await labDown().catch((error: unknown) => console.error(error));
  });

  it('starts every host, changes nothing when up already, and leaves no trace after down', async () => {
    const up = await labUp({ inventoryFile });
    expect(up.alreadyUp).toBe(false);
    expect(up.hosts.map((host) => host.name)).toEqual(TEST_HOSTS.map((host) => host.name));
    for (const host of TEST_HOSTS) expect(await sshBanner(host.address, 22, 2_000)).toMatch(/^SSH-2\.0-OpenSSH/);
    const during = await snapshot();
    expect(during.netns.map((line) => line.split(' ')[0])).toEqual(expect.arrayContaining(TEST_HOSTS.map((host) => `pvlab-${host.name}`)));
    expect(during.links).toEqual(expect.arrayContaining(['pvlab-br0', 'pvlab-br1']));
    expect(during.labProcesses.some((line) => line.includes('mirror-server.mjs'))).toBe(true);

    const again = await labUp({ inventoryFile });
    expect(again.alreadyUp).toBe(true);
    expect(differences(during, await snapshot())).toEqual({});

    const down = await labDown();
    expect(down.removed).toBe(true);
    expect(differences(before, await snapshot())).toEqual({});
    expect(existsSync(labPaths().state)).toBe(false);
    expect(existsSync(labPaths().knownHosts)).toBe(false);
    // The guard routes stay: lab addresses never reach the default gateway, lab up or not.
    const unreachable = (await command('ip', ['route', 'show', 'type', 'unreachable'])).stdout;
    expect(unreachable).toMatch(/^unreachable 10\.213\.2\.0\/24 metric 4000/m);
    expect(unreachable).toMatch(/^unreachable 10\.213\.1\.0\/24 metric 4000/m);
    expect((await command('ip', ['route', 'get', TEST_HOSTS[0].address])).code).not.toBe(0);

    expect((await labDown()).removed).toBe(false);
  }, FIRST_BUILD_TIMEOUT_MS);

  const killPoints = {
    'the first bridge exists': () => existsSync('/sys/class/net/pvlab-br0'),
    'the first host namespace exists': () => existsSync('/run/netns') && readdirSyncSafe('/run/netns').some((name) => name.startsWith('pvlab-')),
  };

  it.each(Object.keys(killPoints))('removes everything after lab up was killed when %s', async (point) => {
    const reached = killPoints[point as keyof typeof killPoints];
    const child = spawn(process.execPath, ['--import', 'tsx', LAB_CLI, 'lab', 'up', '-i', inventoryFile], { stdio: 'ignore' });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    const hit = await poll(async () => (reached() ? true : undefined), { timeoutMs: 60_000, intervalMs: 2 });
    child.kill('SIGKILL');
    await exited;
    expect(hit).toBe(true);
    // The killed command left the lab half made; the state file says what exists.
    expect(existsSync(labPaths().state)).toBe(true);
    expect(differences(before, await snapshot())).not.toEqual({});

    await labDown();
    expect(differences(before, await snapshot())).toEqual({});
  }, 120_000);

  it('removes what it created when a host fails to start, and says which host and why', async () => {
    // The real namespace driver, except that rs2's sshd never starts (its start records a namespace, then gives up).
    const failing: LabHostDriver = {
      ...namespaceDriver,
      // Long enough for the healthy hosts on a loaded machine (one did miss 1 s in a fresh-clone run).
      sshReadyTimeoutMs: 3_000,
      async start(context) {
        if (context.host.name !== 'rs2') return namespaceDriver.start(context);
        await context.record({ type: 'netns', name: 'pvlab-rs2' });
        await command('ip', ['netns', 'add', 'pvlab-rs2']);
      },
    };
    const error: unknown = await labUp({ inventoryFile, drivers: new Map([['namespace', failing]]) }).catch((reason: unknown) => reason);
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).message).toMatch(/^lab host rs2 did not answer ssh on 10\.213\.2\.253:22 within 3 s/);
    expect(existsSync(labPaths().state)).toBe(false);
    expect(differences(before, await snapshot())).toEqual({});
  });

  it.skipIf(!hasIptablesBinary())('removes firewall rules carrying the lab comment', async () => {
    // As firewallOpenings() adds on a machine whose FORWARD chain drops; this machine's may accept.
    const rule = firewallOpeningsFor({ bridgedToIptables: true, forwardPolicy: 'DROP' }, [{ name: 'pvlab-br0', subnet: { network: 0, prefix: 24 }, address: '' }], 8213)[0]!;
    await insertFirewallRule(rule);
    expect(differences(before, await snapshot())).toHaveProperty('iptables');
    expect((await labDown()).removed).toBe(true);
    expect(differences(before, await snapshot())).toEqual({});
  });

  it('finds what the lab made by its naming prefix when the state file is lost', async () => {
    await labUp({ inventoryFile });
    await rm(labPaths().state);
    await labDown();
    const after = await snapshot();
    // /run/netns, mounted by `ip netns add`, is unmounted only when a state file says the lab mounted it.
    const withoutNetnsDir = (s: MachineSnapshot) => ({ ...s, mounts: s.mounts.filter((mount) => !mount.startsWith('/run/netns ')) });
    expect(differences(withoutNetnsDir(before), withoutNetnsDir(after))).toEqual({});
    if (after.mounts.some((mount) => mount.startsWith('/run/netns ')) && !before.mounts.some((mount) => mount.startsWith('/run/netns '))) {
      expect(await readdir('/run/netns')).toEqual([]);
      await command('umount', ['/run/netns']);
    }
  }, 60_000);
});

function hasIptablesBinary(): boolean {
  return ['/usr/sbin/iptables', '/sbin/iptables'].some((file) => existsSync(file));
}

function readdirSyncSafe(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
