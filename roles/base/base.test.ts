// Golden command plans and files of the base role on a fresh host of every platform
// (test/fixtures/golden/base/).
import { describe, it } from 'vitest';
import type { Facts } from '../../src/core/facts.ts';
import { factsFor, platforms } from '../../test/support/facts.ts';
import { expectRoleGoldens } from '../../test/support/goldens.ts';
import { planRole, type InventoryHostInput } from '../../test/support/plan-role.ts';
import base from './index.ts';

const inventory: InventoryHostInput[] = [
  { name: 'lvs-master', address: '192.168.2.250', groups: ['all', 'directors'] },
  { name: 'lvs-backup', address: '192.168.2.251', groups: ['all', 'directors'] },
  { name: 'web1', address: '192.168.2.252', groups: ['all', 'realservers'] },
  { name: 'web2', address: '192.168.2.253', groups: ['all', 'realservers'] },
  // Reached by name: it has no address to write into /etc/hosts.
  { name: 'controller', address: 'controller.example.org', groups: ['all'] },
];

// The lab's Debian 12 hosts run without systemd.
const variants: Array<[name: string, facts: Facts]> = [
  ...platforms.map((p): [string, Facts] => [p, factsFor(p)]),
  ['debian12-sysv', factsFor('debian12', { init: 'sysv' })],
];

describe('base role plan on a fresh host', () => {
  it('on every platform', () => {
    const plans = variants.map(([variant, facts]) => [variant, planRole(base, { host: 'lvs-master', inventory, facts, vars: { default_gateway: '192.168.2.1' } })] as const);
    expectRoleGoldens('base/lvs-master', plans);
  });
});
