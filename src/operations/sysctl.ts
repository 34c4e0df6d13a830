// sysctl: a kernel parameter set now (/proc/sys) and, unless persist is false, at every boot (a
// sysctl configuration file).
import { posix } from 'node:path';
import type { Facts } from '../core/facts.ts';
import { noChange, OperationError, StateError, type FileDiff, type Operation, type Plan, type ProbeOutput } from '../core/operation.ts';
import { quote } from '../core/shell.ts';
import { fileStateProbe, parseFileState } from './file-state.ts';
import { parseRecords, restOf, sbinPath } from './system-probe.ts';
import { insertLines, joinLines, splitLines } from './text-lines.ts';
import { existingText, planTextFile } from './write-file.ts';

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

export function sysctl(options: SysctlOptions): Operation {
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
  const procFile = `/proc/sys/${procPathOf(name)}`;
  // The probe cannot know the family, so it reads every file the planner may choose.
  const candidateFiles = persist ? [...new Set([mainSysctlFile, options.file ?? dropInSysctlFile])] : [];

  return {
    kind: 'sysctl',
    target: name,
    probe: () => sysctlProbe(procFile, candidateFiles),
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
        const file = options.file ?? (facts.os.family === 'el' && facts.os.major <= 6 ? mainSysctlFile : dropInSysctlFile);
        const contents = fileContents(records);
        // /etc/sysctl.conf is applied last at boot, so a different value there would undo ours.
        const files = file === mainSysctlFile || !persistedIn(contents.get(mainSysctlFile) ?? '', name) ? [file] : [file, mainSysctlFile];
        for (const path of files) {
          const state = parseFileState(path, contents.get(path) ?? '', { withContent: true });
          const before = existingText('sysctl', path, state);
          const after = withSetting(before ?? '', name, value);
          if (after === before) continue;
          const plan = planTextFile({
            kind: 'sysctl',
            path,
            state,
            content: after,
            attributes: {},
            backup: false,
            secret: false,
            describe: `persist ${name} = ${value} in ${path}`,
          });
          if (!plan.changed) continue;
          // The default drop-in directory may be missing where nothing has used it yet.
          const mkdir = path === dropInSysctlFile ? `mkdir -p ${quote(posix.dirname(path))}\n` : '';
          parts.push({ summary: plan.summary, script: mkdir + plan.script, ...(plan.diff ? { diff: plan.diff } : {}) });
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

// Records:
//   runtime <value>           the current value, TABs and newlines turned into spaces
//   runtime-missing           no such parameter
//   runtime-unreadable        it exists but cannot be read (write-only, e.g. net.ipv4.route.flush)
//   file <path> <line>        the output of fileStateProbe for that file, line by line
function sysctlProbe(procFile: string, files: string[]): string {
  const p = quote(procFile);
  const lines = [
    sbinPath,
    `provision_emit() { while IFS= read -r provision_line; do printf '%s\\t' "$@"; printf '%s\\n' "$provision_line"; done; }`,
    `if [ ! -e ${p} ]; then printf 'runtime-missing\\n'`,
    `elif provision_value=$(cat ${p} 2>/dev/null); then printf 'runtime\\t'; printf '%s' "$provision_value" | tr '\\t\\n' '  '; echo`,
    `else printf 'runtime-unreadable\\n'; fi`,
  ];
  for (const file of files) lines.push(`( ${fileStateProbe(file, { withContent: true })}\n) | provision_emit file ${quote(file)}`);
  return lines.join('\n');
}

/** The fileStateProbe output of each file, put back together from its records. */
function fileContents(records: ReturnType<typeof parseRecords>): Map<string, string> {
  const lines = new Map<string, string[]>();
  for (const record of records) {
    if (record.kind !== 'file') continue;
    const path = record.fields[0] ?? '';
    lines.set(path, [...(lines.get(path) ?? []), restOf(record, 1)]);
  }
  return new Map([...lines].map(([path, list]) => [path, list.join('\n') + '\n']));
}

function runtimeScript(name: string, value: string, procFile: string): string {
  // Writing /proc/sys directly is what sysctl -w does; it is the way on hosts without procps.
  return `if command -v sysctl >/dev/null 2>&1; then sysctl -w ${quote(`${name}=${value}`)}; else printf '%s\\n' ${quote(value)} >${quote(procFile)}; fi`;
}

/** A "name = value" line of a sysctl configuration file; "-name = value" ignores errors. */
function settingOf(line: string): { name: string; value: string } | undefined {
  const trimmed = line.trim();
  if (trimmed === '' || trimmed.startsWith('#') || trimmed.startsWith(';')) return undefined;
  const eq = trimmed.indexOf('=');
  if (eq === -1) return undefined;
  return { name: trimmed.slice(0, eq).trim().replace(/^-\s*/, ''), value: trimmed.slice(eq + 1).trim() };
}

function sameParameter(a: string, b: string): boolean {
  return procPathOf(a) === procPathOf(b);
}

/** Whether the text sets the parameter (to any value). */
function persistedIn(text: string, name: string): boolean {
  return splitLines(text).lines.some((line) => {
    const setting = settingOf(line);
    return setting !== undefined && sameParameter(setting.name, name);
  });
}

/**
 * The text with every line setting the parameter saying `name = value` (lines that already give the
 * value, in any spacing, are kept as they are), or with that line appended when none does.
 */
export function withSetting(text: string, name: string, value: string): string {
  const parsed = splitLines(text);
  let found = false;
  const lines = parsed.lines.map((line) => {
    const setting = settingOf(line);
    if (setting === undefined || !sameParameter(setting.name, name)) return line;
    found = true;
    return normalizeBlanks(setting.value) === normalizeBlanks(value) ? line : `${name} = ${value}`;
  });
  if (!found) return joinLines(insertLines(parsed, parsed.lines.length, [`${name} = ${value}`]));
  return joinLines({ ...parsed, lines });
}
