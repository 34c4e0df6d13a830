// One command on a target, from start to result, the same way for every transport: feed stdin,
// collect output, find the launch's ready line, enforce the timeout, honour aborts. A transport
// only has to start a process (an ssh channel, a local child) and kill process groups.
import type { Readable, Writable } from 'node:stream';
import { constants } from 'node:os';
import { StringDecoder } from 'node:string_decoder';
import { ConnectionError } from './connector.ts';
import type { Launch } from './launch.ts';

/** A command started on the target. */
export interface StartedProcess {
  readonly stdin: Writable;
  readonly stdout: Readable;
  readonly stderr: Readable;
  /** settles once the command exited, or the transport lost it (connection dropped, spawn failed) */
  readonly exited: Promise<ProcessExit>;
  /** stop waiting: close the ssh channel / the pipes. Kills nothing (sshd keeps the command running). */
  close(): void;
}

export type ProcessExit = { code: number } | { signal: string } | { lost: string };

/** What a transport provides to run commands. */
export interface ProcessStarter {
  /** inventory host name, for messages */
  readonly host: string;
  /** the account commands start as, for messages */
  readonly user: string;
  /** set when commands go through sudo: where its password comes from (for messages) */
  readonly sudo?: { passwordEnv?: string };
  /** terminal: run the command on a pty (the launch was built for one, see launch.ts) */
  start(command: string, options: { terminal: boolean }): Promise<StartedProcess>;
  /** kills the process group of a command that timed out or was aborted */
  killProcessGroup?(pgid: number): Promise<void>;
}

export interface ExecuteRequest {
  launch: Launch;
  /** what the started shell reads on stdin after the launch's prefix */
  payload: Buffer | string;
  /** 0 = no limit */
  timeoutMs: number;
  signal?: AbortSignal;
  onStdout?(chunk: string): void;
  keepStdinOpenUntil?: Promise<void>;
}

export interface Executed {
  stdout: Buffer;
  stderr: Buffer;
  exitCode: number;
}

/**
 * After the command exited, output still in flight is delivered, but a background process that
 * kept stdout open (an init script that did not detach properly) would hold the stream forever:
 * once the command exited and no output arrived for this long, the result is complete.
 */
const OUTPUT_GRACE_AFTER_EXIT_MS = 1000;
/** Junk a login shell's rc files print before the ready line is dropped; keep at most this much of a line. */
const MAX_PRE_READY_LINE = 64 * 1024;

export async function execute(starter: ProcessStarter, request: ExecuteRequest): Promise<Executed> {
  const { signal } = request;
  signal?.throwIfAborted();
  const proc = await starter.start(request.launch.command, { terminal: request.launch.terminal !== undefined });
  try {
    return await supervise(starter, proc, request);
  } finally {
    proc.close();
  }
}

function supervise(starter: ProcessStarter, proc: StartedProcess, request: ExecuteRequest): Promise<Executed> {
  const { host } = starter;
  const stdoutChunks: Buffer[] = [];
  const stderrChunks: Buffer[] = [];
  const ready = new ReadyLineScanner(request.launch.readyMarker);
  const { terminal } = request.launch;
  // On a terminal, stderr arrives at the end of stdout (see launch.ts).
  const trailer = terminal ? new StderrTrailer(terminal.stderrMarker) : undefined;
  const decoder = new StringDecoder('utf8');
  let lastOutputAt = Date.now();

  return new Promise<Executed>((resolve, reject) => {
    let settled = false;
    let exit: ProcessExit | undefined;
    let stdoutEnded = false;
    let stderrEnded = false;
    let timer: NodeJS.Timeout | undefined;
    let graceTimer: NodeJS.Timeout | undefined;

    const cleanup = () => {
      settled = true;
      clearTimeout(timer);
      clearTimeout(graceTimer);
      request.signal?.removeEventListener('abort', onAbort);
    };
    const fail = (error: unknown) => {
      if (settled) return;
      cleanup();
      reject(error);
    };
    const finishIfComplete = () => {
      if (settled || exit === undefined) return;
      if ('lost' in exit) {
        fail(new ConnectionError('unreachable', host, `lost ${host} while a command was running: ${exit.lost}`, 'check that the host is up and reachable, then run again'));
        return;
      }
      if (!(stdoutEnded && stderrEnded) && Date.now() - lastOutputAt < OUTPUT_GRACE_AFTER_EXIT_MS) return;
      cleanup();
      if (ready.pgid === undefined) {
        // On a terminal, what sudo or the login shell said went to stdout, before the ready line.
        const said = Buffer.concat([...stderrChunks, ...(terminal ? [ready.skipped()] : [])]);
        reject(startFailure(starter, exit, said.toString('utf8')));
        return;
      }
      const held = trailer?.end();
      if (held && held.length > 0) deliver(held);
      const tail = decoder.end();
      if (tail) request.onStdout?.(tail);
      const stderr = Buffer.concat([...stderrChunks, ...(trailer ? [trailer.stderr()] : [])]);
      resolve({ stdout: Buffer.concat(stdoutChunks), stderr, exitCode: exitCode(exit) });
    };
    const onOutput = () => {
      lastOutputAt = Date.now();
    };

    const deliver = (output: Buffer) => {
      stdoutChunks.push(output);
      if (request.onStdout) {
        const text = decoder.write(output);
        if (text) request.onStdout(text);
      }
    };
    proc.stdout.on('data', (chunk: Buffer) => {
      onOutput();
      let output = ready.pgid === undefined ? ready.scan(chunk) : chunk;
      if (trailer && output.length > 0) output = trailer.scan(output);
      if (output.length > 0) deliver(output);
    });
    proc.stderr.on('data', (chunk: Buffer) => {
      onOutput();
      stderrChunks.push(chunk);
    });
    proc.stdout.once('end', () => ((stdoutEnded = true), finishIfComplete()));
    proc.stderr.once('end', () => ((stderrEnded = true), finishIfComplete()));
    proc.stdout.once('close', () => ((stdoutEnded = true), finishIfComplete()));
    proc.stderr.once('close', () => ((stderrEnded = true), finishIfComplete()));
    proc.exited.then(
      (result) => {
        exit = result;
        finishIfComplete();
        // Re-check after the grace period in case the output streams stay open.
        const recheck = () => {
          if (settled) return;
          finishIfComplete();
          if (!settled) graceTimer = setTimeout(recheck, OUTPUT_GRACE_AFTER_EXIT_MS / 4);
        };
        if (!settled) graceTimer = setTimeout(recheck, OUTPUT_GRACE_AFTER_EXIT_MS);
      },
      (error: unknown) => fail(error),
    );

    // Stops the command: kill its process group (when known), then the caller closes the channel.
    const terminate = async (error: unknown) => {
      if (settled) return;
      cleanup();
      if (ready.pgid !== undefined && starter.killProcessGroup) {
        await starter.killProcessGroup(ready.pgid).catch(() => undefined);
      }
      reject(error);
    };
    const onAbort = () => {
      void terminate(request.signal?.reason ?? new Error('aborted'));
    };
    request.signal?.addEventListener('abort', onAbort, { once: true });
    // Aborted while waiting for the process to start (an ssh channel slot, say): stop it now.
    if (request.signal?.aborted) onAbort();
    if (request.timeoutMs > 0) {
      timer = setTimeout(() => {
        const seconds = Math.round(request.timeoutMs / 100) / 10;
        void terminate(
          new ConnectionError(
            'timeout',
            host,
            `a command on ${host} did not finish within ${seconds}s and was killed`,
            'if it legitimately needs longer, raise ssh.commandTimeout for this host; run with -v to see how far it got',
          ),
        );
      }, request.timeoutMs);
    }

    // Not when already stopped (aborted while starting): the script must not reach the shell.
    if (!settled) void feedStdin(proc.stdin, request, () => settled);
  });
}

/**
 * Writes prefix and payload, then holds stdin open until keepStdinOpenUntil settles, then EOF.
 * Stops writing once the command was stopped (timeout, abort).
 */
async function feedStdin(stdin: Writable, request: ExecuteRequest, stopped: () => boolean): Promise<void> {
  // The command may exit before reading everything (sudo failed, the script exited early):
  // writing then fails with EPIPE or on a closed channel, and the exit status tells the story.
  stdin.on('error', () => undefined);
  try {
    if (request.launch.stdinPrefix) await write(stdin, request.launch.stdinPrefix);
    if (stopped()) return;
    await write(stdin, request.payload);
    if (request.keepStdinOpenUntil) {
      await request.keepStdinOpenUntil.catch(() => undefined);
      // A terminal passes no end-of-file: the launch ends the command's stdin on this byte instead.
      const stdinEnd = request.launch.terminal?.stdinEnd;
      if (stdinEnd !== undefined && !stopped()) await write(stdin, stdinEnd);
    }
    if (!stdin.destroyed && !stdin.writableEnded) stdin.end();
  } catch {
    // see above
  }
}

function write(stream: Writable, data: Buffer | string): Promise<void> {
  if (stream.destroyed || stream.writableEnded) return Promise.reject(new Error('stdin closed'));
  if (stream.write(data)) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const done = (error?: Error) => {
      stream.off('drain', onDrain);
      stream.off('close', onClose);
      stream.off('error', done);
      if (error) reject(error);
      else resolve();
    };
    const onDrain = () => done();
    const onClose = () => done(new Error('stdin closed'));
    stream.on('drain', onDrain);
    stream.on('close', onClose);
    stream.on('error', done);
  });
}

function exitCode(exit: { code: number } | { signal: string }): number {
  if ('code' in exit) return exit.code;
  const name = exit.signal.startsWith('SIG') ? exit.signal : `SIG${exit.signal}`;
  const number = (constants.signals as Record<string, number | undefined>)[name];
  return 128 + (number ?? 0);
}

/**
 * sudo refused to run without a terminal (sudoers `Defaults requiretty`, the default on EL5-7): the
 * connector may try again on a pty.
 */
export class SudoNeedsTerminalError extends ConnectionError {
  override name = 'SudoNeedsTerminalError';
}

/** What sudo says under requiretty: "sorry, you must have a tty to run sudo" (sudo 1.6 to 1.9). */
const REQUIRETTY_MESSAGE = /must have a tty/i;

/** The command ended before its shell announced itself: sudo refused, or the account has no usable shell. */
function startFailure(starter: ProcessStarter, exit: ProcessExit, stderr: string): ConnectionError {
  const status = 'code' in exit ? `exit status ${exit.code}` : 'signal' in exit ? `signal ${exit.signal}` : exit.lost;
  const said = summarize(stderr);
  const { host, user, sudo } = starter;
  if (sudo && REQUIRETTY_MESSAGE.test(stderr)) {
    return new SudoNeedsTerminalError(
      'sudo',
      host,
      `sudo as ${user} on ${host} requires a terminal (sudoers: Defaults requiretty)${said ? `: ${said}` : ''}`,
      `this connection cannot provide one; allow ${user} to sudo without a terminal (a line \`Defaults:${user} !requiretty\` in /etc/sudoers.d/)`,
    );
  }
  if (sudo) {
    const hint =
      sudo.passwordEnv !== undefined
        ? `check the password in $${sudo.passwordEnv} and that ${user} may run commands as root (sudo -l as ${user} shows it)`
        : `${user} needs passwordless sudo (a NOPASSWD rule) or set become.passwordEnv to the name of an environment variable holding the password`;
    return new ConnectionError('sudo', host, `sudo as ${user} on ${host} failed (${status})${said ? `: ${said}` : ''}`, hint);
  }
  return new ConnectionError(
    'auth',
    host,
    `could not start a shell as ${user} on ${host} (${status})${said ? `: ${said}` : ''}`,
    `the account ${user} must have a working login shell and /bin/sh`,
  );
}

/** The last few lines of a failed command's stderr, for an error message. */
function summarize(stderr: string): string {
  const lines = stderr.split('\n').map((line) => line.trim()).filter(Boolean);
  return lines.slice(-4).join(' / ').slice(0, 500);
}

/**
 * Finds the launch's `<marker> <pgid>` line at the start of stdout, dropping anything before it
 * (rc files of the login shell may print). `scan` returns the output that follows the line.
 */
class ReadyLineScanner {
  pgid: number | undefined;
  private pending = Buffer.alloc(0);
  private readonly marker: Buffer;
  /** the lines dropped before the ready line (the tail of them, bounded) */
  private readonly dropped: Buffer[] = [];
  private droppedBytes = 0;

  /** what came before the ready line: rc file output, or on a terminal what sudo said */
  skipped(): Buffer {
    return Buffer.concat([...this.dropped, this.pending]);
  }

  constructor(marker: string) {
    this.marker = Buffer.from(`${marker} `);
  }

  scan(chunk: Buffer): Buffer {
    let data = Buffer.concat([this.pending, chunk]);
    for (;;) {
      const newline = data.indexOf(0x0a);
      if (newline < 0) break;
      const line = data.subarray(0, newline);
      data = data.subarray(newline + 1);
      if (line.subarray(0, this.marker.length).equals(this.marker)) {
        const pgid = Number(line.subarray(this.marker.length).toString('latin1'));
        if (Number.isInteger(pgid) && pgid > 1) {
          this.pgid = pgid;
          this.pending = Buffer.alloc(0);
          this.dropped.length = 0;
          return data;
        }
      }
      this.drop(line.subarray(0, MAX_PRE_READY_LINE));
    }
    this.pending = data.length > MAX_PRE_READY_LINE ? data.subarray(data.length - MAX_PRE_READY_LINE) : data;
    return Buffer.alloc(0);
  }

  private drop(line: Buffer): void {
    this.dropped.push(Buffer.concat([line, Buffer.from('\n')]));
    this.droppedBytes += line.length + 1;
    while (this.droppedBytes > MAX_PRE_READY_LINE && this.dropped.length > 1) this.droppedBytes -= this.dropped.shift()!.length;
  }
}

/**
 * Splits a terminal's output at the launch's `\n<marker>\n` line: stdout before it, the command's
 * stderr after it. `scan` returns the stdout that is certain; bytes that may be the start of the
 * marker are held back until the next chunk (or end()) decides.
 */
class StderrTrailer {
  private readonly marker: Buffer;
  private held = Buffer.alloc(0);
  private found = false;
  private readonly stderrChunks: Buffer[] = [];

  constructor(marker: string) {
    this.marker = Buffer.from(`\n${marker}\n`);
  }

  scan(chunk: Buffer): Buffer {
    if (this.found) {
      this.stderrChunks.push(chunk);
      return Buffer.alloc(0);
    }
    const data = Buffer.concat([this.held, chunk]);
    const at = data.indexOf(this.marker);
    if (at >= 0) {
      this.found = true;
      this.held = Buffer.alloc(0);
      this.stderrChunks.push(data.subarray(at + this.marker.length));
      return data.subarray(0, at);
    }
    const keep = this.partialMarkerAtEnd(data);
    this.held = data.subarray(data.length - keep);
    return data.subarray(0, data.length - keep);
  }

  /** the output held back, once no more comes: stdout after all (the command was killed before the marker) */
  end(): Buffer {
    const held = this.held;
    this.held = Buffer.alloc(0);
    return held;
  }

  stderr(): Buffer {
    return Buffer.concat(this.stderrChunks);
  }

  /** the length of the longest end of `data` that is a start of the marker */
  private partialMarkerAtEnd(data: Buffer): number {
    for (let length = Math.min(this.marker.length - 1, data.length); length > 0; length--) {
      if (data.subarray(data.length - length).equals(this.marker.subarray(0, length))) return length;
    }
    return 0;
  }
}

/**
 * Kills process groups one batch at a time: requests that arrive while a kill runs are merged
 * into the next one. Over ssh a kill needs a channel of its own; a batch needs at most one, so
 * many commands timing out together cannot exhaust the server's sessions.
 */
export class ProcessGroupKiller {
  private pending = new Set<number>();
  private waiters: Array<() => void> = [];
  private running: Promise<void> | undefined;

  constructor(
    private readonly killGroups: (pgids: number[]) => Promise<void>,
    private readonly onError: (error: unknown, pgids: number[]) => void,
  ) {}

  kill(pgid: number): Promise<void> {
    this.pending.add(pgid);
    return new Promise((resolve) => {
      this.waiters.push(resolve);
      this.pump();
    });
  }

  /** resolves once no kill is running or waiting */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private pump(): void {
    if (this.running || this.pending.size === 0) return;
    const batch = [...this.pending];
    const waiters = this.waiters;
    this.pending = new Set();
    this.waiters = [];
    this.running = this.killGroups(batch)
      .catch((error: unknown) => this.onError(error, batch))
      .finally(() => {
        this.running = undefined;
        for (const wake of waiters) wake();
        this.pump();
      });
  }
}
