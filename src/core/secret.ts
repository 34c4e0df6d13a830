// Secrets (values read with `!env`, ssh and sudo passwords, the -K password) and every form in
// which this code can write one: the redactor (src/report/redact.ts) masks each of these forms in
// every output, so a value that leaves the process escaped, quoted or encoded is still found.
// A new way of writing values into scripts or files belongs here, next to the others.
import { randomBytes } from 'node:crypto';
import { quote } from './shell.ts';

/**
 * The shortest secret accepted where secrets enter. Output is masked by searching for each secret:
 * a one-letter secret would be "found" in every word (`chang********d`), corrupting the output and
 * telling anyone who reads it what the secret is. Six characters keep masking precise while still
 * accepting common short credentials (Vagrant's default password, `vagrant`, has seven).
 */
export const MIN_SECRET_LENGTH = 6;

/**
 * Why `value` cannot be a secret, or undefined when it can. The empty string is accepted: it is
 * never searched for, so it cannot corrupt output (the settings that need a value say so).
 */
export function secretLengthProblem(value: string): string | undefined {
  if (unsetEnvVariable(value) !== undefined) return undefined;
  const length = [...value].length;
  if (length === 0 || length >= MIN_SECRET_LENGTH) return undefined;
  return `has ${length} character${length === 1 ? '' : 's'}; a secret needs at least ${MIN_SECRET_LENGTH}, because every output is masked by searching for it, and a shorter one would mask ordinary text and give itself away`;
}

// --- secrets not known: lint without the environment -------------------------------------------

// The stand-in carries a token drawn when the process starts: a file or an -e value cannot spell it
// (were it forgeable, a value written in a file would pass as "unknown" where a secret goes, NULs
// and all, and reach a target).
const UNSET_ENV_START = `\u0000${randomBytes(12).toString('hex')} !env `;
const UNSET_ENV_END = '\u0000';

/**
 * What an unset `!env NAME` reads as while linting (yaml-file.ts, ParseOptions.onUnsetEnv): a
 * secret string whose value is not known. It is delimited by NUL characters, which no value type
 * accepts and no shell or file can carry, so every check that does not know it refuses it
 * (validate.ts knows it: accepted where a secret goes, anywhere else lint needs the value), and it
 * can never reach a target. It holds no secret text: nothing to mask, no length to judge.
 */
export function unsetEnvValue(variable: string): string {
  return `${UNSET_ENV_START}${variable}${UNSET_ENV_END}`;
}

/** The variable whose unknown value `value` is, or holds (a template may have put it inside a longer string). */
export function unsetEnvVariable(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const start = value.indexOf(UNSET_ENV_START);
  const end = start < 0 ? -1 : value.indexOf(UNSET_ENV_END, start + UNSET_ENV_START.length);
  return end < 0 ? undefined : value.slice(start + UNSET_ENV_START.length, end);
}

// Every secret this process has read so far, for the error printer: errors raised while the
// inventory loads come before the run's redactor exists.
const known = new Set<string>();

/**
 * Records a secret as soon as it is read, so that even an error raised right after is masked. A
 * value too short to be a secret is refused where it enters, and not recorded: masking it would
 * corrupt that very error message.
 */
export function noteSecret(value: string): void {
  if (value !== '' && unsetEnvVariable(value) === undefined && secretLengthProblem(value) === undefined) known.add(value);
}

export function knownSecrets(): ReadonlySet<string> {
  return known;
}

/**
 * The backslash escapes the roles' config writers use (piranha's lvs.cf writes line breaks as \n
 * and \r). A writer that escapes with this function is covered by the redactor without more work.
 */
const BACKSLASH_ESCAPES: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t', '"': '\\"', '\\': '\\\\' };

/** `value` with each character of `chars` written as its backslash escape (\n, \r, \t, \", \\). */
export function backslashEscape(value: string, chars: string): string {
  let out = '';
  for (const char of value) out += chars.includes(char) ? (BACKSLASH_ESCAPES[char] ?? `\\${char}`) : char;
  return out;
}

/** The text between the quotes of quote(value): what a script that carries `value` contains. */
function shellQuotedInner(value: string): string {
  const quoted = quote(value);
  return quoted.startsWith("'") && quoted.endsWith("'") && quoted !== value ? quoted.slice(1, -1) : quoted;
}

/**
 * The character-wise escapings this code applies to values (each maps a string to its escaped form
 * character by character, so a secret's escaped form is the concatenation of its characters'):
 * shell quoting (quote: `'` becomes `'\''`), JSON strings (events, error messages), and the config
 * writers' backslash escapes.
 */
const characterEscapings: ReadonlyArray<(value: string) => string> = [
  (value) => value,
  shellQuotedInner,
  (value) => JSON.stringify(value).slice(1, -1),
  (value) => backslashEscape(value, Object.keys(BACKSLASH_ESCAPES).join('')),
  // The other common way to put a single quote inside a single-quoted shell word.
  (value) => value.replaceAll("'", `'"'"'`),
];

/** The same escapings applied to a whole value: the texts that base64 and hex are computed from. */
export function escapedForms(secret: string): string[] {
  return [...new Set(characterEscapings.map((escape) => escape(secret)))];
}

const regexEscape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
const anyCaseHex = (hex: string): string => hex.replace(/[a-f]/gi, (d) => `[${d.toLowerCase()}${d.toUpperCase()}]`);

/**
 * A regular expression source matching `secret` in any of its forms, including mixtures: each
 * character as itself, as each escaping above writes it, behind any number of backslashes (any
 * other backslash escape, or one escaped twice), as \uXXXX, as \xHH or \OOO bytes, or %HH.
 */
export function secretPattern(secret: string): string {
  let source = '';
  for (const char of secret) {
    const alternatives = new Set<string>();
    // Each backslash of an escape may itself have been escaped again (JSON inside JSON: \\n, '\\''),
    // any number of times.
    for (const escape of characterEscapings) alternatives.add(escape(char).split(/\\+/).map(regexEscape).join('\\\\+'));
    alternatives.add(`\\\\+${regexEscape(char)}`);
    const units = [...Array(char.length).keys()].map((i) => char.charCodeAt(i).toString(16).padStart(4, '0'));
    alternatives.add(units.map((unit) => `\\\\+u${anyCaseHex(unit)}`).join(''));
    const bytes = [...Buffer.from(char, 'utf8')];
    alternatives.add(bytes.map((b) => `\\\\+x${anyCaseHex(b.toString(16).padStart(2, '0'))}`).join(''));
    alternatives.add(bytes.map((b) => `\\\\+${b.toString(8).padStart(3, '0')}`).join(''));
    alternatives.add(bytes.map((b) => `%${anyCaseHex(b.toString(16).padStart(2, '0'))}`).join(''));
    source += `(?:${[...alternatives].join('|')})`;
  }
  return source;
}

/**
 * Texts that give a secret away when decoded: its base64 (standard and URL alphabets) at each of the
 * three byte alignments it can have inside a longer encoded text, without the characters it shares
 * with its neighbours, and its hex, for each escaped form.
 */
export function encodedForms(secret: string): string[] {
  const out = new Set<string>();
  for (const form of escapedForms(secret)) {
    const bytes = Buffer.from(form, 'utf8');
    for (let offset = 0; offset < 3; offset++) {
      const encoded = Buffer.concat([Buffer.alloc(offset), bytes]).toString('base64');
      // Characters whose six bits come from the secret alone.
      const inner = encoded.slice(Math.ceil((offset * 8) / 6), Math.floor(((offset + bytes.length) * 8) / 6));
      out.add(inner);
      out.add(inner.replaceAll('+', '-').replaceAll('/', '_'));
    }
    out.add(bytes.toString('hex'));
    out.add(bytes.toString('hex').toUpperCase());
  }
  return [...out].filter((form) => form.length > 0);
}

/**
 * One expression (flag g) matching every form of every secret, or undefined when there is none.
 * Longest secrets first, so a secret that contains another is matched whole.
 */
export function secretsPattern(secrets: Iterable<string>): RegExp | undefined {
  const sorted = [...new Set(secrets)].filter((s) => s.length > 0 && unsetEnvVariable(s) === undefined).sort((a, b) => b.length - a.length || (a < b ? -1 : 1));
  // Building the expression costs far more than using it, and the same secrets are asked for again
  // and again (every error message, every schema value shown): one per set of secrets.
  const key = sorted.join('\0');
  if (patternCache.has(key)) return patternCache.get(key);
  const pattern = buildSecretsPattern(sorted);
  if (patternCache.size >= PATTERN_CACHE_SIZE) patternCache.delete(patternCache.keys().next().value as string);
  patternCache.set(key, pattern);
  return pattern;
}

const PATTERN_CACHE_SIZE = 16;
const patternCache = new Map<string, RegExp | undefined>();

function buildSecretsPattern(sorted: readonly string[]): RegExp | undefined {
  const encoded = [...new Set(sorted.flatMap(encodedForms))].sort((a, b) => b.length - a.length);
  const alternatives = [...sorted.map(secretPattern), ...encoded.map(regexEscape)];
  return alternatives.length === 0 ? undefined : new RegExp(alternatives.join('|'), 'g');
}

/** Whether `text` holds any form of any of `secrets`. */
export function containsSecret(text: string, secrets: Iterable<string>): boolean {
  const pattern = secretsPattern(secrets);
  if (pattern === undefined) return false;
  // The expression is shared (cached) and global: test() continues from lastIndex.
  pattern.lastIndex = 0;
  return pattern.test(text);
}
