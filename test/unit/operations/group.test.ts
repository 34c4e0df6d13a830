// group: getent fixtures -> groupadd/groupmod/groupdel. The shadow-utils commands are the same on
// every platform (EL5's shadow-utils 4.0.17 has -r and -g too), so each case runs on all of them.
import { describe, expect, it } from 'vitest';
import { group } from '../../../src/operations/group.ts';
import { factsFor, platforms } from '../../support/facts.ts';

const exists = 'group\thaclient:x:490:hacluster\n';
const missing = 'no-group\n';

describe.each(platforms)('group on %s', (platform) => {
  const facts = factsFor(platform);
  const plan = (op: ReturnType<typeof group>, stdout: string) => op.plan(facts, { stdout, exitCode: 0 });

  it('creates a missing group, as the tutorials do (groupadd haclient)', () => {
    expect(plan(group({ name: 'haclient' }), missing)).toEqual({ changed: true, summary: 'create group haclient', script: 'groupadd haclient' });
  });

  it('creates a system group with a fixed gid', () => {
    expect(plan(group({ name: 'haclient', gid: 490, system: true }), missing)).toEqual({
      changed: true,
      summary: 'create group haclient (system, gid 490)',
      script: 'groupadd -r -g 490 haclient',
    });
  });

  it('reports no change when the group exists with the gid', () => {
    expect(plan(group({ name: 'haclient', gid: 490 }), exists)).toEqual({ changed: false });
    expect(plan(group({ name: 'haclient' }), exists)).toEqual({ changed: false });
  });

  it('changes a mismatched gid', () => {
    expect(plan(group({ name: 'haclient', gid: 491 }), exists)).toEqual({
      changed: true,
      summary: 'change the gid of group haclient from 490 to 491',
      script: 'groupmod -g 491 haclient',
    });
  });

  it('deletes a group that should be absent, and leaves a missing one alone', () => {
    expect(plan(group({ name: 'haclient', state: 'absent' }), exists)).toEqual({ changed: true, summary: 'delete group haclient', script: 'groupdel haclient' });
    expect(plan(group({ name: 'haclient', state: 'absent' }), missing)).toEqual({ changed: false });
  });
});

describe('group input', () => {
  it('rejects bad names and ids when the operation is built', () => {
    expect(() => group({ name: '1abc' })).toThrow(/is not a valid group name/);
    expect(() => group({ name: 'ha client' })).toThrow(/is not a valid group name/);
    expect(() => group({ name: '-r' })).toThrow(/is not a valid group name/);
    expect(() => group({ name: 'haclient', gid: -1 })).toThrow(/gid -1 is not a valid id/);
    expect(() => group({ name: 'haclient', gid: 1.5 })).toThrow(/gid 1.5 is not a valid id/);
  });

  it('fails loudly when the probe printed no group record (a broken probe is no "missing group")', () => {
    expect(() => group({ name: 'haclient' }).plan(factsFor('el5'), { stdout: '', exitCode: 0 })).toThrow(/no group record/);
  });
});
