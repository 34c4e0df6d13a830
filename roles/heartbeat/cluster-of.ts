// The cluster description a cluster role reads (shared by the heartbeat, ldirectord and
// source-builds roles).
import type { RoleContext } from '../../src/index.ts';
import type { Cluster } from '../../src/cluster/model.ts';

/** The inventory's `cluster:` description; a role that configures a cluster cannot do without it. */
export function clusterOf(ctx: Pick<RoleContext<Record<string, unknown>>, 'cluster'>, role: string): Cluster {
  if (ctx.cluster === undefined) throw new Error(`the ${role} role configures a cluster, but the inventory has no cluster: section; describe the cluster there (see inventory/)`);
  return ctx.cluster;
}
