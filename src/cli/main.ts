// `provision [playbook] --inventory FILE`: the command line. Parses options, runs the command (the
// run command's code is run.ts), and turns every user-caused error into one clear message.
import { Command, Help, InvalidArgumentError, Option } from 'commander';
import { UserError } from '../core/errors.ts';
import { registerLintCommand } from '../cluster/cli.ts';
import { registerLabCommands } from '../lab/cli.ts';
import { registerVagrantCommands } from '../vagrant/cli.ts';
import { maskStream, Redactor } from '../report/redact.ts';
import { knownSecrets } from '../core/secret.ts';
import type { EXIT } from '../runner/run-playbook.ts';
import type { RunFlags } from './run.ts';
import type { VerifyFlags } from '../verify/command.ts';
import type { DrainFlags } from '../verify/drain-command.ts';
import type { DrillFlags } from '../verify/drill-command.ts';
import type { TestFlags } from '../verify/test-command.ts';

// What a command needs is imported when it runs (the run command's code, the lab's, ssh2, docker,
// ajv's schemas...), so `provision --help` or `provision lint` does not load what they do not use.

/** The exit codes main gives itself; a run's come from runPlaybook (README, "Exit codes"). */
const EXIT_CODES = { ok: 0, inputError: 1 } as const satisfies Pick<typeof EXIT, 'ok' | 'inputError'>;
const EXIT_INTERNAL = 250;

const DEFAULT_PLAYBOOK = 'playbooks/site.yml';
const DEFAULT_INVENTORY = 'inventory/lab.yaml';

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
  // A lab command may have an apt-get or dpkg in flight when it stops (lab/apt.ts).
  let labCommand = false;
  const aptIdle = async () => {
    if (labCommand) await (await import('../lab/apt.ts')).machineApt.idle();
  };
  let finished: number | undefined;
  endQuietlyWhenReaderGoes(process.stdout, () => finished, aptIdle, onUncaught);
  endQuietlyWhenReaderGoes(process.stderr, () => finished, aptIdle, onUncaught);
  const program = new Command('provision')
    .description('Build, check and verify Linux LVS high-availability load-balancer clusters, Ansible-style.')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });

  let exitCode: number = EXIT_CODES.ok;
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
      const { run } = await import('./run.ts');
      exitCode = await run(playbookArg ?? DEFAULT_PLAYBOOK, flags, DEFAULT_INVENTORY);
    });

  program
    .command('verify')
    .description("check a live cluster against the inventory's description: VIP holder, IPVS tables, daemons, real servers, requests through the VIP (changes nothing)")
    .option('-i, --inventory <file>', `inventory file (default ${DEFAULT_INVENTORY})`)
    .option('--from <host>', 'the inventory host that sends requests through the VIPs (default: the first host of the group clients)')
    .option('-v, --verbose', 'the evidence of every check, not only of the failed ones', count, 0)
    .option('-f, --forks <n>', 'hosts in parallel', positiveInt, 20)
    .option('--settle <seconds>', 'for a cluster just started: while checks fail, read it again for up to SECONDS, and report the last reading', positiveInt)
    .addOption(new Option('--json <file>', "write one JSON event per line to FILE ('-' for stdout)"))
    .action(async (flags: VerifyFlags) => {
      verbosity = flags.verbose;
      const { verifyCommand } = await import('../verify/command.ts');
      exitCode = await verifyCommand(flags, DEFAULT_INVENTORY);
    });

  for (const undrain of [false, true]) {
    program
      .command(undrain ? 'undrain' : 'drain')
      .description(
        undrain
          ? 'put a drained real server back: its described weight on every director whose IPVS table has it'
          : 'take a real server out of service gracefully: weight 0 on every director whose IPVS table has it, then wait until its open connections end',
      )
      .argument('<host>', 'the real server: its inventory host, or its address or name in the cluster description')
      .option('-i, --inventory <file>', `inventory file (default ${DEFAULT_INVENTORY})`)
      .option('--wait <seconds>', 'how long to wait for its open connections to end', positiveInt, 300)
      .option('-v, --verbose', 'the evidence of every step, not only of the failed ones', count, 0)
      .addOption(new Option('--json <file>', "write one JSON event per line to FILE ('-' for stdout)"))
      .action(async (host: string, flags: DrainFlags) => {
        verbosity = flags.verbose;
        const { drainCommand } = await import('../verify/drain-command.ts');
        exitCode = await drainCommand(host, undrain, flags, DEFAULT_INVENTORY);
      });
  }

  program
    .command('drill')
    .description('cause real faults on a live cluster (a real server stops, the active director fails...), measured while a client sends requests to the VIP; each fault is undone after')
    .option('-i, --inventory <file>', `inventory file (default ${DEFAULT_INVENTORY})`)
    .option('--cluster <name>', "the inventory's cluster name: drills cause real outages, so they run only when it is named")
    .option('--faults <list>', 'comma separated, in this order: realserver, manager, crash, link (default realserver,manager)')
    .option('--from <host>', 'the inventory host that sends requests through the VIP (default: the first host of the group clients)')
    .option('-v, --verbose', 'the evidence of every step', count, 0)
    .addOption(new Option('--json <file>', "write one JSON event per line to FILE ('-' for stdout)"))
    .option('--html <file>', "write the drill's report to FILE: one self-contained HTML page (opens offline) with its timeline")
    .action(async (flags: DrillFlags) => {
      verbosity = flags.verbose;
      const { drillCommand } = await import('../verify/drill-command.ts');
      exitCode = await drillCommand(flags, DEFAULT_INVENTORY);
    });

  program
    .command('test')
    .description('the whole lifecycle: lab up (for lab hosts), converge, idempotence (a second run changes nothing), verify, drill, lab down')
    .argument('[playbook]', `the playbook (default ${DEFAULT_PLAYBOOK})`)
    .option('-i, --inventory <file>', `inventory file (default ${DEFAULT_INVENTORY})`)
    .option('--keep', 'leave the lab up at the end', false)
    .option('--faults <list>', "the drill's faults (see provision drill), or none", undefined)
    .option('--cluster <name>', 'allow the drill on hosts that are not the lab: the cluster name')
    .option('--html <file>', "write the drill's report to FILE: one self-contained HTML page (opens offline) with its timeline")
    .option('-e, --extra-vars <vars>', 'as for a run: key=value, @file.yml or a YAML/JSON object (repeatable)', collect, [])
    .option('-v, --verbose', 'more output', count, 0)
    .option('-f, --forks <n>', 'hosts in parallel', positiveInt, 20)
    .action(async (playbookArg: string | undefined, flags: TestFlags) => {
      verbosity = flags.verbose;
      const { testCommand } = await import('../verify/test-command.ts');
      exitCode = await testCommand(playbookArg ?? DEFAULT_PLAYBOOK, flags, DEFAULT_INVENTORY);
    });

  registerLabCommands(program);
  registerVagrantCommands(program);
  registerLintCommand(program);
  showRunInRootHelp(program, runCommand);
  program.hook('preAction', (_, command) => {
    for (let c: Command | null = command; c !== null; c = c.parent) if (c.name() === 'lab' || c.name() === 'test' || c.name() === 'vagrant') labCommand = true;
  });

  try {
    await program.parseAsync(argv, { from: 'user' });
    return (finished = exitCode);
  } catch (error) {
    // An apt-get or dpkg that another branch started finishes first: ending it mid-install would
    // leave the machine's package database half-configured.
    await aptIdle();
    return (finished = reportError(error, verbosity));
  }
}

/**
 * A reader that went away (`provision --help | head -1`) ends the program quietly, as a closed pipe
 * (SIGPIPE) ends other command-line programs: with the command's exit code when it has finished
 * (0 for help), else 141 (128 + SIGPIPE), after an apt-get in flight has finished. Any other error
 * of the stream is an internal error.
 */
function endQuietlyWhenReaderGoes(stream: NodeJS.WriteStream, finished: () => number | undefined, aptIdle: () => Promise<void>, onError: (error: unknown) => void): void {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') return onError(error);
    // The error comes as soon as the write fails, maybe before the command's result is in: wait
    // for what is already under way (the help printed, its exit code returned) to settle.
    setImmediate(() => void aptIdle().finally(() => process.exit(finished() ?? 141)));
  });
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

function reportError(error: unknown, verbosity: number): number {
  const e = error as { code?: string; exitCode?: number };
  if (typeof e.code === 'string' && e.code.startsWith('commander.')) {
    // commander printed its own message (or help/version) already. Its exit code tells help that
    // was asked for (--help, `provision help`: 0) from help shown for a missing command (1).
    return e.exitCode === 0 ? EXIT_CODES.ok : EXIT_CODES.inputError;
  }
  // Errors raised while loading come before any run's redactor: mask every secret read so far.
  const redactor = new Redactor(knownSecrets());
  if (error instanceof UserError) {
    process.stderr.write(redactor.text(`ERROR: ${error.format()}\n`));
    if (verbosity >= 3 && error.stack) process.stderr.write(redactor.text(`${error.stack}\n`));
    return EXIT_CODES.inputError;
  }
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(redactor.text(`ERROR (internal): ${message}\n`));
  process.stderr.write(verbosity >= 3 && error instanceof Error ? redactor.text(`${error.stack}\n`) : '  run again with -vvv for the stack trace, and report it as a bug\n');
  return EXIT_INTERNAL;
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
