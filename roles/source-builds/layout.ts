// Where a source build installs, shared by the source-builds role (the configure flags) and the roles
// that use what it installs (the heartbeat role's path to ipfail): one place decides both.
import type { Facts } from '../../src/index.ts';
import type { Cluster, ComponentInstall, SourceComponent } from '../../src/cluster/model.ts';

/** 64-bit architectures whose EL libraries live in /usr/lib64 (the EL packages put heartbeat's daemons there too). */
const lib64Architectures = new Set(['x86_64', 'aarch64', 'ppc64', 'ppc64le', 's390x']);

/**
 * The --libdir of a source build: EL keeps 64-bit libraries in /usr/lib64, where the dynamic linker
 * looks without an ld.so.conf entry; Debian and Ubuntu (multiarch) search /usr/lib as it is.
 */
export function sourceLibdir(facts: Facts): string {
  return facts.os.family === 'el' && lib64Architectures.has(facts.arch) ? '/usr/lib64' : '/usr/lib';
}

/** The install prefixes every build of the heartbeat stack uses, so its files are where the packages put them (/etc/ha.d, not /usr/etc/ha.d). */
export function autotoolsLayout(libdir: string): string[] {
  return ['--prefix=/usr', '--sysconfdir=/etc', '--localstatedir=/var', `--libdir=${libdir}`];
}

/** Every library directory sourceLibdir can choose. */
export const LIBDIRS = ['/usr/lib64', '/usr/lib'] as const;

/** The account heartbeat and cluster-glue run their unprivileged daemons as (their configure defaults). */
export const HA_USER = 'hacluster';
export const HA_GROUP = 'haclient';

/**
 * The version of a source build: the description's `version`, else the last dotted number of the
 * archive's name (glue-1.0.7.tar.bz2, Heartbeat-3-0-STABLE-3.0.4.tar.bz2), else undefined.
 */
export function sourceVersion(install: Extract<ComponentInstall, { from: 'source' }>): string | undefined {
  if (install.version !== undefined) return install.version;
  const archive = install.url.replace(/[?#].*$/, '').split('/').pop() ?? '';
  return archive.match(/\d+(?:\.\d+)+/g)?.pop();
}

export const fromSource = (cluster: Cluster, component: SourceComponent): boolean => cluster.install[component].from === 'source';

/** ldirectord is part of the resource-agents source tree: a source build of it installs /usr/sbin/ldirectord. */
export const ldirectordFromSource = (cluster: Cluster): boolean => fromSource(cluster, 'resource_agents');
