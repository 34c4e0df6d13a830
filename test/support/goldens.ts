// The roles' golden files (test/fixtures/golden/, laid out as its README.md says): for one role on
// one host, a plan summary of every platform variant (plan.txt, one section per group of variants
// that plan the same) and the final bytes of every file the role writes, stored once for the
// variants that write the same bytes.
//
// The shared atomic writer's script (src/operations/write-file.ts) is not repeated in them: each
// write in a task's script is replaced by one line with its path, mode, owner and group and the
// golden file that holds its content. The writer itself finds it: atomicWriteScript renders the
// write with the attributes left open, and only a block of lines equal to the writer's script for
// the attributes found is replaced. So a change of the writer changes no golden file (its script
// is tested on its own, in test/unit/operations/file.test.ts), and anything else a role puts in a
// script still shows, line by line.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { formatPatch, structuredPatch } from 'diff';
import { expect } from 'vitest';
import type { EditedFileDiff, FileDiff } from '../../src/core/operation.ts';
import { quote } from '../../src/core/shell.ts';
import { formatMode } from '../../src/operations/file-state.ts';
import { sysctlEditScript, type SysctlEdit } from '../../src/operations/sysctl.ts';
import { atomicWriteScript, type AtomicWrite } from '../../src/operations/write-file.ts';
import { renderFileDiff } from '../../src/report/diff.ts';
import { unquoteWord } from './fresh-host.ts';
import type { PlannedTask, RolePlan } from './plan-role.ts';
import { repoRoot } from './project.ts';

export const goldenDir = path.join(repoRoot, 'test', 'fixtures', 'golden');

/** The path of a file the role writes as a golden file name: /etc/keepalived/keepalived.conf -> _etc_keepalived_keepalived.conf */
export const goldenFileName = (file: string): string => file.replace(/\//g, '_');

/** A role planned for one platform variant (e.g. 'el5', 'debian12-sysv'). */
export type VariantPlan = readonly [variant: string, plan: RolePlan];

/**
 * Compares the golden files of one role on one host (the directory `dir`, relative to
 * test/fixtures/golden/) with `plans`, one per platform variant, in the order the sections of
 * plan.txt list them. With UPDATE_GOLDEN=1 in the environment it rewrites the directory instead.
 */
export function expectRoleGoldens(dir: string, plans: ReadonlyArray<VariantPlan>): void {
  expectGoldenFiles(dir, renderRoleGoldens(plans));
}

/**
 * Compares the directory `dir` (relative to test/fixtures/golden/) with `files` (name -> content):
 * the same names, the same bytes. With UPDATE_GOLDEN=1 in the environment it writes the files that
 * differ and removes the ones no longer rendered instead: then READ the change, the golden files
 * are the reviewed expectation, not whatever the code produced.
 */
export function expectGoldenFiles(dir: string, files: ReadonlyMap<string, string>): void {
  const full = path.resolve(goldenDir, dir);
  if (!full.startsWith(goldenDir + path.sep)) throw new Error(`expectGoldenFiles: ${dir} is not a path inside test/fixtures/golden/`);
  const shown = `test/fixtures/golden/${dir}`;
  for (const name of files.keys()) {
    if (name === '' || name.includes('/') || name === '.' || name === '..') throw new Error(`expectGoldenFiles: ${JSON.stringify(name)} is not a file name`);
  }
  const present = existsSync(full) ? readdirSync(full).sort() : [];
  if (process.env.UPDATE_GOLDEN === '1') {
    mkdirSync(full, { recursive: true });
    for (const name of present) {
      if (!files.has(name) && statSync(path.join(full, name)).isFile()) rmSync(path.join(full, name));
    }
    for (const [name, content] of files) {
      const file = path.join(full, name);
      if (!existsSync(file) || readFileSync(file, 'utf8') !== content) writeFileSync(file, content);
    }
    return;
  }
  if (!existsSync(full)) throw new Error(`the golden directory ${shown} does not exist; run the test with UPDATE_GOLDEN=1 to write it, then read it`);
  expect(present, `the files of ${shown} (UPDATE_GOLDEN=1 rewrites them)`).toEqual([...files.keys()].sort());
  for (const [name, content] of files) {
    expect(content, `${shown}/${name} (UPDATE_GOLDEN=1 rewrites it)`).toBe(readFileSync(path.join(full, name), 'utf8'));
  }
}

/**
 * The golden files of one role on one host, by name: plan.txt, and the final content of every file
 * the plans write. A file that every variant writing it leaves with the same bytes is stored once,
 * under its path's name (goldenFileName); otherwise each distinct content is stored once, named
 * after the path and the variants that write it (`_etc_x@el5+el6`).
 */
export function renderRoleGoldens(plans: ReadonlyArray<VariantPlan>): Map<string, string> {
  const goldens = new Map<string, string>();
  const finals = new Map(plans.map(([variant, plan]) => [variant, finalContents(plan)]));
  /** variant -> path written -> the golden file that holds its final content */
  const names = new Map<string, Map<string, string>>(plans.map(([variant]) => [variant, new Map()]));
  const writtenPaths = [...new Set([...finals.values()].flatMap((files) => [...files.keys()]))];
  for (const written of writtenPaths) {
    const byContent = new Map<string, string[]>();
    for (const [variant, files] of finals) {
      const content = files.get(written);
      if (content !== undefined) byContent.set(content, [...(byContent.get(content) ?? []), variant]);
    }
    for (const [content, variants] of byContent) {
      const name = byContent.size === 1 ? goldenFileName(written) : `${goldenFileName(written)}@${variants.join('+')}`;
      if (goldens.has(name) || name === planFile) throw new Error(`renderRoleGoldens: two golden files would be named ${name}`);
      goldens.set(name, content);
      for (const variant of variants) names.get(variant)?.set(written, name);
    }
  }

  const sections = new Map<string, string[]>();
  for (const [variant, plan] of plans) {
    const text = renderPlanSummary(plan, names.get(variant) ?? new Map());
    sections.set(text, [...(sections.get(text) ?? []), variant]);
  }
  goldens.set(planFile, [...sections].map(([text, variants]) => `## ${variants.join(', ')}\n\n${text}`).join('\n'));
  return goldens;
}

const planFile = 'plan.txt';

/** The content each written path has after the whole plan (a file removed in the end has none). */
function finalContents(plan: RolePlan): Map<string, string> {
  const files = new Map<string, string | null>();
  for (const task of plan.tasks) for (const [written, content] of Object.entries(task.files ?? {})) files.set(written, content);
  return new Map([...files].filter((entry): entry is [string, string] => entry[1] !== null));
}

/**
 * The plan as stable, readable text: one paragraph per task ("[status] name", the summary or error,
 * the notified handlers, the script with "| " before each line and "= " before each atomic write
 * it makes), then the notified handlers. `goldenNames` names the golden file that holds the final
 * content of each written path; a write that a later task overwrites shows its change as a diff
 * instead, so that no content the plan writes goes unchecked.
 */
export function renderPlanSummary(plan: RolePlan, goldenNames: ReadonlyMap<string, string>): string {
  const lastWriter = new Map<string, PlannedTask>();
  for (const task of plan.tasks) for (const written of Object.keys(task.files ?? {})) lastWriter.set(written, task);

  const paragraph = (status: string, name: string, step: { summary?: string; error?: string; notify?: string[] }, scriptLines: string[]) => {
    const lines = [`[${status}] ${name}`];
    if (step.summary !== undefined) lines.push(`  ${step.summary}`);
    if (step.error !== undefined) lines.push(`  ! ${step.error}`);
    if (step.notify !== undefined) lines.push(`  notify: ${step.notify.join(', ')}`);
    lines.push(...scriptLines);
    return lines.join('\n');
  };
  const parts = plan.tasks.map((task) => {
    const writes = (task.diff ?? []).flatMap((diff): DescribedWrite[] => {
      // An in-place edit (sysctl) is its own script, shown as it is; the final content is in the golden file.
      if (diff.edits) return [];
      const content = task.files?.[diff.path];
      if (typeof content !== 'string') return [];
      const final = lastWriter.get(diff.path) === task;
      const golden = goldenNames.get(diff.path);
      if (final && golden === undefined) throw new Error(`renderPlanSummary: no golden file name for ${diff.path}`);
      return [{ path: diff.path, content, replaces: existedBefore(diff), shownAs: final ? { golden: golden as string } : { before: contentBefore(diff) } }];
    });
    const edits = (task.diff ?? []).filter((diff): diff is EditedFileDiff => diff.edits !== undefined);
    return paragraph(task.status, task.task, task, task.script === undefined ? [] : scriptLines(task.script, writes, edits));
  });
  if (plan.tasks.length === 0) parts.push('(no tasks)');
  if (plan.handlers.length > 0) {
    parts.push('handlers notified:', ...plan.handlers.map((h) => paragraph(h.status, h.handler, h, h.script === undefined ? [] : scriptLines(h.script, []))));
  }
  return parts.join('\n\n') + '\n';
}

interface DescribedWrite {
  path: string;
  content: string;
  replaces: boolean;
  /** the golden file with the content, or the content before the write (to show the change) */
  shownAs: { golden: string } | { before: string | null };
}

function existedBefore(diff: FileDiff): boolean {
  return diff.secret ? diff.change !== 'created' : diff.before !== null;
}

function contentBefore(diff: FileDiff): string | null {
  if (diff.edits) throw new Error(`renderPlanSummary: ${diff.path} is edited in place; golden plans show its script`);
  if (!diff.secret) return diff.before;
  if (diff.change === 'created') return null;
  throw new Error(`renderPlanSummary: a later task rewrites the secret file ${diff.path}, whose earlier content the plan does not hold; golden plans cannot show that change`);
}

/** The script's lines as "  | line", each atomic write of `writes` found in it as "  = ..." lines. */
function scriptLines(script: string, writes: DescribedWrite[], edits: EditedFileDiff[] = []): string[] {
  const found: Array<{ start: number; end: number; path: string; shown: string[] }> = [
    ...writes.flatMap((described) => {
      const write = findAtomicWrite(script, described.path, described.content, described.replaces);
      return write === undefined ? [] : [{ ...write, path: described.path, shown: describeWrite(write.write, described) }];
    }),
    ...edits.flatMap((diff) => {
      const edit = findSysctlEdit(script, diff);
      return edit === undefined ? [] : [{ ...edit, path: diff.path, shown: describeSysctlEdit(edit.edit, diff) }];
    }),
  ].sort((a, b) => a.start - b.start);
  const lines: string[] = [];
  const shell = (text: string) => {
    if (text !== '') lines.push(...text.split('\n').map((l) => (l === '' ? '  |' : `  | ${l}`)));
  };
  let at = 0;
  for (const { start, end, path, shown } of found) {
    if (start < at) throw new Error(`renderPlanSummary: two file changes overlap in the script writing ${path}`);
    shell(script.slice(at, start).replace(/\n$/, ''));
    lines.push(...shown);
    at = end === script.length ? end : end + 1;
  }
  shell(script.slice(at));
  return lines;
}

/** A word as quote() writes it: bare characters and '...' or \' pieces. */
const quotedWord = "(?:'[^']*'|\\\\'|[A-Za-z0-9_@%+=:,./-])+";

/**
 * sysctl's in-place edit of `diff.path` within `script`, on whole lines: rendered again by
 * sysctlEditScript from the parameter, setting and probed lines its awk line carries, and the
 * diff's edits, so that only the script sysctl renders for them counts.
 */
export function findSysctlEdit(script: string, diff: EditedFileDiff): { start: number; end: number; edit: SysctlEdit } | undefined {
  const escaped = quote(diff.path).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const words = new RegExp(`^provision_param=(${quotedWord}) provision_file=${escaped} provision_setting=(${quotedWord}) .*? provision_expect=(${quotedWord}) LC_ALL=C awk `, 'm').exec(script);
  if (words === null) return undefined;
  const [procPath, setting, expect] = words.slice(1, 4).map((word) => unquoteWord(word ?? ''));
  const lines = (expect ?? '').split('\n').filter((l) => l !== '').map((l) => ({ nr: Number(l.slice(0, l.indexOf('\t'))), text: l.slice(l.indexOf('\t') + 1) }));
  for (const mkdir of [true, false]) {
    const edit: SysctlEdit = { path: diff.path, procPath: procPath ?? '', setting: setting ?? '', lines, edits: diff.edits, mkdir };
    const text = sysctlEditScript(edit);
    const start = script.indexOf(text);
    const end = start + text.length;
    if (start !== -1 && (start === 0 || script[start - 1] === '\n') && (end === script.length || script[end] === '\n')) return { start, end, edit };
  }
  return undefined;
}

function describeSysctlEdit(edit: SysctlEdit, diff: EditedFileDiff): string[] {
  const probed = edit.lines.length === 0 ? 'none' : `line ${edit.lines.map((l) => l.nr).join(', ')}`;
  const head = `  = sysctl edit of ${diff.path} in place${edit.mkdir ? ' (mkdir -p of its directory first)' : ''}, if its lines of ${edit.procPath} are still those probed (${probed}):`;
  const hunks = renderFileDiff(diff).split('\n').slice(2).filter((l) => l !== '');
  return [head, ...hunks.map((l) => `  =   ${l}`)];
}

function describeWrite(write: AtomicWrite, described: DescribedWrite): string[] {
  const attributes = [
    write.replaces ? `replacing it${write.backup ? ', backed up first' : ''}` : 'new file',
    `mode ${formatMode(write.mode)}`,
    ...(write.owner === undefined ? [] : [`owner ${write.owner}`]),
    ...(write.group === undefined ? [] : [`group ${write.group}`]),
  ].join(', ');
  const head = `  = atomic write ${write.path} (${attributes})`;
  if ('golden' in described.shownAs) return [`${head}: content in ${described.shownAs.golden}`];
  const { before } = described.shownAs;
  const patch = formatPatch(structuredPatch(write.path, write.path, before ?? '', write.content, undefined, undefined, { context: 1 })).split('\n');
  // The hunks alone: the path is on the line above, and before/after are this plan's own states.
  const hunks = patch.slice(patch.findIndex((l) => l.startsWith('@@'))).filter((l) => l !== '');
  return [`${head}, rewritten by a later task; this write changes:`, ...hunks.map((l) => `  =   ${l}`)];
}

interface FoundWrite {
  /** where the writer's script starts and ends in the task's script */
  start: number;
  end: number;
  write: AtomicWrite;
}

// Stand-ins for the attributes atomicWriteScript is rendered with, to be found in its script.
const ownerHole = 'provision-golden-owner-hole';
const groupHole = 'provision-golden-group-hole';
const modeHoles = [0o7777, 0o7776, 0o7775, 0o7774];
/** the characters of an owner or group that quote() leaves bare, except the ':' between them */
const attributeWord = '[A-Za-z0-9_@%+=,./-]+';

/**
 * The writer's script for `path` and `content` within `script`, on whole lines, with the mode,
 * owner and group (and whether it backs the file up) it was rendered with; undefined when the
 * script does not hold it.
 */
export function findAtomicWrite(script: string, path: string, content: string, replaces: boolean): FoundWrite | undefined {
  const modeHole = modeHoles.find((mode) => !script.includes(formatMode(mode)));
  if (modeHole === undefined || script.includes(ownerHole) || script.includes(groupHole)) return undefined;
  const holes: Record<string, { name: string; pattern: string }> = {
    [formatMode(modeHole)]: { name: 'mode', pattern: '[0-7]+' },
    [ownerHole]: { name: 'owner', pattern: attributeWord },
    [groupHole]: { name: 'group', pattern: attributeWord },
  };
  const splitter = new RegExp(`(${Object.keys(holes).join('|')})`);
  for (const backup of replaces ? [false, true] : [false]) {
    for (const owner of [undefined, ownerHole]) {
      for (const group of [undefined, groupHole]) {
        const template = atomicWriteScript({ path, content, mode: modeHole, owner, group, backup, replaces });
        const seen = new Set<string>();
        const pattern = template
          .split(splitter)
          .map((piece, i) => {
            if (i % 2 === 0) return piece.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
            const hole = holes[piece] as { name: string; pattern: string };
            if (seen.has(hole.name)) return `\\k<${hole.name}>`;
            seen.add(hole.name);
            return `(?<${hole.name}>${hole.pattern})`;
          })
          .join('');
        const match = new RegExp(`(?<=^|\\n)${pattern}(?=\\n|$)`).exec(script);
        const mode = match?.groups?.mode;
        if (match === null || mode === undefined) continue;
        const write: AtomicWrite = {
          path,
          content,
          mode: Number.parseInt(mode, 8),
          ...(owner === undefined ? {} : { owner: match.groups?.owner }),
          ...(group === undefined ? {} : { group: match.groups?.group }),
          backup,
          replaces,
        };
        // Only what the writer renders for the attributes found counts as its script.
        if (atomicWriteScript(write) === match[0]) return { start: match.index, end: match.index + match[0].length, write };
      }
    }
  }
  return undefined;
}
