// The failing and passing cases of the virtual services rules (src/cluster/lint/virtual-services.ts).
import { type RuleCase, service } from './rule-cases.ts';

export const cases: readonly RuleCase[] = [
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
];
