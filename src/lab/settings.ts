// The lab settings of an inventory host (`lab:`), checked here because the inventory keeps them
// free-form, and the lab's addressing plan derived from them: which host sits on which bridge.
//
//   web1:
//     address: 10.213.2.252        # eth0, on the bridge of 10.213.2.0/24 (prefix from lab.prefix, default 24)
//     lab:
//       kind: namespace            # or vm, container
//       eth1: 10.213.1.250/24      # optional second interface, on a second bridge
import { Type, type Static } from '@sinclair/typebox';
import { Ajv, type ErrorObject } from 'ajv';
import { UserError } from '../core/errors.ts';
import type { Inventory, InventoryHost } from '../inventory/model.ts';
import { throwProblems } from '../inventory/problems.ts';
import { didYouMean } from '../inventory/suggest.ts';
import { bridgeAddress, broadcastAddress, formatAddress, formatSubnet, overlaps, parseCidr, sameSubnet, subnetOf, type Subnet } from './ipv4.ts';
import { bridgeName } from './naming.ts';

export const LAB_KINDS = ['namespace', 'vm', 'container'] as const;
export type LabKind = (typeof LAB_KINDS)[number];

const DEFAULT_PREFIX = 24;
const CIDR_PATTERN = '^\\d{1,3}(\\.\\d{1,3}){3}/\\d{1,2}$';

export const LabSettings = Type.Object(
  {
    kind: Type.Unsafe<LabKind>({ type: 'string', enum: [...LAB_KINDS] }),
    prefix: Type.Optional(Type.Integer({ minimum: 8, maximum: 30 })),
    eth1: Type.Optional(Type.String({ pattern: CIDR_PATTERN })),
  },
  { additionalProperties: false },
);
export type LabSettings = Static<typeof LabSettings>;

/** How each setting is described when it is wrong. */
const EXPECTED: Record<string, string> = {
  kind: `one of ${LAB_KINDS.join(', ')}`,
  prefix: "the prefix length of eth0's subnet, an integer 8-30",
  eth1: "eth1's address with its prefix length, like 10.213.1.250/24",
};

const ajv = new Ajv({ allErrors: true, strict: true });
const validateSettings = ajv.compile(LabSettings);

export interface LabInterface {
  /** the interface name inside the host */
  name: 'eth0' | 'eth1';
  address: string;
  prefix: number;
  subnet: Subnet;
  /** the machine-side bridge this interface is plugged into */
  bridge: string;
}

export interface LabHost {
  name: string;
  kind: LabKind;
  /** position among the inventory's lab hosts; names the host's links (interface names are short) */
  index: number;
  /** eth0 first */
  interfaces: LabInterface[];
  /** the port sshd listens on (the inventory's `port`) */
  sshPort: number;
  /** the inventory's private key for this host; unset means the lab key */
  key?: string;
}

export interface LabBridge {
  /** the Linux bridge on the machine */
  name: string;
  subnet: Subnet;
  /** the machine's address on the bridge (the subnet's .1): the hosts reach ssh clients and the package mirror there */
  address: string;
}

export interface LabPlan {
  hosts: LabHost[];
  bridges: LabBridge[];
}

/** The hosts of the inventory that have `lab:` settings, checked, with the bridges they need. */
export function planLab(inventory: Inventory): LabPlan {
  const problems: UserError[] = [];
  const drafts: { host: InventoryHost; settings: LabSettings; interfaces: Omit<LabInterface, 'bridge'>[] }[] = [];
  for (const host of inventory.hosts.values()) {
    if (host.lab === undefined) continue;
    const before = problems.length;
    const settings = checkSettings(host, problems);
    if (settings === undefined) continue;
    checkHostName(host, problems);
    if (host.user !== 'root') {
      problems.push(hostProblem(host, `lab hosts log in as root, but its user is '${host.user}'`, "remove 'user:' from the host, or set it to root"));
    }
    const eth0 = checkInterface(host, 'eth0', `address ${JSON.stringify(host.address)}`, `${host.address}/${settings.prefix ?? DEFAULT_PREFIX}`, problems);
    const eth1 = settings.eth1 === undefined ? undefined : checkInterface(host, 'eth1', `lab.eth1 ${JSON.stringify(settings.eth1)}`, settings.eth1, problems);
    if (eth0 && eth1 && sameSubnet(eth0.subnet, eth1.subnet)) {
      problems.push(hostProblem(host, `eth0 and eth1 are both in ${formatSubnet(eth0.subnet)}`, 'give eth1 an address in another subnet (the tutorials use a separate heartbeat link)'));
    }
    if (problems.length === before && eth0) drafts.push({ host, settings, interfaces: eth1 ? [eth0, eth1] : [eth0] });
  }
  if (problems.length === 0 && drafts.length === 0) {
    throw new UserError(
      `the inventory ${inventory.file} has no lab hosts`,
      { file: inventory.file },
      "mark the hosts the lab should create with 'lab: { kind: namespace }' (see inventory/lab.yaml)",
    );
  }

  // Each subnet gets one bridge, named in order of first appearance (eth0 subnets first).
  const bridges: LabBridge[] = [];
  const bridgeFor = (subnet: Subnet): LabBridge => {
    let bridge = bridges.find((candidate) => sameSubnet(candidate.subnet, subnet));
    if (bridge === undefined) {
      bridge = { name: bridgeName(bridges.length), subnet, address: formatAddress(bridgeAddress(subnet)) };
      bridges.push(bridge);
    }
    return bridge;
  };
  for (const slot of [0, 1]) {
    for (const draft of drafts) {
      const iface = draft.interfaces[slot];
      if (iface) bridgeFor(iface.subnet);
    }
  }
  checkSubnetsApart(bridges, drafts.map((draft) => draft.host), problems);
  checkAddressesUnique(drafts, problems);
  throwProblems(problems);

  const hosts = drafts.map(({ host, settings, interfaces }, index): LabHost => ({
    name: host.name,
    kind: settings.kind,
    index,
    interfaces: interfaces.map((iface) => ({ ...iface, bridge: bridgeFor(iface.subnet).name })),
    sshPort: host.port,
    ...(host.key === undefined ? {} : { key: host.key }),
  }));
  return { hosts, bridges };
}

function checkSettings(host: InventoryHost, problems: UserError[]): LabSettings | undefined {
  if (validateSettings(host.lab)) return host.lab as LabSettings;
  for (const error of validateSettings.errors ?? []) problems.push(settingsProblem(host, error));
  return undefined;
}

function settingsProblem(host: InventoryHost, error: ErrorObject): UserError {
  const allowed = Object.keys(EXPECTED);
  if (error.keyword === 'additionalProperties') {
    const key = String((error.params as { additionalProperty: string }).additionalProperty);
    return hostProblem(host, `unknown lab setting '${key}'${didYouMean(key, allowed)}`, `lab settings: ${allowed.join(', ')}`);
  }
  if (error.keyword === 'required') {
    const key = String((error.params as { missingProperty: string }).missingProperty);
    return hostProblem(host, `its lab settings have no '${key}'`, `add 'lab.${key}:' with ${EXPECTED[key] ?? 'a value'}`);
  }
  const key = error.instancePath.slice(1).split('/')[0] ?? '';
  if (key === '') return hostProblem(host, "'lab:' must be a mapping of lab settings", `lab settings: ${allowed.join(', ')}`);
  const value = (host.lab ?? {})[key];
  const shown = typeof value === 'string' ? JSON.stringify(value) : String(value);
  const suggestion = key === 'kind' && typeof value === 'string' ? didYouMean(value, LAB_KINDS) : '';
  return hostProblem(host, `lab.${key}: expected ${EXPECTED[key] ?? error.message ?? 'another value'}, got ${shown}${suggestion}`);
}

// The name becomes the host's hostname (`uname -n`, which heartbeat matches) and part of its network
// namespace's name, so it must be a valid hostname.
const HOSTNAME = /^(?=.{1,63}$)[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/;

function checkHostName(host: InventoryHost, problems: UserError[]): void {
  if (!HOSTNAME.test(host.name)) {
    problems.push(hostProblem(host, `'${host.name}' cannot be a lab host's hostname`, 'name lab hosts with letters, digits, dots and hyphens (at most 63 characters)'));
  }
}

/** `setting` names the value in messages: 'address "10.213.2.252"' or 'lab.eth1 "10.213.1.250/24"'. */
function checkInterface(host: InventoryHost, name: 'eth0' | 'eth1', setting: string, cidr: string, problems: UserError[]): Omit<LabInterface, 'bridge'> | undefined {
  const parsed = parseCidr(cidr);
  if (parsed === undefined) {
    const hint = name === 'eth0' ? "a lab host's 'address' is its eth0 IPv4 address, like 10.213.2.252 (its prefix length is lab.prefix)" : `give ${EXPECTED.eth1}`;
    problems.push(hostProblem(host, `${setting} is not an IPv4 address`, hint));
    return undefined;
  }
  const subnet = subnetOf(parsed.address, parsed.prefix);
  const first = subnet.network >>> 24;
  if (first === 0 || first === 127 || first >= 224) {
    problems.push(hostProblem(host, `${setting} is not usable for a lab (loopback, multicast or reserved)`, 'use a private subnet, like 10.213.2.0/24'));
    return undefined;
  }
  const reserved = [
    [subnet.network, 'the network address'],
    [broadcastAddress(subnet), 'the broadcast address'],
    [bridgeAddress(subnet), "the machine's address on the lab bridge"],
  ] as const;
  for (const [address, what] of reserved) {
    if (parsed.address === address) {
      problems.push(hostProblem(host, `${setting} is ${what} of ${formatSubnet(subnet)}`, `give the host another address (.1 of every lab subnet is the machine's)`));
      return undefined;
    }
  }
  return { name, address: formatAddress(parsed.address), prefix: parsed.prefix, subnet };
}

/** Two different subnets that overlap (10.213.0.0/16 and 10.213.2.0/24) cannot both have a bridge. */
function checkSubnetsApart(bridges: readonly LabBridge[], hosts: readonly InventoryHost[], problems: UserError[]): void {
  for (const [i, a] of bridges.entries()) {
    for (const b of bridges.slice(i + 1)) {
      if (overlaps(a.subnet, b.subnet)) {
        const where = hosts[0] === undefined ? {} : { file: hosts[0].source.file };
        problems.push(new UserError(`lab subnets ${formatSubnet(a.subnet)} and ${formatSubnet(b.subnet)} overlap`, where, 'give every lab host in one subnet the same prefix length, and keep subnets apart'));
      }
    }
  }
}

function checkAddressesUnique(drafts: readonly { host: InventoryHost; interfaces: readonly Omit<LabInterface, 'bridge'>[] }[], problems: UserError[]): void {
  const owner = new Map<string, string>();
  for (const { host, interfaces } of drafts) {
    for (const iface of interfaces) {
      const other = owner.get(iface.address);
      if (other === undefined) owner.set(iface.address, host.name);
      else problems.push(hostProblem(host, `${iface.name}'s address ${iface.address} is also used by ${other}`, 'give every lab host its own addresses'));
    }
  }
}

function hostProblem(host: InventoryHost, message: string, hint?: string): UserError {
  return new UserError(message, { file: host.source.file, line: host.source.line, host: host.name }, hint);
}

/** The subnets the lab uses: each gets a guard route before anything is sent. */
export function labSubnets(plan: LabPlan): Subnet[] {
  return plan.bridges.map((bridge) => bridge.subnet);
}
