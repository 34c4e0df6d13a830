// The failing and passing cases of the heartbeat and ldirectord rules (src/cluster/lint/heartbeat.ts).
import { type Cluster, type RuleCase, service } from './rule-cases.ts';

export const cases: readonly RuleCase[] = [
  {
    rule: 'persistence-quiescent',
    base: 'heartbeat',
    fail: (c) => {
      service(c).persistence = { timeout: 600 };
      c.ldirectord = { quiescent: true };
    },
    pass: (c) => {
      service(c).persistence = { timeout: 600 };
      c.ldirectord = { quiescent: false };
    },
    severity: 'warning',
    line: 'quiescent: true',
  },
  {
    rule: 'heartbeat-deadtime',
    base: 'heartbeat',
    fail: (c) => (c.heartbeat.deadtime = 3),
    pass: (c) => Object.assign(c.heartbeat, { deadtime: 4, warntime: 3, initdead: 8 }),
    line: 'deadtime: 3',
  },
  {
    rule: 'heartbeat-warntime',
    base: 'heartbeat',
    fail: (c) => (c.heartbeat.warntime = 30),
    pass: (c) => (c.heartbeat.warntime = 29),
    line: 'warntime: 30',
  },
  {
    rule: 'heartbeat-initdead',
    base: 'heartbeat',
    fail: (c) => (c.heartbeat.initdead = 59),
    pass: (c) => (c.heartbeat.initdead = 60),
    line: 'initdead: 59',
  },
  {
    rule: 'heartbeat-path',
    base: 'heartbeat',
    fail: (c) => delete c.heartbeat.ucast,
    pass: (c) => {
      delete c.heartbeat.ucast;
      c.heartbeat.serial = [{ device: '/dev/ttyS0' }];
    },
    line: 'heartbeat:',
  },
  {
    rule: 'heartbeat-nodes',
    base: 'heartbeat',
    fail: (c) => (c.heartbeat.ucast[0].addresses['lvs-backup'] = '192.168.1.250'),
    pass: (c) => (c.heartbeat.ucast[0].addresses['lvs-backup'] = '192.168.1.252'),
    line: 'lvs-backup: 192.168.1.250',
  },
  {
    rule: 'heartbeat-nodes',
    base: 'heartbeat',
    fail: (c) => (c.heartbeat.node_names = { 'lvs-backup': 'lvs-master' }),
    pass: (c) => (c.heartbeat.node_names = { 'lvs-backup': 'lvs-backup.example.com' }),
    line: 'lvs-backup: lvs-master',
  },
  {
    // The base role names the host after its inventory entry: a different node name never matches.
    rule: 'heartbeat-node-name',
    base: 'heartbeat',
    fail: (c) => (c.heartbeat.node_names = { 'lvs-backup': 'lvs-backup.localdomain' }),
    pass: (c, doc) => {
      c.heartbeat.node_names = { 'lvs-backup': 'lvs-backup.localdomain' };
      (doc.all as Cluster).children.directors.hosts['lvs-backup'].vars = { manage_hostname: false };
    },
    line: 'lvs-backup: lvs-backup.localdomain',
  },
  {
    // manage_hostname off for the group, back on for the host: the host's value decides.
    rule: 'heartbeat-node-name',
    base: 'heartbeat',
    fail: (c, doc) => {
      c.heartbeat.node_names = { 'lvs-master': 'lvs1.mydomain.com' };
      (doc.all as Cluster).children.directors.vars = { manage_hostname: false };
      (doc.all as Cluster).children.directors.hosts['lvs-master'].vars = { manage_hostname: true };
    },
    pass: (c, doc) => {
      c.heartbeat.node_names = { 'lvs-master': 'lvs-master' };
      (doc.all as Cluster).children.directors.vars = { manage_hostname: false };
      (doc.all as Cluster).children.directors.hosts['lvs-master'].vars = { manage_hostname: true };
    },
    line: 'lvs-master: lvs1.mydomain.com',
  },
  {
    rule: 'heartbeat-ipfail',
    base: 'heartbeat',
    fail: (c) => (c.heartbeat.ipfail = true),
    pass: (c) => Object.assign(c.heartbeat, { ipfail: true, ping: ['192.168.2.1'] }),
    line: 'ipfail: true',
  },
  {
    rule: 'authkeys-key',
    base: 'heartbeat',
    fail: (c) => (c.heartbeat.authkeys = { method: 'md5' }),
    pass: (c) => (c.heartbeat.authkeys = { method: 'md5', key: '${HA_AUTH_KEY}' }),
    line: 'authkeys:',
  },
  {
    rule: 'authkeys-crc',
    base: 'heartbeat',
    fail: (c) => (c.heartbeat.authkeys = { method: 'crc' }),
    pass: (c) => (c.heartbeat.authkeys = { method: 'sha1', key: '${HA_AUTH_KEY}', allow_crc: true }),
    line: 'method: crc',
  },
  {
    rule: 'authkeys-crc',
    base: 'heartbeat',
    fail: (c) => (c.heartbeat.authkeys = { method: 'crc', allow_crc: true }),
    pass: (c) => (c.heartbeat.authkeys = { method: 'sha1', key: '${HA_AUTH_KEY}' }),
    severity: 'warning',
    line: 'method: crc',
  },
];
