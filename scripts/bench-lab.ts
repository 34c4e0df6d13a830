// Benchmark of the local lab (root on Linux): first build (rootfs + package mirror), `lab up` of 4
// namespace hosts with a warm cache (target: 5 s or less), and `lab down`.
//
//   tsx scripts/bench-lab.ts            first build as recorded when the cache was built (builds it if missing)
//   tsx scripts/bench-lab.ts --cold     first build measured now, in a fresh temporary cache
//   tsx scripts/bench-lab.ts --runs 5   up/down cycles to measure (default 3)
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { UserError } from '../src/core/errors.ts';
import { labDown, labUp } from '../src/lab/lab.ts';
import { labPaths } from '../src/lab/paths.ts';
import { readManifest } from '../src/lab/rootfs.ts';

const UP_TARGET_SECONDS = 5;

const INVENTORY = `all:
  hosts:
    dir1: { address: 10.213.2.250, lab: { kind: namespace, eth1: 10.213.1.250/24 } }
    dir2: { address: 10.213.2.251, lab: { kind: namespace, eth1: 10.213.1.251/24 } }
    rs1: { address: 10.213.2.252, lab: { kind: namespace } }
    rs2: { address: 10.213.2.253, lab: { kind: namespace } }
`;

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { cold: { type: 'boolean', default: false }, runs: { type: 'string', default: '3' } } });
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1) throw new UserError(`--runs expects a positive whole number, got ${values.runs}`);
  const work = await mkdtemp(path.join(tmpdir(), 'provision-bench-lab-'));
  const inventoryFile = path.join(work, 'lab.yaml');
  await writeFile(inventoryFile, INVENTORY);
  const env = values.cold ? { ...process.env, PROVISION_LAB_CACHE: path.join(work, 'cache') } : process.env;
  const paths = labPaths(env);
  if (existsSync(paths.state)) throw new UserError(`a lab is up (${paths.state}); the benchmark starts and stops its own`, {}, "run 'provision lab down' first");

  try {
    // The first `up` builds whatever the cache lacks; its timings are the first build's.
    const first = await labUp({ inventoryFile, env, log: (line) => console.error(`  ${line}`) });
    await labDown({ env });
    const rootfs = first.rootfs.built ? first.rootfs.seconds : (await readManifest(paths.rootfsManifest))?.seconds;
    const mirror = first.mirror.built ? first.mirror.seconds : (await readManifest(paths.mirrorManifest))?.seconds;
    const when = first.rootfs.built || first.mirror.built ? 'measured now' : 'recorded when the cache was built';
    console.log(`first build (${when}): rootfs ${format(rootfs)}, package mirror ${format(mirror)} (built in parallel)`);

    const ups: number[] = [];
    const downs: number[] = [];
    for (let run = 0; run < runs; run++) {
      const up = await labUp({ inventoryFile, env });
      ups.push(up.totalSeconds);
      downs.push((await labDown({ env })).seconds);
    }
    const upMedian = median(ups);
    console.log(`lab up, 4 namespace hosts, warm cache: median ${format(upMedian)} (runs: ${ups.map(format).join(', ')}; target ${UP_TARGET_SECONDS} s: ${upMedian <= UP_TARGET_SECONDS ? 'met' : 'MISSED'})`);
    console.log(`lab down: median ${format(median(downs))} (runs: ${downs.map(format).join(', ')})`);
  } finally {
    await labDown({ env }).catch(() => undefined);
    await rm(work, { recursive: true, force: true });
  }
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function format(seconds: number | undefined): string {
  return seconds === undefined ? 'unknown' : `${seconds.toFixed(2)} s`;
}

main().catch((error: unknown) => {
  console.error(error instanceof UserError ? `ERROR: ${error.format()}` : error);
  process.exitCode = 1;
});
