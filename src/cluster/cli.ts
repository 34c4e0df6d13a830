// `provision lint [playbook] --inventory FILE`: the cluster lint on the command line, and the same
// check before every provisioning run (lintBeforeRun). Findings go to stdout, one per line
// (`file:line:col: error [rule-id] message`) with the rule's reason indented below; errors make the
// command fail (exit 1, through the program's handling of UserError), warnings do not. Given a
// playbook, lint also loads its roles as a run does and stops where a run would stop before
// contacting any host: a cluster role with an inventory that has no cluster: section.
//
// Lint runs without the secrets (in CI): an `!env` variable that is not set is a warning here
// (env-unset) and its value is unknown, checked as far as it can be without it; a run, which lints
// with every value, stops on it. Apart from that, lint and a run find the same errors.
import { Command } from 'commander';
import { existsSync } from 'node:fs';
import { UserError } from '../core/errors.ts';
import type { Inventory } from '../inventory/model.ts';
import { throwProblems } from '../inventory/problems.ts';
import type { UnsetEnv } from '../inventory/yaml-file.ts';
import { formatFinding, hasErrors, lintClusters, lintSubject, ruleCatalogue, type LintFinding, type LintSubject } from './lint.ts';

const DEFAULT_INVENTORY = 'inventory/lab.yaml';

/** The rule behind the warning for an unset `!env` variable (reported by the loader, not by a rule of lint.ts). */
const UNSET_ENV_RULE = {
  id: 'env-unset',
  severity: 'warning',
  summary: 'every variable read with !env is set (a run needs it)',
  reason:
    'Lint runs without the secrets (in CI, say): a value read with !env is checked as far as it can be without it, as a secret where a secret goes. A run reads it, checks the rest and stops if it is not set.',
} as const;

function unsetEnvFinding(unset: UnsetEnv): LintFinding {
  return {
    rule: UNSET_ENV_RULE.id,
    severity: UNSET_ENV_RULE.severity,
    message: `${unset.variable} is not set (${unset.path}): a run will need it (export ${unset.variable}=...)`,
    reason: UNSET_ENV_RULE.reason,
    where: unset.where,
  };
}

interface LintFlags {
  inventory: string[];
  rules: boolean;
}

/** The findings of the inventories' clusters (and across them); inventories without a cluster have none. */
export function lintInventories(inventories: readonly Pick<Inventory, 'cluster' | 'clusterSource' | 'hosts'>[]): LintFinding[] {
  return lintClusters(inventories.map(lintSubject).filter((subject): subject is LintSubject => subject !== undefined));
}

/** Print the findings and a summary line; throws a UserError (exit 1) when one is an error. */
export function reportFindings(findings: readonly LintFinding[], write: (line: string) => void): void {
  for (const finding of findings) write(formatFinding(finding));
  const errors = findings.filter((finding) => finding.severity === 'error').length;
  const warnings = findings.length - errors;
  if (hasErrors(findings)) {
    throw new UserError(
      `the cluster lint found ${count(errors, 'error')}${warnings > 0 ? ` and ${count(warnings, 'warning')}` : ''}`,
      {},
      'fix the errors above (each says why the rule exists); nothing was changed on any host',
    );
  }
}

/** The lint every provisioning run does first: warnings are printed, errors stop the run before any host is touched. */
export function lintBeforeRun(inventory: Pick<Inventory, 'cluster' | 'clusterSource' | 'hosts'>, write: (line: string) => void): void {
  reportFindings(lintInventories([inventory]), write);
}

/**
 * What a run of the playbook with each inventory would refuse before contacting any host, found with
 * the run's own loader and check (runner/play-roles.ts): a cluster role without a cluster: section.
 */
export async function playbookProblems(playbookFile: string, inventories: readonly Pick<Inventory, 'cluster' | 'file'>[]): Promise<UserError[]> {
  // Loaded only for a playbook: the YAML loader and the roles (no transport, no lab code).
  const [{ loadPlaybook }, { loadPlayRoles, missingClusterProblem }] = await Promise.all([import('../playbook/load.ts'), import('../runner/play-roles.ts')]);
  const playbook = await loadPlaybook(playbookFile);
  const roles = await loadPlayRoles(playbook);
  return inventories.map((inventory) => missingClusterProblem(inventory, playbook, roles)).filter((problem): problem is UserError => problem !== undefined);
}

export function registerLintCommand(program: Command): void {
  program
    .command('lint')
    .description("check the inventory's cluster description across hosts (addresses, timings, ownership of the IPVS table...) before anything is touched")
    .argument('[playbook]', 'also check that the inventory has what this playbook needs, as a run of it would (default: the inventory alone)')
    .option('-i, --inventory <file>', `inventory file; repeat it to check clusters that share a network against each other (default ${DEFAULT_INVENTORY})`, collect, [])
    .option('--rules', 'list the rules and exit', false)
    .action(async (playbookFile: string | undefined, flags: LintFlags) => {
      const print = (line: string) => process.stdout.write(`${line}\n`);
      if (flags.rules) {
        // The reason goes with each rule, as with each finding: a rule nobody understands gets switched off.
        for (const rule of [...ruleCatalogue(), UNSET_ENV_RULE]) print(`${rule.id.padEnd(26)} ${rule.severity.padEnd(7)} ${rule.summary}\n    ${rule.reason}`);
        return;
      }
      const files = flags.inventory.length > 0 ? flags.inventory : [DEFAULT_INVENTORY];
      // The loader (YAML, the schemas) only when there is something to load: not for --help or --rules.
      const { loadInventory } = await import('../inventory/load.ts');
      const inventories: Inventory[] = [];
      const unsetEnv: UnsetEnv[] = [];
      for (const file of files) {
        if (!existsSync(file)) throw new UserError(`inventory file not found: ${file}`, {}, 'give one with --inventory FILE');
        inventories.push(await loadInventory(file, { onUnsetEnv: (unset) => unsetEnv.push(unset) }));
      }
      const problems = playbookFile === undefined ? [] : await playbookProblems(playbookFile, inventories);
      const withoutCluster = inventories.filter((inventory) => inventory.cluster === undefined);
      if (problems.length === 0) for (const inventory of withoutCluster) print(`${inventory.file}: no cluster: section, nothing to lint`);
      // A file that several inventories share (their group_vars/all.yaml) is one finding, not one per inventory.
      const unsetOnce = [...new Map(unsetEnv.map((unset) => [`${unset.where.file}:${unset.where.line}:${unset.where.column}:${unset.variable}`, unset])).values()];
      const findings = [...unsetOnce.map(unsetEnvFinding), ...lintInventories(inventories)];
      if (problems.length > 0) {
        // The findings first, then the error a run of the playbook would stop on (exit 1).
        for (const finding of findings) print(formatFinding(finding));
        throwProblems(problems);
      }
      reportFindings(findings, print);
      const linted = inventories.length - withoutCluster.length;
      if (linted > 0 || findings.length > 0) print(findings.length === 0 ? `lint: no findings (${count(linted, 'cluster')})` : `lint: ${count(findings.length, 'warning')}, no errors`);
    });
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}
