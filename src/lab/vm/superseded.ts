// Cached builds (kernels, VM images, the Vagrant box) are kept one per kind: when a new one is
// complete, the ones it supersedes are dead weight (hundreds of MB each). A build another live
// process is still making (NAME.partial-PID) is left alone.
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Builds the cache entry `dir` in DIR.partial-PID (which removeSuperseded leaves alone while this
 * process lives) and swaps it in whole once `build` has finished, so that a reader sees the old
 * entry or the new one, never half of one; a failed build leaves nothing behind.
 */
export async function buildCacheEntry<T>(dir: string, build: (building: string) => Promise<T>): Promise<T> {
  const building = `${dir}.partial-${process.pid}`;
  await rm(building, { recursive: true, force: true });
  await mkdir(building, { recursive: true });
  try {
    const result = await build(building);
    await rm(dir, { recursive: true, force: true });
    await rename(building, dir);
    return result;
  } catch (error) {
    await rm(building, { recursive: true, force: true });
    throw error;
  }
}

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
