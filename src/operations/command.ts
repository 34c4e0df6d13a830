// command: a shell command, made idempotent by guards (Ansible's command/shell with creates/removes,
// and the unless/onlyIf checks of Puppet's exec).
import type { Facts } from '../core/facts.ts';
import { OperationError, type Operation, type Plan, type ProbeOutput } from '../core/operation.ts';
import { quote } from '../core/shell.ts';
import { checkPath } from './file-state.ts';

export interface CommandOptions {
  /** POSIX sh to run (it runs under `set -e`, as root, in /) */
  run: string;
  /** absolute path: the command does not run when it exists */
  creates?: string;
  /** absolute path: the command runs only when it exists */
  removes?: string;
  /**
   * POSIX sh check: exit status 0 means "already done", so the command does not run. It runs at
   * probe time, before any change and again just before applying, so it must only read state
   * (e.g. `grep -q '^net.ipv4.ip_forward = 1' /etc/sysctl.conf`), never change it.
   */
  unless?: string;
  /** POSIX sh check: the command runs only when it exits 0. Read-only, like `unless`. */
  onlyIf?: string;
}

/**
 * Runs `run` when every guard allows it; without any guard it runs every time (and always reports
 * a change), so give a guard to make it idempotent.
 */
export function command(options: CommandOptions): Operation {
  const kind = 'command';
  if (options.run.trim() === '') throw new OperationError('command: `run` is empty; give the shell command to run');
  const firstLine = options.run.trim().split('\n')[0] ?? '';
  const target = options.run.trim().includes('\n') ? `${firstLine} ...` : firstLine;
  const creates = options.creates === undefined ? undefined : checkPath(`${kind} creates`, options.creates);
  const removes = options.removes === undefined ? undefined : checkPath(`${kind} removes`, options.removes);
  const checks = { unless: options.unless, 'only-if': options.onlyIf };
  for (const [name, check] of Object.entries(checks)) {
    if (check !== undefined && check.trim() === '') throw new OperationError(`command ${target}: the ${name} check is empty; remove it or give a shell command`);
  }

  function probe(): string {
    const lines: string[] = [];
    if (creates !== undefined) lines.push(`if [ -e ${quote(creates)} ]; then echo creates=present; else echo creates=absent; fi`);
    if (removes !== undefined) lines.push(`if [ -e ${quote(removes)} ]; then echo removes=present; else echo removes=absent; fi`);
    for (const [name, check] of Object.entries(checks)) {
      if (check === undefined) continue;
      // Own subshell and no output, so a check cannot end the probe or disturb what it prints; the
      // newlines let a check end with a comment.
      lines.push(`if (\n${check}\n) </dev/null >/dev/null 2>&1; then echo ${name}=succeeded; else echo ${name}=failed; fi`);
    }
    return lines.join('\n');
  }

  return {
    kind,
    target,
    probe,
    plan(_facts: Facts, probed: ProbeOutput): Plan {
      const fields = new Map(
        probed.stdout
          .split('\n')
          .filter((l) => l.includes('='))
          .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as const),
      );
      const field = (name: string): string => {
        const value = fields.get(name);
        if (value === undefined) throw new OperationError(`command ${target}: the probe did not report the ${name} guard; run with -vvv to see its output`);
        return value;
      };
      const reasons: string[] = [];
      if (creates !== undefined && field('creates') === 'present') reasons.push(`${creates} exists`);
      if (removes !== undefined && field('removes') === 'absent') reasons.push(`${removes} does not exist`);
      if (checks.unless !== undefined && field('unless') === 'succeeded') reasons.push('the unless check succeeded');
      if (checks['only-if'] !== undefined && field('only-if') === 'failed') reasons.push('the onlyIf check failed');
      if (reasons.length > 0) return { changed: false, note: reasons.join('; ') };
      return { changed: true, summary: `run ${target}`, script: options.run };
    },
  };
}
