// keepalived on the directors of a cluster whose manager is keepalived: VRRP moves the VIPs (and the
// NAT-side gateway) between the directors, and keepalived's checkers program the IPVS table.
//
// Everything comes from the cluster description (ctx.cluster). The role does nothing on hosts that
// are not directors of the cluster, or when the cluster's manager is another one, so that a play
// can list every manager's role for the directors.
import { defineRole, ops, type Facts } from '../../src/index.ts';
import { isDirector, type Cluster } from '../../src/cluster/model.ts';
import { clusterOf } from '../../src/cluster/role.ts';
import { KEEPALIVED_CONF, renderKeepalivedConf } from './render.ts';
import { keepalivedDialect, keepalivedView } from './view.ts';


/** keepalived.conf of `host` for a host of `facts`' platform. */
export function keepalivedConf(cluster: Cluster, host: string, facts: Facts): string {
  return renderKeepalivedConf(keepalivedView(cluster, host), keepalivedDialect(cluster.install.keepalived, facts));
}

export default defineRole({
  name: 'keepalived',
  needsCluster: true,
  defaults: {},
  tasks: (ctx) => {
    const cluster = clusterOf(ctx, 'keepalived');
    const host = ctx.host.name;
    if (cluster.manager !== 'keepalived' || !isDirector(cluster, host)) return [];
    const packages = [
      ...(cluster.install.keepalived.from === 'packages' ? ['keepalived'] : []),
      // ipvsadm -L -n shows what keepalived programmed.
      ...(cluster.install.ipvsadm.from === 'packages' ? ['ipvsadm'] : []),
    ];
    return [
      ...(packages.length > 0 ? [{ name: 'keepalived installed', op: ops.packages({ names: packages }) }] : []),
      { name: 'keepalived configuration directory', op: ops.directory({ path: '/etc/keepalived', mode: '0755' }) },
      {
        name: 'keepalived.conf',
        // It holds the VRRP password when there is one, and held the old one after `auth` is removed:
        // secret whatever the description says now, so that no diff shows an old password.
        op: ops.file({ path: KEEPALIVED_CONF, content: (facts) => keepalivedConf(cluster, host, facts), mode: '0600', secret: true }),
        notify: ['reload keepalived'],
      },
      { name: 'keepalived started at boot and running', op: ops.service({ name: 'keepalived', enabled: true, state: 'started' }) },
    ];
  },
  handlers: () => [{ name: 'reload keepalived', op: ops.service({ name: 'keepalived', state: 'reloaded', ifRunning: true }) }],
});
