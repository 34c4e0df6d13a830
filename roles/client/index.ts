// A client of the cluster, the tutorials' machine that sends requests to the VIP to watch the
// balancing and the failover: the tools for that (curl). It is not part of the cluster description,
// so the role configures the hosts of the inventory group `clients` (site.yml applies every role to
// all hosts; the others get no task).
import { defineRole, ops } from '../../src/index.ts';
import { clientVariables } from './variables.ts';

export const CLIENTS_GROUP = 'clients';

export default defineRole({
  name: 'client',
  ...clientVariables,
  tasks: ({ host, vars }) =>
    host.groups.includes(CLIENTS_GROUP) && vars.client_packages.length > 0
      ? [{ name: `${vars.client_packages.join(', ')}, to send requests to the virtual services`, op: ops.packages({ names: vars.client_packages }) }]
      : [],
});
