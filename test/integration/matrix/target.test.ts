// The provisioning tests of the real-world matrix (.github/workflows/matrix.yml): provision, run
// through its CLI, against a container of a real distribution made a target by
// scripts/ci-matrix.sh. In CI the workflow starts the target and passes it in PROVISION_MATRIX_*
// (its image in PROVISION_MATRIX_EXPECT: "distro major package-manager"). Here, without those,
// this file runs the workflow's own commands (create, target vault-repos, sshd, remove) against
// a Debian 12 container from the lab's rootfs on a private dockerd.
import { execa } from 'execa';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConnector } from '../../../src/connectors/index.ts';
import type { Connector } from '../../../src/connectors/connector.ts';
import { startTestDocker, type TestDocker } from '../../support/docker.ts';
import { apiModule, changedTasks, makeProject, recapOf, repoRoot, runCli, taskEvents, type Project } from '../../support/project.ts';
import { freePort, rootSkipReason } from '../../support/sshd.ts';

const fromCi = process.env.PROVISION_MATRIX_TARGET !== undefined;
const CONTAINER = 'provision-matrix-target';
/** The workflow's host-side script: the tests here call it exactly as the workflow does. */
const MATRIX_SCRIPT = path.join(repoRoot, 'scripts/ci-matrix.sh');
const BASE = '/root/provision-matrix';

interface MatrixTarget {
  host: string;
  port: number;
  key: string;
  knownHosts: string;
  /** "distro major package-manager", e.g. "centos 7 yum" */
  expect: string;
}

const matrixRole = (api: string) => `
import { defineRole, ops, sh } from ${JSON.stringify(api)};

export default defineRole({
  name: 'matrix',
  defaults: { base: ${JSON.stringify(BASE)}, greeting: 'hello' },
  tasks: ({ vars }) => [
    { name: 'work dir', op: ops.directory({ path: vars.base, mode: '0750' }) },
    { name: 'facts', op: ops.file({ path: vars.base + '/facts', content: (facts) => [facts.os.distro, facts.os.major, facts.packageManager, facts.init].join(' ') + '\\n' }) },
    { name: 'config', op: ops.file({ path: vars.base + '/app.conf', content: 'greeting = ' + vars.greeting + '\\n', mode: '0640' }), notify: ['reload'] },
    { name: 'hosts line', op: ops.line({ path: vars.base + '/hosts', line: '192.168.2.250 lvs-master', regexp: 'lvs-master', create: true }) },
    { name: 'managed block', op: ops.block({ path: vars.base + '/hosts', block: '192.168.2.251 lvs-backup\\n' }) },
    { name: 'cluster group', op: ops.group({ name: 'provmatrix', system: true }) },
    { name: 'cluster user', op: ops.user({ name: 'provmatrix', group: 'provmatrix', system: true, home: '/var/lib/provmatrix', shell: '/bin/false' }) },
    { name: 'openssh-server installed', op: ops.packages({ names: ['openssh-server'] }) },
    { name: 'no package that is not there', op: ops.packages({ names: ['provision-matrix-no-such-package'], state: 'absent' }) },
    { name: 'marker made once', op: ops.command({ run: sh\`uname -n > \${vars.base + '/made'}\`, creates: vars.base + '/made' }) },
  ],
  handlers: ({ vars }) => [{ name: 'reload', op: ops.command({ run: sh\`echo reloaded >> \${vars.base + '/reloads'}\` }) }],
});
`;

describe.skipIf(!fromCi && rootSkipReason !== undefined)(`provisioning a real distribution's userland (CI matrix target)${!fromCi && rootSkipReason ? ` (skipped: ${rootSkipReason})` : ''}`, () => {
  let target: MatrixTarget;
  let engine: TestDocker | undefined;
  let keyDir: string | undefined;
  let project: Project;
  let connector: Connector;
  /** the docker CLI's environment for the workflow's script here: the private dockerd */
  let dockerEnv: NodeJS.ProcessEnv = {};
  const matrix = (args: string[], input?: string) =>
    execa('sh', [MATRIX_SCRIPT, ...args], { env: dockerEnv, timeout: 120_000, ...(input === undefined ? {} : { input }) });

  beforeAll(async () => {
    if (fromCi) {
      target = targetFromEnvironment(process.env);
    } else {
      const started = Date.now();
      engine = await startTestDocker({ debian: true });
      dockerEnv = { DOCKER_HOST: engine.host, DOCKER_CONFIG: engine.dockerd.cliConfigDir };
      keyDir = await mkdtemp(path.join(tmpdir(), 'provision-matrix-'));
      const port = await freePort();
      // The workflow's steps, in its order.
      await matrix(['create', engine.image, CONTAINER, 'none']);
      const vault = await matrix(['target', CONTAINER, 'vault-repos']);
      expect(vault.stdout).toBe('ci-matrix-target: not CentOS 7 (debian 12): its repositories stay as they are');
      const sshd = await matrix(['sshd', CONTAINER, String(port), keyDir]);
      // What the workflow appends to $GITHUB_ENV.
      const env = Object.fromEntries(sshd.stdout.split('\n').filter(Boolean).map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]));
      expect(Object.keys(env).sort()).toEqual(['PROVISION_MATRIX_KEY', 'PROVISION_MATRIX_KNOWN_HOSTS', 'PROVISION_MATRIX_TARGET']);
      expect(sshd.stderr).toContain(`ci-matrix-target: sshd started on 127.0.0.1:${port} (debian 12)`);
      target = targetFromEnvironment({ ...env, PROVISION_MATRIX_EXPECT: 'debian 12 apt' });
      console.log(`matrix: Debian 12 target ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    }
    project = await makeProject({
      'package.json': '{ "type": "module" }\n',
      'roles/matrix/index.ts': matrixRole(apiModule),
      'playbooks/site.yml': '- name: Matrix\n  hosts: all\n  roles: [matrix]\n',
      'inventory.yaml': [
        'all:',
        '  hosts:',
        '    target:',
        `      address: ${target.host}`,
        `      port: ${target.port}`,
        `      key: ${target.key}`,
        `      ssh: { known_hosts: ${target.knownHosts}, host_key_checking: strict }`,
        '',
      ].join('\n'),
    });
    connector = createConnector(
      { name: 'target', address: target.host, port: target.port, user: 'root', key: target.key, transport: 'ssh', ssh: { hostKeyChecking: 'strict', knownHosts: target.knownHosts, connectTimeout: 10, commandTimeout: 60 } },
      { env: {} },
    );
  }, 600_000);

  afterAll(async () => {
    await connector?.close();
    await project?.remove();
    if (engine) {
      await matrix(['remove', CONTAINER]);
      await engine.stop();
    }
    if (keyDir) await rm(keyDir, { recursive: true, force: true });
  }, 120_000);

  const run = (...args: string[]) => runCli(project, ['-i', 'inventory.yaml', 'playbooks/site.yml', ...args]);
  const onTarget = async (command: string) => (await connector.run(`${command}\n`)).stdout;

  it('converges, then a second run changes nothing', async () => {
    const first = await run('--diff');
    expect(first.stderr).toBe('');
    expect(first.exitCode).toBe(0);
    expect(changedTasks(first)).toEqual(
      ['work dir', 'facts', 'config', 'hosts line', 'managed block', 'cluster group', 'cluster user', 'marker made once', 'reload'].map((t) => `target: ${t}`),
    );
    expect(await onTarget(`cat ${BASE}/app.conf; stat -c '%a %U' ${BASE} ${BASE}/app.conf`)).toBe('greeting = hello\n750 root\n640 root\n');
    expect(await onTarget(`cat ${BASE}/hosts`)).toBe('192.168.2.250 lvs-master\n# BEGIN PROVISION MANAGED BLOCK\n192.168.2.251 lvs-backup\n# END PROVISION MANAGED BLOCK\n');
    expect(await onTarget('id -gn provmatrix; getent passwd provmatrix | cut -d: -f6,7')).toBe('provmatrix\n/var/lib/provmatrix:/bin/false\n');
    expect(await onTarget(`cat ${BASE}/reloads`)).toBe('reloaded\n');

    const second = await run();
    expect(second.exitCode).toBe(0);
    expect(changedTasks(second)).toEqual([]);
    expect(taskEvents(second).every((e) => e.status === 'ok')).toBe(true);
    expect(recapOf(second)!.hosts[0]).toMatchObject({ host: 'target', changed: 0, failed: 0, remoteExecutions: 2 });
  });

  it('reads the facts of the distribution: its name, release, package manager and init', async () => {
    const [distro, major, packageManager, init] = (await onTarget(`cat ${BASE}/facts`)).trim().split(' ');
    expect([distro, major, packageManager].join(' ')).toBe(target.expect);
    // systemd when it is PID 1 (the matrix starts it where the image has it), never otherwise.
    const pid1 = (await onTarget('cat /proc/1/comm')).trim();
    if (pid1 === 'systemd') expect(init).toBe('systemd');
    else expect(init).not.toBe('systemd');
  });

  it('--check reports drift and changes nothing; a run repairs exactly it', async () => {
    await onTarget(`echo 'greeting = drift' > ${BASE}/app.conf`);
    const check = await run('--check', '--diff');
    expect(check.exitCode).toBe(0);
    expect(changedTasks(check)).toEqual(['target: config', 'target: reload']);
    expect(check.stdout).toContain('+greeting = hello');
    expect(await onTarget(`cat ${BASE}/app.conf`)).toBe('greeting = drift\n');
    const repair = await run();
    expect(changedTasks(repair)).toEqual(['target: config', 'target: reload']);
    expect(await onTarget(`cat ${BASE}/app.conf; cat ${BASE}/reloads`)).toBe('greeting = hello\nreloaded\nreloaded\n');
  });
});

function targetFromEnvironment(env: NodeJS.ProcessEnv): MatrixTarget {
  const read = (name: string): string => {
    const value = env[name];
    if (value === undefined || value === '') throw new Error(`${name} is not set: the matrix workflow's sshd step sets it (scripts/ci-matrix.sh sshd)`);
    return value;
  };
  const [host, port] = read('PROVISION_MATRIX_TARGET').split(':');
  return { host: host!, port: Number(port), key: read('PROVISION_MATRIX_KEY'), knownHosts: read('PROVISION_MATRIX_KNOWN_HOSTS'), expect: read('PROVISION_MATRIX_EXPECT') };
}
