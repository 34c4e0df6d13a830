// The per-host settings a lab guest (a VM, or a container) applies to itself when it starts: its
// name, addresses, ssh host keys and the lab's login key. They travel as a directory of plain files
// (for a VM packed into a tar that qemu attaches as a small read-only disk) that the guest setup
// script (guest-scripts.ts) reads, so no value ever passes through a shell command line.
import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { UserError } from '../../core/errors.ts';

const run = promisify(execFile);

export type HostKeyType = 'ed25519' | 'ecdsa' | 'rsa';

export interface HostKey {
  type: HostKeyType;
  /** OpenSSH private key file contents */
  privateKey: string;
  /** "TYPE BASE64 [comment]" */
  publicKey: string;
}

export interface GuestInterface {
  /** the name inside the guest: eth0, eth1, ... */
  name: string;
  /** CIDR addresses, e.g. "10.213.9.10/24"; may be empty (the interface is only brought up) */
  addresses: readonly string[];
}

/** A file (or, without content, a directory) the guest writes into itself, over what its image has. */
export interface GuestFile {
  /** absolute path inside the guest */
  path: string;
  /** undefined for a directory */
  content?: string;
  mode: number;
}

export interface GuestConfig {
  hostname: string;
  interfaces: readonly GuestInterface[];
  /** authorized_keys lines for root, added to those the image has */
  authorizedKeys: readonly string[];
  /**
   * The guest's ssh host keys, replacing the image's (a rootfs shared by many hosts must not share
   * its keys). May be empty only when `files` brings /etc/ssh/ssh_host_*_key files instead.
   */
  hostKeys: readonly HostKey[];
  /** more files, written after everything above (so they win), e.g. sshd settings, an apt source */
  files?: readonly GuestFile[];
  /** the port sshd listens on (the guest waits for it); default 22 */
  sshPort?: number;
}

const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const INTERFACE = /^[A-Za-z][A-Za-z0-9_.-]{0,14}$/;

/** Throws a UserError naming the first setting a guest could not apply. */
export function validateGuestConfig(config: GuestConfig): void {
  const problem = (what: string, hint: string): never => {
    throw new UserError(`lab host ${JSON.stringify(config.hostname)}: ${what}`, { host: config.hostname }, hint);
  };
  if (!HOSTNAME.test(config.hostname)) problem('is not a valid host name', 'use letters, digits and "-" (and "." between labels)');
  const names = new Set<string>();
  for (const nic of config.interfaces) {
    if (!INTERFACE.test(nic.name)) problem(`interface name ${JSON.stringify(nic.name)} is not valid`, 'use names like eth0');
    if (names.has(nic.name)) problem(`interface ${nic.name} is listed twice`, 'give each interface once, with all its addresses');
    names.add(nic.name);
    for (const address of nic.addresses) {
      if (!isCidr(address)) problem(`${nic.name} address ${JSON.stringify(address)} is not ADDRESS/PREFIX`, 'write addresses like 10.213.9.10/24');
    }
  }
  for (const key of config.authorizedKeys) {
    if (key.trim() === '' || /[\r\n\0]/.test(key)) problem('an authorized key is empty or spans lines', 'give one public key per entry');
  }
  const types = new Set<string>();
  for (const key of config.hostKeys) {
    if (types.has(key.type)) problem(`has two ${key.type} host keys`, 'give at most one host key per type');
    types.add(key.type);
    if (!key.privateKey.includes('PRIVATE KEY') || !key.publicKey.trim().includes(' ')) problem(`its ${key.type} host key is not an OpenSSH key pair`, 'generate host keys with generateHostKeys()');
  }
  for (const file of config.files ?? []) {
    const parts = file.path.split('/');
    if (!file.path.startsWith('/') || file.path !== file.path.trim() || /[\n\0]/.test(file.path) || parts.includes('..') || parts.includes('.') || file.path === '/') {
      problem(`cannot write ${JSON.stringify(file.path)}`, 'give guest files as absolute paths without "." or ".." parts');
    }
    if (!Number.isInteger(file.mode) || file.mode < 0 || file.mode > 0o7777) problem(`${file.path} has an invalid mode ${file.mode}`, 'give a mode like 0o644');
  }
  const keyFiles = (config.files ?? []).some((file) => /^\/etc\/ssh\/ssh_host_[a-z0-9]+_key$/.test(file.path) && file.content !== undefined);
  if (config.hostKeys.length === 0 && !keyFiles) problem('has no ssh host key', 'generate host keys with generateHostKeys()');
  const port = config.sshPort ?? 22;
  if (!Number.isInteger(port) || port < 1 || port > 65535) problem(`ssh port ${port} is not a TCP port`, 'use a port from 1 to 65535');
}

function isCidr(value: string): boolean {
  const [address, prefix, extra] = value.split('/');
  if (address === undefined || prefix === undefined || extra !== undefined || !/^\d{1,3}$/.test(prefix)) return false;
  const family = isIP(address);
  return family !== 0 && Number(prefix) <= (family === 4 ? 32 : 128);
}

/**
 * Writes the configuration as the files the guest setup script reads: hostname, ssh_port,
 * interfaces ("NAME" or "NAME ADDRESS" lines), authorized_keys, ssh/ssh_host_TYPE_key{,.pub},
 * files.list ("d MODE PATH" or "f MODE PATH" lines, in order) with the contents under files/PATH.
 */
export async function writeGuestConfig(dir: string, config: GuestConfig): Promise<void> {
  validateGuestConfig(config);
  await mkdir(join(dir, 'ssh'), { recursive: true, mode: 0o700 });
  await writeFile(join(dir, 'hostname'), `${config.hostname}\n`);
  const interfaceLines = config.interfaces.flatMap((nic) => (nic.addresses.length === 0 ? [nic.name] : nic.addresses.map((address) => `${nic.name} ${address}`)));
  await writeFile(join(dir, 'interfaces'), interfaceLines.map((line) => `${line}\n`).join(''));
  await writeFile(join(dir, 'authorized_keys'), config.authorizedKeys.map((key) => `${key.trim()}\n`).join(''));
  await writeFile(join(dir, 'ssh_port'), `${config.sshPort ?? 22}\n`);
  const fileLines: string[] = [];
  for (const file of config.files ?? []) {
    const mode = file.mode.toString(8).padStart(4, '0');
    if (file.content === undefined) {
      fileLines.push(`d ${mode} ${file.path}`);
    } else {
      fileLines.push(`f ${mode} ${file.path}`);
      const copy = join(dir, 'files', file.path);
      await mkdir(dirname(copy), { recursive: true });
      await writeFile(copy, file.content, { mode: 0o600 });
    }
  }
  await writeFile(join(dir, 'files.list'), fileLines.map((line) => `${line}\n`).join(''));
  for (const key of config.hostKeys) {
    const base = join(dir, 'ssh', `ssh_host_${key.type}_key`);
    await writeFile(base, key.privateKey.endsWith('\n') ? key.privateKey : `${key.privateKey}\n`, { mode: 0o600 });
    await chmod(base, 0o600);
    await writeFile(`${base}.pub`, `${key.publicKey.trim()}\n`, { mode: 0o644 });
  }
}

/** Fresh host key pairs made with the machine's ssh-keygen (fast here; slow inside a TCG guest). */
export async function generateHostKeys(types: readonly HostKeyType[] = ['ed25519']): Promise<HostKey[]> {
  const dir = await mkdtemp(join(tmpdir(), 'provision-lab-hostkey-'));
  try {
    const keys: HostKey[] = [];
    for (const type of types) {
      const path = join(dir, type);
      await run('ssh-keygen', ['-q', '-t', type, '-N', '', '-C', '', '-f', path]);
      keys.push({ type, privateKey: await readFile(path, 'utf8'), publicKey: (await readFile(`${path}.pub`, 'utf8')).trim() });
    }
    return keys;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
