// The checks of `provision verify`: what the observations of a live cluster (plan.ts, observe.ts)
// say about it, measured against its description. Pure: observations in, one result per check out,
// each with the commands and output it was judged on.
import { ipvsadmRules, ipvsServices } from '../cluster/ipvs.ts';
import { ipvsOwner, realServerHosts, vipsOf, type Cluster, type IpvsOwner, type VirtualService } from '../cluster/model.ts';
import { LDIRECTORD_CF } from '../../roles/ldirectord/render.ts';
import { realServerView, type RealServerView } from '../../roles/realserver/view.ts';
import { managerServices, parseFetch, type Observation } from './observe.ts';
import { parseAddresses, parseArp, parseBoot, parseDefaultGateways, parseIpvsRules, parseProcesses } from './parse.ts';
import type { HttpCheck, ServiceRequests, VerifyPlan } from './plan.ts';
import type { CheckResult, Evidence } from './result.ts';

export type { CheckResult, Evidence } from './result.ts';

export interface Output {
  stdout: string;
  exitCode: number;
}

export interface Observed {
  /** host -> observation key -> what it printed */
  outputs: Map<string, Map<string, Output>>;
  /** hosts that could not be reached, and why */
  unreachable: Map<string, string>;
}

/** Real server states the checks tell apart, from its health page and the active director's table. */
type ServerState = 'serving' | 'drained' | 'failing' | 'missing' | 'unknown';

/** A daemon's process, as `ps -e -o args=` shows it (ldirectord's resource script runs are not it). */
const PROCESS_PATTERNS: Record<string, RegExp> = {
  heartbeat: /heartbeat: master control process/,
  // The daemon keeps the command line it was started with ("... ldirectord ldirectord.cf start",
  // through heartbeat's resource.d link or not); a status or stop run is not the daemon.
  ldirectord: /^(?!.*\s(?:status|stop)\s*$).*\bldirectord\b/,
  keepalived: /^\S*\bkeepalived\b/,
  pulse: /^\S*\bpulse\b/,
};

export function evaluate(cluster: Cluster, plan: VerifyPlan, observed: Observed): CheckResult[] {
  const results: CheckResult[] = [];
  const observationOf = (host: string, key: string): Observation | undefined => plan.observations.get(host)?.find((o) => o.key === key);
  const outputOf = (host: string, key: string): Output | undefined => observed.outputs.get(host)?.get(key);
  const evidence = (host: string, key: string, show?: (stdout: string) => string): Evidence => {
    const output = outputOf(host, key);
    const command = observationOf(host, key)?.command ?? key;
    if (output === undefined) return { host, command, output: observed.unreachable.has(host) ? `(not run: ${observed.unreachable.get(host)!})` : '(not run)' };
    const text = show ? show(output.stdout) : output.stdout;
    return { host, command, output: `${text.trimEnd()}${output.exitCode === 0 ? '' : `\n(exit code ${output.exitCode})`}` };
  };
  const add = (check: string, subject: string, ok: boolean, detail: string, ev: Evidence[]) =>
    results.push({ check, subject, status: ok ? 'pass' : 'fail', detail, evidence: ev });

  for (const [host, why] of observed.unreachable) add('reachable', host, false, `cannot be reached: ${why}`, []);

  // --- VIPs: exactly one director holds each --------------------------------------------------
  const holders = new Map<string, string[]>();
  for (const { vip } of vipsOf(cluster)) {
    const holding = cluster.directors.filter((d) => {
      const out = outputOf(d, 'addresses');
      return out !== undefined && parseAddresses(out.stdout).some((a) => a.address === vip && a.device !== 'lo' && a.device !== 'tunl0');
    });
    holders.set(vip, holding);
    const unknown = cluster.directors.filter((d) => outputOf(d, 'addresses') === undefined);
    const ev = cluster.directors.map((d) => evidence(d, 'addresses', (s) => linesWith(s, vip, '(the VIP is not among its addresses)')));
    const note = unknown.length > 0 ? ` (${unknown.join(', ')} not observed)` : '';
    if (holding.length === 1) add('VIP holder', vip, true, `held by ${holding[0]!} only${note}`, ev);
    else if (holding.length === 0) add('VIP holder', vip, false, `no director holds it${note}: clients get no answer`, ev);
    else add('VIP holder', vip, false, `split brain: held by ${holding.join(' and ')} at once${note}`, ev);
  }
  const active = new Set([...holders.values()].flat());

  // --- real servers' pages, fetched directly: who is healthy -------------------------------------
  const health = new Map<VirtualService, Map<number, { healthy: boolean; index?: string }>>();
  for (const requests of plan.services) {
    const perServer = new Map<number, { healthy: boolean; index?: string }>();
    requests.service.realservers.forEach((server, r) => {
      const keys = requests.direct[r]!;
      const page = outputOf(requests.directFrom, keys.check);
      const index = outputOf(requests.directFrom, keys.index);
      const fetched = page && page.exitCode === 0 ? parseFetch(page.stdout) : undefined;
      const verdict = fetched ? pageVerdict(fetched, requests.check) : 'not fetched';
      const indexBody = index && index.exitCode === 0 ? parseFetch(index.stdout) : undefined;
      perServer.set(r, { healthy: verdict === 'ok', ...(indexBody && indexBody.status > 0 ? { index: indexBody.body.trim() } : {}) });
      add(
        'health page',
        `${server.name} (${requests.service.name})`,
        verdict === 'ok',
        verdict === 'ok' ? `${keysUrl(keys.check)} answers${requests.check.receive ? ` with "${requests.check.receive}"` : ''}` : `${keysUrl(keys.check)}: ${verdict}`,
        [evidence(requests.directFrom, keys.check, stripStatus)],
      );
    });
    health.set(requests.service, perServer);
  }

  // --- IPVS tables -------------------------------------------------------------------------------
  const expected = ipvsadmRules(ipvsServices(cluster)).map((args) => args.join(' '));
  const owner = ipvsOwner(cluster);
  const everyDirectorHasTable = owner === 'keepalived' || owner === 'ipvsadm-at-boot' || cluster.directors.length === 1;
  const serverStates = new Map<string, ServerState>();
  for (const director of cluster.directors) {
    const out = outputOf(director, 'ipvs');
    const ev = [evidence(director, 'ipvs')];
    if (out === undefined) continue;
    if (out.exitCode !== 0) {
      add('IPVS table', director, false, 'ipvsadm -Sn failed (is ipvsadm installed, the ip_vs module loaded?)', ev);
      continue;
    }
    const actual = parseIpvsRules(out.stdout);
    const shouldHold = everyDirectorHasTable || active.has(director);
    if (!shouldHold) {
      add('IPVS table', director, actual.length === 0, actual.length === 0 ? 'empty, as on a standby director' : `a standby director, but its table has ${actual.length} rules: ${owner} runs where it should not`, ev);
      continue;
    }
    const diff = compareTable(expected, actual, health, owner);
    for (const [address, state] of diff.states) if (active.has(director) || !serverStates.has(address)) serverStates.set(address, state);
    add('IPVS table', director, diff.problems.length === 0, diff.problems.length === 0 ? `as described (${expected.length} rules)${diff.notes.length ? `; ${diff.notes.join('; ')}` : ''}` : [...diff.problems, ...diff.notes].join('; '), ev);
  }

  // --- the failover manager's daemons -----------------------------------------------------------
  const daemons = managerServices(cluster);
  for (const director of cluster.directors) {
    const ps = outputOf(director, 'processes');
    const boot = outputOf(director, 'boot');
    if (daemons.length === 0 || ps === undefined) continue;
    const running = parseProcesses(ps.stdout);
    const enabled = parseBoot(boot?.stdout ?? '');
    const problems: string[] = [];
    const facts: string[] = [];
    for (const { service } of daemons) {
      const isRunning = running.some((line) => PROCESS_PATTERNS[service]!.test(line));
      // heartbeat starts ldirectord on the director that holds the resources, and only there.
      const startedByHeartbeat = service === 'ldirectord';
      const shouldRun = startedByHeartbeat ? active.has(director) : true;
      const bootState = enabled.get(service) ?? 'unknown';
      const shouldBoot = !startedByHeartbeat;
      facts.push(`${service} ${isRunning ? 'running' : 'not running'}, ${bootState} at boot`);
      if (isRunning !== shouldRun) problems.push(shouldRun ? `${service} is not running` : `${service} runs on a standby director`);
      if ((bootState === 'enabled') !== shouldBoot) problems.push(shouldBoot ? `${service} does not start at boot` : `${service} starts at boot, but heartbeat must start it`);
    }
    add('failover manager', director, problems.length === 0, problems.length === 0 ? facts.join('; ') : problems.join('; '), [
      evidence(director, 'processes', (s) => daemonLines(s, daemons.map((d) => d.service))),
      evidence(director, 'boot'),
    ]);
  }

  // --- the manager's own reading of its files ---------------------------------------------------
  for (const director of cluster.directors) {
    const out = outputOf(director, 'config-test');
    if (out === undefined) continue;
    const text = out.stdout;
    const ev = [evidence(director, 'config-test')];
    if (cluster.manager === 'keepalived') {
      if (/unrecognized option|invalid option|unknown option/i.test(text)) add('config test', director, true, 'this keepalived has no --config-test (older than 2.0)', ev);
      else add('config test', director, out.exitCode === 0, out.exitCode === 0 ? 'keepalived accepts keepalived.conf' : 'keepalived refuses keepalived.conf', ev);
    } else {
      // Any ldirectord action parses the file first and names a line it cannot read.
      const refused = /error|invalid|unknown|syntax/i.test(text) || out.exitCode === 127;
      add('config test', director, !refused, refused ? 'ldirectord cannot read ldirectord.cf' : 'ldirectord reads ldirectord.cf', ev);
    }
  }

  // --- NAT directors forward ----------------------------------------------------------------------
  for (const director of cluster.directors) {
    const out = outputOf(director, 'ip_forward');
    if (out === undefined) continue;
    const on = out.stdout.trim() === '1';
    add('IP forwarding', director, on, on ? 'net.ipv4.ip_forward = 1' : 'net.ipv4.ip_forward is off: a NAT director cannot forward', [evidence(director, 'ip_forward')]);
  }

  // --- real servers ---------------------------------------------------------------------------------
  for (const host of realServerHosts(cluster)) {
    const view = realServerView(cluster, host);
    if (!view || observed.unreachable.has(host)) continue;
    checkRealServer(view, active.has(host));
  }

  // --- requests through each VIP ----------------------------------------------------------------------
  for (const requests of plan.services) checkThroughVip(requests);

  return results;

  function checkRealServer(view: RealServerView, holdsVipAsDirector: boolean): void {
    const host = view.host;
    const held = parseAddresses(outputOf(host, 'addresses')?.stdout ?? '');
    for (const vip of view.loopbackVips) {
      const onLo = held.some((a) => a.device === 'lo' && a.address === vip.vip);
      // A director that is also a real server holds the VIP on its network interface while active.
      const ok = onLo || (view.alsoDirector && holdsVipAsDirector);
      add('real server VIP', host, ok, ok ? `${vip.vip} on ${onLo ? 'lo' : 'its network interface (active director)'}` : `${vip.vip} is not on lo: direct-routed packets for it are dropped`, [
        evidence(host, 'addresses', (s) => linesWith(s, vip.vip, '(the VIP is not among its addresses)')),
      ]);
    }
    for (const vip of view.tunnelVips) {
      const ok = held.some((a) => a.device === 'tunl0' && a.address === vip.vip);
      add('real server VIP', host, ok, ok ? `${vip.vip} on tunl0` : `${vip.vip} is not on tunl0: tunnelled packets for it are dropped`, [
        evidence(host, 'addresses', (s) => linesWith(s, vip.vip, '(the VIP is not among its addresses)')),
      ]);
    }
    if (view.loopbackVips.length + view.tunnelVips.length > 0) {
      if (view.arp === 'sysctl') checkArpSysctl(view);
      else checkArptables(view);
    }
    if (view.gateway) {
      const gateways = parseDefaultGateways(outputOf(host, 'route')?.stdout ?? '');
      const ok = gateways.length === 1 && gateways[0] === view.gateway.address;
      const why = view.gateway.reason === 'nat' ? 'replies must return through the director that rewrites them' : 'the network router, as described';
      add('default gateway', host, ok, ok ? `via ${view.gateway.address} (${why})` : `expected via ${view.gateway.address} (${why}), found ${gateways.length ? gateways.join(', ') : 'none'}`, [
        evidence(host, 'route'),
      ]);
    }
  }

  function checkArpSysctl(view: RealServerView): void {
    const values = parseArp(outputOf(view.host, 'arp')?.stdout ?? '');
    const all = values.get('all');
    const problems: string[] = [];
    // The kernel uses the larger of the `all` value and the interface's.
    for (const name of [...view.arpInterfaces, ...(view.tunnelVips.length > 0 ? ['tunl0'] : [])]) {
      const own = values.get(name);
      const ignore = Math.max(Number(all?.ignore ?? NaN), Number(own?.ignore ?? NaN));
      const announce = Math.max(Number(all?.announce ?? NaN), Number(own?.announce ?? NaN));
      if (!(ignore === 1 || ignore === 2)) problems.push(`${name}: arp_ignore is ${Number.isNaN(ignore) ? 'unreadable' : ignore} (1 keeps it from answering ARP for the VIP)`);
      if (announce !== 2) problems.push(`${name}: arp_announce is ${Number.isNaN(announce) ? 'unreadable' : announce} (2 keeps the VIP out of its ARP requests)`);
    }
    add('real server ARP', view.host, problems.length === 0, problems.length === 0 ? 'arp_ignore 1, arp_announce 2 in force' : problems.join('; '), [evidence(view.host, 'arp')]);
  }

  function checkArptables(view: RealServerView): void {
    const out = outputOf(view.host, 'arptables');
    const listing = out?.stdout ?? '';
    const problems: string[] = [];
    if (out === undefined || out.exitCode !== 0) problems.push('arptables cannot list its rules');
    for (const rule of view.arpRules) {
      const words = listing.split('\n').map((l) => l.replace(/\/32\b/g, ''));
      if (!words.some((l) => /-j DROP\b/.test(l) && new RegExp(`-d ${escapeRegExp(rule.vip)}(\\s|$)`).test(l))) problems.push(`no rule drops ARP requests for ${rule.vip}`);
      if (!words.some((l) => new RegExp(`-s ${escapeRegExp(rule.vip)}(\\s|$)`).test(l) && l.includes(`--mangle-ip-s ${rule.realAddress}`))) {
        problems.push(`no rule replaces ${rule.vip} by ${rule.realAddress} in the ARP requests it sends`);
      }
    }
    add('real server ARP', view.host, problems.length === 0, problems.length === 0 ? 'arptables rules in force for every VIP' : problems.join('; '), [evidence(view.host, 'arptables')]);
  }

  function checkThroughVip(requests: ServiceRequests): void {
    const { service } = requests;
    const subject = `${service.name}`;
    if (!requests.viaVip) {
      add('through the VIP', subject, false, 'no client host sent requests: add one to the group clients, or name one with --from HOST', []);
      return;
    }
    const { from, keys } = requests.viaVip;
    const perServer = health.get(service)!;
    const answers = keys.map((key) => {
      const out = outputOf(from, key);
      return out && out.exitCode === 0 ? parseFetch(out.stdout) : { body: '', status: 0 };
    });
    const answered = answers.filter((a) => a.status >= 200 && a.status < 400);
    const ev = [{ host: from, command: `${keys.length} x curl -s ${vipUrlOf(service)}`, output: answers.map((a) => `${a.status || 'no answer'} ${oneLine(a.body)}`).join('\n') }];
    if (answered.length < answers.length) {
      add('through the VIP', subject, false, `${answers.length - answered.length} of ${answers.length} requests from ${from} got no answer`, ev);
      return;
    }
    // Which real server answered: the one whose own index page is that body (when pages differ).
    const indexes = service.realservers.map((_, r) => perServer.get(r)?.index);
    const distinct = indexes.every((page, i) => page !== undefined && indexes.indexOf(page) === i);
    if (!distinct) {
      add('through the VIP', subject, true, `all ${answers.length} requests from ${from} answered (the real servers' pages are alike, so who answered is not known)`, ev);
      return;
    }
    const counts = service.realservers.map((_, r) => answered.filter((a) => a.body.trim() === indexes[r]).length);
    const unknownAnswers = answered.length - counts.reduce((a, b) => a + b, 0);
    const serving = service.realservers.map((server, r) => {
      const state = serverStates.get(`${server.address}:${server.port ?? service.port}`);
      return perServer.get(r)?.healthy === true && state !== 'drained' && state !== 'missing' && server.weight > 0;
    });
    const spread = service.realservers.map((server, r) => `${server.name} ${counts[r]}`).join(', ');
    const problems: string[] = [];
    if (unknownAnswers > 0) problems.push(`${unknownAnswers} answers came from no described real server`);
    service.realservers.forEach((server, r) => {
      if (!serving[r] && counts[r]! > 0) problems.push(`${server.name} answered although it should be out of service`);
    });
    const weights = service.realservers.map((server, r) => (serving[r] ? server.weight : 0));
    const live = weights.filter((w) => w > 0).length;
    let expectation: string;
    if (service.persistence || ['sh', 'dh', 'lblc', 'lblcr'].includes(service.scheduler)) {
      expectation = service.persistence ? `persistence: one client sticks to one real server` : `${service.scheduler}: one client goes to one real server`;
      if (counts.filter((c) => c > 0).length !== 1) problems.push(`expected every request on one real server, got ${spread}`);
    } else if (service.scheduler === 'rr' || service.scheduler === 'wrr') {
      const total = weights.reduce((a, b) => a + (service.scheduler === 'rr' ? (b > 0 ? 1 : 0) : b), 0);
      expectation = service.scheduler === 'rr' ? 'round robin: equal shares' : 'weighted round robin: shares by weight';
      service.realservers.forEach((server, r) => {
        const share = service.scheduler === 'rr' ? (weights[r]! > 0 ? 1 : 0) : weights[r]!;
        const want = total === 0 ? 0 : (answered.length * share) / total;
        // One quiet client's requests follow the schedule's cycle exactly; a share between two
        // whole numbers (when a drained server changed the cycle) may land on either.
        if (Math.abs(counts[r]! - want) >= 1) problems.push(`${server.name} answered ${counts[r]} times, expected about ${want.toFixed(1)}`);
      });
    } else {
      expectation = `${service.scheduler}: every serving real server gets requests`;
      service.realservers.forEach((server, r) => {
        if (serving[r] && counts[r] === 0) problems.push(`${server.name} got none of ${answered.length} requests`);
      });
    }
    if (live === 0) problems.push('no real server is in service');
    add('through the VIP', subject, problems.length === 0, `${answered.length} requests from ${from}: ${spread} (${expectation})${problems.length ? `: ${problems.join('; ')}` : ''}`, ev);
  }
}

/** The program whose health checks put real servers into the table (none for rules loaded at boot). */
const CHECKER: Partial<Record<IpvsOwner, string>> = { ldirectord: 'ldirectord', keepalived: 'keepalived', piranha: "pulse's nanny" };

/**
 * Why ldirectord can leave real servers out for good while their pages answer (seen on the lab's
 * emulated directors): LWP loads its HTTP modules during the first HTTP check, and a check whose
 * timeout fires while they load leaves them half loaded in that process, so every later HTTP check
 * fails ("Attempt to reload LWP/Protocol/http.pm aborted") until ldirectord restarts.
 */
const LDIRECTORD_STUCK_HINT =
  `if ldirectord's log shows no reason, a first HTTP check that timed out while ldirectord loaded its HTTP modules makes it fail every later one: restart it (ldirectord ${LDIRECTORD_CF} restart) and give the check a longer negotiatetimeout`;

/** Compares a director's table with the description; weight-0 and missing real servers get a state. */
function compareTable(
  expected: string[],
  actual: string[],
  health: Map<VirtualService, Map<number, { healthy: boolean }>>,
  owner: IpvsOwner,
): { problems: string[]; notes: string[]; states: Map<string, ServerState> } {
  const problems: string[] = [];
  const notes: string[] = [];
  const states = new Map<string, ServerState>();
  const actualSet = new Set(actual);
  const checker = CHECKER[owner];
  let checkerBlamed = false;
  const healthOf = (address: string): boolean | undefined => {
    for (const [service, servers] of health) {
      const r = service.realservers.findIndex((s) => `${s.address}:${s.port ?? service.port}` === address || s.address === address.split(':')[0]);
      if (r !== -1) return servers.get(r)?.healthy;
    }
    return undefined;
  };
  const unmatched = new Set(actual.filter((line) => !expected.includes(line)));
  for (const line of expected) {
    if (actualSet.has(line)) continue;
    const real = /-r (\S+) /.exec(line)?.[1];
    if (line.startsWith('-a ') && real !== undefined) {
      const zero = line.replace(/-w \d+$/, '-w 0');
      const healthy = healthOf(real);
      if (actualSet.has(zero)) {
        unmatched.delete(zero);
        if (healthy === false) {
          states.set(real, 'failing');
          notes.push(`${real} at weight 0: its health check fails (kept quiescent)`);
        } else {
          states.set(real, 'drained');
          notes.push(`${real} drained (weight 0)${healthy === undefined ? '' : ', its health page answers'}`);
        }
        continue;
      }
      states.set(real, healthy === false ? 'failing' : 'missing');
      if (healthy === false) problems.push(`${real} is out of the table: its health check fails`);
      else if (healthy === true && checker !== undefined) {
        checkerBlamed = true;
        problems.push(`${real} is out of the table, yet its health page answers: ${checker}'s own check of it fails`);
      }
      else problems.push(`missing: ${line}`);
      continue;
    }
    problems.push(`missing: ${line}`);
  }
  for (const line of unmatched) problems.push(`not described: ${line}`);
  if (checkerBlamed && owner === 'ldirectord') notes.push(LDIRECTORD_STUCK_HINT);
  return { problems, notes, states };
}

function pageVerdict(fetched: { body: string; status: number }, check: HttpCheck): string {
  if (fetched.status === 0) return 'no answer';
  if (check.status !== undefined ? fetched.status !== check.status : fetched.status >= 400) return `HTTP status ${fetched.status}`;
  if (check.receive !== undefined && !fetched.body.includes(check.receive)) return `the page does not contain "${check.receive}"`;
  return 'ok';
}

const keysUrl = (key: string): string => key.replace(/^get /, '');
const vipUrlOf = (service: VirtualService): string => `http://${service.vip}:${service.port ?? 80}/`;
const stripStatus = (stdout: string): string => {
  const { body, status } = parseFetch(stdout);
  return `${body.trimEnd()}\n(HTTP status ${status || 'none: no answer'})`;
};
const oneLine = (text: string): string => {
  const line = text.trim().split('\n')[0] ?? '';
  return line.length > 60 ? `${line.slice(0, 57)}...` : line;
};

function linesWith(stdout: string, needle: string, otherwise: string): string {
  const lines = stdout.split('\n').filter((line) => line.includes(` ${needle}/`));
  return lines.length > 0 ? lines.join('\n') : otherwise;
}

function daemonLines(stdout: string, services: string[]): string {
  const lines = parseProcesses(stdout).filter((line) => services.some((s) => PROCESS_PATTERNS[s]!.test(line)));
  return lines.length > 0 ? lines.join('\n') : '(none of its daemons runs)';
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

