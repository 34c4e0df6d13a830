// Every object the lab creates on the machine carries one prefix, so `lab down` can find leftovers
// that no state file recorded (a crash between creating an object and recording it cannot happen,
// because objects are recorded first, but a state file can be deleted by hand).
//
// Linux interface names have at most 15 characters, so links are named by the host's position,
// not by its name: pvlab3e0 is the machine's end of host 3's eth0.

import { createHash } from 'node:crypto';
import { UserError } from '../core/errors.ts';

export const LAB_PREFIX = 'pvlab';

const MAX_INTERFACE_NAME = 15;
const LINK_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,14}$/;

/** Throws unless `name` can be a Linux network interface name (at most 15 characters, no shell or path characters). */
export function assertLinkName(name: string, what = 'interface'): void {
  if (!LINK_NAME.test(name)) {
    throw new UserError(`${JSON.stringify(name)} cannot be a network ${what} name`, {}, 'use at most 15 letters, digits, "-", "_" or "."');
  }
}

/** The network namespace of a namespace host (and the name `ip netns exec` takes). */
export function netnsName(hostName: string): string {
  return `${LAB_PREFIX}-${hostName}`;
}

/**
 * The machine's end of a host's interface: `e` for a veth (namespace hosts), `t` for a tap device
 * (VMs), `c` for a container's veth.
 */
export function hostLinkName(hostIndex: number, interfaceIndex: number, kind: 'e' | 't' | 'c' = 'e'): string {
  const name = `${LAB_PREFIX}${hostIndex}${kind}${interfaceIndex}`;
  if (name.length > MAX_INTERFACE_NAME) throw new Error(`interface name ${name} is too long`);
  return name;
}

/** The bridge of the lab's i-th subnet. */
export function bridgeName(index: number): string {
  return `${LAB_PREFIX}-br${index}`;
}

export function isBridgeName(name: string): boolean {
  return new RegExp(`^${LAB_PREFIX}-br\\d+$`).test(name);
}

/** True for names this lab gives to links and namespaces. */
export function isLabName(name: string): boolean {
  return name.startsWith(LAB_PREFIX);
}

/**
 * A stable, locally administered unicast MAC address derived from `seed` (e.g. "web1/eth0"). A host
 * keeps its MACs across `lab reset` and `lab down`/`up`, so the neighbours' ARP caches stay right
 * (a new random MAC leaves the machine and the other hosts unable to reach it for many seconds).
 * A bridge gets one too, or it would take the lowest MAC of its ports and change as hosts come and go.
 */
export function labMacAddress(seed: string): string {
  const bytes = createHash('sha256').update(`${LAB_PREFIX}/${seed}`).digest().subarray(0, 5);
  return ['02', ...[...bytes].map((byte) => byte.toString(16).padStart(2, '0'))].join(':');
}
