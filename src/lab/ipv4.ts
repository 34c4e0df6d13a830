// IPv4 arithmetic for the lab's addressing plan: subnets, their bridge address (.1) and membership.
// Addresses are handled as unsigned 32-bit numbers.

export interface Subnet {
  /** the network address, e.g. 10.213.2.0 */
  network: number;
  prefix: number;
}

const DOTTED_QUAD = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** The address as a number, or undefined when `text` is not a dotted quad of 0-255 numbers. */
export function parseAddress(text: string): number | undefined {
  const match = DOTTED_QUAD.exec(text);
  if (!match) return undefined;
  const octets = match.slice(1).map(Number);
  if (octets.some((octet) => octet > 255)) return undefined;
  return octets.reduce((value, octet) => value * 256 + octet, 0);
}

export function formatAddress(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}

/** `A.B.C.D/NN` as an address and a prefix length, or undefined when malformed. */
export function parseCidr(text: string): { address: number; prefix: number } | undefined {
  const slash = text.indexOf('/');
  if (slash < 0) return undefined;
  const address = parseAddress(text.slice(0, slash));
  const prefixText = text.slice(slash + 1);
  if (address === undefined || !/^\d{1,2}$/.test(prefixText)) return undefined;
  const prefix = Number(prefixText);
  return prefix <= 32 ? { address, prefix } : undefined;
}

function mask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

export function subnetOf(address: number, prefix: number): Subnet {
  return { network: (address & mask(prefix)) >>> 0, prefix };
}

export function formatSubnet(subnet: Subnet): string {
  return `${formatAddress(subnet.network)}/${subnet.prefix}`;
}

export function sameSubnet(a: Subnet, b: Subnet): boolean {
  return a.network === b.network && a.prefix === b.prefix;
}

/** True when the two subnets share at least one address. */
export function overlaps(a: Subnet, b: Subnet): boolean {
  const shorter = Math.min(a.prefix, b.prefix);
  return subnetOf(a.network, shorter).network === subnetOf(b.network, shorter).network;
}

/** The first usable address (.1 of a /24): the machine's side of the subnet's bridge. */
export function bridgeAddress(subnet: Subnet): number {
  return subnet.network + 1;
}

export function broadcastAddress(subnet: Subnet): number {
  return (subnet.network | ~mask(subnet.prefix)) >>> 0;
}
