// Tasks and roles: what a role author writes. A role is a TypeScript module in roles/<name>/ whose
// default export comes from defineRole; its tasks are built from operations (src/operations/).
import type { TSchema } from '@sinclair/typebox';
import type { Cluster } from '../cluster/model.ts';
import type { Facts } from './facts.ts';
import type { Operation } from './operation.ts';

export interface Task {
  name: string;
  op: Operation;
  /** handler names to run once at the end of the play if this task changed something */
  notify?: string[];
  tags?: string[];
  /** decided on the target's facts at plan time; the task is skipped when it returns false */
  when?: (facts: Facts) => boolean;
}

export interface Handler {
  name: string;
  op: Operation;
}

export interface HostInfo {
  /** the inventory name */
  name: string;
  address: string;
  groups: string[];
}

export interface RoleContext<V> {
  vars: V;
  host: HostInfo;
  /** every host of the inventory with its merged variables, for roles that render cluster-wide files */
  inventory: { hosts: ReadonlyArray<HostInfo & { vars: Record<string, unknown> }> };
  /** the inventory's `cluster:` description (src/cluster/model.ts), when it has one */
  cluster: Cluster | undefined;
}

export interface Role<V extends Record<string, unknown> = Record<string, unknown>> {
  name: string;
  /** typed defaults: the lowest-precedence variables */
  defaults: V;
  /**
   * The type of each variable (typebox schemas; see role-variables.ts): a value that does not fit
   * stops the run before any host is touched, at the file:line that set it. Every variable that
   * reaches a target should have one.
   */
  types?: { [K in keyof V]?: TSchema };
  /**
   * The role configures the inventory's cluster (ctx.cluster): a run whose inventory has no
   * cluster: section stops before any host is contacted, at the playbook line naming the role.
   */
  needsCluster?: boolean;
  tasks(ctx: RoleContext<V>): Task[];
  handlers?(ctx: RoleContext<V>): Handler[];
}

export function defineRole<V extends Record<string, unknown>>(role: Role<V>): Role<V> {
  return role;
}
