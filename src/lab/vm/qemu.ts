// Lab VMs: qemu with TCG (KVM does not work on the lab's machine kind), the Debian kernel booted
// directly with the lab initramfs, the root disk as a copy-on-write overlay of the cached image,
// and the host's settings on a second, read-only disk (a tar the guest unpacks at boot).
// qemu daemonizes, so a VM outlives the process that started it; everything about it lives in
// its own directory, so a later process (`lab down`) can stop it from the directory alone.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { execa } from 'execa';
import { UserError } from '../../core/errors.ts';
import { ensureTools } from '../command.ts';
import type { MachineTool } from '../packages.ts';
import { HOST_CONSOLE_LOG } from '../driver.ts';
import { READY_MARKER, writeGuestConfig } from '../guest-config.ts';
import type { HostFile } from '../host-files.ts';
import { assertLinkName } from '../naming.ts';
import { findProcesses, signal } from '../processes.ts';
import { poll } from '../wait.ts';
import { FAILED_MARKER, POWEROFF_COMMAND } from './guest-scripts.ts';
import type { VmImage } from './image.ts';

export interface VmNic {
  /** the tap device (created with createTap beforehand); the guest sees NICs as eth0, eth1, ... in order */
  tap: string;
  mac: string;
  /** CIDR addresses the guest puts on this NIC, e.g. "10.213.9.10/24" */
  addresses: readonly string[];
}

export interface StartVmOptions {
  /** the VM's files, from vmFiles() */
  files: VmFiles;
  image: VmImage;
  nics: readonly VmNic[];
  hostname: string;
  /** the files the guest writes into itself at boot: its host keys, authorized keys, sshd settings, apt source, ... */
  guestFiles: readonly HostFile[];
  /** the port the guest's sshd listens on (set in `guestFiles`); default 22 */
  sshPort?: number;
  /** default 1024 */
  memoryMb?: number;
  /** default 1 */
  cpus?: number;
  /** progress lines (installing qemu when it is missing) */
  log?: (line: string) => void;
}

/** Where a VM's files are; enough to stop or reset it later, from another process. */
export interface VmFiles {
  /** names the VM in messages and in qemu's process list */
  name: string;
  dir: string;
  overlay: string;
  configDisk: string;
  consoleLog: string;
  controlSocket: string;
  pidFile: string;
}

export interface RunningVm extends VmFiles {
  pid: number;
  /** when qemu was started (ms since the epoch) */
  startedAt: number;
}

const DEFAULT_MEMORY_MB = 1024;
// One vCPU: booting is mostly single-threaded, and the lab's two directors, booting at once, then
// take one core each of a two-core machine (they answered ssh about 3 s sooner than with two each).
const DEFAULT_CPUS = 1;
// A unix socket path must fit in sockaddr_un.sun_path (108 bytes with the NUL).
const MAX_SOCKET_PATH = 107;
const POLL_MS = 100;
const VM_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const EXIT_WAIT = { timeoutMs: 5_000, intervalMs: 50 };

/** The files of VM `name`, all in `dir` (which holds nothing else of it). */
export function vmFiles(dir: string, name: string): VmFiles {
  if (!VM_NAME.test(name)) throw new UserError(`${JSON.stringify(name)} cannot name a lab VM`, {}, 'use letters, digits, "-", "_" and "."');
  return {
    name,
    dir,
    overlay: join(dir, 'overlay.qcow2'),
    configDisk: join(dir, 'config.tar'),
    consoleLog: join(dir, HOST_CONSOLE_LOG),
    controlSocket: join(dir, 'control.sock'),
    pidFile: join(dir, 'qemu.pid'),
  };
}

/** The qemu command line (without the program) for a VM; pure, so it is tested without qemu. */
export function qemuArguments(files: VmFiles, image: VmImage, nics: readonly VmNic[], memoryMb: number, cpus: number): string[] {
  const args = [
    '-name', files.name,
    '-accel', 'tcg',
    '-cpu', 'max',
    '-m', String(memoryMb),
    '-smp', String(cpus),
    // No default devices (VGA, default NIC, parallel port, monitor): less to emulate, less to boot.
    '-nodefaults', '-no-user-config', '-display', 'none',
    '-kernel', image.vmlinuz,
    '-initrd', image.initrd,
    // panic=-1 with -no-reboot: a guest that cannot boot ends qemu instead of hanging.
    '-append', 'console=ttyS0 quiet panic=-1',
    '-no-reboot',
    // The root disk comes first, so the guest names it vda; the configuration disk is vdb.
    // cache=unsafe: the guest's flushes (dpkg syncs after every package) do not wait for this
    // machine's disk. They still hand qemu's own buffers (qcow2 metadata) to this machine's page
    // cache, so when qemu is killed the overlay, which `lab up` boots again, has everything the
    // guest had synced: it loses what a real host loses to a power cut (ext4's journal replays).
    '-drive', `file=${files.overlay},format=qcow2,if=none,id=root,cache=unsafe`,
    '-device', 'virtio-blk-pci,drive=root',
    '-drive', `file=${files.configDisk},format=raw,if=none,id=config,readonly=on`,
    '-device', 'virtio-blk-pci,drive=config',
    '-device', 'virtio-rng-pci',
  ];
  nics.forEach((nic, index) => {
    args.push('-netdev', `tap,id=net${index},ifname=${nic.tap},script=no,downscript=no`);
    // romfile= (none): the kernel is booted directly, so no network boot ROM (and no ipxe-qemu) is needed.
    args.push('-device', `virtio-net-pci,netdev=net${index},mac=${nic.mac},romfile=`);
  });
  args.push(
    // ttyS0 is the console (to a file); ttyS1 is the control port the guest's init listens on.
    '-chardev', `file,id=console,path=${files.consoleLog}`,
    '-serial', 'chardev:console',
    '-chardev', `socket,id=control,path=${files.controlSocket},server=on,wait=off`,
    '-serial', 'chardev:control',
    '-daemonize',
    '-pidfile', files.pidFile,
  );
  return args;
}

/**
 * Starts a VM and returns as soon as qemu runs (use waitForVm for ssh). The caller has created the
 * tap devices on their bridges. The root overlay is kept from an earlier run (a VM keeps its
 * changes like a real host) unless it belongs to another base image; resetVm throws it away.
 */
/** What running a VM runs on this machine. */
export const QEMU_TOOLS: readonly MachineTool[] = ['qemu-system-x86_64', 'qemu-img', 'tar'];

export async function startVm(options: StartVmOptions): Promise<RunningVm> {
  await ensureTools(QEMU_TOOLS, options.log ?? (() => undefined));
  const { files } = options;
  if (files.controlSocket.length > MAX_SOCKET_PATH) {
    throw new UserError(`the lab cache directory path is too long for the VM's control socket (${files.controlSocket})`, {}, 'use a shorter cache directory');
  }
  if (options.nics.length === 0) throw new UserError(`lab VM ${files.name} has no network interface`, { host: files.name }, 'give it at least one tap device');
  for (const nic of options.nics) {
    assertLinkName(nic.tap, 'tap device');
    if (!/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i.test(nic.mac)) throw new UserError(`lab VM ${files.name}: ${JSON.stringify(nic.mac)} is not a MAC address`, { host: files.name });
  }
  if ((await runningPid(files)) !== undefined) {
    throw new UserError(`lab VM ${files.name} is already running`, { host: files.name }, 'stop it first (lab down)');
  }
  await mkdir(files.dir, { recursive: true });
  await prepareOverlay(files, options.image);
  await writeConfigDisk(files, options);
  await rm(files.pidFile, { force: true });
  await rm(files.controlSocket, { force: true });
  await writeFile(files.consoleLog, '');

  const startedAt = Date.now();
  const args = qemuArguments(files, options.image, options.nics, options.memoryMb ?? DEFAULT_MEMORY_MB, options.cpus ?? DEFAULT_CPUS);
  // With -daemonize the first process exits once the VM runs, after reporting any setup error
  // (a missing or busy tap device, a bad image) on stderr.
  const launched = await execa('qemu-system-x86_64', args, { reject: false, timeout: 30_000, stdin: 'ignore' });
  if (launched.exitCode !== 0) {
    throw new UserError(`qemu could not start lab VM ${files.name}: ${launched.stderr.trim() || launched.shortMessage}`, { host: files.name }, 'check that its tap devices exist (createTap) and that no other qemu uses them');
  }
  const pid = await runningPid(files);
  if (pid === undefined) throw new Error(`qemu started lab VM ${files.name} but ${files.pidFile} names no running qemu`);
  return { ...files, pid, startedAt };
}

async function prepareOverlay(files: VmFiles, image: VmImage): Promise<void> {
  const info = await execa('qemu-img', ['info', '--output=json', '-U', files.overlay], { reject: false });
  if (info.exitCode === 0) {
    const backing = (JSON.parse(info.stdout) as { 'backing-filename'?: string })['backing-filename'];
    if (backing === image.disk) return;
  }
  await rm(files.overlay, { force: true });
  await execa('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', image.disk, '-F', 'raw', files.overlay]);
}

async function writeConfigDisk(files: VmFiles, options: StartVmOptions): Promise<void> {
  const dir = await mkdtemp(join(files.dir, 'config-'));
  try {
    await writeGuestConfig(dir, {
      hostname: options.hostname,
      interfaces: options.nics.map((nic, index) => ({ name: `eth${index}`, addresses: nic.addresses })),
      files: options.guestFiles,
      ...(options.sshPort === undefined ? {} : { sshPort: options.sshPort }),
    });
    // GNU tar pads the archive to a multiple of 10240 bytes, so it is a whole number of sectors.
    await execa('tar', ['-c', '-f', files.configDisk, '--owner=0', '--group=0', '-C', dir, '.']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The pid of the VM's qemu if it runs: the pid file's process, checked to be this VM's qemu. */
export async function runningPid(files: VmFiles): Promise<number | undefined> {
  const text = await readFile(files.pidFile, 'utf8').catch(() => undefined);
  const pid = Number(text?.trim());
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  // The pid may have been reused after a reboot or a crash: only a qemu on this overlay counts.
  const commandLine = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  const words = commandLine.split('\0');
  if (!words.some((word) => word.includes(files.overlay)) || !words[0]?.includes('qemu')) return undefined;
  const state = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  // A zombie (state Z) has exited; only its parent has not collected it yet.
  return / Z /.test(state) ? undefined : pid;
}

export interface VmReady {
  /** seconds from startVm to the guest's ready line (sshd listening) */
  seconds: number;
}

/**
 * Waits until the guest reports sshd listening on its console. Rejects, with the end of the
 * console log, when the guest reports a failure, qemu exits, or `timeoutMs` passes.
 */
export async function waitForVm(vm: RunningVm, options: { timeoutMs?: number } = {}): Promise<VmReady> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const console = () => readFile(vm.consoleLog, 'utf8').catch(() => '');
  const outcome = await poll(
    async () => {
      const text = await console();
      if (text.includes(READY_MARKER)) return 'ready' as const;
      if (text.includes(FAILED_MARKER)) return 'failed' as const;
      return (await runningPid(vm)) === undefined ? ('exited' as const) : undefined;
    },
    { timeoutMs, intervalMs: POLL_MS },
  );
  if (outcome === 'ready') return { seconds: (Date.now() - vm.startedAt) / 1000 };
  const what = outcome === 'failed' ? 'failed to boot' : outcome === 'exited' ? 'qemu exited during boot' : `was not ready within ${timeoutMs / 1000} s`;
  throw new Error(`lab VM ${vm.name} ${what}:\n${tail(await console())}`);
}

export interface StopVmOptions {
  /** how long the guest gets to power off by itself; default 15 s */
  powerOffTimeoutMs?: number;
}

/**
 * Stops a VM: asks the guest to power off (it ends its processes, syncs and remounts its root
 * read-only), then, if qemu still runs after the timeout, terminates and finally kills it. Returns
 * whether the guest powered off cleanly. A VM that is not running is fine.
 */
export async function stopVm(files: VmFiles, options: StopVmOptions = {}): Promise<{ wasRunning: boolean; clean: boolean }> {
  const pid = await runningPid(files);
  if (pid === undefined) {
    await removeRuntimeFiles(files);
    return { wasRunning: false, clean: true };
  }
  const asked = await sendControl(files.controlSocket, POWEROFF_COMMAND);
  let clean = asked && (await waitForExit(files, options.powerOffTimeoutMs ?? 15_000));
  if (!clean) {
    signal(pid, 'SIGTERM');
    if (!(await waitForExit(files, 3_000))) {
      signal(pid, 'SIGKILL');
      if (!(await waitForExit(files, 3_000))) throw new Error(`lab VM ${files.name}: qemu (pid ${pid}) survived SIGKILL`);
    }
    clean = false;
  }
  await removeRuntimeFiles(files);
  return { wasRunning: true, clean };
}

/**
 * Ends every qemu process of the VM at once (SIGKILL), found by its overlay in their command
 * lines rather than by the pid file, so a qemu still starting (not yet daemonized, no pid file) is
 * caught too. For a VM whose disk is thrown away next (`lab down`, `lab reset`): a clean power-off
 * only matters to a disk that is kept. Already stopped is fine.
 */
export async function killVm(files: VmFiles): Promise<void> {
  // qemu forks while it daemonizes: scan again until no process is left (bounded).
  const ended = await poll(async () => {
    const found = await findProcesses(['qemu-system', `file=${files.overlay},`]);
    for (const { pid } of found) signal(pid, 'SIGKILL');
    return found.length === 0 ? true : undefined;
  }, EXIT_WAIT);
  if (ended === undefined) throw new Error(`lab VM ${files.name}: qemu survived SIGKILL for ${EXIT_WAIT.timeoutMs / 1000} s`);
  await removeRuntimeFiles(files);
}

/** Throws the VM's changes away (a fresh overlay at the next start). The VM must be stopped. */
export async function resetVm(files: VmFiles): Promise<void> {
  if ((await runningPid(files)) !== undefined) throw new UserError(`lab VM ${files.name} is running`, { host: files.name }, 'stop it before resetting it');
  await rm(files.overlay, { force: true });
}

/** Removes everything of a stopped VM (overlay, logs). */
export async function removeVm(files: VmFiles): Promise<void> {
  if ((await runningPid(files)) !== undefined) throw new UserError(`lab VM ${files.name} is running`, { host: files.name }, 'stop it before removing it');
  await rm(files.dir, { recursive: true, force: true });
}

async function removeRuntimeFiles(files: VmFiles): Promise<void> {
  await rm(files.pidFile, { force: true });
  await rm(files.controlSocket, { force: true });
}

function sendControl(socketPath: string, command: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(socketPath);
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(false);
    }, 2_000);
    socket.once('error', () => {
      clearTimeout(timer);
      resolve(false);
    });
    socket.once('connect', () => {
      socket.end(`${command}\n`, () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  });
}

async function waitForExit(files: VmFiles, timeoutMs: number): Promise<boolean> {
  return (await poll(async () => ((await runningPid(files)) === undefined ? true : undefined), { timeoutMs, intervalMs: POLL_MS })) === true;
}

function tail(text: string, lines = 30): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

