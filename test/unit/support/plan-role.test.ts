// The plan harness for roles: freshProbe prints each operation's probe format exactly (checked
// against the real probes run by real shells where this machine can play the host, and against the
// operations' own planners everywhere else), and planRole plans a role the way the runner does.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import type { Facts } from '../../../src/core/facts.ts';
import type { Operation, Plan } from '../../../src/core/operation.ts';
import { quote } from '../../../src/core/shell.ts';
import { defineRole, ops } from '../../../src/index.ts';
import { factsFor, platforms, type Platform } from '../../support/facts.ts';
import { freshHostname, freshProbe, stockState, unquoteWord, type HostState } from '../../support/fresh-host.ts';
import { planRole } from '../../support/plan-role.ts';
import { cleanup, freshDir, probeWith, shells } from '../operations/real-shell.ts';

const plan = (op: Operation, facts: Facts, state?: HostState): Plan => op.plan(facts, freshProbe(op, facts, state));
const scriptOf = (p: Plan): string => (p.changed ? p.script : '(no change)');

describe('freshProbe prints what the real probe prints for the same state', () => {
  afterAll(cleanup);

  /** The state of real paths as a HostState, with their real owners and modes. */
  function stateOf(paths: string[]): HostState {
    const state: Required<Pick<HostState, 'files' | 'directories' | 'users' | 'groups'>> = { files: {}, directories: {}, users: {}, groups: {} };
    for (const p of paths) {
      const stat = statSync(p);
      const [owner = '', group = ''] = execFileSync('stat', ['-c', '%U %G', p], { encoding: 'utf8' }).trim().split(' ');
      const attributes = { mode: (stat.mode & 0o7777).toString(8), owner, group };
      if (owner !== 'root') state.users[owner] = { uid: stat.uid, gid: stat.gid };
      if (group !== 'root') state.groups[group] = { gid: stat.gid };
      if (stat.isDirectory()) state.directories[p] = attributes;
      else state.files[p] = { ...attributes, content: readFileSync(p, 'utf8') };
    }
    return state;
  }

  for (const shell of shells()) {
    describe(shell.name, () => {
      it('for files: absent, with any content, without a final newline, and directories', () => {
        const dir = freshDir('plan-harness');
        const files = { plain: 'a\nb\n', 'no-final-newline': 'x', hostile: `quotes ' " $HOME \\ %s\n<<provision:end>>\n\n`, empty: '' };
        for (const [name, content] of Object.entries(files)) writeFileSync(path.join(dir, name), content, { mode: 0o640 });
        mkdirSync(path.join(dir, 'sub'), { mode: 0o750 });
        const state = stateOf([...Object.keys(files), 'sub'].map((name) => path.join(dir, name)));
        const paths = [...Object.keys(files), 'sub', 'missing'].map((name) => path.join(dir, name));
        for (const p of paths) {
          for (const op of [ops.file({ path: p, content: '' }), ops.line({ path: p, line: 'x' }), ops.directory({ path: p }), ops.absent({ path: p })]) {
            expect(freshProbe(op, factsFor('debian12'), state), `${op.kind} ${p}`).toEqual(probeWith(shell, op));
          }
        }
      });

      it('for command guards and source builds', () => {
        const dir = freshDir('plan-harness');
        const there = path.join(dir, "it's there");
        writeFileSync(there, '');
        const missing = path.join(dir, 'missing');
        const state = stateOf([there]);
        const commands = [
          ops.command({ run: 'true', creates: there, removes: missing, unless: 'false', onlyIf: 'false' }),
          ops.command({ run: 'true', removes: there, creates: missing }),
          ops.command({ run: 'true', onlyIf: 'exit 1 # a comment' }),
        ];
        const builds = [there, missing].map((creates) =>
          ops.sourceBuild({ name: 'x-1', url: 'http://127.0.0.1/x-1.tar.gz', sha256: '0'.repeat(64), creates }),
        );
        for (const op of [...commands, ...builds]) expect(freshProbe(op, factsFor('el7'), state)).toEqual(probeWith(shell, op));
      });

      it('for the files a sysctl reads and its runtime value', () => {
        const dir = freshDir('plan-harness');
        const dropIn = path.join(dir, 'sysctl.conf');
        writeFileSync(dropIn, 'net.ipv4.ip_forward = 1\n');
        const op = ops.sysctl({ name: 'net.ipv4.ip_forward', value: '1', file: dropIn });
        let runtime: string;
        try {
          runtime = readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim();
        } catch {
          return; // no /proc/sys here: nothing real to compare with
        }
        // The probe also reads this machine's /etc/sysctl.conf (read only), or finds it absent.
        const etc = (() => {
          try {
            return stateOf(['/etc/sysctl.conf']);
          } catch {
            return { files: { '/etc/sysctl.conf': null } };
          }
        })();
        const state: HostState = {
          ...etc,
          files: { ...etc.files, ...stateOf([dropIn]).files },
          users: { ...etc.users },
          sysctls: { 'net.ipv4.ip_forward': runtime },
        };
        expect(freshProbe(op, factsFor('el7'), state)).toEqual(probeWith(shell, op));
      });
    });
  }
});

describe('freshProbe against the operations planners', () => {
  const apply = (facts: Facts, op: Operation, state?: HostState) => scriptOf(plan(op, facts, state));

  describe('services are installed, stopped and disabled', () => {
    const heartbeat = ops.service({ name: 'heartbeat', enabled: true, state: 'started' });
    const expected: Record<Platform, string> = {
      el5: 'chkconfig heartbeat on\nservice heartbeat start',
      el6: 'chkconfig heartbeat on\nservice heartbeat start',
      el7: 'systemctl enable heartbeat\nsystemctl start heartbeat',
      el8: 'systemctl enable heartbeat\nsystemctl start heartbeat',
      el9: 'systemctl enable heartbeat\nsystemctl start heartbeat',
      debian11: 'systemctl enable heartbeat\nsystemctl start heartbeat',
      debian12: 'systemctl enable heartbeat\nsystemctl start heartbeat',
      ubuntu2204: 'systemctl enable heartbeat\nsystemctl start heartbeat',
      ubuntu2404: 'systemctl enable heartbeat\nsystemctl start heartbeat',
    };
    it.each(platforms)('%s: enabling and starting changes both', (platform) => {
      expect(apply(factsFor(platform), heartbeat)).toBe(expected[platform]);
    });
    it('Debian without systemd: update-rc.d', () => {
      expect(apply(factsFor('debian12', { init: 'sysv' }), heartbeat)).toBe(
        'update-rc.d heartbeat defaults\nupdate-rc.d heartbeat enable\nservice heartbeat start',
      );
    });
    const variants: Array<[string, Facts]> = [...platforms.map((p): [string, Facts] => [p, factsFor(p)]), ['debian12 sysv', factsFor('debian12', { init: 'sysv' })]];
    it.each(variants)('%s: disabled and stopped already; the state can say enabled and running, or not installed', (_, facts) => {
      expect(plan(ops.service({ name: 'heartbeat', enabled: false, state: 'stopped' }), facts).changed).toBe(false);
      expect(plan(heartbeat, facts, { services: { heartbeat: { enabled: true, running: true } } }).changed).toBe(false);
      expect(apply(facts, heartbeat, { services: { heartbeat: { enabled: true } } })).toMatch(/^(systemctl|service) (heartbeat )?start( heartbeat)?$/);
      expect(() => plan(heartbeat, facts, { services: { heartbeat: { installed: false } } })).toThrow(/service heartbeat is not installed/);
    });
    it('the per-platform name the planner picks is in the probe output', () => {
      const web = ops.service({ name: { el: 'httpd', debian: 'apache2' }, state: 'started' });
      expect(apply(factsFor('el5'), web)).toBe('service httpd start');
      expect(apply(factsFor('debian12'), web)).toBe('systemctl start apache2');
    });
  });

  describe('packages are not installed unless the state lists them', () => {
    const names = ops.packages({ names: { el5: ['heartbeat', 'arptables_jf'], default: ['heartbeat', 'arptables'] } });
    it.each(platforms)('%s', (platform) => {
      const facts = factsFor(platform);
      const manager = facts.packageManager;
      const install =
        manager === 'apt'
          ? 'DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -q -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold heartbeat arptables || { DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 update -q && DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -q -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold heartbeat arptables; }'
          : `${manager} -y install heartbeat ${platform === 'el5' ? 'arptables_jf' : 'arptables'}`;
      expect(apply(facts, names).split('\n')[0]).toBe(install);
      const installed = { heartbeat: '3.0.6-1', arptables: '0.0.5-1', arptables_jf: '0.0.8-8' };
      expect(plan(names, facts, { packages: installed }).changed).toBe(false);
      // 'latest' plans need the update check records: no upgrade when the state's version is the newest.
      expect(plan(ops.packages({ names: ['heartbeat'], state: 'latest' }), facts, { packages: installed }).changed).toBe(false);
      expect(apply(facts, ops.packages({ names: ['heartbeat'], state: 'absent' }), { packages: installed })).toMatch(/remove/);
    });
  });

  describe('kernel parameters are at their boot value', () => {
    const forward = ops.sysctl({ name: 'net.ipv4.ip_forward', value: '1' });
    it('EL5: 0 from the stock /etc/sysctl.conf, which gets the new value', () => {
      const p = plan(forward, factsFor('el5'));
      expect(p.changed && p.summary).toBe('set net.ipv4.ip_forward = 1 (now 0); persist net.ipv4.ip_forward = 1 in /etc/sysctl.conf');
      expect(p.changed && p.diff).toEqual([{ path: '/etc/sysctl.conf', edits: [{ line: 7, before: 'net.ipv4.ip_forward = 0', after: 'net.ipv4.ip_forward = 1' }] }]);
    });
    it('EL9: 0, persisted in the drop-in file', () => {
      const p = plan(forward, factsFor('el9'));
      expect(p.changed && p.summary).toBe('set net.ipv4.ip_forward = 1 (now 0); persist net.ipv4.ip_forward = 1 in /etc/sysctl.d/90-provision.conf');
    });
    it('a value the stock file sets is the runtime value', () => {
      expect(plan(ops.sysctl({ name: 'net.ipv4.conf.default.rp_filter', value: '1' }), factsFor('el6')).changed).toBe(false);
    });
    it('the state sets runtime values, or removes a parameter', () => {
      const p = plan(forward, factsFor('debian12'), { sysctls: { 'net.ipv4.ip_forward': '1' } });
      expect(p.changed && p.summary).toBe('persist net.ipv4.ip_forward = 1 in /etc/sysctl.d/90-provision.conf');
      expect(() => plan(ops.sysctl({ name: 'net.ipv4.vs.expire_nodest_conn', value: '1' }), factsFor('el7'), { sysctls: { 'net.ipv4.vs.expire_nodest_conn': null } })).toThrow(
        /has no such parameter/,
      );
    });
  });

  describe('accounts: root only, unless the state lists more', () => {
    const facts = factsFor('el7');
    it('users', () => {
      expect(apply(facts, ops.user({ name: 'hacluster', group: 'haclient', system: true }))).toBe('useradd -r -g haclient -M hacluster');
      expect(plan(ops.user({ name: 'root', uid: 0, group: 'root', home: '/root' }), facts).changed).toBe(false);
      const state: HostState = { users: { hacluster: { uid: 496, group: 'haclient', gid: 490, groups: ['adm'], shell: '/sbin/nologin' } } };
      expect(plan(ops.user({ name: 'hacluster', uid: 496, group: 'haclient', groups: ['adm'], shell: '/sbin/nologin' }), facts, state).changed).toBe(false);
      expect(apply(facts, ops.user({ name: 'hacluster', groups: ['wheel'] }), state)).toBe("usermod -G wheel hacluster");
    });
    it('groups', () => {
      expect(apply(facts, ops.group({ name: 'haclient', gid: 490 }))).toBe('groupadd -g 490 haclient');
      expect(plan(ops.group({ name: 'root', gid: 0 }), facts).changed).toBe(false);
      expect(apply(facts, ops.group({ name: 'haclient', gid: 491 }), { groups: { haclient: { gid: 490 } } })).toBe('groupmod -g 491 haclient');
    });
  });

  describe('command guards do not hold', () => {
    const facts = factsFor('el8');
    it('creates and removes follow the files of the state; unless and onlyIf checks fail', () => {
      expect(plan(ops.command({ run: 'make', creates: '/opt/x' }), facts).changed).toBe(true);
      expect(plan(ops.command({ run: 'make', creates: '/opt/x' }), facts, { files: { '/opt/x': '' } })).toEqual({ changed: false, note: '/opt/x exists' });
      expect(plan(ops.command({ run: 'make', creates: '/etc/hosts' }), facts)).toEqual({ changed: false, note: '/etc/hosts exists' });
      expect(plan(ops.command({ run: 'make', removes: '/opt/x' }), facts)).toEqual({ changed: false, note: '/opt/x does not exist' });
      expect(plan(ops.command({ run: 'make', unless: 'true' }), facts).changed).toBe(true);
      expect(plan(ops.command({ run: 'make', onlyIf: 'true' }), facts)).toEqual({ changed: false, note: 'the onlyIf check failed' });
    });
    it('a source build runs unless its creates path exists', () => {
      const build = ops.sourceBuild({ name: 'ipvsadm-1.31', url: 'https://127.0.0.1/ipvsadm-1.31.tar.gz', sha256: 'a'.repeat(64), creates: '/usr/local/sbin/ipvsadm' });
      expect(plan(build, facts).changed).toBe(true);
      expect(plan(build, facts, { files: { '/usr/local/sbin/ipvsadm': { content: '', mode: '0755' } } }).changed).toBe(false);
    });
  });

  describe('paths', () => {
    it('stock files have their stock content, and the state can remove one', () => {
      const hostsLine = ops.line({ path: '/etc/hosts', line: '127.0.0.1 localhost' });
      expect(plan(hostsLine, factsFor('el9')).changed && plan(hostsLine, factsFor('el9'))).toMatchObject({ summary: 'append a line to /etc/hosts' });
      expect(() => plan(hostsLine, factsFor('el9'), { files: { '/etc/hosts': null } })).toThrow(/the file does not exist/);
      expect(plan(ops.directory({ path: '/etc/sysconfig' }), factsFor('el6')).changed).toBe(false);
      expect(plan(ops.directory({ path: '/etc/ha.d' }), factsFor('el6')).changed).toBe(true);
    });
    it('files keep the attributes the state gives; other owners need their ids', () => {
      const state: HostState = { files: { '/etc/ha.d/authkeys': { content: 'auth 1\n', mode: '0600', owner: 'hacluster', group: 'haclient' } } };
      const op = ops.file({ path: '/etc/ha.d/authkeys', content: 'auth 1\n', mode: '0600', owner: 'hacluster', group: 'haclient' });
      expect(() => freshProbe(op, factsFor('el5'), state)).toThrow(/owned by hacluster; list the user in state.users/);
      const withIds = { ...state, users: { hacluster: { uid: 496, gid: 490 } }, groups: { haclient: { gid: 490 } } };
      expect(freshProbe(op, factsFor('el5'), withIds).stdout).toBe(
        'link=no\ntype=file\nattrs=600 496 490 hacluster haclient\n<<provision:content>>\nauth 1\n\n<<provision:end>>\n',
      );
      expect(plan(op, factsFor('el5'), withIds).changed).toBe(false);
    });
    it('a path cannot be both a file and a directory', () => {
      expect(() => freshProbe(ops.directory({ path: '/srv' }), factsFor('el7'), { files: { '/srv': '' }, directories: { '/srv': {} } })).toThrow(/both as a file and as a directory/);
    });
    it('stock state per family', () => {
      expect(Object.keys(stockState(factsFor('el5')).files ?? {}).sort()).toEqual(['/etc/hosts', '/etc/sysconfig/network', '/etc/sysctl.conf']);
      expect(Object.keys(stockState(factsFor('el8')).files ?? {}).sort()).toEqual(['/etc/hostname', '/etc/hosts', '/etc/sysconfig/network', '/etc/sysctl.conf']);
      expect(Object.keys(stockState(factsFor('ubuntu2404')).files ?? {}).sort()).toEqual(['/etc/hostname', '/etc/hosts', '/etc/modules', '/etc/sysctl.conf']);
      expect(stockState(factsFor('el6')).files?.['/etc/sysconfig/network']).toBe('NETWORKING=yes\nHOSTNAME=localhost.localdomain\n');
      expect(stockState(factsFor('debian11')).files?.['/etc/hostname']).toBe(`${freshHostname(factsFor('debian11'))}\n`);
    });
  });

  it('throws for an operation kind it does not know, and for a probe it does not simulate', () => {
    const mystery: Operation = { kind: 'mystery', target: 'x', probe: () => 'true', plan: () => ({ changed: false }) };
    expect(() => freshProbe(mystery, factsFor('el7'))).toThrow(/no fresh-host state for operations of kind "mystery"/);
    const changedProbe: Operation = { ...ops.file({ path: '/etc/x', content: '' }), probe: () => 'cat /etc/x' };
    expect(() => freshProbe(changedProbe, factsFor('el7'))).toThrow(/is not the one test\/support\/fresh-host.ts simulates/);
  });

  it('unquoteWord reverses quote', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary' }).map((s) => s.replaceAll('\0', '')), (s) => unquoteWord(quote(s)) === s));
    expect(() => unquoteWord('$HOME')).toThrow(/is not a word quote\(\) writes/);
  });
});

describe('planRole', () => {
  const el5 = factsFor('el5');
  const el7 = factsFor('el7');
  const inventory = [
    { name: 'a', address: '10.0.0.1', groups: ['all', 'lb'], vars: { weight: 3 } },
    { name: 'b', address: '10.0.0.2', groups: ['all'], vars: {} },
  ];

  const demo = defineRole({
    name: 'demo',
    defaults: { greeting: 'hello', weight: 1, conf: '/etc/demo.conf' },
    tasks: ({ vars, host, inventory: inv }) => [
      { name: 'package', op: ops.packages({ names: ['demo'] }) },
      { name: 'conf', op: ops.file({ path: vars.conf, content: `${vars.greeting} ${host.name} ${vars.weight} ${inv.hosts.map((h) => h.name).join(',')}\n` }), notify: ['restart demo'] },
      { name: 'second line', op: ops.line({ path: vars.conf, line: 'second' }), notify: ['reload demo'] },
      { name: 'EL5 only', op: ops.command({ run: 'true' }), when: (f) => f.os.major === 5 },
      { name: 'missing file', op: ops.line({ path: '/etc/nothing', line: 'x' }) },
      { name: 'started', op: ops.service({ name: 'demo', state: 'started' }) },
    ],
    handlers: () => [
      { name: 'reload demo', op: ops.service({ name: 'demo', state: 'reloaded' }) },
      { name: 'unused', op: ops.service({ name: 'other', state: 'restarted' }) },
      { name: 'restart demo', op: ops.service({ name: 'demo', state: 'restarted' }) },
    ],
  });

  it('builds the tasks from defaults, inventory vars and vars; skips by facts; plans each on the state the earlier ones leave', () => {
    const result = planRole(demo, { host: 'a', inventory, facts: el7, vars: { greeting: 'hi' } });
    expect(result.tasks.map((t) => [t.task, t.status])).toEqual([
      ['package', 'changed'],
      ['conf', 'changed'],
      ['second line', 'changed'],
      ['EL5 only', 'skipped'],
      ['missing file', 'error'],
      ['started', 'changed'],
    ]);
    expect(result.tasks[1]).toMatchObject({ summary: 'write /etc/demo.conf (mode 0644)', files: { '/etc/demo.conf': 'hi a 3 a,b\n' }, notify: ['restart demo'] });
    // The line task sees the file the earlier task wrote.
    expect(result.tasks[2]).toMatchObject({
      summary: 'append a line to /etc/demo.conf',
      files: { '/etc/demo.conf': 'hi a 3 a,b\nsecond\n' },
      diff: [{ path: '/etc/demo.conf', before: 'hi a 3 a,b\n', after: 'hi a 3 a,b\nsecond\n' }],
    });
    expect(result.tasks[4]?.error).toMatch(/line \/etc\/nothing: the file does not exist/);
    expect(result.tasks[5]).toMatchObject({ summary: 'start demo', script: 'systemctl start demo' });
    // Handlers in the role's order, planned on the state before the changes (stopped: reload starts).
    expect(result.handlers).toEqual([
      { handler: 'reload demo', status: 'changed', summary: 'start demo', script: 'systemctl start demo' },
      { handler: 'restart demo', status: 'changed', summary: 'restart demo', script: 'systemctl restart demo' },
    ]);
  });

  it('notifies only the handlers of tasks that changed, and reports unchanged tasks as ok', () => {
    const result = planRole(demo, {
      host: 'b',
      inventory,
      facts: el5,
      state: { packages: { demo: '1-1' }, files: { '/etc/demo.conf': 'hello b 1 a,b\n' }, services: { demo: { running: true } } },
    });
    expect(result.tasks.map((t) => t.status)).toEqual(['ok', 'ok', 'changed', 'changed', 'error', 'ok']);
    expect(result.handlers).toEqual([{ handler: 'reload demo', status: 'changed', summary: 'reload demo', script: 'service demo reload' }]);
  });

  it('reports the note of an unchanged task', () => {
    const noted = defineRole({ name: 'noted', defaults: {}, tasks: () => [{ name: 'built', op: ops.command({ run: 'make', creates: '/etc/hosts' }) }] });
    expect(planRole(noted, { host: 'a', facts: el7 }).tasks).toEqual([{ task: 'built', status: 'ok', summary: '/etc/hosts exists' }]);
  });

  it('uses the host alone as inventory when none is given, and passes the cluster through', () => {
    let seen: unknown;
    const probe = defineRole({
      name: 'probe',
      defaults: {},
      tasks: (ctx) => {
        seen = ctx;
        return [];
      },
    });
    const cluster = { name: 'lab' };
    planRole(probe, { host: 'solo', facts: el7, cluster: cluster as never });
    expect(seen).toMatchObject({ host: { name: 'solo', address: 'solo', groups: [] }, inventory: { hosts: [{ name: 'solo', address: 'solo', groups: [], vars: {} }] }, cluster });
  });

  it('fails on a variable nothing defines, a host missing from the inventory and a handler the role lacks', () => {
    const reads = defineRole({ name: 'reads', defaults: {}, tasks: ({ vars }) => [{ name: String((vars as Record<string, unknown>).nope), op: ops.command({ run: 'true' }) }] });
    expect(() => planRole(reads, { host: 'a', facts: el7 })).toThrow(/undefined variable 'nope' in role reads/);
    expect(() => planRole(demo, { host: 'c', inventory, facts: el7 })).toThrow(/host c is not in the inventory \(a, b\)/);
    const lonely = defineRole({ name: 'lonely', defaults: {}, tasks: () => [{ name: 't', op: ops.command({ run: 'true' }), notify: ['ghost'] }] });
    expect(() => planRole(lonely, { host: 'a', facts: el7 })).toThrow(/notifies 'ghost', but the role defines no handler by that name/);
  });
});
