// What the lab VM and container tests share: a private test network guarded against leaks, a
// Debian 12 rootfs (the lab core's, or one debootstrapped once into the test cache), ssh that
// checks the host key the lab gave the guest, and a snapshot of this machine to prove that a test
// left nothing behind.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { execa } from 'execa';

const run = promisify(execFile);

export const skipReason: string | undefined =
  process.platform !== 'linux' ? 'the lab runs on Linux only' : process.getuid?.() !== 0 ? 'needs root: it creates bridges, tap devices, VMs and a dockerd (CI runs it as root)' : undefined;

/** Kept across runs: the first run builds the rootfs (~1 min), the kernel and the VM image (~20 s). */
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

/** The mirror this machine's apt uses for bookworm (deb822 .sources or one-line .list files). */
async function debianMirror(): Promise<string> {
  const dir = '/etc/apt/sources.list.d';
  const files = ['/etc/apt/sources.list', ...(await readdir(dir).catch(() => [] as string[])).filter((name) => /\.(list|sources)$/.test(name)).map((name) => join(dir, name))];
  for (const file of files) {
    const text = await readFile(file, 'utf8').catch(() => '');
    for (const stanza of text.split(/\n\s*\n/)) {
      const uri = /^URIs:\s*(\S+)/m.exec(stanza)?.[1];
      if (uri !== undefined && /^Suites:.*(\s|:)bookworm(\s|$)/m.test(stanza)) return uri;
    }
    const line = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+bookworm\s/m.exec(text);
    if (line?.[1] !== undefined) return line[1];
  }
  throw new Error('this machine\'s apt has no bookworm source to debootstrap from');
}

/**
 * A Debian 12 rootfs: $PROVISION_LAB_ROOTFS (the lab core's cache), or one made once with
 * debootstrap in the test cache, as the lab core makes it.
 */
export async function testRootfs(): Promise<string> {
  if (process.env.PROVISION_LAB_ROOTFS) return process.env.PROVISION_LAB_ROOTFS;
  const rootfs = join(testCacheDir, 'rootfs');
  if (existsSync(join(rootfs, 'usr/sbin/sshd'))) return rootfs;
  const partial = `${rootfs}.partial`;
  await rm(partial, { recursive: true, force: true });
  await mkdir(testCacheDir, { recursive: true });
  const started = Date.now();
  await execa('debootstrap', ['--variant=minbase', '--include=openssh-server,python3,iproute2,procps,iputils-ping', 'bookworm', partial, await debianMirror()], { timeout: 600_000 });
  await rename(partial, rootfs);
  console.log(`rootfs: debootstrap took ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return rootfs;
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
  for (const hierarchy of await readdir('/sys/fs/cgroup').catch(() => [] as string[])) {
    if (existsSync(join('/sys/fs/cgroup', hierarchy, 'provision-lab-docker'))) cgroups.push(hierarchy);
  }
  if (existsSync('/sys/fs/cgroup/provision-lab-docker')) cgroups.push('.');
  return { links, mounts, labProcesses, runDirs, cgroups };
}

export function seconds(since: number): string {
  return ((Date.now() - since) / 1000).toFixed(1);
}
