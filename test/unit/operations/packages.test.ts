// packages: probe output fixtures of each package database -> the exact commands for every platform.
import { describe, expect, it } from 'vitest';
import { OperationError, type Plan } from '../../../src/core/operation.ts';
import { packages } from '../../../src/operations/packages.ts';
import { factsFor, platforms, type Platform } from '../../support/facts.ts';

const line = (...fields: string[]) => fields.join('\t');
const output = (...lines: string[]) => lines.join('\n') + '\n';

/** What the probe prints on a host of each family: the database its package manager uses. */
function installedFixture(platform: Platform, installed: Record<string, string>, extra: { dpkg?: string[]; rpm?: string[] } = {}): string {
  if (factsFor(platform).packageManager === 'apt') {
    return output('database\tdpkg', ...Object.entries(installed).map(([name, version]) => line('dpkg', name, 'install ok installed', version)), ...(extra.dpkg ?? []));
  }
  return output('database\trpm', ...Object.entries(installed).map(([name, version]) => line('rpm', name, version)), ...(extra.rpm ?? []));
}

// Every apt-get waits up to 5 minutes for dpkg's lock.
const aptGet = 'DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300';
const aptInstall = `${aptGet} install -y -q -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold`;
/** Without updateCache, an install that finds no candidate refreshes the lists once and retries. */
const aptInstallRetry = (names: string) => `${aptInstall} ${names} || { ${aptGet} update -q && ${aptInstall} ${names}; }`;

function planOn(platform: Platform, op: ReturnType<typeof packages>, stdout: string): Plan {
  return op.plan(factsFor(platform), { stdout, exitCode: 0 });
}

function scriptLines(plan: Plan): string[] {
  if (!plan.changed) throw new Error('expected a change, got none');
  return plan.script.split('\n');
}

describe('packages: present', () => {
  const names = ['heartbeat', 'ldirectord', 'ipvsadm'];
  const op = packages({ names });

  // heartbeat and ipvsadm are there, ldirectord is missing: only ldirectord is installed.
  const partial: Record<Platform, string[]> = {
    el5: ['yum -y install ldirectord', 'rpm -q ldirectord'],
    el6: ['yum -y install ldirectord', 'rpm -q ldirectord'],
    el7: ['yum -y install ldirectord', 'rpm -q ldirectord'],
    el8: ['dnf -y install ldirectord'],
    el9: ['dnf -y install ldirectord'],
    debian11: [aptInstallRetry('ldirectord')],
    debian12: [aptInstallRetry('ldirectord')],
    ubuntu2204: [aptInstallRetry('ldirectord')],
    ubuntu2404: [aptInstallRetry('ldirectord')],
  };
  it.each(platforms)('installs only the missing package on %s', (platform) => {
    const plan = planOn(platform, op, installedFixture(platform, { heartbeat: '3.0.6-13', ipvsadm: '1.31-1' }));
    expect(plan).toMatchObject({ changed: true, summary: 'install ldirectord' });
    expect(scriptLines(plan)).toEqual(partial[platform]);
  });

  it.each(platforms)('reports no change on %s when every package is installed', (platform) => {
    const plan = planOn(platform, op, installedFixture(platform, { heartbeat: '3.0.6-13', ldirectord: '4.12.0-2', ipvsadm: '1.31-1' }));
    expect(plan).toEqual({ changed: false });
  });

  const withCacheUpdate: Record<Platform, string[]> = {
    el5: ['yum -q makecache', 'yum -y install heartbeat ldirectord ipvsadm', 'rpm -q heartbeat ldirectord ipvsadm'],
    el6: ['yum -q makecache', 'yum -y install heartbeat ldirectord ipvsadm', 'rpm -q heartbeat ldirectord ipvsadm'],
    el7: ['yum -q makecache', 'yum -y install heartbeat ldirectord ipvsadm', 'rpm -q heartbeat ldirectord ipvsadm'],
    el8: ['dnf -q makecache', 'dnf -y install heartbeat ldirectord ipvsadm'],
    el9: ['dnf -q makecache', 'dnf -y install heartbeat ldirectord ipvsadm'],
    debian11: [`${aptGet} update -q`, `${aptInstall} heartbeat ldirectord ipvsadm`],
    debian12: [`${aptGet} update -q`, `${aptInstall} heartbeat ldirectord ipvsadm`],
    ubuntu2204: [`${aptGet} update -q`, `${aptInstall} heartbeat ldirectord ipvsadm`],
    ubuntu2404: [`${aptGet} update -q`, `${aptInstall} heartbeat ldirectord ipvsadm`],
  };
  it.each(platforms)('refreshes the package lists first on %s when asked', (platform) => {
    const plan = planOn(platform, packages({ names, updateCache: true }), installedFixture(platform, {}));
    expect(scriptLines(plan)).toEqual(withCacheUpdate[platform]);
  });

  it('does not refresh the package lists when nothing is to be installed', () => {
    const plan = planOn('debian12', packages({ names: ['ipvsadm'], updateCache: true }), installedFixture('debian12', { ipvsadm: '1.31-1' }));
    expect(plan).toEqual({ changed: false });
  });

  it('counts only dpkg packages whose status is installed (held ones too), not removed ones with their configuration left', () => {
    const stdout = output(
      'database\tdpkg',
      line('dpkg', 'heartbeat', 'deinstall ok config-files', '1:3.0.6-13'),
      line('dpkg', 'ldirectord', 'install ok half-installed', '1:4.12.0-2'),
      line('dpkg', 'ipvsadm', 'hold ok installed', '1:1.31-1'),
    );
    const plan = planOn('debian12', op, stdout);
    expect(plan).toMatchObject({ changed: true, summary: 'install heartbeat, ldirectord' });
    expect(scriptLines(plan)).toEqual([aptInstallRetry('heartbeat ldirectord')]);
  });

  it('reads the database of the package manager the facts name, not another one the host also has', () => {
    // A Debian host with the rpm tool installed: its (empty) rpm database says nothing about apt's packages.
    const stdout = output('database\tdpkg', line('dpkg', 'ipvsadm', 'install ok installed', '1:1.31-1'), 'database\trpm');
    expect(planOn('debian12', packages({ names: ['ipvsadm'] }), stdout)).toEqual({ changed: false });
    const elStdout = output('database\tdpkg', line('dpkg', 'ipvsadm', 'install ok installed', '1:1.31-1'), 'database\trpm');
    expect(scriptLines(planOn('el9', packages({ names: ['ipvsadm'] }), elStdout))).toEqual(['dnf -y install ipvsadm']);
  });

  it('fails clearly when the database tool of the package manager is missing', () => {
    expect(() => planOn('el8', op, output('database\tdpkg'))).toThrow(OperationError);
    expect(() => planOn('el8', op, output('database\tdpkg'))).toThrow(/the facts name dnf as package manager, but rpm was not found/);
  });

  it('fails clearly on a host without a supported package manager', () => {
    const facts = factsFor('debian12', { packageManager: 'unknown' });
    expect(() => op.plan(facts, { stdout: '', exitCode: 0 })).toThrow(/no supported package manager on Debian GNU\/Linux 12 \(bookworm\); packages needs apt, yum or dnf/);
  });
});

describe('packages: names per platform', () => {
  // The tutorials' arptables: arptables_jf on CentOS 5, arptables elsewhere; nothing on Ubuntu 24.04.
  const op = packages({ names: { el5: ['arptables_jf'], el: ['arptables'], debian: ['arptables'], ubuntu2404: [] } });
  const expected: Record<Platform, string[] | 'no change'> = {
    el5: ['yum -y install arptables_jf', 'rpm -q arptables_jf'],
    el6: ['yum -y install arptables', 'rpm -q arptables'],
    el7: ['yum -y install arptables', 'rpm -q arptables'],
    el8: ['dnf -y install arptables'],
    el9: ['dnf -y install arptables'],
    debian11: [aptInstallRetry('arptables')],
    debian12: [aptInstallRetry('arptables')],
    ubuntu2204: [aptInstallRetry('arptables')],
    ubuntu2404: 'no change',
  };
  it.each(platforms)('picks the most specific selector on %s', (platform) => {
    const plan = planOn(platform, op, installedFixture(platform, {}));
    const want = expected[platform];
    if (want === 'no change') expect(plan).toMatchObject({ changed: false, note: 'no packages to manage on Ubuntu 24.04.1 LTS' });
    else expect(scriptLines(plan)).toEqual(want);
  });

  it('asks every candidate name in the probe, since the probe runs before the facts are known', () => {
    const probe = op.probe();
    expect(probe).toContain('for provision_name in arptables_jf arptables; do');
  });

  it('names the platform and the selector to add when a platform has no mapping', () => {
    const elOnly = packages({ names: { el5: ['arptables_jf'], el: ['arptables'] } });
    const plan = () => planOn('debian12', elOnly, installedFixture('debian12', {}));
    expect(plan).toThrow(OperationError);
    expect(plan).toThrow('no package name for Debian GNU/Linux 12 (bookworm); add names.debian12 (or one of names.debian, names.default)');
    expect(() => planOn('ubuntu2204', elOnly, installedFixture('ubuntu2204', {}))).toThrow(
      'no package name for Ubuntu 22.04.4 LTS; add names.ubuntu2204 (or one of names.ubuntu, names.debian, names.default)',
    );
  });

  it('uses default when no other selector matches', () => {
    const withDefault = packages({ names: { el5: ['arptables_jf'], default: ['arptables'] } });
    expect(scriptLines(planOn('el7', withDefault, installedFixture('el7', {})))).toEqual(['yum -y install arptables', 'rpm -q arptables']);
  });

  it('rejects an unknown selector and a name that is no package name when the operation is built', () => {
    expect(() => packages({ names: { el10: ['x'] } as never })).toThrow(/unknown platform selector "el10"/);
    expect(() => packages({ names: ['heartbeat; rm -rf /'] })).toThrow(/is not a package name/);
    expect(() => packages({ names: ['-y'] })).toThrow(/is not a package name/);
  });
});

describe('packages: latest', () => {
  const op = packages({ names: ['heartbeat', 'ldirectord'], state: 'latest' });

  /** heartbeat installed with an update available, ldirectord missing. */
  function withUpdate(platform: Platform): string {
    return installedFixture(
      platform,
      { heartbeat: '3.0.6-13' },
      {
        dpkg: [line('apt-policy', 'heartbeat', '3.0.6-13', '3.0.6-14'), line('apt-policy', 'ldirectord', '(none)', '1:4.12.0-2')],
        rpm: ['check-update\tyum\t100', line('update', 'heartbeat.x86_64', '3.0.6-14')],
      },
    );
  }
  const expected: Record<Platform, string[]> = {
    el5: ['yum -y install ldirectord', 'rpm -q ldirectord', 'yum -y update heartbeat'],
    el6: ['yum -y install ldirectord', 'rpm -q ldirectord', 'yum -y update heartbeat'],
    el7: ['yum -y install ldirectord', 'rpm -q ldirectord', 'yum -y update heartbeat'],
    el8: ['dnf -y install ldirectord', 'dnf -y upgrade heartbeat'],
    el9: ['dnf -y install ldirectord', 'dnf -y upgrade heartbeat'],
    debian11: [aptInstallRetry('ldirectord heartbeat')],
    debian12: [aptInstallRetry('ldirectord heartbeat')],
    ubuntu2204: [aptInstallRetry('ldirectord heartbeat')],
    ubuntu2404: [aptInstallRetry('ldirectord heartbeat')],
  };
  it.each(platforms)('installs the missing and upgrades the outdated package on %s', (platform) => {
    const plan = planOn(platform, op, withUpdate(platform));
    expect(plan).toMatchObject({ changed: true, summary: 'install ldirectord; upgrade heartbeat (3.0.6-13 -> 3.0.6-14)' });
    expect(scriptLines(plan)).toEqual(expected[platform]);
  });

  it.each(platforms)('reports no change on %s when the installed packages are the newest', (platform) => {
    const stdout = installedFixture(
      platform,
      { heartbeat: '3.0.6-13', ldirectord: '4.12.0-2' },
      {
        dpkg: [line('apt-policy', 'heartbeat', '3.0.6-13', '3.0.6-13'), line('apt-policy', 'ldirectord', '4.12.0-2', '4.12.0-2')],
        rpm: ['check-update\tdnf\t0'],
      },
    );
    expect(planOn(platform, op, stdout)).toEqual({ changed: false });
  });

  it('does not upgrade a package installed from no repository (apt candidate "(none)")', () => {
    const stdout = installedFixture('debian12', { heartbeat: '3.0.6-13', ldirectord: '1' }, {
      dpkg: [line('apt-policy', 'heartbeat', '3.0.6-13', '(none)'), line('apt-policy', 'ldirectord', '1', '1')],
    });
    expect(planOn('debian12', op, stdout)).toEqual({ changed: false });
  });

  it('matches yum update lines by name or name.arch, not by a longer name sharing the prefix', () => {
    const stdout = installedFixture('el7', { python: '2.7.5-89', 'glibc.i686': '2.17-317' }, {
      rpm: ['check-update\tyum\t100', line('update', 'python.x86_64', '2.7.5-90'), line('update', 'python3.11.x86_64', '3.11.2-1'), line('update', 'glibc.i686', '2.17-326')],
    });
    const plan = planOn('el7', packages({ names: ['python', 'glibc.i686', 'python3'], state: 'latest' }), stdout);
    expect(scriptLines(plan)).toEqual(['yum -y install python3', 'rpm -q python3', 'yum -y update python glibc.i686']);
  });

  it('finds the apt-cache block of an architecture-qualified name of the native architecture', () => {
    const stdout = installedFixture('debian12', { 'libc6:amd64': '2.36-9' }, { dpkg: [line('apt-policy', 'libc6', '2.36-9', '2.36-9+deb12u1')] });
    expect(planOn('debian12', packages({ names: ['libc6:amd64'], state: 'latest' }), stdout)).toMatchObject({
      summary: 'upgrade libc6:amd64 (2.36-9 -> 2.36-9+deb12u1)',
      script: aptInstallRetry('libc6:amd64'),
    });
  });

  it('fails with the output of a failing check-update', () => {
    const stdout = installedFixture('el9', { heartbeat: '3.0.6-13' }, {
      rpm: ['check-update\tdnf\t1', 'check-update-error\tError: Failed to download metadata for repo baseos'],
    });
    expect(() => planOn('el9', op, stdout)).toThrow(
      'dnf check-update failed (exit 1) on the host: Error: Failed to download metadata for repo baseos; check its repositories',
    );
  });

  it('checks for updates only when state is latest (check-update needs the repositories)', () => {
    expect(op.probe()).toContain('check-update');
    expect(op.probe()).toContain('apt-cache policy');
    expect(packages({ names: ['heartbeat'] }).probe()).not.toContain('check-update');
    expect(packages({ names: ['heartbeat'] }).probe()).not.toContain('apt-cache');
  });
});

describe('packages: absent', () => {
  const op = packages({ names: ['heartbeat', 'ldirectord'], state: 'absent' });
  const expected: Record<Platform, string[]> = {
    el5: ['yum -y remove heartbeat'],
    el6: ['yum -y remove heartbeat'],
    el7: ['yum -y remove heartbeat'],
    el8: ['dnf -y remove heartbeat'],
    el9: ['dnf -y remove heartbeat'],
    debian11: [`${aptGet} remove -y -q heartbeat`],
    debian12: [`${aptGet} remove -y -q heartbeat`],
    ubuntu2204: [`${aptGet} remove -y -q heartbeat`],
    ubuntu2404: [`${aptGet} remove -y -q heartbeat`],
  };
  it.each(platforms)('removes only the installed package on %s', (platform) => {
    const plan = planOn(platform, op, installedFixture(platform, { heartbeat: '3.0.6-13' }));
    expect(plan).toMatchObject({ changed: true, summary: 'remove heartbeat (3.0.6-13)' });
    expect(scriptLines(plan)).toEqual(expected[platform]);
  });

  it.each(platforms)('reports no change on %s when none is installed', (platform) => {
    expect(planOn(platform, op, installedFixture(platform, {}))).toEqual({ changed: false });
  });
});
