// `provision verify`: reads a live cluster (one execution per host, every observation of plan.ts in
// it; nothing is changed and no lock is taken), judges it against the inventory's description
// (checks.ts) and reports each check with its evidence, as lines and as JSON events.
import { existsSync } from 'node:fs';
import { UserError } from '../core/errors.ts';
import { hostConnectors } from '../cli/connections.ts';
import { lintBeforeRun } from '../cluster/cli.ts';
import { clusterHosts } from '../cluster/model.ts';
import { ConnectionError, type Connector } from '../connectors/connector.ts';
import { loadInventory } from '../inventory/load.ts';
import type { Inventory } from '../inventory/model.ts';
import { FanOut } from '../report/fan-out.ts';
import { Redactor } from '../report/redact.ts';
import { checkReporter } from './reporter.ts';
import { buildProbeScript, newMarkerToken, parseProbeOutput } from '../runner/batch.ts';
import { forEachLimited } from '../runner/pool.ts';
import { evaluate, type Observed, type Output } from './checks.ts';
import type { Observation } from './observe.ts';
import { planVerify } from './plan.ts';

export interface VerifyFlags {
  inventory?: string;
  /** the host that sends requests through the VIPs */
  from?: string;
  json?: string;
  verbose: number;
  forks: number;
  /**
   * For a cluster just started: while checks fail, read it again every few seconds for up to this
   * many seconds, and report only the last reading.
   */
  settle?: number;
}

/** How long verify --settle waits between readings. */
const SETTLE_POLL_MS = 5_000;

/** The group whose first host sends the requests when --from does not name one (the client role's). */
export const CLIENTS_GROUP = 'clients';

export const VERIFY_EXIT = { ok: 0, inputError: 1, failed: 2 } as const;

export async function verifyCommand(flags: VerifyFlags, defaultInventory: string): Promise<number> {
  const started = Date.now();
  const inventoryFile = flags.inventory ?? defaultInventory;
  if (!existsSync(inventoryFile)) throw new UserError(`inventory file not found: ${inventoryFile}`, {}, 'give one with --inventory FILE');
  const inventory = await loadInventory(inventoryFile);
  const cluster = inventory.cluster;
  if (cluster === undefined) {
    throw new UserError(`${inventoryFile} has no cluster: section, so there is nothing to verify`, { file: inventoryFile }, 'describe the cluster in the inventory (see inventory/example.yaml)');
  }
  lintBeforeRun(inventory, (line) => process.stderr.write(`${line}\n`));
  const client = clientHost(inventory, flags.from);
  const hosts = [...new Set([...clusterHosts(cluster), ...(client === undefined ? [] : [client])])];
  const plan = planVerify(cluster, hosts, client);

  const reporter = checkReporter(flags);
  const events = new FanOut(new Redactor(inventory.secrets), [reporter]);
  try {
    const connect = await hostConnectors(inventory, {
      onWarning: (message, host) => events.emit({ type: 'warning', ...(host === undefined ? {} : { host }), message }),
    });
    const observeAll = async () => {
      const observed: Observed = { outputs: new Map(), unreachable: new Map() };
      await forEachLimited(hosts, flags.forks, async (name) => {
        const connector = connect(inventory.hosts.get(name)!);
        try {
          observed.outputs.set(name, await observeHost(connector, plan.observations.get(name) ?? []));
        } catch (error) {
          if (!(error instanceof ConnectionError || error instanceof ObservationError)) throw error;
          observed.unreachable.set(name, error.message);
        } finally {
          await connector.close();
        }
      });
      return evaluate(cluster, plan, observed);
    };
    const settleUntil = started + (flags.settle ?? 0) * 1000;
    let results = await observeAll();
    for (;;) {
      const failing = results.filter((r) => r.status === 'fail');
      if (failing.length === 0 || Date.now() + SETTLE_POLL_MS > settleUntil) break;
      const left = Math.round((settleUntil - Date.now()) / 1000);
      process.stderr.write(`verify: ${failing.length} checks fail (${failing.map((r) => `${r.check} ${r.subject}`).join(', ')}); the cluster may still be settling: reading it again (for ${left} s more)\n`);
      await new Promise((resolve) => setTimeout(resolve, SETTLE_POLL_MS));
      results = await observeAll();
    }
    for (const result of results) events.emit({ type: 'check', ...result });
    const failed = results.filter((r) => r.status === 'fail').length;
    const exitCode = failed > 0 ? VERIFY_EXIT.failed : VERIFY_EXIT.ok;
    events.emit({ type: 'check-summary', cluster: cluster.name, passed: results.length - failed, failed, exitCode, durationMs: Date.now() - started });
    return exitCode;
  } finally {
    await reporter.close();
  }
}

class ObservationError extends Error {}

/** Runs every observation of a host in one execution; what each printed, by key. */
async function observeHost(connector: Connector, observations: Observation[]): Promise<Map<string, Output>> {
  await connector.connect();
  const token = newMarkerToken();
  // Marker ids are single words; the keys (URLs...) are not.
  const requests = observations.map((o, i) => ({ id: `o${i}`, probe: o.script }));
  const run = await connector.run(buildProbeScript(token, null, requests));
  const parsed = parseProbeOutput(token, run.stdout);
  if (!parsed.complete) throw new ObservationError(`the observations stopped early (exit code ${run.exitCode})${run.stderr ? `: ${run.stderr.trim().split('\n').at(-1)}` : ''}`);
  const out = new Map<string, Output>();
  observations.forEach((o, i) => {
    const probed = parsed.probes.get(`o${i}`);
    if (probed) out.set(o.key, probed);
  });
  return out;
}

function clientHost(inventory: Inventory, from: string | undefined): string | undefined {
  if (from !== undefined) {
    if (!inventory.hosts.has(from)) {
      throw new UserError(`--from ${from}: no such host in the inventory`, {}, `name one of: ${[...inventory.hosts.keys()].join(', ')}`);
    }
    return from;
  }
  return inventory.groups.get(CLIENTS_GROUP)?.hosts[0];
}
