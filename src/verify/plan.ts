// What `provision verify` reads where, for a cluster description (pure): each host's observations
// (observe.ts) and the HTTP requests that prove the services, which are observations of the host
// that sends them.
import { keepalivedCheck, ldirectordCheck, type Cluster, type VirtualService } from '../cluster/model.ts';
import { directUrl, fetchScript, hostObservations, vipUrl, type Observation } from './observe.ts';

/** How a service's health check reads a real server over HTTP: the page and what proves it healthy. */
export interface HttpCheck {
  /** the path requested, with a leading slash */
  path: string;
  /** the text the page must contain (ldirectord's receive) */
  receive?: string;
  /** the status the page must have (keepalived's status_code; default: any 2xx or 3xx) */
  status?: number;
}

/**
 * How verify reads a service's real servers over HTTP: the health check's own page when the check
 * is HTTP, else the site's root for a plain-HTTP service (port 80, or ldirectord's service http)
 * whose check only connects. Undefined for other services: verify sends them nothing.
 */
export function httpCheckOf(cluster: Cluster, service: VirtualService): HttpCheck | undefined {
  if (service.protocol !== 'tcp' || service.port === undefined) return undefined;
  const slash = (path: string) => `/${path.replace(/^\/+/, '')}`;
  const root: HttpCheck | undefined = service.port === 80 ? { path: '/' } : undefined;
  if (cluster.manager === 'heartbeat') {
    const check = ldirectordCheck(cluster, service);
    if (check.service !== 'http') return undefined;
    if (check.checktype !== 'negotiate' || check.request === undefined) return { path: '/' };
    return { path: slash(check.request), ...(check.receive === undefined ? {} : { receive: check.receive }) };
  }
  if (cluster.manager === 'keepalived') {
    const check = keepalivedCheck(service);
    if (check.type === 'SSL_GET') return undefined;
    if (check.type !== 'HTTP_GET' || check.url === undefined) return root;
    return { path: slash(check.url.path), ...(check.url.status_code === undefined ? {} : { status: check.url.status_code }) };
  }
  return root;
}

export interface ServiceRequests {
  service: VirtualService;
  check: HttpCheck;
  /** who fetches the real servers' pages directly */
  directFrom: string;
  /** per real server (in the description's order): the keys of its index and check page fetches */
  direct: { index: string; check: string }[];
  /** who sends requests through the VIP, and their keys (none without a client) */
  viaVip: { from: string; keys: string[] } | undefined;
}

export interface VerifyPlan {
  /** every host's observations, in the order hosts are named */
  observations: Map<string, Observation[]>;
  services: ServiceRequests[];
  /** the host that sends requests through the VIPs, when there is one */
  client: string | undefined;
}

/** Enough requests through a VIP to see the scheduler's spread: two rounds of the weights, 4..60. */
export function requestCount(service: VirtualService): number {
  const weights = service.realservers.reduce((sum, server) => sum + Math.max(server.weight, 0), 0);
  const perRound = service.scheduler === 'wrr' ? weights : service.realservers.length;
  return Math.min(60, Math.max(4, 2 * perRound));
}

/**
 * `client`: the host that sends requests through the VIPs (a host of the group clients, or --from).
 * The real servers' pages are fetched directly from the client too, unless the service is NAT (its
 * real servers are on the directors' inside network): then from the first director.
 */
export function planVerify(cluster: Cluster, hosts: readonly string[], client: string | undefined): VerifyPlan {
  const observations = new Map<string, Observation[]>();
  for (const host of hosts) observations.set(host, hostObservations(cluster, host));
  const add = (host: string, observation: Observation) => {
    const list = observations.get(host) ?? [];
    if (!list.some((o) => o.key === observation.key)) list.push(observation);
    observations.set(host, list);
  };
  const get = (url: string): Observation => ({ key: `get ${url}`, command: `curl -s ${url}`, script: fetchScript(url) });

  const services: ServiceRequests[] = [];
  cluster.virtual_services.forEach((service, s) => {
    const check = httpCheckOf(cluster, service);
    if (check === undefined) return;
    const directFrom = client !== undefined && service.forwarding !== 'nat' ? client : cluster.directors[0]!;
    const direct = service.realservers.map((server) => {
      const index = get(directUrl(service, server, '/'));
      const page = get(directUrl(service, server, check.path));
      add(directFrom, index);
      add(directFrom, page);
      return { index: index.key, check: page.key };
    });
    let viaVip: ServiceRequests['viaVip'];
    if (client !== undefined) {
      const keys: string[] = [];
      for (let n = 0; n < requestCount(service); n++) {
        const url = vipUrl(service, '/');
        const key = `vip ${s} ${n}`;
        add(client, { key, command: `curl -s ${url}`, script: fetchScript(url) });
        keys.push(key);
      }
      viaVip = { from: client, keys };
    }
    services.push({ service, check, directFrom, direct, viaVip });
  });
  return { observations, services, client };
}
