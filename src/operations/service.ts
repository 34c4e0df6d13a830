// service: a system service enabled or disabled at boot and started, stopped, restarted or reloaded,
// through the host's init system: systemd (systemctl), SysV init or upstart on EL5/EL6 (chkconfig
// and service), SysV init on Debian and Ubuntu hosts without systemd (update-rc.d and service).
import type { Facts } from '../core/facts.ts';
import { noChange, OperationError, StateError, type Operation, type Plan, type ProbeOutput } from '../core/operation.ts';
import { quote } from '../core/shell.ts';
import { allValues, checkSelectors, pickForPlatform, type PerPlatform } from './per-platform.ts';
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
    probe: () => serviceProbe(names),
    plan(facts: Facts, probed: ProbeOutput, atPlayStart?: ProbeOutput): Plan {
      const name = typeof options.name === 'string' ? options.name : pickForPlatform(options.name, facts, { noun: 'service name', option: 'name' });
      const manager = managerFor(facts, parseRecords(probed.stdout));
      const status = manager.status(name);
      if (ifRunning && (state === 'restarted' || state === 'reloaded')) {
        const before = atPlayStart === undefined ? status : managerFor(facts, parseRecords(atPlayStart.stdout)).status(name);
        if (!before.installed || !before.running) return noChange(`${name} was not running when the play began`);
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
      if (state === 'started' && !status.running) act('start');
      if (state === 'stopped' && status.running) act('stop');
      if (state === 'restarted') act('restart');
      if (state === 'reloaded') act(status.running ? 'reload' : 'start');
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
  running: boolean;
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
// init system knows of every candidate name.
//
// Records under systemd:
//   init systemd
//   systemd <name> <LoadState> <is-enabled> <is-active>
// otherwise:
//   init sysv
//   tool <service|chkconfig>              the command exists
//   initscript <name> <path>              the init script exists
//   status <name> <exit code>             of "service NAME status" (0: running)
//   chkconfig <name> <chkconfig --list line>
//   start-link <name> <path>              an /etc/rc[2-5S].d/S??NAME link (S: scripts that start in
//                                          the boot runlevel, as netfilter-persistent)
function serviceProbe(names: string[]): string {
  const list = names.map(quote).join(' ');
  return [
    sbinPath,
    `provision_emit() { while IFS= read -r provision_line; do printf '%s\\t' "$@"; printf '%s\\n' "$provision_line"; done; }`,
    'if [ -d /run/systemd/system ]; then',
    `  printf 'init\\tsystemd\\n'`,
    `  for provision_name in ${list}; do`,
    '    provision_load=$(systemctl show -p LoadState "$provision_name" 2>/dev/null)',
    '    provision_enabled=$(systemctl is-enabled "$provision_name" 2>/dev/null)',
    '    provision_active=$(systemctl is-active "$provision_name" 2>/dev/null)',
    `    printf 'systemd\\t%s\\t%s\\t%s\\t%s\\n' "$provision_name" "\${provision_load#LoadState=}" "$provision_enabled" "$provision_active"`,
    '  done',
    'else',
    `  printf 'init\\tsysv\\n'`,
    `  for provision_tool in service chkconfig; do if command -v $provision_tool >/dev/null 2>&1; then printf 'tool\\t%s\\n' $provision_tool; fi; done`,
    `  for provision_name in ${list}; do`,
    '    provision_script=',
    // EL keeps init scripts in /etc/rc.d/init.d (/etc/init.d is a link to it there).
    '    for provision_dir in /etc/init.d /etc/rc.d/init.d; do',
    '      if [ -z "$provision_script" ] && [ -f "$provision_dir/$provision_name" ]; then provision_script=$provision_dir/$provision_name; fi',
    '    done',
    '    [ -n "$provision_script" ] || continue',
    `    printf 'initscript\\t%s\\t%s\\n' "$provision_name" "$provision_script"`,
    // LSB status codes: 0 running, 1-3 not running (dead with a pid file, a lock file, stopped), 4 unknown.
    '    provision_said=$(if command -v service >/dev/null 2>&1; then service "$provision_name" status; else "$provision_script" status; fi 2>&1)',
    '    provision_status=$?',
    // Some init scripts have no status action (Debian 12's keepalived prints its usage): as Ansible
    // does, a live process of the service's pid file, or of its name, means running.
    '    case $provision_said in *[Uu]sage:*)',
    '      if [ "$provision_status" -ne 0 ]; then',
    '        provision_status=3',
    '        for provision_pid in $(cat "/run/$provision_name.pid" "/var/run/$provision_name.pid" 2>/dev/null); do',
    '          if kill -0 "$provision_pid" 2>/dev/null; then provision_status=0; fi',
    '        done',
    '        if [ "$provision_status" -ne 0 ] && pidof "$provision_name" >/dev/null 2>&1; then provision_status=0; fi',
    '      fi ;;',
    '    esac',
    `    printf 'status\\t%s\\t%s\\n' "$provision_name" "$provision_status"`,
    '    if command -v chkconfig >/dev/null 2>&1; then chkconfig --list "$provision_name" 2>/dev/null | provision_emit chkconfig "$provision_name"; fi',
    '    for provision_link in /etc/rc[2345S].d/S[0-9][0-9]"$provision_name"; do',
    `      if [ -e "$provision_link" ] || [ -L "$provision_link" ]; then printf 'start-link\\t%s\\t%s\\n' "$provision_name" "$provision_link"; fi`,
    '    done',
    '  done',
    'fi',
  ].join('\n');
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
        running: ['active', 'reloading', 'activating'].includes(active),
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

/** What SysV init hosts share: the init script, its status and how it is run. */
function sysvBasics(records: ProbeRecord[]) {
  const scripts = fieldsByName(records, 'initscript');
  const statuses = fieldsByName(records, 'status');
  const hasService = records.some((r) => r.kind === 'tool' && r.fields[0] === 'service');
  const scriptOf = (name: string) => scripts.get(name)?.[0]?.fields[1];
  return {
    installed: (name: string) => scriptOf(name) !== undefined,
    running: (name: string) => statuses.get(name)?.[0]?.fields[1] === '0',
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
