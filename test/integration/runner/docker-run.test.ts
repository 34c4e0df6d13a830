// The runner end to end through the docker transport, as a user runs it: the CLI, an inventory
// host with transport docker on a real dockerd, a role that manages files in the container.
// Converges, then changes nothing; repairs drift; reports a missing container as unreachable.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDocker, type TestContainer, type TestDocker } from '../../support/docker.ts';
import { apiModule, changedTasks, makeProject, recapOf, runCli, taskEvents, type Project } from '../../support/project.ts';
import { rootSkipReason } from '../../support/sshd.ts';

const demoRole = (api: string) => `
import { defineRole, ops, sh } from ${JSON.stringify(api)};

export default defineRole({
  name: 'demo',
  defaults: { base_dir: '/nonexistent', greeting: 'hello' },
  tasks: ({ vars }) => [
    { name: 'config dir', op: ops.directory({ path: vars.base_dir + '/etc', mode: '0750' }) },
    { name: 'main config', op: ops.file({ path: vars.base_dir + '/etc/app.conf', content: 'greeting = ' + vars.greeting + '\\n', mode: '0640' }), notify: ['reload app'] },
    { name: 'hosts line', op: ops.line({ path: vars.base_dir + '/etc/hosts', line: '10.0.0.1 lvs-master', regexp: 'lvs-master', create: true }) },
    { name: 'managed block', op: ops.block({ path: vars.base_dir + '/etc/hosts', block: '10.0.0.2 lvs-backup\\n' }) },
    { name: 'marker made once', op: ops.command({ run: sh\`uname -n > \${vars.base_dir + '/made'}\`, creates: vars.base_dir + '/made' }) },
  ],
  handlers: ({ vars }) => [
    { name: 'reload app', op: ops.command({ run: sh\`echo reloaded >> \${vars.base_dir + '/reloads'}\` }) },
  ],
});
`;

describe.skipIf(rootSkipReason !== undefined)(`provision in a container (transport docker, real dockerd)${rootSkipReason ? ` (skipped: ${rootSkipReason})` : ''}`, () => {
  let engine: TestDocker;
  let container: TestContainer;
  let project: Project;
  const base = '/srv/app';

  beforeAll(async () => {
    engine = await startTestDocker({ debian: true });
    container = await engine.run('provision-run-test');
    project = await makeProject({
      'package.json': '{ "type": "module" }\n',
      'roles/demo/index.ts': demoRole(apiModule),
      'playbooks/site.yml': '- name: Demo\n  hosts: all\n  roles: [demo]\n',
      'inventory.yaml': [
        'all:',
        `  vars: { base_dir: ${base} }`,
        '  hosts:',
        '    web1:',
        '      transport: docker',
        `      address: ${container.name}`,
        `      docker: { host: "${engine.host}" }`,
        '',
      ].join('\n'),
    });
  }, 300_000);

  afterAll(async () => {
    await engine?.stop();
    await project?.remove();
  }, 120_000);

  const run = (...args: string[]) => runCli(project, ['-i', 'inventory.yaml', 'playbooks/site.yml', ...args]);
  /** a command's output in the container, through the docker CLI (not the connector under test) */
  const inContainer = (command: string) => engine.cli(['exec', container.name, 'sh', '-c', command]);

  it('converges, then a second run changes nothing', async () => {
    let started = Date.now();
    const first = await run('--diff');
    console.log(`docker run: first run ${((Date.now() - started) / 1000).toFixed(1)} s`);
    expect(first.stderr).toBe('');
    expect(first.exitCode).toBe(0);
    expect(changedTasks(first)).toEqual(['config dir', 'main config', 'hosts line', 'managed block', 'marker made once', 'reload app'].map((t) => `web1: ${t}`));
    expect(await inContainer(`cat ${base}/etc/app.conf; stat -c '%a %U' ${base}/etc ${base}/etc/app.conf`)).toBe('greeting = hello\n750 root\n640 root');
    expect(await inContainer(`cat ${base}/etc/hosts`)).toBe('10.0.0.1 lvs-master\n# BEGIN PROVISION MANAGED BLOCK\n10.0.0.2 lvs-backup\n# END PROVISION MANAGED BLOCK');
    // It ran in the container: uname -n there is the container's hostname, its id's prefix.
    expect(container.id.startsWith(await inContainer(`cat ${base}/made`))).toBe(true);
    expect(await inContainer(`cat ${base}/reloads`)).toBe('reloaded');
    // Nothing left behind by the atomic writes.
    expect(await inContainer(`ls -a ${base}/etc`)).toBe('.\n..\napp.conf\nhosts');

    started = Date.now();
    const second = await run();
    console.log(`docker run: second run ${((Date.now() - started) / 1000).toFixed(1)} s`);
    expect(second.exitCode).toBe(0);
    expect(changedTasks(second)).toEqual([]);
    expect(taskEvents(second).every((e) => e.status === 'ok')).toBe(true);
    expect(taskEvents(second)).toHaveLength(5);
    // the host lock, one probe execution: nothing to apply
    expect(recapOf(second)!.hosts[0]).toMatchObject({ host: 'web1', ok: 5, changed: 0, failed: 0, unreachable: 0, remoteExecutions: 2 });
  });

  it('repairs drift: exactly the drifted task changes', async () => {
    await inContainer(`echo 'greeting = drift' > ${base}/etc/app.conf`);
    const r = await run('-e', 'greeting=hello');
    expect(r.exitCode).toBe(0);
    expect(changedTasks(r)).toEqual(['web1: main config', 'web1: reload app']);
    expect(await inContainer(`cat ${base}/etc/app.conf`)).toBe('greeting = hello');
  });

  it('reports a container that is not there as unreachable (exit 4)', async () => {
    await project.write(
      'inventory-ghost.yaml',
      ['all:', '  hosts:', '    ghost:', '      transport: docker', '      address: provision-no-such-container', `      docker: { host: "${engine.host}" }`, ''].join('\n'),
    );
    const r = await runCli(project, ['-i', 'inventory-ghost.yaml', 'playbooks/site.yml']);
    expect(r.exitCode).toBe(4);
    expect(recapOf(r)!.hosts[0]).toMatchObject({ host: 'ghost', unreachable: 1 });
    expect(r.stdout).toContain('has no container provision-no-such-container');
  });
});
