// service: probe output fixtures of each init system -> the exact commands for every platform.
import { describe, expect, it } from 'vitest';
import type { Facts } from '../../../src/core/facts.ts';
import { OperationError, type Plan } from '../../../src/core/operation.ts';
import { service, sysvRunning, type ServiceOptions } from '../../../src/operations/service.ts';
import { parseRecords } from '../../../src/operations/system-probe.ts';
import { factsFor, platforms, type Platform } from '../../support/facts.ts';

const line = (...fields: string[]) => fields.join('\t');
const output = (...lines: string[]) => lines.join('\n') + '\n';

interface Situation {
  installed: boolean;
  enabled: boolean;
  running: boolean;
}

/** The probe output for heartbeat in that situation, as the host's init system reports it. */
function fixture(facts: Facts, { installed, enabled, running }: Situation, name = 'heartbeat'): string {
  if (facts.init === 'systemd') {
    if (!installed) return output('init\tsystemd', line('systemd', name, 'not-found', '', 'inactive'));
    return output('init\tsystemd', line('systemd', name, 'loaded', enabled ? 'enabled' : 'disabled', running ? 'active' : 'inactive'));
  }
  const lines = ['init\tsysv', 'tool\tservice'];
  if (facts.os.family === 'el') lines.push('tool\tchkconfig');
  if (installed) {
    lines.push(line('initscript', name, '/etc/init.d/' + name), line('status', name, running ? '0' : '3'));
    if (facts.os.family === 'el') {
      const levels = enabled ? '0:off\t1:off\t2:on\t3:on\t4:on\t5:on\t6:off' : '0:off\t1:off\t2:off\t3:off\t4:off\t5:off\t6:off';
      lines.push(line('chkconfig', name, `${name}        \t${levels}`));
    } else if (enabled) {
      for (const level of [2, 3, 4, 5]) lines.push(line('start-link', name, `/etc/rc${level}.d/S01${name}`));
    }
  }
  return output(...lines);
}

/** The platforms, plus Debian 12 and Ubuntu 24.04 without systemd (the lab's namespace hosts). */
const hosts: Array<[string, Facts]> = [
  ...platforms.map((p): [string, Facts] => [p, factsFor(p)]),
  ['debian12 (sysv)', factsFor('debian12', { init: 'sysv' })],
  ['ubuntu2404 (sysv)', factsFor('ubuntu2404', { init: 'sysv' })],
];
type Host = Platform | 'debian12 (sysv)' | 'ubuntu2404 (sysv)';

function planFor(facts: Facts, options: ServiceOptions, situation: Situation): Plan {
  const name = typeof options.name === 'string' ? options.name : 'heartbeat';
  return service(options).plan(facts, { stdout: fixture(facts, situation, name), exitCode: 0 });
}

function scriptLines(plan: Plan): string[] {
  if (!plan.changed) throw new Error('expected a change, got none');
  return plan.script.split('\n');
}

const wanted: ServiceOptions = { name: 'heartbeat', enabled: true, state: 'started' };

describe('service: enabled and started', () => {
  const startOnly: Record<Host, string[]> = {
    el5: ['service heartbeat start'],
    el6: ['service heartbeat start'],
    el7: ['systemctl start heartbeat'],
    el8: ['systemctl start heartbeat'],
    el9: ['systemctl start heartbeat'],
    debian11: ['systemctl start heartbeat'],
    debian12: ['systemctl start heartbeat'],
    ubuntu2204: ['systemctl start heartbeat'],
    ubuntu2404: ['systemctl start heartbeat'],
    'debian12 (sysv)': ['service heartbeat start'],
    'ubuntu2404 (sysv)': ['service heartbeat start'],
  };
  it.each(hosts)('starts a service that is enabled but stopped on %s', (host, facts) => {
    const plan = planFor(facts, wanted, { installed: true, enabled: true, running: false });
    expect(plan).toMatchObject({ changed: true, summary: 'start heartbeat' });
    expect(scriptLines(plan)).toEqual(startOnly[host as Host]);
  });

  const enableAndStart: Record<Host, string[]> = {
    el5: ['chkconfig heartbeat on', 'service heartbeat start'],
    el6: ['chkconfig heartbeat on', 'service heartbeat start'],
    el7: ['systemctl enable heartbeat', 'systemctl start heartbeat'],
    el8: ['systemctl enable heartbeat', 'systemctl start heartbeat'],
    el9: ['systemctl enable heartbeat', 'systemctl start heartbeat'],
    debian11: ['systemctl enable heartbeat', 'systemctl start heartbeat'],
    debian12: ['systemctl enable heartbeat', 'systemctl start heartbeat'],
    ubuntu2204: ['systemctl enable heartbeat', 'systemctl start heartbeat'],
    ubuntu2404: ['systemctl enable heartbeat', 'systemctl start heartbeat'],
    'debian12 (sysv)': ['update-rc.d heartbeat defaults', 'update-rc.d heartbeat enable', 'service heartbeat start'],
    'ubuntu2404 (sysv)': ['update-rc.d heartbeat defaults', 'update-rc.d heartbeat enable', 'service heartbeat start'],
  };
  it.each(hosts)('enables and starts a disabled, stopped service on %s', (host, facts) => {
    const plan = planFor(facts, wanted, { installed: true, enabled: false, running: false });
    expect(plan).toMatchObject({ changed: true, summary: 'enable heartbeat; start heartbeat' });
    expect(scriptLines(plan)).toEqual(enableAndStart[host as Host]);
  });

  it.each(hosts)('reports no change on %s when it is enabled and running', (_host, facts) => {
    expect(planFor(facts, wanted, { installed: true, enabled: true, running: true })).toEqual({ changed: false });
  });

  it.each(hosts)('fails on %s when the service is not installed, naming it and what to do', (_host, facts) => {
    const plan = () => planFor(facts, wanted, { installed: false, enabled: false, running: false });
    expect(plan).toThrow(OperationError);
    expect(plan).toThrow(/^service heartbeat is not installed on .+; install its package first/);
  });
});

describe('service: disabled and stopped', () => {
  const options: ServiceOptions = { name: 'heartbeat', enabled: false, state: 'stopped' };
  const disableAndStop: Record<Host, string[]> = {
    el5: ['chkconfig heartbeat off', 'service heartbeat stop'],
    el6: ['chkconfig heartbeat off', 'service heartbeat stop'],
    el7: ['systemctl disable heartbeat', 'systemctl stop heartbeat'],
    el8: ['systemctl disable heartbeat', 'systemctl stop heartbeat'],
    el9: ['systemctl disable heartbeat', 'systemctl stop heartbeat'],
    debian11: ['systemctl disable heartbeat', 'systemctl stop heartbeat'],
    debian12: ['systemctl disable heartbeat', 'systemctl stop heartbeat'],
    ubuntu2204: ['systemctl disable heartbeat', 'systemctl stop heartbeat'],
    ubuntu2404: ['systemctl disable heartbeat', 'systemctl stop heartbeat'],
    'debian12 (sysv)': ['update-rc.d heartbeat disable || update-rc.d -f heartbeat remove', 'service heartbeat stop'],
    'ubuntu2404 (sysv)': ['update-rc.d heartbeat disable || update-rc.d -f heartbeat remove', 'service heartbeat stop'],
  };
  it.each(hosts)('disables and stops a running, enabled service on %s', (host, facts) => {
    const plan = planFor(facts, options, { installed: true, enabled: true, running: true });
    expect(plan).toMatchObject({ changed: true, summary: 'disable heartbeat; stop heartbeat' });
    expect(scriptLines(plan)).toEqual(disableAndStop[host as Host]);
  });

  it.each(hosts)('reports no change on %s when it is disabled and stopped', (_host, facts) => {
    expect(planFor(facts, options, { installed: true, enabled: false, running: false })).toEqual({ changed: false });
  });
});

describe('service: restarted and reloaded (handlers)', () => {
  const restart: Record<Host, string> = {
    el5: 'service heartbeat restart',
    el6: 'service heartbeat restart',
    el7: 'systemctl restart heartbeat',
    el8: 'systemctl restart heartbeat',
    el9: 'systemctl restart heartbeat',
    debian11: 'systemctl restart heartbeat',
    debian12: 'systemctl restart heartbeat',
    ubuntu2204: 'systemctl restart heartbeat',
    ubuntu2404: 'systemctl restart heartbeat',
    'debian12 (sysv)': 'service heartbeat restart',
    'ubuntu2404 (sysv)': 'service heartbeat restart',
  };
  it.each(hosts)('always restarts on %s, even a running service', (host, facts) => {
    const plan = planFor(facts, { name: 'heartbeat', state: 'restarted' }, { installed: true, enabled: true, running: true });
    expect(plan).toEqual({ changed: true, summary: 'restart heartbeat', script: restart[host as Host] });
  });

  it('reloads a running service and starts a stopped one', () => {
    const facts = factsFor('el5');
    const running = planFor(facts, { name: 'ldirectord', state: 'reloaded' }, { installed: true, enabled: true, running: true });
    expect(running).toEqual({ changed: true, summary: 'reload ldirectord', script: 'service ldirectord reload' });
    const stopped = planFor(factsFor('el9'), { name: 'ldirectord', state: 'reloaded' }, { installed: true, enabled: true, running: false });
    expect(stopped).toEqual({ changed: true, summary: 'start ldirectord', script: 'systemctl start ldirectord' });
  });

  it.each(hosts)('with ifRunning on %s, acts on a service that ran when the play began, not on one the play started or installed', (_host, facts) => {
    const probe = (situation: Situation) => ({ stdout: fixture(facts, situation), exitCode: 0 });
    const runningNow = probe({ installed: true, enabled: true, running: true });
    for (const state of ['restarted', 'reloaded'] as const) {
      const op = service({ name: 'heartbeat', state, ifRunning: true });
      expect(op.plan(facts, runningNow, runningNow)).toMatchObject({ changed: true, summary: `${state === 'restarted' ? 'restart' : 'reload'} heartbeat` });
      const notYet = { changed: false, note: 'heartbeat was not running when the play began' };
      expect(op.plan(facts, runningNow, probe({ installed: true, enabled: true, running: false }))).toEqual(notYet);
      expect(op.plan(facts, runningNow, probe({ installed: false, enabled: false, running: false }))).toEqual(notYet);
      // Without the play's first probe (a task, not a handler), the current state decides.
      expect(op.plan(facts, probe({ installed: true, enabled: true, running: false }))).toEqual(notYet);
    }
  });
});

describe('service: details of each init system', () => {
  it('runs the init script itself on a SysV host without the service command', () => {
    const facts = factsFor('debian12', { init: 'sysv' });
    const stdout = output('init\tsysv', line('initscript', 'keepalived', '/etc/init.d/keepalived'), line('status', 'keepalived', '3'));
    const plan = service({ name: 'keepalived', state: 'started' }).plan(facts, { stdout, exitCode: 0 });
    expect(plan).toMatchObject({ script: '/etc/init.d/keepalived start' });
  });

  it('enables a script that chkconfig does not know yet (no --list line)', () => {
    const stdout = output('init\tsysv', 'tool\tservice', 'tool\tchkconfig', line('initscript', 'heartbeat', '/etc/rc.d/init.d/heartbeat'), line('status', 'heartbeat', '0'));
    expect(service({ name: 'heartbeat', enabled: true }).plan(factsFor('el5'), { stdout, exitCode: 0 })).toMatchObject({ script: 'chkconfig heartbeat on' });
  });

  it('counts a service on in any of runlevels 2-5 as enabled with chkconfig', () => {
    const stdout = output(
      'init\tsysv',
      'tool\tservice',
      'tool\tchkconfig',
      line('initscript', 'heartbeat', '/etc/init.d/heartbeat'),
      line('status', 'heartbeat', '0'),
      line('chkconfig', 'heartbeat', 'heartbeat      \t0:off\t1:off\t2:off\t3:on\t4:off\t5:off\t6:off'),
    );
    expect(service({ name: 'heartbeat', enabled: true }).plan(factsFor('el6'), { stdout, exitCode: 0 })).toEqual({ changed: false });
  });

  it('fails clearly when chkconfig is missing on an EL SysV host', () => {
    const stdout = output('init\tsysv', 'tool\tservice', line('initscript', 'heartbeat', '/etc/init.d/heartbeat'), line('status', 'heartbeat', '0'));
    expect(() => service({ name: 'heartbeat', enabled: true }).plan(factsFor('el5'), { stdout, exitCode: 0 })).toThrow(/chkconfig is not installed/);
  });

  it('leaves a static systemd unit alone (it has no [Install] section to enable or disable)', () => {
    const stdout = output('init\tsystemd', line('systemd', 'ipvsadm', 'loaded', 'static', 'inactive'));
    expect(service({ name: 'ipvsadm', enabled: true }).plan(factsFor('el9'), { stdout, exitCode: 0 })).toEqual({ changed: false });
    expect(service({ name: 'ipvsadm', enabled: false }).plan(factsFor('el9'), { stdout, exitCode: 0 })).toEqual({ changed: false });
  });

  it('removes a runtime enablement with --runtime', () => {
    const stdout = output('init\tsystemd', line('systemd', 'keepalived', 'loaded', 'enabled-runtime', 'active'));
    expect(service({ name: 'keepalived', enabled: false }).plan(factsFor('debian12'), { stdout, exitCode: 0 })).toMatchObject({
      script: 'systemctl disable --runtime keepalived',
    });
  });

  it('refuses to enable or start a masked unit, but a masked unit is stopped and disabled already', () => {
    const stdout = output('init\tsystemd', line('systemd', 'heartbeat', 'masked', 'masked', 'inactive'));
    const facts = factsFor('el8');
    expect(() => service(wanted).plan(facts, { stdout, exitCode: 0 })).toThrow('service heartbeat is masked, so it cannot be enabled or started; unmask it first (systemctl unmask heartbeat)');
    expect(service({ name: 'heartbeat', enabled: false, state: 'stopped' }).plan(facts, { stdout, exitCode: 0 })).toEqual({ changed: false });
  });

  it('fails when the probe and the facts disagree about systemd', () => {
    const stdout = fixture(factsFor('debian12', { init: 'sysv' }), { installed: true, enabled: true, running: true });
    expect(() => service(wanted).plan(factsFor('debian12'), { stdout, exitCode: 0 })).toThrow(/facts say the init system is systemd, but the host now does not run systemd/);
  });

  it('fails on a host whose init system is unknown', () => {
    expect(() => service(wanted).plan(factsFor('debian12', { init: 'unknown' }), { stdout: 'init\tsysv\n', exitCode: 0 })).toThrow(/cannot tell the init system/);
  });
});

describe('service: names per platform', () => {
  const op = service({ name: { el: 'httpd', debian: 'apache2' }, state: 'started' });
  it('probes every candidate name and picks the platform name', () => {
    expect(op.probe()).toContain('for provision_name in httpd apache2; do');
    const stdout = output('init\tsystemd', line('systemd', 'httpd', 'loaded', 'enabled', 'inactive'), line('systemd', 'apache2', 'not-found', '', 'inactive'));
    expect(op.plan(factsFor('el9'), { stdout, exitCode: 0 })).toMatchObject({ script: 'systemctl start httpd' });
    expect(() => op.plan(factsFor('ubuntu2204'), { stdout, exitCode: 0 })).toThrow(/^service apache2 is not installed on Ubuntu 22.04.4 LTS \(systemd has no unit apache2\)/);
  });

  it('names the selector to add when a platform has none', () => {
    const elOnly = service({ name: { el5: 'heartbeat' }, state: 'started' });
    expect(() => elOnly.plan(factsFor('el6'), { stdout: 'init\tsysv\n', exitCode: 0 })).toThrow(
      'no service name for CentOS release 6.10 (Final); add name.el6 (or one of name.el, name.default)',
    );
  });

  it('rejects bad input when the operation is built', () => {
    expect(() => service({ name: 'heartbeat' })).toThrow(/nothing to do; give enabled and\/or state/);
    expect(() => service({ name: 'heart beat', state: 'started' })).toThrow(/is not a service name/);
    expect(() => service({ name: { centos: 'x' } as never, state: 'started' })).toThrow(/unknown platform selector "centos"/);
  });
});

describe('service: whether a SysV init daemon runs, from its pid files and /proc (recorded probe outputs)', () => {
  const sysv = factsFor('debian12', { init: 'sysv' });
  const el5 = factsFor('el5');
  const head = (name: string) => ['init\tsysv', 'tool\tservice', line('initscript', name, `/etc/init.d/${name}`), line('start-link', name, `/etc/rc2.d/S01${name}`)];
  const planOn = (facts: Facts, options: ServiceOptions, ...records: string[]) => {
    const name = typeof options.name === 'string' ? options.name : 'heartbeat';
    const lines = facts.os.family === 'el' ? ['init\tsysv', 'tool\tservice', 'tool\tchkconfig', line('initscript', name, `/etc/rc.d/init.d/${name}`)] : head(name);
    return service(options).plan(facts, { stdout: output(...lines, ...records), exitCode: 0 });
  };
  const started: ServiceOptions = { name: 'heartbeat', state: 'started' };

  it('runs when a pid file names a live process of the daemon (the status action is not needed)', () => {
    expect(planOn(sysv, started, line('pidfile', 'heartbeat', '/run/heartbeat.pid', 'daemon', '812'))).toEqual({ changed: false });
    // One of several pid files is enough: a stale one beside it says nothing.
    expect(
      planOn(sysv, started, line('pidfile', 'heartbeat', '/run/heartbeat.pid', 'dead', '77'), line('pidfile', 'heartbeat', '/var/run/heartbeat/heartbeat.pid', 'daemon', '812')),
    ).toEqual({ changed: false });
  });

  it('is stopped when no pid file names it and no process of it exists', () => {
    expect(planOn(sysv, started, line('process', 'heartbeat', 'none'))).toEqual({ changed: true, summary: 'start heartbeat', script: 'service heartbeat start' });
    // A pid file left by a daemon that ended (after a crash) changes nothing: the init scripts see it as stale.
    expect(planOn(sysv, started, line('pidfile', 'heartbeat', '/run/heartbeat.pid', 'dead', '77'), line('process', 'heartbeat', 'none'))).toMatchObject({
      script: 'service heartbeat start',
    });
  });

  it('is stopped when its pid file names a pid that another program has now, and that stale pid file goes before the start', () => {
    // EL's daemon function would take the live pid for the daemon and start nothing (killproc would signal that program).
    const plan = planOn(el5, started, line('pidfile', 'heartbeat', '/var/run/heartbeat.pid', 'other', '4242'), line('process', 'heartbeat', 'none'));
    expect(plan).toEqual({
      changed: true,
      summary: 'remove the stale pid file /var/run/heartbeat.pid (pid 4242 is another program); start heartbeat',
      script: 'rm -f /var/run/heartbeat.pid\nservice heartbeat start',
    });
    // A stopped daemon has nothing to stop, whatever its pid file says.
    const stopped = planOn(el5, { name: 'heartbeat', state: 'stopped' }, line('pidfile', 'heartbeat', '/var/run/heartbeat.pid', 'other', '4242'), line('process', 'heartbeat', 'none'));
    expect(stopped).toEqual({ changed: false });
    // A handler's restart of it starts it the same way.
    const restart = planOn(el5, { name: 'heartbeat', state: 'restarted' }, line('pidfile', 'heartbeat', '/var/run/heartbeat.pid', 'other', '4242'), line('process', 'heartbeat', 'none'));
    expect(restart).toMatchObject({ script: 'rm -f /var/run/heartbeat.pid\nservice heartbeat restart' });
  });

  it('leaves it to the status action when a process of the daemon runs that no pid file names (the init scripts disagree there)', () => {
    const found = [line('pidfile', 'heartbeat', '/run/heartbeat.pid', 'other', '4242'), line('process', 'heartbeat', 'found')];
    expect(planOn(sysv, started, ...found, line('status', 'heartbeat', '0'))).toEqual({ changed: false });
    // The status action said stopped: the stale pid file still goes first.
    expect(planOn(sysv, started, ...found, line('status', 'heartbeat', '3'))).toMatchObject({ script: 'rm -f /run/heartbeat.pid\nservice heartbeat start' });
  });

  it('asks the status action of a service it knows no daemon of, and removes none of its files', () => {
    const lvs = { name: 'lvs', state: 'started' } as const;
    expect(planOn(sysv, lvs, line('status', 'lvs', '0'))).toEqual({ changed: false });
    expect(planOn(sysv, lvs, line('pidfile', 'lvs', '/run/lvs.pid', 'other', '99'), line('status', 'lvs', '3'))).toEqual({
      changed: true,
      summary: 'start lvs',
      script: 'service lvs start',
    });
    // A pid file that names a live process of its name decides for any service.
    expect(planOn(sysv, { name: 'mydaemon', state: 'started' }, line('pidfile', 'mydaemon', '/run/mydaemon.pid', 'daemon', '99'))).toEqual({ changed: false });
  });

  it('reads ldirectord from the pid file of the instance its init script addresses, and from no other', () => {
    const options: ServiceOptions = { name: 'ldirectord', enabled: false, state: 'stopped' };
    const only = line('only-pidfile', 'ldirectord', '/var/run/ldirectord.ldirectord.cf.pid');
    expect(planOn(sysv, options, only, line('pidfile', 'ldirectord', '/var/run/ldirectord.ldirectord.cf.pid', 'daemon', '1200'))).toEqual({
      changed: true,
      summary: 'disable ldirectord; stop ldirectord',
      script: 'update-rc.d ldirectord disable || update-rc.d -f ldirectord remove\nservice ldirectord stop',
    });
    expect(planOn(sysv, options, only)).toMatchObject({ summary: 'disable ldirectord' });
    expect(planOn(sysv, options, only, line('pidfile', 'ldirectord', '/var/run/ldirectord.ldirectord.cf.pid', 'dead', '1200'))).toMatchObject({ summary: 'disable ldirectord' });
    // Another instance's pid file is not this one.
    expect(planOn(sysv, options, only, line('pidfile', 'ldirectord', '/var/run/ldirectord.ldirectord.pid', 'daemon', '1300'))).toMatchObject({ summary: 'disable ldirectord' });
    // The process it names cannot be read (/proc/PID/status): the status action decides.
    const unreadable = line('pidfile', 'ldirectord', '/var/run/ldirectord.ldirectord.cf.pid', 'unknown', '1200');
    expect(planOn(sysv, options, only, unreadable, line('status', 'ldirectord', '0'))).toMatchObject({ summary: 'disable ldirectord; stop ldirectord' });
  });

  it('is a bug, not a guess, when the probe said nothing about it', () => {
    expect(() => planOn(sysv, started)).toThrow('the service probe printed nothing that says whether heartbeat runs');
  });

  it('decides exactly what sysvRunning says', () => {
    const records = (...lines: string[]) => parseRecords(output(...lines));
    expect(sysvRunning(records(line('pidfile', 'keepalived', '/run/keepalived.pid', 'daemon', '5')), 'keepalived')).toEqual({ running: true, decidedBy: '/run/keepalived.pid', recycled: [] });
    expect(sysvRunning(records(line('pidfile', 'keepalived', '/run/keepalived.pid', 'other', '5'), line('process', 'keepalived', 'none')), 'keepalived')).toEqual({
      running: false,
      decidedBy: 'process',
      recycled: [{ path: '/run/keepalived.pid', pid: '5' }],
    });
    expect(sysvRunning(records(line('pidfile', 'x', '/run/x.pid', 'unknown', '5'), line('status', 'x', '4')), 'x')).toEqual({ running: false, decidedBy: 'status', recycled: [] });
    // Records of another service say nothing of this one.
    expect(() => sysvRunning(records(line('process', 'heartbeat', 'none')), 'keepalived')).toThrow(/keepalived/);
  });
});

describe('service: the probe reads what the task needs, the same way for the same service', () => {
  it('reads whether a service runs only for a task with a state or ifRunning', () => {
    const enabledOnly = service({ name: 'ipvsadm', enabled: true }).probe();
    // Debian's ipvsadm status action loads the IPVS module and writes its rules file: not run for a boot setting.
    expect(enabledOnly).not.toContain('status');
    expect(service({ name: 'ipvsadm', enabled: true }).plan(factsFor('debian12', { init: 'sysv' }), { stdout: output(...['init\tsysv', 'tool\tservice', line('initscript', 'ipvsadm', '/etc/init.d/ipvsadm')]), exitCode: 0 })).toMatchObject({
      summary: 'enable ipvsadm',
    });
    expect(service({ name: 'ipvsadm', state: 'started' }).probe()).toContain('provision_running ipvsadm');
    expect(service({ name: 'heartbeat', state: 'restarted', ifRunning: true }).probe()).toContain('provision_running heartbeat');
  });

  it('sends the same probe text for the same names and need, so that the runner can run it once', () => {
    const probe = (options: ServiceOptions) => service(options).probe();
    // The heartbeat role's task and its handler; the ldirectord role's SysV and systemd tasks.
    expect(probe({ name: 'heartbeat', enabled: true, state: 'started' })).toBe(probe({ name: 'heartbeat', state: 'restarted', ifRunning: true }));
    expect(probe({ name: 'ldirectord', enabled: false, state: 'stopped' })).toBe(probe({ name: 'ldirectord', state: 'started' }));
    expect(probe({ name: 'ldirectord', enabled: false })).toBe(probe({ name: 'ldirectord', enabled: true }));
    expect(probe({ name: { el: 'httpd', debian: 'apache2' }, state: 'started' })).toBe(probe({ name: { el: 'httpd', debian: 'apache2' }, state: 'stopped' }));
    expect(probe({ name: 'heartbeat', state: 'started' })).not.toBe(probe({ name: 'keepalived', state: 'started' }));
  });
});
