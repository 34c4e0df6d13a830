// `provision test` end to end on this machine (local transport, no lab, no cluster): converge,
// then idempotence judged from the second run's JSON events. A role whose task changes something
// every time fails the idempotence stage, which names the task; an idempotent one passes.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiModule, makeProject, runCli, type Project } from '../../support/project.ts';

const ROLE = `
import { defineRole, ops, sh } from ${JSON.stringify(apiModule)};
export default defineRole({
  name: 'demo',
  defaults: { dir: '/nonexistent', flaky: false },
  tasks: ({ vars }) => [
    { name: 'a file', op: ops.file({ path: vars.dir + '/a.conf', content: 'a = 1\\n' }) },
    ...(vars.flaky ? [{ name: 'a command without creates', op: ops.command({ run: sh\`date >> \${vars.dir + '/log'}\` }) }] : []),
  ],
});
`;

describe('provision test (local transport)', () => {
  let project: Project;
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'provision-test-cmd-'));
    project = await makeProject({
      'package.json': '{ "type": "module" }\n',
      'roles/demo/index.ts': ROLE,
      'site.yml': '- { name: Demo, hosts: all, roles: [demo] }\n',
      'inventory.yaml': `all:\n  vars: { dir: ${dir} }\n  hosts:\n    localhost: { transport: local }\n`,
    });
  });
  afterAll(async () => {
    await project?.remove();
    await rm(dir, { recursive: true, force: true });
  });

  it('passes converge and idempotence for a role that converges', async () => {
    const result = await runCli(project, ['test', 'site.yml', '-i', 'inventory.yaml'], { json: false });
    expect(result.exitCode, JSON.stringify(result)).toBe(0);
    expect(result.stdout).toContain('ok: converge: no task failed');
    expect(result.stdout).toContain('ok: idempotence: the second run changed nothing');
    // No cluster: nothing to verify or drill.
    expect(result.stdout).not.toContain('verify');
  });

  it('fails idempotence, naming the task that changed on the second run', async () => {
    const result = await runCli(project, ['test', 'site.yml', '-i', 'inventory.yaml', '-e', 'flaky=true'], { json: false });
    expect(result.exitCode).toBe(2);
    expect(result.stdout).toContain('FAILED: idempotence: the second run changed 1 tasks: localhost: demo : a command without creates');
  });
});
