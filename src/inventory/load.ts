// Loading an inventory: the YAML file, then group_vars/ and host_vars/ beside it, into the model
// of model.ts. Every mistake a user can make is reported with its file:line:column.
import { readdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { loadCluster } from '../cluster/load.ts';
import { UserError } from '../core/errors.ts';
import { MIN_SECRET_LENGTH, noteSecret, secretLengthProblem } from '../core/secret.ts';
import type { BecomeOptions, DockerOptions, Group, Inventory, InventoryHost, SourceLocation, SshOptions, VagrantOptions } from './model.ts';
import { inPrecedenceOrder, mergeVars, type VarLayer, type VarOrigin } from './precedence.ts';
import { throwProblems } from './problems.ts';
import { InventoryFile, VarsFile, type GroupEntry, type HostEntry } from './schema.ts';
import { didYouMean } from './suggest.ts';
import { inventoryRoleVariableProblems } from './role-variables.ts';
import { compileChecker } from './validate.ts';
import { originsInFile } from './var-origin.ts';
import { formatPath, readYamlFile, type ParseOptions, type PathSegment, type YamlFile } from './yaml-file.ts';

export type LoadInventoryOptions = ParseOptions;

const DEFAULTS = { port: 22, user: 'root', transport: 'ssh', hostKeyChecking: 'accept-new', connectTimeout: 10, commandTimeout: 600 } as const;

const checkInventory = compileChecker(InventoryFile);
const checkVarsFile = compileChecker(VarsFile);

/** Load an inventory file and the group_vars/ and host_vars/ directories beside it. */
export async function loadInventory(file: string, options: LoadInventoryOptions = {}): Promise<Inventory> {
  const yaml = await readYamlFile(file, 'inventory', options);
  if (yaml.data === undefined || yaml.data === null) {
    throw new UserError(`the inventory ${file} is empty`, { file }, "start it with 'all:' and list hosts under 'all: { hosts: ... }' or in groups under 'all: { children: ... }'");
  }
  const parsed = checkInventory(fillEmptyEntries(structuredClone(yaml.data)), { yaml, describe: describeInventoryPath });
  const dir = path.dirname(file);
  const secrets = new Set(yaml.secrets);

  const tree = collectTree(parsed, yaml);
  const groupNames = [...tree.groups.keys()];
  const hostNames = [...tree.hosts.keys()];
  const groupFiles = await readVarsDirectory(dir, 'group_vars', groupNames, hostNames, options);
  const hostFiles = await readVarsDirectory(dir, 'host_vars', hostNames, groupNames, options);
  for (const layers of [...groupFiles.values(), ...hostFiles.values()]) for (const layer of layers) for (const secret of layer.secrets) secrets.add(secret);

  const groups = resolveGroups(tree, groupFiles);
  const hosts = new Map<string, InventoryHost>();
  for (const draft of tree.hosts.values()) hosts.set(draft.name, resolveHost(draft, groups, hostFiles.get(draft.name) ?? [], dir));
  checkJumpHosts(hosts, tree, yaml);
  checkTransportSettings(tree, yaml);
  const tooShortPasswords: UserError[] = [];
  for (const host of hosts.values()) {
    const written = tree.hosts.get(host.name)?.writtenAt;
    const settings = [
      { variable: host.passwordEnv, path: written?.get('password_env') },
      { variable: host.become?.passwordEnv, path: written?.get('become') && [...written.get('become')!, 'password_env'] },
    ];
    for (const { variable, path: settingPath } of settings) {
      const value = variable === undefined ? undefined : (options.env ?? process.env)[variable];
      if (value === undefined || value === '') continue;
      noteSecret(value);
      const tooShort = secretLengthProblem(value);
      if (tooShort === undefined) secrets.add(value);
      else if (!tooShortPasswords.some((e) => e.message.includes(`variable ${variable} `))) {
        const where = settingPath === undefined ? { file } : { file: yaml.file, ...yaml.locate(settingPath) };
        tooShortPasswords.push(new UserError(`the value of environment variable ${variable} (the password of host ${host.name}) ${tooShort}`, where, `use a password of at least ${MIN_SECRET_LENGTH} characters`));
      }
    }
  }
  throwProblems(tooShortPasswords);
  // Variables the built-in roles write to hosts are checked now, so lint refuses what a run would.
  throwProblems(inventoryRoleVariableProblems(hosts.values(), secrets));
  if (parsed.cluster === undefined) return { file, dir, hosts, groups, secrets };
  const { cluster, source: clusterSource, secrets: clusterSecrets } = loadCluster(parsed.cluster, { yaml, hosts, all: groups.get('all'), secrets });
  for (const secret of clusterSecrets) secrets.add(secret);
  return { file, dir, hosts, groups, secrets, cluster, clusterSource };
}

// --- the inventory file -------------------------------------------------------------------------

/**
 * An entry written with nothing after the colon ('client1:', 'hosts:') is YAML null; it means an
 * empty entry, as in Ansible. Filled in before validation so the schema stays strict elsewhere.
 */
function fillEmptyEntries(data: unknown): unknown {
  if (!isObject(data)) return data;
  if (data.all === null) data.all = {};
  fillGroup(data.all);
  return data;
}

function fillGroup(group: unknown): void {
  if (!isObject(group)) return;
  for (const key of ['hosts', 'children', 'vars']) if (group[key] === null) group[key] = {};
  if (isObject(group.hosts)) for (const name of Object.keys(group.hosts)) if (group.hosts[name] === null) group.hosts[name] = {};
  if (isObject(group.children)) {
    for (const name of Object.keys(group.children)) {
      if (group.children[name] === null) group.children[name] = {};
      fillGroup(group.children[name]);
    }
  }
}

/** "host lvs-master", "the ssh settings of host lvs-master", "group directors", ... */
function describeInventoryPath(at: readonly PathSegment[]): string {
  const last = at.at(-1);
  const before = at.at(-2);
  const owner = (index: number): string => {
    const name = String(at.at(index));
    return at.at(index - 1) === 'hosts' ? `host ${name}` : `group ${name}`;
  };
  if (at.length === 0) return 'the inventory';
  if (at.length === 1) return 'group all';
  if (before === 'hosts') return `host ${String(last)}`;
  if (before === 'children') return `group ${String(last)}`;
  if (last === 'ssh' || last === 'become' || last === 'docker' || last === 'vagrant') return `the ${last} settings of ${owner(-2)}`;
  if (last === 'hosts' || last === 'children' || last === 'vars') return `the ${last} of ${owner(-2)}`;
  return formatPath(at);
}

interface HostDraft {
  name: string;
  /** connection settings, merged from every place the host is listed */
  entry: Omit<HostEntry, 'vars'>;
  vars: Record<string, unknown>;
  varOrigin: Record<string, VarOrigin>;
  /** where each setting and variable was written, to report conflicting definitions */
  writtenAt: Map<string, readonly PathSegment[]>;
  /** groups that list the host directly */
  groups: Set<string>;
  path: readonly PathSegment[];
  source: SourceLocation;
}

interface GroupDraft {
  name: string;
  parents: Set<string>;
  children: Set<string>;
  hosts: Set<string>;
  vars: Record<string, unknown>;
  varOrigin: Record<string, VarOrigin>;
  varWrittenAt: Map<string, readonly PathSegment[]>;
  source: SourceLocation;
}

interface Tree {
  groups: Map<string, GroupDraft>;
  /** in inventory order */
  hosts: Map<string, HostDraft>;
}

/**
 * Walk the file's group tree in document order. A host or group may be listed in several places
 * (a host in two groups, a group under two parents): the places add up, but one setting or
 * variable given two different values is an error rather than a silent "last one wins".
 */
function collectTree(parsed: InventoryFile, yaml: YamlFile): Tree {
  const tree: Tree = { groups: new Map(), hosts: new Map() };
  const problems: UserError[] = [];
  const at = (where: readonly PathSegment[], part: 'key' | 'value' = 'value') => ({ file: yaml.file, ...yaml.locate(where, part) });
  const conflict = (what: string, where: readonly PathSegment[], earlier: readonly PathSegment[]) => {
    const first = yaml.locate(earlier);
    problems.push(
      new UserError(`${formatPath(where)}: ${what} is also set, to a different value, at ${yaml.file}:${first.line}:${first.column}`, at(where), 'set it in one place only'),
    );
  };

  const visitGroup = (name: string, entry: GroupEntry, groupPath: PathSegment[], parent: string | undefined): void => {
    let group = tree.groups.get(name);
    if (group === undefined) {
      group = { name, parents: new Set(), children: new Set(), hosts: new Set(), vars: {}, varOrigin: {}, varWrittenAt: new Map(), source: { file: yaml.file, ...yaml.locate(groupPath, 'key') } };
      tree.groups.set(name, group);
    }
    if (parent !== undefined) group.parents.add(parent);
    // Object key order is the file's order, so hosts keep the order in which they are written.
    for (const [key, value] of Object.entries(entry)) {
      if (key === 'vars' && value !== undefined) {
        const varsPath = [...groupPath, 'vars'];
        const vars = value as Record<string, unknown>;
        const origin = originsInFile(yaml, varsPath, vars, `group ${name} (inventory)`);
        for (const [variable, variableValue] of Object.entries(vars)) {
          const earlier = group.varWrittenAt.get(variable);
          if (earlier !== undefined && !isDeepStrictEqual(group.vars[variable], variableValue)) conflict(`variable '${variable}' of group ${name}`, [...varsPath, variable], earlier);
          group.vars[variable] = variableValue;
          group.varOrigin[variable] = origin[variable] as VarOrigin;
          group.varWrittenAt.set(variable, [...varsPath, variable]);
        }
      } else if (key === 'hosts' && value !== undefined) {
        for (const [hostName, hostEntry] of Object.entries(value as Record<string, HostEntry>)) {
          visitHost(hostName, hostEntry, [...groupPath, 'hosts', hostName], name);
          group.hosts.add(hostName);
        }
      } else if (key === 'children' && value !== undefined) {
        for (const [childName, childEntry] of Object.entries(value as Record<string, GroupEntry>)) {
          const childPath = [...groupPath, 'children', childName];
          if (childName === 'all') {
            problems.push(new UserError(`${formatPath(childPath)}: 'all' is the top group and cannot be the child of another`, at(childPath, 'key'), 'rename this group'));
            continue;
          }
          group.children.add(childName);
          visitGroup(childName, childEntry, childPath, name);
        }
      }
    }
  };

  const visitHost = (name: string, entry: HostEntry, hostPath: PathSegment[], groupName: string): void => {
    let host = tree.hosts.get(name);
    if (host === undefined) {
      host = { name, entry: {}, vars: {}, varOrigin: {}, writtenAt: new Map(), groups: new Set(), path: hostPath, source: { file: yaml.file, ...yaml.locate(hostPath, 'key') } };
      tree.hosts.set(name, host);
    }
    host.groups.add(groupName);
    const { vars = {}, ...settings } = entry;
    for (const [key, value] of Object.entries(settings) as [keyof typeof settings, unknown][]) {
      const earlier = host.writtenAt.get(key);
      if (earlier !== undefined && !isDeepStrictEqual(host.entry[key], value)) conflict(`'${key}' of host ${name}`, [...hostPath, key], earlier);
      (host.entry as Record<string, unknown>)[key] = value;
      host.writtenAt.set(key, [...hostPath, key]);
    }
    const varsPath = [...hostPath, 'vars'];
    const origin = originsInFile(yaml, varsPath, vars, `host ${name} (inventory)`);
    for (const [variable, value] of Object.entries(vars)) {
      const earlier = host.writtenAt.get(`vars.${variable}`);
      if (earlier !== undefined && !isDeepStrictEqual(host.vars[variable], value)) conflict(`variable '${variable}' of host ${name}`, [...varsPath, variable], earlier);
      host.vars[variable] = value;
      host.varOrigin[variable] = origin[variable] as VarOrigin;
      host.writtenAt.set(`vars.${variable}`, [...varsPath, variable]);
    }
  };

  visitGroup('all', parsed.all, ['all'], undefined);

  for (const host of tree.hosts.values()) {
    if (tree.groups.has(host.name)) {
      problems.push(
        new UserError(`${formatPath(host.path)}: '${host.name}' is both a host and a group`, at(host.path, 'key'), 'rename one of them: a host pattern could not tell them apart'),
      );
    }
  }
  const cycle = findGroupCycle(tree.groups);
  if (cycle !== undefined) {
    const group = tree.groups.get(cycle[0] ?? '');
    problems.push(
      new UserError(`groups contain each other: ${cycle.join(' -> ')}`, group?.source ?? { file: yaml.file }, 'a group cannot be its own ancestor: remove one of these children entries'),
    );
  }
  throwProblems(problems);
  return tree;
}

/** A chain of child groups that leads back to its start, if there is one. */
function findGroupCycle(groups: ReadonlyMap<string, GroupDraft>): string[] | undefined {
  const done = new Set<string>();
  const stack: string[] = [];
  const visit = (name: string): string[] | undefined => {
    const index = stack.indexOf(name);
    if (index >= 0) return [...stack.slice(index), name];
    if (done.has(name)) return undefined;
    stack.push(name);
    for (const child of groups.get(name)?.children ?? []) {
      const cycle = visit(child);
      if (cycle !== undefined) return cycle;
    }
    stack.pop();
    done.add(name);
    return undefined;
  };
  for (const name of groups.keys()) {
    const cycle = visit(name);
    if (cycle !== undefined) return cycle;
  }
  return undefined;
}

// --- group_vars/ and host_vars/ -----------------------------------------------------------------

interface VarsFileLayer extends VarLayer {
  secrets: Set<string>;
}

const VARS_EXTENSIONS = ['.yml', '.yaml'];

/**
 * `<kind>/<name>.yml|.yaml` and `<kind>/<name>/*.yml|.yaml` (in name order), per name. Other files
 * (README, editor backups) are ignored, as Ansible does; a file for a name the inventory does not
 * define is an error, since its variables would silently apply to nothing.
 */
async function readVarsDirectory(
  dir: string,
  kind: 'group_vars' | 'host_vars',
  known: readonly string[],
  otherKind: readonly string[],
  options: ParseOptions,
): Promise<Map<string, VarsFileLayer[]>> {
  const base = path.join(dir, kind);
  let entries;
  try {
    entries = await readdir(base, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' || (error as NodeJS.ErrnoException).code === 'ENOTDIR') return new Map();
    throw error;
  }
  const files: { name: string; file: string }[] = [];
  const problems: UserError[] = [];
  const noun = kind === 'group_vars' ? 'group' : 'host';
  for (const entry of [...entries].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (entry.name.startsWith('.')) continue;
    const entryPath = path.join(base, entry.name);
    let name: string;
    let found: string[];
    if (entry.isDirectory()) {
      name = entry.name;
      found = (await readdir(entryPath)).filter(isVarsFileName).sort().map((inner) => path.join(entryPath, inner));
    } else if (isVarsFileName(entry.name)) {
      name = entry.name.slice(0, entry.name.lastIndexOf('.'));
      found = [entryPath];
    } else {
      continue;
    }
    if (!known.includes(name)) {
      const isOther = otherKind.includes(name);
      problems.push(
        new UserError(
          `${kind}/${entry.name}: the inventory has no ${noun} '${name}'${isOther ? '' : didYouMean(name, known)}`,
          { file: entryPath },
          isOther
            ? `'${name}' is a ${noun === 'group' ? 'host' : 'group'}: move this to ${noun === 'group' ? 'host_vars' : 'group_vars'}/`
            : `rename it after one of the inventory's ${noun}s (${known.join(', ')}), or add the ${noun} to the inventory`,
        ),
      );
      continue;
    }
    for (const file of found) files.push({ name, file });
  }
  throwProblems(problems);

  const layers = new Map<string, VarsFileLayer[]>();
  for (const { name, file } of files) {
    const yaml = await readYamlFile(file, `${kind} file`, options);
    const vars = checkVarsFile(yaml.data ?? {}, { yaml, describe: () => `${kind} file of ${noun} ${name}` });
    const label = path.relative(dir, file);
    const layer: VarsFileLayer = { name: label, vars, file, origin: originsInFile(yaml, [], vars, label), secrets: yaml.secrets };
    layers.set(name, [...(layers.get(name) ?? []), layer]);
  }
  return layers;
}

function isVarsFileName(name: string): boolean {
  return !name.startsWith('.') && VARS_EXTENSIONS.includes(path.extname(name));
}

// --- resolution -----------------------------------------------------------------------------------

function resolveGroups(tree: Tree, groupFiles: ReadonlyMap<string, VarsFileLayer[]>): Map<string, Group> {
  const depth = new Map<string, number>();
  const depthOf = (name: string): number => {
    const known = depth.get(name);
    if (known !== undefined) return known;
    const parents = [...(tree.groups.get(name)?.parents ?? [])];
    const value = parents.length === 0 ? 0 : Math.max(...parents.map(depthOf)) + 1;
    depth.set(name, value);
    return value;
  };
  const hostOrder = [...tree.hosts.keys()];
  const membersOf = (name: string, into: Set<string>): Set<string> => {
    const group = tree.groups.get(name);
    for (const host of group?.hosts ?? []) into.add(host);
    for (const child of group?.children ?? []) membersOf(child, into);
    return into;
  };

  const groups = new Map<string, Group>();
  for (const draft of tree.groups.values()) {
    const members = membersOf(draft.name, new Set());
    const merged = mergeVars([{ name: `group ${draft.name} (inventory)`, vars: draft.vars, origin: draft.varOrigin }, ...(groupFiles.get(draft.name) ?? [])]);
    groups.set(draft.name, {
      name: draft.name,
      parents: [...draft.parents],
      children: [...draft.children],
      hosts: hostOrder.filter((host) => members.has(host)),
      depth: depthOf(draft.name),
      vars: merged.vars,
      varOrigin: merged.origin,
      source: draft.source,
    });
  }
  return groups;
}

function resolveHost(draft: HostDraft, groups: ReadonlyMap<string, Group>, hostFiles: readonly VarLayer[], dir: string): InventoryHost {
  const memberOf = new Set<string>();
  const addWithAncestors = (name: string): void => {
    if (memberOf.has(name)) return;
    memberOf.add(name);
    for (const parent of groups.get(name)?.parents ?? []) addWithAncestors(parent);
  };
  for (const name of draft.groups) addWithAncestors(name);
  const ordered = inPrecedenceOrder([...memberOf].map((name) => groups.get(name) as Group));

  // Each group's own vars are already its inventory vars then its group_vars files (resolveGroups).
  const layers: VarLayer[] = [
    ...ordered.map((group) => ({ name: `group ${group.name}`, vars: group.vars, origin: group.varOrigin })),
    { name: `host ${draft.name} (inventory)`, vars: draft.vars, origin: draft.varOrigin },
    ...hostFiles,
  ];
  const { vars, origin } = mergeVars(layers);
  const { entry } = draft;
  const ssh: SshOptions = {
    hostKeyChecking: entry.ssh?.host_key_checking ?? DEFAULTS.hostKeyChecking,
    connectTimeout: entry.ssh?.connect_timeout ?? DEFAULTS.connectTimeout,
    commandTimeout: entry.ssh?.command_timeout ?? DEFAULTS.commandTimeout,
    ...(entry.ssh?.known_hosts === undefined ? {} : { knownHosts: resolvePath(dir, entry.ssh.known_hosts) }),
    ...(entry.ssh?.legacy === undefined ? {} : { legacy: entry.ssh.legacy }),
    ...(entry.ssh?.jump === undefined ? {} : { jump: entry.ssh.jump }),
  };
  const transport = entry.transport ?? DEFAULTS.transport;
  const docker: DockerOptions | undefined = entry.docker === undefined ? undefined : entry.docker.host === undefined ? {} : { host: entry.docker.host };
  // Every vagrant host has a machine: by default the host's own name in the Vagrantfile beside the inventory.
  const vagrant: VagrantOptions | undefined =
    transport === 'vagrant' ? { dir: resolvePath(dir, entry.vagrant?.dir ?? '.'), machine: entry.vagrant?.machine ?? draft.name } : undefined;
  // A become block means "become root": with sudo unless it says sudo: false.
  const become: BecomeOptions | undefined =
    entry.become === undefined ? undefined : { sudo: entry.become.sudo ?? true, ...(entry.become.password_env === undefined ? {} : { passwordEnv: entry.become.password_env }) };
  return {
    name: draft.name,
    address: entry.address ?? draft.name,
    port: entry.port ?? DEFAULTS.port,
    user: entry.user ?? DEFAULTS.user,
    ...(entry.key === undefined ? {} : { key: resolvePath(dir, entry.key) }),
    ...(entry.password_env === undefined ? {} : { passwordEnv: entry.password_env }),
    transport,
    ssh,
    ...(docker === undefined ? {} : { docker }),
    ...(vagrant === undefined ? {} : { vagrant }),
    ...(become === undefined ? {} : { become }),
    ...(entry.lab === undefined ? {} : { lab: entry.lab }),
    groups: ordered.map((group) => group.name),
    vars,
    varOrigin: origin,
    source: draft.source,
  };
}

/** `~` is the user's home; a relative path is relative to the inventory's directory. */
function resolvePath(dir: string, value: string): string {
  const expanded = value === '~' ? os.homedir() : value.startsWith('~/') ? path.join(os.homedir(), value.slice(2)) : value;
  return path.resolve(dir, expanded);
}

/** ssh.jump must name another host, and following jumps must end somewhere. */
function checkJumpHosts(hosts: ReadonlyMap<string, InventoryHost>, tree: Tree, yaml: YamlFile): void {
  const problems: UserError[] = [];
  for (const host of hosts.values()) {
    const jump = host.ssh.jump;
    if (jump === undefined) continue;
    const jumpPath = [...(tree.hosts.get(host.name)?.writtenAt.get('ssh') ?? []), 'jump'];
    const where = { file: yaml.file, ...yaml.locate(jumpPath) };
    if (jump === host.name) {
      problems.push(new UserError(`${formatPath(jumpPath)}: host ${host.name} cannot jump through itself`, where, 'name another host of the inventory, or remove jump'));
    } else if (!hosts.has(jump)) {
      problems.push(
        new UserError(`${formatPath(jumpPath)}: jump host '${jump}' is not in the inventory${didYouMean(jump, hosts.keys())}`, where, 'name a host of this inventory (add the jump host to it if needed)'),
      );
    } else {
      const chain = [host.name];
      let next: string | undefined = jump;
      while (next !== undefined && !chain.includes(next)) {
        chain.push(next);
        next = hosts.get(next)?.ssh.jump;
      }
      if (next !== undefined) {
        problems.push(new UserError(`${formatPath(jumpPath)}: jump hosts form a loop: ${[...chain, next].join(' -> ')}`, where, 'one host of the chain must be reachable directly'));
      }
    }
  }
  throwProblems(problems);
}

/** docker: and vagrant: settings belong to hosts of that transport; elsewhere they would silently do nothing. */
function checkTransportSettings(tree: Tree, yaml: YamlFile): void {
  const problems: UserError[] = [];
  for (const host of tree.hosts.values()) {
    const transport = host.entry.transport ?? DEFAULTS.transport;
    for (const key of ['docker', 'vagrant'] as const) {
      const writtenAt = host.writtenAt.get(key);
      if (host.entry[key] === undefined || writtenAt === undefined || transport === key) continue;
      problems.push(
        new UserError(
          `${formatPath(writtenAt)}: host ${host.name} has ${key} settings, but its transport is ${transport}`,
          { file: yaml.file, ...yaml.locate(writtenAt, 'key') },
          `set transport: ${key} for ${host.name}, or remove its ${key} settings`,
        ),
      );
    }
  }
  throwProblems(problems);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
