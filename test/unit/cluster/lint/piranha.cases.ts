// The failing and passing cases of the piranha rules (src/cluster/lint/piranha.ts).
import { type Cluster, type RuleCase } from './rule-cases.ts';

export const cases: readonly RuleCase[] = [
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
];
