// The failing and passing case of each lint rule, as data: one edit of a clean base inventory that
// breaks the rule, and one that writes the same situation correctly. Each family of rules has its
// cases in <family>.cases.ts, run by <family>.test.ts with describeRuleCases; test/unit/cluster/
// lint.test.ts checks that every rule of the registry has its cases.
import { describe, expect, it } from 'vitest';
import { formatFinding, lintClusters, lintSubject, type LintFinding, type LintSubject, type Severity } from '../../../../src/cluster/lint.ts';
import { docs, inventoryLoader, lineAt, lintOf, type Doc } from '../support.ts';

export type Manager = keyof typeof docs;
export type Cluster = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- free-form edits of test data

export interface RuleCase {
  rule: string;
  base: Manager;
  /** makes the base break the rule */
  fail: (cluster: Cluster, doc: Doc) => void;
  /** the same situation, written so that it passes (applied to a fresh base) */
  pass: (cluster: Cluster, doc: Doc) => void;
  severity?: Severity;
  /** text on the line the finding points at */
  line: string;
  /** a rule across clusters: the clean base is linted together with a second copy, which fail and pass edit */
  acrossClusters?: boolean;
}

export const service = (cluster: Cluster, index = 0): Cluster => cluster.virtual_services[index];

const { load } = inventoryLoader();

/** The inventory of `base` after `edit`, loaded as the CLI loads it. */
export async function loadEdited(base: Manager, edit: (cluster: Cluster, doc: Doc) => void) {
  const doc = docs[base]();
  edit(doc.cluster, doc);
  return load(doc, { HA_AUTH_KEY: 'hb-secret', VRRP_PASS: 'vrrp-pw', LONG_PASS: 'longer-than-8' });
}

/** The findings about the edited inventory (and the text they point into). */
export async function findings(base: Manager, edit: (cluster: Cluster, doc: Doc) => void, acrossClusters = false): Promise<{ findings: LintFinding[]; text: string }> {
  const inventory = await loadEdited(base, edit);
  if (!acrossClusters) return { findings: lintOf(inventory), text: inventory.text };
  const clean = lintSubject(await loadEdited(base, () => undefined)) as LintSubject;
  return { findings: lintClusters([clean, lintSubject(inventory) as LintSubject]), text: inventory.text };
}

/** Runs each case: the failing edit is found by its rule, where it says, and the passing one is not. */
export function describeRuleCases(family: string, rules: readonly { id: string }[], cases: readonly RuleCase[]): void {
  describe(`cluster lint, ${family}: every rule fails on a broken cluster and passes on a correct one`, () => {
    for (const c of cases) {
      it(`${c.rule}: ${c.line}`, async () => {
        const failing = await findings(c.base, c.fail, c.acrossClusters);
        const hits = failing.findings.filter((finding) => finding.rule === c.rule);
        expect(hits.length, `findings: ${failing.findings.map(formatFinding).join('\n')}`).toBeGreaterThan(0);
        const [hit] = hits;
        expect(hit?.severity).toBe(c.severity ?? 'error');
        expect(hit?.reason.length).toBeGreaterThan(40);
        expect(hit?.where.file).toMatch(/hosts\.yaml$/);
        expect(lineAt(failing.text, hit?.where.line).trim()).toContain(c.line);

        const passing = await findings(c.base, c.pass, c.acrossClusters);
        expect(passing.findings.filter((finding) => finding.rule === c.rule).map(formatFinding)).toEqual([]);
      });
    }

    it(`has a failing and a passing case for every ${family} rule, and none for another family's`, () => {
      expect([...new Set(cases.map((c) => c.rule))].sort()).toEqual(rules.map((rule) => rule.id).sort());
    });
  });
}
