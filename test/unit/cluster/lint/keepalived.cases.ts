// The failing and passing cases of the keepalived rules (src/cluster/lint/keepalived.ts).
import { type Cluster, type RuleCase } from './rule-cases.ts';

/** A second keepalived cluster on the base's network, with its own hosts and the given router id. */
function secondCluster(c: Cluster, virtualRouterId: number): void {
  c.name = 'mail';
  c.directors = ['server3', 'server4'];
  c.virtual_services = [{ vip: '172.25.33.101', port: 25, realservers: [{ address: '172.25.33.50' }] }];
  c.keepalived = { virtual_router_id: virtualRouterId, priority: { server3: 100, server4: 50 } };
}

export const cases: readonly RuleCase[] = [
  {
    rule: 'vrrp-router-id',
    base: 'keepalived',
    fail: (c) => (c.keepalived.virtual_router_id = 256),
    pass: (c) => (c.keepalived.virtual_router_id = 255),
    line: 'virtual_router_id: 256',
  },
  {
    rule: 'vrrp-router-id',
    base: 'keepalived',
    fail: (c) => (c.keepalived.virtual_router_id = 0),
    pass: (c) => (c.keepalived.virtual_router_id = 1),
    line: 'virtual_router_id: 0',
  },
  {
    rule: 'vrrp-priority',
    base: 'keepalived',
    fail: (c) => (c.keepalived.priority = { server1: 100, server2: 100 }),
    pass: (c) => (c.keepalived.priority = { server1: 100, server2: 99 }),
    line: 'server2: 100',
  },
  {
    rule: 'vrrp-priority',
    base: 'keepalived',
    fail: (c) => (c.keepalived.priority = { server1: 255, server2: 50 }),
    pass: (c) => (c.keepalived.priority = { server1: 254, server2: 50 }),
    line: 'server1: 255',
  },
  {
    rule: 'vrrp-master-priority',
    base: 'keepalived',
    fail: (c) => (c.keepalived.priority = { server1: 50, server2: 100 }),
    pass: (c) => {
      c.keepalived.priority = { server1: 50, server2: 100 };
      c.keepalived.state = { server1: 'BACKUP', server2: 'MASTER' };
    },
    severity: 'warning',
    line: 'server1: 50',
  },
  {
    rule: 'keepalived-source-version',
    base: 'keepalived',
    fail: (c) => {
      c.install = { keepalived: { from: 'source', version: '3.0', url: 'https://example.org/keepalived-3.0.tar.gz', sha256: 'a'.repeat(64) } };
    },
    pass: (c) => {
      c.install = { keepalived: { from: 'source', url: 'https://example.org/keepalived-2.2.8.tar.gz', sha256: 'a'.repeat(64) } };
    },
    line: 'version: "3.0"',
  },
  {
    rule: 'vrrp-auth-pass',
    base: 'keepalived',
    fail: (c, doc) => {
      (doc.all as Cluster).vars = { long_pass: '${LONG_PASS}' };
      c.keepalived.auth.pass = '{{ long_pass }}';
    },
    pass: (c, doc) => {
      (doc.all as Cluster).vars = { long_pass: '${VRRP_PASS}' };
      c.keepalived.auth.pass = '{{ long_pass }}';
    },
    line: 'pass: "{{ long_pass }}"',
  },
  {
    rule: 'vrrp-nopreempt',
    base: 'keepalived',
    fail: (c) => (c.keepalived.nopreempt = true),
    pass: (c) => {
      c.keepalived.nopreempt = true;
      c.keepalived.state = { server1: 'BACKUP', server2: 'BACKUP' };
    },
    line: 'keepalived:',
  },
  {
    // The base cluster and a second one on its network, both with virtual_router_id 51.
    rule: 'vrrp-router-id-unique',
    base: 'keepalived',
    acrossClusters: true,
    fail: (c) => secondCluster(c, 51),
    pass: (c) => secondCluster(c, 52),
    line: 'virtual_router_id: 51',
  },
];
