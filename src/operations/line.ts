// line: one line is present in a text file (Ansible's lineinfile, state=present).
import type { Facts } from '../core/facts.ts';
import { OperationError, type Operation, type Plan, type ProbeOutput } from '../core/operation.ts';
import { checkAttributes, checkPath, fileStateProbe, parseFileState, type AttributeOptions } from './file-state.ts';
import { insertionIndex, insertLines, joinLines, lastMatch, missingFileError, splitLines, toPattern } from './text-lines.ts';
import { existingText, planTextFile } from './write-file.ts';

export interface LineOptions extends AttributeOptions {
  /** absolute path of the file */
  path: string;
  /** the whole line, without its newline */
  line: string;
  /** the LAST line matching it is replaced by `line` (a string is a JavaScript regular expression) */
  regexp?: string | RegExp;
  /** where a new line goes: after the last line matching it ('EOF' or no match: at the end) */
  insertAfter?: string | RegExp;
  /** create the file when it does not exist (default: the task fails) */
  create?: boolean;
  /** keep the replaced file as PATH.YYYYmmddHHMMSS~ */
  backup?: boolean;
}

/**
 * When `regexp` matches a line, the last matching line becomes `line` (no change if it already is).
 * Otherwise, unless an identical line exists, `line` is inserted after the last line matching
 * `insertAfter`, or appended. Everything else in the file is kept byte for byte.
 */
export function line(options: LineOptions): Operation {
  const kind = 'line';
  const path = checkPath(kind, options.path);
  const where = `${kind} ${path}`;
  if (options.line.includes('\n')) {
    throw new OperationError(`${where}: the line contains a newline; manage several lines with block() instead`);
  }
  const attributes = checkAttributes(kind, path, options);
  const regexp = options.regexp === undefined ? undefined : toPattern(where, 'regexp', options.regexp);
  const insertAfter =
    options.insertAfter === undefined || options.insertAfter === 'EOF' ? 'EOF' : toPattern(where, 'insertAfter', options.insertAfter);

  /** The new text and what the change does, or null when the line is already there. */
  function edit(before: string): { text: string; describe: string } | null {
    const text = splitLines(before);
    if (regexp !== undefined) {
      const match = lastMatch(text.lines, regexp);
      if (match !== -1) {
        if (text.lines[match] === options.line) return null;
        const lines = text.lines.with(match, options.line);
        return { text: joinLines({ ...text, lines }), describe: `replace line ${match + 1} of ${path}` };
      }
    }
    if (text.lines.includes(options.line)) return null;
    const index = insertionIndex(text.lines, insertAfter);
    const describe = index === text.lines.length ? `append a line to ${path}` : `insert a line after line ${index} of ${path}`;
    return { text: joinLines(insertLines(text, index, [options.line])), describe };
  }

  return {
    kind,
    target: path,
    probe: () => fileStateProbe(path, { withContent: true }),
    plan(_facts: Facts, probed: ProbeOutput): Plan {
      const state = parseFileState(path, probed.stdout, { withContent: true });
      const before = existingText(kind, path, state);
      if (before === null && !options.create) throw missingFileError(kind, path);
      const change = edit(before ?? '');
      return planTextFile({
        kind,
        path,
        state,
        content: change?.text ?? before ?? '',
        attributes,
        backup: options.backup ?? false,
        secret: false,
        describe: before === null ? `create ${path}` : (change?.describe ?? `write ${path}`),
      });
    },
  };
}
