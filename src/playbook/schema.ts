// A playbook as the user writes it: the one definition of its JSON Schema (checked by ajv) and of
// its TypeScript types (Static<>). The model the runner uses is in model.ts.
import { Type, type Static } from '@sinclair/typebox';
import { Vars } from '../inventory/validate.ts';

export const Tags = Type.Array(Type.String({ pattern: '^[^\\s,]+$', expected: 'a tag (a word without spaces or commas)' }), {
  expected: 'a list of tags',
});

/** A role is the directory roles/<name>/, so its name cannot leave that directory. */
export const RoleName = Type.String({
  pattern: '^[A-Za-z0-9_][A-Za-z0-9_.-]*$',
  expected: 'a role name (the name of a directory under roles/: letters, digits, _ . -)',
});

export const RoleEntry = Type.Object(
  {
    role: RoleName,
    vars: Type.Optional(Vars),
    tags: Type.Optional(Tags),
  },
  { additionalProperties: false, unknownKeyHint: "role parameters go under 'vars:'" },
);
export type RoleEntry = Static<typeof RoleEntry>;

export const PlayEntry = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, expected: 'a name for the play' })),
    hosts: Type.String({ minLength: 1, pattern: '\\S', expected: 'a host pattern, e.g. directors:!lvs-backup' }),
    vars: Type.Optional(Vars),
    tags: Type.Optional(Tags),
    any_errors_fatal: Type.Optional(Type.Boolean()),
    roles: Type.Array(RoleEntry, { minItems: 1, expected: 'a list of roles' }),
  },
  { additionalProperties: false, unknownKeyHint: 'a play here runs roles only: put tasks in a role (roles/<name>/)' },
);
export type PlayEntry = Static<typeof PlayEntry>;

export const PlaybookFile = Type.Array(PlayEntry, { minItems: 1, expected: 'a list of plays (each item starting with "- hosts: ...")' });
export type PlaybookFile = Static<typeof PlaybookFile>;
