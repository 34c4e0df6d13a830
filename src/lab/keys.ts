// Keys of the lab: the client key that logs in to every lab host (generated once), each host's own
// host keys (generated once per host name and kept in the cache, so `lab down` then `lab up` or a
// `lab reset` keeps the host's identity), and the known_hosts file built from them.
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { UserError } from '../core/errors.ts';
import { run, tryRun } from './command.ts';
import type { LabPaths } from './paths.ts';
import type { LabHost } from './settings.ts';

/** The host key types every lab host gets (RSA is left out: generating it takes ~0.5 s of CPU a host). */
export const HOST_KEY_TYPES = ['ed25519', 'ecdsa'] as const;

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}

/** Generates the lab's client key unless it exists; returns its public key line. */
export async function ensureLabKey(paths: LabPaths): Promise<string> {
  if (!(await exists(paths.key)) || !(await exists(`${paths.key}.pub`))) {
    await mkdir(path.dirname(paths.key), { recursive: true, mode: 0o700 });
    await rm(paths.key, { force: true });
    await rm(`${paths.key}.pub`, { force: true });
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'provision-lab', '-f', paths.key]);
  }
  return (await readFile(`${paths.key}.pub`, 'utf8')).trim();
}

export interface HostKey {
  type: (typeof HOST_KEY_TYPES)[number];
  /** the private key file on the machine */
  privateFile: string;
  /** "ssh-ed25519 AAAA..." (no comment) */
  publicKey: string;
}

/** The host's host keys, generated on first use. */
export async function ensureHostKeys(paths: LabPaths, hostName: string): Promise<HostKey[]> {
  const dir = path.join(paths.cache, 'host-keys', hostName);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  return Promise.all(
    HOST_KEY_TYPES.map(async (type) => {
      const privateFile = path.join(dir, `ssh_host_${type}_key`);
      if (!(await exists(privateFile)) || !(await exists(`${privateFile}.pub`))) {
        const partial = `${privateFile}.new`;
        await rm(partial, { force: true });
        await rm(`${partial}.pub`, { force: true });
        await run('ssh-keygen', ['-q', '-t', type, '-N', '', '-C', `root@${hostName}`, '-f', partial]);
        await rename(`${partial}.pub`, `${privateFile}.pub`);
        await rename(partial, privateFile);
      }
      const [keyType, base64] = (await readFile(`${privateFile}.pub`, 'utf8')).trim().split(/\s+/);
      return { type, privateFile, publicKey: `${keyType} ${base64}` };
    }),
  );
}

/** The public keys that may log in as root: the lab key, and the inventory's own key for this host. */
export async function authorizedKeys(host: LabHost, labPublicKey: string): Promise<string[]> {
  const keys = [labPublicKey];
  if (host.key !== undefined) keys.push(await publicKeyOf(host.key, host.name));
  return keys;
}

async function publicKeyOf(privateKey: string, hostName: string): Promise<string> {
  const beside = await readFile(`${privateKey}.pub`, 'utf8').catch(() => undefined);
  if (beside !== undefined) return beside.trim();
  const derived = await tryRun('ssh-keygen', ['-y', '-P', '', '-f', privateKey]);
  if (derived.exitCode === 0) return derived.stdout.trim();
  throw new UserError(
    `cannot read the public key of ${privateKey}, the key of lab host ${hostName}: ${derived.stderr.trim() || 'ssh-keygen -y failed'}`,
    { host: hostName },
    `put its public key beside it as ${privateKey}.pub, or remove 'key:' from the host to use the lab key`,
  );
}

/** known_hosts lines of one host: "ADDRESS type base64", "[ADDRESS]:PORT ..." when not on port 22. */
export function knownHostsLines(host: LabHost, keys: readonly HostKey[]): string[] {
  const eth0 = host.interfaces[0];
  if (eth0 === undefined) return [];
  const name = host.sshPort === 22 ? eth0.address : `[${eth0.address}]:${host.sshPort}`;
  return keys.map((key) => `${name} ${key.publicKey}`);
}

export async function writeKnownHosts(file: string, lines: readonly string[]): Promise<void> {
  await writeFile(`${file}.tmp`, lines.length === 0 ? '' : `${lines.join('\n')}\n`, { mode: 0o644 });
  await rename(`${file}.tmp`, file);
}
