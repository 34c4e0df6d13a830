// Every kind of script provision sends to a target, run for real under the shells targets have:
// dash (Debian's sh), busybox sh and bash in POSIX mode (CentOS 5's sh is bash 3). That is the
// runner's probe, apply and lock scripts, the facts script, and the connectors' launch commands
// with each of their bodies (run, put, get, kill) and privilege modes (no sudo, sudo, sudo with a
// password, on a terminal). sudo is a stand-in here (a script on PATH that takes sudo's options,
// reads the password as `sudo -S` does, and runs the command), so every variant runs without root;
// the real sudo is exercised by the ssh connector's integration tests. `sh -n` checks each script
// (and each launch's outer command line) first. The service probe and the ldirectord reload guard,
// which define shell functions and read /proc, run here too, alone and as an apply step's guard.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { execute, type ProcessExit, type ProcessStarter, type StartedProcess } from '../../src/connectors/execution.ts';
import { buildLaunch, getBody, killBody, putBody, scriptBody, type Privilege, type TerminalStdin } from '../../src/connectors/launch.ts';
import { sh } from '../../src/core/shell.ts';
import { command } from '../../src/operations/command.ts';
import { pidFileNamesDaemon } from '../../src/operations/daemon-state.ts';
import { service } from '../../src/operations/service.ts';
import { parseFacts } from '../../src/facts/parse.ts';
import { factsScript } from '../../src/facts/script.ts';
import { buildApplyScript, buildProbeScript, newMarkerToken, parseApplyOutput, parseProbeOutput, probeDigest } from '../../src/runner/batch.ts';
import { lockScript } from '../../src/runner/lock.ts';
import { busyboxAppletDir, shellPrograms, type ShellProgram } from '../support/posix-shells.ts';

const dir = mkdtempSync(join(tmpdir(), 'provision-posix-'));
const appletDir = busyboxAppletDir();
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  rmSync(appletDir, { recursive: true, force: true });
});

const systemPath = process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin';
const shells = shellPrograms(join(dir, 'shells'));

// The stand-in for sudo. Like sudo -S without cached credentials it reads one password line from
// stdin, one byte at a time (sudo does too, so what follows stays on stdin); with
// FAKE_SUDO_TIMESTAMP it remembers a success in that file and asks no more, like sudo's timestamp.
const fakeSudoDir = join(dir, 'fake-sudo');
spawnSync('mkdir', ['-p', fakeSudoDir]);
writeFileSync(
  join(fakeSudoDir, 'sudo'),
  `#!/bin/sh
ask=
while [ $# -gt 0 ]; do
  case $1 in
    -n) shift ;;
    -S) ask=1; shift ;;
    -p) shift 2 ;;
    --) shift; break ;;
    *) break ;;
  esac
done
if [ -n "$ask" ] && [ -n "$FAKE_SUDO_PASSWORD" ] && ! { [ -n "$FAKE_SUDO_TIMESTAMP" ] && [ -e "$FAKE_SUDO_TIMESTAMP" ]; }; then
  IFS= read -r pw || exit 1
  if [ "$pw" != "$FAKE_SUDO_PASSWORD" ]; then echo 'sudo: 1 incorrect password attempt' >&2; exit 1; fi
  if [ -n "$FAKE_SUDO_TIMESTAMP" ]; then : > "$FAKE_SUDO_TIMESTAMP"; fi
fi
exec "$@"
`,
  { mode: 0o755 },
);

interface Ran {
  stdout: string;
  stderr: string;
  status: number | null;
}

function runScript(shell: ShellProgram, script: string, options: { path?: string; args?: string[] } = {}): Ran {
  const result = spawnSync(shell.path, options.args ?? ['-s'], { input: script, env: { PATH: options.path ?? systemPath, LC_ALL: 'C' }, cwd: '/', encoding: 'utf8' });
  if (result.error) throw result.error;
  return { stdout: result.stdout, stderr: result.stderr, status: result.status };
}

function expectSyntaxOk(shell: ShellProgram, script: string): void {
  const checked = runScript(shell, script, { args: ['-n'] });
  expect(checked.stderr).toBe('');
  expect(checked.status).toBe(0);
}

describe.each(shells)('under $name', (shell) => {
  describe('the runner', () => {
    const token = newMarkerToken();
    const probes = [
      { id: 't0', probe: sh`printf '%s' ${'it\'s "quoted" $HOME `x`'}` },
      { id: 't1', probe: 'echo out; echo err >&2; exit 7' },
      { id: 't2', probe: 'cat; echo after-stdin' },
    ];

    it('gathers facts and probes every task in one script', () => {
      const script = buildProbeScript(token, factsScript(), probes);
      expectSyntaxOk(shell, script);
      const ran = runScript(shell, script);
      const parsed = parseProbeOutput(token, ran.stdout);
      expect(parsed.complete).toBe(true);
      expect(parsed.probes.get('t0')).toEqual({ stdout: 'it\'s "quoted" $HOME `x`', exitCode: 0 });
      expect(parsed.probes.get('t1')).toEqual({ stdout: 'out\n', exitCode: 7 });
      expect(parsed.probes.get('t2')).toEqual({ stdout: 'after-stdin\n', exitCode: 0 });
      const facts = parseFacts(parsed.facts ?? '');
      expect(facts.nodename).toBe(spawnSync('uname', ['-n'], { encoding: 'utf8' }).stdout.trim());
      expect(facts.os.family).toBe('debian');
    });

    it('reads nodename, machine and kernel from one uname, or from one uname each where it cannot print them together', () => {
      const real = (option: string) => spawnSync('uname', [option], { encoding: 'utf8' }).stdout.trim();
      const expected = { nodename: real('-n'), arch: real('-m'), kernel: real('-r') };
      const read = (path: string) => {
        const facts = parseFacts(runScript(shell, factsScript(), { path }).stdout);
        return { nodename: facts.nodename, arch: facts.arch, kernel: facts.kernel };
      };
      expect(read(systemPath)).toEqual(expected);
      // A uname that takes one option at a time (and says something else for several).
      const oneAtATime = join(dir, `uname-one-${shell.name.replace(/\W/g, '')}`);
      spawnSync('mkdir', ['-p', oneAtATime]);
      writeFileSync(join(oneAtATime, 'uname'), `#!/bin/sh\nif [ $# -ne 1 ]; then echo 'uname: extra operand'; exit 1; fi\nexec ${spawnSync('sh', ['-c', 'command -v uname'], { encoding: 'utf8' }).stdout.trim()} "$1"\n`, { mode: 0o755 });
      expect(read(`${oneAtATime}:${systemPath}`)).toEqual(expected);
    });

    it('applies changes in order, skipping a step whose probe changed, stopping at a failure', () => {
      const marker = join(dir, `applied-${shell.name.replace(/\W/g, '')}`);
      const steps = [
        { id: 'a', script: sh`echo first > ${marker}`, guard: { probe: 'echo state', digest: probeDigest({ stdout: 'state\n', exitCode: 0 }) } },
        { id: 'b', script: sh`echo second >> ${marker}; echo to-stderr >&2` },
        { id: 'c', script: 'false\necho not reached' },
        { id: 'd', script: sh`echo never >> ${marker}` },
      ];
      const script = buildApplyScript(token, steps);
      expectSyntaxOk(shell, script);
      const parsed = parseApplyOutput(token, runScript(shell, script).stdout);
      expect(parsed.steps).toEqual([
        { id: 'a', status: 'done', exitCode: 0, output: '' },
        { id: 'b', status: 'done', exitCode: 0, output: 'to-stderr\n' },
        { id: 'c', status: 'done', exitCode: 1, output: '' },
      ]);
      expect(readFileSync(marker, 'utf8')).toBe('first\nsecond\n');

      const stale = buildApplyScript(token, [{ id: 'a', script: 'echo changed', guard: { probe: 'echo state', digest: probeDigest({ stdout: 'other\n', exitCode: 0 }) } }]);
      expect(parseApplyOutput(token, runScript(shell, stale).stdout).steps).toEqual([{ id: 'a', status: 'stale' }]);
    });

    // With flock (util-linux) on PATH, and with busybox's applets only (no flock: the mkdir lock).
    for (const variant of [
      { name: 'flock', path: systemPath },
      { name: 'mkdir', path: appletDir },
    ]) {
      it(`holds the host lock until stdin ends, and a second run finds it busy (${variant.name})`, async () => {
        const lockDir = mkdtempSync(join(dir, 'lock-'));
        // The script locks /var/lock/provision.lock on a target; here, a directory of this test's own.
        const script = (wait: number) => {
          const text = lockScript(newMarkerToken(), wait);
          expect(text).toContain('/var/lock');
          return text.replaceAll('/var/lock', lockDir);
        };
        expectSyntaxOk(shell, script(1));
        if (variant.name === 'mkdir') expect(runScript(shell, 'command -v flock', { path: variant.path }).status).not.toBe(0);

        // As the runner sends it: the script on stdin, which then stays open for as long as the run.
        const holder = spawn(shell.path, ['-s'], { env: { PATH: variant.path, LC_ALL: 'C' }, stdio: ['pipe', 'pipe', 'pipe'] });
        holder.stdin.write(script(1));
        let holderOutput = '';
        holder.stdout.setEncoding('utf8').on('data', (chunk: string) => (holderOutput += chunk));
        const holderExit = new Promise<number | null>((resolve) => holder.once('exit', resolve));
        for (let i = 0; i < 100 && !holderOutput.includes(' locked '); i++) await new Promise((resolve) => setTimeout(resolve, 50));
        expect(holderOutput).toMatch(/ locked /);

        const second = runScript(shell, script(1), { path: variant.path });
        expect(second.status).toBe(75);
        expect(second.stdout).toMatch(/ busy /);

        holder.stdin.end();
        expect(await holderExit).toBe(0);
        const third = spawnSync(shell.path, ['-s'], { input: script(1), env: { PATH: variant.path, LC_ALL: 'C' }, encoding: 'utf8' });
        expect(third.stdout).toMatch(/ locked /);
        expect(third.status).toBe(0);
      });
    }
  });

  // The probes that read daemons' pid files and /proc (src/operations/daemon-state.ts), on this
  // machine, as a probe and as an apply step's guard (inside the apply script's command
  // substitution); what they say is tested in test/integration/machine/daemon-state.test.ts.
  describe('the service probe and the ldirectord reload guard', () => {
    const token = newMarkerToken();
    const probes = {
      'service probe, enablement only': service({ name: 'heartbeat', enabled: true }).probe(),
      'service probe, running state': service({ name: { debian: 'keepalived', el: 'heartbeat' }, enabled: true, state: 'started' }).probe(),
      'service probe of ldirectord': service({ name: 'ldirectord', enabled: false, state: 'stopped' }).probe(),
      'reload guard': command({ run: 'true', onlyIf: pidFileNamesDaemon('/var/run/ldirectord.ldirectord.cf.pid', ['ldirectord']) }).probe(),
    };

    it.each(Object.entries(probes))('%s: parses, reads, and reads the same inside an apply guard', (_name, probe) => {
      expectSyntaxOk(shell, probe);
      const first = runScript(shell, `(\n${probe}\n) </dev/null 2>/dev/null\n`);
      expect(first.status).toBe(0);
      expect(first.stdout).not.toBe('');
      const apply = buildApplyScript(token, [{ id: 'a', script: 'echo applied', guard: { probe, digest: probeDigest({ stdout: first.stdout, exitCode: 0 }) } }]);
      expectSyntaxOk(shell, apply);
      expect(parseApplyOutput(token, runScript(shell, apply).stdout).steps).toEqual([{ id: 'a', status: 'done', exitCode: 0, output: 'applied\n' }]);
    });
  });

  describe('a dropped connection during an apply step', () => {
    it('finishes that step, runs no further one, and the lock is kept until the step has ended', async () => {
      const lockDir = mkdtempSync(join(dir, 'steps-'));
      const local = (text: string) => text.replaceAll('/var/lock', lockDir);
      const holder = spawn(shell.path, ['-s'], { env: { PATH: systemPath, LC_ALL: 'C' }, stdio: ['pipe', 'pipe', 'pipe'] });
      holder.stdin.write(local(lockScript(newMarkerToken(), 1)));
      let holderOutput = '';
      holder.stdout.setEncoding('utf8').on('data', (chunk: string) => (holderOutput += chunk));
      const holderExit = new Promise<void>((resolve) => holder.once('exit', () => resolve()));
      for (let i = 0; i < 100 && !holderOutput.includes(' locked '); i++) await new Promise((resolve) => setTimeout(resolve, 50));

      const done = join(dir, `slow-done-${shell.name.replace(/\W/g, '')}`);
      const after = `${done}.after`;
      const token = newMarkerToken();
      const apply = spawn(shell.path, ['-s'], { env: { PATH: systemPath, LC_ALL: 'C' }, stdio: ['pipe', 'pipe', 'ignore'] });
      apply.stdin.end(local(buildApplyScript(token, [
        { id: 'slow', script: sh`echo progress; sleep 1; echo more output; echo finished > ${done}` },
        { id: 'next', script: sh`touch ${after}` },
      ])));
      const applyExit = new Promise<void>((resolve) => apply.once('exit', () => resolve()));
      let applyOutput = '';
      await new Promise<void>((resolve) => apply.stdout.setEncoding('utf8').on('data', (chunk: string) => ((applyOutput += chunk), applyOutput.includes('begin slow') && resolve())));
      // The connection drops: the apply script's stdout and the holder's stdin close.
      apply.stdout.destroy();
      holder.stdin.end();
      let holderExitedAt = 0;
      void holderExit.then(() => (holderExitedAt = Date.now()));
      await applyExit;
      const stepEndedAt = statSync(done).mtimeMs;
      await holderExit;
      expect(readFileSync(done, 'utf8')).toBe('finished\n');
      expect(existsSync(after)).toBe(false);
      // The holder (and so the lock) outlived the step, and the registry is empty again.
      expect(holderExitedAt).toBeGreaterThanOrEqual(Math.floor(stepEndedAt));
      expect(readdirSync(`${lockDir}/provision.lock.steps`)).toEqual([]);
    });
  });

  describe('the launch of a command', () => {
    const privileges: Array<{ name: string; privilege: Privilege; env?: Record<string, string> }> = [
      { name: 'as the login user', privilege: { sudo: false } },
      { name: 'through sudo -n', privilege: { sudo: true } },
      { name: 'through sudo with a password', privilege: { sudo: true, password: 'pa ss\'wörd' }, env: { FAKE_SUDO_PASSWORD: 'pa ss\'wörd' } },
      {
        name: 'through sudo with a password and cached credentials',
        privilege: { sudo: true, password: 'pa ss\'wörd' },
        env: { FAKE_SUDO_PASSWORD: 'pa ss\'wörd', FAKE_SUDO_TIMESTAMP: join(dir, `timestamp-${randomBytes(4).toString('hex')}`) },
      },
    ];

    describe.each([false, true])('on a terminal: %s', (onTerminal) => {
      describe.each(privileges)('$name', ({ privilege, env }) => {
        const starter = localStarter(shell, env ?? {});
        const terminal = (payload: Buffer | string, keepOpen = false): TerminalStdin | undefined =>
          onTerminal ? { payloadBytes: Buffer.byteLength(payload), keepOpen } : undefined;
        const launch = (body: string, payload: Buffer | string, keepOpen = false) => {
          const built = buildLaunch(body, privilege, shell.path, terminal(payload, keepOpen));
          expectSyntaxOk(shell, built.command);
          return built;
        };

        it('runs a script: stdout, stderr and exit status apart; nothing of the password reaches it', async () => {
          const payload = 'main() { echo out; echo err >&2; printf "no newline"; cat; exit 3; }; main\n';
          const result = await execute(starter, { launch: launch(scriptBody(shell.path), payload), payload, timeoutMs: 20_000 });
          expect({ stdout: result.stdout.toString(), stderr: result.stderr.toString(), exitCode: result.exitCode }).toEqual({
            stdout: 'out\nno newline',
            stderr: 'err\n',
            exitCode: 3,
          });
        });

        it('keeps stdin open until told, then ends it', async () => {
          let release!: () => void;
          const held = new Promise<void>((resolve) => (release = resolve));
          let waiting = false;
          const payload = 'echo waiting; read line; echo "read [$line]"; cat; echo done\n';
          const running = execute(starter, {
            launch: launch(scriptBody(shell.path), payload, true),
            payload,
            timeoutMs: 20_000,
            keepStdinOpenUntil: held,
            onStdout: (chunk) => (waiting ||= chunk.includes('waiting')),
          });
          for (let i = 0; i < 100 && !waiting; i++) await new Promise((resolve) => setTimeout(resolve, 50));
          expect(waiting).toBe(true);
          release();
          const result = await running;
          expect(result.stdout.toString()).toBe('waiting\nread []\ndone\n');
          expect(result.exitCode).toBe(0);
        });

        it('puts a binary file atomically with its mode, and gets it back', async () => {
          const path = join(dir, `file-${randomBytes(4).toString('hex')}`);
          const data = Buffer.concat([randomBytes(70_000), Buffer.from([0, 4, 10, 13, 3, 255])]);
          const put = await execute(starter, { launch: launch(putBody(path, 0o640), data), payload: data, timeoutMs: 20_000 });
          expect(put.exitCode).toBe(0);
          expect(readFileSync(path).equals(data)).toBe(true);
          expect(statSync(path).mode & 0o7777).toBe(0o640);
          const got = await execute(starter, { launch: launch(getBody(path), ''), payload: '', timeoutMs: 20_000 });
          expect(got.exitCode).toBe(0);
          expect(got.stdout.equals(data)).toBe(true);
        });

        it('kills a process group', async () => {
          const victim = spawn('sleep', ['100'], { detached: true, stdio: 'ignore' });
          const gone = new Promise((resolve) => victim.once('exit', resolve));
          const killed = await execute(starter, { launch: launch(killBody([victim.pid!]), ''), payload: '', timeoutMs: 20_000 });
          expect(killed.exitCode).toBe(0);
          await gone;
          expect(victim.signalCode).toBe('SIGKILL');
        });

        it('announces the process group the command runs in (what a timeout kills)', async () => {
          const payload = 'exit 0\n';
          const built = launch(scriptBody(shell.path), payload);
          // As sshd does: the command leads a process group (and session) of its own.
          const child = spawn(shell.path, ['-c', built.command], {
            detached: true,
            env: { PATH: `${fakeSudoDir}:${systemPath}`, LC_ALL: 'C', ...env },
            stdio: ['pipe', 'pipe', 'pipe'],
          });
          let stdout = '';
          child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
          const exited = new Promise((resolve) => child.once('close', resolve));
          child.stdin.end(built.stdinPrefix + payload);
          await exited;
          const announced = new RegExp(`^${built.readyMarker} (\\d+)$`, 'm').exec(stdout);
          expect(announced?.[1]).toBe(String(child.pid));
        });
      });
    });
  });
});

/** Starts launch commands under `shell` on this machine, each leading a process group of its own (as sshd does). */
function localStarter(shell: ShellProgram, env: Record<string, string>): ProcessStarter {
  return {
    host: 'local',
    user: 'tester',
    start: (command) => {
      const child = spawn(shell.path, ['-c', command], {
        detached: true,
        env: { PATH: `${fakeSudoDir}:${systemPath}`, LC_ALL: 'C', ...env },
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      const exited = new Promise<ProcessExit>((resolve) => {
        child.once('exit', (code, signal) => resolve(code !== null ? { code } : { signal: signal ?? 'unknown' }));
        child.once('error', (error) => resolve({ lost: error.message }));
      });
      const started: StartedProcess = {
        stdin: child.stdin as Writable,
        stdout: child.stdout as Readable,
        stderr: child.stderr as Readable,
        exited,
        close: () => {
          child.stdin.destroy();
          child.stdout.destroy();
          child.stderr.destroy();
        },
      };
      return Promise.resolve(started);
    },
  };
}
