// Secrets (values from `!env` variables, ssh and sudo passwords, ...) must never reach output, diffs,
// JSON events, logs or error messages, in any form: every event passes through one redactor before
// any renderer, and so does every error the CLI prints. The forms searched for (escaped, quoted,
// encoded) are defined in src/core/secret.ts.
import { hideContent, type FileDiff } from '../core/operation.ts';
import { secretsPattern } from '../core/secret.ts';
import type { RunEvent } from '../runner/events.ts';

export const MASK = '********';

export class Redactor {
  private readonly pattern: RegExp | undefined;

  constructor(secrets: Iterable<string>) {
    // Very short values would mask unrelated text everywhere; they are refused where secrets are
    // defined (MIN_SECRET_LENGTH).
    this.pattern = secretsPattern(secrets);
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
    if (d.edits) return d.edits.some((e) => this.contains(e.after) || (e.line !== 'end' && this.contains(e.before))) ? hideContent(d) : d;
    if ((d.before !== null && this.contains(d.before)) || (d.after !== null && this.contains(d.after))) return hideContent(d);
    return d;
  }

  /** A deep copy of any plain data (a report's content) with every string redacted. */
  deep(value: unknown): unknown {
    if (typeof value === 'string') return this.text(value);
    if (Array.isArray(value)) return value.map((v) => this.deep(v));
    if (value && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, this.deep(v)]));
    }
    return value;
  }
}

const masked = Symbol('provision.masked');

/**
 * Makes every later write to `stream` mask the secrets `secrets()` returns at that moment: the last
 * guard of the CLI's stdout and stderr, for what reaches them without passing a run's redactor
 * (lint findings, messages of commander or of the lab commands, a library's output).
 */
export function maskStream(stream: NodeJS.WriteStream, secrets: () => ReadonlySet<string>): void {
  const marked = stream as NodeJS.WriteStream & { [masked]?: true };
  if (marked[masked]) return;
  marked[masked] = true;
  const write = stream.write.bind(stream) as (chunk: unknown, ...rest: unknown[]) => boolean;
  let redactor = new Redactor([]);
  let size = 0;
  stream.write = ((chunk: unknown, ...rest: unknown[]) => {
    const current = secrets();
    if (current.size !== size) {
      redactor = new Redactor(current);
      size = current.size;
    }
    if (typeof chunk === 'string') return write(redactor.text(chunk), ...rest);
    if (Buffer.isBuffer(chunk)) {
      const text = chunk.toString('utf8');
      // Only whole UTF-8 text is rewritten; anything else passes as it is.
      if (Buffer.from(text, 'utf8').equals(chunk)) return write(Buffer.from(redactor.text(text), 'utf8'), ...rest);
    }
    return write(chunk, ...rest);
  }) as NodeJS.WriteStream['write'];
}
