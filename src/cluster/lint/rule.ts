// What every lint rule is made of: the subject it reads, the issues it returns, the finding each
// issue becomes, and the few helpers rules of several families share. The rules themselves are in
// this directory by family; ../lint.ts holds the registry and runs them.
import type { Facts } from '../../core/facts.ts';
import type { ClusterSource, InventoryHost } from '../../inventory/model.ts';
import { interpolateVars } from '../../inventory/interpolate.ts';
import type { PathSegment } from '../../inventory/yaml-file.ts';
import { parseAddress } from '../../lab/ipv4.ts';
import type { Cluster } from '../model.ts';

export type Severity = 'error' | 'warning';

export interface Where {
  file?: string;
  line?: number;
  column?: number;
}

export interface LintFinding {
  rule: string;
  severity: Severity;
  /** what is wrong, naming the values involved */
  message: string;
  /** why the rule exists */
  reason: string;
  /** the offending setting (empty when the cluster was not read from a file) */
  where: Where;
}

/** What the rules read: the cluster, where it is written, the inventory's hosts, and facts once gathered. */
export interface LintSubject {
  cluster: Cluster;
  source?: ClusterSource;
  /** `vars` (the host's merged inventory variables) tells whether the base role sets its hostname */
  hosts: ReadonlyMap<string, Pick<InventoryHost, 'name' | 'address' | 'source'> & Partial<Pick<InventoryHost, 'vars'>>>;
  /** hosts' facts, at run time once gathered: rules that need the real host judge only these hosts */
  facts?: ReadonlyMap<string, Pick<Facts, 'nodename'>>;
}

export interface Issue {
  message: string;
  /** a path inside cluster:, or a host whose inventory entry is at fault */
  at: PathSegment[] | { host: string };
  /** overrides the rule's severity (a rule may warn in one case and refuse in another) */
  severity?: Severity;
}

export interface LintRule {
  id: string;
  severity: Severity;
  /** one line: what the rule checks */
  summary: string;
  reason: string;
  check(subject: LintSubject): Issue[];
}

/** A rule that compares the clusters linted together (several inventories on one network). */
export interface CrossClusterRule extends Omit<LintRule, 'check'> {
  /** each issue is about a setting of the subject it comes with */
  check(subjects: readonly LintSubject[]): { subject: LintSubject; issue: Issue }[];
}

/** Where an issue points: the setting in the file (a default: the mapping it belongs to), or the host's inventory entry. */
export function locate(subject: LintSubject, at: Issue['at']): Where {
  if (!Array.isArray(at)) return subject.hosts.get(at.host)?.source ?? {};
  return subject.source?.pointAt(at) ?? {};
}

/** "file:line:column", or '' when the cluster was not read from a file. */
export function formatWhere({ file, line, column }: Where): string {
  if (file === undefined) return '';
  return [file, line, column].filter((part) => part !== undefined).join(':');
}

/**
 * A base role variable as the host's inventory variables set it (undefined: the role's default); a
 * template is resolved against the host's other inventory variables where it can be, else judged as
 * written (it refers to a play or role variable, or another variable does).
 */
export function inventoryVar(host: Partial<Pick<InventoryHost, 'vars' | 'varOrigin'>> | undefined, name: string): unknown {
  const value = host?.vars?.[name];
  if (typeof value !== 'string' || !value.includes('{{')) return value;
  try {
    return interpolateVars(host?.vars ?? {}, host?.varOrigin ?? {})[name];
  } catch {
    return value;
  }
}

export const isIpv4 = (text: string): boolean => parseAddress(text) !== undefined;
export const serviceAt = (index: number, ...rest: PathSegment[]): PathSegment[] => ['virtual_services', index, ...rest];
