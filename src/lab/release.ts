// Removing what the lab created: each recorded resource, then whatever still carries the lab's
// naming prefix (the leftover scan). Every release is idempotent (already gone is fine) and one
// failure does not stop the others: `lab down` removes all it can, then reports what it could not.
import { existsSync } from 'node:fs';
import { readdir, readFile, rm, rmdir } from 'node:fs/promises';
import path from 'node:path';
import { run, tryRun } from './command.ts';
import type { LabContext, LabHostDriver } from './driver.ts';
import { mirrorServerLeftovers } from './mirror.ts';
import { isBridgeName } from './naming.ts';
import { deleteFirewallRule, labFirewallRules, labLinks, labNetnses, linkExists } from './network.ts';
import { killProcess, signal } from './processes.ts';
import type { LabKind } from './settings.ts';
import type { LabResource } from './state.ts';
import { poll } from './wait.ts';

export type DriverRegistry = ReadonlyMap<LabKind, LabHostDriver>;

export interface ReleaseContext extends LabContext {
  drivers: DriverRegistry;
}

/** Releases resources in reverse creation order; resolves with the failures (empty when all went). */
export async function releaseAll(resources: readonly LabResource[], context: ReleaseContext): Promise<Error[]> {
  const failures: Error[] = [];
  for (const resource of [...resources].reverse()) {
    try {
      await release(resource, context);
    } catch (error) {
      failures.push(new Error(`${describeResource(resource)}: ${(error as Error).message}`));
    }
  }
  return failures;
}

export function describeResource(resource: LabResource): string {
  switch (resource.type) {
    case 'process':
      return `process ${resource.pid} (${resource.what})`;
    case 'netns':
      return `network namespace ${resource.name}`;
    case 'link':
      return `link ${resource.name}`;
    case 'mount':
      return `mount ${resource.path}`;
    case 'path':
      return resource.path;
    case 'iptables':
      return `iptables rule ${resource.chain} ${resource.rule.join(' ')}`;
    case 'driver':
      return `${resource.kind} resource ${JSON.stringify(resource.data)}`;
  }
}

async function release(resource: LabResource, context: ReleaseContext): Promise<void> {
  switch (resource.type) {
    case 'process':
      return killProcess(resource.pid, resource.startTime);
    case 'netns':
      return deleteNetns(resource.name);
    case 'link':
      return deleteLink(resource.name);
    case 'mount':
      return unmount(resource);
    case 'path':
      return removeCachePath(resource.path, context.paths.cache);
    case 'iptables':
      return deleteFirewallRule(resource);
    case 'driver': {
      const driver = context.drivers.get(resource.kind);
      if (driver?.release === undefined) throw new Error(`no ${resource.kind} driver can release it`);
      return driver.release(resource.data, context);
    }
  }
}

/** Deletes a link; one that is gone (or going: a deleted namespace takes its veths asynchronously) is fine. */
async function deleteLink(name: string): Promise<void> {
  if (!linkExists(name)) return;
  const result = await tryRun('ip', ['link', 'del', name]);
  if (result.exitCode !== 0 && linkExists(name)) throw new Error(`ip link del ${name} failed: ${result.stderr.trim()}`);
}

const NETNS_EMPTY_WAIT = { timeoutMs: 10_000, intervalMs: 25 };

/** Kills every process in the namespace (a namespace host's whole process tree), then deletes it. */
async function deleteNetns(name: string): Promise<void> {
  if (!existsSync(`/run/netns/${name}`)) return;
  const emptied = await poll(async () => {
    const pids = await netnsPids(name);
    if (pids.length === 0) return true;
    for (const pid of pids) signal(pid, 'SIGKILL');
    return undefined;
  }, NETNS_EMPTY_WAIT);
  if (emptied === undefined) throw new Error(`processes in it did not end within ${NETNS_EMPTY_WAIT.timeoutMs / 1000} s of SIGKILL`);
  await run('ip', ['netns', 'del', name]);
}

async function netnsPids(name: string): Promise<number[]> {
  const result = await tryRun('ip', ['netns', 'pids', name]);
  if (result.exitCode !== 0) return [];
  return result.stdout.split('\n').filter((line) => /^\d+$/.test(line.trim())).map(Number);
}

async function unmount(resource: Extract<LabResource, { type: 'mount' }>): Promise<void> {
  const mounted = (await readFile('/proc/self/mountinfo', 'utf8')).split('\n').some((line) => line.split(' ')[4] === resource.path);
  if (mounted) {
    if (resource.shared && (await readdir(resource.path)).length > 0) return;
    await run('umount', [resource.path]);
  }
  if (resource.removeDir) await rmdir(resource.path).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT' && error.code !== 'ENOTEMPTY') throw error;
  });
}

/** rm -rf, refusing anything outside the cache directory (a corrupt state file must not delete the machine's files). */
async function removeCachePath(target: string, cache: string): Promise<void> {
  const relative = path.relative(cache, target);
  if (relative === '' || relative.startsWith('..') || path.isAbsolute(relative)) throw new Error(`refusing to remove ${target}: it is not inside the lab cache ${cache}`);
  await rm(target, { recursive: true, force: true });
}

/**
 * What the lab may have left without a record: processes, namespaces, links and firewall rules
 * carrying its prefix or cache path, and host directories. In release order.
 */
export async function findLeftovers(context: ReleaseContext): Promise<LabResource[]> {
  const leftovers: LabResource[] = [];
  for (const driver of context.drivers.values()) if (driver.leftovers) leftovers.push(...(await driver.leftovers(context)));
  leftovers.push(...(await mirrorServerLeftovers(context.paths)));
  for (const name of await labNetnses()) leftovers.push({ type: 'netns', name });
  // Host ends of veths go with their namespace; bridges last, once nothing is plugged in.
  const links = await labLinks();
  const bridges = links.filter(isBridgeName);
  for (const name of links.filter((name) => !bridges.includes(name))) leftovers.push({ type: 'link', name });
  for (const name of bridges) leftovers.push({ type: 'link', name });
  leftovers.push(...(await labFirewallRules()));
  for (const name of await readdir(context.paths.hosts).catch(() => [] as string[])) leftovers.push({ type: 'path', path: path.join(context.paths.hosts, name) });
  // releaseAll releases in reverse order.
  return leftovers.reverse();
}
