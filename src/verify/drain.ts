// `provision drain HOST` / `undrain HOST`, the pure part: which IPVS entries a real server has, the
// ipvsadm commands that set their weight (0 to drain, the described weight to put it back), as the
// tutorials do by hand (`ipvsadm -e -t VIP:PORT -r RIP:PORT -g -w 0`), and the reading of the
// connections still open to it (`ipvsadm -Ln`).
import { quote } from '../core/shell.ts';
import type { Cluster, VirtualService } from '../cluster/model.ts';
import { serviceSelector, ipvsServices } from '../cluster/ipvs.ts';

export interface RealServerEntry {
  service: VirtualService;
  /** the selector ipvsadm knows the service by, e.g. ['-t', '10.0.0.1:80'] */
  selector: string[];
  /** RIP:PORT as ipvsadm prints it */
  real: string;
  /** the weight the description gives it */
  weight: number;
}

/**
 * The real server entries of `target`: an inventory host serving the cluster, or a real server's
 * address or name as the description gives it. Empty when it serves nothing.
 */
export function realServerEntries(cluster: Cluster, target: string): RealServerEntry[] {
  const views = ipvsServices(cluster);
  const entries: RealServerEntry[] = [];
  cluster.virtual_services.forEach((service, s) => {
    const view = views[s]!;
    service.realservers.forEach((server, r) => {
      if (server.host !== target && server.address !== target && server.name !== target) return;
      const port = view.reals[r]!.port;
      // Direct routing and tunnelling keep the service's port (ipvsadm forces it), as the rules do.
      const shownPort = service.protocol !== 'fwmark' && service.forwarding !== 'nat' ? (service.port ?? port) : port;
      entries.push({ service, selector: serviceSelector(view), real: `${server.address}:${shownPort}`, weight: server.weight });
    });
  });
  return entries;
}

/**
 * The script that sets each entry's weight on a director, where the director has the entry (a
 * standby director's empty table is left alone). The forwarding method is given again: ipvsadm -e
 * would otherwise reset it to direct routing.
 */
export function setWeightScript(entries: RealServerEntry[], weight: (entry: RealServerEntry) => number): string {
  const lines = entries.map((entry) => {
    const selector = entry.selector.map(quote).join(' ');
    const method = { dr: '-g', nat: '-m', tun: '-i' }[entry.service.forwarding];
    return [
      `if ipvsadm -L -n ${selector} 2>/dev/null | grep -q -- ${quote(`-> ${entry.real} `)}; then`,
      `  ipvsadm -e ${selector} -r ${quote(entry.real)} ${method} -w ${weight(entry)} && printf 'set %s %s\\n' ${quote(`${entry.selector.join(' ')}`)} ${quote(entry.real)}`,
      'fi',
    ].join('\n');
  });
  return ['command -v ipvsadm >/dev/null 2>&1 || { echo "ipvsadm is not installed" >&2; exit 127; }', ...lines].join('\n');
}

export interface IpvsConnections {
  /** "TCP 10.0.0.1:80" or "FWM 5" -> real "RIP:PORT" -> weight and connections */
  services: Map<string, Map<string, { weight: number; active: number; inactive: number; method: string }>>;
}

/** `ipvsadm -Ln`: the weight and connection counts of every real server. */
export function parseIpvsList(stdout: string): IpvsConnections {
  const services = new Map<string, Map<string, { weight: number; active: number; inactive: number; method: string }>>();
  let current: Map<string, { weight: number; active: number; inactive: number; method: string }> | undefined;
  for (const line of stdout.split('\n')) {
    const service = /^(TCP|UDP|FWM)\s+(\S+)\s/.exec(line);
    if (service) {
      current = new Map();
      services.set(`${service[1]} ${service[2]}`, current);
      continue;
    }
    const real = /^\s+->\s+(\S+)\s+(\S+)\s+(\d+)\s+(\d+)\s+(\d+)/.exec(line);
    if (real && current && real[1] !== 'RemoteAddress:Port') {
      current.set(real[1]!, { method: real[2]!, weight: Number(real[3]), active: Number(real[4]), inactive: Number(real[5]) });
    }
  }
  return { services };
}

/** How `ipvsadm -Ln` names an entry's service. */
export function listedServiceName(entry: RealServerEntry): string {
  const [flag, value] = entry.selector;
  return `${flag === '-t' ? 'TCP' : flag === '-u' ? 'UDP' : 'FWM'} ${value}`;
}

/** Active connections to the entries in a director's `ipvsadm -Ln` (entries it lacks count 0). */
export function activeConnections(list: IpvsConnections, entries: RealServerEntry[]): number {
  return entries.reduce((sum, entry) => sum + (list.services.get(listedServiceName(entry))?.get(entry.real)?.active ?? 0), 0);
}

