// Issue 8, problem 12, through the CLI: hostile or mistaken input (an alias bomb, an alias with no
// anchor, a huge inventory, a --json path that cannot be written, a tag nothing has) is a user
// error (exit 1) that says where and what to do, before any host is touched; no stack trace.
import { existsSync } from 'node:fs';
import { truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiModule, makeProject, runCli, taskEvents, type Project } from '../../support/project.ts';

// Each task leaves a file in the project: a run that should have stopped first leaves none.
const role = `
import { defineRole, ops } from ${JSON.stringify(apiModule)};
export default defineRole({
  name: 'web',
  defaults: { dir: '/nonexistent' },
  tasks: ({ vars }) => [
    { name: 'page', op: ops.file({ path: vars.dir + '/ran-page', content: 'x\\n' }), tags: ['page'] },
    { name: 'config', op: ops.file({ path: vars.dir + '/ran-config', content: 'x\\n' }), tags: ['config', 'always'] },
  ],
});
`;

const bomb = [
  'a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]',
  'b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]',
  'c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]',
  'd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]',
  'e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]',
  'f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]',
  '',
].join('\n');

describe('robust loading from the CLI', () => {
  let project: Project;
  const ran = () => ['ran-page', 'ran-config'].filter((f) => existsSync(path.join(project.dir, f)));

  beforeAll(async () => {
    project = await makeProject({
      'package.json': '{ "type": "module" }\n',
      'roles/web/index.ts': role,
      'inventory.yaml': 'all:\n  hosts:\n    me: { transport: local }\n',
      'site.yml': '- hosts: all\n  tags: [web]\n  roles: [web]\n',
      'bomb.yaml': `${bomb}all:\n  hosts:\n    me: { transport: local }\n`,
      'bomb-vars.yml': bomb,
      'alias.yml': '- hosts: all\n  roles: *web_roles\n',
    });
    await project.write('inventory.yaml', `all:\n  vars: { dir: ${project.dir} }\n  hosts:\n    me: { transport: local }\n`);
  });
  afterAll(() => project.remove());

  const expectUserError = (r: { exitCode: number; stderr: string }, ...parts: RegExp[]) => {
    expect(r.exitCode).toBe(1);
    for (const p of parts) expect(r.stderr).toMatch(p);
    expect(r.stderr).not.toMatch(/internal/);
    expect(r.stderr).not.toMatch(/\n\s+at .*:\d+:\d+\)?/); // no stack frames
    expect(ran()).toEqual([]);
  };

  it('an alias bomb in the inventory, in lint and in a run: file:line:column (was ERROR (internal), exit 250)', async () => {
    const where = /bomb\.yaml:6:8: the aliases up to here expand to more than 100000 values \(an alias bomb/;
    expectUserError(await runCli(project, ['lint', '-i', 'bomb.yaml'], { json: false }), where);
    expectUserError(await runCli(project, ['-i', 'bomb.yaml', 'site.yml'], { json: false }), where, /write the values out/);
  });

  it('an alias bomb in -e @file', async () => {
    expectUserError(await runCli(project, ['-i', 'inventory.yaml', 'site.yml', '-e', '@bomb-vars.yml'], { json: false }), /bomb-vars\.yml:6:8: .*alias bomb/);
  });

  it('an alias with no anchor, in a playbook', async () => {
    expectUserError(
      await runCli(project, ['-i', 'inventory.yaml', 'alias.yml'], { json: false }),
      /alias\.yml:2:10: alias \*web_roles refers to no anchor: there is no &web_roles before it/,
      /mark the value to repeat with &web_roles/,
    );
  });

  it('a 50 MB inventory is refused from its size, without being read', async () => {
    const huge = path.join(project.dir, 'huge.yaml');
    await writeFile(huge, '');
    await truncate(huge, 50 * 1024 * 1024); // sparse: costs no disk
    for (const args of [['lint', '-i', 'huge.yaml'], ['-i', 'huge.yaml', 'site.yml']]) {
      expectUserError(await runCli(project, args, { json: false }), /huge\.yaml: inventory huge\.yaml is 50\.0 MiB; provision reads YAML files of at most 256 KiB/);
    }
  });

  it('--json to a path that cannot be opened: a clear error before anything runs (was a raw Node stack trace)', async () => {
    const r = await runCli(project, ['-i', 'inventory.yaml', 'site.yml', '--json', 'no-such-dir/events.jsonl'], { json: false });
    expectUserError(r, /^ERROR: cannot write the JSON events to no-such-dir\/events\.jsonl: the directory no-such-dir does not exist\n/, /'--json -' for standard output/);
    expectUserError(await runCli(project, ['-i', 'inventory.yaml', 'site.yml', '--json', '.'], { json: false }), /cannot write the JSON events to \.: it is a directory/);
  });

  it('an unknown tag in --tags or --skip-tags names the known ones and runs nothing (was: ran nothing, said nothing)', async () => {
    const known = /known tags: config, page, web; --tags also takes all, always, never, tagged, untagged/;
    expectUserError(await runCli(project, ['-i', 'inventory.yaml', 'site.yml', '--tags', 'nosuchtag']), /unknown tag 'nosuchtag' in --tags: no play, role or task of site\.yml has it/, known);
    expectUserError(await runCli(project, ['-i', 'inventory.yaml', 'site.yml', '--tags', 'page,confg']), /unknown tag 'confg' in --tags/, /did you mean 'config'\?/);
    expectUserError(await runCli(project, ['-i', 'inventory.yaml', 'site.yml', '--skip-tags', 'pgae']), /unknown tag 'pgae' in --skip-tags/, /did you mean 'page'\?/);
  });

  it('a tag known only from a task, and the special tags, are accepted', async () => {
    const r = await runCli(project, ['-i', 'inventory.yaml', 'site.yml', '--tags', 'page', '--skip-tags', 'always']);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    expect(taskEvents(r).map((e) => e.task)).toEqual(['page']);
    expect(ran()).toEqual(['ran-page']);
  });
});
