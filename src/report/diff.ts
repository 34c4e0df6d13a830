// --diff: a unified diff of every file change. Secret files are named, never shown.
import { createTwoFilesPatch } from 'diff';
import type { EditedFileDiff, FileDiff } from '../core/operation.ts';

export function renderFileDiff(change: FileDiff): string {
  if (change.secret) {
    const oldName = change.change === 'created' ? '/dev/null' : change.path;
    const newName = change.change === 'removed' ? '/dev/null' : change.path;
    return `--- ${oldName}\n+++ ${newName}\n(${change.change}; content not shown: the file holds a secret)\n`;
  }
  if (change.edits) return renderEdits(change);
  const before = change.before ?? '';
  const after = change.after ?? '';
  const oldName = change.before === null ? '/dev/null' : `${change.path} (before)`;
  const newName = change.after === null ? '/dev/null' : `${change.path} (after)`;
  return createTwoFilesPatch(oldName, newName, before, after, '', '', { context: 3 })
    .split('\n')
    .slice(1) // the "Index:"/"=====" header adds nothing here
    .filter((line) => !/^={10,}$/.test(line))
    .join('\n');
}

/**
 * An in-place edit as unified-diff hunks without context: one per replaced line, with its number,
 * and one for the appended line, whose number the change does not know ("@@ end of file @@").
 */
function renderEdits(change: EditedFileDiff): string {
  const lines = [`--- ${change.path} (before)`, `+++ ${change.path} (after)`];
  for (const edit of change.edits) {
    if (edit.line === 'end') lines.push('@@ end of file @@', `+${edit.after}`);
    else lines.push(`@@ -${edit.line} +${edit.line} @@`, `-${edit.before}`, `+${edit.after}`);
  }
  return `${lines.join('\n')}\n`;
}
