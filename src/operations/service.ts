// service: a system service enabled or disabled at boot and started, stopped, restarted or reloaded,
// through the host's init system: systemd (systemctl), SysV init or upstart on EL5/EL6 (chkconfig
// and service), SysV init on Debian and Ubuntu hosts without systemd (update-rc.d and service).
import type { Facts } from '../core/facts.ts';
import { noChange, OperationError, StateError, type Operation, type Plan, type ProbeOutput } from '../core/operation.ts';
import { quote } from '../core/shell.ts';
import { allValues, checkSelectors, pickForPlatform, type PerPlatform } from './per-platform.ts';
import { DAEMON_STATE_FUNCTIONS, statusNamePattern } from './daemon-state.ts';
import { parseRecords, restOf, sbinPath, type ProbeRecord } from './system-probe.ts';

export type ServiceState = 'started' | 'stopped' | 'restarted' | 'reloaded';

export interface ServiceOptions {
  /** the service (systemd unit or init script) name, the same everywhere or per platform */
  name: string | PerPlatform<string>;
  /** start at boot; undefined leaves it as it is */
  enabled?: boolean;
  /**
   * undefined leaves it as it is. 'restarted' and 'reloaded' always act (they are what handlers
   * use); 'reloaded' starts a service that is not running.
   */
  state?: ServiceState;
  /**
   * With 'restarted' or 'reloaded', in a handler: act only on a service that was running when the
   * play began on the host. What handlers of daemons want: a service that a task of the play starts
   * reads its new configuration then, and restarting it moments after that start (while heartbeat
   * is still taking over its resources, say) is at best wasted and at worst hangs or drops them.
   */
  ifRunning?: boolean;
}

// systemd unit names (getty@tty1.service) and init script names; no shell or glob characters.
const serviceNamePattern = /^[A-Za-z0-9][A-Za-z0-9@._:+-]*$/;

export function service(options: ServiceOptions): Operation {
  const { enabled, state, ifRunning = false } = options;
  const names = typeof options.name === 'string' ? [options.name] : [...new Set(allValues(options.name))];
  if (typeof options.name !== 'string') checkSelectors('service name', options.name);
  for (const name of names) {
    if (!serviceNamePattern.test(name)) throw new OperationError(`service: ${JSON.stringify(name)} is not a service name`);
  }
  if (enabled === undefined && state === undefined) {
    throw new OperationError(`service ${names.join(', ')}: nothing to do; give enabled and/or state`);
  }
  return {
    kind: 'service',
    target: names.join(', '),
    probe: () => serviceProbe(names, state !== undefined || ifRunning),
    plan(facts: Facts, probed: ProbeOutput, atPlayStart?: ProbeOutput): Plan {
      const name = typeof options.name === 'string' ? options.name : pickForPlatform(options.name, facts, { noun: 'service name', option: 'name' });
      const manager = managerFor(facts, parseRecords(probed.stdout));
      const status = manager.status(name);
      if (ifRunning && (state === 'restarted' || state === 'reloaded')) {
        const before = atPlayStart === undefined ? status : managerFor(facts, parseRecords(atPlayStart.stdout)).status(name);
        if (!before.installed || !before.running()) return noChange(`${name} was not running when the play began`);
      }
      if (!status.installed) {
        throw new StateError(
          `service ${name} is not installed on ${facts.os.pretty || 'the host'} (${manager.missing(name)}); install its package first, e.g. with a packages task before this one`,
        );
      }
      if (status.masked && (enabled === true || (state !== undefined && state !== 'stopped'))) {
        throw new StateError(`service ${name} is masked, so it cannot be enabled or started; unmask it first (systemctl unmask ${name})`);
      }

      const steps: Array<{ summary: string; command: string }> = [];
      if (enabled === true && !status.enabled) steps.push({ summary: `enable ${name}`, command: manager.enable(name) });
      if (enabled === false && status.enabled && !status.enablementFixed) steps.push({ summary: `disable ${name}`, command: manager.disable(name) });
      const act = (verb: string) => steps.push({ summary: `${verb} ${name}`, command: manager.run(name, verb) });
      // A stopped daemon's pid file that names another program's process (its pid was given to it
      // since) would make some init scripts think the daemon runs (EL's daemon and killproc only
      // ask whether the pid is alive): they would not start it, or would signal that program.
      const startStopped = (verb: string) => {
        for (const { path, pid } of status.recycledPidFiles()) {
          steps.push({ summary: `remove the stale pid file ${path} (pid ${pid} is another program)`, command: `rm -f ${quote(path)}` });
        }
        act(verb);
      };
      if (state === 'started' && !status.running()) startStopped('start');
      if (state === 'stopped' && status.running()) act('stop');
      if (state === 'restarted') {
        if (status.running()) act('restart');
        else startStopped('restart');
      }
      if (state === 'reloaded') {
        if (status.running()) act('reload');
        else startStopped('start');
      }
      if (steps.length === 0) return noChange();
      return { changed: true, summary: steps.map((s) => s.summary).join('; '), script: steps.map((s) => s.command).join('\n') };
    },
  };
}

interface ServiceStatus {
  installed: boolean;
  enabled: boolean;
  /** systemd units that are static (no [Install] section) and the like: not ours to enable or disable */
  enablementFixed: boolean;
  masked: boolean;
  /** asked only by a task with a state or ifRunning: only its probe reads it */
  running(): boolean;
  /** of a stopped daemon: its pid files that name a live process of another program */
  recycledPidFiles(): Array<{ path: string; pid: string }>;
}

interface ServiceManager {
  status(name: string): ServiceStatus;
  /** what is missing when the service is unknown, e.g. "no init script /etc/init.d/heartbeat" */
  missing(name: string): string;
  enable(name: string): string;
  disable(name: string): string;
  /** start, stop, restart, reload */
  run(name: string, verb: string): string;
}

// The probe cannot know the facts, so it detects the running init the way the facts do
// (sd_booted(3): systemd runs exactly when /run/systemd/system is a directory) and prints what that
// init system knows of every candidate name. Whether a service runs is read only when the task
// needs it (a state, or ifRunning): on SysV init that can take the init script's status action,
// which some scripts make do more than read (Debian's ipvsadm loads the IPVS module and writes its
// rules file). The probe's text depends only on the names and on that need, so the tasks and
// handlers of a play that probe the same service the same way send the same probe text, which the
// runner may run once.
//
// Records under systemd:
//   init systemd
//   systemd <name> <LoadState> <is-enabled> <ActiveState>
// otherwise:
//   init sysv
//   tool <service|chkconfig>              the command exists
//   initscript <name> <path>              the init script exists
//   chkconfig <name> <chkconfig --list line>
//   start-link <name> <path>              an /etc/rc[2-5S].d/S??NAME link (S: scripts that start in
//                                          the boot runlevel, as netfilter-persistent)
// and, when the task needs to know whether it runs (see sysvRunning for what they mean):
//   pidfile <name> <path> <daemon|other|dead|invalid|unknown> <pid>
//   only-pidfile <name> <path>            this pid file alone decides (the status action reads no other)
//   process <name> <found|none>           whether a process of the daemon's names exists
//   status <name> <exit code>             of "service NAME status" (0: running), only when none of
//                                          the above decides
function serviceProbe(names: string[], needsRunning: boolean): string {
  const list = names.map(quote).join(' ');
  return [
    sbinPath,
    `provision_emit() { while IFS= read -r provision_line; do printf '%s\\t' "$@"; printf '%s\\n' "$provision_line"; done; }`,
    'provision_find_script() {',
    '  provision_script=',
    // EL keeps init scripts in /etc/rc.d/init.d (/etc/init.d is a link to it there).
    '  for provision_dir in /etc/init.d /etc/rc.d/init.d; do',
    '    if [ -z "$provision_script" ] && [ -f "$provision_dir/$1" ]; then provision_script=$provision_dir/$1; fi',
    '  done',
    '}',
    ...(needsRunning ? [DAEMON_STATE_FUNCTIONS, SYSV_RUNNING_FUNCTIONS] : []),
    'if [ -d /run/systemd/system ]; then',
    `  printf 'init\\tsystemd\\n'`,
    `  for provision_name in ${list}; do`,
    '    provision_shown=$(systemctl show -p LoadState -p ActiveState "$provision_name" 2>/dev/null)',
    '    provision_load= provision_active=',
    '    case $provision_shown in (*LoadState=*) provision_load=${provision_shown#*LoadState=}; provision_load=${provision_load%%[!a-z-]*} ;; esac',
    '    case $provision_shown in (*ActiveState=*) provision_active=${provision_shown#*ActiveState=}; provision_active=${provision_active%%[!a-z-]*} ;; esac',
    // is-enabled, not the UnitFileState property: for a unit made from an init script it asks
    // systemd-sysv-install, which reads the script's runlevel links.
    '    provision_enabled=$(systemctl is-enabled "$provision_name" 2>/dev/null)',
    `    printf 'systemd\\t%s\\t%s\\t%s\\t%s\\n' "$provision_name" "$provision_load" "$provision_enabled" "$provision_active"`,
    '  done',
    'else',
    `  printf 'init\\tsysv\\n'`,
    `  for provision_tool in service chkconfig; do if command -v $provision_tool >/dev/null 2>&1; then printf 'tool\\t%s\\n' $provision_tool; fi; done`,
    `  for provision_name in ${list}; do`,
    '    provision_find_script "$provision_name"',
    '    [ -n "$provision_script" ] || continue',
    `    printf 'initscript\\t%s\\t%s\\n' "$provision_name" "$provision_script"`,
    '    if command -v chkconfig >/dev/null 2>&1; then chkconfig --list "$provision_name" 2>/dev/null | provision_emit chkconfig "$provision_name"; fi',
    '    for provision_link in /etc/rc[2345S].d/S[0-9][0-9]"$provision_name"; do',
    `      if [ -e "$provision_link" ] || [ -L "$provision_link" ]; then printf 'start-link\\t%s\\t%s\\n' "$provision_name" "$provision_link"; fi`,
    '    done',
    '  done',
    ...(needsRunning ? names.flatMap((name) => sysvRunningProbe(name).map((line) => `  ${line}`)) : []),
    'fi',
  ].join('\n');
}

/**
 * Daemons whose status actions are known, by service name, with the names their processes have:
 * Debian 12's scripts as its packages ship them (heartbeat 3.0.6: heartbeat -s, which reads
 * /run/heartbeat.pid; ldirectord 4.12: ldirectord's own status, see LDIRECTORD_INSTANCE;
 * keepalived 2.2.7: no status action, start-stop-daemon --pidfile /var/run/keepalived.pid;
 * nginx 1.22, apache2 2.4: LSB status_of_proc -p), resource-agents' ldirectord script (the one EL
 * packages ship), and the EL5/EL6 scripts by what they call (heartbeat -s; the status function of
 * /etc/init.d/functions, which reads /var/run/NAME.pid or the -p file, and without -p also counts a
 * process of that name: keepalived, pulse, httpd, nginx). Each says running only for a pid file of
 * the daemon or a process of its names: with neither, the daemon is stopped, and the probe says so
 * without running the script. A process of those names that no pid file names is left to the status
 * action (EL5's status counts it, Debian's status_of_proc -p does not). Every other service is
 * running when a pid file says so, and otherwise asks its status action.
 */
export const KNOWN_DAEMONS: Readonly<Record<string, readonly string[]>> = {
  heartbeat: ['heartbeat'],
  ldirectord: ['ldirectord'],
  keepalived: ['keepalived'],
  pulse: ['pulse'],
  nginx: ['nginx'],
  httpd: ['httpd'],
  apache2: ['apache2'],
};

// provision_running SERVICE SCRIPT KNOWN PATTERN ONLY PROCESS...
//   SCRIPT: its init script; KNOWN: 1 for a KNOWN_DAEMONS service (no pid file of a running daemon
//   and no process matching PATTERN, an ERE on /proc/PID/status, mean stopped); ONLY: the one pid
//   file the status action reads, or ''; PROCESS...: the daemon's process names.
// Pid files: ONLY, or the script's own (chkconfig's "# pidfile:" header, a plain PIDFILE=/path) and
// the usual /run/NAME.pid, /var/run/NAME.pid, /var/run/NAME/NAME.pid; the script's "# processname:"
// adds a process name. Without /proc, or with processes hidden from it, the status action decides.
const SYSV_RUNNING_FUNCTIONS = [
  'provision_status_action() {',
  '  provision_said=$(if command -v service >/dev/null 2>&1; then service "$1" status; else "$2" status; fi 2>&1)',
  '  provision_status=$?',
  // Some init scripts have no status action (Debian 12's keepalived prints its usage): as Ansible
  // does, a live process of the service's pid file, or of its name, means running.
  '  case $provision_said in (*[Uu]sage:*)',
  '    if [ "$provision_status" -ne 0 ]; then',
  '      provision_status=3',
  '      for provision_pid in $(cat "/run/$1.pid" "/var/run/$1.pid" 2>/dev/null); do',
  '        if kill -0 "$provision_pid" 2>/dev/null; then provision_status=0; fi',
  '      done',
  '      if [ "$provision_status" -ne 0 ] && pidof "$1" >/dev/null 2>&1; then provision_status=0; fi',
  '    fi ;;',
  '  esac',
  `  printf 'status\\t%s\\t%s\\n' "$1" "$provision_status"`,
  '}',
  'provision_running() {',
  '  provision_r_service=$1 provision_r_script=$2 provision_r_known=$3 provision_r_pattern=$4 provision_r_only=$5',
  '  shift 5',
  // Every process must be visible: /proc mounted, and not hiding other users' processes (hidepid)
  // from a probe that does not run as root.
  '  if [ ! -r /proc/1/status ]; then provision_status_action "$provision_r_service" "$provision_r_script"; return; fi',
  '  provision_r_decided= provision_r_files=',
  '  if [ -n "$provision_r_only" ]; then',
  `    printf 'only-pidfile\\t%s\\t%s\\n' "$provision_r_service" "$provision_r_only"`,
  '    provision_r_decided=1 provision_r_files=$provision_r_only',
  '  else',
  String.raw`    provision_r_declared=$(sed -n -e 's/^#[[:space:]]*pidfile:[[:space:]]*\(\/[A-Za-z0-9_.\/@:+-]*\)[[:space:]]*$/f \1/p' -e 's/^[[:space:]]*PIDFILE="\{0,1\}\(\/[A-Za-z0-9_.\/@:+-]*\)"\{0,1\}[[:space:]]*$/f \1/p' -e 's/^#[[:space:]]*processname:[[:space:]]*\([A-Za-z0-9_.@:+-]\{1,\}\)[[:space:]]*$/p \1/p' "$provision_r_script" 2>/dev/null)`,
  '    provision_r_kind=',
  // The words are paths and names of the characters above: no blanks, no pattern characters.
  '    for provision_r_word in $provision_r_declared; do',
  '      case $provision_r_kind in',
  '        (f) provision_r_files="$provision_r_files $provision_r_word" ;;',
  '        (p) set -- "$@" "$provision_r_word" ;;',
  '      esac',
  `      case $provision_r_kind in ('') provision_r_kind=$provision_r_word ;; (*) provision_r_kind= ;; esac`,
  '    done',
  '    provision_r_files="$provision_r_files /run/$provision_r_service.pid /var/run/$provision_r_service.pid /var/run/$provision_r_service/$provision_r_service.pid"',
  '  fi',
  '  provision_r_seen=',
  '  for provision_r_file in $provision_r_files; do',
  `    case " $provision_r_seen " in (*" $provision_r_file "*) continue ;; esac`,
  '    provision_r_seen="$provision_r_seen $provision_r_file"',
  '    [ -f "$provision_r_file" ] || continue',
  '    provision_pid_verdict "$provision_r_file" "$@" && provision_r_decided=1',
  // The one pid file that decides, naming a process that cannot be read: the status action decides.
  `    if [ -n "$provision_r_only" ] && [ "$provision_verdict" = unknown ]; then provision_r_decided=; fi`,
  `    printf 'pidfile\\t%s\\t%s\\t%s\\t%s\\n' "$provision_r_service" "$provision_r_file" "$provision_verdict" "$provision_pid"`,
  '  done',
  '  if [ -z "$provision_r_decided" ] && [ "$provision_r_known" = 1 ]; then',
  // A process of those names that is not a zombie (ended, not reaped yet).
  '    provision_r_found=',
  '    for provision_r_status in $(grep -l -E "$provision_r_pattern" /proc/[0-9]*/status 2>/dev/null); do',
  `      if grep -q -E '^State:[[:space:]]+[^ZX]' "$provision_r_status" 2>/dev/null; then provision_r_found=1; break; fi`,
  '    done',
  '    if [ -n "$provision_r_found" ]; then',
  `      printf 'process\\t%s\\tfound\\n' "$provision_r_service"`,
  '    else',
  `      printf 'process\\t%s\\tnone\\n' "$provision_r_service"`,
  '      provision_r_decided=1',
  '    fi',
  '  fi',
  '  [ -n "$provision_r_decided" ] || provision_status_action "$provision_r_service" "$provision_r_script"',
  '}',
].join('\n');

// ldirectord's status (its own program: `ldirectord [CONFIG] status`) reads one pid file,
// /var/run/ldirectord.<the configuration's base name>.pid, or ldirectord.ldirectord.pid without a
// configuration argument, and counts it running when /proc/PID/cmdline mentions ldirectord. Which
// instance the init script asks about depends on the script:
//   Debian's ("$DAEMON" "$CONFIG_FILE" $1): CONFIG_FILE from /etc/default/ldirectord, else
//     /etc/ldirectord.cf; read here from plain assignments only (anything else: not known)
//   the resource-agents one that EL packages ship ($DAEMON status): no configuration argument
// Any other script: the instance is not known, and the usual rules apply.
const LDIRECTORD_INSTANCE = [
  'provision_only=',
  String.raw`provision_form=$(awk '{ sub(/^[ \t]+/, ""); sub(/[ \t]+$/, "") } $0 == "\"$DAEMON\" \"$CONFIG_FILE\" $1" { d = 1 } $0 == "$DAEMON status" { e = 1 } END { if (d && !e) print "debian"; if (e && !d) print "el" }' "$provision_script" 2>/dev/null)`,
  'case $provision_form in',
  '  (debian)',
  '    provision_cf=',
  String.raw`    if [ -f /etc/default/ldirectord ]; then provision_cf=$(awk '/^[ \t]*#/ { next } /CONFIG_FILE/ { v = $0; if (!sub(/^[ \t]*(export[ \t]+)?CONFIG_FILE=/, "", v)) { bad = 1; next } sub(/[ \t]+$/, "", v); last = v } END { if (bad) print "?"; else print last }' /etc/default/ldirectord 2>/dev/null) || provision_cf='?'; fi`,
  `    case $provision_cf in (\\"*\\") provision_cf=\${provision_cf#\\"}; provision_cf=\${provision_cf%\\"} ;; (\\'*\\') provision_cf=\${provision_cf#\\'}; provision_cf=\${provision_cf%\\'} ;; esac`,
  '    case $provision_cf in',
  `      ('') provision_only=/var/run/ldirectord.ldirectord.cf.pid ;;`,
  '      (*/|*[!A-Za-z0-9_./-]*) ;;',
  '      (*) provision_only=/var/run/ldirectord.${provision_cf##*/}.pid ;;',
  '    esac ;;',
  '  (el) provision_only=/var/run/ldirectord.ldirectord.pid ;;',
  'esac',
];

/** The lines that print whether `name` runs on a SysV init host (see provision_running). */
function sysvRunningProbe(name: string): string[] {
  const processes = KNOWN_DAEMONS[name];
  const known = processes !== undefined;
  const names = processes ?? [name];
  const call = `provision_running ${quote(name)} "$provision_script" ${known ? 1 : 0} ${quote(known ? statusNamePattern([...names]) : '')}`;
  return [
    `provision_find_script ${quote(name)}`,
    'if [ -n "$provision_script" ]; then',
    ...(name === 'ldirectord'
      ? [...LDIRECTORD_INSTANCE.map((line) => `  ${line}`), `  ${call} "$provision_only" ${names.map(quote).join(' ')}`]
      : [`  ${call} '' ${names.map(quote).join(' ')}`]),
    'fi',
  ];
}

function managerFor(facts: Facts, records: ProbeRecord[]): ServiceManager {
  if (facts.init === 'unknown') {
    throw new OperationError(`cannot tell the init system of ${facts.os.pretty || 'the host'}; service supports systemd, SysV init and upstart`);
  }
  const probedInit = records.find((r) => r.kind === 'init')?.fields[0];
  const systemd = facts.init === 'systemd';
  if (probedInit === undefined) throw new Error('the service probe printed no init record');
  if (systemd !== (probedInit === 'systemd')) {
    throw new OperationError(
      `the facts say the init system is ${facts.init}, but the host now ${probedInit === 'systemd' ? 'runs' : 'does not run'} systemd; gather the facts again`,
    );
  }
  if (systemd) return systemdManager(records);
  // Upstart on EL6 runs the SysV init scripts and keeps chkconfig's runlevel links.
  return facts.os.family === 'el' ? chkconfigManager(records) : updateRcManager(records);
}

function fieldsByName(records: ProbeRecord[], kind: string): Map<string, ProbeRecord[]> {
  const byName = new Map<string, ProbeRecord[]>();
  for (const record of records.filter((r) => r.kind === kind)) {
    const name = record.fields[0] ?? '';
    byName.set(name, [...(byName.get(name) ?? []), record]);
  }
  return byName;
}

// systemctl is-enabled states (systemctl(1)). These count as enabled; of them, the ones after
// "alias" are not changed by systemctl enable/disable (static units start only when another unit
// wants them, generated and transient ones come from generators and the manager at runtime).
const systemdEnabled = ['enabled', 'enabled-runtime', 'alias'];
const systemdFixed = ['static', 'indirect', 'generated', 'transient'];

function systemdManager(records: ProbeRecord[]): ServiceManager {
  const units = fieldsByName(records, 'systemd');
  return {
    status(name) {
      const [, load = '', enabledState = '', active = ''] = units.get(name)?.[0]?.fields ?? [];
      return {
        installed: load !== '' && load !== 'not-found',
        enabled: systemdEnabled.includes(enabledState) || systemdFixed.includes(enabledState),
        enablementFixed: systemdFixed.includes(enabledState),
        masked: load === 'masked' || enabledState.startsWith('masked'),
        // "activating": a start job is running (or the unit waits to restart); starting it again would
        // only wait for that job.
        running: () => ['active', 'reloading', 'activating'].includes(active),
        recycledPidFiles: () => [],
      };
    },
    missing: (name) => `systemd has no unit ${name}`,
    enable: (name) => `systemctl enable ${quote(name)}`,
    disable(name) {
      // A runtime enablement (under /run) is removed only with --runtime.
      const enabledState = units.get(name)?.[0]?.fields[2];
      return enabledState === 'enabled-runtime' ? `systemctl disable --runtime ${quote(name)}` : `systemctl disable ${quote(name)}`;
    },
    run: (name, verb) => `systemctl ${verb} ${quote(name)}`,
  };
}

export type PidFileVerdict = 'daemon' | 'other' | 'dead' | 'invalid' | 'unknown';

/** Whether a service runs on a SysV init host, and what said so. */
export interface SysvRunning {
  running: boolean;
  /** the pid file of the running daemon, 'process' (none found), 'status' (the init script's status action) */
  decidedBy: string;
  /** pid files that name a live process of another program, when that is a stopped daemon's */
  recycled: Array<{ path: string; pid: string }>;
}

/**
 * Pure: what the records of the service probe (see serviceProbe) say of `name`. In order: the one
 * pid file the status action reads, when the probe knows it (only-pidfile: running exactly when it
 * names the daemon, unless the process it names cannot be read); a pid file that names the live
 * daemon (running); no process of a known daemon (stopped); else the status action's exit code.
 */
export function sysvRunning(records: ProbeRecord[], name: string): SysvRunning {
  const mine = (kind: string) => records.filter((r) => r.kind === kind && r.fields[0] === name);
  const pidFiles = mine('pidfile').map((r) => ({ path: r.fields[1] ?? '', verdict: (r.fields[2] ?? '') as PidFileVerdict, pid: r.fields[3] ?? '' }));
  const only = mine('only-pidfile')[0]?.fields[1];
  const live = pidFiles.find((p) => p.verdict === 'daemon' && (only === undefined || p.path === only));
  const onlyUnreadable = only !== undefined && pidFiles.some((p) => p.path === only && p.verdict === 'unknown');
  const stopped = (decidedBy: string): SysvRunning => ({
    running: false,
    decidedBy,
    recycled: KNOWN_DAEMONS[name] === undefined ? [] : pidFiles.filter((p) => p.verdict === 'other').map(({ path, pid }) => ({ path, pid })),
  });
  if (live !== undefined) return { running: true, decidedBy: live.path, recycled: [] };
  if (only !== undefined && !onlyUnreadable) return stopped(only);
  if (mine('process')[0]?.fields[1] === 'none') return stopped('process');
  const status = mine('status')[0]?.fields[1];
  if (status === undefined) throw new Error(`the service probe printed nothing that says whether ${name} runs`);
  // LSB status codes: 0 running, 1-3 not running (dead with a pid file, a lock file, stopped), 4 unknown.
  return status === '0' ? { running: true, decidedBy: 'status', recycled: [] } : stopped('status');
}

/** What SysV init hosts share: the init script, whether it runs and how it is run. */
function sysvBasics(records: ProbeRecord[]) {
  const scripts = fieldsByName(records, 'initscript');
  const hasService = records.some((r) => r.kind === 'tool' && r.fields[0] === 'service');
  const scriptOf = (name: string) => scripts.get(name)?.[0]?.fields[1];
  return {
    installed: (name: string) => scriptOf(name) !== undefined,
    running: (name: string) => () => sysvRunning(records, name).running,
    recycledPidFiles: (name: string) => () => sysvRunning(records, name).recycled,
    missing: (name: string) => `no init script /etc/init.d/${name}`,
    run: (name: string, verb: string) => (hasService ? `service ${quote(name)} ${verb}` : `${quote(scriptOf(name) ?? `/etc/init.d/${name}`)} ${verb}`),
  };
}

function chkconfigManager(records: ProbeRecord[]): ServiceManager {
  const sysv = sysvBasics(records);
  const lists = fieldsByName(records, 'chkconfig');
  const hasChkconfig = records.some((r) => r.kind === 'tool' && r.fields[0] === 'chkconfig');
  return {
    status(name) {
      if (!hasChkconfig) throw new StateError('chkconfig is not installed on the host; install the chkconfig package first');
      // "heartbeat      0:off   1:off   2:on    3:on    4:on    5:on    6:off"; no line when the
      // script is not registered with chkconfig yet.
      const line = (lists.get(name) ?? []).map((r) => restOf(r, 1)).join(' ');
      return {
        installed: sysv.installed(name),
        enabled: /(^|\s)[2-5]:on(\s|$)/.test(line),
        enablementFixed: false,
        masked: false,
        running: sysv.running(name),
        recycledPidFiles: sysv.recycledPidFiles(name),
      };
    },
    missing: sysv.missing,
    enable: (name) => `chkconfig ${quote(name)} on`,
    disable: (name) => `chkconfig ${quote(name)} off`,
    run: sysv.run,
  };
}

function updateRcManager(records: ProbeRecord[]): ServiceManager {
  const sysv = sysvBasics(records);
  const links = fieldsByName(records, 'start-link');
  return {
    status: (name) => ({
      installed: sysv.installed(name),
      enabled: (links.get(name) ?? []).length > 0,
      enablementFixed: false,
      masked: false,
      running: sysv.running(name),
      recycledPidFiles: sysv.recycledPidFiles(name),
    }),
    missing: sysv.missing,
    // "defaults" creates the links from the script's LSB header but leaves existing ones alone, so a
    // service disabled earlier (K links in its start runlevels) also needs "enable", which turns
    // them back into S links.
    enable: (name) => `update-rc.d ${quote(name)} defaults\nupdate-rc.d ${quote(name)} enable`,
    // "disable" keeps the links as K links; update-rc.d versions without it can only remove them.
    disable: (name) => `update-rc.d ${quote(name)} disable || update-rc.d -f ${quote(name)} remove`,
    run: sysv.run,
  };
}
