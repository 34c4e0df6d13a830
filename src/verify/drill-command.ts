// `provision drill --cluster NAME`: real faults on a live cluster, each measured while the client
// sends a steady stream of requests to the VIP (a new connection every 0.1 s), each undone before
// the next. The faults cause outages on purpose, so the command runs only when --cluster names the
// inventory's cluster, and only the faults --faults names (default: the ones that leave every host
// up). The pure part is drill.ts.
import { existsSync } from 'node:fs';
import { UserError } from '../core/errors.ts';
import { quote } from '../core/shell.ts';
import { hostConnectors } from '../cli/connections.ts';
import { ipvsadmRules, ipvsServices } from '../cluster/ipvs.ts';
import { heartbeatNodeName, ipvsOwner, type Cluster, type VirtualService } from '../cluster/model.ts';
import { ConnectionError, type Connector } from '../connectors/connector.ts';
import { loadInventory } from '../inventory/load.ts';
import type { Inventory, InventoryHost } from '../inventory/model.ts';
import { FanOut } from '../report/fan-out.ts';
import { Redactor } from '../report/redact.ts';
import { CLIENTS_GROUP } from './command.ts';
import {
  DEFAULT_FAULTS,
  detectionBound,
  DIRECTOR_STATE_SCRIPT,
  drillService,
  failsBack,
  FAULTS,
  heartbeatOnlyLinks,
  managerService,
  outageOf,
  realServerRemovalBound,
  sampleCollector,
  serversByFirstLine,
  serviceScript,
  splitDirectorState,
  streamScript,
  vipUrl,
  type FaultName,
  type Sample,
} from './drill.ts';
import { directUrl, fetchScript, parseFetch } from './observe.ts';
import { parseAddresses, parseIpvsRules } from './parse.ts';
import { checkReporter } from './reporter.ts';
import type { CheckResult } from './result.ts';
import type { DrillTimeline, TimelineDirectors, TimelineFault } from './timeline.ts';

export interface DrillFlags {
  inventory?: string;
  cluster?: string;
  faults?: string;
  from?: string;
  json?: string;
  /** where to write the HTML report with the drill's timeline */
  html?: string;
  verbose: number;
}

const POLL_MS = 500;
/** The longest a drill waits for the cluster to react beyond the description's own bounds. */
const SLACK_SECONDS = 60;
/** How long the stream may run in all (it ends earlier when the drill does). */
const STREAM_MAX_SECONDS = 1800;

export async function drillCommand(flags: DrillFlags, defaultInventory: string): Promise<number> {
  const started = Date.now();
  const inventoryFile = flags.inventory ?? defaultInventory;
  if (!existsSync(inventoryFile)) throw new UserError(`inventory file not found: ${inventoryFile}`, {}, 'give one with --inventory FILE');
  const inventory = await loadInventory(inventoryFile);
  const cluster = inventory.cluster;
  if (cluster === undefined) throw new UserError(`${inventoryFile} has no cluster: section, so there is nothing to drill`, { file: inventoryFile });
  if (flags.cluster !== cluster.name) {
    throw new UserError(
      flags.cluster === undefined ? 'a drill stops services and directors for real' : `--cluster ${flags.cluster} is not this inventory's cluster (${cluster.name})`,
      {},
      `to drill this cluster, name it: provision drill --cluster ${cluster.name} -i ${inventoryFile}`,
    );
  }
  const faults = parseFaults(flags.faults);
  const service = drillService(cluster);
  if (service === undefined) throw new UserError(`cluster ${cluster.name} has no HTTP service with an HTTP health check, so a drill cannot measure it`, {});
  const client = flags.from ?? inventory.groups.get(CLIENTS_GROUP)?.hosts[0];
  if (client !== undefined && !inventory.hosts.has(client)) throw new UserError(`--from ${client}: no such host in the inventory`, {});

  const reporter = checkReporter(flags);
  const events = new FanOut(new Redactor(inventory.secrets), [reporter]);
  const results: CheckResult[] = [];
  const report = (result: CheckResult) => {
    results.push(result);
    events.emit({ type: 'check', ...result });
  };
  const connect = await hostConnectors(inventory, {
    onWarning: (message, host) => events.emit({ type: 'warning', ...(host === undefined ? {} : { host }), message }),
  });
  const drill = new Drill(inventory, cluster, connect, report);
  try {
    await drill.perform(faults, client, service);
  } finally {
    await drill.close();
  }
  const timeline = drill.timeline(client, service, started, results);
  events.emit({ type: 'drill-timeline', ...timeline });
  if (flags.html !== undefined) {
    const { writeDrillReport } = await import('./report-html.ts');
    // The page shows hosts' output: secrets are masked in it as in every other report.
    await writeDrillReport(flags.html, new Redactor(inventory.secrets).deep(timeline) as DrillTimeline);
  }
  const failed = results.filter((r) => r.status === 'fail').length;
  const exitCode = failed > 0 ? 2 : 0;
  events.emit({ type: 'check-summary', cluster: cluster.name, passed: results.length - failed, failed, exitCode, durationMs: Date.now() - started });
  await reporter.close();
  return exitCode;
}

function parseFaults(text: string | undefined): FaultName[] {
  if (text === undefined) return [...DEFAULT_FAULTS];
  const names = text.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = names.filter((n) => !(FAULTS as readonly string[]).includes(n));
  if (unknown.length > 0 || names.length === 0) throw new UserError(`--faults ${text}: unknown fault ${unknown.join(', ') || '(none named)'}`, {}, `name some of: ${FAULTS.join(', ')}`);
  return FAULTS.filter((f) => names.includes(f));
}

class Drill {
  private readonly connectors = new Map<string, Connector>();
  private readonly samples: Sample[] = [];
  private readonly readings: TimelineDirectors[] = [];
  private readonly faults: TimelineFault[] = [];
  /** which real server answered, by the first line of its index page (empty when pages are alike) */
  private serverOfLine = new Map<string, string>();
  private readonly expectedRules: string[];

  constructor(
    private readonly inventory: Inventory,
    private readonly cluster: Cluster,
    private readonly connect: (host: InventoryHost) => Connector,
    private readonly report: (result: CheckResult) => void,
  ) {
    this.expectedRules = ipvsadmRules(ipvsServices(cluster)).map((args) => args.join(' '));
  }

  private async host(name: string): Promise<Connector> {
    let connector = this.connectors.get(name);
    if (!connector) {
      connector = this.connect(this.inventory.hosts.get(name)!);
      this.connectors.set(name, connector);
    }
    await connector.connect();
    return connector;
  }

  /** A fresh connection (after a host came back from a crash). */
  private async reconnect(name: string): Promise<void> {
    await this.connectors.get(name)?.close();
    this.connectors.delete(name);
  }

  private async exec(name: string, script: string): Promise<string> {
    const result = await (await this.host(name)).run(script, { timeoutMs: 120_000 });
    return result.stdout;
  }

  /** Which directors hold the VIP now, and whether each one's table is complete; unreachable ones hold nothing. */
  private async directorStates(): Promise<Map<string, { holds: boolean; table: boolean; empty: boolean; reachable: boolean }>> {
    const vip = this.cluster.virtual_services[0]!.vip;
    const states = new Map<string, { holds: boolean; table: boolean; empty: boolean; reachable: boolean }>();
    await Promise.all(
      this.cluster.directors.map(async (d) => {
        try {
          const { addresses, ipvs } = splitDirectorState(await this.exec(d, DIRECTOR_STATE_SCRIPT));
          const holds = parseAddresses(addresses).some((a) => a.address === vip && a.device !== 'lo');
          const rules = new Set(parseIpvsRules(ipvs));
          states.set(d, { holds, table: this.expectedRules.every((r) => rules.has(r)), empty: rules.size === 0, reachable: true });
        } catch (error) {
          if (!(error instanceof ConnectionError)) throw error;
          await this.reconnect(d);
          states.set(d, { holds: false, table: false, empty: true, reachable: false });
        }
      }),
    );
    const all = [...states];
    this.readings.push({ at: Date.now(), holders: all.filter(([, s]) => s.holds).map(([d]) => d), unreachable: all.filter(([, s]) => !s.reachable).map(([d]) => d) });
    return states;
  }

  /** Polls until `done` holds, for at most `seconds`: the elapsed seconds, or undefined. */
  private async until(seconds: number, done: () => Promise<boolean>): Promise<number | undefined> {
    const start = Date.now();
    while (Date.now() - start <= seconds * 1000) {
      if (await done()) return (Date.now() - start) / 1000;
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
    return undefined;
  }

  private async activeDirector(): Promise<{ active: string; backup: string | undefined } | undefined> {
    const states = await this.directorStates();
    const holders = [...states].filter(([, s]) => s.holds).map(([d]) => d);
    if (holders.length !== 1) return undefined;
    return { active: holders[0]!, backup: this.cluster.directors.find((d) => d !== holders[0]) };
  }

  /** What the drill saw, for its report. */
  timeline(client: string | undefined, service: VirtualService, startedAt: number, checks: CheckResult[]): DrillTimeline {
    return {
      cluster: this.cluster.name,
      vip: service.vip,
      url: vipUrl(service),
      ...(client === undefined ? {} : { client }),
      directors: [...this.cluster.directors],
      realServers: service.realservers.map((r) => r.name),
      startedAt,
      endedAt: Date.now(),
      requests: this.samples.map((s) => {
        const server = s.firstLine === undefined ? undefined : this.serverOfLine.get(s.firstLine);
        return server === undefined ? { at: s.at, ok: s.ok } : { at: s.at, ok: s.ok, server };
      }),
      directorReadings: [...this.readings],
      faults: [...this.faults],
      checks: [...checks],
    };
  }

  /**
   * Reads each real server's index page directly (from the client, or from a director for NAT, as
   * verify does), so that the stream's answers can be told apart by their first line.
   */
  private async learnPages(service: VirtualService, client: string | undefined): Promise<void> {
    const from = client !== undefined && service.forwarding !== 'nat' ? client : this.cluster.directors[0]!;
    const pages = await Promise.all(
      service.realservers.map(async (server) => {
        const fetched = parseFetch(await this.exec(from, fetchScript(directUrl(service, server, '/'))).catch(() => ''));
        return { server: server.name, page: fetched.status >= 200 && fetched.status < 400 ? fetched.body : undefined };
      }),
    );
    this.serverOfLine = serversByFirstLine(pages);
  }

  async perform(faults: FaultName[], client: string | undefined, service: VirtualService): Promise<void> {
    const url = vipUrl(service);
    const before = await this.activeDirector();
    if (before === undefined) {
      this.report({ check: 'drill', subject: this.cluster.name, status: 'fail', detail: 'not one director holds the VIP before the drill: run provision verify and repair the cluster first', evidence: [] });
      return;
    }
    let stopStream!: () => void;
    const streamEnded = new Promise<void>((resolve) => (stopStream = resolve));
    let stream: Promise<unknown> = Promise.resolve();
    if (client !== undefined) {
      await this.learnPages(service, client);
      const collect = sampleCollector(() => Date.now(), this.samples);
      stream = (await this.host(client)).run(streamScript(url, STREAM_MAX_SECONDS), { keepStdinOpenUntil: streamEnded, timeoutMs: 0, onStdout: collect }).catch(() => undefined);
      // The first answers show the stream works before any fault.
      await this.until(10, async () => this.samples.length >= 3);
    }
    try {
      for (const fault of faults) {
        if (fault === 'realserver') await this.realServerFault(client);
        else if (fault === 'manager' || fault === 'crash') await this.directorFault(fault, client);
        else await this.linkFault(client);
      }
      const restored = await this.untilServed(client, 2 * SLACK_SECONDS);
      this.report({
        check: 'drill restored',
        subject: this.cluster.name,
        status: restored === undefined ? 'fail' : 'pass',
        detail:
          restored === undefined
            ? `${2 * SLACK_SECONDS} s after the last fault, not one director holds the VIP with a complete table${client ? ', or requests through it get no answer' : ''}`
            : `one director holds the VIP with a complete table${client ? ' and answers' : ''} (${restored.toFixed(1)} s after the last fault was undone): run provision verify for the whole picture`,
        evidence: [],
      });
    } finally {
      stopStream();
      await stream;
    }
  }

  /**
   * Polls until one director holds the VIP with a complete table and the client's last requests
   * were answered: the seconds it took, or undefined.
   */
  private async untilServed(client: string | undefined, seconds: number): Promise<number | undefined> {
    return this.until(seconds, async () => {
      const roles = await this.activeDirector();
      if (roles === undefined) return false;
      const states = await this.directorStates();
      if (!states.get(roles.active)!.table) return false;
      // Where only the active director programs IPVS (ldirectord, pulse), the standby's table empties.
      const everyDirectorProgramsIpvs = ipvsOwner(this.cluster) === 'keepalived' || ipvsOwner(this.cluster) === 'ipvsadm-at-boot';
      if (!everyDirectorProgramsIpvs && [...states].some(([d, st]) => d !== roles.active && !st.empty)) return false;
      if (client === undefined) return true;
      const recent = this.samples.slice(-5);
      return recent.length === 5 && recent.every((s) => s.ok) && recent[0]!.at > Date.now() - 10_000;
    });
  }

  private outage(from: number, to: number, client: string | undefined): string {
    if (client === undefined) return 'no client sent requests (add one to the group clients, or --from HOST)';
    const o = outageOf(this.samples, from, to);
    return o.failed === 0 ? `all ${o.requests} requests answered` : `${o.failed} of ${o.requests} requests failed, answers stopped for ${(o.durationMs / 1000).toFixed(1)} s`;
  }

  private async realServerFault(client: string | undefined): Promise<void> {
    const service = drillService(this.cluster)!;
    const server = service.realservers.find((r) => r.host !== undefined);
    const daemon = this.cluster.realserver.services[0];
    if (server === undefined || daemon === undefined) {
      this.report({ check: 'drill realserver', subject: service.name, status: 'fail', detail: 'no real server host with a service to stop (cluster.realserver.services)', evidence: [] });
      return;
    }
    const active = (await this.activeDirector())?.active;
    if (active === undefined) return this.report({ check: 'drill realserver', subject: server.name, status: 'fail', detail: 'not one director holds the VIP', evidence: [] });
    const line = ipvsadmRules(ipvsServices(this.cluster)).map((a) => a.join(' ')).find((l) => l.includes(` -r ${server.address}:`))!;
    const inTable = async () => parseIpvsRules(await this.exec(active, 'ipvsadm -Sn')).includes(line);
    const bound = realServerRemovalBound(this.cluster, service);
    // Measured from the moment the stop (and the start) was sent.
    const t0 = Date.now();
    await this.exec(server.host!, serviceScript(daemon, 'stop'));
    const removedAfter = await this.until(bound + SLACK_SECONDS, async () => !(await inTable()));
    const removed = removedAfter === undefined ? undefined : (Date.now() - t0) / 1000;
    const t1 = Date.now();
    await this.exec(server.host!, serviceScript(daemon, 'start'));
    const backAfter = await this.until(bound + SLACK_SECONDS, inTable);
    const back = backAfter === undefined ? undefined : (Date.now() - t1) / 1000;
    // For a real server, noticing it and taking it out of the table are one step of the manager's.
    const outAt = removed === undefined ? undefined : t0 + removed * 1000;
    this.faults.push({
      name: 'realserver',
      subject: server.name,
      what: `${daemon} stopped on ${server.host}`,
      sentAt: t0,
      ...(outAt === undefined ? {} : { detectedAt: outAt, tookOverAt: outAt }),
      undoneAt: t1,
      ...(back === undefined ? {} : { settledAt: t1 + back * 1000 }),
    });
    const ok = removed !== undefined && removed <= bound + 2 * (POLL_MS / 1000) + 1 && back !== undefined;
    this.report({
      check: 'drill realserver',
      subject: server.name,
      status: ok ? 'pass' : 'fail',
      detail: [
        `${daemon} stopped: ${removed === undefined ? `still in ${active}'s table after ${bound + SLACK_SECONDS} s` : `out of ${active}'s table after ${removed.toFixed(1)} s (bound ${bound} s)`}`,
        `started again: ${back === undefined ? 'not back in the table' : `back after ${back.toFixed(1)} s`}`,
        this.outage(t0, Date.now(), client),
      ].join('; '),
      evidence: [],
    });
  }

  private async directorFault(fault: 'manager' | 'crash', client: string | undefined): Promise<void> {
    const roles = await this.activeDirector();
    const check = fault === 'manager' ? 'drill failover (manager stops)' : 'drill failover (director dies)';
    if (roles?.backup === undefined) {
      this.report({ check, subject: this.cluster.name, status: 'fail', detail: roles === undefined ? 'not one director holds the VIP' : 'the cluster has no backup director', evidence: [] });
      return;
    }
    const { active, backup } = roles;
    const manager = managerService(this.cluster)!;
    const t0 = Date.now();
    let how: string;
    if (fault === 'manager') {
      await this.exec(active, serviceScript(manager, 'stop'));
      how = `${manager} stopped on ${active}`;
    } else {
      how = await this.crash(active);
    }
    const detection = detectionBound(this.cluster);
    // All measured from the fault: when the backup noticed (heartbeat declared the peer dead; a VRRP
    // backup takes the VIP the moment it decides), when it held the VIP, when its table was complete.
    let declaredDead: number | undefined;
    let vipMoved: number | undefined;
    let takeover: number | undefined;
    await this.until(detection + SLACK_SECONDS, async () => {
      const [states, dead] = await Promise.all([this.directorStates(), declaredDead === undefined ? this.peerDeclaredDead(backup, active) : Promise.resolve(true)]);
      const state = states.get(backup)!;
      if (dead && declaredDead === undefined) declaredDead = (Date.now() - t0) / 1000;
      if (state.holds && vipMoved === undefined) vipMoved = (Date.now() - t0) / 1000;
      if (state.holds && state.table) takeover = (Date.now() - t0) / 1000;
      return takeover !== undefined;
    });
    const t1 = Date.now();
    const heartbeat = this.cluster.manager === 'heartbeat';
    const detected = heartbeat ? declaredDead : vipMoved;
    const record: TimelineFault = {
      name: fault,
      subject: active,
      what: how,
      sentAt: t0,
      ...(detected === undefined ? {} : { detectedAt: t0 + detected * 1000 }),
      ...(takeover === undefined ? {} : { tookOverAt: t0 + takeover * 1000 }),
    };
    this.faults.push(record);
    this.report({
      check,
      subject: active,
      status: takeover === undefined ? 'fail' : 'pass',
      detail: [
        how,
        heartbeat
          ? declaredDead === undefined
            ? `detection: ${backup}'s heartbeat never declared ${active} dead (cl_status nodestatus)`
            : `detection: ${backup}'s heartbeat declared ${active} dead after ${declaredDead.toFixed(1)} s`
          : vipMoved === undefined
            ? `detection: ${backup} did not take over`
            : `detection: ${backup} took the master's part after ${vipMoved.toFixed(1)} s`,
        vipMoved === undefined ? `${backup} did not take the VIP within ${detection + SLACK_SECONDS} s` : `${backup} held the VIP after ${vipMoved.toFixed(1)} s`,
        takeover === undefined ? `its IPVS table was not complete` : `its IPVS table was complete after ${takeover.toFixed(1)} s`,
        this.outage(t0, t1, client),
      ].join('; '),
      evidence: [],
    });

    // Back: the manager starts again (the crashed host boots, and its manager starts at boot).
    const t2 = Date.now();
    if (fault === 'manager') await this.exec(active, serviceScript(manager, 'start'));
    else await this.restoreCrashed(active);
    const wantBack = failsBack(this.cluster);
    const settled = await this.until(wantBack ? detection + 2 * SLACK_SECONDS : 2 * detection + 10, async () => {
      const states = await this.directorStates();
      const holder = [...states].filter(([, s]) => s.holds).map(([d]) => d);
      return wantBack ? holder.length === 1 && holder[0] === active && states.get(active)!.table : false;
    });
    let stayed = false;
    if (!wantBack) {
      const states = await this.directorStates();
      stayed = states.get(backup)!.holds && !states.get(active)!.holds;
    }
    const ok = wantBack ? settled !== undefined : stayed;
    record.undoneAt = t2;
    if (settled !== undefined) record.settledAt = t2 + settled * 1000;
    this.report({
      check: 'drill failback',
      subject: active,
      status: ok ? 'pass' : 'fail',
      detail: [
        `${active} back`,
        wantBack
          ? settled === undefined
            ? `it did not take the VIP back (the description says it should)`
            : `it took the VIP back after ${settled.toFixed(1)} s, as the description says`
          : stayed
            ? `the VIP stayed on ${backup}, as the description says (no failback)`
            : `the VIP did not stay on ${backup}, though the description says no failback`,
        this.outage(t2, Date.now(), client),
      ].join('; '),
      evidence: [],
    });
  }

  /**
   * Whether heartbeat on `backup` has declared `peer` dead (`cl_status nodestatus`, heartbeat's own
   * client): the end of the detection window. Other managers have no such moment apart from taking
   * the VIP, so this is false for them.
   */
  private async peerDeclaredDead(backup: string, peer: string): Promise<boolean> {
    if (this.cluster.manager !== 'heartbeat') return false;
    const node = heartbeatNodeName(this.cluster, peer);
    const out = await this.exec(backup, `cl_status nodestatus ${quote(node)} 2>/dev/null || true`).catch(() => '');
    return out.trim() === 'dead';
  }

  /** Kills a lab VM, or reboots another host at once; what was done. */
  private async crash(host: string): Promise<string> {
    const spec = this.inventory.hosts.get(host)!;
    if (spec.lab?.kind === 'vm') {
      const { labCrash } = await import('../lab/lab.ts');
      if (await labCrash({ host })) {
        await this.reconnect(host);
        return `${host}'s VM killed`;
      }
    }
    // sysrq b: reboot now, without syncing or unmounting: the nearest a shell gets to pulling the plug.
    await (await this.host(host)).run('echo 1 > /proc/sys/kernel/sysrq; (sleep 1; echo b > /proc/sysrq-trigger) >/dev/null 2>&1 &', { timeoutMs: 30_000 }).catch(() => undefined);
    await this.reconnect(host);
    return `${host} rebooted at once (sysrq)`;
  }

  private async restoreCrashed(host: string): Promise<void> {
    const spec = this.inventory.hosts.get(host)!;
    if (spec.lab?.kind === 'vm') {
      const { labUp } = await import('../lab/lab.ts');
      await labUp({ inventoryFile: this.inventory.file });
    }
    // Until it answers again (a real host reboots by itself).
    await this.until(600, async () => {
      try {
        await this.exec(host, 'true');
        return true;
      } catch (error) {
        if (!(error instanceof ConnectionError)) throw error;
        await this.reconnect(host);
        return false;
      }
    });
  }

  private async linkFault(client: string | undefined): Promise<void> {
    const links = heartbeatOnlyLinks(this.cluster);
    const roles = await this.activeDirector();
    if (links.length === 0 || roles?.backup === undefined) {
      this.report({
        check: 'drill split brain (link cut)',
        subject: this.cluster.name,
        status: 'fail',
        detail: roles === undefined ? 'not one director holds the VIP' : 'not run: heartbeat has no link apart from the service network (cutting it would cut the service, not make a split brain)',
        evidence: [],
      });
      return;
    }
    const { active, backup } = roles;
    const t0 = Date.now();
    const down = links.map((l) => `ip link set dev ${l} down`).join('; ');
    const up = links.map((l) => `ip link set dev ${l} up`).join('; ');
    await this.exec(backup, down);
    const split = await this.until(detectionBound(this.cluster) + SLACK_SECONDS, async () => [...(await this.directorStates()).values()].filter((s) => s.holds).length >= 2);
    await this.exec(backup, up);
    const t1 = Date.now();
    // Heartbeat heals a split brain by restarting on both directors ("Both machines own our
    // resources"), tens of seconds after one of them seemed to hold the VIP alone: healed means one
    // director has held it with a complete table for a while. The VIP ends on whichever took it
    // first, which auto_failback does not undo.
    const stableMs = Math.max(60, 3 * detectionBound(this.cluster)) * 1000;
    let holder: string | undefined;
    let since: number | undefined;
    await this.until(2 * SLACK_SECONDS + stableMs / 1000, async () => {
      const states = await this.directorStates();
      const holders = [...states].filter(([, s]) => s.holds).map(([d]) => d);
      const now = holders.length === 1 && states.get(holders[0]!)!.table ? holders[0] : undefined;
      if (now === undefined || now !== holder) since = now === undefined ? undefined : Date.now();
      holder = now;
      return since !== undefined && Date.now() - since >= stableMs;
    });
    const healed = since !== undefined && Date.now() - since >= stableMs ? (since - t1) / 1000 : undefined;
    // After a split brain the client may still send to the director that gave the VIP up (its ARP
    // cache): how long until it is served again is part of the cost.
    const served = healed === undefined ? undefined : await this.untilServed(client, 2 * SLACK_SECONDS);
    // The split brain is what this fault is expected to cause: its "detection" is when it appeared.
    this.faults.push({
      name: 'link',
      subject: backup,
      what: `${links.join(', ')} down on ${backup}`,
      sentAt: t0,
      ...(split === undefined ? {} : { detectedAt: t0 + split * 1000 }),
      undoneAt: t1,
      ...(since === undefined || healed === undefined ? {} : { settledAt: since }),
    });
    this.report({
      check: 'drill split brain (link cut)',
      subject: backup,
      status: split !== undefined && healed !== undefined ? 'pass' : 'fail',
      detail: [
        `${links.join(', ')} down on ${backup}`,
        split === undefined ? 'no split brain appeared' : `split brain: both directors held the VIP after ${split.toFixed(1)} s (detected, as expected when the only heartbeat link fails)`,
        healed === undefined
          ? 'links up again: still not one holder'
          : `links up again: ${holder} alone held it with a complete table from ${healed.toFixed(1)} s on (for ${stableMs / 1000} s at least)${holder !== active && failsBack(this.cluster) ? ` (not ${active}, which held it before: the split brain's healing does not fail back)` : ''}`,
        ...(client === undefined ? [] : [served === undefined ? 'requests through the VIP still unanswered' : `requests answered again ${((Date.now() - t1) / 1000).toFixed(1)} s after the links came up`]),
        this.outage(t0, Date.now(), client),
      ].join('; '),
      evidence: [],
    });
  }

  async close(): Promise<void> {
    await Promise.all([...this.connectors.values()].map((c) => c.close().catch(() => undefined)));
  }
}
