// Reading the YAML files users write (inventory, group_vars, host_vars, playbooks, -e @file) so
// that every later error can point at file:line:column: the parsed document is kept beside the
// plain data, and `locate` maps a key path in the data back to the node it came from.
//
// The one custom tag, `!env NAME`, reads NAME from the environment at load time. Such values are
// secrets (passwords, auth keys): they are collected so the runner can mask them in every output,
// and error messages never quote them. An unset variable stops a run; lint, which must run without
// the secrets (in CI), reads it as an unknown value instead (ParseOptions.onUnsetEnv).
import { open } from 'node:fs/promises';
import {
  isAlias,
  isCollection,
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  parseDocument,
  type Document,
  type Node,
  type ScalarTag,
} from 'yaml';
import { UserError } from '../core/errors.ts';
import { noteSecret, secretLengthProblem, unsetEnvValue } from '../core/secret.ts';
import { throwProblems } from './problems.ts';

export type PathSegment = string | number;

export interface Position {
  line: number;
  column: number;
}

export interface YamlFile {
  /** the path as the user gave it (messages show it like this) */
  file: string;
  /** the document as plain data, `!env` values substituted; undefined for an empty file */
  data: unknown;
  /** values read with `!env` in this file */
  secrets: Set<string>;
  /**
   * Where the value at `path` is written (or its key, with part 'key'). A path that leads into
   * data the file does not spell out (a default, a normalised shorthand) gets the position of the
   * deepest enclosing node that the file does contain.
   */
  locate(path: readonly PathSegment[], part?: 'key' | 'value'): Position;
}

export interface ParseOptions {
  /** where `!env` reads from; process.env unless given (tests pass their own) */
  env?: NodeJS.ProcessEnv;
  /**
   * Lint only: an `!env` variable that is not set reads as an unknown secret (unsetEnvValue in
   * core/secret.ts) and is reported here, instead of being an error. A run never passes this: it
   * needs every value.
   */
  onUnsetEnv?: (unset: UnsetEnv) => void;
}

/** An `!env NAME` whose variable is not set, met while linting. */
export interface UnsetEnv {
  variable: string;
  /** where the `!env` is written */
  where: { file: string; line: number; column: number };
  /** the key path it sets, as formatPath writes it */
  path: string;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * The largest YAML input read (inventory, group_vars, host_vars, playbook, -e), checked before the
 * file is read. The yaml library keeps a node tree of about 100 times an inventory's size in memory,
 * up to 600 times for a dense flow list (`[1,1,1,...]`): measured, `provision lint` of a 256 KiB
 * file peaks at 180 MB (2,300 hosts with vars) to 270 MB (that worst case) in all, against 1.76 GB
 * for a 50 MB inventory without a limit.
 */
export const MAX_YAML_BYTES = 256 * 1024;

/**
 * How many values aliases (`*name`, `<<: *name`) may add to a document when expanded: sharing
 * settings between thousands of hosts stays far below it, an alias bomb ("billion laughs": aliases
 * of aliases, each level multiplying the size) reaches it within a few lines.
 */
export const MAX_ALIAS_VALUES = 100_000;

function formatSize(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MiB` : `${Math.ceil(bytes / 1024)} KiB`;
}

function tooBig(file: string, what: string, size: string): UserError {
  return new UserError(
    `${what} ${file} is ${size}; provision reads YAML files of at most ${formatSize(MAX_YAML_BYTES)}`,
    { file },
    `check that this is the ${what} you meant${what === 'inventory' ? '; move variables into group_vars/<group>.yml and host_vars/<host>.yml files beside it (each is read on its own)' : ''}`,
  );
}

/** `all.children.directors.hosts.lvs-master.port`, `[0].roles[1].role`; `(top level)` for []. */
export function formatPath(path: readonly PathSegment[]): string {
  if (path.length === 0) return '(top level)';
  let out = '';
  for (const segment of path) out += typeof segment === 'number' ? `[${segment}]` : out === '' ? segment : `.${segment}`;
  return out;
}

/** Read and parse a YAML file; `what` names it in the error for an unreadable file ("inventory"). */
export async function readYamlFile(file: string, what: string, options: ParseOptions = {}): Promise<YamlFile> {
  let source: string;
  try {
    source = await readLimited(file, (size) => tooBig(file, what, size));
  } catch (error) {
    if (error instanceof UserError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (error as Error).message;
    throw new UserError(`cannot read ${what} ${file}: ${reason}`, { file }, `check the path of the ${what} file`);
  }
  return parseYaml(source, file, options);
}

/** The file's text; refused unread when it is larger than MAX_YAML_BYTES (a pipe is read up to the limit). */
async function readLimited(file: string, refuse: (size: string) => UserError): Promise<string> {
  const handle = await open(file, 'r');
  try {
    const stat = await handle.stat();
    if (stat.isFile() && stat.size > MAX_YAML_BYTES) throw refuse(formatSize(stat.size));
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const { bytesRead, buffer } = await handle.read(Buffer.alloc(64 * 1024), 0, 64 * 1024, null);
      if (bytesRead === 0) break;
      total += bytesRead;
      if (total > MAX_YAML_BYTES) throw refuse(`larger than ${formatSize(MAX_YAML_BYTES)}`);
      chunks.push(buffer.subarray(0, bytesRead));
    }
    return Buffer.concat(chunks).toString('utf8');
  } finally {
    await handle.close();
  }
}

/** Parse YAML text; throws a UserError (or InputProblems) for syntax errors and missing `!env` variables. */
export function parseYaml(source: string, file: string, options: ParseOptions = {}): YamlFile {
  const env = options.env ?? process.env;
  const bytes = Buffer.byteLength(source, 'utf8');
  if (bytes > MAX_YAML_BYTES) throw tooBig(file, 'YAML', formatSize(bytes));
  const lineCounter = new LineCounter();
  // The tag keeps its scalar as written; the walk below substitutes it, because only there are
  // the key path (for the message) and the position (for the error location) known.
  const envTag: ScalarTag = { tag: '!env', resolve: (text) => text };
  // merge: '<<' keys, which Ansible inventories use to share settings between hosts.
  const doc = parseDocument(source, { lineCounter, customTags: [envTag], merge: true, prettyErrors: true });
  const position = (offset: number): Position => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };

  // Too deep a nesting overflows yaml's parser at every level below the limit: the first one says it.
  const syntax = [...doc.errors, ...doc.warnings].filter((e, i, all) => !tooDeep(e) || all.findIndex(tooDeep) === i);
  throwProblems(syntax.map((error) => syntaxProblem(error, file)));
  throwProblems(aliasProblems(doc, file, position));

  const secrets = new Set<string>();
  const problems: UserError[] = [];
  walk(doc.contents, [], (node, path) => {
    if (node.tag !== '!env') return;
    // (yaml itself rejects !env on a list or mapping: the tag is defined for scalars only)
    if (!isScalar(node)) return;
    const at = { file, ...position(node.range?.[0] ?? 0) };
    const name = String(node.value ?? '').trim();
    if (!ENV_NAME.test(name)) {
      const what = name === '' ? '!env without a variable name' : `'!env ${name}' is not an environment variable name`;
      problems.push(new UserError(`${formatPath(path)}: ${what}`, at, 'name an environment variable: letters, digits and _ (e.g. !env HA_AUTH_KEY)'));
      return;
    }
    const value = env[name];
    if (value === undefined && options.onUnsetEnv !== undefined) {
      options.onUnsetEnv({ variable: name, where: at, path: formatPath(path) });
      // Unknown, but read with !env all the same: a secret, never "written in clear".
      const unknown = unsetEnvValue(name);
      node.value = unknown;
      secrets.add(unknown);
      return;
    }
    if (value === undefined) {
      problems.push(
        new UserError(
          `environment variable ${name} is not set (${formatPath(path)})`,
          at,
          `export ${name} before running, or replace '!env ${name}' in ${file} with a value`,
        ),
      );
      return;
    }
    // Noted at once, so that every later error message is masked (noteSecret skips a short one).
    noteSecret(value);
    const tooShort = secretLengthProblem(value);
    if (tooShort !== undefined) {
      problems.push(
        new UserError(
          `the value of environment variable ${name} (${formatPath(path)}) ${tooShort}`,
          at,
          `export a longer ${name}: values read with !env are secrets, masked in all output`,
        ),
      );
      return;
    }
    node.value = value;
    if (value !== '') secrets.add(value);
  });
  throwProblems(problems);

  return {
    file,
    // aliasProblems has bounded what aliases expand to (yaml's own count refuses a shared anchor
    // used more than 1000 times, which a large inventory may well do).
    data: doc.contents === null ? undefined : doc.toJS({ maxAliasCount: -1 }),
    secrets,
    locate(path, part = 'value') {
      const found = findNode(doc, path);
      const node = part === 'key' && found.exact ? (found.key ?? found.node) : found.node;
      return position(node?.range?.[0] ?? 0);
    },
  };
}

function tooDeep(error: { message: string }): boolean {
  return error.message.includes('Maximum call stack size exceeded');
}

function syntaxProblem(error: { message: string; code: string; linePos?: [{ line: number; col: number }, ...unknown[]] }, file: string): UserError {
  // yaml's pretty message ends with " at line L, column C:" and a source excerpt; the location
  // goes into `where` instead, and the excerpt is what the user's editor shows them anyway.
  const message = error.message.replace(/ at line \d+, column \d+:[\s\S]*$/, '');
  const start = error.linePos?.[0];
  const where = start === undefined ? { file } : { file, line: start.line, column: start.col };
  const hint = tooDeep(error)
    ? 'the document nests too deeply (hundreds of levels of lists or mappings): flatten it'
    : error.code === 'DUPLICATE_KEY'
      ? 'a key may appear only once in a mapping: remove or merge the repeated one'
      : error.code === 'TAG_RESOLVE_FAILED'
        ? error.message.includes('!env')
          ? '!env takes the name of an environment variable, not a list or mapping (e.g. password: !env DB_PASSWORD)'
          : 'the only tag supported here is !env (e.g. password: !env DB_PASSWORD)'
        : error.code === 'MULTIPLE_DOCS'
          ? 'put everything in one YAML document (remove the extra ---)'
          : error.code === 'TAB_AS_INDENT'
            ? 'indent YAML with spaces, not tabs'
            : 'fix the YAML syntax here: check the indentation, the quoting, and that every ":" after a key is followed by a space';
  return new UserError(`YAML syntax error: ${message}`, where, hint);
}

/**
 * Aliases, checked before the document becomes data (yaml would throw without a position): each
 * must come after its anchor (`&name`) and outside the value it names, and together they may add at
 * most MAX_ALIAS_VALUES values when expanded.
 */
function aliasProblems(doc: Document, file: string, position: (offset: number) => Position): UserError[] {
  const anchors = new Map<string, Node>();
  /** the expanded size of each anchored node, once visited */
  const sizes = new Map<Node, number>();
  const open = new Set<Node>();
  const problems: UserError[] = [];
  let added = 0;
  let bomb = false;
  const at = (node: Node) => ({ file, ...position(node.range?.[0] ?? 0) });

  // Document order, as yaml resolves an alias: to the last anchor of its name before it.
  const size = (node: unknown): number => {
    if (bomb || node === null || typeof node !== 'object') return 0;
    if (isAlias(node)) {
      const target = anchors.get(node.source);
      if (target === undefined) {
        problems.push(
          new UserError(
            `alias *${node.source} refers to no anchor: there is no &${node.source} before it`,
            at(node),
            `mark the value to repeat with &${node.source} (e.g. defaults: &${node.source} { port: 22 }) before this *${node.source}, or fix the name; an alias cannot refer forward or to another file`,
          ),
        );
        return 1;
      }
      if (open.has(target)) {
        problems.push(new UserError(`alias *${node.source} is inside the value it refers to (&${node.source}): it would repeat itself forever`, at(node), 'refer to the anchor from outside its own value'));
        return 1;
      }
      const n = sizes.get(target) ?? 1;
      added += n;
      if (added > MAX_ALIAS_VALUES) {
        bomb = true;
        problems.push(
          new UserError(
            `the aliases up to here expand to more than ${MAX_ALIAS_VALUES} values (an alias bomb: aliases of aliases, each level multiplying the size)`,
            at(node),
            `write the values out, or use fewer levels of aliases of aliases; provision expands at most ${MAX_ALIAS_VALUES} values from aliases per file`,
          ),
        );
      }
      return n;
    }
    const anchored = node as Node;
    if (anchored.anchor) anchors.set(anchored.anchor, anchored);
    let n = 1;
    if (isCollection(node)) {
      open.add(node);
      for (const item of node.items) n += isPair(item) ? size(item.key) + size(item.value) : size(item);
      open.delete(node);
    }
    if (anchored.anchor) sizes.set(anchored, n);
    return n;
  };
  size(doc.contents);
  return problems;
}

/** Visit every node below `node` with its key path; aliases are not followed (their anchor is visited). */
function walk(node: unknown, path: PathSegment[], visit: (node: Node, path: PathSegment[]) => void): void {
  if (isMap(node)) {
    visit(node, path);
    for (const pair of node.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : '?';
      walk(pair.value, [...path, key], visit);
    }
  } else if (isSeq(node)) {
    visit(node, path);
    node.items.forEach((item, index) => walk(item, [...path, index], visit));
  } else if (isScalar(node)) {
    visit(node, path);
  }
}

interface Found {
  node: Node | undefined;
  key?: Node;
  exact: boolean;
}

function findNode(doc: Document, path: readonly PathSegment[]): Found {
  let node = resolveAlias(doc, doc.contents as Node | null);
  let key: Node | undefined;
  for (const segment of path) {
    const next = child(doc, node, segment);
    if (next === undefined) return { node: node ?? undefined, exact: false };
    ({ node, key } = next);
  }
  return { node: node ?? undefined, key, exact: true };
}

function child(doc: Document, node: Node | null, segment: PathSegment): { node: Node | null; key?: Node } | undefined {
  if (isSeq(node) && typeof segment === 'number') {
    const item = node.items[segment];
    return item === undefined ? undefined : { node: resolveAlias(doc, item as Node) };
  }
  if (!isMap(node)) return undefined;
  for (const pair of node.items) {
    if (isPair(pair) && isScalar(pair.key) && String(pair.key.value) === String(segment)) {
      // A key with no value ('client1:') has no value node; its key is where the value belongs.
      const value = (pair.value as Node | null) ?? pair.key;
      return { node: resolveAlias(doc, value), key: pair.key };
    }
  }
  // Keys brought in by a merge ('<<: *defaults') are written at their anchor.
  for (const pair of node.items) {
    if (!isScalar(pair.key) || !isMergeKey(pair.key.value)) continue;
    const sources = isSeq(pair.value) ? pair.value.items : [pair.value];
    for (const source of sources) {
      const found = child(doc, resolveAlias(doc, source as Node), segment);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

// yaml represents the key of a merge ('<<:' when merge keys are on) as a symbol, not the string '<<'.
function isMergeKey(value: unknown): boolean {
  return typeof value === 'symbol' && value.description === '<<';
}

function resolveAlias(doc: Document, node: Node | null): Node | null {
  if (isAlias(node)) return (node.resolve(doc) as Node | undefined) ?? node;
  return node;
}
