// file: a text file with exactly the given content (and mode/owner/group when given).
import type { Facts } from '../core/facts.ts';
import { resolve, type Deferred, type Operation, type Plan, type ProbeOutput } from '../core/operation.ts';
import { checkAttributes, checkPath, fileStateProbe, parseFileState, type AttributeOptions } from './file-state.ts';
import { planTextFile } from './write-file.ts';

export interface FileOptions extends AttributeOptions {
  /** absolute path of the file */
  path: string;
  /** the whole content, byte for byte (no newline is added) */
  content: Deferred<string>;
  /** keep the replaced file as PATH.YYYYmmddHHMMSS~ (like Ansible's backup) */
  backup?: boolean;
  /**
   * the file holds, or may hold in some configuration, a secret: its content, old or new, is never
   * shown (diffs name the file only, the probe reads a digest); a new file defaults to mode 0600
   */
  secret?: boolean;
}

/**
 * Writes the file atomically when its content differs; fixes only mode/owner/group when just they
 * differ. When not given, mode and owner are kept from the existing file (new files: 0644, or 0600
 * when secret, owned by the user the scripts run as). The parent directory must exist.
 */
export function file(options: FileOptions): Operation {
  const kind = 'file';
  const path = checkPath(kind, options.path);
  const attributes = checkAttributes(kind, path, options);
  const secret = options.secret ?? false;
  return {
    kind,
    target: path,
    // A secret file's old content never travels back to the runner: the probe prints its digest.
    probe: () => fileStateProbe(path, { withContent: true, digestOnly: secret }),
    plan(facts: Facts, probed: ProbeOutput): Plan {
      return planTextFile({
        kind,
        path,
        state: parseFileState(path, probed.stdout, { withContent: true, digestOnly: secret }),
        content: resolve(options.content, facts),
        attributes,
        backup: options.backup ?? false,
        secret,
        describe: `write ${path}`,
      });
    },
  };
}
