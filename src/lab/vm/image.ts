// The VM's base disk: an ext4 image of the lab's Debian 12 rootfs plus the guest kernel's modules,
// the packages a director needs that the rootfs lacks (kmod for modprobe, ipvsadm) and the guest
// scripts. Built once per set of inputs into cacheDir/vm-image/KEY; VMs run on copy-on-write
// overlays of it (qemu.ts), so it is never written after it is built.
import { createHash } from 'node:crypto';
import { cp, lstat, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { execa } from 'execa';
import { UserError } from '../../core/errors.ts';
import { ensureTools } from '../command.ts';
import { GUEST_SETUP } from '../guest-config.ts';
import type { MachineTool } from '../packages.ts';
import { treeFingerprint } from '../tree-fingerprint.ts';
import { downloadMissingDebs } from './debs.ts';
import { GUEST_DIR, INITRAMFS_INIT, VM_INIT } from './guest-scripts.ts';
import { buildInitramfs, INITRAMFS_MODULES, staticBusybox } from './initramfs.ts';
import { ensureGuestKernel } from './kernel.ts';
import { buildCacheEntry, removeSuperseded } from './superseded.ts';

/** What a director needs beyond the namespace hosts' rootfs: modprobe (for ip_vs) and ipvsadm. */
export const VM_IMAGE_PACKAGES: readonly string[] = ['kmod', 'ipvsadm'];
/** Room for the rootfs (~300 MB), the kernel modules (~400 MB) and what roles install later. */
export const DEFAULT_DISK_SIZE_MB = 2048;
// Part of the cache key: bump it when the build steps below change in a way the other inputs miss.
const RECIPE_VERSION = 1;
const COMPLETE = 'complete.json';
/** Where the images are, in the lab cache directory. */
export const VM_IMAGE_DIR = 'vm-image';

export interface VmImage {
  /** identifies the inputs; part of `dir` */
  key: string;
  dir: string;
  /** raw ext4 image, never written once built: VMs run on overlays of it */
  disk: string;
  vmlinuz: string;
  initrd: string;
  /** `uname -r` in the guest */
  kernelVersion: string;
  /** the Debian kernel package it boots */
  kernelPackage: string;
}

export interface VmImageOptions {
  /** the lab's cached Debian 12 rootfs (left untouched) */
  rootfs: string;
  /** the lab cache directory; the image goes to cacheDir/vm-image/KEY, the kernel to cacheDir/kernel */
  cacheDir: string;
  /** Debian packages to install into the image (with their missing dependencies); default VM_IMAGE_PACKAGES */
  packages?: readonly string[];
  diskSizeMb?: number;
  /** progress lines ("downloading the kernel", ...) for a slow first build */
  log?: (line: string) => void;
  /**
   * Another kind of guest on the same kernel and rootfs (the Vagrant box, src/vagrant/box.ts): its
   * PID 1 instead of VM_INIT, and a script run with sh in the image's root once the packages are in
   * (users, settings). Part of the cache key; the image goes to cacheDir/DIR instead of vm-image,
   * so neither kind's build removes the other's as superseded.
   */
  guest?: { init: string; setup: string; dir: string };
}

export interface EnsuredVmImage {
  image: VmImage;
  /** false when the cached image matched the inputs */
  built: boolean;
  /** how long the build took: now, or when the cached image was built (undefined if unknown) */
  buildSeconds?: number;
}

/** What building the VM image runs on this machine. */
export const VM_IMAGE_TOOLS: readonly MachineTool[] = ['mke2fs', 'depmod', 'dpkg-deb', 'apt-get', 'apt-cache', 'chroot', 'busybox'];

/** Returns the cached image for these inputs, building it first when there is none. */
export async function ensureVmImage(options: VmImageOptions): Promise<EnsuredVmImage> {
  const started = Date.now();
  const log = options.log ?? (() => {});
  const packages = [...(options.packages ?? VM_IMAGE_PACKAGES)].sort();
  const diskSizeMb = options.diskSizeMb ?? DEFAULT_DISK_SIZE_MB;
  await ensureTools(VM_IMAGE_TOOLS, log);
  await assertDebianRootfs(options.rootfs);

  const kernel = await ensureGuestKernel(options.cacheDir);
  const key = createHash('sha256')
    .update(
      JSON.stringify({
        recipe: RECIPE_VERSION,
        rootfs: await treeFingerprint(options.rootfs),
        kernel: [kernel.packageName, kernel.version],
        packages,
        diskSizeMb,
        scripts: [INITRAMFS_INIT, VM_INIT, GUEST_SETUP],
        modules: INITRAMFS_MODULES,
        busybox: createHash('sha256').update(await staticBusybox()).digest('hex'),
        // Only when given, so the lab's image keeps its key.
        ...(options.guest === undefined ? {} : { guest: [options.guest.init, options.guest.setup] }),
      }),
    )
    .digest('hex')
    .slice(0, 16);
  const imagesDir = join(options.cacheDir, options.guest?.dir ?? VM_IMAGE_DIR);
  const dir = join(imagesDir, key);
  const image: VmImage = {
    key,
    dir,
    disk: join(dir, 'disk.img'),
    vmlinuz: join(dir, 'vmlinuz'),
    initrd: join(dir, 'initrd.img'),
    kernelVersion: kernel.version,
    kernelPackage: kernel.packageName,
  };
  const complete = await readFile(join(dir, COMPLETE), 'utf8').then((text) => JSON.parse(text) as { seconds?: number }, () => undefined);
  if (complete !== undefined) return { image, built: false, ...(complete.seconds === undefined ? {} : { buildSeconds: complete.seconds }) };

  await buildCacheEntry(dir, async (building) => {
    await mkdir(join(building, 'debs'));
    const staging = join(building, 'root');
    // First, as it is quick and fails on a kernel that lacks a module the guest needs.
    await writeFile(join(building, 'initrd.img'), await buildInitramfs(kernel));
    log(`copying the rootfs ${options.rootfs}`);
    await copyTree(options.rootfs, staging);

    log(`adding the modules of kernel ${kernel.version}`);
    const modulesDir = join(await libDirectory(staging), 'modules');
    await mkdir(modulesDir, { recursive: true });
    await copyTree(join(kernel.root, 'lib/modules', kernel.version), join(modulesDir, kernel.version));
    await execa('depmod', ['-b', staging, kernel.version]);

    log(`installing ${packages.join(' ')} and missing dependencies`);
    const debs = await downloadMissingDebs({ packages, rootfs: options.rootfs, dir: join(building, 'debs') });
    if (debs.length > 0) await installDebs(staging, debs);

    const guestDir = join(staging, GUEST_DIR);
    await mkdir(guestDir, { recursive: true });
    await writeFile(join(guestDir, 'init'), options.guest?.init ?? VM_INIT, { mode: 0o755 });
    if (options.guest === undefined) await writeFile(join(guestDir, 'setup'), GUEST_SETUP, { mode: 0o755 });
    else await runInRoot(staging, options.guest.setup);

    log(`making the ${diskSizeMb} MB ext4 disk image`);
    await execa('mke2fs', ['-q', '-F', '-t', 'ext4', '-L', 'provision-lab', '-d', staging, join(building, 'disk.img'), `${diskSizeMb}M`]);
    await rm(staging, { recursive: true, force: true });
    await rm(join(building, 'debs'), { recursive: true, force: true });

    await cp(kernel.vmlinuz, join(building, 'vmlinuz'));
    const seconds = (Date.now() - started) / 1000;
    await writeFile(join(building, COMPLETE), JSON.stringify({ kernel: kernel.packageName, packages, debs: debs.map((deb) => basename(deb)), seconds }, null, 2) + '\n');
  });
  await removeSuperseded(imagesDir, key);
  return { image, built: true, buildSeconds: (Date.now() - started) / 1000 };
}

async function assertDebianRootfs(rootfs: string): Promise<void> {
  if (!(await exists(join(rootfs, 'var/lib/dpkg/status'))) || !(await exists(join(rootfs, 'usr/sbin/sshd')))) {
    throw new UserError(`${rootfs} is not a Debian rootfs with openssh-server`, {}, 'pass the rootfs the lab built with debootstrap');
  }
}

/** cp -a: unlike fs.cp it keeps owners and groups (shadow, mail, ...), device nodes and xattrs. */
async function copyTree(from: string, to: string): Promise<void> {
  await mkdir(to, { recursive: true });
  await execa('cp', ['-a', '--reflink=auto', `${from}/.`, to]);
}

/** The directory /lib resolves to inside a root: usr/lib on a merged-/usr system (Debian 12). */
async function libDirectory(root: string): Promise<string> {
  const lib = join(root, 'lib');
  return (await lstat(lib)).isSymbolicLink() ? join(root, 'usr/lib') : lib;
}

/** dpkg -i inside the image's root, with its own dpkg, so its database records the packages. */
async function installDebs(root: string, debs: readonly string[]): Promise<void> {
  const inside = '/tmp/provision-lab-debs';
  await mkdir(join(root, inside), { recursive: true });
  try {
    for (const deb of debs) await cp(deb, join(root, inside, basename(deb)));
    const result = await execa('chroot', [root, 'dpkg', '-i', ...debs.map((deb) => `${inside}/${basename(deb)}`)], {
      reject: false,
      env: { LC_ALL: 'C', DEBIAN_FRONTEND: 'noninteractive', PATH: '/usr/sbin:/usr/bin:/sbin:/bin' },
      extendEnv: false,
    });
    if (result.exitCode !== 0) throw new Error(`dpkg -i in the VM image failed:\n${result.stdout}\n${result.stderr}`);
  } finally {
    await rm(join(root, inside), { recursive: true, force: true });
  }
}

/** A setup script, run with sh in the image's root (chroot), its output in the error when it fails. */
async function runInRoot(root: string, script: string): Promise<void> {
  const result = await execa('chroot', [root, 'sh', '-eu'], {
    input: script,
    reject: false,
    env: { LC_ALL: 'C', PATH: '/usr/sbin:/usr/bin:/sbin:/bin', HOME: '/root' },
    extendEnv: false,
  });
  if (result.exitCode !== 0) throw new Error(`the image's setup script failed (exit ${result.exitCode}):\n${result.stdout}\n${result.stderr}`);
}

async function exists(path: string): Promise<boolean> {
  return lstat(path).then(
    () => true,
    () => false,
  );
}
