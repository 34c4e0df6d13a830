// The run command (`provision [playbook]`): loads the inputs, lints, wires the reporters and Ctrl-C,
// and runs the playbook. Imported by main.ts only when a playbook is run, with what a run needs
// and no more: the transports the inventory's hosts use, the live view only on a terminal.
import { existsSync } from 'node:fs';
import { UserError } from '../core/errors.ts';
import type { InventoryHost } from '../inventory/model.ts';
import { ASKED_BECOME_PASSWORD_ENV, askSecret } from './ask-secret.ts';
import { hostConnectors } from './connections.ts';
import { lintBeforeRun } from '../cluster/cli.ts';
import { factsProblem, lintSubject } from '../cluster/lint.ts';
import { loadInventory } from '../inventory/load.ts';
import { parseExtraVars } from '../inventory/extra-vars.ts';
import { loadPlaybook } from '../playbook/load.ts';
import { FanOut } from '../report/fan-out.ts';
import { JsonReporter } from '../report/json.ts';
import { PlainReporter } from '../report/plain.ts';
import { Redactor } from '../report/redact.ts';
import type { Reporter } from '../runner/events.ts';
import { EXIT, runPlaybook } from '../runner/run-playbook.ts';

export interface RunFlags {
  inventory?: string;
  limit?: string;
  tags: string[];
  skipTags: string[];
  extraVars: string[];
  check: boolean;
  diff: boolean;
  verbose: number;
  forks: number;
  json?: string;
  lockTimeout: number;
  askBecomePass: boolean;
}

export async function run(playbookFile: string, flags: RunFlags, defaultInventory: string): Promise<number> {
  const inventoryFile = flags.inventory ?? defaultInventory;
  if (!existsSync(inventoryFile)) {
    throw new UserError(`inventory file not found: ${inventoryFile}`, {}, 'give one with --inventory FILE');
  }
  const inventory = await loadInventory(inventoryFile);
  // The cluster lint runs before anything is touched: an error stops the run here.
  lintBeforeRun(inventory, (line) => process.stderr.write(`${line}\n`));
  const playbook = await loadPlaybook(playbookFile);
  const extraVars = flags.extraVars.length > 0 ? await parseExtraVars(flags.extraVars) : undefined;
  // Opens the --json file: a path that cannot be written stops here, before the password prompt.
  const reporter = await makeReporter(flags);
  const askedPassword = flags.askBecomePass ? await askSecret('BECOME (sudo) password: ', process.stdin, process.stderr) : undefined;
  const secrets = new Set([...inventory.secrets, ...playbook.secrets, ...(extraVars?.secrets ?? []), ...(askedPassword ? [askedPassword] : [])]);
  const connectorEnv = askedPassword === undefined ? process.env : { ...process.env, [ASKED_BECOME_PASSWORD_ENV]: askedPassword };
  const withAskedPassword = (host: InventoryHost): InventoryHost =>
    askedPassword !== undefined && host.become?.sudo && host.become.passwordEnv === undefined
      ? { ...host, become: { ...host.become, passwordEnv: ASKED_BECOME_PASSWORD_ENV } }
      : host;
  const redactor = new Redactor(secrets);

  const controller = new AbortController();
  let interrupts = 0;
  const onInterrupt = () => {
    interrupts += 1;
    if (interrupts === 1) {
      process.stderr.write('\nInterrupted: each host stops after its running step (files are written atomically). Ctrl-C again to quit now.\n');
      controller.abort();
    } else {
      process.exit(EXIT.interrupted);
    }
  };
  process.on('SIGINT', onInterrupt);
  process.on('SIGTERM', onInterrupt);
  const events = new FanOut(redactor, [reporter]);
  try {
    const connect = await hostConnectors(inventory, {
      env: connectorEnv,
      adjust: withAskedPassword,
      onWarning: (message, host) => events.emit({ type: 'warning', ...(host === undefined ? {} : { host }), message }),
    });
    return await runPlaybook(inventory, playbook, events, {
      check: flags.check,
      forks: flags.forks,
      ...(flags.limit ? { limit: flags.limit } : {}),
      tags: { only: flags.tags, skip: flags.skipTags },
      ...(extraVars ? { extraVars } : {}),
      lockTimeoutSeconds: flags.lockTimeout,
      secrets,
      signal: controller.signal,
      // Heartbeat matches its node names against `uname -n`, known once facts are in: a lint error
      // then, and the host stops before anything is changed on it.
      checkFacts: (host, facts) => factsProblem(lintSubject(inventory), host, facts),
      connect,
    });
  } finally {
    process.off('SIGINT', onInterrupt);
    process.off('SIGTERM', onInterrupt);
    await reporter.close();
  }
}

async function makeReporter(flags: RunFlags): Promise<Reporter> {
  const jsonToStdout = flags.json === '-';
  const human = { verbosity: flags.verbose, diff: flags.diff, color: process.stdout.isTTY === true && !jsonToStdout };
  const reporters: Reporter[] = [];
  if (process.stdout.isTTY && !jsonToStdout) {
    // The live view (listr2) is loaded only for a terminal.
    const { ProgressReporter } = await import('../report/progress.ts');
    reporters.push(new ProgressReporter(process.stdout, human));
  } else {
    reporters.push(new PlainReporter(jsonToStdout ? process.stderr : process.stdout, human));
  }
  if (flags.json) reporters.push(new JsonReporter(jsonToStdout ? process.stdout : flags.json));
  return reporters.length === 1 ? reporters[0]! : new FanOut(new Redactor([]), reporters);
}
