// --json FILE|-: one JSON object per line per event (listr2's test renderer idea), for machines.
import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { Reporter, RunEvent } from '../runner/events.ts';

export class JsonReporter implements Reporter {
  private readonly out: Writable;
  private readonly owned: boolean;

  constructor(target: string | Writable) {
    this.owned = typeof target === 'string';
    this.out = typeof target === 'string' ? createWriteStream(target, { mode: 0o600 }) : target;
  }

  emit(event: RunEvent): void {
    this.out.write(`${JSON.stringify({ time: new Date().toISOString(), ...event })}\n`);
  }

  async close(): Promise<void> {
    if (!this.owned) return;
    this.out.end();
    await finished(this.out);
  }
}
