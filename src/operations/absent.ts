// absent: nothing exists at a path (a file, a symbolic link or a whole directory tree is removed).
import type { Facts } from '../core/facts.ts';
import { OperationError, type Operation, type Plan, type ProbeOutput } from '../core/operation.ts';
import { quote } from '../core/shell.ts';
import { checkPath, describeType, fileStateProbe, parseFileState } from './file-state.ts';

export interface AbsentOptions {
  /** absolute path to remove; a symbolic link is removed itself, never what it points to */
  path: string;
}

export function absent(options: AbsentOptions): Operation {
  const kind = 'absent';
  const path = checkPath(kind, options.path);
  if (path === '/') throw new OperationError('absent: refusing to remove "/"; give the path of what should be removed');
  return {
    kind,
    target: path,
    probe: () => fileStateProbe(path, { withContent: false }),
    plan(_facts: Facts, probed: ProbeOutput): Plan {
      const state = parseFileState(path, probed.stdout, { withContent: false });
      if (state.type === 'absent' && !state.link) return { changed: false };
      const what = state.type === 'directory' && !state.link ? 'a directory tree' : describeType(state);
      return {
        changed: true,
        summary: `remove ${path} (${what})`,
        // The path is normalized (no trailing slash), so rm removes a link, not what it points to.
        script: `rm -rf ${quote(path)} || exit 1`,
      };
    },
  };
}
