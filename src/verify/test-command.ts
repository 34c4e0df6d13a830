// `provision test`: Molecule's lifecycle for a cluster, with structured results. The lab up (when the
// inventory has lab hosts), converge (the playbook), idempotence (the playbook again: it must change
// nothing, compared from the run's JSON events, naming every task that changed), verify, drill (on
// a lab, which is this machine's own; on other hosts only with --cluster naming the cluster), and
// the lab down again unless --keep.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { existsSync } from 'node:fs';
import { UserError } from '../core/errors.ts';
import { loadInventory } from '../inventory/load.ts';
import { banner } from '../report/recap.ts';
import type { RunFlags } from '../cli/run.ts';
import { settleBound } from './drill.ts';

/** What verify may wait beyond the description's own start-up bound: emulated VMs start slowly. */
const SETTLE_MARGIN_SECONDS = 120;

export interface TestFlags {
  inventory?: string;
  keep: boolean;
  /** drill faults (drill.ts FAULTS), or 'none' */
  faults?: string;
  /** confirms a drill on hosts that are not the lab's */
  cluster?: string;
  /** where the drill writes its HTML report */
  html?: string;
  verbose: number;
  forks: number;
  extraVars: string[];
}

interface StageResult {
  stage: string;
  exitCode: number;
  detail: string;
}

export async function testCommand(playbook: string, flags: TestFlags, defaultInventory: string): Promise<number> {
  const inventoryFile = flags.inventory ?? defaultInventory;
  if (!existsSync(inventoryFile)) throw new UserError(`inventory file not found: ${inventoryFile}`, {}, 'give one with --inventory FILE');
  const lab = await import('../lab/lab.ts');
  const { exportLabSecrets } = await import('../lab/secrets.ts');
  // Read once as lint reads it (an unset !env is no error here) to learn whether the hosts are the
  // lab's: then, as for `lab up`, unset secrets come from the lab's own store; never for other hosts.
  const hostsOnly = await loadInventory(inventoryFile, { onUnsetEnv: () => undefined });
  const labHosts = [...hostsOnly.hosts.values()].filter((h) => h.lab !== undefined).map((h) => h.name);
  if (labHosts.length > 0) exportLabSecrets();
  const inventory = await loadInventory(inventoryFile);
  const cluster = inventory.cluster;
  const everyHostIsLab = labHosts.length === inventory.hosts.size;

  const results: StageResult[] = [];
  const say = (text: string) => process.stdout.write(`\n${banner(`TEST [${text}]`, 60, process.stdout.isTTY ? process.stdout.columns : undefined)}\n`);
  const dir = await mkdtemp(path.join(tmpdir(), 'provision-test-'));
  const runFlags = (json: string): RunFlags => ({
    inventory: inventoryFile,
    tags: [],
    skipTags: [],
    extraVars: flags.extraVars,
    check: false,
    diff: false,
    verbose: flags.verbose,
    forks: flags.forks,
    json,
    lockTimeout: 60,
    askBecomePass: false,
  });
  const { run } = await import('../cli/run.ts');
  try {
    if (labHosts.length > 0) {
      say('lab up');
      const up = await lab.labUp({ inventoryFile, log: (line) => process.stdout.write(`${line}\n`) });
      results.push({ stage: 'lab up', exitCode: 0, detail: `${up.hosts.length} hosts answer ssh` });
    }
    say('converge');
    const converged = await run(playbook, runFlags(path.join(dir, 'converge.jsonl')), defaultInventory);
    results.push({ stage: 'converge', exitCode: converged, detail: converged === 0 ? 'no task failed' : `exit code ${converged}` });
    if (converged !== 0) return finish();

    say('idempotence');
    const second = path.join(dir, 'idempotence.jsonl');
    const again = await run(playbook, runFlags(second), defaultInventory);
    const changed = (await readFile(second, 'utf8'))
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { type: string; status?: string; host?: string; role?: string | null; task?: string })
      .filter((e) => e.type === 'task' && e.status === 'changed')
      .map((e) => `${e.host}: ${e.role ? `${e.role} : ` : ''}${e.task}`);
    results.push({
      stage: 'idempotence',
      exitCode: again !== 0 ? again : changed.length > 0 ? 2 : 0,
      detail: again !== 0 ? `the second run failed (exit code ${again})` : changed.length > 0 ? `the second run changed ${changed.length} tasks: ${changed.join('; ')}` : 'the second run changed nothing',
    });
    if (results.at(-1)!.exitCode !== 0) return finish();

    if (cluster === undefined) return finish();
    say('verify');
    const { verifyCommand } = await import('./command.ts');
    // The cluster was just (re)started: heartbeat waits initdead before it takes the VIP, the
    // managers' first health checks add the real servers. Verify reads it until it passes, that
    // long and a margin for slow (emulated) hosts.
    const settle = settleBound(cluster) + SETTLE_MARGIN_SECONDS;
    const verified = await verifyCommand({ inventory: inventoryFile, verbose: flags.verbose, forks: flags.forks, settle }, defaultInventory);
    results.push({ stage: 'verify', exitCode: verified, detail: verified === 0 ? 'every check passed' : 'a check failed (above)' });
    if (verified !== 0) return finish();

    if (flags.faults !== 'none' && (everyHostIsLab || flags.cluster === cluster.name)) {
      say('drill');
      const { drillCommand } = await import('./drill-command.ts');
      const drilled = await drillCommand({ inventory: inventoryFile, cluster: cluster.name, ...(flags.faults ? { faults: flags.faults } : {}), ...(flags.html ? { html: flags.html } : {}), verbose: flags.verbose }, defaultInventory);
      results.push({ stage: 'drill', exitCode: drilled, detail: drilled === 0 ? 'every fault was handled as described' : 'a drill failed (above)' });
    } else if (flags.faults !== 'none') {
      results.push({ stage: 'drill', exitCode: 0, detail: `skipped: the hosts are not all the lab's; name the cluster (--cluster ${cluster.name}) to drill them` });
    }
    return finish();
  } finally {
    await rm(dir, { recursive: true, force: true });
    if (labHosts.length > 0 && !flags.keep) {
      say('lab down');
      await lab.labDown({ inventoryFile });
    }
  }

  function finish(): number {
    process.stdout.write(`\n${banner('TEST RECAP', 60)}\n`);
    for (const r of results) process.stdout.write(`${r.exitCode === 0 ? 'ok' : 'FAILED'}: ${r.stage}: ${r.detail}\n`);
    return results.find((r) => r.exitCode !== 0)?.exitCode ?? 0;
  }
}
