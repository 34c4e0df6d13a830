// The compiled CLI (dist/, built by `npm run build`, which npm's prepare runs at `npm ci`) must do
// exactly what the sources do, must never run when a source changed after the build, and must still
// load a project's own roles written in TypeScript. Each test works on a copy of the project in a
// temp directory (its node_modules a link to this one's), built there, so nothing here touches this
// checkout's dist/.
import { execFile, spawn } from 'node:child_process';
import { cp, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { staleReason } from '../../../bin/compiled.js';
import { makeProject, repoRoot, type Project } from '../../support/project.ts';

const PROJECT_FILES = ['src', 'roles', 'bin', 'scripts/build.js', 'package.json', 'tsconfig.json', 'tsconfig.build.json', 'inventory', 'playbooks'];

interface Result {
  exitCode: number | null;
  stdout: string;
  stderr: string;
}

/** A copy of the project's files in a temp directory, built (dist/) when asked. */
async function copyProject(build: boolean): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'provision-clone-'));
  for (const file of PROJECT_FILES) await cp(path.join(repoRoot, file), path.join(dir, file), { recursive: true });
  await symlink(path.join(repoRoot, 'node_modules'), path.join(dir, 'node_modules'));
  if (build) {
    const { stderr } = await promisify(execFile)(process.execPath, ['scripts/build.js'], { cwd: dir });
    expect(stderr).toMatch(/^build: \d+ files and \d+ schema validators into dist\//m);
  }
  return dir;
}

/** `provision ARGS` of the project copy in `clone`, run in `cwd` (default: the copy). */
function provision(clone: string, args: string[], cwd = clone): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(clone, 'bin', 'provision.js'), ...args], {
      cwd,
      // Lint without the secrets, as in CI; no colours either way.
      env: { ...process.env, HA_AUTH_KEY: '', KEEPALIVED_PASS: '', NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (exitCode) => resolve({ exitCode, stdout, stderr }));
  });
}

/** A project with a local host in the group clients (the built-in client role's hosts). */
const LOCAL_INVENTORY = 'all:\n  hosts:\n    me: { transport: local }\n  children:\n    clients:\n      hosts:\n        me: {}\n';

describe('the compiled CLI', { timeout: 600_000 }, () => {
  let compiled: string;
  let sources: string;
  let project: Project;

  beforeAll(async () => {
    [compiled, sources] = await Promise.all([copyProject(true), copyProject(false)]);
    project = await makeProject({
      'inventory.yaml': LOCAL_INVENTORY,
      'client.yml': '- hosts: all\n  roles: [client]\n',
      // lint PLAYBOOK loads the built-in roles (the compiled copies) to find the cluster roles
      'cluster.yml': '- hosts: all\n  roles: [base, heartbeat]\n',
      // What the schemas refuse (the compiled CLI checks with the validators the build generated)
      'bad-inventory.yaml': 'all:\n  vars:\n    1bad: x\n  hosts:\n    web1: { adress: 10.0.0.1, port: "22", transport: sssh }\n    bad_name!: {}\n',
      'bad-cluster.yaml':
        'all:\n  hosts:\n    web1: { address: 10.0.0.1 }\ncluster:\n  manager: heartbeet\n  directors: [web1]\n  virtual_services: [{ vip: 10.0.0.300, protocol: tcp, port: 80 }]\n',
      'bad-role-variables.yaml': 'all:\n  vars:\n    manage_hostname: "yes"\n    index_page: "two\\nlines"\n  hosts:\n    web1: { address: 10.0.0.1 }\n',
    });
  }, 600_000);
  afterAll(async () => {
    await Promise.all([compiled, sources].filter(Boolean).map((dir) => rm(dir, { recursive: true, force: true })));
    await project?.remove();
  });

  it('and the sources agree: help, lint of every example inventory, errors, a check run with a built-in role', async () => {
    // The compiled copy is the one that runs (see the next test); the other has no dist/.
    expect(staleReason(compiled)).toBeUndefined();
    expect(staleReason(sources)).toMatch(/not built/);
    const inventories = (await readdir(path.join(repoRoot, 'inventory'))).filter((file) => file.endsWith('.yaml'));
    expect(inventories.length).toBeGreaterThan(5);
    const commands: Array<{ args: string[]; inProject?: boolean }> = [
      { args: ['--help'] },
      { args: ['help'] },
      { args: ['run', '--help'] },
      { args: ['lint', '--help'] },
      { args: ['lab', '--help'] },
      { args: ['lint', '--rules'] },
      ...inventories.map((file) => ({ args: ['lint', '-i', `inventory/${file}`] })),
      { args: ['lint', '-i', 'inventory/nat-heartbeat.yaml', '-i', 'inventory/keepalived-dr-arptables.yaml'] },
      { args: ['lint', '-i', 'no-such-inventory.yaml'] },
      { args: ['lint', '-i', 'inventory/vagrant.yaml', 'playbooks/site.yml'] },
      { args: ['lint', '-i', 'inventory.yaml', 'cluster.yml'], inProject: true },
      ...['bad-inventory.yaml', 'bad-cluster.yaml', 'bad-role-variables.yaml'].map((file) => ({ args: ['lint', '-i', file], inProject: true })),
      { args: ['--no-such-option'] },
      { args: ['-i', 'inventory/piranha-nat.yaml', 'no-such-playbook.yml'] },
      { args: ['-i', 'inventory.yaml', 'client.yml', '--check'], inProject: true },
    ];
    for (const { args, inProject } of commands) {
      const cwd = inProject ? project.dir : undefined;
      const [fromDist, fromSources] = await Promise.all([provision(compiled, args, cwd), provision(sources, args, cwd)]);
      expect(fromDist, args.join(' ')).toEqual(fromSources);
      expect(fromDist.stderr, args.join(' ')).not.toMatch(/ERROR \(internal\)/);
      if (args.some((arg) => arg.startsWith('bad-'))) expect(fromDist.stderr, args.join(' ')).toMatch(/^ERROR: .*bad-.*\.yaml:\d+:\d+: /);
      if (args.includes('cluster.yml')) expect(fromDist.stderr).toMatch(/^ERROR: cluster\.yml:2:\d+: the heartbeat role configures a cluster, but the inventory inventory\.yaml has no cluster: section/);
      if (args.includes('playbooks/site.yml')) expect(fromDist.stderr).not.toContain('configures a cluster');
    }
  });

  it('runs the compiled code while dist/ matches the sources, and the sources once one changed', async () => {
    const clone = await mkdtemp(path.join(tmpdir(), 'provision-stale-'));
    try {
      // A copy of the built project: every file has a new mtime, as after a checkout; the content decides.
      await cp(compiled, clone, { recursive: true, verbatimSymlinks: true });
      const description = 'Build, check and verify Linux LVS high-availability load-balancer clusters';
      const compiledMain = path.join(clone, 'dist/src/cli/main.js');
      const sourceMain = path.join(clone, 'src/cli/main.ts');
      const source = await readFile(sourceMain, 'utf8');
      // Mark the compiled copy only: its help shows which code ran.
      await writeFile(compiledMain, (await readFile(compiledMain, 'utf8')).replace(description, 'COMPILED COPY'));
      const help = async () => (await provision(clone, ['--help'])).stdout;

      expect(await help()).toMatch(/COMPILED COPY/);

      await writeFile(sourceMain, source.replace(description, 'EDITED SOURCE'));
      const edited = await help();
      expect(edited).toMatch(/EDITED SOURCE/);
      expect(edited).not.toMatch(/COMPILED COPY/);

      // The same content again (a new mtime): dist/ matches the sources again.
      await writeFile(sourceMain, source);
      expect(await help()).toMatch(/COMPILED COPY/);

      // A built-in role edited after the build: a run uses the edited role, not its compiled copy.
      const role = path.join(clone, 'roles/client/index.ts');
      const roleSource = await readFile(role, 'utf8');
      expect(roleSource).toMatch(/to send requests to the virtual services/);
      await writeFile(role, roleSource.replace('to send requests to the virtual services', 'EDITED ROLE'));
      const run = await provision(clone, ['-i', 'inventory.yaml', 'client.yml', '--check'], project.dir);
      expect(run.stderr).toBe('');
      expect(run.stdout).toMatch(/client : curl, EDITED ROLE/);
      await writeFile(role, roleSource);

      // A source removed since the build, then no dist/ at all (npm ci --ignore-scripts): the sources run.
      await rm(path.join(clone, 'src/lab/mirror-server.mjs'));
      expect(await help()).toMatch(new RegExp(description));
      await rm(path.join(clone, 'dist'), { recursive: true });
      const withoutDist = await provision(clone, ['--help']);
      expect(withoutDist.exitCode).toBe(0);
      expect(withoutDist.stdout).toMatch(new RegExp(description));
    } finally {
      await rm(clone, { recursive: true, force: true });
    }
  });

  it('ends quietly when its reader goes away (`provision --help | head -1`), with the exit code of what it did', async () => {
    for (const clone of [compiled, sources]) {
      const bin = path.join(clone, 'bin', 'provision.js');
      // stdout closed before the CLI writes anything
      const closed = await new Promise<Result>((resolve, reject) => {
        const child = spawn(process.execPath, [bin, '--help'], { cwd: clone, stdio: ['ignore', 'pipe', 'pipe'] });
        child.stdout.destroy();
        let stderr = '';
        child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
        child.on('error', reject);
        child.on('close', (exitCode) => resolve({ exitCode, stdout: '', stderr }));
      });
      expect(closed, clone).toEqual({ exitCode: 0, stdout: '', stderr: '' });
      // closed after the first line, by a real pipeline (pipefail: the exit code is provision's)
      for (const args of ['--help', 'lint --rules', 'lint -i inventory/no-such-file.yaml']) {
        const { stdout, stderr } = await promisify(execFile)('bash', ['-o', 'pipefail', '-c', `node ${bin} ${args} | head -1; echo "exit $?"`], { cwd: clone });
        expect(stderr, args).toBe(args.includes('no-such-file') ? 'ERROR: inventory file not found: inventory/no-such-file.yaml\n  give one with --inventory FILE\n' : '');
        expect(stdout.split('\n').at(-2), args).toBe(args.includes('no-such-file') ? 'exit 1' : 'exit 0');
      }
    }
  });

  it("loads a project's own TypeScript roles, which share the runner's modules", async () => {
    /** A project whose roles import the role API of the copy `clone` (as a project's roles import provision's). */
    const userProject = (clone: string) => {
      const api = JSON.stringify(path.join(clone, 'src', 'index.ts'));
      return makeProject({
        'package.json': '{ "type": "module" }\n',
        'inventory.yaml': 'all:\n  hosts:\n    me: { transport: local }\n',
        'site.yml': '- hosts: all\n  roles: [greet]\n',
        'refuse.yml': '- hosts: all\n  roles: [refuse]\n',
        'roles/greet/index.ts': `import { defineRole, ops, roleVariables, Type } from ${api};
const greeting: string = 'hello from a TypeScript role';
export default defineRole({
  name: 'greet',
  ...roleVariables({ out: { type: Type.String({ minLength: 1 }), default: 'greeting.txt' } }),
  tasks: ({ vars }) => [{ name: 'greeting written', op: ops.file({ path: process.cwd() + '/' + vars.out, content: greeting + '\\n' }) }],
});
`,
        // An operation of the role's own whose plan refuses with an OperationError: a failed task
        // (exit 2), which the runner tells from a bug only if the role's OperationError is its own.
        'roles/refuse/index.ts': `import { defineRole, OperationError, type Operation } from ${api};
const refusal: Operation = { kind: 'refusal', target: 'this host', probe: () => '', plan: () => { throw new OperationError('the role refuses this host'); } };
export default defineRole({ name: 'refuse', defaults: {}, tasks: () => [{ name: 'refused', op: refusal }] });
`,
      });
    };
    const results: Result[][] = [];
    for (const clone of [compiled, sources]) {
      const user = await userProject(clone);
      try {
        const written = await provision(clone, ['-i', 'inventory.yaml', 'site.yml'], user.dir);
        expect(written.stderr).toBe('');
        expect(written.exitCode).toBe(0);
        expect(written.stdout).toMatch(/changed: \[me\] greet : greeting written/);
        expect(await readFile(path.join(user.dir, 'greeting.txt'), 'utf8')).toBe('hello from a TypeScript role\n');

        const refused = await provision(clone, ['-i', 'inventory.yaml', 'refuse.yml'], user.dir);
        expect(refused.exitCode).toBe(2);
        expect(refused.stdout).toMatch(/FAILED: \[me\] refuse : refused\n +the role refuses this host\n/);
        expect(refused.stderr).not.toMatch(/internal/);
        const general = (result: Result) => ({ ...result, stdout: result.stdout.replaceAll(user.dir, 'PROJECT') });
        results.push([general(written), general(refused)]);
      } finally {
        await user.remove();
      }
    }
    expect(results[0]).toEqual(results[1]);
  });
});
