// Secrets (values from `!env` variables, ssh and sudo passwords, ...) must never reach output, diffs,
// JSON events, logs or error messages, in any form: every event passes through one redactor before
// any renderer, and so does every error the CLI prints. The forms searched for (escaped, quoted,
// encoded) are defined in src/core/secret.ts.
import { hideContent, type FileDiff } from '../core/operation.ts';
import { encodedForms, secretPattern } from '../core/secret.ts';
import type { RunEvent } from '../runner/events.ts';

export const MASK = '********';

export class Redactor {
  private readonly pattern: RegExp | undefined;

  constructor(secrets: Iterable<string>) {
    // Longest first, so a secret that contains another is masked whole. Very short values would
    // mask unrelated text everywhere; they are refused where secrets are defined (MIN_SECRET_LENGTH).
    const sorted = [...new Set(secrets)].filter((s) => s.length > 0).sort((a, b) => b.length - a.length);
    const alternatives = sorted.map(secretPattern);
    const encoded = [...new Set(sorted.flatMap(encodedForms))].sort((a, b) => b.length - a.length);
    alternatives.push(...encoded.map((form) => form.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&')));
    this.pattern = alternatives.length === 0 ? undefined : new RegExp(alternatives.join('|'), 'g');
  }

  text(value: string): string {
    return this.pattern === undefined ? value : value.replace(this.pattern, MASK);
  }

  /** Whether `value` holds any form of any secret. */
  contains(value: string): boolean {
    if (this.pattern === undefined) return false;
    this.pattern.lastIndex = 0;
    const found = this.pattern.test(value);
    this.pattern.lastIndex = 0;
    return found;
  }

  /**
   * A deep copy of the event with every string redacted. A file diff loses its content when the
   * file is secret, or when its old or new text holds a secret (a file that was secret before, or
   * that a template put a secret in): it then says only that the file changed.
   */
  event<E extends RunEvent>(event: E): E {
    const guarded = event.type === 'task' && event.diff ? { ...event, diff: event.diff.map((d) => this.diff(d)) } : event;
    if (this.pattern === undefined) return guarded;
    return this.deep(guarded) as E;
  }

  private diff(d: FileDiff): FileDiff {
    if (d.secret) return hideContent(d);
    if ((d.before !== null && this.contains(d.before)) || (d.after !== null && this.contains(d.after))) return hideContent(d);
    return d;
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
