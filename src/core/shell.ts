// Every value that reaches a target's shell goes through `quote`. Targets may have only dash or
// busybox sh, so this is POSIX single-quoting, never bash's $'...' (which dash prints literally).

// Words made only of safe characters that the shell still reads as syntax when they stand where a
// command name is expected: reserved words (POSIX, plus bash's, as /bin/sh is bash on EL) and
// assignments. Quoted, they are plain words everywhere.
const reservedWords = new Set(['case', 'do', 'done', 'elif', 'else', 'esac', 'fi', 'for', 'if', 'in', 'then', 'until', 'while', 'function', 'select', 'time', 'coproc']);
const assignment = /^[A-Za-z_][A-Za-z0-9_]*=/;

/** Quote one value as a single POSIX sh word that arrives unchanged (any string without NUL). */
export function quote(value: string | number): string {
  const s = String(value);
  if (s.includes('\0')) throw new Error('a shell argument cannot contain a NUL byte');
  const bare =
    /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) && !s.startsWith('-') && !s.startsWith('=') && !reservedWords.has(s) && !assignment.test(s);
  if (bare) return s;
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Marks text that is already shell syntax, so `sh` interpolates it without quoting. */
export class Raw {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

/** Lets a trusted fragment (built by this project, not from user values) pass through `sh` as is. */
export function raw(text: string): Raw {
  return new Raw(text);
}

type Interpolated = string | number | Raw | ReadonlyArray<string | number | Raw>;

/**
 * A zx-style tagged template for commands that run on a target: every interpolated value is quoted
 * as one word; an array becomes several words. Example: sh`useradd -g ${group} ${name}`.
 */
export function sh(strings: TemplateStringsArray, ...values: Interpolated[]): string {
  let out = strings[0] ?? '';
  values.forEach((value, i) => {
    out += interpolate(value) + (strings[i + 1] ?? '');
  });
  return out;
}

function interpolate(value: Interpolated): string {
  if (value instanceof Raw) return value.text;
  if (Array.isArray(value)) return value.map((v) => interpolate(v as Interpolated)).join(' ');
  return quote(value as string | number);
}
