// Sends each event, redacted once, to every renderer.
import type { Reporter, RunEvent } from '../runner/events.ts';
import type { Redactor } from './redact.ts';

export class FanOut implements Reporter {
  constructor(
    private readonly redactor: Redactor,
    private readonly reporters: Reporter[],
  ) {}

  emit(event: RunEvent): void {
    const safe = this.redactor.event(event);
    for (const r of this.reporters) r.emit(safe);
  }

  async close(): Promise<void> {
    await Promise.all(this.reporters.map((r) => r.close()));
  }
}
