// The pure parts of the VM builder: which modules the initramfs loads in which order, which
// packages the image needs, which kernel apt names, and what a guest (VM or container) is told
// about itself.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { UserError } from '../../../src/core/errors.ts';
import { dependencyClosure } from '../../../src/lab/apt.ts';
import { validateGuestConfig, writeGuestConfig, type GuestConfig } from '../../../src/lab/guest-config.ts';
import { installedPackages } from '../../../src/lab/vm/debs.ts';
import { isStaticElf } from '../../../src/lab/vm/initramfs.ts';
import { kernelPackageFrom } from '../../../src/lab/vm/kernel.ts';
import { moduleLoadOrder, moduleName } from '../../../src/lab/vm/modules.ts';
import { buildCacheEntry, removeSuperseded } from '../../../src/lab/vm/superseded.ts';

// Lines of Debian 12's modules.dep for linux-image-6.1.0-56-amd64 (depmod lists dependencies
// transitively, the deepest last).
const MODULES_DEP = `kernel/drivers/virtio/virtio.ko:
kernel/drivers/virtio/virtio_ring.ko:
kernel/drivers/virtio/virtio_pci_legacy_dev.ko:
kernel/drivers/virtio/virtio_pci_modern_dev.ko:
kernel/drivers/virtio/virtio_pci.ko: kernel/drivers/virtio/virtio_pci_legacy_dev.ko kernel/drivers/virtio/virtio_pci_modern_dev.ko kernel/drivers/virtio/virtio.ko kernel/drivers/virtio/virtio_ring.ko
kernel/drivers/block/virtio_blk.ko: kernel/drivers/virtio/virtio.ko kernel/drivers/virtio/virtio_ring.ko
kernel/net/core/failover.ko:
kernel/drivers/net/net_failover.ko: kernel/net/core/failover.ko
kernel/drivers/net/virtio_net.ko: kernel/drivers/net/net_failover.ko kernel/net/core/failover.ko kernel/drivers/virtio/virtio.ko kernel/drivers/virtio/virtio_ring.ko
kernel/lib/crc16.ko:
kernel/fs/mbcache.ko:
kernel/fs/jbd2/jbd2.ko:
kernel/fs/ext4/ext4.ko: kernel/lib/crc16.ko kernel/fs/mbcache.ko kernel/fs/jbd2/jbd2.ko
kernel/crypto/crc32c_generic.ko:
`;
const MODULES_BUILTIN = 'kernel/lib/crc32.ko\nkernel/drivers/tty/serial/8250/8250.ko\n';

describe('moduleLoadOrder', () => {
  it('loads every dependency before the module that needs it, each once', () => {
    const order = moduleLoadOrder(['virtio_pci', 'virtio_blk', 'virtio_net', 'ext4'], MODULES_DEP, MODULES_BUILTIN);
    expect(new Set(order).size).toBe(order.length);
    const position = (name: string): number => order.findIndex((path) => moduleName(path) === name);
    for (const [module, dependency] of [
      ['virtio_pci', 'virtio'], ['virtio_pci', 'virtio_ring'], ['virtio_pci', 'virtio_pci_modern_dev'],
      ['virtio_blk', 'virtio'], ['virtio_net', 'net_failover'], ['net_failover', 'failover'],
      ['ext4', 'jbd2'], ['ext4', 'mbcache'], ['ext4', 'crc16'],
    ] as const) {
      expect(position(dependency), `${dependency} before ${module}`).toBeGreaterThanOrEqual(0);
      expect(position(dependency), `${dependency} before ${module}`).toBeLessThan(position(module));
    }
    expect(order).toHaveLength(13);
    expect(order).not.toContain('kernel/crypto/crc32c_generic.ko');
  });

  it('treats "-" and "_" alike and leaves built-in modules out', () => {
    expect(moduleLoadOrder(['crc32c-generic', 'crc32', '8250'], MODULES_DEP, MODULES_BUILTIN)).toEqual(['kernel/crypto/crc32c_generic.ko']);
  });

  it('fails on a module the kernel does not have, or a dependency without a line', () => {
    expect(() => moduleLoadOrder(['virtio_scsi'], MODULES_DEP, MODULES_BUILTIN)).toThrow(/no module "virtio_scsi"/);
    expect(() => moduleLoadOrder(['a'], 'kernel/a.ko: kernel/b.ko\n', '')).toThrow(/kernel\/b.ko/);
    expect(() => moduleLoadOrder(['a'], 'kernel/a.ko: kernel/b.ko\nkernel/b.ko: kernel/a.ko\n', '')).toThrow(/cycle/);
  });
});

describe('packages for the image', () => {
  it('reads installed packages from dpkg status, skipping removed ones', () => {
    const status = [
      'Package: kmod\nStatus: install ok installed\nVersion: 30',
      'Package: ipvsadm\nStatus: deinstall ok config-files\nVersion: 1.31',
      'Package: libc6\nArchitecture: amd64\nStatus: install ok installed',
    ].join('\n\n');
    expect([...installedPackages(status)].sort()).toEqual(['kmod', 'libc6']);
  });

  it('takes the real package names from apt-cache depends --recurse output', () => {
    const output = ['ipvsadm', '  Depends: libc6', '  Depends: <libnl-3-200>', 'libc6', '  Depends: libgcc-s1', 'libgcc-s1', 'libc6:i386', '<virtual-thing>'].join('\n');
    expect(dependencyClosure(output)).toEqual(['ipvsadm', 'libc6', 'libgcc-s1']);
  });

  it('finds the kernel package the meta package depends on', () => {
    expect(kernelPackageFrom('linux-image-amd64\n  Depends: linux-image-6.1.0-56-amd64\n')).toBe('linux-image-6.1.0-56-amd64');
    expect(kernelPackageFrom('linux-image-amd64\n  Depends: <linux-image-virtual>\n')).toBeUndefined();
  });
});

describe('isStaticElf', () => {
  it('tells a static executable from a dynamic one and from non-ELF data', () => {
    const elf = (programHeaderTypes: number[]): Buffer => {
      const buffer = Buffer.alloc(64 + programHeaderTypes.length * 56);
      buffer.writeUInt32BE(0x7f454c46, 0);
      buffer[4] = 2;
      buffer.writeBigUInt64LE(64n, 0x20);
      buffer.writeUInt16LE(56, 0x36);
      buffer.writeUInt16LE(programHeaderTypes.length, 0x38);
      programHeaderTypes.forEach((type, index) => buffer.writeUInt32LE(type, 64 + index * 56));
      return buffer;
    };
    expect(isStaticElf(elf([6, 1, 1]))).toBe(true);
    expect(isStaticElf(elf([6, 3, 1]))).toBe(false);
    expect(isStaticElf(Buffer.from('#!/bin/sh\necho hi\n'.padEnd(80)))).toBe(false);
    // This machine's own dynamic programs, when it has them.
    if (statSync('/bin/ls', { throwIfNoEntry: false })) expect(isStaticElf(readFileSync('/bin/ls'))).toBe(false);
  });
});

describe('guest configuration', () => {
  const work = mkdtempSync(join(tmpdir(), 'provision-guest-config-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));
  const hostKey = { path: '/etc/ssh/ssh_host_ed25519_key', content: '-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----\n', mode: 0o600 };
  const valid: GuestConfig = {
    hostname: 'dir1',
    interfaces: [
      { name: 'eth0', addresses: ['10.213.9.10/24', '10.213.9.100/32'] },
      { name: 'eth1', addresses: [] },
    ],
    files: [hostKey],
  };

  it('writes the files the guest setup script reads', async () => {
    const dir = join(work, 'dir1');
    await writeGuestConfig(dir, valid);
    expect(readFileSync(join(dir, 'hostname'), 'utf8')).toBe('dir1\n');
    expect(readFileSync(join(dir, 'interfaces'), 'utf8')).toBe('eth0 10.213.9.10/24\neth0 10.213.9.100/32\neth1\n');
    expect(readFileSync(join(dir, 'ssh_port'), 'utf8')).toBe('22\n');
    expect(readFileSync(join(dir, 'files.list'), 'utf8')).toBe('f 0600 /etc/ssh/ssh_host_ed25519_key\n');
    // Copies of secrets are readable by root only, whatever their mode in the guest.
    expect(statSync(join(dir, 'files/etc/ssh/ssh_host_ed25519_key')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(dir, 'files/etc/ssh/ssh_host_ed25519_key'), 'utf8')).toBe(hostKey.content);
  });

  it.each([
    ['a bad host name', { hostname: 'dir_1' }, /not a valid host name/],
    ['an address without a prefix', { interfaces: [{ name: 'eth0', addresses: ['10.213.9.10'] }] }, /ADDRESS\/PREFIX/],
    ['a prefix too long', { interfaces: [{ name: 'eth0', addresses: ['10.213.9.10/33'] }] }, /ADDRESS\/PREFIX/],
    ['an address that is a shell command', { interfaces: [{ name: 'eth0', addresses: ['$(reboot)/24'] }] }, /ADDRESS\/PREFIX/],
    ['an interface twice', { interfaces: [{ name: 'eth0', addresses: [] }, { name: 'eth0', addresses: [] }] }, /twice/],
    ['no host key', { files: [{ path: '/etc/motd', content: 'hi', mode: 0o644 }] }, /no ssh host key/],
    ['a host key directory instead of a file', { files: [{ path: '/etc/ssh/ssh_host_ed25519_key', mode: 0o700 }] }, /no ssh host key/],
    ['a port out of range', { sshPort: 70000 }, /not a TCP port/],
    ['a mode out of range', { files: [hostKey, { path: '/etc/motd', content: '', mode: 0o10000 }] }, /invalid mode/],
  ])('refuses %s', (_, change, message) => {
    const config = { ...valid, ...change } as GuestConfig;
    expect(() => validateGuestConfig(config)).toThrow(UserError);
    expect(() => validateGuestConfig(config)).toThrow(message);
  });

  it('lists the files in order with their modes, contents beside them', async () => {
    const dir = join(work, 'files');
    await writeGuestConfig(dir, {
      ...valid,
      sshPort: 2222,
      files: [
        hostKey,
        { path: '/etc/ssh/sshd_config.d', mode: 0o755 },
        { path: '/etc/ssh/sshd_config.d/lab conf', content: 'Port 2222\n', mode: 0o644 },
        { path: '/root/.ssh/authorized_keys', content: 'ssh-ed25519 AAAA\n', mode: 0o600 },
      ],
    });
    expect(readFileSync(join(dir, 'files.list'), 'utf8')).toBe(
      'f 0600 /etc/ssh/ssh_host_ed25519_key\nd 0755 /etc/ssh/sshd_config.d\nf 0644 /etc/ssh/sshd_config.d/lab conf\nf 0600 /root/.ssh/authorized_keys\n',
    );
    expect(readFileSync(join(dir, 'files/etc/ssh/sshd_config.d/lab conf'), 'utf8')).toBe('Port 2222\n');
    expect(readFileSync(join(dir, 'ssh_port'), 'utf8')).toBe('2222\n');
  });

  it.each([['relative', 'etc/motd'], ['escaping', '/etc/../../motd'], ['multi-line', '/etc/mo\ntd'], ['the root', '/'], ['padded', ' /etc/motd']])('refuses a %s file path', (_, path) => {
    expect(() => validateGuestConfig({ ...valid, files: [hostKey, { path, content: '', mode: 0o644 }] })).toThrow(/cannot write/);
  });

  it('accepts IPv6 addresses', () => {
    expect(() => validateGuestConfig({ ...valid, interfaces: [{ name: 'eth0', addresses: ['fd00:213::10/64'] }] })).not.toThrow();
  });
});

describe('removeSuperseded', () => {
  it('keeps the current build and builds of live processes, removes the rest', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'provision-superseded-'));
    try {
      // pid 2^22 + 1 is above Linux's pid_max limit, so no process has it
      for (const name of ['current', 'older', `next.partial-${process.pid}`, `crashed.partial-${2 ** 22 + 1}`]) mkdirSync(join(dir, name, 'inner'), { recursive: true });
      await removeSuperseded(dir, 'current');
      expect(readdirSync(dir).sort()).toEqual(['current', `next.partial-${process.pid}`]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('buildCacheEntry', () => {
  it('swaps a finished build in whole, replacing the old entry', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'provision-cache-entry-'));
    try {
      const entry = join(dir, 'key');
      mkdirSync(entry);
      writeFileSync(join(entry, 'old'), 'old');
      const result = await buildCacheEntry(entry, async (building) => {
        expect(building).toBe(`${entry}.partial-${process.pid}`);
        writeFileSync(join(building, 'new'), 'new');
        return 42;
      });
      expect(result).toBe(42);
      expect(readdirSync(dir)).toEqual(['key']);
      expect(readdirSync(entry)).toEqual(['new']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('leaves the old entry and no partial build when the build fails', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'provision-cache-entry-'));
    try {
      const entry = join(dir, 'key');
      mkdirSync(entry);
      writeFileSync(join(entry, 'old'), 'old');
      const failing = buildCacheEntry(entry, async (building) => {
        writeFileSync(join(building, 'half'), 'half');
        throw new Error('mke2fs failed');
      });
      await expect(failing).rejects.toThrow('mke2fs failed');
      expect(readdirSync(dir)).toEqual(['key']);
      expect(readdirSync(entry)).toEqual(['old']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
