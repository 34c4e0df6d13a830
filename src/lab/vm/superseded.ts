// Cached builds (kernels, VM images) are kept one per kind: when a new one is complete, the ones it
// supersedes are dead weight (hundreds of MB each). A build another live process is still making
// (NAME.partial-PID) is left alone.
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';

/** Removes every entry of `dir` but `keep` and the partial builds of running processes. */
export async function removeSuperseded(dir: string, keep: string): Promise<void> {
  for (const name of await readdir(dir)) {
    const builder = /\.partial-(\d+)$/.exec(name)?.[1];
    if (name === keep || (builder !== undefined && isAlive(Number(builder)))) continue;
    await rm(join(dir, name), { recursive: true, force: true });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
