// The failing and passing cases of the directors rules (src/cluster/lint/directors.ts).
import { type Cluster, type RuleCase, service } from './rule-cases.ts';

export const cases: readonly RuleCase[] = [
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
