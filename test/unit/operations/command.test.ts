import { describe, expect, it } from 'vitest';
import { OperationError, type Plan } from '../../../src/core/operation.ts';
import { command, type CommandOptions } from '../../../src/operations/command.ts';
import { factsFor } from '../../support/facts.ts';

const facts = factsFor('el8');
const run = 'sysctl -p';
const runs: Plan = { changed: true, summary: 'run sysctl -p', script: run };

const cases: Array<{ name: string; options: Omit<CommandOptions, 'run'>; stdout: string; expected: Plan }> = [
  { name: 'no guard: always runs', options: {}, stdout: '', expected: runs },
  { name: 'creates exists: skipped', options: { creates: '/etc/done' }, stdout: 'creates=present\n', expected: { changed: false, note: '/etc/done exists' } },
  { name: 'creates missing: runs', options: { creates: '/etc/done' }, stdout: 'creates=absent\n', expected: runs },
  { name: 'removes missing: skipped', options: { removes: '/etc/old' }, stdout: 'removes=absent\n', expected: { changed: false, note: '/etc/old does not exist' } },
  { name: 'removes exists: runs', options: { removes: '/etc/old' }, stdout: 'removes=present\n', expected: runs },
  { name: 'unless succeeds: skipped', options: { unless: 'true' }, stdout: 'unless=succeeded\n', expected: { changed: false, note: 'the unless check succeeded' } },
  { name: 'unless fails: runs', options: { unless: 'false' }, stdout: 'unless=failed\n', expected: runs },
  { name: 'onlyIf fails: skipped', options: { onlyIf: 'false' }, stdout: 'only-if=failed\n', expected: { changed: false, note: 'the onlyIf check failed' } },
  { name: 'onlyIf succeeds: runs', options: { onlyIf: 'true' }, stdout: 'only-if=succeeded\n', expected: runs },
  {
    name: 'every guard allows: runs',
    options: { creates: '/a', removes: '/b', unless: 'false', onlyIf: 'true' },
    stdout: 'creates=absent\nremoves=present\nunless=failed\nonly-if=succeeded\n',
    expected: runs,
  },
  {
    name: 'one guard of several forbids: skipped',
    options: { creates: '/a', unless: 'false', onlyIf: 'true' },
    stdout: 'creates=absent\nunless=failed\nonly-if=failed\n',
    expected: { changed: false, note: 'the onlyIf check failed' },
  },
  {
    name: 'several guards forbid: every reason is noted',
    options: { creates: '/a', removes: '/b', unless: 'true' },
    stdout: 'creates=present\nremoves=absent\nunless=succeeded\n',
    expected: { changed: false, note: '/a exists; /b does not exist; the unless check succeeded' },
  },
];

describe('command', () => {
  it.each(cases)('$name', ({ options, stdout, expected }) => {
    expect(command({ run, ...options }).plan(facts, { stdout, exitCode: 0 })).toEqual(expected);
  });

  it('probes nothing without guards', () => {
    expect(command({ run }).probe()).toBe('');
  });

  it('runs each check in its own silent subshell and quotes the paths', () => {
    const probe = command({ run, creates: "/opt/it's", unless: 'grep -q x /etc/f # comment', onlyIf: 'test -d /etc' }).probe();
    expect(probe).toBe(
      [
        `if [ -e '/opt/it'\\''s' ]; then echo creates=present; else echo creates=absent; fi`,
        'if (\ngrep -q x /etc/f # comment\n) </dev/null >/dev/null 2>&1; then echo unless=succeeded; else echo unless=failed; fi',
        'if (\ntest -d /etc\n) </dev/null >/dev/null 2>&1; then echo only-if=succeeded; else echo only-if=failed; fi',
      ].join('\n'),
    );
  });

  it('fails when the probe did not report a guard', () => {
    expect(() => command({ run, creates: '/a' }).plan(facts, { stdout: '', exitCode: 1 })).toThrow(OperationError);
  });

  it('names a multi-line command by its first line', () => {
    const op = command({ run: 'modprobe ip_vs\nipvsadm -C\n' });
    expect(op.target).toBe('modprobe ip_vs ...');
    expect(op.plan(facts, { stdout: '', exitCode: 0 })).toMatchObject({ summary: 'run modprobe ip_vs ...', script: 'modprobe ip_vs\nipvsadm -C\n' });
  });

  it.each([
    [{ run: '  ' }, /`run` is empty/],
    [{ run, creates: 'relative' }, /relative/],
    [{ run, unless: '' }, /the unless check is empty/],
  ])('refuses %o', (options, message) => {
    expect(() => command(options)).toThrow(message);
  });
});
