// `provision drill`, the pure part: the faults that apply to a cluster (how to cause each, how to
// undo it, what bounds the description sets), the client's steady stream of requests to the VIP,
// and what the stream says about an outage.
import { quote } from '../core/shell.ts';
import { keepalivedCheck, ldirectordCheck, ldirectordTimeout, type Cluster, type VirtualService } from '../cluster/model.ts';
import { APACHE, isApache } from '../cluster/web-ports.ts';
import { fetchScript, vipUrl } from './observe.ts';
import { httpCheckOf } from './plan.ts';

/** The faults, by the name --faults takes. */
export const FAULTS = ['realserver', 'manager', 'crash', 'link'] as const;
export type FaultName = (typeof FAULTS)[number];
/** What runs without --faults: the faults that leave every host up. */
export const DEFAULT_FAULTS: readonly FaultName[] = ['realserver', 'manager'];

export const FAULT_DESCRIPTIONS: Record<FaultName, string> = {
  realserver: "a real server's web service stops, then starts again",
  manager: "the active director's failover manager stops, then starts again (failover, then failback as the description says)",
  crash: 'the active director dies (a lab VM is killed; another host is rebooted at once with sysrq), then comes back',
  link: "the heartbeat link is cut on the backup director, then restored (a split brain is expected and reported)",
};

/** The service a drill sends its requests to and takes a real server of: the first HTTP one. */
export function drillService(cluster: Cluster): VirtualService | undefined {
  return cluster.virtual_services.find((service) => httpCheckOf(cluster, service) !== undefined);
}

/** The manager's init script name on the directors. */
export function managerService(cluster: Cluster): string | undefined {
  return { heartbeat: 'heartbeat', keepalived: 'keepalived', piranha: 'pulse', none: undefined }[cluster.manager];
}

/**
 * Starts or stops a service by its init script, whatever the init system. Apache, by either name,
 * under the host's own (as the realserver role installed it).
 */
export function serviceScript(service: string, action: 'start' | 'stop'): string {
  const name = isApache(service) ? `"$(if [ -e /etc/debian_version ]; then echo ${APACHE.debian}; else echo ${APACHE.el}; fi)"` : quote(service);
  return `s=${name}; if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then systemctl ${action} "$s"; elif command -v service >/dev/null 2>&1; then service "$s" ${action}; else "/etc/init.d/$s" ${action}; fi`;
}

/**
 * How long a failing real server may stay in the table: ldirectord notices it within checkinterval +
 * the check's timeout (ldirectordTimeout); keepalived after its retries (delay_loop, then retry x
 * (connect_timeout + delay_before_retry)).
 */
export function realServerRemovalBound(cluster: Cluster, service: VirtualService): number {
  if (cluster.manager === 'keepalived') {
    const check = keepalivedCheck(service);
    return check.delay_loop + (check.retry + 1) * (check.connect_timeout + check.delay_before_retry);
  }
  const check = ldirectordCheck(cluster, service);
  return check.checkinterval + ldirectordTimeout(check);
}

/** How long the backup may take to notice the active director is gone. */
export function detectionBound(cluster: Cluster): number {
  if (cluster.manager === 'heartbeat') return cluster.heartbeat!.deadtime;
  if (cluster.manager === 'keepalived') return 3 * cluster.keepalived!.advert_int + 1;
  if (cluster.manager === 'piranha') return cluster.piranha!.deadtime;
  return 0;
}

/**
 * How long a cluster just started may take to serve as described: heartbeat waits initdead before
 * it takes the VIP (keepalived about three adverts), then the manager's first checks add the real
 * servers.
 */
export function settleBound(cluster: Cluster): number {
  const start = cluster.manager === 'heartbeat' ? cluster.heartbeat!.initdead : detectionBound(cluster);
  const checks = Math.max(0, ...cluster.virtual_services.map((service) => realServerRemovalBound(cluster, service)));
  return start + checks;
}

/** Whether the primary takes the VIP back when it returns (heartbeat auto_failback, VRRP preemption). */
export function failsBack(cluster: Cluster): boolean {
  if (cluster.manager === 'heartbeat') return cluster.heartbeat!.auto_failback === 'on';
  if (cluster.manager === 'keepalived') {
    const k = cluster.keepalived!;
    const [primary, backup] = cluster.directors;
    return !k.nopreempt && (k.priority[primary!] ?? 0) > (k.priority[backup!] ?? 0);
  }
  return false;
}

/**
 * The interfaces heartbeat's links use on `director` that are not the service network's (cutting
 * them leaves clients served): the link drill cuts these. Empty when heartbeat talks over the
 * service network, where a cut would be an outage, not a split brain.
 */
export function heartbeatOnlyLinks(cluster: Cluster): string[] {
  const hb = cluster.heartbeat;
  if (!hb) return [];
  const service = new Set([cluster.network.interface, ...cluster.virtual_services.map((s) => s.interface.replace(/:.*$/, ''))]);
  const links = [...hb.ucast.map((u) => u.interface), ...hb.bcast, ...hb.mcast.map((m) => m.interface)];
  if (links.length === 0 || hb.serial.length > 0) return [];
  return links.every((link) => !service.has(link)) ? [...new Set(links)] : [];
}

/**
 * The client's request stream: a new connection to `url` every `intervalMs`, each printed as
 * `req STATUS FIRSTLINE` (000: no answer within a second; the first non-blank line of the page, up
 * to 120 characters, tells which real server answered), until its stdin ends or `maxSeconds` pass.
 */
export function streamScript(url: string, maxSeconds: number, intervalMs = 100): string {
  const fetch = fetchScript(url, 1);
  return `__provision_main() {
( provision_end=$(( $(date +%s) + ${Math.ceil(maxSeconds)} ))
  while [ "$(date +%s)" -lt "$provision_end" ]; do
    provision_r=$( { ${fetch}
} 2>/dev/null </dev/null )
    case $provision_r in (*'@@status '*) provision_s=\${provision_r##*@@status } ;; (*) provision_s=000 ;; esac
    provision_b=$(printf '%s\\n' "$provision_r" | tr -d '\\r' | sed -n '/^@@status /q; /[^[:space:]]/{p;q;}' | cut -c1-120)
    printf 'req %s %s\\n' "$(printf '%s' "$provision_s" | head -n 1)" "$provision_b"
    sleep ${(intervalMs / 1000).toFixed(1)}
  done ) &
provision_loop=$!
while IFS= read -r provision_line; do :; done
kill "$provision_loop" 2>/dev/null
wait "$provision_loop" 2>/dev/null
exit 0
}
__provision_main
`;
}

export interface Sample {
  /** when the controller read the line, ms */
  at: number;
  ok: boolean;
  /** the first non-blank line of the page that answered */
  firstLine?: string;
}

/** Reads `req STATUS FIRSTLINE` lines as they come. */
export function sampleCollector(now: () => number, into: Sample[]): (chunk: string) => void {
  let buffer = '';
  return (chunk) => {
    buffer += chunk;
    let newline: number;
    while ((newline = buffer.indexOf('\n')) !== -1) {
      const line = buffer.slice(0, newline).trim();
      buffer = buffer.slice(newline + 1);
      const m = /^req (\d{3})(?: (.*))?$/.exec(line);
      if (!m) continue;
      const ok = Number(m[1]) >= 200 && Number(m[1]) < 400;
      const firstLine = m[2]?.trim();
      into.push(ok && firstLine ? { at: now(), ok, firstLine } : { at: now(), ok });
    }
  };
}

export interface Outage {
  requests: number;
  failed: number;
  /** from the last answer before the first failure to the first answer after the last one, ms */
  durationMs: number;
}

/** The failed requests among the samples from `from` to `to`, and how long answers stopped. */
export function outageOf(samples: readonly Sample[], from: number, to: number): Outage {
  const window = samples.filter((s) => s.at >= from && s.at <= to);
  const failedIndexes = window.flatMap((s, i) => (s.ok ? [] : [i]));
  if (failedIndexes.length === 0) return { requests: window.length, failed: 0, durationMs: 0 };
  const first = failedIndexes[0]!;
  const last = failedIndexes.at(-1)!;
  const before = first > 0 ? window[first - 1]!.at : from;
  const after = last + 1 < window.length ? window[last + 1]!.at : to;
  return { requests: window.length, failed: failedIndexes.length, durationMs: after - before };
}

/** The first non-blank line of a page, as the stream prints it: what tells the real servers apart. */
export function firstLineOf(page: string): string | undefined {
  const line = page.split('\n').map((l) => l.replace(/\r$/, '').trim()).find((l) => l !== '');
  return line === undefined ? undefined : line.slice(0, 120);
}

/**
 * Which real server answered, by the first line of its own index page: a map from that line to the
 * server's name, or an empty map when two pages begin alike (or one could not be read).
 */
export function serversByFirstLine(pages: ReadonlyArray<{ server: string; page: string | undefined }>): Map<string, string> {
  const lines = pages.map((p) => (p.page === undefined ? undefined : firstLineOf(p.page)));
  const distinct = lines.every((line, i) => line !== undefined && lines.indexOf(line) === i);
  return distinct ? new Map(pages.map((p, i) => [lines[i]!, p.server])) : new Map();
}

/** `ip -o -4 addr show; echo @@ipvs; ipvsadm -Sn`: what the pollers read on a director. */
export const DIRECTOR_STATE_SCRIPT = 'ip -o -4 addr show; echo @@ipvs; ipvsadm -Sn 2>/dev/null';

export function splitDirectorState(stdout: string): { addresses: string; ipvs: string } {
  const at = stdout.indexOf('@@ipvs\n');
  return at === -1 ? { addresses: stdout, ipvs: '' } : { addresses: stdout.slice(0, at), ipvs: stdout.slice(at + 7) };
}

export { vipUrl };
