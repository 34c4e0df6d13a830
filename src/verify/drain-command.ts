// `provision drain HOST` and `provision undrain HOST`: a real server out of service gracefully, and
// back. Drain sets its weight to 0 on every director whose IPVS table has it (no new connections go
// to it; open ones go on), then waits, bounded by --wait, until no connection to it is open. Undrain
// gives it back the weight the description gives it. The failover manager is not told: ldirectord
// and keepalived give a real server its configured weight again when they add it anew (after its
// health check failed and passed, a reload, a failover), so a drain lasts until then.
import { existsSync } from 'node:fs';
import { UserError } from '../core/errors.ts';
import { hostConnectors } from '../cli/connections.ts';
import { ConnectionError, type Connector } from '../connectors/connector.ts';
import { loadInventory } from '../inventory/load.ts';
import { FanOut } from '../report/fan-out.ts';
import { Redactor } from '../report/redact.ts';
import { checkReporter } from './reporter.ts';
import { activeConnections, parseIpvsList, realServerEntries, setWeightScript, type RealServerEntry } from './drain.ts';
import type { CheckResult } from './result.ts';

export interface DrainFlags {
  inventory?: string;
  /** seconds to wait for the open connections to end (drain only) */
  wait: number;
  json?: string;
  verbose: number;
}

const POLL_MS = 1000;

export async function drainCommand(target: string, undrain: boolean, flags: DrainFlags, defaultInventory: string): Promise<number> {
  const started = Date.now();
  const inventoryFile = flags.inventory ?? defaultInventory;
  if (!existsSync(inventoryFile)) throw new UserError(`inventory file not found: ${inventoryFile}`, {}, 'give one with --inventory FILE');
  const inventory = await loadInventory(inventoryFile);
  const cluster = inventory.cluster;
  if (cluster === undefined) throw new UserError(`${inventoryFile} has no cluster: section, so it has no real servers to drain`, { file: inventoryFile });
  const entries = realServerEntries(cluster, target);
  if (entries.length === 0) {
    const known = [...new Set(cluster.virtual_services.flatMap((s) => s.realservers.map((r) => r.host ?? r.address)))];
    throw new UserError(`${target} is not a real server of cluster ${cluster.name}`, {}, `name one of: ${known.join(', ')}`);
  }
  const what = undrain ? 'undrain' : 'drain';
  const reporter = checkReporter(flags);
  const events = new FanOut(new Redactor(inventory.secrets), [reporter]);
  const results: CheckResult[] = [];
  const report = (result: CheckResult) => {
    results.push(result);
    events.emit({ type: 'check', ...result });
  };
  const connect = await hostConnectors(inventory, {
    onWarning: (message, host) => events.emit({ type: 'warning', ...(host === undefined ? {} : { host }), message }),
  });
  const connectors = new Map<string, Connector>();
  try {
    // Every director at once: a standby whose table is empty changes nothing, a dead one is named.
    const holding: string[] = [];
    await Promise.all(
      cluster.directors.map(async (director) => {
        const connector = connect(inventory.hosts.get(director)!);
        connectors.set(director, connector);
        const script = setWeightScript(entries, (entry) => (undrain ? entry.weight : 0));
        try {
          await connector.connect();
          const run = await connector.run(script);
          const set = run.stdout.split('\n').filter((line) => line.startsWith('set ')).length;
          const evidence = [{ host: director, command: describeCommand(entries, undrain), output: `${run.stdout}${run.stderr}`.trim() }];
          if (run.exitCode !== 0) report({ check: what, subject: `${target} on ${director}`, status: 'fail', detail: `ipvsadm failed (exit code ${run.exitCode})`, evidence });
          else if (set > 0) {
            holding.push(director);
            report({ check: what, subject: `${target} on ${director}`, status: 'pass', detail: `weight ${undrain ? 'as described' : '0'} for ${set} of ${entries.length} entries`, evidence });
          }
        } catch (error) {
          if (!(error instanceof ConnectionError)) throw error;
          events.emit({ type: 'warning', host: director, message: `cannot reach it (${error.message}); its table is left as it is` });
        }
      }),
    );
    if (holding.length === 0 && !results.some((r) => r.status === 'fail')) {
      report({ check: what, subject: target, status: 'fail', detail: `no director's IPVS table has ${target}: is the cluster up (provision verify)?`, evidence: [] });
    }
    if (!undrain && holding.length > 0) await waitForIdle(target, entries, holding, connectors, flags.wait, report);
  } finally {
    await Promise.all([...connectors.values()].map((c) => c.close()));
  }
  const failed = results.filter((r) => r.status === 'fail').length;
  const exitCode = failed > 0 ? 2 : 0;
  events.emit({ type: 'check-summary', cluster: cluster.name, passed: results.length - failed, failed, exitCode, durationMs: Date.now() - started });
  await reporter.close();
  return exitCode;
}

/** Polls the directors' connection counts until none is open to the entries, for at most `seconds`. */
async function waitForIdle(
  target: string,
  entries: RealServerEntry[],
  directors: string[],
  connectors: Map<string, Connector>,
  seconds: number,
  report: (result: CheckResult) => void,
): Promise<void> {
  const deadline = Date.now() + seconds * 1000;
  const started = Date.now();
  for (;;) {
    const outputs = await Promise.all(directors.map(async (d) => ({ host: d, output: (await connectors.get(d)!.run('ipvsadm -L -n')).stdout })));
    const open = outputs.reduce((sum, { output }) => sum + activeConnections(parseIpvsList(output), entries), 0);
    if (open === 0) {
      report({ check: 'drain idle', subject: target, status: 'pass', detail: `no open connection after ${((Date.now() - started) / 1000).toFixed(1)} s`, evidence: outputs.map((o) => ({ host: o.host, command: 'ipvsadm -L -n', output: o.output.trim() })) });
      return;
    }
    if (Date.now() + POLL_MS > deadline) {
      report({
        check: 'drain idle',
        subject: target,
        status: 'fail',
        detail: `${open} connections still open after ${seconds} s (it gets no new ones; wait longer with --wait, or undrain it)`,
        evidence: outputs.map((o) => ({ host: o.host, command: 'ipvsadm -L -n', output: o.output.trim() })),
      });
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

function describeCommand(entries: RealServerEntry[], undrain: boolean): string {
  return entries.map((e) => `ipvsadm -e ${e.selector.join(' ')} -r ${e.real} -w ${undrain ? e.weight : 0}`).join('; ');
}
