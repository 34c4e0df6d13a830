// The live view (src/report/progress.ts) as a user sees it: the real CLI in a real terminal (a
// private tmux server, whose pane is read back with capture-pane), provisioning two real hosts (two
// sshd, each with a host lock of its own) with a playbook whose steps take long enough to be seen
// while they run. Checks what the view shows during and after a run, in a wide and in a narrow
// terminal, and what Ctrl-C does to the run and to the terminal.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiModule, cli, makeProject, type Project } from '../../support/project.ts';
import { rootSkipReason, sshTarget, startSshd, type Sshd } from '../../support/sshd.ts';

const run = promisify(execFile);

// Every task is a step of its own kind: 'base dir' exists already (ok), 'slow step' runs a while
// (changed), 'config file' is written (changed), 'breaks' fails where fail_now is set.
const prepareRole = `
import { defineRole, ops } from ${JSON.stringify(apiModule)};
export default defineRole({
  name: 'prepare',
  defaults: { base_dir: '/nonexistent', slow_seconds: 2 },
  tasks: ({ vars }) => [
    { name: 'base dir', op: ops.directory({ path: vars.base_dir }) },
    { name: 'slow step', op: ops.command({ run: 'sleep ' + Number(vars.slow_seconds) }) },
  ],
});
`;
const serviceRole = `
import { defineRole, ops } from ${JSON.stringify(apiModule)};
export default defineRole({
  name: 'service',
  defaults: { base_dir: '/nonexistent', fail_now: 'no' },
  tasks: ({ vars }) => [
    { name: 'config file', op: ops.file({ path: vars.base_dir + '/service.conf', content: 'port = 80\\n' }) },
    ...(vars.fail_now === 'yes' ? [{ name: 'breaks', op: ops.command({ run: 'echo "disk on fire" >&2; exit 7' }) }] : []),
  ],
});
`;

const HOSTS = ['director1', 'realserver1'] as const;
const SPINNER = /[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]/;
/**
 * What is left of a control sequence that reached the terminal in pieces or mangled (tmux shows
 * what it cannot interpret as text): an escape character itself, or the rest of a cursor,
 * erase, colour or mode sequence. (Digits are required: "[C" also starts "[Configure".)
 */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const ESCAPE_RESIDUE = /\x1b|\x9b|\[\?\d+[hl]|\[\d+(;\d+)*[A-HJKSTfm]/;
/** Wide enough for every line of the view, so a test can match a whole one. */
const WIDE = { width: 160, height: 40 };
const POLL_MS = 100;
/** The CLI starts in a few seconds (tsx compiles the sources); a busy 2-core machine is slower. */
const WAIT_LIMIT_MS = 60_000;

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * A private tmux server: its own socket (in `dir`, removed with it), no configuration file, so the
 * user's tmux is never touched.
 */
class Tmux {
  private static servers = 0;
  private readonly socket: string;

  constructor(dir: string) {
    this.socket = path.join(dir, `tmux-${Tmux.servers++}.sock`);
  }

  async tmux(...args: string[]): Promise<string> {
    return (await run('tmux', ['-S', this.socket, '-f', '/dev/null', ...args])).stdout;
  }

  async kill(): Promise<void> {
    await this.tmux('kill-server').catch(() => undefined); // already gone: nothing to do
  }
}

/** Polls `check` every POLL_MS until it returns a value, for at most WAIT_LIMIT_MS. */
async function waitUntil<T>(what: string, check: () => Promise<T | undefined>, describeLast: () => string): Promise<T> {
  const deadline = Date.now() + WAIT_LIMIT_MS;
  while (Date.now() < deadline) {
    const value = await check();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  throw new Error(`no ${what} within ${WAIT_LIMIT_MS / 1000}s: ${describeLast()}`);
}

/** The CLI running in a tmux pane of the given size. */
class CliPane {
  private constructor(private readonly tmux: Tmux) {}

  /**
   * The pane runs `sh`, which runs the CLI and then prints its exit code and stays: tmux resets a
   * dead pane's terminal modes, and the cursor's visibility after the CLI exits is one of the
   * things checked. The shell traps SIGINT (Ctrl-C reaches the whole foreground process group) so
   * that it waits for the CLI instead of dying first; a trap, unlike an ignored signal, is not
   * inherited by the CLI. `stderrFile`: the CLI's stderr goes there instead of to the terminal.
   */
  static async start(tmux: Tmux, dir: string, size: { width: number; height: number }, args: string[], stderrFile = ''): Promise<CliPane> {
    const script = 'trap : INT; err=$1; shift; if [ -n "$err" ]; then "$@" 2>"$err"; else "$@"; fi; echo "provision exited with $?"; exec sleep 3600';
    await tmux.tmux(
      'new-session', '-d', '-x', String(size.width), '-y', String(size.height), '-c', dir,
      'sh', '-c', script, 'sh', stderrFile, process.execPath, cli, ...args,
    );
    return new CliPane(tmux);
  }

  /** What the pane shows now (-J: lines the terminal wrapped are joined back as the CLI wrote them). */
  screen(options: { history?: boolean; joined?: boolean } = {}): Promise<string> {
    return this.tmux.tmux('capture-pane', '-p', ...(options.joined ? ['-J'] : []), ...(options.history ? ['-S', '-', '-E', '-'] : []));
  }

  /** Polls the visible screen until `seen` holds for it; returns that screen. */
  waitFor(what: string, seen: (screen: string) => boolean): Promise<string> {
    let screen = '';
    return waitUntil(
      `screen showing ${what}`,
      async () => {
        screen = await this.screen();
        return seen(screen) ? screen : undefined;
      },
      () => `the pane shows:\n${screen}`,
    );
  }

  /** Waits for the CLI to exit; returns its exit code and everything the pane shows, history included. */
  async finished(): Promise<{ exitCode: number; screen: string }> {
    await this.waitFor('the exit code', (s) => /provision exited with \d+/.test(s));
    const screen = await this.screen({ history: true });
    return { exitCode: Number(/provision exited with (\d+)/.exec(screen)![1]), screen };
  }

  /** Whether the terminal shows its cursor (the CLI hides it while the view runs). */
  async cursorVisible(): Promise<boolean> {
    return (await this.tmux.tmux('display-message', '-p', '#{cursor_flag}')).trim() === '1';
  }

  sendCtrlC(): Promise<string> {
    return this.tmux.tmux('send-keys', 'C-c');
  }
}

/** The lines of the screen from the first line matching `from` up to (without) the first matching `to` after it. */
function section(screen: string, from: RegExp, to?: RegExp): string[] {
  const lines = screen.split('\n');
  const start = lines.findIndex((l) => from.test(l));
  expect(start, `no line matches ${from} in:\n${screen}`).toBeGreaterThanOrEqual(0);
  const end = to ? lines.findIndex((l, i) => i > start && to.test(l)) : -1;
  return lines.slice(start, end === -1 ? undefined : end);
}

/** What the CLI says on the first Ctrl-C (main.ts). */
const INTERRUPTED = 'Interrupted: each host stops after its running step';

/**
 * A host's line in the view while its play runs: the spinner, then what it does now or its last
 * result (how long it took, from 0.1 s), and its counts.
 */
const runningLine = (host: string, result: string, counts: string) =>
  new RegExp(`^${SPINNER.source} ${host}: ${escapeRegExp(result)}( \\(\\d+\\.\\ds\\))?  ${escapeRegExp(counts)}$`, 'm');

/** Both hosts in the slow step: their lines show the spinner and the step's name. */
const bothRunningSlowStep = (screen: string) => HOSTS.every((h) => runningLine(h, 'slow step ...', '[ok=1 changed=0 failed=0]').test(screen));

describe.skipIf(rootSkipReason !== undefined)('the live view in a terminal (tmux, real sshd)', () => {
  const servers: Sshd[] = [];
  const tmuxes: Tmux[] = [];
  let project: Project;
  let base: string;

  beforeAll(async () => {
    for (const _ of HOSTS) servers.push(await startSshd({ ownLockDir: true }));
    base = await mkdtemp(path.join(tmpdir(), 'provision-live-view-'));
    project = await makeProject({
      'package.json': '{ "type": "module" }\n',
      'roles/prepare/index.ts': prepareRole,
      'roles/service/index.ts': serviceRole,
      'site.yml': '- { name: Prepare hosts, hosts: all, roles: [prepare] }\n- { name: Configure service, hosts: all, roles: [service] }\n',
      'inventory.yaml': `all:\n  hosts:\n${HOSTS.map((h, i) => `    ${h}: ${sshTarget(servers[i]!)}\n`).join('')}`,
      // Known already: no "added the host key" warning in one run and not in the others.
      known_hosts: `${servers.flatMap((s) => s.hostKeyLines).join('\n')}\n`,
    });
    await project.write('host_vars/director1.yml', `base_dir: ${base}/director1\n`);
    await project.write('host_vars/realserver1.yml', `base_dir: ${base}/realserver1\nfail_now: "yes"\n`);
  });

  afterAll(async () => {
    await Promise.all(tmuxes.map((t) => t.kill()));
    await Promise.all(servers.map((s) => s.stop()));
    await project?.remove();
    if (base) await rm(base, { recursive: true, force: true });
  });

  /** A fresh target state (both base dirs exist, no config file yet) and the CLI in a new terminal. */
  async function startRun(size: { width: number; height: number }, extraArgs: string[] = [], stderrFile?: string): Promise<CliPane> {
    for (const host of HOSTS) {
      await rm(path.join(base, host), { recursive: true, force: true });
      await mkdir(path.join(base, host));
    }
    const tmux = new Tmux(project.dir);
    tmuxes.push(tmux);
    return CliPane.start(tmux, project.dir, size, ['-i', 'inventory.yaml', 'site.yml', ...extraArgs], stderrFile);
  }

  it('shows each play, each host with a spinner while it runs and its last result when done, then the recap', async () => {
    const pane = await startRun(WIDE);

    // During the slow step both hosts run at once: each line has the spinner and the step it runs.
    const running = await pane.waitFor('both hosts running the slow step', bothRunningSlowStep);
    expect(running).toMatch(/^PLAY \[Prepare hosts\] \*+$/m);
    expect(running).not.toContain('Configure service');

    const { exitCode, screen } = await pane.finished();
    expect(exitCode, screen).toBe(2);
    expect(screen.match(ESCAPE_RESIDUE)?.[0], screen).toBeUndefined();
    // Every frame was replaced by the next: no spinner is left once the view has ended.
    expect(screen).not.toMatch(SPINNER);

    // Each play's part of the output: its banner, its hosts' final lines, then what changed or failed in it.
    const prepare = section(screen, /^PLAY \[Prepare hosts\]/, /^PLAY \[Configure service\]/).join('\n');
    for (const host of HOSTS) {
      expect(prepare).toMatch(new RegExp(`^✔ ${host}: changed: \\[${host}\\] prepare : slow step - run sleep 2 \\(\\d+\\.\\ds\\)  \\[ok=1 changed=1 failed=0\\]$`, 'm'));
      expect(prepare).toMatch(new RegExp(`^changed: \\[${host}\\] prepare : slow step - run sleep 2 \\(\\d+\\.\\ds\\)$`, 'm'));
    }
    const configure = section(screen, /^PLAY \[Configure service\]/, /^PLAY RECAP/).join('\n');
    expect(configure).toMatch(/^✔ director1: changed: \[director1\] service : config file - write .*service\.conf \(mode 0644\) {2}\[ok=0 changed=1 failed=0\]$/m);
    expect(configure).toMatch(/^✖ realserver1: FAILED: \[realserver1\] service : breaks {2}\[ok=0 changed=1 failed=1\]$/m);
    expect(configure).toMatch(/^FAILED: \[realserver1\] service : breaks/m);
    expect(configure).toContain('disk on fire');

    const recap = section(screen, /^PLAY RECAP/).join('\n');
    expect(recap).toMatch(/^director1 {3}: ok=3 {2}changed=2 {2}unreachable=0 {2}failed=0 {2}skipped=0/m);
    expect(recap).toMatch(/^realserver1 : ok=3 {2}changed=2 {2}unreachable=0 {2}failed=1 {2}skipped=0/m);
    expect(await pane.cursorVisible()).toBe(true);
  });

  it('in a 40-column terminal: the view wraps its own lines, leaves one final line per host and play, and the recap names each host', async () => {
    const width = 40;
    const pane = await startRun({ width, height: 30 });
    const { exitCode, screen } = await pane.finished();
    expect(exitCode, screen).toBe(2);

    const lines = screen.split('\n');
    expect(screen.match(ESCAPE_RESIDUE)?.[0], screen).toBeUndefined();
    expect(screen).not.toMatch(SPINNER);
    // A frame that the next one did not fully erase would leave a second copy of a host's line.
    const finalLines = (icon: string, host: string) => lines.filter((l) => l.startsWith(`${icon} ${host}:`)).length;
    expect(finalLines('✔', 'director1')).toBe(2);
    expect(finalLines('✔', 'realserver1')).toBe(1);
    expect(finalLines('✖', 'realserver1')).toBe(1);

    // As the CLI wrote it (the terminal's own wrapping undone): the view's lines and the banners fit
    // the width by themselves; only log lines (results, messages, recap rows) are left to the
    // terminal to wrap, as they are never redrawn.
    const joined = (await pane.screen({ history: true, joined: true })).split('\n');
    const logLine = /^(ok|changed|FAILED|skipped): \[|^ {4}|^\S+ +: ok=\d/;
    for (const line of joined.filter((l) => !logLine.test(l))) expect(line.length, line).toBeLessThanOrEqual(width);
    expect(joined.filter((l) => /^PLAY (\[|RECAP)/.test(l)).length).toBe(3);
    const recap = section(joined.join('\n'), /^PLAY RECAP/);
    for (const host of HOSTS) expect(recap.some((l) => new RegExp(`^${host} +: ok=\\d+ .* failed=${host === 'realserver1' ? 1 : 0} `).test(l))).toBe(true);
  });

  it('Ctrl-C while a step runs: said at once, exit code 130 after the running step with the recap, the cursor shown again', async () => {
    const pane = await startRun(WIDE, ['-e', 'slow_seconds=4']);
    await pane.waitFor('both hosts running the slow step', bothRunningSlowStep);
    expect(await pane.cursorVisible()).toBe(false);
    await pane.sendCtrlC();
    // Said at once, in the view, while the hosts finish their step: not only once they have.
    const stopping = await pane.waitFor('the interruption message', (s) => s.includes(INTERRUPTED));
    expect(bothRunningSlowStep(stopping), stopping).toBe(true);

    const { exitCode, screen } = await pane.finished();
    expect(exitCode, screen).toBe(130);
    // The running step ended normally, then the hosts stopped: the next play never started.
    for (const host of HOSTS) expect(screen).toMatch(new RegExp(`^changed: \\[${host}\\] prepare : slow step - run sleep 4`, 'm'));
    expect(screen).not.toContain('Configure service');
    expect(screen.split(INTERRUPTED).length - 1, 'the interruption message, once').toBe(1);
    const recap = section(screen, /^PLAY RECAP/).join('\n');
    for (const host of HOSTS) expect(recap).toMatch(new RegExp(`^${host} +: ok=2  changed=1 .* failed=0 `, 'm'));
    expect(recap).toContain('The run was interrupted: hosts may be partly provisioned; run it again to converge.');
    expect(screen.match(ESCAPE_RESIDUE)?.[0], screen).toBeUndefined();
    expect(await pane.cursorVisible()).toBe(true);
  });

  it('Ctrl-C twice, stderr to a file: quits at once with exit code 130 and the cursor shown again', async () => {
    // The harder case: with stderr not a terminal, the library that hid the cursor shows it again
    // at exit through stdout, which the view holds back while it runs.
    const stderrFile = path.join(project.dir, 'stderr.txt');
    await rm(stderrFile, { force: true });
    const pane = await startRun(WIDE, ['-e', 'slow_seconds=4'], stderrFile);
    await pane.waitFor('both hosts running the slow step', bothRunningSlowStep);
    expect(await pane.cursorVisible()).toBe(false);
    await pane.sendCtrlC();
    // The second Ctrl-C once the CLI has taken the first.
    await waitUntil(
      'interruption message in the stderr file',
      async () => ((await readFile(stderrFile, 'utf8').catch(() => '')).includes(INTERRUPTED) ? true : undefined),
      () => 'the CLI did not take the first Ctrl-C',
    );
    await pane.sendCtrlC();

    const { exitCode, screen } = await pane.finished();
    expect(exitCode, screen).toBe(130);
    // It did not wait for the running step to end, nor print a recap.
    expect(screen).not.toMatch(/slow step - run sleep 4 \(/);
    expect(screen).not.toContain('PLAY RECAP');
    expect(await pane.cursorVisible()).toBe(true);
  });
});
