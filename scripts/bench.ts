// `npm run bench`: our playbook against its Ansible twin (scripts/bench/ansible-twin.ts: the same
// tasks with builtin modules, ansible-core from Debian with its fastest fair settings) on the same
// lab hosts, the tools alternating for several rounds:
//   first   each host reset to a fresh disk (lab reset, not timed), then a run; then the OTHER tool
//           runs on what it made and must change nothing (that proves the twin does what we do)
//   noop    a run that has nothing to do
//   check   --check on the same state
//   drift   one managed file changed on one host (not timed), then a run repairs it
// It prints the median seconds of each tool, their ratio, the remote executions per host of each
// (ours from the recap of our --json events; Ansible's are its ssh/sftp/scp invocations, counted by
// wrappers the twin's ansible.cfg names) and the controller's peak memory (the process tree's PSS,
// sampled; and GNU time's largest RSS of one process), on the whole lab of inventory/lab.yaml and on
// its namespace hosts alone (--limit), where the emulated VMs do not dominate.
//
// --scale instead brings up N namespace hosts (sshd only; replacing the lab that is up), runs a
// small playbook (scripts/bench/scale/site.yml) for 1, 10, 50 and 100 of them, first run and no-op,
// and takes them down.
//
//   npm run bench                                  everything, 3 rounds (about 1.5 h: the VMs are emulated)
//   npm run bench -- --hosts namespace --rounds 1  the namespace hosts only, once (a few minutes)
//   npm run bench -- --only noop,check             some scenarios (no reset: on the lab as it is, converged first)
//   npm run bench -- --tools provision             one tool only
//   npm run bench -- --scale [--sizes 1,10,50,100] the scale bench
//   npm run bench -- --emit-twin DIR               write the Ansible twin for the lab as it is, and stop
//   --forks N (default 20, ours' default; Ansible gets the same), --strategy linear|free (Ansible's),
//   --warm (Ansible keeps its ControlPersist connections from one run to the next), --results FILE (JSON,
//   written after every run), --report FILE (print the tables of a results file again, running nothing)
// Needs root on Linux (the lab). Installs ansible-core with the lab's apt queue when it is missing.
import { cpus, totalmem, release } from 'node:os';
import { mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { Facts } from '../src/core/facts.ts';
import { UserError } from '../src/core/errors.ts';
import { createConnector } from '../src/connectors/index.ts';
import { loadInventory } from '../src/inventory/load.ts';
import type { Inventory } from '../src/inventory/model.ts';
import { machineApt } from '../src/lab/apt.ts';
import { withLabCredentials } from '../src/lab/connection.ts';
import { labDown, labReset, labUp } from '../src/lab/lab.ts';
import { exportLabSecrets } from '../src/lab/secrets.ts';
import { loadPlaybook } from '../src/playbook/load.ts';
import { median } from './bench/measure.ts';
import { scaleInventory } from './bench/scale/inventory.ts';
import { closeAnsibleConnections, PROJECT_DIR, runAnsible, runProvision, TOOLS, type RunOutcome, type RunRequest, type Tool } from './bench/tools.ts';
import { gatherFacts, writeTwin, type WrittenTwin } from './bench/twin-files.ts';
import { planTwin } from './bench/twin-plan.ts';

const SCENARIOS = ['first', 'noop', 'check', 'drift'] as const;
type Scenario = (typeof SCENARIOS)[number];
/** What a run measured: a scenario, or the other tool's run right after a first run (the equivalence check). */
type Measurement = Scenario | 'cross';
const MEASUREMENTS: readonly Measurement[] = ['first', 'cross', 'noop', 'check', 'drift'];
const SCENARIO_LABEL: Record<Measurement, string> = { first: 'first run', cross: 'after other', noop: 'no-op', check: '--check', drift: 'drift repair' };

const TARGETS = { wholeLabNoopRatio: 15, namespaceNoopRatio: 10, memoryMiB: 100, scaleNoopSeconds: 10 };

interface Options {
  rounds: number;
  only: Scenario[];
  hosts: 'all' | 'namespace' | 'both';
  tools: Tool[];
  forks: number;
  strategy: 'linear' | 'free';
  warm: boolean;
  scale: boolean;
  sizes: number[];
  inventory: string;
  playbook: string;
  emitTwin?: string;
  results?: string;
  report?: string;
}

interface Sample {
  selection: string;
  scenario: Measurement;
  round: number;
  outcome: RunOutcome;
}

interface Equivalence {
  selection: string;
  round: number;
  /** the tool whose first run made the state */
  madeBy: Tool;
  /** the tool whose run on it must change nothing */
  checkedBy: Tool;
  changed: Record<string, number>;
  failed: boolean;
}

interface Bench {
  options: Options;
  env: NodeJS.ProcessEnv;
  samples: Sample[];
  equivalences: Equivalence[];
  problems: string[];
  /** what a reader of the figures should know (not failures) */
  notes: string[];
  /** the selections measured so far, with their hosts (--report prints their tables again) */
  selections: Array<{ label: string; hosts: string[] }>;
}

const log = (line: string) => process.stderr.write(`${line}\n`);

async function main(): Promise<void> {
  const options = parseOptions();
  if (options.report !== undefined) return report(options.report);
  if (process.platform !== 'linux' || process.getuid?.() !== 0) throw new UserError('the bench runs on the lab: it needs root on Linux', {}, 'run it as root (sudo npm run bench)');
  const env: NodeJS.ProcessEnv = { ...process.env };
  exportLabSecrets(env);
  if (options.tools.includes('ansible')) await ensureAnsible();
  const bench: Bench = { options, env, samples: [], equivalences: [], problems: [], notes: [], selections: [] };
  console.log(machineLine(options));
  if (options.tools.includes('provision')) console.log(await cliLine());
  if (options.scale) await scaleBench(bench);
  else await labBench(bench);
  await saveResults(bench);
  if (bench.notes.length > 0) console.log(`\nNOTES:\n  ${bench.notes.join('\n  ')}`);
  if (bench.problems.length > 0) {
    console.log(`\nPROBLEMS:\n  ${bench.problems.join('\n  ')}`);
    process.exitCode = 1;
  }
}

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      rounds: { type: 'string', default: '3' },
      only: { type: 'string', default: SCENARIOS.join(',') },
      hosts: { type: 'string', default: 'both' },
      tools: { type: 'string', default: TOOLS.join(',') },
      forks: { type: 'string', default: '20' },
      strategy: { type: 'string', default: 'linear' },
      warm: { type: 'boolean', default: false },
      scale: { type: 'boolean', default: false },
      sizes: { type: 'string', default: '1,10,50,100' },
      inventory: { type: 'string', default: 'inventory/lab.yaml' },
      playbook: { type: 'string', default: 'playbooks/site.yml' },
      'emit-twin': { type: 'string' },
      report: { type: 'string' },
      results: { type: 'string' },
    },
  });
  const positive = (name: string, text: string): number => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < 1) throw new UserError(`--${name} expects a positive whole number, got ${text}`);
    return n;
  };
  const listOf = <T extends string>(name: string, text: string, allowed: readonly T[]): T[] => {
    const items = text.split(',').map((item) => item.trim()).filter(Boolean);
    for (const item of items) if (!allowed.includes(item as T)) throw new UserError(`--${name}: unknown ${JSON.stringify(item)}`, {}, `one or more of ${allowed.join(', ')}`);
    return items as T[];
  };
  if (!['all', 'namespace', 'both'].includes(values.hosts)) throw new UserError(`--hosts expects all, namespace or both, got ${values.hosts}`);
  if (!['linear', 'free'].includes(values.strategy)) throw new UserError(`--strategy expects linear or free, got ${values.strategy}`);
  return {
    rounds: positive('rounds', values.rounds),
    only: listOf('only', values.only, SCENARIOS),
    hosts: values.hosts as Options['hosts'],
    tools: listOf('tools', values.tools, TOOLS),
    forks: positive('forks', values.forks),
    strategy: values.strategy as Options['strategy'],
    warm: values.warm,
    scale: values.scale,
    sizes: values.sizes.split(',').map((size) => positive('sizes', size.trim())),
    inventory: path.resolve(values.inventory),
    playbook: path.resolve(values.playbook),
    ...(values['emit-twin'] === undefined ? {} : { emitTwin: path.resolve(values['emit-twin']) }),
    ...(values.results === undefined ? {} : { results: path.resolve(values.results) }),
    ...(values.report === undefined ? {} : { report: path.resolve(values.report) }),
  };
}

async function ensureAnsible(): Promise<void> {
  const missing = await machineApt.missing(['ansible-core']);
  if (missing.length > 0) await machineApt.install(missing, 'the bench compares our runs with ansible-playbook', log);
}

async function ansibleVersion(): Promise<string> {
  const { measure } = await import('./bench/measure.ts');
  const result = await measure('ansible-playbook', ['--version']).catch(() => undefined);
  return /core ([\d.]+)/.exec(result?.stdout ?? '')?.[1] ?? 'unknown';
}

function machineLine(options: Options): string {
  const model = cpus()[0]?.model.trim() ?? 'unknown CPU';
  return `Machine: ${cpus().length} cores (${model}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB, Linux ${release()}, Node ${process.version}; forks ${options.forks}, ${options.rounds} round${options.rounds > 1 ? 's' : ''}`;
}

/** Which code `node bin/provision.js` runs: the compiled dist/ (as after npm ci), or the sources through tsx. */
async function cliLine(): Promise<string> {
  const stale = await staleDist();
  if (stale === null) return 'provision: node bin/provision.js';
  return stale === undefined
    ? 'provision: node bin/provision.js, running the compiled dist/ (as after npm ci)'
    : `provision: node bin/provision.js, running the sources through tsx (${stale}; npm run build compiles them)`;
}

/** Why bin/provision.js would not run dist/ now (undefined: it would), or null when it has no compiled mode. */
async function staleDist(): Promise<string | undefined | null> {
  const file = path.join(PROJECT_DIR, 'bin/compiled.js');
  const compiled = (await import(pathToFileURL(file).href).catch(() => undefined)) as { staleReason?: (root: string) => string | undefined } | undefined;
  return compiled?.staleReason === undefined ? null : compiled.staleReason(PROJECT_DIR);
}

/** The whole lab and its namespace hosts alone. */
async function labBench(bench: Bench): Promise<void> {
  const { options, env } = bench;
  log(`lab up (${path.relative(PROJECT_DIR, options.inventory)})`);
  await labUp({ inventoryFile: options.inventory, env, log });
  const inventory = await loadInventory(options.inventory, { env });
  const playbook = await loadPlaybook(options.playbook);
  const labHosts = [...inventory.hosts.values()].filter((host) => host.lab !== undefined);
  const facts = await gatherFacts(labHosts);
  const work = options.emitTwin ?? (await mkdtemp(path.join(tmpdir(), 'provision-bench-twin-')));
  const twin = await writeTwin(work, { inventory, playbook, hosts: labHosts, facts, forks: options.forks, strategy: options.strategy });
  if (options.emitTwin) {
    console.log(`The Ansible twin is in ${work} (ANSIBLE_CONFIG=${twin.config} ansible-playbook ${twin.playbook}).`);
    return;
  }
  if (options.tools.includes('ansible')) console.log(`ansible-core ${await ansibleVersion()}: pipelining, ControlPersist 60s (${options.warm ? 'kept from one run to the next' : 'closed before each run: every run connects anew, as ours does'}), forks ${options.forks}, strategy ${options.strategy}, no fact gathering, interpreter set`);
  const kinds = (names: readonly string[]) => {
    const count = new Map<string, number>();
    for (const name of names) count.set(String(inventory.hosts.get(name)!.lab!.kind), (count.get(String(inventory.hosts.get(name)!.lab!.kind)) ?? 0) + 1);
    return [...count].map(([kind, n]) => `${n} ${kind}`).join(', ');
  };
  const selections: Array<{ label: string; hosts: string[]; limit?: string }> = [];
  const all = labHosts.map((host) => host.name);
  const namespace = labHosts.filter((host) => host.lab?.kind === 'namespace').map((host) => host.name);
  if (options.hosts !== 'namespace') selections.push({ label: `whole lab (${all.length} hosts: ${kinds(all)})`, hosts: all });
  if (options.hosts !== 'all' && namespace.length > 0) selections.push({ label: `namespace hosts only (${namespace.length}, --limit)`, hosts: namespace, limit: namespace.join(':') });
  const drift = await driftTarget(inventory, options.playbook, facts, namespace);
  for (const selection of selections) {
    bench.selections.push({ label: selection.label, hosts: selection.hosts });
    console.log(`\n== ${selection.label}`);
    await runRounds(bench, { ...selection, inventoryFile: options.inventory, playbookFile: options.playbook, twin, inventory, scenarios: options.only, drift: selection.hosts.includes(drift.host) ? drift : undefined });
    printTable(bench, selection.label, selection.hosts);
  }
  printTargets(bench, selections.map((s) => s.label));
  await closeAnsibleConnections(twin);
  await rm(work, { recursive: true, force: true });
}

interface Selection {
  label: string;
  hosts: string[];
  limit?: string;
  inventoryFile: string;
  playbookFile: string;
  inventory: Inventory;
  twin: WrittenTwin;
  scenarios: readonly Scenario[];
  drift?: { host: string; path: string };
}

/**
 * The file the drift scenario changes: the last plain file (not secret, notifying no handler) our
 * playbook writes on the first host that has one, namespace hosts first (so both selections drift
 * the same file).
 */
async function driftTarget(inventory: Inventory, playbookFile: string, facts: ReadonlyMap<string, Facts>, preferred: readonly string[]): Promise<{ host: string; path: string }> {
  const plan = await planTwin(inventory, await loadPlaybook(playbookFile), facts);
  const hosts = [...preferred, ...[...facts.keys()].filter((name) => !preferred.includes(name))];
  for (const host of hosts) {
    const files = plan.plays.flatMap((play) => play.perHost[host]?.tasks ?? []).filter((task) => task.op.kind === 'file' && !task.op.secret && task.notify.length === 0);
    const last = files.at(-1);
    if (last && last.op.kind === 'file') return { host, path: last.op.path };
  }
  throw new Error('the playbook writes no plain file on any host: no drift scenario');
}

async function runRounds(bench: Bench, selection: Selection): Promise<void> {
  const { options } = bench;
  const request = (check: boolean): RunRequest => ({ check, forks: options.forks, ...(selection.limit ? { limit: selection.limit } : {}) });
  const addresses = new Map(selection.hosts.map((name) => [name, withLabCredentials(selection.inventory.hosts.get(name)!).address] as const));
  const run = async (tool: Tool, check: boolean): Promise<RunOutcome> => {
    if (tool === 'ansible') return runAnsible(selection.twin, addresses, request(check), bench.env, { warm: options.warm });
    const outcome = await runProvision(selection.inventoryFile, selection.playbookFile, request(check), bench.env);
    await noteStale(bench);
    return outcome;
  };
  const record = async (scenario: Measurement, round: number, outcome: RunOutcome): Promise<void> => {
    bench.samples.push({ selection: selection.label, scenario, round, outcome });
    await saveResults(bench);
    const changed = selection.hosts.reduce((sum, host) => sum + (outcome.changed[host] ?? 0), 0);
    log(`  round ${round + 1} ${SCENARIO_LABEL[scenario].padEnd(12)} ${outcome.tool.padEnd(9)} ${outcome.measured.seconds.toFixed(1).padStart(7)} s  changed=${changed}  exit ${outcome.measured.exitCode}`);
    if (outcome.failed) bench.problems.push(`${selection.label}, round ${round + 1}, ${SCENARIO_LABEL[scenario]}: ${outcome.tool} failed (exit ${outcome.measured.exitCode}): ${tail(outcome)}`);
  };
  const tools = options.tools;
  if (!selection.scenarios.includes('first')) {
    // The other scenarios start from a converged lab.
    const converge = await run(tools[0]!, false);
    if (converge.failed) bench.problems.push(`${selection.label}: converging with ${converge.tool} failed: ${tail(converge)}`);
  }
  for (let round = 0; round < options.rounds; round++) {
    const order = round % 2 === 0 ? tools : [...tools].reverse();
    if (selection.scenarios.includes('first')) {
      for (const tool of order) {
        const named = selection.hosts.length <= 6 ? selection.hosts.join(' ') : `${selection.hosts.length} hosts (${selection.hosts[0]} ... ${selection.hosts.at(-1)})`;
        log(`  round ${round + 1}: lab reset ${named}`);
        await labReset({ host: selection.hosts, env: bench.env });
        await record('first', round, await run(tool, false));
        for (const other of order.filter((candidate) => candidate !== tool)) {
          const outcome = await run(other, false);
          await record('cross', round, outcome);
          bench.equivalences.push({ selection: selection.label, round, madeBy: tool, checkedBy: other, changed: outcome.changed, failed: outcome.failed });
          const changed = selection.hosts.filter((host) => (outcome.changed[host] ?? 0) !== 0);
          const what = (host: string) => (outcome.changedTasks?.[host] ?? []).map((task) => `\n    ${host}: ${task}`).join('');
          if (changed.length > 0) {
            bench.problems.push(
              `${selection.label}, round ${round + 1}: after ${tool}'s first run, ${other} changed something on ${changed.map((host) => `${host} (${outcome.changed[host]})`).join(', ')}: the twin does not do what we do${changed.map(what).join('')}`,
            );
          }
        }
      }
    }
    if (selection.scenarios.includes('noop')) {
      for (const tool of order) {
        const outcome = await run(tool, false);
        await record('noop', round, outcome);
        const changed = selection.hosts.filter((host) => (outcome.changed[host] ?? 0) !== 0);
        if (changed.length > 0) bench.problems.push(`${selection.label}, round ${round + 1}: a no-op run of ${tool} changed something on ${changed.join(', ')}`);
      }
    }
    if (selection.scenarios.includes('check')) for (const tool of order) await record('check', round, await run(tool, true));
    if (selection.scenarios.includes('drift') && selection.drift) {
      const { host, path: file } = selection.drift;
      for (const tool of order) {
        await driftFile(selection.inventory, host, file);
        const outcome = await run(tool, false);
        await record('drift', round, outcome);
        if ((outcome.changed[host] ?? 0) === 0) bench.problems.push(`${selection.label}, round ${round + 1}: ${tool} did not repair ${file} on ${host}`);
      }
    }
  }
}

/** Appends a line to a managed file, as a person editing it by hand would. */
async function driftFile(inventory: Inventory, host: string, file: string): Promise<void> {
  const connector = createConnector(withLabCredentials(inventory.hosts.get(host)!));
  try {
    await connector.connect();
    const result = await connector.run(`printf '%s\\n' 'changed by hand (the bench drifts this file)' >> '${file.replace(/'/g, `'\\''`)}'`);
    if (result.exitCode !== 0) throw new Error(`drifting ${file} on ${host} failed: ${result.stderr}`);
  } finally {
    await connector.close();
  }
}

/** Notes once when the sources changed during the bench: the CLI's later runs went through tsx. */
async function noteStale(bench: Bench): Promise<void> {
  if (bench.notes.some((note) => note.startsWith('dist/'))) return;
  const stale = await staleDist();
  if (typeof stale === 'string') bench.notes.push(`dist/ is stale (${stale}): runs of provision from about now on ran the sources through tsx, slower to start`);
}

function tail(outcome: RunOutcome): string {
  return `${outcome.measured.stdout}\n${outcome.measured.stderr}`.trim().split('\n').slice(-8).join('\n    ');
}

function samplesOf(bench: Bench, selection: string, scenario: Measurement, tool: Tool): RunOutcome[] {
  return bench.samples.filter((s) => s.selection === selection && s.scenario === scenario && s.outcome.tool === tool).map((s) => s.outcome);
}

/** A host's executions over the samples: one number when every sample agrees, else min-max. */
function executionsOf(outcomes: readonly RunOutcome[], host: string): string {
  const values = outcomes.map((o) => o.executions[host]).filter((v): v is number => v !== undefined);
  if (values.length === 0) return '-';
  const low = Math.min(...values);
  const high = Math.max(...values);
  return low === high ? String(low) : `${low}-${high}`;
}

/** Per-host executions, grouped: "2 on each host" or "lvs-master 46, web1 36, ...". */
function executionsSummary(outcomes: readonly RunOutcome[], hosts: readonly string[]): string {
  if (outcomes.length === 0) return '-';
  const per = hosts.map((host) => executionsOf(outcomes, host));
  if (new Set(per).size === 1) return `${per[0]} each`;
  return hosts.map((host, i) => `${host} ${per[i]}`).join(', ');
}

/** Peak PSS / peak RSS of the controller's process tree, MiB. */
function memoryOf(outcomes: readonly RunOutcome[]): string {
  if (outcomes.length === 0) return '-';
  const pss = Math.max(...outcomes.map((o) => o.measured.peakTreePssMiB));
  const rss = Math.max(...outcomes.map((o) => o.measured.peakTreeRssMiB));
  return `${pss.toFixed(0)} / ${rss.toFixed(0)}`;
}

const MEMORY_LEGEND =
  "peak MiB = the controller's process tree at its peak (sampled every 100 ms), PSS / RSS: PSS counts a page shared by several processes (Ansible's forked workers) once, RSS counts it in each; our CLI is one process, whose PSS is lower than its RSS only by the pages it shares with other processes of the machine (the bench's own node)";

const fmt = (seconds: number) => (Number.isFinite(seconds) ? seconds.toFixed(2) : '-');

function printTable(bench: Bench, selection: string, hosts: readonly string[]): void {
  const { tools } = bench.options;
  const rows: string[][] = [['scenario', ...tools.map((tool) => `${tool} s`), ...(tools.length === 2 ? ['ratio'] : []), 'runs', ...tools.map((tool) => `peak MiB ${tool}`)]];
  const executionRows: string[] = [];
  for (const scenario of MEASUREMENTS) {
    const outcomes = tools.map((tool) => samplesOf(bench, selection, scenario, tool));
    if (outcomes.every((list) => list.length === 0)) continue;
    const medians = outcomes.map((list) => median(list.map((o) => o.measured.seconds)));
    const ratio = tools.length === 2 ? [Number.isFinite(medians[0]! / medians[1]!) ? `${(medians[1]! / medians[0]!).toFixed(1)}x` : '-'] : [];
    rows.push([SCENARIO_LABEL[scenario], ...medians.map(fmt), ...ratio, outcomes.map((list) => list.length).join('/'), ...outcomes.map(memoryOf)]);
    for (const [i, tool] of tools.entries()) executionRows.push(`  ${SCENARIO_LABEL[scenario].padEnd(13)} ${tool.padEnd(9)} ${executionsSummary(outcomes[i]!, hosts)}`);
  }
  console.log(table(rows));
  console.log(`Median seconds per run; ratio = ansible / provision; runs = samples per tool; "after other" = a run right after the other tool's first run (it must change nothing); ${MEMORY_LEGEND}.`);
  console.log('Remote executions per host (ours: the recap\'s count; Ansible: ssh + sftp/scp invocations):');
  for (const row of executionRows) console.log(row);
  const equivalences = bench.equivalences.filter((e) => e.selection === selection);
  for (const madeBy of tools) {
    const list = equivalences.filter((e) => e.madeBy === madeBy);
    if (list.length === 0) continue;
    const clean = list.filter((e) => !e.failed && hosts.every((host) => (e.changed[host] ?? 0) === 0)).length;
    console.log(`Equivalence: after ${madeBy}'s first run, ${list[0]!.checkedBy} changed nothing in ${clean} of ${list.length} rounds${clean === list.length ? '' : ' (see PROBLEMS)'}.`);
  }
}

function table(rows: readonly string[][]): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length)));
  return rows.map((row) => row.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join('  ')).join('\n');
}

function printTargets(bench: Bench, selections: readonly string[]): void {
  const { tools } = bench.options;
  if (!tools.includes('provision')) return;
  const lines: string[] = [];
  const noopRatio = (selection: string): number => {
    const ours = median(samplesOf(bench, selection, 'noop', 'provision').map((o) => o.measured.seconds));
    const theirs = median(samplesOf(bench, selection, 'noop', 'ansible').map((o) => o.measured.seconds));
    return theirs / ours;
  };
  for (const selection of selections) {
    const ratio = noopRatio(selection);
    if (!Number.isFinite(ratio)) continue;
    const target = selection.startsWith('whole') ? TARGETS.wholeLabNoopRatio : TARGETS.namespaceNoopRatio;
    lines.push(`no-op, ${selection}: ansible / provision ${ratio.toFixed(1)}x (target >= ${target}x: ${ratio >= target ? 'met' : 'MISSED'})`);
  }
  const ours = bench.samples.filter((s) => s.outcome.tool === 'provision');
  if (ours.length > 0) {
    const peak = Math.max(...ours.map((s) => s.outcome.measured.peakTreeRssMiB));
    lines.push(`controller peak memory, provision: ${peak.toFixed(0)} MiB RSS (target <= ${TARGETS.memoryMiB} MiB: ${peak <= TARGETS.memoryMiB ? 'met' : 'MISSED'})`);
  }
  if (lines.length > 0) console.log(`\nTargets (printed, not asserted):\n  ${lines.join('\n  ')}`);
}

/** N namespace hosts: first run and no-op of the scale playbook for each size, then lab down. */
async function scaleBench(bench: Bench): Promise<void> {
  const { options, env } = bench;
  const sizes = [...new Set(options.sizes)].sort((a, b) => a - b);
  const largest = sizes.at(-1)!;
  const work = await mkdtemp(path.join(tmpdir(), 'provision-bench-scale-'));
  const inventoryFile = path.join(work, 'scale.yaml');
  await writeFile(inventoryFile, scaleInventory(largest, sizes));
  const playbookFile = path.join(PROJECT_DIR, 'scripts/bench/scale/site.yml');
  log(`lab up: ${largest} namespace hosts (the lab that was up is replaced)`);
  const up = await labUp({ inventoryFile, env, log });
  console.log(`lab up of ${largest} namespace hosts: ${up.totalSeconds.toFixed(1)} s (hosts started in ${up.startSeconds.toFixed(1)} s)`);
  try {
    const inventory = await loadInventory(inventoryFile, { env });
    const playbook = await loadPlaybook(playbookFile);
    const hosts = [...inventory.hosts.values()];
    const facts = await gatherFacts(hosts);
    const twin = await writeTwin(path.join(work, 'twin'), { inventory, playbook, hosts, facts, forks: options.forks, strategy: options.strategy });
    if (options.tools.includes('ansible')) console.log(`ansible-core ${await ansibleVersion()}: as for the lab bench (forks ${options.forks})`);
    for (const size of sizes) {
      const names = hosts.slice(0, size).map((host) => host.name);
      const label = `${size} host${size > 1 ? 's' : ''}`;
      bench.selections.push({ label, hosts: names });
      await runRounds(bench, { label, hosts: names, limit: `n${size}`, inventoryFile, playbookFile, inventory, twin, scenarios: ['first'].concat(options.only.includes('noop') ? ['noop'] : []) as Scenario[] });
    }
    await closeAnsibleConnections(twin);
    printScaleTable(bench, sizes);
  } finally {
    const down = await labDown({ env, log });
    console.log(`lab down of ${largest} namespace hosts: ${down.seconds.toFixed(1)} s`);
    await rm(work, { recursive: true, force: true });
  }
}

function printScaleTable(bench: Bench, sizes: readonly number[]): void {
  const { tools } = bench.options;
  const rows: string[][] = [['hosts', ...tools.flatMap((tool) => [`${tool} first s`, `${tool} no-op s`]), ...(tools.length === 2 ? ['no-op ratio'] : []), ...tools.map((tool) => `peak MiB ${tool}`), ...tools.map((tool) => `execs/host ${tool} (first, no-op)`)]];
  for (const size of sizes) {
    const label = `${size} host${size > 1 ? 's' : ''}`;
    const cells: string[] = [String(size)];
    const noops: number[] = [];
    for (const tool of tools) {
      const first = median(samplesOf(bench, label, 'first', tool).map((o) => o.measured.seconds));
      // The no-op samples of a tool: its own no-op runs, and its runs after the other tool's first run.
      const noop = median(samplesOf(bench, label, 'noop', tool).map((o) => o.measured.seconds));
      noops.push(noop);
      cells.push(fmt(first), fmt(noop));
    }
    if (tools.length === 2) cells.push(`${(noops[1]! / noops[0]!).toFixed(1)}x`);
    for (const tool of tools) cells.push(memoryOf([...samplesOf(bench, label, 'first', tool), ...samplesOf(bench, label, 'cross', tool), ...samplesOf(bench, label, 'noop', tool)]));
    for (const tool of tools) {
      const hosts = bench.samples.find((s) => s.selection === label)?.outcome.changed ?? {};
      const names = Object.keys(hosts);
      const range = (outcomes: readonly RunOutcome[]) => {
        const values = outcomes.flatMap((o) => names.map((host) => o.executions[host] ?? NaN)).filter(Number.isFinite);
        return values.length === 0 ? '-' : Math.min(...values) === Math.max(...values) ? String(values[0]) : `${Math.min(...values)}-${Math.max(...values)}`;
      };
      cells.push(`${range(samplesOf(bench, label, 'first', tool))}, ${range(samplesOf(bench, label, 'noop', tool))}`);
    }
    rows.push(cells);
  }
  console.log(`\n== scale: namespace hosts, scripts/bench/scale/site.yml (base role + 5 tasks), forks ${bench.options.forks}`);
  console.log(table(rows));
  console.log(`Median seconds (no-op: the tool's own no-op runs); ${MEMORY_LEGEND}.`);
  for (const tool of tools) {
    const list = bench.equivalences.filter((e) => e.madeBy === tool);
    if (list.length === 0) continue;
    const clean = list.filter((e) => !e.failed && Object.values(e.changed).every((n) => n === 0)).length;
    console.log(`Equivalence: after ${tool}'s first run, ${list[0]!.checkedBy} changed nothing in ${clean} of ${list.length} runs${clean === list.length ? '' : ' (see PROBLEMS)'}.`);
  }
  if (bench.options.tools.includes('provision')) {
    const largest = sizes.at(-1)!;
    const noop = median(samplesOf(bench, `${largest} host${largest > 1 ? 's' : ''}`, 'noop', 'provision').map((o) => o.measured.seconds));
    if (largest >= 100 && Number.isFinite(noop)) console.log(`Target (printed, not asserted): no-op of ${largest} namespace hosts ${noop.toFixed(2)} s (target <= ${TARGETS.scaleNoopSeconds} s: ${noop <= TARGETS.scaleNoopSeconds ? 'met' : 'MISSED'})`);
    const ours = bench.samples.filter((s) => s.outcome.tool === 'provision');
    if (ours.length > 0) {
      const peak = Math.max(...ours.map((s) => s.outcome.measured.peakTreeRssMiB));
      console.log(`Target (printed, not asserted): controller peak memory, provision, up to ${largest} hosts: ${peak.toFixed(0)} MiB RSS (target <= ${TARGETS.memoryMiB} MiB: ${peak <= TARGETS.memoryMiB ? 'met' : 'MISSED'})`);
    }
  }
}

/** --results: every run so far, written after each run too, so a bench cut short keeps what it measured. */
async function saveResults(bench: Bench): Promise<void> {
  if (bench.options.results === undefined) return;
  const data = { options: bench.options, selections: bench.selections, samples: bench.samples.map(sampleJson), equivalences: bench.equivalences, problems: bench.problems, notes: bench.notes };
  await writeFile(`${bench.options.results}.tmp`, `${JSON.stringify(data, null, 2)}\n`);
  await rename(`${bench.options.results}.tmp`, bench.options.results);
}

/**
 * --report FILE: the tables of a --results file again (a bench cut short keeps every run it
 * finished there), without running anything.
 */
async function report(file: string): Promise<void> {
  const data = JSON.parse(await readFile(file, 'utf8')) as {
    options: Options;
    selections: Bench['selections'];
    samples: Array<{ selection: string; scenario: Measurement; round: number; outcome: Omit<RunOutcome, 'measured'> & { seconds: number; exitCode: number; peakTreePssMiB: number; peakTreeRssMiB: number; maxProcessRssMiB?: number } }>;
    equivalences: Equivalence[];
    problems: string[];
    notes: string[];
  };
  const samples: Sample[] = data.samples.map((sample) => {
    const { seconds, exitCode, peakTreePssMiB, peakTreeRssMiB, maxProcessRssMiB, ...rest } = sample.outcome;
    const measured = { seconds, exitCode, stdout: '', stderr: '', peakTreePssMiB, peakTreeRssMiB, ...(maxProcessRssMiB === undefined ? {} : { maxProcessRssMiB }) };
    return { ...sample, outcome: { ...rest, measured } };
  });
  const bench: Bench = { options: data.options, env: {}, samples, equivalences: data.equivalences, problems: data.problems, notes: data.notes, selections: data.selections };
  const rounds = Math.max(0, ...samples.map((sample) => sample.round + 1));
  console.log(`From ${file}: ${samples.length} runs, ${rounds} round${rounds === 1 ? '' : 's'}.`);
  if (data.options.scale) {
    printScaleTable(bench, [...new Set(data.options.sizes)].sort((a, b) => a - b));
  } else {
    for (const selection of bench.selections) {
      console.log(`\n== ${selection.label}`);
      printTable(bench, selection.label, selection.hosts);
    }
    printTargets(bench, bench.selections.map((selection) => selection.label));
  }
  if (bench.notes.length > 0) console.log(`\nNOTES:\n  ${bench.notes.join('\n  ')}`);
  if (bench.problems.length > 0) console.log(`\nPROBLEMS:\n  ${bench.problems.join('\n  ')}`);
}

function sampleJson(sample: Sample): unknown {
  const { measured, ...rest } = sample.outcome;
  return { ...sample, outcome: { ...rest, seconds: measured.seconds, exitCode: measured.exitCode, peakTreePssMiB: measured.peakTreePssMiB, peakTreeRssMiB: measured.peakTreeRssMiB, maxProcessRssMiB: measured.maxProcessRssMiB } };
}

main().catch(async (error: unknown) => {
  await machineApt.idle();
  console.error(error instanceof UserError ? `ERROR: ${error.format()}` : error);
  process.exitCode = 1;
});
