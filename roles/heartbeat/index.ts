// heartbeat on the directors of a `manager: heartbeat` cluster: installed (unless the source-builds
// role builds it), ha.cf, haresources and authkeys from the cluster description, enabled at boot,
// restarted when a file changes. Hosts that are not directors of such a cluster get no tasks.
import { defineRole, ops, type Facts } from '../../src/index.ts';
import { clusterOf } from '../../src/cluster/role.ts';
import { fromSource } from '../source-builds/layout.ts';
import { HEARTBEAT_PACKAGES, heartbeatDaemonDir, heartbeatPackaged, requireHeartbeatAvailable, requireLvsSyncDaemonSwap } from './platform.ts';
import { renderAuthkeys, renderHaCf, renderHaresources } from './render.ts';
import { authkeysView, haCfView, haresourcesView } from './view.ts';

const RESTART = 'restart heartbeat';

export default defineRole({
  name: 'heartbeat',
  needsCluster: true,
  defaults: {},
  tasks: (ctx) => {
    const cluster = clusterOf(ctx, 'heartbeat');
    const host = ctx.host.name;
    if (cluster.manager !== 'heartbeat' || !cluster.directors.includes(host)) return [];
    const settings = cluster.heartbeat;
    if (settings === undefined) throw new Error('the cluster has manager: heartbeat but no heartbeat: section; add one (at least authkeys)');
    const install = cluster.install.heartbeat;
    // Each file checks that heartbeat can be had here: the first task to plan on a host without it
    // stops with what to do instead.
    const available = (render: (facts: Facts) => string) => (facts: Facts) => {
      requireHeartbeatAvailable(facts, install);
      return render(facts);
    };
    return [
      {
        name: 'heartbeat installed',
        op: ops.packages({ names: HEARTBEAT_PACKAGES }),
        when: (facts) => !fromSource(cluster, 'heartbeat') && heartbeatPackaged(facts),
      },
      // The IPaddr agent adds the VIP with ifconfig (an eth0:0 alias); heartbeat's packages only
      // recommend net-tools (Debian) or find it installed (EL5/6), and minimal EL7+ systems lack it.
      ...(settings.resource_agent === 'IPaddr' ? [{ name: 'ifconfig for the IPaddr resource agent', op: ops.packages({ names: ['net-tools'] }) }] : []),
      {
        name: 'ha.cf',
        op: ops.file({
          path: '/etc/ha.d/ha.cf',
          mode: '0644',
          content: available((facts) =>
            renderHaCf(haCfView(cluster, settings, host, settings.ipfail ? `${heartbeatDaemonDir(facts, install)}/ipfail` : undefined)),
          ),
        }),
        notify: [RESTART],
      },
      {
        name: 'haresources',
        op: ops.file({
          path: '/etc/ha.d/haresources',
          mode: '0644',
          content: available((facts) => {
            if (settings.lvs_sync_daemon) requireLvsSyncDaemonSwap(facts, install);
            return renderHaresources(haresourcesView(cluster, settings));
          }),
        }),
        notify: [RESTART],
      },
      {
        name: 'authkeys',
        op: ops.file({ path: '/etc/ha.d/authkeys', mode: '0600', secret: true, content: available(() => renderAuthkeys(authkeysView(settings))) }),
        notify: [RESTART],
      },
      { name: 'heartbeat enabled at boot and running', op: ops.service({ name: 'heartbeat', enabled: true, state: 'started' }) },
    ];
  },
  // Only a heartbeat that ran before this run is restarted: the first run's start reads the new
  // files, and restarting a heartbeat moments after that start, while it is still taking over its
  // resources, hung on the lab's directors. A reload (SIGHUP) is no substitute: heartbeat answers it
  // with a standby transition after which neither director held the VIP (seen on the lab).
  handlers: () => [{ name: RESTART, op: ops.service({ name: 'heartbeat', state: 'restarted', ifRunning: true }) }],
});
