// Runs operations' probes and scripts with real shells the way the runner does: a probe as
// `( probe ) </dev/null` with stdout captured and stderr dropped, a change as `( set -e; script )`.
// Two targets: dash with the host's GNU tools, and busybox sh with busybox applets (a minimal
// target), so that every command the scripts use is checked against both.
import { execFileSync, spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Operation, Plan, ProbeOutput } from '../../../src/core/operation.ts';
import { factsFor } from '../../support/facts.ts';

export interface Shell {
  name: string;
  /** the shell and its arguments before the script file */
  command: string[];
  env: NodeJS.ProcessEnv;
}

function which(program: string): string | undefined {
  const found = spawnSync('sh', ['-c', `command -v ${program}`], { encoding: 'utf8' });
  return found.status === 0 ? found.stdout.trim() : undefined;
}

/** Every temporary directory made here, removed by cleanup(). */
const temporaryDirs: string[] = [];
let scriptDir: string | undefined;

function temporaryDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `provision-${prefix}-`));
  temporaryDirs.push(dir);
  return dir;
}

function required(program: string): string {
  const path = which(program);
  if (path === undefined) throw new Error(`${program} is not installed on this machine; the real-shell tests need it (apt-get install ${program})`);
  return path;
}

export function dashShell(): Shell {
  return { name: 'dash', command: [required('dash')], env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C' } };
}

/**
 * busybox sh on a PATH of busybox applets only: a minimal target. (Debian's busybox sh runs its own
 * applets before looking at PATH anyway.) `hostTools` adds links to host programs busybox lacks,
 * e.g. make.
 */
export function busyboxShell({ hostTools = [] }: { hostTools?: string[] } = {}): Shell {
  const busybox = required('busybox');
  const dir = temporaryDir('busybox');
  for (const applet of execFileSync(busybox, ['--list'], { encoding: 'utf8' }).split('\n')) {
    if (applet !== '') symlinkSync(busybox, join(dir, applet));
  }
  for (const tool of hostTools) symlinkSync(required(tool), join(dir, tool));
  return { name: 'busybox sh', command: [join(dir, 'sh')], env: { PATH: dir, LC_ALL: 'C' } };
}

/** dash on a PATH holding only links to the given host programs: a target that lacks the others. */
export function dashWithOnly(name: string, tools: string[]): Shell {
  const dir = temporaryDir('tools');
  for (const tool of tools) symlinkSync(required(tool), join(dir, tool));
  return { name, command: [required('dash')], env: { PATH: dir, LC_ALL: 'C' } };
}

export function shells(): Shell[] {
  return [dashShell(), busyboxShell()];
}

export function cleanup(): void {
  for (const dir of temporaryDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  scriptDir = undefined;
}

/** Scripts go to a file (not `sh -c`): a large file content would exceed the argument size limit. */
export function scriptFile(text: string): string {
  scriptDir ??= temporaryDir('scripts');
  const path = join(scriptDir, `script-${process.pid}-${Math.random().toString(36).slice(2)}.sh`);
  writeFileSync(path, text);
  return path;
}

function run(shell: Shell, text: string): SpawnSyncReturns<string> {
  const file = scriptFile(text);
  const [program = 'sh', ...args] = shell.command;
  const result = spawnSync(program, [...args, file], { encoding: 'utf8', env: shell.env, cwd: '/', maxBuffer: 256 * 1024 * 1024 });
  rmSync(file);
  return result;
}

export function probeWith(shell: Shell, op: Operation): ProbeOutput {
  const result = run(shell, `(\n${op.probe()}\n) </dev/null\n`);
  return { stdout: result.stdout, exitCode: result.status ?? -1 };
}

export interface ScriptResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export const changeScript = (script: string): string => `(\nset -e\n${script}\n)\n`;

/** Like applyWith, without blocking the event loop (for a test that serves HTTP from this process). */
export async function applyAsync(shell: Shell, script: string): Promise<ScriptResult> {
  const file = scriptFile(changeScript(script));
  const [program = 'sh', ...args] = shell.command;
  const child = spawn(program, [...args, file], { env: shell.env, cwd: '/', stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const status = await new Promise<number | null>((done, fail) => {
    child.once('error', fail);
    child.once('close', (code) => done(code));
  });
  rmSync(file);
  return { status, stdout, stderr };
}

export function applyWith(shell: Shell, script: string): ScriptResult {
  const result = run(shell, changeScript(script));
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

export const facts = factsFor('debian12');

export interface Convergence {
  first: Plan;
  result?: ScriptResult;
  second: Plan;
}

/** Probe, plan, apply (when changed), then probe and plan again: the second plan shows idempotence. */
export function converge(shell: Shell, op: Operation): Convergence {
  const first = op.plan(facts, probeWith(shell, op));
  if (!first.changed) return { first, second: first };
  const result = applyWith(shell, first.script);
  if (result.status !== 0) {
    throw new Error(`the ${op.kind} script failed under ${shell.name} (status ${result.status}):\n${result.stderr}\n--- script:\n${first.script.slice(0, 2000)}`);
  }
  return { first, result, second: op.plan(facts, probeWith(shell, op)) };
}

/** A new temporary directory, removed by cleanup() if the test does not remove it. */
export function freshDir(prefix: string): string {
  return temporaryDir(prefix);
}
