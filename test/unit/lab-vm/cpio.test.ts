// The initramfs is only as good as its archive: busybox's cpio (the same newc reader logic the
// kernel implements) must list and unpack what cpioArchive writes, byte for byte.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cpioArchive, type CpioEntry } from '../../../src/lab/vm/cpio.ts';

const busybox = ['/bin/busybox', '/usr/bin/busybox'].find((path) => spawnSync(path, ['cpio', '--help']).status !== null);
const work = mkdtempSync(join(tmpdir(), 'provision-cpio-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const entries: CpioEntry[] = [
  { type: 'directory', path: 'bin' },
  { type: 'file', path: 'bin/tool', data: Buffer.from([0, 1, 2, 255]), mode: 0o755 },
  // names and sizes of every length modulo 4 exercise the padding rules
  { type: 'file', path: 'a', data: 'x' },
  { type: 'file', path: 'ab', data: 'xy' },
  { type: 'file', path: 'abc', data: 'xyz' },
  { type: 'file', path: 'abcd', data: '' },
  { type: 'symlink', path: 'bin/sh', target: 'tool' },
  { type: 'directory', path: 'lib/', mode: 0o700 },
  { type: 'file', path: '/lib/data.txt', data: 'héllo\n'.repeat(1000) },
];

describe('cpioArchive', () => {
  it('gives the same bytes for the same entries and ends with the trailer', () => {
    const archive = cpioArchive(entries);
    expect(cpioArchive(entries).equals(archive)).toBe(true);
    expect(archive.length % 4).toBe(0);
    expect(archive.subarray(0, 6).toString()).toBe('070701');
    expect(archive.includes(Buffer.from('TRAILER!!!\0'))).toBe(true);
  });

  it('refuses paths that are not plain relative paths, and duplicates', () => {
    expect(() => cpioArchive([{ type: 'file', path: 'a/../b', data: '' }])).toThrow(/plain relative path/);
    expect(() => cpioArchive([{ type: 'directory', path: '/' }])).toThrow(/plain relative path/);
    expect(() => cpioArchive([{ type: 'file', path: 'x', data: '' }, { type: 'file', path: '/x', data: '' }])).toThrow(/twice/);
  });

  it.skipIf(busybox === undefined)('is read back by busybox cpio: names, types, modes, contents, device numbers', () => {
    const archive = cpioArchive([...entries, { type: 'char-device', path: 'console', major: 5, minor: 1, mode: 0o600 }]);
    const file = join(work, 'archive.cpio');
    writeFileSync(file, archive);
    const listing = spawnSync(busybox!, ['cpio', '-t', '-v', '-F', file], { encoding: 'utf8' });
    expect(listing.status).toBe(0);
    const lines = listing.stdout.trim().split('\n');
    // "MODE UID/GID SIZE DATE TIME NAME [-> TARGET]"
    const names = lines.map((line) => line.replace(/ -> .*$/, '').split(/\s+/).slice(5).join(' '));
    expect(names).toEqual(['bin', 'bin/tool', 'a', 'ab', 'abc', 'abcd', 'bin/sh', 'lib', 'lib/data.txt', 'console']);
    expect(lines.find((line) => line.endsWith(' console'))).toMatch(/^crw------- /);
    expect(lines.find((line) => line.endsWith('bin/tool'))).toMatch(/^-rwxr-xr-x /);
    expect(lines.find((line) => line.endsWith(' lib'))).toMatch(/^drwx------ /);
    expect(lines.find((line) => line.includes(' bin/sh'))).toMatch(/^lrwxrwxrwx .* bin\/sh -> tool$/);

    const out = join(work, 'out');
    const unpacked = spawnSync(busybox!, ['sh', '-c', `mkdir -p '${out}' && cd '${out}' && ${busybox} cpio -i -d -F '${file}' bin bin/tool a ab abc abcd bin/sh lib lib/data.txt`], { encoding: 'utf8' });
    expect(unpacked.status, unpacked.stderr).toBe(0);
    expect(readFileSync(join(out, 'bin/tool'))).toEqual(Buffer.from([0, 1, 2, 255]));
    expect(statSync(join(out, 'bin/tool')).mode & 0o777).toBe(0o755);
    expect(readFileSync(join(out, 'abc'), 'utf8')).toBe('xyz');
    expect(readFileSync(join(out, 'abcd'), 'utf8')).toBe('');
    expect(readlinkSync(join(out, 'bin/sh'))).toBe('tool');
    expect(readFileSync(join(out, 'lib/data.txt'), 'utf8')).toBe('héllo\n'.repeat(1000));
  });

  it.skipIf(busybox === undefined || process.getuid?.() !== 0)('writes device numbers that unpack to the same device (needs root for mknod)', () => {
    const file = join(work, 'device.cpio');
    writeFileSync(file, cpioArchive([{ type: 'char-device', path: 'console', major: 5, minor: 1 }]));
    const out = join(work, 'device');
    const unpacked = spawnSync(busybox!, ['sh', '-c', `mkdir -p '${out}' && cd '${out}' && ${busybox} cpio -i -F '${file}'`], { encoding: 'utf8' });
    expect(unpacked.status, unpacked.stderr).toBe(0);
    const stats = statSync(join(out, 'console'));
    expect(stats.isCharacterDevice()).toBe(true);
    // Linux's encoding of dev_t: minor in the low 8 bits, major in bits 8-19.
    expect([(stats.rdev >> 8) & 0xfff, stats.rdev & 0xff]).toEqual([5, 1]);
  });
});
