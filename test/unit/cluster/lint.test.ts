import { describe, expect, it } from 'vitest';
import {
  factsProblem,
  formatFinding,
  hasErrors,
  lintCluster,
  lintClusters,
  lintNodeNames,
  lintSubject,
  managesHostname,
  programOf,
  ruleCatalogue,
  type LintSubject,
  type Severity,
} from '../../../src/cluster/lint.ts';
import { docs, inventoryLoader, lineAt, lintOf, type Doc } from './support.ts';

const { load } = inventoryLoader();

type Manager = keyof typeof docs;
type Cluster = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- free-form edits of test data

interface Case {
  rule: string;
  base: Manager;
  /** makes the base break the rule */
  fail: (cluster: Cluster, doc: Doc) => void;
  /** the same situation, written so that it passes (applied to a fresh base) */
  pass: (cluster: Cluster, doc: Doc) => void;
  severity?: Severity;
  /** text on the line the finding points at */
  line: string;
}

const service = (cluster: Cluster, index = 0): Cluster => cluster.virtual_services[index];

const cases: Case[] = [
  {
    rule: 'dr-realserver-subnet',
    base: 'heartbeat',
    fail: (_c, doc) => ((doc.all as Cluster).children.webservers.hosts.web2.address = '192.168.3.253'),
    pass: (c, doc) => {
      (doc.all as Cluster).children.webservers.hosts.web2.address = '192.168.3.253';
      c.network.prefix = 16;
    },
    line: 'host: web2',
  },
  {
    rule: 'nat-gateway',
    base: 'piranha',
    fail: (c) => (c.realserver = { gateway: '192.168.10.254' }),
    pass: (c) => (c.realserver = { gateway: '192.168.10.1' }),
    line: 'gateway: 192.168.10.254',
  },
  {
    rule: 'nat-gateway',
    base: 'piranha',
    fail: (c) => (c.nat.gateway = '192.168.20.1'),
    pass: (c) => (c.nat.gateway = '192.168.10.254'),
    line: 'host: web1',
  },
  {
    rule: 'nat-director-realserver',
    base: 'piranha',
    fail: (c) => service(c).realservers.push({ host: 'lvs-backup' }),
    pass: (c) => service(c).realservers.push({ address: '192.168.10.38' }),
    line: 'host: lvs-backup',
  },
  {
    rule: 'nat-ip-forward',
    base: 'piranha',
    fail: (c) => (c.ip_forward = false),
    pass: (c) => (c.ip_forward = true),
    line: 'ip_forward: false',
  },
  {
    rule: 'port-mapping-nat-only',
    base: 'heartbeat',
    fail: (c) => (service(c).realservers[2].port = 8080),
    pass: (c) => (service(c).realservers[2].port = 80),
    line: 'port: 8080',
  },
  {
    rule: 'service-unique',
    base: 'heartbeat',
    fail: (c) => c.virtual_services.push({ ...service(c), scheduler: 'rr' }),
    pass: (c) => c.virtual_services.push({ ...service(c), port: 443, check: { checktype: 'connect' } }),
    line: '- vip: 192.168.2.254',
  },
  {
    rule: 'realserver-unique',
    base: 'heartbeat',
    fail: (c) => service(c).realservers.push({ address: '192.168.2.252' }),
    pass: (c) => service(c).realservers.push({ address: '192.168.2.240' }),
    line: '- address: 192.168.2.252',
  },
  {
    rule: 'scheduler-weights',
    base: 'heartbeat',
    fail: (c) => (service(c).realservers[2].weight = 3),
    pass: (c) => {
      service(c).realservers[2].weight = 3;
      service(c).scheduler = 'wlc';
    },
    severity: 'warning',
    line: 'scheduler: lc',
  },
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
  {
    rule: 'secret-in-clear',
    base: 'heartbeat',
    fail: (c) => (c.heartbeat.authkeys.key = 'written-here'),
    pass: (c, doc) => {
      (doc.all as Cluster).vars = { ha_key: '${HA_AUTH_KEY}' };
      c.heartbeat.authkeys.key = '{{ ha_key }}';
    },
    severity: 'warning',
    line: 'key: written-here',
  },
  {
    rule: 'secret-in-clear',
    base: 'keepalived',
    fail: (c) => (c.keepalived.auth.pass = 'inclear'),
    pass: () => undefined,
    severity: 'warning',
    line: 'pass: inclear',
  },
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
    rule: 'ipvs-single-owner',
    base: 'heartbeat',
    fail: (c) => (c.ipvs_rules_at_boot = true),
    pass: (c) => {
      c.ipvs_rules_at_boot = true;
      c.ldirectord = { enabled: false };
      delete service(c).check;
    },
    line: 'ipvs_rules_at_boot: true',
  },
  {
    rule: 'ipvs-single-owner',
    base: 'heartbeat',
    fail: (c) => (c.heartbeat.resources = ['lvs']),
    pass: (c) => {
      c.heartbeat.resources = ['httpd'];
      c.realserver.services = [];
    },
    line: '- lvs',
  },
  {
    // The seed's "ipvsadm" resource, as a resource class and a unit, in capitals.
    rule: 'ipvs-single-owner',
    base: 'heartbeat',
    fail: (c) => (c.heartbeat.resources = ['httpd', 'lsb:IPVSADM.service']),
    pass: (c) => (c.heartbeat.resources = ['httpd', 'lsb:IPaddr']),
    line: '- lsb:IPVSADM.service',
  },
  {
    rule: 'ipvs-single-owner',
    base: 'heartbeat',
    fail: (c) => (c.heartbeat.resources = ['Lvs::start']),
    pass: (c) => (c.heartbeat.resources = ['httpd::start']),
    line: '- Lvs::start',
  },
  {
    rule: 'ipvs-single-owner',
    base: 'heartbeat',
    fail: (c) => (c.heartbeat.resources = ['ocf:heartbeat:ldirectord']),
    pass: (c) => (c.heartbeat.resources = ['ocf:heartbeat:IPaddr2']),
    line: '- ocf:heartbeat:ldirectord',
  },
  {
    // The directors are real servers too: their realserver.services start at boot on them.
    rule: 'ipvs-single-owner',
    base: 'heartbeat',
    fail: (c) => (c.realserver.services = ['nginx', 'ipvsadm']),
    pass: (c) => (c.realserver.services = ['nginx']),
    line: '- ipvsadm',
  },
  {
    rule: 'ipvs-single-owner',
    base: 'keepalived',
    fail: (c) => {
      service(c).realservers.push({ host: 'server1' });
      c.realserver.services = ['httpd', 'LDIRECTORD.service'];
    },
    pass: (c) => {
      service(c).realservers.push({ host: 'server1' });
      c.realserver.services = ['httpd', 'keepalived'];
    },
    line: '- LDIRECTORD.service',
  },
  {
    // Nothing writes the table: heartbeat without ldirectord and no rules restored at boot.
    rule: 'ipvs-single-owner',
    base: 'heartbeat',
    fail: (c) => {
      c.ldirectord = { enabled: false };
      c.ipvs_rules_at_boot = false;
      delete service(c).check;
    },
    pass: (c) => {
      c.ldirectord = { enabled: false };
      c.ipvs_rules_at_boot = true;
      delete service(c).check;
    },
    line: 'ipvs_rules_at_boot: false',
  },
  {
    rule: 'ipvs-single-owner',
    base: 'keepalived',
    fail: (c) => (c.ipvs_rules_at_boot = true),
    pass: (c) => (c.ipvs_rules_at_boot = false),
    line: 'ipvs_rules_at_boot: true',
  },
  {
    rule: 'managed-service-at-boot',
    base: 'heartbeat',
    fail: (c) => (c.heartbeat.resources = ['nginx']),
    pass: (c) => {
      c.heartbeat.resources = ['nginx'];
      c.realserver.services = [];
    },
    line: '- nginx',
  },
  {
    rule: 'managed-service-at-boot',
    base: 'heartbeat',
    fail: (c) => (c.realserver.services = ['nginx', 'ldirectord']),
    pass: (c) => (c.realserver.services = ['nginx']),
    line: '- ldirectord',
  },
  {
    // The same service, named once as a resource path and once as a unit.
    rule: 'managed-service-at-boot',
    base: 'heartbeat',
    fail: (c) => {
      c.heartbeat.resources = ['lsb:nginx'];
      c.realserver.services = ['nginx.service'];
    },
    pass: (c) => {
      c.heartbeat.resources = ['lsb:nginx'];
      c.realserver.services = [];
    },
    line: '- nginx.service',
  },
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
  {
    rule: 'piranha-forwarding',
    base: 'piranha',
    fail: (c) => c.virtual_services.push({ vip: '202.39.145.147', port: 80, forwarding: 'dr', realservers: [{ address: '202.39.145.150' }] }),
    pass: (c) => c.virtual_services.push({ vip: '202.39.145.147', port: 80, forwarding: 'nat', realservers: [{ host: 'web1' }] }),
    line: 'forwarding: dr',
  },
  {
    // The piranha tutorial's typo: the backup at 202.30.145.151, the primary at 202.39.145.156/26.
    rule: 'piranha-backup-subnet',
    base: 'piranha',
    fail: (_c, doc) => ((doc.all as Cluster).children.directors.hosts['lvs-backup'].address = '202.30.145.151'),
    pass: (_c, doc) => ((doc.all as Cluster).children.directors.hosts['lvs-backup'].address = '202.39.145.151'),
    line: 'lvs-backup:',
  },
  {
    rule: 'piranha-backup-subnet',
    base: 'piranha',
    fail: (c) => (c.addresses = { 'lvs-backup': '202.39.145.100' }),
    pass: (c) => (c.addresses = { 'lvs-backup': '202.39.145.130' }),
    line: 'lvs-backup: 202.39.145.100',
  },
  {
    rule: 'piranha-backup-active',
    base: 'piranha',
    fail: (c) => (c.piranha = { backup_active: false }),
    pass: (c) => (c.piranha = { backup_active: true }),
    severity: 'warning',
    line: 'backup_active: false',
  },
  {
    rule: 'single-director',
    base: 'keepalived',
    fail: (c) => {
      c.directors = ['server1'];
      c.keepalived.priority = { server1: 100 };
    },
    pass: (c) => {
      c.manager = 'none';
      c.directors = ['server1'];
      delete c.keepalived;
      delete service(c).check;
    },
    severity: 'warning',
    line: 'directors:',
  },
  {
    rule: 'none-one-director',
    base: 'none',
    fail: (c, doc) => {
      (doc.all as Cluster).hosts.director2 = { address: '10.1.0.9' };
      c.directors = ['director', 'director2'];
    },
    pass: (c, doc) => {
      (doc.all as Cluster).hosts.director2 = { address: '10.1.0.9' };
      c.directors = ['director', 'director2'];
      c.manager = 'keepalived';
      c.keepalived = { virtual_router_id: 7 };
    },
    line: 'manager: none',
  },
];

async function findings(base: Manager, edit: (cluster: Cluster, doc: Doc) => void) {
  const doc = docs[base]();
  edit(doc.cluster, doc);
  const inventory = await load(doc, { HA_AUTH_KEY: 'hb-secret', VRRP_PASS: 'vrrp-pw', LONG_PASS: 'longer-than-8' });
  return { findings: lintOf(inventory), text: inventory.text };
}

describe('cluster lint: the base clusters of the tests are clean', () => {
  for (const base of Object.keys(docs) as Manager[]) {
    it(base, async () => {
      expect((await findings(base, () => undefined)).findings).toEqual([]);
    });
  }
});

describe('cluster lint: every rule fails on a broken cluster and passes on a correct one', () => {
  for (const c of cases) {
    it(`${c.rule}: ${c.line}`, async () => {
      const failing = await findings(c.base, c.fail);
      const hits = failing.findings.filter((finding) => finding.rule === c.rule);
      expect(hits.length, `findings: ${failing.findings.map(formatFinding).join('\n')}`).toBeGreaterThan(0);
      const [hit] = hits;
      expect(hit?.severity).toBe(c.severity ?? 'error');
      expect(hit?.reason.length).toBeGreaterThan(40);
      expect(hit?.where.file).toMatch(/hosts\.yaml$/);
      expect(lineAt(failing.text, hit?.where.line).trim()).toContain(c.line);

      const passing = await findings(c.base, c.pass);
      expect(passing.findings.filter((finding) => finding.rule === c.rule).map(formatFinding)).toEqual([]);
    });
  }

  it('has a failing and a passing case for every rule that reads one cluster', () => {
    const tested = new Set(cases.map((c) => c.rule));
    const untested = ruleCatalogue()
      .map((rule) => rule.id)
      .filter((id) => !tested.has(id) && id !== 'vrrp-router-id-unique');
    expect(untested).toEqual([]);
  });
});

describe('cluster lint: what a finding says', () => {
  it('one line per finding with file:line:col, severity and rule, and the reason indented below', async () => {
    const { findings: found } = await findings('heartbeat', (c) => Object.assign(c.heartbeat, { deadtime: 3, warntime: 2 }));
    expect(found).toHaveLength(1);
    const [first] = found;
    const [line, reason, ...rest] = formatFinding(first!).split('\n');
    expect(line).toMatch(/^\/.*hosts\.yaml:\d+:\d+: error \[heartbeat-deadtime\] deadtime 3 is less than twice keepalive 2: make it at least 4$/);
    expect(reason).toMatch(/^ {4}A node is declared dead/);
    expect(rest).toEqual([]);
    expect(hasErrors(found)).toBe(true);
  });

  it('a default value is reported at the mapping it belongs to', async () => {
    // deadtime is not written: its default 30 is judged against keepalive 20
    const { findings: found, text } = await findings('heartbeat', (c) => {
      delete c.heartbeat.deadtime;
      delete c.heartbeat.warntime;
      c.heartbeat.keepalive = 20;
    });
    const hit = found.find((finding) => finding.rule === 'heartbeat-deadtime');
    expect(hit?.message).toBe('deadtime 30 is less than twice keepalive 20: make it at least 40');
    expect(lineAt(text, hit?.where.line)).toBe('  heartbeat:');
  });
});

/** The heartbeat base with the directors' hostnames left alone (manage_hostname: false for the group). */
function unmanagedHostnames(): Doc {
  const doc = docs.heartbeat();
  (doc.all as Cluster).children.directors.vars = { manage_hostname: false };
  return doc;
}

describe('cluster lint: heartbeat node names once facts are in', () => {
  it('heartbeat-node-name: a director whose hostname is not managed and whose `uname -n` is not its node name', async () => {
    const inventory = await load(unmanagedHostnames());
    const subject = lintSubject(inventory) as LintSubject;
    expect(lintCluster(subject)).toEqual([]);
    const facts = new Map([['lvs-master', { nodename: 'lvs-master' }], ['lvs-backup', { nodename: 'lvs-backup.localdomain' }]]);
    const found = lintNodeNames(subject, facts);
    expect(found.map((finding) => [finding.rule, finding.severity, finding.message])).toEqual([
      [
        'heartbeat-node-name',
        'error',
        'director lvs-backup is heartbeat node lvs-backup, but its `uname -n` is lvs-backup.localdomain (manage_hostname is false, so provision leaves the hostname alone): set heartbeat.node_names.lvs-backup: lvs-backup.localdomain, or rename the host',
      ],
    ]);
    expect(lineAt(inventory.text, found[0]?.where.line).trim()).toBe('- lvs-backup');
    // The run stops the host with the same words as lint.
    expect(factsProblem(subject, 'lvs-backup', { nodename: 'lvs-backup.localdomain' })).toBe(formatFinding(found[0]!));
    expect(factsProblem(subject, 'lvs-master', { nodename: 'lvs-master' })).toBeUndefined();

    // The fix the message suggests passes; a director without facts is not judged.
    const doc = unmanagedHostnames();
    (doc.cluster.heartbeat as Cluster).node_names = { 'lvs-backup': 'lvs-backup.localdomain' };
    const fixed = lintSubject(await load(doc)) as LintSubject;
    expect(lintNodeNames(fixed, new Map([['lvs-backup', { nodename: 'lvs-backup.localdomain' }]]))).toEqual([]);
    expect(factsProblem(fixed, 'lvs-backup', { nodename: 'lvs-backup.localdomain' })).toBeUndefined();
    expect(lintNodeNames(fixed, new Map())).toEqual([]);
  });

  it('a managed hostname is judged before the run, by the inventory name, whatever `uname -n` says now', async () => {
    // The base role renames the host later in the run: its current name does not matter.
    const subject = lintSubject(await load(docs.heartbeat())) as LintSubject;
    expect(lintNodeNames(subject, new Map([['lvs-backup', { nodename: 'localhost' }]]))).toEqual([]);
    expect(factsProblem(subject, 'lvs-backup', { nodename: 'localhost' })).toBeUndefined();
  });

  it('manage_hostname as the base role reads it: a template of the host\'s variables, false, or unset (on)', () => {
    expect(managesHostname(undefined)).toBe(true);
    expect(managesHostname({ vars: {} })).toBe(true);
    expect(managesHostname({ vars: { manage_hostname: false } })).toBe(false);
    expect(managesHostname({ vars: { manage_hostname: '{{ keep_names }}', keep_names: false } })).toBe(false);
    expect(managesHostname({ vars: { manage_hostname: '{{ set_by_a_play }}' } })).toBe(true);
  });

  it('says nothing for clusters without heartbeat', async () => {
    const subject = lintSubject(await load(docs.keepalived())) as LintSubject;
    expect(lintNodeNames(subject, new Map([['server1', { nodename: 'other' }]]))).toEqual([]);
    expect(factsProblem(subject, 'server1', { nodename: 'other' })).toBeUndefined();
    expect(factsProblem(undefined, 'server1', { nodename: 'other' })).toBeUndefined();
  });
});

describe('cluster lint: what a resource or service does, whatever it is called', () => {
  it('programOf: paths, rc links, resource classes, arguments, units and case name one program', () => {
    const names: [string, string][] = [
      ['lvs', 'lvs'],
      ['/etc/init.d/lvs', 'lvs'],
      ['/etc/rc.d/init.d/lvs', 'lvs'],
      ['/etc/rc3.d/S20lvs', 'lvs'],
      ['lvs.service', 'lvs'],
      ['lsb:lvs', 'lvs'],
      ['LVS', 'lvs'],
      ['ldirectord::ldirectord.cf', 'ldirectord'],
      ['ocf:heartbeat:ldirectord', 'ldirectord'],
      ['/usr/lib/ocf/resource.d/heartbeat/ldirectord', 'ldirectord'],
      ['ipvsadm.service', 'ipvsadm'],
      ['IPaddr2::192.168.2.254/24/eth0', 'ipaddr2'],
    ];
    expect(names.map(([entry]) => [entry, programOf(entry)])).toEqual(names);
  });

  it('ipvs-single-owner: the lvs script as the path of its init script (whether or not the schema lets it through)', async () => {
    for (const resource of ['/etc/init.d/lvs', '/etc/rc.d/init.d/lvs', '/etc/init.d/ipvsadm']) {
      const subject = lintSubject(await load(docs.heartbeat())) as LintSubject;
      subject.cluster.heartbeat!.resources = [resource];
      const hits = lintCluster(subject).filter((finding) => finding.rule === 'ipvs-single-owner');
      expect(hits.map((finding) => finding.message)).toEqual([expect.stringMatching(new RegExp(`^the IPVS table would be written by ldirectord \\(the manager\\), ${resource.replace(/\//g, '\\/')} \\(heartbeat resource: .*\\): keep only ldirectord$`))]);
      subject.cluster.heartbeat!.resources = ['/etc/init.d/httpd'];
      expect(lintCluster(subject).filter((finding) => finding.rule === 'ipvs-single-owner')).toEqual([]);
    }
  });
});

describe('cluster lint: across clusters', () => {
  it('vrrp-router-id-unique: two keepalived clusters on one network with the same router id', async () => {
    const first = lintSubject(await load(docs.keepalived())) as LintSubject;
    const other = docs.keepalived();
    other.cluster.name = 'mail';
    other.cluster.directors = ['server3', 'server4'];
    other.cluster.virtual_services = [{ vip: '172.25.33.101', port: 25, realservers: [{ address: '172.25.33.50' }] }];
    other.cluster.keepalived = { virtual_router_id: 51, priority: { server3: 100, server4: 50 } };
    const second = lintSubject(await load(other)) as LintSubject;

    const found = lintClusters([first, second]).filter((finding) => finding.rule === 'vrrp-router-id-unique');
    expect(found).toHaveLength(1);
    expect(found[0]?.message).toMatch(/^clusters lvs and mail both use virtual_router_id 51 on 172\.25\.33\.0\/24 \(also at .*hosts\.yaml:\d+:\d+\)$/);

    (other.cluster.keepalived as Cluster).virtual_router_id = 52;
    const distinct = lintSubject(await load(other)) as LintSubject;
    expect(lintClusters([first, distinct]).filter((finding) => finding.rule === 'vrrp-router-id-unique')).toEqual([]);
  });
});
