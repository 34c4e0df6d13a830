// Command plans of roles: a role's tasks planned for one platform against a simulated fresh host
// (fresh-host.ts), the way the runner plans them (src/runner/host-play.ts) but without a host:
// `when` decided on the facts, each operation planned on its probe output, the notified handlers
// planned at the end. The roles' golden files are rendered from these plans by goldens.ts.
import type { Facts } from '../../src/core/facts.ts';
import { OperationError, type FileDiff, type Operation, type Plan } from '../../src/core/operation.ts';
import type { HostInfo, Role, RoleContext } from '../../src/core/task.ts';
import { strictVars } from '../../src/runner/strict-vars.ts';
import { contentIn, freshProbe, stateAfter, writtenContent, type HostState } from './fresh-host.ts';

/** An inventory host as a role sees it; `vars` are the host's merged inventory variables. */
export type InventoryHostInput = HostInfo & { vars?: Record<string, unknown> };

/** The type of RoleContext's `cluster` field (unknown while RoleContext has none). */
export type ClusterOf = RoleContext<Record<string, unknown>> extends { cluster?: infer C } ? C : unknown;

export interface PlanRoleOptions {
  /**
   * Variables over the role's defaults and the host's inventory vars (like play vars or -e); no
   * {{ }} interpolation. Reading a variable that none of them defines fails, as in a real run.
   */
  vars?: Record<string, unknown>;
  /** the host, or its name in `inventory` */
  host: string | HostInfo;
  /** every host of the inventory (default: the host alone), e.g. [...inventory.hosts.values()] */
  inventory?: ReadonlyArray<InventoryHostInput>;
  /** the cluster description, passed to the role as ctx.cluster */
  cluster?: ClusterOf;
  facts: Facts;
  /** what exists on the host besides a fresh installation */
  state?: HostState;
}

export type PlannedStatus = 'skipped' | 'ok' | 'changed' | 'error';

export interface PlannedTask {
  task: string;
  status: PlannedStatus;
  /** what changes, or the note of an unchanged task */
  summary?: string;
  script?: string;
  /** the files the change writes (plan.diff): path -> new content (null: removed) */
  files?: Record<string, string | null>;
  /** the plan's own diff of those files: what each held before (a secret file's diff holds no content) */
  diff?: FileDiff[];
  /** the OperationError's message */
  error?: string;
  /** handlers the task notifies (when it changed) */
  notify?: string[];
}

export interface PlannedHandler {
  handler: string;
  status: Exclude<PlannedStatus, 'skipped'>;
  summary?: string;
  script?: string;
  error?: string;
}

export interface RolePlan {
  tasks: PlannedTask[];
  /** the handlers the changed tasks notify, in the role's handler order */
  handlers: PlannedHandler[];
}

/**
 * Plans every task of `role` for a fresh host of `options.facts` (fresh-host.ts), each on the state
 * the earlier tasks leave (see stateAfter). Unlike the runner, which stops a host at its first error,
 * every task is planned, so that a golden plan shows every problem at once. Handlers are planned on
 * the state before the tasks' changes, as the runner plans them from the same probes.
 */
export function planRole<V extends Record<string, unknown>>(role: Role<V>, options: PlanRoleOptions): RolePlan {
  const { facts, state } = options;
  const hostName = typeof options.host === 'string' ? options.host : options.host.name;
  const listed = options.inventory?.find((h) => h.name === hostName);
  if (options.inventory !== undefined && listed === undefined) {
    throw new Error(`planRole: host ${hostName} is not in the inventory (${options.inventory.map((h) => h.name).join(', ')})`);
  }
  const host = typeof options.host === 'string' ? (listed ?? { name: hostName, address: hostName, groups: [] }) : options.host;
  const hostInfo: HostInfo = { name: host.name, address: host.address, groups: host.groups };
  const inventoryHosts: ReadonlyArray<InventoryHostInput> = options.inventory ?? [hostInfo];
  const vars = { ...role.defaults, ...listed?.vars, ...options.vars } as V;
  // A variable, not a literal, so that it is accepted whether or not RoleContext has `cluster` yet.
  const ctx = {
    vars: strictVars(vars, { role: role.name, host: host.name }),
    host: hostInfo,
    inventory: { hosts: inventoryHosts.map((h) => ({ name: h.name, address: h.address, groups: h.groups, vars: h.vars ?? {} })) },
    cluster: options.cluster,
  };

  // Each task is planned on the state the earlier ones leave, as the runner re-probes a task whose
  // state an earlier change touched (e.g. two line tasks on one file).
  let current: HostState = state ?? {};
  const tasks = role.tasks(ctx).map((task): PlannedTask => {
    if (task.when && !task.when(facts)) return { task: task.name, status: 'skipped' };
    const planned = planOperation(task.op, facts, current);
    if ('error' in planned) return { task: task.name, status: 'error', error: planned.error };
    const { plan } = planned;
    current = stateAfter(current, facts, task.op, plan);
    if (!plan.changed) return { task: task.name, status: 'ok', ...(plan.note === undefined ? {} : { summary: plan.note }) };
    const files = plan.diff && Object.fromEntries(plan.diff.map((d) => [d.path, d.edits ? contentIn(current, facts, d.path) : writtenContent(plan, d)]));
    return {
      task: task.name,
      status: 'changed',
      summary: plan.summary,
      script: plan.script,
      ...(files ? { files, diff: plan.diff } : {}),
      ...(task.notify && task.notify.length > 0 ? { notify: task.notify } : {}),
    };
  });

  const handlers = role.handlers?.(ctx) ?? [];
  const notified = new Set(tasks.flatMap((t) => t.notify ?? []));
  for (const name of notified) {
    if (!handlers.some((h) => h.name === name)) {
      throw new Error(`planRole: a task of role ${role.name} notifies '${name}', but the role defines no handler by that name`);
    }
  }
  return {
    tasks,
    handlers: handlers
      .filter((h) => notified.has(h.name))
      .map((h): PlannedHandler => {
        const planned = planOperation(h.op, facts, state);
        if ('error' in planned) return { handler: h.name, status: 'error', error: planned.error };
        const { plan } = planned;
        if (!plan.changed) return { handler: h.name, status: 'ok', ...(plan.note === undefined ? {} : { summary: plan.note }) };
        return { handler: h.name, status: 'changed', summary: plan.summary, script: plan.script };
      }),
  };
}

function planOperation(op: Operation, facts: Facts, state: HostState | undefined): { plan: Plan } | { error: string } {
  try {
    return { plan: op.plan(facts, freshProbe(op, facts, state)) };
  } catch (error) {
    if (error instanceof OperationError) return { error: error.message };
    throw error;
  }
}
