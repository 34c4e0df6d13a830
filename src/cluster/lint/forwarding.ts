// How LVS forwards a request, and what each method needs of the network: DR real servers on the
// directors' segment, NAT real servers routing back through the floating gateway (and not being
// directors), the directors forwarding IPv4 for NAT, a different real server port only with NAT,
// and a web server the realserver role makes listen on that port.
import { defaultGatewayConflict } from '../gateway.ts';
import { networkOf, realServerHosts, sameNetwork, serviceKey } from '../model.ts';
import { unservedWebPorts, WEB_SERVERS } from '../web-ports.ts';
import { inventoryVar, isIpv4, serviceAt, type Issue, type LintRule } from './rule.ts';

export const FORWARDING_RULES: readonly LintRule[] = [
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
    id: 'realserver-default-gateway',
    severity: 'error',
    summary: "a real server's default_gateway (base role) agrees with the gateway the description gives it",
    reason:
      "The realserver role sets a real server's default gateway from the description (NAT: the floating nat.gateway; DR/TUN: the router); the base role's default_gateway would write another GATEWAY= line and route, and each role would change it back on every run. Directors are not judged: there default_gateway overrides network.gateway.",
    check: ({ cluster, hosts }) => {
      const issues: Issue[] = [];
      for (const name of realServerHosts(cluster)) {
        const value = inventoryVar(hosts.get(name), 'default_gateway');
        const conflict = typeof value === 'string' ? defaultGatewayConflict(cluster, name, value) : undefined;
        if (conflict !== undefined) issues.push({ message: conflict, at: { host: name } });
      }
      return issues;
    },
  },
  {
    id: 'realserver-port-listener',
    severity: 'warning',
    summary: 'a real server port other than 80 has a web server the realserver role makes listen on it',
    reason:
      'The realserver role makes the web servers it knows (nginx, httpd, apache2 in realserver.services) listen on every port other than 80 that the directors send a real server web requests to (a NAT port mapping, an HTTP check\'s own port), serving the document root it writes the check pages to. Any other service it only installs and starts: unless it listens there by itself, the health checks fail and the virtual service has no real server.',
    check: ({ cluster }) => {
      const issues: Issue[] = [];
      const named = cluster.realserver.services;
      for (const host of realServerHosts(cluster)) {
        for (const { port, services, at } of unservedWebPorts(cluster, host)) {
          const have = named.length === 0 ? 'realserver.services names no web server' : `realserver.services (${named.join(', ')}) names no web server the realserver role configures (${WEB_SERVERS.join(', ')})`;
          issues.push({
            message: `${services.join(', ')}: real server ${host} gets its requests on port ${port}, but ${have}, so nothing provision writes makes it listen there: configure ${named.length === 0 ? 'its web server' : named.join(', ')} to listen on ${port} and serve ${cluster.realserver.document_root} yourself, or add one of ${WEB_SERVERS.join(', ')} to realserver.services`,
            at,
          });
        }
      }
      return issues;
    },
  },
];
