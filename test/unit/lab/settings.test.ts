import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { UserError } from '../../../src/core/errors.ts';
import { loadInventory } from '../../../src/inventory/load.ts';
import { planLab } from '../../../src/lab/settings.ts';
import { repoRoot } from '../inventory/files.ts';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

async function plan(yaml: string) {
  const dir = await mkdtemp(path.join(tmpdir(), 'provision-lab-settings-'));
  dirs.push(dir);
  const file = path.join(dir, 'inventory.yaml');
  await writeFile(file, yaml);
  return planLab(await loadInventory(file));
}

async function problem(yaml: string): Promise<string> {
  const error: unknown = await plan(yaml).then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(UserError);
  return (error as UserError).format();
}

describe('the lab settings of inventory hosts', () => {
  it('plans the shipped lab inventory: two VM directors, three namespace hosts, a bridge per subnet at .1', async () => {
    // The lab inventory's cluster reads its heartbeat key with !env (the lab keeps one; any value here).
    const { hosts, bridges } = planLab(await loadInventory(path.join(repoRoot, 'inventory/lab.yaml'), { env: { HA_AUTH_KEY: 'test-key' } }));
    expect(hosts.map((host) => [host.name, host.kind, host.index])).toEqual([
      ['lvs-master', 'vm', 0],
      ['lvs-backup', 'vm', 1],
      ['web1', 'namespace', 2],
      ['web2', 'namespace', 3],
      ['client', 'namespace', 4],
    ]);
    expect(bridges.map((bridge) => [bridge.name, bridge.address, bridge.subnet.prefix])).toEqual([
      ['pvlab-br0', '10.213.2.1', 24],
      ['pvlab-br1', '10.213.1.1', 24],
    ]);
    const master = hosts[0]!;
    expect(master.interfaces.map((iface) => [iface.name, iface.address, iface.prefix, iface.bridge])).toEqual([
      ['eth0', '10.213.2.250', 24, 'pvlab-br0'],
      ['eth1', '10.213.1.250', 24, 'pvlab-br1'],
    ]);
    expect(hosts[2]!.interfaces).toHaveLength(1);
    expect(master.sshPort).toBe(22);
    expect(master.key).toBeUndefined();
  });

  it('ignores hosts without lab settings and applies lab.prefix to eth0', async () => {
    const { hosts, bridges } = await plan(`all:
  hosts:
    real: { address: 10.0.0.5 }
    a: { address: 10.213.16.20, port: 2222, lab: { kind: namespace, prefix: 20 } }
`);
    expect(hosts.map((host) => host.name)).toEqual(['a']);
    expect(hosts[0]!.interfaces[0]).toMatchObject({ address: '10.213.16.20', prefix: 20 });
    expect(hosts[0]!.sshPort).toBe(2222);
    expect(bridges[0]!.address).toBe('10.213.16.1');
  });

  it('says which setting is wrong, where, and what is expected', async () => {
    const message = await problem(`all:
  hosts:
    a:
      address: 10.213.2.20
      lab: { kind: nmespace, eth2: 10.213.1.2/24 }
`);
    expect(message).toMatch(/inventory\.yaml:3: host a: lab\.kind: expected one of namespace, vm, container, got "nmespace"; did you mean 'namespace'\?/);
    expect(message).toMatch(/host a: unknown lab setting 'eth2'; did you mean 'eth1'\?/);
  });

  it('requires a kind', async () => {
    expect(await problem('all:\n  hosts:\n    a: { address: 10.213.2.20, lab: { eth1: 10.213.1.2/24 } }\n')).toMatch(/its lab settings have no 'kind'\n {2}add 'lab.kind:'/);
  });

  it('refuses addresses that are not IPv4, reserved, the bridge address, or used twice', async () => {
    expect(await problem('all:\n  hosts:\n    a: { address: web.example, lab: { kind: namespace } }\n')).toMatch(/address "web.example" is not an IPv4 address/);
    expect(await problem('all:\n  hosts:\n    a: { address: 10.213.2.1, lab: { kind: namespace } }\n')).toMatch(/is the machine's address on the lab bridge of 10\.213\.2\.0\/24/);
    expect(await problem('all:\n  hosts:\n    a: { address: 10.213.2.255, lab: { kind: namespace } }\n')).toMatch(/is the broadcast address/);
    expect(await problem('all:\n  hosts:\n    a: { address: 127.0.0.2, lab: { kind: namespace } }\n')).toMatch(/not usable for a lab/);
    expect(await problem('all:\n  hosts:\n    a: { address: 10.213.2.20, lab: { kind: namespace, eth1: 10.213.2.21/24 } }\n')).toMatch(/eth0 and eth1 are both in 10\.213\.2\.0\/24/);
    expect(await problem('all:\n  hosts:\n    a: { address: 10.213.2.20, lab: { kind: namespace, eth1: 10.213.1.2 } }\n')).toMatch(/lab\.eth1: expected eth1's address with its prefix length/);
    expect(
      await problem('all:\n  hosts:\n    a: { address: 10.213.2.20, lab: { kind: namespace } }\n    b: { address: 10.213.2.20, lab: { kind: namespace } }\n'),
    ).toMatch(/host b: eth0's address 10\.213\.2\.20 is also used by a/);
  });

  it('refuses overlapping subnets, non-root users and names that cannot be hostnames', async () => {
    expect(
      await problem('all:\n  hosts:\n    a: { address: 10.213.2.20, lab: { kind: namespace } }\n    b: { address: 10.213.3.20, lab: { kind: namespace, prefix: 16 } }\n'),
    ).toMatch(/lab subnets 10\.213\.2\.0\/24 and 10\.213\.0\.0\/16 overlap/);
    expect(await problem('all:\n  hosts:\n    a: { address: 10.213.2.20, user: admin, lab: { kind: namespace } }\n')).toMatch(/log in as root, but its user is 'admin'/);
    // The inventory already refuses what no host may be called; the lab's network namespace names allow one character less.
    const longest = `${'a'.repeat(31)}.${'b'.repeat(32)}`; // 64 characters
    expect(await problem(`all:\n  hosts:\n    ${longest}: { address: 10.213.2.20, lab: { kind: namespace } }\n`)).toContain(`'${longest}' cannot be a lab host's hostname`);
  });

  it('says so when no host is a lab host', async () => {
    expect(await problem('all:\n  hosts:\n    a: { address: 10.0.0.1 }\n')).toMatch(/has no lab hosts\n {2}mark the hosts the lab should create with 'lab: \{ kind: namespace \}'/);
  });
});
