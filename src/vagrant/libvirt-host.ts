// The machine's side of the Vagrant lab with the libvirt provider: the project's own libvirtd, the
// Vagrantfile's isolated networks with their guard routes, the package mirror on the management
// network; and the cleanup that removes all of it once no machine is left.
//
// Why libvirtd runs in a mount namespace of its own: the machine has no systemd (Debian's
// libvirt-daemon-system, which would start and configure libvirtd, needs it, and brings the
// "default" NAT network). libvirtd reads its driver settings from /etc/libvirt and keeps its state
// in /var/lib/libvirt; in its own mount namespace those are directories of this project's state
// directory, bind-mounted: the machine's /etc and /var are left alone, everything libvirt defines
// (networks, pools, volumes, domains) lives and dies with that state, and the settings are the
// project's (qemu.conf: qemu as root; no virtlogd). Its sockets are the usual ones (/run/libvirt),
// so vagrant-libvirt and virsh find it as qemu:///system.
import { mkdir, readFile, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { UserError } from '../core/errors.ts';
import { ensureTools, run, tryRun } from '../lab/command.ts';
import { formatAddress, bridgeAddress, formatSubnet } from '../lab/ipv4.ts';
import { isEmptyTable, savedTables } from '../lab/iptables-save.ts';
import { acquireLabLock } from '../lab/lock.ts';
import { ensureMirror, MIRROR_PORT, startMirrorServer } from '../lab/mirror.ts';
import { addGuardRoutes, checkSubnetsFree, disableIpv6, guardRouteArgs } from '../lab/network.ts';
import { labCacheDir, labPaths } from '../lab/paths.ts';
import { findProcesses, isRunning, killProcess, processStartTime, signal } from '../lab/processes.ts';
import { poll } from '../lab/wait.ts';
import { bridgeName, isolatedNetworkXml, libvirtdConf, networkForwards, qemuConf, withLibvirtQemuAccount, type VagrantNetwork } from './libvirt-config.ts';

type Env = Readonly<Record<string, string | undefined>>;

/** libvirt's own directories, each replaced (in libvirtd's mount namespace) by one of the state directory. */
const LIBVIRT_DIRS = { etc: '/etc/libvirt', lib: '/var/lib/libvirt', cache: '/var/cache/libvirt', log: '/var/log/libvirt' } as const;
const RUN_DIR = '/run/libvirt';
const SOCKET = path.join(RUN_DIR, 'libvirt-sock');
const VIRSH_TIMEOUT_MS = 60_000;
const DAEMON_READY = { timeoutMs: 30_000, intervalMs: 200 };
const DAEMON_EXIT = { timeoutMs: 15_000, intervalMs: 100 };
/** The tables where libvirt's network driver adds its LIBVIRT_* chains. */
const FIREWALL_TABLES = ['filter', 'nat', 'mangle'] as const;
const FIREWALL_TOOLS = ['iptables', 'ip6tables'] as const;
type FirewallTool = (typeof FIREWALL_TOOLS)[number];
/** The nft family of each tool's tables (nf_tables backend). */
const NFT_FAMILY: Record<FirewallTool, string> = { iptables: 'ip', ip6tables: 'ip6' };

export interface LibvirtHostPaths {
  dir: string;
  state: string;
  lock: string;
  pidFile: string;
  logFile: string;
  passwd: string;
  group: string;
  /** what replaces each of libvirt's directories */
  libvirt: Record<keyof typeof LIBVIRT_DIRS, string>;
}

export function libvirtHostPaths(env: Env = process.env): LibvirtHostPaths {
  const dir = path.join(labCacheDir(env), 'vagrant-libvirt');
  return {
    dir,
    state: path.join(dir, 'state.json'),
    lock: path.join(dir, 'lock'),
    pidFile: path.join(dir, 'libvirtd.pid'),
    logFile: path.join(dir, 'libvirtd.log'),
    passwd: path.join(dir, 'passwd'),
    group: path.join(dir, 'group'),
    libvirt: { etc: path.join(dir, 'etc'), lib: path.join(dir, 'lib'), cache: path.join(dir, 'cache'), log: path.join(dir, 'log') },
  };
}

interface ProcessRecord {
  pid: number;
  startTime: string;
}

/** What libvirt-up made, for libvirt-down (and a later libvirt-up, which keeps what runs). */
interface LibvirtHostState {
  daemon?: ProcessRecord;
  mirror?: ProcessRecord;
  /** directories that did not exist before (mount points, /run/libvirt), removed at the end */
  createdDirs: string[];
  networks: string[];
  /** "TOOL TABLE CHAIN" of the LIBVIRT_* chains the firewall had before libvirtd started */
  firewallChainsBefore: string[];
  /**
   * "TOOL TABLE" of the nf_tables-backed tables that existed before libvirtd started: on a machine
   * whose firewall was empty, libvirt's chains make the filter, nat and mangle tables exist, and
   * removing the chains leaves them (undefined in a state file written before this was recorded)
   */
  firewallTablesBefore?: string[];
}

async function readState(paths: LibvirtHostPaths): Promise<LibvirtHostState | undefined> {
  return readFile(paths.state, 'utf8').then(
    (text) => JSON.parse(text) as LibvirtHostState,
    () => undefined,
  );
}

async function writeState(paths: LibvirtHostPaths, state: LibvirtHostState): Promise<void> {
  await writeFile(paths.state, `${JSON.stringify(state, null, 2)}\n`);
}

async function virsh(args: readonly string[]): Promise<string> {
  return (await run('virsh', ['-q', '-c', 'qemu:///system', ...args], { timeoutMs: VIRSH_TIMEOUT_MS })).stdout;
}

async function daemonAnswers(): Promise<boolean> {
  if (!(await exists(SOCKET))) return false;
  return (await tryRun('virsh', ['-q', '-c', 'qemu:///system', 'version'], { timeoutMs: 10_000 }).catch(() => undefined))?.exitCode === 0;
}

async function alive(record: ProcessRecord | undefined): Promise<boolean> {
  return record !== undefined && (await isRunning(record.pid, record.startTime));
}

export interface LibvirtUpResult {
  startedDaemon: boolean;
  startedNetworks: string[];
  mirror: string;
}

/**
 * Makes the machine ready for `vagrant up` with the libvirt provider: libvirtd (the project's, see
 * above), each network defined isolated and started, a guard route for each subnet, and the
 * package mirror served on the DHCP network's host address. Idempotent: what runs is kept.
 */
export async function libvirtUp(networks: readonly VagrantNetwork[], log: (line: string) => void, env: Env = process.env): Promise<LibvirtUpResult> {
  const management = networks.filter((network) => network.dhcp);
  if (management.length !== 1) throw new UserError(`give exactly one --network with ,dhcp (the management network); got ${management.length}`, {}, 'e.g. --network provision-mgmt=10.213.30.0/24,dhcp');
  const nftBackend = (await usesNfTables('iptables')) || (await usesNfTables('ip6tables'));
  await ensureTools(['libvirtd', 'virsh', 'dnsmasq', 'qemu-system-x86_64', 'qemu-img', 'ip', ...(nftBackend ? (['nft'] as const) : [])], log);
  const paths = libvirtHostPaths(env);
  await mkdir(paths.dir, { recursive: true });
  const release = await acquireLabLock(paths.lock);
  try {
    const state: LibvirtHostState = (await readState(paths)) ?? { createdDirs: [], networks: [], firewallChainsBefore: [] };
    let startedDaemon = false;
    if (!(await alive(state.daemon))) {
      if (await daemonAnswers()) {
        throw new UserError(
          `a libvirtd that provision did not start answers on ${SOCKET}`,
          {},
          "the Vagrant lab runs its own libvirtd, whose networks are all isolated: stop the other one (its networks may NAT to the outside), then run vagrant up again",
        );
      }
      state.firewallTablesBefore = [...(await nftBackedTables()).keys()];
      state.firewallChainsBefore = await libvirtChains();
      await startDaemon(paths, state);
      startedDaemon = true;
      await writeState(paths, state);
      log(`started libvirtd (pid ${state.daemon?.pid}; its configuration and state in ${paths.dir})`);
    }

    const startedNetworks: string[] = [];
    for (const [index, network] of networks.entries()) {
      if (await startNetwork(paths, network, bridgeName(index))) startedNetworks.push(network.name);
      if (!state.networks.includes(network.name)) state.networks.push(network.name);
      await writeState(paths, state);
    }
    await addGuardRoutes(networks.map((network) => network.subnet));
    if (startedNetworks.length > 0) log(`started the isolated networks ${startedNetworks.join(', ')}`);

    const mirrorAddress = formatAddress(bridgeAddress(management[0]!.subnet));
    if (!(await alive(state.mirror))) {
      const lab = labPaths(env);
      await ensureMirror(lab, log);
      await startMirrorServer({ ...lab, cache: paths.dir }, [{ name: bridgeName(networks.indexOf(management[0]!)), subnet: management[0]!.subnet, address: mirrorAddress }], async (resource) => {
        if (resource.type === 'process') state.mirror = { pid: resource.pid, startTime: resource.startTime };
        await writeState(paths, state);
      });
      log(`serving the lab's package mirror on ${mirrorAddress}:${MIRROR_PORT}`);
    }
    return { startedDaemon, startedNetworks, mirror: `${mirrorAddress}:${MIRROR_PORT}` };
  } finally {
    await release();
  }
}

async function startDaemon(paths: LibvirtHostPaths, state: LibvirtHostState): Promise<void> {
  for (const dir of Object.values(paths.libvirt)) await mkdir(dir, { recursive: true });
  await writeFile(path.join(paths.libvirt.etc, 'libvirtd.conf'), libvirtdConf(paths.logFile));
  await writeFile(path.join(paths.libvirt.etc, 'qemu.conf'), qemuConf());
  const accounts = withLibvirtQemuAccount(await readFile('/etc/passwd', 'utf8'), await readFile('/etc/group', 'utf8'));
  await writeFile(paths.passwd, accounts.passwd);
  await writeFile(paths.group, accounts.group);
  // Mount points and the run directory that do not exist yet are made here and removed by libvirt-down.
  for (const dir of [...Object.values(LIBVIRT_DIRS), RUN_DIR]) {
    if (await exists(dir)) continue;
    await mkdir(dir, { recursive: true });
    state.createdDirs.push(dir);
  }
  await rm(paths.pidFile, { force: true });
  const binds = (Object.keys(LIBVIRT_DIRS) as (keyof typeof LIBVIRT_DIRS)[]).flatMap((key) => [paths.libvirt[key], LIBVIRT_DIRS[key]]);
  // Values reach the script as positional parameters, never inside its text.
  const script = [
    'set -e',
    'while [ $# -gt 2 ]; do mount --bind "$1" "$2"; shift 2; done',
    'exec libvirtd --daemon --config /etc/libvirt/libvirtd.conf --pid-file "$2"',
  ].join('\n');
  const args = ['--mount', '--propagation', 'private', 'sh', '-c', script, 'libvirtd-namespace', ...binds, paths.passwd, '/etc/passwd', paths.group, '/etc/group', 'pid', paths.pidFile];
  const started = await tryRun('unshare', args, { timeoutMs: 30_000 });
  if (started.exitCode !== 0) throw new UserError(`libvirtd did not start: ${(started.stderr || started.stdout).trim()}`, {}, `see ${paths.logFile}`);
  const daemon = await poll(async () => {
    const pid = Number((await readFile(paths.pidFile, 'utf8').catch(() => '')).trim());
    if (!Number.isInteger(pid) || pid < 1 || !(await daemonAnswers())) return undefined;
    const startTime = await processStartTime(pid);
    return startTime === undefined ? undefined : { pid, startTime };
  }, DAEMON_READY);
  if (daemon === undefined) {
    const logTail = (await readFile(paths.logFile, 'utf8').catch(() => '')).trim().split('\n').filter((line) => / error : /.test(line)).slice(-3).join('\n');
    throw new UserError(`libvirtd did not answer on ${SOCKET} within ${DAEMON_READY.timeoutMs / 1000} s${logTail ? `:\n${logTail}` : ''}`, {}, `see ${paths.logFile}`);
  }
  state.daemon = daemon;
}

/** Defines (isolated) and starts a network unless it runs already; says whether it started it. */
async function startNetwork(paths: LibvirtHostPaths, network: VagrantNetwork, bridge: string): Promise<boolean> {
  const existing = await tryRun('virsh', ['-q', '-c', 'qemu:///system', 'net-dumpxml', network.name], { timeoutMs: VIRSH_TIMEOUT_MS });
  if (existing.exitCode === 0) {
    if (networkForwards(existing.stdout)) {
      throw new UserError(`the libvirt network ${network.name} forwards outside this machine`, {}, `remove it (virsh net-destroy ${network.name}; virsh net-undefine ${network.name}): the Vagrant lab defines its networks isolated`);
    }
  } else {
    await checkSubnetsFree([network.subnet]);
    const file = path.join(paths.dir, `network-${network.name}.xml`);
    await writeFile(file, isolatedNetworkXml(network, bridge));
    await virsh(['net-define', file]);
  }
  const active = (await virsh(['net-list', '--name'])).split('\n').map((line) => line.trim());
  if (active.includes(network.name)) return false;
  // libvirt refuses to start a network whose subnet has a route already, the guard route
  // included ("Network is already in use by interface *"). Nothing of the lab runs on a network
  // that is not started, so the guard is lifted for the start only.
  await tryRun('ip', ['route', 'del', ...guardRouteArgs(network.subnet)]);
  try {
    await virsh(['net-start', network.name]);
  } finally {
    await addGuardRoutes([network.subnet]);
  }
  // As the lab's bridges: no IP forwarding from them, no IPv6 on the machine's side.
  const actualBridge = /<bridge name='([^']+)'/.exec(await virsh(['net-dumpxml', network.name]))?.[1] ?? bridge;
  await writeFile(`/proc/sys/net/ipv4/conf/${actualBridge}/forwarding`, '0');
  await disableIpv6(actualBridge);
  return true;
}

/** "TOOL TABLE CHAIN" of every LIBVIRT_* chain the machine's firewall has now. */
async function libvirtChains(): Promise<string[]> {
  const chains: string[] = [];
  for (const tool of FIREWALL_TOOLS) {
    for (const table of FIREWALL_TABLES) {
      const listed = await tryRun(tool, ['-w', '5', '-t', table, '-S'], { timeoutMs: 10_000 }).catch(() => undefined);
      if (listed?.exitCode !== 0) continue;
      for (const line of listed.stdout.split('\n')) {
        const chain = /^-N (LIBVIRT_\S+)$/.exec(line)?.[1];
        if (chain !== undefined) chains.push(`${tool} ${table} ${chain}`);
      }
    }
  }
  return chains;
}

export interface LibvirtDownResult {
  /** false when machines remain (nothing was removed) or nothing was up */
  removed: boolean;
  /** the libvirt domains still defined, when they kept libvirt-down from removing anything */
  remainingDomains: string[];
}

/**
 * Removes what libvirtUp made once no Vagrant machine is left: the mirror server, the networks,
 * storage pools and volumes, libvirtd, its firewall chains (and the tables they made exist), its
 * directories. With `force`, machines still defined are destroyed first (a test's cleanup after a
 * failure). The guard routes stay, as the lab's do: lab addresses keep going nowhere.
 */
export async function libvirtDown(options: { force?: boolean; log: (line: string) => void; env?: Env }): Promise<LibvirtDownResult> {
  const paths = libvirtHostPaths(options.env ?? process.env);
  const state = await readState(paths);
  if (state === undefined) return { removed: false, remainingDomains: [] };
  const release = await acquireLabLock(paths.lock);
  try {
    const daemonUp = (await alive(state.daemon)) && (await daemonAnswers());
    if (daemonUp) {
      const domains = (await virsh(['list', '--all', '--name'])).split('\n').map((line) => line.trim()).filter(Boolean);
      if (domains.length > 0 && options.force !== true) return { removed: false, remainingDomains: domains };
      for (const domain of domains) {
        await tryRun('virsh', ['-q', '-c', 'qemu:///system', 'destroy', domain], { timeoutMs: VIRSH_TIMEOUT_MS });
        await virsh(['undefine', domain, '--remove-all-storage', '--nvram']).catch(() => virsh(['undefine', domain]));
        options.log(`destroyed the machine ${domain}`);
      }
    }
    if (state.mirror !== undefined) await killProcess(state.mirror.pid, state.mirror.startTime);
    if (daemonUp) {
      // Every network and pool of this libvirtd is the lab's: its definitions live in the state directory.
      for (const network of (await virsh(['net-list', '--all', '--name'])).split('\n').map((line) => line.trim()).filter(Boolean)) {
        await tryRun('virsh', ['-q', '-c', 'qemu:///system', 'net-destroy', network], { timeoutMs: VIRSH_TIMEOUT_MS });
        await virsh(['net-undefine', network]);
      }
      for (const pool of (await virsh(['pool-list', '--all', '--name'])).split('\n').map((line) => line.trim()).filter(Boolean)) {
        await tryRun('virsh', ['-q', '-c', 'qemu:///system', 'pool-refresh', pool], { timeoutMs: VIRSH_TIMEOUT_MS });
        const volumes = (await tryRun('virsh', ['-q', '-c', 'qemu:///system', 'vol-list', pool], { timeoutMs: VIRSH_TIMEOUT_MS })).stdout;
        for (const volume of volumes.split('\n').map((line) => line.trim().split(/\s+/)[0]).filter((name): name is string => name !== undefined && name !== '')) {
          await virsh(['vol-delete', volume, '--pool', pool]);
        }
        await tryRun('virsh', ['-q', '-c', 'qemu:///system', 'pool-destroy', pool], { timeoutMs: VIRSH_TIMEOUT_MS });
        await virsh(['pool-undefine', pool]);
      }
    }
    if (state.daemon !== undefined) await stopDaemon(state.daemon);
    // What outlives a libvirtd that ended without stopping its networks (killed, crashed): their
    // dnsmasq and bridges.
    for (const network of state.networks) {
      for (const { pid, startTime } of await findProcesses(['dnsmasq', `/var/lib/libvirt/dnsmasq/${network}.conf`])) await killProcess(pid, startTime);
    }
    for (const index of state.networks.keys()) {
      if (await exists(`/sys/class/net/${bridgeName(index)}`)) await run('ip', ['link', 'delete', bridgeName(index)]);
    }
    await removeNewFirewallChains(state.firewallChainsBefore);
    await removeNewEmptyTables(state.firewallTablesBefore);
    for (const dir of [...state.createdDirs].reverse()) {
      // The mount points are empty once libvirtd's namespace has ended; /run/libvirt holds its sockets.
      if (dir === RUN_DIR) await rm(dir, { recursive: true, force: true });
      else await rmdir(dir).catch(() => undefined);
    }
    for (const dir of Object.values(paths.libvirt)) await rm(dir, { recursive: true, force: true });
    for (const file of [paths.passwd, paths.group, paths.pidFile]) await rm(file, { force: true });
    for (const network of state.networks) await rm(path.join(paths.dir, `network-${network}.xml`), { force: true });
    await rm(paths.state, { force: true });
    return { removed: true, remainingDomains: [] };
  } finally {
    await release();
  }
}

async function stopDaemon(daemon: ProcessRecord): Promise<void> {
  if (!(await isRunning(daemon.pid, daemon.startTime))) return;
  signal(daemon.pid, 'SIGTERM');
  const ended = await poll(async () => ((await isRunning(daemon.pid, daemon.startTime)) ? undefined : true), DAEMON_EXIT);
  if (ended === undefined) await killProcess(daemon.pid, daemon.startTime);
}

/** Removes the LIBVIRT_* chains (and the jumps to them) that were not there before libvirtd started. */
async function removeNewFirewallChains(before: readonly string[]): Promise<void> {
  const known = new Set(before);
  const added = (await libvirtChains()).filter((chain) => !known.has(chain));
  for (const entry of added) {
    const [tool, table, chain] = entry.split(' ') as [FirewallTool, string, string];
    const rules = (await run(tool, ['-w', '5', '-t', table, '-S'], { timeoutMs: 10_000 })).stdout.split('\n');
    // The jumps to it from the built-in chains: "-A INPUT -j LIBVIRT_INP" (libvirt writes them without quotes).
    for (const rule of rules.filter((line) => line.startsWith('-A ') && line.endsWith(` -j ${chain}`))) {
      await run(tool, ['-w', '5', '-t', table, '-D', ...rule.slice(3).split(' ')], { timeoutMs: 10_000 });
    }
  }
  for (const entry of added) {
    const [tool, table, chain] = entry.split(' ') as [FirewallTool, string, string];
    await run(tool, ['-w', '5', '-t', table, '-F', chain], { timeoutMs: 10_000 });
  }
  for (const entry of added) {
    const [tool, table, chain] = entry.split(' ') as [FirewallTool, string, string];
    await run(tool, ['-w', '5', '-t', table, '-X', chain], { timeoutMs: 10_000 });
  }
}

/** Whether `tool` (iptables, ip6tables) uses the nf_tables backend, whose tables can be deleted. */
function usesNfTables(tool: FirewallTool): Promise<boolean> {
  // Asked once per process: the backend is the installed binary's, and libvirt-up asks twice.
  let known = nfTablesBackend.get(tool);
  if (known === undefined) {
    known = tryRun(tool, ['--version'], { timeoutMs: 10_000 }).then(
      (version) => version.exitCode === 0 && version.stdout.includes('(nf_tables)'),
      () => false,
    );
    nfTablesBackend.set(tool, known);
  }
  return known;
}
const nfTablesBackend = new Map<FirewallTool, Promise<boolean>>();

/**
 * The tables that iptables and ip6tables have now, as "TOOL TABLE" -> the table's iptables-save
 * lines, for the tools on the nf_tables backend. The legacy backend's tables are kernel modules
 * that stay loaded: they are left out.
 */
async function nftBackedTables(): Promise<Map<string, string[]>> {
  const tables = new Map<string, string[]>();
  for (const tool of FIREWALL_TOOLS) {
    if (!(await usesNfTables(tool))) continue;
    const saved = await tryRun(`${tool}-save`, [], { timeoutMs: 10_000 }).catch(() => undefined);
    if (saved?.exitCode !== 0) continue;
    for (const [table, lines] of savedTables(saved.stdout)) tables.set(`${tool} ${table}`, lines);
  }
  return tables;
}

/**
 * Deletes the tables that libvirt's chains made exist (not there before libvirtd started), once
 * they hold nothing again: a table something else has put a rule or a chain in since is kept.
 */
async function removeNewEmptyTables(before: readonly string[] | undefined): Promise<void> {
  if (before === undefined) return;
  const known = new Set(before);
  for (const [entry, lines] of await nftBackedTables()) {
    const [tool, table] = entry.split(' ') as [FirewallTool, string];
    if (known.has(entry) || !(FIREWALL_TABLES as readonly string[]).includes(table) || !isEmptyTable(lines)) continue;
    await run('nft', ['delete', 'table', NFT_FAMILY[tool], table], { timeoutMs: 10_000 });
  }
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}

/** For messages: the subnets of the networks, e.g. "10.213.30.0/24, 10.213.32.0/24". */
export function describeSubnets(networks: readonly VagrantNetwork[]): string {
  return networks.map((network) => formatSubnet(network.subnet)).join(', ');
}
