// The lab's own Docker engine: a dockerd with every file under one lab directory and with flags
// that leave this machine alone. Its default firewall handling would set the FORWARD policy to
// DROP, which breaks the lab's bridged traffic (br_netfilter sends it through FORWARD), and it
// would turn on IP forwarding and make a docker0 bridge; the lab attaches containers to its own
// bridge instead (container.ts). dockerd runs detached, so a later process can stop it by its dir.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdir, readFile, rm, rmdir, mkdir, open, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { execa } from 'execa';
import { UserError } from '../../core/errors.ts';
import { ensureTools } from '../command.ts';
import type { MachineTool } from '../packages.ts';
import { signal } from '../processes.ts';
import { poll } from '../wait.ts';

export interface DockerdFiles {
  dir: string;
  /** images and containers: kept across runs, so the lab image is imported once */
  dataRoot: string;
  /** runtime state (containerd, network namespaces): removed on stop */
  execRoot: string;
  socket: string;
  pidFile: string;
  logFile: string;
  configFile: string;
  /** the docker CLI's own configuration directory (DOCKER_CONFIG), so ~/.docker is left alone */
  cliConfigDir: string;
  /** which shared directories this dockerd created, to remove them again on stop */
  stateFile: string;
  /** the cgroup its containers go into (in every hierarchy), which stopDockerd empties and removes */
  cgroupParent: string;
}

export interface Dockerd extends DockerdFiles {
  pid: number;
  /** the -H value for the docker CLI */
  host: string;
}

/**
 * The containers of a lab's dockerd go into a cgroup named by this prefix and the dockerd's
 * directory, so the dockerds of two labs (two cache directories) never clean up each other's.
 */
export const CGROUP_PARENT_PREFIX = 'provision-lab-docker-';
// Directories dockerd and containerd create outside --exec-root whatever the flags; they are
// removed on stop when this dockerd created them and they are empty.
const SHARED_RUNTIME_DIRS = ['/run/docker/plugins', '/run/docker', '/run/containerd/s', '/run/containerd'];
// sockaddr_un.sun_path holds 107 characters; containerd's socket is the longest path under execRoot.
const MAX_SOCKET_PATH = 107;
const CONTAINERD_SOCKET = 'containerd/containerd.sock';
const POLL_MS = 100;

export function dockerdFiles(dir: string): DockerdFiles {
  return {
    dir,
    dataRoot: join(dir, 'data'),
    execRoot: join(dir, 'exec'),
    socket: join(dir, 'docker.sock'),
    pidFile: join(dir, 'dockerd.pid'),
    logFile: join(dir, 'dockerd.log'),
    configFile: join(dir, 'daemon.json'),
    cliConfigDir: join(dir, 'cli'),
    stateFile: join(dir, 'created-dirs.json'),
    cgroupParent: `${CGROUP_PARENT_PREFIX}${createHash('sha256').update(dir).digest('hex').slice(0, 12)}`,
  };
}

/** The dockerd command line (without the program); pure, so it is tested without Docker. */
export function dockerdArguments(files: DockerdFiles): string[] {
  return [
    // An empty configuration, so /etc/docker/daemon.json on this machine changes nothing.
    '--config-file', files.configFile,
    '--iptables=false',
    '--ip6tables=false',
    '--ip-forward=false',
    '--ip-masq=false',
    '--bridge=none',
    '--cgroup-parent', files.cgroupParent,
    '--data-root', files.dataRoot,
    '--exec-root', files.execRoot,
    '--pidfile', files.pidFile,
    '--host', `unix://${files.socket}`,
  ];
}

/**
 * Starts the lab's dockerd in `dir` (or returns the one already running there) once it answers
 * on its socket, within `timeoutMs` (default 30 s).
 */
/** What running the lab's dockerd runs on this machine. */
export const DOCKERD_TOOLS: readonly MachineTool[] = ['dockerd', 'docker'];

export async function startDockerd(dir: string, options: { timeoutMs?: number; log?: (line: string) => void } = {}): Promise<Dockerd> {
  await ensureTools(DOCKERD_TOOLS, options.log ?? (() => undefined));
  const files = dockerdFiles(dir);
  for (const socket of [files.socket, join(files.execRoot, CONTAINERD_SOCKET)]) {
    if (socket.length > MAX_SOCKET_PATH) throw new UserError(`the lab cache directory path is too long for dockerd's socket ${socket}`, {}, 'use a shorter cache directory');
  }
  const running = await runningDockerdPid(files);
  if (running !== undefined) {
    await waitForPing(files, running, options.timeoutMs ?? 30_000);
    return { ...files, pid: running, host: `unix://${files.socket}` };
  }

  await mkdir(dir, { recursive: true });
  await mkdir(files.cliConfigDir, { recursive: true });
  await writeFile(files.configFile, '{}\n');
  await recordCreatedDirs(files);
  await rm(files.socket, { force: true });
  const log = await open(files.logFile, 'w');
  try {
    const child = spawn('dockerd', dockerdArguments(files), { detached: true, stdio: ['ignore', log.fd, log.fd] });
    const spawned = new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
    await spawned;
    child.unref();
    const pid = child.pid;
    if (pid === undefined) throw new Error('dockerd did not start');
    await waitForPing(files, pid, options.timeoutMs ?? 30_000);
    return { ...files, pid, host: `unix://${files.socket}` };
  } finally {
    await log.close();
  }
}

/**
 * Stops the lab's dockerd in `dir` (its containers stop with it): SIGTERM, then after `timeoutMs`
 * (default 20 s) SIGKILL to it and every process still using its directory; then unmounts what
 * it left mounted, removes its cgroups, its runtime directory and the shared directories it
 * created. The data root (the imported image) stays. A dockerd that is not running is fine: the
 * cleanup still runs, which is what `lab down` needs after a crash.
 */
export async function stopDockerd(dir: string, options: { timeoutMs?: number } = {}): Promise<{ wasRunning: boolean }> {
  const files = dockerdFiles(dir);
  const pid = await runningDockerdPid(files);
  if (pid !== undefined) {
    signal(pid, 'SIGTERM');
    if (!(await waitUntil(async () => (await runningDockerdPid(files)) === undefined, options.timeoutMs ?? 20_000))) signal(pid, 'SIGKILL');
  }
  // containerd, its shims and the containers normally end with dockerd; after a crash or a
  // SIGKILL they may not: the shims are found by their command lines, the containers' processes
  // by the lab's cgroup.
  const leftovers = async (): Promise<number[]> => [...new Set([...(await processesUsing(files.dir)), ...(await cgroupProcesses(files.cgroupParent))])];
  for (const leftover of await leftovers()) signal(leftover, 'SIGKILL');
  if (!(await waitUntil(async () => (await leftovers()).length === 0, 5_000))) {
    throw new Error(`processes of the lab's dockerd in ${files.dir} survived SIGKILL: ${(await leftovers()).join(' ')}`);
  }
  await unmountUnder(files.dir);
  await removeCgroups(files.cgroupParent);
  await rm(files.execRoot, { recursive: true, force: true });
  await rm(files.socket, { force: true });
  await rm(files.pidFile, { force: true });
  await removeShimSockets(files);
  await removeCreatedDirs(files);
  return { wasRunning: pid !== undefined };
}

/** The lab's dockerd in `dir` when it runs (without starting one). */
export async function runningDockerd(dir: string): Promise<Dockerd | undefined> {
  const files = dockerdFiles(dir);
  const pid = await runningDockerdPid(files);
  return pid === undefined ? undefined : { ...files, pid, host: `unix://${files.socket}` };
}

/**
 * True when a dockerd runs in `dir`, or one ended without the cleanup of stopDockerd (which
 * removes its runtime directory last): what `lab down` must stop when no state file names it.
 */
export async function dockerdLeftOver(dir: string): Promise<boolean> {
  const files = dockerdFiles(dir);
  return (await runningDockerdPid(files)) !== undefined || (await readdir(files.execRoot).then(() => true, () => false));
}

export interface DockerResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** stdout and stderr interleaved */
  all: string;
}

/**
 * Runs the docker CLI against the lab's dockerd. Throws when it fails, unless `reject` is false.
 * Bounded by `timeoutMs` (default 120 s).
 */
export async function docker(
  dockerd: Pick<Dockerd, 'host' | 'cliConfigDir'>,
  args: readonly string[],
  options: { reject?: boolean; input?: string | Buffer; timeoutMs?: number } = {},
): Promise<DockerResult> {
  const result = await execa('docker', ['--host', dockerd.host, ...args], {
    env: { DOCKER_CONFIG: dockerd.cliConfigDir },
    reject: false,
    all: true,
    timeout: options.timeoutMs ?? 120_000,
    ...(options.input === undefined ? { stdin: 'ignore' as const } : { input: options.input }),
  });
  const exitCode = result.exitCode ?? -1;
  if (exitCode !== 0 && options.reject !== false) {
    throw new Error(`docker ${args.join(' ')} failed: ${(result.stderr || result.shortMessage || `exit code ${exitCode}`).trim()}`);
  }
  return { exitCode, stdout: result.stdout, stderr: result.stderr, all: result.all };
}

async function runningDockerdPid(files: DockerdFiles): Promise<number | undefined> {
  const pid = Number((await readFile(files.pidFile, 'utf8').catch(() => '')).trim());
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  const words = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).split('\0');
  // The pid may have been reused since: only a dockerd on this lab's socket counts.
  if (!words[0]?.endsWith('dockerd') || !words.includes(`unix://${files.socket}`)) return undefined;
  const state = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  return / Z /.test(state) ? undefined : pid;
}

async function waitForPing(files: DockerdFiles, pid: number, timeoutMs: number): Promise<void> {
  const outcome = await poll(
    async () => {
      if (await ping(files.socket)) return 'answers' as const;
      const alive = await readFile(`/proc/${pid}/stat`, 'utf8').then((stat) => !/ Z /.test(stat), () => false);
      return alive ? undefined : ('exited' as const);
    },
    { timeoutMs, intervalMs: POLL_MS },
  );
  if (outcome === 'answers') return;
  const what = outcome === 'exited' ? 'exited during startup' : `did not answer on ${files.socket} within ${timeoutMs / 1000} s`;
  throw new Error(`dockerd ${what}:\n${await logTail(files)}`);
}

function ping(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ socketPath, path: '/_ping', timeout: 2_000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.once('error', () => resolve(false));
    req.once('timeout', () => {
      req.destroy();
      resolve(false);
    });
    req.end();
  });
}

async function logTail(files: DockerdFiles): Promise<string> {
  const text = await readFile(files.logFile, 'utf8').catch(() => '');
  return text.trimEnd().split('\n').slice(-20).join('\n');
}

/** Pids of processes whose command line names a path under `dir` (dockerd, containerd, shims). */
async function processesUsing(dir: string): Promise<number[]> {
  const pids: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    const commandLine = await readFile(`/proc/${name}/cmdline`, 'utf8').catch(() => '');
    if (commandLine.split('\0').some((word) => word.startsWith(`${dir}/`) || word.includes(`=${dir}/`) || word === `unix://${dir}/docker.sock`)) {
      const state = await readFile(`/proc/${name}/stat`, 'utf8').catch(() => '');
      if (!/ Z /.test(state)) pids.push(Number(name));
    }
  }
  return pids;
}

/** Mount points under `dir` from /proc/self/mountinfo, deepest first (octal escapes decoded). */
export function mountPointsUnder(mountinfo: string, dir: string): string[] {
  const points = mountinfo
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((point): point is string => point !== undefined)
    .map((point) => point.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8))))
    .filter((point) => point === dir || point.startsWith(`${dir}/`));
  return [...new Set(points)].sort((a, b) => b.length - a.length);
}

async function unmountUnder(dir: string): Promise<void> {
  const points = mountPointsUnder(await readFile('/proc/self/mountinfo', 'utf8'), dir);
  for (const point of points) {
    const result = await execa('umount', [point], { reject: false });
    // Busy after a crash (a process we could not see holds it): detach it, it goes when unused.
    if (result.exitCode !== 0) await execa('umount', ['--lazy', point], { reject: false });
  }
  const left = mountPointsUnder(await readFile('/proc/self/mountinfo', 'utf8'), dir);
  if (left.length > 0) throw new Error(`cannot unmount what the lab's dockerd mounted: ${left.join(' ')}`);
}

/** The cgroup of the dockerd's containers in each mounted hierarchy (cgroup v2 has one, v1 one per controller). */
async function labCgroups(cgroupParent: string): Promise<string[]> {
  const roots = new Set<string>(['/sys/fs/cgroup']);
  for (const name of await readdir('/sys/fs/cgroup').catch(() => [] as string[])) roots.add(join('/sys/fs/cgroup', name));
  return [...roots].map((root) => join(root, cgroupParent));
}

/** Pids in the lab cgroup and the per-container cgroups below it. */
async function cgroupProcesses(cgroupParent: string): Promise<number[]> {
  const pids = new Set<number>();
  for (const parent of await labCgroups(cgroupParent)) {
    const children = await readdir(parent, { withFileTypes: true }).catch(() => []);
    const groups = [parent, ...children.filter((child) => child.isDirectory()).map((child) => join(parent, child.name))];
    for (const group of groups) {
      const procs = await readFile(join(group, 'cgroup.procs'), 'utf8').catch(() => '');
      // A process of another PID namespace is listed as 0: it is not this dockerd's to kill.
      for (const line of procs.split('\n')) if (/^[1-9]\d*$/.test(line)) pids.add(Number(line));
    }
  }
  return [...pids];
}

/** Removes the lab's cgroup (and the per-container ones dockerd left) from every hierarchy. */
async function removeCgroups(cgroupParent: string): Promise<void> {
  for (const parent of await labCgroups(cgroupParent)) {
    const children = await readdir(parent, { withFileTypes: true }).catch(() => undefined);
    if (children === undefined) continue;
    // A cgroup is removed with rmdir (its files are virtual); the children first.
    for (const child of children) if (child.isDirectory()) await rmdir(join(parent, child.name)).catch(() => {});
    await rmdir(parent).catch(() => {});
  }
}

/**
 * containerd's shims listen on /run/containerd/s/HASH whatever the flags, and a killed shim leaves
 * its socket there. HASH is containerd's own formula (shim.SocketAddress): the sha256 of
 * "CONTAINERD_SOCKET/NAMESPACE/CONTAINER_ID", with dockerd's namespace "moby"; the container ids
 * are in dockerd's data root. So exactly this dockerd's sockets are removed.
 */
export function shimSocketPath(containerdSocket: string, containerId: string): string {
  return `/run/containerd/s/${createHash('sha256').update(join(containerdSocket, 'moby', containerId)).digest('hex')}`;
}

async function removeShimSockets(files: DockerdFiles): Promise<void> {
  const ids = await readdir(join(files.dataRoot, 'containers')).catch(() => [] as string[]);
  for (const id of ids) await rm(shimSocketPath(join(files.execRoot, CONTAINERD_SOCKET), id), { force: true });
}

async function recordCreatedDirs(files: DockerdFiles): Promise<void> {
  const previous = await readFile(files.stateFile, 'utf8').then((text) => JSON.parse(text) as string[], () => [] as string[]);
  const created = new Set(previous);
  for (const dir of SHARED_RUNTIME_DIRS) {
    const exists = await readdir(dir).then(() => true, () => false);
    if (!exists) created.add(dir);
  }
  await writeFile(files.stateFile, JSON.stringify([...created]) + '\n');
}

async function removeCreatedDirs(files: DockerdFiles): Promise<void> {
  const created = await readFile(files.stateFile, 'utf8').then((text) => JSON.parse(text) as string[], () => [] as string[]);
  // In SHARED_RUNTIME_DIRS order: children before parents. rmdir leaves a directory in use alone.
  for (const dir of SHARED_RUNTIME_DIRS) if (created.includes(dir)) await rmdir(dir).catch(() => {});
  await rm(files.stateFile, { force: true });
}

async function waitUntil(condition: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  return (await poll(async () => ((await condition()) ? true : undefined), { timeoutMs, intervalMs: POLL_MS })) === true;
}
