// The facts script: one POSIX sh fragment that prints everything the parsers in this folder need,
// so facts cost no extra round trip (the runner sends it in the same execution as the first probes).
// It must run unchanged under dash, busybox sh and the bash 3 of CentOS 5, and never fail because
// a file or a command is missing: each missing thing just leaves its section empty.

/** Starts every section line of the output; a section runs until the next marker. */
export const factMarker = '@@provision-fact';

/** The sections the script prints, in order. The interface sections depend on the host's tools. */
export const factSections = {
  osRelease: 'os-release',
  redhatRelease: 'redhat-release',
  debianVersion: 'debian-version',
  nodename: 'uname-n',
  arch: 'uname-m',
  kernel: 'uname-r',
  user: 'user',
  systemdBooted: 'systemd-booted',
  upstartVersion: 'upstart-version',
  commands: 'commands',
  initScriptDirs: 'init-script-dirs',
  ipLink: 'ip-link',
  ipAddr: 'ip-addr',
  ifconfig: 'ifconfig',
} as const;

export type FactSection = (typeof factSections)[keyof typeof factSections];

const interfaceSections: readonly FactSection[] = [factSections.ipLink, factSections.ipAddr, factSections.ifconfig];

/** The sections printed on every host, in order; then come ip-link and ip-addr, or ifconfig. */
export const alwaysPrintedSections: readonly FactSection[] = Object.values(factSections).filter((name) => !interfaceSections.includes(name));

/** Commands whose presence decides the package manager and the init system. */
export const probedCommands = ['dnf', 'yum', 'apt-get', 'openrc'] as const;

const s = factSections;

/**
 * The script. It runs in its own subshell so that its PATH, locale, errexit setting and helper
 * function do not leak into the probes that follow it.
 */
export function factsScript(): string {
  return `(
set +e
LC_ALL=C; export LC_ALL
# sudo on EL5 keeps the caller's PATH, which lacks the sbin directories where ip and ifconfig live.
# Appended, not prepended: the host's own choice of tools comes first.
PATH="\${PATH:+$PATH:}/usr/local/sbin:/usr/sbin:/sbin:/usr/bin:/bin"; export PATH
provision_fact() { printf '%s %s\\n' '${factMarker}' "$1"; }
# cat and then echo: a file without a final newline must not glue its last line to the next marker.
provision_file() { if [ -r "$1" ]; then cat "$1"; echo; fi; }
provision_fact ${s.osRelease}
# os-release(5): /etc/os-release wins; /usr/lib/os-release is the fallback.
if [ -r /etc/os-release ]; then provision_file /etc/os-release; else provision_file /usr/lib/os-release; fi
provision_fact ${s.redhatRelease}
provision_file /etc/redhat-release
provision_fact ${s.debianVersion}
provision_file /etc/debian_version
# One uname for the three (POSIX fixes the order: nodename, release, machine); each one alone
# where that fails or does not give three words.
if provision_uname=$(uname -n -r -m 2>/dev/null); then set -f; set -- $provision_uname; set +f; else set --; fi
provision_fact ${s.nodename}
if [ $# -eq 3 ]; then echo "$1"; else uname -n; fi
provision_fact ${s.arch}
if [ $# -eq 3 ]; then echo "$3"; else uname -m; fi
provision_fact ${s.kernel}
if [ $# -eq 3 ]; then echo "$2"; else uname -r; fi
provision_fact ${s.user}
id -un 2>/dev/null || whoami 2>/dev/null
provision_fact ${s.systemdBooted}
# sd_booted(3): systemd is the running init exactly when this directory exists.
if [ -d /run/systemd/system ]; then echo yes; else echo no; fi
provision_fact ${s.upstartVersion}
# Ubuntu's own init_is_upstart test: ask the running init. "initctl --version" would answer even
# where upstart is installed but not running, and /sbin/init --version acts as telinit under sysvinit.
if [ ! -d /run/systemd/system ] && command -v initctl >/dev/null 2>&1; then initctl version 2>/dev/null; fi
provision_fact ${s.commands}
for provision_command in ${probedCommands.join(' ')}; do command -v "$provision_command" 2>/dev/null; done
provision_fact ${s.initScriptDirs}
for provision_dir in /etc/init.d /etc/rc.d/init.d; do if [ -d "$provision_dir" ]; then echo "$provision_dir"; fi; done
# ip sees addresses that ifconfig hides (heartbeat's IPaddr2 adds them without a label), so ifconfig
# is only the fallback for hosts without a working ip.
provision_links=$(ip -o link show 2>/dev/null)
if [ -n "$provision_links" ]; then
  provision_fact ${s.ipLink}
  printf '%s\\n' "$provision_links"
  provision_fact ${s.ipAddr}
  ip -o addr show 2>/dev/null
else
  provision_fact ${s.ifconfig}
  ifconfig -a 2>/dev/null
fi
:
)`;
}
