// The programs the lab runs on this machine, with the Debian package that provides each, so a
// missing one is reported as the package to install instead of a spawn ENOENT.
import { access, constants } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { UserError } from '../../core/errors.ts';

export interface RequiredTool {
  command: string;
  /** the Debian package that installs it */
  debianPackage: string;
}

/** The full path of `command` in PATH (plus the sbin directories root's PATH may lack), or undefined. */
export async function findCommand(command: string): Promise<string | undefined> {
  const directories = [...(process.env.PATH ?? '').split(delimiter), '/usr/local/sbin', '/usr/sbin', '/sbin'].filter((dir) => dir !== '');
  for (const dir of directories) {
    const path = join(dir, command);
    if (await access(path, constants.X_OK).then(() => true, () => false)) return path;
  }
  return undefined;
}

/** Throws one UserError naming every missing program and the packages to install. */
export async function requireTools(what: string, tools: readonly RequiredTool[]): Promise<void> {
  const missing: RequiredTool[] = [];
  for (const tool of tools) if ((await findCommand(tool.command)) === undefined) missing.push(tool);
  if (missing.length === 0) return;
  const packages = [...new Set(missing.map((tool) => tool.debianPackage))];
  throw new UserError(
    `${what} needs ${missing.map((tool) => tool.command).join(', ')}, which this machine lacks`,
    {},
    `install them: apt-get install ${packages.join(' ')}`,
  );
}
