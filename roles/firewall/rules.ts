// The packets a cluster host must accept, from the cluster description; pure. Directors: the
// failover manager's heartbeats from the peer (heartbeat udp 694 or the configured udpport, VRRP
// IP protocol 112, piranha's pulse udp 539) and the virtual services' ports on the VIPs; NAT
// directors also forward the real servers' replies, and masquerade the real servers' own
// connections to the outside (the tutorial's `ipchains -P forward MASQ`). Real servers: their
// services' ports (and the checks' ports), and IP-in-IP from the directors for TUN services.
import { isDirector, networkOf, servicesOf, type Cluster, type VirtualService } from '../../src/cluster/model.ts';

/** Connection tracking states, in the order iptables-save prints them. */
export const CONNTRACK_STATES = ['INVALID', 'NEW', 'RELATED', 'ESTABLISHED'] as const;
export type ConntrackState = (typeof CONNTRACK_STATES)[number];

export interface FirewallRule {
  /** default: filter */
  table?: 'filter' | 'nat';
  chain: 'INPUT' | 'FORWARD' | 'POSTROUTING';
  /** why the rule exists, for comments and task names */
  purpose: string;
  /** tcp, udp, or an IP protocol number (112 VRRP, 4 IP-in-IP); default: every protocol */
  protocol?: 'tcp' | 'udp' | number;
  /** an address, or a subnet as A.B.C.D/NN */
  source?: string;
  /** an address, or a subnet as A.B.C.D/NN */
  destination?: string;
  inInterface?: string;
  outInterface?: string;
  dport?: number;
  sport?: number;
  /** matched with -m state (EL5's iptables has no -m conntrack --ctstate) */
  state?: ConntrackState[];
  /** default: ACCEPT */
  target?: 'ACCEPT' | 'MASQUERADE';
}

const peersOf = (cluster: Cluster, host: string): string[] => cluster.directors.filter((d) => d !== host);

function directorRules(cluster: Cluster, host: string): FirewallRule[] {
  const rules: FirewallRule[] = [];
  const peers = peersOf(cluster, host);
  const heartbeat = cluster.heartbeat;
  if (cluster.manager === 'heartbeat' && heartbeat !== undefined) {
    const port = heartbeat.udpport;
    // Each path as heartbeat uses it: unicast from the peer's address on the link; broadcast and
    // multicast from whatever address the peer has there, so only the interface is known.
    for (const path of heartbeat.ucast) {
      for (const peer of peers) {
        const source = path.addresses[peer];
        if (source !== undefined) rules.push({ chain: 'INPUT', purpose: `heartbeat from ${peer} (ucast ${path.interface})`, protocol: 'udp', source, inInterface: path.interface, dport: port });
      }
    }
    for (const device of heartbeat.bcast) rules.push({ chain: 'INPUT', purpose: `heartbeat (bcast ${device})`, protocol: 'udp', inInterface: device, dport: port });
    for (const path of heartbeat.mcast) rules.push({ chain: 'INPUT', purpose: `heartbeat (mcast ${path.group} on ${path.interface})`, protocol: 'udp', inInterface: path.interface, dport: path.port });
  }
  if (cluster.manager === 'keepalived' && cluster.keepalived !== undefined) {
    rules.push({ chain: 'INPUT', purpose: `VRRP advertisements (keepalived on ${cluster.keepalived.interface})`, protocol: 112, inInterface: cluster.keepalived.interface });
  }
  if (cluster.manager === 'piranha' && cluster.piranha !== undefined) {
    for (const peer of peers) {
      const source = cluster.addresses[peer];
      if (source !== undefined) rules.push({ chain: 'INPUT', purpose: `pulse heartbeat from ${peer}`, protocol: 'udp', source, dport: cluster.piranha.heartbeat_port });
    }
  }
  for (const service of cluster.virtual_services) {
    if (service.protocol === 'fwmark' || service.port === undefined) continue;
    rules.push({ chain: 'INPUT', purpose: `clients of ${service.name}`, protocol: service.protocol, destination: service.vip, dport: service.port });
    if (service.forwarding !== 'nat') continue;
    // IPVS rewrites a NAT reply after the filter's FORWARD chain has seen it with the real
    // server's address: that is what must pass.
    for (const server of service.realservers) {
      if (server.port === undefined) continue;
      rules.push({ chain: 'FORWARD', purpose: `replies of ${server.name} to clients of ${service.name}`, protocol: service.protocol, source: server.address, sport: server.port });
    }
  }
  rules.push(...masqueradeRules(cluster));
  return rules;
}

/** The device of an interface name: iptables matches devices, and eth0:1 is an address label. */
const device = (name: string): string => name.split(':')[0] ?? name;

/**
 * A NAT director is the real servers' default gateway (nat.gateway): their own connections (updates,
 * DNS, mail) leave through it, masqueraded behind its outside address, and their answers come back.
 * LVS-NAT replies do not need the MASQUERADE rule and are not changed by it: IPVS rewrites their
 * source to the VIP in FORWARD (so -s no longer matches) and marks them untracked (conntrack off,
 * the default), all before nat POSTROUTING, whose rules only see the first packet of a tracked
 * connection.
 */
function masqueradeRules(cluster: Cluster): FirewallRule[] {
  const nat = cluster.nat;
  if (nat === undefined || !cluster.virtual_services.some((s) => s.forwarding === 'nat')) return [];
  // The schema admits only IPv4 addresses as nat.gateway.
  const network = networkOf(nat.gateway, nat.prefix);
  if (network === undefined) return [];
  const subnet = `${network}/${nat.prefix}`;
  const inside = device(nat.interface);
  return [
    { table: 'nat', chain: 'POSTROUTING', purpose: `connections of the NAT real servers (${subnet}) to the outside, masqueraded`, source: subnet, outInterface: device(cluster.network.interface), target: 'MASQUERADE' },
    { chain: 'FORWARD', purpose: `connections of the NAT real servers (${subnet}) out`, source: subnet, inInterface: inside },
    { chain: 'FORWARD', purpose: `answers to the connections of the NAT real servers (${subnet})`, destination: subnet, outInterface: inside, state: ['RELATED', 'ESTABLISHED'] },
  ];
}

/** The port a check connects to, when it is not the service's. */
function checkPort(service: VirtualService): number | undefined {
  return service.check.checkport ?? service.check.connect_port;
}

function realServerRules(cluster: Cluster, host: string): FirewallRule[] {
  const rules: FirewallRule[] = [];
  for (const service of servicesOf(cluster, host)) {
    if (service.protocol === 'fwmark') continue;
    const protocol = service.protocol;
    const server = service.realservers.find((s) => s.host === host);
    const ports = new Set([server?.port ?? service.port, checkPort(service)].filter((p): p is number => p !== undefined));
    for (const port of ports) rules.push({ chain: 'INPUT', purpose: `${service.name} from the directors and clients`, protocol, dport: port });
    if (service.forwarding === 'tun') {
      for (const director of cluster.directors) {
        const source = cluster.addresses[director];
        if (source !== undefined && director !== host) rules.push({ chain: 'INPUT', purpose: `IP-in-IP from ${director} (${service.name})`, protocol: 4, source });
      }
    }
  }
  return rules;
}

/** Every rule `host` needs, without duplicates (the first purpose wins), directors' first. */
export function firewallRules(cluster: Cluster, host: string): FirewallRule[] {
  const rules = [...(isDirector(cluster, host) ? directorRules(cluster, host) : []), ...realServerRules(cluster, host)];
  const seen = new Set<string>();
  return rules.filter((rule) => {
    const key = JSON.stringify({ ...rule, purpose: undefined });
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
