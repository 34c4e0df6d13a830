// Reading the `cluster:` section of an inventory into the model (model.ts), called by the inventory
// loader once the hosts and the variables of group `all` are known. Every mistake is reported at
// its file:line:column with the inventory's machinery (schema errors, "did you mean").
//
// Values may be written with `!env NAME` (a secret, masked everywhere) or refer to variables of
// group `all` with `{{ name }}` (all.vars and group_vars/all.yml): the cluster is one description
// shared by every host, so host and group variables cannot change it. The references are resolved
// here, before the schema check, so a VIP or a key kept in a variable is checked like a literal.
import { Type } from '@sinclair/typebox';
import { UserError } from '../core/errors.ts';
import { noteSecret, secretLengthProblem } from '../core/secret.ts';
import { interpolateVars } from '../inventory/interpolate.ts';
import type { ClusterSource, Group, InventoryHost, SourceLocation } from '../inventory/model.ts';
import type { VarOrigin } from '../inventory/precedence.ts';
import { throwProblems } from '../inventory/problems.ts';
import { didYouMean } from '../inventory/suggest.ts';
import { compileChecker, secretPaths as secretPathsOf } from '../inventory/validate.ts';
import { originsInFile } from '../inventory/var-origin.ts';
import { formatPath, type PathSegment, type YamlFile } from '../inventory/yaml-file.ts';
import { netmaskToPrefix, resolveCluster, type Cluster } from './model.ts';
import { ClusterFile, SOURCE_COMPONENTS, type HealthCheck } from './schema.ts';

export interface LoadedCluster {
  cluster: Cluster;
  source: ClusterSource;
  /** the secret values of the cluster, to mask in every output */
  secrets: string[];
}

export interface ClusterContext {
  yaml: YamlFile;
  hosts: ReadonlyMap<string, InventoryHost>;
  /** group all, for {{ }} references */
  all: Group | undefined;
  /** values read with !env anywhere in the inventory (never templates; a secret written with !env) */
  secrets: ReadonlySet<string>;
}

const checkClusterFile = compileChecker(Type.Object({ cluster: ClusterFile }));

/** Every key of a check, by the program that reads it. */
const CHECK_KEYS: Record<'heartbeat' | 'keepalived' | 'piranha', readonly (keyof HealthCheck)[]> = {
  heartbeat: ['checktype', 'service', 'request', 'receive', 'virtualhost', 'checkport', 'checkinterval', 'checktimeout', 'negotiatetimeout', 'quiescent'],
  keepalived: ['type', 'url', 'connect_port', 'connect_timeout', 'retry', 'delay_before_retry', 'delay_loop', 'virtualhost'],
  piranha: ['send', 'expect', 'timeout', 'reentry', 'load_monitor'],
};
const CHECK_READER = { heartbeat: 'ldirectord (manager heartbeat)', keepalived: 'keepalived', piranha: "piranha's nanny" } as const;

export function loadCluster(data: unknown, context: ClusterContext): LoadedCluster {
  const { yaml, hosts } = context;
  const at = (path: readonly PathSegment[], part: 'key' | 'value' = 'value'): SourceLocation => ({ file: yaml.file, ...yaml.locate(['cluster', ...path], part) });
  if (data === null || data === undefined) {
    throw new UserError('cluster: the cluster description is empty', at([], 'key'), 'describe the cluster: name, manager, directors and virtual_services (see inventory/example.yaml)');
  }
  const resolved = resolveTemplates(data, context);
  const { cluster: file } = checkClusterFile({ cluster: resolved }, { yaml, describe: describeClusterPath });
  checkReferences(file, hosts, at);

  const cluster = resolveCluster(file, (host) => (hosts.get(host) as InventoryHost).address);
  // The model keeps the file's key names and list orders, so a path into one is a path into the other.
  const secretPaths = secretPathsOf(ClusterFile, file);
  const secretAt = (path: PathSegment[]): string => path.reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], file) as string;
  // A secret written in clear (lint warns) is masked like the others: it needs the same length.
  for (const path of secretPaths) noteSecret(secretAt(path));
  throwProblems(
    secretPaths.flatMap((path) => {
      const tooShort = secretLengthProblem(secretAt(path));
      return tooShort === undefined ? [] : [new UserError(`cluster.${formatPath(path)}: the secret ${tooShort}`, at(path), `use a longer value (read it with !env)`)];
    }),
  );
  const writtenPart = (path: readonly PathSegment[]): PathSegment[] => {
    const prefix: PathSegment[] = [];
    let node: unknown = (yaml.data as Record<string, unknown>).cluster;
    for (const segment of path) {
      if (node === null || typeof node !== 'object' || !Object.hasOwn(node, segment)) break;
      node = (node as Record<string, unknown>)[segment];
      prefix.push(segment);
    }
    return prefix;
  };
  return {
    cluster,
    source: {
      file: yaml.file,
      locate: at,
      pointAt: (path) => at(writtenPart(path), 'key'),
      written: (path) => writtenPart(path).length === path.length,
      clearTextSecrets: secretPaths.filter((path) => !context.secrets.has(secretAt(path))),
    },
    secrets: secretPaths.map(secretAt),
  };
}

/** "the cluster", "virtual service [0] of the cluster", ... for "unknown key 'x' in <this>". */
function describeClusterPath(path: readonly PathSegment[]): string {
  const inner = path.slice(1);
  if (inner.length === 0) return 'the cluster';
  if (inner[0] === 'virtual_services' && typeof inner[1] === 'number') {
    const service = `virtual service ${formatPath(inner.slice(0, 2))}`;
    if (inner.length === 2) return service;
    if (inner[2] === 'realservers' && typeof inner[3] === 'number' && inner.length === 4) return `real server ${formatPath(inner.slice(2))} of ${service}`;
    return `the ${formatPath(inner.slice(2))} of ${service}`;
  }
  return `cluster.${formatPath(inner)}`;
}

// --- {{ }} references to variables of group all ------------------------------------------------------

const REFERENCE_START = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)/g;

function resolveTemplates(data: unknown, { yaml, all, hosts, secrets }: ClusterContext): unknown {
  const allVars = all?.vars ?? {};
  const templates = stringsWithTemplates(data, [], secrets);
  if (templates.length === 0) return data;

  // Only the variables the cluster uses (and those they use) are resolved: group all may well hold
  // variables that refer to host variables, which have no value for the cluster as a whole.
  const problems: UserError[] = [];
  const needed = new Set<string>();
  const queue: { name: string; path: PathSegment[] }[] = templates.flatMap(({ value, path }) => referencedNames(value).map((name) => ({ name, path })));
  while (queue.length > 0) {
    const { name, path } = queue.shift()!;
    if (needed.has(name)) continue;
    if (!Object.hasOwn(allVars, name)) {
      if (path.length > 0) problems.push(undefinedReference(name, path, allVars, hosts, yaml));
      continue;
    }
    needed.add(name);
    for (const value of stringsWithTemplates(allVars[name], [], secrets)) for (const inner of referencedNames(value.value)) queue.push({ name: inner, path: [] });
  }
  throwProblems(problems);

  const vars: Record<string, unknown> = { cluster: data };
  const origin: Record<string, VarOrigin> = { ...originsInFile(yaml, [], { cluster: data }, 'the inventory') };
  for (const name of needed) {
    vars[name] = allVars[name];
    const from = all?.varOrigin[name];
    if (from !== undefined) origin[name] = from;
  }
  return interpolateVars(vars, origin, { literal: secrets }).cluster;
}

function undefinedReference(name: string, path: PathSegment[], allVars: Record<string, unknown>, hosts: ReadonlyMap<string, InventoryHost>, yaml: YamlFile): UserError {
  const elsewhere = [...hosts.values()].some((host) => Object.hasOwn(host.vars, name));
  return new UserError(
    `${formatPath(['cluster', ...path])}: {{ ${name} }} is not a variable of group all${didYouMean(name, Object.keys(allVars))}`,
    { file: yaml.file, ...yaml.locate(['cluster', ...path]) },
    elsewhere
      ? `'${name}' is set for some hosts only; the cluster is shared by every host, so it can use only the variables of group all (all.vars, group_vars/all.yml)`
      : `define ${name} in all.vars or group_vars/all.yml, or write the value here`,
  );
}

function stringsWithTemplates(value: unknown, path: PathSegment[], literal: ReadonlySet<string>): { value: string; path: PathSegment[] }[] {
  if (typeof value === 'string') return value.includes('{{') && !literal.has(value) ? [{ value, path }] : [];
  if (Array.isArray(value)) return value.flatMap((item, index) => stringsWithTemplates(item, [...path, index], literal));
  if (value !== null && typeof value === 'object') return Object.entries(value).flatMap(([key, item]) => stringsWithTemplates(item, [...path, key], literal));
  return [];
}

function referencedNames(template: string): string[] {
  return [...template.matchAll(REFERENCE_START)].map((match) => match[1] as string);
}

// --- what the schema cannot say ---------------------------------------------------------------------

function checkReferences(file: ClusterFile, hosts: ReadonlyMap<string, InventoryHost>, at: (path: readonly PathSegment[], part?: 'key' | 'value') => SourceLocation): void {
  const problems: UserError[] = [];
  const problem = (path: PathSegment[], message: string, hint: string, part: 'key' | 'value' = 'value') =>
    problems.push(new UserError(`${formatPath(['cluster', ...path])}: ${message}`, at(path, part), hint));
  const inventoryHost = (name: string, path: PathSegment[], what: string, part: 'key' | 'value' = 'value'): boolean => {
    if (hosts.has(name)) return true;
    problem(path, `${what} '${name}' is not a host of the inventory${didYouMean(name, hosts.keys())}`, 'name a host listed under all: (add it to the inventory if needed)', part);
    return false;
  };
  const directors = file.directors;

  // directors
  directors.forEach((name, index) => {
    inventoryHost(name, ['directors', index], 'director');
    if (directors.indexOf(name) !== index) problem(['directors', index], `director '${name}' is listed twice`, 'list each director once, the primary first');
  });
  const directorKeys = (map: Record<string, unknown> | undefined, path: PathSegment[], what: string) => {
    for (const name of Object.keys(map ?? {})) {
      if (directors.includes(name)) continue;
      const keyPath = [...path, name];
      if (hosts.has(name)) problem(keyPath, `'${name}' is not a director (${what} is set per director)`, `the directors are ${directors.join(', ')}`, 'key');
      else problem(keyPath, `'${name}' is not a director${didYouMean(name, directors)}`, `the directors are ${directors.join(', ')}`, 'key');
    }
  };
  for (const name of Object.keys(file.addresses ?? {})) inventoryHost(name, ['addresses', name], 'host', 'key');

  // virtual services
  const nat = file.virtual_services.some((service) => service.forwarding === 'nat');
  file.virtual_services.forEach((service, index) => {
    const path: PathSegment[] = ['virtual_services', index];
    const protocol = service.protocol ?? 'tcp';
    if (protocol === 'fwmark' && service.fwmark === undefined) problem(path, 'a fwmark service needs its firewall mark', "add 'fwmark:' (the mark your iptables rules set), or use protocol tcp or udp with a port");
    if (protocol !== 'fwmark' && service.fwmark !== undefined) problem([...path, 'fwmark'], `fwmark applies to protocol fwmark only (this service is ${protocol})`, "remove fwmark, or set 'protocol: fwmark'", 'key');
    if (protocol !== 'fwmark' && service.port === undefined) problem(path, `a ${protocol} service needs a port`, "add 'port:' (e.g. port: 80)");
    service.realservers.forEach((server, serverIndex) => {
      const serverPath = [...path, 'realservers', serverIndex];
      if (server.host === undefined && server.address === undefined) problem(serverPath, 'a real server needs a host (an inventory host) or an address', 'write { host: web1 } or { address: 192.168.2.252 }');
      if (server.host !== undefined) inventoryHost(server.host, [...serverPath, 'host'], 'real server');
    });
    if (service.persistence?.netmask !== undefined && netmaskToPrefix(service.persistence.netmask) === undefined) {
      problem([...path, 'persistence', 'netmask'], `${service.persistence.netmask} is not a netmask (its one bits must be contiguous)`, 'e.g. 255.255.255.255 (each client alone) or 255.255.255.0 (clients of one /24 together)');
    }
    const check = service.check ?? {};
    for (const key of Object.keys(check) as (keyof HealthCheck)[]) {
      if (file.manager !== 'none' && CHECK_KEYS[file.manager].includes(key)) continue;
      const readers = (Object.keys(CHECK_KEYS) as (keyof typeof CHECK_KEYS)[]).filter((manager) => CHECK_KEYS[manager].includes(key)).map((manager) => CHECK_READER[manager]);
      problem(
        [...path, 'check', key],
        file.manager === 'none'
          ? `'${key}' is a health-check setting, and manager none checks nothing`
          : `'${key}' is read by ${readers.join(' and ')}, not by ${CHECK_READER[file.manager]}`,
        file.manager === 'none' ? 'remove the check, or choose a manager that checks real servers' : `this cluster's checks take: ${CHECK_KEYS[file.manager].join(', ')}`,
        'key',
      );
    }
  });
  if (nat && file.nat === undefined) {
    problem([], 'a service uses forwarding nat, but the cluster has no nat: section', "add 'nat: { interface: eth1, gateway: 192.168.10.1 }': the directors' interface on the real servers' network and the floating gateway address the real servers route through", 'key');
  }

  // the manager's own section, and no other manager's
  const sections = { heartbeat: ['heartbeat', 'ldirectord'], keepalived: ['keepalived'], piranha: ['piranha'] } as const;
  for (const [manager, keys] of Object.entries(sections)) {
    for (const key of keys) {
      if (file[key] !== undefined && file.manager !== manager) problem([key], `the ${key}: section is read with manager ${manager} only (this cluster's manager is ${file.manager})`, `remove it, or set 'manager: ${manager}'`, 'key');
    }
  }
  if (file.manager === 'heartbeat' && file.heartbeat === undefined) problem([], 'manager heartbeat needs a heartbeat: section', "add 'heartbeat:' with at least one path (ucast, bcast, mcast or serial) and authkeys: { method: sha1, key: !env HA_AUTH_KEY }", 'key');
  if (file.manager === 'keepalived' && file.keepalived === undefined) problem([], 'manager keepalived needs a keepalived: section', "add 'keepalived: { virtual_router_id: 51 }' (and auth: { pass: !env VRRP_PASS })", 'key');
  if (file.heartbeat !== undefined) {
    file.heartbeat.ucast?.forEach((path, index) => directorKeys(path.addresses, ['heartbeat', 'ucast', index, 'addresses'], 'the ucast address'));
    directorKeys(file.heartbeat.node_names, ['heartbeat', 'node_names'], 'the node name');
  }
  if (file.keepalived !== undefined) {
    directorKeys(file.keepalived.priority, ['keepalived', 'priority'], 'the priority');
    directorKeys(file.keepalived.state, ['keepalived', 'state'], 'the state');
  }

  // installation
  for (const component of SOURCE_COMPONENTS) {
    const entry = file.install?.[component];
    if (entry === undefined) continue;
    const path: PathSegment[] = ['install', component];
    if (entry.from === 'source') {
      for (const key of ['url', 'sha256'] as const) {
        if (entry[key] === undefined) problem(path, `installing ${component} from source needs its ${key}`, `add '${key}:' (the archive is refused unless its SHA-256 is the one given)`);
      }
    } else {
      for (const key of ['url', 'sha256', 'version', 'configure_args'] as const) {
        if (entry[key] !== undefined) problem([...path, key], `'${key}' is used with 'from: source' only`, "add 'from: source', or remove it", 'key');
      }
    }
  }
  const perl = file.install?.perl_modules;
  if (perl?.from === 'cpan' && (perl.modules ?? []).length === 0) problem(['install', 'perl_modules'], 'from: cpan needs the modules to build', 'list them: modules: [{ name: Socket6, url: ..., sha256: ... }, ...]');
  if (perl?.from !== 'cpan' && perl?.modules !== undefined) problem(['install', 'perl_modules', 'modules'], "modules are built with 'from: cpan' only", "add 'from: cpan', or remove modules", 'key');

  throwProblems(problems);
}
