// Benchmark of the local lab (root on Linux):
//   - the first build: rootfs and package mirror (built in parallel by `lab up`), then the VM image;
//   - `lab up` of 4 namespace hosts with a warm cache (target: 5 s or less);
//   - VM ssh-ready time: from the start of a VM to its sshd answering, in the shipped lab
//     (inventory/lab.yaml: two VM directors and three namespace hosts; target: 20 s or less);
//   - `lab up` of a container host (the lab's dockerd started, the image imported the first time);
//   - `lab down` of each.
//
//   tsx scripts/bench-lab.ts            first build as recorded when the cache was built (builds it if missing)
//   tsx scripts/bench-lab.ts --cold     first build measured now, in a fresh temporary cache
//   tsx scripts/bench-lab.ts --runs 5   up/down cycles to measure per lab (default 3)
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { UserError } from '../src/core/errors.ts';
import { labDown, labUp, type LabUpResult } from '../src/lab/lab.ts';
import { ensureMirror } from '../src/lab/mirror.ts';
import { labPaths } from '../src/lab/paths.ts';
import { ensureRootfs, readManifest } from '../src/lab/rootfs.ts';
import { ensureVmImage } from '../src/lab/vm/image.ts';

const UP_TARGET_SECONDS = 5;
const VM_READY_TARGET_SECONDS = 20;
const SHIPPED_LAB = fileURLToPath(new URL('../inventory/lab.yaml', import.meta.url));

const NAMESPACE_LAB = `all:
  hosts:
    dir1: { address: 10.213.2.250, lab: { kind: namespace, eth1: 10.213.1.250/24 } }
    dir2: { address: 10.213.2.251, lab: { kind: namespace, eth1: 10.213.1.251/24 } }
    rs1: { address: 10.213.2.252, lab: { kind: namespace } }
    rs2: { address: 10.213.2.253, lab: { kind: namespace } }
`;
const CONTAINER_LAB = `all:
  hosts:
    ct1: { address: 10.213.2.20, lab: { kind: container, eth1: 10.213.1.20/24 } }
`;

type Env = Record<string, string | undefined>;

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { cold: { type: 'boolean', default: false }, runs: { type: 'string', default: '3' } } });
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1) throw new UserError(`--runs expects a positive whole number, got ${values.runs}`);
  const work = await mkdtemp(path.join(tmpdir(), 'provision-bench-lab-'));
  const namespaceLab = path.join(work, 'namespace-lab.yaml');
  const containerLab = path.join(work, 'container-lab.yaml');
  await writeFile(namespaceLab, NAMESPACE_LAB);
  await writeFile(containerLab, CONTAINER_LAB);
  const env: Env = values.cold ? { ...process.env, PROVISION_LAB_CACHE: path.join(work, 'cache') } : process.env;
  const paths = labPaths(env);
  if (existsSync(paths.state)) throw new UserError(`a lab is up (${paths.state}); the benchmark starts and stops its own`, {}, "run 'provision lab down' first");

  try {
    await firstBuild(env, values.cold);

    const { ups: namespaceUps } = await cycles(namespaceLab, env, runs);
    const upMedian = median(namespaceUps.map((up) => up.totalSeconds));
    console.log(`lab up, 4 namespace hosts, warm cache: median ${format(upMedian)} (runs: ${namespaceUps.map((up) => format(up.totalSeconds)).join(', ')}; target ${UP_TARGET_SECONDS} s: ${met(upMedian <= UP_TARGET_SECONDS)})`);

    const { ups: shippedUps } = await cycles(SHIPPED_LAB, env, runs);
    const vmNames = shippedUps[0]!.hosts.filter((host) => host.kind === 'vm').map((host) => host.name);
    const vmReady = shippedUps.flatMap((up) => vmNames.map((name) => up.hostSeconds[name]!));
    const vmMedian = median(vmReady);
    console.log(
      `VM ssh-ready (${vmNames.join(' and ')} starting together, from the start of the VM to its sshd answering): median ${format(vmMedian)}, slowest ${format(Math.max(...vmReady))} (target ${VM_READY_TARGET_SECONDS} s: ${met(vmMedian <= VM_READY_TARGET_SECONDS)})`,
    );
    console.log(`lab up of inventory/lab.yaml (${shippedUps[0]!.hosts.length} hosts): median ${format(median(shippedUps.map((up) => up.totalSeconds)))}`);

    const { first: firstContainer, ups: containerUps } = await cycles(containerLab, env, runs);
    const containerReady = containerUps.map((up) => up.hostSeconds.ct1!);
    console.log(
      `container host up (lab up of one container host: dockerd started, container created, sshd answering): median ${format(median(containerUps.map((up) => up.totalSeconds)))}, the host itself ${format(median(containerReady))}; the first (importing the image when the cache was cold) ${format(firstContainer.totalSeconds)}`,
    );
  } finally {
    await labDown({ env }).catch(() => undefined);
    await rm(work, { recursive: true, force: true });
  }
}

/** Builds what the cache lacks (as `lab up` would) and prints how long each part took. */
async function firstBuild(env: Env, cold: boolean): Promise<void> {
  const paths = labPaths(env);
  const log = (line: string) => console.error(`  ${line}`);
  const [rootfs, mirror] = await Promise.all([ensureRootfs(paths, log), ensureMirror(paths, log)]);
  const image = await ensureVmImage({ rootfs: paths.rootfs, cacheDir: paths.cache, log });
  const rootfsSeconds = rootfs.built ? rootfs.seconds : (await readManifest(paths.rootfsManifest))?.seconds;
  const mirrorSeconds = mirror.built ? mirror.seconds : (await readManifest(paths.mirrorManifest))?.seconds;
  const when = rootfs.built || mirror.built || image.built ? 'measured now' : 'recorded when the cache was built';
  const total = rootfsSeconds === undefined || mirrorSeconds === undefined || image.buildSeconds === undefined ? undefined : Math.max(rootfsSeconds, mirrorSeconds) + image.buildSeconds;
  console.log(
    `first build (${when}${cold ? ', cold cache' : ''}): rootfs ${format(rootfsSeconds)}, package mirror ${format(mirrorSeconds)} (these two in parallel), VM image ${format(image.buildSeconds)}: ${format(total)} in all`,
  );
}

/** `runs` lab up / lab down cycles of an inventory, after a first one that is not counted (it may import or build). */
async function cycles(inventoryFile: string, env: Env, runs: number): Promise<{ first: LabUpResult; ups: LabUpResult[] }> {
  const first = await labUp({ inventoryFile, env });
  await labDown({ env });
  const ups: LabUpResult[] = [];
  const downs: number[] = [];
  for (let run = 0; run < runs; run++) {
    ups.push(await labUp({ inventoryFile, env }));
    downs.push((await labDown({ env })).seconds);
  }
  console.log(`  (lab down of ${path.basename(inventoryFile)}: median ${format(median(downs))})`);
  return { first, ups };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function format(seconds: number | undefined): string {
  return seconds === undefined ? 'unknown' : `${seconds.toFixed(2)} s`;
}

function met(ok: boolean): string {
  return ok ? 'met' : 'MISSED';
}

main().catch((error: unknown) => {
  console.error(error instanceof UserError ? `ERROR: ${error.format()}` : error);
  process.exitCode = 1;
});
