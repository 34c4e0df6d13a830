// The failing and passing cases of the secrets rules (src/cluster/lint/secrets.ts).
import { type Cluster, type RuleCase } from './rule-cases.ts';

export const cases: readonly RuleCase[] = [
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
];
