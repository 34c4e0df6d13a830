import { describe, expect, it } from 'vitest';
import { OperationError, type Operation, type ProbeOutput } from '../../../src/core/operation.ts';
import { block, type BlockOptions } from '../../../src/operations/block.ts';
import { factsFor } from '../../support/facts.ts';
import { absentPath, probed } from './fixtures.ts';

const path = '/etc/hosts';
const facts = factsFor('debian11');
const BEGIN = '# BEGIN PROVISION MANAGED BLOCK';
const END = '# END PROVISION MANAGED BLOCK';

function outcome(op: Operation, probe: ProbeOutput) {
  const plan = op.plan(facts, probe);
  if (!plan.changed) return 'no change';
  return { summary: plan.summary, after: plan.diff?.[0]?.after };
}

const cases: Array<{ name: string; options: Omit<BlockOptions, 'path'>; before: string; expected: ReturnType<typeof outcome> }> = [
  {
    name: 'appends the marked block; one final newline of the block is ignored',
    options: { block: 'rs1\nrs2\n' },
    before: '127.0.0.1 localhost\n',
    expected: { summary: `add a managed block to ${path}`, after: `127.0.0.1 localhost\n${BEGIN}\nrs1\nrs2\n${END}\n` },
  },
  {
    name: 'appends after a missing final newline',
    options: { block: 'rs1' },
    before: 'head',
    expected: { summary: `add a managed block to ${path}`, after: `head\n${BEGIN}\nrs1\n${END}\n` },
  },
  {
    name: 'keeps blank lines inside the block (only one final newline is dropped)',
    options: { block: 'a\n\n' },
    before: '',
    expected: { summary: `add a managed block to ${path}`, after: `${BEGIN}\na\n\n${END}\n` },
  },
  {
    name: 'inserts after the last line matching insertAfter',
    options: { block: 'x', insertAfter: /^#/ },
    before: '# one\na\n# two\nb',
    expected: { summary: `add a managed block to ${path}`, after: `# one\na\n# two\n${BEGIN}\nx\n${END}\nb` },
  },
  {
    name: 'replaces only what is between the markers',
    options: { block: 'new1\nnew2' },
    before: `head\n${BEGIN}\nold\n${END}\ntail without newline`,
    expected: { summary: `update the managed block in ${path}`, after: `head\n${BEGIN}\nnew1\nnew2\n${END}\ntail without newline` },
  },
  { name: 'the same block: no change', options: { block: 'x\ny\n' }, before: `a\n${BEGIN}\nx\ny\n${END}\n`, expected: 'no change' },
  {
    name: 'an empty block removes the block and its markers',
    options: { block: '' },
    before: `head\n${BEGIN}\nold\n${END}\ntail\n`,
    expected: { summary: `remove the managed block from ${path}`, after: 'head\ntail\n' },
  },
  { name: 'an empty block and no markers: no change (a missing final newline stays missing)', options: { block: '' }, before: 'head', expected: 'no change' },
  {
    name: 'a custom marker manages its own block, leaving the default one alone',
    options: { block: 'vip', marker: '// {mark} lvs vip' },
    before: `${BEGIN}\nother\n${END}\n// BEGIN lvs vip\nold\n// END lvs vip\n`,
    expected: { summary: `update the managed block in ${path}`, after: `${BEGIN}\nother\n${END}\n// BEGIN lvs vip\nvip\n// END lvs vip\n` },
  },
  {
    name: 'with a section: inserts after the section start when the file has one',
    options: { block: 'x', insertAfter: /^\*nat$/, section: { open: '*nat\n:POSTROUTING ACCEPT [0:0]', close: 'COMMIT' } },
    before: '*filter\nCOMMIT\n*nat\n-A POSTROUTING -j MASQUERADE\nCOMMIT\n',
    expected: { summary: `add a managed block to ${path}`, after: `*filter\nCOMMIT\n*nat\n${BEGIN}\nx\n${END}\n-A POSTROUTING -j MASQUERADE\nCOMMIT\n` },
  },
  {
    name: 'with a section: appends a new section holding the block when no line starts one',
    options: { block: 'x', insertAfter: /^\*nat$/, section: { open: '*nat\n:POSTROUTING ACCEPT [0:0]', close: 'COMMIT' } },
    before: '*filter\nCOMMIT',
    expected: { summary: `add a managed block in a new section to ${path}`, after: `*filter\nCOMMIT\n*nat\n:POSTROUTING ACCEPT [0:0]\n${BEGIN}\nx\n${END}\nCOMMIT\n` },
  },
  {
    name: 'with a section: a block already in place is updated where it is',
    options: { block: 'y', insertAfter: /^\*nat$/, section: { open: '*nat', close: 'COMMIT' } },
    before: `*nat\n${BEGIN}\nx\n${END}\nCOMMIT\n`,
    expected: { summary: `update the managed block in ${path}`, after: `*nat\n${BEGIN}\ny\n${END}\nCOMMIT\n` },
  },
  {
    name: 'a block depending on the facts',
    options: { block: (f) => `# ${f.os.distro} ${f.os.version}` },
    before: `${BEGIN}\n# debian 11\n${END}\n`,
    expected: 'no change',
  },
];

describe('block', () => {
  it.each(cases)('$name', ({ options, before, expected }) => {
    expect(outcome(block({ path, ...options }), probed({ type: 'file', content: before }))).toEqual(expected);
  });

  it('creates a missing file when asked', () => {
    expect(outcome(block({ path, block: 'a', create: true }), absentPath)).toEqual({ summary: `create ${path} (mode 0644)`, after: `${BEGIN}\na\n${END}\n` });
  });

  it('has nothing to remove from a missing file', () => {
    expect(block({ path, block: '' }).plan(facts, absentPath)).toEqual({ changed: false });
  });

  it('fails on a missing file without create', () => {
    expect(() => block({ path, block: 'a' }).plan(facts, absentPath)).toThrow(/the file does not exist; set create: true/);
  });

  it('refuses to guess when a BEGIN marker has no END after it', () => {
    const op = block({ path, block: 'a' });
    const probe = probed({ type: 'file', content: `${END}\nx\n${BEGIN}\nold\n` });
    expect(() => op.plan(facts, probe)).toThrow(OperationError);
    expect(() => op.plan(facts, probe)).toThrow(`block ${path}: line 3 is the marker "${BEGIN}" but no "${END}" line follows it; repair the file by hand`);
  });

  it('refuses a block that contains its own marker', () => {
    expect(() => block({ path, block: `a\n${END}\nb` }).plan(facts, probed({ type: 'file', content: '' }))).toThrow(/contains its own marker line/);
  });

  it('refuses a section without an insertAfter pattern to find an existing one', () => {
    expect(() => block({ path, block: 'a', section: { open: '[s]', close: '' } })).toThrow(/section needs an insertAfter pattern/);
  });

  it.each(['# no mark', '# {mark} {mark}', '# {mark}\nx'])('refuses the marker %j', (marker) => {
    expect(() => block({ path, block: 'a', marker })).toThrow(/must be one line containing \{mark\} once/);
  });
});
