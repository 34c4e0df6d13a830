import { describe, expect, it } from 'vitest';
import { OperationError, type Plan, type ProbeOutput } from '../../../src/core/operation.ts';
import { directory, type DirectoryOptions } from '../../../src/operations/directory.ts';
import { factsFor } from '../../support/facts.ts';
import { absentPath, probed } from './fixtures.ts';

const cases: Array<{ name: string; options: DirectoryOptions; probe: ProbeOutput; expected: Plan }> = [
  {
    name: 'a missing directory is created with its parents, then given its mode and owner',
    options: { path: '/var/lib/heartbeat/crm', mode: '0750', owner: 'hacluster', group: 'haclient' },
    probe: absentPath,
    expected: {
      changed: true,
      summary: 'create directory /var/lib/heartbeat/crm (mode 0750, owner hacluster, group haclient)',
      script: 'mkdir -p /var/lib/heartbeat/crm || exit 1\nchmod 0750 /var/lib/heartbeat/crm || exit 1\nchown hacluster:haclient /var/lib/heartbeat/crm || exit 1',
    },
  },
  {
    name: 'without attributes only mkdir runs',
    options: { path: "/srv/it's" },
    probe: absentPath,
    expected: { changed: true, summary: "create directory /srv/it's", script: `mkdir -p '/srv/it'\\''s' || exit 1` },
  },
  {
    name: 'an existing directory with the asked attributes: no change',
    options: { path: '/etc/ha.d', mode: '755', owner: 'root', group: '0' },
    probe: probed({ type: 'directory', mode: '755' }),
    expected: { changed: false },
  },
  {
    name: 'an existing directory with another mode: chmod only',
    options: { path: '/etc/ha.d', mode: '0700', owner: 'root' },
    probe: probed({ type: 'directory', mode: '755' }),
    expected: { changed: true, summary: 'chmod 0700 /etc/ha.d', script: 'chmod 0700 /etc/ha.d || exit 1' },
  },
  {
    name: 'a symbolic link to a directory counts as the directory',
    options: { path: '/etc/ha.d', group: 'haclient' },
    probe: probed({ type: 'directory', link: true, group: 'root' }),
    expected: { changed: true, summary: 'chgrp haclient /etc/ha.d', script: 'chgrp haclient /etc/ha.d || exit 1' },
  },
];

describe('directory', () => {
  it.each(cases)('$name', ({ options, probe, expected }) => {
    expect(directory(options).plan(factsFor('el5'), probe)).toEqual(expected);
  });

  it.each([
    ['a regular file', probed({ type: 'file' }), /the path exists and is a regular file, not a directory; remove it with absent\(\) first/],
    ['a dangling symbolic link', probed({ type: 'absent', link: true }), /the path exists and is a dangling symbolic link, not a directory/],
  ])('refuses a path that is %s', (_name, probe, message) => {
    const op = directory({ path: '/etc/ha.d' });
    expect(() => op.plan(factsFor('el5'), probe)).toThrow(OperationError);
    expect(() => op.plan(factsFor('el5'), probe)).toThrow(message);
  });

  it('probes without reading content', () => {
    expect(directory({ path: '/etc/ha.d' }).probe()).not.toContain('cat ');
  });
});
