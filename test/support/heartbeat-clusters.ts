// Small heartbeat clusters for the unit tests of the heartbeat, ldirectord and source-builds roles:
// the settings the example inventories do not exercise (packages, multicast, serial, NAT, fwmark,
// persistence, crc...), built through the model's own resolution so defaults apply as in a run.
import { resolveCluster, type Cluster } from '../../src/cluster/model.ts';
import type { ClusterFile } from '../../src/cluster/schema.ts';
import type { InventoryHostInput } from './plan-role.ts';

export const heartbeatHosts: InventoryHostInput[] = [
  { name: 'lvs1', address: '192.168.0.1', groups: ['all', 'directors'] },
  { name: 'lvs2', address: '192.168.0.2', groups: ['all', 'directors'] },
  { name: 'web3', address: '192.168.0.3', groups: ['all', 'webservers'] },
];

/** Two directors that are also real servers (the Ultra Monkey layout), heartbeat from packages. */
export const ultraMonkey: ClusterFile = {
  name: 'lb',
  manager: 'heartbeat',
  directors: ['lvs1', 'lvs2'],
  network: { interface: 'eth0', prefix: 24, gateway: '192.168.0.254' },
  virtual_services: [
    {
      vip: '192.168.0.100',
      port: 80,
      scheduler: 'rr',
      persistence: { timeout: 600 },
      realservers: [{ host: 'lvs1' }, { host: 'lvs2' }],
      fallback: { address: '127.0.0.1' },
      check: { checktype: 'negotiate', service: 'http', request: 'ldirectord.html', receive: 'It worked' },
    },
  ],
  heartbeat: {
    mcast: [{ interface: 'eth0', group: '225.0.0.1', port: 694, ttl: 1, loop: false }],
    keepalive: 1,
    deadtime: 10,
    warntime: 5,
    initdead: 120,
    auto_failback: 'off',
    ping: ['192.168.0.254'],
    ipfail: true,
    logging: { logfacility: 'local0' },
    authkeys: { method: 'sha1', key: 'ThisIsMyPassword' },
    resource_agent: 'IPaddr2',
  },
  ldirectord: { checktimeout: 15, checkinterval: 5, autoreload: false, quiescent: false },
};

export function heartbeatCluster(file: ClusterFile, hosts: InventoryHostInput[] = heartbeatHosts): Cluster {
  return resolveCluster(file, (name) => {
    const host = hosts.find((h) => h.name === name);
    if (host === undefined) throw new Error(`test cluster: no host ${name}`);
    return host.address;
  });
}

/** `file` with its heartbeat section changed. */
export function withHeartbeat(file: ClusterFile, change: Partial<NonNullable<ClusterFile['heartbeat']>>): ClusterFile {
  return { ...file, heartbeat: { ...(file.heartbeat as NonNullable<ClusterFile['heartbeat']>), ...change } };
}

export const sourceInstall = (name: string, version: string) => ({
  from: 'source' as const,
  url: `http://mirror.example.com/src/${name}-${version}.tar.gz`,
  sha256: 'ab'.repeat(32),
});
