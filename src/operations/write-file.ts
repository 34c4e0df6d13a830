// The one place where text files are written on a target (file, line and block share it): the
// planner that compares a probed file with the wanted content and attributes, and the atomic
// writer script.
import { posix } from 'node:path';
import { OperationError, StateError, type Plan } from '../core/operation.ts';
import { quote } from '../core/shell.ts';
import {
  attributeChanges,
  attributeCommands,
  contentMatches,
  describeAttributeChanges,
  describeAttributes,
  describeType,
  hasChanges,
  type DesiredAttributes,
  type FileState,
} from './file-state.ts';

/**
 * The current text of a file the operation may rewrite: null when it does not exist. Throws for
 * anything a text write must not replace: a directory, a special file or a symbolic link (writing
 * through a link would replace the link itself by a file; manage the link's target instead).
 */
export function existingText(kind: string, path: string, state: FileState): string | null {
  if (!existsAsTextFile(kind, path, state)) return null;
  if (state.content === undefined) throw new Error(`${kind} ${path}: the probe did not read the content`);
  return state.content;
}

/** Whether the path is a regular file (false: absent); throws like existingText for anything else. */
function existsAsTextFile(kind: string, path: string, state: FileState): boolean {
  if (state.link) {
    throw new StateError(
      `${kind} ${path}: the path is ${describeType(state)}; give the path of the file it points to, or remove the link with absent() first`,
    );
  }
  if (state.type === 'absent') return false;
  if (state.type !== 'file') {
    throw new StateError(`${kind} ${path}: the path is ${describeType(state)}, not a regular file; remove it with absent() first or choose another path`);
  }
  return true;
}

export interface TextFilePlan {
  kind: string;
  path: string;
  state: FileState;
  content: string;
  attributes: DesiredAttributes;
  backup: boolean;
  /**
   * the file may hold a secret: its content, old or new, is never in the plan's diff or shown script
   * (the runner names the file only); the state may then carry a digest instead of the old content
   */
  secret: boolean;
  /** what a content change does, e.g. "write /etc/ha.d/ha.cf" or "append a line to /etc/hosts" */
  describe: string;
}

/** New files get 0644, or 0600 when secret, unless a mode is asked. */
export const defaultMode = (secret: boolean): number => (secret ? 0o600 : 0o644);

export function planTextFile(p: TextFilePlan): Plan {
  if (p.content.includes('\0')) {
    throw new OperationError(`${p.kind} ${p.path}: the content contains a NUL byte; this operation writes text files only`);
  }
  const exists = existsAsTextFile(p.kind, p.path, p.state);
  const current = p.state.attributes;
  const changes = attributeChanges(p.attributes, exists ? current : undefined);

  if (exists && sameContent(p.kind, p.path, p.state, p.content)) {
    if (!hasChanges(changes)) return { changed: false };
    return {
      changed: true,
      summary: describeAttributeChanges(p.path, changes),
      script: attributeCommands(quote(p.path), changes).join('\n'),
    };
  }

  // The replacement keeps what is not asked: the old file's mode and owner, or defaults for a new one.
  const kept = exists ? current : undefined;
  const mode = p.attributes.mode ?? kept?.mode ?? defaultMode(p.secret);
  const owner = p.attributes.owner ?? (kept && String(kept.uid));
  const group = p.attributes.group ?? (kept && String(kept.gid));
  const shown = exists ? changes : { ...changes, mode };
  const details = describeAttributes(shown);
  const write: AtomicWrite = { path: p.path, content: p.content, mode, owner, group, backup: p.backup, replaces: exists };
  const summary = details === '' ? p.describe : `${p.describe} (${details})`;
  if (p.secret) {
    return {
      changed: true,
      summary,
      script: atomicWriteScript(write),
      shownScript: atomicWriteScript({ ...write, content: `(the content of ${p.path}: not shown, the file may hold a secret)` }),
      diff: [{ path: p.path, secret: true, change: exists ? 'changed' : 'created' }],
    };
  }
  return {
    changed: true,
    summary,
    script: atomicWriteScript(write),
    diff: [{ path: p.path, before: existingText(p.kind, p.path, p.state), after: p.content }],
  };
}

/** Whether the existing file holds `content`: compared as text, or by digest for a secret file's probe. */
function sameContent(kind: string, path: string, state: FileState, content: string): boolean {
  if (state.digest !== undefined) return contentMatches(state.digest, content);
  return existingText(kind, path, state) === content;
}

export interface AtomicWrite {
  path: string;
  content: string;
  mode: number;
  owner?: string;
  group?: string;
  /** keep a copy of the replaced file as PATH.YYYYmmddHHMMSS~ */
  backup: boolean;
  /** the file exists (backup and SELinux label copy apply) */
  replaces: boolean;
}

/**
 * POSIX sh that replaces `path` with `content` atomically: the content goes to a temporary file in
 * the same directory (same file system, so `mv` is a rename(2)), which gets its mode and owner
 * before it takes the path's name. Readers see the old file or the new one, never a partial one,
 * even if the shell is killed. mktemp creates the temporary file with mode 0600, so a secret is
 * never readable by others, not even for a moment. The traps remove the temporary file when the
 * script fails or is interrupted by INT, TERM or HUP. printf is a builtin of dash, busybox sh and
 * bash, so a large content is not limited by the argument size of exec.
 * Each step checks its status itself: the script is correct with or without `set -e`.
 */
export function atomicWriteScript(w: AtomicWrite): string {
  const path = quote(w.path);
  const dir = posix.dirname(w.path);
  const template = quote(posix.join(dir, `.${posix.basename(w.path)}.provision-XXXXXX`));
  const missingDir = `cannot write ${w.path}: the directory ${dir} does not exist; create it first (e.g. with a directory task)`;
  const selinuxOn = 'command -v selinuxenabled >/dev/null 2>&1 && selinuxenabled';
  const lines = [
    `if [ ! -d ${quote(dir)} ]; then printf '%s\\n' ${quote(missingDir)} >&2; exit 1; fi`,
    // The traps come first so that no signal can arrive between mktemp and them.
    'provision_tmp=',
    `trap 'rm -f "$provision_tmp"' EXIT`,
    `trap 'exit 129' HUP`,
    `trap 'exit 130' INT`,
    `trap 'exit 143' TERM`,
    `provision_tmp=$(mktemp ${template}) || exit 1`,
    `printf '%s' ${quote(w.content)} >"$provision_tmp" || exit 1`,
    ...attributeCommands('"$provision_tmp"', { mode: w.mode, owner: w.owner, group: w.group }),
  ];
  if (w.replaces) {
    // rename(2) gives the new file the label of the temporary file; keep the one the old file had.
    lines.push(`if ${selinuxOn}; then chcon --reference=${path} "$provision_tmp" || exit 1; fi`);
    if (w.backup) lines.push(`cp -p ${path} ${path}."$(date +%Y%m%d%H%M%S)"~ || exit 1`);
  }
  lines.push(`mv -f "$provision_tmp" ${path} || exit 1`);
  if (!w.replaces) lines.push(`if ${selinuxOn} && command -v restorecon >/dev/null 2>&1; then restorecon ${path} || exit 1; fi`);
  lines.push('trap - EXIT HUP INT TERM');
  return lines.join('\n');
}

