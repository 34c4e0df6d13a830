// What the tests of the Vagrant lab with the libvirt provider share: the machine's state that the
// lab could leave behind, and Vagrant (and provision) run as a user on this machine runs them,
// with Vagrant's own state in a temp directory.
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { repoRoot } from '../../support/project.ts';

export const skipReason = process.platform !== 'linux' ? 'Linux only' : process.getuid?.() !== 0 ? 'needs root: libvirtd, bridges, guard routes' : undefined;

export const DESTROY_TIMEOUT_MS = 300_000;
const CLI = path.join(repoRoot, 'bin/provision.js');

export interface MachineSnapshot {
  links: string[];
  iptables: string[];
  processes: string[];
  libvirtRunDir: boolean;
  libvirtDirs: string[];
}

/** What the Vagrant lab could leave behind on this machine. */
export async function snapshot(): Promise<MachineSnapshot> {
  // libvirt's kinds of links: its bridges (pvg*, and virbr* had it made its own) and the machines' taps (vnet*).
  const links = (await execa('ip', ['-o', 'link', 'show'])).stdout
    .split('\n')
    .map((line) => line.split(': ')[1]?.split('@')[0] ?? '')
    .filter((name) => /^(pvg|virbr|vnet)/.test(name))
    .sort();
  // Rules and chains without their counters.
  const rules = async (tool: string) => (await execa(tool, [])).stdout.split('\n').filter((line) => !line.startsWith('#')).map((line) => line.replace(/\[\d+:\d+\]$/, '').trimEnd());
  const iptables = [...(await rules('iptables-save')), ...(await rules('ip6tables-save'))];
  // Live processes of the Vagrant lab's kinds (zombies excluded: the machine's init reaps them in
  // its own time), not the local lab's VMs (provision lab up).
  const ps = (await execa('ps', ['-eo', 'stat=,args='])).stdout.split('\n');
  const processes = ps
    .filter((line) => !line.trim().startsWith('Z'))
    .map((line) => line.trim().replace(/^\S+\s+/, ''))
    .filter((args) => /libvirtd|virtlogd|dnsmasq|qemu-system|mirror-server\.mjs .*10\.213\.30\./.test(args) && !args.includes('/provision/lab/hosts/'))
    .sort();
  const libvirtDirs = ['/var/lib/libvirt', '/var/cache/libvirt', '/var/log/libvirt'].filter((dir) => existsSync(dir));
  return { links, iptables, processes, libvirtRunDir: existsSync('/run/libvirt'), libvirtDirs };
}

export interface Run {
  exitCode: number;
  output: string;
  seconds: number;
}

export interface VagrantLab {
  work: string;
  env: Record<string, string>;
  vagrant(args: string[], timeoutMs: number): Promise<Run>;
  /** `provision ARGS` from the repository, with the lab's environment */
  provision(args: string[], timeoutMs: number): Promise<Run>;
  /** `vagrant ssh MACHINE -c COMMAND` */
  ssh(machine: string, command: string): Promise<Run>;
  /** a file in the lab's temp directory */
  file(name: string): string;
}

/** Vagrant with its state in a temp directory, the box built here, the lab's subnets, these machines. */
export async function vagrantLab(machines: readonly string[]): Promise<VagrantLab> {
  const work = await mkdtemp(path.join(tmpdir(), 'provision-vagrant-libvirt-'));
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    VAGRANT_HOME: path.join(work, 'vagrant-home'),
    VAGRANT_DOTFILE_PATH: path.join(work, 'dot'),
    VAGRANT_CHECKPOINT_DISABLE: '1',
    VAGRANT_DEFAULT_PROVIDER: 'libvirt',
    PROVISION_BOX: 'lab',
    PROVISION_NETWORK: 'lab',
    PROVISION_MACHINES: machines.join(','),
    HA_AUTH_KEY: 'vagrant-libvirt-test-key',
  };
  const timed = async (file: string, args: string[], timeoutMs: number): Promise<Run> => {
    const started = Date.now();
    const result = await execa(file, args, { cwd: repoRoot, env, all: true, reject: false, timeout: timeoutMs, stdin: 'ignore' });
    return { exitCode: result.exitCode ?? -1, output: String(result.all ?? ''), seconds: (Date.now() - started) / 1000 };
  };
  const lab: VagrantLab = {
    work,
    env,
    vagrant: (args, timeoutMs) => timed('vagrant', args, timeoutMs),
    provision: (args, timeoutMs) => timed(process.execPath, [CLI, ...args], timeoutMs),
    ssh: (machine, command) => timed('vagrant', ['ssh', machine, '-c', command], 120_000),
    file: (name) => path.join(work, name),
  };
  const box = await lab.provision(['vagrant', 'box'], 600_000);
  if (box.exitCode !== 0) throw new Error(`provision vagrant box failed:\n${box.output}`);
  return lab;
}

/** Whatever happened: the machines destroyed, then libvirt's leftovers (--force), then the temp directory. */
export async function removeVagrantLab(lab: VagrantLab | undefined): Promise<void> {
  if (lab === undefined) return;
  await lab.vagrant(['destroy', '-f'], DESTROY_TIMEOUT_MS).catch(() => undefined);
  await lab.provision(['vagrant', 'libvirt-down', '--force'], 120_000);
  await rm(lab.work, { recursive: true, force: true });
}

/** The recap rows in a file of --json events (the provisioning trigger writes one with PROVISION_JSON). */
export async function recapRows(file: string, output: string): Promise<Array<Record<string, unknown>>> {
  const events = (await readFile(file, 'utf8').catch(() => '')).split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);
  const found = events.find((event) => event.type === 'recap') as { hosts: Array<Record<string, unknown>> } | undefined;
  if (found === undefined) throw new Error(`no recap in ${file}:\n${output.slice(-3000)}`);
  return found.hosts;
}
