// --json FILE|-: one JSON object per line per event (listr2's test renderer idea), for machines.
import { createWriteStream, existsSync, openSync } from 'node:fs';
import path from 'node:path';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { UserError } from '../core/errors.ts';
import type { Reporter, RunEvent } from '../runner/events.ts';

export class JsonReporter implements Reporter {
  private readonly out: Writable;
  private readonly owned: boolean;
  private failure: Error | undefined;

  /** A path is opened (created or emptied) at once: a path that cannot be written is a UserError before anything runs. */
  constructor(target: string | Writable) {
    this.owned = typeof target === 'string';
    this.out = typeof target === 'string' ? createWriteStream(target, { fd: openEvents(target) }) : target;
    // A write that fails later (a full disk) must not end the run: the events are a copy of the output.
    this.out.on('error', (error: Error) => {
      if (this.failure) return;
      this.failure = error;
      process.stderr.write(`WARNING: writing the JSON events${typeof target === 'string' ? ` to ${target}` : ''} failed: ${error.message}; they are incomplete\n`);
    });
  }

  emit(event: RunEvent): void {
    if (this.failure) return;
    this.out.write(`${JSON.stringify({ time: new Date().toISOString(), ...event })}\n`);
  }

  async close(): Promise<void> {
    if (!this.owned || this.failure) return;
    this.out.end();
    await finished(this.out).catch(() => undefined);
  }
}

function openEvents(file: string): number {
  try {
    return openSync(file, 'w', 0o600);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOENT' && !existsSync(path.dirname(file))
        ? `the directory ${path.dirname(file)} does not exist`
        : code === 'EACCES' || code === 'EPERM'
          ? 'permission denied'
          : code === 'EISDIR'
            ? 'it is a directory'
            : code === 'EROFS'
              ? 'the file system is read-only'
              : (error as Error).message;
    throw new UserError(
      `cannot write the JSON events to ${file}: ${reason}`,
      {},
      "give --json a file in a directory that exists and that you may write to, or '--json -' for standard output; nothing was run",
    );
  }
}
