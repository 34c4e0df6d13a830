// ldirectord on the directors of a heartbeat cluster: installed (or, when built from source, its
// Perl modules), ldirectord.cf from the virtual services, and kept out of the boot sequence:
// heartbeat starts it on the active director (haresources), so it must not also run on its own.
// Hosts that are not directors of such a cluster, or clusters without ldirectord, get no tasks.
import { defineRole, ops, sh, type Facts } from '../../src/index.ts';
import { clusterOf } from '../../src/cluster/role.ts';
import { pidFileNamesDaemon } from '../../src/operations/daemon-state.ts';
import { ldirectordFromSource } from '../source-builds/layout.ts';
import { LDIRECTORD_PACKAGES, perlModulePackages } from './platform.ts';
import { LDIRECTORD_CF, renderLdirectordCf } from './render.ts';
import { ldirectordView } from './view.ts';

const RELOAD = 'reload ldirectord';
/** Where the packages and the source build (prefix /usr) install the program. */
const LDIRECTORD = '/usr/sbin/ldirectord';
/**
 * The pid file of the instance heartbeat starts (haresources: ldirectord::/etc/ha.d/ldirectord.cf):
 * ldirectord names it after its configuration's base name, /var/run/ldirectord.<name>.pid, and
 * `ldirectord CONFIG status` answers from it alone.
 */
export const INSTANCE_PID_FILE = `/var/run/ldirectord.${LDIRECTORD_CF.slice(LDIRECTORD_CF.lastIndexOf('/') + 1)}.pid`;

export default defineRole({
  name: 'ldirectord',
  needsCluster: true,
  defaults: {},
  tasks: (ctx) => {
    const cluster = clusterOf(ctx, 'ldirectord');
    const settings = cluster.ldirectord;
    if (cluster.manager !== 'heartbeat' || settings?.enabled !== true || !cluster.directors.includes(ctx.host.name)) return [];
    const packaged = !ldirectordFromSource(cluster);
    const systemd = (facts: Facts) => facts.init === 'systemd';
    return [
      { name: 'ldirectord installed', op: ops.packages({ names: LDIRECTORD_PACKAGES }), when: () => packaged },
      {
        name: 'Perl modules of the source-built ldirectord',
        op: ops.packages({ names: perlModulePackages(cluster) }),
        when: () => !packaged && cluster.install.perl_modules.from === 'packages',
      },
      {
        name: 'ldirectord.cf',
        // Rendered at plan time, so that a value ldirectord cannot read stops this task with the reason.
        op: ops.file({ path: LDIRECTORD_CF, mode: '0644', content: () => renderLdirectordCf(ldirectordView(cluster, settings)) }),
        notify: [RELOAD],
      },
      {
        // Debian's init script reads /etc/ldirectord.cf unless told otherwise; with this line
        // `service ldirectord status` and `reload` act on the instance heartbeat started.
        name: 'the Debian init script reads the ha.d configuration',
        op: ops.shellVar({ path: '/etc/default/ldirectord', name: 'CONFIG_FILE', value: LDIRECTORD_CF, create: true, replaceCommented: true }),
        when: (facts) => packaged && facts.os.family === 'debian',
      },
      // A source build installs an init script or unit without enabling it; the packages may
      // enable (and on Debian with systemd, start) it.
      {
        name: 'ldirectord not started at boot (heartbeat starts it)',
        op: ops.service({ name: 'ldirectord', enabled: false }),
        when: (facts) => packaged && !systemd(facts),
      },
      {
        // The unit's ldirectord (pid file ldirectord.ldirectord.pid) is not the one heartbeat starts
        // with the configuration's path (ldirectord.ldirectord.cf.pid), so stopping it leaves that
        // one alone. Under SysV init the script may address heartbeat's instance: it is only disabled.
        name: 'ldirectord not started at boot nor on its own (heartbeat starts it)',
        op: ops.service({ name: 'ldirectord', enabled: false, state: 'stopped' }),
        when: (facts) => packaged && systemd(facts),
      },
    ];
  },
  handlers: () => [
    {
      // Only where heartbeat runs it (the active director); elsewhere a reload would start nothing
      // and `service ldirectord reload` would fail or start a second instance. Where it runs is read
      // from that instance's pid file and /proc, as `ldirectord CONFIG status` reads it, without
      // starting ldirectord (a Perl program that takes seconds to start on a slow director).
      name: RELOAD,
      op: ops.command({ run: sh`${LDIRECTORD} ${LDIRECTORD_CF} reload`, onlyIf: pidFileNamesDaemon(INSTANCE_PID_FILE, ['ldirectord']) }),
    },
  ],
});
