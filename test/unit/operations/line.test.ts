import { describe, expect, it } from 'vitest';
import { OperationError, type Operation, type ProbeOutput } from '../../../src/core/operation.ts';
import { line, type LineOptions } from '../../../src/operations/line.ts';
import { factsFor } from '../../support/facts.ts';
import { absentPath, probed } from './fixtures.ts';

const path = '/etc/sysctl.conf';
const facts = factsFor('el6');

/** The plan's summary and the file's new content, or "no change". */
function outcome(op: Operation, probe: ProbeOutput) {
  const plan = op.plan(facts, probe);
  if (!plan.changed) return 'no change';
  return { summary: plan.summary, after: plan.diff?.[0]?.after };
}

const cases: Array<{ name: string; options: Omit<LineOptions, 'path'>; before: string; expected: ReturnType<typeof outcome> }> = [
  { name: 'appends to a file ending with a newline', options: { line: 'c' }, before: 'a\nb\n', expected: { summary: `append a line to ${path}`, after: 'a\nb\nc\n' } },
  { name: 'appends after a missing final newline', options: { line: 'c' }, before: 'a\nb', expected: { summary: `append a line to ${path}`, after: 'a\nb\nc\n' } },
  { name: 'appends to an empty file', options: { line: 'c' }, before: '', expected: { summary: `append a line to ${path}`, after: 'c\n' } },
  { name: 'an identical line anywhere: no change', options: { line: 'a' }, before: 'a\nb', expected: 'no change' },
  {
    name: 'replaces the LAST line matching the regexp',
    options: { line: 'net.ipv4.ip_forward = 1', regexp: '^net\\.ipv4\\.ip_forward' },
    before: 'net.ipv4.ip_forward = 0\n# x\nnet.ipv4.ip_forward=0\nlast',
    expected: { summary: `replace line 3 of ${path}`, after: 'net.ipv4.ip_forward = 0\n# x\nnet.ipv4.ip_forward = 1\nlast' },
  },
  {
    name: 'the last match already is the line: no change, even if earlier matches differ',
    options: { line: 'x=1', regexp: /^x=/ },
    before: 'x=0\nx=1\n',
    expected: 'no change',
  },
  {
    name: 'the regexp matches nothing but the line exists: no change',
    options: { line: 'x = 1', regexp: /^x=/ },
    before: 'x = 1\n',
    expected: 'no change',
  },
  {
    name: 'the regexp matches nothing: appends',
    options: { line: 'x=1', regexp: /^x=/ },
    before: 'y=1\n',
    expected: { summary: `append a line to ${path}`, after: 'y=1\nx=1\n' },
  },
  {
    name: 'inserts after the last line matching insertAfter',
    options: { line: 'new', insertAfter: /^\[main\]/ },
    before: '[main]\na\n[main]\nb\n[other]\n',
    expected: { summary: `insert a line after line 3 of ${path}`, after: '[main]\na\n[main]\nnew\nb\n[other]\n' },
  },
  {
    name: 'inserting after the last line of a file without final newline terminates both',
    options: { line: 'new', insertAfter: 'tail' },
    before: 'head\ntail',
    expected: { summary: `append a line to ${path}`, after: 'head\ntail\nnew\n' },
  },
  {
    name: 'insertAfter matching nothing appends at the end',
    options: { line: 'new', insertAfter: /^nothing/ },
    before: 'a\n',
    expected: { summary: `append a line to ${path}`, after: 'a\nnew\n' },
  },
  {
    name: "insertAfter 'EOF' appends",
    options: { line: 'new', insertAfter: 'EOF' },
    before: 'EOF\na\n',
    expected: { summary: `append a line to ${path}`, after: 'EOF\na\nnew\n' },
  },
  {
    name: 'regexp wins over insertAfter',
    options: { line: 'x=2', regexp: '^x=', insertAfter: '^a' },
    before: 'a\nx=1\n',
    expected: { summary: `replace line 2 of ${path}`, after: 'a\nx=2\n' },
  },
  {
    name: 'hostile text is kept as is',
    options: { line: `echo "$(id)" 'q' \`x\``, regexp: '^echo' },
    before: 'echo old\n',
    expected: { summary: `replace line 1 of ${path}`, after: `echo "$(id)" 'q' \`x\`\n` },
  },
];

describe('line', () => {
  it.each(cases)('$name', ({ options, before, expected }) => {
    expect(outcome(line({ path, ...options }), probed({ type: 'file', content: before }))).toEqual(expected);
  });

  it('gives the same answer on every plan with a global RegExp (no lastIndex state)', () => {
    const op = line({ path, line: 'a=9', regexp: /^a=/g });
    const probe = probed({ type: 'file', content: 'a=1\nb\na=2\n' });
    const first = outcome(op, probe);
    expect(first).toEqual({ summary: `replace line 3 of ${path}`, after: 'a=1\nb\na=9\n' });
    expect(outcome(op, probe)).toEqual(first);
    expect(outcome(op, probe)).toEqual(first);
  });

  it('creates a missing file when asked', () => {
    expect(outcome(line({ path, line: 'x=1', create: true, mode: '0600' }), absentPath)).toEqual({ summary: `create ${path} (mode 0600)`, after: 'x=1\n' });
  });

  it('fails on a missing file without create, saying how to fix it', () => {
    const op = line({ path, line: 'x=1' });
    expect(() => op.plan(facts, absentPath)).toThrow(OperationError);
    expect(() => op.plan(facts, absentPath)).toThrow(`line ${path}: the file does not exist; set create: true to create it`);
  });

  it('only chmods when the line is there but the mode differs', () => {
    const op = line({ path, line: 'a', mode: '0644' });
    expect(op.plan(facts, probed({ type: 'file', mode: '600', content: 'a\n' }))).toEqual({
      changed: true,
      summary: `chmod 0644 ${path}`,
      script: `chmod 0644 ${path} || exit 1`,
    });
  });

  it('writes with the shared atomic writer, keeping the mode of the file', () => {
    const plan = line({ path, line: 'b' }).plan(facts, probed({ type: 'file', mode: '600', content: 'a\n' }));
    if (!plan.changed) throw new Error('expected a change');
    expect(plan.script).toContain('provision_tmp=$(mktemp /etc/.sysctl.conf.provision-XXXXXX) || exit 1');
    expect(plan.script).toContain(`printf '%s' 'a\nb\n' >"$provision_tmp" || exit 1`);
    expect(plan.script).toContain('chmod 0600 "$provision_tmp" || exit 1');
  });

  it.each([
    [{ line: 'a\nb' }, /the line contains a newline; manage several lines with block\(\) instead/],
    [{ line: 'a', regexp: '(' }, /regexp "\(" is not a valid regular expression/],
    [{ line: 'a', insertAfter: '[' }, /insertAfter "\[" is not a valid regular expression/],
  ])('refuses %o', (options, message) => {
    expect(() => line({ path, ...options })).toThrow(message);
  });

  it('refuses to write through a symbolic link', () => {
    expect(() => line({ path, line: 'a' }).plan(facts, probed({ type: 'file', link: true }))).toThrow(/symbolic link/);
  });
});
