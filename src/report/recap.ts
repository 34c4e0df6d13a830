// PLAY RECAP counts, as ansible-playbook prints them, built from task events only.
import type { RecapRow, RunEvent } from '../runner/events.ts';

export class RecapCounter {
  private readonly rows = new Map<string, RecapRow>();

  constructor(hosts: Iterable<string> = []) {
    for (const host of hosts) this.row(host);
  }

  private row(host: string): RecapRow {
    let row = this.rows.get(host);
    if (!row) {
      row = { host, ok: 0, changed: 0, unreachable: 0, failed: 0, skipped: 0, remoteExecutions: 0 };
      this.rows.set(host, row);
    }
    return row;
  }

  add(event: RunEvent): void {
    if (event.type === 'host-unreachable') {
      const row = this.row(event.host);
      row.unreachable += 1;
      row.remoteExecutions = event.remoteExecutions;
    } else if (event.type === 'task') {
      const row = this.row(event.host);
      // Like Ansible, a changed task also counts as ok.
      if (event.status === 'changed') row.changed += 1;
      if (event.status === 'ok' || event.status === 'changed') row.ok += 1;
      if (event.status === 'failed') row.failed += 1;
      if (event.status === 'skipped') row.skipped += 1;
      if (event.status === 'unreachable') row.unreachable += 1;
      row.remoteExecutions = Math.max(row.remoteExecutions, event.remoteExecutions);
    }
  }

  setExecutions(host: string, count: number): void {
    this.row(host).remoteExecutions = count;
  }

  result(): RecapRow[] {
    return [...this.rows.values()];
  }
}

/**
 * `TITLE *****`: `stars` stars, fewer on a terminal narrower than that (`columns`), so the line
 * does not wrap into a line of stars alone; at least 3.
 */
export function banner(title: string, stars: number, columns?: number): string {
  const fits = columns === undefined ? stars : columns - title.length - 1;
  return `${title} ${'*'.repeat(Math.max(3, Math.min(stars, fits)))}`;
}

/** The recap; `columns`: the width of the terminal it is shown on, if it is. */
export function formatRecap(rows: RecapRow[], columns?: number): string {
  const width = Math.max(4, ...rows.map((r) => r.host.length));
  const lines = rows.map(
    (r) =>
      `${r.host.padEnd(width)} : ok=${r.ok}  changed=${r.changed}  unreachable=${r.unreachable}  failed=${r.failed}  skipped=${r.skipped}  remote_executions=${r.remoteExecutions}`,
  );
  return [banner('PLAY RECAP', 60, columns), ...lines].join('\n');
}
