import { createHmac, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  appendHostKey,
  blobKeyType,
  changedKeyMessage,
  checkHostKey,
  fingerprint,
  knownKeyTypes,
  lookupName,
  parseKnownHosts,
  readKnownHostsCached,
  type HostKeyQuery,
} from '../../../src/connectors/known-hosts.ts';

/** A syntactically valid public key blob of `type` (random key material). */
function blob(type: string): Buffer {
  const name = Buffer.from(type);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(name.length);
  const material = randomBytes(32);
  const materialLength = Buffer.alloc(4);
  materialLength.writeUInt32BE(material.length);
  return Buffer.concat([length, name, materialLength, material]);
}

const ed = blob('ssh-ed25519');
const rsa = blob('ssh-rsa');
const line = (hosts: string, key: Buffer) => `${hosts} ${blobKeyType(key)} ${key.toString('base64')}`;
const hashed = (name: string) => {
  const salt = randomBytes(20);
  return `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`;
};
const query = (key: Buffer, port = 22, address = '192.168.2.250'): HostKeyQuery => ({ host: 'lvs-master', address, port, key });

describe('known_hosts', () => {
  it('looks hosts up as OpenSSH does: plain on port 22, [host]:port otherwise', () => {
    expect(lookupName('192.168.2.250', 22)).toBe('192.168.2.250');
    expect(lookupName('192.168.2.250', 2222)).toBe('[192.168.2.250]:2222');
  });

  it('parses entries with line numbers and skips comments, blank lines, unknown markers and broken keys', () => {
    const text = [
      '# comment',
      '',
      line('lvs-master,192.168.2.250', ed),
      '@cert-authority *.example.com ' + `ssh-ed25519 ${ed.toString('base64')}`,
      '@unknown host ssh-ed25519 AAAA',
      `host ssh-rsa ${ed.toString('base64')}`, // type does not match the blob
      'host ssh-ed25519',
      line('[10.0.0.1]:2222', rsa),
    ].join('\n');
    const { entries } = parseKnownHosts('/k', text);
    expect(entries.map((e) => [e.line, e.marker ?? '', e.patterns, e.keyType])).toEqual([
      [3, '', 'lvs-master,192.168.2.250', 'ssh-ed25519'],
      [4, '@cert-authority', '*.example.com', 'ssh-ed25519'],
      [8, '', '[10.0.0.1]:2222', 'ssh-rsa'],
    ]);
  });

  it('matches comma lists, [host]:port, wildcards, negation and hashed names', () => {
    const text = [
      line('lvs-master,192.168.2.250', ed),
      line('[192.168.2.251]:2222', ed),
      line('192.168.3.*,!192.168.3.13', ed),
      line(hashed('192.168.4.4'), ed),
      line(hashed('[192.168.4.5]:2200'), ed),
    ].join('\n');
    const kh = parseKnownHosts('/k', text);
    const known = (address: string, port = 22) => checkHostKey(kh, query(ed, port, address)).status;
    expect(known('192.168.2.250')).toBe('known');
    expect(known('192.168.2.251', 2222)).toBe('known');
    expect(known('192.168.2.251')).toBe('unknown'); // port 22 is looked up plain
    expect(known('192.168.2.250', 2222)).toBe('unknown');
    expect(known('192.168.3.7')).toBe('known');
    expect(known('192.168.3.13')).toBe('unknown');
    expect(known('192.168.4.4')).toBe('known');
    expect(known('192.168.4.5', 2200)).toBe('known');
    expect(known('192.168.4.5')).toBe('unknown');
  });

  it('matches names without regard to case, and takes a dot in a plain name literally', () => {
    const kh = parseKnownHosts('/k', [line('LVS-Master.Example.COM', ed), line('10.0.0.1', rsa)].join('\n'));
    expect(checkHostKey(kh, query(ed, 22, 'lvs-master.example.com')).status).toBe('known');
    expect(checkHostKey(kh, query(ed, 22, 'lvs-masterXexample.com')).status).toBe('unknown');
    expect(checkHostKey(kh, query(rsa, 22, '10.0.0.1')).status).toBe('known');
    expect(checkHostKey(kh, query(rsa, 22, '10.0.0.10')).status).toBe('unknown');
  });

  describe('readKnownHostsCached', () => {
    let dir: string;
    beforeEach(async () => {
      dir = await mkdtemp(join(tmpdir(), 'provision-known-hosts-'));
    });
    afterEach(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it('reads the file as it is now: a missing file, a replaced one, one rewritten in place with the same length', async () => {
      const file = join(dir, 'known_hosts');
      expect((await readKnownHostsCached(file)).entries).toEqual([]);
      await writeFile(file, `${line('10.0.0.1', ed)}\n`);
      const first = await readKnownHostsCached(file);
      expect(first.entries.map((e) => e.key)).toEqual([ed]);
      expect(await readKnownHostsCached(file)).toBe(first); // unchanged: the same parse
      const other = blob('ssh-ed25519');
      // accept-new's way: a new file renamed over the old one
      await writeFile(`${file}.new`, `${line('10.0.0.1', other)}\n`);
      await rename(`${file}.new`, file);
      expect((await readKnownHostsCached(file)).entries.map((e) => e.key)).toEqual([other]);
      // an editor's way: the same inode, the same length, a later modification time
      await new Promise((resolve) => setTimeout(resolve, 50));
      await writeFile(file, `${line('10.0.0.1', ed)}\n`);
      expect((await readKnownHostsCached(file)).entries.map((e) => e.key)).toEqual([ed]);
      await rm(file);
      expect((await readKnownHostsCached(file)).entries).toEqual([]);
    });
  });

  it('tells known, unknown, changed and revoked keys apart', () => {
    const other = blob('ssh-ed25519');
    const kh = parseKnownHosts('/k', [line('a', ed), line('b', rsa), `@revoked b ${line('', other).trim()}`, line('c', ed), line('c', rsa)].join('\n'));
    expect(checkHostKey(kh, query(ed, 22, 'a')).status).toBe('known');
    expect(checkHostKey(kh, query(ed, 22, 'nobody')).status).toBe('unknown');
    // Same type, other key: changed, pointing at that line.
    expect(checkHostKey(kh, query(other, 22, 'a'))).toMatchObject({ status: 'changed', entry: { line: 1 } });
    // A type the file does not have for the host: also changed (the handshake prefers known types).
    expect(checkHostKey(kh, query(ed, 22, 'b'))).toMatchObject({ status: 'changed', entry: { line: 2 } });
    expect(checkHostKey(kh, query(other, 22, 'b'))).toMatchObject({ status: 'revoked', entry: { line: 3 } });
    // Any of several keys on file is enough.
    expect(checkHostKey(kh, query(rsa, 22, 'c')).status).toBe('known');
    expect(knownKeyTypes(kh, 'c')).toEqual(['ssh-ed25519', 'ssh-rsa']);
  });

  it('fingerprints keys like ssh-keygen -l', () => {
    // ssh-keygen -lf of this public key prints this fingerprint.
    const key = Buffer.from('AAAAC3NzaC1lZDI1NTE5AAAAIOVrLvnADFqtcQbnD0EWpNpLbXB6U3hQ9KrOhgQhC57c', 'base64');
    expect(fingerprint(key)).toBe('SHA256:W7D90yj6sp/YpAlaZq8PKBuXR7SEDzwL0U9cTMpPAmI');
  });

  it('says how to remove a changed key, with the name form ssh-keygen -R finds', () => {
    const kh = parseKnownHosts('/home/me/.ssh/known_hosts', line('192.168.2.250', ed));
    const offered = blob('ssh-ed25519');
    const verdict = checkHostKey(kh, query(offered));
    if (verdict.status !== 'changed') throw new Error(verdict.status);
    expect(changedKeyMessage(kh.file, query(offered), verdict.entry)).toBe(
      `host key for lvs-master (192.168.2.250:22) has CHANGED: /home/me/.ssh/known_hosts line 1 has ssh-ed25519 ${fingerprint(ed)}, ` +
        `the server offered ssh-ed25519 ${fingerprint(offered)}; if the host was reinstalled, remove the old key with: ` +
        `ssh-keygen -R 192.168.2.250 -f /home/me/.ssh/known_hosts`,
    );
  });

  describe('appendHostKey', () => {
    let dir: string;
    beforeEach(async () => {
      dir = await mkdtemp(join(tmpdir(), 'provision-known-hosts-'));
    });
    afterEach(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it('creates the directory and a 0600 file', async () => {
      const file = join(dir, 'new', '.ssh', 'known_hosts');
      expect(await appendHostKey(file, query(ed, 2222))).toEqual({ status: 'added' });
      expect(await readFile(file, 'utf8')).toBe(`[192.168.2.250]:2222 ssh-ed25519 ${ed.toString('base64')}\n`);
      expect((await stat(file)).mode & 0o777).toBe(0o600);
    });

    it('keeps existing content and mode, adds a missing final newline, writes through a symlink', async () => {
      const real = join(dir, 'real_known_hosts');
      await writeFile(real, '# mine', { mode: 0o644 });
      const link = join(dir, 'known_hosts');
      await symlink(real, link);
      await appendHostKey(link, query(ed));
      expect(await readFile(real, 'utf8')).toBe(`# mine\n192.168.2.250 ssh-ed25519 ${ed.toString('base64')}\n`);
      expect((await stat(real)).mode & 0o777).toBe(0o644);
    });

    it('loses no line when many hosts are added at once, and adds each once', async () => {
      const file = join(dir, 'known_hosts');
      const keys = Array.from({ length: 20 }, () => blob('ssh-ed25519'));
      await Promise.all(keys.flatMap((key, i) => [appendHostKey(file, query(key, 22, `10.0.0.${i}`)), appendHostKey(file, query(key, 22, `10.0.0.${i}`))]));
      const lines = (await readFile(file, 'utf8')).trim().split('\n');
      expect(lines.sort()).toEqual(keys.map((key, i) => `10.0.0.${i} ssh-ed25519 ${key.toString('base64')}`).sort());
    });

    it('refuses to add a key when another one was recorded for the host meanwhile', async () => {
      const file = join(dir, 'known_hosts');
      await writeFile(file, `${line('192.168.2.250', ed)}\n`);
      expect(await appendHostKey(file, query(blob('ssh-ed25519')))).toMatchObject({ status: 'changed', entry: { line: 1 } });
      expect(await readFile(file, 'utf8')).toBe(`${line('192.168.2.250', ed)}\n`);
    });
  });
});
