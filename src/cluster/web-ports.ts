// The ports other than 80 on which the directors send web requests to a real server (LVS-NAT port
// mapping: { host: web1, port: 8080 }; a health check's own port), and which of the real server's
// web servers the realserver role can make listen on them. Pure; the realserver role configures the
// web servers from webPorts, and lint (realserver-port-listener) warns from unservedWebPorts when
// none of realserver.services is a web server the role knows, so that lint and the run agree: the
// run configures exactly what lint does not warn about, and neither refuses it.
import type { PathSegment } from '../inventory/yaml-file.ts';
import { keepalivedCheck, ldirectordCheck, serviceKey, type Cluster, type VirtualService } from './model.ts';

/** The web servers the realserver role makes listen on a mapped port (each is also its package's name). */
export const WEB_SERVERS = ['nginx', 'httpd', 'apache2'] as const;
export type WebServer = (typeof WEB_SERVERS)[number];

/**
 * Apache's package, service and init script: httpd on EL, apache2 on Debian and Ubuntu. The
 * tutorials (EL) say httpd; an administrator who takes one to Debian means Apache, so either name
 * is Apache, under the host's own name (the realserver role installs and starts it, a drill stops
 * it).
 */
export const APACHE = { el: 'httpd', debian: 'apache2' } as const;
export const isApache = (name: string): name is 'httpd' | 'apache2' => name === APACHE.el || name === APACHE.debian;

export interface WebPort {
  /** a schema-checked port (1-65535), never 80 */
  port: number;
  /** the services that send requests to it, e.g. "tcp 10.0.0.10:80" */
  services: string[];
  /** where the description gives it first (a key path into cluster:) */
  at: PathSegment[];
}

/**
 * The service's traffic is plain HTTP, which a web server on another port can serve: its check
 * speaks HTTP (ldirectord service http, keepalived HTTP_GET), or, with no check that says
 * otherwise, it is TCP port 80. HTTPS (ldirectord https, keepalived SSL_GET) and UDP are not: a
 * plain listener would not do, and the role configures no TLS.
 */
export function servesHttp(cluster: Cluster, service: VirtualService): boolean {
  if (service.protocol === 'udp') return false;
  if (cluster.manager === 'heartbeat') {
    const check = ldirectordCheck(cluster, service);
    if (check.service === 'https') return false;
    if (check.service === 'http' && check.checktype !== 'off') return true;
  }
  if (cluster.manager === 'keepalived' && service.check.url !== undefined) {
    const check = keepalivedCheck(service);
    if (check.type === 'SSL_GET') return false;
    if (check.type === 'HTTP_GET') return true;
  }
  return service.port === 80;
}

/** The port the service's HTTP check connects to, when the description gives it one of its own. */
function checkPort(cluster: Cluster, service: VirtualService): { port: number; at: PathSegment[] } | undefined {
  if (cluster.manager === 'heartbeat' && service.check.checkport !== undefined) return { port: service.check.checkport, at: ['check', 'checkport'] };
  if (cluster.manager === 'keepalived' && service.check.connect_port !== undefined && keepalivedCheck(service).type === 'HTTP_GET') {
    return { port: service.check.connect_port, at: ['check', 'connect_port'] };
  }
  return undefined;
}

/**
 * Every port other than 80 on which `host` receives plain HTTP from the cluster, in ascending
 * order: the port of each of its real server entries of an HTTP service (NAT maps it; DR/TUN keep
 * the service's own), and the port the service's HTTP check connects to (ldirectord checkport,
 * keepalived connect_port), which must serve the same pages. Empty for a host that is no real
 * server, or whose requests all arrive on port 80.
 */
export function webPorts(cluster: Cluster, host: string): WebPort[] {
  const ports = new Map<number, WebPort>();
  const add = (port: number | undefined, service: VirtualService, at: PathSegment[]) => {
    if (port === undefined || port === 80) return;
    const known = ports.get(port);
    const label = serviceKey(service);
    if (known === undefined) ports.set(port, { port, services: [label], at });
    else if (!known.services.includes(label)) known.services.push(label);
  };
  cluster.virtual_services.forEach((service, index) => {
    if (!servesHttp(cluster, service)) return;
    const entries = service.realservers.flatMap((server, serverIndex) => (server.host === host ? [{ server, serverIndex }] : []));
    if (entries.length === 0) return;
    for (const { server, serverIndex } of entries) add(server.port, service, ['virtual_services', index, 'realservers', serverIndex, 'port']);
    const check = checkPort(cluster, service);
    if (check !== undefined) add(check.port, service, ['virtual_services', index, ...check.at]);
  });
  return [...ports.values()].sort((a, b) => a.port - b.port);
}

/** The entries of realserver.services the role makes listen on the web ports, in their order. */
export function configuredWebServers(cluster: Cluster): WebServer[] {
  return cluster.realserver.services.filter(isWebServer);
}

export const isWebServer = (name: string): name is WebServer => (WEB_SERVERS as readonly string[]).includes(name);

/**
 * The web ports of `host` that nothing provision configures will listen on: all of them when
 * realserver.services names none of WEB_SERVERS (the run then writes no listener, and lint warns),
 * else none.
 */
export function unservedWebPorts(cluster: Cluster, host: string): WebPort[] {
  return configuredWebServers(cluster).length > 0 ? [] : webPorts(cluster, host);
}
