// directory: a directory exists (with its parents) with the given mode/owner/group.
import type { Facts } from '../core/facts.ts';
import { StateError, type Operation, type Plan, type ProbeOutput } from '../core/operation.ts';
import { quote } from '../core/shell.ts';
import {
  attributeChanges,
  attributeCommands,
  checkAttributes,
  checkPath,
  describeAttributeChanges,
  describeAttributes,
  describeType,
  fileStateProbe,
  hasChanges,
  parseFileState,
  type AttributeOptions,
} from './file-state.ts';

export interface DirectoryOptions extends AttributeOptions {
  /** absolute path of the directory */
  path: string;
}

/**
 * Creates the directory and its missing parents (parents get the default mode), then applies the
 * asked mode/owner/group to the directory itself. A symbolic link to a directory counts as the
 * directory (chmod and chown act on what it points to); anything else at the path is an error.
 */
export function directory(options: DirectoryOptions): Operation {
  const kind = 'directory';
  const path = checkPath(kind, options.path);
  const desired = checkAttributes(kind, path, options);
  return {
    kind,
    target: path,
    probe: () => fileStateProbe(path, { withContent: false }),
    plan(_facts: Facts, probed: ProbeOutput): Plan {
      const state = parseFileState(path, probed.stdout, { withContent: false });
      if (state.type === 'absent' && !state.link) {
        const details = describeAttributes(desired);
        return {
          changed: true,
          summary: `create directory ${path}${details === '' ? '' : ` (${details})`}`,
          script: [`mkdir -p ${quote(path)} || exit 1`, ...attributeCommands(quote(path), desired)].join('\n'),
        };
      }
      if (state.type !== 'directory') {
        throw new StateError(
          `directory ${path}: the path exists and is ${describeType(state)}, not a directory; remove it with absent() first or choose another path`,
        );
      }
      const changes = attributeChanges(desired, state.attributes);
      if (!hasChanges(changes)) return { changed: false };
      return {
        changed: true,
        summary: describeAttributeChanges(path, changes),
        script: attributeCommands(quote(path), changes).join('\n'),
      };
    },
  };
}
