// Tap devices put a VM's NICs on a lab bridge, on the same L2 segment as the namespace hosts (LVS-DR
// needs that). They are created by the lab before qemu starts (qemu runs with script=no) and
// outlive it, so stopping a VM never touches the bridge.
import { createHash } from 'node:crypto';
import { execa } from 'execa';
import { UserError } from '../../core/errors.ts';

const LINK_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,14}$/;

/** Throws unless `name` can be a Linux network interface name (at most 15 characters). */
export function assertLinkName(name: string, what = 'interface'): void {
  if (!LINK_NAME.test(name)) {
    throw new UserError(`${JSON.stringify(name)} cannot be a network ${what} name`, {}, 'use at most 15 letters, digits, "-", "_" or "."');
  }
}

/** Creates tap device `name` on `bridge` and brings it up; an existing one is moved to the bridge. */
export async function createTap(name: string, bridge: string): Promise<void> {
  assertLinkName(name, 'tap device');
  assertLinkName(bridge, 'bridge');
  const exists = await execa('ip', ['link', 'show', 'dev', name], { reject: false });
  if (exists.exitCode !== 0) await execa('ip', ['tuntap', 'add', 'dev', name, 'mode', 'tap']);
  const attached = await execa('ip', ['link', 'set', 'dev', name, 'master', bridge], { reject: false });
  if (attached.exitCode !== 0) {
    if (exists.exitCode !== 0) await deleteTap(name);
    throw new UserError(`cannot attach tap device ${name} to bridge ${bridge}: ${attached.stderr.trim()}`, {}, `create the bridge ${bridge} first`);
  }
  await execa('ip', ['link', 'set', 'dev', name, 'up']);
}

/** Deletes tap device `name`; a device that is already gone is fine. */
export async function deleteTap(name: string): Promise<void> {
  assertLinkName(name, 'tap device');
  const result = await execa('ip', ['link', 'delete', 'dev', name], { reject: false });
  if (result.exitCode !== 0 && !/Cannot find device|does not exist/.test(result.stderr)) {
    throw new Error(`ip link delete ${name} failed: ${result.stderr.trim()}`);
  }
}

/**
 * A stable MAC address for a lab NIC, derived from `seed` (e.g. "dir1/eth0"): QEMU's 52:54:00
 * prefix (locally administered, unicast) and three bytes of a hash, so a host keeps its MAC (and
 * its neighbours' ARP caches stay right) across lab runs.
 */
export function labMacAddress(seed: string): string {
  const bytes = createHash('sha256').update(seed).digest().subarray(0, 3);
  return ['52', '54', '00', ...[...bytes].map((byte) => byte.toString(16).padStart(2, '0'))].join(':');
}
