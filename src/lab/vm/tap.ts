// Tap devices put a VM's NICs on a lab bridge, on the same L2 segment as the namespace hosts (LVS-DR
// needs that). They are created by the lab before qemu starts (qemu runs with script=no) and
// outlive it, so stopping a VM never touches the bridge.
import { UserError } from '../../core/errors.ts';
import { run, tryRun } from '../command.ts';
import { assertLinkName } from '../naming.ts';
import { disableIpv6, linkExists } from '../network.ts';

/** Creates tap device `name` on `bridge` and brings it up; an existing one is moved to the bridge. */
export async function createTap(name: string, bridge: string): Promise<void> {
  assertLinkName(name, 'tap device');
  assertLinkName(bridge, 'bridge');
  const existed = linkExists(name);
  if (!existed) await run('ip', ['tuntap', 'add', 'dev', name, 'mode', 'tap']);
  const attached = await tryRun('ip', ['link', 'set', 'dev', name, 'master', bridge]);
  if (attached.exitCode !== 0) {
    if (!existed) await deleteTap(name);
    throw new UserError(`cannot attach tap device ${name} to bridge ${bridge}: ${attached.stderr.trim()}`, {}, `create the bridge ${bridge} first`);
  }
  // A bridge port carries no address of the machine; up, it would get an IPv6 link-local one.
  await disableIpv6(name);
  await run('ip', ['link', 'set', 'dev', name, 'up']);
}

/** Deletes tap device `name`; a device that is already gone is fine. */
export async function deleteTap(name: string): Promise<void> {
  assertLinkName(name, 'tap device');
  const result = await tryRun('ip', ['link', 'delete', 'dev', name]);
  if (result.exitCode !== 0 && linkExists(name)) throw new Error(`ip link delete ${name} failed: ${result.stderr.trim()}`);
}
