// `provision lab up|down|status|reset`: the lab's life cycle on this machine.
//
// up:     guard routes, bridges, package mirror, then every host in parallel; done when every sshd
//         answers. On failure it removes what it created. With the lab already up (same hosts,
//         all answering) it changes nothing.
// down:   releases everything the state file names, then whatever still carries the lab's prefix.
// reset:  one host is stopped and started again from a fresh upper layer; the others are untouched.
// status: every lab host of the state, whether it runs and whether its sshd answers.
import { mkdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { UserError } from '../core/errors.ts';
import { exportLabSecrets } from './secrets.ts';
import { loadInventory } from '../inventory/load.ts';
import { ensureTools } from './command.ts';
import { HOST_CONSOLE_LOG, type LabContext, type LabHostDriver } from './driver.ts';
import { LAB_DRIVERS } from './drivers.ts';
import { labHostFiles } from './host-files.ts';
import { authorizedKeys, ensureHostKeys, ensureLabKey, knownHostsLines, writeKnownHosts } from './keys.ts';
import { acquireLabLock } from './lock.ts';
import { ensureMirror, MIRROR_PORT, startMirrorServer } from './mirror.ts';
import { addGuardRoutes, checkSubnetsFree, createBridge, firewallOpenings, insertFirewallRule } from './network.ts';
import { checkCacheLocation, hostDir, labPaths, type LabPaths } from './paths.ts';
import { isRunning } from './processes.ts';
import { describeResource, findLeftovers, releaseAll, type DriverRegistry, type ReleaseContext } from './release.ts';
import { ensureRootfs } from './rootfs.ts';
import { labSubnets, planLab, type LabBridge, type LabHost, type LabPlan } from './settings.ts';
import { sshBanner } from './ssh-check.ts';
import { StateFile, type HostState } from './state.ts';
import { poll } from './wait.ts';

export interface LabOptions {
  inventoryFile: string;
  /** where PROVISION_LAB_CACHE, XDG_CACHE_HOME and HOME are read; default process.env */
  env?: Readonly<Record<string, string | undefined>>;
  /** progress lines (building the rootfs, cleaning up); default: none */
  log?: (line: string) => void;
  /** the host kinds available; default LAB_DRIVERS */
  drivers?: DriverRegistry;
}

export interface LabHostSummary {
  name: string;
  kind: LabHost['kind'];
  address: string;
  sshPort: number;
}

export interface LabUpResult {
  /** the lab was up already with these hosts, all answering: nothing changed */
  alreadyUp: boolean;
  hosts: LabHostSummary[];
  rootfs: { built: boolean; seconds: number };
  mirror: { built: boolean; seconds: number };
  /** from the first bridge to the last host answering ssh */
  startSeconds: number;
  /** per host: from the start of its creation (its hosts started in parallel) to its sshd answering */
  hostSeconds: Record<string, number>;
  totalSeconds: number;
  keyPath: string;
  knownHostsPath: string;
}

export interface LabHostStatus extends LabHostSummary {
  /** its processes run */
  running: boolean;
  /** sshd's identification line, when it answered */
  sshBanner?: string;
}

export const NOT_UP_HINT = "start it with 'provision lab up --inventory FILE'";

/** Root on Linux: namespaces, bridges and mounts need it. */
export function requireRootOnLinux(): void {
  const alternatives = 'or use the Vagrantfile (vagrant up) or Docker (a container started with --privileged) to run the lab inside a Linux machine you are root on';
  if (process.platform !== 'linux') {
    throw new UserError(`the lab needs Linux (it makes hosts out of Linux namespaces and bridges); this is ${process.platform}`, {}, `run it on Linux, ${alternatives}`);
  }
  if (process.getuid?.() !== 0) {
    throw new UserError('the lab needs root: it creates network namespaces, bridges, routes and mounts', {}, `run it as root (sudo provision lab ...), ${alternatives}`);
  }
}

interface Session {
  paths: LabPaths;
  drivers: DriverRegistry;
  log: (line: string) => void;
}

function session(options: Omit<LabOptions, 'inventoryFile'>): Session {
  const paths = labPaths(options.env);
  checkCacheLocation(paths);
  return { paths, drivers: options.drivers ?? LAB_DRIVERS, log: options.log ?? (() => undefined) };
}

function releaseContext({ paths, drivers, log }: Session, bridges: readonly LabBridge[]): ReleaseContext {
  return { paths, drivers, log, bridges };
}

async function withLock<T>(paths: LabPaths, body: () => Promise<T>): Promise<T> {
  await mkdir(paths.cache, { recursive: true });
  const unlock = await acquireLabLock(paths.lock);
  try {
    return await body();
  } finally {
    await unlock();
  }
}

export async function labUp(options: LabOptions): Promise<LabUpResult> {
  const started = Date.now();
  requireRootOnLinux();
  const s = session(options);
  const { paths, log } = s;
  // The lab needs only the hosts, but the inventory loads whole: its cluster's !env secrets come
  // from the lab's own store when the environment does not set them.
  const env = { ...process.env, ...options.env };
  exportLabSecrets(env);
  const inventory = await loadInventory(options.inventoryFile, { env });
  const plan = planLab(inventory);
  const drivers = driversFor(plan, s.drivers);
  const inventoryFile = path.resolve(options.inventoryFile);

  return withLock(paths, async () => {
    const existing = await StateFile.read(paths.state);
    if (existing !== undefined && existing.state.phase === 'up' && sameLab(existing.state.bridges, existing.state.hosts, plan) && (await allAnswer(existing))) {
      return { ...result(plan, paths, started, 0), alreadyUp: true };
    }
    if (existing !== undefined) log('removing the previous lab first (it differs from the inventory, did not finish starting, or a host is down)');
    await teardown(s, existing, existing?.state.bridges ?? plan.bridges);

    await ensureTools(['ip', 'unshare', 'ssh-keygen'], log);
    const subnets = labSubnets(plan);
    await checkSubnetsFree(subnets);
    const [labPublicKey, rootfs, mirror] = await Promise.all([ensureLabKey(paths), ensureRootfs(paths, log), ensureMirror(paths, log)]);

    const startedHosts = Date.now();
    const hostSeconds: Record<string, number> = {};
    const state = new StateFile(paths.state, {
      version: 1,
      phase: 'starting',
      inventory: inventoryFile,
      createdAt: new Date().toISOString(),
      bridges: plan.bridges,
      resources: [],
      hosts: {},
    });
    await state.save();
    const context: LabContext = { paths, bridges: plan.bridges, log };
    try {
      // Guard routes first: from here on, lab addresses never resolve to the default gateway.
      await addGuardRoutes(subnets);
      for (const bridge of plan.bridges) {
        await state.record(undefined, { type: 'link', name: bridge.name });
        await createBridge(bridge);
      }
      for (const opening of await firewallOpenings(plan.bridges, MIRROR_PORT)) {
        await state.record(undefined, opening);
        await insertFirewallRule(opening);
      }
      await startMirrorServer(paths, plan.bridges, (resource) => state.record(undefined, resource));
      for (const driver of new Set(drivers.values())) await driver.prepare?.(context, (resource) => state.record(undefined, resource));
      // Settle every start before reacting to a failure: a teardown while other hosts are still
      // being created would miss what they create after it.
      const starts = await Promise.allSettled(plan.hosts.map((host) => startHost(host, state, drivers.get(host.name)!, context, labPublicKey)));
      const failed = starts.find((start) => start.status === 'rejected');
      if (failed !== undefined) throw failed.reason;
      starts.forEach((start, i) => {
        if (start.status === 'fulfilled') hostSeconds[plan.hosts[i]!.name] = start.value;
      });
      await writeLabKnownHosts(paths, plan.hosts);
      state.state.phase = 'up';
      await state.save();
    } catch (error) {
      log('lab up failed: removing what it created');
      await teardown(s, state, plan.bridges).catch((cleanupError: Error) => log(cleanupError.message));
      throw error;
    }
    return { ...result(plan, paths, started, (Date.now() - startedHosts) / 1000), hostSeconds, rootfs, mirror, alreadyUp: false };
  });
}

function result(plan: LabPlan, paths: LabPaths, started: number, startSeconds: number): LabUpResult {
  return {
    alreadyUp: false,
    hosts: plan.hosts.map(summary),
    rootfs: { built: false, seconds: 0 },
    mirror: { built: false, seconds: 0 },
    startSeconds,
    hostSeconds: {},
    totalSeconds: (Date.now() - started) / 1000,
    keyPath: paths.key,
    knownHostsPath: paths.knownHosts,
  };
}

function summary(host: LabHost): LabHostSummary {
  return { name: host.name, kind: host.kind, address: host.interfaces[0]?.address ?? '', sshPort: host.sshPort };
}

/** The driver of each host (by host name); a kind this build cannot create is a user error. */
function driversFor(plan: LabPlan, registry: DriverRegistry): Map<string, LabHostDriver> {
  const drivers = new Map<string, LabHostDriver>();
  for (const host of plan.hosts) {
    const driver = registry.get(host.kind);
    if (driver === undefined) {
      const available = [...registry.keys()].join(', ');
      throw new UserError(`lab host ${host.name} is of kind '${host.kind}', which this version of the lab cannot create yet`, { host: host.name }, `use a kind it can create (${available})`);
    }
    drivers.set(host.name, driver);
  }
  return drivers;
}

/** Creates one host and waits for its sshd; resolves with the seconds that took. */
async function startHost(host: LabHost, state: StateFile, driver: LabHostDriver, context: LabContext, labPublicKey: string): Promise<number> {
  const started = Date.now();
  const { paths } = context;
  const dir = hostDir(paths, host.name);
  await state.addHost(host);
  await state.record(host.name, { type: 'path', path: dir });
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const hostKeys = await ensureHostKeys(paths, host.name);
  const files = await labHostFiles({ host, bridges: context.bridges, rootfs: paths.rootfs, authorizedKeys: await authorizedKeys(host, labPublicKey), hostKeys });
  await driver.start({ ...context, host, dir, rootfs: paths.rootfs, files, record: (resource) => state.record(host.name, resource) });
  await waitForSsh(host, state.hostState(host.name), driver, dir);
  return (Date.now() - started) / 1000;
}

const SSH_POLL_MS = 50;
const BANNER_TIMEOUT_MS = 1_000;

/** Waits (bounded) until the host's sshd answers; fails early when its processes have ended. */
async function waitForSsh(host: LabHost, hostState: HostState, driver: LabHostDriver, dir: string): Promise<void> {
  const address = host.interfaces[0]?.address ?? '';
  const outcome = await poll(
    async () => {
      if (!(await hostRuns(hostState))) return 'ended' as const;
      return (await sshBanner(address, host.sshPort, BANNER_TIMEOUT_MS)) === undefined ? undefined : ('answers' as const);
    },
    { timeoutMs: driver.sshReadyTimeoutMs, intervalMs: SSH_POLL_MS },
  );
  if (outcome === 'answers') return;
  const console = (await readFile(path.join(dir, HOST_CONSOLE_LOG), 'utf8').catch(() => '')).trim().split('\n').slice(-15).join('\n    ');
  const what = outcome === 'ended' ? 'stopped before its sshd answered' : `did not answer ssh on ${address}:${host.sshPort} within ${driver.sshReadyTimeoutMs / 1000} s`;
  throw new UserError(`lab host ${host.name} ${what}${console ? `; its console said:\n    ${console}` : ''}`, { host: host.name }, 'run provision lab down, then lab up again; if it persists, report it with this output');
}

/** True unless the host recorded processes and all of them have ended. */
async function hostRuns(hostState: HostState): Promise<boolean> {
  const processes = hostState.resources.filter((resource) => resource.type === 'process');
  if (processes.length === 0) return true;
  for (const resource of processes) if (await isRunning(resource.pid, resource.startTime)) return true;
  return false;
}

async function allAnswer(state: StateFile): Promise<boolean> {
  const hosts = Object.values(state.state.hosts);
  const answers = await Promise.all(hosts.map(async (host) => (await hostRuns(host)) && (await sshBanner(summary(host.spec).address, host.spec.sshPort, BANNER_TIMEOUT_MS)) !== undefined));
  return hosts.length > 0 && answers.every(Boolean);
}

function sameLab(bridges: readonly LabBridge[], hosts: Record<string, HostState>, plan: LabPlan): boolean {
  const running = Object.values(hosts)
    .map((host) => host.spec)
    .sort((a, b) => a.index - b.index);
  return isDeepStrictEqual(bridges, plan.bridges) && isDeepStrictEqual(running, plan.hosts);
}

async function writeLabKnownHosts(paths: LabPaths, hosts: readonly LabHost[]): Promise<void> {
  const lines: string[] = [];
  for (const host of hosts) lines.push(...knownHostsLines(host, await ensureHostKeys(paths, host.name)));
  await writeKnownHosts(paths.knownHosts, lines);
}

/**
 * Removes a lab: its hosts (in parallel), its lab-wide resources, then leftovers found by prefix.
 * Keeps the state file when something could not be removed, so `lab down` can be run again.
 */
async function teardown(s: Session, state: StateFile | undefined, bridges: readonly LabBridge[]): Promise<number> {
  const context = releaseContext(s, bridges);
  const failures: Error[] = [];
  let released = 0;
  if (state !== undefined) {
    const hosts = Object.values(state.state.hosts);
    const perHost = await Promise.all(hosts.map((host) => releaseAll(host.resources, context)));
    for (const hostFailures of perHost) failures.push(...hostFailures);
    failures.push(...(await releaseAll(state.state.resources, context)));
    released += hosts.length;
  }
  const leftovers = await findLeftovers(context);
  if (leftovers.length > 0) {
    s.log(`removing leftovers of an earlier lab: ${leftovers.map(describeResource).join(', ')}`);
    failures.push(...(await releaseAll(leftovers, context)));
  }
  if (failures.length > 0) {
    throw new UserError(`the lab could not remove everything:\n  ${failures.map((failure) => failure.message).join('\n  ')}`, {}, 'fix what is named above, then run provision lab down again');
  }
  await rm(s.paths.knownHosts, { force: true });
  await state?.remove();
  return released;
}

export interface LabDownResult {
  /** hosts the state file named */
  hosts: number;
  /** false when there was neither a lab nor any leftover */
  removed: boolean;
  seconds: number;
}

/** Removes the lab (idempotent: with nothing to remove it does nothing). */
export async function labDown(options: Omit<LabOptions, 'inventoryFile'> & { inventoryFile?: string } = {}): Promise<LabDownResult> {
  const started = Date.now();
  requireRootOnLinux();
  const s = session(options);
  return withLock(s.paths, async () => {
    const state = await StateFile.read(s.paths.state);
    const leftoversBefore = state === undefined ? (await findLeftovers(releaseContext(s, []))).length : 0;
    const hosts = await teardown(s, state, state?.state.bridges ?? []);
    return { hosts, removed: state !== undefined || leftoversBefore > 0, seconds: (Date.now() - started) / 1000 };
  });
}

/** Every host of the running lab: whether it runs and whether its sshd answers. Undefined when the lab is down. */
export async function labStatus(options: Omit<LabOptions, 'inventoryFile' | 'drivers'> = {}): Promise<LabHostStatus[] | undefined> {
  const { paths } = session(options);
  const state = await StateFile.read(paths.state);
  if (state === undefined) return undefined;
  return Promise.all(
    Object.values(state.state.hosts).map(async (host): Promise<LabHostStatus> => {
      const base = summary(host.spec);
      const running = await hostRuns(host);
      const banner = running ? await sshBanner(base.address, base.sshPort, BANNER_TIMEOUT_MS * 2) : undefined;
      return { ...base, running, ...(banner === undefined ? {} : { sshBanner: banner }) };
    }),
  );
}

/** Throws one host's changes away: stops it and starts it again from a fresh upper layer. */
export async function labReset(options: Omit<LabOptions, 'inventoryFile'> & { host: string }): Promise<{ seconds: number }> {
  const started = Date.now();
  requireRootOnLinux();
  const s = session(options);
  return withLock(s.paths, async () => {
    const state = await StateFile.read(s.paths.state);
    if (state === undefined || state.state.phase !== 'up') throw new UserError('the lab is not up', {}, NOT_UP_HINT);
    const hostState = state.state.hosts[options.host];
    if (hostState === undefined) {
      throw new UserError(`the lab has no host '${options.host}'`, {}, `lab hosts: ${Object.keys(state.state.hosts).join(', ')}`);
    }
    const host = hostState.spec;
    const driver = driversFor({ hosts: [host], bridges: state.state.bridges }, s.drivers).get(host.name)!;
    const context = releaseContext(s, state.state.bridges);
    const failures = await releaseAll(hostState.resources, context);
    if (failures.length > 0) {
      throw new UserError(`could not stop lab host ${host.name}:\n  ${failures.map((failure) => failure.message).join('\n  ')}`, { host: host.name }, 'run provision lab down, then lab up');
    }
    const labPublicKey = await ensureLabKey(s.paths);
    await startHost(host, state, driver, context, labPublicKey);
    await writeLabKnownHosts(s.paths, Object.values(state.state.hosts).map((entry) => entry.spec));
    return { seconds: (Date.now() - started) / 1000 };
  });
}
