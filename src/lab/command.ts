// Running the machine's tools (ip, debootstrap, apt-get, ...): every command has a time limit, and
// a failure says which command failed and what it printed.
import { access, constants } from 'node:fs/promises';
import path, { delimiter } from 'node:path';
import { execa } from 'execa';
import { UserError } from '../core/errors.ts';
import { machineApt } from './apt.ts';
import { MACHINE_TOOLS, type MachineTool } from './packages.ts';

export interface RunOptions {
  /** the command is killed after this long; every command has a bound */
  timeoutMs: number;
  cwd?: string;
  input?: string;
  env?: Record<string, string>;
}

export interface RunResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

const DEFAULT_TIMEOUT_MS = 15_000;

/**
 * A command of this machine failed. What it printed says why, and the cause is the machine's (a
 * kernel feature, a busy device, a full disk), so it is reported as the user's to act on, not as
 * an internal error.
 */
export class CommandError extends UserError {
  override name = 'CommandError';
  constructor(
    readonly command: string,
    readonly result: RunResult & { timedOut: boolean },
  ) {
    const output = (result.stderr.trim() || result.stdout.trim()).split('\n').slice(-8).join('\n  ');
    const why = result.timedOut ? 'timed out' : `failed (exit ${result.exitCode})`;
    super(`${command} ${why}${output ? `:\n  ${output}` : ''}`, {}, "this machine's command failed as shown; 'provision lab down' removes whatever the lab made so far");
  }
}

/** Runs a command; resolves with its result whatever its exit status (it still rejects on a time-out). */
export async function tryRun(command: string, args: readonly string[], options: Partial<RunOptions> = {}): Promise<RunResult> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const result = await execa(command, args, {
    reject: false,
    timeout: timeoutMs,
    ...(options.input === undefined ? { stdin: 'ignore' as const } : { input: options.input }),
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
    ...(options.env === undefined ? {} : { env: options.env }),
    stripFinalNewline: false,
  });
  if ((result as { code?: string }).code === 'ENOENT') throw notInstalled(command);
  const outcome = { exitCode: result.exitCode ?? -1, stdout: String(result.stdout ?? ''), stderr: String(result.stderr ?? '') };
  if (result.timedOut) throw new CommandError(describe(command, args), { ...outcome, timedOut: true });
  return outcome;
}

/** Runs a command; rejects with its output unless it exits 0. */
export async function run(command: string, args: readonly string[], options: Partial<RunOptions> = {}): Promise<RunResult> {
  const result = await tryRun(command, args, options);
  if (result.exitCode !== 0) throw new CommandError(describe(command, args), { ...result, timedOut: false });
  return result;
}

/** A machine tool the lab runs is missing: what to install, not an internal error. */
function notInstalled(command: string): UserError {
  const tool = path.basename(command);
  const known = Object.hasOwn(MACHINE_TOOLS, tool) ? MACHINE_TOOLS[tool as MachineTool] : undefined;
  return new UserError(`${tool} is not installed on this machine`, {}, known === undefined ? `install ${tool}` : `install it: apt-get install ${known} (provision lab up installs it)`);
}

function describe(command: string, args: readonly string[]): string {
  const shown = [command, ...args].join(' ');
  return shown.length > 200 ? `${shown.slice(0, 200)}...` : shown;
}

/** The full path of `command` in PATH (where the lab runs it from), or undefined. */
export async function findCommand(command: string): Promise<string | undefined> {
  const directories = (process.env.PATH ?? '').split(delimiter).filter((dir) => dir !== '');
  for (const dir of directories) {
    const candidate = path.join(dir, command);
    if (await access(candidate, constants.X_OK).then(() => true, () => false)) return candidate;
  }
  return undefined;
}

export async function hasCommand(command: string): Promise<boolean> {
  return (await findCommand(command)) !== undefined;
}

/**
 * Installs the Debian packages of missing machine tools (debootstrap, dpkg-dev, ...) through this
 * machine's one apt (src/lab/apt.ts), saying so first. Without apt-get, says what to install.
 */
export async function ensureTools(tools: readonly MachineTool[], log: (line: string) => void): Promise<void> {
  const missing: MachineTool[] = [];
  for (const tool of new Set(tools)) if (!(await hasCommand(tool))) missing.push(tool);
  if (missing.length === 0) return;
  const packages = [...new Set(missing.map((tool) => MACHINE_TOOLS[tool]))];
  if (!(await hasCommand('apt-get'))) {
    throw new UserError(`the lab needs ${missing.join(', ')}, which ${missing.length === 1 ? 'is' : 'are'} not installed`, {}, `install the package(s) ${packages.join(' ')}`);
  }
  await machineApt.install(packages, `for ${missing.join(', ')}`, log);
  const still: MachineTool[] = [];
  for (const tool of missing) if (!(await hasCommand(tool))) still.push(tool);
  if (still.length > 0) throw new UserError(`${still.join(', ')} not found in PATH although its package is installed`, {}, `check PATH (${process.env.PATH ?? ''})`);
}
