// `provision [playbook] --inventory FILE`: the command line. Parses options, loads the inputs,
// wires the reporters and Ctrl-C, and turns every user-caused error into one clear message.
import { Command, Help, InvalidArgumentError, Option } from 'commander';
import { existsSync } from 'node:fs';
import { UserError } from '../core/errors.ts';
import type { InventoryHost } from '../inventory/model.ts';
import { ASKED_BECOME_PASSWORD_ENV, askSecret } from './ask-secret.ts';
import { createConnector } from '../connectors/index.ts';
import { JumpHosts } from '../connectors/jump-hosts.ts';
import { lintBeforeRun, registerLintCommand } from '../cluster/cli.ts';
import { factsProblem, lintSubject } from '../cluster/lint.ts';
import { machineApt } from '../lab/apt.ts';
import { registerLabCommands } from '../lab/cli.ts';
import { withLabCredentials } from '../lab/connection.ts';
import { loadInventory } from '../inventory/load.ts';
import { parseExtraVars } from '../inventory/extra-vars.ts';
import { loadPlaybook } from '../playbook/load.ts';
import { FanOut } from '../report/fan-out.ts';
import { JsonReporter } from '../report/json.ts';
import { PlainReporter } from '../report/plain.ts';
import { ProgressReporter } from '../report/progress.ts';
import { maskStream, Redactor } from '../report/redact.ts';
import { knownSecrets } from '../core/secret.ts';
import type { Reporter } from '../runner/events.ts';
import { EXIT, runPlaybook } from '../runner/run-playbook.ts';

const DEFAULT_PLAYBOOK = 'playbooks/site.yml';
const DEFAULT_INVENTORY = 'inventory/lab.yaml';

interface RunFlags {
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

export async function main(argv: string[]): Promise<number> {
  // Whatever writes to the terminal, no secret read so far reaches it in any form.
  maskStream(process.stdout, knownSecrets);
  maskStream(process.stderr, knownSecrets);
  let verbosity = 0;
  // An exception that no code caught (in a library's event handler, say) would be printed by Node
  // itself, past the masked streams: print it like any internal error instead.
  const onUncaught = (error: unknown) => process.exit(reportError(error, verbosity));
  process.once('uncaughtException', onUncaught);
  process.once('unhandledRejection', onUncaught);
  const program = new Command('provision')
    .description('Build, check and verify Linux LVS high-availability load-balancer clusters, Ansible-style.')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });

  let exitCode: number = EXIT.ok;
  const runCommand = program
    .command('run', { isDefault: true })
    .description(`run a playbook (default ${DEFAULT_PLAYBOOK}) against the inventory's hosts`)
    .argument('[playbook]', `the playbook to run (default ${DEFAULT_PLAYBOOK})`)
    .option('-i, --inventory <file>', `inventory file (default ${DEFAULT_INVENTORY})`)
    .option('-l, --limit <pattern>', 'only hosts matching this pattern (e.g. directors:!lvs-backup)')
    .option('-t, --tags <tags>', 'only tasks with these tags (comma separated)', list, [])
    .option('--skip-tags <tags>', 'skip tasks with these tags (comma separated)', list, [])
    .option('-e, --extra-vars <vars>', 'key=value, @file.yml or a YAML/JSON object; highest precedence (repeatable)', collect, [])
    .option('-C, --check', 'change nothing; report what would change (exit code as a normal run)', false)
    .option('-D, --diff', 'show a unified diff of every file change (secrets masked)', false)
    .option('-v, --verbose', 'more output: -v commands and output, -vvv stack traces', count, 0)
    .option('-f, --forks <n>', 'hosts in parallel', positiveInt, 20)
    .addOption(new Option('--json <file>', "write one JSON event per line to FILE ('-' for stdout)"))
    .option('--lock-timeout <seconds>', 'how long to wait for another run on the same host', positiveInt, 60)
    .option('-K, --ask-become-pass', 'ask once for the sudo password of hosts with become and no password_env', false)
    .action(async (playbookArg: string | undefined, flags: RunFlags) => {
      verbosity = flags.verbose;
      exitCode = await run(playbookArg ?? DEFAULT_PLAYBOOK, flags);
    });

  registerLabCommands(program);
  registerLintCommand(program);
  showRunInRootHelp(program, runCommand);

  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (error) {
    // An apt-get or dpkg that another branch started finishes first: ending it mid-install would
    // leave the machine's package database half-configured.
    await machineApt.idle();
    return reportError(error, verbosity);
  }
}

/**
 * `provision --help` (and -h, `provision help`) is what Ansible users type first, and running a
 * playbook is the main job: the root help shows the default command's usage, argument and flags,
 * then the other commands. The flags stay defined once, on `run`.
 */
function showRunInRootHelp(program: Command, runCommand: Command): void {
  const helpOf = (cmd: Command): Command => (cmd === program ? runCommand : cmd);
  program
    .usage('[options] [playbook]')
    .configureHelp({
      visibleOptions(cmd) {
        return Help.prototype.visibleOptions.call(this, helpOf(cmd));
      },
      visibleArguments(cmd) {
        return Help.prototype.visibleArguments.call(this, helpOf(cmd));
      },
    })
    .addHelpText('after', `\nWithout a command, provision runs a playbook (the run command).\n'provision COMMAND --help' shows a command's options.`);
}

async function run(playbookFile: string, flags: RunFlags): Promise<number> {
  const inventoryFile = flags.inventory ?? DEFAULT_INVENTORY;
  if (!existsSync(inventoryFile)) {
    throw new UserError(`inventory file not found: ${inventoryFile}`, {}, 'give one with --inventory FILE');
  }
  const inventory = await loadInventory(inventoryFile);
  // The cluster lint runs before anything is touched: an error stops the run here.
  lintBeforeRun(inventory, (line) => process.stderr.write(`${line}\n`));
  const playbook = await loadPlaybook(playbookFile);
  const extraVars = flags.extraVars.length > 0 ? await parseExtraVars(flags.extraVars) : undefined;
  // Opens the --json file: a path that cannot be written stops here, before the password prompt.
  const reporter = makeReporter(flags);
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
  // Hosts behind a jump host (ssh.jump) share one connection to it.
  const jumpHosts = new JumpHosts(
    (name) => {
      const host = inventory.hosts.get(name);
      return host && withLabCredentials(host);
    },
    { onWarning: (message) => events.emit({ type: 'warning', message }) },
  );
  try {
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
      connect: (host) =>
        createConnector(withAskedPassword(withLabCredentials(host)), {
          env: connectorEnv,
          jumpHosts,
          onWarning: (message) => events.emit({ type: 'warning', host: host.name, message }),
        }),
    });
  } finally {
    process.off('SIGINT', onInterrupt);
    process.off('SIGTERM', onInterrupt);
    await reporter.close();
  }
}

function makeReporter(flags: RunFlags): Reporter {
  const jsonToStdout = flags.json === '-';
  const human = { verbosity: flags.verbose, diff: flags.diff, color: process.stdout.isTTY === true && !jsonToStdout };
  const reporters: Reporter[] = [];
  if (process.stdout.isTTY && !jsonToStdout) reporters.push(new ProgressReporter(process.stdout, human));
  else reporters.push(new PlainReporter(jsonToStdout ? process.stderr : process.stdout, human));
  if (flags.json) reporters.push(new JsonReporter(jsonToStdout ? process.stdout : flags.json));
  return reporters.length === 1 ? reporters[0]! : new FanOut(new Redactor([]), reporters);
}

function reportError(error: unknown, verbosity: number): number {
  const e = error as { code?: string; exitCode?: number };
  if (typeof e.code === 'string' && e.code.startsWith('commander.')) {
    // commander printed its own message (or help/version) already. Its exit code tells help that
    // was asked for (--help, `provision help`: 0) from help shown for a missing command (1).
    return e.exitCode === 0 ? EXIT.ok : EXIT.inputError;
  }
  // Errors raised while loading come before any run's redactor: mask every secret read so far.
  const redactor = new Redactor(knownSecrets());
  if (error instanceof UserError) {
    process.stderr.write(redactor.text(`ERROR: ${error.format()}\n`));
    if (verbosity >= 3 && error.stack) process.stderr.write(redactor.text(`${error.stack}\n`));
    return EXIT.inputError;
  }
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(redactor.text(`ERROR (internal): ${message}\n`));
  process.stderr.write(verbosity >= 3 && error instanceof Error ? redactor.text(`${error.stack}\n`) : '  run again with -vvv for the stack trace, and report it as a bug\n');
  return 250;
}

function list(value: string, previous: string[]): string[] {
  return [...previous, ...value.split(',').map((s) => s.trim()).filter(Boolean)];
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function count(_: string, previous: number): number {
  return previous + 1;
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive whole number');
  return n;
}
