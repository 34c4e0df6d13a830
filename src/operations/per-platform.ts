// Values that differ between the platforms this project supports (a package called arptables_jf on
// EL5 and arptables elsewhere, a service called apache2 on Debian and httpd on EL), keyed by
// platform selectors. The most specific selector that a host matches wins.
import type { Facts } from '../core/facts.ts';
import { OperationError } from '../core/operation.ts';

export const platformSelectors = [
  'el5',
  'el6',
  'el7',
  'el8',
  'el9',
  'el',
  'debian11',
  'debian12',
  'debian',
  'ubuntu2204',
  'ubuntu2404',
  'ubuntu',
  'default',
] as const;

export type PlatformSelector = (typeof platformSelectors)[number];

/** e.g. `{ el5: ['arptables_jf'], el: ['arptables'], debian: ['arptables'] }` */
export type PerPlatform<T> = Partial<Record<PlatformSelector, T>>;

/**
 * The selectors a host matches, most specific first. Ubuntu is of the Debian family and shares most
 * package and service names with Debian, so `debian` applies to Ubuntu hosts too unless an `ubuntu`
 * selector says otherwise.
 */
export function selectorsFor(facts: Facts): string[] {
  const { family, distro, version, major } = facts.os;
  if (family === 'el') return [`el${major}`, 'el', 'default'];
  if (family === 'debian') {
    if (distro === 'ubuntu') {
      const [year = '', month = ''] = version.split('.');
      return [`ubuntu${year}${month}`, 'ubuntu', 'debian', 'default'];
    }
    return [`debian${major}`, 'debian', 'default'];
  }
  return ['default'];
}

/**
 * Checks the keys of a per-platform map when an operation is built, so that a typo ("el10",
 * "centos") fails at once instead of reading as "no value for this platform" on some host later.
 */
export function checkSelectors(what: string, map: Readonly<Record<string, unknown>>): void {
  const known: readonly string[] = platformSelectors;
  for (const key of Object.keys(map)) {
    if (!known.includes(key)) {
      throw new OperationError(`${what}: unknown platform selector "${key}"; use one of ${platformSelectors.join(', ')}`);
    }
  }
}

/**
 * The value of the most specific selector the host matches. `what` names the map in the error, e.g.
 * "package name" and "names" give: no package name for CentOS release 5.6 (Final); add names.el5
 * (or one of names.el, names.default).
 */
export function pickForPlatform<T>(map: PerPlatform<T>, facts: Facts, what: { noun: string; option: string }): T {
  const selectors = selectorsFor(facts);
  for (const selector of selectors) {
    const value = (map as Readonly<Record<string, T | undefined>>)[selector];
    if (value !== undefined) return value;
  }
  const [mostSpecific = 'default', ...broader] = selectors;
  const alternatives = broader.length > 0 ? ` (or one of ${broader.map((s) => `${what.option}.${s}`).join(', ')})` : '';
  const os = facts.os.pretty || `${facts.os.distro} ${facts.os.version}`.trim();
  throw new OperationError(`no ${what.noun} for ${os}; add ${what.option}.${mostSpecific}${alternatives}`);
}

/** Every value of a map, for probes: they run before the facts are known, so they ask about all. */
export function allValues<T>(map: PerPlatform<T>): T[] {
  return Object.values(map).filter((value): value is T => value !== undefined);
}
