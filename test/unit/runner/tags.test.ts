import { describe, expect, it } from 'vitest';
import { wanted } from '../../../src/runner/tags.ts';

const t = (...tags: string[]) => new Set(tags);

describe('tag selection (Ansible semantics)', () => {
  it('runs everything but never-tagged tasks with no filter', () => {
    expect(wanted(t(), { only: [], skip: [] })).toBe(true);
    expect(wanted(t('ha'), { only: [], skip: [] })).toBe(true);
    expect(wanted(t('never'), { only: [], skip: [] })).toBe(false);
  });
  it('--tags keeps matching and always-tagged tasks', () => {
    expect(wanted(t('ha'), { only: ['ha'], skip: [] })).toBe(true);
    expect(wanted(t('lvs'), { only: ['ha'], skip: [] })).toBe(false);
    expect(wanted(t(), { only: ['ha'], skip: [] })).toBe(false);
    expect(wanted(t('always'), { only: ['ha'], skip: [] })).toBe(true);
    expect(wanted(t('never', 'debug'), { only: ['debug'], skip: [] })).toBe(true);
  });
  it('--skip-tags wins over --tags and over always only when named', () => {
    expect(wanted(t('ha', 'lvs'), { only: ['ha'], skip: ['lvs'] })).toBe(false);
    expect(wanted(t('always'), { only: [], skip: ['ha'] })).toBe(true);
    expect(wanted(t('always'), { only: [], skip: ['always'] })).toBe(false);
  });
  it('understands tagged and untagged', () => {
    expect(wanted(t(), { only: ['untagged'], skip: [] })).toBe(true);
    expect(wanted(t('x'), { only: ['untagged'], skip: [] })).toBe(false);
    expect(wanted(t('x'), { only: ['tagged'], skip: [] })).toBe(true);
  });
});
