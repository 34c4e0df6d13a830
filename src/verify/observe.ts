// What `provision verify` reads on each host of a live cluster, as read-only shell snippets (pure).
// Every host gets one execution that runs all of its observations (the runner's probe script format,
// batch.ts); what each printed is the evidence of the checks (checks.ts) that read it.
//
// Requests to the services are observations too, of the host they are sent from: the client sends
// them through the VIP, and a director (which reaches every real server, also behind NAT) fetches
// each real server's pages directly.
import { quote } from '../core/shell.ts';
import { isDirector, usesForwarding, type Cluster, type VirtualService } from '../cluster/model.ts';
import { realServerView } from '../../roles/realserver/view.ts';
import { LDIRECTORD_CF } from '../../roles/ldirectord/render.ts';
import { KEEPALIVED_CONF } from '../../roles/keepalived/render.ts';

/**
 * Every ARP rule in force, whichever tool loaded it: the nft rules (arptables-nft) and, when the
 * legacy table exists in this network namespace (/proc/net/arp_tables_names; listing it with the
 * legacy tool would create it), the legacy ones, with the legacy tool under whatever name it has
 * (arptables-legacy; arptables on EL7; arptables_jf's arptables on EL5/EL6). Both kinds filter
 * ARP at once, and the `arptables` alternative shows only one of them: on Debian installing
 * iptables turns it from legacy to nft.
 */
const ARPTABLES_IN_FORCE = [
  'if command -v arptables-nft >/dev/null 2>&1; then arptables-nft -L -n 2>/dev/null; fi',
  'if grep -qx filter /proc/net/arp_tables_names 2>/dev/null; then',
  '  for provision_t in arptables-legacy arptables arptables_jf; do',
  '    if command -v "$provision_t" >/dev/null 2>&1 && ! "$provision_t" --version 2>&1 | grep -q nf_tables; then "$provision_t" -L -n; break; fi',
  '  done',
  'fi',
  // No tool at all is what fails: no rules listed is an answer the check reads.
  'command -v arptables-nft >/dev/null 2>&1 || command -v arptables >/dev/null 2>&1 || command -v arptables_jf >/dev/null 2>&1',
].join('\n');

export interface Observation {
  /** unique per host; the checks look observations up by it */
  key: string;
  /** what a person would type to see the same (shown as the evidence) */
  command: string;
  script: string;
}

/** The services a daemon of the cluster's manager runs as, and how to spot its process. */
export interface ManagerProcess {
  service: string;
  /** a process whose command line contains this runs the daemon */
  pattern: string;
}

export const MANAGER_PROCESSES = {
  heartbeat: { service: 'heartbeat', pattern: 'heartbeat: master control process' },
  ldirectord: { service: 'ldirectord', pattern: 'ldirectord' },
  keepalived: { service: 'keepalived', pattern: 'keepalived' },
  pulse: { service: 'pulse', pattern: 'pulse' },
} as const satisfies Record<string, ManagerProcess>;

const addresses: Observation = { key: 'addresses', command: 'ip -o -4 addr show', script: 'ip -o -4 addr show' };

const processes: Observation = {
  key: 'processes',
  command: 'ps -e -o args=',
  // Without procps (a minimal image), the command lines straight from /proc.
  script: [
    'if command -v ps >/dev/null 2>&1; then ps -e -o args=',
    "else for provision_p in /proc/[0-9]*; do [ -r \"$provision_p/cmdline\" ] && tr '\\0' ' ' <\"$provision_p/cmdline\" && echo; done; fi",
  ].join('\n'),
};

/** Whether each service starts at boot: `NAME enabled|disabled`, from systemd or the rc links. */
export function bootObservation(services: readonly string[]): Observation {
  const list = services.map(quote).join(' ');
  return {
    key: 'boot',
    command: `systemctl is-enabled ${services.join(' ')} (or the /etc/rc?.d links)`,
    script: [
      'if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then',
      `  for provision_s in ${list}; do printf '%s %s\\n' "$provision_s" "$(systemctl is-enabled "$provision_s" 2>/dev/null || :)"; done`,
      'else',
      `  for provision_s in ${list}; do`,
      '    provision_state=disabled',
      '    for provision_link in /etc/rc[2345].d/S[0-9][0-9]"$provision_s" /etc/rc.d/rc[2345].d/S[0-9][0-9]"$provision_s"; do [ -e "$provision_link" ] && provision_state=enabled; done',
      `    printf '%s %s\\n' "$provision_s" "$provision_state"`,
      '  done',
      'fi',
    ].join('\n'),
  };
}

/** The daemons the manager runs on its directors (ldirectord only where heartbeat starts it). */
export function managerServices(cluster: Cluster): ManagerProcess[] {
  switch (cluster.manager) {
    case 'heartbeat':
      return cluster.ldirectord?.enabled === false ? [MANAGER_PROCESSES.heartbeat] : [MANAGER_PROCESSES.heartbeat, MANAGER_PROCESSES.ldirectord];
    case 'keepalived':
      return [MANAGER_PROCESSES.keepalived];
    case 'piranha':
      return [MANAGER_PROCESSES.pulse];
    case 'none':
      return [];
  }
}

/** A host's observations, except the HTTP requests (httpObservations). */
export function hostObservations(cluster: Cluster, host: string): Observation[] {
  const out: Observation[] = [];
  const director = isDirector(cluster, host);
  const realServer = realServerView(cluster, host);
  if (director || realServer) out.push(addresses);
  if (director) {
    out.push({ key: 'ipvs', command: 'ipvsadm -Sn', script: 'ipvsadm -Sn' });
    const services = managerServices(cluster);
    if (services.length > 0) out.push(processes, bootObservation(services.map((s) => s.service)));
    const configTest = configTestObservation(cluster);
    if (configTest) out.push(configTest);
    if (usesForwarding(cluster, 'nat')) {
      out.push({ key: 'ip_forward', command: 'cat /proc/sys/net/ipv4/ip_forward', script: 'cat /proc/sys/net/ipv4/ip_forward' });
    }
  }
  if (realServer) {
    if (realServer.loopbackVips.length + realServer.tunnelVips.length > 0) {
      if (realServer.arp === 'sysctl') {
        const interfaces = ['all', ...realServer.arpInterfaces, ...(realServer.tunnelVips.length > 0 ? ['tunl0'] : [])];
        out.push({
          key: 'arp',
          command: `sysctl ${interfaces.flatMap((i) => [`net.ipv4.conf.${i}.arp_ignore`, `net.ipv4.conf.${i}.arp_announce`]).join(' ')}`,
          script: `for provision_i in ${[...new Set(interfaces)].map((i) => quote(i.replaceAll('.', '/'))).join(' ')}; do provision_d=/proc/sys/net/ipv4/conf/$provision_i; printf '%s %s %s\\n' "$provision_i" "$(cat "$provision_d/arp_ignore" 2>/dev/null || echo -)" "$(cat "$provision_d/arp_announce" 2>/dev/null || echo -)"; done`,
        });
      } else {
        out.push({ key: 'arptables', command: 'arptables -L -n (nft and legacy)', script: ARPTABLES_IN_FORCE });
      }
    }
    if (realServer.gateway) out.push({ key: 'route', command: 'ip -4 route show default', script: 'ip -4 route show default' });
  }
  return out;
}

/**
 * The manager's own reading of its configuration: `keepalived --config-test`, or ldirectord parsing
 * ldirectord.cf (any action parses it first; `status` changes nothing). Heartbeat has no such check.
 */
export function configTestObservation(cluster: Cluster): Observation | undefined {
  if (cluster.manager === 'keepalived') {
    const command = `keepalived --config-test -f ${KEEPALIVED_CONF}`;
    return { key: 'config-test', command, script: `${command} 2>&1` };
  }
  if (cluster.manager === 'heartbeat' && cluster.ldirectord?.enabled !== false) {
    const command = `ldirectord ${LDIRECTORD_CF} status`;
    return { key: 'config-test', command, script: `${command} 2>&1` };
  }
  return undefined;
}

/** An HTTP GET a host sends during verify. */
export interface HttpRequest {
  /** observation key: http:<n> */
  key: string;
  url: string;
}

/**
 * A POSIX-sh fetch of `url` with whatever the host has (curl, wget, perl, python3): the body, then
 * a marker line with the HTTP status (000 when nothing answered). Every request is a new TCP
 * connection, so the director schedules each one.
 */
export function fetchScript(url: string, timeoutSeconds = 5): string {
  const u = quote(url);
  const t = String(timeoutSeconds);
  const perl = [
    'use IO::Socket::INET;',
    'my ($h, $p, $path) = $ARGV[0] =~ m{^http://([^/:]+):?(\\d*)(/.*)?$} or exit 3;',
    '$p ||= 80; $path ||= "/";',
    'my $s = IO::Socket::INET->new(PeerAddr => $h, PeerPort => $p, Timeout => $ARGV[1]) or do { print "\\n\\@\\@status 000\\n"; exit 0 };',
    'print $s "GET $path HTTP/1.0\\r\\nHost: $h\\r\\nConnection: close\\r\\n\\r\\n";',
    'local $/; my $r = <$s> // ""; my ($head, $body) = split /\\r?\\n\\r?\\n/, $r, 2; my ($code) = ($head // "") =~ m{^HTTP/\\S+ (\\d+)};',
    'print $body // ""; print "\\n\\@\\@status ", ($code // "000"), "\\n";',
  ].join(' ');
  return [
    'if command -v curl >/dev/null 2>&1; then',
    `  curl -s -m ${t} -o - -w '\\n@@status %{http_code}\\n' ${u} || printf '\\n@@status 000\\n'`,
    'elif command -v wget >/dev/null 2>&1; then',
    // wget says nothing of the status on success; a failure is "no answer" or an error status.
    `  if wget -q -T ${t} -t 1 -O - ${u}; then printf '\\n@@status 200\\n'; else printf '\\n@@status 000\\n'; fi`,
    'elif command -v perl >/dev/null 2>&1; then',
    `  perl -e ${quote(perl)} ${u} ${t}`,
    'else',
    "  echo 'no curl, wget or perl to send the request with' >&2; exit 127",
    'fi',
  ].join('\n');
}

/** Body and status of a fetchScript run; status 0 when the host had no tool or nothing answered. */
export function parseFetch(stdout: string): { body: string; status: number } {
  const match = /\n@@status (\d{3})\n?$/.exec(stdout);
  if (!match) return { body: stdout, status: 0 };
  return { body: stdout.slice(0, match.index), status: Number(match[1]) };
}

/** Where a real server's page is reached directly: its address and port for this service. */
export function directUrl(service: VirtualService, server: VirtualService['realservers'][number], path: string): string {
  return `http://${server.address}:${server.port ?? service.port ?? 80}/${path.replace(/^\/+/, '')}`;
}

export function vipUrl(service: VirtualService, path = ''): string {
  return `http://${service.vip}:${service.port ?? 80}/${path.replace(/^\/+/, '')}`;
}
