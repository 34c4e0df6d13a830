// What the lab VM and container tests share: a private test network guarded against leaks, the lab
// core's Debian 12 rootfs, the files the lab core gives a guest, ssh that checks the host key the
// guest was given, and a snapshot of this machine to prove that a test left nothing behind.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { execa } from 'execa';
import { CGROUP_PARENT_PREFIX } from '../../../src/lab/container/dockerd.ts';
import { hostKeyFiles, type HostFile } from '../../../src/lab/host-files.ts';
import { ensureHostKeys, type HostKey } from '../../../src/lab/keys.ts';
import { labPaths } from '../../../src/lab/paths.ts';
import { ensureRootfs } from '../../../src/lab/rootfs.ts';

const run = promisify(execFile);

export const skipReason: string | undefined =
  process.platform !== 'linux' ? 'the lab runs on Linux only' : process.getuid?.() !== 0 ? 'needs root: it creates bridges, tap devices, VMs and a dockerd (CI runs it as root)' : undefined;

/** The test VMs' and dockerd's own files, kept across runs (the rootfs, kernel and VM image are the lab cache's). */
export const testCacheDir = process.env.PROVISION_LAB_TEST_CACHE ?? join(tmpdir(), 'provision-lab-test-cache');

export interface TestNetwork {
  bridge: string;
  /** e.g. "10.213.9" */
  prefix: string;
  subnet: string;
  remove(): Promise<void>;
}

/**
 * A bridge for `subnet` (a /24, PREFIX.0/24) with PREFIX.1 on this machine. The guard route goes in
 * first, so that no lab address can ever be routed off the machine, even while the bridge is down.
 */
export async function createTestNetwork(bridge: string, prefix: string, options: { hostAddress: boolean }): Promise<TestNetwork> {
  const subnet = `${prefix}.0/24`;
  const routes = (await run('ip', ['route', 'show', 'type', 'unreachable'])).stdout;
  const guardExisted = routes.split('\n').some((line) => line.startsWith(`unreachable ${subnet} `) && line.includes('metric 4000'));
  if (!guardExisted) await run('ip', ['route', 'add', 'unreachable', subnet, 'metric', '4000']);
  await run('ip', ['link', 'add', bridge, 'type', 'bridge']);
  if (options.hostAddress) await run('ip', ['address', 'add', `${prefix}.1/24`, 'dev', bridge]);
  await run('ip', ['link', 'set', bridge, 'up']);
  return {
    bridge,
    prefix,
    subnet,
    async remove() {
      await run('ip', ['link', 'delete', bridge]).catch(() => undefined);
      if (!guardExisted) await run('ip', ['route', 'delete', 'unreachable', subnet, 'metric', '4000']).catch(() => undefined);
    },
  };
}

/** The lab core's Debian 12 rootfs (built once into the lab cache, as `lab up` builds it). */
export async function testRootfs(): Promise<string> {
  const paths = labPaths();
  const built = await ensureRootfs(paths, (line) => console.log(line));
  if (built.built) console.log(`rootfs: built in ${built.seconds.toFixed(1)} s`);
  return paths.rootfs;
}

/** Host keys of a test guest, kept in the test cache. */
export function testHostKeys(hostName: string): Promise<HostKey[]> {
  return ensureHostKeys(labPaths({ PROVISION_LAB_CACHE: testCacheDir }), hostName);
}

/** What the lab core gives a guest to reach it: sshd on one address, its host keys, the client's key. */
export async function testGuestFiles(options: { hostName: string; address: string; port?: number; hostKeys: readonly HostKey[]; authorizedKey: string }): Promise<HostFile[]> {
  return [
    {
      path: '/etc/ssh/sshd_config.d/provision-lab.conf',
      content: [`ListenAddress ${options.address}:${options.port ?? 22}`, 'PasswordAuthentication no', ...options.hostKeys.map((key) => `HostKey /etc/ssh/ssh_host_${key.type}_key`), ''].join('\n'),
      mode: 0o644,
    },
    ...(await hostKeyFiles(options.hostName, options.hostKeys)),
    { path: '/root/.ssh', mode: 0o700 },
    { path: '/root/.ssh/authorized_keys', content: `${options.authorizedKey}\n`, mode: 0o600 },
  ];
}

export interface SshClient {
  /** runs `command` as root on `address`, checking the host key against `hostPublicKey` */
  run(address: string, hostPublicKey: string, command: string, port?: number): Promise<string>;
  authorizedKey: string;
  remove(): Promise<void>;
}

export async function sshClient(): Promise<SshClient> {
  const dir = await mkdtemp(join(tmpdir(), 'provision-lab-ssh-'));
  const key = join(dir, 'id_ed25519');
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'provision-lab-test', '-f', key]);
  const authorizedKey = (await readFile(`${key}.pub`, 'utf8')).trim();
  return {
    authorizedKey,
    async run(address, hostPublicKey, command, port = 22) {
      const knownHosts = join(dir, `known_hosts-${address}-${port}`);
      await writeFile(knownHosts, `${port === 22 ? address : `[${address}]:${port}`} ${hostPublicKey}\n`);
      const result = await execa(
        'ssh',
        [
          '-i', key,
          '-o', 'BatchMode=yes',
          '-o', 'StrictHostKeyChecking=yes',
          '-o', `UserKnownHostsFile=${knownHosts}`,
          '-o', 'GlobalKnownHostsFile=/dev/null',
          '-o', 'ConnectTimeout=5',
          '-o', 'LogLevel=ERROR',
          '-p', String(port),
          `root@${address}`,
          command,
        ],
        { timeout: 60_000, stdin: 'ignore' },
      );
      return result.stdout;
    },
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

/** Every link these tests create starts with one of these (bridges, taps, veths). */
export const TEST_LINK_PREFIXES = ['plvt-', 'plct-'];

/**
 * What these tests could leave behind, scoped to what they own (other tests may run on this machine
 * at the same time): their links, mounts and processes under the test cache, the runtime
 * directories and cgroups a dockerd makes.
 */
export interface MachineSnapshot {
  links: string[];
  mounts: string[];
  /** processes (not zombies) whose command line names the test cache directory */
  labProcesses: string[];
  runDirs: string[];
  cgroups: string[];
}

export async function snapshotMachine(): Promise<MachineSnapshot> {
  const links = (await run('ip', ['-o', 'link', 'show'])).stdout
    .split('\n')
    .map((line) => line.split(': ')[1]?.split('@')[0])
    .filter((name): name is string => name !== undefined && TEST_LINK_PREFIXES.some((prefix) => name.startsWith(prefix)))
    .sort();
  const mounts = (await readFile('/proc/self/mountinfo', 'utf8'))
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((point): point is string => point !== undefined && point.startsWith(testCacheDir))
    .sort();
  const labProcesses: string[] = [];
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const commandLine = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).replaceAll('\0', ' ');
    const state = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    if (commandLine.includes(testCacheDir) && !/ Z /.test(state)) labProcesses.push(`${pid} ${commandLine}`);
  }
  const runDirs = ['/run/docker', '/run/containerd'].filter((dir) => existsSync(dir));
  const cgroups: string[] = [];
  for (const hierarchy of ['', ...(await readdir('/sys/fs/cgroup').catch(() => [] as string[]))]) {
    const names = await readdir(join('/sys/fs/cgroup', hierarchy)).catch(() => [] as string[]);
    for (const name of names) if (name.startsWith(CGROUP_PARENT_PREFIX)) cgroups.push(join(hierarchy, name));
  }
  return { links, mounts, labProcesses, runDirs, cgroups };
}

export function seconds(since: number): string {
  return ((Date.now() - since) / 1000).toFixed(1);
}
