// Where the lab keeps what it builds once (rootfs, package mirror, key) and what it runs (state,
// hosts' upper layers): a cache directory outside the repository,
// ${PROVISION_LAB_CACHE:-${XDG_CACHE_HOME:-~/.cache}/provision/lab}.
import os from 'node:os';
import path from 'node:path';
import { UserError } from '../core/errors.ts';
import { projectDir } from '../core/project-dir.ts';

type Env = Readonly<Record<string, string | undefined>>;

/** The project's own directory: the cache must not be inside it (it holds a 300 MB root filesystem). */
const PROJECT_DIR = projectDir;

export function labCacheDir(env: Env = process.env): string {
  const explicit = env.PROVISION_LAB_CACHE;
  if (explicit !== undefined && explicit !== '') return path.resolve(explicit);
  const xdg = env.XDG_CACHE_HOME;
  const cacheHome = xdg !== undefined && xdg !== '' ? xdg : path.join(env.HOME ?? os.homedir(), '.cache');
  return path.resolve(cacheHome, 'provision', 'lab');
}

/** The private key (ed25519, no passphrase) that logs in as root on lab hosts whose inventory entry gives no `key`. */
export function labKeyPath(env: Env = process.env): string {
  return path.join(labCacheDir(env), 'id_ed25519');
}

/** The host keys of the running lab's hosts (rewritten by every `lab up` and `lab reset`), for strict host key checking. */
export function labKnownHostsPath(env: Env = process.env): string {
  return path.join(labCacheDir(env), 'known_hosts');
}

export interface LabPaths {
  cache: string;
  key: string;
  knownHosts: string;
  /** the Debian root filesystem every host's overlay stacks on (read-only once built) */
  rootfs: string;
  /** what the rootfs was built from: its hash decides whether it is rebuilt */
  rootfsManifest: string;
  /** the offline package repository the hosts' apt uses */
  mirror: string;
  mirrorManifest: string;
  /** one directory per running host: upper layer, host keys, log */
  hosts: string;
  /** what `lab up` created, for `lab down` */
  state: string;
  /** held while a lab command runs */
  lock: string;
}

export function labPaths(env: Env = process.env): LabPaths {
  const cache = labCacheDir(env);
  return {
    cache,
    key: labKeyPath(env),
    knownHosts: labKnownHostsPath(env),
    rootfs: path.join(cache, 'rootfs'),
    rootfsManifest: path.join(cache, 'rootfs.json'),
    mirror: path.join(cache, 'mirror'),
    mirrorManifest: path.join(cache, 'mirror.json'),
    hosts: path.join(cache, 'hosts'),
    state: path.join(cache, 'state.json'),
    lock: path.join(cache, 'lock'),
  };
}

export function hostDir(paths: LabPaths, hostName: string): string {
  return path.join(paths.hosts, hostName);
}

/** Refuses a cache directory inside the project, where git and editors would trip over it. */
export function checkCacheLocation(paths: LabPaths): void {
  const relative = path.relative(PROJECT_DIR, paths.cache);
  if (relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative))) {
    throw new UserError(
      `the lab cache ${paths.cache} is inside the project directory`,
      {},
      'set PROVISION_LAB_CACHE to a directory outside it (the default is ~/.cache/provision/lab)',
    );
  }
}
