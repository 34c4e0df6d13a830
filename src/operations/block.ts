// block: a block of lines between two marker lines in a text file (Ansible's blockinfile).
import type { Facts } from '../core/facts.ts';
import { OperationError, resolve, type Deferred, type Operation, type Plan, type ProbeOutput } from '../core/operation.ts';
import { checkAttributes, checkPath, fileStateProbe, parseFileState, type AttributeOptions } from './file-state.ts';
import { insertionIndex, insertLines, joinLines, lastMatch, missingFileError, splitLines, toPattern, type TextLines } from './text-lines.ts';
import { existingText, planTextFile } from './write-file.ts';

export interface BlockOptions extends AttributeOptions {
  /** absolute path of the file */
  path: string;
  /** the lines between the markers (one final newline is ignored); '' removes the block and its markers */
  block: Deferred<string>;
  /** the marker lines, with {mark} replaced by BEGIN and END; change it to keep several blocks in one file */
  marker?: string;
  /** where a new block goes: after the last line matching it ('EOF' or no match: at the end) */
  insertAfter?: string | RegExp;
  /**
   * When no line matches insertAfter: the new block goes at the end inside a section of its own,
   * `open` before it and `close` after it (iptables-save's "*nat" table header and its COMMIT), for
   * a format where the block is valid only within such a section. Needs an insertAfter pattern.
   */
  section?: { open: string; close: string };
  /** create the file when it does not exist (default: the task fails) */
  create?: boolean;
  /** keep the replaced file as PATH.YYYYmmddHHMMSS~ */
  backup?: boolean;
}

export const defaultMarker = '# {mark} PROVISION MANAGED BLOCK';

/**
 * Replaces the lines from the BEGIN marker to the first END marker after it, or inserts the marked
 * block when there is none. Lines outside the markers are kept byte for byte.
 */
export function block(options: BlockOptions): Operation {
  const kind = 'block';
  const path = checkPath(kind, options.path);
  const where = `${kind} ${path}`;
  const marker = options.marker ?? defaultMarker;
  if (marker.split('{mark}').length !== 2 || marker.includes('\n')) {
    throw new OperationError(`${where}: the marker ${JSON.stringify(marker)} must be one line containing {mark} once (it becomes BEGIN and END)`);
  }
  const begin = marker.replace('{mark}', 'BEGIN');
  const end = marker.replace('{mark}', 'END');
  const attributes = checkAttributes(kind, path, options);
  const insertAfter =
    options.insertAfter === undefined || options.insertAfter === 'EOF' ? 'EOF' : toPattern(where, 'insertAfter', options.insertAfter);
  if (options.section !== undefined && insertAfter === 'EOF') {
    throw new OperationError(`${where}: section needs an insertAfter pattern (the line that starts an existing section)`);
  }

  function blockLines(facts: Facts): string[] {
    const body = resolve(options.block, facts).replace(/\n$/, '');
    if (body === '') return [];
    const lines = body.split('\n');
    if (lines.includes(begin) || lines.includes(end)) {
      throw new OperationError(`${where}: the block contains its own marker line; choose another marker`);
    }
    return lines;
  }

  /** The text with the block in place, and what the change does (the text may be unchanged). */
  function edit(before: TextLines, wanted: string[]): { text: TextLines; describe: string } {
    const start = before.lines.indexOf(begin);
    const stop = start === -1 ? -1 : before.lines.indexOf(end, start + 1);
    if (start !== -1 && stop === -1) {
      throw new OperationError(
        `${where}: line ${start + 1} is the marker "${begin}" but no "${end}" line follows it; repair the file by hand (add the END marker or remove the BEGIN one)`,
      );
    }
    const marked = wanted.length === 0 ? [] : [begin, ...wanted, end];
    if (start !== -1) {
      const lines = before.lines.toSpliced(start, stop - start + 1, ...marked);
      return { text: { ...before, lines }, describe: `${marked.length === 0 ? 'remove the managed block from' : 'update the managed block in'} ${path}` };
    }
    // No block to remove: the text stays as it is, so this description is never shown.
    if (marked.length === 0) return { text: before, describe: `leave ${path} as it is` };
    if (options.section !== undefined && insertAfter !== 'EOF' && lastMatch(before.lines, insertAfter) === -1) {
      const { open, close } = options.section;
      return { text: insertLines(before, before.lines.length, [...open.split('\n'), ...marked, ...close.split('\n')]), describe: `add a managed block in a new section to ${path}` };
    }
    return { text: insertLines(before, insertionIndex(before.lines, insertAfter), marked), describe: `add a managed block to ${path}` };
  }

  return {
    kind,
    target: path,
    probe: () => fileStateProbe(path, { withContent: true }),
    plan(facts: Facts, probed: ProbeOutput): Plan {
      const state = parseFileState(path, probed.stdout, { withContent: true });
      const wanted = blockLines(facts);
      const before = existingText(kind, path, state);
      if (before === null) {
        // Nothing to remove from a file that does not exist.
        if (wanted.length === 0) return { changed: false };
        if (!options.create) throw missingFileError(kind, path);
      }
      const change = edit(splitLines(before ?? ''), wanted);
      return planTextFile({
        kind,
        path,
        state,
        content: joinLines(change.text),
        attributes,
        backup: options.backup ?? false,
        secret: false,
        describe: before === null ? `create ${path}` : change.describe,
      });
    },
  };
}
