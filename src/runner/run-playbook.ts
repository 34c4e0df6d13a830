// The run: plays in order; in each play, hosts in parallel (--forks) and each host's tasks in order
// (see host-play.ts). A failed or unreachable host leaves the later plays, as in Ansible; one host's
// failure stops the others only when the play says any_errors_fatal.
import type { Facts } from '../core/facts.ts';
import { UserError } from '../core/errors.ts';
import type { Handler, Role, Task } from '../core/task.ts';
import type { Connector } from '../connectors/connector.ts';
import { factsScript } from '../facts/script.ts';
import { parseFacts } from '../facts/parse.ts';
import { interpolateVars } from '../inventory/interpolate.ts';
import type { Inventory, InventoryHost } from '../inventory/model.ts';
import { selectHosts } from '../inventory/pattern.ts';
import { mergeVars, runVarLayers, type MergedVars, type VarLayer } from '../inventory/precedence.ts';
import { throwProblems } from '../inventory/problems.ts';
import { roleVariableProblems } from '../inventory/role-variables.ts';
import type { Play, Playbook } from '../playbook/model.ts';
import type { Reporter, TaskResultEvent } from './events.ts';
import { runHostPlay, ExecutionError, type HostHandler, type HostTask, type ProbeCache, type ScriptRunner } from './host-play.ts';
import { acquireHostLock, HostBusyError } from './lock.ts';
import { forEachLimited } from './pool.ts';
import { RecapCounter } from '../report/recap.ts';
import { loadPlayRoles, missingClusterProblem } from './play-roles.ts';
import { selectByTags, unknownTagProblems, type TagFilter } from './tags.ts';
import { strictVars } from './strict-vars.ts';

export interface RunOptions {
  check: boolean;
  forks: number;
  limit?: string;
  tags: TagFilter;
  extraVars?: VarLayer;
  lockTimeoutSeconds: number;
  /** every secret value of this run (inventory, playbook, -e): taken literally, never as a template */
  secrets: ReadonlySet<string>;
  /** aborted on Ctrl-C: hosts stop between executions */
  signal?: AbortSignal;
  connect(host: InventoryHost): Connector;
  /**
   * Called once per host as soon as its facts are gathered, before anything is changed on it: a
   * problem (e.g. heartbeat-node-name against `uname -n`) fails the host there.
   */
  checkFacts?(host: string, facts: Facts): string | undefined;
}

export const EXIT = { ok: 0, inputError: 1, failed: 2, unreachable: 4, interrupted: 130 } as const;

interface HostSession {
  host: InventoryHost;
  connector: Connector;
  executions: number;
  facts: Facts | null;
  /** a problem of the host against the cluster, found in its facts: it fails the host's first play */
  factsProblem?: string;
  /** the host's probes, shared by the plays (see host-play.ts) */
  probes: ProbeCache;
  release?: () => Promise<void>;
  /** set once the host failed or was unreachable: it takes no part in later plays */
  out?: 'failed' | 'unreachable';
  /** --check: a play of this run planned a change on this host */
  changesPlanned?: boolean;
}

export async function runPlaybook(inventory: Inventory, playbook: Playbook, reporter: Reporter, options: RunOptions): Promise<number> {
  const started = Date.now();
  const recap = new RecapCounter();
  const emit: Reporter['emit'] = (event) => {
    recap.add(event);
    reporter.emit(event);
  };
  const sessions = new Map<string, HostSession>();
  const limited = options.limit ? new Set(selectHosts(inventory, options.limit)) : null;
  // Roles are loaded (and every reference checked) before anything runs on any host.
  const roles = await loadPlayRoles(playbook);
  // A cluster role without the inventory's cluster: section (`provision lint PLAYBOOK` says the same).
  const missingCluster = missingClusterProblem(inventory, playbook, roles);
  if (missingCluster) throw missingCluster;
  checkRoleVariables();
  checkTags();
  // The renderers learn from it that this is a check run ("would change", "CHECK MODE").
  emit({ type: 'run-start', check: options.check, playbook: playbook.file, inventory: inventory.file });
  let stopAll = false;
  const stopped = () => stopAll || options.signal?.aborted === true;

  const playHosts = playbook.plays.map((play) => selectHosts(inventory, play.hosts, play.hostsSource).filter((h) => !limited || limited.has(h)));
  const builtTasks = new Map<string, ReturnType<typeof buildHostTasks> | UserError>();

  try {
    for (const [playIndex, play] of playbook.plays.entries()) {
      if (stopped()) break;
      const hosts = playHosts[playIndex]!.filter((h) => !sessions.get(h)?.out);
      emit({ type: 'play-start', play: play.name, hosts });
      let playFailed = false;
      await forEachLimited(hosts, options.forks, async (name) => {
        if (stopped()) return;
        const session = await openSession(name);
        if (!session) return;
        const outcome = await runPlayOnHost(playIndex, session);
        const failed = outcome === 'failed';
        if (failed) {
          session.out = 'failed';
          playFailed = true;
          if (play.anyErrorsFatal) stopAll = true;
        }
        // A host the run stopped half-way through the play is not done with it.
        if (outcome !== 'stopped') emit({ type: 'host-done', host: name, play: play.name, failed });
      });
      if (playFailed && play.anyErrorsFatal) {
        emit({ type: 'warning', message: `play "${play.name}" has any_errors_fatal and a host failed: stopping every host` });
      }
    }
  } finally {
    await Promise.all(
      [...sessions.values()].map(async (s) => {
        await s.release?.().catch(() => undefined);
        await s.connector.close().catch(() => undefined);
      }),
    );
  }

  for (const s of sessions.values()) recap.setExecutions(s.host.name, s.executions);
  const order = [...inventory.hosts.keys()];
  const rows = recap.result().sort((a, b) => order.indexOf(a.host) - order.indexOf(b.host));
  const interrupted = options.signal?.aborted === true;
  const exitCode = interrupted
    ? EXIT.interrupted
    : rows.some((r) => r.unreachable > 0)
      ? EXIT.unreachable
      : rows.some((r) => r.failed > 0)
        ? EXIT.failed
        : EXIT.ok;
  emit({ type: 'recap', hosts: rows, interrupted, exitCode, durationMs: Date.now() - started });
  return exitCode;

  async function openSession(name: string): Promise<HostSession | null> {
    const existing = sessions.get(name);
    if (existing) return existing.out ? null : existing;
    const host = inventory.hosts.get(name)!;
    const session: HostSession = { host, connector: options.connect(host), executions: 0, facts: null, probes: new Map() };
    sessions.set(name, session);
    try {
      await session.connector.connect();
      session.executions += 1;
      // The lock's execution also reads the facts (lock.ts).
      const lock = await acquireHostLock({ run: (script, o) => session.connector.run(script, o) }, options.lockTimeoutSeconds, factsScript());
      session.release = lock.release;
      if (lock.facts !== null) {
        session.facts = parseFacts(lock.facts);
        const problem = options.checkFacts?.(name, session.facts);
        if (problem !== undefined) session.factsProblem = problem;
      }
      return session;
    } catch (error) {
      session.out = 'unreachable';
      emit({ type: 'host-unreachable', host: name, play: '', message: describe(error), remoteExecutions: session.executions });
      return null;
    }
  }

  async function runPlayOnHost(playIndex: number, session: HostSession): Promise<'done' | 'failed' | 'stopped'> {
    const { host } = session;
    const play = playbook.plays[playIndex]!;
    if (session.factsProblem !== undefined) {
      emit({ ...failure(play, host.name, 'checking the host against the cluster', session.factsProblem), role: null });
      return 'failed';
    }
    const built = hostTasks(playIndex, host);
    if (built instanceof UserError) {
      emit(failure(play, host.name, built.where.task ?? 'preparing tasks', built.format()));
      return 'failed';
    }
    const runner: ScriptRunner = {
      run: async (script, onStdout) => {
        session.executions += 1;
        return session.connector.run(script, onStdout ? { onStdout } : {});
      },
      executions: () => session.executions,
    };
    try {
      const result = await runHostPlay(runner, built.tasks, built.handlers, {
        host: host.name,
        play: play.name,
        check: options.check,
        facts: session.facts,
        factsScript: factsScript(),
        parseFacts,
        ...(options.checkFacts ? { checkFacts: (facts: Facts) => options.checkFacts?.(host.name, facts) } : {}),
        changesPlannedBefore: session.changesPlanned === true,
        probes: session.probes,
        laterProbes: laterProbes(playIndex, host),
        emit,
        stopped,
      });
      session.facts = result.facts;
      if (result.changesPlanned) session.changesPlanned = true;
      return result.failed ? 'failed' : result.interrupted ? 'stopped' : 'done';
    } catch (error) {
      if (error instanceof ExecutionError) {
        emit(failure(play, host.name, 'running tasks', error.message));
        return 'failed';
      }
      if (isConnectionError(error)) {
        session.out = 'unreachable';
        emit({ type: 'host-unreachable', host: host.name, play: play.name, message: describe(error), remoteExecutions: session.executions });
        return 'done';
      }
      throw error;
    }
  }

  /** The host's tasks in a play (built once; a UserError says why they cannot be built). */
  function hostTasks(playIndex: number, host: InventoryHost): ReturnType<typeof buildHostTasks> | UserError {
    const key = `${playIndex}\0${host.name}`;
    let built = builtTasks.get(key);
    if (built === undefined) {
      try {
        built = buildHostTasks(playbook.plays[playIndex]!, host);
      } catch (error) {
        if (!(error instanceof UserError)) throw error;
        built = error;
      }
      builtTasks.set(key, built);
    }
    return built;
  }

  /**
   * The probes of the host's tasks in the plays after `playIndex` (those whose `when` holds on its
   * facts) and of the handlers they notify: read along with this play's, so the later plays need no
   * probe execution unless a change made them stale.
   */
  function laterProbes(playIndex: number, host: InventoryHost): string[] {
    const facts = sessions.get(host.name)?.facts;
    if (!facts) return [];
    const probes: string[] = [];
    for (let later = playIndex + 1; later < playbook.plays.length; later++) {
      if (!playHosts[later]!.includes(host.name)) continue;
      const built = hostTasks(later, host);
      if (built instanceof UserError) continue;
      const live = built.tasks.filter((task) => !task.when || task.when(facts));
      const notified = new Set(live.flatMap((task) => task.notify));
      for (const item of [...live, ...built.handlers.filter((h) => notified.has(h.name))]) {
        const probe = item.op.probe();
        if (probe.trim() !== '') probes.push(probe);
      }
    }
    return [...new Set(probes)];
  }

  function failure(play: Play, host: string, task: string, message: string): TaskResultEvent {
    return {
      type: 'task',
      host,
      play: play.name,
      role: null,
      task,
      kind: 'task',
      status: 'failed',
      changed: false,
      message,
      durationMs: 0,
      remoteExecutions: sessions.get(host)?.executions ?? 0,
    };
  }

  /** A role's variables on a host in a play: every layer merged in precedence order, {{ }} resolved. */
  function roleVars(role: Role, play: Play, ref: Play['roles'][number], host: InventoryHost): MergedVars {
    const merged = mergeVars(
      runVarLayers({
        role: { name: role.name, defaults: role.defaults },
        host,
        play: { name: play.name, vars: play.vars, varOrigin: play.varOrigin },
        roleParams: { vars: ref.vars, varOrigin: ref.varOrigin },
        ...(options.extraVars ? { extraVars: options.extraVars } : {}),
      }),
    );
    return { vars: interpolateVars(merged.vars, merged.origin, { literal: options.secrets }), origin: merged.origin };
  }

  /**
   * Every typed role variable of every play on every host it will run on, before any host is
   * touched: a value that would reach a target unchecked (from -e, play vars or the inventory)
   * stops the run here. Interpolation errors are left to the host's own play, which reports them.
   */
  function checkRoleVariables(): void {
    const problems: UserError[] = [];
    const seen = new Set<string>();
    for (const play of playbook.plays) {
      const names = selectHosts(inventory, play.hosts, play.hostsSource).filter((h) => !limited || limited.has(h));
      for (const name of names) {
        const host = inventory.hosts.get(name)!;
        for (const ref of play.roles) {
          const role = roles.get(ref.name)!;
          if (role.types === undefined) continue;
          let merged: MergedVars;
          try {
            merged = roleVars(role, play, ref, host);
          } catch (error) {
            if (error instanceof UserError) continue;
            throw error;
          }
          for (const problem of roleVariableProblems(role.name, role.types, merged.vars, merged.origin, options.secrets, name)) {
            const key = `${problem.where.file ?? ''}:${problem.where.line ?? ''}:${problem.message}`;
            if (seen.has(key)) continue;
            seen.add(key);
            problems.push(problem);
          }
        }
      }
    }
    throwProblems(problems);
  }

  /**
   * Every tag in --tags and --skip-tags must be one the run knows: a play's, a role reference's or
   * a task's (with what it inherits). Task tags are known once the roles build their tasks for each
   * host, which is pure, so it is done here for every host of every play (--limit aside: a tag of
   * the playbook is known even if the limited hosts have no task with it), before any is touched. A
   * host whose tasks cannot be built (its play reports why) may hide tags: then nothing is refused.
   */
  function checkTags(): void {
    if (options.tags.only.length === 0 && options.tags.skip.length === 0) return;
    const known = new Set<string>();
    let complete = true;
    for (const play of playbook.plays) {
      for (const tag of [...play.tags, ...play.roles.flatMap((ref) => ref.tags)]) known.add(tag);
      for (const name of selectHosts(inventory, play.hosts, play.hostsSource)) {
        try {
          for (const tag of buildHostTasks(play, inventory.hosts.get(name)!).tags) known.add(tag);
        } catch (error) {
          if (!(error instanceof UserError)) throw error;
          complete = false;
        }
      }
    }
    if (complete) throwProblems(unknownTagProblems(options.tags, known, playbook.file));
  }

  function buildHostTasks(play: Play, host: InventoryHost): { tasks: HostTask[]; handlers: HostHandler[]; tags: Set<string> } {
    const tasks: HostTask[] = [];
    const handlers: HostHandler[] = [];
    /** the tags of every task, selected or not */
    const tags = new Set<string>();
    const handlerNames = new Set<string>();
    const allHosts = [...inventory.hosts.values()].map((h) => ({ name: h.name, address: h.address, groups: h.groups, vars: h.vars }));
    for (const ref of play.roles) {
      const role = roles.get(ref.name)!;
      const vars = roleVars(role, play, ref, host).vars;
      const ctx = {
        vars: strictVars(vars, { role: role.name, host: host.name }),
        host: { name: host.name, address: host.address, groups: host.groups },
        inventory: { hosts: allHosts },
        cluster: inventory.cluster,
      };
      const roleTasks = buildRoleTasks(role, ctx, host.name, ref.source);
      const inherited = [...play.tags, ...ref.tags];
      for (const task of roleTasks) for (const tag of [...inherited, ...(task.tags ?? [])]) tags.add(tag);
      for (const task of selectByTags(roleTasks, inherited, options.tags)) {
        tasks.push({
          id: `t${tasks.length}`,
          name: task.name,
          role: role.name,
          op: task.op,
          notify: task.notify ?? [],
          ...(task.when ? { when: task.when } : {}),
        });
      }
      for (const handler of (role.handlers?.(ctx) ?? []) as Handler[]) {
        if (handlerNames.has(handler.name)) continue;
        handlerNames.add(handler.name);
        handlers.push({ id: `h${handlers.length}`, name: handler.name, role: role.name, op: handler.op });
      }
    }
    for (const task of tasks) {
      for (const name of task.notify) {
        if (!handlerNames.has(name)) {
          throw new UserError(`task notifies '${name}', but no role of this play defines a handler by that name`, { host: host.name, task: task.name }, `handlers here: ${[...handlerNames].join(', ') || 'none'}`);
        }
      }
    }
    return { tasks, handlers, tags };
  }
}

/** Calls the role's task builder; a mistake in it (an unknown operation, a task without one) is the role author's error, reported as such. */
function buildRoleTasks(role: Role, ctx: Parameters<Role['tasks']>[0], host: string, where: { file: string; line: number }): Task[] {
  let tasks: unknown;
  try {
    tasks = role.tasks(ctx);
  } catch (error) {
    if (error instanceof UserError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    throw new UserError(`role ${role.name} failed while building its tasks: ${message}`, { ...where, host }, 'check the role: every op must come from ops.* (see README, Operations)');
  }
  if (!Array.isArray(tasks)) throw new UserError(`role ${role.name}: tasks() must return a list of tasks`, { ...where, host });
  tasks.forEach((task: Partial<Task> | undefined, i) => {
    const op = task?.op as Partial<Task['op']> | undefined;
    if (!task || typeof task.name !== 'string' || typeof op?.probe !== 'function' || typeof op.plan !== 'function') {
      throw new UserError(
        `role ${role.name}: task #${i + 1}${typeof task?.name === 'string' ? ` "${task.name}"` : ''} has no name or no operation`,
        { ...where, host },
        'a task is { name: "...", op: ops.<operation>({...}) }',
      );
    }
  });
  return tasks as Task[];
}

function isConnectionError(error: unknown): error is Error {
  return error instanceof Error && error.name === 'ConnectionError';
}

function describe(error: unknown): string {
  if (error instanceof HostBusyError) return error.message;
  if (error instanceof UserError) return error.format();
  if (error instanceof Error) {
    const hint = (error as { hint?: string }).hint;
    return hint ? `${error.message}\n  ${hint}` : error.message;
  }
  return String(error);
}
