// user: getent/id fixtures -> useradd/usermod/userdel. The shadow-utils commands are the same on
// every platform (EL5's shadow-utils 4.0.17 has -r, -M and usermod -a too), so each case runs on all.
import { describe, expect, it } from 'vitest';
import { user } from '../../../src/operations/user.ts';
import { factsFor, platforms } from '../../support/facts.ts';

const output = (...lines: string[]) => lines.join('\n') + '\n';
/** hacluster as heartbeat's package creates it, in haclient and (supplementary) adm. */
const hacluster = output('passwd\thacluster:x:496:490:heartbeat user:/var/lib/heartbeat/cores/hacluster:/sbin/nologin', 'primary-group\thaclient', 'groups\thaclient adm');
const missing = 'no-passwd\n';

describe.each(platforms)('user on %s', (platform) => {
  const facts = factsFor(platform);
  const plan = (op: ReturnType<typeof user>, stdout: string) => op.plan(facts, { stdout, exitCode: 0 });

  it('creates the tutorials\' hacluster user (useradd -g haclient -s /sbin/nologin hacluster)', () => {
    expect(plan(user({ name: 'hacluster', group: 'haclient', shell: '/sbin/nologin' }), missing)).toEqual({
      changed: true,
      summary: 'create user hacluster (group haclient, shell /sbin/nologin)',
      script: 'useradd -g haclient -s /sbin/nologin -m hacluster',
    });
  });

  it('creates a system user without a home directory unless asked, with every attribute', () => {
    const op = user({ name: 'hacluster', uid: 496, group: 'haclient', groups: ['adm', 'adm'], home: '/var/lib/heartbeat', shell: '/sbin/nologin', system: true, comment: 'heartbeat user' });
    expect(plan(op, missing)).toEqual({
      changed: true,
      summary: 'create user hacluster (system, uid 496, group haclient, groups adm, home /var/lib/heartbeat, shell /sbin/nologin, comment heartbeat user)',
      script: "useradd -r -u 496 -g haclient -G adm -d /var/lib/heartbeat -s /sbin/nologin -c 'heartbeat user' -M hacluster",
    });
    expect(plan(user({ name: 'hacluster', system: true, createHome: true }), missing)).toMatchObject({ script: 'useradd -r -m hacluster' });
  });

  it('reports no change when every given attribute matches (the group by name or gid)', () => {
    expect(plan(user({ name: 'hacluster', uid: 496, group: 'haclient', groups: ['adm'], shell: '/sbin/nologin', comment: 'heartbeat user' }), hacluster)).toEqual({ changed: false });
    expect(plan(user({ name: 'hacluster', group: '490' }), hacluster)).toEqual({ changed: false });
    // The primary group listed among the groups is no difference: id -Gn shows it too.
    expect(plan(user({ name: 'hacluster', groups: ['haclient', 'adm'] }), hacluster)).toEqual({ changed: false });
  });

  it('sets exactly the given supplementary groups', () => {
    expect(plan(user({ name: 'hacluster', groups: ['wheel'] }), hacluster)).toEqual({
      changed: true,
      summary: 'change user hacluster: groups adm -> wheel',
      script: 'usermod -G wheel hacluster',
    });
    expect(plan(user({ name: 'hacluster', groups: [] }), hacluster)).toEqual({
      changed: true,
      summary: 'change user hacluster: groups adm -> (none)',
      script: "usermod -G '' hacluster",
    });
  });

  it('with append only adds the missing groups, keeping the others', () => {
    expect(plan(user({ name: 'hacluster', groups: ['adm', 'wheel'], append: true }), hacluster)).toEqual({
      changed: true,
      summary: 'change user hacluster: add to groups wheel',
      script: 'usermod -a -G wheel hacluster',
    });
    expect(plan(user({ name: 'hacluster', groups: ['adm'], append: true }), hacluster)).toEqual({ changed: false });
  });

  it('changes every differing attribute with one usermod', () => {
    const op = user({ name: 'hacluster', uid: 497, group: 'daemon', shell: '/bin/false', home: '/var/lib/heartbeat', comment: 'cluster' });
    expect(plan(op, hacluster)).toEqual({
      changed: true,
      summary:
        'change user hacluster: uid 496 -> 497, group haclient -> daemon, comment heartbeat user -> cluster, home /var/lib/heartbeat/cores/hacluster -> /var/lib/heartbeat, shell /sbin/nologin -> /bin/false',
      script: 'usermod -u 497 -g daemon -c cluster -d /var/lib/heartbeat -s /bin/false hacluster',
    });
  });

  it('deletes a user that should be absent (keeping its home), and leaves a missing one alone', () => {
    expect(plan(user({ name: 'hacluster', state: 'absent' }), hacluster)).toEqual({
      changed: true,
      summary: 'delete user hacluster (its home directory is kept)',
      script: 'userdel hacluster',
    });
    expect(plan(user({ name: 'hacluster', state: 'absent' }), missing)).toEqual({ changed: false });
  });
});

describe('user input', () => {
  it('rejects bad input when the operation is built', () => {
    expect(() => user({ name: 'hac luster' })).toThrow(/is not a valid user name/);
    expect(() => user({ name: 'hacluster', group: 'ha;client' })).toThrow(/is not a valid group name/);
    expect(() => user({ name: 'hacluster', groups: ['ok', '-G'] })).toThrow(/is not a valid group name/);
    expect(() => user({ name: 'hacluster', shell: 'nologin' })).toThrow(/shell "nologin" must be an absolute path/);
    expect(() => user({ name: 'hacluster', comment: 'a:b' })).toThrow(/comment cannot contain ':'/);
    expect(() => user({ name: 'hacluster', append: true })).toThrow(/append needs groups/);
    expect(() => user({ name: 'hacluster', uid: -5 })).toThrow(/uid -5 is not a valid id/);
  });
});
