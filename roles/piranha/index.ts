// piranha (pulse, lvs, nanny) on the LVS routers of a cluster whose manager is piranha: Red Hat's
// LVS manager of RHEL 4 to 6. pulse moves the VIPs and the NAT router address to the backup when the
// primary stops answering, lvs programs the IPVS table, nanny checks each real server.
//
// piranha was dropped after RHEL 6 and never packaged for Debian or Ubuntu: there the role stops
// at lvs.cf with a message that says to use keepalived. It does nothing on hosts that are not
// directors of the cluster, or when the cluster's manager is another one.
import { defineRole, ops, OperationError, type Facts } from '../../src/index.ts';
import { isDirector, type Cluster } from '../../src/cluster/model.ts';
import { clusterOf } from '../../src/cluster/role.ts';
import { renderLvsCf } from './render.ts';
import { lvsCfView } from './view.ts';

export const lvsCfPath = '/etc/sysconfig/ha/lvs.cf';

/** piranha is in the base repositories of EL5 and EL6 (the Cluster / Load Balancer channels on RHEL). */
export const piranhaPackaged = (facts: Facts): boolean => facts.os.family === 'el' && facts.os.major <= 6;

/** lvs.cf for a host of `facts`' platform; refuses the platforms that have no piranha. */
export function lvsCf(cluster: Cluster, facts: Facts): string {
  if (!piranhaPackaged(facts)) {
    const os = facts.os.pretty || `${facts.os.distro} ${facts.os.version}`;
    throw new OperationError(
      `piranha is not available on ${os}: Red Hat dropped it after RHEL 6 (its successor is keepalived), and Debian and Ubuntu never packaged it. Set the cluster's manager to keepalived (same VRRP failover and IPVS health checks), or run the directors on EL5/EL6`,
    );
  }
  return renderLvsCf(lvsCfView(cluster));
}

export default defineRole({
  name: 'piranha',
  needsCluster: true,
  defaults: {},
  tasks: (ctx) => {
    const cluster = clusterOf(ctx, 'piranha');
    if (cluster.manager !== 'piranha' || !isDirector(cluster, ctx.host.name)) return [];
    // The piranha package requires ipvsadm; a source-built ipvsadm is the source-builds role's.
    const packages = ['piranha', ...(cluster.install.ipvsadm.from === 'packages' ? ['ipvsadm'] : [])];
    return [
      { name: 'piranha installed', op: ops.packages({ names: packages }), when: piranhaPackaged },
      // Not guarded by `when`: on a platform without piranha this is the task that says so.
      { name: 'lvs.cf', op: ops.file({ path: lvsCfPath, content: (facts) => lvsCf(cluster, facts) }), notify: ['restart pulse'] },
      { name: 'pulse started at boot and running', op: ops.service({ name: 'pulse', enabled: true, state: 'started' }), when: piranhaPackaged },
    ];
  },
  handlers: () => [{ name: 'restart pulse', op: ops.service({ name: 'pulse', state: 'restarted', ifRunning: true }) }],
});
