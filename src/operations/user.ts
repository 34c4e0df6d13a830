// user: a local user account exists with the given attributes, or does not.
import type { Facts } from '../core/facts.ts';
import { noChange, OperationError, type Operation, type Plan, type ProbeOutput } from '../core/operation.ts';
import { quote } from '../core/shell.ts';
import { checkAccountName, checkId, entryOf, entryProbe } from './accounts.ts';
import { parseRecords, restOf, sbinPath } from './system-probe.ts';

export interface UserOptions {
  name: string;
  uid?: number;
  /** primary group, by name or gid; it must exist (create it with a group task first) */
  group?: string;
  /** supplementary groups: exactly these, or at least these with `append` */
  groups?: string[];
  /** add to `groups` without leaving the other supplementary groups (default false) */
  append?: boolean;
  home?: string;
  /** e.g. /sbin/nologin for a daemon account */
  shell?: string;
  /** a system account (useradd -r: a uid from the system range); applies only when creating it */
  system?: boolean;
  /** create the home directory when creating the user; default: yes for ordinary users, no for system ones */
  createHome?: boolean;
  /** the GECOS field, e.g. "heartbeat processes" */
  comment?: string;
  /** default 'present' */
  state?: 'present' | 'absent';
}

export function user(options: UserOptions): Operation {
  const name = checkAccountName('user', options.name);
  checkId('user', name, 'uid', options.uid);
  const where = `user ${name}`;
  if (options.group !== undefined && !/^\d+$/.test(options.group)) checkAccountName('group', options.group);
  for (const g of options.groups ?? []) checkAccountName('group', g);
  for (const key of ['home', 'shell'] as const) {
    const path = options[key];
    if (path !== undefined && (!path.startsWith('/') || /[:\n]/.test(path))) {
      throw new OperationError(`${where}: ${key} ${JSON.stringify(path)} must be an absolute path without ':' or newlines`);
    }
  }
  if (options.comment !== undefined && /[:\n]/.test(options.comment)) {
    throw new OperationError(`${where}: the comment cannot contain ':' or a newline (they separate passwd fields and entries)`);
  }
  if (options.append && options.groups === undefined) throw new OperationError(`${where}: append needs groups to add the user to`);
  const state = options.state ?? 'present';

  return {
    kind: 'user',
    target: name,
    probe: () => userProbe(name),
    plan(_facts: Facts, probed: ProbeOutput): Plan {
      const records = parseRecords(probed.stdout);
      // name:password:uid:gid:comment:home:shell
      const entry = entryOf(records, 'passwd');
      if (state === 'absent') {
        return entry ? { changed: true, summary: `delete user ${name} (its home directory is kept)`, script: `userdel ${quote(name)}` } : noChange();
      }
      if (!entry) return createUser(options);
      const [, , uid = '', gid = '', comment = '', home = '', shell = ''] = entry;
      const primaryGroup = records.find((r) => r.kind === 'primary-group')?.fields[0] ?? '';
      const memberOf = restOf(records.find((r) => r.kind === 'groups') ?? { kind: 'groups', fields: [] }, 0)
        .split(/\s+/)
        .filter(Boolean);

      // Shell words: the options as they are, the values quoted (quote() would quote a leading dash).
      const flags: string[] = [];
      const changes: string[] = [];
      const compare = (label: string, flag: string, wanted: string | number | undefined, current: string) => {
        if (wanted === undefined || String(wanted) === current) return;
        flags.push(flag, quote(wanted));
        changes.push(`${label} ${current} -> ${wanted}`);
      };
      compare('uid', '-u', options.uid, uid);
      if (options.group !== undefined && options.group !== (/^\d+$/.test(options.group) ? gid : primaryGroup)) {
        flags.push('-g', quote(options.group));
        changes.push(`group ${primaryGroup || gid} -> ${options.group}`);
      }
      compare('comment', '-c', options.comment, comment);
      compare('home', '-d', options.home, home);
      compare('shell', '-s', options.shell, shell);

      if (options.groups !== undefined) {
        // id -Gn lists the primary group too; it is no supplementary group, whatever /etc/group says.
        const primary = options.group ?? primaryGroup;
        const current = memberOf.filter((g) => g !== primaryGroup);
        const wanted = [...new Set(options.groups)].filter((g) => g !== primary);
        const missing = wanted.filter((g) => !current.includes(g));
        if (options.append) {
          if (missing.length > 0) {
            flags.push('-a', '-G', quote(missing.join(',')));
            changes.push(`add to groups ${missing.join(', ')}`);
          }
        } else if (missing.length > 0 || current.some((g) => !wanted.includes(g))) {
          flags.push('-G', quote(wanted.join(',')));
          changes.push(`groups ${current.join(',') || '(none)'} -> ${wanted.join(',') || '(none)'}`);
        }
      }
      if (flags.length === 0) return noChange();
      return { changed: true, summary: `change user ${name}: ${changes.join(', ')}`, script: ['usermod', ...flags, quote(name)].join(' ') };
    },
  };
}

// Records: passwd <entry> | no-passwd; for an existing user also
//   primary-group <name>      id -gn
//   groups <name> <name> ...  id -Gn: every group the user is in, the primary one included
function userProbe(name: string): string {
  const n = quote(name);
  return [
    sbinPath,
    entryProbe('passwd', name),
    `if [ -n "$provision_entry" ]; then`,
    `  printf 'primary-group\\t%s\\n' "$(id -gn ${n} 2>/dev/null)"`,
    `  printf 'groups\\t%s\\n' "$(id -Gn ${n} 2>/dev/null)"`,
    'fi',
  ].join('\n');
}

function createUser(options: UserOptions): Plan {
  const createHome = options.createHome ?? !options.system;
  // Shell words: the options as they are, the values quoted.
  const flags: string[] = [];
  const details: string[] = [];
  const add = (flag: string, value: string | number | undefined, label: string) => {
    if (value === undefined) return;
    flags.push(flag, quote(value));
    details.push(`${label} ${value}`);
  };
  if (options.system) {
    flags.push('-r');
    details.push('system');
  }
  add('-u', options.uid, 'uid');
  add('-g', options.group, 'group');
  const groups = [...new Set(options.groups ?? [])];
  if (groups.length > 0) add('-G', groups.join(','), 'groups');
  add('-d', options.home, 'home');
  add('-s', options.shell, 'shell');
  add('-c', options.comment, 'comment');
  // Explicit either way: whether useradd creates the home by default differs (EL: yes, Debian: no).
  flags.push(createHome ? '-m' : '-M');
  const summary = `create user ${options.name}${details.length > 0 ? ` (${details.join(', ')})` : ''}`;
  return { changed: true, summary, script: ['useradd', ...flags, quote(options.name)].join(' ') };
}
