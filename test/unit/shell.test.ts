// `quote` and `sh` are the only way values reach a target's shell. The property tests send hostile
// values through real dash and busybox sh, in every position a template puts them (argument,
// assignment value, for-list, set --), and compare the bytes that come back.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { quote, raw, sh } from '../../src/core/shell.ts';
import { posixShells, type PosixShell } from '../support/posix-shells.ts';

const shells = posixShells();
const emptyPath = mkdtempSync(join(tmpdir(), 'provision-empty-path-'));
afterAll(() => rmSync(emptyPath, { recursive: true, force: true }));

/** Runs a script (from stdin, as over ssh) and returns its stdout bytes; fails on a non-zero exit. */
function run(shell: PosixShell, script: string, path = '/usr/bin:/bin'): Buffer {
  const [program, ...args] = shell.command;
  const result = spawnSync(program, args, { input: script, env: { PATH: path, LC_ALL: 'C' }, maxBuffer: 64 * 1024 * 1024 });
  if (result.error) throw result.error;
  if (result.status !== 0) {
    throw new Error(`${shell.name} exited with ${result.status}: ${result.stderr.toString()}\n--- script:\n${script.slice(0, 2000)}`);
  }
  return result.stdout;
}

// Pieces that mean something to a shell, mixed into strings of any length and order.
const hostilePieces = [
  "'", '"', "'\\''", '\n', '\r\n', '$(', ')', '$(id)', '`', '`id`', ';', '&&', '||', '|', '&', '>', '<', '>>',
  '*', '?', '[', ']', '[a-z]', '{a,b}', '~', '~root', '#', '!', '-', '--', '-n', '-e', '=', 'A=', ' ', '  ', '\t',
  '\\', '\\\\', '\\n', '\\0', '%s', '%b', '%', '$', '$HOME', '${x}', '$1', '$@', '$#', 'é', '😀', '👩‍👩‍👧', '\u202e',
  'שלום', 'مرحبا', '\u200f', '\u00a0', '\u0085', 'a', 'Z', '0', '9', '.', '/', ':', '@', ',', '+', '_', 'if', 'done',
];
const safeCharacters = [...'abcXYZ019_@%+=:,./-'];

const hostileString = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: fc.constantFrom(...hostilePieces), maxLength: 12 }) },
  // any code point but NUL, control characters and astral planes included
  { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: 24 }).map((s) => s.replaceAll('\0', '')) },
  // strings of the characters `quote` leaves bare, to probe that path's edges (-x, =x, A=b, if)
  { weight: 2, arbitrary: fc.string({ unit: fc.constantFrom(...safeCharacters, 'if', 'do', 'time'), maxLength: 8 }) },
  { weight: 1, arbitrary: fc.string({ unit: fc.constantFrom(...hostilePieces), minLength: 300, maxLength: 1500 }) },
  { weight: 1, arbitrary: fc.constantFrom('', ' ', '\n', "'", '-', '--', '=', '*', '~') },
);
const hostileValue: fc.Arbitrary<string | number> = fc.oneof(
  { weight: 9, arbitrary: hostileString },
  { weight: 1, arbitrary: fc.oneof(fc.integer(), fc.double()) },
);

/** Each way a template places values; each prints every value once, followed by a NUL byte. */
const placements: ReadonlyArray<{ name: string; script: (values: Array<string | number>) => string }> = [
  { name: 'array as arguments', script: (values) => sh`printf '%s\\0' ${values}` },
  { name: 'one argument each', script: (values) => values.map((v) => sh`printf '%s\\0' ${v}`).join('\n') },
  { name: 'assignment value', script: (values) => values.map((v) => sh`v=${v}; printf '%s\\0' "$v"`).join('\n') },
  { name: 'for list', script: (values) => sh`for v in ${values}; do printf '%s\\0' "$v"; done` },
  { name: 'set --', script: (values) => sh`set -- ${values}; printf '%s\\0' "$@"` },
];

function nulTerminated(values: Array<string | number>): Buffer {
  return Buffer.from(values.map((v) => `${String(v)}\0`).join(''), 'utf8');
}

describe('quote: exact output', () => {
  it.each([
    ["it's", `'it'\\''s'`],
    ['', `''`],
    ['heartbeat', 'heartbeat'],
    ['/etc/ha.d/ha.cf', '/etc/ha.d/ha.cf'],
    ['192.168.2.100/24', '192.168.2.100/24'],
    ['net.ipv4.ip_forward=1', 'net.ipv4.ip_forward=1'],
    ['a b', `'a b'`],
    ['$(reboot)', `'$(reboot)'`],
    ['*', `'*'`],
    ['-rf', `'-rf'`],
    ['=x', `'=x'`],
    ['~', `'~'`],
    ["''", `''\\'''\\'''`],
    ['line1\nline2', `'line1\nline2'`],
    // bare, these are an assignment or a reserved word where a command name is expected
    ['FOO=1', `'FOO=1'`],
    ['_x=', `'_x='`],
    ['if', `'if'`],
    ['done', `'done'`],
    ['time', `'time'`],
  ])('quote(%j) is %s', (value, expected) => {
    expect(quote(value)).toBe(expected);
  });

  it('writes numbers as their decimal text', () => {
    expect(quote(42)).toBe('42');
    expect(quote(-1)).toBe(`'-1'`);
    expect(quote(0.5)).toBe('0.5');
  });

  it('refuses a NUL byte, alone or inside an array', () => {
    expect(() => quote('a\0b')).toThrow(/NUL/);
    expect(() => sh`printf %s ${['ok', 'bad\0']}`).toThrow(/NUL/);
    fc.assert(
      fc.property(fc.string(), fc.string(), (before, after) => {
        expect(() => quote(`${before}\0${after}`)).toThrow(/NUL/);
      }),
    );
  });

  it('leaves a value bare only when it is made of safe characters; otherwise single-quotes all of it', () => {
    fc.assert(
      fc.property(hostileString, (value) => {
        const quoted = quote(value);
        if (quoted === value) expect(value).toMatch(/^[A-Za-z0-9_@%+=:,./-]+$/);
        else expect(quoted).toBe(`'${value.replaceAll("'", `'\\''`)}'`);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('sh: exact output', () => {
  it('quotes each value as one word, an array as several, and passes raw() through', () => {
    expect(sh`useradd -g ${'ha client'} ${'hacluster'}`).toBe(`useradd -g 'ha client' hacluster`);
    expect(sh`rm -f ${['a b', 'c', "it's"]}`).toBe(`rm -f 'a b' c 'it'\\''s'`);
    expect(sh`ls ${[]}`).toBe('ls ');
    expect(sh`echo ${raw('"$HOME"')} ${'$HOME'}`).toBe(`echo "$HOME" '$HOME'`);
    expect(sh`seq ${1} ${[2, raw('$n')]}`).toBe('seq 1 2 $n');
  });
});

describe.each(shells)('quote and sh under a real $name', (shell) => {
  it('deliver hostile values byte for byte, in every position a template puts them', () => {
    let values = 0;
    fc.assert(
      fc.property(fc.array(hostileValue, { minLength: 1, maxLength: 12 }), (batch) => {
        values += batch.length;
        const script = placements.map((placement) => placement.script(batch)).join('\n') + '\n';
        const expected = Buffer.concat(placements.map(() => nulTerminated(batch)));
        const got = run(shell, script);
        // Buffer equality first (fast); on failure, show the strings that differ
        if (!got.equals(expected)) expect(got.toString('utf8').split('\0')).toEqual(expected.toString('utf8').split('\0'));
      }),
      { numRuns: 300 },
    );
    // several thousand values went through, in five positions each
    expect(values).toBeGreaterThan(1000);
  }, 120_000);

  it('make an array several words and an empty array none', () => {
    expect(run(shell, sh`set -- ${['one', 'two words', '']}; echo "$#"`).toString()).toBe('3\n');
    expect(run(shell, sh`set -- ${[]}; echo "$#"`).toString()).toBe('0\n');
  });

  it('keep an assignment-like value or a reserved word a plain command name', () => {
    // Bare, FOO=1 would be an assignment (status 0, FOO set) and "if" a syntax error that ends the
    // script. Quoted, each is a command: not found (127), or a busybox applet such as time.
    const names = ['FOO=1', 'A_b9=x y', 'if', 'then', 'done', 'time', 'function'];
    const script = names.map((name) => sh`${name} >/dev/null 2>&1; echo "$?"`).join('\n') + '\necho "${FOO-unset} ${A_b9-unset}"\n';
    const lines = run(shell, script, emptyPath).toString().split('\n');
    expect(lines.pop()).toBe('');
    expect(lines.pop()).toBe('unset unset');
    expect(lines).toHaveLength(names.length);
    for (const status of lines) expect(Number(status)).not.toBe(0);
  });
});
