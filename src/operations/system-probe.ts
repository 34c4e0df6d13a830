// What the system operations (packages, service, sysctl, user, group) share on the target side: the
// PATH their probes and scripts run with, and the record format their probes print.

/**
 * sudo on EL5 keeps the caller's PATH, which lacks the sbin directories where chkconfig, service,
 * sysctl, useradd and groupadd live; without them a probe would report "no such tool" and plan the
 * wrong thing. Probes and scripts run in their own subshells, so this does not leak.
 */
export const sbinPath = 'PATH="${PATH:-/usr/bin:/bin}:/usr/local/sbin:/usr/sbin:/sbin"; export PATH';

/** One line of probe output: its kind (the first field) and the fields after it. */
export interface ProbeRecord {
  kind: string;
  fields: string[];
}

/**
 * Probe output as records: one a line, fields separated by TAB (`printf '%s\t%s\n' kind value`),
 * the first field naming the record. Lines without a kind are skipped. A field that may itself hold
 * TABs (a raw command output line) goes last, and the planner joins it back with `restOf`.
 */
export function parseRecords(stdout: string): ProbeRecord[] {
  const records: ProbeRecord[] = [];
  for (const line of stdout.split('\n')) {
    const [kind = '', ...fields] = line.split('\t');
    if (kind !== '') records.push({ kind, fields });
  }
  return records;
}

/** The fields from `index` on, joined back with the TABs they were split at. */
export function restOf(record: ProbeRecord, index: number): string {
  return record.fields.slice(index).join('\t');
}

