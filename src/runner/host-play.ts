// One play on one host: probe everything in one execution, plan purely, apply every change in one
// more execution. The number of remote executions does not grow with the number of tasks; it grows
// only when a change invalidates a later task's probe (then that task is probed again).
//
// Across the plays of a run, the probes are shared (ProbeCache, keyed by the probe script, so two
// tasks that probe the same thing run it once): the first probe execution also probes the later
// plays' tasks, and an apply execution that changed the host ends by probing them again. A later
// play whose state is already known needs no probe execution of its own.
import type { Facts } from '../core/facts.ts';
import { OperationError, StateError, type Operation, type Plan, type ProbeOutput } from '../core/operation.ts';
import {
  buildApplyScript,
  buildProbeScript,
  newMarkerToken,
  parseApplyOutput,
  parseProbeOutput,
  probeDigest,
  type ApplyStep,
  type StepOutcome,
} from './batch.ts';
import type { RunEvent, TaskResultEvent, TaskStatus } from './events.ts';

type HostStepEvent = Extract<RunEvent, { type: 'host-step' }>;

/** A task ready to run on one host: the role's task plus where it came from. */
export interface HostTask {
  id: string;
  name: string;
  role: string | null;
  op: Operation;
  notify: string[];
  when?: (facts: Facts) => boolean;
}

export interface HostHandler {
  id: string;
  name: string;
  role: string | null;
  op: Operation;
}

/**
 * A host's probe outputs by probe script, for its current state: filled by probe executions and by
 * the probes that end an apply execution, emptied when a change makes them stale.
 */
export type ProbeCache = Map<string, ProbeOutput>;

/** The connection as the host runner needs it: one method, counted by the caller. */
export interface ScriptRunner {
  run(script: string, onStdout?: (chunk: string) => void): Promise<{ stdout: string; stderr: string; exitCode: number }>;
  executions(): number;
}

export interface HostPlayOptions {
  host: string;
  play: string;
  check: boolean;
  /** facts from an earlier play of this run; gathered with the first probes when absent */
  facts: Facts | null;
  factsScript: string;
  parseFacts(stdout: string): Facts;
  /**
   * Called once, as soon as facts are gathered (the play's first probe) and before anything is
   * planned or changed: a problem (its text as `provision lint` words it) fails the host there.
   */
  checkFacts?(facts: Facts): string | undefined;
  /** --check: an earlier play of this run planned a change on this host (see StateError) */
  changesPlannedBefore?: boolean;
  /** the host's probes, shared with the other plays of the run (a new one when absent) */
  probes?: ProbeCache;
  /** the probe scripts of the later plays' tasks and handlers on this host, probed along with this play's */
  laterProbes?: readonly string[];
  emit(event: TaskResultEvent | HostStepEvent): void;
  /** checked between executions: an aborted run (Ctrl-C, any_errors_fatal) stops here */
  stopped(): boolean;
}

export interface HostPlayResult {
  facts: Facts | null;
  failed: boolean;
  /** the run stopped before finishing this host's tasks */
  interrupted: boolean;
  /** --check: this play, or an earlier one, planned a change on this host */
  changesPlanned?: boolean;
}

const OUTPUT_TAIL_LINES = 20;

export class ExecutionError extends Error {
  override name = 'ExecutionError';
}

type Decision =
  | { task: HostTask; kind: 'skip' }
  | { task: HostTask; kind: 'plan'; plan: Plan; probed: ProbeOutput | null }
  | { task: HostTask; kind: 'error'; message: string; stateError: boolean };

export async function runHostPlay(
  runner: ScriptRunner,
  tasks: HostTask[],
  handlers: HostHandler[],
  options: HostPlayOptions,
): Promise<HostPlayResult> {
  const { emit } = options;
  let facts = options.facts;
  const notified = new Set<string>();
  const handlerByName = new Map(handlers.map((h) => [h.name, h]));
  /** each handler's probe from the play's first round, before any change */
  const handlerProbesAtStart = new Map<string, ProbeOutput>();

  const step = (text: string) => emit({ type: 'host-step', host: options.host, play: options.play, step: text });
  const report = (task: HostTask | HostHandler, kind: 'task' | 'handler', status: TaskStatus, extra: Partial<TaskResultEvent> = {}) =>
    emit({
      type: 'task',
      host: options.host,
      play: options.play,
      role: task.role,
      task: task.name,
      kind,
      status,
      changed: status === 'changed',
      durationMs: 0,
      remoteExecutions: runner.executions(),
      ...extra,
    });

  const cache: ProbeCache = options.probes ?? new Map();
  const laterProbes = options.laterProbes ?? [];
  const probeOf = (op: Operation): ProbeOutput | null => (op.probe().trim() === '' ? null : (cache.get(op.probe()) ?? null));
  // A task whose `when` is false is not probed (when the facts are known); a handler only when a
  // task that may run notifies it.
  const live = (from: number) => tasks.slice(from).filter((t) => facts === null || !t.when || t.when(facts));
  const notifiable = (from: number) => {
    const names = new Set(live(from).flatMap((t) => t.notify));
    return handlers.filter((h) => names.has(h.name));
  };

  let from = 0;
  const maxRounds = tasks.length + 2;
  for (let round = 0; round < maxRounds; round++) {
    if (options.stopped()) return { facts, failed: false, interrupted: true };
    const pending = tasks.slice(from);
    const wanted = [...live(from), ...notifiable(0)].map((t) => t.op.probe());
    const missing = unique(wanted.filter((probe) => probe.trim() !== '' && !cache.has(probe)));
    const probeStart = Date.now();
    if (facts === null || missing.length > 0) {
      const requests = unique([...missing, ...laterProbes.filter((probe) => !cache.has(probe))])
        .filter((probe) => probe.trim() !== '')
        .map((probe, i) => ({ id: `p${i}`, probe }));
      const token = newMarkerToken();
      step(`probing ${requests.length} task${requests.length === 1 ? '' : 's'}${facts ? '' : ' and reading facts'}`);
      const probeRun = await runner.run(buildProbeScript(token, facts ? null : options.factsScript, requests));
      const probed = parseProbeOutput(token, probeRun.stdout);
      if (!probed.complete) {
        throw new ExecutionError(
          `probing the host's state failed (exit code ${probeRun.exitCode})${tail(probeRun.stderr || probeRun.stdout)}`,
        );
      }
      for (const { id, probe } of requests) cache.set(probe, probed.probes.get(id) ?? { stdout: '', exitCode: 0 });
      if (facts === null) {
        facts = options.parseFacts(probed.facts ?? '');
        const problem = options.checkFacts?.(facts);
        if (problem !== undefined) {
          emit({
            type: 'task',
            host: options.host,
            play: options.play,
            role: null,
            task: 'checking the host against the cluster',
            kind: 'task',
            status: 'failed',
            changed: false,
            message: problem,
            durationMs: 0,
            remoteExecutions: runner.executions(),
          });
          return { facts, failed: true, interrupted: false };
        }
      }
    }
    if (round === 0) for (const h of notifiable(0)) handlerProbesAtStart.set(h.id, probeOf(h.op) ?? { stdout: '', exitCode: 0 });
    const probeMs = Date.now() - probeStart;

    const decisions: Decision[] = pending.map((task) => decide(task, facts!, probeOf(task.op)));
    const firstError = decisions.findIndex((d) => d.kind === 'error');
    const planned = firstError === -1 ? decisions : decisions.slice(0, firstError);

    if (options.check) {
      // Nothing is applied, so every task is planned on the state before the run. A task that
      // cannot be planned because of that state (a StateError: a service whose package an earlier
      // task would install) would change once those earlier changes are made, as in a real run;
      // without an earlier planned change, or for any other error, it fails as it would for real.
      let changesPlanned = options.changesPlannedBefore === true;
      for (const d of decisions) {
        if (d.kind === 'error' && !(d.stateError && changesPlanned)) return fail(d);
        if (d.kind === 'error') {
          report(d.task, 'task', 'changed', { summary: `depends on an earlier change of this run (now: ${d.message})` });
        } else {
          reportDecision(d, { check: true });
          if (d.kind === 'skip' || !d.plan.changed) continue;
        }
        changesPlanned = true;
        d.task.notify.forEach((n) => notified.add(n));
      }
      reportHandlersInCheck();
      return { facts, failed: false, interrupted: false, changesPlanned };
    }

    // Tasks before the first change are settled now; from the first change on, each step is
    // re-verified on the host just before it runs.
    const firstChange = planned.findIndex((d) => d.kind === 'plan' && d.plan.changed);
    const settled = firstChange === -1 ? planned : planned.slice(0, firstChange);
    for (const d of settled) reportDecision(d, { check: false, durationMs: probeMs / Math.max(1, pending.length) });
    if (firstChange === -1 && firstError !== -1) return fail(decisions[firstError]!);

    // The probes an apply execution ends with, each under one id however many lists name it.
    const requestIds = new Map<string, string>();
    const requests = (probes: string[]) =>
      unique(probes)
        .filter((probe) => probe.trim() !== '')
        .map((probe) => {
          if (!requestIds.has(probe)) requestIds.set(probe, `p${requestIds.size}`);
          return { id: requestIds.get(probe)!, probe };
        });
    // What the next round plans on when the round stops at task `index` (a stale step, or a task
    // that failed to plan): its probes and the later tasks', the handlers', and the later plays'.
    const reprobeFrom = (index: number) => requests([...[...live(index), ...notifiable(0)].map((t) => t.op.probe()), ...laterProbes]);

    const steps: ApplyStep[] = [];
    const byId = new Map<string, Decision>();
    for (const d of firstChange === -1 ? [] : planned.slice(firstChange)) {
      if (d.kind !== 'plan') continue;
      byId.set(d.task.id, d);
      const guard =
        d.probed && d.task.op.probe().trim() !== ''
          ? { probe: d.task.op.probe(), digest: probeDigest(d.probed), reprobe: reprobeFrom(tasks.indexOf(d.task)) }
          : undefined;
      steps.push({ id: d.task.id, script: d.plan.changed ? d.plan.script : ':', ...(guard ? { guard } : {}) });
    }
    // Handlers go in the same execution when no planning error stops the host first; the script
    // stops before them if a step fails or turns out stale.
    const toNotify = new Set(notified);
    for (const d of byId.values()) if (d.kind === 'plan' && d.plan.changed) d.task.notify.forEach((n) => toNotify.add(n));
    const handlerSteps = firstError === -1 ? planHandlers(facts, toNotify) : [];
    if (handlerSteps === null) return { facts, failed: true, interrupted: false };
    steps.push(...handlerSteps.map((h) => ({ id: h.handler.id, script: h.script })));
    if (steps.length === 0) return { facts, failed: false, interrupted: false };

    if (options.stopped()) return { facts, failed: false, interrupted: true };
    const applyToken = newMarkerToken();
    const stepStart = new Map<string, number>();
    const stepEnd = new Map<string, number>();
    const stepNames = new Map<string, string>([
      ...[...byId.values()].flatMap((d) => (d.kind === 'plan' && d.plan.changed ? [[d.task.id, d.task.name] as const] : [])),
      ...handlerSteps.map((h) => [h.handler.id, `handler ${h.handler.name}`] as const),
    ]);
    const watcher = markerWatcher(applyToken, (kind, id) => {
      (kind === 'begin' ? stepStart : stepEnd).set(id, Date.now());
      const name = stepNames.get(id);
      if (kind === 'begin' && name !== undefined) step(name);
    });
    // When a task failed to plan, the next round starts at it: its probes (and the handlers') come
    // back with the change, as do the later plays'.
    const thenProbe = firstError === -1 ? requests([...laterProbes]) : reprobeFrom(tasks.indexOf(decisions[firstError]!.task));
    const applyRun = await runner.run(buildApplyScript(applyToken, steps, thenProbe), watcher);
    const outcome = parseApplyOutput(applyToken, applyRun.stdout);
    // The host has changed (or may have, if the script was cut off): what was probed before is stale.
    // The probes that ended the script (complete) are the state now.
    if (outcome.steps.length > 0) cache.clear();
    if (outcome.complete) for (const [probe, id] of requestIds) { const out = outcome.probes.get(id); if (out) cache.set(probe, out); }
    const duration = (id: string) => (stepEnd.get(id) ?? Date.now()) - (stepStart.get(id) ?? Date.now());

    // Skipped tasks among the applied ones are reported in task order, as the steps around them end.
    const afterFirstChange = firstChange === -1 ? [] : planned.slice(firstChange);
    let cursor = 0;
    const reportSkipsUntil = (id: string | null) => {
      while (cursor < afterFirstChange.length && afterFirstChange[cursor]!.task.id !== id) {
        const d = afterFirstChange[cursor++]!;
        if (d.kind === 'skip') reportDecision(d, { check: false });
      }
      if (cursor < afterFirstChange.length) cursor++;
    };

    let staleAt: string | null = null;
    for (const step of outcome.steps) {
      const handler = handlers.find((h) => h.id === step.id);
      if (handler) {
        if (step.status !== 'done' || step.exitCode !== 0) {
          report(handler, 'handler', 'failed', { message: failureMessage(step), durationMs: duration(step.id) });
          return { facts, failed: true, interrupted: false };
        }
        const plan = handlerSteps.find((h) => h.handler.id === step.id)!;
        report(handler, 'handler', 'changed', { summary: plan.summary, durationMs: duration(step.id), ...verbose(plan.script, step.output) });
        continue;
      }
      const d = byId.get(step.id);
      if (!d || d.kind !== 'plan') continue;
      reportSkipsUntil(d.task.id);
      if (step.status === 'stale') {
        staleAt = step.id;
        break;
      }
      if (step.status === 'cut-off' || step.exitCode !== 0) {
        report(d.task, 'task', 'failed', { message: failureMessage(step), durationMs: duration(step.id) });
        return { facts, failed: true, interrupted: false };
      }
      if (d.plan.changed) d.task.notify.forEach((n) => notified.add(n));
      reportDecision(d, { check: false, durationMs: duration(step.id), output: step.output });
    }
    if (staleAt !== null) {
      from = tasks.findIndex((t) => t.id === staleAt);
      continue;
    }
    reportSkipsUntil(null);
    if (!outcome.complete) {
      throw new ExecutionError(`the change script stopped early (exit code ${applyRun.exitCode})${tail(applyRun.stderr)}`);
    }
    if (firstError !== -1) {
      // The error was planned on the state before this round's changes (e.g. "the file does not
      // exist" when an earlier task creates it): probe that task again before calling it failed.
      from = tasks.indexOf(decisions[firstError]!.task);
      continue;
    }
    return { facts, failed: false, interrupted: false };
  }
  throw new ExecutionError(`the host's state kept changing under the run (${maxRounds} probe rounds): is another tool changing it?`);

  function decide(task: HostTask, f: Facts, probe: ProbeOutput | null): Decision {
    if (task.when && !task.when(f)) return { task, kind: 'skip' };
    try {
      return { task, kind: 'plan', plan: task.op.plan(f, probe ?? { stdout: '', exitCode: 0 }), probed: probe };
    } catch (error) {
      if (error instanceof OperationError) return { task, kind: 'error', message: error.message, stateError: error instanceof StateError };
      throw error;
    }
  }

  function reportDecision(d: Decision, how: { check: boolean; durationMs?: number; output?: string }) {
    const durationMs = how.durationMs ?? 0;
    if (d.kind === 'skip') report(d.task, 'task', 'skipped', { durationMs });
    else if (d.kind === 'error') report(d.task, 'task', 'failed', { message: d.message, durationMs });
    else if (!d.plan.changed) report(d.task, 'task', 'ok', { durationMs, ...(d.plan.note ? { summary: d.plan.note } : {}) });
    else
      report(d.task, 'task', 'changed', {
        summary: d.plan.summary,
        durationMs,
        ...(d.plan.diff ? { diff: d.plan.diff } : {}),
        ...verbose(d.plan.shownScript ?? d.plan.script, how.output),
      });
  }

  function fail(d: Decision): HostPlayResult {
    if (d.kind === 'error') report(d.task, 'task', 'failed', { message: d.message });
    return { facts, failed: true, interrupted: false };
  }

  function planHandlers(f: Facts, names: Set<string>) {
    const out: { handler: HostHandler; script: string; summary: string }[] = [];
    for (const handler of handlers) {
      if (!names.has(handler.name)) continue;
      try {
        const plan = handler.op.plan(f, probeOf(handler.op) ?? { stdout: '', exitCode: 0 }, handlerProbesAtStart.get(handler.id));
        if (plan.changed) out.push({ handler, script: plan.script, summary: plan.summary });
      } catch (error) {
        if (!(error instanceof OperationError)) throw error;
        report(handler, 'handler', 'failed', { message: error.message });
        return null;
      }
    }
    return out;
  }

  function reportHandlersInCheck() {
    for (const name of notified) {
      const handler = handlerByName.get(name);
      if (handler) report(handler, 'handler', 'changed', { summary: `would run handler ${handler.name}` });
    }
  }

  function verbose(script: string, output: string | undefined): Partial<TaskResultEvent> {
    return output === undefined ? { script } : { script, output };
  }

  function failureMessage(step: StepOutcome): string {
    if (step.status === 'cut-off') return `the connection ended while this task ran${tail(step.output)}`;
    if (step.status === 'stale') return 'state changed under the run';
    return `the change failed with exit code ${step.exitCode}${tail(step.output)}`;
  }
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}

/** The last lines of a command's output, for failure messages. */
export function tail(text: string, lines = OUTPUT_TAIL_LINES): string {
  const trimmed = text.trimEnd();
  if (trimmed === '') return '';
  const all = trimmed.split('\n');
  const shown = all.slice(-lines);
  return `${all.length > lines ? `; last ${lines} lines of output:` : '; output:'}\n${shown.map((l) => `    ${l}`).join('\n')}`;
}

/** Calls back as each marker line of a streamed script output arrives (for step durations). */
function markerWatcher(token: string, onMarker: (kind: string, id: string) => void): (chunk: string) => void {
  let buffer = '';
  return (chunk) => {
    buffer += chunk;
    let newline: number;
    while ((newline = buffer.indexOf('\n')) !== -1) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
      if (line.startsWith(`${token} `)) {
        const [kind, id] = line.slice(token.length + 1).split(' ');
        if (kind && id) onMarker(kind, id);
      }
    }
  };
}
