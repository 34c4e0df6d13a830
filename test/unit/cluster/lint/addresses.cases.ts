// The failing and passing cases of the addresses rules (src/cluster/lint/addresses.ts).
import { type Cluster, type RuleCase, service } from './rule-cases.ts';

export const cases: readonly RuleCase[] = [
  {
    rule: 'duplicate-address',
    base: 'heartbeat',
    fail: (_c, doc) => ((doc.all as Cluster).children.webservers.hosts.web2.address = '192.168.2.252'),
    pass: (_c, doc) => ((doc.all as Cluster).children.webservers.hosts.web2.address = '192.168.2.249'),
    line: 'web2:',
  },
  {
    rule: 'vip-not-host-address',
    base: 'heartbeat',
    fail: (c) => (service(c).vip = '192.168.2.253'),
    pass: (c) => (service(c).vip = '192.168.2.200'),
    line: 'vip: 192.168.2.253',
  },
  {
    rule: 'vip-not-host-address',
    base: 'piranha',
    fail: (c) => (c.nat.gateway = '192.168.10.18'),
    pass: (c) => (c.nat.gateway = '192.168.10.19'),
    line: 'gateway: 192.168.10.18',
  },
  {
    rule: 'vip-on-network',
    base: 'heartbeat',
    fail: (c) => (service(c).vip = '10.0.0.10'),
    pass: (c) => (service(c).vip = '192.168.2.10'),
    severity: 'warning',
    line: 'vip: 10.0.0.10',
  },
  {
    rule: 'unmanaged-realserver',
    base: 'heartbeat',
    fail: (c) => service(c).realservers.push({ address: '192.168.2.240' }),
    pass: (c) => service(c).realservers.push({ address: '127.0.0.1' }),
    severity: 'warning',
    line: '- address: 192.168.2.240',
  },
];
