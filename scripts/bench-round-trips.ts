// Benchmark: remote executions per host for a playbook of 10 and of 100 tasks (they must be equal:
// the runner batches probes and changes), first run (everything changes) and second run (nothing
// does), with wall times. Runs the real CLI against this machine with the local transport.
// Usage: npm run bench:round-trips
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { apiModule, makeProject, recapOf, runCli } from '../test/support/project.ts';

const sizes = [10, 100];

const role = `
import { defineRole, ops } from ${JSON.stringify(apiModule)};
export default defineRole({
  name: 'many',
  defaults: { dir: '/nonexistent', count: 0 },
  tasks: ({ vars }) => Array.from({ length: Number(vars.count) }, (_, i) => ({
    name: 'file ' + i,
    op: ops.file({ path: vars.dir + '/f' + i, content: 'line ' + i + '\\n' }),
  })),
});
`;

const project = await makeProject({
  'package.json': '{ "type": "module" }\n',
  'roles/many/index.ts': role,
  'inventory.yaml': 'all:\n  hosts:\n    localhost: { transport: local }\n',
  'site.yml': '- hosts: all\n  roles: [many]\n',
});
const rows: string[] = [];
try {
  for (const count of sizes) {
    const dir = await mkdtemp(path.join(tmpdir(), 'provision-bench-'));
    for (const pass of ['first run', 'second run']) {
      const started = Date.now();
      const r = await runCli(project, ['-i', 'inventory.yaml', 'site.yml', '-e', `dir=${dir} count=${count}`]);
      const seconds = (Date.now() - started) / 1000;
      if (r.exitCode !== 0) throw new Error(`run failed (${r.exitCode}): ${r.stdout}${r.stderr}`);
      const host = recapOf(r)!.hosts[0]!;
      rows.push(`${String(count).padStart(5)} tasks  ${pass.padEnd(10)}  changed=${String(host.changed).padStart(3)}  remote executions=${host.remoteExecutions}  wall=${seconds.toFixed(2)} s`);
    }
    await rm(dir, { recursive: true, force: true });
  }
} finally {
  await project.remove();
}
console.log('Remote executions per host (local transport; lock + probe [+ apply]):');
for (const row of rows) console.log(row);
