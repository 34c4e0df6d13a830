// The failing and passing cases of the forwarding methods rules (src/cluster/lint/forwarding.ts).
import { type Cluster, type RuleCase, service } from './rule-cases.ts';

export const cases: readonly RuleCase[] = [
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
    rule: 'realserver-default-gateway',
    base: 'piranha',
    fail: (_c, doc) => ((doc.all as Cluster).children.webservers.hosts.web1.vars = { default_gateway: '192.168.10.254' }),
    pass: (_c, doc) => ((doc.all as Cluster).children.webservers.hosts.web1.vars = { default_gateway: '192.168.10.1' }),
    line: 'web1',
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
    rule: 'realserver-port-listener',
    base: 'piranha',
    severity: 'warning',
    fail: (c) => {
      service(c).realservers[0].port = 8080;
      c.realserver = { services: ['myapp'] };
    },
    pass: (c) => {
      service(c).realservers[0].port = 8080;
      c.realserver = { services: ['myapp', 'httpd'] };
    },
    line: 'port: 8080',
  },
];
