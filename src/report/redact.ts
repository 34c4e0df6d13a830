// Secrets (values from `!env` variables, vault files, ...) must never reach output, diffs, JSON
// events, logs or error messages. Every event passes through one redactor before any renderer.
import type { RunEvent } from '../runner/events.ts';

export const MASK = '********';

export class Redactor {
  private readonly secrets: string[];

  constructor(secrets: Iterable<string>) {
    // Longest first, so a secret that contains another is masked whole. Very short values would
    // mask unrelated text everywhere; they are refused where secrets are defined.
    this.secrets = [...new Set(secrets)].filter((s) => s.length > 0).sort((a, b) => b.length - a.length);
  }

  text(value: string): string {
    let out = value;
    for (const secret of this.secrets) out = out.split(secret).join(MASK);
    return out;
  }

  /** A deep copy of the event with every string redacted. */
  event<E extends RunEvent>(event: E): E {
    if (this.secrets.length === 0) return event;
    return this.deep(event) as E;
  }

  private deep(value: unknown): unknown {
    if (typeof value === 'string') return this.text(value);
    if (Array.isArray(value)) return value.map((v) => this.deep(v));
    if (value && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, this.deep(v)]));
    }
    return value;
  }
}
