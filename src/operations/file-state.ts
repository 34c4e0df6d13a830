// What the path-based operations (file, line, block, directory, absent) know about a path on the
// target: one probe that prints its type, attributes and (for text files) content, its parser, and
// the attribute (mode/owner/group) comparisons and commands they share.
import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import { OperationError } from '../core/operation.ts';
import { quote } from '../core/shell.ts';
import { posixCksum } from '../runner/cksum.ts';

/** What the path points to, following a symbolic link ("absent" for a dangling link). */
export type FileType = 'absent' | 'file' | 'directory' | 'other';

export interface FileAttributes {
  /** permission bits, e.g. 0o644 (with setuid/setgid/sticky bits when set) */
  mode: number;
  uid: number;
  gid: number;
  /** user name, or what stat prints when the uid has none (e.g. "UNKNOWN") */
  owner: string;
  group: string;
}

export interface FileState {
  type: FileType;
  /** the path itself is a symbolic link; type and attributes describe what it points to */
  link: boolean;
  /** undefined when the path does not exist */
  attributes?: FileAttributes;
  /** the exact content of a regular file, when the probe was asked for it */
  content?: string;
  /**
   * instead of the content (a secret file, whose old content must not travel back to the runner):
   * what md5sum, or cksum where there is none, prints for it; see contentMatches
   */
  digest?: string;
}

/** How a probe reads a regular file: not at all, its whole content, or only a digest of it (a secret file). */
export interface ContentProbe {
  withContent: boolean;
  /** with withContent: print a digest instead of the content */
  digestOnly?: boolean;
}

/** Mode, owner and group an operation enforces; undefined means "leave as it is". */
export interface AttributeOptions {
  /** octal permission bits as a string, e.g. '0644' or '644' (symbolic modes are not supported) */
  mode?: string;
  /** user name or numeric uid */
  owner?: string;
  /** group name or numeric gid */
  group?: string;
}

export interface DesiredAttributes {
  mode?: number;
  owner?: string;
  group?: string;
}

/**
 * Checks that a path an operation manages is absolute and normalized. A relative path would depend
 * on the runner's cwd, and "..", "//" or a trailing slash make `rm -rf` and `mv` act on something
 * else than the path the user reads (e.g. "link/" is the directory a link points to).
 */
export function checkPath(kind: string, path: string): string {
  if (path.includes('\0')) throw new OperationError(`${kind}: the path ${JSON.stringify(path)} contains a NUL byte`);
  if (!path.startsWith('/')) {
    throw new OperationError(`${kind}: the path ${JSON.stringify(path)} is relative; give an absolute path (starting with /)`);
  }
  const normalized = posix.normalize(path);
  const canonical = normalized.length > 1 ? normalized.replace(/\/$/, '') : normalized;
  if (canonical !== path) {
    throw new OperationError(`${kind}: the path ${JSON.stringify(path)} is not normalized; write it as ${JSON.stringify(canonical)}`);
  }
  return path;
}

export function checkAttributes(kind: string, path: string, options: AttributeOptions): DesiredAttributes {
  const desired: DesiredAttributes = {};
  if (options.mode !== undefined) {
    if (!/^[0-7]{3,4}$/.test(options.mode)) {
      throw new OperationError(
        `${kind} ${path}: mode ${JSON.stringify(options.mode)} is not an octal mode; write it as a string of 3 or 4 octal digits, e.g. '0644'`,
      );
    }
    desired.mode = parseInt(options.mode, 8);
  }
  for (const key of ['owner', 'group'] as const) {
    const value = options[key];
    if (value === undefined) continue;
    if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]*\$?$/.test(value)) {
      throw new OperationError(`${kind} ${path}: ${key} ${JSON.stringify(value)} is not a valid ${key === 'owner' ? 'user' : 'group'} name or id`);
    }
    desired[key] = value;
  }
  return desired;
}

/** '0644': the form users write and chmod accepts on every target. */
export function formatMode(mode: number): string {
  return mode.toString(8).padStart(4, '0');
}

/** Whether `content` is the text whose digest a probe printed (either tool's format). */
export function contentMatches(digest: string, content: string): boolean {
  return digest === `${createHash('md5').update(content, 'utf8').digest('hex')}  -` || digest === posixCksum(content);
}

const contentBegin = '<<provision:content>>';
const contentEnd = '<<provision:end>>';
const contentUnreadable = '<<provision:unreadable>>';

/**
 * A read-only probe printing `link=`, `type=`, `attrs=<mode> <uid> <gid> <owner> <group>` and, when
 * `withContent` and the path is a regular file (not a link), the content between a begin marker line
 * and an end marker line. The content comes last so that it may contain anything, the markers
 * included: the parser anchors on the first begin marker and on the end of the output. `cat; echo`
 * ends the content with one extra newline, so a file without a trailing newline stays exact.
 * `stat -L -c` is in coreutils since before 5.97 (EL5) and in busybox. With `digestOnly`, a
 * `digest=` line replaces the content: md5sum's line for it (cksum's where a busybox has no md5sum),
 * or `digest=unreadable`.
 */
export function fileStateProbe(path: string, { withContent, digestOnly = false }: ContentProbe): string {
  const p = quote(path);
  const lines = [
    `if [ -L ${p} ]; then echo link=yes; else echo link=no; fi`,
    `if [ -d ${p} ]; then echo type=directory; elif [ -f ${p} ]; then echo type=file; elif [ -e ${p} ]; then echo type=other; else echo type=absent; fi`,
    `if [ -e ${p} ]; then stat -L -c 'attrs=%a %u %g %U %G' ${p} || echo attrs=unknown; fi`,
  ];
  if (withContent && digestOnly) {
    lines.push(
      `if [ -f ${p} ] && [ ! -L ${p} ]; then`,
      `  if provision_digest=$( (if command -v md5sum >/dev/null 2>&1; then md5sum; else cksum; fi) <${p} ); then echo "digest=$provision_digest"; else echo digest=unreadable; fi`,
      'fi',
    );
  } else if (withContent) {
    lines.push(
      `if [ -f ${p} ] && [ ! -L ${p} ]; then`,
      `  echo ${quote(contentBegin)}`,
      `  if cat ${p}; then echo; echo ${quote(contentEnd)}; else echo; echo ${quote(contentUnreadable)}; fi`,
      'fi',
    );
  }
  return lines.join('\n');
}

export function parseFileState(path: string, stdout: string, { withContent, digestOnly = false }: ContentProbe): FileState {
  const unexpected = (why: string) =>
    new OperationError(`could not read the state of ${path} on the target (${why}); run with -vvv to see the probe output`);
  const beginAt = stdout.startsWith(`${contentBegin}\n`) ? 0 : stdout.indexOf(`\n${contentBegin}\n`);
  const header = beginAt === -1 ? stdout : stdout.slice(0, beginAt);
  const fields = new Map<string, string>();
  for (const line of header.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) fields.set(line.slice(0, eq), line.slice(eq + 1));
  }
  const type = fields.get('type');
  if (type !== 'absent' && type !== 'file' && type !== 'directory' && type !== 'other') throw unexpected('no type line');
  const state: FileState = { type, link: fields.get('link') === 'yes' };

  const attrs = fields.get('attrs');
  if (type !== 'absent') {
    const match = attrs === undefined ? null : /^([0-7]+) (\d+) (\d+) (\S+) (\S+)$/.exec(attrs);
    if (!match) throw unexpected('stat -L -c did not print the mode and owner; is stat installed?');
    const [, mode = '', uid = '', gid = '', owner = '', group = ''] = match;
    state.attributes = { mode: parseInt(mode, 8), uid: Number(uid), gid: Number(gid), owner, group };
  }

  if (withContent && digestOnly && type === 'file' && !state.link) {
    const digest = fields.get('digest');
    if (digest === undefined || digest === '') throw unexpected('no digest');
    if (digest === 'unreadable') throw new OperationError(`cannot read ${path} on the target; check its permissions (the runner needs to read it to compare)`);
    state.digest = digest;
  } else if (withContent && type === 'file' && !state.link) {
    if (beginAt === -1) throw unexpected('no content');
    const body = stdout.slice(beginAt === 0 ? contentBegin.length + 1 : beginAt + contentBegin.length + 2);
    // The runner may or may not keep the output's final newline.
    const withoutFinal = body.endsWith('\n') ? body.slice(0, -1) : body;
    if (withoutFinal.endsWith(`\n${contentUnreadable}`)) {
      throw new OperationError(`cannot read ${path} on the target; check its permissions (the runner needs to read it to compare)`);
    }
    if (!withoutFinal.endsWith(`\n${contentEnd}`)) throw unexpected('the content is truncated');
    state.content = withoutFinal.slice(0, -(contentEnd.length + 1));
  }
  return state;
}

/** The attributes that differ between what is asked and what is there (all asked ones for a new path). */
export function attributeChanges(desired: DesiredAttributes, current: FileAttributes | undefined): DesiredAttributes {
  const changes: DesiredAttributes = {};
  if (desired.mode !== undefined && desired.mode !== current?.mode) changes.mode = desired.mode;
  if (desired.owner !== undefined && !(current && sameAccount(desired.owner, current.owner, current.uid))) changes.owner = desired.owner;
  if (desired.group !== undefined && !(current && sameAccount(desired.group, current.group, current.gid))) changes.group = desired.group;
  return changes;
}

function sameAccount(wanted: string, name: string, id: number): boolean {
  return wanted === name || wanted === String(id);
}

export function hasChanges(changes: DesiredAttributes): boolean {
  return changes.mode !== undefined || changes.owner !== undefined || changes.group !== undefined;
}

/**
 * The commands that apply `changes`, as [command, argument] pairs. A group alone goes through chgrp:
 * POSIX chown accepts ":group" but not every busybox build does.
 */
function attributeSteps(changes: DesiredAttributes): Array<[command: string, argument: string]> {
  const steps: Array<[string, string]> = [];
  if (changes.mode !== undefined) steps.push(['chmod', formatMode(changes.mode)]);
  if (changes.owner !== undefined) steps.push(['chown', changes.group === undefined ? changes.owner : `${changes.owner}:${changes.group}`]);
  else if (changes.group !== undefined) steps.push(['chgrp', changes.group]);
  return steps;
}

/**
 * Script lines applying `changes` to `target` (a word that is already shell syntax), each exiting on
 * failure so that the script is correct with or without `set -e`.
 */
export function attributeCommands(target: string, changes: DesiredAttributes): string[] {
  return attributeSteps(changes).map(([command, argument]) => `${command} ${quote(argument)} ${target} || exit 1`);
}

/** "chmod 0600 /p; chown root:haclient /p": the summary of an attribute-only change. */
export function describeAttributeChanges(path: string, changes: DesiredAttributes): string {
  return attributeSteps(changes)
    .map(([command, argument]) => `${command} ${argument} ${path}`)
    .join('; ');
}

/** "mode 0600, owner root, group haclient": the attributes a write sets, for its summary. */
export function describeAttributes(attributes: DesiredAttributes): string {
  const parts: string[] = [];
  if (attributes.mode !== undefined) parts.push(`mode ${formatMode(attributes.mode)}`);
  if (attributes.owner !== undefined) parts.push(`owner ${attributes.owner}`);
  if (attributes.group !== undefined) parts.push(`group ${attributes.group}`);
  return parts.join(', ');
}

export function describeType(state: FileState): string {
  if (state.link) return state.type === 'absent' ? 'a dangling symbolic link' : 'a symbolic link';
  return { absent: 'absent', file: 'a regular file', directory: 'a directory', other: 'a special file' }[state.type];
}
