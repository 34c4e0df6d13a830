// The service probe and the ldirectord role's reload guard, for real: their scripts run under dash,
// busybox sh and bash in POSIX mode against real processes, and what they print is planned. Each
// case runs in a private mount and PID namespace (unshare --mount --pid --fork --mount-proc) with
// tmpfs over /run (/var/run is a link to it here), /etc/init.d and /etc/default, so this machine's
// services, pid files and init scripts are neither seen nor touched: the "daemons" are copies of
// sleep named heartbeat, ldirectord or keepalived, the init scripts are stand-ins that write each
// call to a log (and exit with the status the case gives them), and every process ends with the
// namespace. What is checked: what the probe says from the pid files and /proc, and that the init
// script's status action runs only when they do not decide.
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Operation, Plan } from '../../../src/core/operation.ts';
import { command } from '../../../src/operations/command.ts';
import { service } from '../../../src/operations/service.ts';
import { parseRecords, type ProbeRecord } from '../../../src/operations/system-probe.ts';
import { pidFileNamesDaemon } from '../../../src/operations/daemon-state.ts';
import { INSTANCE_PID_FILE } from '../../../roles/ldirectord/index.ts';
import { factsFor } from '../../support/facts.ts';
import { shellPrograms, which } from '../../support/posix-shells.ts';

const skip = process.platform !== 'linux' ? 'Linux only' : process.getuid?.() !== 0 ? 'needs root: it mounts tmpfs in a mount namespace of its own' : which('unshare') === undefined ? 'needs unshare (util-linux)' : undefined;

const work = mkdtempSync(join(tmpdir(), 'provision-daemon-state-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const shells = skip === undefined ? shellPrograms(join(work, 'shells')) : [];
const sysv = factsFor('debian12', { init: 'sysv' });

// The daemons: sleep under their names (the kernel's name of a process is its program file's).
const bin = join(work, 'bin');
mkdirSync(bin);
const sleep = which('sleep') ?? '/bin/sleep';
for (const name of ['heartbeat', 'ldirectord', 'keepalived']) copyFileSync(sleep, join(bin, name));
for (const name of ['heartbeat', 'ldirectord', 'keepalived']) chmodSync(join(bin, name), 0o755);
const calls = join(work, 'calls');

/** A stand-in init script: logs "NAME ACTION" and exits with $STATUS_DIR/NAME's number (default 3, stopped). */
function initScript(name: string, extra = ''): string {
  return [
    '#!/bin/sh',
    `echo "${name} $*" >> ${calls}`,
    extra,
    `status=$(cat ${work}/status-${name} 2>/dev/null || echo 3)`,
    'exit $status',
  ].join('\n');
}
// The status lines by which the probe knows which ldirectord instance a script asks about: Debian's
// script passes CONFIG_FILE (from /etc/default/ldirectord), resource-agents' (EL) passes none.
const debianLdirectord = initScript('ldirectord', 'if false; then\n\t\t"$DAEMON" "$CONFIG_FILE" $1\nfi');
const elLdirectord = initScript('ldirectord', 'if false; then\n\t$DAEMON status\nfi');

interface Case {
  /** sh run in the namespace before the probes: starts daemons (`D heartbeat`), writes pid files */
  setup: string;
  initScripts: Record<string, string>;
  defaults?: Record<string, string>;
  status?: Record<string, number>;
  operations: Record<string, Operation>;
  /** PATH before the system's (a stand-in systemctl) */
  pathBefore?: string;
  /** a command the probes run under (setpriv to another user) */
  runAs?: string;
}

interface Ran {
  stdout: string;
  records: ProbeRecord[];
  /** the init script actions the probe ran */
  calls: string[];
}

/** Runs every operation's probe under every shell in one namespace set up as `c` says. */
function run(c: Case): Map<string, Ran> {
  const dir = mkdtempSync(join(work, 'case-'));
  for (const [name, text] of Object.entries(c.initScripts)) writeFileSync(join(dir, `init-${name}`), text, { mode: 0o755 });
  for (const [name, text] of Object.entries(c.defaults ?? {})) writeFileSync(join(dir, `default-${name}`), text);
  for (const [name, code] of Object.entries(c.status ?? {})) writeFileSync(join(work, `status-${name}`), `${code}\n`);
  const runs: string[] = [];
  for (const [key, op] of Object.entries(c.operations)) {
    writeFileSync(join(dir, `probe-${key}.sh`), `(\n${op.probe()}\n) </dev/null\n`);
    shells.forEach((shell, i) => {
      runs.push(
        `: > ${calls}; chmod 666 ${calls}`,
        `PATH=${c.pathBefore ?? ''}${systemPath} ${c.runAs ?? ''} ${shell.path} ${dir}/probe-${key}.sh > ${dir}/out-${key}-${i} 2>/dev/null || :`,
        `cp ${calls} ${dir}/calls-${key}-${i}`,
      );
    });
  }
  const driver = [
    'set -e',
    'for d in /run /etc/init.d /etc/default; do mount -t tmpfs tmpfs $d; done',
    `for f in ${dir}/init-*; do [ -e "$f" ] || continue; cp "$f" /etc/init.d/\${f##*/init-}; done`,
    `for f in ${dir}/default-*; do [ -e "$f" ] || continue; cp "$f" /etc/default/\${f##*/default-}; done`,
    `D() { ${bin}/$1 600 & }`,
    c.setup,
    ...runs,
  ].join('\n');
  const result = spawnSync('unshare', ['--mount', '--propagation', 'private', '--pid', '--fork', '--mount-proc', 'sh', '-c', driver], {
    encoding: 'utf8',
    env: { PATH: systemPath, LC_ALL: 'C' },
    timeout: 60_000,
  });
  for (const name of Object.keys(c.status ?? {})) rmSync(join(work, `status-${name}`), { force: true });
  if (result.status !== 0) throw new Error(`the namespace's script failed (${result.status ?? result.signal}): ${result.stderr}`);
  const out = new Map<string, Ran>();
  for (const key of Object.keys(c.operations)) {
    shells.forEach((shell, i) => {
      const stdout = readFileSync(join(dir, `out-${key}-${i}`), 'utf8');
      const logged = readFileSync(join(dir, `calls-${key}-${i}`), 'utf8');
      out.set(`${key} under ${shell.name}`, { stdout, records: parseRecords(stdout), calls: logged.split('\n').filter((l) => l !== '') });
    });
  }
  return out;
}

const systemPath = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Each shell's result for `key`, which must all print the same. */
function same(results: Map<string, Ran>, key: string): Ran {
  const all = shells.map((shell) => ({ shell: shell.name, ran: results.get(`${key} under ${shell.name}`) }));
  const first = all[0]?.ran;
  if (first === undefined) throw new Error(`no result for ${key}`);
  for (const { shell, ran } of all) expect({ shell, stdout: ran?.stdout, calls: ran?.calls }).toEqual({ shell, stdout: first.stdout, calls: first.calls });
  return first;
}

const plan = (op: Operation, ran: Ran): Plan => op.plan(sysv, { stdout: ran.stdout, exitCode: 0 });
const runningRecords = (ran: Ran) => ran.records.filter((r) => ['pidfile', 'only-pidfile', 'process', 'status'].includes(r.kind)).map((r) => [r.kind, ...r.fields].join(' '));

describe.skipIf(skip !== undefined)('whether a daemon runs, from its pid file and /proc, on SysV init', () => {
  const heartbeat = service({ name: 'heartbeat', enabled: true, state: 'started' });
  const initScripts = { heartbeat: initScript('heartbeat') };

  it('runs when its pid file names a live process of it: the init script is not asked', () => {
    const ran = same(run({ setup: 'D heartbeat; echo $! > /run/heartbeat.pid', initScripts, operations: { heartbeat } }), 'heartbeat');
    expect(runningRecords(ran)).toEqual([expect.stringMatching(/^pidfile heartbeat \/run\/heartbeat\.pid daemon \d+$/), expect.stringMatching(/^pidfile heartbeat \/var\/run\/heartbeat\.pid daemon \d+$/)]);
    expect(ran.calls).toEqual([]);
    expect(plan(heartbeat, ran)).toEqual({ changed: true, summary: 'enable heartbeat', script: 'update-rc.d heartbeat defaults\nupdate-rc.d heartbeat enable' });
  });

  it('is stopped with neither a pid file nor a process of it: the init script is not asked', () => {
    const ran = same(run({ setup: ':', initScripts, operations: { heartbeat } }), 'heartbeat');
    expect(runningRecords(ran)).toEqual(['process heartbeat none']);
    expect(ran.calls).toEqual([]);
    expect(plan(heartbeat, ran)).toMatchObject({ summary: 'enable heartbeat; start heartbeat' });
  });

  it('is stopped when its pid file names a pid another program has now, which is removed before the start', () => {
    const ran = same(run({ setup: 'sleep 600 & echo $! > /run/heartbeat.pid', initScripts, operations: { heartbeat } }), 'heartbeat');
    expect(runningRecords(ran)).toEqual([
      expect.stringMatching(/^pidfile heartbeat \/run\/heartbeat\.pid other \d+$/),
      expect.stringMatching(/^pidfile heartbeat \/var\/run\/heartbeat\.pid other \d+$/),
      'process heartbeat none',
    ]);
    expect(ran.calls).toEqual([]);
    const planned = plan(heartbeat, ran);
    expect(planned).toMatchObject({ changed: true });
    if (planned.changed) expect(planned.script.split('\n').filter((l) => l.startsWith('rm '))).toEqual(['rm -f /run/heartbeat.pid', 'rm -f /var/run/heartbeat.pid']);
  });

  it('is stopped when its pid file names a process that ended, or one that ended and is not reaped (a zombie)', () => {
    // The zombie: a heartbeat whose parent became a sleep that never waits for it.
    const setup = `sh -c '${bin}/heartbeat 0 & echo $! > /run/heartbeat.pid; exec sleep 600' & sleep 1`;
    const zombie = same(run({ setup, initScripts, operations: { heartbeat } }), 'heartbeat');
    expect(runningRecords(zombie)).toEqual([
      expect.stringMatching(/^pidfile heartbeat \/run\/heartbeat\.pid dead \d+$/),
      expect.stringMatching(/^pidfile heartbeat \/var\/run\/heartbeat\.pid dead \d+$/),
      'process heartbeat none',
    ]);
    expect(zombie.calls).toEqual([]);
    expect(plan(heartbeat, zombie)).toMatchObject({ summary: 'enable heartbeat; start heartbeat' });

    const ended = same(run({ setup: 'sh -c "exit 0" & echo $! > /run/heartbeat.pid; wait', initScripts, operations: { heartbeat } }), 'heartbeat');
    expect(runningRecords(ended)).toEqual([
      expect.stringMatching(/^pidfile heartbeat \/run\/heartbeat\.pid dead \d+$/),
      expect.stringMatching(/^pidfile heartbeat \/var\/run\/heartbeat\.pid dead \d+$/),
      'process heartbeat none',
    ]);
    expect(ended.calls).toEqual([]);
    expect(plan(heartbeat, ended)).toMatchObject({ summary: 'enable heartbeat; start heartbeat' });
  });

  it('asks the init script once when a process of it runs that no pid file names, and believes it', () => {
    const setup = 'D heartbeat; echo garbage > /run/heartbeat.pid';
    const running = same(run({ setup, initScripts, status: { heartbeat: 0 }, operations: { heartbeat } }), 'heartbeat');
    expect(runningRecords(running)).toEqual(['pidfile heartbeat /run/heartbeat.pid invalid ', 'pidfile heartbeat /var/run/heartbeat.pid invalid ', 'process heartbeat found', 'status heartbeat 0']);
    expect(running.calls).toEqual(['heartbeat status']);
    expect(plan(heartbeat, running)).toMatchObject({ summary: 'enable heartbeat' });
    const stopped = same(run({ setup, initScripts, status: { heartbeat: 3 }, operations: { heartbeat } }), 'heartbeat');
    expect(runningRecords(stopped).at(-1)).toBe('status heartbeat 3');
    expect(plan(heartbeat, stopped)).toMatchObject({ summary: 'enable heartbeat; start heartbeat' });
  });

  it('asks the init script of a service it knows no daemon of, unless a pid file names a live process of that name', () => {
    const lvs = service({ name: 'lvs', state: 'started' });
    const ran = same(run({ setup: ':', initScripts: { lvs: initScript('lvs') }, status: { lvs: 0 }, operations: { lvs } }), 'lvs');
    expect(runningRecords(ran)).toEqual(['status lvs 0']);
    expect(ran.calls).toEqual(['lvs status']);
    expect(plan(lvs, ran)).toEqual({ changed: false });
    // A pid file the script declares (chkconfig's header) names the live daemon: decided.
    const mydaemon = service({ name: 'mydaemon', state: 'started' });
    const declared = initScript('mydaemon', '# pidfile: /run/elsewhere/md.pid\n# processname: keepalived');
    const byHeader = same(run({ setup: 'mkdir /run/elsewhere; D keepalived; echo $! > /run/elsewhere/md.pid', initScripts: { mydaemon: declared }, operations: { mydaemon } }), 'mydaemon');
    expect(runningRecords(byHeader)).toEqual([expect.stringMatching(/^pidfile mydaemon \/run\/elsewhere\/md\.pid daemon \d+$/)]);
    expect(byHeader.calls).toEqual([]);
  });

  it('asks the init script when it cannot see every process (a probe not run as root, /proc with hidepid=2)', () => {
    const setup = `chmod -R a+rX ${work}; D heartbeat; echo $! > /run/heartbeat.pid; mount -o remount,hidepid=2 /proc`;
    const runAs = 'setpriv --reuid=65534 --regid=65534 --clear-groups';
    const ran = same(run({ setup, initScripts, status: { heartbeat: 0 }, operations: { heartbeat }, runAs }), 'heartbeat');
    expect(runningRecords(ran)).toEqual(['status heartbeat 0']);
    expect(ran.calls).toEqual(['heartbeat status']);
  });

  it('reads no running state for a task that only enables or disables, and never asks the init script', () => {
    const enabledOnly = service({ name: 'heartbeat', enabled: false });
    const ran = same(run({ setup: 'D heartbeat', initScripts, status: { heartbeat: 0 }, operations: { enabledOnly } }), 'enabledOnly');
    expect(runningRecords(ran)).toEqual([]);
    expect(ran.calls).toEqual([]);
    expect(plan(enabledOnly, ran)).toEqual({ changed: false });
  });
});

describe.skipIf(skip !== undefined)('ldirectord: the instance its init script addresses, and the reload guard', () => {
  const op = service({ name: 'ldirectord', enabled: false, state: 'stopped' });
  const guard = command({ run: 'true', onlyIf: pidFileNamesDaemon(INSTANCE_PID_FILE, ['ldirectord']) });
  const heartbeatsInstance = 'D ldirectord; echo $! > /run/ldirectord.ldirectord.cf.pid';
  const unitsInstance = 'D ldirectord; echo $! > /run/ldirectord.ldirectord.pid';

  it("Debian's script with CONFIG_FILE=/etc/ha.d/ldirectord.cf (the role's) addresses heartbeat's instance", () => {
    const defaults = { ldirectord: "# the role's line\nCONFIG_FILE=/etc/ha.d/ldirectord.cf\n" };
    const results = run({ setup: heartbeatsInstance, initScripts: { ldirectord: debianLdirectord }, defaults, operations: { op, guard } });
    const ran = same(results, 'op');
    expect(runningRecords(ran)).toEqual(['only-pidfile ldirectord /var/run/ldirectord.ldirectord.cf.pid', expect.stringMatching(/^pidfile ldirectord \/var\/run\/ldirectord\.ldirectord\.cf\.pid daemon \d+$/)]);
    expect(ran.calls).toEqual([]);
    expect(plan(op, ran)).toEqual({ changed: true, summary: 'stop ldirectord', script: 'service ldirectord stop' });
    const guarded = same(results, 'guard');
    expect(guarded.stdout).toBe('only-if=succeeded\n');
    expect(guard.plan(sysv, { stdout: guarded.stdout, exitCode: 0 })).toEqual({ changed: true, summary: 'run true', script: 'true' });
  });

  it('another instance running (the unit\'s, ldirectord.ldirectord.pid) is not the one asked about: stopped, and no reload', () => {
    const defaults = { ldirectord: 'CONFIG_FILE="/etc/ha.d/ldirectord.cf"\n' };
    const results = run({ setup: unitsInstance, initScripts: { ldirectord: debianLdirectord }, defaults, operations: { op, guard } });
    const ran = same(results, 'op');
    expect(runningRecords(ran)).toEqual(['only-pidfile ldirectord /var/run/ldirectord.ldirectord.cf.pid']);
    expect(ran.calls).toEqual([]);
    expect(plan(op, ran)).toEqual({ changed: false });
    expect(same(results, 'guard').stdout).toBe('only-if=failed\n');
  });

  it("the EL script (no configuration argument) addresses ldirectord.ldirectord.pid; Debian's without CONFIG_FILE /etc/ldirectord.cf", () => {
    const el = same(run({ setup: unitsInstance, initScripts: { ldirectord: elLdirectord }, operations: { op } }), 'op');
    expect(runningRecords(el)[0]).toBe('only-pidfile ldirectord /var/run/ldirectord.ldirectord.pid');
    expect(plan(op, el)).toMatchObject({ summary: 'stop ldirectord' });
    const debianDefault = same(run({ setup: heartbeatsInstance, initScripts: { ldirectord: debianLdirectord }, operations: { op } }), 'op');
    expect(runningRecords(debianDefault)[0]).toBe('only-pidfile ldirectord /var/run/ldirectord.ldirectord.cf.pid');
    expect(debianDefault.calls).toEqual([]);
  });

  it('a CONFIG_FILE it cannot read without running shell code leaves it to the usual rules', () => {
    const defaults = { ldirectord: 'CONFIG_FILE=$HA/ldirectord.cf\n' };
    const none = same(run({ setup: ':', initScripts: { ldirectord: debianLdirectord }, defaults, operations: { op } }), 'op');
    expect(runningRecords(none)).toEqual(['process ldirectord none']);
    expect(none.calls).toEqual([]);
    const some = same(run({ setup: unitsInstance, initScripts: { ldirectord: debianLdirectord }, defaults, status: { ldirectord: 3 }, operations: { op } }), 'op');
    expect(runningRecords(some).slice(-2)).toEqual(['process ldirectord found', 'status ldirectord 3']);
    expect(some.calls).toEqual(['ldirectord status']);
  });

  it('the guard knows ldirectord run by its interpreter (perl /usr/sbin/ldirectord), from its arguments', () => {
    const script = join(work, 'interpreted', 'ldirectord');
    mkdirSync(join(work, 'interpreted'), { recursive: true });
    writeFileSync(script, 'sleep 600\n');
    const ran = same(run({ setup: `sh ${script} /etc/ha.d/ldirectord.cf start & echo $! > /run/ldirectord.ldirectord.cf.pid`, initScripts: {}, operations: { guard } }), 'guard');
    expect(ran.stdout).toBe('only-if=succeeded\n');
  });

  it('the guard fails without a pid file, and for a pid file naming another program', () => {
    expect(same(run({ setup: ':', initScripts: {}, operations: { guard } }), 'guard').stdout).toBe('only-if=failed\n');
    expect(same(run({ setup: 'sleep 600 & echo $! > /run/ldirectord.ldirectord.cf.pid', initScripts: {}, operations: { guard } }), 'guard').stdout).toBe('only-if=failed\n');
  });
});

describe.skipIf(skip !== undefined)('systemd: one systemctl show and is-enabled per name', () => {
  it('reads LoadState and ActiveState in whatever order systemctl prints them', () => {
    const fake = join(work, 'fake-systemctl');
    mkdirSync(fake, { recursive: true });
    writeFileSync(
      join(fake, 'systemctl'),
      [
        '#!/bin/sh',
        `echo "systemctl $*" >> ${calls}`,
        'case "$*" in',
        "  'show -p LoadState -p ActiveState heartbeat') printf 'ActiveState=activating\\nLoadState=loaded\\n' ;;",
        "  'show -p LoadState -p ActiveState ghost') printf 'LoadState=not-found\\nActiveState=inactive\\n' ;;",
        "  'is-enabled heartbeat') echo enabled ;;",
        "  'is-enabled ghost') echo 'Failed to get unit file state for ghost.service' >&2; exit 1 ;;",
        '  *) exit 1 ;;',
        'esac',
      ].join('\n') + '\n',
      { mode: 0o755 },
    );
    const op = service({ name: { debian: 'heartbeat', el: 'ghost' }, state: 'started' });
    const ran = same(run({ setup: 'mkdir -p /run/systemd/system', initScripts: {}, operations: { op }, pathBefore: `${fake}:` }), 'op');
    expect(ran.stdout).toBe('init\tsystemd\nsystemd\theartbeat\tloaded\tenabled\tactivating\nsystemd\tghost\tnot-found\t\tinactive\n');
    expect(ran.calls).toEqual(['systemctl show -p LoadState -p ActiveState heartbeat', 'systemctl is-enabled heartbeat', 'systemctl show -p LoadState -p ActiveState ghost', 'systemctl is-enabled ghost']);
    expect(op.plan(factsFor('debian12'), { stdout: ran.stdout, exitCode: 0 })).toEqual({ changed: false });
    expect(() => op.plan(factsFor('el9'), { stdout: ran.stdout, exitCode: 0 })).toThrow(/service ghost is not installed/);
  });
});

it.skipIf(skip === undefined)(`is skipped: ${skip ?? ''}`, () => {
  expect(existsSync('/proc')).toBe(true);
});
