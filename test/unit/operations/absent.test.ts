import { describe, expect, it } from 'vitest';
import type { Plan, ProbeOutput } from '../../../src/core/operation.ts';
import { absent } from '../../../src/operations/absent.ts';
import { factsFor } from '../../support/facts.ts';
import { absentPath, probed } from './fixtures.ts';

const cases: Array<{ name: string; path: string; probe: ProbeOutput; expected: Plan }> = [
  { name: 'nothing there: no change', path: '/etc/ha.d/old.cf', probe: absentPath, expected: { changed: false } },
  {
    name: 'a file is removed',
    path: '/etc/ha.d/old.cf',
    probe: probed({ type: 'file' }),
    expected: { changed: true, summary: 'remove /etc/ha.d/old.cf (a regular file)', script: 'rm -rf /etc/ha.d/old.cf || exit 1' },
  },
  {
    name: 'a directory is removed with its tree',
    path: '/opt/build dir',
    probe: probed({ type: 'directory' }),
    expected: { changed: true, summary: 'remove /opt/build dir (a directory tree)', script: "rm -rf '/opt/build dir' || exit 1" },
  },
  {
    name: 'a symbolic link to a directory is removed as a link',
    path: '/etc/alternatives/x',
    probe: probed({ type: 'directory', link: true }),
    expected: { changed: true, summary: 'remove /etc/alternatives/x (a symbolic link)', script: 'rm -rf /etc/alternatives/x || exit 1' },
  },
  {
    name: 'a dangling link is removed',
    path: '/etc/x',
    probe: probed({ type: 'absent', link: true }),
    expected: { changed: true, summary: 'remove /etc/x (a dangling symbolic link)', script: 'rm -rf /etc/x || exit 1' },
  },
];

describe('absent', () => {
  it.each(cases)('$name', ({ path, probe, expected }) => {
    expect(absent({ path }).plan(factsFor('ubuntu2404'), probe)).toEqual(expected);
  });

  it.each([
    ['/', /refusing to remove "\/"/],
    ['/etc/x/', /not normalized/],
    ['tmp/x', /relative/],
  ])('refuses %s', (path, message) => {
    expect(() => absent({ path })).toThrow(message);
  });
});
