// The cluster lint: checks across hosts and settings that the schema cannot express, each a pure
// rule with an id, a severity, and the reason it exists (printed with every finding, because a
// rule nobody understands gets switched off). `provision lint` prints the findings; every
// provisioning run lints first and stops on errors.
//
// Rules see the resolved model (defaults applied), so they judge what will really be written;
// findings point at the setting in the file (a default points at the mapping it belongs to).
import type { Facts } from '../core/facts.ts';
import { unsetEnvVariable } from '../core/secret.ts';
import type { ClusterSource, Inventory, InventoryHost } from '../inventory/model.ts';
import { interpolateVars } from '../inventory/interpolate.ts';
import { formatPath, type PathSegment } from '../inventory/yaml-file.ts';
import { parseAddress } from '../lab/ipv4.ts';
import {
  heartbeatNodeName,
  ipvsOwner,
  networkOf,
  sameNetwork,
  serviceKey,
  WEIGHTED_SCHEDULERS,
  type Cluster,
  type IpvsOwner,
} from './model.ts';

export type Severity = 'error' | 'warning';

export interface Where {
  file?: string;
  line?: number;
  column?: number;
}

export interface LintFinding {
  rule: string;
  severity: Severity;
  /** what is wrong, naming the values involved */
  message: string;
  /** why the rule exists */
  reason: string;
  /** the offending setting (empty when the cluster was not read from a file) */
  where: Where;
}

/** What the rules read: the cluster, where it is written, the inventory's hosts, and facts once gathered. */
export interface LintSubject {
  cluster: Cluster;
  source?: ClusterSource;
  /** `vars` (the host's merged inventory variables) tells whether the base role sets its hostname */
  hosts: ReadonlyMap<string, Pick<InventoryHost, 'name' | 'address' | 'source'> & Partial<Pick<InventoryHost, 'vars'>>>;
  /** hosts' facts, at run time once gathered: rules that need the real host judge only these hosts */
  facts?: ReadonlyMap<string, Pick<Facts, 'nodename'>>;
}

interface Issue {
  message: string;
  /** a path inside cluster:, or a host whose inventory entry is at fault */
  at: PathSegment[] | { host: string };
  /** overrides the rule's severity (a rule may warn in one case and refuse in another) */
  severity?: Severity;
}

export interface LintRule {
  id: string;
  severity: Severity;
  /** one line: what the rule checks */
  summary: string;
  reason: string;
  check(subject: LintSubject): Issue[];
}

// --- helpers -------------------------------------------------------------------------------------

const isIpv4 = (text: string): boolean => parseAddress(text) !== undefined;
const serviceAt = (index: number, ...rest: PathSegment[]): PathSegment[] => ['virtual_services', index, ...rest];
const baseInterface = (name: string): string => name.replace(/:\d+$/, '');

/**
 * The program a haresources entry or a service name starts, however it is written: a resource's
 * arguments ("ldirectord::ldirectord.cf"), a resource class ("ocf:heartbeat:ldirectord",
 * "lsb:lvs"), a path to the init script ("/etc/rc.d/init.d/lvs", "/etc/rc3.d/S20lvs"), a unit
 * suffix ("ipvsadm.service") and case all name the same program.
 */
export function programOf(entry: string): string {
  let name = entry.trim().split('::')[0] ?? '';
  name = name.replace(/^(ocf:[^:]*:|(lsb|systemd|service|upstart|heartbeat):)/i, '');
  const slash = name.lastIndexOf('/');
  if (slash !== -1) {
    const dir = name.slice(0, slash);
    name = name.slice(slash + 1);
    // rc?.d links are named after the script, behind a start/kill order: S20lvs, K80lvs.
    if (/(^|\/)rc[0-6S]\.d$/i.test(dir)) name = name.replace(/^[SK]\d+/i, '');
  }
  return name.replace(/\.(service|sh|init)$/i, '').toLowerCase();
}

/** Programs that write the IPVS table when they start, by programOf name, with what they do to it. */
const IPVS_WRITERS: Readonly<Record<string, string>> = {
  ldirectord: 'rewrites the table from its health checks',
  keepalived: 'rewrites the table from its health checks',
  pulse: 'starts lvs/lvsd and nanny, which rewrite the table',
  lvsd: "piranha's daemon: rewrites the table",
  nanny: "piranha's checker: adds and removes real servers",
  // The tutorials' /etc/init.d/lvs (and piranha's own lvs daemon, which pulse starts).
  lvs: 'clears the table and loads fixed rules',
  ipvsadm: 'restores the saved rules',
};

/** The IPVS writer a manager runs, as programOf names it. */
const MANAGER_PROGRAM: Readonly<Record<IpvsOwner, string>> = { ldirectord: 'ldirectord', keepalived: 'keepalived', piranha: 'pulse', 'ipvsadm-at-boot': 'ipvsadm' };

/** Every address the cluster's floating addresses must not collide with: hosts' own ones, by owner. */
function ownAddresses({ cluster, hosts }: LintSubject): { address: string; owner: string; at: Issue['at'] }[] {
  const out: { address: string; owner: string; at: Issue['at'] }[] = [];
  for (const host of hosts.values()) out.push({ address: host.address, owner: `host ${host.name}`, at: { host: host.name } });
  for (const [host, address] of Object.entries(cluster.addresses)) out.push({ address, owner: `host ${host} (cluster address)`, at: ['addresses', host] });
  cluster.heartbeat?.ucast.forEach((path, index) => {
    for (const [host, address] of Object.entries(path.addresses)) out.push({ address, owner: `host ${host} (heartbeat link ${path.interface})`, at: ['heartbeat', 'ucast', index, 'addresses', host] });
  });
  cluster.virtual_services.forEach((service, index) =>
    service.realservers.forEach((server, serverIndex) => {
      if (server.host === undefined) out.push({ address: server.address, owner: `real server ${server.address}`, at: serviceAt(index, 'realservers', serverIndex, 'address') });
    }),
  );
  return out;
}

/** A program that would write the IPVS table on a director: what it is, why it runs, where the description asks for it. */
interface IpvsWriter {
  /** programOf name */
  program: string;
  /** "ldirectord (the manager)", "/etc/init.d/lvs (heartbeat resource: clears the table and loads fixed rules)" */
  label: string;
  at: PathSegment[];
}

/**
 * Every program that would write the IPVS table on a director, judged by what it is rather than
 * how it is written: the manager, the director role's boot-time rules, heartbeat's resources (run
 * on the active director), and realserver.services when a director is also a real server (they
 * are started at boot on the directors too).
 */
function ipvsWriters(cluster: Cluster): IpvsWriter[] {
  const writers: IpvsWriter[] = [];
  const managerOwner = ipvsOwner(cluster);
  if (managerOwner !== 'ipvsadm-at-boot') {
    writers.push({ program: MANAGER_PROGRAM[managerOwner], label: `${MANAGER_PROGRAM[managerOwner]} (the manager)`, at: managerOwner === 'ldirectord' ? ['ldirectord'] : ['manager'] });
  }
  if (cluster.manager === 'none') {
    // The director role's lvs script loads the rules at boot whatever ipvs_rules_at_boot says; the
    // ipvsadm service, when enabled as well, restores the same rules: one writer.
    writers.push({ program: 'lvs', label: "the director role's /etc/init.d/lvs (manager none: adds the VIPs and loads the rules at boot)", at: ['manager'] });
  } else if (cluster.ipvs_rules_at_boot) {
    writers.push({ program: 'ipvsadm', label: 'the ipvsadm service at boot (ipvs_rules_at_boot: restores the saved rules)', at: ['ipvs_rules_at_boot'] });
  }
  const own = writers[0]?.program;
  cluster.heartbeat?.resources.forEach((resource, index) => {
    const program = programOf(resource);
    const does = IPVS_WRITERS[program];
    // Even the manager's own program: heartbeat would start a second instance of it.
    if (does !== undefined) writers.push({ program, label: `${resource} (heartbeat resource: ${does})`, at: ['heartbeat', 'resources', index] });
  });
  if (directorsServe(cluster)) {
    cluster.realserver.services.forEach((service, index) => {
      const program = programOf(service);
      const does = IPVS_WRITERS[program];
      // The program that writes the table anyway, enabled at boot once more, is no second writer
      // (ldirectord under heartbeat is managed-service-at-boot's finding).
      if (does === undefined || program === own) return;
      writers.push({ program, label: `${service} (realserver.services, started at boot on the directors: ${does})`, at: ['realserver', 'services', index] });
    });
  }
  return writers;
}

/** Whether a director is also a real server (the Ultra Monkey layout): realserver.services then run on the directors. */
const directorsServe = (cluster: Cluster): boolean =>
  cluster.directors.some((director) => cluster.virtual_services.some((service) => service.realservers.some((server) => server.host === director)));

// --- heartbeat node names: before the run, and once facts are in ---------------------------------

/**
 * Whether the base role sets `host`'s hostname to its inventory name: its variable
 * manage_hostname (the role's default is true) as the host's inventory variables set it. The role
 * tests the value for truth, so this does too; a template is resolved against the host's other
 * inventory variables where it can be.
 */
export function managesHostname(host: Partial<Pick<InventoryHost, 'vars' | 'varOrigin'>> | undefined): boolean {
  const vars = host?.vars ?? {};
  let value = vars.manage_hostname;
  if (typeof value === 'string' && value.includes('{{')) {
    try {
      value = interpolateVars(vars, host?.varOrigin ?? {}).manage_hostname;
    } catch {
      // It refers to a play or role variable, or another variable does: judged as written.
    }
  }
  return value === undefined ? true : Boolean(value);
}

/**
 * heartbeat-node-name, one decision for `provision lint` and for the run: a director's heartbeat
 * node name must be the name the host will have. Where the base role manages the hostname that is
 * the inventory name, known before the run; elsewhere it is `uname -n`, known once the host's
 * facts are in (subject.facts), and a director without facts is not judged.
 */
function nodeNameIssues(subject: LintSubject): Issue[] {
  const { cluster, hosts, facts } = subject;
  const hb = cluster.heartbeat;
  if (hb === undefined) return [];
  const issues: Issue[] = [];
  cluster.directors.forEach((director, index) => {
    const expected = heartbeatNodeName(cluster, director);
    const nodeNamePath: PathSegment[] = ['heartbeat', 'node_names', director];
    const at: PathSegment[] = subject.source?.written(nodeNamePath) === true || hb.node_names[director] !== director ? nodeNamePath : ['directors', index];
    if (managesHostname(hosts.get(director))) {
      if (expected === director) return;
      issues.push({
        message: `director ${director} is heartbeat node ${expected}, but the base role sets its hostname (\`uname -n\`) to ${director}: drop heartbeat.node_names.${director}, or name the inventory host ${expected} (or set manage_hostname: false for ${director} and give it the hostname ${expected} yourself)`,
        at,
      });
      return;
    }
    const nodename = facts?.get(director)?.nodename;
    if (nodename === undefined || nodename === expected) return;
    issues.push({
      message: `director ${director} is heartbeat node ${expected}, but its \`uname -n\` is ${nodename} (manage_hostname is false, so provision leaves the hostname alone): set heartbeat.node_names.${director}: ${nodename}, or rename the host`,
      at,
    });
  });
  return issues;
}

export const NODE_NAME_RULE: LintRule = {
  id: 'heartbeat-node-name',
  severity: 'error',
  summary: "each director's heartbeat node name is the name the host will have (its `uname -n`)",
  reason:
    'heartbeat finds its own node line by `uname -n`: a director whose name is not listed in ha.cf refuses to start ("node not in configuration"), and haresources names its owner the same way. The base role sets the hostname to the inventory name (unless manage_hostname is false), so that is the node name; a host whose hostname provision leaves alone is compared by its `uname -n` as soon as its facts are in, and fails before anything is changed on it.',
  check: nodeNameIssues,
};

// --- the rules ---------------------------------------------------------------------------------------

export const RULES: readonly LintRule[] = [
  {
    id: 'dr-realserver-subnet',
    severity: 'error',
    summary: 'LVS-DR real servers are on the directors\' network',
    reason:
      'LVS-DR forwards a request by rewriting only its destination MAC address: the director must reach every real server on the same L2 segment. A real server on another subnet never receives the packets. (LVS-TUN exists for real servers elsewhere: it is not bound by this rule.)',
    check: ({ cluster }) => {
      const issues: Issue[] = [];
      const directorAddresses = cluster.directors.map((director) => cluster.addresses[director] ?? '').filter(isIpv4);
      if (directorAddresses.length === 0) return issues;
      const prefix = cluster.network.prefix;
      cluster.virtual_services.forEach((service, index) => {
        if (service.forwarding !== 'dr') return;
        service.realservers.forEach((server, serverIndex) => {
          if (!isIpv4(server.address) || server.address.startsWith('127.')) return;
          if (directorAddresses.some((director) => sameNetwork(director, server.address, prefix))) return;
          issues.push({
            message: `${serviceKey(service)}: real server ${server.name} (${server.address}) is not on the directors' network ${networkOf(directorAddresses[0] as string, prefix) ?? '?'}/${prefix}; use forwarding tun or nat for it, or correct network.prefix`,
            at: serviceAt(index, 'realservers', serverIndex),
          });
        });
      });
      return issues;
    },
  },
  {
    id: 'nat-gateway',
    severity: 'error',
    summary: 'LVS-NAT real servers route through the directors\' floating NAT address',
    reason:
      'In LVS-NAT the director rewrites the replies too, so they must go back through it: each real server\'s default gateway must be the floating address the active director holds on the internal network. Otherwise replies leave from the real server\'s own address and clients drop them.',
    check: ({ cluster }) => {
      const issues: Issue[] = [];
      const nat = cluster.nat;
      if (nat === undefined || !cluster.virtual_services.some((service) => service.forwarding === 'nat')) return issues;
      if (cluster.realserver.gateway !== nat.gateway) {
        issues.push({ message: `realserver.gateway is ${cluster.realserver.gateway ?? 'not set'}, but the NAT real servers must route through nat.gateway ${nat.gateway}`, at: ['realserver', 'gateway'] });
      }
      cluster.virtual_services.forEach((service, index) => {
        if (service.forwarding !== 'nat') return;
        service.realservers.forEach((server, serverIndex) => {
          if (!isIpv4(server.address) || sameNetwork(server.address, nat.gateway, nat.prefix)) return;
          issues.push({
            message: `${serviceKey(service)}: real server ${server.name} (${server.address}) is not on the NAT network ${networkOf(nat.gateway, nat.prefix) ?? '?'}/${nat.prefix} of nat.gateway ${nat.gateway}: it cannot use it as its gateway`,
            at: serviceAt(index, 'realservers', serverIndex),
          });
        });
      });
      return issues;
    },
  },
  {
    id: 'nat-director-realserver',
    severity: 'error',
    summary: 'a director is not a real server of an LVS-NAT service',
    reason:
      'An LVS-NAT real server routes everything through the floating NAT gateway, but a director holds that address itself when it is active: its default route would point at itself. (The two-node "heartbeat + ipvsadm -m" layout does this; directors may be real servers with LVS-DR.)',
    check: ({ cluster }) => {
      const issues: Issue[] = [];
      cluster.virtual_services.forEach((service, index) => {
        if (service.forwarding !== 'nat') return;
        service.realservers.forEach((server, serverIndex) => {
          if (server.host !== undefined && cluster.directors.includes(server.host)) {
            issues.push({ message: `${serviceKey(service)}: director ${server.host} is a real server of this NAT service: use real servers behind the directors, or forwarding dr`, at: serviceAt(index, 'realservers', serverIndex) });
          }
        });
      });
      return issues;
    },
  },
  {
    id: 'nat-ip-forward',
    severity: 'error',
    summary: 'LVS-NAT directors forward IPv4',
    reason: 'An LVS-NAT director routes the real servers\' replies back to the clients; with net.ipv4.ip_forward=0 the kernel drops them.',
    check: ({ cluster }) =>
      cluster.virtual_services.some((service) => service.forwarding === 'nat') && !cluster.ip_forward
        ? [{ message: 'a service uses forwarding nat, but ip_forward is false', at: ['ip_forward'] }]
        : [],
  },
  {
    id: 'port-mapping-nat-only',
    severity: 'error',
    summary: 'a real server port different from the service port only with NAT',
    reason:
      'LVS-DR and LVS-TUN pass the packet on unchanged (a new MAC address, or an outer IP header): the real server receives it for the VIP\'s port and cannot serve it on another. Only LVS-NAT rewrites the destination port.',
    check: ({ cluster }) => {
      const issues: Issue[] = [];
      cluster.virtual_services.forEach((service, index) => {
        if (service.forwarding === 'nat' || service.port === undefined) return;
        service.realservers.forEach((server, serverIndex) => {
          if (server.port === undefined || server.port === service.port) return;
          issues.push({
            message: `${serviceKey(service)}: real server ${server.name} listens on port ${server.port}, but forwarding ${service.forwarding} cannot change the port ${service.port}`,
            at: serviceAt(index, 'realservers', serverIndex, 'port'),
          });
        });
      });
      return issues;
    },
  },
  {
    id: 'service-unique',
    severity: 'error',
    summary: 'each virtual service (protocol, VIP, port or firewall mark) is described once',
    reason:
      'IPVS holds one entry per virtual service, with one scheduler and one set of real servers: two descriptions of the same service would overwrite each other, and which scheduler wins would depend on the order things start.',
    check: ({ cluster }) => {
      const issues: Issue[] = [];
      const seen = new Map<string, number>();
      cluster.virtual_services.forEach((service, index) => {
        const key = serviceKey(service);
        const first = seen.get(key);
        if (first === undefined) seen.set(key, index);
        else issues.push({ message: `${key} is described twice (virtual_services[${first}] and [${index}]): merge them into one`, at: serviceAt(index) });
      });
      return issues;
    },
  },
  {
    id: 'realserver-unique',
    severity: 'error',
    summary: 'a real server appears once per virtual service',
    reason: 'ipvsadm refuses a destination that a service already has ("Destination already exists"), so the second entry breaks the whole rule set.',
    check: ({ cluster }) => {
      const issues: Issue[] = [];
      cluster.virtual_services.forEach((service, index) => {
        const seen = new Set<string>();
        service.realservers.forEach((server, serverIndex) => {
          const key = `${server.address}:${server.port ?? ''}`;
          if (seen.has(key)) issues.push({ message: `${serviceKey(service)}: real server ${key} is listed twice`, at: serviceAt(index, 'realservers', serverIndex) });
          seen.add(key);
        });
      });
      return issues;
    },
  },
  {
    id: 'scheduler-weights',
    severity: 'warning',
    summary: 'weights are set only with a scheduler that uses them',
    reason: 'The rr, lc and dh schedulers ignore real server weights (except 0): unequal weights with them do not balance the load the way they suggest. Use wrr, wlc, sed or nq.',
    check: ({ cluster }) => {
      const issues: Issue[] = [];
      cluster.virtual_services.forEach((service, index) => {
        const weights = new Set(service.realservers.map((server) => server.weight).filter((weight) => weight > 0));
        if (weights.size > 1 && !WEIGHTED_SCHEDULERS.has(service.scheduler)) {
          issues.push({ message: `${serviceKey(service)}: the real servers have different weights, but scheduler ${service.scheduler} ignores weights`, at: serviceAt(index, 'scheduler') });
        }
      });
      return issues;
    },
  },
  {
    id: 'persistence-quiescent',
    severity: 'warning',
    summary: 'persistent services with ldirectord quiescent=yes',
    reason:
      'With quiescent=yes ldirectord keeps a failed real server in the table with weight 0; persistent clients are still sent to it until their persistence times out, so they see the failure. quiescent=no removes the server (as the Ultra Monkey tutorial explains).',
    check: ({ cluster }) => {
      const issues: Issue[] = [];
      if (cluster.manager !== 'heartbeat' || cluster.ldirectord?.enabled !== true) return issues;
      cluster.virtual_services.forEach((service, index) => {
        const quiescent = service.check.quiescent ?? cluster.ldirectord?.quiescent;
        if (service.persistence !== undefined && quiescent === true) {
          issues.push({
            message: `${serviceKey(service)} is persistent (${service.persistence.timeout} s) with quiescent=yes: clients stick to a failed real server`,
            at: service.check.quiescent === undefined ? ['ldirectord', 'quiescent'] : serviceAt(index, 'check', 'quiescent'),
          });
        }
      });
      return issues;
    },
  },
  {
    id: 'heartbeat-deadtime',
    severity: 'error',
    summary: 'heartbeat deadtime is at least twice keepalive',
    reason: 'A node is declared dead after deadtime seconds without a heartbeat; with less than two keepalive intervals, one lost or late packet triggers a failover (and both nodes may hold the VIP).',
    check: ({ cluster }) => {
      const hb = cluster.heartbeat;
      return hb !== undefined && hb.deadtime < 2 * hb.keepalive
        ? [{ message: `deadtime ${hb.deadtime} is less than twice keepalive ${hb.keepalive}: make it at least ${2 * hb.keepalive}`, at: ['heartbeat', 'deadtime'] }]
        : [];
    },
  },
  {
    id: 'heartbeat-warntime',
    severity: 'error',
    summary: 'heartbeat warntime is below deadtime',
    reason: 'warntime is when heartbeat warns about a late heartbeat; at or after deadtime the node is already declared dead, so the warning never comes.',
    check: ({ cluster }) => {
      const hb = cluster.heartbeat;
      return hb !== undefined && hb.warntime >= hb.deadtime
        ? [{ message: `warntime ${hb.warntime} is not below deadtime ${hb.deadtime}`, at: ['heartbeat', 'warntime'] }]
        : [];
    },
  },
  {
    id: 'heartbeat-initdead',
    severity: 'error',
    summary: 'heartbeat initdead is at least twice deadtime',
    reason: 'After a boot the network takes a while to come up; heartbeat\'s documentation asks for initdead of at least twice deadtime, or a node starting alone takes the resources while its peer is still alive.',
    check: ({ cluster }) => {
      const hb = cluster.heartbeat;
      return hb !== undefined && hb.initdead < 2 * hb.deadtime
        ? [{ message: `initdead ${hb.initdead} is less than twice deadtime ${hb.deadtime}: make it at least ${2 * hb.deadtime}`, at: ['heartbeat', 'initdead'] }]
        : [];
    },
  },
  {
    id: 'heartbeat-path',
    severity: 'error',
    summary: 'heartbeat has at least one communication path',
    reason: 'Without a ucast, bcast, mcast or serial path the nodes never hear each other: each one believes the other dead and takes the VIP.',
    check: ({ cluster }) => {
      const hb = cluster.heartbeat;
      return hb !== undefined && hb.ucast.length + hb.bcast.length + hb.mcast.length + hb.serial.length === 0
        ? [{ message: 'heartbeat has no path: add ucast, bcast, mcast or serial', at: ['heartbeat'] }]
        : [];
    },
  },
  {
    id: 'heartbeat-nodes',
    severity: 'error',
    summary: 'every director is its own heartbeat node, reachable on every unicast path',
    reason: 'ha.cf lists one node line per director and heartbeat tells them apart by name; two directors with one name, or one unicast address for two nodes, leave a node unlisted or unreachable, and it is taken for dead.',
    check: ({ cluster }) => {
      const issues: Issue[] = [];
      const hb = cluster.heartbeat;
      if (hb === undefined) return issues;
      const byName = new Map<string, string>();
      for (const director of cluster.directors) {
        const name = heartbeatNodeName(cluster, director);
        const other = byName.get(name);
        if (other !== undefined) issues.push({ message: `directors ${other} and ${director} have the same heartbeat node name ${name}`, at: ['heartbeat', 'node_names', director] });
        byName.set(name, director);
      }
      hb.ucast.forEach((path, index) => {
        const byAddress = new Map<string, string>();
        for (const director of cluster.directors) {
          const address = path.addresses[director] as string;
          const other = byAddress.get(address);
          if (other !== undefined) issues.push({ message: `ucast on ${path.interface}: directors ${other} and ${director} have the same address ${address}`, at: ['heartbeat', 'ucast', index, 'addresses', director] });
          byAddress.set(address, director);
        }
      });
      return issues;
    },
  },
  NODE_NAME_RULE,
  {
    id: 'heartbeat-ipfail',
    severity: 'error',
    summary: 'ipfail has ping nodes to watch',
    reason: 'ipfail moves the resources when this node loses its ping nodes (usually the router) and the peer still sees them; without ping or ping_group it has nothing to compare.',
    check: ({ cluster }) => {
      const hb = cluster.heartbeat;
      return hb?.ipfail === true && hb.ping.length === 0 && hb.ping_group === undefined
        ? [{ message: 'ipfail is on, but there is no ping or ping_group', at: ['heartbeat', 'ipfail'] }]
        : [];
    },
  },
  {
    id: 'authkeys-key',
    severity: 'error',
    summary: 'the authkeys method has a key',
    reason: 'sha1 and md5 sign every heartbeat packet with the shared key; without one, heartbeat refuses to start (or anyone on the link could forge heartbeats).',
    check: ({ cluster }) => {
      const auth = cluster.heartbeat?.authkeys;
      return auth !== undefined && auth.method !== 'crc' && auth.key === undefined
        ? [{ message: `authkeys method ${auth.method} needs a key: add key: !env HA_AUTH_KEY`, at: ['heartbeat', 'authkeys'] }]
        : [];
    },
  },
  {
    id: 'authkeys-crc',
    severity: 'error',
    summary: 'authkeys crc only when explicitly allowed',
    reason: 'crc only detects corrupted packets: anyone who can send to the heartbeat port can forge heartbeats and take the VIP. It is acceptable on a physically isolated link (a crossover cable) only.',
    check: ({ cluster }) => {
      const auth = cluster.heartbeat?.authkeys;
      if (auth?.method !== 'crc') return [];
      if (!auth.allow_crc) return [{ message: 'authkeys method crc authenticates nothing: use sha1 with a key, or set allow_crc: true for an isolated link', at: ['heartbeat', 'authkeys', 'method'] }];
      const ignored = auth.key === undefined ? '' : ' (and its key is not used)';
      return [{ message: `authkeys method crc is allowed: heartbeat packets are not authenticated${ignored}`, at: ['heartbeat', 'authkeys', 'method'], severity: 'warning' }];
    },
  },
  {
    id: 'secret-in-clear',
    severity: 'warning',
    summary: 'secrets are read from the environment, not written in the inventory',
    reason: 'An inventory is committed and copied around; a key written in it is no longer a secret. Values read with !env are also masked in every output.',
    check: ({ source }) =>
      (source?.clearTextSecrets ?? []).map((path) => ({ message: `cluster.${formatPath(path)} is written in clear: read it with !env (e.g. !env HA_AUTH_KEY)`, at: path })),
  },
  {
    id: 'vrrp-router-id',
    severity: 'error',
    summary: 'keepalived virtual_router_id is 1-255',
    reason: 'VRRP carries the router id in one byte, and 0 is invalid: keepalived refuses the instance.',
    check: ({ cluster }) => {
      const id = cluster.keepalived?.virtual_router_id;
      return id !== undefined && (id < 1 || id > 255) ? [{ message: `virtual_router_id ${id} is not in 1-255`, at: ['keepalived', 'virtual_router_id'] }] : [];
    },
  },
  {
    id: 'vrrp-priority',
    severity: 'error',
    summary: 'keepalived priorities are 1-254 and differ between directors',
    reason: 'VRRP elects the director with the highest priority (255 is reserved for the address owner); with equal priorities the election falls to the higher IP address, which is not what the description says.',
    check: ({ cluster }) => {
      const issues: Issue[] = [];
      const ka = cluster.keepalived;
      if (ka === undefined) return issues;
      const byPriority = new Map<number, string>();
      for (const director of cluster.directors) {
        const priority = ka.priority[director] as number;
        if (priority < 1 || priority > 254) issues.push({ message: `priority ${priority} of ${director} is not in 1-254`, at: ['keepalived', 'priority', director] });
        const other = byPriority.get(priority);
        if (other !== undefined) issues.push({ message: `directors ${other} and ${director} have the same priority ${priority}`, at: ['keepalived', 'priority', director] });
        byPriority.set(priority, director);
      }
      return issues;
    },
  },
  {
    id: 'vrrp-master-priority',
    severity: 'warning',
    summary: 'the MASTER director has the highest priority',
    reason: 'The state is only where a director starts: a BACKUP with a higher priority takes the VIP from the MASTER as soon as it hears it, so the VIP does not stay where the description puts it.',
    check: ({ cluster }) => {
      const ka = cluster.keepalived;
      if (ka === undefined) return [];
      const highest = Math.max(...cluster.directors.map((director) => ka.priority[director] as number));
      return cluster.directors
        .filter((director) => ka.state[director] === 'MASTER' && (ka.priority[director] as number) < highest)
        .map((director) => ({ message: `${director} starts as MASTER with priority ${ka.priority[director]}, but another director has ${highest}`, at: ['keepalived', 'priority', director] }));
    },
  },
  {
    id: 'vrrp-auth-pass',
    severity: 'error',
    summary: 'the VRRP password has at most 8 characters',
    reason: 'VRRP PASS authentication carries 8 bytes: keepalived silently uses the first 8 characters, so the rest adds nothing and a shorter key is what protects the cluster.',
    check: ({ cluster }) => {
      const pass = cluster.keepalived?.auth?.pass;
      // An unset !env at lint has no length to judge: the run that reads it checks it.
      return pass !== undefined && unsetEnvVariable(pass) === undefined && pass.length > 8
        ? [{ message: `the VRRP password has ${pass.length} characters; keepalived uses only the first 8: use at most 8`, at: ['keepalived', 'auth', 'pass'] }]
        : [];
    },
  },
  {
    id: 'keepalived-source-version',
    severity: 'error',
    summary: 'a keepalived built from source says which major version it is (1.x or 2.x)',
    reason: 'keepalived 1.x and 2.x spell some settings differently (nb_get_retry and retry), so the keepalived role writes keepalived.conf for the version that will run; it reads the version from install.keepalived.version or the archive name (keepalived-2.2.8.tar.gz).',
    check: ({ cluster }) => {
      const install = cluster.install.keepalived;
      if (cluster.manager !== 'keepalived' || install.from !== 'source' || install.url === undefined) return [];
      const version = install.version ?? /keepalived-(\d+(?:\.\d+)*)\.tar/.exec(install.url)?.[1];
      const major = version === undefined ? undefined : Number.parseInt(version, 10);
      if (major === 1 || major === 2) return [];
      return [
        {
          message:
            version === undefined
              ? `cannot tell which keepalived ${install.url} builds: give install.keepalived.version, e.g. 2.2.8`
              : `keepalived ${version} is neither 1.x nor 2.x, the versions whose keepalived.conf provision writes`,
          at: ['install', 'keepalived', install.version === undefined ? 'url' : 'version'],
        },
      ];
    },
  },
  {
    id: 'vrrp-nopreempt',
    severity: 'error',
    summary: 'nopreempt only with state BACKUP on every director',
    reason: 'keepalived ignores nopreempt on an instance whose state is MASTER: that director still takes the VIP back when it returns.',
    check: ({ cluster }) => {
      const ka = cluster.keepalived;
      if (ka?.nopreempt !== true) return [];
      return cluster.directors
        .filter((director) => ka.state[director] === 'MASTER')
        .map((director) => ({ message: `nopreempt is set, but ${director} starts as MASTER: set state BACKUP for every director (the priority still elects the first MASTER)`, at: ['keepalived', 'state', director] }));
    },
  },
  {
    id: 'ipvs-single-owner',
    severity: 'error',
    summary: 'exactly one program writes the IPVS table',
    reason:
      'ldirectord, keepalived and pulse each rewrite the IPVS table to match their own view (removing failed servers); a second writer (another manager, a boot-time ipvsadm restore, the tutorial\'s lvs script) puts back what the first removed, or clears it. What counts is the program, however it is named: /etc/init.d/lvs, lsb:lvs and lvs.service are the same script, and a service in realserver.services runs on directors that are also real servers.',
    check: ({ cluster }) => {
      const writers = ipvsWriters(cluster);
      const [first] = writers;
      if (first === undefined) {
        // Only heartbeat without ldirectord gets here (every other manager writes the table):
        // nothing loads the rules, and the director role disables the ipvsadm service, so the
        // active director forwards nothing (a tutorial types the rules by hand on one node).
        return [{ message: 'nothing writes the IPVS table: ldirectord is off, ipvs_rules_at_boot is false and no heartbeat resource loads rules; enable ldirectord, or set ipvs_rules_at_boot: true', at: ['ipvs_rules_at_boot'] }];
      }
      if (writers.length === 1) return [];
      const names = writers.map((writer) => writer.label).join(', ');
      return writers.slice(1).map((writer) => ({ message: `the IPVS table would be written by ${names}: keep only ${first.program}`, at: writer.at }));
    },
  },
  {
    id: 'managed-service-at-boot',
    severity: 'error',
    summary: 'services the cluster manager starts are not also started at boot',
    reason:
      'heartbeat starts its resources (ldirectord, httpd...) on the node that holds the VIP and stops them on the other; a service also enabled at boot runs on both nodes, and on the passive one it fights the active one (ldirectord programs IPVS there too).',
    check: ({ cluster }) => {
      const hb = cluster.heartbeat;
      if (hb === undefined || !directorsServe(cluster)) return [];
      const managed = new Set(hb.resources.map(programOf));
      if (cluster.ldirectord?.enabled === true) managed.add('ldirectord');
      const issues: Issue[] = [];
      cluster.realserver.services.forEach((service, index) => {
        if (managed.has(programOf(service))) {
          issues.push({ message: `${service} is started by heartbeat on the active director, and realserver.services also enables it at boot on the directors (they are real servers too)`, at: ['realserver', 'services', index] });
        }
      });
      return issues;
    },
  },
  {
    id: 'duplicate-address',
    severity: 'error',
    summary: 'no two hosts share an address',
    reason: 'Two hosts with one address answer ARP for it in turn: traffic, heartbeats and health checks reach whichever answered last.',
    check: (subject) => {
      const issues: Issue[] = [];
      const cluster = subject.cluster;
      const owners = new Map<string, string>();
      for (const [host, address] of Object.entries(cluster.addresses)) {
        if (!isIpv4(address)) continue;
        const other = owners.get(address);
        const written = subject.source?.written(['addresses', host]) === true;
        if (other !== undefined && other !== host) issues.push({ message: `hosts ${other} and ${host} have the same address ${address}`, at: written ? ['addresses', host] : { host } });
        owners.set(address, host);
      }
      return issues;
    },
  },
  {
    id: 'vip-not-host-address',
    severity: 'error',
    summary: 'the floating addresses (VIPs, the NAT gateway) are no host\'s own address',
    reason:
      'A floating address moves with the active director; a host that has it as its own answers ARP for it all the time and receives the traffic even when it is not the director, and the manager cannot add an address the host already has.',
    check: (subject) => {
      const { cluster } = subject;
      const floating: { address: string; what: string; at: PathSegment[] }[] = cluster.virtual_services.map((service, index) => ({ address: service.vip, what: `the VIP of ${serviceKey(service)}`, at: serviceAt(index, 'vip') }));
      if (cluster.nat !== undefined) floating.push({ address: cluster.nat.gateway, what: 'the NAT gateway', at: ['nat', 'gateway'] });
      const own = ownAddresses(subject);
      const issues: Issue[] = [];
      const reported = new Set<string>();
      for (const { address, what, at } of floating) {
        const owner = own.find((entry) => entry.address === address);
        if (owner !== undefined && !reported.has(`${address} ${what}`)) {
          reported.add(`${address} ${what}`);
          issues.push({ message: `${what}, ${address}, is also the address of ${owner.owner}`, at });
        }
      }
      if (cluster.nat !== undefined && cluster.virtual_services.some((service) => service.vip === cluster.nat?.gateway)) {
        issues.push({ message: `the NAT gateway ${cluster.nat.gateway} is also a VIP: the gateway belongs on the internal network, the VIP on the public one`, at: ['nat', 'gateway'] });
      }
      return issues;
    },
  },
  {
    id: 'vip-on-network',
    severity: 'warning',
    summary: 'each VIP is on the network of the interface that holds it',
    reason: 'The manager adds the VIP to the interface with the network\'s prefix; a VIP outside that network gets no route there, and clients\' routers do not send its traffic to this segment.',
    check: ({ cluster }) => {
      const issues: Issue[] = [];
      const primary = cluster.addresses[cluster.directors[0] ?? ''];
      if (primary === undefined || !isIpv4(primary)) return issues;
      cluster.virtual_services.forEach((service, index) => {
        if (baseInterface(service.interface) !== baseInterface(cluster.network.interface)) return;
        if (!sameNetwork(service.vip, primary, cluster.network.prefix)) {
          issues.push({ message: `VIP ${service.vip} is not on the directors' network ${networkOf(primary, cluster.network.prefix) ?? '?'}/${cluster.network.prefix} (${cluster.network.interface})`, at: serviceAt(index, 'vip') });
        }
      });
      return issues;
    },
  },
  {
    id: 'unmanaged-realserver',
    severity: 'warning',
    summary: 'DR/TUN real servers outside the inventory are configured by hand',
    reason: 'A DR or TUN real server must hold the VIP (on lo, or tunl0) and must not answer ARP for it; provision does that only for inventory hosts, so a real server given by address alone must be set up by other means.',
    check: ({ cluster }) => {
      const issues: Issue[] = [];
      cluster.virtual_services.forEach((service, index) => {
        if (service.forwarding === 'nat') return;
        service.realservers.forEach((server, serverIndex) => {
          if (server.host === undefined && !server.address.startsWith('127.')) {
            issues.push({ message: `${serviceKey(service)}: real server ${server.address} is not an inventory host: give it the VIP on ${service.forwarding === 'tun' ? 'tunl0' : 'lo'} and the ARP settings yourself, or name its host`, at: serviceAt(index, 'realservers', serverIndex) });
          }
        });
      });
      return issues;
    },
  },
  {
    id: 'piranha-forwarding',
    severity: 'error',
    summary: 'with piranha, every service uses the same forwarding method',
    reason: 'lvs.cf sets the forwarding method once for all virtual servers (network = nat, direct or tunnel).',
    check: ({ cluster }) => {
      if (cluster.manager !== 'piranha') return [];
      const first = cluster.virtual_services[0]?.forwarding;
      const issues: Issue[] = [];
      cluster.virtual_services.forEach((service, index) => {
        if (service.forwarding !== first) issues.push({ message: `${serviceKey(service)} uses forwarding ${service.forwarding}, the first service ${first ?? ''}: piranha takes one method for all`, at: serviceAt(index, 'forwarding') });
      });
      return issues;
    },
  },
  {
    id: 'piranha-backup-subnet',
    severity: 'error',
    summary: "piranha's backup director is on the primary's network",
    reason:
      "lvs.cf names the two LVS routers by their addresses (primary = and backup =): pulse heartbeats between them there, and the backup takes over the VIP on the same device as the primary (eth0:0), so it must be on the primary's network (network.prefix). A backup elsewhere (a typo such as 202.30.x for 202.39.x) never hears the primary, takes the VIP too, and holds it where no traffic for it arrives.",
    check: (subject) => {
      const { cluster } = subject;
      const [primary, backup] = cluster.directors;
      if (cluster.manager !== 'piranha' || primary === undefined || backup === undefined) return [];
      const primaryAddress = cluster.addresses[primary] ?? '';
      const backupAddress = cluster.addresses[backup] ?? '';
      const prefix = cluster.network.prefix;
      if (!isIpv4(primaryAddress) || !isIpv4(backupAddress) || sameNetwork(primaryAddress, backupAddress, prefix)) return [];
      return [
        {
          message: `the backup director ${backup} (${backupAddress}) is not on the network ${networkOf(primaryAddress, prefix) ?? '?'}/${prefix} of the primary ${primary} (${primaryAddress}): correct its address, or network.prefix`,
          at: subject.source?.written(['addresses', backup]) === true ? ['addresses', backup] : { host: backup },
        },
      ];
    },
  },
  {
    id: 'piranha-backup-active',
    severity: 'warning',
    summary: "piranha's second director is an active backup",
    reason:
      "pulse on the backup director takes over only when lvs.cf says backup_active = 1; without it the second director receives lvs.cf but never takes the VIP when the primary fails (the piranha tutorial had to add the line by hand).",
    check: ({ cluster }) =>
      cluster.manager === 'piranha' && cluster.directors.length > 1 && cluster.piranha?.backup_active === false
        ? [{ message: `piranha.backup_active is false: the backup director ${cluster.directors[1] ?? ''} never takes over; set it true, or list one director`, at: ['piranha', 'backup_active'] }]
        : [],
  },
  {
    id: 'single-director',
    severity: 'warning',
    summary: 'a failover manager has a second director to fail over to',
    reason: 'heartbeat, keepalived and pulse move the VIP to a backup director; with one director there is no failover, only health checks (manager none with one director says so).',
    check: ({ cluster }) =>
      cluster.manager !== 'none' && cluster.directors.length < 2 ? [{ message: `manager ${cluster.manager} with a single director: nothing to fail over to`, at: ['directors'] }] : [],
  },
  {
    id: 'none-one-director',
    severity: 'error',
    summary: 'manager none has exactly one director',
    reason: 'Without a failover manager nothing moves the VIP: two directors would both hold it at boot and answer ARP for it in turn. Use heartbeat or keepalived for two directors.',
    check: ({ cluster }) =>
      cluster.manager === 'none' && cluster.directors.length > 1 ? [{ message: 'manager none with two directors: both would hold the VIP; choose heartbeat or keepalived, or keep one director', at: ['manager'] }] : [],
  },
];

// --- running the rules ---------------------------------------------------------------------------

function locate(subject: LintSubject, at: Issue['at']): Where {
  if (!Array.isArray(at)) return subject.hosts.get(at.host)?.source ?? {};
  return subject.source?.pointAt(at) ?? {};
}

function findingsOf(subject: LintSubject, rules: readonly LintRule[]): LintFinding[] {
  const findings: LintFinding[] = [];
  for (const rule of rules) {
    for (const issue of rule.check(subject)) {
      findings.push({ rule: rule.id, severity: issue.severity ?? rule.severity, message: issue.message, reason: rule.reason, where: locate(subject, issue.at) });
    }
  }
  return sortFindings(findings);
}

function sortFindings(findings: LintFinding[]): LintFinding[] {
  return findings.sort((a, b) => (a.where.file ?? '').localeCompare(b.where.file ?? '') || (a.where.line ?? 0) - (b.where.line ?? 0) || (a.where.column ?? 0) - (b.where.column ?? 0));
}

/** The subject of an inventory: its cluster, where it is written, its hosts; undefined without a cluster. */
export function lintSubject(inventory: Pick<Inventory, 'cluster' | 'clusterSource' | 'hosts'>): LintSubject | undefined {
  if (inventory.cluster === undefined) return undefined;
  return { cluster: inventory.cluster, ...(inventory.clusterSource === undefined ? {} : { source: inventory.clusterSource }), hosts: inventory.hosts };
}

/** Every finding of the rules about one cluster, in file order. */
export function lintCluster(subject: LintSubject): LintFinding[] {
  return findingsOf(subject, RULES);
}

// --- across clusters -----------------------------------------------------------------------------

export const CROSS_CLUSTER_RULES = {
  id: 'vrrp-router-id-unique',
  severity: 'error' as Severity,
  summary: 'keepalived clusters on one network use different virtual_router_ids',
  reason: 'VRRP routers with the same id on one segment take each other\'s advertisements for their own instance: they elect one master between them and the VIPs of both clusters flap (keepalived logs "bogus VRRP packet").',
};

/** Findings of every cluster, then those across them (one VRRP router id per network segment). */
export function lintClusters(subjects: readonly LintSubject[]): LintFinding[] {
  const findings = subjects.flatMap((subject) => lintCluster(subject));
  const seen = new Map<string, { subject: LintSubject; segment: string }>();
  for (const subject of subjects) {
    const ka = subject.cluster.keepalived;
    const primary = subject.cluster.addresses[subject.cluster.directors[0] ?? ''];
    if (ka === undefined || primary === undefined) continue;
    const network = networkOf(primary, subject.cluster.network.prefix);
    if (network === undefined) continue;
    const key = `${network}/${subject.cluster.network.prefix} ${ka.virtual_router_id}`;
    const other = seen.get(key);
    if (other === undefined) {
      seen.set(key, { subject, segment: `${network}/${subject.cluster.network.prefix}` });
      continue;
    }
    const otherWhere = locate(other.subject, ['keepalived', 'virtual_router_id']);
    findings.push({
      rule: CROSS_CLUSTER_RULES.id,
      severity: CROSS_CLUSTER_RULES.severity,
      message: `clusters ${other.subject.cluster.name} and ${subject.cluster.name} both use virtual_router_id ${ka.virtual_router_id} on ${other.segment}${otherWhere.file === undefined ? '' : ` (also at ${formatWhere(otherWhere)})`}`,
      reason: CROSS_CLUSTER_RULES.reason,
      where: locate(subject, ['keepalived', 'virtual_router_id']),
    });
  }
  return findings;
}

// --- heartbeat node names once facts are in ------------------------------------------------------

/**
 * The heartbeat node names once facts are in (`uname -n` is facts.nodename): the same rule as
 * `provision lint`, now also judging the directors whose hostname provision does not manage.
 * Directors without facts (unreachable, or limited out of the run) are judged only as lint does.
 */
export function lintNodeNames(subject: LintSubject, factsByHost: ReadonlyMap<string, Pick<Facts, 'nodename'>>): LintFinding[] {
  return findingsOf({ ...subject, facts: factsByHost }, [NODE_NAME_RULE]);
}

/**
 * What stops a host once its facts are gathered, before anything is changed on it: the errors of
 * the rules that need facts, about this host, in the words `provision lint` uses; undefined when
 * there are none.
 */
export function factsProblem(subject: LintSubject | undefined, host: string, facts: Pick<Facts, 'nodename'>): string | undefined {
  if (subject === undefined) return undefined;
  // Only what the facts add: the findings without them already stopped the run at its lint.
  const withoutFacts = new Set(lintNodeNames(subject, new Map()).map(formatFinding));
  const errors = lintNodeNames(subject, new Map([[host, facts]]))
    .filter((finding) => finding.severity === 'error')
    .map(formatFinding)
    .filter((text) => !withoutFacts.has(text));
  return errors.length === 0 ? undefined : errors.join('\n');
}

// --- output --------------------------------------------------------------------------------------

function formatWhere({ file, line, column }: Where): string {
  if (file === undefined) return '';
  return [file, line, column].filter((part) => part !== undefined).join(':');
}

/** `file:line:col: error [rule-id] message` and the reason, indented, on the next line. */
export function formatFinding(finding: LintFinding): string {
  const where = formatWhere(finding.where);
  return `${where === '' ? '' : `${where}: `}${finding.severity} [${finding.rule}] ${finding.message}\n    ${finding.reason}`;
}

export const hasErrors = (findings: readonly LintFinding[]): boolean => findings.some((finding) => finding.severity === 'error');

/** Exported for `provision lint --rules` and the tests: every rule id with its severity, summary and reason. */
export function ruleCatalogue(): { id: string; severity: Severity; summary: string; reason: string }[] {
  return [...RULES, CROSS_CLUSTER_RULES].map(({ id, severity, summary, reason }) => ({ id, severity, summary, reason }));
}
