// Remote executions per host do not grow with tasks or plays: the host lock's execution reads the
// facts, one probe execution probes every play's tasks, and each play that changes something
// applies in one execution that also probes the later plays again. Real CLI, local transport, a
// role whose probes write down every time they run (outside the state they manage), so the tests
// also see which probes ran and how often.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiModule, changedTasks, makeProject, recapOf, runCli, type Project } from '../../support/project.ts';

// Task i of play p manages the file <dir>/p<p>-<i>; its probe appends "p<p>-<i>" to <dir>/probes.log.
const ROLE = `
import { defineRole } from ${JSON.stringify(apiModule)};
const q = (s) => "'" + String(s).replaceAll("'", "'\\\\''") + "'";
function managed(dir, name) {
  const file = dir + '/' + name;
  return {
    kind: 'test-file',
    target: file,
    probe: () => 'echo ' + q(name) + ' >> ' + q(dir + '/probes.log') + '; cat ' + q(file) + " 2>/dev/null || echo '<absent>'",
    plan: (_facts, probed) => probed.stdout === name + '\\n'
      ? { changed: false }
      : { changed: true, summary: 'write ' + file, script: 'echo ' + q(name) + ' > ' + q(file) },
  };
}
export default defineRole({
  name: 'many',
  defaults: { dir: '/nonexistent', play: 0, count: 0 },
  tasks: ({ vars }) => [
    ...Array.from({ length: Number(vars.count) }, (_, i) => ({ name: 'file ' + i, op: managed(vars.dir, 'p' + vars.play + '-' + i) })),
    { name: 'only on another OS', op: managed(vars.dir, 'p' + vars.play + '-never'), when: () => false },
  ],
  handlers: ({ vars }) => [{ name: 'never notified', op: managed(vars.dir, 'p' + vars.play + '-handler') }],
});
`;

// Several lines in one file (Ansible's lineinfile, one task a line): each line's plan is made on
// the file as it was probed, so after the first change the next line's probe is stale.
const SHARED_FILE_ROLE = `
import { defineRole, ops } from ${JSON.stringify(apiModule)};
export default defineRole({
  name: 'lines',
  defaults: { dir: '/nonexistent', count: 0 },
  tasks: ({ vars }) => Array.from({ length: Number(vars.count) }, (_, i) => ({
    name: 'line ' + i,
    op: ops.line({ path: vars.dir + '/shared.conf', line: 'setting' + i + ' = ' + i, regexp: '^setting' + i + ' ', create: true }),
  })),
});
`;

function playbook(plays: number, tasks: number): string {
  return Array.from({ length: plays }, (_, p) => `- name: play ${p}\n  hosts: all\n  roles: [{ role: many, vars: { play: ${p}, count: ${tasks / plays} } }]\n`).join('');
}

describe('remote executions per host, whatever the number of tasks and plays', () => {
  let project: Project;
  let dir: string;

  beforeAll(async () => {
    const files: Record<string, string> = {
      'package.json': '{ "type": "module" }\n',
      'roles/many/index.ts': ROLE,
      'roles/lines/index.ts': SHARED_FILE_ROLE,
      'lines.yml': '- name: lines\n  hosts: all\n  roles: [{ role: lines, vars: { count: 4 } }]\n',
      'inventory.yaml': 'all:\n  hosts:\n    localhost: { transport: local }\n',
    };
    for (const [plays, tasks] of [[1, 10], [1, 200], [5, 10], [5, 200]] as const) files[`site-${plays}x${tasks}.yml`] = playbook(plays, tasks);
    project = await makeProject(files);
  });
  afterAll(async () => {
    await project?.remove();
  });

  const run = (file: string, args: string[] = []) => runCli(project, ['-i', 'inventory.yaml', file, '-e', `dir=${dir}`, ...args]);
  const probesRun = async () => (await readFile(path.join(dir, 'probes.log'), 'utf8').catch(() => '')).split('\n').filter(Boolean);

  it.each([
    [1, 10],
    [1, 200],
    [5, 10],
    [5, 200],
  ])('%i play(s), %i tasks: a first run in 2 + plays executions, a no-op run in 2, a check run in 2', async (plays, tasks) => {
    dir = await mkdtemp(path.join(tmpdir(), 'provision-round-trips-'));
    try {
      const first = await run(`site-${plays}x${tasks}.yml`);
      expect(first.exitCode).toBe(0);
      expect(changedTasks(first)).toHaveLength(tasks);
      expect(recapOf(first)!.hosts[0]).toMatchObject({ changed: tasks, failed: 0, remoteExecutions: 2 + plays });

      await writeFile(path.join(dir, 'probes.log'), '');
      const noop = await run(`site-${plays}x${tasks}.yml`);
      expect(noop.exitCode).toBe(0);
      expect(recapOf(noop)!.hosts[0]).toMatchObject({ changed: 0, ok: tasks, remoteExecutions: 2 });
      // Every probe ran once, in the one probe execution; none for a task whose `when` is false or
      // for a handler that no task can notify.
      const ran = await probesRun();
      expect(ran).toHaveLength(tasks);
      expect(new Set(ran).size).toBe(tasks);
      expect(ran.filter((name) => name.endsWith('-never') || name.endsWith('-handler'))).toEqual([]);

      const check = await run(`site-${plays}x${tasks}.yml`, ['--check']);
      expect(recapOf(check)!.hosts[0]).toMatchObject({ changed: 0, remoteExecutions: 2 });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a step whose probe an earlier step made stale ends its execution with the probes the next round needs', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'provision-round-trips-'));
    try {
      const first = await run('lines.yml');
      expect(first.exitCode, first.stdout + first.stderr).toBe(0);
      expect(await readFile(path.join(dir, 'shared.conf'), 'utf8')).toBe('setting0 = 0\nsetting1 = 1\nsetting2 = 2\nsetting3 = 3\n');
      // lock, probes, then one execution a line: each applies its line, finds the next one stale and
      // probes it again (two executions a stale step would make it 2 + 1 + 2 * 3).
      expect(recapOf(first)!.hosts[0]).toMatchObject({ changed: 4, remoteExecutions: 2 + 4 });
      const noop = await run('lines.yml');
      expect(recapOf(noop)!.hosts[0]).toMatchObject({ changed: 0, remoteExecutions: 2 });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a later play is probed again only after a change; it then plans on the state the change left', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'provision-round-trips-'));
    try {
      const converged = await run('site-5x10.yml');
      expect(converged.exitCode, converged.stdout + converged.stderr).toBe(0);

      // Drift in the last play only: plays 0-3 change nothing, so nothing is probed twice.
      await writeFile(path.join(dir, 'p4-1'), 'drifted\n');
      await writeFile(path.join(dir, 'probes.log'), '');
      const lastDrifted = await run('site-5x10.yml');
      expect(changedTasks(lastDrifted)).toEqual(['localhost: file 1']);
      expect(recapOf(lastDrifted)!.hosts[0]).toMatchObject({ changed: 1, remoteExecutions: 3 });
      // Each probe once, and the changed task's once more: the guard that checks, just before the
      // change, that its state is still the one planned on.
      const everyProbe = Array.from({ length: 5 }, (_, p) => [`p${p}-0`, `p${p}-1`]).flat();
      expect((await probesRun()).sort()).toEqual([...everyProbe, 'p4-1'].sort());

      // Drift in the first play: its change is applied, and the same execution probes plays 1-4
      // again; a file that a later play manages, drifted by hand, is still repaired from that state.
      await writeFile(path.join(dir, 'p0-0'), 'drifted\n');
      await writeFile(path.join(dir, 'p3-0'), 'drifted\n');
      await writeFile(path.join(dir, 'probes.log'), '');
      const firstDrifted = await run('site-5x10.yml');
      expect(changedTasks(firstDrifted)).toEqual(['localhost: file 0', 'localhost: file 0']);
      expect(firstDrifted.events.filter((e) => e.type === 'task' && e.status === 'changed').map((e) => e.play)).toEqual(['play 0', 'play 3']);
      // lock, probes, play 0's apply (with the later plays' probes), play 3's apply
      expect(recapOf(firstDrifted)!.hosts[0]).toMatchObject({ changed: 2, remoteExecutions: 4 });
      const perPlay = (await probesRun()).reduce<Record<string, number>>((counts, name) => ({ ...counts, [name.split('-')[0]!]: (counts[name.split('-')[0]!] ?? 0) + 1 }), {});
      // Two tasks a play. Play 0: once, and again as the guards of its tasks from its first change
      // on (both). Plays 1-4: once before and once after play 0's change; play 3 also has its
      // guards, and play 4 a third probe after play 3's change.
      expect(perPlay).toEqual({ p0: 2 + 2, p1: 2 * 2, p2: 2 * 2, p3: 2 * 2 + 2, p4: 2 * 3 });
      expect(await readFile(path.join(dir, 'p3-0'), 'utf8')).toBe('p3-0\n');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
