import { describe, expect, it } from 'vitest';
import { MIN_SECRET_LENGTH } from '../../../src/core/secret.ts';
import { formatPath, parseYaml } from '../../../src/inventory/yaml-file.ts';
import { problems, userErrorOf } from './files.ts';

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
