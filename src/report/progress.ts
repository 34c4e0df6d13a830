// A live view for a terminal: listr2 shows one line per host with a spinner and its last result
// while the host works on a play, and that result with ✔ or ✖ once it is done; the plain renderer's
// lines of the play (changes, failures, diffs, warnings) follow its view, and the recap comes last.
import { Listr, ListrLogger, ProcessOutput } from 'listr2';
import { stripVTControlCharacters } from 'node:util';
import type { Reporter, RunEvent } from '../runner/events.ts';
import { PlainReporter, formatTaskLine, type HumanOutputOptions } from './plain.ts';

const SHOW_CURSOR = '\u001B[?25h';

/**
 * A host's line in one play's view. It exists from the play's start: listr starts its tasks a
 * moment later (the renderer loads first), and results that come in before then must not be lost.
 */
interface HostLine {
  title: string;
  counts: { ok: number; changed: number; failed: number; skipped: number };
  /** sets the title listr shows; set once listr has started the line */
  show?: (title: string) => void;
  finished: boolean;
  /** resolves once the host is done with the play: with true when it failed */
  done: Promise<boolean>;
  finish: (failed: boolean) => void;
}

/** One play's view, and the plain lines that follow it. */
interface PlayView {
  lines: Map<string, HostLine>;
  after: RunEvent[];
}

type Write = (chunk: unknown, ...rest: unknown[]) => boolean;

export class ProgressReporter implements Reporter {
  private current: PlayView | undefined;
  private readonly plays: PlayView[] = [];
  /** the views, one after the other: each play's view starts once the one before it has ended */
  private running: Promise<void> = Promise.resolve();
  private check = false;
  private readonly plain: PlainReporter;
  /** shows a message in the view that is on the terminal now */
  private note: ((text: string) => void) | undefined;
  private heldMessages = '';
  private viewActive = false;
  private readonly writeOut: Write;

  /**
   * `messages` is the stream of the program's other messages (Ctrl-C's, say): while a view is on a
   * terminal that is this one, they are shown in it at once, below the hosts.
   */
  constructor(
    private readonly out: NodeJS.WriteStream,
    options: HumanOutputOptions,
    private readonly messages: NodeJS.WriteStream = process.stderr,
  ) {
    this.plain = new PlainReporter(out, options);
    this.writeOut = out.write.bind(out) as Write;
    // Whatever ends the process while a view is on screen (Ctrl-C twice), the terminal gets its
    // cursor back. The library that hid it shows it again at exit through stderr, or through stdout
    // when stderr is not a terminal, and listr holds stdout back while its view runs: that one is lost.
    process.once('exit', () => {
      if (this.viewActive) this.writeOut(SHOW_CURSOR);
    });
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
      case 'host-step': {
        const line = this.current?.lines.get(event.host);
        if (line && !line.finished) setTitle(line, `${event.host}: ${event.step} ...  ${countsOf(line)}`);
        break;
      }
      case 'task': {
        const line = this.current?.lines.get(event.host);
        if (line) {
          if (event.status in line.counts) line.counts[event.status as keyof HostLine['counts']] += 1;
          setTitle(line, `${event.host}: ${formatTaskLine(event, this.check)}  ${countsOf(line)}`);
        }
        // What changed or failed (with diffs and -v details) is listed after the live view of the play.
        if (event.status === 'changed' || event.status === 'failed') this.later(event);
        break;
      }
      case 'host-unreachable': {
        const line = this.current?.lines.get(event.host);
        if (line) {
          setTitle(line, `${event.host}: UNREACHABLE: ${event.message}`);
          line.finish(true);
        }
        this.later(event);
        break;
      }
      case 'host-done':
        this.current?.lines.get(event.host)?.finish(event.failed);
        break;
      default:
        this.later(event);
    }
  }

  /** After the current play's view; before the first play there is no view to wait for. */
  private later(event: RunEvent): void {
    if (this.current) this.current.after.push(event);
    else this.plain.emit(event);
  }

  private startPlay(play: string, hosts: string[]): void {
    const view: PlayView = { lines: new Map(hosts.map((host) => [host, hostLine(`${host}: waiting`)])), after: [] };
    this.current = view;
    this.plays.push(view);
    this.running = this.running.then(async () => {
      // The banner comes right before its play's view, after everything of the play before. The
      // view is made only now: listr takes the stream's write function when it is made, and while
      // the view before is on screen that is listr's own stand-in.
      this.plain.emit({ type: 'play-start', play, hosts });
      const list = this.makeView(view);
      const restoreMessages = this.showMessages();
      this.viewActive = true;
      await list.run().catch(() => undefined); // exitOnError: false: a failed host is not an error of the view
      this.viewActive = false;
      restoreMessages();
      this.flush(view);
    });
  }

  private makeView(view: PlayView): Listr {
    const allDone = Promise.all([...view.lines.values()].map((line) => line.done));
    return new Listr(
      [
        ...[...view.lines].map(([host, line]) => ({
          title: `${host}: waiting`,
          task: async (_ctx: unknown, task: { title: string }) => {
            line.show = (title) => {
              task.title = title;
            };
            task.title = line.title;
            if (await line.done) throw new Error(line.title);
          },
        })),
        // No title: what it outputs is the view's bottom bar (see showMessages).
        {
          task: async (_ctx: unknown, task: { output: string }) => {
            this.note = (text) => {
              task.output = text;
            };
            if (this.heldMessages) this.note(this.heldMessages);
            this.heldMessages = '';
            await allDone;
          },
          rendererOptions: { bottomBar: Infinity, persistentOutput: true },
        },
      ],
      {
        concurrent: true,
        exitOnError: false,
        // Ctrl-C is the CLI's (main.ts): each host stops after its running step, and the run ends
        // with the recap and exit code 130. listr's own handler would exit at once with 127.
        registerSignalListeners: false,
        rendererOptions: {
          // A failed host's line keeps its last result (the failure); the details follow the view.
          collapseErrors: false,
          showErrorMessage: false,
          // listr holds back what is written to the terminal while its view is on it; the other
          // messages are shown in the view instead (showMessages).
          logger: new ListrLogger({ processOutput: new ProcessOutput(this.out, listrStderr()) }),
        },
      },
    );
  }

  /**
   * While the view runs, what the program writes to the messages stream (Ctrl-C's "Interrupted:
   * ... Ctrl-C again to quit now") is shown below the hosts at once: held back until the hosts
   * finish their steps, it would come too late. A messages stream that is not the terminal (a file)
   * keeps getting them.
   */
  private showMessages(): () => void {
    if (!this.messages.isTTY) return () => {};
    const stream = this.messages;
    const write = stream.write;
    stream.write = ((chunk: unknown, ...rest: unknown[]) => {
      const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8');
      // Control sequences alone go to the terminal: listr hides and shows the cursor through this stream.
      if (stripVTControlCharacters(text).trim() === '') return write.call(stream, chunk as string, ...(rest as []));
      // Before listr has started the view's tasks there is nothing to show it in yet.
      if (this.note) this.note(text);
      else this.heldMessages += text;
      const callback = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
      callback?.();
      return true;
    }) as NodeJS.WriteStream['write'];
    return () => {
      stream.write = write;
      this.note = undefined;
      if (this.heldMessages) stream.write(this.heldMessages);
      this.heldMessages = '';
    };
  }

  private flush(view: PlayView): void {
    for (const e of view.after.splice(0)) this.plain.emit(e);
  }

  async close(): Promise<void> {
    // Hosts the run stopped before they finished (Ctrl-C, any_errors_fatal) end their lines as not done (✖), saying so.
    for (const view of this.plays) {
      for (const [host, line] of view.lines) {
        if (line.finished) continue;
        setTitle(line, `${host}: stopped before it finished the play  ${countsOf(line)}`);
        line.finish(true);
      }
    }
    await this.running;
    for (const view of this.plays) this.flush(view);
  }
}

function hostLine(title: string): HostLine {
  let resolve!: (failed: boolean) => void;
  const line: HostLine = {
    title,
    counts: { ok: 0, changed: 0, failed: 0, skipped: 0 },
    finished: false,
    done: new Promise<boolean>((r) => (resolve = r)),
    finish: (failed) => {
      if (line.finished) return;
      line.finished = true;
      resolve(failed);
    },
  };
  return line;
}

function countsOf(line: HostLine): string {
  const c = line.counts;
  return `[ok=${c.ok} changed=${c.changed} failed=${c.failed}]`;
}

function setTitle(line: HostLine, title: string): void {
  line.title = title;
  line.show?.(title);
}

/**
 * listr's own stderr, in place of process.stderr, which listr would otherwise hold back while its
 * view runs (showMessages shows what is written there instead). listr logs nothing to it.
 */
function listrStderr(): NodeJS.WriteStream {
  return { write: () => true } as unknown as NodeJS.WriteStream;
}
