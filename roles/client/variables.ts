// The client role's variables: defaults and types (checked when the inventory loads and before a run).
import { Type } from '@sinclair/typebox';
import { roleVariables } from '../../src/core/role-variables.ts';
import { PackageName } from '../../src/inventory/value-types.ts';

export const clientVariables = roleVariables({
  /** what a client needs to try the virtual services; the lab's offline mirror serves curl */
  client_packages: { type: Type.Array(PackageName, { maxItems: 100, expected: 'a list of package names, e.g. [curl]' }), default: ['curl'] },
});
