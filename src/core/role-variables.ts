// A role's variables as an Ansible module's argument_spec: each has a default and a type (a
// typebox schema with the grammar of the place its value lands in, src/inventory/value-types.ts).
// Values are checked where they enter, before any host is touched: the inventory's when it loads
// (src/inventory/role-variables.ts, for the built-in roles), and every merged value, -e and play
// vars included, before a run starts (src/runner/role-vars.ts).
import type { Static, TSchema } from '@sinclair/typebox';

export interface VariableSpec<T extends TSchema = TSchema> {
  type: T;
  default: Static<T>;
}

export interface RoleVariables<V extends Record<string, unknown>> {
  defaults: V;
  types: { [K in keyof V]: TSchema };
}

/** { name: { type, default } } -> the role's `defaults` and `types`, typed from the schemas. */
export function roleVariables<S extends Record<string, VariableSpec>>(specs: S): RoleVariables<{ [K in keyof S]: Static<S[K]['type']> }> {
  const defaults = Object.fromEntries(Object.entries(specs).map(([name, spec]) => [name, spec.default]));
  const types = Object.fromEntries(Object.entries(specs).map(([name, spec]) => [name, spec.type]));
  return { defaults, types } as RoleVariables<{ [K in keyof S]: Static<S[K]['type']> }>;
}
