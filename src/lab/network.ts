// The lab's network on the machine: guard routes, one bridge per subnet, and (only when the
// machine's firewall would block them) iptables openings for the lab's own traffic.
//
// Safety: lab addresses must never leave the machine. Without the bridge, a lab address would be
// routed through the default gateway; the guard route (unreachable, metric 4000) answers "No route
// to host" locally instead, and stays in place after `lab down`. The bridges do not forward IP
// (per-interface forwarding=0), so even a host that sets a default route via the bridge address
// cannot reach past the machine, and they carry no IPv6 on the machine's side.
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { UserError } from '../core/errors.ts';
import { hasCommand, run, tryRun } from './command.ts';
import { formatSubnet, overlaps, parseCidr, subnetOf, type Subnet } from './ipv4.ts';
import { LAB_PREFIX, labMacAddress } from './naming.ts';
import type { LabBridge } from './settings.ts';
import type { LabResource } from './state.ts';

export const GUARD_ROUTE_METRIC = 4000;
/** iptables rules the lab adds carry this comment, so `lab down` finds them even without a state file. */
export const FIREWALL_COMMENT = `${LAB_PREFIX}: provision lab`;

/** `ip route` arguments of a subnet's guard route. */
export function guardRouteArgs(subnet: Subnet): string[] {
  return ['unreachable', formatSubnet(subnet), 'metric', String(GUARD_ROUTE_METRIC)];
}

/** Installs the guard routes (idempotent). Must run before any lab address is configured. */
export async function addGuardRoutes(subnets: readonly Subnet[]): Promise<void> {
  for (const subnet of subnets) await run('ip', ['route', 'replace', ...guardRouteArgs(subnet)]);
}

interface RouteEntry {
  dst?: string;
  dev?: string;
  type?: string;
  metric?: number;
}

/**
 * Refuses lab subnets that overlap a network the machine already uses (its LAN, a VPN, docker's):
 * the lab would hide it, or leak into it.
 */
export async function checkSubnetsFree(subnets: readonly Subnet[]): Promise<void> {
  const { stdout } = await run('ip', ['-j', '-4', 'route', 'show', 'table', 'main']);
  const routes = JSON.parse(stdout || '[]') as RouteEntry[];
  for (const route of routes) {
    if (route.dst === undefined || route.dst === 'default') continue;
    if (route.type === 'unreachable' && route.metric === GUARD_ROUTE_METRIC) continue;
    if (route.dev?.startsWith(LAB_PREFIX)) continue;
    const cidr = parseCidr(route.dst.includes('/') ? route.dst : `${route.dst}/32`);
    if (cidr === undefined) continue;
    const used = subnetOf(cidr.address, cidr.prefix);
    for (const subnet of subnets) {
      if (overlaps(used, subnet)) {
        throw new UserError(
          `the lab subnet ${formatSubnet(subnet)} overlaps ${route.dst}, which this machine already routes${route.dev ? ` via ${route.dev}` : ''}`,
          {},
          "give the lab hosts addresses in a subnet this machine does not use (change 'address' and 'lab.eth1' in the inventory)",
        );
      }
    }
  }
}

export function linkExists(name: string): boolean {
  return existsSync(`/sys/class/net/${name}`);
}

async function writeSysctl(file: string, value: string): Promise<void> {
  await writeFile(file, value);
}

/** Disables IPv6 on a machine-side link (bridge ports and bridges carry no machine addresses). */
export async function disableIpv6(link: string): Promise<void> {
  await writeSysctl(`/proc/sys/net/ipv6/conf/${link}/disable_ipv6`, '1');
}

/** Creates a bridge with the machine's address (.1) on it; the caller has recorded the link. */
export async function createBridge(bridge: LabBridge): Promise<void> {
  if (!linkExists(bridge.name)) await run('ip', ['link', 'add', bridge.name, 'address', labMacAddress(`bridge/${formatSubnet(bridge.subnet)}`), 'type', 'bridge']);
  await writeSysctl(`/proc/sys/net/ipv4/conf/${bridge.name}/forwarding`, '0');
  await disableIpv6(bridge.name);
  await run('ip', ['-batch', '-'], {
    input: `addr replace ${bridge.address}/${bridge.subnet.prefix} dev ${bridge.name}\nlink set ${bridge.name} up\n`,
  });
}

export interface FirewallFacts {
  /** br_netfilter hands bridged frames to iptables (bridge-nf-call-iptables = 1) */
  bridgedToIptables: boolean;
  forwardPolicy?: string;
  inputPolicy?: string;
}

type FirewallRule = Extract<LabResource, { type: 'iptables' }>;

/**
 * iptables rules that let the lab's traffic pass a firewall that drops by default (with
 * br_netfilter, bridged frames between hosts traverse FORWARD; hosts fetching packages from the
 * mirror traverse INPUT). None when the chains accept by default, as on a plain machine.
 */
export function firewallOpeningsFor(facts: FirewallFacts, bridges: readonly LabBridge[], mirrorPort: number): FirewallRule[] {
  const openings: FirewallRule[] = [];
  const comment = ['-m', 'comment', '--comment', FIREWALL_COMMENT];
  if (facts.bridgedToIptables && facts.forwardPolicy !== undefined && facts.forwardPolicy !== 'ACCEPT') {
    for (const bridge of bridges) openings.push({ type: 'iptables', table: 'filter', chain: 'FORWARD', rule: ['-i', bridge.name, '-o', bridge.name, ...comment, '-j', 'ACCEPT'] });
  }
  if (facts.inputPolicy !== undefined && facts.inputPolicy !== 'ACCEPT') {
    for (const bridge of bridges) {
      openings.push({ type: 'iptables', table: 'filter', chain: 'INPUT', rule: ['-i', bridge.name, '-p', 'tcp', '--dport', String(mirrorPort), ...comment, '-j', 'ACCEPT'] });
    }
  }
  return openings;
}

/** The openings this machine's firewall needs (none without iptables). */
export async function firewallOpenings(bridges: readonly LabBridge[], mirrorPort: number): Promise<FirewallRule[]> {
  if (!(await hasIptables())) return [];
  const bridgedToIptables = (await readFile('/proc/sys/net/bridge/bridge-nf-call-iptables', 'utf8').catch(() => '0')).trim() === '1';
  return firewallOpeningsFor({ bridgedToIptables, forwardPolicy: await chainPolicy('FORWARD'), inputPolicy: await chainPolicy('INPUT') }, bridges, mirrorPort);
}

export async function hasIptables(): Promise<boolean> {
  return (await tryRun('iptables', ['-w', '5', '-S', 'INPUT'], { timeoutMs: 10_000 }).catch(() => undefined))?.exitCode === 0;
}

async function chainPolicy(chain: string): Promise<string | undefined> {
  const { stdout } = await run('iptables', ['-w', '5', '-S', chain], { timeoutMs: 10_000 });
  return new RegExp(`^-P ${chain} (\\S+)`, 'm').exec(stdout)?.[1];
}

export async function insertFirewallRule(rule: FirewallRule): Promise<void> {
  await run('iptables', ['-w', '5', '-t', rule.table, '-I', rule.chain, ...rule.rule], { timeoutMs: 10_000 });
}

/** Inserts the rule unless the firewall has it already (`lab up` of a lab that is up). */
export async function ensureFirewallRule(rule: FirewallRule): Promise<void> {
  const present = await tryRun('iptables', ['-w', '5', '-t', rule.table, '-C', rule.chain, ...rule.rule], { timeoutMs: 10_000 });
  if (present.exitCode !== 0) await insertFirewallRule(rule);
}

export async function deleteFirewallRule(rule: FirewallRule): Promise<void> {
  const base = ['-w', '5', '-t', rule.table];
  // -C fails when the rule is gone; delete every copy (bounded by the rules present).
  for (let copies = 0; copies < 100; copies++) {
    if ((await tryRun('iptables', [...base, '-C', rule.chain, ...rule.rule], { timeoutMs: 10_000 })).exitCode !== 0) return;
    await run('iptables', [...base, '-D', rule.chain, ...rule.rule], { timeoutMs: 10_000 });
  }
}

/** Rules carrying the lab's comment in the filter table (found by `lab down` without a state file). */
export async function labFirewallRules(): Promise<FirewallRule[]> {
  if (!(await hasIptables())) return [];
  const { stdout } = await run('iptables', ['-w', '5', '-t', 'filter', '-S'], { timeoutMs: 10_000 });
  const rules: FirewallRule[] = [];
  for (const line of stdout.split('\n')) {
    if (!line.startsWith('-A ') || !line.includes(FIREWALL_COMMENT)) continue;
    const words = splitRule(line);
    const [, chain, ...rule] = words;
    if (chain !== undefined) rules.push({ type: 'iptables', table: 'filter', chain, rule });
  }
  return rules;
}

/** Splits an `iptables -S` line into words; double-quoted words (the comment) stay whole. */
export function splitRule(line: string): string[] {
  const words: string[] = [];
  for (const match of line.matchAll(/"((?:[^"\\]|\\.)*)"|(\S+)/g)) words.push(match[1] !== undefined ? match[1].replace(/\\(.)/g, '$1') : match[2]!);
  return words;
}

/** Names of the machine's links and network namespaces that carry the lab prefix. */
export async function labLinks(): Promise<string[]> {
  // Without ip, there is nothing the lab made with it (lab up installs it before it makes anything).
  if (!(await hasCommand('ip'))) return [];
  const { stdout } = await run('ip', ['-o', 'link', 'show']);
  const names: string[] = [];
  for (const line of stdout.split('\n')) {
    const name = /^\d+:\s+([^:@\s]+)/.exec(line)?.[1];
    if (name?.startsWith(LAB_PREFIX)) names.push(name);
  }
  return names;
}

export async function labNetnses(): Promise<string[]> {
  if (!(await hasCommand('ip'))) return [];
  const { stdout } = await run('ip', ['netns', 'list']);
  return stdout
    .split('\n')
    .map((line) => line.split(/\s+/)[0] ?? '')
    .filter((name) => name.startsWith(`${LAB_PREFIX}-`));
}
