// The contract every operation follows (pyinfra's model, batched): a read-only probe that runs on
// the target, and a pure planner that turns (facts, probe output) into a change or "no change".
// The runner batches the probes of all tasks into one remote execution and the changes into another,
// so the number of round trips per host does not grow with the number of tasks.
import type { Facts } from './facts.ts';

export interface ProbeOutput {
  stdout: string;
  exitCode: number;
}

/** A file a change writes, for --diff: its old and new content (null: the file does not exist). */
export interface ShownFileDiff {
  path: string;
  before: string | null;
  after: string | null;
  secret?: false;
  edits?: never;
}

/**
 * A secret file a change writes: named, never shown. It carries no content at all, old or new (the
 * old one may hold a secret that is no longer a secret of this run), only what happens to the file.
 */
export interface SecretFileDiff {
  path: string;
  secret: true;
  change: 'created' | 'changed' | 'removed';
  before?: never;
  after?: never;
  edits?: never;
}

/**
 * A file a change edits in place without having read it whole (sysctl reads only the lines of its
 * parameter): the lines it replaces, with their numbers, and the line it appends at the end, whose
 * number is not known (the file may also be created by it). The rest of the file stays as it is.
 */
export interface EditedFileDiff {
  path: string;
  edits: LineEdit[];
  secret?: false;
  before?: never;
  after?: never;
}

/** Line `line` (1-based) goes from `before` to `after`, or (line 'end') `after` is appended. */
export type LineEdit = { line: number; before: string; after: string } | { line: 'end'; after: string };

export type FileDiff = ShownFileDiff | SecretFileDiff | EditedFileDiff;

/** The diff of a file whose content must not be shown: its path and what happens to it. */
export function hideContent(diff: FileDiff): SecretFileDiff {
  // Recomputed unless given: a diff built elsewhere may be marked secret without saying how it changes.
  if (diff.secret) return { path: diff.path, secret: true, change: (diff.change as SecretFileDiff['change'] | undefined) ?? 'changed' };
  if (diff.edits) return { path: diff.path, secret: true, change: 'changed' };
  const change = diff.before === null ? 'created' : diff.after === null ? 'removed' : 'changed';
  return { path: diff.path, secret: true, change };
}

export type Plan =
  | { changed: false; note?: string }
  | {
      changed: true;
      /** one line saying what will change, e.g. "write /etc/ha.d/ha.cf (mode 0600)" */
      summary: string;
      /** POSIX sh that makes the change and exits non-zero if it could not */
      script: string;
      /** the script as -v shows it, when it must differ: without the content of a secret file */
      shownScript?: string;
      diff?: FileDiff[];
    };

export interface Operation {
  /** the operation's name, e.g. "file" */
  readonly kind: string;
  /** what it manages, e.g. "/etc/ha.d/ha.cf" or "heartbeat" */
  readonly target: string;
  /**
   * POSIX sh that prints the state the planner needs. It must change nothing and print the same
   * output for the same state: the apply step reruns it to detect that an earlier task changed
   * this task's state since it was probed. Empty when the operation needs no probe.
   */
  probe(): string;
  /**
   * Pure. Throws OperationError for a problem the user must fix (e.g. no package name for this OS),
   * StateError when the host's current state is what stops it (see StateError).
   * A handler also gets `atPlayStart`: its probe's output from before the play changed anything on
   * the host (a handler answers for the play's changes, and may need to know the state they met).
   */
  plan(facts: Facts, probed: ProbeOutput, atPlayStart?: ProbeOutput): Plan;
}

/** A value that may depend on the target's facts (e.g. a file rendered per OS family). */
export type Deferred<T> = T | ((facts: Facts) => T);

export function resolve<T>(value: Deferred<T>, facts: Facts): T {
  return typeof value === 'function' ? (value as (facts: Facts) => T)(facts) : value;
}

/** An error the user can fix; its message says what is wrong and what to do. */
export class OperationError extends Error {
  override name = 'OperationError';
}

/**
 * The host is not (yet) in a state this task can be planned on: something it needs is missing or
 * of another kind (a service whose package is not installed, a file to edit that does not exist, a
 * kernel parameter whose module is not loaded). An earlier task of the same run may create it, so
 * `--check` reports such a task as "would change" when an earlier task planned a change, and fails
 * it otherwise. A bad value (a name, a path, a missing platform entry) is never a StateError: it
 * stays wrong whatever ran before.
 */
export class StateError extends OperationError {
  override name = 'StateError';
}

export const noChange = (note?: string): Plan => (note === undefined ? { changed: false } : { changed: false, note });
