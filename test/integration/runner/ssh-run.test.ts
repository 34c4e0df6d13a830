// The runner end to end, as a user runs it: the CLI, a real sshd on loopback, a role that manages
// files in a temp directory. Idempotence, check mode, drift, interruption, unreachable hosts,
// changed host keys, secrets and host locks, compared as structured JSON events.
import { spawn } from 'node:child_process';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSshd, rootSkipReason, freePort, sshTarget, type Sshd } from '../../support/sshd.ts';
import { apiModule, changedTasks, makeProject, recapOf, runCli, sha256Tree, taskEvents, type Project } from '../../support/project.ts';

const SECRET = 'hunter2-sup3r-s3cret';

const demoRole = (api: string) => `
import { defineRole, ops, sh } from ${JSON.stringify(api)};

export default defineRole({
  name: 'demo',
  defaults: { base_dir: '/nonexistent', greeting: 'hello', big_files: 0, slow_seconds: 0, auth_key: '', fail_now: 'no' },
  tasks: ({ vars }) => [
    { name: 'config dir', op: ops.directory({ path: vars.base_dir + '/etc', mode: '0755' }) },
    { name: 'main config', op: ops.file({ path: vars.base_dir + '/etc/app.conf', content: 'greeting = ' + vars.greeting + '\\n' }), notify: ['reload app'] },
    { name: 'authkeys', op: ops.file({ path: vars.base_dir + '/etc/authkeys', content: 'auth 1\\n1 sha1 ' + vars.auth_key + '\\n', mode: '0600', secret: true }) },
    { name: 'hosts line', op: ops.line({ path: vars.base_dir + '/etc/hosts', line: '10.0.0.1 lvs-master', regexp: 'lvs-master', create: true }) },
    { name: 'managed block', op: ops.block({ path: vars.base_dir + '/etc/hosts', block: '10.0.0.2 lvs-backup\\n' }) },
    { name: 'coreutils installed', op: ops.packages({ names: { debian: ['coreutils'], el: ['coreutils'] } }) },
    { name: 'marker made once', op: ops.command({ run: sh\`date > \${vars.base_dir + '/made'}\`, creates: vars.base_dir + '/made' }) },
    ...Array.from({ length: Number(vars.big_files) }, (_, i) => ({
      name: 'big file ' + i,
      op: ops.file({ path: vars.base_dir + '/big' + i, content: (vars.greeting + '-' + i + '\\n').repeat(200000) }),
    })),
    ...(vars.fail_now === 'yes' ? [{ name: 'breaks', op: ops.command({ run: 'echo "disk on fire" >&2; exit 7' }) }] : []),
    ...(Number(vars.slow_seconds) > 0 ? [{ name: 'slow step', op: ops.command({ run: 'sleep ' + Number(vars.slow_seconds) }) }] : []),
  ],
  handlers: ({ vars }) => [
    { name: 'reload app', op: ops.command({ run: sh\`echo reloaded >> \${vars.base_dir + '/reloads'}\` }) },
  ],
});
`;

describe.skipIf(rootSkipReason !== undefined)('provision over ssh (real sshd)', () => {
  let sshd: Sshd;
  let project: Project;
  let base: string;
  let closedPort: number;

  const inventory = (extraHost = '') => `
all:
  vars:
    base_dir: ${base}
    auth_key: !env DEMO_AUTH_KEY
  hosts:
    target1: ${sshTarget(sshd)}
${extraHost}`;

  beforeAll(async () => {
    sshd = await startSshd();
    closedPort = await freePort();
    base = mkdtempSync(path.join(tmpdir(), 'provision-target-'));
    project = await makeProject({
      'package.json': '{ "type": "module" }\n',
      'roles/demo/index.ts': demoRole(apiModule),
      'playbooks/site.yml': '- name: Demo\n  hosts: all\n  roles: [demo]\n',
    });
    await project.write('inventory.yaml', inventory());
  });
  afterAll(async () => {
    await sshd?.stop();
    await project?.remove();
    rmSync(base, { recursive: true, force: true });
  });

  const env = { DEMO_AUTH_KEY: SECRET };
  const run = (...args: string[]) => runCli(project, ['-i', 'inventory.yaml', 'playbooks/site.yml', ...args], { env });

  it('converges, then a second run changes nothing', async () => {
    const first = await run('--diff', '-v');
    expect(first.stderr).toBe('');
    expect(first.exitCode).toBe(0);
    expect(changedTasks(first)).toEqual(
      ['config dir', 'main config', 'authkeys', 'hosts line', 'managed block', 'marker made once', 'reload app'].map((t) => `target1: ${t}`),
    );
    expect(await readFile(path.join(base, 'etc/app.conf'), 'utf8')).toBe('greeting = hello\n');
    expect(await readFile(path.join(base, 'reloads'), 'utf8')).toBe('reloaded\n');

    const second = await run();
    expect(second.exitCode).toBe(0);
    expect(changedTasks(second)).toEqual([]);
    expect(taskEvents(second).every((e) => e.status === 'ok')).toBe(true);
    // the host lock, one probe execution: nothing to apply
    expect(recapOf(second)!.hosts[0]!.remoteExecutions).toBe(2);
  });

  it('never shows the secret: not in output, diffs, -v scripts or JSON events', async () => {
    await writeFile(path.join(base, 'etc/authkeys'), 'drifted\n');
    const r = await run('--diff', '-vv');
    expect(changedTasks(r)).toEqual(['target1: authkeys']);
    expect(await readFile(path.join(base, 'etc/authkeys'), 'utf8')).toContain(SECRET);
    const everything = r.stdout + r.stderr + JSON.stringify(r.events);
    expect(everything).not.toContain(SECRET);
    expect(r.stdout).toContain('content not shown');
  });

  it('--check changes nothing and reports what would change', async () => {
    await writeFile(path.join(base, 'etc/app.conf'), 'greeting = drift\n');
    const before = await sha256Tree(base);
    const r = await run('--check', '-e', 'greeting=bonjour', '--diff');
    expect(r.exitCode).toBe(0);
    expect(changedTasks(r)).toEqual(['target1: main config', 'target1: reload app']);
    expect(r.stdout).toContain('-greeting = drift');
    expect(r.stdout).toContain('+greeting = bonjour');
    expect(await sha256Tree(base)).toBe(before);
  });

  it('repairs drift: exactly the drifted task changes', async () => {
    await writeFile(path.join(base, 'etc/app.conf'), 'greeting = drift\n');
    const r = await run();
    expect(changedTasks(r)).toEqual(['target1: main config', 'target1: reload app']);
    expect(await readFile(path.join(base, 'etc/app.conf'), 'utf8')).toBe('greeting = hello\n');
  });

  it('a failing command fails its host with exit code 2, its exit status and the tail of its output', async () => {
    const r = await run('-e', 'fail_now=yes');
    expect(r.exitCode).toBe(2);
    const failed = taskEvents(r).filter((e) => e.status === 'failed');
    expect(failed.map((e) => e.task)).toEqual(['breaks']);
    expect(String(failed[0]!.message)).toContain('exit code 7');
    expect(String(failed[0]!.message)).toContain('disk on fire');
    expect(recapOf(r)!.hosts[0]).toMatchObject({ failed: 1 });
  });

  it('heartbeat-node-name stops a host whose `uname -n` is not its node name before anything is touched, in the words of lint', async () => {
    // The hostname is left alone (manage_hostname: false), so only the host's facts can tell.
    const heartbeatInventory = (manageHostname: boolean) =>
      inventory().replace('    auth_key: !env DEMO_AUTH_KEY', `    auth_key: !env DEMO_AUTH_KEY\n    manage_hostname: ${manageHostname}`) +
      `
cluster:
  name: demo
  manager: heartbeat
  directors: [target1]
  virtual_services:
    - { vip: 127.0.0.100, port: 80, realservers: [{ address: 127.0.0.1 }], check: { checktype: connect } }
  heartbeat:
    ucast: [{ interface: lo }]
    authkeys: { method: sha1, key: !env DEMO_AUTH_KEY }
    node_names: { target1: not-this-host }
`;
    // Whatever earlier tests left there: the demo role would change something (its marker, at least).
    const before = await sha256Tree(base);

    await project.write('inventory-hb.yaml', heartbeatInventory(false));
    const r = await runCli(project, ['-i', 'inventory-hb.yaml', 'playbooks/site.yml'], { env });
    expect(r.exitCode).toBe(2);
    expect(taskEvents(r).map((e) => [e.task, e.status])).toEqual([['checking the host against the cluster', 'failed']]);
    const message = String(taskEvents(r)[0]!.message);
    expect(message).toMatch(/inventory-hb\.yaml:\d+:\d+: error \[heartbeat-node-name\] director target1 is heartbeat node not-this-host, but its `uname -n` is \S+ \(manage_hostname is false/);
    expect(message).toContain('heartbeat finds its own node line by `uname -n`');
    // Only the host lock's execution, which reads the facts: nothing was probed, let alone applied.
    expect(recapOf(r)!.hosts[0]).toMatchObject({ failed: 1, changed: 0, remoteExecutions: 1 });
    expect(await sha256Tree(base)).toBe(before);

    // Where the base role sets the hostname, lint already refuses the description: nothing runs.
    await project.write('inventory-hb.yaml', heartbeatInventory(true));
    const linted = await runCli(project, ['-i', 'inventory-hb.yaml', 'playbooks/site.yml'], { env });
    expect(linted.exitCode).toBe(1);
    expect(linted.stderr).toMatch(/inventory-hb\.yaml:\d+:\d+: error \[heartbeat-node-name\] director target1 is heartbeat node not-this-host, but the base role sets its hostname/);
    expect(taskEvents(linted)).toEqual([]);
    expect(await sha256Tree(base)).toBe(before);
  });

  it('reports an unreachable host (exit 4) while the other host finishes', async () => {
    await project.write('inventory-ghost.yaml', inventory(`    ghost:\n      address: 127.0.0.1\n      port: ${closedPort}\n      key: ${sshd.clientKeyPath}\n`));
    const r = await runCli(project, ['-i', 'inventory-ghost.yaml', 'playbooks/site.yml'], { env });
    expect(r.exitCode).toBe(4);
    const recap = recapOf(r)!;
    expect(recap.hosts.find((h) => h.host === 'ghost')).toMatchObject({ unreachable: 1, failed: 0 });
    expect(recap.hosts.find((h) => h.host === 'target1')).toMatchObject({ unreachable: 0, failed: 0 });
    expect(r.stdout).toMatch(/UNREACHABLE: \[ghost\]/);
  });

  it('refuses a changed host key, naming the file and how to fix it', async () => {
    const knownHosts = path.join(project.dir, 'known_hosts');
    const good = await readFile(knownHosts, 'utf8');
    const other = await startSshd();
    try {
      // Same address and port, another server's key: what a man in the middle would present.
      await writeFile(knownHosts, other.hostKeyLine.replace(`[127.0.0.1]:${other.port}`, `[127.0.0.1]:${sshd.port}`) + '\n');
      const r = await run();
      expect(r.exitCode).toBe(4);
      expect(r.stdout).toMatch(/CHANGED/);
      expect(r.stdout).toContain('ssh-keygen -R');
      expect(changedTasks(r)).toEqual([]);
    } finally {
      await writeFile(knownHosts, good);
      await other.stop();
    }
  });

  it('a second run on the same host waits for the lock, then gives up with a clear message', async () => {
    const slow = run('-e', 'slow_seconds=4');
    await new Promise((r) => setTimeout(r, 1500));
    const blocked = await run('--lock-timeout', '1');
    expect(blocked.exitCode).toBe(4);
    expect(blocked.stdout).toMatch(/another provision run holds this host's lock/);
    const waited = await run('--lock-timeout', '30');
    expect(waited.exitCode).toBe(0);
    expect((await slow).exitCode).toBe(0);
  });

  it('a run killed while writing leaves every file either old or new', async () => {
    for (const [attempt, delay] of [600, 1200, 1800, 2400].entries()) {
      const greeting = `g${attempt}`;
      let child: ReturnType<typeof spawn> | undefined;
      const killed = runCli(project, ['-i', 'inventory.yaml', 'playbooks/site.yml', '-e', `big_files=6 greeting=${greeting}`], {
        env,
        onSpawn: (c) => (child = c),
      });
      setTimeout(() => child?.kill('SIGKILL'), delay);
      await killed;
      await new Promise((r) => setTimeout(r, 300));
      for (let i = 0; i < 6; i++) {
        const text = await readFile(path.join(base, `big${i}`), 'utf8').catch(() => null);
        if (text === null) continue;
        const line = text.slice(0, text.indexOf('\n') + 1);
        expect(text, `big${i} after kill at ${delay} ms`).toBe(line.repeat(200000));
      }
    }
    const leftovers = (await readdir(base)).filter((f) => f.includes('provision'));
    expect(leftovers).toEqual([]);
  });

  it('Ctrl-C stops cleanly with exit code 130 and a recap', async () => {
    // Ctrl-C once the run is under way (its first output comes after the handler is set; how long
    // the CLI takes to start varies with the machine's load), during the 3-second step.
    const interrupted = runCli(project, ['-i', 'inventory.yaml', 'playbooks/site.yml', '-e', 'slow_seconds=3 greeting=ctrlc'], {
      env,
      onSpawn: (child) => child.stdout?.once('data', () => setTimeout(() => child.kill('SIGINT'), 500)),
    });
    const r = await interrupted;
    expect(r.exitCode).toBe(130);
    expect(recapOf(r)).toBeDefined();
    expect(r.stdout).toMatch(/interrupted/);
  });
});
