// What one host must have to serve as an LVS real server, taken from the cluster description: the
// VIPs it accepts (on a loopback alias for direct routing, on tunl0 for tunnelling), how it keeps
// quiet about them on the LAN (ARP), its default gateway, the pages the health checks fetch and the
// services it runs. Pure; the renderers (render.ts) and the task list (index.ts) read only this.
import { OperationError } from '../../src/index.ts';
import { realServerGateway, type DefaultGateway } from '../../src/cluster/gateway.ts';
import { webPorts, type WebPort } from '../../src/cluster/web-ports.ts';
import { checkPage, isDirector, servicesOf, type ArpMethod, type Cluster, type VirtualService } from '../../src/cluster/model.ts';

export interface LoopbackVip {
  vip: string;
  /** the alias label ip(8) and ifconfig show, e.g. lo:0 (also the ifcfg/ifupdown interface name) */
  label: string;
  /** the services it serves, for comments, e.g. "tcp 192.168.2.254:80" */
  services: string[];
}

export interface TunnelVip {
  vip: string;
  services: string[];
}

export interface CheckPage {
  /** absolute path under the document root */
  path: string;
  content: string;
  /** the services whose check fetches it, for messages */
  services: string[];
}

/** An arptables rule pair of one VIP: drop ARP requests for it, and never announce it as a source. */
export interface ArpRule {
  vip: string;
  /** the real server's own address, put in place of the VIP as the ARP sender address */
  realAddress: string;
}

export interface RealServerView {
  cluster: string;
  host: string;
  /** the host's address on the cluster network (its real server address, RIP) */
  address: string;
  /**
   * The host is a director too (the tutorials' four-node and Ultra Monkey layouts): the active
   * director holds the VIP on its network interface, so the VIP is added to lo only where it is
   * not already held (see render.ts, addLoopbackVip).
   */
  alsoDirector: boolean;
  /** direct routing (DR) VIPs, on lo:0, lo:1, ... in the order of the services */
  loopbackVips: LoopbackVip[];
  /** tunnelling (TUN) VIPs, on tunl0 */
  tunnelVips: TunnelVip[];
  /** how DR/TUN VIPs are kept out of ARP (only meaningful when there are some) */
  arp: ArpMethod;
  /** interfaces that get arp_ignore/arp_announce besides `all` (sysctl names: VLAN dots become slashes later) */
  arpInterfaces: string[];
  arpRules: ArpRule[];
  /**
   * the default gateway this host must use, when the cluster decides it (see realServerGateway;
   * a director's is the base role's)
   */
  gateway?: DefaultGateway;
  /** where the check pages go (no trailing slash) */
  documentRoot: string;
  pages: CheckPage[];
  /** a health check reads the site's index page (it requests / or index.html): the page is the check's */
  checksReadIndex: boolean;
  /** services the real server runs (httpd ...), enabled at boot and started */
  services: string[];
  /**
   * the ports other than 80 the directors send this host web requests to (webPorts: a NAT port
   * mapping, an HTTP check's own port), on which its web servers must serve the document root too
   */
  webPorts: WebPort[];
}

const serviceLabel = (service: VirtualService): string =>
  service.protocol === 'fwmark' ? `fwmark ${service.fwmark ?? '?'} on ${service.vip}` : `${service.protocol} ${service.vip}:${service.port ?? '?'}`;

/** The real server settings of `host`, or undefined when it serves no virtual service. */
export function realServerView(cluster: Cluster, host: string): RealServerView | undefined {
  const services = servicesOf(cluster, host);
  if (services.length === 0) return undefined;
  const address = cluster.addresses[host];
  if (address === undefined) throw new OperationError(`realserver: the cluster has no address for ${host}; give it in cluster.addresses`);
  const alsoDirector = isDirector(cluster, host);

  const loopback = new Map<string, string[]>();
  const tunnel = new Map<string, string[]>();
  for (const service of services) {
    const table = service.forwarding === 'dr' ? loopback : service.forwarding === 'tun' ? tunnel : undefined;
    if (table) table.set(service.vip, [...(table.get(service.vip) ?? []), serviceLabel(service)]);
  }
  const { device, first } = aliasBase(cluster.realserver.loopback_alias);
  const loopbackVips = [...loopback].map(([vip, list], i) => ({ vip, label: `${device}:${first + i}`, services: list }));
  const tunnelVips = [...tunnel].map(([vip, list]) => ({ vip, services: list }));

  const arp = cluster.realserver.arp;
  if (arp === 'arptables' && alsoDirector && loopbackVips.length + tunnelVips.length > 0) {
    throw new OperationError(
      `realserver: ${host} is a director and a real server, and cluster.realserver.arp is arptables: its rule dropping ARP requests for the VIP would also silence it while it is the active director, so clients could not reach the VIP; use realserver.arp: sysctl (arp_ignore/arp_announce answer only for addresses on the receiving interface)`,
    );
  }
  const vips = [...loopbackVips.map((v) => v.vip), ...tunnelVips.map((v) => v.vip)];

  const gateway = realServerGateway(cluster, host);
  return {
    cluster: cluster.name,
    host,
    address,
    alsoDirector,
    loopbackVips,
    tunnelVips,
    arp,
    // An alias (eth0:0) has no kernel parameters of its own: its device's are the ones that count.
    arpInterfaces: [...new Set(cluster.realserver.arp_interfaces.map((name) => name.replace(/:[0-9]+$/, '')))],
    arpRules: arp === 'arptables' ? vips.map((vip) => ({ vip, realAddress: address })) : [],
    ...(gateway === undefined ? {} : { gateway }),
    documentRoot: cluster.realserver.document_root.replace(/\/+$/, '') || '/',
    pages: cluster.realserver.check_page ? checkPages(cluster, services) : [],
    checksReadIndex: services.some((service) => readsIndexPage(cluster, service)),
    services: cluster.realserver.services,
    webPorts: webPorts(cluster, host),
  };
}

/** lo:0 -> lo, 0; lo -> lo, 0 (the first VIP gets lo:0). */
function aliasBase(alias: string): { device: string; first: number } {
  const [device = 'lo', index] = alias.split(':');
  return { device, first: index === undefined ? 0 : Number(index) };
}

/** The check of `service` fetches the site's index page: it requests / or index.html (with or without a query). */
function readsIndexPage(cluster: Cluster, service: VirtualService): boolean {
  const page = checkPage(cluster, service);
  const path = page?.path.split('?')[0]?.replace(/\/+$/, '');
  return path === '' || path === 'index.html';
}

/**
 * The pages the checks fetch from this host, under the document root. A keepalived check that
 * compares a digest needs the user's own page (the digest is of its content), so none is written.
 */
function checkPages(cluster: Cluster, services: VirtualService[]): CheckPage[] {
  const root = cluster.realserver.document_root.replace(/\/+$/, '');
  const pages = new Map<string, CheckPage>();
  for (const service of services) {
    if (service.check.url?.digest !== undefined) continue;
    const page = checkPage(cluster, service);
    // No page, or the site's own index page ("/"): nothing to write.
    if (page === undefined || page.path === '') continue;
    if (page.path.split('/').some((part) => part === '..' || part === '.')) {
      throw new OperationError(`realserver: the check of ${serviceLabel(service)} requests ${JSON.stringify(page.path)}, which is not a page under the document root`);
    }
    const path = `${root}/${page.path.replace(/\/+$/, '')}`;
    // The body holds the receive text (ldirectord searches the reply for it); a check that only
    // wants a successful status gets a short body for people who open the page.
    const content = page.content === '' ? 'OK\n' : `${page.content}\n`;
    const known = pages.get(path);
    if (known && known.content !== content) {
      throw new OperationError(
        `realserver: the checks of ${known.services.join(', ')} and ${serviceLabel(service)} fetch the same page ${path} but expect different text; give them different request pages or the same receive text`,
      );
    }
    pages.set(path, { path, content, services: [...(known?.services ?? []), serviceLabel(service)] });
  }
  return [...pages.values()];
}
