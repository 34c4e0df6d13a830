// Runs a command as a user would and measures it: wall time, and the controller's memory (the
// command and every process it starts, sampled from /proc every 100 ms: the sum of their
// proportional set sizes, which counts pages forked workers share once, and the sum of their
// resident sets), and the largest resident set of any one of them (GNU time's %M, exact).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface Measured {
  seconds: number;
  exitCode: number;
  stdout: string;
  stderr: string;
  /** peak of the summed PSS of the process tree, MiB (sampled) */
  peakTreePssMiB: number;
  /** peak of the summed RSS of the process tree, MiB (sampled) */
  peakTreeRssMiB: number;
  /** the largest RSS any one process of the tree reached, MiB (GNU time); undefined without /usr/bin/time */
  maxProcessRssMiB?: number;
}

const SAMPLE_MS = 100;
const GNU_TIME = '/usr/bin/time';

export async function measure(command: string, args: readonly string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<Measured> {
  const work = await mkdtemp(path.join(tmpdir(), 'provision-bench-measure-'));
  const timeFile = path.join(work, 'rss');
  const withTime = existsSync(GNU_TIME);
  const argv = withTime ? [GNU_TIME, '-f', '%M', '-o', timeFile, command, ...args] : [command, ...args];
  const started = process.hrtime.bigint();
  const child = spawn(argv[0]!, argv.slice(1), { env: options.env ?? process.env, cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
  let peakPss = 0;
  let peakRss = 0;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      if (child.pid !== undefined) {
        const usage = await treeMemory(child.pid);
        peakPss = Math.max(peakPss, usage.pssKiB);
        peakRss = Math.max(peakRss, usage.rssKiB);
      }
      await new Promise((resolve) => setTimeout(resolve, SAMPLE_MS));
    }
  })();
  const exitCode = await new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  sampling = false;
  await sampler;
  const maxRssKiB = withTime ? Number((await readFile(timeFile, 'utf8').catch(() => '')).trim().split('\n').pop()) : NaN;
  await rm(work, { recursive: true, force: true });
  return {
    seconds,
    exitCode,
    stdout: Buffer.concat(stdout).toString('utf8'),
    stderr: Buffer.concat(stderr).toString('utf8'),
    peakTreePssMiB: peakPss / 1024,
    peakTreeRssMiB: peakRss / 1024,
    ...(Number.isFinite(maxRssKiB) && maxRssKiB > 0 ? { maxProcessRssMiB: maxRssKiB / 1024 } : {}),
  };
}

/**
 * The summed PSS and RSS (KiB) of `root` and its descendants now. Descendants are found through
 * /proc/PID/task/TID/children (no scan of every process of the machine: the scale lab runs hundreds,
 * and the sampling must not slow the run it measures).
 */
async function treeMemory(root: number): Promise<{ pssKiB: number; rssKiB: number }> {
  let pssKiB = 0;
  let rssKiB = 0;
  const pending = [root];
  const seen = new Set<number>();
  while (pending.length > 0) {
    const pid = pending.pop()!;
    if (seen.has(pid)) continue;
    seen.add(pid);
    for (const task of await readdir(`/proc/${pid}/task`).catch(() => [] as string[])) {
      const children = await readFile(`/proc/${pid}/task/${task}/children`, 'utf8').catch(() => '');
      for (const child of children.split(' ')) if (/^\d+$/.test(child)) pending.push(Number(child));
    }
    const rollup = await readFile(`/proc/${pid}/smaps_rollup`, 'utf8').catch(() => '');
    pssKiB += Number(/^Pss:\s+(\d+)/m.exec(rollup)?.[1] ?? 0);
    rssKiB += Number(/^Rss:\s+(\d+)/m.exec(rollup)?.[1] ?? 0);
  }
  return { pssKiB, rssKiB };
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}
