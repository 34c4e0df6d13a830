// Line-level editing shared by line (lineinfile) and block (blockinfile): the text as lines and
// whether it ends with a newline, so that an edit changes nothing else, not even a missing final
// newline.
import { OperationError, StateError, type LineEdit } from '../core/operation.ts';

export interface TextLines {
  lines: string[];
  finalNewline: boolean;
}

export function splitLines(text: string): TextLines {
  if (text === '') return { lines: [], finalNewline: true };
  const lines = text.split('\n');
  const finalNewline = text.endsWith('\n');
  if (finalNewline) lines.pop();
  return { lines, finalNewline };
}

export function joinLines({ lines, finalNewline }: TextLines): string {
  return lines.join('\n') + (finalNewline && lines.length > 0 ? '\n' : '');
}

/** Inserts lines at `index`; lines added at the end are terminated by a newline, as text files are. */
export function insertLines(text: TextLines, index: number, added: string[]): TextLines {
  if (added.length === 0) return text;
  const lines = [...text.lines.slice(0, index), ...added, ...text.lines.slice(index)];
  return { lines, finalNewline: index >= text.lines.length ? true : text.finalNewline };
}

/** Index of the last line matching, or -1. */
export function lastMatch(lines: readonly string[], pattern: RegExp): number {
  for (let i = lines.length - 1; i >= 0; i--) if (pattern.test(lines[i] ?? '')) return i;
  return -1;
}

/**
 * A user's pattern as a RegExp that is safe to test repeatedly: the g and y flags make `test`
 * stateful (it would skip matches), so they are dropped. A string is a JavaScript regular expression.
 */
export function toPattern(where: string, option: string, pattern: string | RegExp): RegExp {
  if (pattern instanceof RegExp) return new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, ''));
  try {
    return new RegExp(pattern);
  } catch (error) {
    throw new OperationError(`${where}: ${option} ${JSON.stringify(pattern)} is not a valid regular expression (${(error as Error).message})`);
  }
}

/** Where text goes when it is not already in the file: after the last line matching insertAfter, else at the end. */
export function insertionIndex(lines: readonly string[], insertAfter: RegExp | 'EOF' | undefined): number {
  if (insertAfter === undefined || insertAfter === 'EOF') return lines.length;
  const after = lastMatch(lines, insertAfter);
  return after === -1 ? lines.length : after + 1;
}

export function missingFileError(kind: string, path: string): OperationError {
  return new StateError(`${kind} ${path}: the file does not exist; set create: true to create it, or write it first with a file task`);
}

/**
 * What an in-place edit (EditedFileDiff) does to a text: numbered lines replaced, appended lines
 * added at the end, after a newline when the text does not end with one; an edit that only replaces
 * lines keeps a missing final newline missing. Throws when a numbered line is not the one expected.
 */
export function applyLineEdits(text: string, edits: readonly LineEdit[]): string {
  const parsed = splitLines(text);
  const lines = [...parsed.lines];
  const appended: string[] = [];
  for (const edit of edits) {
    if (edit.line === 'end') {
      appended.push(edit.after);
      continue;
    }
    if (lines[edit.line - 1] !== edit.before) throw new Error(`applyLineEdits: line ${edit.line} is not ${JSON.stringify(edit.before)}`);
    lines[edit.line - 1] = edit.after;
  }
  return joinLines(insertLines({ ...parsed, lines }, lines.length, appended));
}
