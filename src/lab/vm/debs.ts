// Debian packages for the VM image, fetched with this machine's apt (the lab's machine runs Debian
// 12, the release of the rootfs): the packages asked for plus every dependency the rootfs lacks.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { UserError } from '../../core/errors.ts';
import { machineApt } from '../apt.ts';

/** Names of the packages dpkg lists as installed in a root directory's /var/lib/dpkg/status. */
export function installedPackages(dpkgStatus: string): Set<string> {
  const installed = new Set<string>();
  for (const stanza of dpkgStatus.split(/\n\s*\n/)) {
    const name = /^Package:\s*(\S+)/m.exec(stanza)?.[1];
    const status = /^Status:\s*(.+)$/m.exec(stanza)?.[1];
    if (name !== undefined && status?.trim().endsWith(' installed')) installed.add(name);
  }
  return installed;
}

/**
 * Downloads `packages` and those of their dependencies that `rootfs` does not have into `dir`;
 * returns the .deb paths (an empty list when the rootfs has everything).
 */
export async function downloadMissingDebs(options: { packages: readonly string[]; rootfs: string; dir: string }): Promise<string[]> {
  if (options.packages.length === 0) return [];
  const statusFile = join(options.rootfs, 'var/lib/dpkg/status');
  await readFile(statusFile, 'utf8').catch(() => {
    throw new UserError(`${options.rootfs} is not a Debian root file system (it has no var/lib/dpkg/status)`, {}, 'pass the directory debootstrap made');
  });
  // apt resolves against the rootfs's own dpkg status: a dependency an alternative already
  // satisfies there (sudo's init-system-helpers wants usrmerge | usr-is-merged) pulls nothing in.
  const missing = await machineApt.toInstallInto(options.packages, statusFile);
  if (missing.length === 0) return [];
  await machineApt.download(missing, options.dir);
  const files = (await readdir(options.dir)).filter((name) => name.endsWith('.deb'));
  return files.sort().map((name) => join(options.dir, name));
}
