// `provision lint -i INVENTORY PLAYBOOK`: what a run of the playbook would refuse before contacting
// any host, lint refuses too, with the run's message (issue 12: an inventory used with site.yml
// that has no cluster: section). The real CLI; the inventory's hosts point at a loopback port that
// counts every connection made to it, so "no host was contacted" is measured, not assumed.
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeProject, repoRoot, runCli, type Project } from '../../support/project.ts';

const site = path.join(repoRoot, 'playbooks', 'site.yml');
/** A way to log in, so that a run that goes ahead does connect (and is counted). */
const env = { LINT_TEST_PASSWORD: 'not-a-real-password' };

describe('provision lint PLAYBOOK', () => {
  let project: Project;
  let server: Server;
  let connections = 0;
  beforeAll(async () => {
    server = createServer((socket) => {
      connections += 1;
      socket.destroy();
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    project = await makeProject({
      'base.yml': '- hosts: all\n  roles: [base]\n',
      'no-cluster.yaml': `all:\n  hosts:\n    web1: { address: 127.0.0.1, port: ${port}, password_env: LINT_TEST_PASSWORD, ssh: { connect_timeout: 2 } }\n    web2: { address: 127.0.0.1, port: ${port}, password_env: LINT_TEST_PASSWORD, ssh: { connect_timeout: 2 } }\n`,
    });
  });
  afterAll(async () => {
    await project?.remove();
    server?.close();
  });

  it("an inventory without a cluster: description, with site.yml: fails at site.yml's first cluster role, says what to do, contacts no host", async () => {
    const line = readFileSync(site, 'utf8').split('\n').findIndex((text) => text.trim() === '- source-builds') + 1;
    const lint = await runCli(project, ['lint', '-i', 'no-cluster.yaml', site], { json: false, env });
    expect(lint.exitCode).toBe(1);
    expect(lint.stdout).toBe('');
    expect(lint.stderr).toBe(
      `ERROR: ${site}:${line}:7: the source-builds role configures a cluster, but the inventory no-cluster.yaml has no cluster: section\n` +
        '  describe the cluster under cluster: in the inventory (examples in inventory/*.yaml), or leave the cluster roles out of the playbook; no host was contacted\n',
    );
    // A run of the same playbook stops on the same words, before its first connection too.
    const run = await runCli(project, ['-i', 'no-cluster.yaml', site], { json: false, env });
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toBe(lint.stderr);
    expect(connections).toBe(0);
  });

  it('without the playbook, lint checks the inventory alone, as before', async () => {
    const lint = await runCli(project, ['lint', '-i', 'no-cluster.yaml'], { json: false, env });
    expect(lint.exitCode).toBe(0);
    expect(lint.stdout).toBe('no-cluster.yaml: no cluster: section, nothing to lint\n');
    expect(connections).toBe(0);
  });

  it('the counter counts: a playbook that needs no cluster does go on and connect (unreachable, exit 4)', async () => {
    const run = await runCli(project, ['-i', 'no-cluster.yaml', 'base.yml'], { json: false, env });
    expect(run.exitCode).toBe(4);
    expect(connections).toBeGreaterThan(0);
  });

  it("inventory/vagrant.yaml with site.yml, as `vagrant up`'s trigger runs them: passes (the secret not needed)", async () => {
    const lint = await runCli(project, ['lint', '-i', path.join(repoRoot, 'inventory', 'vagrant.yaml'), site], { json: false, env: { ...env, HA_AUTH_KEY: undefined } });
    expect(lint.stderr).toBe('');
    expect(lint.exitCode).toBe(0);
    expect(lint.stdout.split('\n').filter((text) => text !== '' && !text.startsWith(' '))).toEqual([
      expect.stringMatching(/vagrant\.yaml:\d+:\d+: warning \[env-unset\] HA_AUTH_KEY is not set/),
      'lint: 1 warning, no errors',
    ]);
  });
});
