// The cluster as every role reads it (`ctx.cluster`): the `cluster:` section of the inventory
// (schema.ts) with every default applied and every address filled in, plus small derived helpers.
// It keeps the file's key names and list orders, so a key path into the model is also a key path
// into the file (lint findings point at file:line through it).
//
// Resolution (resolveCluster) happens once, at inventory load, after the schema and the
// cross-references (directors and real servers name inventory hosts) have been checked.
import { formatAddress, parseAddress, subnetOf } from '../lab/ipv4.ts';
import type {
  ARP_METHODS,
  AUTH_METHODS,
  AUTO_FAILBACK,
  ClusterFile,
  FIREWALL_KINDS,
  FORWARDING_METHODS,
  HealthCheck,
  KEEPALIVED_CHECKS,
  LDIRECTORD_CHECKTYPES,
  LDIRECTORD_SERVICES,
  MANAGERS,
  PERL_MODULE_SOURCES,
  PIRANHA_DEBUG_LEVELS,
  PROTOCOLS,
  RESOURCE_AGENTS,
  SCHEDULERS,
  SOURCE_COMPONENTS,
  VRRP_AUTH_TYPES,
  VRRP_STATES,
} from './schema.ts';

export type Manager = (typeof MANAGERS)[number];
export type Protocol = (typeof PROTOCOLS)[number];
export type Scheduler = (typeof SCHEDULERS)[number];
export type Forwarding = (typeof FORWARDING_METHODS)[number];
export type LdirectordCheckType = (typeof LDIRECTORD_CHECKTYPES)[number];
export type LdirectordService = (typeof LDIRECTORD_SERVICES)[number];
export type KeepalivedCheckType = (typeof KEEPALIVED_CHECKS)[number];
export type AuthMethod = (typeof AUTH_METHODS)[number];
export type AutoFailback = (typeof AUTO_FAILBACK)[number];
export type ResourceAgent = (typeof RESOURCE_AGENTS)[number];
export type VrrpAuthType = (typeof VRRP_AUTH_TYPES)[number];
export type VrrpState = (typeof VRRP_STATES)[number];
export type ArpMethod = (typeof ARP_METHODS)[number];
export type SourceComponent = (typeof SOURCE_COMPONENTS)[number];
export type FirewallKind = (typeof FIREWALL_KINDS)[number];
export type PiranhaDebugLevel = (typeof PIRANHA_DEBUG_LEVELS)[number];
export type { HealthCheck } from './schema.ts';

/** Who programs the IPVS table of a cluster (exactly one, see the lint rule ipvs-single-owner). */
export type IpvsOwner = 'ldirectord' | 'keepalived' | 'piranha' | 'ipvsadm-at-boot';

export interface RealServer {
  /** the inventory host, when provision manages the server */
  host?: string;
  /** its address on the service network */
  address: string;
  /** always set, except for a fwmark service whose entry gives no port (the client's port is kept) */
  port?: number;
  weight: number;
  /** piranha's server name: the host name, else the address */
  name: string;
}

export interface VirtualService {
  /** <protocol>_<vip>_<port> (or fwmark_<mark>) unless the file names it */
  name: string;
  vip: string;
  vip_prefix: number;
  /** the director interface that holds the VIP */
  interface: string;
  protocol: Protocol;
  /** set for protocol fwmark only */
  fwmark?: number;
  /** always set for tcp and udp; optional for fwmark */
  port?: number;
  scheduler: Scheduler;
  persistence?: { timeout: number; netmask: string };
  forwarding: Forwarding;
  realservers: RealServer[];
  fallback?: { address: string; port?: number };
  /** the user's check settings as written; ldirectordCheck/keepalivedCheck/piranhaCheck add the defaults */
  check: HealthCheck;
}

export interface UcastPath {
  interface: string;
  /** every director's address on that link */
  addresses: Record<string, string>;
}

export interface McastPath {
  interface: string;
  group: string;
  port: number;
  ttl: number;
  loop: boolean;
}

export interface HeartbeatSettings {
  ucast: UcastPath[];
  bcast: string[];
  mcast: McastPath[];
  serial: { device: string; baud: string }[];
  keepalive: number;
  deadtime: number;
  warntime: number;
  initdead: number;
  udpport: number;
  auto_failback: AutoFailback;
  ping: string[];
  ping_group?: { name: string; addresses: string[] };
  ipfail: boolean;
  logging: { logfile?: string; debugfile?: string; logfacility?: string };
  authkeys: { method: AuthMethod; key?: string; allow_crc: boolean };
  resource_agent: ResourceAgent;
  lvs_sync_daemon: boolean;
  /** further haresources after the VIP (and ldirectord) */
  resources: string[];
  /** every director's node name (its `uname -n`): the inventory name unless the file says otherwise */
  node_names: Record<string, string>;
}

export interface LdirectordSettings {
  /** false: heartbeat moves the VIP only; the IPVS rules are restored at boot (ipvs_rules_at_boot) */
  enabled: boolean;
  checkinterval: number;
  checktimeout: number;
  quiescent: boolean;
  autoreload: boolean;
  logfile: string;
  emailalert?: string;
}

export interface KeepalivedSettings {
  instance: string;
  interface: string;
  virtual_router_id: number;
  /** every director's priority */
  priority: Record<string, number>;
  /** every director's initial state */
  state: Record<string, VrrpState>;
  advert_int: number;
  auth?: { type: VrrpAuthType; pass: string };
  unicast: boolean;
  nopreempt: boolean;
  router_id?: string;
  notification_email?: { to: string[]; from: string; smtp_server: string; smtp_connect_timeout: number };
}

export interface PiranhaSettings {
  backup_active: boolean;
  heartbeat_port: number;
  keepalive: number;
  deadtime: number;
  debug_level: PiranhaDebugLevel;
  rsh_command: 'ssh' | 'rsh';
}

export interface RealServerSettings {
  arp: ArpMethod;
  arp_interfaces: string[];
  loopback_alias: string;
  /** the real servers' default gateway: nat.gateway when a service uses NAT, else network.gateway (if any) */
  gateway?: string;
  services: string[];
  document_root: string;
  check_page: boolean;
}

export type ComponentInstall =
  | { from: 'packages' }
  | { from: 'source'; url: string; sha256: string; version?: string; configure_args: string[] };

export interface PerlModulesInstall {
  from: (typeof PERL_MODULE_SOURCES)[number];
  modules: { name: string; url: string; sha256: string }[];
}

export type InstallSettings = Record<SourceComponent, ComponentInstall> & { perl_modules: PerlModulesInstall };

export interface Cluster {
  name: string;
  manager: Manager;
  /** inventory host names, the primary first */
  directors: string[];
  /** every cluster host (directors, then real server hosts) -> its address on the cluster network */
  addresses: Record<string, string>;
  network: { interface: string; prefix: number; gateway?: string };
  nat?: { interface: string; gateway: string; prefix: number };
  ip_forward: boolean;
  ipvs_rules_at_boot: boolean;
  virtual_services: VirtualService[];
  /** set when manager is heartbeat */
  heartbeat?: HeartbeatSettings;
  /** set when manager is heartbeat */
  ldirectord?: LdirectordSettings;
  /** set when manager is keepalived */
  keepalived?: KeepalivedSettings;
  /** set when manager is piranha */
  piranha?: PiranhaSettings;
  realserver: RealServerSettings;
  install: InstallSettings;
  firewall: { manage: boolean; kind: FirewallKind };
}

// --- derived helpers ------------------------------------------------------------------------------

export const primaryDirector = (cluster: Cluster): string => cluster.directors[0] as string;
/** The second director, if there is one. */
export const backupDirector = (cluster: Cluster): string | undefined => cluster.directors[1];
export const isDirector = (cluster: Cluster, host: string): boolean => cluster.directors.includes(host);

/** Inventory hosts that serve at least one virtual service, in order of first appearance. */
export function realServerHosts(cluster: Cluster): string[] {
  const hosts = new Set<string>();
  for (const service of cluster.virtual_services) for (const server of service.realservers) if (server.host !== undefined) hosts.add(server.host);
  return [...hosts];
}

export const isRealServer = (cluster: Cluster, host: string): boolean => realServerHosts(cluster).includes(host);

/** Directors, then real server hosts that are not directors: every host the cluster roles configure. */
export function clusterHosts(cluster: Cluster): string[] {
  return [...new Set([...cluster.directors, ...realServerHosts(cluster)])];
}

/** The virtual services `host` is a real server of. */
export function servicesOf(cluster: Cluster, host: string): VirtualService[] {
  return cluster.virtual_services.filter((service) => service.realservers.some((server) => server.host === host));
}

/** The distinct VIPs with the interface and prefix the directors hold them on, in order. */
export function vipsOf(cluster: Cluster): { vip: string; prefix: number; interface: string }[] {
  const seen = new Map<string, { vip: string; prefix: number; interface: string }>();
  for (const service of cluster.virtual_services) if (!seen.has(service.vip)) seen.set(service.vip, { vip: service.vip, prefix: service.vip_prefix, interface: service.interface });
  return [...seen.values()];
}

export const usesForwarding = (cluster: Cluster, forwarding: Forwarding): boolean => cluster.virtual_services.some((service) => service.forwarding === forwarding);

/** Who programs the IPVS table given the manager alone (ipvs_rules_at_boot may add a second owner: lint refuses that). */
export function ipvsOwner(cluster: Cluster): IpvsOwner {
  switch (cluster.manager) {
    case 'heartbeat':
      return cluster.ldirectord?.enabled === false ? 'ipvsadm-at-boot' : 'ldirectord';
    case 'keepalived':
      return 'keepalived';
    case 'piranha':
      return 'piranha';
    case 'none':
      return 'ipvsadm-at-boot';
  }
}

/** The heartbeat node name (`uname -n`) of a director. */
export function heartbeatNodeName(cluster: Cluster, director: string): string {
  return cluster.heartbeat?.node_names[director] ?? director;
}

/** The heartbeat node names of the directors, the primary first (ha.cf `node` lines; haresources' owner is the first). */
export function heartbeatNodes(cluster: Cluster): string[] {
  return cluster.directors.map((director) => heartbeatNodeName(cluster, director));
}

/** "tcp 192.168.2.254:80", "fwmark 1": how messages and IPVS name a virtual service. */
export function serviceKey(service: Pick<VirtualService, 'protocol' | 'vip' | 'port' | 'fwmark'>): string {
  return service.protocol === 'fwmark' ? `fwmark ${service.fwmark ?? '?'}` : `${service.protocol} ${service.vip}:${service.port ?? '?'}`;
}

/** The forwarding method in each program's words. */
export const FORWARDING_WORDS: Record<Forwarding, { ipvsadm: string; ldirectord: string; keepalived: string; piranha: string; ipvsadmList: string }> = {
  dr: { ipvsadm: '-g', ldirectord: 'gate', keepalived: 'DR', piranha: 'direct', ipvsadmList: 'Route' },
  nat: { ipvsadm: '-m', ldirectord: 'masq', keepalived: 'NAT', piranha: 'nat', ipvsadmList: 'Masq' },
  tun: { ipvsadm: '-i', ldirectord: 'ipip', keepalived: 'TUN', piranha: 'tunnel', ipvsadmList: 'Tunnel' },
};

/** Schedulers that take real server weights into account (rr, lc and dh ignore them). */
export const WEIGHTED_SCHEDULERS: ReadonlySet<Scheduler> = new Set(['wrr', 'wlc', 'lblc', 'lblcr', 'sh', 'sed', 'nq']);

/** 24 -> "255.255.255.0" */
export function prefixToNetmask(prefix: number): string {
  return formatAddress(prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0);
}

/** "255.255.255.0" -> 24; undefined when the mask's bits are not contiguous. */
export function netmaskToPrefix(netmask: string): number | undefined {
  const value = parseAddress(netmask);
  if (value === undefined) return undefined;
  for (let prefix = 0; prefix <= 32; prefix++) if (prefixToNetmask(prefix) === netmask) return prefix;
  return undefined;
}

/** The network address of `address/prefix` ("192.168.2.0"), or undefined when `address` is not IPv4. */
export function networkOf(address: string, prefix: number): string | undefined {
  const value = parseAddress(address);
  return value === undefined ? undefined : formatAddress(subnetOf(value, prefix).network);
}

export function sameNetwork(a: string, b: string, prefix: number): boolean {
  const left = networkOf(a, prefix);
  return left !== undefined && left === networkOf(b, prefix);
}

// --- checks with their defaults --------------------------------------------------------------------

const WELL_KNOWN_SERVICES: Partial<Record<number, LdirectordService>> = { 21: 'ftp', 25: 'smtp', 53: 'dns', 80: 'http', 110: 'pop', 143: 'imap', 389: 'ldap', 443: 'https', 3306: 'mysql', 5432: 'pgsql' };

export interface LdirectordCheck {
  checktype: LdirectordCheckType;
  /** the protocol ldirectord negotiates: set by the user, else from the port (80 http, 443 https...), else none */
  service: LdirectordService;
  request?: string;
  receive?: string;
  virtualhost?: string;
  checkport?: number;
  checkinterval: number;
  checktimeout: number;
  negotiatetimeout?: number;
  quiescent: boolean;
}

/** ldirectord's check of a service: negotiate when a request is given, else connect; globals from `ldirectord:`. */
export function ldirectordCheck(cluster: Cluster, service: VirtualService): LdirectordCheck {
  const { check } = service;
  const globals = cluster.ldirectord ?? DEFAULT_LDIRECTORD;
  const port = check.checkport ?? service.port;
  return {
    checktype: check.checktype ?? (check.request !== undefined ? 'negotiate' : 'connect'),
    service: check.service ?? (port === undefined ? 'none' : (WELL_KNOWN_SERVICES[port] ?? 'none')),
    ...pick(check, ['request', 'receive', 'virtualhost', 'checkport', 'negotiatetimeout']),
    checkinterval: check.checkinterval ?? globals.checkinterval,
    checktimeout: check.checktimeout ?? globals.checktimeout,
    quiescent: check.quiescent ?? globals.quiescent,
  };
}

/**
 * How long ldirectord waits for one check before it counts as failed: negotiatetimeout for a
 * negotiate check (unset, it falls back to checktimeout, as ldirectord reads it), checktimeout for
 * every other check.
 */
export function ldirectordTimeout(check: LdirectordCheck): number {
  return check.checktype === 'negotiate' ? (check.negotiatetimeout ?? check.checktimeout) : check.checktimeout;
}

export interface KeepalivedCheck {
  type: KeepalivedCheckType;
  url?: { path: string; status_code?: number; digest?: string };
  connect_port?: number;
  connect_timeout: number;
  retry: number;
  delay_before_retry: number;
  delay_loop: number;
  virtualhost?: string;
}

/** keepalived's check of a service: HTTP_GET when a url is given, else TCP_CHECK; the tutorial's timings (3, 3, 3, 6). */
export function keepalivedCheck(service: VirtualService): KeepalivedCheck {
  const { check } = service;
  return {
    type: check.type ?? (check.url !== undefined ? 'HTTP_GET' : 'TCP_CHECK'),
    ...pick(check, ['url', 'connect_port', 'virtualhost']),
    connect_timeout: check.connect_timeout ?? 3,
    retry: check.retry ?? 3,
    delay_before_retry: check.delay_before_retry ?? 3,
    delay_loop: check.delay_loop ?? 6,
  };
}

export interface PiranhaCheck {
  send?: string;
  expect?: string;
  timeout: number;
  reentry: number;
  load_monitor: 'none' | 'uptime' | 'ruptime' | 'rup';
}

/** nanny's check of a service: piranha's defaults (timeout 10, reentry 180, no load monitor). */
export function piranhaCheck(service: VirtualService): PiranhaCheck {
  const { check } = service;
  return { ...pick(check, ['send', 'expect']), timeout: check.timeout ?? 10, reentry: check.reentry ?? 180, load_monitor: check.load_monitor ?? 'none' };
}

/**
 * The page a real server must serve for the service's check, if the check fetches one: its path
 * below the document root, and its content without the final newline (the receive string for
 * ldirectord; "OK" for keepalived, whose url.digest, if used, is the MD5 of "OK\n").
 */
export function checkPage(cluster: Cluster, service: VirtualService): { path: string; content: string } | undefined {
  if (cluster.manager === 'heartbeat') {
    const check = ldirectordCheck(cluster, service);
    if (check.checktype !== 'negotiate' || check.request === undefined) return undefined;
    return { path: check.request.replace(/^\/+/, ''), content: check.receive ?? '' };
  }
  if (cluster.manager === 'keepalived') {
    const url = service.check.url;
    return url === undefined ? undefined : { path: url.path.replace(/^\/+/, ''), content: 'OK' };
  }
  return undefined;
}

function pick<T extends object, K extends keyof T>(object: T, keys: readonly K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const key of keys) if (object[key] !== undefined) out[key] = object[key];
  return out;
}

// --- resolution -----------------------------------------------------------------------------------

const DEFAULT_LDIRECTORD: LdirectordSettings = { enabled: true, checkinterval: 10, checktimeout: 5, quiescent: false, autoreload: false, logfile: '/var/log/ldirectord.log' };

/**
 * The model from a schema-checked `cluster:` section whose host references are known to exist.
 * `hostAddress` gives an inventory host's address (the default cluster address of a host).
 */
export function resolveCluster(file: ClusterFile, hostAddress: (host: string) => string): Cluster {
  const networkPrefix = file.network?.prefix ?? 24;
  const networkInterface = file.network?.interface ?? 'eth0';
  const addressOf = (host: string): string => file.addresses?.[host] ?? hostAddress(host);

  const virtualServices: VirtualService[] = file.virtual_services.map((entry) => {
    const protocol = entry.protocol ?? 'tcp';
    const realservers = entry.realservers.map((server): RealServer => {
      const address = server.address ?? addressOf(server.host as string);
      const port = server.port ?? entry.port;
      return { ...(server.host === undefined ? {} : { host: server.host }), address, ...(port === undefined ? {} : { port }), weight: server.weight ?? 1, name: server.name ?? server.host ?? address };
    });
    return {
      name: entry.name ?? (protocol === 'fwmark' ? `fwmark_${entry.fwmark ?? 0}` : `${protocol}_${entry.vip}_${entry.port ?? 0}`),
      vip: entry.vip,
      vip_prefix: entry.vip_prefix ?? networkPrefix,
      interface: entry.interface ?? networkInterface,
      protocol,
      ...(entry.fwmark === undefined ? {} : { fwmark: entry.fwmark }),
      ...(entry.port === undefined ? {} : { port: entry.port }),
      scheduler: entry.scheduler ?? 'wlc',
      ...(entry.persistence === undefined ? {} : { persistence: { timeout: entry.persistence.timeout, netmask: entry.persistence.netmask ?? '255.255.255.255' } }),
      forwarding: entry.forwarding ?? 'dr',
      realservers,
      ...(entry.fallback === undefined ? {} : { fallback: { address: entry.fallback.address, ...((entry.fallback.port ?? entry.port) === undefined ? {} : { port: entry.fallback.port ?? entry.port }) } }),
      check: entry.check ?? {},
    };
  });

  const directors = [...file.directors];
  const addresses: Record<string, string> = {};
  for (const host of directors) addresses[host] = addressOf(host);
  for (const service of virtualServices) for (const server of service.realservers) if (server.host !== undefined && !(server.host in addresses)) addresses[server.host] = addressOf(server.host);

  const usesNat = virtualServices.some((service) => service.forwarding === 'nat');
  const nat = file.nat === undefined ? undefined : { interface: file.nat.interface, gateway: file.nat.gateway, prefix: file.nat.prefix ?? 24 };
  const ldirectord = file.manager === 'heartbeat' ? { ...DEFAULT_LDIRECTORD, ...definedOnly(file.ldirectord ?? {}) } : undefined;
  const cluster: Cluster = {
    name: file.name,
    manager: file.manager,
    directors,
    addresses,
    network: { interface: networkInterface, prefix: networkPrefix, ...(file.network?.gateway === undefined ? {} : { gateway: file.network.gateway }) },
    ...(nat === undefined ? {} : { nat }),
    ip_forward: file.ip_forward ?? usesNat,
    ipvs_rules_at_boot: file.ipvs_rules_at_boot ?? (file.manager === 'none' || (file.manager === 'heartbeat' && ldirectord?.enabled === false)),
    virtual_services: virtualServices,
    ...(file.manager === 'heartbeat' && file.heartbeat !== undefined ? { heartbeat: resolveHeartbeat(file, directors, addressOf) } : {}),
    ...(ldirectord === undefined ? {} : { ldirectord }),
    ...(file.manager === 'keepalived' && file.keepalived !== undefined ? { keepalived: resolveKeepalived(file, directors, networkInterface) } : {}),
    ...(file.manager === 'piranha' ? { piranha: resolvePiranha(file, directors) } : {}),
    realserver: {
      arp: file.realserver?.arp ?? 'sysctl',
      arp_interfaces: file.realserver?.arp_interfaces ?? [networkInterface],
      loopback_alias: file.realserver?.loopback_alias ?? 'lo:0',
      ...optional('gateway', file.realserver?.gateway ?? (usesNat ? nat?.gateway : file.network?.gateway)),
      services: file.realserver?.services ?? [],
      document_root: file.realserver?.document_root ?? '/var/www/html',
      check_page: file.realserver?.check_page ?? true,
    },
    install: resolveInstall(file),
    firewall: { manage: file.firewall?.manage ?? true, kind: file.firewall?.kind ?? 'auto' },
  };
  return cluster;
}

function resolveHeartbeat(file: ClusterFile, directors: string[], addressOf: (host: string) => string): HeartbeatSettings {
  const hb = file.heartbeat!;
  const udpport = hb.udpport ?? 694;
  const perDirector = <T>(given: Record<string, T> | undefined, fallback: (host: string) => T): Record<string, T> =>
    Object.fromEntries(directors.map((host) => [host, given?.[host] ?? fallback(host)]));
  return {
    ucast: (hb.ucast ?? []).map((path) => ({ interface: path.interface, addresses: perDirector(path.addresses, addressOf) })),
    bcast: hb.bcast ?? [],
    mcast: (hb.mcast ?? []).map((path) => ({ interface: path.interface, group: path.group, port: path.port ?? udpport, ttl: path.ttl ?? 1, loop: path.loop ?? false })),
    serial: (hb.serial ?? []).map((path) => ({ device: path.device, baud: path.baud ?? '19200' })),
    keepalive: hb.keepalive ?? 2,
    deadtime: hb.deadtime ?? 30,
    warntime: hb.warntime ?? 10,
    initdead: hb.initdead ?? 120,
    udpport,
    auto_failback: hb.auto_failback ?? 'on',
    ping: hb.ping ?? [],
    ...(hb.ping_group === undefined ? {} : { ping_group: { name: hb.ping_group.name, addresses: [...hb.ping_group.addresses] } }),
    ipfail: hb.ipfail ?? false,
    logging: hb.logging ?? { logfile: '/var/log/ha-log', logfacility: 'local0' },
    authkeys: { method: hb.authkeys.method ?? 'sha1', ...optional('key', hb.authkeys.key), allow_crc: hb.authkeys.allow_crc ?? false },
    resource_agent: hb.resource_agent ?? 'IPaddr2',
    lvs_sync_daemon: hb.lvs_sync_daemon ?? false,
    resources: hb.resources ?? [],
    node_names: perDirector(hb.node_names, (host) => host),
  };
}

function resolveKeepalived(file: ClusterFile, directors: string[], networkInterface: string): KeepalivedSettings {
  const ka = file.keepalived!;
  const defaultPriority = (index: number) => Math.max(1, 100 - 50 * index);
  return {
    instance: ka.instance ?? 'VI_1',
    interface: ka.interface ?? networkInterface,
    virtual_router_id: ka.virtual_router_id,
    priority: Object.fromEntries(directors.map((host, index) => [host, ka.priority?.[host] ?? defaultPriority(index)])),
    state: Object.fromEntries(directors.map((host, index) => [host, ka.state?.[host] ?? (index === 0 ? 'MASTER' : 'BACKUP')])),
    advert_int: ka.advert_int ?? 1,
    ...(ka.auth === undefined ? {} : { auth: { type: ka.auth.type ?? 'PASS', pass: ka.auth.pass } }),
    unicast: ka.unicast ?? false,
    nopreempt: ka.nopreempt ?? false,
    ...optional('router_id', ka.router_id),
    ...(ka.notification_email === undefined
      ? {}
      : { notification_email: { ...ka.notification_email, to: [...ka.notification_email.to], smtp_connect_timeout: ka.notification_email.smtp_connect_timeout ?? 30 } }),
  };
}

function resolvePiranha(file: ClusterFile, directors: string[]): PiranhaSettings {
  const p = file.piranha ?? {};
  return {
    backup_active: p.backup_active ?? directors.length > 1,
    heartbeat_port: p.heartbeat_port ?? 539,
    keepalive: p.keepalive ?? 2,
    deadtime: p.deadtime ?? 5,
    debug_level: p.debug_level ?? 'NONE',
    rsh_command: p.rsh_command ?? 'ssh',
  };
}

function resolveInstall(file: ClusterFile): InstallSettings {
  const install = file.install ?? {};
  const component = (name: SourceComponent): ComponentInstall => {
    const entry = install[name];
    if (entry?.from !== 'source') return { from: 'packages' };
    // The loader has checked that a source install has both.
    return { from: 'source', url: entry.url as string, sha256: (entry.sha256 as string).toLowerCase(), ...optional('version', entry.version), configure_args: entry.configure_args ?? [] };
  };
  return {
    libnet: component('libnet'),
    cluster_glue: component('cluster_glue'),
    resource_agents: component('resource_agents'),
    heartbeat: component('heartbeat'),
    ipvsadm: component('ipvsadm'),
    keepalived: component('keepalived'),
    perl_modules: { from: install.perl_modules?.from ?? 'packages', modules: (install.perl_modules?.modules ?? []).map((m) => ({ ...m, sha256: m.sha256.toLowerCase() })) },
  };
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

function definedOnly<T extends object>(object: T): Partial<T> {
  return Object.fromEntries(Object.entries(object).filter(([, value]) => value !== undefined)) as Partial<T>;
}

// --- the model keeps the file's key names --------------------------------------------------------
// (so a key path into the model is a key path into the file: lint findings point at file:line)
type SameKeys<A, B> = [Exclude<keyof A, keyof B>, Exclude<keyof B, keyof A>] extends [never, never] ? true : never;
type NonNullableKeys<T> = NonNullable<T>;
const keysMatch: [
  SameKeys<Cluster, ClusterFile>,
  SameKeys<VirtualService, import('./schema.ts').VirtualService>,
  SameKeys<RealServer, import('./schema.ts').RealServerEntry>,
  SameKeys<HeartbeatSettings, import('./schema.ts').Heartbeat>,
  SameKeys<LdirectordSettings, import('./schema.ts').Ldirectord>,
  SameKeys<KeepalivedSettings, import('./schema.ts').Keepalived>,
  SameKeys<PiranhaSettings, import('./schema.ts').Piranha>,
  SameKeys<RealServerSettings, import('./schema.ts').RealServerSettings>,
  SameKeys<InstallSettings, NonNullableKeys<import('./schema.ts').Install>>,
] = [true, true, true, true, true, true, true, true, true];
void keysMatch;
