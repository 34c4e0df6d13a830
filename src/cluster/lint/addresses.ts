// Who holds which address: no two hosts share one, the floating addresses (VIPs, the NAT gateway)
// are no host's own, a VIP is on its interface's network, and a real server known only by its
// address is configured by hand.
import type { PathSegment } from '../../inventory/yaml-file.ts';
import { networkOf, sameNetwork, serviceKey } from '../model.ts';
import { isIpv4, serviceAt, type Issue, type LintRule, type LintSubject } from './rule.ts';

const baseInterface = (name: string): string => name.replace(/:\d+$/, '');

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

export const ADDRESS_RULES: readonly LintRule[] = [
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
];
