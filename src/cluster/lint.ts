// The cluster lint: checks across hosts and settings that the schema cannot express, each a pure
// rule with an id, a severity, and the reason it exists (printed with every finding, because a
// rule nobody understands gets switched off). `provision lint` prints the findings; every
// provisioning run lints first and stops on errors.
//
// Rules see the resolved model (defaults applied), so they judge what will really be written;
// findings point at the setting in the file (a default points at the mapping it belongs to).
//
// The rules are in lint/, one file per family (what a rule is: lint/rule.ts); this module is their
// registry, runs them, and is what the rest of provision imports.
import type { Facts } from '../core/facts.ts';
import type { Inventory } from '../inventory/model.ts';
import { ADDRESS_RULES } from './lint/addresses.ts';
import { DIRECTOR_RULES } from './lint/directors.ts';
import { FORWARDING_RULES } from './lint/forwarding.ts';
import { HEARTBEAT_RULES, NODE_NAME_RULE } from './lint/heartbeat.ts';
import { KEEPALIVED_RULES, VRRP_ROUTER_ID_UNIQUE } from './lint/keepalived.ts';
import { PIRANHA_RULES } from './lint/piranha.ts';
import { PROGRAM_RULES } from './lint/programs.ts';
import { formatWhere, locate, type CrossClusterRule, type LintFinding, type LintRule, type LintSubject, type Severity } from './lint/rule.ts';
import { SECRET_RULES } from './lint/secrets.ts';
import { VIRTUAL_SERVICE_RULES } from './lint/virtual-services.ts';

export type { LintFinding, LintSubject, Severity } from './lint/rule.ts';

/**
 * Every rule that reads one cluster, by family: the key names the family's file in lint/ and its
 * cases in test/unit/cluster/lint/. Findings at one place in the file are listed in this order.
 */
export const RULE_FAMILIES = {
  forwarding: FORWARDING_RULES,
  'virtual-services': VIRTUAL_SERVICE_RULES,
  heartbeat: HEARTBEAT_RULES,
  secrets: SECRET_RULES,
  keepalived: KEEPALIVED_RULES,
  programs: PROGRAM_RULES,
  addresses: ADDRESS_RULES,
  piranha: PIRANHA_RULES,
  directors: DIRECTOR_RULES,
} as const satisfies Record<string, readonly LintRule[]>;

const RULES: readonly LintRule[] = Object.values(RULE_FAMILIES).flat();

/** The rules that compare the clusters linted together, after every cluster's own findings. */
const CROSS_CLUSTER_RULES: readonly CrossClusterRule[] = [VRRP_ROUTER_ID_UNIQUE];

// --- running the rules ---------------------------------------------------------------------------

function findingsOf(subject: LintSubject, rules: readonly LintRule[]): LintFinding[] {
  const findings: LintFinding[] = [];
  for (const rule of rules) {
    for (const issue of rule.check(subject)) {
      findings.push({ rule: rule.id, severity: issue.severity ?? rule.severity, message: issue.message, reason: rule.reason, where: locate(subject, issue.at) });
    }
  }
  return sortFindings(findings);
}

function sortFindings(findings: LintFinding[]): LintFinding[] {
  return findings.sort((a, b) => (a.where.file ?? '').localeCompare(b.where.file ?? '') || (a.where.line ?? 0) - (b.where.line ?? 0) || (a.where.column ?? 0) - (b.where.column ?? 0));
}

/** The subject of an inventory: its cluster, where it is written, its hosts; undefined without a cluster. */
export function lintSubject(inventory: Pick<Inventory, 'cluster' | 'clusterSource' | 'hosts'>): LintSubject | undefined {
  if (inventory.cluster === undefined) return undefined;
  return { cluster: inventory.cluster, ...(inventory.clusterSource === undefined ? {} : { source: inventory.clusterSource }), hosts: inventory.hosts };
}

/** Every finding of the rules about one cluster, in file order. */
export function lintCluster(subject: LintSubject): LintFinding[] {
  return findingsOf(subject, RULES);
}

/** Findings of every cluster, then those across them (one VRRP router id per network segment). */
export function lintClusters(subjects: readonly LintSubject[]): LintFinding[] {
  const findings = subjects.flatMap((subject) => lintCluster(subject));
  for (const rule of CROSS_CLUSTER_RULES) {
    for (const { subject, issue } of rule.check(subjects)) {
      findings.push({ rule: rule.id, severity: issue.severity ?? rule.severity, message: issue.message, reason: rule.reason, where: locate(subject, issue.at) });
    }
  }
  return findings;
}

// --- heartbeat node names once facts are in ------------------------------------------------------

/**
 * The heartbeat node names once facts are in (`uname -n` is facts.nodename): the same rule as
 * `provision lint`, now also judging the directors whose hostname provision does not manage.
 * Directors without facts (unreachable, or limited out of the run) are judged only as lint does.
 */
export function lintNodeNames(subject: LintSubject, factsByHost: ReadonlyMap<string, Pick<Facts, 'nodename'>>): LintFinding[] {
  return findingsOf({ ...subject, facts: factsByHost }, [NODE_NAME_RULE]);
}

/**
 * What stops a host once its facts are gathered, before anything is changed on it: the errors of
 * the rules that need facts, about this host, in the words `provision lint` uses; undefined when
 * there are none.
 */
export function factsProblem(subject: LintSubject | undefined, host: string, facts: Pick<Facts, 'nodename'>): string | undefined {
  if (subject === undefined) return undefined;
  // Only what the facts add: the findings without them already stopped the run at its lint.
  const withoutFacts = new Set(lintNodeNames(subject, new Map()).map(formatFinding));
  const errors = lintNodeNames(subject, new Map([[host, facts]]))
    .filter((finding) => finding.severity === 'error')
    .map(formatFinding)
    .filter((text) => !withoutFacts.has(text));
  return errors.length === 0 ? undefined : errors.join('\n');
}

// --- output --------------------------------------------------------------------------------------

/** `file:line:col: error [rule-id] message` and the reason, indented, on the next line. */
export function formatFinding(finding: LintFinding): string {
  const where = formatWhere(finding.where);
  return `${where === '' ? '' : `${where}: `}${finding.severity} [${finding.rule}] ${finding.message}\n    ${finding.reason}`;
}

export const hasErrors = (findings: readonly LintFinding[]): boolean => findings.some((finding) => finding.severity === 'error');

/** Exported for `provision lint --rules` and the tests: every rule id with its severity, summary and reason. */
export function ruleCatalogue(): { id: string; severity: Severity; summary: string; reason: string }[] {
  return [...RULES, ...CROSS_CLUSTER_RULES].map(({ id, severity, summary, reason }) => ({ id, severity, summary, reason }));
}
