// The transport-independent supervision of one command, driven by a fake process.
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ConnectionError } from '../../../src/connectors/connector.ts';
import { execute, ProcessGroupKiller, SudoNeedsTerminalError, type ProcessExit, type ProcessStarter, type StartedProcess } from '../../../src/connectors/execution.ts';
import type { Launch } from '../../../src/connectors/launch.ts';
import { Semaphore } from '../../../src/connectors/semaphore.ts';

const launch: Launch = { command: 'the command', stdinPrefix: 'secret\n', readyMarker: 'provision-ready-abc' };

function fakeProcess() {
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let exit!: (result: ProcessExit) => void;
  const exited = new Promise<ProcessExit>((resolve) => (exit = resolve));
  const state = { closed: false, stdin: '', stdinEnded: false };
  stdin.setEncoding('utf8').on('data', (chunk: string) => (state.stdin += chunk));
  stdin.on('end', () => (state.stdinEnded = true));
  const proc: StartedProcess = { stdin, stdout, stderr, exited, close: () => (state.closed = true) };
  const end = (result: ProcessExit) => {
    stdout.end();
    stderr.end();
    exit(result);
  };
  return { proc, stdout, stderr, exit, end, state };
}

function starterFor(proc: StartedProcess, extra: Partial<ProcessStarter> = {}): ProcessStarter & { started: string[] } {
  const started: string[] = [];
  return {
    host: 'lvs-master',
    user: 'deploy',
    started,
    start: (command) => {
      started.push(command);
      return Promise.resolve(proc);
    },
    ...extra,
  };
}

async function rejection(promise: Promise<unknown>): Promise<ConnectionError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ConnectionError);
  return error as ConnectionError;
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('execute', () => {
  it('drops what precedes the ready line (split across chunks) and keeps the output after it', async () => {
    const fake = fakeProcess();
    const streamed: string[] = [];
    const starter = starterFor(fake.proc);
    const running = execute(starter, { launch, payload: 'script', timeoutMs: 0, onStdout: (chunk) => streamed.push(chunk) });
    await tick();
    fake.stdout.write('motd from .bashrc\nprovision-re');
    fake.stdout.write('ady-abc 4242\nout');
    fake.stdout.write(Buffer.from([0xc3])); // first byte of "ü"
    fake.stdout.write(Buffer.from([0xbc, 0x0a]));
    fake.stderr.write('err\n');
    fake.end({ code: 0 });
    const result = await running;
    expect(starter.started).toEqual(['the command']);
    expect(result.stdout.toString()).toBe('outü\n');
    expect(result.stderr.toString()).toBe('err\n');
    expect(result.exitCode).toBe(0);
    expect(streamed.join('')).toBe('outü\n');
    expect(fake.state.closed).toBe(true);
  });

  it('writes the prefix and the payload, and ends stdin only when keepStdinOpenUntil settles', async () => {
    const fake = fakeProcess();
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const running = execute(starterFor(fake.proc), { launch, payload: 'echo hi\n', timeoutMs: 0, keepStdinOpenUntil: held });
    await tick();
    expect(fake.state.stdin).toBe('secret\necho hi\n');
    expect(fake.state.stdinEnded).toBe(false);
    release();
    await tick();
    await tick();
    expect(fake.state.stdinEnded).toBe(true);
    fake.stdout.write('provision-ready-abc 42\n');
    fake.end({ code: 0 });
    await running;
  });

  it('reports a signal as 128 + its number', async () => {
    const fake = fakeProcess();
    const running = execute(starterFor(fake.proc), { launch, payload: '', timeoutMs: 0 });
    fake.stdout.write('provision-ready-abc 42\n');
    fake.end({ signal: 'TERM' });
    expect((await running).exitCode).toBe(143);
  });

  it('finishes after a grace period when the command exited but something holds its output open', async () => {
    const fake = fakeProcess();
    const running = execute(starterFor(fake.proc), { launch, payload: '', timeoutMs: 0 });
    fake.stdout.write('provision-ready-abc 42\nbye\n');
    fake.exit({ code: 0 }); // the streams stay open
    const started = Date.now();
    expect((await running).stdout.toString()).toBe('bye\n');
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(fake.state.closed).toBe(true);
  });

  it('calls a failure before the ready line a sudo failure when sudo is used, with what sudo said', async () => {
    const fake = fakeProcess();
    const starter = starterFor(fake.proc, { sudo: { passwordEnv: 'SUDO_PW' } });
    const running = execute(starter, { launch, payload: '', timeoutMs: 0 });
    fake.stderr.write('Sorry, try again.\nsudo: 1 incorrect password attempt\n');
    fake.end({ code: 1 });
    const error = await rejection(running);
    expect(error.kind).toBe('sudo');
    expect(error.message).toBe('sudo as deploy on lvs-master failed (exit status 1): Sorry, try again. / sudo: 1 incorrect password attempt');
    expect(error.hint).toContain('$SUDO_PW');
  });

  it('calls a failure before the ready line a login problem without sudo', async () => {
    const fake = fakeProcess();
    const running = execute(starterFor(fake.proc), { launch, payload: '', timeoutMs: 0 });
    fake.stdout.write('This account is currently not available.\n');
    fake.end({ code: 1 });
    const error = await rejection(running);
    expect(error.kind).toBe('auth');
    expect(error.message).toContain('could not start a shell as deploy on lvs-master');
  });

  it('reports a lost connection as unreachable', async () => {
    const fake = fakeProcess();
    const running = execute(starterFor(fake.proc), { launch, payload: '', timeoutMs: 0 });
    fake.stdout.write('provision-ready-abc 42\n');
    fake.end({ lost: 'the channel closed before the command exited' });
    const error = await rejection(running);
    expect(error.kind).toBe('unreachable');
    expect(error.message).toContain('the channel closed before the command exited');
  });

  it('on timeout kills the process group from the ready line, then closes, then rejects', async () => {
    const fake = fakeProcess();
    const events: string[] = [];
    const starter = starterFor(fake.proc, {
      killProcessGroup: (pgid) => {
        events.push(`kill ${pgid} closed=${fake.state.closed}`);
        return Promise.resolve();
      },
    });
    const running = execute(starter, { launch, payload: '', timeoutMs: 200 });
    fake.stdout.write('provision-ready-abc 4242\n');
    const error = await rejection(running);
    expect(error.kind).toBe('timeout');
    expect(error.message).toBe('a command on lvs-master did not finish within 0.2s and was killed');
    expect(events).toEqual(['kill 4242 closed=false']);
    expect(fake.state.closed).toBe(true);
  });

  it('rejects with the abort reason, and does not start when already aborted', async () => {
    const fake = fakeProcess();
    const controller = new AbortController();
    const starter = starterFor(fake.proc);
    const running = execute(starter, { launch, payload: '', timeoutMs: 0, signal: controller.signal });
    await tick();
    controller.abort(new Error('interrupted'));
    await expect(running).rejects.toThrow('interrupted');
    await expect(execute(starter, { launch, payload: '', timeoutMs: 0, signal: controller.signal })).rejects.toThrow('interrupted');
    expect(starter.started).toHaveLength(1);
  });
  it('stops a command that was aborted while it was starting', async () => {
    const fake = fakeProcess();
    const controller = new AbortController();
    let kills = 0;
    let startNow!: () => void;
    const starter = starterFor(fake.proc, {
      start: () => new Promise<StartedProcess>((resolve) => (startNow = () => resolve(fake.proc))),
      killProcessGroup: () => ((kills += 1), Promise.resolve()),
    });
    const running = execute(starter, { launch, payload: '', timeoutMs: 0, signal: controller.signal });
    controller.abort(new Error('interrupted'));
    startNow();
    await expect(running).rejects.toThrow('interrupted');
    await tick();
    expect(fake.state.closed).toBe(true);
    expect(fake.state.stdin).toBe(''); // the script never reached the shell
    expect(kills).toBe(0); // no ready line yet: nothing known to kill, closing is all
  });
});

describe('execute on a terminal', () => {
  const onTerminal: Launch = { ...launch, terminal: { stderrMarker: 'provision-stderr-abc', stdinEnd: '\n' } };

  it('asks for a terminal, and splits the output at the stderr marker, wherever the chunks break', async () => {
    const output = 'provision-ready-abc 4242\nout\nlast line without newline\nprovision-stderr-abc\nerr 1\nerr 2\n';
    // Every way of cutting the output in two, plus one byte at a time.
    const cuts = [...Array.from({ length: output.length - 1 }, (_, i) => [output.slice(0, i + 1), output.slice(i + 1)]), [...output]];
    for (const chunks of cuts) {
      const fake = fakeProcess();
      const terminals: boolean[] = [];
      const streamed: string[] = [];
      const starter = starterFor(fake.proc, {
        start: (_command, { terminal }) => {
          terminals.push(terminal);
          return Promise.resolve(fake.proc);
        },
      });
      const running = execute(starter, { launch: onTerminal, payload: 'script', timeoutMs: 0, onStdout: (chunk) => streamed.push(chunk) });
      await tick();
      for (const chunk of chunks) fake.stdout.write(chunk);
      fake.end({ code: 5 });
      const result = await running;
      expect(terminals).toEqual([true]);
      expect({ stdout: result.stdout.toString(), stderr: result.stderr.toString(), exitCode: result.exitCode }).toEqual({
        stdout: 'out\nlast line without newline',
        stderr: 'err 1\nerr 2\n',
        exitCode: 5,
      });
      expect(streamed.join('')).toBe('out\nlast line without newline');
    }
  });

  it('holds back only what may start the marker, and delivers it when it does not', async () => {
    const fake = fakeProcess();
    const streamed: string[] = [];
    const running = execute(starterFor(fake.proc), { launch: onTerminal, payload: 'script', timeoutMs: 0, onStdout: (chunk) => streamed.push(chunk) });
    await tick();
    fake.stdout.write('provision-ready-abc 4242\nsome\nprovision-std');
    await tick();
    expect(streamed.join('')).toBe('some');
    fake.stdout.write('out is not the marker\n');
    await tick();
    // The final newline may start the marker line: it waits for the next chunk.
    expect(streamed.join('')).toBe('some\nprovision-stdout is not the marker');
    // Killed before its stderr came: what was held back is stdout after all.
    fake.stdout.write('tail\nprovision-stderr');
    fake.end({ signal: 'KILL' });
    const result = await running;
    expect(result.stdout.toString()).toBe('some\nprovision-stdout is not the marker\ntail\nprovision-stderr');
    expect(result.stderr.toString()).toBe('');
    expect(result.exitCode).toBe(137);
  });

  it('ends a kept-open stdin by writing stdinEnd, since a terminal passes no end-of-file', async () => {
    const fake = fakeProcess();
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const running = execute(starterFor(fake.proc), { launch: onTerminal, payload: 'script', timeoutMs: 0, keepStdinOpenUntil: held });
    await tick();
    expect(fake.state.stdin).toBe('secret\nscript');
    release();
    await tick();
    await tick();
    expect(fake.state.stdin).toBe('secret\nscript\n');
    expect(fake.state.stdinEnded).toBe(true);
    fake.stdout.write('provision-ready-abc 4242\nprovision-stderr-abc\n');
    fake.end({ code: 0 });
    await running;
  });

  it("reports what sudo said on the terminal (before the ready line) when it fails", async () => {
    const fake = fakeProcess();
    const running = execute(starterFor(fake.proc, { sudo: { passwordEnv: 'PW' } }), { launch: onTerminal, payload: 'script', timeoutMs: 0 });
    await tick();
    fake.stdout.write('Sorry, try again.\nsudo: 1 incorrect password attempt\n');
    fake.end({ code: 1 });
    const error = await rejection(running);
    expect(error.kind).toBe('sudo');
    expect(error.message).toBe('sudo as deploy on lvs-master failed (exit status 1): Sorry, try again. / sudo: 1 incorrect password attempt');
  });
});

describe('sudo that requires a terminal', () => {
  it('fails with SudoNeedsTerminalError, saying how to allow sudo without one', async () => {
    const fake = fakeProcess();
    const running = execute(starterFor(fake.proc, { sudo: {} }), { launch, payload: 'script', timeoutMs: 0 });
    await tick();
    fake.stderr.write('sudo: sorry, you must have a tty to run sudo\n');
    fake.end({ code: 1 });
    const error = await rejection(running);
    expect(error).toBeInstanceOf(SudoNeedsTerminalError);
    expect(error.kind).toBe('sudo');
    expect(error.message).toBe('sudo as deploy on lvs-master requires a terminal (sudoers: Defaults requiretty): sudo: sorry, you must have a tty to run sudo');
    expect(error.hint).toContain('Defaults:deploy !requiretty');
  });
});

describe('ProcessGroupKiller', () => {
  it('runs one kill at a time and merges the requests that arrive meanwhile', async () => {
    const batches: number[][] = [];
    let finishFirst!: () => void;
    const killer = new ProcessGroupKiller(
      (pgids) => {
        batches.push(pgids);
        return batches.length === 1 ? new Promise<void>((resolve) => (finishFirst = resolve)) : Promise.resolve();
      },
      () => undefined,
    );
    const first = killer.kill(10);
    const second = killer.kill(20);
    const third = killer.kill(30);
    await tick();
    expect(batches).toEqual([[10]]);
    finishFirst();
    await Promise.all([first, second, third]);
    expect(batches).toEqual([[10], [20, 30]]);
    await killer.idle();
  });

  it('reports a failed kill and still wakes its waiters', async () => {
    const errors: string[] = [];
    const killer = new ProcessGroupKiller(
      () => Promise.reject(new Error('channel refused')),
      (error, pgids) => errors.push(`${(error as Error).message} ${pgids.join(',')}`),
    );
    await killer.kill(7);
    expect(errors).toEqual(['channel refused 7']);
  });
});

describe('Semaphore', () => {
  it('admits at most the limit and hands slots over in arrival order', async () => {
    const semaphore = new Semaphore(2);
    const order: number[] = [];
    const releases = await Promise.all([semaphore.acquire(), semaphore.acquire()]);
    const waiting = [3, 4].map((n) => semaphore.acquire().then((release) => (order.push(n), release)));
    await tick();
    expect(order).toEqual([]);
    expect(semaphore.inUse).toBe(2);
    releases[0]!();
    releases[0]!(); // a second release of the same slot does nothing
    await tick();
    expect(order).toEqual([3]);
    releases[1]!();
    const [release3, release4] = await Promise.all(waiting);
    expect(order).toEqual([3, 4]);
    release3!();
    release4!();
    expect(semaphore.inUse).toBe(0);
  });
});
