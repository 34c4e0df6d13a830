// The Vagrant box, built here from the lab's VM image (no box can be downloaded on the lab's
// machine kind): the lab's Debian 12 rootfs and kernel, made a Vagrant guest by box-guest.ts,
// as a qcow2 disk with the kernel and initrd beside it (the image has no boot loader: libvirt
// boots the kernel directly, as the lab's qemu does). Cached by content like the lab image: a
// build is keyed by the image it comes from and this recipe, so CI builds it once.
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { UserError } from '../core/errors.ts';
import { ensureTools, run, tryRun } from '../lab/command.ts';
import { acquireLabLock } from '../lab/lock.ts';
import { labPaths, type LabPaths } from '../lab/paths.ts';
import { ensureRootfs } from '../lab/rootfs.ts';
import { ensureVmImage, VM_IMAGE_PACKAGES, VM_IMAGE_TOOLS } from '../lab/vm/image.ts';
import { buildCacheEntry, removeSuperseded } from '../lab/vm/superseded.ts';
import { BOX_INIT, BOX_PACKAGES, BOX_SETUP, boxMetadata, boxVagrantfile } from './box-guest.ts';

/** The name the Vagrantfile uses for this box (PROVISION_BOX=lab). */
export const LAB_BOX_NAME = 'provision/debian12-lab';
// Part of the cache key: bump it when the box's layout changes in a way the inputs miss.
const BOX_RECIPE_VERSION = 2;
const BOX_DIR = 'vagrant-box';
const BOX_IMAGE_DIR = 'vagrant-box-image';
const BOX_FILE = 'provision-lab.box';
/** The disk Vagrant's machines get: the image's 2 GB, which holds what the roles install. */
const DISK_SIZE_MB = 2048;
const TOOL_TIMEOUT_MS = 10 * 60_000;

export interface LabBox {
  key: string;
  /** the .box file (a tar of box.img, metadata.json, Vagrantfile, vmlinuz, initrd.img) */
  file: string;
  built: boolean;
  seconds: number;
}

/** Builds the box unless the cache holds the one of the current image and recipe. */
export async function ensureLabBox(log: (line: string) => void, paths: LabPaths = labPaths()): Promise<LabBox> {
  const started = Date.now();
  await ensureTools([...VM_IMAGE_TOOLS, 'qemu-img', 'tar'], log);
  // The lab's cache is shared with `lab up`: one command at a time builds in it.
  const release = await acquireLabLock(paths.lock);
  try {
    await ensureRootfs(paths, log);
    const { image, built } = await ensureVmImage({
      rootfs: paths.rootfs,
      cacheDir: paths.cache,
      packages: [...VM_IMAGE_PACKAGES, ...BOX_PACKAGES],
      diskSizeMb: DISK_SIZE_MB,
      guest: { init: BOX_INIT, setup: BOX_SETUP, dir: BOX_IMAGE_DIR },
      log,
    });
    if (built) log(`built the box's disk image (${image.kernelPackage})`);
    const key = createHash('sha256').update(JSON.stringify({ recipe: BOX_RECIPE_VERSION, image: image.key, vagrantfile: boxVagrantfile() })).digest('hex').slice(0, 16);
    const boxesDir = path.join(paths.cache, BOX_DIR);
    const dir = path.join(boxesDir, key);
    const file = path.join(dir, BOX_FILE);
    if (await stat(file).then(() => true, () => false)) return { key, file, built: false, seconds: (Date.now() - started) / 1000 };

    log('packing the Vagrant box (qcow2 disk, kernel, initrd)');
    await buildCacheEntry(dir, async (building) => {
      const content = path.join(building, 'content');
      await mkdir(content);
      // Compressed: vagrant-libvirt uploads the disk into libvirt's storage pool through a libvirt
      // stream, at a few MB/s here; the guest reads it through a copy-on-write overlay.
      await run('qemu-img', ['convert', '-c', '-f', 'raw', '-O', 'qcow2', image.disk, path.join(content, 'box.img')], { timeoutMs: TOOL_TIMEOUT_MS });
      await run('cp', [image.vmlinuz, path.join(content, 'vmlinuz')]);
      await run('cp', [image.initrd, path.join(content, 'initrd.img')]);
      await writeFile(path.join(content, 'metadata.json'), boxMetadata(Math.ceil(DISK_SIZE_MB / 1024), key));
      await writeFile(path.join(content, 'Vagrantfile'), boxVagrantfile());
      await run('tar', ['-c', '-f', path.join(building, BOX_FILE), '-C', content, 'metadata.json', 'Vagrantfile', 'vmlinuz', 'initrd.img', 'box.img'], { timeoutMs: TOOL_TIMEOUT_MS });
      await rm(content, { recursive: true, force: true });
    });
    await removeSuperseded(boxesDir, key);
    return { key, file, built: true, seconds: (Date.now() - started) / 1000 };
  } finally {
    await release();
  }
}

type Env = Readonly<Record<string, string | undefined>>;

/** Where Vagrant keeps the box once added: VAGRANT_HOME (default ~/.vagrant.d), boxes/NAME with / as -VAGRANTSLASH-. */
export function addedBoxMetadataPath(env: Env, name = LAB_BOX_NAME): string {
  const home = env.VAGRANT_HOME !== undefined && env.VAGRANT_HOME !== '' ? env.VAGRANT_HOME : path.join(env.HOME ?? os.homedir(), '.vagrant.d');
  return path.join(home, 'boxes', name.replaceAll('/', '-VAGRANTSLASH-'), '0', 'libvirt', 'metadata.json');
}

/** Adds the box to Vagrant (VAGRANT_HOME of `env`) unless Vagrant has this very build already. */
export async function addLabBox(box: LabBox, env: Env, log: (line: string) => void): Promise<{ added: boolean }> {
  const current = await readFile(addedBoxMetadataPath(env), 'utf8').then(
    (text) => (JSON.parse(text) as { provision_box_key?: string }).provision_box_key,
    () => undefined,
  );
  if (current === box.key) return { added: false };
  await ensureTools(['vagrant'], log);
  log(`adding the box to Vagrant as ${LAB_BOX_NAME}`);
  const result = await tryRun('vagrant', ['box', 'add', '--force', '--name', LAB_BOX_NAME, '--provider', 'libvirt', box.file], {
    // Not the caller's directory: Vagrant would make a .vagrant there when it holds a Vagrantfile.
    cwd: path.dirname(box.file),
    env: Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined)),
    timeoutMs: TOOL_TIMEOUT_MS,
  });
  if (result.exitCode !== 0) {
    throw new UserError(`vagrant box add ${box.file} failed: ${(result.stderr || result.stdout).trim()}`, {}, 'check that Vagrant and vagrant-libvirt are installed (apt-get install vagrant vagrant-libvirt)');
  }
  return { added: true };
}
