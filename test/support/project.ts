// A throwaway provision project (inventory, playbook, roles) in a temp dir, and a way to run the
// real CLI on it as a user would, collecting its JSON events.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const cli = path.join(repoRoot, 'bin', 'provision.js');
/** roles in temp projects import the public API from here */
export const apiModule = path.join(repoRoot, 'src', 'index.ts');

export interface Project {
  dir: string;
  write(file: string, text: string): Promise<void>;
  remove(): Promise<void>;
}

export async function makeProject(files: Record<string, string>): Promise<Project> {
  const dir = await mkdtemp(path.join(tmpdir(), 'provision-project-'));
  const project: Project = {
    dir,
    async write(file, text) {
      await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
      await writeFile(path.join(dir, file), text);
    },
    remove: () => rm(dir, { recursive: true, force: true }),
  };
  for (const [file, text] of Object.entries(files)) await project.write(file, text);
  return project;
}

export interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  events: Array<Record<string, unknown>>;
}

export interface RunCliOptions {
  env?: NodeJS.ProcessEnv;
  onSpawn?: (child: ChildProcess) => void;
  /** false: run the CLI as given, without a --json FILE of its own (events stay empty) */
  json?: boolean;
}

/** Runs `provision ARGS --json FILE` in the project dir and returns its output and events. */
export function runCli(project: Project, args: string[], options: RunCliOptions = {}): Promise<CliResult> {
  const json = options.json === false ? undefined : path.join(project.dir, `events-${Date.now()}-${Math.random().toString(16).slice(2)}.jsonl`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args, ...(json === undefined ? [] : ['--json', json])], {
      cwd: project.dir,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    options.onSpawn?.(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      (json === undefined ? Promise.resolve('') : readFile(json, 'utf8'))
        .catch(() => '')
        .then((text) => resolve({ exitCode: code ?? (signal ? 128 : -1), stdout, stderr, events: parseEvents(text, signal) }))
        .catch(reject);
    });
  });
}

/**
 * The --json events, one per line. A run killed by a signal may have been writing its last line
 * (a task's diff of a large file is one long line): that line alone is dropped. Any other line that
 * is not JSON is an error of the CLI.
 */
function parseEvents(text: string, signal: NodeJS.Signals | null): Array<Record<string, unknown>> {
  const lines = text.split('\n').filter(Boolean);
  return lines.flatMap((line, i) => {
    try {
      return [JSON.parse(line) as Record<string, unknown>];
    } catch (error) {
      const cutShort = signal !== null && i === lines.length - 1 && !text.endsWith('\n');
      if (cutShort) return [];
      throw new Error(`--json event line ${i + 1} is not JSON: ${String(error)}`);
    }
  });
}

export const taskEvents = (r: CliResult) => r.events.filter((e) => e.type === 'task');
export const changedTasks = (r: CliResult) => taskEvents(r).filter((e) => e.status === 'changed').map((e) => `${String(e.host)}: ${String(e.task)}`);
export const recapOf = (r: CliResult) => r.events.find((e) => e.type === 'recap') as { hosts: Array<Record<string, number | string>>; exitCode: number } | undefined;

export function sha256Tree(dir: string): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile('sh', ['-c', 'cd "$1" && find . -print0 | sort -z | xargs -0 stat -c "%n %a %U %s %Y" && find . -type f -print0 | sort -z | xargs -0 -r sha256sum', 'sh', dir], (err, out) =>
      err ? reject(err) : resolve(out),
    ),
  );
}
