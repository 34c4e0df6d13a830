// What `lab up` does to each host of a lab that is up already: a lab is worth keeping (its hosts
// carry what provisioning did to them), so a healthy host is kept running, a host that is down is
// started again on its own disk, and only a host whose disk no longer fits (another kind, other
// addresses, a rebuilt base) gets a new one. Pure: lab.ts observes and acts.
import { isDeepStrictEqual } from 'node:util';
import { formatSubnet } from './ipv4.ts';
import type { LabBridge, LabHost } from './settings.ts';
import type { LabState } from './state.ts';

/** A host of the running lab, as seen from this machine. */
export type HostHealth =
  /** its processes run and its sshd answers */
  | 'answers'
  /** every process recorded for it has ended (a VM's qemu, a namespace host's init, a container's init) */
  | 'ended'
  /** its processes run, but its sshd does not answer */
  | 'silent';

export type HostAction =
  | { action: 'keep' }
  /** stop what is left of it and start it again on its disk (VM overlay, upper layer, container) */
  | { action: 'restart'; why: string }
  /** throw its disk away and create it anew */
  | { action: 'rebuild'; why: string }
  /** new in the inventory */
  | { action: 'create' };

/**
 * Why the whole lab must be made anew rather than kept, or undefined when its hosts can be judged
 * one by one. `rootfsCurrent`: the cached rootfs, which every host's disk stacks on or was made
 * from, is the one the current recipe builds (otherwise it is rebuilt, under the running hosts).
 */
export function whyRebuildLab(state: LabState, bridges: readonly LabBridge[], rootfsCurrent: boolean): string | undefined {
  if (state.phase !== 'up') return 'the lab up that made it did not finish';
  if (!isDeepStrictEqual(state.bridges, bridges)) {
    const subnets = (list: readonly LabBridge[]) => list.map((bridge) => formatSubnet(bridge.subnet)).join(', ');
    return `its networks changed (were ${subnets(state.bridges)}; now ${subnets(bridges)})`;
  }
  if (!rootfsCurrent) return "the lab's root filesystem is rebuilt (its recipe changed), and every host's disk is made from it";
  return undefined;
}

/**
 * What to do with one host of the inventory. `previous`: the running lab's record of it (undefined
 * when the lab has no such host); `base`: what a new disk of its kind would be made from now
 * (undefined when its kind does not say); `health`: how the running host is.
 */
export function hostAction(previous: { spec: LabHost; base?: string } | undefined, planned: LabHost, base: string | undefined, health: HostHealth): HostAction {
  if (previous === undefined) return { action: 'create' };
  const changed = settingChanges(previous.spec, planned);
  if (changed.length > 0) return { action: 'rebuild', why: changed.join('; ') };
  if (base !== undefined && previous.base !== base) {
    return { action: 'rebuild', why: previous.base === undefined ? `its base is not recorded (now ${base})` : `its base changed (was ${previous.base}, now ${base})` };
  }
  if (health === 'ended') return { action: 'restart', why: 'its processes had ended' };
  if (health === 'silent') return { action: 'restart', why: 'its ssh did not answer' };
  // Its links are named by its position (naming.ts), which another host may take now.
  if (previous.spec.index !== planned.index) return { action: 'restart', why: 'its position among the lab hosts changed, which names its network links' };
  return { action: 'keep' };
}

/** The inventory settings that a host's disk was made for and that differ now, described. */
function settingChanges(before: LabHost, after: LabHost): string[] {
  const changes: string[] = [];
  if (before.kind !== after.kind) changes.push(`its kind changed (${before.kind} -> ${after.kind})`);
  const addresses = (host: LabHost) => host.interfaces.map((iface) => `${iface.name} ${iface.address}/${iface.prefix}`).join(', ');
  if (addresses(before) !== addresses(after)) changes.push(`its addresses changed (${addresses(before)} -> ${addresses(after)})`);
  if (before.sshPort !== after.sshPort) changes.push(`its ssh port changed (${before.sshPort} -> ${after.sshPort})`);
  if (before.key !== after.key) changes.push('its login key changed');
  return changes;
}

/** How `lab up` reports an action: "kept running", "restarted on its disk (why)", ... */
export function describeAction(action: HostAction): string {
  switch (action.action) {
    case 'keep':
      return 'kept running';
    case 'restart':
      return `restarted on its disk (${action.why})`;
    case 'rebuild':
      return `rebuilt on a new disk (${action.why})`;
    case 'create':
      return 'created';
  }
}
