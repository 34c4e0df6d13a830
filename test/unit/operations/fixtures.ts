// Probe outputs for plan tests, in the format of fileStateProbe (file-state.test.ts pins the format
// on a literal example, and real-sh.test.ts checks it against real shells).
import type { ProbeOutput } from '../../../src/core/operation.ts';

export interface ProbedPath {
  type: 'absent' | 'file' | 'directory' | 'other';
  link?: boolean;
  /** octal digits as stat %a prints them, e.g. '644' */
  mode?: string;
  uid?: number;
  gid?: number;
  owner?: string;
  group?: string;
  /** printed only for a regular file that is not a link, as the probe does */
  content?: string;
}

export function probed(path: ProbedPath): ProbeOutput {
  const { type, link = false, mode = '644', uid = 0, gid = 0, owner = 'root', group = 'root', content } = path;
  let stdout = `link=${link ? 'yes' : 'no'}\ntype=${type}\n`;
  if (type !== 'absent') stdout += `attrs=${mode} ${uid} ${gid} ${owner} ${group}\n`;
  if (content !== undefined) stdout += `<<provision:content>>\n${content}\n<<provision:end>>\n`;
  return { stdout, exitCode: 0 };
}

export const absentPath = probed({ type: 'absent' });
