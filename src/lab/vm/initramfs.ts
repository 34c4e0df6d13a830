// The VM's initramfs: a static busybox, the kernel modules that reach the root disk (Debian builds
// virtio and ext4 as modules) and an /init that loads them and switches to the disk. Small and
// uncompressed, so the TCG guest spends no time unpacking it.
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { UserError } from '../../core/errors.ts';
import { findCommand } from '../command.ts';
import { cpioArchive, type CpioEntry } from './cpio.ts';
import { INITRAMFS_INIT } from './guest-scripts.ts';
import type { GuestKernel } from './kernel.ts';
import { moduleLoadOrder } from './modules.ts';

/** What the initramfs loads: the PCI transport, the disks, the NICs (eth0 is configured early), an
 * entropy source (sshd must not wait for the random pool), ext4 and the crc32c it checksums with. */
export const INITRAMFS_MODULES = ['virtio_pci', 'virtio_blk', 'virtio_net', 'virtio_rng', 'crc32c_generic', 'ext4'] as const;

const PT_INTERP = 3;

/** True when an ELF executable needs no dynamic loader (it can run alone in an initramfs). */
export function isStaticElf(binary: Buffer): boolean {
  if (binary.length < 64 || binary.readUInt32BE(0) !== 0x7f454c46 || binary[4] !== 2) return false;
  const programHeaders = Number(binary.readBigUInt64LE(0x20));
  const entrySize = binary.readUInt16LE(0x36);
  const count = binary.readUInt16LE(0x38);
  for (let index = 0; index < count; index++) {
    const offset = programHeaders + index * entrySize;
    if (offset + 4 > binary.length) return false;
    if (binary.readUInt32LE(offset) === PT_INTERP) return false;
  }
  return true;
}

export async function staticBusybox(): Promise<Buffer> {
  const path = await findCommand('busybox');
  const binary = path === undefined ? undefined : await readFile(path);
  if (binary === undefined || !isStaticElf(binary)) {
    throw new UserError('the lab VM\'s initramfs needs a statically linked busybox', {}, 'install it: apt-get install busybox-static');
  }
  return binary;
}

export async function buildInitramfs(kernel: GuestKernel): Promise<Buffer> {
  const modulesDir = join(kernel.root, 'lib/modules', kernel.version);
  const order = moduleLoadOrder(
    INITRAMFS_MODULES,
    await readFile(join(modulesDir, 'modules.dep'), 'utf8'),
    await readFile(join(modulesDir, 'modules.builtin'), 'utf8'),
  );
  const entries: CpioEntry[] = [
    { type: 'directory', path: 'bin' },
    { type: 'file', path: 'bin/busybox', data: await staticBusybox(), mode: 0o755 },
    { type: 'symlink', path: 'bin/sh', target: 'busybox' },
    { type: 'directory', path: 'dev' },
    // The kernel opens /dev/console for /init before anything can mount devtmpfs.
    { type: 'char-device', path: 'dev/console', major: 5, minor: 1, mode: 0o600 },
    { type: 'directory', path: 'proc' },
    { type: 'directory', path: 'sys' },
    { type: 'directory', path: 'newroot' },
    { type: 'file', path: 'init', data: INITRAMFS_INIT, mode: 0o755 },
    { type: 'directory', path: 'lib' },
    { type: 'directory', path: 'lib/modules' },
    { type: 'file', path: 'lib/modules/load-order', data: order.map((module) => `${module}\n`).join('') },
  ];
  const directories = new Set(['lib', 'lib/modules']);
  for (const module of order) {
    for (const directory of parentDirectories(`lib/modules/${module}`)) {
      if (!directories.has(directory)) {
        directories.add(directory);
        entries.push({ type: 'directory', path: directory });
      }
    }
    entries.push({ type: 'file', path: `lib/modules/${module}`, data: await readFile(join(modulesDir, module)) });
  }
  return cpioArchive(entries);
}

/** "a/b/c/file" -> ["a", "a/b", "a/b/c"] */
function parentDirectories(path: string): string[] {
  const parents: string[] = [];
  for (let dir = dirname(path); dir !== '.' && dir !== '/'; dir = dirname(dir)) parents.unshift(dir);
  return parents;
}
