// The in-memory tar of the docker connector, checked against GNU tar in both directions: what
// tarFile writes, tar extracts exactly; what tar writes (ustar, pax, GNU), readTar reads exactly.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readTar, tarFile } from '../../../src/connectors/tar.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'provision-tar-test-'));
  dirs.push(dir);
  return dir;
}

const LONG_NAME = `.${'a-rather-long-file-name-'.repeat(6)}ü.conf.provision-0123456789abcdef`;

describe('tarFile', () => {
  it.each([
    ['a short name', 'authkeys', randomBytes(1000)],
    ['an empty file', 'empty', Buffer.alloc(0)],
    ['exactly one block', 'block', randomBytes(512)],
    ['a name over 100 bytes, not ASCII (pax path)', LONG_NAME, Buffer.from('x\n')],
  ])('writes %s that GNU tar extracts with its content, mode and owner', (_what, name, data) => {
    const dir = tempDir();
    const archive = join(dir, 'a.tar');
    writeFileSync(archive, tarFile({ name, data, mode: 0o640, uid: 1234, gid: 567, mtime: 1_700_000_000 }));
    // GNU tar lists a name's non-ASCII bytes escaped (\303\274) unless the locale is UTF-8; a fresh
    // machine's may be C, so the listing asks for UTF-8 (C.UTF-8 is glibc's own, always present).
    expect(execFileSync('tar', ['-tvf', archive, '--numeric-owner'], { encoding: 'utf8', env: { ...process.env, LC_ALL: 'C.UTF-8' } })).toMatch(new RegExp(`^-rw-r----- 1234/567 +${data.length} 2023-11-\\d\\d \\d\\d:\\d\\d ${escape(name)}\\n$`));
    const out = join(dir, 'out');
    mkdirSync(out);
    execFileSync('tar', ['-xpf', archive, '-C', out, '--numeric-owner', '--same-owner']);
    const extracted = join(out, name);
    expect(readFileSync(extracted).equals(data)).toBe(true);
    const info = statSync(extracted);
    expect(info.mode & 0o7777).toBe(0o640);
    if (process.getuid?.() === 0) expect([info.uid, info.gid]).toEqual([1234, 567]);
    expect(info.mtimeMs).toBe(1_700_000_000_000);
  });

  it('keeps setuid, setgid and sticky bits', () => {
    const [entry] = readTar(tarFile({ name: 'x', data: Buffer.from('#!/bin/sh\n'), mode: 0o7755, uid: 0, gid: 0, mtime: 0 }));
    expect(entry?.mode).toBe(0o7755);
  });
});

describe('readTar', () => {
  /** A tree with a file, a directory, a symlink, a long and a non-ASCII name, archived by GNU tar. */
  function archiveOf(format: 'gnu' | 'posix' | 'ustar', extra: string[] = []): { archive: Buffer; data: Buffer } {
    const dir = tempDir();
    const src = join(dir, 'src');
    mkdirSync(join(src, 'etc'), { recursive: true });
    const data = randomBytes(70_000);
    writeFileSync(join(src, 'etc', 'blob.bin'), data, { mode: 0o600 });
    symlinkSync('blob.bin', join(src, 'etc', 'link'));
    writeFileSync(join(src, 'etc', 'grüße.txt'), 'hallo\n');
    const deep = join(src, 'etc', 'd'.repeat(60), 'e'.repeat(60));
    mkdirSync(deep, { recursive: true });
    writeFileSync(join(deep, 'f'.repeat(90)), 'deep\n');
    execFileSync('tar', ['-c', `--format=${format}`, '--sort=name', '--owner=0', '--group=0', '--numeric-owner', '-f', join(dir, 'a.tar'), ...extra, '-C', src, 'etc']);
    return { archive: readFileSync(join(dir, 'a.tar')), data };
  }

  it.each(['gnu', 'posix'] as const)('reads what GNU tar writes (--format=%s): names of any length, types, modes, links, data', (format) => {
    const { archive, data } = archiveOf(format);
    const entries = readTar(archive);
    const deepDir = `etc/${'d'.repeat(60)}/${'e'.repeat(60)}/`;
    expect(entries.map((e) => [e.name, e.type])).toEqual([
      ['etc/', 'directory'],
      ['etc/blob.bin', 'file'],
      [`etc/${'d'.repeat(60)}/`, 'directory'],
      [deepDir, 'directory'],
      [`${deepDir}${'f'.repeat(90)}`, 'file'],
      ['etc/grüße.txt', 'file'],
      ['etc/link', 'symlink'],
    ]);
    const blob = entries.find((e) => e.name === 'etc/blob.bin');
    expect(blob?.mode).toBe(0o600);
    expect(blob?.data.equals(data)).toBe(true);
    expect(entries.find((e) => e.name === 'etc/link')?.linkName).toBe('blob.bin');
    expect(entries.find((e) => e.name.endsWith('f'.repeat(90)))?.data.toString()).toBe('deep\n');
  });

  it('reads ustar names split into prefix and name', () => {
    const entries = readTar(archiveOf('ustar').archive);
    expect(entries.map((e) => e.name)).toContain(`etc/${'d'.repeat(60)}/${'e'.repeat(60)}/${'f'.repeat(90)}`);
  });

  it('reads ids too large for octal (GNU base-256)', () => {
    const { archive } = archiveOf('gnu', ['--owner=3000000', '--group=4000000']);
    expect(readTar(archive).map((e) => [e.uid, e.gid])[1]).toEqual([3_000_000, 4_000_000]);
  });

  it('reads back what tarFile writes', () => {
    const data = randomBytes(10_000);
    expect(readTar(tarFile({ name: LONG_NAME, data, mode: 0o644, uid: 0, gid: 0, mtime: 1 }))).toEqual([
      { name: LONG_NAME, type: 'file', mode: 0o644, uid: 0, gid: 0, linkName: '', data },
    ]);
  });

  it('refuses a damaged header and an archive cut short', () => {
    const archive = tarFile({ name: 'x', data: randomBytes(2000), mode: 0o644, uid: 0, gid: 0, mtime: 1 });
    const damaged = Buffer.from(archive);
    damaged[3] = 0x41;
    expect(() => readTar(damaged)).toThrow('bad header checksum at offset 0');
    expect(() => readTar(archive.subarray(0, 1024))).toThrow('cut short');
  });

  it('an empty archive has no entries', () => {
    expect(readTar(Buffer.alloc(1024))).toEqual([]);
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
