// The machine's one apt (src/lab/apt.ts), for real: apt-get and dpkg installing from the lab's
// offline mirror into a Debian 12 root of their own (a copy-on-write layer over the lab's rootfs,
// chrooted), so this machine's own package database is never touched. It checks what a fresh
// machine needs: package lists missing or stale are refreshed once, two installs never run at
// once, and neither a signal nor an error elsewhere ends apt or dpkg in flight.
import { execFile, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MachineApt } from '../../../src/lab/apt.ts';
import { ensureMirror } from '../../../src/lab/mirror.ts';
import { labPaths } from '../../../src/lab/paths.ts';
import { ensureRootfs } from '../../../src/lab/rootfs.ts';
import { FIRST_BUILD_TIMEOUT_MS, skipReason } from '../lab/support.ts';
import { repoRoot } from '../../support/project.ts';

const execFileAsync = promisify(execFile);
const paths = labPaths();
const roots: string[] = [];
let work: string;

/** A fresh Debian root: the lab's rootfs under a writable layer, the mirror its only apt source, no package lists. */
async function freshRoot(): Promise<string> {
  const dir = await mkdtemp(path.join(work, 'root-'));
  const [upper, overlayWork, merged] = ['upper', 'work', 'merged'].map((name) => path.join(dir, name)) as [string, string, string];
  for (const d of [upper, overlayWork, merged]) await mkdir(d);
  await execFileAsync('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${paths.rootfs},upperdir=${upper},workdir=${overlayWork}`, merged]);
  roots.push(merged);
  await mkdir(path.join(merged, 'mirror'));
  await execFileAsync('mount', ['--bind', '-o', 'ro', paths.mirror, path.join(merged, 'mirror')]);
  roots.push(path.join(merged, 'mirror'));
  await writeFile(path.join(merged, 'etc/apt/sources.list'), 'deb [trusted=yes] file:/mirror ./\n');
  const lists = path.join(merged, 'var/lib/apt/lists');
  for (const name of await readdir(lists)) if (name !== 'partial' && name !== 'lock') await rm(path.join(lists, name), { recursive: true, force: true });
  return merged;
}

async function dpkgStatus(root: string, name: string): Promise<string> {
  const { stdout } = await execFileAsync('dpkg-query', [`--admindir=${root}/var/lib/dpkg`, '-W', '-f=${db:Status-Abbrev}', name]).catch(() => ({ stdout: 'unknown' }));
  return stdout.trim();
}

/** What dpkg --audit finds: empty when no package is half-installed or half-configured. */
async function dpkgAudit(root: string): Promise<string> {
  const { stdout } = await execFileAsync('chroot', [root, 'dpkg', '--audit']);
  return stdout.trim();
}

interface Child {
  lines: string[];
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  process: ReturnType<typeof spawn>;
  waitFor(pattern: RegExp, timeoutMs: number): Promise<void>;
}

function installInChild(root: string, packages: string[], env: Record<string, string> = {}): Child {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'test/support/apt-install-child.ts'), root, ...packages], {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines: string[] = [];
  let buffered = '';
  child.stdout.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    const parts = buffered.split('\n');
    buffered = parts.pop()!;
    lines.push(...parts);
  });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return {
    lines,
    exit,
    process: child,
    async waitFor(pattern, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (!lines.some((line) => pattern.test(line))) {
        if (Date.now() > deadline) throw new Error(`the child did not print ${pattern} within ${timeoutMs} ms; it printed:\n${lines.join('\n')}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
  };
}

/** Waits until a process named `name` runs chrooted in `root` (dpkg unpacking, say). */
async function waitForProcessIn(root: string, name: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (const pid of (await readdir('/proc')).filter((entry) => /^\d+$/.test(entry))) {
      const [comm, processRoot] = await Promise.all([readFile(`/proc/${pid}/comm`, 'utf8').catch(() => ''), readlink(`/proc/${pid}/root`).catch(() => '')]);
      if (comm.trim() === name && processRoot === root) return;
    }
    if (Date.now() > deadline) throw new Error(`no ${name} ran in ${root} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function processesIn(root: string): Promise<string[]> {
  const found: string[] = [];
  for (const pid of (await readdir('/proc')).filter((entry) => /^\d+$/.test(entry))) {
    if ((await readlink(`/proc/${pid}/root`).catch(() => '')) === root) found.push(pid);
  }
  return found;
}

async function waitUntilNothingRunsIn(root: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await processesIn(root)).length > 0) {
    if (Date.now() > deadline) throw new Error(`processes still run in ${root} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe.skipIf(skipReason !== undefined)("the machine's apt", () => {
  beforeAll(async () => {
    await ensureRootfs(paths, () => undefined);
    await ensureMirror(paths, () => undefined);
    work = await mkdtemp(path.join(tmpdir(), 'provision-apt-test-'));
  }, FIRST_BUILD_TIMEOUT_MS);

  afterEach(async () => {
    for (const mount of roots.reverse()) await execFileAsync('umount', [mount]).catch(() => execFileAsync('umount', ['-l', mount]));
    roots.length = 0;
  });

  afterAll(async () => {
    if (work !== undefined) await rm(work, { recursive: true, force: true });
  });

  it('refreshes missing lists once and runs two installs one after the other, without starting daemons', async () => {
    const root = await freshRoot();
    const log: string[] = [];
    const apt = new MachineApt({ root, log: (line) => log.push(line) });
    // nginx's postinst would start nginx: policy-rc.d must say no while apt installs.
    await Promise.all([apt.install(['curl'], 'first'), apt.install(['nginx', 'curl'], 'second')]);

    expect(log.filter((line) => line.startsWith('refreshing'))).toEqual(["refreshing apt's package lists (apt has no package lists): apt-get update"]);
    const events = log.filter((line) => /^(installing|installed) /.test(line)).map((line) => line.replace(/ with apt-get.*/, ''));
    // The second call waited for the first to finish, and then installed only what was still missing.
    expect(events).toEqual(['installing curl', 'installed curl', 'installing nginx', 'installed nginx']);
    expect(await dpkgStatus(root, 'curl')).toBe('ii');
    expect(await dpkgStatus(root, 'nginx')).toBe('ii');
    expect(existsSync(path.join(root, 'usr/sbin/policy-rc.d'))).toBe(false);
    expect(await dpkgAudit(root)).toBe('');
    // Installed already: nothing runs, nothing is said.
    log.length = 0;
    expect(await apt.install(['curl'], 'again')).toEqual([]);
    expect(log).toEqual([]);
  });

  /**
   * Makes make's package lists stale as `edit` says (given the Packages list's text), with the
   * Release files gone so the next apt-get update fetches them again (as when the archive moved
   * on); then installs make: the lists are refreshed once, and make installs.
   */
  async function installWithStaleLists(edit: (packagesText: string) => string): Promise<void> {
    const root = await freshRoot();
    await new MachineApt({ root, log: () => undefined }).withDependencies(['make']);
    const lists = path.join(root, 'var/lib/apt/lists');
    const packagesList = path.join(lists, (await readdir(lists)).find((name) => name.endsWith('_Packages'))!);
    await writeFile(packagesList, edit(await readFile(packagesList, 'utf8')));
    for (const name of await readdir(lists)) if (name.endsWith('_Release')) await rm(path.join(lists, name));

    const log: string[] = [];
    await new MachineApt({ root, log: (line) => log.push(line) }).install(['make'], 'the test');
    expect(log.filter((line) => line.startsWith('refreshing'))).toEqual(["refreshing apt's package lists (apt-get install make failed): apt-get update"]);
    expect(await dpkgStatus(root, 'make')).toBe('ii');
  }

  it('refreshes stale lists once when apt cannot fetch what they name, then installs', async () => {
    // Lists that name a file the mirror no longer has: what an old machine's lists look like after
    // the archive moved on.
    await installWithStaleLists((text) => text.replace(/^Filename: \.\/make_/m, 'Filename: ./superseded/make_'));
  });

  it('refreshes lists once when they name a dependency version apt cannot have (one suite fresher than another), then installs', async () => {
    // make's entry asks for a libc6 no list has: apt reports unmet dependencies.
    await installWithStaleLists((text) => {
      const stanza = /^Package: make\n(?:.+\n)*/m.exec(text)![0];
      expect(stanza).toMatch(/^Depends: /m);
      return text.replace(stanza, stanza.replace(/^Depends: .*$/m, 'Depends: libc6 (>= 99:1)'));
    });
  });

  /** A fresh root whose lists are fresh too, so a child's first apt command is its install. */
  async function rootWithLists(): Promise<string> {
    const root = await freshRoot();
    await new MachineApt({ root, log: () => undefined }).withDependencies(['gcc']);
    return root;
  }

  it('holds a SIGTERM that arrives while dpkg installs, and acts on it once apt has finished', async () => {
    const root = await rootWithLists();
    const child = installInChild(root, ['gcc']);
    await waitForProcessIn(root, 'dpkg', 60_000);
    child.process.kill('SIGTERM');
    const { signal } = await child.exit;

    expect(child.lines).toContain('apt-get install is running: stopping when it has finished (ending it would leave dpkg half-configured)');
    // It did stop on the signal, but only after apt: gcc is whole, and dpkg has nothing to finish.
    expect(signal).toBe('SIGTERM');
    expect(child.lines).not.toContain('done');
    expect(await dpkgStatus(root, 'gcc')).toBe('ii');
    expect(await dpkgAudit(root)).toBe('');
  });

  it('lets apt finish when the process that started it is killed outright (SIGKILL)', async () => {
    const root = await rootWithLists();
    const child = installInChild(root, ['gcc']);
    await waitForProcessIn(root, 'dpkg', 60_000);
    child.process.kill('SIGKILL');
    expect((await child.exit).signal).toBe('SIGKILL');
    // apt had its own process group and wrote to a file, not to the dead process: it carries on.
    await waitUntilNothingRunsIn(root, 120_000);
    expect(await dpkgStatus(root, 'gcc')).toBe('ii');
    expect(await dpkgAudit(root)).toBe('');
  });

  it('waits for apt to finish when an unrelated branch fails, then reports the failure', async () => {
    const root = await rootWithLists();
    const child = installInChild(root, ['gcc'], { FAIL_AFTER_MS: '300' });
    const { code } = await child.exit;

    expect(code).toBe(1);
    const installed = child.lines.findIndex((line) => line.startsWith('installed gcc'));
    const failed = child.lines.indexOf('failed: a branch unrelated to apt failed');
    expect(installed).toBeGreaterThan(-1);
    expect(failed).toBeGreaterThan(installed);
    expect(await dpkgStatus(root, 'gcc')).toBe('ii');
    expect(await dpkgAudit(root)).toBe('');
  });
});
