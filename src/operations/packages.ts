// packages: OS packages installed, removed or kept at the newest version, through the package
// manager of the host (apt on Debian and Ubuntu, yum on EL5-7, dnf on EL8+).
import type { Facts, PackageManager } from '../core/facts.ts';
import { noChange, OperationError, type Operation, type Plan, type ProbeOutput } from '../core/operation.ts';
import { quote } from '../core/shell.ts';
import { PACKAGE_NAME_PATTERN } from '../inventory/value-types.ts';
import { allValues, checkSelectors, pickForPlatform, type PerPlatform } from './per-platform.ts';
import { parseRecords, restOf, sbinPath, type ProbeRecord } from './system-probe.ts';

/** The same names everywhere, or names per platform (an empty list: nothing to do there). */
export type PackageNames = string[] | PerPlatform<string[]>;

export type PackageState = 'present' | 'absent' | 'latest';

export interface PackagesOptions {
  names: PackageNames;
  /** default 'present' */
  state?: PackageState;
  /**
   * Refresh the package lists (apt-get update; yum/dnf makecache) before installing or upgrading.
   * It runs only when something is to be installed or upgraded: the probe reads the lists as they
   * are, so 'latest' compares with the versions known since the last refresh.
   */
  updateCache?: boolean;
}

// No shell or glob characters, so the probe can loop over them unquoted.
const packageNamePattern = new RegExp(PACKAGE_NAME_PATTERN);

export function packages(options: PackagesOptions): Operation {
  const state = options.state ?? 'present';
  const updateCache = options.updateCache ?? false;
  const names = options.names;
  if (!Array.isArray(names)) checkSelectors('packages names', names);
  const candidates = unique(Array.isArray(names) ? names : allValues(names).flat());
  for (const name of candidates) {
    if (!packageNamePattern.test(name)) {
      throw new OperationError(`packages: ${JSON.stringify(name)} is not a package name (letters, digits and . _ + : ~ - only)`);
    }
  }
  return {
    kind: 'packages',
    target: candidates.join(', '),
    probe: () => packagesProbe(candidates, state === 'latest'),
    plan(facts: Facts, probed: ProbeOutput): Plan {
      const wanted = unique(Array.isArray(names) ? names : pickForPlatform(names, facts, { noun: 'package name', option: 'names' }));
      if (wanted.length === 0) return noChange(`no packages to manage on ${facts.os.pretty}`);
      const manager = managerOf(facts);
      const db = readDatabase(manager, parseRecords(probed.stdout));
      const missing = wanted.filter((name) => !db.installed.has(name));
      const present = wanted.filter((name) => db.installed.has(name));
      const change: PackageChange = { install: [], upgrade: [], remove: [] };
      if (state === 'absent') change.remove = present.map((name) => ({ name, from: db.installed.get(name) ?? '' }));
      else change.install = missing;
      if (state === 'latest') change.upgrade = present.flatMap((name) => db.updateOf(name));
      if (change.install.length + change.upgrade.length + change.remove.length === 0) return noChange();
      return { changed: true, summary: describe(change), script: changeScript(manager, change, updateCache).join('\n') };
    },
  };
}

function unique(names: string[]): string[] {
  return [...new Set(names)];
}

type Manager = Exclude<PackageManager, 'unknown'>;

function managerOf(facts: Facts): Manager {
  if (facts.packageManager === 'unknown') {
    throw new OperationError(`no supported package manager on ${facts.os.pretty || 'this host'}; packages needs apt, yum or dnf`);
  }
  return facts.packageManager;
}

interface Upgrade {
  name: string;
  from: string;
  to: string;
}

interface PackageChange {
  install: string[];
  upgrade: Upgrade[];
  remove: Array<{ name: string; from: string }>;
}

// The probe runs before the facts are known, so it asks every package database the host has (a
// Debian host may have rpm installed, an EL host dpkg) and tags each record with its source; the
// planner reads the database of the package manager the facts name.
//
// Records:
//   database <dpkg|rpm>                    the tool exists
//   dpkg <name> <status> <version>         one per installed instance (dpkg-query -W)
//   rpm <name> <version-release>           one per installed instance; none when not installed
//   apt-policy <name> <installed> <candidate>
//   check-update <yum|dnf> <exit code>     then: update <name.arch> <version> | check-update-error <line>
function packagesProbe(names: string[], checkUpdates: boolean): string {
  const list = names.map(quote).join(' ');
  const lines = [
    sbinPath,
    // Prints each stdin line after the arguments, TAB-separated.
    `provision_emit() { while IFS= read -r provision_line; do printf '%s\\t' "$@"; printf '%s\\n' "$provision_line"; done; }`,
    'if command -v dpkg-query >/dev/null 2>&1; then',
    `  printf 'database\\tdpkg\\n'`,
    `  for provision_name in ${list}; do`,
    `    dpkg-query -W -f='\${Status}\\t\${Version}\\n' "$provision_name" 2>/dev/null | provision_emit dpkg "$provision_name"`,
    '  done',
  ];
  if (checkUpdates) {
    lines.push(
      // One call for all names: apt-cache loads the package lists each time it starts (~0.5 s).
      `  apt-cache policy ${list} 2>/dev/null | awk ${quote(aptPolicyAwk)}`,
    );
  }
  lines.push(
    'fi',
    'if command -v rpm >/dev/null 2>&1; then',
    `  printf 'database\\trpm\\n'`,
    `  provision_installed=`,
    `  for provision_name in ${list}; do`,
    // rpm -q prints "package X is not installed" on stdout, so only its exit status tells.
    `    if provision_versions=$(rpm -q --qf '%{VERSION}-%{RELEASE}\\n' "$provision_name" 2>/dev/null); then`,
    `      printf '%s\\n' "$provision_versions" | provision_emit rpm "$provision_name"`,
    `      provision_installed="$provision_installed $provision_name"`,
    '    fi',
    '  done',
  );
  if (checkUpdates) {
    lines.push(
      '  if [ -n "$provision_installed" ]; then',
      // On EL8+ yum is dnf under another name; dnf on EL7 reads the same repositories as yum.
      '    if command -v dnf >/dev/null 2>&1; then provision_updater=dnf; else provision_updater=yum; fi',
      // check-update exits 100 when there are updates, 0 when there are none, 1 on an error.
      '    provision_updates=$($provision_updater -q check-update $provision_installed 2>&1)',
      '    provision_rc=$?',
      `    printf 'check-update\\t%s\\t%s\\n' "$provision_updater" "$provision_rc"`,
      '    case $provision_rc in',
      `      0|100) printf '%s\\n' "$provision_updates" | awk ${quote(checkUpdateAwk)} ;;`,
      `      *) printf '%s\\n' "$provision_updates" | head -n 20 | provision_emit check-update-error ;;`,
      '    esac',
      '  fi',
    );
  }
  lines.push('fi');
  return lines.join('\n');
}

// A block per name it knows: "NAME:" at the start of a line, then "  Installed: VERSION" and
// "  Candidate: VERSION", "(none)" when there is none. Names it does not know print no block.
const aptPolicyAwk = [
  'function flush() { if (name != "" && candidate != "") printf "apt-policy\\t%s\\t%s\\t%s\\n", name, installed, candidate }',
  '/^[^ \\t]/ { flush(); name = $0; sub(/:$/, "", name); installed = ""; candidate = "" }',
  '$1 == "Installed:" { installed = $2 }',
  '$1 == "Candidate:" { candidate = $2 }',
  'END { flush() }',
].join('\n');

// "name.arch  version  repo" lines; yum puts the version on the next, indented line when name.arch
// is too long for its column. Only update lines are printed, so the probe's output does not change
// with messages such as dnf's "Last metadata expiration check: 0:12:34 ago".
const checkUpdateAwk = [
  '{',
  '  line = $0',
  '  if (pending != "") { if (line ~ /^[ \\t]/) line = pending " " line; pending = "" }',
  '  if (line ~ /^Obsoleting/) exit',
  '  if (line ~ /^[ \\t]/) next',
  '  n = split(line, field, " ")',
  '  if (n == 1 && field[1] ~ /\\./) pending = field[1]',
  '  else if (n == 3 && field[1] ~ /\\./) printf "update\\t%s\\t%s\\n", field[1], field[2]',
  '}',
].join('\n');

interface PackageDatabase {
  /** installed name -> its version(s), e.g. "9.1-1" or "2.6.18-238.el5 2.6.18-274.el5" */
  installed: Map<string, string>;
  /** the upgrade of an installed package, or none when it is at the newest version */
  updateOf(name: string): Upgrade[];
}

function readDatabase(manager: Manager, records: ProbeRecord[]): PackageDatabase {
  const db = manager === 'apt' ? 'dpkg' : 'rpm';
  if (!records.some((r) => r.kind === 'database' && r.fields[0] === db)) {
    const tool = db === 'dpkg' ? 'dpkg-query' : 'rpm';
    throw new OperationError(`the facts name ${manager} as package manager, but ${tool} was not found on the host; is PATH complete?`);
  }
  const versions = new Map<string, string[]>();
  for (const record of records) {
    const [name = '', ...rest] = record.fields;
    if (record.kind === 'rpm' && db === 'rpm') versions.set(name, [...(versions.get(name) ?? []), rest.join('\t')]);
    // "install ok installed"; also "hold ok installed" (installed and pinned). Not installed:
    // "deinstall ok config-files" (removed, configuration kept), "install ok half-installed" ...
    if (record.kind === 'dpkg' && db === 'dpkg' && /^(install|hold) ok installed$/.test(rest[0] ?? '')) {
      versions.set(name, [...(versions.get(name) ?? []), rest[1] ?? '']);
    }
  }
  const installed = new Map([...versions].map(([name, list]) => [name, list.join(' ')]));
  const updateOf = db === 'dpkg' ? aptUpdates(records) : rpmUpdates(records, installed);
  return { installed, updateOf };
}

function aptUpdates(records: ProbeRecord[]): (name: string) => Upgrade[] {
  const policies = new Map(records.filter((r) => r.kind === 'apt-policy').map((r) => [r.fields[0] ?? '', r.fields]));
  return (name) => {
    // apt-cache names a package of the native architecture without its ":amd64".
    const policy = policies.get(name) ?? policies.get(name.replace(/:[^:]*$/, ''));
    if (!policy) throw new OperationError(`apt-cache policy ${name} printed no candidate version on the host; is apt-cache installed?`);
    const [, installed = '', candidate = ''] = policy;
    // Without a pin of priority 1000 or more, apt's candidate is never older than the installed version.
    return candidate !== '(none)' && candidate !== installed ? [{ name, from: installed, to: candidate }] : [];
  };
}

function rpmUpdates(records: ProbeRecord[], installed: Map<string, string>): (name: string) => Upgrade[] {
  const check = records.find((r) => r.kind === 'check-update');
  const [tool = 'yum', exitCode = ''] = check?.fields ?? [];
  const updates = records.filter((r) => r.kind === 'update');
  return (name) => {
    if (!check) throw new Error('the probe did not check for updates of installed packages');
    if (exitCode !== '0' && exitCode !== '100') {
      const output = records.filter((r) => r.kind === 'check-update-error').map((r) => restOf(r, 0));
      throw new OperationError(`${tool} check-update failed (exit ${exitCode}) on the host: ${output.join(' / ') || 'no output'}; check its repositories`);
    }
    // The update line names "name.arch"; a requested name is either of the two forms.
    const update = updates.find(({ fields: [nameArch = ''] }) => nameArch === name || nameArch.replace(/\.[^.]*$/, '') === name);
    return update ? [{ name, from: installed.get(name) ?? '', to: update.fields[1] ?? '' }] : [];
  };
}

function describe(change: PackageChange): string {
  const parts: string[] = [];
  if (change.install.length > 0) parts.push(`install ${change.install.join(', ')}`);
  if (change.upgrade.length > 0) parts.push(`upgrade ${change.upgrade.map((u) => `${u.name} (${u.from} -> ${u.to})`).join(', ')}`);
  if (change.remove.length > 0) parts.push(`remove ${change.remove.map((r) => `${r.name} (${r.from})`).join(', ')}`);
  return parts.join('; ');
}

// Wait for dpkg's lock rather than fail at once: another apt (unattended-upgrades, or the script
// of a run whose connection dropped, which the host finishes) holds it for a while. apt before 1.9
// ignores the option and fails as before.
const aptGet = 'DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300';
// Keep the configuration files the user changed, without asking (there is no one to ask).
const aptInstall = `${aptGet} install -y -q -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold`;

function changeScript(manager: Manager, change: PackageChange, updateCache: boolean): string[] {
  const words = (names: string[]) => names.map(quote).join(' ');
  const upgrade = change.upgrade.map((u) => u.name);
  const remove = change.remove.map((r) => r.name);
  const adds = change.install.length + upgrade.length > 0;
  const lines: string[] = [];
  if (manager === 'apt') {
    if (updateCache && adds) lines.push(`${aptGet} update -q`);
    // apt-get install upgrades a named package that is installed already, so one command does both.
    // Package lists that predate a change of sources (a fresh image, a new mirror) know no
    // candidate for the package: refresh them once and try again, as a person would.
    const install = `${aptInstall} ${words([...change.install, ...upgrade])}`;
    if (adds) lines.push(updateCache ? install : `${install} || { ${aptGet} update -q && ${install}; }`);
    if (remove.length > 0) lines.push(`${aptGet} remove -y -q ${words(remove)}`);
    return lines;
  }
  if (updateCache && adds) lines.push(`${manager} -q makecache`);
  if (change.install.length > 0) {
    lines.push(`${manager} -y install ${words(change.install)}`);
    // yum 3 (EL5, EL6) exits 0 when a name matches no package ("No package X available. Nothing to
    // do"); rpm -q fails then, naming the package that is still missing.
    if (manager === 'yum') lines.push(`rpm -q ${words(change.install)}`);
  }
  if (upgrade.length > 0) lines.push(`${manager} -y ${manager === 'yum' ? 'update' : 'upgrade'} ${words(upgrade)}`);
  if (remove.length > 0) lines.push(`${manager} -y remove ${words(remove)}`);
  return lines;
}
