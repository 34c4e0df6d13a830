// Lab container hosts: a container of the lab's dockerd (dockerd.ts), from an image imported from
// the lab's rootfs, without Docker networking (--network none). The lab gives it its interfaces
// itself, one end of a veth pair on a lab bridge and the other in the container's network
// namespace, so containers share the L2 segment of the namespace hosts and VMs. Inside, the guest
// setup shared with the VMs sets the host's name, keys and addresses and starts sshd.
import { mkdtemp, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { UserError } from '../../core/errors.ts';
import { GUEST_SETUP, READY_MARKER, writeGuestConfig } from '../guest-config.ts';
import type { HostFile } from '../host-files.ts';
import { assertLinkName } from '../naming.ts';
import { treeFingerprint } from '../tree-fingerprint.ts';
import { poll } from '../wait.ts';
import { docker, type Dockerd } from './dockerd.ts';

/** Marks the lab's containers, so `lab down` finds them all, also after a crash. */
export const LAB_LABEL = 'provision-lab';
export const DEFAULT_IMAGE_REPOSITORY = 'provision-lab/debian12';
// Docker's default set minus SYS_RESOURCE: --privileged fails on the lab's machine kind ("unable to
// apply caps"), and roles need the rest (NET_ADMIN for addresses, SYS_ADMIN for mounts, ...).
const CAPABILITY_ARGUMENTS = ['--cap-add', 'ALL', '--cap-drop', 'SYS_RESOURCE'];
const SETUP_TIMEOUT_MS = 60_000;
const CONTAINER_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

type DockerdHandle = Pick<Dockerd, 'host' | 'cliConfigDir'>;

/**
 * The image of `rootfs` in the lab's dockerd, tagged with the rootfs's fingerprint: imported
 * (~4 s) only when no image has that tag. Older tags of the repository are removed.
 */
export async function ensureImage(dockerd: DockerdHandle, options: { rootfs: string; repository?: string }): Promise<{ image: string; imported: boolean }> {
  const repository = options.repository ?? DEFAULT_IMAGE_REPOSITORY;
  const image = `${repository}:${(await treeFingerprint(options.rootfs)).slice(0, 16)}`;
  const present = await docker(dockerd, ['image', 'inspect', '--format', '{{.Id}}', image], { reject: false });
  if (present.exitCode === 0) return { image, imported: false };

  const dockerEnv = { DOCKER_CONFIG: dockerd.cliConfigDir };
  // buffer: false streams the ~300 MB archive instead of keeping it in memory.
  const imported = await execa('tar', ['-C', options.rootfs, '--numeric-owner', '-c', '.'], { buffer: false, reject: false })
    .pipe('docker', ['--host', dockerd.host, 'import', '-', image], { env: dockerEnv, reject: false })
    .catch((error: unknown) => ({ exitCode: -1, stderr: String(error).slice(0, 2_000) }));
  if (imported.exitCode !== 0) throw new Error(`docker import of ${options.rootfs} failed: ${String(imported.stderr).trim()}`);
  const tags = await docker(dockerd, ['image', 'ls', repository, '--format', '{{.Repository}}:{{.Tag}}']);
  for (const old of tags.stdout.split('\n').filter((tag) => tag !== '' && tag !== image)) {
    // An image a container still uses stays; it goes with a later import.
    await docker(dockerd, ['image', 'rm', old], { reject: false });
  }
  return { image, imported: true };
}

export interface ContainerNic {
  /** the host end of the veth pair (on `bridge`); the container's end is eth0, eth1, ... in order */
  hostIfname: string;
  bridge: string;
  mac: string;
  /** CIDR addresses, e.g. "10.213.9.20/24" */
  addresses: readonly string[];
}

export interface StartContainerOptions {
  /** the container's name in the lab's dockerd */
  name: string;
  /** an image from ensureImage */
  image: string;
  hostname: string;
  nics: readonly ContainerNic[];
  /** the files written into the container before sshd starts: its host keys, authorized keys, sshd settings, apt source, ... */
  files: readonly HostFile[];
  /** the port its sshd listens on (set in `files`); default 22 */
  sshPort?: number;
}

export interface RunningContainer {
  name: string;
  id: string;
  /** the container's init process on this machine (its network namespace is /proc/PID/ns/net) */
  pid: number;
  hostIfnames: string[];
  /** seconds from the start of startContainer until sshd listened */
  seconds: number;
}

/**
 * Runs a lab container, gives it its interfaces and starts sshd in it. A leftover container of the
 * same name (from a crashed run) is replaced. On failure nothing is left behind.
 */
export async function startContainer(dockerd: DockerdHandle, options: StartContainerOptions): Promise<RunningContainer> {
  const started = Date.now();
  return withGuestConfig(options, async (configDir) => {
    await removeContainer(dockerd, options.name, hostIfnames(options));
    const run = await docker(dockerd, [
      'run', '--detach',
      '--name', options.name,
      '--hostname', options.hostname,
      '--label', LAB_LABEL,
      '--network', 'none',
      ...CAPABILITY_ARGUMENTS,
      // docker-init as PID 1 reaps the orphans of daemons that roles start and stop.
      '--init',
      options.image,
      'sleep', 'infinity',
    ], { reject: false });
    if (run.exitCode !== 0) throw new Error(`docker run ${options.name} failed: ${run.stderr.trim()}`);
    const id = run.stdout.trim();
    try {
      return await setUpRunning(dockerd, id, options, configDir, started);
    } catch (error) {
      await removeContainer(dockerd, options.name, hostIfnames(options));
      throw error;
    }
  });
}

const STOPPED_WAIT = { timeoutMs: 10_000, intervalMs: 50 };

/**
 * Starts a lab container again on its own filesystem, so what provisioning changed in it stays;
 * gives it its interfaces again (they went with its network namespace) and starts sshd. Docker
 * writes a container's /etc/hosts anew at every start: the one it had is put back, with whatever
 * provisioning added to it. A running container is stopped first. On failure it is stopped, never
 * removed: its filesystem is what this keeps.
 */
export async function restartContainer(dockerd: DockerdHandle, options: StartContainerOptions): Promise<RunningContainer> {
  const started = Date.now();
  return withGuestConfig(options, async (configDir) => {
    const found = await docker(dockerd, ['inspect', '--format', '{{.Id}} {{.HostsPath}}', options.name], { reject: false });
    if (found.exitCode !== 0) {
      throw new UserError(`lab container ${options.name} is gone from the lab's dockerd: there is no filesystem to start it on`, { host: options.hostname }, `give it a new one: provision lab reset ${options.hostname}`);
    }
    const [id = options.name, hostsPath = ''] = found.stdout.trim().split(' ');
    // `docker start` does nothing to a container docker still counts as running.
    await docker(dockerd, ['kill', id], { reject: false });
    const stopped = await poll(async () => ((await docker(dockerd, ['inspect', '--format', '{{.State.Running}}', id])).stdout.trim() === 'false' ? true : undefined), STOPPED_WAIT);
    if (stopped === undefined) throw new Error(`lab container ${options.name} still runs ${STOPPED_WAIT.timeoutMs / 1000} s after docker kill`);
    const hosts = hostsPath === '' ? undefined : await readFile(hostsPath, 'utf8').catch(() => undefined);
    await deleteHostEnds(hostIfnames(options));
    await docker(dockerd, ['start', id]);
    try {
      await isolatedPid(dockerd, id, options.name);
      if (hosts !== undefined) await docker(dockerd, ['exec', '--interactive', id, 'sh', '-c', 'cat > /etc/hosts'], { input: hosts });
      // A container's /run is on its filesystem, not a fresh tmpfs as on a host that boots: the
      // sshd pid file of its last run could name a process of this one, and the setup would then
      // take sshd for running.
      await docker(dockerd, ['exec', id, 'rm', '-f', '/run/sshd.pid']);
      return await setUpRunning(dockerd, id, options, configDir, started);
    } catch (error) {
      await docker(dockerd, ['kill', id], { reject: false });
      await deleteHostEnds(hostIfnames(options));
      throw error;
    }
  });
}

function hostIfnames(options: StartContainerOptions): string[] {
  return options.nics.map((nic) => nic.hostIfname);
}

/**
 * Checks the options, then calls `body` with a directory holding the guest configuration
 * (provision-lab/config and provision-lab/setup), removed afterwards.
 */
async function withGuestConfig<T>(options: StartContainerOptions, body: (configDir: string) => Promise<T>): Promise<T> {
  if (!CONTAINER_NAME.test(options.name)) throw new UserError(`${JSON.stringify(options.name)} cannot name a lab container`, {}, 'use letters, digits, "-", "_" and "."');
  if (options.nics.length === 0) throw new UserError(`lab container ${options.name} has no network interface`, { host: options.name }, 'give it at least one');
  for (const nic of options.nics) {
    assertLinkName(nic.hostIfname, 'veth');
    assertLinkName(nic.bridge, 'bridge');
  }
  // Checked before anything is created, so a bad setting leaves nothing behind.
  const configDir = await mkdtemp(join(tmpdir(), 'provision-lab-container-'));
  try {
    await writeGuestConfig(join(configDir, 'provision-lab', 'config'), {
      hostname: options.hostname,
      interfaces: options.nics.map((nic, index) => ({ name: `eth${index}`, addresses: nic.addresses })),
      files: options.files,
      ...(options.sshPort === undefined ? {} : { sshPort: options.sshPort }),
    });
    await writeFile(join(configDir, 'provision-lab', 'setup'), GUEST_SETUP, { mode: 0o755 });
    return await body(configDir);
  } finally {
    await rm(configDir, { recursive: true, force: true });
  }
}

/** Gives a running container its interfaces, runs the guest setup in it and waits for its sshd. */
async function setUpRunning(dockerd: DockerdHandle, id: string, options: StartContainerOptions, configDir: string, started: number): Promise<RunningContainer> {
  const pid = await isolatedPid(dockerd, id, options.name);
  for (const [index, nic] of options.nics.entries()) await attachNic(pid, nic, `eth${index}`);
  await docker(dockerd, ['exec', '--interactive', id, 'tar', '-x', '-C', '/run'], { input: await tarOf(configDir) });
  const setup = await docker(dockerd, ['exec', id, 'sh', '/run/provision-lab/setup', '/run/provision-lab/config'], { reject: false, timeoutMs: SETUP_TIMEOUT_MS });
  // The keys are installed now; their copies need not stay in the container.
  await docker(dockerd, ['exec', id, 'rm', '-rf', '/run/provision-lab'], { reject: false });
  if (setup.exitCode !== 0 || !setup.stdout.includes(READY_MARKER)) throw new Error(`the setup of lab container ${options.name} failed:\n${setup.all}`);
  return { name: options.name, id, pid, hostIfnames: hostIfnames(options), seconds: (Date.now() - started) / 1000 };
}

/** The container's process, once it is known to run in namespaces of its own. */
async function isolatedPid(dockerd: DockerdHandle, id: string, name: string): Promise<number> {
  const pid = Number((await docker(dockerd, ['inspect', '--format', '{{.State.Pid}}', id])).stdout.trim());
  if (!Number.isInteger(pid) || pid <= 0) throw new Error(`docker reports no process for container ${name}`);
  await assertOwnNamespaces(pid, `lab container ${name}`);
  return pid;
}

// The setup writes /etc/hosts, ssh host keys, sshd's config and root's authorized_keys, and sets
// the hostname: in a "container" that shares this machine's mount or UTS namespace it would
// rewrite this machine's own (a dockerd started inside a chroot does exactly that). Docker's word
// is not taken for it: the kernel's namespace links are compared.
const ISOLATING_NAMESPACES = ['mnt', 'pid', 'uts', 'net'] as const;

/**
 * Throws unless process `pid` runs in its own mount, PID, UTS and network namespaces, none of them
 * this process's.
 */
export async function assertOwnNamespaces(pid: number, what: string): Promise<void> {
  const shared: string[] = [];
  for (const kind of ISOLATING_NAMESPACES) {
    const [theirs, ours] = await Promise.all([readlink(`/proc/${pid}/ns/${kind}`), readlink(`/proc/self/ns/${kind}`)]);
    if (theirs === ours) shared.push(kind);
  }
  if (shared.length > 0) {
    throw new UserError(
      `${what} shares this machine's ${shared.join(', ')} namespace${shared.length > 1 ? 's' : ''}: its set-up would rewrite this machine's /etc, so nothing was run in it`,
      {},
      'run the lab where dockerd isolates its containers (not inside a chroot: use a VM, or a container started with its own namespaces)',
    );
  }
}

async function attachNic(pid: number, nic: ContainerNic, inside: string): Promise<void> {
  // Created with its peer already in the container's namespace under its final name, so no
  // temporary name can clash with an interface of this machine.
  const added = await execa('ip', ['link', 'add', nic.hostIfname, 'type', 'veth', 'peer', 'name', inside, 'address', nic.mac, 'netns', String(pid)], { reject: false });
  if (added.exitCode !== 0) throw new Error(`cannot create veth ${nic.hostIfname} for the container: ${added.stderr.trim()}`);
  const attached = await execa('ip', ['link', 'set', 'dev', nic.hostIfname, 'master', nic.bridge, 'up'], { reject: false });
  if (attached.exitCode !== 0) throw new UserError(`cannot attach ${nic.hostIfname} to bridge ${nic.bridge}: ${attached.stderr.trim()}`, {}, `create the bridge ${nic.bridge} first`);
}

async function tarOf(dir: string): Promise<Buffer> {
  const { stdout } = await execa('tar', ['-c', '--owner=0', '--group=0', '-C', dir, '.'], { encoding: 'buffer' });
  return Buffer.from(stdout);
}

/**
 * Removes a lab container and the host ends of its veth pairs. Either may already be gone. (The
 * kernel deletes a veth pair when the container's namespace goes, but asynchronously: deleting
 * the host end here means the name is free when this returns.)
 */
export async function removeContainer(dockerd: DockerdHandle, name: string, hostIfnames: readonly string[]): Promise<void> {
  const removed = await docker(dockerd, ['rm', '--force', '--volumes', name], { reject: false });
  if (removed.exitCode !== 0 && !/No such container/i.test(removed.stderr)) throw new Error(`docker rm ${name} failed: ${removed.stderr.trim()}`);
  await deleteHostEnds(hostIfnames);
}

/** Deletes the host ends of a container's veth pairs; one that is gone is fine. */
async function deleteHostEnds(hostIfnames: readonly string[]): Promise<void> {
  for (const ifname of hostIfnames) {
    assertLinkName(ifname, 'veth');
    const deleted = await execa('ip', ['link', 'delete', 'dev', ifname], { reject: false });
    if (deleted.exitCode !== 0 && !/Cannot find device|does not exist/.test(deleted.stderr)) throw new Error(`ip link delete ${ifname} failed: ${deleted.stderr.trim()}`);
  }
}

/** Names of all lab containers in the lab's dockerd, running or not. */
export async function labContainers(dockerd: DockerdHandle): Promise<string[]> {
  const listed = await docker(dockerd, ['ps', '--all', '--filter', `label=${LAB_LABEL}`, '--format', '{{.Names}}']);
  return listed.stdout.split('\n').filter((name) => name !== '');
}
