// A live view for a terminal: listr2 shows one line per host with its current task; the plain
// renderer's lines (failures, diffs, recap) follow once the play's hosts have finished.
import { Listr } from 'listr2';
import type { Reporter, RunEvent } from '../runner/events.ts';
import { PlainReporter, formatTaskLine, type HumanOutputOptions } from './plain.ts';

interface HostLine {
  done: () => void;
  fail: (message: string) => void;
  setTitle: (title: string) => void;
  counts: { ok: number; changed: number; failed: number; skipped: number };
}

export class ProgressReporter implements Reporter {
  private readonly lines = new Map<string, HostLine>();
  private pending: RunEvent[] = [];
  private running: Promise<void> = Promise.resolve();
  private check = false;
  private readonly plain: PlainReporter;

  constructor(out: NodeJS.WriteStream, options: HumanOutputOptions) {
    this.plain = new PlainReporter(out, options);
  }

  emit(event: RunEvent): void {
    switch (event.type) {
      case 'run-start':
        this.check = event.check;
        this.plain.emit(event);
        break;
      case 'play-start':
        this.startPlay(event.play, event.hosts);
        break;
      case 'task': {
        const line = this.lines.get(event.host);
        if (line) {
          if (event.status in line.counts) line.counts[event.status as keyof HostLine['counts']] += 1;
          const c = line.counts;
          line.setTitle(`${event.host}: ${formatTaskLine(event, this.check)}  [ok=${c.ok} changed=${c.changed} failed=${c.failed}]`);
        }
        // What changed or failed (with diffs and -v details) is listed after the live view of the play.
        if (event.status === 'changed' || event.status === 'failed') this.pending.push(event);
        break;
      }
      case 'host-unreachable':
        this.lines.get(event.host)?.fail(`${event.host}: UNREACHABLE: ${event.message}`);
        this.pending.push(event);
        break;
      case 'host-done': {
        const line = this.lines.get(event.host);
        if (line && event.failed) line.fail(`${event.host}: failed`);
        else line?.done();
        break;
      }
      default:
        this.pending.push(event);
    }
  }

  private startPlay(play: string, hosts: string[]): void {
    this.lines.clear();
    const list = new Listr(
      hosts.map((host) => ({
        title: `${host}: waiting`,
        task: (_ctx: unknown, task: { title: string }) =>
          new Promise<void>((resolve, reject) => {
            this.lines.set(host, {
              done: resolve,
              fail: (message) => reject(new Error(message)),
              setTitle: (title) => {
                task.title = title;
              },
              counts: { ok: 0, changed: 0, failed: 0, skipped: 0 },
            });
          }),
      })),
      { concurrent: true, exitOnError: false, rendererOptions: { collapseErrors: false } },
    );
    const previous = this.running;
    this.plain.emit({ type: 'play-start', play, hosts });
    this.running = previous.then(() => list.run().then(
      () => this.flush(),
      () => this.flush(),
    ));
  }

  private flush(): void {
    const events = this.pending;
    this.pending = [];
    for (const e of events) this.plain.emit(e);
  }

  async close(): Promise<void> {
    for (const line of this.lines.values()) line.done();
    await this.running;
    this.flush();
  }
}
