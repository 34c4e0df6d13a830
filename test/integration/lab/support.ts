// What the lab tests share: a small lab inventory, ssh into lab hosts with the lab's key and strict
// host key checking against the lab's known_hosts, and a snapshot of everything on this machine a
// lab could leave behind.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, readlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { CGROUP_PARENT_PREFIX } from '../../../src/lab/container/dockerd.ts';
import { isEmptyTable } from '../../../src/lab/iptables-save.ts';
import { GUARD_ROUTE_METRIC } from '../../../src/lab/network.ts';
import { labPaths } from '../../../src/lab/paths.ts';
import { poll } from '../../../src/lab/wait.ts';

const execFileAsync = promisify(execFile);

export const skipReason: string | undefined =
  process.platform !== 'linux' ? 'the lab runs on Linux only' : process.getuid?.() !== 0 ? 'needs root: the lab creates namespaces, bridges and mounts (CI runs it as root)' : undefined;

/** The first `lab up` of a cold cache builds the rootfs and the mirror (about a minute each on a slow mirror). */
export const FIRST_BUILD_TIMEOUT_MS = 300_000;

/** Four namespace hosts, two with a heartbeat link on eth1, as the benchmark's lab. */
export const TEST_HOSTS = [
  { name: 'dir1', address: '10.213.2.250', eth1: '10.213.1.250/24' },
  { name: 'dir2', address: '10.213.2.251', eth1: '10.213.1.251/24' },
  { name: 'rs1', address: '10.213.2.252' },
  { name: 'rs2', address: '10.213.2.253' },
] as const;

export async function writeTestInventory(): Promise<string> {
  // One fixed place (the lab tests run one at a time), so runs leave no temporary directories behind.
  const dir = path.join(tmpdir(), 'provision-lab-test');
  await mkdir(dir, { recursive: true });
  const hosts = TEST_HOSTS.map((host) => {
    const lab = 'eth1' in host ? `{ kind: namespace, eth1: ${host.eth1} }` : '{ kind: namespace }';
    return `    ${host.name}: { address: ${host.address}, lab: ${lab} }`;
  });
  const file = path.join(dir, 'lab.yaml');
  await writeFile(file, `all:\n  hosts:\n${hosts.join('\n')}\n`);
  return file;
}

/** Fails when a lab is up already: the tests would tear it down. */
export function assertNoLabRunning(): void {
  if (existsSync(labPaths().state)) {
    throw new Error(`a lab is up (${labPaths().state} exists): run 'provision lab down' before the lab tests, which create and remove their own`);
  }
}

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function command(file: string, args: readonly string[], timeoutMs = 30_000): Promise<CommandResult> {
  try {
    const { stdout, stderr } = await execFileAsync(file, args, { timeout: timeoutMs, encoding: 'utf8' });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number | string; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** Runs a command on a lab host with OpenSSH: the lab key, and only the lab's known_hosts (strict). */
export async function ssh(address: string, script: string, timeoutMs = 30_000): Promise<CommandResult> {
  const paths = labPaths();
  return command('ssh', [
    '-i',
    paths.key,
    '-o',
    'BatchMode=yes',
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    `UserKnownHostsFile=${paths.knownHosts}`,
    '-o',
    'GlobalKnownHostsFile=/dev/null',
    '-o',
    'ConnectTimeout=5',
    `root@${address}`,
    script,
  ], timeoutMs);
}

/** Like ssh(), but fails the test with the output when the command fails. */
export async function sshOk(address: string, script: string, timeoutMs?: number): Promise<string> {
  const result = await ssh(address, script, timeoutMs);
  if (result.code !== 0) throw new Error(`ssh ${address} '${script}' exited ${result.code}: ${result.stderr}${result.stdout}`);
  return result.stdout;
}

/**
 * iptables-save without the tables that filter nothing: only built-in chains, each with policy
 * ACCEPT, and no rule. The first rule on a machine whose firewall is empty makes its filter table
 * exist, and iptables-save prints it from then on, also once the rule is gone. The lab adds rules
 * only to a firewall that drops, whose filter table exists already; the lifecycle test adds one on
 * any machine, and the empty table that stays filters nothing. (The Vagrant lab's libvirt-down
 * deletes the tables libvirt made exist: src/vagrant/libvirt-host.ts.)
 */
export function withoutPristineTables(lines: readonly string[]): string[] {
  const out: string[] = [];
  let table: string[] = [];
  for (const line of lines) {
    table.push(line);
    if (line !== 'COMMIT') continue;
    const pristine = table[0]?.startsWith('*') === true && isEmptyTable(table);
    if (!pristine) out.push(...table);
    table = [];
  }
  return [...out, ...table];
}

export interface MachineSnapshot {
  netns: string[];
  links: string[];
  routes: string[];
  mounts: string[];
  iptables: string[];
  /** processes in another network namespace than this one, or naming the lab cache */
  labProcesses: string[];
  hostDirs: string[];
  /** cgroups of the lab's dockerd, and the runtime directories a dockerd makes outside its own */
  dockerLeftovers: string[];
}

/**
 * Everything on this machine a lab could leave behind. Guard routes are left out: they stay on
 * purpose. Routes are compared for every table (the bridges' local and broadcast routes too).
 */
export async function snapshot(): Promise<MachineSnapshot> {
  const lines = async (file: string, args: string[]) => (await command(file, args)).stdout.split('\n').filter(Boolean);
  const guard = new RegExp(`^unreachable \\S+ metric ${GUARD_ROUTE_METRIC}\\s*$`);
  const iptables = existsSync('/usr/sbin/iptables-save') || existsSync('/sbin/iptables-save') ? await lines('iptables-save', []) : [];
  return {
    netns: (await lines('ip', ['netns', 'list'])).sort(),
    links: (await lines('ip', ['-o', 'link', 'show'])).map((line) => /^\d+:\s+([^:@]+)/.exec(line)?.[1] ?? line).sort(),
    routes: (await lines('ip', ['route', 'show', 'table', 'all'])).filter((line) => !guard.test(line)).sort(),
    mounts: (await readFile('/proc/self/mountinfo', 'utf8'))
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        const fields = line.split(' ');
        const after = fields.indexOf('-');
        return `${fields[4]} ${fields[after + 1]} ${fields[after + 2]}`;
      })
      .sort(),
    iptables: withoutPristineTables(iptables.filter((line) => !line.startsWith('#')).map((line) => line.replace(/\[\d+:\d+\]/, ''))),
    labProcesses: await labProcesses(),
    hostDirs: await readdir(labPaths().hosts).catch(() => []),
    dockerLeftovers: await dockerLeftovers(),
  };
}

async function dockerLeftovers(): Promise<string[]> {
  const found = ['/run/docker', '/run/containerd'].filter((dir) => existsSync(dir));
  for (const hierarchy of ['', ...(await readdir('/sys/fs/cgroup').catch(() => [] as string[]))]) {
    const names = await readdir(path.join('/sys/fs/cgroup', hierarchy)).catch(() => [] as string[]);
    for (const name of names) if (name.startsWith(CGROUP_PARENT_PREFIX)) found.push(path.join('/sys/fs/cgroup', hierarchy, name));
  }
  return found.sort();
}

async function labProcesses(): Promise<string[]> {
  const ownNetns = await readlink('/proc/self/ns/net');
  const cache = labPaths().cache;
  const found: string[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const netns = await readlink(`/proc/${entry}/ns/net`).catch(() => undefined);
    const cmdline = (await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '')).replace(/\0/g, ' ').trim();
    if (netns === undefined || cmdline === '') continue;
    if (netns !== ownNetns || cmdline.includes(cache)) found.push(`${entry} ${cmdline}`);
  }
  return found.sort();
}

/** The machine's pids of the processes in a namespace host (its whole process tree: they share its network namespace). */
async function namespaceHostPids(hostName: string): Promise<number[]> {
  return (await command('ip', ['netns', 'pids', `pvlab-${hostName}`])).stdout.split('\n').filter(Boolean).map(Number);
}

/** The machine's pid of a namespace host's init (PID 1 of its PID namespace), if it runs. */
export async function namespaceHostInit(hostName: string): Promise<number | undefined> {
  for (const pid of await namespaceHostPids(hostName)) {
    const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
    if (/^NSpid:.*\s1$/m.test(status)) return pid;
  }
  return undefined;
}

/**
 * Kills a namespace host as a crash would: SIGKILL to its init, which ends every process in it;
 * resolves once none is left. Its network namespace and upper layer stay.
 */
export async function killNamespaceHost(hostName: string): Promise<void> {
  const init = await namespaceHostInit(hostName);
  if (init === undefined) throw new Error(`lab host ${hostName} has no init to kill`);
  process.kill(init, 'SIGKILL');
  const ended = await poll(async () => ((await namespaceHostPids(hostName)).length === 0 ? true : undefined), { timeoutMs: 10_000, intervalMs: 50 });
  if (ended === undefined) throw new Error(`lab host ${hostName} still has processes 10 s after its init was killed`);
}

/** Path of the test program that runs the lab's commands in a child process. */
export const LAB_CLI = fileURLToPath(new URL('./lab-cli.ts', import.meta.url));

/** What differs between two snapshots, per kind ({} when nothing): names exactly what a lab left behind. */
export function differences(before: MachineSnapshot, after: MachineSnapshot): Record<string, { added: string[]; removed: string[] }> {
  const found: Record<string, { added: string[]; removed: string[] }> = {};
  for (const kind of Object.keys(before) as (keyof MachineSnapshot)[]) {
    const added = after[kind].filter((item) => !before[kind].includes(item));
    const removed = before[kind].filter((item) => !after[kind].includes(item));
    if (added.length > 0 || removed.length > 0) found[kind] = { added, removed };
  }
  return found;
}
