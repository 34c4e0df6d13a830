// The two tools as the bench runs them: our CLI as a user runs it (node bin/provision.js, so the
// bench measures whatever the CLI currently is), and ansible-playbook with the twin's settings.
// Each run gives its wall time, the controller's memory, and per host what changed and how many
// remote executions it took: ours from the recap of its --json events, Ansible's from its PLAY
// RECAP and from the counting ssh/sftp/scp wrappers (one invocation = one remote execution or
// file transfer).
import { readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RunEvent } from '../../src/runner/events.ts';
import { measure, type Measured } from './measure.ts';
import type { WrittenTwin } from './twin-files.ts';

export type Tool = 'provision' | 'ansible';
export const TOOLS: readonly Tool[] = ['provision', 'ansible'];

export const PROJECT_DIR = fileURLToPath(new URL('../..', import.meta.url));
const CLI = path.join(PROJECT_DIR, 'bin/provision.js');

export interface RunOutcome {
  tool: Tool;
  measured: Measured;
  /** per host: tasks that changed (or would change, with --check) */
  changed: Record<string, number>;
  /** per host, ours only: the names of the tasks that changed ("role : task: summary"), to say where the twin differs */
  changedTasks?: Record<string, string[]>;
  /** per host: remote executions (Ansible: ssh, sftp and scp invocations) */
  executions: Record<string, number>;
  failed: boolean;
}

export interface RunRequest {
  check: boolean;
  limit?: string;
  forks: number;
}

export async function runProvision(inventoryFile: string, playbookFile: string, request: RunRequest, env: NodeJS.ProcessEnv): Promise<RunOutcome> {
  const events = path.join(tmpdir(), `provision-bench-events-${process.pid}.json`);
  const args = [CLI, '-i', inventoryFile, playbookFile, '--forks', String(request.forks), '--json', events, ...(request.limit ? ['--limit', request.limit] : []), ...(request.check ? ['--check'] : [])];
  const measured = await measure(process.execPath, args, { env, cwd: PROJECT_DIR });
  const lines = (await readFile(events, 'utf8').catch(() => '')).split('\n').filter(Boolean);
  await rm(events, { force: true });
  const parsed = lines.map((line) => JSON.parse(line) as RunEvent);
  const recap = parsed.find((event): event is Extract<RunEvent, { type: 'recap' }> => event.type === 'recap');
  const changedTasks: Record<string, string[]> = {};
  for (const event of parsed) {
    if (event.type !== 'task' || !event.changed) continue;
    (changedTasks[event.host] ??= []).push(`${event.role ?? ''} : ${event.task}${event.summary ? `: ${event.summary}` : ''}`);
  }
  const changed: Record<string, number> = {};
  const executions: Record<string, number> = {};
  for (const row of recap?.hosts ?? []) {
    changed[row.host] = row.changed;
    executions[row.host] = row.remoteExecutions;
  }
  return { tool: 'provision', measured, changed, changedTasks, executions, failed: measured.exitCode !== 0 || recap === undefined };
}

/** Ends the twin's ControlPersist masters, so the next run connects anew as ours does. */
export async function closeAnsibleConnections(twin: WrittenTwin): Promise<void> {
  const dir = path.join(twin.dir, 'cp');
  for (const socket of await readdir(dir).catch(() => [] as string[])) {
    await measure('/usr/bin/ssh', ['-o', `ControlPath=${path.join(dir, socket)}`, '-O', 'exit', 'bench']).catch(() => undefined);
    await rm(path.join(dir, socket), { force: true });
  }
}

export async function runAnsible(twin: WrittenTwin, addresses: ReadonlyMap<string, string>, request: RunRequest, env: NodeJS.ProcessEnv, options: { warm: boolean }): Promise<RunOutcome> {
  if (!options.warm) await closeAnsibleConnections(twin);
  await writeFile(twin.invocationLog, '');
  const args = [twin.playbook, '--forks', String(request.forks), ...(request.limit ? ['--limit', request.limit] : []), ...(request.check ? ['--check'] : [])];
  const measured = await measure('ansible-playbook', args, { env: { ...env, ANSIBLE_CONFIG: twin.config, ANSIBLE_NOCOLOR: '1', ANSIBLE_FORCE_COLOR: '0' }, cwd: twin.dir });
  const recap = parseAnsibleRecap(measured.stdout);
  const executions = countInvocations(await readFile(twin.invocationLog, 'utf8').catch(() => ''), addresses);
  const changed = Object.fromEntries(Object.entries(recap).map(([host, row]) => [host, row.changed]));
  const failed = measured.exitCode !== 0 || Object.keys(recap).length === 0 || Object.values(recap).some((row) => row.failed > 0 || row.unreachable > 0);
  return { tool: 'ansible', measured, changed, executions, failed };
}

export interface AnsibleRecapRow {
  ok: number;
  changed: number;
  unreachable: number;
  failed: number;
  skipped: number;
  rescued: number;
}

/** The PLAY RECAP of ansible-playbook's default output, by host. */
export function parseAnsibleRecap(stdout: string): Record<string, AnsibleRecapRow> {
  const rows: Record<string, AnsibleRecapRow> = {};
  const at = stdout.lastIndexOf('PLAY RECAP');
  if (at < 0) return rows;
  for (const line of stdout.slice(at).split('\n').slice(1)) {
    const match = /^(\S+)\s+:\s+(.*)$/.exec(line.trim());
    if (!match) continue;
    const fields = Object.fromEntries([...match[2]!.matchAll(/(\w+)=(\d+)/g)].map((m) => [m[1]!, Number(m[2])]));
    rows[match[1]!] = { ok: fields.ok ?? 0, changed: fields.changed ?? 0, unreachable: fields.unreachable ?? 0, failed: fields.failed ?? 0, skipped: fields.skipped ?? 0, rescued: fields.rescued ?? 0 };
  }
  return rows;
}

/**
 * Invocations per host from the wrappers' log (one line each: program, then the arguments, tab
 * separated): the host is the argument that is its address (sftp and scp write it in brackets).
 * `ssh -O` control commands are not remote executions and are not counted.
 */
export function countInvocations(log: string, addresses: ReadonlyMap<string, string>): Record<string, number> {
  const byAddress = new Map([...addresses].map(([host, address]) => [address, host] as const));
  const counts: Record<string, number> = Object.fromEntries([...addresses.keys()].map((host) => [host, 0]));
  for (const line of log.split('\n')) {
    const args = line.split('\t');
    if (args.length < 2 || args.includes('-O')) continue;
    for (const arg of args.slice(1)) {
      const bare = arg.replace(/^\[(.*)\]$/, '$1').replace(/^[^@\s]+@/, '');
      const host = byAddress.get(bare);
      if (host !== undefined) {
        counts[host] = (counts[host] ?? 0) + 1;
        break;
      }
    }
  }
  return counts;
}
