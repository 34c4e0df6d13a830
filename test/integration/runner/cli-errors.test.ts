// Errors a user can cause, as the CLI prints them: one message with file:line (or host and task)
// and what to do, exit code 1, and no stack trace unless -vvv.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { apiModule, makeProject, repoRoot, runCli, type Project } from '../../support/project.ts';

const role = `
import { defineRole, ops } from ${JSON.stringify(apiModule)};
export default defineRole({
  name: 'web',
  defaults: { page: 'ok' },
  tasks: ({ vars }) => [{ name: 'page', op: ops.file({ path: '/nonexistent-dir/' + vars.missing_var, content: vars.page }) }],
});
`;

describe('user errors from the CLI', () => {
  let project: Project;
  beforeAll(async () => {
    project = await makeProject({
      'package.json': '{ "type": "module" }\n',
      'roles/web/index.ts': role,
      'inventory.yaml': 'all:\n  hosts:\n    me: { transport: local }\n',
      'bad-syntax.yaml': 'all:\n  hosts:\n    me: { transport: local\n',
      'bad-key.yaml': 'all:\n  hosts:\n    me:\n      transport: local\n      adress: 10.0.0.1\n',
      'site.yml': '- hosts: all\n  roles: [web]\n',
      'roles/broken/index.ts': `import { defineRole, ops } from ${JSON.stringify(apiModule)};\nexport default defineRole({ name: 'broken', defaults: {}, tasks: () => [{ name: 'x', op: (ops as any).fiel({ path: '/x' }) }] });\n`,
      'broken.yml': '- hosts: all\n  roles: [broken]\n',
      'typo.yml': '- hosts: all\n  roles:\n    - wbe\n',
      'nohosts.yml': '- hosts: directors\n  roles: [web]\n',
      // Nothing listens on port 9 here: were the variables not checked first, the run would end unreachable (exit 4).
      'far.yaml': 'all:\n  hosts:\n    far: { address: 127.0.0.1, port: 9, ssh: { connect_timeout: 2 } }\n',
      'base.yml': '- hosts: all\n  roles: [base]\n',
      'roles/typed/index.ts': `import { defineRole, ops, roleVariables, Type } from ${JSON.stringify(apiModule)};\nexport default defineRole({ name: 'typed', ...roleVariables({ listen_port: { type: Type.Integer({ minimum: 1, maximum: 65535, expected: 'a port 1-65535' }), default: 80 } }), tasks: ({ vars }) => [{ name: 'x', op: ops.command({ run: 'true # ' + String(vars.listen_port) }) }] });\n`,
      'typed.yml': '- hosts: all\n  vars:\n    listen_port: "80; reboot"\n  roles: [typed]\n',
    });
  });
  afterAll(() => project.remove());

  const expectUserError = (r: { exitCode: number; stderr: string }, ...parts: (string | RegExp)[]) => {
    expect(r.exitCode).toBe(1);
    for (const p of parts) expect(r.stderr).toMatch(p);
    expect(r.stderr).not.toMatch(/\n\s+at .*\(.*:\d+:\d+\)/); // no stack frames
  };

  it('YAML syntax error: file:line:column', async () => {
    expectUserError(await runCli(project, ['-i', 'bad-syntax.yaml', 'site.yml']), /bad-syntax\.yaml:\d+:\d+/);
  });

  it('unknown key: file:line:column, key path and a suggestion', async () => {
    expectUserError(await runCli(project, ['-i', 'bad-key.yaml', 'site.yml']), /bad-key\.yaml:5:7/, /adress/, /did you mean 'address'/);
  });

  it('unknown role: the playbook line and the closest role', async () => {
    expectUserError(await runCli(project, ['-i', 'inventory.yaml', 'typo.yml']), /typo\.yml:3/, /unknown role 'wbe'/, /did you mean 'web'/);
  });

  it('a pattern that matches no host', async () => {
    expectUserError(await runCli(project, ['-i', 'inventory.yaml', 'nohosts.yml']), /nohosts\.yml:1/, /directors/);
  });

  it('a missing inventory file', async () => {
    expectUserError(await runCli(project, ['-i', 'nope.yaml', 'site.yml']), /inventory file not found: nope\.yaml/);
  });

  it('an undefined variable names the variable, role and host, and fails that host (exit 2)', async () => {
    const r = await runCli(project, ['-i', 'inventory.yaml', 'site.yml']);
    expect(r.exitCode).toBe(2);
    expect(r.stdout).toMatch(/undefined variable 'missing_var' in role web/);
    expect(r.stdout).toMatch(/host me/);
  });

  it('an unknown operation in a role names the role and the playbook line', async () => {
    const r = await runCli(project, ['-i', 'inventory.yaml', 'broken.yml']);
    expect(r.exitCode).toBe(2);
    expect(r.stdout).toMatch(/broken\.yml:2:\d+: host me: role broken failed while building its tasks: .*fiel/);
    expect(r.stdout).not.toMatch(/\n\s+at /);
  });

  it('a role variable from -e that does not fit its type stops the run before any host is contacted', async () => {
    const r = await runCli(project, ['-i', 'far.yaml', 'base.yml', '-e', '{"default_gateway": "; touch /tmp/x ;"}']);
    expectUserError(r, /host far: variable default_gateway of role base \(set in extra vars \(-e\)\): expected the default gateway's IPv4 address/);
    expect(r.stdout + r.stderr).not.toMatch(/unreachable/i);
  });

  it("site.yml with an inventory that has no cluster: section stops at the first cluster role's line, before any host is contacted", async () => {
    const r = await runCli(project, ['-i', 'far.yaml', path.join(repoRoot, 'playbooks', 'site.yml')]);
    expectUserError(r, /site\.yml:\d+:\d+: the source-builds role configures a cluster, but the inventory far\.yaml has no cluster: section/, /no host was contacted/);
    expect(r.stdout + r.stderr).not.toMatch(/unreachable/i);
  });

  it("a user role's typed variable, set in the play: the playbook's file:line", async () => {
    expectUserError(await runCli(project, ['-i', 'far.yaml', 'typed.yml']), /typed\.yml:3:\d+: host far: variable listen_port of role typed: expected a port 1-65535, got "80; reboot"/);
  });

  it('-vvv adds the stack trace', async () => {
    const r = await runCli(project, ['-i', 'bad-key.yaml', 'site.yml', '-vvv']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/\n\s+at /);
  });
});
