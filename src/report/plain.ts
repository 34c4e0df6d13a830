// One plain line per result, for CI logs and pipes (no cursor movement, no colour unless a TTY).
import pc from 'picocolors';
import type { Writable } from 'node:stream';
import type { Reporter, RunEvent, TaskResultEvent } from '../runner/events.ts';
import { renderFileDiff } from './diff.ts';
import { banner, formatRecap } from './recap.ts';

export interface HumanOutputOptions {
  verbosity: number;
  diff: boolean;
  color: boolean;
}

export function formatTaskLine(e: TaskResultEvent, check: boolean): string {
  const label = { ok: 'ok', changed: check ? 'would change' : 'changed', failed: 'FAILED', skipped: 'skipped', unreachable: 'UNREACHABLE' }[e.status];
  const where = [e.role, e.kind === 'handler' ? `handler ${e.task}` : e.task].filter(Boolean).join(' : ');
  const detail = e.summary && e.summary !== e.task ? ` - ${e.summary}` : '';
  const seconds = e.durationMs >= 100 ? ` (${(e.durationMs / 1000).toFixed(1)}s)` : '';
  return `${label}: [${e.host}] ${where}${detail}${seconds}`;
}

export class PlainReporter implements Reporter {
  private check = false;

  constructor(
    private readonly out: Writable,
    private readonly options: HumanOutputOptions,
  ) {}

  private colour(status: string, text: string): string {
    if (!this.options.color) return text;
    if (status === 'changed') return pc.yellow(text);
    if (status === 'failed' || status === 'unreachable') return pc.red(text);
    if (status === 'skipped') return pc.cyan(text);
    return pc.green(text);
  }

  /** The terminal's width when the output goes to one (banners fit it); undefined for a file or pipe. */
  private columns(): number | undefined {
    const out = this.out as Partial<NodeJS.WriteStream>;
    return out.isTTY ? out.columns : undefined;
  }

  private write(text: string): void {
    this.out.write(text.endsWith('\n') ? text : `${text}\n`);
  }

  emit(event: RunEvent): void {
    switch (event.type) {
      case 'run-start':
        this.check = event.check;
        if (event.check) this.write('CHECK MODE: nothing will be changed');
        break;
      case 'play-start':
        this.write(`\n${banner(`PLAY [${event.play}]`, Math.max(3, 60 - event.play.length), this.columns())}`);
        break;
      case 'host-unreachable':
        this.write(this.colour('unreachable', `UNREACHABLE: [${event.host}] ${event.message}`));
        break;
      case 'task':
        this.write(this.colour(event.status, formatTaskLine(event, this.check)));
        if (event.message) this.write(this.colour('failed', indent(event.message)));
        if (this.options.diff && event.diff) for (const d of event.diff) this.write(renderFileDiff(d));
        if (this.options.verbosity >= 1 && event.script) this.write(indent(`script:\n${indent(event.script)}`));
        if (this.options.verbosity >= 1 && event.output) this.write(indent(`output:\n${indent(event.output)}`));
        break;
      case 'warning':
        this.write(this.colour('changed', `WARNING: ${event.host ? `[${event.host}] ` : ''}${event.message}`));
        break;
      case 'recap':
        this.write(`\n${formatRecap(event.hosts, this.columns())}`);
        if (event.interrupted) this.write('The run was interrupted: hosts may be partly provisioned; run it again to converge.');
        break;
      case 'check':
        this.write(this.colour(event.status === 'pass' ? 'ok' : 'failed', `${event.status === 'pass' ? 'ok' : 'FAILED'}: [${event.check}] ${event.subject}: ${event.detail}`));
        // The evidence of every failure; of every check with -v.
        if (event.status === 'fail' || this.options.verbosity >= 1) {
          for (const e of event.evidence) this.write(indent(`${e.host}$ ${e.command}\n${indent(e.output || '(no output)')}`));
        }
        break;
      case 'check-summary':
        this.write(`\n${banner('VERIFY RECAP', 60, this.columns())}`);
        this.write(this.colour(event.failed > 0 ? 'failed' : 'ok', `${event.cluster}: ${event.passed + event.failed} checks, ${event.passed} passed, ${event.failed} failed (${(event.durationMs / 1000).toFixed(1)} s)`));
        break;
      case 'host-step':
      case 'host-done':
      case 'drill-timeline':
        break;
    }
  }

  async close(): Promise<void> {}
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');
}
