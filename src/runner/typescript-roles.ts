// The compiled CLI runs without tsx. A role it has no compiled copy of (a project's own roles,
// written in TypeScript) needs it: the first such role registers tsx, and a resolve hook that gives
// the role's imports of provision's sources the compiled copies the CLI runs
// (compiled-sources-hook.ts). A run with only built-in roles never loads tsx.
import { register } from 'node:module';
import { codeDir, projectDir } from '../core/project-dir.ts';
import type { CompiledSourcesData } from './compiled-sources-hook.ts';

let registered: Promise<void> | undefined;

export function enableTypeScriptRoles(): Promise<void> {
  registered ??= (async () => {
    const tsx = await import('tsx/esm/api');
    tsx.register();
    // Registered after tsx, so it runs first and sees what tsx resolved.
    register<CompiledSourcesData>(new URL('./compiled-sources-hook.js', import.meta.url), { data: { projectDir, codeDir } });
  })();
  return registered;
}
