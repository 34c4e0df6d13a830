// --check exits as the real run would (issue 8, problem 11): on a fresh host, a task that needs
// what an earlier task would create (here a file that a play before it writes; for real, a service
// whose package a task before it installs) is reported as "would change", not as a failure.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSshd, rootSkipReason, sshTarget, type Sshd } from '../../support/sshd.ts';
import { apiModule, changedTasks, makeProject, runCli, sha256Tree, taskEvents, type Project } from '../../support/project.ts';

const role = (name: string, tasks: string) => `
import { defineRole, ops, sh } from ${JSON.stringify(apiModule)};
export default defineRole({ name: '${name}', defaults: { base_dir: '/nonexistent' }, tasks: ({ vars }) => [${tasks}] });
`;

describe.skipIf(rootSkipReason !== undefined)('--check on a fresh host (real sshd)', () => {
  let sshd: Sshd;
  let project: Project;
  let base: string;

  beforeAll(async () => {
    sshd = await startSshd();
    base = mkdtempSync(path.join(tmpdir(), 'provision-check-'));
    project = await makeProject({
      'package.json': '{ "type": "module" }\n',
      'roles/writes/index.ts': role(
        'writes',
        `{ name: 'app dir', op: ops.directory({ path: vars.base_dir + '/app' }) },
         { name: 'app config', op: ops.command({ run: sh\`touch \${vars.base_dir + '/app/app.conf'}\`, creates: vars.base_dir + '/app/app.conf' }) }`,
      ),
      // No create: true: the line needs the file the other role writes.
      'roles/edits/index.ts': role('edits', `{ name: 'app setting', op: ops.line({ path: vars.base_dir + '/app/app.conf', line: 'b = 2' }) }`),
      'site.yml': '- { name: Write, hosts: all, roles: [writes] }\n- { name: Edit, hosts: all, roles: [edits] }\n',
      'edit-only.yml': '- { name: Edit, hosts: all, roles: [edits] }\n',
      'inventory.yaml': `all:
  vars: { base_dir: ${base} }
  hosts:
    target1: ${sshTarget(sshd)}
`,
    });
  });
  afterAll(async () => {
    await sshd?.stop();
    await project?.remove();
    rmSync(base, { recursive: true, force: true });
  });

  const run = (...args: string[]) => runCli(project, ['-i', 'inventory.yaml', ...args]);

  it('exits 0 and reports the dependent task as "would change", then the real run agrees', async () => {
    const before = await sha256Tree(base);
    const check = await run('site.yml', '--check');
    expect(check.stderr).toBe('');
    expect(check.exitCode).toBe(0);
    expect(changedTasks(check)).toEqual(['target1: app dir', 'target1: app config', 'target1: app setting']);
    const dependent = taskEvents(check).find((e) => e.task === 'app setting')!;
    expect(dependent.summary).toMatch(/^depends on an earlier change of this run \(now: .*app\.conf: the file does not exist/);
    expect(check.stdout).toMatch(/would change: \[target1\] edits : app setting - depends on an earlier change/);
    expect(await sha256Tree(base)).toBe(before);

    const real = await run('site.yml');
    expect(real.exitCode).toBe(0);
    expect(changedTasks(real)).toEqual(['target1: app dir', 'target1: app config', 'target1: app setting']);
    const again = await run('site.yml', '--check');
    expect(again.exitCode).toBe(0);
    expect(changedTasks(again)).toEqual([]);
  });

  it('without an earlier change, the same task fails in --check as it would for real (exit 2)', async () => {
    rmSync(path.join(base, 'app'), { recursive: true, force: true });
    const check = await run('edit-only.yml', '--check');
    expect(check.exitCode).toBe(2);
    expect(taskEvents(check).map((e) => [e.task, e.status])).toEqual([['app setting', 'failed']]);
    const real = await run('edit-only.yml');
    expect(real.exitCode).toBe(2);
  });
});
