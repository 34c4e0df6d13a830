// sysctl: a kernel parameter set now (/proc/sys) and, unless persist is false, at every boot (a
// sysctl configuration file).
import { posix } from 'node:path';
import type { Facts } from '../core/facts.ts';
import { noChange, OperationError, StateError, type FileDiff, type LineEdit, type Operation, type Plan, type ProbeOutput } from '../core/operation.ts';
import { quote } from '../core/shell.ts';
import { parseRecords, restOf, sbinPath } from './system-probe.ts';

export interface SysctlOptions {
  /** e.g. 'net.ipv4.ip_forward'; a VLAN interface is written with a slash: 'net.ipv4.conf.eth0/100.rp_filter' */
  name: string;
  /** e.g. '1', or '4096 87380 6291456' (compared with blanks normalized) */
  value: string | number;
  /** also set it at boot (default true) */
  persist?: boolean;
  /** the file that persists it; default: /etc/sysctl.conf on EL5/EL6, /etc/sysctl.d/90-provision.conf elsewhere */
  file?: string;
}

/** Read at boot on every platform, after the files of /etc/sysctl.d (procps sysctl --system, systemd's 99-sysctl.conf link). */
export const mainSysctlFile = '/etc/sysctl.conf';
export const dropInSysctlFile = '/etc/sysctl.d/90-provision.conf';

const sysctlNamePattern = /^[A-Za-z0-9_][A-Za-z0-9_@:+-]*([./][A-Za-z0-9_@:+-]+)*$/;

/** The two files the default persistence uses (replaceable for tests that run the scripts for real). */
export interface SysctlFiles {
  main: string;
  dropIn: string;
}

const defaultFiles: SysctlFiles = { main: mainSysctlFile, dropIn: dropInSysctlFile };

export function sysctl(options: SysctlOptions, files: SysctlFiles = defaultFiles): Operation {
  const name = options.name;
  const value = String(options.value);
  const persist = options.persist ?? true;
  if (!sysctlNamePattern.test(name)) throw new OperationError(`sysctl: ${JSON.stringify(name)} is not a kernel parameter name such as net.ipv4.ip_forward`);
  if (/[\n\r\0]/.test(value) || normalizeBlanks(value) === '') {
    throw new OperationError(`sysctl ${name}: the value must be one line of text, not empty (got ${JSON.stringify(value)})`);
  }
  if (options.file !== undefined && !(options.file.startsWith('/') && posix.normalize(options.file) === options.file)) {
    throw new OperationError(`sysctl ${name}: file ${JSON.stringify(options.file)} must be an absolute, normalized path`);
  }
  const procPath = procPathOf(name);
  const procFile = `/proc/sys/${procPath}`;
  // The probe cannot know the family, so it reads every file the planner may choose.
  const candidateFiles = persist ? [...new Set([files.main, options.file ?? files.dropIn])] : [];
  const setting = `${name} = ${value}`;

  return {
    kind: 'sysctl',
    target: name,
    probe: () => sysctlProbe(procFile, procPath, candidateFiles),
    plan(facts: Facts, probed: ProbeOutput): Plan {
      const records = parseRecords(probed.stdout);
      const runtime = records.find((r) => r.kind.startsWith('runtime'));
      if (runtime?.kind === 'runtime-missing') {
        throw new StateError(
          `sysctl ${name}: the kernel of the host has no such parameter (${procFile} does not exist); check the name, or load the module that provides it first (e.g. ip_vs for net.ipv4.vs.*)`,
        );
      }
      if (runtime?.kind !== 'runtime') {
        throw new OperationError(`sysctl ${name}: ${procFile} cannot be read, so there is no state to compare; set a write-only parameter with a command task`);
      }
      const current = normalizeBlanks(restOf(runtime, 0));
      const parts: Array<{ summary: string; script: string; diff?: FileDiff[] }> = [];
      if (current !== normalizeBlanks(value)) {
        parts.push({ summary: `set ${name} = ${value} (now ${current})`, script: runtimeScript(name, value, procFile) });
      }
      if (persist) {
        const file = options.file ?? (facts.os.family === 'el' && facts.os.major <= 6 ? files.main : files.dropIn);
        const seen = probedFiles(name, records, candidateFiles);
        // /etc/sysctl.conf is applied last at boot, so a different value there would undo ours.
        const paths = file === files.main || seen.get(files.main)?.length === 0 ? [file] : [file, files.main];
        for (const path of paths) {
          const lines = seen.get(path) ?? [];
          const edits: LineEdit[] = lines
            .filter((l) => normalizeBlanks(valueOf(l.text)) !== normalizeBlanks(value))
            .map((l) => ({ line: l.nr, before: l.text, after: setting }));
          // Only the target file gets the line when it has none; /etc/sysctl.conf is fixed, not added to.
          if (lines.length === 0) edits.push({ line: 'end', after: setting });
          if (edits.length === 0) continue;
          parts.push({
            summary: `persist ${name} = ${value} in ${path}`,
            // The default drop-in directory may be missing where nothing has used it yet.
            script: sysctlEditScript({ path, procPath, setting, lines, edits, mkdir: path === files.dropIn }),
            diff: [{ path, edits }],
          });
        }
      }
      if (parts.length === 0) return noChange();
      const diff = parts.flatMap((p) => p.diff ?? []);
      return {
        changed: true,
        summary: parts.map((p) => p.summary).join('; '),
        script: parts.map((p) => p.script).join('\n'),
        ...(diff.length > 0 ? { diff } : {}),
      };
    },
  };
}

/** Collapses runs of blanks and trims, so "0 0", "0\t0" and " 0  0 " compare equal. */
export function normalizeBlanks(value: string): string {
  return value.trim().split(/\s+/).join(' ');
}

/**
 * The path under /proc/sys, as sysctl(8) and sysctl.d(5) map it: when the first separator is a dot,
 * dots and slashes swap (net.ipv4.conf.eth0/100.rp_filter -> net/ipv4/conf/eth0.100/rp_filter);
 * when it is a slash, the name is the path already.
 */
export function procPathOf(name: string): string {
  const firstSeparator = /[./]/.exec(name)?.[0];
  if (firstSeparator !== '.') return name;
  return name.replace(/[./]/g, (c) => (c === '.' ? '/' : '.'));
}

/** A line of a sysctl file that sets the parameter, as the probe printed it. */
export interface ProbedLine {
  /** 1-based line number */
  nr: number;
  text: string;
}

// awk shared by the probe and the edit: param(line) is the /proc/sys path of the parameter a line of
// a sysctl configuration file sets ("" for a comment or a line without "="), read as sysctl.d(5)
// does: leading blanks, an optional "-" (ignore errors), the name up to the first "=", trimmed.
// POSIX awk only (mawk, gawk 3.1 of EL5, busybox awk): no character classes, no gawk functions.
const awkFunctions = `function procpath(n,  i, c, first, out) {
  first = ""
  for (i = 1; i <= length(n) && first == ""; i++) { c = substr(n, i, 1); if (c == "." || c == "/") first = c }
  if (first != ".") return n
  out = ""
  for (i = 1; i <= length(n); i++) { c = substr(n, i, 1); if (c == ".") c = "/"; else if (c == "/") c = "."; out = out c }
  return out
}
function param(s,  c, eq) {
  sub(/^[ \\t\\r\\f\\v]+/, "", s)
  c = substr(s, 1, 1)
  if (c == "#" || c == ";") return ""
  if (c == "-") s = substr(s, 2)
  eq = index(s, "=")
  if (eq == 0) return ""
  s = substr(s, 1, eq - 1)
  sub(/^[ \\t\\r\\f\\v]+/, "", s)
  sub(/[ \\t\\r\\f\\v]+$/, "", s)
  return procpath(s)
}`;

/** What awkFunctions' param() returns for a line (the model of the probe, for tests and fake hosts). */
export function parameterOf(line: string): string {
  let s = line.replace(/^[ \t\r\f\v]+/, '');
  if (s.startsWith('#') || s.startsWith(';')) return '';
  if (s.startsWith('-')) s = s.slice(1);
  const eq = s.indexOf('=');
  if (eq === -1) return '';
  return procPathOf(s.slice(0, eq).replace(/^[ \t\r\f\v]+/, '').replace(/[ \t\r\f\v]+$/, ''));
}

/** Prints "line <TAB> FILE <TAB> NR <TAB> TEXT" for each line setting the parameter (env: provision_param, provision_file). */
export const sysctlProbeAwk = `${awkFunctions}
param($0) == ENVIRON["provision_param"] { printf "line\\t%s\\t%d\\t%s\\n", ENVIRON["provision_file"], NR, $0 }`;

/**
 * Copies the file, replacing the lines whose numbers are in provision_replace (" 3 7 ") by
 * provision_setting and appending it when provision_append is yes; a missing final newline stays
 * missing unless it appends (provision_newline: whether the file ends with one). It fails (status 3)
 * when the lines setting the parameter are not those the plan was made on (provision_expect).
 */
export const sysctlEditAwk = `${awkFunctions}
{
  line = $0
  if (param($0) == ENVIRON["provision_param"]) {
    seen = seen NR "\\t" $0 "\\n"
    if (index(ENVIRON["provision_replace"], " " NR " ") > 0) line = ENVIRON["provision_setting"]
  }
  if (NR > 1) printf "\\n"
  printf "%s", line
}
END {
  if (seen != ENVIRON["provision_expect"]) {
    print "the lines setting " ENVIRON["provision_param"] " in " ENVIRON["provision_file"] " changed since they were read; nothing written, run again" | "cat 1>&2"
    exit 3
  }
  if (ENVIRON["provision_append"] == "yes") { if (NR > 0) printf "\\n"; printf "%s\\n", ENVIRON["provision_setting"] }
  else if (NR > 0 && ENVIRON["provision_newline"] == "yes") printf "\\n"
}`;

// Records:
//   runtime <value>                 the current value, TABs and newlines turned into spaces
//   runtime-missing                 no such parameter
//   runtime-unreadable              it exists but cannot be read (write-only, e.g. net.ipv4.route.flush)
//   line <path> <nr> <text>         a line of the file that sets this parameter
//   file <path> <kind>              after its lines: editable (a regular file, or absent: the edit
//                                   creates it), link, directory, other, or unreadable
// Nothing else of the file is printed, not even whether it exists: another sysctl task's edit of the
// same file (another line replaced, or appended, or the file created) leaves this output as it is,
// so the runner does not find this task's probe stale after it.
function sysctlProbe(procFile: string, procPath: string, files: string[]): string {
  const p = quote(procFile);
  const lines = [
    sbinPath,
    `if [ ! -e ${p} ]; then printf 'runtime-missing\\n'`,
    `elif provision_value=$(cat ${p} 2>/dev/null); then printf 'runtime\\t'; printf '%s' "$provision_value" | tr '\\t\\n' '  '; echo`,
    `else printf 'runtime-unreadable\\n'; fi`,
  ];
  for (const file of files) {
    const f = quote(file);
    lines.push(
      `if [ -L ${f} ]; then provision_kind=link; elif [ -d ${f} ]; then provision_kind=directory; elif [ ! -e ${f} ]; then provision_kind=editable; elif [ ! -f ${f} ]; then provision_kind=other`,
      `elif provision_param=${quote(procPath)} provision_file=${f} LC_ALL=C awk ${quote(sysctlProbeAwk)} <${f}; then provision_kind=editable`,
      `else provision_kind=unreadable; fi`,
      `printf 'file\\t%s\\t%s\\n' ${f} "$provision_kind"`,
    );
  }
  return lines.join('\n');
}

/** The lines of each candidate file that set the parameter; throws for a file the edit cannot handle. */
function probedFiles(name: string, records: ReturnType<typeof parseRecords>, files: string[]): Map<string, ProbedLine[]> {
  const lines = new Map<string, ProbedLine[]>();
  const kinds = new Map<string, string>();
  for (const record of records) {
    const path = record.fields[0] ?? '';
    if (record.kind === 'line') lines.set(path, [...(lines.get(path) ?? []), { nr: Number(record.fields[1]), text: restOf(record, 2) }]);
    if (record.kind === 'file') kinds.set(path, record.fields[1] ?? '');
  }
  for (const path of files) {
    const kind = kinds.get(path);
    const where = `sysctl ${name}: ${path}`;
    if (kind === 'link') {
      throw new StateError(`${where}: the path is a symbolic link; give the path of the file it points to (file:), or replace the link by a file`);
    }
    if (kind === 'directory' || kind === 'other') {
      throw new StateError(`${where}: the path is ${kind === 'directory' ? 'a directory' : 'a special file'}, not a regular file; remove it or choose another file`);
    }
    if (kind === 'unreadable') throw new OperationError(`cannot read ${path} on the target; check its permissions (the runner needs to read it to compare)`);
    if (kind !== 'editable') throw new OperationError(`could not read the state of ${path} on the target (no file record); run with -vvv to see the probe output`);
    lines.set(path, lines.get(path) ?? []);
  }
  return lines;
}

/** The value a line sets: what follows its first "=" (the probe printed only lines that have one). */
function valueOf(line: string): string {
  return line.slice(line.indexOf('=') + 1);
}

function runtimeScript(name: string, value: string, procFile: string): string {
  // Writing /proc/sys directly is what sysctl -w does; it is the way on hosts without procps.
  return `if command -v sysctl >/dev/null 2>&1; then sysctl -w ${quote(`${name}=${value}`)}; else printf '%s\\n' ${quote(value)} >${quote(procFile)}; fi`;
}

export interface SysctlEdit {
  path: string;
  procPath: string;
  setting: string;
  /** the lines of the parameter the plan was made on */
  lines: ProbedLine[];
  edits: LineEdit[];
  /** create the file's directory first */
  mkdir: boolean;
}

/**
 * POSIX sh that edits the file in place, line by line, as `edits` say, and atomically: awk copies the
 * file (or /dev/null when it is missing) with the changes into a temporary file of the same directory,
 * which gets the file's mode, owner and SELinux label (0644 for a new file) and is renamed over it.
 * Readers see the old file or the new one; a failed or interrupted run leaves the file as it was
 * (the traps remove the temporary file). awk checks that the lines setting the parameter are still
 * those the plan was made on, so that the edit never lands on other lines. Each step checks its
 * status: the script is correct with or without `set -e`.
 */
export function sysctlEditScript(e: SysctlEdit): string {
  const path = quote(e.path);
  const dir = posix.dirname(e.path);
  const template = quote(posix.join(dir, `.${posix.basename(e.path)}.provision-XXXXXX`));
  const missingDir = `cannot write ${e.path}: the directory ${dir} does not exist; create it first (e.g. with a directory task)`;
  const selinuxOn = 'command -v selinuxenabled >/dev/null 2>&1 && selinuxenabled';
  const replaced = e.edits.flatMap((edit) => (edit.line === 'end' ? [] : [edit.line]));
  const env = [
    `provision_param=${quote(e.procPath)}`,
    `provision_file=${path}`,
    `provision_setting=${quote(e.setting)}`,
    `provision_replace=${quote(` ${replaced.join(' ')} `)}`,
    `provision_append=${e.edits.some((edit) => edit.line === 'end') ? 'yes' : 'no'}`,
    `provision_newline="$provision_newline"`,
    `provision_expect=${quote(e.lines.map((l) => `${l.nr}\t${l.text}\n`).join(''))}`,
  ];
  return [
    ...(e.mkdir ? [`mkdir -p ${quote(dir)} || exit 1`] : []),
    `if [ ! -d ${quote(dir)} ]; then printf '%s\\n' ${quote(missingDir)} >&2; exit 1; fi`,
    'provision_tmp=',
    `trap 'rm -f "$provision_tmp"' EXIT`,
    `trap 'exit 129' HUP`,
    `trap 'exit 130' INT`,
    `trap 'exit 143' TERM`,
    `provision_tmp=$(mktemp ${template}) || exit 1`,
    `if [ -f ${path} ]; then provision_source=${path}; provision_attrs=$(stat -L -c '%u:%g %a' ${path}) || exit 1; else provision_source=/dev/null; provision_attrs=; fi`,
    `if [ -s ${path} ] && [ -n "$(tail -c 1 ${path})" ]; then provision_newline=no; else provision_newline=yes; fi`,
    `${env.join(' ')} LC_ALL=C awk ${quote(sysctlEditAwk)} <"$provision_source" >"$provision_tmp" || exit 1`,
    `if [ -n "$provision_attrs" ]; then chown "\${provision_attrs% *}" "$provision_tmp" || exit 1; chmod "\${provision_attrs#* }" "$provision_tmp" || exit 1; else chmod 0644 "$provision_tmp" || exit 1; fi`,
    // rename(2) gives the new file the label of the temporary file; keep the one the old file had.
    `if [ -n "$provision_attrs" ] && ${selinuxOn}; then chcon --reference=${path} "$provision_tmp" || exit 1; fi`,
    `mv -f "$provision_tmp" ${path} || exit 1`,
    `if [ -z "$provision_attrs" ] && ${selinuxOn} && command -v restorecon >/dev/null 2>&1; then restorecon ${path} || exit 1; fi`,
    'trap - EXIT HUP INT TERM',
  ].join('\n');
}
