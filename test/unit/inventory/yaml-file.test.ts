import { truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MIN_SECRET_LENGTH, unsetEnvVariable } from '../../../src/core/secret.ts';
import { formatPath, MAX_YAML_BYTES, parseYaml, readYamlFile, type UnsetEnv } from '../../../src/inventory/yaml-file.ts';
import { problems, tempTree, userError, userErrorOf } from './files.ts';

describe('formatPath', () => {
  it('joins keys with dots and shows list indexes in brackets', () => {
    expect(formatPath(['all', 'children', 'directors', 'hosts', 'lvs-master', 'port'])).toBe('all.children.directors.hosts.lvs-master.port');
    expect(formatPath([0, 'roles', 1, 'role'])).toBe('[0].roles[1].role');
    expect(formatPath([])).toBe('(top level)');
  });
});

describe('parseYaml', () => {
  const source = ['base: &base', '  port: 22', 'host:', '  <<: *base', '  address: 10.0.0.1', 'list:', '  - a', '  - b: 1', 'empty:', ''].join('\n');

  it('locates values and keys, through merge keys and into lists', () => {
    const yaml = parseYaml(source, 'f.yml');
    expect(yaml.data).toEqual({ base: { port: 22 }, host: { port: 22, address: '10.0.0.1' }, list: ['a', { b: 1 }], empty: null });
    expect(yaml.locate(['host', 'address'], 'key')).toEqual({ line: 5, column: 3 });
    expect(yaml.locate(['host', 'address'])).toEqual({ line: 5, column: 12 });
    expect(yaml.locate(['host', 'port'], 'key')).toEqual({ line: 2, column: 3 }); // written at the anchor
    expect(yaml.locate(['list', 1, 'b'])).toEqual({ line: 8, column: 8 });
  });

  it('a path into data the file does not spell out gets the deepest enclosing node', () => {
    const yaml = parseYaml(source, 'f.yml');
    expect(yaml.locate(['list', 0, 'role'])).toEqual({ line: 7, column: 5 });
    expect(yaml.locate(['nothing', 'here'])).toEqual({ line: 1, column: 1 });
  });

  it('!env reads the environment and records the value as a secret', () => {
    const yaml = parseYaml('a: !env SOME_VAR\n', 'f.yml', { env: { SOME_VAR: 'some-value' } });
    expect(yaml.data).toEqual({ a: 'some-value' });
    expect(yaml.secrets).toEqual(new Set(['some-value']));
  });

  it('!env with a bad name, without a name, or on a collection', () => {
    expect(problems(userErrorOf(() => parseYaml('a: !env 1X\nb: !env\n', 'f.yml', { env: {} })))).toEqual([
      "1:9 a: '!env 1X' is not an environment variable name",
      "2:8 b: !env without a variable name",
    ]);
    const collection = userErrorOf(() => parseYaml('b: !env [x]\n', 'f.yml', { env: {} }));
    expect(problems(collection)).toEqual(['1:4 YAML syntax error: Unresolved tag: !env']);
    expect(collection.hint).toBe('!env takes the name of an environment variable, not a list or mapping (e.g. password: !env DB_PASSWORD)');
  });

  it('refuses a value shorter than the secret minimum, saying which variable, where, the minimum and why (problem 7)', () => {
    const error = userErrorOf(() => parseYaml('a: 1\nkey: !env HA_AUTH_KEY\n', 'f.yml', { env: { HA_AUTH_KEY: 'e' } }));
    expect(problems(error)).toEqual([
      `2:11 the value of environment variable HA_AUTH_KEY (key) has 1 character; a secret needs at least ${MIN_SECRET_LENGTH}, because every output is masked by searching for it, and a shorter one would mask ordinary text and give itself away`,
    ]);
    expect(parseYaml('key: !env HA_AUTH_KEY\n', 'f.yml', { env: { HA_AUTH_KEY: 'e'.repeat(MIN_SECRET_LENGTH) } }).secrets.size).toBe(1);
  });

  it('lint (onUnsetEnv): an unset variable is reported where it is written and reads as an unknown secret', () => {
    const unset: UnsetEnv[] = [];
    const yaml = parseYaml('a: 1\nb:\n  key: !env HA_AUTH_KEY\nset: !env SET_VAR\n', 'f.yml', { env: { SET_VAR: 'set-value' }, onUnsetEnv: (u) => unset.push(u) });
    expect(unset).toEqual([{ variable: 'HA_AUTH_KEY', where: { file: 'f.yml', line: 3, column: 13 }, path: 'b.key' }]);
    const data = yaml.data as { b: { key: string }; set: string };
    expect(unsetEnvVariable(data.b.key)).toBe('HA_AUTH_KEY');
    // A variable that is set is read as in a run.
    expect(data.set).toBe('set-value');
    expect(unsetEnvVariable(data.set)).toBeUndefined();
    // Read with !env all the same: a secret (never "written in clear").
    expect(yaml.secrets).toEqual(new Set(['set-value', data.b.key]));
  });

  it('lint (onUnsetEnv): a value that is set but too short, or a bad name, is still an error', () => {
    const onUnsetEnv = () => undefined;
    const error = userErrorOf(() => parseYaml('key: !env HA_AUTH_KEY\nb: !env 1X\n', 'f.yml', { env: { HA_AUTH_KEY: 'e' }, onUnsetEnv }));
    expect(problems(error)).toEqual([
      `1:11 the value of environment variable HA_AUTH_KEY (key) has 1 character; a secret needs at least ${MIN_SECRET_LENGTH}, because every output is masked by searching for it, and a shorter one would mask ordinary text and give itself away`,
      "2:9 b: '!env 1X' is not an environment variable name",
    ]);
  });

  it('an empty value from the environment is set, but not a secret to mask', () => {
    const yaml = parseYaml('a: !env EMPTY\n', 'f.yml', { env: { EMPTY: '' } });
    expect(yaml.data).toEqual({ a: '' });
    expect(yaml.secrets.size).toBe(0);
  });

  it('several documents in one file', () => {
    const error = userErrorOf(() => parseYaml('a: 1\n---\nb: 2\n', 'f.yml'));
    expect(error.hint).toBe('put everything in one YAML document (remove the extra ---)');
    expect(error.where).toMatchObject({ file: 'f.yml', line: 2 });
  });
});

// Issue 8, problem 12: aliases and sizes that made the loader fail as an internal error (exit 250,
// no position) or take gigabytes of memory.
describe('hostile YAML', () => {
  const bomb = [
    'a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]',
    ...['b', 'c', 'd', 'e', 'f', 'g'].map((name, i) => {
      const prev = 'abcdefg'[i]!;
      return `${name}: &${name} [${Array(9).fill(`*${prev}`).join(', ')}]`;
    }),
  ].join('\n');

  it('an alias bomb ("billion laughs") is refused at the alias where it passes the limit', () => {
    const error = userErrorOf(() => parseYaml(bomb, 'bomb.yml'));
    expect(error.message).toMatch(/aliases up to here expand to more than 100000 values \(an alias bomb/);
    expect(error.where).toEqual({ file: 'bomb.yml', line: 6, column: 8 });
    expect(error.hint).toMatch(/write the values out/);
  });

  it('an alias without an anchor before it: file:line:column and what to do', () => {
    const error = userErrorOf(() => parseYaml('all:\n  hosts:\n    me: *nope\nlater: &nope 1\n', 'f.yml'));
    expect(error.message).toBe('alias *nope refers to no anchor: there is no &nope before it');
    expect(error.where).toEqual({ file: 'f.yml', line: 3, column: 9 });
    expect(error.hint).toMatch(/mark the value to repeat with &nope .* before this \*nope/);
  });

  it('an alias inside the value it names', () => {
    const error = userErrorOf(() => parseYaml('a: &a { b: *a }\n', 'f.yml'));
    expect(error.message).toMatch(/alias \*a is inside the value it refers to/);
    expect(error.where).toEqual({ file: 'f.yml', line: 1, column: 12 });
  });

  it('one anchor shared by thousands of hosts is fine (yaml alone refuses more than 1000 uses)', () => {
    const hosts = Array.from({ length: 1200 }, (_, i) => `  h${i}: { <<: *defaults, address: 10.0.${i >> 8}.${i & 255} }`);
    const yaml = parseYaml(`defaults: &defaults { port: 22, user: root }\nhosts:\n${hosts.join('\n')}\n`, 'f.yml');
    expect((yaml.data as { hosts: Record<string, unknown> }).hosts.h1199).toEqual({ port: 22, user: 'root', address: '10.0.4.175' });
  });

  it('nesting too deep for the parser is one error saying so', () => {
    const error = userErrorOf(() => parseYaml(`a: ${'['.repeat(5000)}${']'.repeat(5000)}\n`, 'f.yml'));
    expect(error.hint).toMatch(/nests too deeply/);
  });

  it(`YAML text over ${MAX_YAML_BYTES / 1024} KiB is refused`, () => {
    const error = userErrorOf(() => parseYaml(`a: "${'x'.repeat(MAX_YAML_BYTES)}"\n`, '-e argument'));
    expect(error.message).toBe('YAML -e argument is 257 KiB; provision reads YAML files of at most 256 KiB');
  });
});

describe('readYamlFile size limit', () => {
  const tree = tempTree();

  it('refuses a 50 MB file from its size alone, at once, with what to do', async () => {
    const dir = await tree({});
    const file = path.join(dir, 'huge.yaml');
    await writeFile(file, '');
    await truncate(file, 50 * 1024 * 1024); // sparse: nothing is written, nothing needs reading
    const started = Date.now();
    const error = await userError(readYamlFile(file, 'inventory'));
    expect(Date.now() - started).toBeLessThan(500);
    expect(error.message).toBe(`inventory ${file} is 50.0 MiB; provision reads YAML files of at most 256 KiB`);
    expect(error.hint).toMatch(/group_vars\/<group>\.yml and host_vars\/<host>\.yml/);
  });

  it('reads a stream that is not a regular file only up to the limit', async () => {
    const error = await userError(readYamlFile('/dev/zero', 'extra vars file'));
    expect(error.message).toBe('extra vars file /dev/zero is larger than 256 KiB; provision reads YAML files of at most 256 KiB');
  });

  it('a file just under the limit loads', async () => {
    const dir = await tree({ 'ok.yaml': `a: "${'x'.repeat(MAX_YAML_BYTES - 10)}"\n` });
    expect(((await readYamlFile(path.join(dir, 'ok.yaml'), 'inventory')).data as { a: string }).a).toHaveLength(MAX_YAML_BYTES - 10);
  });
});
