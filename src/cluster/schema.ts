// The `cluster:` section of an inventory as the user writes it: the one definition of its JSON
// Schema (checked by ajv, with the inventory's file:line:column error machinery) and of its
// TypeScript types (Static<>). The resolved model every role reads (defaults applied, addresses
// filled in from the inventory) is in model.ts; it keeps these key names and list orders, so a
// key path into the model is also a key path into the file (lint findings point at file:line).
//
// Key names follow the programs' own vocabulary (ha.cf, ldirectord.cf, keepalived.conf, lvs.cf)
// so that a tutorial's settings can be carried over as they are.
import { Type, type Static, type TOptional, type TSchema } from '@sinclair/typebox';
import { NamedMap, StringEnum } from '../inventory/validate.ts';
import {
  ArchiveUrl,
  CheckRequest,
  CheckText,
  ConfigureArgument,
  DevicePath,
  EmailAddress,
  HaResource,
  HostName,
  HostOrAddress,
  InterfaceName,
  Ipv4,
  IPV4_PATTERN,
  NannyText,
  SharedKey,
  SimpleName,
  TargetPath,
  UrlPath,
  VirtualHost,
  VrrpPassword,
} from '../inventory/value-types.ts';


export const MANAGERS = ['heartbeat', 'keepalived', 'piranha', 'none'] as const;
export const PROTOCOLS = ['tcp', 'udp', 'fwmark'] as const;
/** The IPVS schedulers (ipvsadm -s). */
export const SCHEDULERS = ['rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'dh', 'sh', 'sed', 'nq'] as const;
/** dr: direct routing (ipvsadm -g, ldirectord "gate"); nat: masquerading (-m, "masq"); tun: IP-in-IP tunnel (-i, "ipip"). */
export const FORWARDING_METHODS = ['dr', 'nat', 'tun'] as const;
export const LDIRECTORD_CHECKTYPES = ['negotiate', 'connect', 'ping', 'off'] as const;
export const LDIRECTORD_SERVICES = ['http', 'https', 'ftp', 'smtp', 'pop', 'pops', 'imap', 'imaps', 'ldap', 'nntp', 'dns', 'mysql', 'pgsql', 'sip', 'radius', 'simpletcp', 'none'] as const;
export const KEEPALIVED_CHECKS = ['HTTP_GET', 'SSL_GET', 'TCP_CHECK'] as const;
export const AUTH_METHODS = ['sha1', 'md5', 'crc'] as const;
export const AUTO_FAILBACK = ['on', 'off', 'legacy'] as const;
export const RESOURCE_AGENTS = ['IPaddr', 'IPaddr2'] as const;
export const VRRP_AUTH_TYPES = ['PASS', 'AH'] as const;
export const VRRP_STATES = ['MASTER', 'BACKUP'] as const;
export const ARP_METHODS = ['sysctl', 'arptables'] as const;
export const INSTALL_METHODS = ['packages', 'source'] as const;
/** What can be built from source, in dependency order (libnet before cluster-glue before heartbeat). */
export const SOURCE_COMPONENTS = ['libnet', 'cluster_glue', 'resource_agents', 'heartbeat', 'ipvsadm', 'keepalived'] as const;
export const PERL_MODULE_SOURCES = ['packages', 'cpan'] as const;
export const FIREWALL_KINDS = ['auto', 'iptables', 'firewalld'] as const;
export const PIRANHA_DEBUG_LEVELS = ['NONE', 'LOW', 'HIGH'] as const;

// --- scalars ----------------------------------------------------------------------------------

// The grammars of strings (addresses, names, paths, the programs' text values) are in
// src/inventory/value-types.ts, shared with the inventory's schema.
/** A dotted netmask; model.ts checks that its bits are contiguous. */
export const Netmask = Type.String({ pattern: IPV4_PATTERN, expected: 'a netmask in dotted form, e.g. 255.255.255.255' });
export const Prefix = Type.Integer({ minimum: 0, maximum: 32, expected: 'a prefix length 0-32, e.g. 24' });
export const Port = Type.Integer({ minimum: 1, maximum: 65535, expected: 'a port number 1-65535' });
const Seconds = (expected = 'a whole number of seconds, at least 1') => Type.Integer({ minimum: 1, maximum: 86400, expected });
const AbsolutePath = TargetPath;
const ServiceName = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.@-]*$', maxLength: 255, expected: 'a service (init script or unit) name, e.g. httpd' });
const Sha256 = Type.String({ pattern: '^[0-9a-fA-F]{64}$', expected: 'the SHA-256 of the archive: 64 hex digits' });
const Url = ArchiveUrl;

/** A mapping from director (inventory host) names to values. */
const PerDirector = <T extends TSchema>(value: T, expected: string) => NamedMap(HostName, value, { expected });

function Section<T extends Parameters<typeof Type.Object>[0]>(properties: T, expected: string, unknownKeyHint?: string) {
  return Type.Object(properties, { additionalProperties: false, expected, ...(unknownKeyHint === undefined ? {} : { unknownKeyHint }) });
}

// --- virtual services ---------------------------------------------------------------------------

export const RealServerEntry = Section(
  {
    /** an inventory host: provision configures it as a real server (VIP on lo, ARP, check page) */
    host: Type.Optional(HostName),
    /** its address on the service network; default: the host's cluster address. Required without `host` (a server provision does not manage). */
    address: Type.Optional(Ipv4()),
    /** default: the service's port. A different port (port mapping) works only with forwarding nat */
    port: Type.Optional(Port),
    /** default 1; 0 takes the server out of rotation (quiesced) */
    weight: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535, expected: 'a weight 0-65535' })),
    /** piranha's server block name; default: the host name or the address */
    name: Type.Optional(SimpleName('a name of letters, digits, _ . -')),
  },
  'a real server: { host: web1 } (an inventory host) or { address: 192.168.2.252 }, with optional port and weight',
);
export type RealServerEntry = Static<typeof RealServerEntry>;

export const Fallback = Section(
  {
    address: Ipv4('the address of the server used when every real server is down, e.g. 127.0.0.1'),
    /** default: the service's port */
    port: Type.Optional(Port),
  },
  'a fallback server: { address: 127.0.0.1, port: 80 }',
);
export type Fallback = Static<typeof Fallback>;

export const Persistence = Section(
  {
    /** seconds a client sticks to the same real server (ipvsadm -p, ldirectord persistent=, keepalived persistence_timeout) */
    timeout: Seconds('the persistence timeout in seconds, at least 1 (e.g. 600)'),
    /** clients in the same netmask share a real server (ipvsadm -M); default 255.255.255.255 */
    netmask: Type.Optional(Netmask),
  },
  'persistence settings: { timeout: 600, netmask: 255.255.255.255 }',
);
export type Persistence = Static<typeof Persistence>;

export const KeepalivedUrl = Section(
  {
    path: UrlPath,
    status_code: Type.Optional(Type.Integer({ minimum: 100, maximum: 599, expected: 'an HTTP status code, e.g. 200' })),
    /** the MD5 of the page (genhash prints it) */
    digest: Type.Optional(Type.String({ pattern: '^[0-9a-fA-F]{32}$', expected: 'an MD5 digest: 32 hex digits (genhash prints it)' })),
  },
  'the page keepalived fetches: { path: /, status_code: 200 } or { path: /, digest: <md5> }',
);
export type KeepalivedUrl = Static<typeof KeepalivedUrl>;

/**
 * How the manager checks each real server. The keys are the checking program's own: ldirectord's
 * (manager heartbeat), keepalived's, or piranha's nanny; the loader refuses keys of another
 * manager than the cluster's.
 */
export const HealthCheck = Section(
  {
    // ldirectord (ldirectord.cf, per virtual)
    checktype: Type.Optional(StringEnum(LDIRECTORD_CHECKTYPES)),
    service: Type.Optional(StringEnum(LDIRECTORD_SERVICES)),
    /** the page requested from each real server, e.g. lvs_testpage.html (the real server role writes it) */
    request: Type.Optional(CheckRequest),
    /** what the page must contain, e.g. "Test Page" */
    receive: Type.Optional(CheckText),
    virtualhost: Type.Optional(VirtualHost),
    checkport: Type.Optional(Port),
    checkinterval: Type.Optional(Seconds()),
    checktimeout: Type.Optional(Seconds()),
    negotiatetimeout: Type.Optional(Seconds()),
    quiescent: Type.Optional(Type.Boolean()),
    // keepalived (keepalived.conf, per real_server)
    type: Type.Optional(StringEnum(KEEPALIVED_CHECKS)),
    url: Type.Optional(KeepalivedUrl),
    connect_port: Type.Optional(Port),
    connect_timeout: Type.Optional(Seconds()),
    /** retries before a server is taken out (keepalived 1.x: nb_get_retry, 2.x: retry) */
    retry: Type.Optional(Type.Integer({ minimum: 0, maximum: 100, expected: 'a number of retries 0-100' })),
    delay_before_retry: Type.Optional(Seconds()),
    /** seconds between checks (virtual_server delay_loop) */
    delay_loop: Type.Optional(Seconds()),
    // piranha (lvs.cf, per virtual)
    send: Type.Optional(NannyText),
    expect: Type.Optional(NannyText),
    timeout: Type.Optional(Seconds()),
    reentry: Type.Optional(Seconds()),
    load_monitor: Type.Optional(StringEnum(['none', 'uptime', 'ruptime', 'rup'] as const)),
  },
  'health-check settings (ldirectord: checktype, request, receive...; keepalived: type, url...; piranha: send, expect...)',
);
export type HealthCheck = Static<typeof HealthCheck>;

export const VirtualService = Section(
  {
    /** names the service (piranha's virtual block, comments); default <protocol>_<vip>_<port> */
    name: Type.Optional(SimpleName('a name of letters, digits, _ . -')),
    vip: Ipv4('the virtual IP address clients connect to, e.g. 192.168.2.254'),
    /** default: the cluster network's prefix */
    vip_prefix: Type.Optional(Prefix),
    /** the director interface the VIP is added to; default: the cluster network's interface */
    interface: Type.Optional(InterfaceName),
    /** default tcp; fwmark services match packets marked by the firewall with `fwmark` */
    protocol: Type.Optional(StringEnum(PROTOCOLS)),
    fwmark: Type.Optional(Type.Integer({ minimum: 1, maximum: 4294967295, expected: 'a firewall mark, an integer above 0' })),
    /** required for tcp and udp */
    port: Type.Optional(Port),
    /** default wlc (ipvsadm's default) */
    scheduler: Type.Optional(StringEnum(SCHEDULERS)),
    persistence: Type.Optional(Persistence),
    /** default dr */
    forwarding: Type.Optional(StringEnum(FORWARDING_METHODS)),
    realservers: Type.Array(RealServerEntry, { minItems: 1, expected: 'a non-empty list of real servers' }),
    fallback: Type.Optional(Fallback),
    check: Type.Optional(HealthCheck),
  },
  'a virtual service: { vip: 192.168.2.254, port: 80, realservers: [...] }',
);
export type VirtualService = Static<typeof VirtualService>;

// --- networks ---------------------------------------------------------------------------------------

export const Network = Section(
  {
    /** the directors' interface on the VIPs' network; default eth0 */
    interface: Type.Optional(InterfaceName),
    /** prefix length of that network (the VIP's netmask on the director, the L2 checks); default 24 */
    prefix: Type.Optional(Prefix),
    /** the network's router: the default gateway of the directors and of DR/TUN real servers (not of NAT ones) */
    gateway: Type.Optional(Ipv4('the address of the router, e.g. 192.168.2.1')),
  },
  'the network of the VIPs: { interface: eth0, prefix: 24, gateway: 192.168.2.1 }',
);
export type Network = Static<typeof Network>;

export const Nat = Section(
  {
    /** the directors' interface on the real servers' (internal) network, e.g. eth1 */
    interface: InterfaceName,
    /** the floating address on that network the active director holds; the NAT real servers' default gateway */
    gateway: Ipv4('the floating gateway address of the real servers, e.g. 192.168.10.1'),
    /** prefix length of the internal network; default 24 */
    prefix: Type.Optional(Prefix),
  },
  'the NAT side of the directors: { interface: eth1, gateway: 192.168.10.1, prefix: 24 }',
);
export type Nat = Static<typeof Nat>;

// --- heartbeat ----------------------------------------------------------------------------------

export const UcastPath = Section(
  {
    interface: InterfaceName,
    /** each director's address on that link; default: the director's inventory address */
    addresses: Type.Optional(PerDirector(Ipv4(), 'a mapping of director names to their address on this link')),
  },
  'a unicast heartbeat path: { interface: eth1, addresses: { lvs-master: 192.168.1.250, lvs-backup: 192.168.1.251 } }',
);
export type UcastPath = Static<typeof UcastPath>;

export const McastPath = Section(
  {
    interface: InterfaceName,
    group: Type.String({ pattern: '^(22[4-9]|23[0-9])(\\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}$', expected: 'a multicast group 224.0.0.0-239.255.255.255, e.g. 225.0.0.1' }),
    /** default: udpport */
    port: Type.Optional(Port),
    /** default 1 (stay on the local segment) */
    ttl: Type.Optional(Type.Integer({ minimum: 0, maximum: 255, expected: 'a TTL 0-255' })),
    /** loop outbound heartbeats back to this host; default false */
    loop: Type.Optional(Type.Boolean()),
  },
  'a multicast heartbeat path: { interface: eth0, group: 225.0.0.1, port: 694, ttl: 1, loop: false }',
);
export type McastPath = Static<typeof McastPath>;

export const SerialPath = Section(
  {
    device: DevicePath,
    /** default 19200 */
    baud: Type.Optional(StringEnum(['9600', '19200', '38400', '57600', '115200'] as const, { expected: 'a baud rate as a string: "9600", "19200", "38400", "57600" or "115200"' })),
  },
  'a serial heartbeat path: { device: /dev/ttyS0, baud: "19200" }',
);
export type SerialPath = Static<typeof SerialPath>;

export const AuthKeys = Section(
  {
    /** default sha1 */
    method: Type.Optional(StringEnum(AUTH_METHODS)),
    /** the shared key (sha1, md5): a secret, write it with !env */
    key: Type.Optional(SharedKey('the shared key, read from the environment: key: !env HA_AUTH_KEY')),
    /** crc authenticates nothing; it is refused unless this is true (physically isolated heartbeat links only) */
    allow_crc: Type.Optional(Type.Boolean()),
  },
  'the heartbeat authentication: { method: sha1, key: !env HA_AUTH_KEY }',
);
export type AuthKeys = Static<typeof AuthKeys>;

export const PingGroup = Section(
  {
    name: SimpleName('a group name, e.g. group1'),
    addresses: Type.Array(Ipv4(), { minItems: 1, expected: 'a non-empty list of addresses to ping' }),
  },
  'a ping group: { name: group1, addresses: [192.168.2.1, 192.168.2.2] }',
);

export const HeartbeatLogging = Section(
  {
    logfile: Type.Optional(AbsolutePath('a log file path, e.g. /var/log/ha-log')),
    debugfile: Type.Optional(AbsolutePath('a debug log file path, e.g. /var/log/ha-debug')),
    logfacility: Type.Optional(Type.String({ pattern: '^(local[0-7]|daemon|user|authpriv|none)$', expected: 'a syslog facility: local0-local7, daemon, user, authpriv or none' })),
  },
  'heartbeat logging: { logfile: /var/log/ha-log, logfacility: local0 }',
);

export const Heartbeat = Section(
  {
    ucast: Type.Optional(Type.Array(UcastPath, { expected: 'a list of unicast paths' })),
    /** interfaces to broadcast heartbeats on */
    bcast: Type.Optional(Type.Array(InterfaceName, { expected: 'a list of interfaces, e.g. [eth1]' })),
    mcast: Type.Optional(Type.Array(McastPath, { expected: 'a list of multicast paths' })),
    serial: Type.Optional(Type.Array(SerialPath, { expected: 'a list of serial paths' })),
    /** seconds between heartbeats; default 2 */
    keepalive: Type.Optional(Seconds()),
    /** seconds of silence before a node is declared dead; default 30 */
    deadtime: Type.Optional(Seconds()),
    /** seconds of silence before a late-heartbeat warning; default 10 */
    warntime: Type.Optional(Seconds()),
    /** deadtime right after boot (networks come up slowly); default 120 */
    initdead: Type.Optional(Seconds()),
    /** default 694 */
    udpport: Type.Optional(Port),
    /** default on: the primary takes the VIP back when it returns */
    auto_failback: Type.Optional(StringEnum(AUTO_FAILBACK, { expected: 'on, off or legacy' })),
    /** ping nodes (usually the router): losing them triggers failover with ipfail */
    ping: Type.Optional(Type.Array(Ipv4(), { minItems: 1, expected: 'a non-empty list of addresses, e.g. [192.168.2.1]' })),
    ping_group: Type.Optional(PingGroup),
    /** run ipfail (needs ping or ping_group); default false */
    ipfail: Type.Optional(Type.Boolean()),
    /** default { logfile: /var/log/ha-log, logfacility: local0 } */
    logging: Type.Optional(HeartbeatLogging),
    authkeys: AuthKeys,
    /** the resource agent that holds the VIP; default IPaddr2 */
    resource_agent: Type.Optional(StringEnum(RESOURCE_AGENTS)),
    /** add LVSSyncDaemonSwap::master to haresources (IPVS connection sync follows the VIP); default false */
    lvs_sync_daemon: Type.Optional(Type.Boolean()),
    /** further haresources after the VIP and ldirectord, e.g. [httpd] (heartbeat starts them on the active node) */
    resources: Type.Optional(Type.Array(HaResource)),
    /** a director's heartbeat node name (its `uname -n`) when it is not the inventory name */
    node_names: Type.Optional(PerDirector(Type.String({ pattern: HostName.pattern, maxLength: HostName.maxLength, expected: 'a node name as `uname -n` prints it (a host name)' }), 'a mapping of director names to their `uname -n`')),
  },
  'the heartbeat settings: paths (ucast, bcast, mcast, serial), timings and authkeys',
);
export type Heartbeat = Static<typeof Heartbeat>;

export const Ldirectord = Section(
  {
    /** default true; false: heartbeat moves the VIP only and the IPVS rules are restored at boot on both directors */
    enabled: Type.Optional(Type.Boolean()),
    /** defaults for every virtual service's check; default 10 */
    checkinterval: Type.Optional(Seconds()),
    /** default 5 */
    checktimeout: Type.Optional(Seconds()),
    /** default false: a failed server is removed (true keeps it with weight 0; see the lint about persistence) */
    quiescent: Type.Optional(Type.Boolean()),
    /** reload the configuration when it changes; default false */
    autoreload: Type.Optional(Type.Boolean()),
    /** default /var/log/ldirectord.log */
    logfile: Type.Optional(AbsolutePath('a log file path, e.g. /var/log/ldirectord.log')),
    emailalert: Type.Optional(EmailAddress),
  },
  'the ldirectord settings: { checkinterval: 10, checktimeout: 5, quiescent: false }',
);
export type Ldirectord = Static<typeof Ldirectord>;

// --- keepalived ---------------------------------------------------------------------------------

export const VrrpAuth = Section(
  {
    /** default PASS */
    type: Type.Optional(StringEnum(VRRP_AUTH_TYPES)),
    /** a secret: write it with !env; keepalived uses at most 8 characters */
    pass: VrrpPassword('the VRRP password, read from the environment: pass: !env VRRP_PASS'),
  },
  'the VRRP authentication: { type: PASS, pass: !env VRRP_PASS }',
);

export const NotificationEmail = Section(
  {
    to: Type.Array(EmailAddress, { minItems: 1, expected: 'a non-empty list of e-mail addresses' }),
    from: EmailAddress,
    smtp_server: HostOrAddress('the SMTP server: a host name or an IPv4 address, e.g. 127.0.0.1'),
    /** default 30 */
    smtp_connect_timeout: Type.Optional(Seconds()),
  },
  'keepalived notification e-mail: { to: [root@localhost], from: keepalived@example.com, smtp_server: 127.0.0.1 }',
);

export const Keepalived = Section(
  {
    /** the vrrp_instance name; default VI_1 */
    instance: Type.Optional(SimpleName('an instance name, e.g. VI_1')),
    /** default: the cluster network's interface */
    interface: Type.Optional(InterfaceName),
    virtual_router_id: Type.Integer({ expected: 'the VRRP router id, an integer 1-255 (the same on both directors, unique on the network)' }),
    /** per director, 1-254; default 100 for the primary, 50 for the backup */
    priority: Type.Optional(PerDirector(Type.Integer({ expected: 'a VRRP priority, an integer 1-254' }), 'a mapping of director names to priorities')),
    /** per director; default MASTER for the primary, BACKUP for the other */
    state: Type.Optional(PerDirector(StringEnum(VRRP_STATES), 'a mapping of director names to MASTER or BACKUP')),
    /** seconds between advertisements; default 1 */
    advert_int: Type.Optional(Seconds()),
    auth: Type.Optional(VrrpAuth),
    /** send advertisements to the other director's address instead of multicast; default false */
    unicast: Type.Optional(Type.Boolean()),
    /** a returning higher-priority director does not take the VIP back; needs state BACKUP on every director */
    nopreempt: Type.Optional(Type.Boolean()),
    /** global_defs router_id; default: the host's inventory name */
    router_id: Type.Optional(SimpleName('a router id of letters, digits, _ . -, e.g. LVS_DEVEL')),
    notification_email: Type.Optional(NotificationEmail),
  },
  'the keepalived settings: { virtual_router_id: 51, priority: {...}, auth: {...} }',
);
export type Keepalived = Static<typeof Keepalived>;

// --- piranha ------------------------------------------------------------------------------------

export const Piranha = Section(
  {
    /** default true when there are two directors */
    backup_active: Type.Optional(Type.Boolean()),
    /** default 539 */
    heartbeat_port: Type.Optional(Port),
    /** seconds between pulse heartbeats; default 2 */
    keepalive: Type.Optional(Seconds()),
    /** seconds before the backup takes over; default 5 */
    deadtime: Type.Optional(Seconds()),
    /** default NONE */
    debug_level: Type.Optional(StringEnum(PIRANHA_DEBUG_LEVELS)),
    /** how pulse copies lvs.cf to the backup; default ssh */
    rsh_command: Type.Optional(StringEnum(['ssh', 'rsh'] as const)),
  },
  'the piranha (pulse) settings: { heartbeat_port: 539, keepalive: 2, deadtime: 5 }',
);
export type Piranha = Static<typeof Piranha>;

// --- real servers, installation, firewall ---------------------------------------------------

export const RealServerSettings = Section(
  {
    /** how DR real servers ignore ARP for the VIP; default sysctl (arp_ignore=1, arp_announce=2) */
    arp: Type.Optional(StringEnum(ARP_METHODS)),
    /** interfaces that get arp_ignore/arp_announce besides `all`; default: the cluster network's interface */
    arp_interfaces: Type.Optional(Type.Array(InterfaceName)),
    /** the loopback alias that holds the VIP on DR real servers; default lo:0 (TUN uses tunl0) */
    loopback_alias: Type.Optional(Type.String({ pattern: '^lo(:[0-9]{1,4})?$', expected: 'a loopback alias, e.g. lo:0' })),
    /** default gateway of the real servers; default: network.gateway (DR/TUN), nat.gateway (NAT) */
    gateway: Type.Optional(Ipv4('the real servers\' default gateway')),
    /** services the real servers run, enabled at boot (e.g. [httpd]; httpd and apache2 both mean Apache, under the host's own name) */
    services: Type.Optional(Type.Array(ServiceName)),
    /** where the health-check page is written; default /var/www/html */
    document_root: Type.Optional(AbsolutePath('a directory, e.g. /var/www/html')),
    /** write the page each check requests, containing its receive string; default true */
    check_page: Type.Optional(Type.Boolean()),
  },
  'the real server settings: { arp: sysctl, services: [httpd] }',
);
export type RealServerSettings = Static<typeof RealServerSettings>;

export const ComponentInstall = Section(
  {
    /** default packages */
    from: Type.Optional(StringEnum(INSTALL_METHODS)),
    /** with from: source */
    url: Type.Optional(Url),
    sha256: Type.Optional(Sha256),
    /** the archive's version, for the build directory name, e.g. 1.24 */
    version: Type.Optional(Type.String({ pattern: '^[0-9][A-Za-z0-9._+-]*$', maxLength: 64, expected: 'a version starting with a digit, e.g. 3.0.4' })),
    /** arguments added to ./configure */
    configure_args: Type.Optional(Type.Array(ConfigureArgument)),
  },
  'how to install a component: { from: packages } or { from: source, url: ..., sha256: ... }',
);
export type ComponentInstall = Static<typeof ComponentInstall>;

export const PerlModule = Section(
  {
    /** the module's name, e.g. Socket6 */
    name: Type.String({ pattern: '^[A-Za-z0-9_:-]+$', maxLength: 128, expected: 'a Perl module or distribution name, e.g. Socket6' }),
    url: Url,
    sha256: Sha256,
  },
  'a CPAN tarball: { name: Socket6, url: ..., sha256: ... }',
);

export const PerlModules = Section(
  {
    /** default packages (perl-libwww-perl, ... / libwww-perl, ...) */
    from: Type.Optional(StringEnum(PERL_MODULE_SOURCES)),
    /** with from: cpan: tarballs built with perl Makefile.PL && make && make install, in order */
    modules: Type.Optional(Type.Array(PerlModule)),
  },
  'how ldirectord\'s Perl modules are installed: { from: packages } or { from: cpan, modules: [...] }',
);

const componentInstalls = Object.fromEntries(SOURCE_COMPONENTS.map((name) => [name, Type.Optional(ComponentInstall)])) as {
  [K in (typeof SOURCE_COMPONENTS)[number]]: TOptional<typeof ComponentInstall>;
};

export const Install = Section(
  { ...componentInstalls, perl_modules: Type.Optional(PerlModules) },
  'how each component is installed: { heartbeat: { from: source, url: ..., sha256: ... } }',
  'the components are libnet, cluster_glue, resource_agents, heartbeat, ipvsadm, keepalived and perl_modules',
);
export type Install = Static<typeof Install>;

export const Firewall = Section(
  {
    /** open the cluster's ports (heartbeat udp, VRRP, the services); default true */
    manage: Type.Optional(Type.Boolean()),
    /** default auto: firewalld where it runs, else iptables */
    kind: Type.Optional(StringEnum(FIREWALL_KINDS)),
  },
  'the firewall settings: { manage: true, kind: auto }',
);
export type Firewall = Static<typeof Firewall>;

// --- the cluster ------------------------------------------------------------------------------

export const ClusterFile = Section(
  {
    name: Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]*$', maxLength: 64, expected: 'a cluster name of letters, digits, _ . - (e.g. web)' }),
    /** heartbeat (+ ldirectord), keepalived, piranha (pulse), or none (ipvsadm rules restored at boot) */
    manager: StringEnum(MANAGERS),
    /** inventory host names, the primary first */
    directors: Type.Array(HostName, { minItems: 1, maxItems: 2, expected: 'a list of one or two inventory hosts, the primary first' }),
    /** a host's address on the cluster network when it is not its inventory address */
    addresses: Type.Optional(NamedMap(HostName, Ipv4(), { expected: 'a mapping of host names to addresses' })),
    network: Type.Optional(Network),
    nat: Type.Optional(Nat),
    /** enable IPv4 forwarding on the directors; default true when a service uses NAT */
    ip_forward: Type.Optional(Type.Boolean()),
    /** restore the IPVS rules at boot with ipvsadm; default: only when nothing else owns them */
    ipvs_rules_at_boot: Type.Optional(Type.Boolean()),
    virtual_services: Type.Array(VirtualService, { minItems: 1, expected: 'a non-empty list of virtual services' }),
    heartbeat: Type.Optional(Heartbeat),
    ldirectord: Type.Optional(Ldirectord),
    keepalived: Type.Optional(Keepalived),
    piranha: Type.Optional(Piranha),
    realserver: Type.Optional(RealServerSettings),
    install: Type.Optional(Install),
    firewall: Type.Optional(Firewall),
  },
  'the cluster description: a mapping with name, manager, directors and virtual_services',
);
export type ClusterFile = Static<typeof ClusterFile>;
