// `provision lab up|down|status|reset`: the lab's life cycle on this machine.
//
// up:     guard routes, bridges, package mirror, then every host in parallel; done when every sshd
//         answers. On failure it removes what it created. With the lab already up it keeps what
//         is healthy (host-actions.ts): a host that answers runs on untouched, a host that is down
//         starts again on its own disk, a host whose disk no longer fits the inventory or the
//         lab's base is made anew, and each says so; the whole lab is made anew only when what
//         every host shares changed (its networks, the rootfs).
// down:   releases everything the state file names, then whatever still carries the lab's prefix.
// reset:  one host is stopped and started again from a fresh upper layer; the others are untouched.
// status: every lab host of the state, whether it runs and whether its sshd answers.
import { mkdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { UserError } from '../core/errors.ts';
import { exportLabSecrets } from './secrets.ts';
import { loadInventory } from '../inventory/load.ts';
import { ensureTools } from './command.ts';
import { LAB_TOOLS } from './packages.ts';
import { HOST_CONSOLE_LOG, type LabContext, type LabHostDriver } from './driver.ts';
import { LAB_DRIVERS } from './drivers.ts';
import { hostKeyFiles, labHostFiles, type HostFile } from './host-files.ts';
import { hostAction, whyRebuildLab, type HostAction, type HostHealth } from './host-actions.ts';
import { authorizedKeys, ensureHostKeys, ensureLabKey, knownHostsLines, writeKnownHosts } from './keys.ts';
import { acquireLabLock } from './lock.ts';
import { ensureMirror, MIRROR_PORT, startMirrorServer } from './mirror.ts';
import { addGuardRoutes, checkSubnetsFree, createBridge, ensureFirewallRule, firewallOpenings } from './network.ts';
import { checkCacheLocation, hostDir, labPaths, type LabPaths } from './paths.ts';
import { isRunning, killProcess, processStartTime } from './processes.ts';
import { describeResource, findLeftovers, releaseAll, type DriverRegistry, type ReleaseContext } from './release.ts';
import { ensureRootfs, rootfsCurrent } from './rootfs.ts';
import { labSubnets, planLab, type LabBridge, type LabHost, type LabKind, type LabPlan } from './settings.ts';
import { sshBanner } from './ssh-check.ts';
import { labInUse, StateFile, type HostState, type LabResource } from './state.ts';
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
  /** the lab was up already with these hosts, all answering: every one was kept running */
  alreadyUp: boolean;
  hosts: LabHostSummary[];
  /** what lab up did to each host of the inventory, by name */
  hostActions: Record<string, HostAction>;
  /** hosts of the lab that was up which the inventory no longer has: removed */
  removedHosts: string[];
  rootfs: { built: boolean; seconds: number };
  mirror: { built: boolean; seconds: number };
  /** from the first bridge to the last host answering ssh */
  startSeconds: number;
  /** per host started (in parallel): from the start of its creation or restart to its sshd answering */
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
    // Every tool the lab runs, installed in one apt-get before the lab runs any of them (a fresh
    // machine has no ip) and before anything runs in parallel: an error in one host's start can
    // then never meet an apt-get in flight (src/lab/apt.ts).
    await ensureTools([...LAB_TOOLS, ...[...new Set(drivers.values())].flatMap((driver) => driver.tools)], log);
    const existing = await StateFile.read(paths.state);
    const rebuildWhy = existing === undefined ? undefined : whyRebuildLab(existing.state, plan.bridges, await rootfsCurrent(paths));
    // The lab that is up, kept host by host; undefined: the lab is made anew.
    const running = rebuildWhy === undefined ? existing : undefined;
    if (running === undefined) {
      if (existing !== undefined) log(`making the whole lab anew: ${rebuildWhy}`);
      await teardown(s, existing, existing?.state.bridges ?? plan.bridges);
    }

    const subnets = labSubnets(plan);
    await checkSubnetsFree(subnets);
    const [labPublicKey, rootfs, mirror] = await Promise.all([ensureLabKey(paths), ensureRootfs(paths, log), ensureMirror(paths, log)]);

    const startedHosts = Date.now();
    const state =
      running ??
      new StateFile(paths.state, {
        version: 1,
        phase: 'starting',
        inventory: inventoryFile,
        createdAt: new Date().toISOString(),
        bridges: plan.bridges,
        resources: [],
        hosts: {},
      });
    state.state.inventory = inventoryFile;
    // A lab up again from another process (a drill restarting a VM) keeps its user while it runs.
    if (!(await labInUse(state.state))) {
      const startTime = await processStartTime(process.pid);
      if (startTime !== undefined) state.state.user = { pid: process.pid, startTime };
    }
    await state.save();
    const context: LabContext = { paths, bridges: plan.bridges, log };
    const recordLabWide = (resource: LabResource) => state.record(undefined, resource);
    // A host that fails to start again leaves the others of a running lab as they are.
    const failureHint = (host: string) =>
      running === undefined ? REBUILD_LAB_HINT : `'provision lab reset ${host}' starts it on a new disk, leaving the other hosts as they are; if it persists, report it with this output`;
    try {
      // Guard routes first: from here on, lab addresses never resolve to the default gateway.
      // Each step also finds what a running lab has already (and records it once).
      await addGuardRoutes(subnets);
      for (const bridge of plan.bridges) {
        await recordLabWide({ type: 'link', name: bridge.name });
        await createBridge(bridge);
      }
      for (const opening of await firewallOpenings(plan.bridges, MIRROR_PORT)) {
        await recordLabWide(opening);
        await ensureFirewallRule(opening);
      }
      await ensureMirrorServer(paths, plan.bridges, state);
      const bases = new Map<LabKind, string | undefined>();
      for (const driver of new Set(drivers.values())) {
        const runningOfKind = Object.values(state.state.hosts).map((host) => host.spec).filter((host) => host.kind === driver.kind);
        await driver.prepare?.(context, recordLabWide, runningOfKind);
        bases.set(driver.kind, await driver.base?.(context));
      }

      const actions = new Map<string, HostAction>();
      await Promise.all(
        plan.hosts.map(async (host) => {
          const previous = state.state.hosts[host.name];
          const health = previous === undefined ? 'ended' : await hostHealth(previous);
          actions.set(host.name, hostAction(previous, host, bases.get(host.kind), health));
        }),
      );
      const removedHosts = Object.keys(state.state.hosts).filter((name) => !actions.has(name));
      await stopReplaced(s, state, actions);
      // The host keys are made before the hosts start in parallel, so no two starts make one.
      await writeLabKnownHosts(paths, plan.hosts);

      // Settle every start before reacting to a failure: a teardown while other hosts are still
      // being created would miss what they create after it.
      const starting = plan.hosts.filter((host) => actions.get(host.name)?.action !== 'keep');
      const starts = await Promise.allSettled(
        starting.map((host) => {
          const driver = drivers.get(host.name)!;
          return actions.get(host.name)?.action === 'restart'
            ? restartHost(host, state, driver, context, failureHint(host.name))
            : startHost(host, state, driver, context, labPublicKey, bases.get(host.kind), failureHint(host.name));
        }),
      );
      const failed = starts.find((start) => start.status === 'rejected');
      if (failed !== undefined) throw failed.reason;
      const hostSeconds: Record<string, number> = {};
      starts.forEach((start, i) => {
        if (start.status === 'fulfilled') hostSeconds[starting[i]!.name] = start.value;
      });
      state.state.phase = 'up';
      await state.save();
      return {
        alreadyUp: starting.length === 0 && removedHosts.length === 0,
        hosts: plan.hosts.map(summary),
        hostActions: Object.fromEntries(plan.hosts.map((host) => [host.name, actions.get(host.name)!])),
        removedHosts,
        rootfs,
        mirror,
        startSeconds: (Date.now() - startedHosts) / 1000,
        hostSeconds,
        totalSeconds: (Date.now() - started) / 1000,
        keyPath: paths.key,
        knownHostsPath: paths.knownHosts,
      };
    } catch (error) {
      if (running === undefined) {
        log('lab up failed: removing what it created');
        await teardown(s, state, plan.bridges).catch((cleanupError: Error) => log(cleanupError.message));
      }
      throw error;
    }
  });
}

const REBUILD_LAB_HINT = 'run provision lab down, then lab up again; if it persists, report it with this output';

/**
 * The package mirror server of the lab, started unless the one the state names still runs. It is
 * the lab's only process of its own (each host's and the dockerd are recorded elsewhere).
 */
async function ensureMirrorServer(paths: LabPaths, bridges: readonly LabBridge[], state: StateFile): Promise<void> {
  const recorded = state.state.resources.filter((resource) => resource.type === 'process');
  for (const server of recorded) if (await isRunning(server.pid, server.startTime)) return;
  await state.forget(undefined, (resource) => resource.type === 'process');
  await startMirrorServer(paths, bridges, (resource) => state.record(undefined, resource));
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

/** Creates one host on a new disk and waits for its sshd; resolves with the seconds that took. */
async function startHost(host: LabHost, state: StateFile, driver: LabHostDriver, context: LabContext, labPublicKey: string, base: string | undefined, failureHint: string): Promise<number> {
  const started = Date.now();
  const { paths } = context;
  const dir = hostDir(paths, host.name);
  await state.addHost(host, base);
  await state.record(host.name, { type: 'path', path: dir });
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const hostKeys = await ensureHostKeys(paths, host.name);
  const files = await labHostFiles({ host, bridges: context.bridges, rootfs: paths.rootfs, authorizedKeys: await authorizedKeys(host, labPublicKey), hostKeys });
  await launch(host, 'new', files, state, driver, context, failureHint);
  return (Date.now() - started) / 1000;
}

/**
 * Starts a host again on the disk it had, once stopReplaced has stopped what was left of it;
 * resolves with the seconds that took.
 */
async function restartHost(host: LabHost, state: StateFile, driver: LabHostDriver, context: LabContext, failureHint: string): Promise<number> {
  const started = Date.now();
  // Its position may be new (it names its links); nothing on its disk depends on it.
  state.hostState(host.name).spec = host;
  // The disk has every file the lab wrote, and what provisioning changed since: only the host keys
  // go in again (a VM's or container's guest setup replaces them at every start).
  const files = await hostKeyFiles(host.name, await ensureHostKeys(context.paths, host.name));
  await launch(host, 'kept', files, state, driver, context, failureHint);
  return (Date.now() - started) / 1000;
}

async function launch(host: LabHost, disk: 'new' | 'kept', files: readonly HostFile[], state: StateFile, driver: LabHostDriver, context: LabContext, failureHint: string): Promise<void> {
  const dir = hostDir(context.paths, host.name);
  await driver.start({ ...context, host, disk, dir, rootfs: context.paths.rootfs, files, record: (resource) => state.record(host.name, resource) });
  await waitForSsh(host, state.hostState(host.name), driver, dir, failureHint);
}

/**
 * What a host restarted on its disk keeps: its directory (a namespace host's upper layer, a VM's
 * overlay) and its driver's records (the VM, the container, whose filesystem is its disk). Its
 * processes, namespaces and links are made anew.
 */
function holdsDisk(resource: LabResource): boolean {
  return resource.type === 'path' || resource.type === 'driver';
}

/**
 * Stops what `actions` replace before any host starts (a host's link names may pass to another):
 * hosts the inventory no longer has, and hosts that get a new disk, go whole; of hosts restarted on
 * their disks, what is left of their processes, namespaces and links.
 */
async function stopReplaced(s: Session, state: StateFile, actions: ReadonlyMap<string, HostAction>): Promise<void> {
  const context = releaseContext(s, state.state.bridges);
  const failures: Error[] = [];
  await Promise.all(
    Object.values(state.state.hosts).map(async (hostState) => {
      const name = hostState.spec.name;
      const action = actions.get(name)?.action;
      if (action === 'keep' || action === 'create') return;
      const stopping = action === 'restart' ? hostState.resources.filter((resource) => !holdsDisk(resource)) : hostState.resources;
      const hostFailures = await releaseAll(stopping, context);
      failures.push(...hostFailures);
      if (hostFailures.length > 0) return;
      if (action === undefined) await state.removeHost(name);
      else if (action === 'restart') await state.forget(name, (resource) => stopping.includes(resource));
      // A rebuilt host's record is made anew by startHost.
    }),
  );
  if (failures.length > 0) {
    throw new UserError(`lab up could not stop what it replaces:\n  ${failures.map((failure) => failure.message).join('\n  ')}`, {}, 'fix what is named above, then run provision lab up again (or lab down)');
  }
}

const SSH_POLL_MS = 50;
// How long sshd gets to greet: it starts a new sshd for each connection, which takes a VM under TCG
// on a busy machine seconds. A host that does not listen is refused at once, so this is waited
// only for a host that accepts and stays silent; taking a slow host for a silent one would fail
// its start, or restart a healthy host and lose what runs in it.
const BANNER_TIMEOUT_MS = 5_000;

/** Waits (bounded) until the host's sshd answers; fails early when its processes have ended. */
async function waitForSsh(host: LabHost, hostState: HostState, driver: LabHostDriver, dir: string, failureHint: string): Promise<void> {
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
  throw new UserError(`lab host ${host.name} ${what}${console ? `; its console said:\n    ${console}` : ''}`, { host: host.name }, failureHint);
}

/** True unless the host recorded processes and all of them have ended. */
async function hostRuns(hostState: HostState): Promise<boolean> {
  const processes = hostState.resources.filter((resource) => resource.type === 'process');
  if (processes.length === 0) return true;
  for (const resource of processes) if (await isRunning(resource.pid, resource.startTime)) return true;
  return false;
}

async function hostHealth(host: HostState): Promise<HostHealth> {
  if (!(await hostRuns(host))) return 'ended';
  return (await sshBanner(summary(host.spec).address, host.spec.sshPort, BANNER_TIMEOUT_MS)) === undefined ? 'silent' : 'answers';
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
      const banner = running ? await sshBanner(base.address, base.sshPort, BANNER_TIMEOUT_MS) : undefined;
      return { ...base, running, ...(banner === undefined ? {} : { sshBanner: banner }) };
    }),
  );
}

/**
 * Kills a lab VM outright (SIGKILL to its qemu: no shutdown, as when a director loses power), for
 * provision drill. Its disk and its other resources stay: `lab up` starts it again. False when the
 * lab has no such VM or it is not running.
 */
export async function labCrash(options: Omit<LabOptions, 'inventoryFile'> & { host: string }): Promise<boolean> {
  requireRootOnLinux();
  const s = session(options);
  const state = await StateFile.read(s.paths.state);
  const host = state?.state.hosts[options.host];
  if (host === undefined || host.spec.kind !== 'vm') return false;
  const qemu = host.resources.find((r): r is Extract<LabResource, { type: 'process' }> => r.type === 'process' && r.what === `qemu of ${options.host}`);
  if (qemu === undefined || !(await isRunning(qemu.pid, qemu.startTime))) return false;
  await killProcess(qemu.pid, qemu.startTime);
  return true;
}

/**
 * Throws hosts' changes away: stops each and starts it again from a fresh upper layer (a new disk),
 * all of them in parallel; the other hosts are untouched. Every name is checked before any host is
 * stopped.
 */
export async function labReset(options: Omit<LabOptions, 'inventoryFile'> & { host: string | readonly string[] }): Promise<{ seconds: number }> {
  const started = Date.now();
  requireRootOnLinux();
  const s = session(options);
  const names = [...new Set(typeof options.host === 'string' ? [options.host] : options.host)];
  return withLock(s.paths, async () => {
    const state = await StateFile.read(s.paths.state);
    if (state === undefined || state.state.phase !== 'up') throw new UserError('the lab is not up', {}, NOT_UP_HINT);
    const unknown = names.filter((name) => state.state.hosts[name] === undefined);
    if (unknown.length > 0) {
      throw new UserError(`the lab has no host ${unknown.map((name) => `'${name}'`).join(', ')}`, {}, `lab hosts: ${Object.keys(state.state.hosts).join(', ')}`);
    }
    const hosts = names.map((name) => state.state.hosts[name]!.spec);
    const drivers = driversFor({ hosts, bridges: state.state.bridges }, s.drivers);
    const context = releaseContext(s, state.state.bridges);
    const stopped = await Promise.all(hosts.map(async (host) => ({ host, failures: await releaseAll(state.state.hosts[host.name]!.resources, context) })));
    const failed = stopped.filter((entry) => entry.failures.length > 0);
    if (failed.length > 0) {
      const messages = failed.flatMap((entry) => entry.failures.map((failure) => `${entry.host.name}: ${failure.message}`));
      throw new UserError(`could not stop lab host${failed.length > 1 ? 's' : ''} ${failed.map((entry) => entry.host.name).join(', ')}:\n  ${messages.join('\n  ')}`, failed.length === 1 ? { host: failed[0]!.host.name } : {}, 'run provision lab down, then lab up');
    }
    const labPublicKey = await ensureLabKey(s.paths);
    const bases = new Map<LabKind, string | undefined>();
    for (const driver of new Set(drivers.values())) bases.set(driver.kind, await driver.base?.(context));
    // Settle every start before reporting a failure, as lab up does.
    const starts = await Promise.allSettled(
      hosts.map((host) => startHost(host, state, drivers.get(host.name)!, context, labPublicKey, bases.get(host.kind), REBUILD_LAB_HINT)),
    );
    await writeLabKnownHosts(s.paths, Object.values(state.state.hosts).map((entry) => entry.spec));
    const failedStart = starts.find((start) => start.status === 'rejected');
    if (failedStart !== undefined) throw failedStart.reason;
    return { seconds: (Date.now() - started) / 1000 };
  });
}
