// What heartbeat looks like on each platform: whether it is packaged, where its daemons (ipfail)
// are, and which generation it is. Checked against the packages' file lists: Debian 11 and Ubuntu
// 22.04 ship heartbeat 3.0.6 with its daemons in /usr/lib/heartbeat; Debian moved them to
// /usr/libexec/heartbeat in 1:3.0.6-13 (Debian 12, and Ubuntu 24.04's 3.0.6-14.1); the EL packages
// (CentOS 5 extras: heartbeat 2.1; EPEL 6: heartbeat 3.0.4) and upstream builds keep them in
// $libdir/heartbeat.
import { OperationError, type Facts } from '../../src/index.ts';
import type { ComponentInstall } from '../../src/cluster/model.ts';
import { selectorsFor, type PerPlatform } from '../../src/operations/per-platform.ts';
import { sourceLibdir, sourceVersion } from '../source-builds/layout.ts';

/**
 * The heartbeat packages per platform; no entry: no repository of the platform has heartbeat.
 * CentOS 5 (extras) has heartbeat 2.1 with its plugin and STONITH libraries in separate packages;
 * EPEL 6 has heartbeat 3.0.4 (its libraries come as dependencies); EPEL 7 and later have none, as
 * Red Hat replaced heartbeat with pacemaker and corosync; Debian and Ubuntu have heartbeat 3.0.6.
 */
export const HEARTBEAT_PACKAGES = {
  el5: ['heartbeat', 'heartbeat-pils', 'heartbeat-stonith'],
  el6: ['heartbeat'],
  debian: ['heartbeat'],
} satisfies PerPlatform<string[]>;

export const heartbeatPackaged = (facts: Facts): boolean => selectorsFor(facts).some((selector) => selector in HEARTBEAT_PACKAGES);

const osName = (facts: Facts) => facts.os.pretty || `${facts.os.distro} ${facts.os.version}`;

/** Stops a plan where heartbeat cannot be installed the way the description says. */
export function requireHeartbeatAvailable(facts: Facts, install: ComponentInstall): void {
  if (install.from === 'source' || heartbeatPackaged(facts)) return;
  throw new OperationError(
    `heartbeat is not packaged for ${osName(facts)}: no repository of this release has it. ` +
      `Build it from source (cluster.install: libnet, cluster_glue, resource_agents and heartbeat with from: source, url and sha256), ` +
      `or use manager: keepalived (packaged there)`,
  );
}

/** The directory of heartbeat's own daemons (ipfail among them) on this platform. */
export function heartbeatDaemonDir(facts: Facts, install: ComponentInstall): string {
  if (install.from === 'source') return `${sourceLibdir(facts)}/heartbeat`;
  if (facts.os.family === 'debian') {
    const moved = facts.os.distro === 'ubuntu' ? facts.os.major >= 24 : facts.os.major >= 12;
    return moved ? '/usr/libexec/heartbeat' : '/usr/lib/heartbeat';
  }
  return `${sourceLibdir(facts)}/heartbeat`;
}

/**
 * The heartbeat generation: 2 (CentOS 5's package, or a source build of a 2.x version) or 3.
 * Heartbeat 3 dropped the legacy resource script LVSSyncDaemonSwap.
 */
export function heartbeatGeneration(facts: Facts, install: ComponentInstall): 2 | 3 {
  if (install.from === 'source') return sourceVersion(install)?.startsWith('2.') ? 2 : 3;
  return facts.os.family === 'el' && facts.os.major === 5 ? 2 : 3;
}

/** Stops a plan that puts LVSSyncDaemonSwap into haresources where heartbeat has no such script. */
export function requireLvsSyncDaemonSwap(facts: Facts, install: ComponentInstall): void {
  if (heartbeatGeneration(facts, install) === 2) return;
  const which =
    install.from === 'source'
      ? `the heartbeat ${sourceVersion(install) ?? '3.x'} built from source (set install.heartbeat.version if the archive is a 2.x)`
      : `heartbeat 3, as packaged for ${osName(facts)},`;
  throw new OperationError(
    `heartbeat.lvs_sync_daemon: LVSSyncDaemonSwap is a heartbeat 2 resource script and ${which} does not ship it, ` +
      `so the takeover would fail on it; set lvs_sync_daemon: false (connection synchronisation is optional)`,
  );
}
