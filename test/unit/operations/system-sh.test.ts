// The system operations' probes on this real machine (Debian 12, root, no systemd), under dash and
// under busybox sh, parsed by their planners. Nothing here changes the machine: no package, sysctl,
// service or account is touched; the only script that runs writes into a temporary directory.
// EL hosts cannot be run here; their rpm/yum branch runs against stand-in rpm and yum commands.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Operation, Plan } from '../../../src/core/operation.ts';
import { group } from '../../../src/operations/group.ts';
import { packages } from '../../../src/operations/packages.ts';
import { KNOWN_DAEMONS, service } from '../../../src/operations/service.ts';
import { sysctl } from '../../../src/operations/sysctl.ts';
import { user } from '../../../src/operations/user.ts';
import { factsFor } from '../../support/facts.ts';
import { applyWith, busyboxShell, cleanup, dashShell, freshDir, probeWith, type Shell } from './real-shell.ts';

/** This machine: Debian 12 without systemd. */
const facts = factsFor('debian12', { init: 'sysv' });

// busybox has no dpkg-query or apt-cache: a Debian target always has them, so they join the applets.
const shells: Shell[] = [dashShell(), busyboxShell({ hostTools: ['dpkg-query', 'apt-cache'] })];
afterAll(() => cleanup());

/** Probes twice (the runner reruns a probe to detect a changed state, so its output must be stable) and plans. */
function probeAndPlan(shell: Shell, op: Operation, hostFacts = facts): Plan {
  const first = probeWith(shell, op);
  const second = probeWith(shell, op);
  expect(second.stdout).toBe(first.stdout);
  return op.plan(hostFacts, first);
}

const systemPath = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

describe.each(shells)('under $name', (shell) => {
  describe('packages', () => {
    it('plans no change for an installed package (coreutils)', () => {
      expect(probeAndPlan(shell, packages({ names: ['coreutils'] }))).toEqual({ changed: false });
    });

    it('plans the install of a package that is not installed', () => {
      const plan = probeAndPlan(shell, packages({ names: ['coreutils', 'surely-not-a-package-xyz'] }));
      expect(plan).toMatchObject({ changed: true, summary: 'install surely-not-a-package-xyz' });
      if (plan.changed) expect(plan.script).toMatch(/ apt-get -o DPkg::Lock::Timeout=300 install .* surely-not-a-package-xyz( \|\| .*)?$/);
    });

    it('compares installed packages with the candidates apt-cache policy reports, for latest', () => {
      // libc6 qualified with the native architecture, which apt-cache leaves out of its block name.
      const arch = spawnSync('dpkg', ['--print-architecture'], { encoding: 'utf8', env: { PATH: systemPath } }).stdout.trim();
      const names = ['coreutils', 'dash', `libc6:${arch}`];
      const upgrades = names.flatMap((name) => {
        const policy = spawnSync('apt-cache', ['policy', name], { encoding: 'utf8', env: { PATH: systemPath, LC_ALL: 'C' } }).stdout;
        const installed = /Installed: (\S+)/.exec(policy)?.[1];
        const candidate = /Candidate: (\S+)/.exec(policy)?.[1];
        return installed === candidate ? [] : [`${name} (${installed} -> ${candidate})`];
      });
      const plan = probeAndPlan(shell, packages({ names, state: 'latest' }));
      if (upgrades.length === 0) expect(plan).toEqual({ changed: false });
      else expect(plan).toMatchObject({ changed: true, summary: `upgrade ${upgrades.join(', ')}` });
    }, 30_000);

    describe('the rpm branch, with stand-in rpm and yum commands', () => {
      let bin: string;
      let elShell: Shell;
      beforeAll(() => {
        bin = freshDir('fake-rpm');
        // rpm -q [--qf FORMAT] NAME: two packages are installed, any other is not.
        writeFileSync(
          join(bin, 'rpm'),
          [
            '#!/bin/sh',
            'for name; do :; done',
            'case $name in',
            '  heartbeat) echo 2.1.3-3.el5.centos ;;',
            '  a-package-with-a-name-too-long-for-the-column) echo 1.0-1.el5 ;;',
            '  pacemaker) echo 1.0.12-1.el5 ;;',
            '  *) echo "package $name is not installed"; exit 1 ;;',
            'esac',
          ].join('\n') + '\n',
        );
        // yum -q check-update NAMES: the installed names only; a listing with a wrapped line and an
        // "Obsoleting Packages" section (which is no list of updates), and exit status 100.
        writeFileSync(
          join(bin, 'yum'),
          [
            '#!/bin/sh',
            'if [ "$*" != "-q check-update heartbeat a-package-with-a-name-too-long-for-the-column pacemaker" ]; then echo "unexpected arguments: $*"; exit 1; fi',
            "cat <<'EOF'",
            '',
            'heartbeat.x86_64                       2.1.4-11.el5                extras',
            'a-package-with-a-name-too-long-for-the-column.noarch',
            '                                       1.2-3.el5                   epel',
            'Obsoleting Packages',
            'pacemaker.x86_64                       1.1.0-1.el5                 extras',
            '    heartbeat-pils.x86_64              2.1.3-3.el5.centos          installed',
            'EOF',
            'exit 100',
          ].join('\n') + '\n',
        );
        for (const tool of ['rpm', 'yum']) chmodSync(join(bin, tool), 0o755);
        // busybox sh runs its own rpm applet whatever PATH says, so the stand-ins need dash; with the
        // busybox PATH, the probe's awk, head and tr are still busybox's.
        elShell = { name: shell.name, command: dashShell().command, env: { ...shell.env, PATH: `${bin}:${shell.env.PATH ?? ''}` } };
      });
      afterAll(() => rmSync(bin, { recursive: true, force: true }));

      it('installs the missing package and upgrades the outdated ones on EL5', { timeout: 30_000 }, () => {
        const names = ['heartbeat', 'a-package-with-a-name-too-long-for-the-column', 'ldirectord', 'pacemaker'];
        const plan = probeAndPlan(elShell, packages({ names, state: 'latest' }), factsFor('el5'));
        expect(plan).toEqual({
          changed: true,
          summary:
            'install ldirectord; upgrade heartbeat (2.1.3-3.el5.centos -> 2.1.4-11.el5), a-package-with-a-name-too-long-for-the-column (1.0-1.el5 -> 1.2-3.el5)',
          script: [
            'yum -y install ldirectord',
            'rpm -q ldirectord',
            'yum -y update heartbeat a-package-with-a-name-too-long-for-the-column',
          ].join('\n'),
        });
      });
    });
  });

  describe('sysctl', () => {
    const current = () => readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim();

    it('reads the real net.ipv4.ip_forward', () => {
      const value = current();
      expect(probeAndPlan(shell, sysctl({ name: 'net.ipv4.ip_forward', value, persist: false }))).toEqual({ changed: false });
      const other = value === '1' ? '0' : '1';
      expect(probeAndPlan(shell, sysctl({ name: 'net.ipv4.ip_forward', value: other, persist: false }))).toMatchObject({
        changed: true,
        summary: `set net.ipv4.ip_forward = ${other} (now ${value})`,
      });
    });

    it('reads a multi-value parameter with its TABs', () => {
      const raw = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8');
      expect(raw).toContain('\t');
      const value = raw.trim().split(/\s+/).join('   ');
      expect(probeAndPlan(shell, sysctl({ name: 'net.ipv4.ip_local_port_range', value, persist: false }))).toEqual({ changed: false });
    });

    it('fails clearly for a parameter this kernel does not have', () => {
      const op = sysctl({ name: 'net.ipv4.surely_not_a_parameter', value: '1', persist: false });
      expect(() => probeAndPlan(shell, op)).toThrow(/has no such parameter/);
    });

    it('persists into a file of a temporary directory, then reports no change', () => {
      const dir = freshDir('sysctl');
      try {
        const file = join(dir, '90-provision.conf');
        writeFileSync(file, '# managed elsewhere\r\nkernel.sysrq = 0');
        const op = sysctl({ name: 'net.ipv4.ip_forward', value: current(), file });
        const plan = probeAndPlan(shell, op);
        if (!plan.changed) throw new Error('expected the file to be written');
        // Only the temporary file may change here; /etc/sysctl.conf would be a finding about this machine.
        expect(plan.diff?.map((d) => d.path)).toEqual([file]);
        expect(plan.script).not.toContain('sysctl -w');
        const result = applyWith(shell, plan.script);
        expect(result.status, result.stderr).toBe(0);
        expect(readFileSync(file, 'utf8')).toBe(`# managed elsewhere\r\nkernel.sysrq = 0\nnet.ipv4.ip_forward = ${current()}\n`);
        expect(probeAndPlan(shell, op)).toEqual({ changed: false });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe('user and group', () => {
    it('plans no change for root with uid and gid 0', () => {
      expect(probeAndPlan(shell, group({ name: 'root', gid: 0 }))).toEqual({ changed: false });
      expect(probeAndPlan(shell, user({ name: 'root', uid: 0, group: 'root', home: '/root' }))).toEqual({ changed: false });
      expect(probeAndPlan(shell, user({ name: 'root', group: '0' }))).toEqual({ changed: false });
    });

    it('plans the changes a different root would need', () => {
      expect(probeAndPlan(shell, group({ name: 'root', gid: 12345 }))).toMatchObject({ script: 'groupmod -g 12345 root' });
      expect(probeAndPlan(shell, user({ name: 'root', uid: 12345 }))).toMatchObject({ script: 'usermod -u 12345 root' });
    });

    it('plans to create an account that does not exist', () => {
      expect(probeAndPlan(shell, group({ name: 'surely-not-a-group-xyz' }))).toMatchObject({ script: 'groupadd surely-not-a-group-xyz' });
      expect(probeAndPlan(shell, user({ name: 'surely-not-a-user-xyz', system: true }))).toMatchObject({ script: 'useradd -r -M surely-not-a-user-xyz' });
    });

    it('prints the same records with getent as with the /etc files it falls back to', () => {
      // busybox has no getent; dash runs with the host's.
      for (const op of [user({ name: 'root' }), group({ name: 'root' }), user({ name: 'daemon' }), group({ name: 'surely-not-a-group-xyz' })]) {
        expect(probeWith(shell, op).stdout).toBe(probeWith(dashShell(), op).stdout);
      }
    });
  });

  describe('service', () => {
    // The init scripts of this machine and what they say, read without the probe: an S link in
    // /etc/rc[2-5S].d means enabled, "status" exiting 0 means running; but a daemon the probe knows
    // (KNOWN_DAEMONS) runs when a process of its names runs, as the probe tells from /proc without
    // its script (Debian 12's keepalived script has no status action, and exits 0 for any action
    // while there is no keepalived.conf).
    const scripts = existsSync('/etc/init.d')
      ? readdirSync('/etc/init.d').filter((name) => /^[a-z0-9][a-z0-9.-]*$/.test(name) && !name.includes('dpkg-') && name !== 'README')
      : [];
    const startLinks = ['/etc/rc2.d', '/etc/rc3.d', '/etc/rc4.d', '/etc/rc5.d', '/etc/rcS.d'].flatMap((dir) => (existsSync(dir) ? readdirSync(dir) : []));

    it.skipIf(scripts.length === 0)('sees the enabled and running state of the real init scripts', () => {
      for (const name of scripts.slice(0, 4)) {
        const enabled = startLinks.some((link) => new RegExp(`^S\\d\\d${name.replace(/\./g, '\\.')}$`).test(link));
        // The init script sees the probe's PATH (service passes it on), so it answers under the same one.
        const path = `${shell.env.PATH ?? ''}:/usr/local/sbin:/usr/sbin:/sbin`;
        const processes = KNOWN_DAEMONS[name];
        const running =
          processes === undefined
            ? spawnSync(`/etc/init.d/${name}`, ['status'], { env: { PATH: path, LC_ALL: 'C' }, stdio: 'ignore' }).status === 0
            : spawnSync('pidof', processes, { env: { PATH: systemPath }, stdio: 'ignore' }).status === 0;
        const plan = probeAndPlan(shell, service({ name, enabled: true, state: 'started' }));
        const steps = [...(enabled ? [] : [`enable ${name}`]), ...(running ? [] : [`start ${name}`])];
        expect(plan, name).toEqual(steps.length === 0 ? { changed: false } : expect.objectContaining({ summary: steps.join('; ') }));
      }
    });

    // A throwaway init script with no status action, as Debian 12's keepalived has, and a process
    // that holds its pid file (root only: it goes in /etc/init.d and /run for the test's duration).
    it.skipIf(process.getuid?.() !== 0 || !existsSync('/etc/init.d'))('tells by the pid file whether a service whose script has no status action runs', () => {
      const name = `provision-nostatus-${process.pid}`;
      const script = `/etc/init.d/${name}`;
      const pidFile = `/run/${name}.pid`;
      writeFileSync(script, '#!/bin/sh\ncase "$1" in start|stop) exit 0 ;; *) echo "Usage: $0 {start|stop}" >&2; exit 1 ;; esac\n');
      chmodSync(script, 0o755);
      const daemon = spawnSync('sh', ['-c', 'sleep 60 >/dev/null 2>&1 & echo $!'], { encoding: 'utf8' }).stdout.trim();
      try {
        writeFileSync(pidFile, `${daemon}\n`);
        const op = service({ name, state: 'started' });
        expect(probeAndPlan(shell, op)).toEqual({ changed: false });
        // No pid file (and no process of that name): stopped.
        rmSync(pidFile);
        expect(probeAndPlan(shell, op)).toMatchObject({ changed: true, summary: `start ${name}` });
      } finally {
        try {
          process.kill(Number(daemon), 'SIGKILL');
        } catch {
          // killed already
        }
        rmSync(script, { force: true });
        rmSync(pidFile, { force: true });
      }
    });

    it('fails clearly for a service without an init script', () => {
      const op = service({ name: 'surely-not-a-service-xyz', state: 'started' });
      expect(() => probeAndPlan(shell, op)).toThrow(
        'service surely-not-a-service-xyz is not installed on Debian GNU/Linux 12 (bookworm) (no init script /etc/init.d/surely-not-a-service-xyz); install its package first, e.g. with a packages task before this one',
      );
    });

    it('agrees with the facts that this machine does not run systemd', () => {
      expect(existsSync('/run/systemd/system')).toBe(false);
      const op = service({ name: 'surely-not-a-service-xyz', state: 'started' });
      expect(() => op.plan(factsFor('debian12'), probeWith(shell, op))).toThrow(/the host now does not run systemd/);
    });
  });
});

describe('the machine is left as it was', () => {
  it('has created no account', () => {
    const passwd = readFileSync('/etc/passwd', 'utf8');
    expect(passwd).not.toContain('surely-not-a-user-xyz');
    expect(readFileSync('/etc/group', 'utf8')).not.toContain('surely-not-a-group-xyz');
  });
});
