// What our playbook does on each host, as data the Ansible twin is written from: for every play and
// host, the tasks and handlers the roles build (the runner's way: role variables merged in
// precedence order, `when` decided on the host's facts), each with its operation's arguments
// resolved for that host (a file's content rendered by the role, a package or service name picked
// for its platform).
//
// Operations keep their arguments private (an Operation is a probe and a planner), so while the
// roles build their tasks the functions of `ops` are wrapped to note the arguments of every
// operation they make; an operation made any other way is an error here, never a silent gap.
import type { Facts } from '../../src/core/facts.ts';
import { resolve, type Operation } from '../../src/core/operation.ts';
import type { Handler, Role, Task } from '../../src/core/task.ts';
import { ops, shellAssignment } from '../../src/index.ts';
import { interpolateVars } from '../../src/inventory/interpolate.ts';
import type { Inventory, InventoryHost } from '../../src/inventory/model.ts';
import { selectHosts } from '../../src/inventory/pattern.ts';
import { mergeVars, runVarLayers } from '../../src/inventory/precedence.ts';
import { pickForPlatform, type PerPlatform } from '../../src/operations/per-platform.ts';
import { dropInSysctlFile, mainSysctlFile } from '../../src/operations/sysctl.ts';
import type { Play, Playbook } from '../../src/playbook/model.ts';
import { loadRole, roleSearchPath } from '../../src/runner/roles.ts';
import { strictVars } from '../../src/runner/strict-vars.ts';

interface Attributes {
  mode?: string;
  owner?: string;
  group?: string;
}

/** An operation with its arguments resolved for one host. */
export type ResolvedOp =
  | ({ kind: 'file'; path: string; content: string; backup: boolean; secret: boolean } & Attributes)
  | ({ kind: 'directory'; path: string } & Attributes)
  | { kind: 'absent'; path: string }
  /** line and shellVar (a line whose pattern is the variable's assignment) */
  | ({ kind: 'line'; path: string; line: string; regexp?: RegexSource; insertAfter?: RegexSource | 'EOF'; create: boolean; backup: boolean } & Attributes)
  | ({ kind: 'block'; path: string; block: string; marker: string; insertAfter?: RegexSource | 'EOF'; create: boolean; backup: boolean } & Attributes)
  | { kind: 'command'; run: string; creates?: string; removes?: string; unless?: string; onlyIf?: string }
  | { kind: 'packages'; manager: 'apt' | 'yum' | 'dnf'; names: string[]; state: 'present' | 'absent' | 'latest'; updateCache: boolean }
  | { kind: 'service'; name: string; enabled?: boolean; state?: 'started' | 'stopped' | 'restarted' | 'reloaded'; ifRunning: boolean; systemd: boolean }
  | { kind: 'sysctl'; name: string; value: string; persistFile?: string }
  | { kind: 'user'; name: string; uid?: number; group?: string; groups?: string[]; append: boolean; home?: string; shell?: string; system: boolean; createHome?: boolean; comment?: string; state: 'present' | 'absent' }
  | { kind: 'group'; name: string; gid?: number; system: boolean; state: 'present' | 'absent' };

/** A JavaScript regular expression: its source and flags. */
export interface RegexSource {
  source: string;
  flags: string;
}

export interface PlannedTask {
  role: string;
  name: string;
  op: ResolvedOp;
  notify: string[];
}

export interface PlannedHandler {
  role: string;
  name: string;
  op: ResolvedOp;
}

export interface TwinPlay {
  name: string;
  /** the play's host pattern */
  hosts: string;
  anyErrorsFatal: boolean;
  /** every host of the inventory the pattern selects (with facts or not) */
  selected: string[];
  /** by host name, every host the play selects that has facts */
  perHost: Record<string, { tasks: PlannedTask[]; handlers: PlannedHandler[] }>;
}

export interface TwinPlan {
  plays: TwinPlay[];
}

type OpKind = keyof typeof ops;
interface Captured {
  kind: OpKind;
  args: Record<string, unknown>;
}

/**
 * Every play's tasks for every host of `facts` (the hosts to write the twin for), as our runner
 * would build them with no tags, no extra vars and no --limit.
 */
export async function planTwin(inventory: Inventory, playbook: Playbook, facts: ReadonlyMap<string, Facts>): Promise<TwinPlan> {
  const roles = new Map<string, Role>();
  const searchPath = roleSearchPath(playbook.file);
  for (const play of playbook.plays) {
    for (const ref of play.roles) if (!roles.has(ref.name)) roles.set(ref.name, await loadRole(ref.name, searchPath, ref.source));
  }
  const allHosts = [...inventory.hosts.values()].map((h) => ({ name: h.name, address: h.address, groups: h.groups, vars: h.vars }));
  const plays: TwinPlay[] = [];
  for (const play of playbook.plays) {
    const perHost: TwinPlay['perHost'] = {};
    const selected = selectHosts(inventory, play.hosts, play.hostsSource);
    for (const name of selected) {
      const hostFacts = facts.get(name);
      if (hostFacts === undefined) continue;
      perHost[name] = hostPlay(play, inventory.hosts.get(name)!, hostFacts);
    }
    plays.push({ name: play.name, hosts: play.hosts, anyErrorsFatal: play.anyErrorsFatal, selected, perHost });
  }
  return { plays };

  function hostPlay(play: Play, host: InventoryHost, hostFacts: Facts): TwinPlay['perHost'][string] {
    const tasks: PlannedTask[] = [];
    const handlers: PlannedHandler[] = [];
    for (const ref of play.roles) {
      const role = roles.get(ref.name)!;
      const merged = mergeVars(
        runVarLayers({
          role: { name: role.name, defaults: role.defaults },
          host,
          play: { name: play.name, vars: play.vars, varOrigin: play.varOrigin },
          roleParams: { vars: ref.vars, varOrigin: ref.varOrigin },
        }),
      );
      const vars = interpolateVars(merged.vars, merged.origin, { literal: inventory.secrets });
      const ctx = {
        vars: strictVars(vars, { role: role.name, host: host.name }),
        host: { name: host.name, address: host.address, groups: host.groups },
        inventory: { hosts: allHosts },
        cluster: inventory.cluster,
      };
      const built = capturing(() => ({ tasks: role.tasks(ctx), handlers: (role.handlers?.(ctx) ?? []) as Handler[] }));
      for (const task of built.value.tasks as Task[]) {
        if (task.when && !task.when(hostFacts)) continue;
        const op = resolveOp(built.captured, task.op, hostFacts, `${role.name}: ${task.name}`);
        if (op !== undefined) tasks.push({ role: role.name, name: task.name, op, notify: task.notify ?? [] });
      }
      for (const handler of built.value.handlers) {
        if (handlers.some((h) => h.name === handler.name)) continue;
        const op = resolveOp(built.captured, handler.op, hostFacts, `${role.name}: handler ${handler.name}`);
        if (op !== undefined) handlers.push({ role: role.name, name: handler.name, op });
      }
    }
    return { tasks, handlers };
  }
}

/** Runs `build` with every function of `ops` noting the arguments of the operations it makes. */
function capturing<T>(build: () => T): { value: T; captured: WeakMap<Operation, Captured> } {
  const captured = new WeakMap<Operation, Captured>();
  const originals = { ...ops };
  const writable = ops as Record<OpKind, (args: never) => Operation>;
  for (const kind of Object.keys(originals) as OpKind[]) {
    const original = originals[kind] as unknown as (args: Record<string, unknown>) => Operation;
    writable[kind] = ((args: Record<string, unknown>) => {
      const op = original(args);
      captured.set(op, { kind, args });
      return op;
    }) as never;
  }
  try {
    return { value: build(), captured };
  } finally {
    Object.assign(ops, originals);
  }
}

/** The operation's arguments for a host of `facts`; undefined when it has nothing to do there (no package names for the platform). */
function resolveOp(captured: WeakMap<Operation, Captured>, op: Operation, facts: Facts, where: string): ResolvedOp | undefined {
  const entry = captured.get(op);
  if (entry === undefined) throw new Error(`${where}: its ${op.kind} operation was not made through ops.${op.kind}(...) while the role built its tasks, so the twin cannot read its arguments`);
  const a = entry.args;
  const str = (key: string): string | undefined => (a[key] === undefined ? undefined : String(a[key]));
  const attributes = (): Attributes => ({ ...(a.mode === undefined ? {} : { mode: String(a.mode) }), ...(a.owner === undefined ? {} : { owner: String(a.owner) }), ...(a.group === undefined ? {} : { group: String(a.group) }) });
  const pattern = (value: unknown): RegexSource | undefined =>
    value === undefined ? undefined : value instanceof RegExp ? { source: value.source, flags: value.flags.replace(/[gy]/g, '') } : { source: String(value), flags: '' };
  const insertAfter = (value: unknown): RegexSource | 'EOF' | undefined => (value === undefined || value === 'EOF' ? undefined : pattern(value));
  switch (entry.kind) {
    case 'file':
      return { kind: 'file', path: String(a.path), content: resolve(a.content as string | ((f: Facts) => string), facts), backup: a.backup === true, secret: a.secret === true, ...attributes() };
    case 'directory':
      return { kind: 'directory', path: String(a.path), ...attributes() };
    case 'absent':
      return { kind: 'absent', path: String(a.path) };
    case 'line': {
      const regexp = pattern(a.regexp);
      const after = insertAfter(a.insertAfter);
      return { kind: 'line', path: String(a.path), line: String(a.line), ...(regexp ? { regexp } : {}), ...(after ? { insertAfter: after } : {}), create: a.create === true, backup: a.backup === true, ...attributes() };
    }
    case 'shellVar': {
      // As shell-var.ts writes it: the last NAME= line (export NAME=, or commented out) becomes NAME=value.
      const name = String(a.name);
      const prefix = a.replaceCommented === true ? '^#?\\s*' : '^\\s*';
      return { kind: 'line', path: String(a.path), line: shellAssignment(name, a.value as string), regexp: { source: `${prefix}(?:export\\s+)?${name}=`, flags: '' }, create: a.create === true, backup: false, ...attributes() };
    }
    case 'block': {
      const after = insertAfter(a.insertAfter);
      return {
        kind: 'block',
        path: String(a.path),
        block: resolve(a.block as string | ((f: Facts) => string), facts),
        marker: str('marker') ?? '# {mark} PROVISION MANAGED BLOCK',
        ...(after ? { insertAfter: after } : {}),
        create: a.create === true,
        backup: a.backup === true,
        ...attributes(),
      };
    }
    case 'command':
      return {
        kind: 'command',
        run: String(a.run),
        ...(a.creates === undefined ? {} : { creates: String(a.creates) }),
        ...(a.removes === undefined ? {} : { removes: String(a.removes) }),
        ...(a.unless === undefined ? {} : { unless: String(a.unless) }),
        ...(a.onlyIf === undefined ? {} : { onlyIf: String(a.onlyIf) }),
      };
    case 'packages': {
      const names = a.names as string[] | PerPlatform<string[]>;
      const wanted = [...new Set(Array.isArray(names) ? names : pickForPlatform(names, facts, { noun: 'package name', option: 'names' }))];
      if (wanted.length === 0) return undefined;
      if (facts.packageManager === 'unknown') throw new Error(`${where}: the host has no package manager the twin knows`);
      return { kind: 'packages', manager: facts.packageManager, names: wanted, state: (a.state as 'present' | 'absent' | 'latest' | undefined) ?? 'present', updateCache: a.updateCache === true };
    }
    case 'service': {
      const name = typeof a.name === 'string' ? a.name : pickForPlatform(a.name as PerPlatform<string>, facts, { noun: 'service name', option: 'name' });
      return {
        kind: 'service',
        name,
        ...(a.enabled === undefined ? {} : { enabled: a.enabled === true }),
        ...(a.state === undefined ? {} : { state: a.state as 'started' | 'stopped' | 'restarted' | 'reloaded' }),
        ifRunning: a.ifRunning === true,
        systemd: facts.init === 'systemd',
      };
    }
    case 'sysctl': {
      const persist = a.persist !== false;
      const file = str('file') ?? (facts.os.family === 'el' && facts.os.major <= 6 ? mainSysctlFile : dropInSysctlFile);
      return { kind: 'sysctl', name: String(a.name), value: String(a.value), ...(persist ? { persistFile: file } : {}) };
    }
    case 'user':
      return {
        kind: 'user',
        name: String(a.name),
        ...(a.uid === undefined ? {} : { uid: Number(a.uid) }),
        ...(a.group === undefined ? {} : { group: String(a.group) }),
        ...(a.groups === undefined ? {} : { groups: (a.groups as string[]).map(String) }),
        append: a.append === true,
        ...(a.home === undefined ? {} : { home: String(a.home) }),
        ...(a.shell === undefined ? {} : { shell: String(a.shell) }),
        system: a.system === true,
        ...(a.createHome === undefined ? {} : { createHome: a.createHome === true }),
        ...(a.comment === undefined ? {} : { comment: String(a.comment) }),
        state: (a.state as 'present' | 'absent' | undefined) ?? 'present',
      };
    case 'group':
      return { kind: 'group', name: String(a.name), ...(a.gid === undefined ? {} : { gid: Number(a.gid) }), system: a.system === true, state: (a.state as 'present' | 'absent' | undefined) ?? 'present' };
    case 'sourceBuild':
      throw new Error(`${where}: the Ansible twin has no translation of sourceBuild (the bench's playbooks build nothing from source)`);
  }
}
