import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadPlaybook } from '../../../src/playbook/load.ts';
import { fixture, problems, tempTree, userError } from '../inventory/files.ts';

const writeTree = tempTree();

async function loadError(playbook: string) {
  const dir = await writeTree({ 'site.yml': playbook });
  const file = path.join(dir, 'site.yml');
  return { error: await userError(loadPlaybook(file, { env: {} })), file };
}

describe('loadPlaybook', () => {
  const file = fixture('playbook/site.yml');

  it('loads plays and role references, long and short forms, with their locations', async () => {
    const playbook = await loadPlaybook(file);
    expect(playbook.file).toBe(file);
    expect(playbook.secrets).toEqual(new Set());
    const [directors, web] = playbook.plays;
    expect(directors).toEqual({
      name: 'Directors',
      hosts: 'directors:!lvs-backup',
      hostsSource: { file, line: 3, column: 10 },
      vars: { x: 1, url: 'http://{{ vip }}/' },
      varOrigin: {
        x: { layer: 'play "Directors" vars', file, line: 4, column: 11 },
        url: { layer: 'play "Directors" vars', file, line: 4, column: 17 },
      },
      tags: ['lvs'],
      anyErrorsFatal: true,
      roles: [
        { name: 'base', vars: {}, varOrigin: {}, tags: [], source: { file, line: 8, column: 7 } },
        {
          name: 'heartbeat',
          vars: { a: 1 },
          varOrigin: { a: { layer: 'role heartbeat parameters', file, line: 9, column: 34 } },
          tags: ['ha'],
          source: { file, line: 9, column: 7 },
        },
        { name: 'ldirectord', vars: {}, varOrigin: {}, tags: ['ldirectord', 'checks'], source: { file, line: 10, column: 7 } },
      ],
      source: { file, line: 2, column: 3 },
    });
    // No name: the host pattern names the play; a list of hosts is a union; defaults.
    expect(web).toMatchObject({ name: 'web1,web2', hosts: 'web1,web2', vars: {}, tags: [], anyErrorsFatal: false, roles: [{ name: 'realserver' }] });
    expect(playbook.plays).toHaveLength(2);
  });

  it('an unknown key of a play, with the closest known key', async () => {
    const { error, file: where } = await loadError(['- name: Directors', '  hosts: directors', '  rolse: [base]', ''].join('\n'));
    expect(problems(error)).toEqual([
      "1:3 [0]: play 1 (\"Directors\") has no 'roles'",
      "3:3 [0].rolse: unknown key 'rolse' in play 1 (\"Directors\"); did you mean 'roles'?",
    ]);
    expect(error.where.file).toBe(where);
  });

  it('an Ansible key this tool does not take: what to do instead', async () => {
    const { error } = await loadError(['- hosts: all', '  roles: [base]', '  tasks: []', ''].join('\n'));
    expect(problems(error)).toEqual(["3:3 [0].tasks: unknown key 'tasks' in play 1"]);
    expect(error.hint).toMatch(/^a play here runs roles only: put tasks in a role \(roles\/<name>\/\); allowed keys: name, hosts, vars, tags, any_errors_fatal, roles$/);
  });

  it('wrong types, located', async () => {
    const { error } = await loadError(
      ['- hosts: directors', '  any_errors_fatal: yes', '  vars: [1]', '  roles:', '    - { role: heartbeat, vars: { a: 1 }, tag: [x] }', '    - 42', ''].join('\n'),
    );
    expect(problems(error)).toEqual([
      '2:21 [0].any_errors_fatal: expected true or false, got "yes"',
      '3:9 [0].vars: expected a mapping of variable names to values, got a list',
      "5:42 [0].roles[0].tag: unknown key 'tag' in role reference 1 of play 1; did you mean 'tags'?",
      '6:7 [0].roles[1]: expected a mapping (key: value), got 42',
    ]);
  });

  it('a role name that could leave roles/, located at the shorthand string', async () => {
    const { error } = await loadError(['- hosts: all', '  roles:', '    - ../evil', ''].join('\n'));
    expect(problems(error)).toEqual([
      '3:7 [0].roles[0].role: expected a role name (the name of a directory under roles/: letters, digits, _ . -), got "../evil"',
    ]);
  });

  it('a play without hosts, and one with no roles', async () => {
    const { error } = await loadError(['- roles: [base]', '- hosts: all', '  roles: []', ''].join('\n'));
    expect(problems(error)).toEqual(["1:3 [0]: play 1 has no 'hosts'", '3:10 [1].roles: expected a list of roles, got an empty list']);
    expect((error as { problems?: { hint?: string }[] }).problems?.[0]?.hint).toBe("add 'hosts:' with a host pattern, e.g. directors:!lvs-backup");
  });

  it('not a list of plays', async () => {
    const { error } = await loadError(['hosts: all', 'roles: [base]', ''].join('\n'));
    expect(problems(error)).toEqual(['1:1 (top level): expected a list of plays (each item starting with "- hosts: ..."), got a mapping']);
  });

  it('an empty playbook', async () => {
    const { error, file: where } = await loadError('# todo\n');
    expect(error.message).toBe(`the playbook ${where} is empty`);
  });

  it('a YAML syntax error', async () => {
    const { error } = await loadError(['- hosts: all', '  roles: [base', ''].join('\n'));
    expect(error.message).toMatch(/^YAML syntax error: /);
    expect(error.where.line).toBe(3);
  });

  it('!env in play vars is a secret', async () => {
    const dir = await writeTree({ 'site.yml': ['- hosts: all', '  vars: { token: !env FIXTURE_TOKEN }', '  roles: [base]', ''].join('\n') });
    const playbook = await loadPlaybook(path.join(dir, 'site.yml'), { env: { FIXTURE_TOKEN: 't0k3n-value' } });
    expect(playbook.plays[0]?.vars).toEqual({ token: 't0k3n-value' });
    expect(playbook.secrets).toEqual(new Set(['t0k3n-value']));
  });
});
