// The failing and passing cases of the the programs on the directors rules (src/cluster/lint/programs.ts).
import { type RuleCase, service } from './rule-cases.ts';

export const cases: readonly RuleCase[] = [
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
];
