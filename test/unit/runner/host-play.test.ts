// The host runner against a real POSIX shell on this machine, with small test operations working
// in a temp directory: batching, re-probing after a change invalidates a later probe, handlers,
// failures and check mode.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OperationError, StateError, type Operation } from '../../../src/core/operation.ts';
import { sh } from '../../../src/core/shell.ts';
import { runHostPlay, type HostTask, type HostHandler, type ScriptRunner } from '../../../src/runner/host-play.ts';
import type { RunEvent, TaskResultEvent } from '../../../src/runner/events.ts';
import { factsFor } from '../../support/facts.ts';

const SHELLS = ['/bin/dash', 'busybox'];

function shellRunner(shell: string): ScriptRunner & { scripts: string[] } {
  const scripts: string[] = [];
  return {
    scripts,
    executions: () => scripts.length,
    run: (script, onStdout) =>
      new Promise((resolve, reject) => {
        scripts.push(script);
        const args = shell === 'busybox' ? ['sh', '-s'] : ['-s'];
        const child = spawn(shell, args, { stdio: ['pipe', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (c: Buffer) => {
          stdout += c.toString();
          onStdout?.(c.toString());
        });
        child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
        child.on('error', reject);
        child.on('close', (code) => resolve({ stdout, stderr, exitCode: code ?? -1 }));
        child.stdin.end(script);
      }),
  };
}

/** A file with exact content: the smallest operation that has a probe and a change. */
function content(file: string, text: string): Operation {
  return {
    kind: 'test-content',
    target: file,
    probe: () => sh`cat ${file} 2>/dev/null || echo '<absent>'`,
    plan: (_facts, probed) =>
      probed.stdout === text
        ? { changed: false }
        : { changed: true, summary: `write ${file}`, script: sh`printf '%s' ${text} > ${file}`, diff: [{ path: file, before: null, after: text }] },
  };
}

/** Appends a line to a file every time it runs (to count how often a step ran). */
function append(file: string, line: string): Operation {
  return { kind: 'test-append', target: file, probe: () => '', plan: () => ({ changed: true, summary: `append to ${file}`, script: sh`echo ${line} >> ${file}` }) };
}

function failing(): Operation {
  return { kind: 'test-fail', target: 'x', probe: () => '', plan: () => ({ changed: true, summary: 'fail', script: `echo "boom on stderr" >&2\nexit 3` }) };
}

const task = (id: number, name: string, op: Operation, notify: string[] = []): HostTask => ({ id: `t${id}`, name, role: 'test', op, notify });
const handler = (id: number, name: string, op: Operation): HostHandler => ({ id: `h${id}`, name, role: 'test', op });

describe.each(SHELLS)('runHostPlay under %s', (shell) => {
  let dir: string;
  let events: TaskResultEvent[];
  const options = (check = false) => ({
    host: 'h',
    play: 'p',
    check,
    facts: factsFor('debian12'),
    factsScript: 'echo facts',
    parseFacts: () => factsFor('debian12'),
    // The results; the host-step events (what the host does now) are the live view's.
    emit: (e: RunEvent) => {
      if (e.type === 'task') events.push(e);
    },
    stopped: () => false,
  });
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'provision-hostplay-'));
    events = [];
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('probes once and applies once, whatever the number of tasks', async () => {
    for (const n of [3, 30]) {
      const runner = shellRunner(shell);
      const tasks = Array.from({ length: n }, (_, i) => task(i, `file ${i}`, content(path.join(dir, `f${n}-${i}`), `v${i}\n`)));
      const result = await runHostPlay(runner, tasks, [], options());
      expect(result.failed).toBe(false);
      expect(runner.executions()).toBe(2);
      expect(events.filter((e) => e.status === 'changed')).toHaveLength(n);
      events = [];
      const again = shellRunner(shell);
      await runHostPlay(again, tasks, [], options());
      expect(again.executions()).toBe(1);
      expect(events.every((e) => e.status === 'ok')).toBe(true);
      events = [];
    }
  });

  it('runs a probe that several tasks share once, and none for a task whose `when` is false', async () => {
    const log = path.join(dir, 'probes');
    const counted = (name: string, when?: () => boolean): HostTask => ({
      ...task(0, name, { kind: 'test-counted', target: 'x', probe: () => sh`echo probed >> ${log}; echo state`, plan: () => ({ changed: false }) }),
      id: name,
      ...(when ? { when } : {}),
    });
    const skipped: Operation = { kind: 'test-counted', target: 'y', probe: () => sh`echo skipped >> ${log}`, plan: () => ({ changed: false }) };
    const tasks = [counted('a'), counted('b'), counted('c'), { ...task(9, 'not here', skipped), when: () => false }];
    const runner = shellRunner(shell);
    await runHostPlay(runner, tasks, [], options());
    expect(readFileSync(log, 'utf8')).toBe('probed\n');
    expect(events.map((e) => [e.task, e.status])).toEqual([['a', 'ok'], ['b', 'ok'], ['c', 'ok'], ['not here', 'skipped']]);
    expect(runner.executions()).toBe(1);
  });

  it('plans on the probes it is given, and probes the later plays\' tasks along with its own', async () => {
    const later = sh`echo later-state`;
    const probes = new Map([[sh`cat ${path.join(dir, 'known')} 2>/dev/null || echo '<absent>'`, { stdout: 'K', exitCode: 0 }]]);
    writeFileSync(path.join(dir, 'known'), 'on the host, but not what was probed');
    // Known state: no execution at all.
    const known = shellRunner(shell);
    await runHostPlay(known, [task(0, 'known', content(path.join(dir, 'known'), 'K'))], [], { ...options(), probes, laterProbes: [later] });
    expect(known.executions()).toBe(0);
    expect(events.map((e) => e.status)).toEqual(['ok']);
    // Unknown state: one probe execution, which also reads the later play's probe.
    const unknown = shellRunner(shell);
    await runHostPlay(unknown, [task(1, 'new', content(path.join(dir, 'new'), 'N'))], [], { ...options(), probes, laterProbes: [later] });
    expect(unknown.executions()).toBe(2);
    expect(unknown.scripts[0]).toContain('later-state');
    // After the change, the apply execution probed the later play again: the cache holds its state.
    expect(unknown.scripts[1]).toContain('later-state');
    expect(probes.get(later)).toEqual({ stdout: 'later-state\n', exitCode: 0 });
    expect([...probes.keys()]).toEqual([later]);
  });

  it('re-probes a task whose state an earlier task changed, instead of acting on a stale probe', async () => {
    const f = path.join(dir, 'shared');
    const runner = shellRunner(shell);
    // Task 0 writes A; task 1 wants B in the same file: its probe (absent) went stale when task 0 ran.
    // Task 2 was "ok" at probe time (A... no: it wants A) and must be re-checked after task 1.
    const tasks = [task(0, 'write A', content(f, 'A')), task(1, 'write B', content(f, 'B')), task(2, 'log', append(path.join(dir, 'log'), 'ran'))];
    const result = await runHostPlay(runner, tasks, [], options());
    expect(result.failed).toBe(false);
    expect(readFileSync(f, 'utf8')).toBe('B');
    expect(readFileSync(path.join(dir, 'log'), 'utf8')).toBe('ran\n');
    expect(events.map((e) => [e.task, e.status])).toEqual([
      ['write A', 'changed'],
      ['write B', 'changed'],
      ['log', 'changed'],
    ]);
    // probe; apply (stops at the stale task 1 and probes again from there); apply
    expect(runner.executions()).toBe(3);
    expect(runner.scripts[1]).toContain('stale');
  });

  it('re-checks an "ok" task whose state an earlier change altered', async () => {
    const f = path.join(dir, 'conf');
    writeFileSync(f, 'B');
    const tasks = [task(0, 'package clobbers conf', content(f, 'default')), task(1, 'conf is B', content(f, 'B'))];
    await runHostPlay(shellRunner(shell), tasks, [], options());
    expect(readFileSync(f, 'utf8')).toBe('B');
    expect(events.map((e) => e.status)).toEqual(['changed', 'changed']);
  });

  it('runs a notified handler once, after the tasks, in the same execution', async () => {
    const log = path.join(dir, 'log');
    const runner = shellRunner(shell);
    const tasks = [task(0, 'a', content(path.join(dir, 'a'), 'a'), ['restart']), task(1, 'b', content(path.join(dir, 'b'), 'b'), ['restart'])];
    const handlers = [handler(0, 'restart', append(log, 'restarted')), handler(1, 'unused', append(log, 'never'))];
    await runHostPlay(runner, tasks, handlers, options());
    expect(readFileSync(log, 'utf8')).toBe('restarted\n');
    expect(runner.executions()).toBe(2);
    expect(events.at(-1)).toMatchObject({ kind: 'handler', task: 'restart', status: 'changed' });
    // nothing changed the second time: the handler is not notified
    events = [];
    await runHostPlay(shellRunner(shell), tasks, handlers, options());
    expect(readFileSync(log, 'utf8')).toBe('restarted\n');
  });

  it('gives a handler its probe from before the play changed anything, also after a re-probe', async () => {
    const daemon = path.join(dir, 'daemon');
    const seen: Array<[string, string | undefined]> = [];
    // Records what it was planned on; "restarts" only what ran when the play began.
    const restartIfRan: Operation = {
      kind: 'test-restart',
      target: daemon,
      probe: () => sh`cat ${daemon} 2>/dev/null || echo stopped`,
      plan: (_facts, probed, atPlayStart) => {
        seen.push([probed.stdout, atPlayStart?.stdout]);
        return atPlayStart?.stdout === 'running\n' ? { changed: true, summary: 'restart', script: sh`echo restarted >> ${daemon}.log` } : { changed: false };
      },
    };
    const conf = path.join(dir, 'conf');
    // Write A, "start" the daemon, then write B to the same file: B's probe went stale when A was
    // written, so the play probes again from B on, after the start (the apply execution that
    // stopped at B does it).
    const tasks = [task(0, 'conf A', content(conf, 'A'), ['restart']), task(1, 'start', content(daemon, 'running\n')), task(2, 'conf B', content(conf, 'B'))];
    const runner = shellRunner(shell);
    await runHostPlay(runner, tasks, [handler(0, 'restart', restartIfRan)], options());
    expect(runner.executions()).toBe(3);
    // Planned in each round; the second round saw the daemon running, and still got the first probe.
    expect(seen).toEqual([['stopped\n', 'stopped\n'], ['running\n', 'stopped\n']]);
    expect(existsSync(`${daemon}.log`)).toBe(false);
    expect(events.map((e) => [e.task, e.status])).toEqual([['conf A', 'changed'], ['start', 'changed'], ['conf B', 'changed']]);

    // Next play: the daemon runs from the start, so a changed file restarts it.
    seen.length = 0;
    writeFileSync(conf, 'old');
    await runHostPlay(shellRunner(shell), [task(0, 'conf A', content(conf, 'A'), ['restart'])], [handler(0, 'restart', restartIfRan)], options());
    expect(seen).toEqual([['running\n', 'running\n']]);
    expect(readFileSync(`${daemon}.log`, 'utf8')).toBe('restarted\n');
  });

  it('stops the host at the first failing step, with its exit code and output, and skips handlers', async () => {
    const log = path.join(dir, 'log');
    const tasks = [task(0, 'a', content(path.join(dir, 'a'), 'a'), ['h']), task(1, 'breaks', failing()), task(2, 'after', append(log, 'after'))];
    const result = await runHostPlay(shellRunner(shell), tasks, [handler(0, 'h', append(log, 'handler'))], options());
    expect(result.failed).toBe(true);
    expect(existsSync(log)).toBe(false);
    const failed = events.find((e) => e.status === 'failed')!;
    expect(failed.task).toBe('breaks');
    expect(failed.message).toContain('exit code 3');
    expect(failed.message).toContain('boom on stderr');
  });

  it('reports a planning error as a failed task, after applying the tasks before it', async () => {
    const bad: Operation = { kind: 'x', target: 'x', probe: () => '', plan: () => { throw new OperationError('no package name for CentOS 5'); } };
    const tasks = [task(0, 'a', content(path.join(dir, 'a'), 'a')), task(1, 'bad', bad), task(2, 'c', content(path.join(dir, 'c'), 'c'))];
    const result = await runHostPlay(shellRunner(shell), tasks, [], options());
    expect(result.failed).toBe(true);
    expect(readFileSync(path.join(dir, 'a'), 'utf8')).toBe('a');
    expect(existsSync(path.join(dir, 'c'))).toBe(false);
    expect(events.map((e) => [e.task, e.status])).toEqual([['a', 'changed'], ['bad', 'failed']]);
  });

  it('re-checks a planning error that an earlier change may have resolved', async () => {
    const f = path.join(dir, 'made-by-task-0');
    const needsFile: Operation = {
      kind: 'needs-file',
      target: f,
      probe: () => sh`test -e ${f} && echo present`,
      plan: (_facts, probed) => {
        if (probed.stdout !== 'present\n') throw new OperationError(`${f} does not exist`);
        return { changed: false };
      },
    };
    const runner = shellRunner(shell);
    const result = await runHostPlay(runner, [task(0, 'make', content(f, 'x')), task(1, 'needs it', needsFile)], [], options());
    expect(result.failed).toBe(false);
    expect(events.map((e) => [e.task, e.status])).toEqual([['make', 'changed'], ['needs it', 'ok']]);
    // and a real error still fails after the re-check
    events = [];
    rmSync(f);
    const again = await runHostPlay(shellRunner(shell), [task(1, 'needs it', needsFile)], [], options());
    expect(again.failed).toBe(true);
    expect(events[0]!.message).toContain('does not exist');
  });

  it('changes nothing in check mode and reports what would change', async () => {
    const before = execFileSync('ls', ['-A', dir]).toString();
    const runner = shellRunner(shell);
    const tasks = [task(0, 'a', content(path.join(dir, 'a'), 'a'), ['h']), task(1, 'b', append(path.join(dir, 'b'), 'x'))];
    await runHostPlay(runner, tasks, [handler(0, 'h', append(path.join(dir, 'h'), 'x'))], options(true));
    expect(execFileSync('ls', ['-A', dir]).toString()).toBe(before);
    expect(runner.executions()).toBe(1);
    expect(events.map((e) => [e.task, e.status])).toEqual([['a', 'changed'], ['b', 'changed'], ['h', 'changed']]);
  });

  it('check mode: a task that needs what an earlier planned change makes would change, as in a real run; other errors still fail', async () => {
    // Problem 11 of issue 8: --check on a fresh host failed "service ... is not installed" after a
    // package task that was only planned.
    const f = path.join(dir, 'made-by-an-earlier-task');
    const needsFile: Operation = {
      kind: 'needs-file',
      target: f,
      probe: () => sh`test -e ${f} && echo present`,
      plan: (_facts, probed) => {
        if (probed.stdout !== 'present\n') throw new StateError(`${f} does not exist; make it first`);
        return { changed: false };
      },
    };
    const badValue: Operation = { kind: 'bad', target: 'x', probe: () => '', plan: () => { throw new OperationError('"x y" is not a name'); } };
    const tasks = [task(0, 'make', content(f, 'x')), task(1, 'needs it', needsFile, ['h']), task(2, 'after', append(path.join(dir, 'log'), 'x'))];
    const before = execFileSync('ls', ['-A', dir]).toString();

    const result = await runHostPlay(shellRunner(shell), tasks, [handler(0, 'h', append(path.join(dir, 'h'), 'x'))], options(true));
    expect(result).toMatchObject({ failed: false, changesPlanned: true });
    expect(events.map((e) => [e.task, e.status])).toEqual([['make', 'changed'], ['needs it', 'changed'], ['after', 'changed'], ['h', 'changed']]);
    expect(events[1]!.summary).toMatch(/^depends on an earlier change of this run \(now: .* does not exist; make it first\)$/);
    expect(execFileSync('ls', ['-A', dir]).toString()).toBe(before);

    // No earlier change: the same task fails, in check mode as for real.
    events = [];
    expect((await runHostPlay(shellRunner(shell), [tasks[1]!, tasks[2]!], [], options(true))).failed).toBe(true);
    expect(events.map((e) => [e.task, e.status])).toEqual([['needs it', 'failed']]);
    // A change planned by an earlier play of this run on this host counts too.
    events = [];
    const later = await runHostPlay(shellRunner(shell), [tasks[1]!], [], { ...options(true), changesPlannedBefore: true });
    expect(later.failed).toBe(false);
    expect(events.map((e) => [e.task, e.status])).toEqual([['needs it', 'changed']]);
    // A bad value is an error whatever ran before it.
    events = [];
    expect((await runHostPlay(shellRunner(shell), [tasks[0]!, task(3, 'bad', badValue)], [], options(true))).failed).toBe(true);
    expect(events.map((e) => [e.task, e.status, e.message])).toEqual([['make', 'changed', undefined], ['bad', 'failed', '"x y" is not a name']]);
  });

  it('reports skipped tasks in order, also among the changed ones', async () => {
    const skip = (id: number, name: string) => ({ ...task(id, name, content(path.join(dir, name), name)), when: () => false });
    const tasks = [skip(0, 's0'), task(1, 'c1', content(path.join(dir, 'c1'), 'x')), skip(2, 's2'), task(3, 'c3', content(path.join(dir, 'c3'), 'x')), skip(4, 's4')];
    await runHostPlay(shellRunner(shell), tasks, [], options());
    expect(events.map((e) => [e.task, e.status])).toEqual([
      ['s0', 'skipped'], ['c1', 'changed'], ['s2', 'skipped'], ['c3', 'changed'], ['s4', 'skipped'],
    ]);
  });

  it('fails the host when its freshly gathered facts have a problem, before anything is changed (also in check mode)', async () => {
    for (const check of [false, true]) {
      events = [];
      const runner = shellRunner(shell);
      const tasks = [task(0, 'a', content(path.join(dir, 'a'), 'a'), ['h']), task(1, 'b', append(path.join(dir, 'b'), 'x'))];
      const seen: string[] = [];
      const problem = 'hosts.yaml:3:5: error [heartbeat-node-name] director h is heartbeat node h, but its `uname -n` is other';
      const result = await runHostPlay(runner, tasks, [handler(0, 'h', append(path.join(dir, 'h'), 'x'))], {
        ...options(check),
        facts: null,
        checkFacts: (facts) => {
          seen.push(facts.nodename);
          return problem;
        },
      });
      expect(result.failed).toBe(true);
      expect(seen).toEqual([factsFor('debian12').nodename]);
      // Only the first probe ran: nothing was applied, no task or handler was reported.
      expect(runner.executions()).toBe(1);
      expect(execFileSync('ls', ['-A', dir]).toString()).toBe('');
      expect(events.map((e) => [e.task, e.status, e.role, e.message])).toEqual([['checking the host against the cluster', 'failed', null, problem]]);
    }
  });

  it('runs the facts check once, only when it gathers the facts, and goes on when it finds nothing', async () => {
    const checked: string[] = [];
    const checkFacts = (facts: { nodename: string }) => void checked.push(facts.nodename);
    const tasks = [task(0, 'a', content(path.join(dir, 'a'), 'a'))];
    const gathered = await runHostPlay(shellRunner(shell), tasks, [], { ...options(), facts: null, checkFacts });
    expect(gathered.failed).toBe(false);
    expect(readFileSync(path.join(dir, 'a'), 'utf8')).toBe('a');
    // A later play reuses the facts: nothing to check again.
    await runHostPlay(shellRunner(shell), tasks, [], { ...options(), checkFacts });
    expect(checked).toHaveLength(1);
  });

  it('skips a task whose `when` is false for the facts', async () => {
    const t = { ...task(0, 'el only', content(path.join(dir, 'a'), 'a')), when: () => false };
    await runHostPlay(shellRunner(shell), [t], [], options());
    expect(existsSync(path.join(dir, 'a'))).toBe(false);
    expect(events[0]!.status).toBe('skipped');
  });
});
