// What user and group share: account name rules and reading an entry of the passwd or group database.
import { OperationError } from '../core/operation.ts';
import { quote } from '../core/shell.ts';
import type { ProbeRecord } from './system-probe.ts';

// useradd(8)/groupadd(8) accept [a-z_][a-z0-9_-]*[$]? by default; distributions relax it to allow
// capitals and dots. A name never starts with a digit (getent would look it up as a number) or a dash.
const accountNamePattern = /^[A-Za-z_][A-Za-z0-9_.-]*\$?$/;

export function checkAccountName(kind: 'user' | 'group', name: string): string {
  if (!accountNamePattern.test(name) || name.length > 32) {
    throw new OperationError(
      `${kind}: ${JSON.stringify(name)} is not a valid ${kind} name (up to 32 letters, digits, _ . -, not starting with a digit or -)`,
    );
  }
  return name;
}

export function checkId(kind: 'user' | 'group', name: string, option: 'uid' | 'gid', id: number | undefined): void {
  if (id !== undefined && !(Number.isInteger(id) && id >= 0 && id < 2 ** 32 - 1)) {
    throw new OperationError(`${kind} ${name}: ${option} ${id} is not a valid id (a whole number from 0 to 4294967294)`);
  }
}

/**
 * Shell lines printing the database entry as the record `<database> <entry>`, or `no-<database>`.
 * getent also sees accounts from NSS sources (LDAP, sssd); hosts without it (minimal busybox
 * systems) fall back to the local file.
 */
export function entryProbe(database: 'passwd' | 'group', name: string): string {
  const n = quote(name);
  return [
    `if command -v getent >/dev/null 2>&1; then provision_entry=$(getent ${database} ${n} | head -n 1)`,
    `else provision_entry=$(awk -F: -v name=${n} '$1 == name' /etc/${database} | head -n 1); fi`,
    `if [ -n "$provision_entry" ]; then printf '${database}\\t%s\\n' "$provision_entry"; else printf 'no-${database}\\n'; fi`,
  ].join('\n');
}

/** The colon-separated fields of the entry, or undefined when the account does not exist. */
export function entryOf(records: ProbeRecord[], database: 'passwd' | 'group'): string[] | undefined {
  const record = records.find((r) => r.kind === database || r.kind === `no-${database}`);
  if (record === undefined) throw new Error(`the probe printed no ${database} record`);
  return record.kind === database ? record.fields.join('\t').split(':') : undefined;
}
