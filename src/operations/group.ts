// group: a local group exists (with a given gid) or does not.
import type { Facts } from '../core/facts.ts';
import { noChange, type Operation, type Plan, type ProbeOutput } from '../core/operation.ts';
import { quote } from '../core/shell.ts';
import { checkAccountName, checkId, entryOf, entryProbe } from './accounts.ts';
import { parseRecords, sbinPath } from './system-probe.ts';

export interface GroupOptions {
  name: string;
  /** enforced on an existing group too (groupmod -g; files keep their old numeric group) */
  gid?: number;
  /** a system group (groupadd -r: a gid from the system range); applies only when creating it */
  system?: boolean;
  /** default 'present' */
  state?: 'present' | 'absent';
}

export function group(options: GroupOptions): Operation {
  const name = checkAccountName('group', options.name);
  checkId('group', name, 'gid', options.gid);
  const state = options.state ?? 'present';
  return {
    kind: 'group',
    target: name,
    probe: () => [sbinPath, entryProbe('group', name)].join('\n'),
    plan(_facts: Facts, probed: ProbeOutput): Plan {
      // name:password:gid:members
      const entry = entryOf(parseRecords(probed.stdout), 'group');
      if (state === 'absent') {
        return entry ? { changed: true, summary: `delete group ${name}`, script: `groupdel ${quote(name)}` } : noChange();
      }
      if (!entry) {
        const flags = [...(options.system ? ['-r'] : []), ...(options.gid !== undefined ? ['-g', quote(options.gid)] : [])];
        const details = [options.system ? 'system' : '', options.gid !== undefined ? `gid ${options.gid}` : ''].filter(Boolean).join(', ');
        return {
          changed: true,
          summary: `create group ${name}${details ? ` (${details})` : ''}`,
          script: ['groupadd', ...flags, quote(name)].join(' '),
        };
      }
      const gid = entry[2] ?? '';
      if (options.gid !== undefined && gid !== String(options.gid)) {
        return { changed: true, summary: `change the gid of group ${name} from ${gid} to ${options.gid}`, script: `groupmod -g ${quote(options.gid)} ${quote(name)}` };
      }
      return noChange();
    },
  };
}
