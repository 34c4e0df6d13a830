// The offline package mirror: the roles' packages and all their dependencies, downloaded once with
// the machine's apt, indexed with dpkg-scanpackages, served over HTTP on every eth0 bridge address.
// Hosts have it as their only apt source (`deb [trusted=yes] http://BRIDGE:PORT/ ./`), so nothing
// a role installs comes from the network, and a role that needs an unlisted package fails visibly.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { UserError } from '../core/errors.ts';
import { machineApt } from './apt.ts';
import { ensureTools, run } from './command.ts';
import { DEBIAN_SUITE, MIRROR_PACKAGES } from './packages.ts';
import type { LabPaths } from './paths.ts';
import { findProcesses, isRunning, killProcessesUsing, processStartTime } from './processes.ts';
import { hashOf, readManifest, writeManifest } from './rootfs.ts';
import type { LabBridge } from './settings.ts';
import type { LabResource } from './state.ts';
import { poll } from './wait.ts';

/** The mirror's port on each bridge address. */
export const MIRROR_PORT = 8213;
/** Bump when the mirror's layout changes, so existing caches are rebuilt. */
const MIRROR_RECIPE_VERSION = 1;
const MIRROR_SERVER_SCRIPT = fileURLToPath(new URL('./mirror-server.mjs', import.meta.url));

export async function mirrorHash(): Promise<string> {
  const { stdout } = await run('dpkg', ['--print-architecture']);
  return hashOf({ suite: DEBIAN_SUITE, architecture: stdout.trim(), packages: [...MIRROR_PACKAGES].sort(), recipe: MIRROR_RECIPE_VERSION });
}

/** The apt source line of a host whose eth0 is on `bridge`. */
export function mirrorSourceLine(bridge: LabBridge, port = MIRROR_PORT): string {
  return `deb [trusted=yes] http://${bridge.address}:${port}/ ./`;
}

/** Builds the mirror unless the cached one matches the package list; says whether it built. */
export async function ensureMirror(paths: LabPaths, log: (line: string) => void): Promise<{ built: boolean; seconds: number }> {
  const hash = await mirrorHash();
  const manifest = await readManifest(paths.mirrorManifest);
  const indexed = await stat(path.join(paths.mirror, 'Packages.gz')).then(() => true, () => false);
  if (manifest?.hash === hash && indexed) return { built: false, seconds: 0 };

  const started = Date.now();
  await ensureTools(['dpkg-scanpackages'], log);
  log(`building the lab's offline package mirror (${MIRROR_PACKAGES.join(' ')} and their dependencies)`);
  const names = await machineApt.withDependencies(MIRROR_PACKAGES);
  const building = `${paths.mirror}.building`;
  // A build that an earlier `lab up` started and was killed during may still be running.
  await killProcessesUsing(building);
  await rm(building, { recursive: true, force: true });
  await mkdir(building, { recursive: true });
  await machineApt.download(names, building);
  const { stdout: packages } = await run('dpkg-scanpackages', ['-m', '.', '/dev/null'], { cwd: building, timeoutMs: 5 * 60_000 });
  await writeIndex(building, packages);
  await rm(paths.mirror, { recursive: true, force: true });
  await rename(building, paths.mirror);
  const seconds = (Date.now() - started) / 1000;
  await writeManifest(paths.mirrorManifest, { hash, builtAt: new Date().toISOString(), seconds });
  return { built: true, seconds };
}

/** Packages, Packages.gz and a Release file listing their hashes (apt then updates without warnings). */
async function writeIndex(dir: string, packages: string): Promise<void> {
  const files: [string, Buffer][] = [
    ['Packages', Buffer.from(packages)],
    ['Packages.gz', gzipSync(packages, { level: 9 })],
  ];
  for (const [name, content] of files) await writeFile(path.join(dir, name), content);
  const release = [
    'Origin: provision-lab',
    'Label: provision-lab',
    'Suite: lab',
    'Codename: lab',
    `Date: ${new Date().toUTCString()}`,
    'Description: the provision lab offline package mirror',
    'SHA256:',
    ...files.map(([name, content]) => ` ${createHash('sha256').update(content).digest('hex')} ${content.length} ${name}`),
    '',
  ].join('\n');
  await writeFile(path.join(dir, 'Release'), release);
}

const LISTEN_WAIT = { timeoutMs: 10_000, intervalMs: 25 };

/**
 * Starts the mirror's HTTP server on every given bridge address (a detached process that outlives
 * `lab up`) and waits until it accepts connections. `record` is called with the process as soon
 * as its pid is known.
 */
export async function startMirrorServer(paths: LabPaths, bridges: readonly LabBridge[], record: (resource: LabResource) => Promise<void>): Promise<void> {
  const logFile = path.join(paths.cache, 'mirror-server.log');
  const log = await open(logFile, 'w');
  let child;
  try {
    child = spawn(process.execPath, [MIRROR_SERVER_SCRIPT, paths.mirror, String(MIRROR_PORT), ...bridges.map((bridge) => bridge.address)], {
      detached: true,
      stdio: ['ignore', log.fd, log.fd],
    });
  } finally {
    await log.close();
  }
  child.unref();
  const pid = child.pid;
  const startTime = pid === undefined ? undefined : await processStartTime(pid);
  if (pid === undefined || startTime === undefined) throw new Error(`the package mirror server did not start: ${await readFile(logFile, 'utf8').catch(() => '')}`);
  await record({ type: 'process', pid, startTime, what: 'package mirror server' });

  const first = bridges[0];
  if (first === undefined) return;
  const ready = await poll(async () => {
    if (!(await isRunning(pid, startTime))) return 'exited' as const;
    return (await canConnect(first.address, MIRROR_PORT)) ? ('listening' as const) : undefined;
  }, LISTEN_WAIT);
  if (ready !== 'listening') {
    const output = (await readFile(logFile, 'utf8').catch(() => '')).trim();
    throw new UserError(
      `the lab's package mirror could not serve on ${first.address}:${MIRROR_PORT}${ready === 'exited' ? '' : ' (no answer within 10 s)'}${output ? `: ${output}` : ''}`,
      {},
      `see ${logFile}; another program may use port ${MIRROR_PORT}`,
    );
  }
}

function canConnect(address: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: address, port, timeout: 1_000 });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.once('timeout', () => done(false));
  });
}

/** Mirror servers of this cache that no state file names (after a lost state file). */
export async function mirrorServerLeftovers(paths: LabPaths): Promise<LabResource[]> {
  const found = await findProcesses([MIRROR_SERVER_SCRIPT, paths.mirror]);
  return found.map(({ pid, startTime }) => ({ type: 'process', pid, startTime, what: 'package mirror server' }));
}
