// A module resolve hook of the compiled CLI (registered by typescript-roles.ts, run by Node on its
// hooks thread): an import of one of provision's own sources (src/*.ts, roles/*/*.ts, the way a
// project's roles import the role API) resolves to the compiled copy the CLI itself runs, so a
// project's role and the runner share one instance of each module (OperationError, the known
// secrets...). A source without a compiled copy stays as it is (tsx compiles it).
import { existsSync } from 'node:fs';
import type { InitializeHook, ResolveHook } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export interface CompiledSourcesData {
  /** the project directory (holds src/ and roles/) */
  projectDir: string;
  /** where their compiled copies are (dist/) */
  codeDir: string;
}

let dirs: CompiledSourcesData | undefined;

export const initialize: InitializeHook<CompiledSourcesData> = (data) => {
  dirs = data;
};

export const resolve: ResolveHook = async (specifier, context, nextResolve) => {
  const resolved = await nextResolve(specifier, context);
  if (dirs === undefined || !resolved.url.startsWith('file:')) return resolved;
  const relative = path.relative(dirs.projectDir, fileURLToPath(resolved.url)).split(path.sep).join('/');
  if (!/^(src|roles)\/.*\.m?ts$/.test(relative)) return resolved;
  const compiled = path.join(dirs.codeDir, relative.replace(/\.ts$/, '.js').replace(/\.mts$/, '.mjs'));
  return existsSync(compiled) ? { ...resolved, url: pathToFileURL(compiled).href, format: 'module' } : resolved;
};
