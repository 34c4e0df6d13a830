// Runs operations' probes and scripts with real shells the way the runner does: a probe as
// `( probe ) </dev/null` with stdout captured and stderr dropped, a change as `( set -e; script )`.
// Two targets: dash with the host's GNU tools, and busybox sh with ONLY busybox applets on PATH (a
// minimal target), so that every command the scripts use is checked against both.
import { execFileSync, spawnSync, type SpawnSyncReturns } from 'node:child_process';
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

let busyboxBin: string | undefined;

/** A directory with one link to busybox per applet: PATH for a target that has nothing else. */
function busyboxPath(): string {
  if (busyboxBin !== undefined) return busyboxBin;
  const busybox = which('busybox');
  if (busybox === undefined) {
    throw new Error('busybox is not installed on this machine; the real-shell tests need it (apt-get install busybox)');
  }
  const dir = mkdtempSync(join(tmpdir(), 'provision-busybox-'));
  for (const applet of execFileSync(busybox, ['--list'], { encoding: 'utf8' }).split('\n')) {
    if (applet !== '') symlinkSync(busybox, join(dir, applet));
  }
  busyboxBin = dir;
  return dir;
}

export function shells(): Shell[] {
  const dash = which('dash');
  if (dash === undefined) throw new Error('dash is not installed on this machine; the real-shell tests need it (apt-get install dash)');
  const bin = busyboxPath();
  return [
    { name: 'dash', command: [dash], env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C' } },
    { name: 'busybox sh', command: [join(bin, 'sh')], env: { PATH: bin, LC_ALL: 'C' } },
  ];
}

export function cleanupShells(): void {
  if (busyboxBin !== undefined) rmSync(busyboxBin, { recursive: true, force: true });
  busyboxBin = undefined;
}

let scriptDir: string | undefined;

/** Scripts go to a file (not `sh -c`): a large file content would exceed the argument size limit. */
export function scriptFile(text: string): string {
  scriptDir ??= mkdtempSync(join(tmpdir(), 'provision-scripts-'));
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

export function freshDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `provision-${prefix}-`));
}
