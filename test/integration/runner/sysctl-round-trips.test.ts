// Several sysctl tasks persisting into one file (a real server's arp_ignore/arp_announce for `all`
// and an interface) are applied in one execution: each reads and edits only its own parameter's
// lines, so an earlier one's edit (even the one creating the file) leaves a later one's probe as it
// was and no step is found stale. Real CLI, local transport. The kernel values are this machine's,
// so the tasks only persist them, into a file of a temporary directory (the `file` option); the
// probes also read this machine's /etc/sysctl.conf, which must not set them (else the test is
// skipped, since the run would fix that file).
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parameterOf, procPathOf } from '../../../src/operations/sysctl.ts';
import { apiModule, changedTasks, makeProject, recapOf, runCli, type Project } from '../../support/project.ts';

const names = ['net.ipv4.conf.all.arp_ignore', 'net.ipv4.conf.all.arp_announce', 'net.ipv4.conf.lo.arp_ignore', 'net.ipv4.conf.lo.arp_announce'];
const kernelValue = (name: string) => readFileSync(`/proc/sys/${procPathOf(name)}`, 'utf8').trim();
const mainSetsThem = (() => {
  const main = existsSync('/etc/sysctl.conf') ? readFileSync('/etc/sysctl.conf', 'utf8') : '';
  return main.split('\n').some((line) => names.some((name) => parameterOf(line) === procPathOf(name)));
})();
const available = names.every((name) => existsSync(`/proc/sys/${procPathOf(name)}`)) && !mainSetsThem;

const ROLE = `
import { defineRole, ops } from ${JSON.stringify(apiModule)};
export default defineRole({
  name: 'arp',
  defaults: { dir: '/nonexistent', settings: {} },
  tasks: ({ vars }) => Object.entries(vars.settings).map(([name, value]) => ({
    name,
    op: ops.sysctl({ name, value: String(value), file: vars.dir + '/90-provision.conf' }),
  })),
});
`;

describe.skipIf(!available)('sysctl tasks on one file', () => {
  let project: Project;
  let dir: string;

  beforeAll(async () => {
    const settings = Object.fromEntries(names.map((name) => [name, kernelValue(name)]));
    project = await makeProject({
      'package.json': '{ "type": "module" }\n',
      'roles/arp/index.ts': ROLE,
      'arp.yml': `- name: arp\n  hosts: all\n  roles: [{ role: arp, vars: { settings: ${JSON.stringify(settings)} } }]\n`,
      'inventory.yaml': 'all:\n  hosts:\n    localhost: { transport: local }\n',
    });
  });
  afterAll(async () => {
    await project?.remove();
  });

  const run = (args: string[] = []) => runCli(project, ['-i', 'inventory.yaml', 'arp.yml', '-e', `dir=${dir}`, ...args]);

  it('a first run persists all four in 3 executions (none stale), a check run and a no-op run take 2', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'provision-sysctl-'));
    try {
      const check = await run(['--check']);
      expect(check.exitCode, check.stdout + check.stderr).toBe(0);
      expect(recapOf(check)!.hosts[0]).toMatchObject({ changed: 4, remoteExecutions: 2 });
      expect(existsSync(path.join(dir, '90-provision.conf'))).toBe(false);

      const first = await run();
      expect(first.exitCode, first.stdout + first.stderr).toBe(0);
      expect(changedTasks(first)).toEqual(names.map((name) => `localhost: ${name}`));
      // lock and facts, probes, then one execution applying the four edits
      expect(recapOf(first)!.hosts[0]).toMatchObject({ changed: 4, failed: 0, remoteExecutions: 3 });
      expect(await readFile(path.join(dir, '90-provision.conf'), 'utf8')).toBe(names.map((name) => `${name} = ${kernelValue(name)}\n`).join(''));

      const noop = await run();
      expect(recapOf(noop)!.hosts[0]).toMatchObject({ changed: 0, ok: 4, remoteExecutions: 2 });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
