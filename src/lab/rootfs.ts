// The Debian 12 root filesystem every lab host stacks its copy-on-write layer on. Built once with
// debootstrap from the machine's own Debian mirror, cached, rebuilt only when its recipe (package
// list, suite, normalisation) changes: its manifest records the recipe's hash.
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { UserError } from '../core/errors.ts';
import { findDebianMirror, readMachineSources } from './apt-sources.ts';
import { CommandError, ensureTools, run } from './command.ts';
import { DEBIAN_SUITE, ROOTFS_PACKAGES } from './packages.ts';
import type { LabPaths } from './paths.ts';
import { killProcessesUsing } from './processes.ts';

/** Bump when normalise() changes, so existing caches are rebuilt. */
const ROOTFS_RECIPE_VERSION = 1;
const VARIANT = 'minbase';
const DEBOOTSTRAP_TIMEOUT_MS = 15 * 60_000;

export interface BuildManifest {
  hash: string;
  builtAt: string;
  seconds: number;
}

export function rootfsHash(): string {
  return hashOf({ suite: DEBIAN_SUITE, variant: VARIANT, packages: [...ROOTFS_PACKAGES].sort(), recipe: ROOTFS_RECIPE_VERSION });
}

export function hashOf(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex');
}

export async function readManifest(file: string): Promise<BuildManifest | undefined> {
  try {
    const parsed = JSON.parse(await readFile(file, 'utf8')) as Partial<BuildManifest>;
    return typeof parsed.hash === 'string' ? (parsed as BuildManifest) : undefined;
  } catch {
    return undefined;
  }
}

export async function writeManifest(file: string, manifest: BuildManifest): Promise<void> {
  await writeFile(`${file}.tmp`, `${JSON.stringify(manifest, null, 2)}\n`);
  await rename(`${file}.tmp`, file);
}

/** True when the cached rootfs is the one the current recipe builds (ensureRootfs keeps it). */
export async function rootfsCurrent(paths: LabPaths): Promise<boolean> {
  return (await readManifest(paths.rootfsManifest))?.hash === rootfsHash() && (await nonEmptyDir(paths.rootfs));
}

/** Builds the rootfs unless the cached one matches the recipe; says whether it built. */
export async function ensureRootfs(paths: LabPaths, log: (line: string) => void): Promise<{ built: boolean; seconds: number }> {
  if (await rootfsCurrent(paths)) return { built: false, seconds: 0 };
  const hash = rootfsHash();

  const started = Date.now();
  await ensureTools(['debootstrap'], log);
  const mirror = findDebianMirror(await readMachineSources(), DEBIAN_SUITE);
  if (mirror === undefined) {
    throw new UserError(
      `this machine's apt sources have no Debian '${DEBIAN_SUITE}' entry with 'main', which the lab builds its hosts from`,
      {},
      'run the lab on Debian 12 (or add a bookworm source to /etc/apt/sources.list.d/), or use the Vagrantfile',
    );
  }
  log(`building the lab's Debian ${DEBIAN_SUITE} root filesystem with debootstrap (once; about a minute)`);
  const building = `${paths.rootfs}.building`;
  // A build that an earlier `lab up` started and was killed during may still be running.
  await killProcessesUsing(building);
  await rm(building, { recursive: true, force: true });
  await mkdir(path.dirname(building), { recursive: true });
  try {
    await run('debootstrap', [`--variant=${VARIANT}`, `--include=${ROOTFS_PACKAGES.join(',')}`, DEBIAN_SUITE, building, mirror], {
      timeoutMs: DEBOOTSTRAP_TIMEOUT_MS,
    });
  } catch (error) {
    if (error instanceof CommandError) {
      throw new UserError(`debootstrap could not build the lab's root filesystem: ${error.message}`, {}, `see ${path.join(building, 'debootstrap', 'debootstrap.log')}`);
    }
    throw error;
  }
  await normalise(building);
  await rm(paths.rootfs, { recursive: true, force: true });
  await rename(building, paths.rootfs);
  const seconds = (Date.now() - started) / 1000;
  await writeManifest(paths.rootfsManifest, { hash, builtAt: new Date().toISOString(), seconds });
  return { built: true, seconds };
}

/**
 * What debootstrap leaves that must not be shared by every host: the machine's hostname and DNS
 * resolver, host keys generated once (every host would have the same), the network mirror as apt
 * source and its downloaded lists and packages (hosts use the offline mirror; 95 MB saved).
 */
async function normalise(root: string): Promise<void> {
  const inRoot = (relative: string) => path.join(root, relative);
  for (const name of await readdir(inRoot('etc/ssh'))) {
    if (name.startsWith('ssh_host_')) await rm(inRoot(`etc/ssh/${name}`));
  }
  await emptyDir(inRoot('var/cache/apt/archives'), (name) => name.endsWith('.deb'));
  await emptyDir(inRoot('var/cache/apt'), (name) => name.endsWith('.bin'));
  await emptyDir(inRoot('var/lib/apt/lists'), (name) => name !== 'partial' && name !== 'lock');
  await replaceFile(inRoot('etc/resolv.conf'), '# lab hosts have no DNS: they reach each other by address (see /etc/hosts)\n');
  await replaceFile(inRoot('etc/apt/sources.list'), "# lab hosts install packages from the lab's offline mirror: see sources.list.d/\n");
  await replaceFile(inRoot('etc/hostname'), 'localhost\n');
}

async function emptyDir(dir: string, select: (name: string) => boolean): Promise<void> {
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    if (select(name)) await rm(path.join(dir, name), { recursive: true, force: true });
  }
}

/** Replaces a file or symlink (never writing through a symlink into the machine). */
async function replaceFile(file: string, content: string): Promise<void> {
  await rm(file, { force: true });
  await writeFile(file, content);
}

async function nonEmptyDir(dir: string): Promise<boolean> {
  return (await readdir(dir).catch(() => [] as string[])).length > 0;
}
