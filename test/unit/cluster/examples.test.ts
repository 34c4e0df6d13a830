// The example inventories, one per tutorial setup: each loads and passes the lint without a finding.
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { lintCluster, lintSubject, formatFinding } from '../../../src/cluster/lint.ts';
import { managesHostname } from '../../../src/cluster/lint/heartbeat.ts';
import { heartbeatNodeName, heartbeatNodes, ipvsOwner, isDirector, realServerHosts } from '../../../src/cluster/model.ts';
import { loadInventory } from '../../../src/inventory/load.ts';
import { repoRoot } from '../inventory/files.ts';

const env = { HA_AUTH_KEY: 'example-ha-key', VRRP_PASS: 'vrrp-pw' };
const example = (name: string) => loadInventory(path.join(repoRoot, 'inventory', name), { env });

const tutorials = {
  'dr-heartbeat-ldirectord.yaml': { manager: 'heartbeat', owner: 'ldirectord', forwarding: 'dr', directors: 2, realservers: 4 },
  'nat-heartbeat.yaml': { manager: 'heartbeat', owner: 'ldirectord', forwarding: 'nat', directors: 2, realservers: 2 },
  'ultramonkey-active-active.yaml': { manager: 'heartbeat', owner: 'ldirectord', forwarding: 'dr', directors: 2, realservers: 2 },
  'keepalived-dr-arptables.yaml': { manager: 'keepalived', owner: 'keepalived', forwarding: 'dr', directors: 2, realservers: 2 },
  'piranha-nat.yaml': { manager: 'piranha', owner: 'piranha', forwarding: 'nat', directors: 2, realservers: 2 },
  'tun-keepalived.yaml': { manager: 'keepalived', owner: 'keepalived', forwarding: 'tun', directors: 2, realservers: 2 },
} as const;

describe('the example inventories', () => {
  it('every inventory with a cluster is one of the checked examples (or the lab)', async () => {
    const files = (await readdir(path.join(repoRoot, 'inventory'))).filter((name) => name.endsWith('.yaml'));
    expect(files.filter((name) => !(name in tutorials) && name !== 'example.yaml' && name !== 'lab.yaml' && name !== 'vagrant.yaml' && name !== 'vagrant-lab.yaml' && name !== 'local.yaml')).toEqual([]);
  });

  for (const [name, expected] of Object.entries(tutorials)) {
    it(`${name}: the tutorial's layout, and no lint finding`, async () => {
      const inventory = await example(name);
      const cluster = inventory.cluster!;
      expect(cluster.manager).toBe(expected.manager);
      expect(ipvsOwner(cluster)).toBe(expected.owner);
      expect(cluster.directors).toHaveLength(expected.directors);
      expect(realServerHosts(cluster)).toHaveLength(expected.realservers);
      expect(cluster.virtual_services.every((service) => service.forwarding === expected.forwarding)).toBe(true);
      expect(lintCluster(lintSubject(inventory)!).map(formatFinding)).toEqual([]);
      // secrets come from the environment and are masked
      expect(inventory.clusterSource?.clearTextSecrets).toEqual([]);
      for (const secret of [cluster.heartbeat?.authkeys.key, cluster.keepalived?.auth?.pass]) if (secret !== undefined) expect(inventory.secrets.has(secret)).toBe(true);
    });
  }

  it('the first tutorial: the directors are real servers too', async () => {
    const cluster = (await example('dr-heartbeat-ldirectord.yaml')).cluster!;
    expect(realServerHosts(cluster).filter((host) => isDirector(cluster, host))).toEqual(['lvs-master', 'lvs-backup']);
  });

  it('Ultra Monkey: each heartbeat node name is the name the base role gives the host (heartbeat starts)', async () => {
    const inventory = await example('ultramonkey-active-active.yaml');
    const cluster = inventory.cluster!;
    expect(heartbeatNodes(cluster)).toEqual(['lvs1', 'lvs2']);
    for (const director of cluster.directors) {
      expect(managesHostname(inventory.hosts.get(director))).toBe(true);
      expect(heartbeatNodeName(cluster, director)).toBe(director);
    }
  });

  it('LVS-TUN: the real servers sit on another network and keep their own router, not the directors', async () => {
    const cluster = (await example('tun-keepalived.yaml')).cluster!;
    expect(cluster.network.gateway).toBe('192.168.10.254');
    expect(cluster.realserver.gateway).toBe('192.168.20.254');
    expect(realServerHosts(cluster).map((host) => cluster.addresses[host])).toEqual(['192.168.20.11', '192.168.20.12']);
  });

  it("vagrant.yaml (what `vagrant up` provisions): the first tutorial's cluster on the Vagrantfile's machines, no lint finding", async () => {
    const inventory = await example('vagrant.yaml');
    const cluster = inventory.cluster!;
    expect(lintCluster(lintSubject(inventory)!).map(formatFinding)).toEqual([]);
    expect({ manager: cluster.manager, owner: ipvsOwner(cluster), directors: cluster.directors, realservers: realServerHosts(cluster) }).toEqual({
      manager: 'heartbeat',
      owner: 'ldirectord',
      directors: ['lvs-master', 'lvs-backup'],
      realservers: ['web1', 'web2'],
    });
    expect(cluster.virtual_services.map((service) => [service.vip, service.forwarding])).toEqual([['192.168.2.254', 'dr']]);
    // the lab network on the second NIC, the heartbeat link on the third (the first is Vagrant's management NIC)
    expect(cluster.network?.interface).toBe('eth1');
    expect(cluster.heartbeat?.ucast).toEqual([{ interface: 'eth2', addresses: { 'lvs-master': '192.168.1.250', 'lvs-backup': '192.168.1.251' } }]);
    expect(inventory.clusterSource?.clearTextSecrets).toEqual([]);
    expect(inventory.secrets.has(cluster.heartbeat!.authkeys.key!)).toBe(true);
    for (const director of cluster.directors) expect(heartbeatNodeName(cluster, director)).toBe(director);
  });

  it("vagrant-lab.yaml (PROVISION_NETWORK=lab): vagrant.yaml's hosts and cluster on the lab's subnets, no lint finding", async () => {
    const tutorial = await example('vagrant.yaml');
    const lab = await example('vagrant-lab.yaml');
    expect(lintCluster(lintSubject(lab)!).map(formatFinding)).toEqual([]);
    const onLabSubnets = (value: unknown) => JSON.parse(JSON.stringify(value).replaceAll('192.168.2.', '10.213.32.').replaceAll('192.168.1.', '10.213.31.')) as unknown;
    expect(lab.cluster).toEqual({ ...(onLabSubnets(tutorial.cluster) as object), name: 'vagrant-lab' });
    expect([...lab.hosts.values()].map((host) => [host.name, host.address, host.transport])).toEqual(
      [...tutorial.hosts.values()].map((host) => [host.name, onLabSubnets(host.address), host.transport]),
    );
  });

  it('example.yaml (the README\'s) passes too', async () => {
    const inventory = await example('example.yaml');
    expect(lintCluster(lintSubject(inventory)!).map(formatFinding)).toEqual([]);
  });
});
