// The probe output each operation would read on a freshly installed host, for plan-level tests of
// roles (test/support/plan-role.ts): the files a role writes do not exist yet, its packages are not
// installed, its services are installed but stopped and disabled (the state right after their
// package is installed), only root's account (uid and gid 0) exists, kernel parameters are at their
// boot value and command guards do not hold. The files a fresh installation of the platform has and
// roles edit (/etc/hosts, /etc/sysconfig/network, /etc/sysctl.conf, ...) are there with their stock
// content (stockState). A HostState adds what a test needs to exist already, or removes a stock file.
//
// Every output is printed in the exact format of the operation's own probe. Where an operation
// exports its probe builder (fileStateProbe) the probe is checked against it, so that a change of
// the probe format fails here instead of silently planning against a stale fixture. The operations
// export no formatter, so the formats are written here and tested (test/unit/support/
// plan-role.test.ts) against the real probes run by real shells where this machine can play the
// host (paths, command guards, sysctl), and against the operations' planners everywhere.
import { createHash } from 'node:crypto';
import type { Facts } from '../../src/core/facts.ts';
import type { FileDiff, Operation, Plan, ProbeOutput } from '../../src/core/operation.ts';
import { quote } from '../../src/core/shell.ts';
import { fileStateProbe, type ContentProbe } from '../../src/operations/file-state.ts';
import { KNOWN_DAEMONS } from '../../src/operations/service.ts';
import { parameterOf, procPathOf, sysctlProbeAwk } from '../../src/operations/sysctl.ts';
import { applyLineEdits, splitLines } from '../../src/operations/text-lines.ts';

/** mode/owner/group of an existing path; defaults: 0644 (files) or 0755 (directories), root:root */
export interface PathAttributes {
  /** octal, e.g. '0600' or '600' */
  mode?: string;
  owner?: string;
  group?: string;
}

export interface ExistingFile extends PathAttributes {
  content: string;
}

export interface ExistingUser {
  uid: number;
  /** primary group name (default: a group named like the user) */
  group?: string;
  gid?: number;
  /** supplementary groups */
  groups?: string[];
  home?: string;
  shell?: string;
  comment?: string;
}

export interface ExistingGroup {
  gid: number;
  members?: string[];
}

export interface ServiceState {
  /** default true: the package that ships it has been installed */
  installed?: boolean;
  /** default false */
  enabled?: boolean;
  /** default false */
  running?: boolean;
}

/** What exists on the host besides a fresh installation (everything not listed is absent or default). */
export interface HostState {
  /** regular files: their content (0644 root:root), or content and attributes; null: absent (a stock file removed) */
  files?: Record<string, string | ExistingFile | null>;
  directories?: Record<string, PathAttributes | null>;
  /** installed packages and their versions */
  packages?: Record<string, string>;
  /** services whose state differs from installed, stopped and disabled */
  services?: Record<string, ServiceState>;
  /** accounts besides root */
  users?: Record<string, ExistingUser>;
  groups?: Record<string, ExistingGroup>;
  /** kernel parameters' runtime values (default '0'); null: the kernel has no such parameter (module not loaded) */
  sysctls?: Record<string, string | null>;
}

/** The runtime value of a kernel parameter that neither the state nor the stock /etc/sysctl.conf sets. */
export const defaultSysctlValue = '0';

/** The hostname a fresh installation has (the installer's default), before any role sets it. */
export function freshHostname(facts: Facts): string {
  if (facts.os.family === 'el') return 'localhost.localdomain';
  return facts.os.distro === 'ubuntu' ? 'ubuntu' : 'debian';
}

/**
 * The files and directories roles touch that a fresh installation of the platform already has, with
 * their stock content (abridged to the lines that matter: comments a role could match are kept).
 */
export function stockState(facts: Facts): HostState {
  const el = facts.os.family === 'el';
  const legacyEl = el && facts.os.major <= 6;
  const hostname = freshHostname(facts);
  const files: Record<string, string> = {};
  const directories: Record<string, PathAttributes> = { '/etc': {}, '/etc/init.d': {} };
  if (el) {
    directories['/etc/sysconfig'] = {};
    files['/etc/hosts'] =
      facts.os.major === 5
        ? '# Do not remove the following line, or various programs\n# that require network functionality will fail.\n127.0.0.1\t\tlocalhost.localdomain localhost\n::1\t\tlocalhost6.localdomain6 localhost6\n'
        : '127.0.0.1   localhost localhost.localdomain localhost4 localhost4.localdomain4\n::1         localhost localhost.localdomain localhost6 localhost6.localdomain6\n';
  } else {
    directories['/etc/default'] = {};
    // The Debian installer names the host on 127.0.1.1 (a node name that must not resolve there for heartbeat).
    files['/etc/hosts'] =
      `127.0.0.1\tlocalhost\n127.0.1.1\t${hostname}\n\n# The following lines are desirable for IPv6 capable hosts\n::1     localhost ip6-localhost ip6-loopback\nff02::1 ip6-allnodes\nff02::2 ip6-allrouters\n`;
    files['/etc/modules'] =
      '# /etc/modules: kernel modules to load at boot time.\n#\n# This file contains the names of kernel modules that should be loaded\n# at boot time, one per line. Lines beginning with "#" are ignored.\n';
  }
  if (legacyEl) {
    directories['/etc/sysconfig/modules'] = {};
    files['/etc/sysconfig/network'] = `NETWORKING=yes\n${facts.os.major === 5 ? 'NETWORKING_IPV6=no\n' : ''}HOSTNAME=${hostname}\n`;
    files['/etc/sysctl.conf'] = [
      '# Kernel sysctl configuration file for Red Hat Linux',
      '#',
      '# For binary values, 0 is disabled, 1 is enabled.  See sysctl(8) and',
      '# sysctl.conf(5) for more details.',
      '',
      '# Controls IP packet forwarding',
      'net.ipv4.ip_forward = 0',
      '',
      '# Controls source route verification',
      'net.ipv4.conf.default.rp_filter = 1',
      '',
      '# Do not accept source routing',
      'net.ipv4.conf.default.accept_source_route = 0',
      '',
      '# Controls the System Request debugging functionality of the kernel',
      'kernel.sysrq = 0',
      '',
      '# Controls whether core dumps will append the PID to the core filename',
      '# Useful for debugging multi-threaded applications',
      'kernel.core_uses_pid = 1',
      '',
    ].join('\n');
  } else {
    files['/etc/hostname'] = `${hostname}\n`;
    directories['/etc/sysctl.d'] = {};
    directories['/etc/modules-load.d'] = {};
    if (el) files['/etc/sysconfig/network'] = '# Created by anaconda\n';
    files['/etc/sysctl.conf'] = el
      ? '# sysctl settings are defined through files in\n# /usr/lib/sysctl.d/, /run/sysctl.d/, and /etc/sysctl.d/.\n#\n# For more information, see sysctl.conf(5) and sysctl.d(5).\n'
      : '#\n# /etc/sysctl.conf - Configuration file for setting system variables\n# See /etc/sysctl.d/ for additional system variables.\n# See sysctl.conf (5) for information.\n#\n\n# Uncomment the next line to enable packet forwarding for IPv4\n#net.ipv4.ip_forward=1\n';
  }
  return { files, directories };
}

const root: ExistingUser = { uid: 0, gid: 0, group: 'root', home: '/root', shell: '/bin/bash', comment: 'root' };
const rootGroup: ExistingGroup = { gid: 0 };

/** The probe output `op` would read on a fresh host of `facts`' platform with `state` on it. */
export function freshProbe(op: Operation, facts: Facts, state: HostState = {}): ProbeOutput {
  const host = new FreshHost(facts, state);
  const stdout = (() => {
    switch (op.kind) {
      case 'file':
      case 'line':
      case 'block':
        return host.pathProbe(op, { withContent: true });
      case 'directory':
      case 'absent':
        return host.pathProbe(op, { withContent: false });
      case 'packages':
        return host.packagesProbe(op);
      case 'service':
        return host.serviceProbe(op);
      case 'sysctl':
        return host.sysctlProbe(op);
      case 'user':
        return host.userProbe(op.target);
      case 'group':
        return host.groupProbe(op.target);
      case 'command':
        return host.commandProbe(op);
      case 'sourceBuild':
        return host.sourceBuildProbe(op);
      default:
        throw new Error(`freshProbe: no fresh-host state for operations of kind "${op.kind}" (${op.target}); add it to test/support/fresh-host.ts`);
    }
  })();
  return { stdout, exitCode: 0 };
}

/** Lines as a probe prints them: each one ends with a newline. */
const output = (lines: string[]): string => lines.map((l) => `${l}\n`).join('');
const record = (...fields: string[]): string => fields.join('\t');

class FreshHost {
  private readonly files = new Map<string, ExistingFile>();
  private readonly directories = new Map<string, PathAttributes>();

  constructor(
    private readonly facts: Facts,
    private readonly state: HostState,
  ) {
    const stock = stockState(facts);
    for (const [path, file] of Object.entries({ ...stock.files, ...state.files })) {
      if (file !== null) this.files.set(path, typeof file === 'string' ? { content: file } : file);
    }
    for (const [path, attributes] of Object.entries({ ...stock.directories, ...state.directories })) {
      if (attributes === null) continue;
      if (this.files.has(path)) throw new Error(`HostState lists ${path} both as a file and as a directory`);
      this.directories.set(path, attributes);
    }
  }

  /** fileStateProbe's output for `path` (see src/operations/file-state.ts). */
  fileState(path: string, { withContent, digestOnly = false }: ContentProbe): string {
    const file = this.files.get(path);
    const attributes = file ?? this.directories.get(path);
    if (attributes === undefined) return output(['link=no', 'type=absent']);
    const lines = ['link=no', `type=${file ? 'file' : 'directory'}`, `attrs=${this.statAttributes(path, attributes, file ? '0644' : '0755')}`];
    // cat prints the content, then `echo` a newline, then the end marker.
    // A secret file's probe prints what md5sum prints for it instead.
    if (withContent && digestOnly && file) return output([...lines, `digest=${createHash('md5').update(file.content, 'utf8').digest('hex')}  -`]);
    if (withContent && file) return output(lines) + `<<provision:content>>\n${file.content}\n<<provision:end>>\n`;
    return output(lines);
  }

  /** What `stat -L -c '%a %u %g %U %G'` prints. */
  private statAttributes(path: string, attributes: PathAttributes, defaultMode: string): string {
    const mode = attributes.mode ?? defaultMode;
    if (!/^[0-7]{3,4}$/.test(mode)) throw new Error(`HostState: the mode of ${path} must be octal digits such as '0644' (got ${JSON.stringify(mode)})`);
    const owner = attributes.owner ?? 'root';
    const group = attributes.group ?? 'root';
    return `${parseInt(mode, 8).toString(8)} ${this.uidOf(owner, path)} ${this.gidOf(group, path)} ${owner} ${group}`;
  }

  private userOf(name: string): ExistingUser | undefined {
    return name === 'root' ? root : this.state.users?.[name];
  }

  private groupOf(name: string): ExistingGroup | undefined {
    return name === 'root' ? rootGroup : this.state.groups?.[name];
  }

  private uidOf(name: string, path: string): number {
    const account = this.userOf(name);
    if (account === undefined) throw new Error(`HostState: ${path} is owned by ${name}; list the user in state.users to give its uid`);
    return account.uid;
  }

  private gidOf(name: string, path: string): number {
    const account = this.groupOf(name);
    if (account === undefined) throw new Error(`HostState: ${path} belongs to group ${name}; list it in state.groups to give its gid`);
    return account.gid;
  }

  private exists(path: string): boolean {
    return this.files.has(path) || this.directories.has(path);
  }

  pathProbe(op: Operation, how: ContentProbe): string {
    const secret = { ...how, digestOnly: true };
    if (how.withContent && op.probe().includes(fileStateProbe(op.target, secret))) return this.fileState(op.target, secret);
    expectProbe(op, fileStateProbe(op.target, how));
    return this.fileState(op.target, how);
  }

  // Records of packagesProbe (src/operations/packages.ts): the database of the host's package
  // manager, one record per installed package, and the update check when the probe makes one
  // (state 'latest'); installed packages are at their newest version.
  packagesProbe(op: Operation): string {
    const names = op.target.split(', ');
    const probe = op.probe();
    const installed = names.filter((name) => this.state.packages?.[name] !== undefined);
    const versionOf = (name: string) => this.state.packages?.[name] ?? '';
    const manager = this.facts.packageManager;
    if (manager === 'apt') {
      const lines = ['database\tdpkg', ...installed.map((name) => record('dpkg', name, 'install ok installed', versionOf(name)))];
      if (probe.includes('apt-cache policy')) lines.push(...installed.map((name) => record('apt-policy', name, versionOf(name), versionOf(name))));
      return output(lines);
    }
    if (manager === 'yum' || manager === 'dnf') {
      const lines = ['database\trpm', ...installed.map((name) => record('rpm', name, versionOf(name)))];
      // check-update runs only for installed packages; exit 0: nothing to update.
      if (probe.includes('check-update') && installed.length > 0) lines.push(record('check-update', manager, '0'));
      return output(lines);
    }
    return '';
  }

  // Records of serviceProbe (src/operations/service.ts), as the host's init system reports them.
  serviceProbe(op: Operation): string {
    const names = op.target.split(', ');
    const statusOf = (name: string) => ({ installed: true, enabled: false, running: false, ...this.state.services?.[name] });
    if (this.facts.init === 'systemd') {
      return output([
        'init\tsystemd',
        ...names.map((name) => {
          const s = statusOf(name);
          // systemctl is-enabled prints nothing on stdout for a unit it does not know.
          if (!s.installed) return record('systemd', name, 'not-found', '', 'inactive');
          return record('systemd', name, 'loaded', s.enabled ? 'enabled' : 'disabled', s.running ? 'active' : 'inactive');
        }),
      ]);
    }
    const chkconfig = this.facts.os.family === 'el';
    const lines = ['init\tsysv', 'tool\tservice', ...(chkconfig ? ['tool\tchkconfig'] : [])];
    // Whether it runs, only for a task that needs it: a daemon the probe knows by its pid file or
    // the absence of its processes, any other service by its status action (LSB: 0 running, 3 stopped).
    const running: string[] = [];
    const needsRunning = op.probe().includes('provision_running ');
    for (const name of names) {
      const s = statusOf(name);
      if (!s.installed) continue;
      lines.push(record('initscript', name, `/etc/init.d/${name}`));
      if (needsRunning && KNOWN_DAEMONS[name] === undefined) running.push(record('status', name, s.running ? '0' : '3'));
      else if (needsRunning) running.push(s.running ? record('pidfile', name, `/var/run/${name}.pid`, 'daemon', '1234') : record('process', name, 'none'));
      if (chkconfig) {
        // chkconfig --list: the name padded to 15 columns, then TAB-separated runlevels; an init
        // script whose header says "chkconfig: - ..." is added with every runlevel off.
        const levels = [0, 1, 2, 3, 4, 5, 6].map((level) => `${level}:${s.enabled && level >= 2 && level <= 5 ? 'on' : 'off'}`);
        lines.push(record('chkconfig', name, name.padEnd(15), ...levels));
      } else if (s.enabled) {
        lines.push(...[2, 3, 4, 5].map((level) => record('start-link', name, `/etc/rc${level}.d/S01${name}`)));
      }
    }
    return output([...lines, ...running]);
  }

  // Records of sysctlProbe (src/operations/sysctl.ts): the runtime value, then for each
  // configuration file the probe reads, the lines that set the parameter and the file's kind.
  sysctlProbe(op: Operation): string {
    const probe = op.probe();
    const name = op.target;
    const listed = this.state.sysctls?.[name];
    const value = listed === undefined ? (this.bootValue(name) ?? defaultSysctlValue) : listed;
    const lines = [value === null ? 'runtime-missing' : record('runtime', value.replace(/[\t\n]/g, ' '))];
    for (const path of quotedWordsAfter(probe, /^printf 'file\\t%s\\t%s\\n' (.+) "\$provision_kind"$/gm)) {
      expectProbe(op, `LC_ALL=C awk ${quote(sysctlProbeAwk)} <${quote(path)}; then provision_kind=editable`);
      if (this.directories.has(path)) {
        lines.push(record('file', path, 'directory'));
        continue;
      }
      const content = this.files.get(path)?.content ?? '';
      splitLines(content).lines.forEach((line, i) => {
        if (parameterOf(line) === procPathOf(name)) lines.push(record('line', path, String(i + 1), line));
      });
      lines.push(record('file', path, 'editable'));
    }
    return output(lines);
  }

  /** The content of a file (null: there is none). */
  contentOf(path: string): string | null {
    return this.files.get(path)?.content ?? null;
  }

  /** What /etc/sysctl.conf sets the parameter to (the kernel has that value since boot). */
  private bootValue(name: string): string | undefined {
    const lines = (this.files.get('/etc/sysctl.conf')?.content ?? '').split('\n');
    const setting = lines.map((l) => /^\s*([^#;=\s][^=]*?)\s*=\s*(.*?)\s*$/.exec(l)).findLast((m) => m?.[1] === name);
    return setting?.[2];
  }

  // Records of the user probe (src/operations/user.ts): the passwd entry and, for an existing user,
  // the primary group and every group (id -gn, id -Gn).
  userProbe(name: string): string {
    const user = this.userOf(name);
    if (user === undefined) return output(['no-passwd']);
    const primary = user.group ?? name;
    const gid = user.gid ?? this.groupOf(primary)?.gid;
    if (gid === undefined) throw new Error(`HostState: user ${name}'s primary group ${primary} has no gid; give users.${name}.gid or list the group`);
    const entry = [name, 'x', user.uid, gid, user.comment ?? '', user.home ?? `/home/${name}`, user.shell ?? '/bin/sh'].join(':');
    return output([record('passwd', entry), record('primary-group', primary), record('groups', [primary, ...(user.groups ?? [])].join(' '))]);
  }

  groupProbe(name: string): string {
    const group = this.groupOf(name);
    if (group === undefined) return output(['no-group']);
    return output([record('group', [name, 'x', group.gid, (group.members ?? []).join(',')].join(':'))]);
  }

  // command prints one line per guard, in the order of its probe: creates/removes present or absent
  // (as the state has the path), unless/only-if "failed" (checks do not hold on a fresh host).
  commandProbe(op: Operation): string {
    const lines: string[] = [];
    const guard =
      /^if \[ -e (.+) \]; then echo (creates|removes)=present; else echo \2=absent; fi$|^\) <\/dev\/null >\/dev\/null 2>&1; then echo (unless|only-if)=succeeded; else echo \3=failed; fi$/gm;
    for (const match of op.probe().matchAll(guard)) {
      const [, word, pathGuard, check] = match;
      if (check !== undefined) lines.push(`${check}=failed`);
      else if (word !== undefined && pathGuard !== undefined) lines.push(`${pathGuard}=${this.exists(unquoteWord(word)) ? 'present' : 'absent'}`);
    }
    return output(lines);
  }

  sourceBuildProbe(op: Operation): string {
    const [creates] = quotedWordsAfter(op.probe(), /^if \[ -e (.+) \]; then echo installed=yes; else echo installed=no; fi$/gm);
    if (creates === undefined) throw new Error(`freshProbe: the probe of sourceBuild ${op.target} has an unknown format; update test/support/fresh-host.ts`);
    return output([`installed=${this.exists(creates) ? 'yes' : 'no'}`]);
  }
}

/**
 * The state after a planned change, as far as the plan shows it: the files its diff writes or
 * removes (keeping a listed file's attributes), the directory a directory task creates, the path an
 * absent task removes (with everything under it). Packages, services, accounts and kernel
 * parameters stay as they were: the simulated host keeps them at their fresh defaults.
 */
export function stateAfter(state: HostState, facts: Facts, op: Operation, plan: Plan): HostState {
  if (!plan.changed) return state;
  const files = { ...state.files };
  const directories = { ...state.directories };
  for (const diff of plan.diff ?? []) {
    const { path } = diff;
    const after = diff.edits ? applyLineEdits(new FreshHost(facts, state).contentOf(path) ?? '', diff.edits) : writtenContent(plan, diff);
    const before = files[path];
    files[path] = after === null ? null : typeof before === 'object' && before !== null ? { ...before, content: after } : after;
  }
  if (op.kind === 'directory') directories[op.target] ??= {};
  if (op.kind === 'absent') {
    const inside = (path: string) => path === op.target || path.startsWith(`${op.target}/`);
    const stock = stockState(facts);
    // Stock paths are removed by listing them as null.
    for (const path of Object.keys({ ...stock.files, ...stock.directories, ...files, ...directories })) {
      if (inside(path)) {
        files[path] = null;
        directories[path] = null;
      }
    }
  }
  return { ...state, files, directories };
}

/** The content of a file in a state (null: there is none). */
export function contentIn(state: HostState, facts: Facts, path: string): string | null {
  return new FreshHost(facts, state).contentOf(path);
}

/**
 * The content a planned change leaves at `diff.path` (null: removed). A secret file's diff carries
 * no content: it is read from the word that the atomic write script hands to printf.
 */
export function writtenContent(plan: Extract<Plan, { changed: true }>, diff: FileDiff): string | null {
  if (diff.edits) throw new Error(`writtenContent: ${diff.path} is edited in place; its content is that of stateAfter`);
  if (!diff.secret) return diff.after;
  if (diff.change === 'removed') return null;
  const words = quotedWordsAfter(plan.script, /^printf '%s' ((?:'[^']*'|\\'|[A-Za-z0-9_@%+=:,./-])+) >"\$provision_tmp" \|\| exit 1$/gm);
  if (words.length !== 1) throw new Error(`writtenContent: the script writing ${diff.path} has ${words.length} printf lines; update test/support/fresh-host.ts`);
  return words[0]!;
}

function expectProbe(op: Operation, fragment: string): void {
  if (!op.probe().includes(fragment)) {
    throw new Error(`freshProbe: the probe of ${op.kind} ${op.target} is not the one test/support/fresh-host.ts simulates; update it`);
  }
}

/** The words captured by `pattern`'s first group, unquoted. */
function quotedWordsAfter(text: string, pattern: RegExp): string[] {
  return [...text.matchAll(pattern)].map((m) => unquoteWord(m[1] ?? ''));
}

/** The value of one word as quote() (src/core/shell.ts) writes it: bare, or '...' with '\'' for a quote. */
export function unquoteWord(word: string): string {
  const parts = /^(?:'[^']*'|\\'|[A-Za-z0-9_@%+=:,./-])+$/.test(word) ? word.match(/'[^']*'|\\'|[^'\\]+/g) : null;
  if (parts === null) throw new Error(`freshProbe: ${JSON.stringify(word)} is not a word quote() writes`);
  const value = parts.map((part) => (part === "\\'" ? "'" : part.startsWith("'") ? part.slice(1, -1) : part)).join('');
  if (quote(value) !== word) throw new Error(`freshProbe: ${JSON.stringify(word)} is not a word quote() writes`);
  return value;
}
