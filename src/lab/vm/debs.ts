// Debian packages for the VM image, fetched with this machine's apt (the lab's machine runs Debian
// 12, the release of the rootfs): the packages asked for plus every dependency the rootfs lacks.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { UserError } from '../../core/errors.ts';

const APT_TIMEOUT_MS = 300_000;
const HINT = 'the lab needs this machine\'s apt to reach the Debian 12 archive: run "apt-get update" and check /etc/apt/sources.list';

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

/** The real package names in `apt-cache depends --recurse` output (virtual ones are in <...>). */
export function dependencyClosure(aptCacheDependsOutput: string): string[] {
  const names = aptCacheDependsOutput
    .split('\n')
    .filter((line) => /^[a-z0-9]/.test(line))
    .map((line) => line.trim().replace(/:[a-z0-9-]+$/, ''));
  return [...new Set(names)].sort();
}

/**
 * Downloads `packages` and those of their dependencies that `rootfs` does not have into `dir`;
 * returns the .deb paths (an empty list when the rootfs has everything).
 */
export async function downloadMissingDebs(options: { packages: readonly string[]; rootfs: string; dir: string }): Promise<string[]> {
  if (options.packages.length === 0) return [];
  const status = await readFile(join(options.rootfs, 'var/lib/dpkg/status'), 'utf8').catch(() => {
    throw new UserError(`${options.rootfs} is not a Debian root file system (it has no var/lib/dpkg/status)`, {}, 'pass the directory debootstrap made');
  });
  const installed = installedPackages(status);
  const depends = await execa(
    'apt-cache',
    ['depends', '--recurse', '--no-recommends', '--no-suggests', '--no-conflicts', '--no-breaks', '--no-replaces', '--no-enhances', ...options.packages],
    { timeout: APT_TIMEOUT_MS, reject: false },
  );
  if (depends.exitCode !== 0) throw new UserError(`apt-cache cannot resolve ${options.packages.join(' ')}: ${depends.stderr.trim()}`, {}, HINT);
  const missing = dependencyClosure(depends.stdout).filter((name) => !installed.has(name));
  if (missing.length === 0) return [];
  // The sandbox user _apt cannot write to a root-owned cache directory; downloading as root is fine
  // here (nothing is installed on this machine).
  const download = await execa('apt-get', ['download', '-q', '-o', 'APT::Sandbox::User=root', ...missing], { cwd: options.dir, timeout: APT_TIMEOUT_MS, reject: false });
  if (download.exitCode !== 0) throw new UserError(`apt-get download ${missing.join(' ')} failed: ${download.stderr.trim()}`, {}, HINT);
  const files = (await readdir(options.dir)).filter((name) => name.endsWith('.deb'));
  return files.sort().map((name) => join(options.dir, name));
}
