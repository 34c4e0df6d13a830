// The API a role is written with: `import { defineRole, ops, sh } from 'provision'` (or a relative
// path to this file for the roles in this repository).
export { defineRole, type Role, type RoleContext, type Task, type Handler, type HostInfo } from './core/task.ts';
// Typed role variables: roleVariables({ name: { type: Type.String(...), default: '' } }) gives a
// role's `defaults` and `types`; value-types.ts has the grammars of values that land in files.
export { roleVariables } from './core/role-variables.ts';
export { Type } from '@sinclair/typebox';
export * as valueTypes from './inventory/value-types.ts';
export { sh, quote, raw } from './core/shell.ts';
export type { Facts, OsFamily } from './core/facts.ts';
export { OperationError, StateError, type Operation, type Plan, type Deferred } from './core/operation.ts';

import { absent } from './operations/absent.ts';
import { block } from './operations/block.ts';
import { command } from './operations/command.ts';
import { directory } from './operations/directory.ts';
import { file } from './operations/file.ts';
import { group } from './operations/group.ts';
import { line } from './operations/line.ts';
import { packages } from './operations/packages.ts';
import { service } from './operations/service.ts';
import { shellVar } from './operations/shell-var.ts';
import { sourceBuild } from './operations/source-build.ts';
import { sysctl } from './operations/sysctl.ts';
import { user } from './operations/user.ts';

/** Every operation a task can use; each is one file in src/operations/. */
export const ops = { file, directory, absent, line, block, command, sourceBuild, packages, service, sysctl, user, group, shellVar };
export { shellAssignment } from './operations/shell-var.ts';
