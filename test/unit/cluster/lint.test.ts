// The lint as a whole (src/cluster/lint.ts): what a finding says, and the registry of rules. Each
// family of rules has its failing and passing cases in test/unit/cluster/lint/<family>.cases.ts, run
// by <family>.test.ts; the registry test below makes sure no rule is left without them.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { formatFinding, hasErrors, RULE_FAMILIES, ruleCatalogue } from '../../../src/cluster/lint.ts';
import { findings, type Manager, type RuleCase } from './lint/rule-cases.ts';
import { docs, lineAt } from './support.ts';

const casesDir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'lint');

describe('cluster lint: the base clusters of the tests are clean', () => {
  for (const base of Object.keys(docs) as Manager[]) {
    it(base, async () => {
      expect((await findings(base, () => undefined)).findings).toEqual([]);
    });
  }
});

describe('cluster lint: every rule of the registry has its failing and passing case', () => {
  it('each family has its cases and its test, and every rule (across clusters too) has a case with a failing and a passing edit', async () => {
    const families = Object.keys(RULE_FAMILIES);
    const missingFiles = families.flatMap((family) => [`${family}.cases.ts`, `${family}.test.ts`]).filter((file) => !existsSync(path.join(casesDir, file)));
    expect(missingFiles, `in ${path.relative(process.cwd(), casesDir)}`).toEqual([]);

    const casesByFamily = new Map<string, readonly RuleCase[]>();
    for (const family of families) casesByFamily.set(family, ((await import(path.join(casesDir, `${family}.cases.ts`))) as { cases: readonly RuleCase[] }).cases);
    const complete = (c: RuleCase) => typeof c.fail === 'function' && typeof c.pass === 'function';
    // A rule of a family is tested beside its family's other rules.
    const withoutCase = Object.entries(RULE_FAMILIES).flatMap(([family, rules]) =>
      rules.filter((rule) => !casesByFamily.get(family)!.some((c) => c.rule === rule.id && complete(c))).map((rule) => `${family}: ${rule.id}`),
    );
    expect(withoutCase).toEqual([]);
    const allCases = [...casesByFamily.values()].flat();
    expect(ruleCatalogue().filter((rule) => !allCases.some((c) => c.rule === rule.id && complete(c))).map((rule) => rule.id)).toEqual([]);
  });
});

describe('cluster lint: what a finding says', () => {
  it('one line per finding with file:line:col, severity and rule, and the reason indented below', async () => {
    const { findings: found } = await findings('heartbeat', (c) => Object.assign(c.heartbeat, { deadtime: 3, warntime: 2 }));
    expect(found).toHaveLength(1);
    const [first] = found;
    const [line, reason, ...rest] = formatFinding(first!).split('\n');
    expect(line).toMatch(/^\/.*hosts\.yaml:\d+:\d+: error \[heartbeat-deadtime\] deadtime 3 is less than twice keepalive 2: make it at least 4$/);
    expect(reason).toMatch(/^ {4}A node is declared dead/);
    expect(rest).toEqual([]);
    expect(hasErrors(found)).toBe(true);
  });

  it('a default value is reported at the mapping it belongs to', async () => {
    // deadtime is not written: its default 30 is judged against keepalive 20
    const { findings: found, text } = await findings('heartbeat', (c) => {
      delete c.heartbeat.deadtime;
      delete c.heartbeat.warntime;
      c.heartbeat.keepalive = 20;
    });
    const hit = found.find((finding) => finding.rule === 'heartbeat-deadtime');
    expect(hit?.message).toBe('deadtime 30 is less than twice keepalive 20: make it at least 40');
    expect(lineAt(text, hit?.where.line)).toBe('  heartbeat:');
  });
});
