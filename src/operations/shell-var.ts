// shellVar: one NAME=value setting in a file that a shell sources as root (/etc/sysconfig/network,
// ifcfg-*, /etc/default/*). Every such setting is written by `shellAssignment`, the one writer of
// these lines: the value always goes through the POSIX quoting of every command (`quote`), so a
// value, however it got past the checks, is data when an init script sources the file, never code.
import { OperationError, type Operation } from '../core/operation.ts';
import { quote } from '../core/shell.ts';
import { line } from './line.ts';
import type { AttributeOptions } from './file-state.ts';

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `NAME=value` with the value as one POSIX sh word (a safe word stays bare: HOSTNAME=lvs1). */
export function shellAssignment(name: string, value: string | number): string {
  if (!NAME.test(name)) throw new OperationError(`${JSON.stringify(name)} is not a shell variable name`);
  const text = String(value);
  // A line-based file: a newline would end the assignment inside the quotes for some readers
  // (NetworkManager's ifcfg parser, systemd's EnvironmentFile), so no value may hold one.
  if (/[\n\r]/.test(text)) throw new OperationError(`the value of ${name} contains a line break, which a file of NAME=value lines cannot hold`);
  return `${name}=${quote(text)}`;
}

export interface ShellVarOptions extends AttributeOptions {
  /** absolute path of the file */
  path: string;
  name: string;
  value: string | number;
  /** create the file when it does not exist (default: the task fails) */
  create?: boolean;
  /** also take the place of a commented-out setting (`#NAME=...`), as packages ship them */
  replaceCommented?: boolean;
}

/** The last `NAME=` line (optionally `export NAME=`, or commented out) becomes NAME=value; appended when there is none. */
export function shellVar(options: ShellVarOptions): Operation {
  const { path, name, value, create, replaceCommented, ...attributes } = options;
  const prefix = replaceCommented ? '^#?\\s*' : '^\\s*';
  return line({
    ...attributes,
    path,
    line: shellAssignment(name, value),
    regexp: new RegExp(`${prefix}(?:export\\s+)?${name}=`),
    ...(create === undefined ? {} : { create }),
  });
}
