// Checking role variables against their types (src/core/role-variables.ts), where their values
// enter: the inventory's variables of the built-in roles when the inventory loads (so `provision
// lint` and every run refuse the same values), and every role's merged variables before a run
// (src/runner/run-playbook.ts). Each problem points at the file:line that set the value.
import type { TSchema } from '@sinclair/typebox';
import { baseVariables } from '../../roles/base/variables.ts';
import { clientVariables } from '../../roles/client/variables.ts';
import { realserverVariables } from '../../roles/realserver/variables.ts';
import { UserError } from '../core/errors.ts';
import { interpolateVars } from './interpolate.ts';
import type { InventoryHost } from './model.ts';
import type { VarOrigin } from './precedence.ts';
import { compileValueChecker } from './validate.ts';

type Types = Readonly<Record<string, TSchema | undefined>>;

/** The variables of the roles that ship with provision, by role: their values are known to reach targets. */
export const BUILTIN_ROLE_VARIABLES: ReadonlyArray<{ role: string; types: Types }> = [
  { role: 'base', types: baseVariables.types },
  { role: 'realserver', types: realserverVariables.types },
  { role: 'client', types: clientVariables.types },
];

const checkers = new WeakMap<TSchema, ReturnType<typeof compileValueChecker>>();
function checkerOf(schema: TSchema): ReturnType<typeof compileValueChecker> {
  let checker = checkers.get(schema);
  if (checker === undefined) {
    checker = compileValueChecker(schema);
    checkers.set(schema, checker);
  }
  return checker;
}

/** Every variable of `vars` that `types` declares and whose value does not fit, as a problem at its origin. */
export function roleVariableProblems(
  role: string,
  types: Types,
  vars: Readonly<Record<string, unknown>>,
  origin: Readonly<Record<string, VarOrigin>>,
  secrets: ReadonlySet<string>,
  host?: string,
): UserError[] {
  const problems: UserError[] = [];
  for (const [name, schema] of Object.entries(types)) {
    if (schema === undefined || !Object.hasOwn(vars, name)) continue;
    const wrong = checkerOf(schema)(vars[name], secrets);
    if (wrong === undefined) continue;
    const from = origin[name];
    const where = from?.file === undefined ? {} : { file: from.file, ...(from.line === undefined ? {} : { line: from.line }), ...(from.column === undefined ? {} : { column: from.column }) };
    const set = from === undefined ? '' : from.file === undefined ? ` (set in ${from.layer})` : '';
    problems.push(
      new UserError(
        `variable ${name} of role ${role}${set}: ${wrong}`,
        { ...where, ...(host === undefined ? {} : { host }) },
        `the role writes ${name} into a file or command on the host; fix the value where it is set`,
      ),
    );
  }
  return problems;
}

/**
 * The built-in roles' variables as each host's inventory sets them (group and host vars, group_vars/
 * and host_vars/), after {{ }} interpolation. A value set once for a group is reported once.
 */
export function inventoryRoleVariableProblems(hosts: Iterable<InventoryHost>, secrets: ReadonlySet<string>): UserError[] {
  const seen = new Set<string>();
  const problems: UserError[] = [];
  for (const host of hosts) {
    let vars: Record<string, unknown>;
    try {
      vars = interpolateVars(host.vars, host.varOrigin, { literal: secrets });
    } catch {
      // A reference that only a play or -e can satisfy: checked before the run, with every layer.
      vars = Object.fromEntries(Object.entries(host.vars).filter(([, value]) => !JSON.stringify(value ?? null).includes('{{')));
    }
    for (const { role, types } of BUILTIN_ROLE_VARIABLES) {
      for (const problem of roleVariableProblems(role, types, vars, host.varOrigin, secrets)) {
        // A value written in a file is reported once, however many hosts it reaches.
        const key = problem.format();
        if (seen.has(key)) continue;
        seen.add(key);
        problems.push(problem.where.file === undefined ? new UserError(problem.message, { host: host.name }, problem.hint) : problem);
      }
    }
  }
  return problems;
}
