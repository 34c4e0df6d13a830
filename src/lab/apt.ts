// This machine's apt: the one way the lab, the demo and the test set-up install, resolve and
// download Debian packages. A package database broken by a tool is worse than any failure of the
// tool, so three rules hold for every apt-get and apt-cache this process runs:
// - One at a time. Every call goes through one queue, and `apt-get install` waits for another
//   process's dpkg lock (DPkg::Lock::Timeout) instead of failing on it.
// - Never ended in flight. apt runs in its own process group (a Ctrl-C in the terminal does not
//   reach it), writes to a file rather than a pipe (so it cannot die of SIGPIPE when this process
//   has gone), is not killed when this process exits and has no time limit of ours (apt's own
//   network time-outs bound it). A SIGINT, SIGTERM or SIGHUP that arrives meanwhile is held until
//   apt has finished, then acted on; `idle()` lets an error path wait for apt before it exits.
// - Stale package lists are refreshed once. Lists that are missing, or a resolve or fetch that
//   fails in a way fresh lists can fix, run `apt-get update` once per process, then the call is
//   tried once more.
import { execa } from 'execa';
import { spawn } from 'node:child_process';
import { mkdtemp, open, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { UserError } from '../core/errors.ts';

const APT_HINT = 'run apt-get update (the lab needs a Debian 12 machine whose apt can reach a Debian mirror)';
/** How long apt-get install waits for another process's dpkg lock. */
const DPKG_LOCK_WAIT_SECONDS = 600;
/** apt's own bound on a stalled download (seconds), and its retries. */
const NETWORK_OPTIONS = ['-o', 'Acquire::http::Timeout=60', '-o', 'Acquire::https::Timeout=60', '-o', 'Acquire::Retries=3'];
/**
 * What apt prints when its package lists are missing or older than the archive. Unmet dependencies
 * are among them: lists of one suite fresher than another's (a security update's lists newer than
 * the main archive's) name versions of a dependency that the others do not have.
 */
const STALE_LISTS =
  /Unable to locate package|has no installation candidate|Failed to fetch|Unable to fetch some archives|404\s+Not Found|Hash Sum mismatch|File has unexpected size|No packages found|Can't select candidate|unmet dependencies|Unable to correct problems/;
const HELD_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

export interface AptResult {
  exitCode: number;
  /** stdout and stderr together, in order */
  output: string;
}

export interface MachineAptOptions {
  /**
   * The root filesystem whose apt this is: '/' for this machine (the default). Another root runs
   * apt chrooted into it (a fresh Debian root in the installer's own test).
   */
  root?: string;
  /** progress lines for the user */
  log?: (line: string) => void;
}

export class AptError extends UserError {
  constructor(what: string, result: AptResult, hint = APT_HINT) {
    const tail = result.output.trim().split('\n').slice(-10).join('\n  ');
    super(`${what} failed (exit ${result.exitCode})${tail ? `:\n  ${tail}` : ''}`, {}, hint);
  }
}

export class MachineApt {
  readonly root: string;
  private readonly log: (line: string) => void;
  private queue: Promise<unknown> = Promise.resolve();
  private refreshed = false;
  private running = 0;

  constructor(options: MachineAptOptions = {}) {
    this.root = options.root ?? '/';
    this.log = options.log ?? ((line) => process.stderr.write(`${line}\n`));
  }

  /** Resolves when no apt call of this object is queued or running. */
  async idle(): Promise<void> {
    while (this.running > 0) await this.queue.catch(() => undefined);
  }

  /** The packages of `names` that dpkg does not have fully installed. */
  async missing(names: readonly string[]): Promise<string[]> {
    if (names.length === 0) return [];
    const admindir = path.join(this.root, 'var/lib/dpkg');
    const result = await execa('dpkg-query', [`--admindir=${admindir}`, '-W', '-f=${Package}\\t${db:Status-Abbrev}\\n', ...names], { reject: false, stdin: 'ignore' });
    const installed = new Set(
      String(result.stdout)
        .split('\n')
        .map((line) => line.split('\t'))
        .filter(([, status]) => status?.trim() === 'ii')
        .map(([name]) => name!.replace(/:.*$/, '')),
    );
    return names.filter((name) => !installed.has(name));
  }

  /**
   * Installs the packages dpkg does not have yet (no recommends; no daemon starts at install),
   * saying what and why first. Returns what it installed.
   */
  async install(names: readonly string[], why: string, log = this.log): Promise<string[]> {
    return this.exclusive(async () => {
      const missing = await this.missing([...new Set(names)]);
      if (missing.length === 0) return [];
      log(`installing ${missing.join(' ')} with apt-get (${why})`);
      await this.refreshIfListsMissing();
      const args = ['install', '-y', '-q', '--no-install-recommends', '-o', `DPkg::Lock::Timeout=${DPKG_LOCK_WAIT_SECONDS}`, ...NETWORK_OPTIONS, ...missing];
      await this.withoutDaemonStarts(() => this.runRefreshingOnce('apt-get', args, `apt-get install ${missing.join(' ')}`));
      const still = await this.missing(missing);
      if (still.length > 0) throw new UserError(`apt-get install finished but ${still.join(' ')} ${still.length === 1 ? 'is' : 'are'} not installed`, {}, `see "dpkg --audit" and "apt-get install ${still.join(' ')}"`);
      log(`installed ${missing.join(' ')}`);
      return missing;
    });
  }

  /** The packages and everything they depend on (not recommends), as apt resolves them. */
  async withDependencies(packages: readonly string[]): Promise<string[]> {
    const args = ['depends', '--recurse', '--no-recommends', '--no-suggests', '--no-conflicts', '--no-breaks', '--no-replaces', '--no-enhances', ...packages];
    return this.exclusive(async () => {
      await this.refreshIfListsMissing();
      const result = await this.runRefreshingOnce('apt-cache', args, `apt-cache depends ${packages.join(' ')}`, { separateStderr: true });
      return dependencyClosure(result.output);
    });
  }

  /**
   * What `apt-get install PACKAGES` would install into another root, judged against that root's
   * dpkg status file (a simulation: nothing is installed or locked). Unlike withDependencies, apt
   * resolves each alternative (`usrmerge | usr-is-merged`) against what the root has, and the
   * versions it needs against the versions it has.
   */
  async toInstallInto(packages: readonly string[], dpkgStatusFile: string): Promise<string[]> {
    const args = ['install', '-s', '-q', '--no-install-recommends', '-o', `Dir::State::status=${dpkgStatusFile}`, ...packages];
    return this.exclusive(async () => {
      await this.refreshIfListsMissing();
      const result = await this.runRefreshingOnce('apt-get', args, `apt-get install -s ${packages.join(' ')}`, { separateStderr: true });
      return simulatedInstalls(result.output);
    });
  }

  /** `apt-cache depends PACKAGE` (direct dependencies only). */
  async depends(packageName: string): Promise<string> {
    return this.exclusive(async () => {
      await this.refreshIfListsMissing();
      return (await this.runRefreshingOnce('apt-cache', ['depends', packageName], `apt-cache depends ${packageName}`, { separateStderr: true })).output;
    });
  }

  /** Downloads the .deb files of `names` into `dir` (nothing is installed). */
  async download(names: readonly string[], dir: string): Promise<void> {
    const shown = names.length === 1 ? names[0]! : `${names.length} packages`;
    // As root, apt would hand the download to its unprivileged _apt user, who cannot write to a
    // root-owned directory.
    const args = ['download', '-q', '-o', 'APT::Sandbox::User=root', ...NETWORK_OPTIONS, ...names];
    await this.exclusive(async () => {
      await this.refreshIfListsMissing();
      await this.runRefreshingOnce('apt-get', args, `apt-get download ${shown}`, { cwd: dir });
    });
  }

  private exclusive<T>(body: () => Promise<T>): Promise<T> {
    this.running += 1;
    const next = this.queue.then(body, body).finally(() => {
      this.running -= 1;
    });
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** apt-get update, once per process, when the machine has no package lists at all. */
  private async refreshIfListsMissing(): Promise<void> {
    const lists = await readdir(path.join(this.root, 'var/lib/apt/lists')).catch(() => [] as string[]);
    if (!lists.some((name) => name.includes('_Packages'))) await this.refresh('apt has no package lists');
  }

  private async refresh(why: string): Promise<boolean> {
    if (this.refreshed) return false;
    this.refreshed = true;
    this.log(`refreshing apt's package lists (${why}): apt-get update`);
    const result = await this.apt('apt-get', ['update', '-q', ...NETWORK_OPTIONS]);
    if (result.exitCode !== 0) throw new AptError('apt-get update', result, "check this machine's apt sources (/etc/apt/sources.list*) and that it can reach them");
    return true;
  }

  /** Runs an apt command; when it fails as stale lists make it fail, refreshes them once and runs it again. */
  private async runRefreshingOnce(command: 'apt-get' | 'apt-cache', args: readonly string[], what: string, options: RunAptOptions = {}): Promise<AptResult> {
    let result = await this.apt(command, args, options);
    if (result.exitCode !== 0 && STALE_LISTS.test(result.output) && (await this.refresh(`${what} failed`))) {
      result = await this.apt(command, args, options);
    }
    if (result.exitCode !== 0) throw new AptError(what, result);
    return result;
  }

  /** policy-rc.d says no to every daemon start during the install, unless the machine has its own. */
  private async withoutDaemonStarts<T>(body: () => Promise<T>): Promise<T> {
    const policy = path.join(this.root, 'usr/sbin/policy-rc.d');
    const placed = await writeFile(policy, '#!/bin/sh\n# provision: no daemon starts while it installs packages\nexit 101\n', { mode: 0o755, flag: 'wx' }).then(
      () => true,
      () => false,
    );
    try {
      return await body();
    } finally {
      if (placed) await rm(policy, { force: true });
    }
  }

  private async apt(command: 'apt-get' | 'apt-cache', args: readonly string[], options: RunAptOptions = {}): Promise<AptResult> {
    const file: string = this.root === '/' ? command : 'chroot';
    const argv: readonly string[] = this.root === '/' ? args : [this.root, command, ...args];
    const logDir = await mkdtemp(path.join(tmpdir(), 'provision-apt-'));
    const outputFile = path.join(logDir, 'output');
    const errorFile = path.join(logDir, 'errors');
    // Files, not pipes: apt must outlive this process without dying of SIGPIPE. One descriptor in
    // append mode keeps stdout and stderr in the order apt wrote them.
    const output = await open(outputFile, 'a');
    const errors = options.separateStderr ? await open(errorFile, 'a') : output;
    try {
      // node's own spawn: it hands the descriptors over as they are (execa would stream them).
      const child = spawn(file, argv, {
        stdio: ['ignore', output.fd, errors.fd],
        detached: true,
        ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
        env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive', LC_ALL: 'C' },
      });
      const exited = new Promise<number>((resolve) => {
        child.once('error', () => resolve(-1));
        child.once('exit', (code) => resolve(code ?? -1));
      });
      const exitCode = await holdingSignals(exited, `${command} ${args[0]}`, this.log);
      const printed = await readFile(outputFile, 'utf8');
      const complaints = options.separateStderr ? await readFile(errorFile, 'utf8') : '';
      return { exitCode, output: exitCode === 0 ? printed : `${printed}${complaints}` };
    } finally {
      await output.close();
      if (errors !== output) await errors.close();
      await rm(logDir, { recursive: true, force: true });
    }
  }
}

interface RunAptOptions {
  cwd?: string;
  /** stderr kept out of the output unless the command fails (apt-cache's warnings are not data) */
  separateStderr?: boolean;
}

/**
 * Waits for `work`; a SIGINT, SIGTERM or SIGHUP that arrives meanwhile is held (and said so) and
 * raised again once the work is over, when this process is no longer inside apt.
 */
async function holdingSignals<T>(work: Promise<T>, what: string, log: (line: string) => void): Promise<T> {
  let held: NodeJS.Signals | undefined;
  const hold = (signal: NodeJS.Signals) => {
    if (held === undefined) log(`${what} is running: stopping when it has finished (ending it would leave dpkg half-configured)`);
    held ??= signal;
  };
  for (const signal of HELD_SIGNALS) process.on(signal, hold);
  try {
    return await work;
  } finally {
    for (const signal of HELD_SIGNALS) process.off(signal, hold);
    if (held !== undefined) process.kill(process.pid, held);
  }
}

/**
 * The real package names in `apt-cache depends --recurse` output: package names start the lines;
 * indented lines are dependencies, <name> are virtual packages, name:arch are other architectures'
 * packages (multiarch machines).
 */
export function dependencyClosure(aptCacheDependsOutput: string): string[] {
  const names = new Set(aptCacheDependsOutput.split('\n').filter((line) => /^[a-z0-9][a-z0-9+.-]*$/.test(line)));
  return [...names].sort();
}

/** The packages an `apt-get install -s` would unpack: its "Inst NAME ..." lines (upgrades included). */
export function simulatedInstalls(aptGetSimulateOutput: string): string[] {
  const names = new Set<string>();
  for (const line of aptGetSimulateOutput.split('\n')) {
    const name = /^Inst (\S+)/.exec(line)?.[1];
    if (name !== undefined) names.add(name.replace(/:.*$/, ''));
  }
  return [...names].sort();
}

/** This machine's apt: every lab and set-up module uses this one object, so its queue is the machine's. */
export const machineApt = new MachineApt();
