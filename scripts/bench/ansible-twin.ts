// The Ansible twin of a playbook (pure): from what our playbook does on each host (twin-plan.ts), an
// ansible-playbook of builtin modules that manages the same state, task for task, and its inventory
// and ansible.cfg. `npm run bench` runs the two against the same lab hosts.
//
// Each task of ours becomes the builtin module an Ansible user would pick:
//   file -> copy (the content our role rendered, as a file beside the playbook), directory and
//   absent -> file, line and shellVar -> lineinfile, block -> blockinfile, packages -> apt (yum,
//   dnf), service -> service, user -> user, group -> group,
//   command -> one shell task: its guards (unless, onlyIf) inside the same shell, so a guarded
//     command costs Ansible one execution as it costs us none extra; `changed_when` reads whether
//     it ran,
//   sysctl -> lineinfile for the persisted setting and one shell task for the running value
//     (ansible-core has no sysctl module: it lives in the ansible.posix collection).
// Packages: our packages operation installs, and when that fails refreshes the lists once and
// installs again; the twin does the same with block/rescue (a first apt, then apt with
// update_cache), so neither refreshes lists on a run that installs nothing.
// Handlers that restart a service only when it ran before the play (ifRunning) read one shell task
// at the start of the play that lists which of them run.
//
// Hosts differ (a file naming the host, a director's settings): a task whose arguments are the same
// on every host that runs it has them written in the task; otherwise each host's arguments are its
// host variable `pv` in the inventory, and the task reads them from there. Every string from our
// side is marked !unsafe, so Ansible never reads it as a template.
import { createHash } from 'node:crypto';
import { quote } from '../../src/core/shell.ts';
import type { PlannedHandler, PlannedTask, RegexSource, ResolvedOp, TwinPlan } from './twin-plan.ts';

/** What a shell task prints when its guard says there is nothing to do. */
export const UNCHANGED_MARKER = 'provision-twin: unchanged';
const RUNNING_AT_START = 'provision_twin_running_at_start';

/** One module call, or a block with its rescue. */
export type AnsibleStep =
  | { module: string; args: Record<string, unknown>; extra?: Record<string, unknown> }
  | { block: AnsibleStep[]; rescue: AnsibleStep[] };

/** A Jinja expression, written as it is (never !unsafe). */
export class Jinja {
  constructor(readonly expression: string) {}
}

/** A string Ansible must read as it is (a path, a handler's name, a register), written without !unsafe. */
export class Plain {
  constructor(readonly text: string) {}
}

export interface TwinHost {
  name: string;
  address: string;
  port: number;
  user: string;
  /** private key file */
  key?: string;
  knownHosts?: string;
  /** strict (yes), accept-new, off (no) */
  hostKeyChecking: 'strict' | 'accept-new' | 'off';
}

export interface TwinOptions {
  hosts: readonly TwinHost[];
  /** group name -> member hosts (every member, child groups' included) */
  groups: ReadonlyMap<string, readonly string[]>;
  forks: number;
  /** 'linear' (Ansible's default) or 'free' (each host runs its tasks without waiting for the others, as ours do) */
  strategy: 'linear' | 'free';
  /** where ssh keeps its ControlPersist sockets */
  controlPathDir: string;
  /** ssh, sftp and scp programs to use (e.g. wrappers that count invocations); default: Ansible's */
  executables?: { ssh: string; sftp: string; scp: string };
  /** the remote Python (set, so Ansible does not spend an execution per host discovering it) */
  python: string;
}

export interface TwinFiles {
  /** file name (relative to the twin's directory) -> content: site.yml, inventory.yml, ansible.cfg, files/* */
  files: Map<string, string>;
}

/** The twin's playbook, inventory, configuration and the files its copy tasks send. */
export function ansibleTwin(plan: TwinPlan, options: TwinOptions): TwinFiles {
  const files = new Map<string, string>();
  const hostVars = new Map<string, Record<string, unknown>>();
  const contentFile = (content: string): string => {
    const name = `${createHash('sha256').update(content).digest('hex').slice(0, 24)}.txt`;
    files.set(`files/${name}`, content);
    return name;
  };
  let slotCount = 0;
  const plays = plan.plays.map((play) => {
    const hostsOfPlay = Object.keys(play.perHost);
    const tasks: unknown[] = [];
    const handlers: unknown[] = [];
    // Hosts whose tasks notify a handler that restarts a service only if it ran before the play.
    const ifRunning = new Map<string, Set<string>>();
    for (const [host, entry] of Object.entries(play.perHost)) {
      const notified = new Set(entry.tasks.flatMap((task) => task.notify));
      for (const handler of entry.handlers) {
        if (handler.op.kind === 'service' && handler.op.ifRunning && notified.has(handler.name)) {
          const names = ifRunning.get(handler.op.name) ?? new Set<string>();
          names.add(host);
          ifRunning.set(handler.op.name, names);
        }
      }
    }
    if (ifRunning.size > 0) {
      const hosts = [...new Set([...ifRunning.values()].flatMap((names) => [...names]))];
      const services = [...ifRunning.keys()];
      const status = Object.values(play.perHost).some((entry) => entry.handlers.some((h) => h.op.kind === 'service' && h.op.systemd))
        ? 'systemctl is-active --quiet "$s" 2>/dev/null || service "$s" status'
        : 'service "$s" status';
      tasks.push({
        name: 'provision-twin: services running at the start of the play (handlers restart only those)',
        'ansible.builtin.shell': { cmd: `for s in ${services.map(quote).join(' ')}; do if ${status} >/dev/null 2>&1; then echo "$s"; fi; done`, executable: '/bin/sh' },
        register: new Plain(RUNNING_AT_START),
        changed_when: false,
        check_mode: false,
        ...jinjaWhen(whenHosts(hosts, play.selected).when),
      });
    }
    for (const slot of mergeSlots(hostsOfPlay.map((host) => [host, play.perHost[host]!.tasks] as const))) {
      const id = `t${slotCount++}`;
      tasks.push(...emitSlot(id, slot.label, slot.perHost, play.selected, (task) => task.notify));
    }
    const notifiedHandlers = (host: string) => {
      const notified = new Set(play.perHost[host]!.tasks.flatMap((task) => task.notify));
      return play.perHost[host]!.handlers.filter((handler) => notified.has(handler.name));
    };
    for (const slot of mergeSlots(hostsOfPlay.map((host) => [host, notifiedHandlers(host)] as const))) {
      const id = `h${slotCount++}`;
      const op = [...slot.perHost.values()][0]!.op;
      const extraWhen = op.kind === 'service' && op.ifRunning ? `${JSON.stringify(op.name)} in (${RUNNING_AT_START}.stdout_lines | default([]))` : undefined;
      for (const task of emitSlot(id, slot.label, slot.perHost, play.selected, () => [], extraWhen)) handlers.push({ ...task, listen: new Plain([...slot.perHost.values()][0]!.name) });
    }
    return {
      name: play.name,
      hosts: new Plain(play.hosts),
      gather_facts: false,
      any_errors_fatal: play.anyErrorsFatal,
      ...(options.strategy === 'linear' ? {} : { strategy: options.strategy }),
      tasks,
      ...(handlers.length > 0 ? { handlers } : {}),
    };
  });

  /** The Ansible tasks of one of our tasks (or handlers) on every host that has it. */
  function emitSlot<T extends PlannedTask | PlannedHandler>(id: string, label: string, perHost: ReadonlyMap<string, T>, selected: readonly string[], notify: (task: T) => string[], extraWhen?: string): Record<string, unknown>[] {
    const translated = new Map([...perHost].map(([host, task]) => [host, translateOp(task.op, `r_${id}`, contentFile)] as const));
    const first = [...translated.values()][0]!;
    const same = [...translated.values()].every((steps) => JSON.stringify(steps) === JSON.stringify(first));
    const calls = (steps: AnsibleStep[]): Array<Extract<AnsibleStep, { module: string }>> => steps.flatMap((step) => ('module' in step ? [step] : [...calls(step.block), ...calls(step.rescue)]));
    // Arguments that differ between hosts are each host's in its `pv`; the task reads them there
    // (a key one host lacks is omitted there). The others are written in the task.
    const callsOf = new Map([...translated].map(([host, steps]) => [host, calls(steps)] as const));
    if (!same) {
      const shape = JSON.stringify(first.map(stepShape));
      for (const [host, steps] of translated) {
        if (JSON.stringify(steps.map(stepShape)) !== shape) {
          throw new Error(`${label}: the task has different modules on ${[...translated.keys()][0]} and ${host}; the twin cannot write it as one task`);
        }
      }
    }
    const varying = calls(first).map((_, i) => {
      const keys = [...new Set([...callsOf.values()].flatMap((list) => Object.keys(list[i]!.args)))];
      return keys.filter((key) => new Set([...callsOf.values()].map((list) => JSON.stringify(list[i]!.args[key]))).size > 1);
    });
    for (const [host, list] of callsOf) {
      if (varying.every((keys) => keys.length === 0)) break;
      const vars = hostVars.get(host) ?? {};
      vars[id] = list.map((call, i) => Object.fromEntries(varying[i]!.filter((key) => key in call.args).map((key) => [key, call.args[key]])));
      hostVars.set(host, vars);
    }
    let index = 0;
    const templated = (steps: AnsibleStep[]): AnsibleStep[] =>
      steps.map((step) => {
        if (!('module' in step)) return { block: templated(step.block), rescue: templated(step.rescue) };
        const i = index++;
        if (same) return step;
        const args = { ...step.args, ...Object.fromEntries(varying[i]!.map((key) => [key, new Jinja(`{{ pv.${id}[${i}].${key} | default(omit) }}`)])) };
        const noLog = [...callsOf.values()].some((list) => list[i]!.extra?.no_log === true);
        return { ...step, args, extra: { ...step.extra, ...(noLog ? { no_log: true } : {}) } };
      });
    const steps = templated(first);
    const hosts = [...perHost.keys()];
    const notifies = [...new Set([...perHost.values()].flatMap(notify))];
    const condition = [whenHosts(hosts, selected).when, extraWhen].filter((part): part is string => part !== undefined);
    const notifyList = notifies.map((name) => new Plain(name));
    return steps.map((step, i) => ({
      name: `${label}${steps.length > 1 ? ` (${i + 1}/${steps.length})` : ''}`,
      ...stepTask(step, notifyList),
      ...(condition.length > 0 ? { when: condition.map((part) => new Jinja(part)) } : {}),
    }));
  }

  return {
    files: new Map([
      ['site.yml', `# The Ansible twin of our playbook, written by scripts/bench/ansible-twin.ts: see there.\n${yamlDocument(plays)}`],
      ['inventory.yml', inventoryYaml(options, hostVars)],
      ['ansible.cfg', ansibleCfg(options)],
      ...files,
    ]),
  };
}

/** The modules and the non-argument keys of a step: what must be the same on every host. */
function stepShape(step: AnsibleStep): unknown {
  if ('module' in step) return { module: step.module, extra: Object.keys(step.extra ?? {}).filter((key) => key !== 'no_log') };
  return { block: step.block.map(stepShape), rescue: step.rescue.map(stepShape) };
}

/** The task of a step; a block's modules carry the notify themselves (a block has no notify). */
function stepTask(step: AnsibleStep, notify: readonly Plain[]): Record<string, unknown> {
  if ('module' in step) return { [step.module]: step.args, ...step.extra, ...(notify.length > 0 ? { notify } : {}) };
  return { block: step.block.map((inner) => stepTask(inner, notify)), rescue: step.rescue.map((inner) => stepTask(inner, notify)) };
}

function jinjaWhen(condition: string | undefined): { when?: Jinja[] } {
  return condition === undefined ? {} : { when: [new Jinja(condition)] };
}

function whenHosts(hosts: readonly string[], selected: readonly string[]): { when?: string } {
  if (selected.every((host) => hosts.includes(host))) return {};
  return { when: `inventory_hostname in ${JSON.stringify(hosts)}` };
}

interface Slot<T> {
  label: string;
  perHost: Map<string, T>;
}

/**
 * The tasks of every host, merged into one list in their order: a task (role, name, its how-many-th
 * of that name) is one slot, which the hosts that have it share.
 */
export function mergeSlots<T extends { role: string; name: string; op: ResolvedOp }>(hosts: ReadonlyArray<readonly [string, readonly T[]]>): Slot<T>[] {
  const order: string[] = [];
  const slots = new Map<string, Slot<T>>();
  for (const [host, tasks] of hosts) {
    const seen = new Map<string, number>();
    let at = -1;
    for (const task of tasks) {
      const base = `${task.role}\0${task.name}\0${task.op.kind}`;
      const nth = seen.get(base) ?? 0;
      seen.set(base, nth + 1);
      const key = `${base}\0${nth}`;
      let slot = slots.get(key);
      if (slot === undefined) {
        slot = { label: `${task.role} : ${task.name}`, perHost: new Map() };
        slots.set(key, slot);
        order.splice(at + 1, 0, key);
        at += 1;
      } else {
        at = Math.max(at, order.indexOf(key));
      }
      slot.perHost.set(host, task);
    }
  }
  return order.map((key) => slots.get(key)!);
}

/** A JavaScript regular expression as Python's re reads it (the bench's patterns use the common syntax). */
export function pythonRegex(regex: RegexSource): string {
  const inline = [...regex.flags].filter((flag) => 'ims'.includes(flag)).join('');
  return `${inline ? `(?${inline})` : ''}${regex.source}`;
}

/** The steps of one operation; `register` names the variable of a shell task's result. */
export function translateOp(op: ResolvedOp, register: string, contentFile: (content: string) => string): AnsibleStep[] {
  const attributes = (a: { mode?: string; owner?: string; group?: string }) => ({
    ...(a.mode === undefined ? {} : { mode: a.mode }),
    ...(a.owner === undefined ? {} : { owner: a.owner }),
    ...(a.group === undefined ? {} : { group: a.group }),
  });
  const insertAfter = (value: RegexSource | 'EOF' | undefined) => (value === undefined ? {} : { insertafter: value === 'EOF' ? 'EOF' : pythonRegex(value) });
  switch (op.kind) {
    case 'file':
      return [
        {
          module: 'ansible.builtin.copy',
          args: { src: contentFile(op.content), dest: op.path, ...attributes(op), ...(op.backup ? { backup: true } : {}) },
          ...(op.secret ? { extra: { no_log: true } } : {}),
        },
      ];
    case 'directory':
      return [{ module: 'ansible.builtin.file', args: { path: op.path, state: 'directory', ...attributes(op) } }];
    case 'absent':
      return [{ module: 'ansible.builtin.file', args: { path: op.path, state: 'absent' } }];
    case 'line':
      return [
        {
          module: 'ansible.builtin.lineinfile',
          args: {
            path: op.path,
            line: op.line,
            ...(op.regexp ? { regexp: pythonRegex(op.regexp) } : {}),
            ...insertAfter(op.insertAfter),
            ...(op.create ? { create: true } : {}),
            ...(op.backup ? { backup: true } : {}),
            ...attributes(op),
          },
        },
      ];
    case 'block':
      return [
        {
          module: 'ansible.builtin.blockinfile',
          args: { path: op.path, block: op.block, marker: op.marker, ...insertAfter(op.insertAfter), ...(op.create ? { create: true } : {}), ...(op.backup ? { backup: true } : {}), ...attributes(op) },
        },
      ];
    case 'command': {
      const guards = [
        ...(op.unless === undefined ? [] : [`if (\n${op.unless}\n) </dev/null >/dev/null 2>&1; then echo '${UNCHANGED_MARKER}'; exit 0; fi`]),
        ...(op.onlyIf === undefined ? [] : [`if ! (\n${op.onlyIf}\n) </dev/null >/dev/null 2>&1; then echo '${UNCHANGED_MARKER}'; exit 0; fi`]),
      ];
      return [
        {
          module: 'ansible.builtin.shell',
          args: {
            cmd: [...guards, 'set -e', op.run].join('\n'),
            executable: '/bin/sh',
            chdir: '/',
            ...(op.creates === undefined ? {} : { creates: op.creates }),
            ...(op.removes === undefined ? {} : { removes: op.removes }),
          },
          extra: { register: new Plain(register), changed_when: ranChanged(register) },
        },
      ];
    }
    case 'packages': {
      const module = `ansible.builtin.${op.manager}`;
      const args = { name: op.names, state: op.state };
      if (op.manager !== 'apt') return [{ module, args: { ...args, ...(op.updateCache ? { update_cache: true } : {}) } }];
      if (op.updateCache || op.state === 'absent') return [{ module, args: { ...args, ...(op.updateCache ? { update_cache: true } : {}) } }];
      return [{ block: [{ module, args }], rescue: [{ module, args: { ...args, update_cache: true } }] }];
    }
    case 'service':
      return [
        {
          module: 'ansible.builtin.service',
          args: { name: op.name, ...(op.enabled === undefined ? {} : { enabled: op.enabled }), ...(op.state === undefined ? {} : { state: op.state }), use: op.systemd ? 'systemd' : 'service' },
        },
      ];
    case 'sysctl': {
      const proc = `/proc/sys/${procPath(op.name)}`;
      const runtime: AnsibleStep = {
        module: 'ansible.builtin.shell',
        args: {
          cmd: `if [ "$(echo $(cat ${quote(proc)}))" = "$(echo ${quote(op.value)})" ]; then echo '${UNCHANGED_MARKER}'; else sysctl -w ${quote(`${op.name}=${op.value}`)}; fi`,
          executable: '/bin/sh',
        },
        extra: { register: new Plain(register), changed_when: ranChanged(register) },
      };
      if (op.persistFile === undefined) return [runtime];
      return [
        runtime,
        {
          module: 'ansible.builtin.lineinfile',
          args: { path: op.persistFile, regexp: `^\\s*-?\\s*${escapeRegex(op.name)}\\s*=`, line: `${op.name} = ${op.value}`, create: true },
        },
      ];
    }
    case 'user':
      return [
        {
          module: 'ansible.builtin.user',
          args: {
            name: op.name,
            ...(op.uid === undefined ? {} : { uid: op.uid }),
            ...(op.group === undefined ? {} : { group: op.group }),
            ...(op.groups === undefined ? {} : { groups: op.groups, append: op.append }),
            ...(op.home === undefined ? {} : { home: op.home }),
            ...(op.shell === undefined ? {} : { shell: op.shell }),
            system: op.system,
            create_home: op.createHome ?? !op.system,
            ...(op.comment === undefined ? {} : { comment: op.comment }),
            state: op.state,
          },
        },
      ];
    case 'group':
      return [{ module: 'ansible.builtin.group', args: { name: op.name, ...(op.gid === undefined ? {} : { gid: op.gid }), system: op.system, state: op.state } }];
  }
}

/**
 * A shell task changed something when it ran (not skipped by creates/removes, which report no
 * change) and its guard did not say there was nothing to do.
 */
function ranChanged(register: string): Jinja {
  return new Jinja(`(${register}.changed | default(true)) and ${JSON.stringify(UNCHANGED_MARKER)} not in (${register}.stdout | default(''))`);
}

/** The path under /proc/sys of a sysctl name (as sysctl.ts maps it). */
function procPath(name: string): string {
  const first = /[./]/.exec(name)?.[0];
  if (first !== '.') return name;
  return name.replace(/[./]/g, (c) => (c === '.' ? '/' : '.'));
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

function inventoryYaml(options: TwinOptions, hostVars: ReadonlyMap<string, Record<string, unknown>>): string {
  const hosts: Record<string, unknown> = {};
  for (const host of options.hosts) {
    const sshArgs = [
      ...(host.knownHosts === undefined ? [] : [`-o UserKnownHostsFile=${host.knownHosts}`, '-o GlobalKnownHostsFile=/dev/null']),
      `-o StrictHostKeyChecking=${host.hostKeyChecking === 'strict' ? 'yes' : host.hostKeyChecking === 'off' ? 'no' : 'accept-new'}`,
    ].join(' ');
    hosts[host.name] = {
      ansible_host: host.address,
      ansible_port: host.port,
      ansible_user: host.user,
      ...(host.key === undefined ? {} : { ansible_ssh_private_key_file: host.key }),
      ansible_ssh_common_args: sshArgs,
      ...(hostVars.has(host.name) ? { pv: hostVars.get(host.name) } : {}),
    };
  }
  const children: Record<string, unknown> = {};
  for (const [group, members] of options.groups) {
    if (group === 'all' || group === 'ungrouped') continue;
    const present = members.filter((name) => options.hosts.some((host) => host.name === name));
    if (present.length > 0) children[group] = { hosts: Object.fromEntries(present.map((name) => [name, null])) };
  }
  return `# The Ansible twin's inventory, written by scripts/bench/ansible-twin.ts from ours.\n${yamlDocument({
    all: { vars: { ansible_python_interpreter: new Plain(options.python) }, hosts, ...(Object.keys(children).length > 0 ? { children } : {}) },
  })}`;
}

function ansibleCfg(options: TwinOptions): string {
  const lines = [
    '# The Ansible twin\'s settings, written by scripts/bench/ansible-twin.ts: its fastest fair ones',
    '# (pipelining, ControlPersist, forks as ours, no fact gathering, no interpreter discovery).',
    '[defaults]',
    'inventory = inventory.yml',
    `forks = ${options.forks}`,
    'gathering = explicit',
    `interpreter_python = ${options.python}`,
    'retry_files_enabled = False',
    'deprecation_warnings = False',
    'nocows = 1',
    '',
    '[ssh_connection]',
    'pipelining = True',
    'ssh_args = -C -o ControlMaster=auto -o ControlPersist=60s',
    `control_path_dir = ${options.controlPathDir}`,
  ];
  if (options.executables) {
    lines.push(`ssh_executable = ${options.executables.ssh}`, `sftp_executable = ${options.executables.sftp}`, `scp_executable = ${options.executables.scp}`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * YAML of plain data: every string from our side is a double-quoted !unsafe scalar (JSON's escapes
 * are YAML's), Jinja expressions and Plain strings are double-quoted as they are; mappings and
 * lists nest in block style, small ones in flow style.
 */
export function yamlDocument(value: unknown): string {
  return `${block(value, 0).replace(/^\n/, '')}\n`;
}

function scalar(value: unknown): string | undefined {
  if (value === null || value === undefined) return 'null';
  if (value instanceof Jinja) return JSON.stringify(value.expression);
  if (value instanceof Plain) return JSON.stringify(value.text);
  if (typeof value === 'string') return `!unsafe ${JSON.stringify(value)}`;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

/** Keys are our names (plays, hosts, modules, groups): quoted unless plainly safe. */
function key(name: string): string {
  return /^[A-Za-z_][A-Za-z0-9_.-]*$/.test(name) ? name : JSON.stringify(name);
}

function block(value: unknown, indent: number): string {
  const pad = ' '.repeat(indent);
  const simple = scalar(value);
  if (simple !== undefined) return simple;
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    if (value.every((item) => scalar(item) !== undefined)) return `[${value.map((item) => scalar(item)).join(', ')}]`;
    return value.map((item) => `\n${pad}- ${block(item, indent + 2).replace(/^\n\s*/, '')}`).join('');
  }
  const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
  if (entries.length === 0) return '{}';
  return entries
    .map(([k, v]) => {
      const inner = block(v, indent + 2);
      return `\n${pad}${key(k)}:${inner.startsWith('\n') ? inner : ` ${inner}`}`;
    })
    .join('')
    .replace(/^\n/, indent === 0 ? '' : '\n');
}
