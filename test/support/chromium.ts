// Debian's Chromium, headless, as the tests open a page the way a user would: a fresh profile, no
// background networking (this machine's network is closed), from a file:// URL, bounded in time.
import { spawn } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import path from 'node:path';

export const CHROMIUM = '/usr/bin/chromium';
const START_LIMIT_MS = 30_000;

/** Runs headless Chromium on a page with a fresh profile; its stdout. Killed (its whole process group) after 30 s. */
export async function chromium(dir: string, page: string, extra: string[]): Promise<string> {
  const profile = await mkdtemp(path.join(dir, 'profile-'));
  const args = [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    `--user-data-dir=${profile}`,
    ...extra,
    `file://${page}`,
  ];
  const child = spawn(CHROMIUM, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, HOME: profile } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    process.kill(-child.pid!, 'SIGKILL');
  }, START_LIMIT_MS);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  }).finally(() => clearTimeout(timer));
  if (timedOut) throw new Error(`chromium did not finish within ${START_LIMIT_MS / 1000} s (killed): ${stderr.slice(-2000)}`);
  if (code !== 0) throw new Error(`chromium exited with ${code}: ${stderr.slice(-2000)}`);
  return stdout;
}

