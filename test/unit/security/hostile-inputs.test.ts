// The hostile-input property test (issue 8): for every string the inventory and cluster schemas
// accept, and every typed variable of the built-in roles, each value of a hostile corpus is either
// refused when the inventory loads (a user error at file:line), or it renders so that
//   (a) every file a role writes has the same shape as with the plain value: the same lines and
//       directives (line-based files: ha.cf, haresources, authkeys, ldirectord.cf, lvs.cf, /etc/hosts,
//       rules files), keepalived.conf still passes `keepalived --config-test`, shell scripts still
//       parse (`dash -n`), files a shell sources set the same variables when real dash sources them;
//   (b) no canary command ever runs (sourcing those files, which EL init scripts do as root).
//
// The fields come from walking the schemas themselves, so a field added later joins the test: the
// coverage test fails until the base fixtures (test/fixtures/hostile/) give it a plain value.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TSchema } from '@sinclair/typebox';
import { parseDocument } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { ClusterFile } from '../../../src/cluster/schema.ts';
import { lintInventories } from '../../../src/cluster/cli.ts';
import { formatFinding } from '../../../src/cluster/lint.ts';
import { UserError } from '../../../src/core/errors.ts';
import type { Role } from '../../../src/core/task.ts';
import { loadInventory } from '../../../src/inventory/load.ts';
import type { Inventory } from '../../../src/inventory/model.ts';
import { BUILTIN_ROLE_VARIABLES } from '../../../src/inventory/role-variables.ts';
import { InventoryFile } from '../../../src/inventory/schema.ts';
import base from '../../../roles/base/index.ts';
import client from '../../../roles/client/index.ts';
import director from '../../../roles/director/index.ts';
import firewall from '../../../roles/firewall/index.ts';
import heartbeat from '../../../roles/heartbeat/index.ts';
import keepalived from '../../../roles/keepalived/index.ts';
import ldirectord from '../../../roles/ldirectord/index.ts';
import piranha from '../../../roles/piranha/index.ts';
import realserver from '../../../roles/realserver/index.ts';
import sourceBuilds from '../../../roles/source-builds/index.ts';
import { factsFor, type Platform } from '../../support/facts.ts';
import { configTest, findKeepalived } from '../../support/keepalived-binary.ts';
import { planRole } from '../../support/plan-role.ts';
import { repoRoot } from '../../support/project.ts';

// In site.yml's order.
const ROLES: Role[] = [base, sourceBuilds, realserver, firewall, director, ldirectord, heartbeat, keepalived, piranha, client] as unknown as Role[];
// EL5 (sysconfig files, ifcfg, SysV scripts) and Debian 12 (systemd, /etc/default): between them,
// every kind of file the roles write.
const PLATFORMS: Platform[] = ['el5', 'debian12'];
const BASES = ['heartbeat', 'keepalived', 'piranha'] as const;
const ENV = { HA_AUTH_KEY: 'hostile-key', VRRP_PASS: 'k33pAl1v', HOSTILE_SSH_PASSWORD: 'ssh-password', HOSTILE_SUDO_PASSWORD: 'sudo-password' };

const work = mkdtempSync(path.join(tmpdir(), 'provision-hostile-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const CANARY = path.join(work, 'canary');

// --- the corpus -------------------------------------------------------------------------------

/** Values that mean something to a shell, a line-based file or a config tokenizer, alone... */
const HOSTILE: readonly string[] = [
  `$(touch ${CANARY})`,
  `\`touch ${CANARY}\``,
  `; touch ${CANARY} ;`,
  `| touch ${CANARY}`,
  `&& touch ${CANARY}`,
  `x\nrespawn root /usr/bin/touch ${CANARY}`,
  'x\r\ny',
  'a\0b',
  'a\tb',
  '{{ evil }}',
  '{{',
  '-rf',
  '--help',
  "'",
  '"',
  '\\',
  '#',
  '!',
  '{',
  '}',
  'a b',
  ' lead',
  'trail ',
  '*',
  '~',
  '..',
  '../../etc/passwd',
  '/etc/../shadow',
  'é😀',
  '\u202e',
  '',
  'a'.repeat(5000),
];

/** ...and the same appended to (or put before) the plain value, to probe every pattern's anchors. */
const AROUND: readonly string[] = [`\nrespawn root /usr/bin/touch ${CANARY}`, `;touch ${CANARY}`, `$(touch ${CANARY})`, ' #', '"', "'", ' x', '\\', '!', '}'];

function corpus(plain: string): string[] {
  return [...new Set([...HOSTILE, ...AROUND.map((s) => plain + s), ...AROUND.slice(0, 3).map((s) => s + plain)])];
}

// --- the schema's string fields ------------------------------------------------------------------

/** A path pattern: keys, '[]' for any list item, '{*}' for any mapping value, '{key}' for a key itself. */
type Pattern = string[];

/** Every string field (and every user-chosen key) the schema accepts, as path patterns. */
function stringFields(schema: TSchema, at: Pattern, within: Set<string> = new Set()): Pattern[] {
  const s = schema as Record<string, unknown>;
  const id = typeof s.$id === 'string' ? s.$id : undefined;
  if (id !== undefined) within = new Set([...within, id]);
  if (typeof s.$ref === 'string') return []; // a group inside a group: its fields were walked once
  if (Array.isArray(s.anyOf)) return (s.anyOf as TSchema[]).flatMap((inner) => stringFields(inner, at, within));
  if (s.type === 'string') return s.enum === undefined ? [at] : [];
  if (s.type === 'array') return stringFields(s.items as TSchema, [...at, '[]'], within);
  if (s.type === 'object') {
    const found: Pattern[] = [];
    for (const [key, inner] of Object.entries((s.properties as Record<string, TSchema> | undefined) ?? {})) {
      // The inventory keeps `cluster:` opaque (its own schema is checked once the hosts are known); lab settings belong to the lab.
      if (at.length === 0 && key === 'cluster') found.push(...stringFields(ClusterFile, ['cluster'], within));
      else if (key !== 'lab') found.push(...stringFields(inner, [...at, key], within));
    }
    const values = Object.values((s.patternProperties as Record<string, TSchema> | undefined) ?? {});
    if (values.length > 0) {
      found.push([...at, '{key}']);
      for (const inner of values) found.push(...stringFields(inner, [...at, '{*}'], within));
    }
    return found;
  }
  return [];
}

const FIELDS: Pattern[] = [
  ...stringFields(InventoryFile, []),
  ...BUILTIN_ROLE_VARIABLES.flatMap(({ types }) =>
    Object.entries(types)
      .filter(([, schema]) => (schema as { type?: string; enum?: unknown } | undefined)?.type === 'string' && (schema as { enum?: unknown }).enum === undefined)
      .map(([name]) => ['all', 'vars', name]),
  ),
];

/** Concrete paths of `doc` that `pattern` matches. */
function matches(doc: unknown, pattern: Pattern, at: (string | number)[] = []): (string | number)[][] {
  if (pattern.length === 0) return [at];
  const [head, ...rest] = pattern as [string, ...string[]];
  if (head === '{key}') return doc !== null && typeof doc === 'object' && !Array.isArray(doc) ? Object.keys(doc).map((key) => [...at, key, '{key}']) : [];
  if (head === '[]') return Array.isArray(doc) ? doc.flatMap((item, index) => matches(item, rest, [...at, index])) : [];
  if (head === '{*}') {
    if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) return [];
    return Object.entries(doc).flatMap(([key, value]) => matches(value, rest, [...at, key]));
  }
  if (doc === null || typeof doc !== 'object' || !Object.hasOwn(doc, head)) return [];
  return matches((doc as Record<string, unknown>)[head], rest, [...at, head]);
}

// --- the base documents, and putting a value in them ------------------------------------------------

const baseSources = Object.fromEntries(BASES.map((name) => [name, readFileSync(path.join(repoRoot, 'test/fixtures/hostile', `${name}.yaml`), 'utf8')])) as Record<(typeof BASES)[number], string>;

/** The YAML text of a base with the value (or key) at `at` replaced by `value`; `!env` tags are kept. */
function withValue(source: string, at: (string | number)[], value: string): string {
  const doc = parseDocument(source, { customTags: [{ tag: '!env', resolve: (text: string) => text }] });
  if (at.at(-1) === '{key}') {
    const keyPath = at.slice(0, -1);
    const parent = doc.getIn(keyPath.slice(0, -1), true) as { items: { key: { value: unknown } }[] };
    const pair = parent.items.find((item) => String(item.key.value) === String(keyPath.at(-1)));
    pair!.key.value = value;
  } else {
    doc.setIn(at, doc.createNode(value));
  }
  return doc.toString({ lineWidth: 0 });
}

let fileCount = 0;
function writeInventory(text: string): string {
  const dir = path.join(work, `inventory-${fileCount++}`);
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'hosts.yaml');
  writeFileSync(file, text);
  return file;
}

/** Refused (by the loader, or by a lint error: lint runs before every run) with where and why, or loaded. */
type Outcome = { refused: string } | { loaded: Inventory };

async function load(text: string): Promise<Outcome> {
  let inventory: Inventory;
  try {
    inventory = await loadInventory(writeInventory(text), { env: ENV });
  } catch (error) {
    if (error instanceof UserError) return { refused: error.format() };
    throw error;
  }
  const errors = lintInventories([inventory]).filter((finding) => finding.severity === 'error');
  return errors.length > 0 ? { refused: errors.map(formatFinding).join('\n') } : { loaded: inventory };
}

// --- what the roles write ---------------------------------------------------------------------------

interface Rendered {
  /** `platform host path` -> content */
  files: Map<string, string>;
  /** `platform host role task` -> the plan's script */
  scripts: Map<string, string>;
  /** `platform host role task` -> the planner's refusal */
  errors: Map<string, string>;
}

function render(inventory: Inventory): Rendered {
  const hosts = [...inventory.hosts.values()].map((h) => ({ name: h.name, address: h.address, groups: h.groups, vars: h.vars }));
  const out: Rendered = { files: new Map(), scripts: new Map(), errors: new Map() };
  for (const platform of PLATFORMS) {
    for (const host of hosts) {
      for (const role of ROLES) {
        const key = `${platform} ${host.name} ${role.name}`;
        let plan;
        try {
          plan = planRole(role, { host: host.name, inventory: hosts, cluster: inventory.cluster, facts: factsFor(platform) });
        } catch (error) {
          out.errors.set(key, error instanceof Error ? error.message : String(error));
          continue;
        }
        for (const task of plan.tasks) {
          if (task.error !== undefined) out.errors.set(`${key} ${task.task}`, task.error);
          if (task.script !== undefined) out.scripts.set(`${key} ${task.task}`, task.script);
          for (const [file, content] of Object.entries(task.files ?? {})) if (content !== null) out.files.set(`${platform} ${host.name} ${file}`, content);
        }
      }
    }
  }
  return out;
}

/** Files EL and Debian init scripts source with a shell (as root). */
const SOURCED = [/ \/etc\/sysconfig\/network$/, / \/etc\/sysconfig\/network-scripts\/ifcfg-[^/]+$/, / \/etc\/default\/[^/]+$/, / \/etc\/sysconfig\/(keepalived|ldirectord|heartbeat|pulse)$/];
const SHELL_SCRIPT = /^#!\/bin\/(ba)?sh/;

/** The variables a file sets when dash sources it, and whether that ran the canary. */
function sourced(content: string): { names: string[]; ranCanary: boolean; error?: string } {
  rmSync(CANARY, { force: true });
  const file = path.join(work, 'sourced');
  writeFileSync(file, content);
  // Only the names of what the file defines: the values may hold anything.
  const script = `set -a\n. ${file}\nset +a\nenv -0 | tr '\\0' '\\n' | sed -n 's/^\\([A-Za-z_][A-Za-z0-9_]*\\)=.*/\\1/p' | sort -u\n`;
  const run = spawnSync('env', ['-i', 'PATH=/usr/bin:/bin', 'dash', '-c', script], { encoding: 'utf8', cwd: work });
  return { names: run.stdout.split('\n').filter(Boolean), ranCanary: existsSync(CANARY), ...(run.status === 0 ? {} : { error: run.stderr }) };
}

const sourcedBaseline = new Map<string, ReturnType<typeof sourced>>();

/** The shape of a line-based file: its line count and each line's leading directive word, if any. */
function shape(content: string, value: string, plain: string): string[] {
  const blank = (text: string) => (value === '' ? text : text.split(value).join('@V@'));
  const neutral = blank(content).split(plain).join('@V@');
  return neutral.split('\n').map((line) => /^\s*([A-Za-z_][\w.-]*)/.exec(line)?.[1] ?? (line.trim() === '' ? '' : '~'));
}

function dashParses(script: string): string | undefined {
  const run = spawnSync('dash', ['-n'], { input: script, encoding: 'utf8' });
  return run.status === 0 ? undefined : run.stderr;
}

const keepalivedBinary = findKeepalived();

/**
 * Why the hostile rendering is not the plain one's with another value, or undefined. With `sameShape`
 * false (a value that legitimately changes what is written: '' for "leave it alone", another name
 * for a variable), only that nothing runs and everything still parses is required.
 */
function compare(baseline: Rendered, hostile: Rendered, value: string, plain: string, sameShape: boolean): string | undefined {
  for (const [key, error] of hostile.errors) {
    if (!baseline.errors.has(key)) return `${key}: the roles refused a value that loading accepted (lint and the run disagree): ${error}`;
  }
  for (const [key, content] of hostile.files) {
    // A file named after the value (a check page) is the plain value's file under another name.
    const before = baseline.files.get(value === '' ? key : key.split(value).join(plain));
    if (before === undefined) {
      if (!sameShape) continue;
      return `${key}: written only with the hostile value`;
    }
    if (content === before) continue;
    if (SOURCED.some((pattern) => pattern.test(key))) {
      const now = sourced(content);
      if (now.ranCanary) return `${key}: sourcing it ran the canary:\n${content}`;
      if (now.error !== undefined) return `${key}: dash cannot source it: ${now.error}\n${content}`;
      const then = sourcedBaseline.get(before) ?? sourced(before);
      sourcedBaseline.set(before, then);
      if (sameShape && now.names.join(' ') !== then.names.join(' ')) return `${key}: sourcing it sets ${now.names.join(' ')} instead of ${then.names.join(' ')}:\n${content}`;
      continue;
    }
    if (SHELL_SCRIPT.test(content)) {
      const problem = dashParses(content);
      if (problem !== undefined) return `${key}: the script no longer parses: ${problem}\n${content}`;
    }
    if (key.endsWith('/keepalived.conf') && content !== before && 'binary' in keepalivedBinary) {
      const test = configTest(keepalivedBinary.binary, content);
      if (!test.ok && configTest(keepalivedBinary.binary, before).ok) return `${key}: keepalived --config-test refuses it: ${test.output}\n${content}`;
    }
    const got = shape(content, value, plain);
    const want = shape(before, plain, plain);
    if (sameShape && got.join('\n') !== want.join('\n')) return `${key}: the file's lines or directives changed:\n${content}`;
  }
  for (const [key, script] of hostile.scripts) {
    if (baseline.scripts.get(key) === script) continue;
    const problem = dashParses(script);
    if (problem !== undefined) return `${key}: the plan's script no longer parses: ${problem}\n${script}`;
  }
  return undefined;
}

// --- the tests ------------------------------------------------------------------------------------

const pathText = (at: (string | number)[]) => at.map((s) => (typeof s === 'number' ? `[${s}]` : s)).join('.');

describe('hostile values across the whole schema', () => {
  it('every string field of the schemas has a plain value in a base fixture (a new field joins the test)', () => {
    const docs = BASES.map((name) => parseDocument(baseSources[name], { customTags: [{ tag: '!env', resolve: (text: string) => text }] }).toJS() as unknown);
    // A group's settings are the same wherever the group is (all, or a child of it).
    const inAnyGroup = (field: Pattern): Pattern[] => (field[0] === 'all' ? [field, ['all', 'children', '{*}', ...field.slice(1)]] : [field]);
    const missing = FIELDS.filter((field) => docs.every((doc) => inAnyGroup(field).every((variant) => matches(doc, variant).length === 0))).map((field) => field.join('.'));
    expect(missing, 'give these a plain value in test/fixtures/hostile/*.yaml').toEqual([]);
    expect(FIELDS.length).toBeGreaterThan(80);
  });

  for (const name of BASES) {
    it(`${name}: each value is refused at file:line or renders the same files`, { timeout: 600_000 }, async () => {
      const source = baseSources[name];
      const plainLoad = await load(source);
      if (!('loaded' in plainLoad)) throw new Error(`the base ${name}.yaml does not load: ${plainLoad.refused}`);
      const baseline = render(plainLoad.loaded);
      const data = parseDocument(source, { customTags: [{ tag: '!env', resolve: (text: string) => text }] }).toJS() as unknown;
      const failures: string[] = [];
      let refused = 0;
      let accepted = 0;
      for (const field of FIELDS) {
        // The first place the base writes this field: every value of the corpus goes there.
        const at = matches(data, field)[0];
        if (at === undefined) continue;
        const plain = at.at(-1) === '{key}' ? String(at.at(-2)) : String(at.reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], data));
        for (const value of corpus(plain)) {
          const where = `${name}.yaml ${pathText(at)} = ${JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}...` : value)}`;
          let outcome: Outcome;
          try {
            outcome = await load(withValue(source, at, value));
          } catch (error) {
            failures.push(`${where}: not a user error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
            continue;
          }
          if ('refused' in outcome) {
            refused++;
            const text = outcome.refused;
            if (!/^\/\S+\/hosts\.yaml:\d+(:\d+)?: /.test(text)) failures.push(`${where}: refused without file:line: ${text}`);
            continue;
          }
          accepted++;
          let rendered: Rendered;
          try {
            rendered = render(outcome.loaded);
          } catch (error) {
            failures.push(`${where}: rendering threw: ${error instanceof Error ? error.message : String(error)}`);
            continue;
          }
          const renamesVariable = at.at(-1) === '{key}' && at.at(-3) === 'vars';
          const problem = compare(baseline, rendered, value, plain, value !== '' && !renamesVariable);
          if (problem !== undefined) failures.push(`${where}: ${problem}`);
        }
      }
      expect(existsSync(CANARY), 'a canary command ran').toBe(false);
      expect(failures.slice(0, 10), `${failures.length} failures (${refused} refused, ${accepted} accepted)`).toEqual([]);
      expect(refused).toBeGreaterThan(0);
    });
  }
});
