// Which package manager installs packages on a host, from its OS and the commands it has.
import type { PackageManager } from '../core/facts.ts';
import type { OsFact } from './os.ts';

/** Names of the package manager commands found on the host (`command -v`), e.g. ["yum", "dnf"]. */
export type AvailableCommands = ReadonlySet<string>;

export function choosePackageManager(os: OsFact, commands: AvailableCommands): PackageManager {
  const has = (command: string): boolean => commands.has(command);
  switch (os.family) {
    case 'debian':
      // Debian also packages dnf and (in old releases) yum; they never manage the system there.
      return has('apt-get') ? 'apt' : 'unknown';
    case 'el':
      // EL8+ ships yum as an alias of dnf: use dnf itself. On EL7 dnf may come from EPEL, but yum
      // remains the system's package manager.
      if (has('dnf') && (os.major >= 8 || !has('yum'))) return 'dnf';
      if (has('yum')) return 'yum';
      return 'unknown';
    case 'unknown':
      if (has('apt-get')) return 'apt';
      if (has('dnf')) return 'dnf';
      if (has('yum')) return 'yum';
      return 'unknown';
  }
}
