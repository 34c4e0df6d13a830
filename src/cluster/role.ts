// What a cluster role needs first: the inventory's cluster description.
import { UserError } from '../core/errors.ts';
import type { RoleContext } from '../core/task.ts';
import type { Cluster } from './model.ts';

/** The inventory's `cluster:` description; a role that configures a cluster cannot do without it. */
export function clusterOf(ctx: Pick<RoleContext<Record<string, unknown>>, 'cluster'>, role: string): Cluster {
  if (ctx.cluster === undefined) {
    throw new UserError(
      `the ${role} role configures a cluster, but the inventory has no cluster: section`,
      {},
      'describe the cluster under cluster: in the inventory (examples in inventory/*.yaml), or leave this role out of the playbook',
    );
  }
  return ctx.cluster;
}
