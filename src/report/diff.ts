// --diff: a unified diff of every file change. Secret files are named, never shown.
import { createTwoFilesPatch } from 'diff';
import type { FileDiff } from '../core/operation.ts';

export function renderFileDiff(change: FileDiff): string {
  if (change.secret) {
    const oldName = change.change === 'created' ? '/dev/null' : change.path;
    const newName = change.change === 'removed' ? '/dev/null' : change.path;
    return `--- ${oldName}\n+++ ${newName}\n(${change.change}; content not shown: the file holds a secret)\n`;
  }
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
