// Host key checking against an OpenSSH known_hosts file (ssh2 itself accepts any host key).
// Supported: plain names and `[host]:port`, comma lists, `*`/`?` wildcards and `!` negation,
// hashed names (`|1|salt|hash`, HashKnownHosts), `@revoked` keys. `@cert-authority` lines are
// skipped: ssh2 does not verify host certificates.
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, realpath, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { quote } from '../core/shell.ts';

export interface KnownHostEntry {
  /** 1-based line number in the file */
  line: number;
  marker?: '@revoked' | '@cert-authority';
  patterns: string;
  keyType: string;
  /** the key blob, as in the base64 field */
  key: Buffer;
}

export interface KnownHosts {
  file: string;
  entries: KnownHostEntry[];
}

export type HostKeyChecking = 'strict' | 'accept-new' | 'off';

/** The name OpenSSH looks up: `host` on port 22, `[host]:port` otherwise. */
export function lookupName(address: string, port: number): string {
  return port === 22 ? address : `[${address}]:${port}`;
}

export function parseKnownHosts(file: string, text: string): KnownHosts {
  const entries: KnownHostEntry[] = [];
  text.split('\n').forEach((raw, index) => {
    const fields = raw.trim().split(/\s+/);
    if (fields[0] === undefined || fields[0] === '' || fields[0].startsWith('#')) return;
    let marker: KnownHostEntry['marker'];
    if (fields[0] === '@revoked' || fields[0] === '@cert-authority') {
      marker = fields[0];
      fields.shift();
    } else if (fields[0].startsWith('@')) {
      return; // an unknown marker: OpenSSH ignores the line too
    }
    const [patterns, keyType, base64] = fields;
    if (patterns === undefined || keyType === undefined || base64 === undefined) return;
    const key = Buffer.from(base64, 'base64');
    // A line that does not hold a well-formed key of its stated type is ignored, as OpenSSH does.
    if (key.length === 0 || blobKeyType(key) !== keyType) return;
    entries.push({ line: index + 1, ...(marker ? { marker } : {}), patterns, keyType, key });
  });
  return { file, entries };
}

/** Reads the file; a missing file is an empty list. */
export async function readKnownHosts(file: string): Promise<KnownHosts> {
  try {
    return parseKnownHosts(file, await readFile(file, 'utf8'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { file, entries: [] };
    throw error;
  }
}

// A run connects to every host with the same known_hosts: parsed once while the file stays the
// same (same inode, size, mtime and ctime, to the nanosecond), not once per host. Any change to the
// file (accept-new's rename, an edit, ssh-keygen -R) is read anew by the next connection.
const parsedFiles = new Map<string, { signature: string; parsed: Promise<KnownHosts> }>();

/** readKnownHosts, reusing the last parse of the file while the file is unchanged. Treat the result as read-only. */
export async function readKnownHostsCached(file: string): Promise<KnownHosts> {
  const info = await stat(file, { bigint: true }).catch((error: unknown) => {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  });
  if (info === undefined) {
    parsedFiles.delete(file);
    return { file, entries: [] };
  }
  const signature = `${info.dev}:${info.ino}:${info.size}:${info.mtimeNs}:${info.ctimeNs}`;
  const cached = parsedFiles.get(file);
  if (cached?.signature === signature) return cached.parsed;
  const parsed = readKnownHosts(file);
  parsedFiles.set(file, { signature, parsed });
  parsed.catch(() => {
    if (parsedFiles.get(file)?.parsed === parsed) parsedFiles.delete(file);
  });
  return parsed;
}

/** Whether the entry's host patterns match `name` (see lookupName), with OpenSSH's rules. */
export function entryMatches(entry: KnownHostEntry, name: string): boolean {
  if (entry.patterns.startsWith('|1|')) return hashedMatches(entry.patterns, name);
  let matched = false;
  for (const pattern of entry.patterns.split(',')) {
    if (pattern.startsWith('!')) {
      if (globMatches(pattern.slice(1), name)) return false;
    } else if (globMatches(pattern, name)) {
      matched = true;
    }
  }
  return matched;
}

function hashedMatches(field: string, name: string): boolean {
  const [, , salt, hash] = field.split('|');
  if (!salt || !hash) return false;
  const digest = createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64');
  return digest === hash;
}

function globMatches(pattern: string, name: string): boolean {
  // Most patterns are plain names or addresses: compared as they are, without a RegExp each time.
  if (!pattern.includes('*') && !pattern.includes('?')) return pattern.toLowerCase() === name.toLowerCase();
  const regex = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${regex}$`, 'i').test(name);
}

/** The algorithm name inside a public key blob (its first length-prefixed string). */
export function blobKeyType(key: Buffer): string | undefined {
  if (key.length < 4) return undefined;
  const length = key.readUInt32BE(0);
  if (length === 0 || length > 64 || key.length < 4 + length) return undefined;
  return key.subarray(4, 4 + length).toString('latin1');
}

/** `SHA256:...` as ssh-keygen -l prints it. */
export function fingerprint(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

/** Host key types known for a host, to prefer them in the handshake (as OpenSSH does). */
export function knownKeyTypes(knownHosts: KnownHosts, name: string): string[] {
  const types = new Set<string>();
  for (const entry of knownHosts.entries) {
    if (entry.marker === undefined && entryMatches(entry, name)) types.add(entry.keyType);
  }
  return [...types];
}

export interface HostKeyQuery {
  /** inventory name, for messages */
  host: string;
  address: string;
  port: number;
  /** the key blob the server offered */
  key: Buffer;
}

export type HostKeyVerdict =
  | { status: 'known' }
  | { status: 'unknown' }
  | { status: 'revoked'; entry: KnownHostEntry }
  /** the host has keys in the file, none of them this one */
  | { status: 'changed'; entry: KnownHostEntry };

export function checkHostKey(knownHosts: KnownHosts, query: HostKeyQuery): HostKeyVerdict {
  const name = lookupName(query.address, query.port);
  const offeredType = blobKeyType(query.key);
  const matching = knownHosts.entries.filter((entry) => entry.marker !== '@cert-authority' && entryMatches(entry, name));
  const revoked = matching.find((entry) => entry.marker === '@revoked' && entry.key.equals(query.key));
  if (revoked) return { status: 'revoked', entry: revoked };
  const keys = matching.filter((entry) => entry.marker === undefined);
  if (keys.some((entry) => entry.key.equals(query.key))) return { status: 'known' };
  // A different key of the same type is a changed key. A key of another type is too: the
  // handshake prefers the types on file, so a server that offers another one no longer has them.
  const changed = keys.find((entry) => entry.keyType === offeredType) ?? keys[0];
  return changed ? { status: 'changed', entry: changed } : { status: 'unknown' };
}

/** The message for a changed key, with the exact command that removes the old one. */
export function changedKeyMessage(file: string, query: HostKeyQuery, entry: KnownHostEntry): string {
  const offeredType = blobKeyType(query.key) ?? 'unknown-type';
  return (
    `host key for ${query.host} (${query.address}:${query.port}) has CHANGED: ${file} line ${entry.line} has ` +
    `${entry.keyType} ${fingerprint(entry.key)}, the server offered ${offeredType} ${fingerprint(query.key)}; ` +
    `if the host was reinstalled, remove the old key with: ssh-keygen -R ${quote(lookupName(query.address, query.port))} -f ${quote(file)}`
  );
}

export function unknownKeyMessage(file: string, query: HostKeyQuery): string {
  const offeredType = blobKeyType(query.key) ?? 'unknown-type';
  return `host key for ${query.host} (${query.address}:${query.port}) is not in ${file} (ssh.hostKeyChecking is strict): the server offered ${offeredType} ${fingerprint(query.key)}`;
}

export function unknownKeyHint(file: string, query: HostKeyQuery): string {
  return (
    `compare the fingerprint with \`ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub\` on the host, then add it with ` +
    `\`ssh-keyscan -p ${query.port} ${quote(query.address)} >> ${quote(file)}\`, or set ssh.hostKeyChecking: accept-new`
  );
}

/** The line accept-new appends for a host. */
export function knownHostsLine(address: string, port: number, key: Buffer): string {
  return `${lookupName(address, port)} ${blobKeyType(key) ?? 'unknown'} ${key.toString('base64')}`;
}

// Appends within this process are serialized per file: each is read-modify-rename, and two hosts
// accepted at the same time must not lose each other's line.
const appendQueues = new Map<string, Promise<unknown>>();

export type AppendOutcome = { status: 'added' } | Exclude<HostKeyVerdict, { status: 'unknown' }>;

/**
 * Adds the host's key to the file atomically (a temp file in the same directory, then rename),
 * unless meanwhile the file has a key for the host. Creates the file (0600) and its directory
 * (0700). Returns 'added', or what the file says about the key if it was not added.
 */
export function appendHostKey(file: string, query: HostKeyQuery): Promise<AppendOutcome> {
  const previous = appendQueues.get(file) ?? Promise.resolve();
  const next = previous.catch(() => undefined).then(() => appendNow(file, query));
  appendQueues.set(file, next);
  void next
    .finally(() => {
      if (appendQueues.get(file) === next) appendQueues.delete(file);
    })
    .catch(() => undefined);
  return next;
}

async function appendNow(file: string, query: HostKeyQuery): Promise<AppendOutcome> {
  // Write through a symlink (a dotfiles setup) rather than replacing it.
  const target = await realpath(file).catch(() => file);
  let text = '';
  let mode = 0o600;
  try {
    text = await readFile(target, 'utf8');
    mode = (await stat(target)).mode & 0o777;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    await mkdir(dirname(target), { recursive: true, mode: 0o700 });
  }
  const verdict = checkHostKey(parseKnownHosts(target, text), query);
  if (verdict.status !== 'unknown') return verdict;
  const separator = text === '' || text.endsWith('\n') ? '' : '\n';
  const updated = `${text}${separator}${knownHostsLine(query.address, query.port, query.key)}\n`;
  const temp = `${target}.provision-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await writeFile(temp, updated, { mode });
    await chmod(temp, mode); // exactly the old mode, whatever the umask
    await rename(temp, target);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
  return { status: 'added' };
}
