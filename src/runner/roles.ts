// Finding and loading roles: roles/<name>/index.ts, whose default export comes from defineRole.
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { UserError, type ErrorLocation } from '../core/errors.ts';
import { codeDir, projectDir, runningCompiled } from '../core/project-dir.ts';
import type { Role } from '../core/task.ts';
import { suggest } from '../core/suggest.ts';

/** The roles that ship with provision, used when the playbook's own roles/ has no such role. */
export const builtinRolesDir = path.join(projectDir, 'roles');

export function roleSearchPath(playbookFile: string): string[] {
  const dir = path.dirname(path.resolve(playbookFile));
  return [...new Set([path.join(dir, 'roles'), path.join(dir, '..', 'roles'), builtinRolesDir])];
}

const ROLE_ENTRY_FILES = ['index.ts', 'index.mts', 'index.js', 'index.mjs'];

export async function loadRole(name: string, searchPath: string[], where: ErrorLocation): Promise<Role> {
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(name)) {
    throw new UserError(`invalid role name '${name}'`, where, 'role names are folder names: letters, digits, _ . -');
  }
  for (const dir of searchPath) {
    for (const entry of ROLE_ENTRY_FILES) {
      const file = path.join(dir, name, entry);
      if (!existsSync(file)) continue;
      const module = await importRole(file, where);
      const role = module.default;
      if (!role || typeof role.tasks !== 'function' || typeof role.defaults !== 'object') {
        throw new UserError(`${file} does not export a role`, where, 'export default defineRole({ name, defaults, tasks })');
      }
      return role;
    }
  }
  const known = searchPath.flatMap((dir) => (existsSync(dir) ? readdirSync(dir) : []));
  const hint = suggest(name, known);
  throw new UserError(
    `unknown role '${name}'`,
    where,
    `${hint ? `did you mean '${hint}'? ` : ''}roles are looked up in: ${searchPath.join(', ')}`,
  );
}

/**
 * What to import for a role's entry file. The compiled CLI (dist/) imports a built-in role's compiled
 * copy (bin/provision.js runs dist/ only when it was built from the sources as they are); for any
 * other role it registers tsx first (typescript-roles.ts). From the sources, tsx is registered already.
 */
async function roleModuleUrl(file: string): Promise<string> {
  if (!runningCompiled) return pathToFileURL(file).href;
  const builtin = path.relative(builtinRolesDir, file);
  if (!builtin.startsWith('..') && !path.isAbsolute(builtin) && /\.m?ts$/.test(builtin)) {
    const compiled = path.join(codeDir, 'roles', builtin.replace(/\.ts$/, '.js').replace(/\.mts$/, '.mjs'));
    if (existsSync(compiled)) return pathToFileURL(compiled).href;
  }
  const { enableTypeScriptRoles } = await import('./typescript-roles.ts');
  await enableTypeScriptRoles();
  return pathToFileURL(file).href;
}

async function importRole(file: string, where: ErrorLocation): Promise<{ default?: Role }> {
  try {
    return (await import(await roleModuleUrl(file))) as { default?: Role };
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'ERR_REQUIRE_CYCLE_MODULE' || code === 'ERR_REQUIRE_ESM') {
      throw new UserError(
        `${file} was loaded as CommonJS`,
        where,
        'roles are ES modules: add {"type": "module"} to the package.json beside your roles/, or name the file index.mts',
      );
    }
    if (error instanceof SyntaxError) throw new UserError(`${file} does not compile: ${error.message}`, where);
    throw error;
  }
}
