// Which OS a host runs, from /etc/os-release (EL7+, Debian 7+, Ubuntu, Alpine) or, where it does not
// exist (CentOS/RHEL 5 and 6), from /etc/redhat-release and /etc/debian_version.
import type { Facts, OsFamily } from '../core/facts.ts';

export type OsFact = Facts['os'];

export interface OsSources {
  /** content of /etc/os-release, '' when absent */
  osRelease: string;
  /** content of /etc/redhat-release, '' when absent */
  redhatRelease: string;
  /** content of /etc/debian_version, '' when absent */
  debianVersion: string;
}

/** The key=value pairs of an os-release file, values unquoted as os-release(5) describes. */
export function parseOsRelease(text: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const match = /^\s*([A-Za-z0-9_]+)=(.*?)\s*$/.exec(line);
    if (!match) continue; // blank lines and comments
    const [, key = '', value = ''] = match;
    fields[key] = unquoteOsReleaseValue(value);
  }
  return fields;
}

function unquoteOsReleaseValue(value: string): string {
  if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) {
    // Inside double quotes, os-release allows shell-style escapes of $ " \ and `.
    return value.slice(1, -1).replace(/\\([$"\\`])/g, '$1');
  }
  if (value.length >= 2 && value.startsWith("'") && value.endsWith("'")) return value.slice(1, -1);
  return value;
}

export interface RedhatRelease {
  /** the product name before "release", e.g. "Red Hat Enterprise Linux Server" */
  name: string;
  /** os-release style ID of that product, e.g. "rhel" */
  distro: string;
  /** e.g. "5.11", "7.9.2009" */
  version: string;
  /** the whole line, e.g. "CentOS release 5.6 (Final)" */
  line: string;
}

// Products that write /etc/redhat-release, mapped to the ID their os-release uses (or would use:
// EL5/6 predate os-release). Oracle Linux 5 calls itself "Enterprise Linux Enterprise Linux Server".
const redhatReleaseProducts: ReadonlyArray<readonly [RegExp, string]> = [
  [/^CentOS\b/i, 'centos'],
  [/^Red Hat Enterprise Linux\b/i, 'rhel'],
  [/^Rocky Linux\b/i, 'rocky'],
  [/^AlmaLinux\b/i, 'almalinux'],
  [/^(Oracle Linux|Enterprise Linux Enterprise Linux)\b/i, 'ol'],
  [/^Scientific Linux\b/i, 'scientific'],
  [/^CloudLinux\b/i, 'cloudlinux'],
  [/^Fedora\b/i, 'fedora'],
];

/** Parses e.g. "CentOS release 5.6 (Final)"; undefined when the text is not such a line. */
export function parseRedhatRelease(text: string): RedhatRelease | undefined {
  const line = firstLine(text);
  const match = /^(.+?)\s+release\s+(\d[0-9.]*)/i.exec(line);
  if (!match) return undefined;
  const [, name = '', version = ''] = match;
  const product = redhatReleaseProducts.find(([pattern]) => pattern.test(name));
  return { name, distro: product ? product[1] : slug(name), version: version.replace(/\.$/, ''), line };
}

// RHEL and its rebuilds share RHEL's release numbers, which is what `major` promises for family el.
// Fedora is not one of them (its releases are unrelated numbers), nor is Amazon Linux, although its
// os-release says ID_LIKE="centos rhel fedora": its version 2 or 2023 is no EL major.
const elDistros = new Set(['rhel', 'centos', 'rocky', 'almalinux', 'ol', 'scientific', 'cloudlinux']);
const notElDistros = new Set(['fedora', 'amzn']);
// Debian derivatives such as Linux Mint number their releases their own way, so only these three
// (whose version is Debian's or Ubuntu's) are family debian.
const debianDistros = new Set(['debian', 'ubuntu', 'raspbian']);

function familyOf(distro: string, idLike: string[]): OsFamily {
  if (debianDistros.has(distro)) return 'debian';
  if (notElDistros.has(distro)) return 'unknown';
  if (elDistros.has(distro) || idLike.includes('rhel') || idLike.includes('centos')) return 'el';
  return 'unknown';
}

/** The OS of a host from whichever of its release files exist. */
export function detectOs(sources: OsSources): OsFact {
  const osRelease = parseOsRelease(sources.osRelease);
  const redhat = parseRedhatRelease(sources.redhatRelease);
  const debianVersion = firstLine(sources.debianVersion);

  if (osRelease.ID !== undefined && osRelease.ID !== '') {
    const distro = osRelease.ID.toLowerCase();
    const family = familyOf(distro, (osRelease.ID_LIKE ?? '').toLowerCase().split(/\s+/));
    let version = osRelease.VERSION_ID ?? '';
    // EL7's os-release says only "7"; redhat-release has the full "7.9.2009".
    if (family === 'el' && redhat && majorOf(redhat.version) === majorOf(version)) version = redhat.version;
    // Debian testing and unstable have no VERSION_ID; debian_version then says e.g. "trixie/sid".
    if (version === '' && family === 'debian') version = debianVersion;
    const pretty = osRelease.PRETTY_NAME ?? ([osRelease.NAME, version].filter(Boolean).join(' ') || distro);
    return { family, distro, version, major: majorOf(version), pretty };
  }

  if (redhat) {
    return {
      // Without os-release, whatever writes redhat-release is RHEL or a rebuild of it, unless Fedora.
      family: notElDistros.has(redhat.distro) ? 'unknown' : 'el',
      distro: redhat.distro,
      version: redhat.version,
      major: majorOf(redhat.version),
      pretty: redhat.line,
    };
  }

  if (debianVersion !== '') {
    // Debian before 7 had no os-release; Ubuntu always has one, so this is Debian itself.
    return { family: 'debian', distro: 'debian', version: debianVersion, major: majorOf(debianVersion), pretty: `Debian ${debianVersion}` };
  }

  return { family: 'unknown', distro: 'unknown', version: '', major: 0, pretty: '' };
}

/** The leading number of a version ("5.11" -> 5, "24.04" -> 24); 0 when there is none ("trixie/sid"). */
export function majorOf(version: string): number {
  const match = /^\d+/.exec(version);
  return match ? Number(match[0]) : 0;
}

function firstLine(text: string): string {
  return (text.split('\n').find((line) => line.trim() !== '') ?? '').trim();
}

function slug(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
}
