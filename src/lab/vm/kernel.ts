// The guest kernel: Debian 12's own (the package linux-image-amd64 currently depends on), so the VM
// runs the kernel a real Debian director would, with IP_VS as a module. Cached per package name,
// which carries the kernel ABI version.
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { UserError } from '../../core/errors.ts';
import { AptError, machineApt } from '../apt.ts';
import { buildCacheEntry, removeSuperseded } from './superseded.ts';

const META_PACKAGE = 'linux-image-amd64';
const COMPLETE = 'kernel-version';
/** Where the kernels are, in the lab cache directory. */
export const GUEST_KERNEL_DIR = 'kernel';

export interface GuestKernel {
  /** the Debian package it came from, e.g. linux-image-6.1.0-56-amd64 */
  packageName: string;
  /** `uname -r` of the guest, e.g. 6.1.0-56-amd64 */
  version: string;
  /** the kernel image to boot */
  vmlinuz: string;
  /** a directory holding lib/modules/VERSION, with modules.dep made by depmod */
  root: string;
}

/** The kernel package a Debian meta package depends on, from `apt-cache depends` output. */
export function kernelPackageFrom(aptCacheDepends: string): string | undefined {
  return /^\s*Depends:\s*(linux-image-\d\S*)\s*$/m.exec(aptCacheDepends)?.[1];
}

/** Downloads and unpacks the current Debian kernel into cacheDir/kernel/PACKAGE once; reuses it after. */
export async function ensureGuestKernel(cacheDir: string): Promise<GuestKernel> {
  const depends = await machineApt.depends(META_PACKAGE).catch((error: unknown) => {
    if (error instanceof AptError) return '';
    throw error;
  });
  const packageName = kernelPackageFrom(depends);
  if (packageName === undefined) {
    throw new UserError(
      `cannot tell which Debian kernel to boot the lab VM with: "apt-cache depends ${META_PACKAGE}" names none`,
      {},
      'the VM needs this machine\'s apt to know the Debian 12 archive: run "apt-get update" (Debian 12 sources)',
    );
  }
  const dir = join(cacheDir, GUEST_KERNEL_DIR, packageName);
  const cached = await readFile(join(dir, COMPLETE), 'utf8').catch(() => undefined);
  if (cached !== undefined) return describeKernel(packageName, dir, cached.trim());

  const version = await buildCacheEntry(dir, async (building) => {
    await machineApt.download([packageName], building);
    const deb = (await readdir(building)).find((name) => name.endsWith('.deb'));
    if (deb === undefined) throw new Error(`apt-get download ${packageName} left no .deb in ${building}`);
    const root = join(building, 'root');
    await execa('dpkg-deb', ['-x', join(building, deb), root]);
    await rm(join(building, deb));
    // Only the kernel image and its modules are needed; the rest (docs) is dead weight.
    await rm(join(root, 'usr'), { recursive: true, force: true });
    const versions = await readdir(join(root, 'lib/modules'));
    const version = versions[0];
    if (version === undefined || versions.length !== 1) throw new Error(`${packageName} holds ${versions.length} module trees, expected one`);
    // The package ships no modules.dep (the postinst makes it); modprobe and this lab need it.
    await execa('depmod', ['-b', root, version]);
    await writeFile(join(building, COMPLETE), `${version}\n`);
    return version;
  });
  await removeSuperseded(join(cacheDir, GUEST_KERNEL_DIR), packageName);
  return describeKernel(packageName, dir, version);
}

function describeKernel(packageName: string, dir: string, version: string): GuestKernel {
  const root = join(dir, 'root');
  return { packageName, version, vmlinuz: join(root, 'boot', `vmlinuz-${version}`), root };
}

