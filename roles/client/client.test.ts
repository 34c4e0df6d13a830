// The client role: curl on the hosts of the group clients, nothing anywhere else.
import { describe, expect, it } from 'vitest';
import { factsFor } from '../../test/support/facts.ts';
import { planRole, type InventoryHostInput } from '../../test/support/plan-role.ts';
import client from './index.ts';

const inventory: InventoryHostInput[] = [
  { name: 'web1', address: '10.213.2.252', groups: ['all', 'realservers'] },
  { name: 'client', address: '10.213.2.10', groups: ['all', 'clients'] },
];

describe('client role', () => {
  it('installs curl on a client, with the package manager of its platform', () => {
    const debian = planRole(client, { host: 'client', inventory, facts: factsFor('debian12') }).tasks;
    expect(debian.map((task) => [task.task, task.status])).toEqual([['curl, to send requests to the virtual services', 'changed']]);
    expect(debian[0]?.script).toMatch(/apt-get .*install -y .* curl/);
    expect(planRole(client, { host: 'client', inventory, facts: factsFor('el9') }).tasks[0]?.script).toContain('dnf -y install curl');
  });

  it('installs what client_packages names instead', () => {
    const [task] = planRole(client, { host: 'client', inventory, facts: factsFor('debian12'), vars: { client_packages: ['curl', 'iputils-arping'] } }).tasks;
    expect(task?.script).toMatch(/install -y .* curl iputils-arping/);
  });

  it('leaves every host outside the group clients alone', () => {
    expect(planRole(client, { host: 'web1', inventory, facts: factsFor('debian12') }).tasks).toEqual([]);
  });
});
