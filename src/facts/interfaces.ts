// A host's network interfaces, from `ip -o link` + `ip -o addr` or, on hosts without a working ip,
// from `ifconfig -a` (net-tools before 2.0 as on EL5/6 and busybox, or net-tools 2.x as on EL7+).
//
// One InterfaceFact per kernel device, in the order the host lists them. An address with a label
// (eth0:0, lo:0, as the LVS tutorials create them) belongs to its device: ifconfig shows such an
// alias as an interface of its own, ip as a label, and both must give the same facts.
import type { InterfaceFact } from '../core/facts.ts';

const macPattern = '[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5}';

/** Interfaces from the output of `ip -o link show` and `ip -o addr show`. */
export function interfacesFromIp(ipLink: string, ipAddr: string): InterfaceFact[] {
  const interfaces = new InterfaceList();
  for (const link of parseIpLink(ipLink)) interfaces.get(link.name).mac ??= link.mac;
  for (const address of parseIpAddr(ipAddr)) interfaces.addAddress(address.device, address.cidr);
  return interfaces.list();
}

export interface IpLink {
  name: string;
  mac?: string;
}

/** `ip -o link show`: "2: eth0@if7: <BROADCAST,...> mtu 1500 ...\    link/ether 52:54:00:12:34:56 brd ...". */
export function parseIpLink(text: string): IpLink[] {
  const links: IpLink[] = [];
  for (const line of text.split('\n')) {
    // A veth shows its peer after "@"; the device itself is named without it.
    const match = /^\d+:\s+([^\s:@]+)(?:@[^\s:]*)?:\s/.exec(line);
    if (!match?.[1]) continue;
    // Only ethernet-like links have a MAC; loopback, sit and tun show zeros, addresses or nothing.
    const mac = new RegExp(`\\slink/ether\\s+(${macPattern})(?:\\s|$)`).exec(line)?.[1];
    links.push(mac === undefined ? { name: match[1] } : { name: match[1], mac: mac.toLowerCase() });
  }
  return links;
}

export interface IpAddress {
  device: string;
  /** CIDR, e.g. 192.168.2.250/24 or fe80::1/64 */
  cidr: string;
}

/** `ip -o addr show`: "2: eth0    inet 192.168.2.100/24 brd 192.168.2.255 scope global secondary eth0:0". */
export function parseIpAddr(text: string): IpAddress[] {
  const addresses: IpAddress[] = [];
  for (const line of text.split('\n')) {
    const match = /^\d+:\s+([^\s@]+)(?:@\S*)?\s+(inet6?)\s+(\S+)/.exec(line);
    if (!match) continue;
    const [, device = '', family = '', address = ''] = match;
    // A point-to-point address prints as "inet 10.0.0.1 peer 10.0.0.2/32": the prefix is the peer's,
    // the local address stands alone.
    const cidr = address.includes('/') ? address : `${address}/${family === 'inet' ? 32 : 128}`;
    addresses.push({ device, cidr: family === 'inet6' ? cidr.toLowerCase() : cidr });
  }
  return addresses;
}

/** Interfaces from `ifconfig -a`, in either the old (EL5/6, busybox) or the new (net-tools 2.x) format. */
export function parseIfconfig(text: string): InterfaceFact[] {
  const interfaces = new InterfaceList();
  for (const block of ifconfigBlocks(text)) {
    const device = interfaces.get(deviceOf(block.label));
    const mac =
      new RegExp(`\\bHWaddr\\s+(${macPattern})(?:\\s|$)`).exec(block.text)?.[1] ??
      new RegExp(`^\\s*ether\\s+(${macPattern})(?:\\s|$)`, 'm').exec(block.text)?.[1];
    if (mac !== undefined) device.mac ??= mac.toLowerCase();
    for (const line of block.text.split('\n')) {
      const cidr = ifconfigAddress(line);
      if (cidr !== undefined) interfaces.addAddress(device.name, cidr);
    }
  }
  return interfaces.list();
}

interface IfconfigBlock {
  /** "eth0", or an alias such as "eth0:0" */
  label: string;
  text: string;
}

/** Splits ifconfig output into one block per interface: each starts at a line that is not indented. */
function ifconfigBlocks(text: string): IfconfigBlock[] {
  const blocks: IfconfigBlock[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    if (/^\s/.test(line)) {
      const current = blocks.at(-1);
      if (current) current.text += `\n${line}`;
      continue;
    }
    const [token = ''] = line.split(/\s+/);
    // The new format ends the name with a colon ("eth0: flags=...", "eth0:0: flags=...").
    const label = /\sflags=/.test(line) ? token.replace(/:$/, '') : token;
    blocks.push({ label, text: line });
  }
  return blocks;
}

function deviceOf(label: string): string {
  return label.split(':')[0] ?? label;
}

/** The CIDR address on one line of an ifconfig block, if the line carries one. */
function ifconfigAddress(line: string): string | undefined {
  // old: "inet addr:192.168.2.250  Bcast:192.168.2.255  Mask:255.255.255.0"
  const oldV4 = /^\s*inet addr:\s*(\S+)(?:.*\sMask:(\S+))?/.exec(line);
  if (oldV4?.[1]) return `${oldV4[1]}/${oldV4[2] ? prefixLength(oldV4[2]) : 32}`;
  // new: "inet 192.0.2.2  netmask 255.255.255.0  broadcast 192.0.2.255"
  const newV4 = /^\s*inet\s+(\d+\.\d+\.\d+\.\d+)(?:\s+netmask\s+(\S+))?/.exec(line);
  if (newV4?.[1]) return `${newV4[1]}/${newV4[2] ? prefixLength(newV4[2]) : 32}`;
  // old: "inet6 addr: fe80::5054:ff:fe12:3456/64 Scope:Link"
  const oldV6 = /^\s*inet6 addr:\s*(\S+\/\d+)/.exec(line);
  if (oldV6?.[1]) return oldV6[1].toLowerCase();
  // new: "inet6 fe80::fc:ff:fe00:1  prefixlen 64  scopeid 0x20<link>"
  const newV6 = /^\s*inet6\s+([0-9A-Fa-f:.]+)\s+prefixlen\s+(\d+)/.exec(line);
  if (newV6?.[1]) return `${newV6[1].toLowerCase()}/${newV6[2]}`;
  return undefined;
}

/** "255.255.255.0" -> 24. Linux only accepts contiguous masks, so counting the leading ones is exact. */
export function prefixLength(netmask: string): number {
  const bits = netmask
    .split('.')
    .map((octet) => Number(octet).toString(2).padStart(8, '0'))
    .join('');
  const firstZero = bits.indexOf('0');
  return firstZero === -1 ? bits.length : firstZero;
}

/** Interfaces in order of first mention, each address once. */
class InterfaceList {
  private readonly byName = new Map<string, InterfaceFact>();

  get(name: string): InterfaceFact {
    let found = this.byName.get(name);
    if (!found) {
      found = { name, ipv4: [], ipv6: [] };
      this.byName.set(name, found);
    }
    return found;
  }

  addAddress(device: string, cidr: string): void {
    const addresses = cidr.includes(':') ? this.get(device).ipv6 : this.get(device).ipv4;
    if (!addresses.includes(cidr)) addresses.push(cidr);
  }

  list(): InterfaceFact[] {
    // Key order mirrors the Facts type, so that printed facts read the same for every host.
    return [...this.byName.values()].map(({ name, mac, ipv4, ipv6 }) =>
      mac === undefined ? { name, ipv4, ipv6 } : { name, mac, ipv4, ipv6 },
    );
  }
}
