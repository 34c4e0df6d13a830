// Processes the lab starts outside its hosts (the package mirror, a VM's qemu): identified by pid
// AND start time, so a pid the kernel reused for an unrelated process is never killed.
import { readdir, readFile, readlink } from 'node:fs/promises';
import { poll } from './wait.ts';

interface ProcStat {
  state: string;
  startTime: string;
}

async function readStat(pid: number): Promise<ProcStat | undefined> {
  let text: string;
  try {
    text = await readFile(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // "pid (comm) state ppid ... starttime(22nd) ...": comm may contain spaces and parentheses.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const state = fields[0];
  const startTime = fields[19];
  return state === undefined || startTime === undefined ? undefined : { state, startTime };
}

/** The process's start time (clock ticks since boot), the second half of its identity. */
export async function processStartTime(pid: number): Promise<string | undefined> {
  return (await readStat(pid))?.startTime;
}

/** True while the process runs (a zombie has ended). */
export async function isRunning(pid: number, startTime: string): Promise<boolean> {
  const stat = await readStat(pid);
  return stat !== undefined && stat.startTime === startTime && stat.state !== 'Z' && stat.state !== 'X';
}

const EXIT_WAIT = { timeoutMs: 5_000, intervalMs: 20 };

/** SIGKILLs the process if it is still the one recorded, and waits (bounded) until it has ended. */
export async function killProcess(pid: number, startTime: string): Promise<void> {
  if (!(await isRunning(pid, startTime))) return;
  signal(pid, 'SIGKILL');
  const ended = await poll(async () => ((await isRunning(pid, startTime)) ? undefined : true), EXIT_WAIT);
  if (ended === undefined) throw new Error(`process ${pid} did not end within ${EXIT_WAIT.timeoutMs / 1000} s of SIGKILL`);
}

/**
 * Sends a signal to one process, ignoring a process that has just ended. Refuses pids below 1,
 * which kill(2) takes as whole process groups (0 is also how a cgroup lists a process of another
 * PID namespace).
 */
export function signal(pid: number, name: NodeJS.Signals): void {
  if (!Number.isInteger(pid) || pid < 1) throw new Error(`refusing to signal ${pid}: not the pid of one process`);
  try {
    process.kill(pid, name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

/** Live (not zombie) processes other than this one for which `matches` holds, with their start times. */
async function findLiveProcesses(matches: (pid: number, cmdline: string) => Promise<boolean>): Promise<{ pid: number; startTime: string }[]> {
  const found: { pid: number; startTime: string }[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (!(await matches(pid, cmdline))) continue;
    const stat = await readStat(pid);
    if (stat !== undefined && stat.state !== 'Z') found.push({ pid, startTime: stat.startTime });
  }
  return found;
}

/** Pids of running processes whose command line contains every one of `needles`. */
export function findProcesses(needles: readonly string[]): Promise<{ pid: number; startTime: string }[]> {
  return findLiveProcesses(async (_pid, cmdline) => cmdline !== '' && needles.every((needle) => cmdline.includes(needle)));
}

/**
 * Running processes that work in `dir`: it is in their command line, or is (or contains) their
 * current or root directory. Used for the lab's own build directories only, to stop a build that
 * an earlier, killed `lab up` left running (debootstrap, its chrooted dpkg, apt-get download).
 */
export function findProcessesUsing(dir: string): Promise<{ pid: number; startTime: string }[]> {
  const inside = (target: string | undefined) => target !== undefined && (target === dir || target.startsWith(`${dir}/`));
  return findLiveProcesses(async (pid, cmdline) => {
    if (cmdline.split('\0').some(inside)) return true;
    const cwd = await readlink(`/proc/${pid}/cwd`).catch(() => undefined);
    const root = await readlink(`/proc/${pid}/root`).catch(() => undefined);
    return inside(cwd) || inside(root);
  });
}

/** Kills the processes findProcessesUsing(dir) finds. */
export async function killProcessesUsing(dir: string): Promise<void> {
  for (const { pid, startTime } of await findProcessesUsing(dir)) await killProcess(pid, startTime);
}
