// No secret leaves in any form: a whole play run through the CLI over a real sshd with
// `-vvv --diff --json -`, secret files that change (one held an older secret this run does not
// know), a file that holds a secret only through a variable, a base64'd copy, and a failing task
// that prints the secret. Every byte of stdout and stderr, JSON events included, is scanned for
// each derived form of each secret (test/support/secret-forms.ts).
import { mkdtempSync, rmSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MASK } from '../../../src/report/redact.ts';
import { leaks } from '../../support/secret-forms.ts';
import { startSshd, rootSkipReason, sshTarget, type Sshd } from '../../support/sshd.ts';
import { apiModule, makeProject, runCli, type Project } from '../../support/project.ts';

/** Quotes, a backslash, $ and a backtick: its shell-quoted, JSON and escaped forms all differ from it. */
const KEY = 'Audit\'Se"cr\\et$Q7`x';
/** A second secret, from -e @file with !env. */
const TOKEN = 'tok3n-ünï-✓-v4lue';
/** What the secret files held before: a secret of an earlier configuration, unknown to this run. */
const OLD_KEY = '0ld-Forgotten-K3y';

const vaultRole = (api: string) => `
import { defineRole, ops, sh } from ${JSON.stringify(api)};

export default defineRole({
  name: 'vault',
  defaults: { base_dir: '/nonexistent', auth_key: '', api_token: '' },
  tasks: ({ vars }) => [
    { name: 'authkeys', op: ops.file({ path: vars.base_dir + '/authkeys', content: 'auth 1\\n1 sha1 ' + vars.auth_key + '\\n', mode: '0600', secret: true }) },
    { name: 'token file', op: ops.file({ path: vars.base_dir + '/token.conf', content: 'token = ' + vars.api_token + '\\n', secret: true }) },
    // Not declared secret: only the second guard (a diff holding a secret form) hides these.
    { name: 'json settings', op: ops.file({ path: vars.base_dir + '/settings.json', content: JSON.stringify({ key: vars.auth_key }) + '\\n' }) },
    { name: 'encoded copy', op: ops.file({ path: vars.base_dir + '/key.b64', content: Buffer.from('#key ' + vars.auth_key + '\\n').toString('base64') + '\\n' }) },
    { name: 'plain file', op: ops.file({ path: vars.base_dir + '/plain.conf', content: 'nothing secret here\\n' }) },
    { name: 'echoes the key and fails', op: ops.command({ run: sh\`printf '%s\\\\n' \${'key=' + vars.auth_key} \${JSON.stringify(vars.auth_key)} >&2; exit 3\` }) },
  ],
});
`;

interface Run {
  exitCode: number;
  stdout: string;
  stderr: string;
}

describe.skipIf(rootSkipReason !== undefined)('no secret in any output: -vvv --diff --json - over ssh', () => {
  let sshd: Sshd;
  let project: Project;
  let base: string;

  beforeAll(async () => {
    sshd = await startSshd();
    base = mkdtempSync(path.join(tmpdir(), 'provision-secrets-'));
    project = await makeProject({
      'package.json': '{ "type": "module" }\n',
      'roles/vault/index.ts': vaultRole(apiModule),
      'playbooks/site.yml': '- name: Secrets\n  hosts: all\n  roles: [vault]\n',
      // An exception thrown where no code catches it, its message holding the secret.
      'roles/boom/index.ts': `import { defineRole } from ${JSON.stringify(apiModule)};\nexport default defineRole({ name: 'boom', defaults: { auth_key: '' }, tasks: ({ vars }) => { setTimeout(() => { throw new Error('boom ' + JSON.stringify(vars.auth_key)); }, 0); return []; } });\n`,
      'playbooks/boom.yml': '- name: Boom\n  hosts: all\n  roles: [boom]\n',
      'secrets.yml': 'api_token: !env API_TOKEN\n',
      'inventory.yaml': `
all:
  vars:
    base_dir: ${base}
    auth_key: !env DEMO_AUTH_KEY
  hosts:
    target1: ${sshTarget(sshd)}
`,
      // The secret as a port: a schema error while loading, before any run's redactor exists.
      'bad-inventory.yaml': `all:\n  hosts:\n    target1: { address: 127.0.0.1, port: !env DEMO_AUTH_KEY }\n`,
    });
  });
  afterAll(async () => {
    await sshd?.stop();
    await project?.remove();
    rmSync(base, { recursive: true, force: true });
  });

  // Every byte the CLI writes is scanned, so it runs as given (its own --json -), not with runCli's events file.
  const run = (args: string[], env: NodeJS.ProcessEnv = { DEMO_AUTH_KEY: KEY, API_TOKEN: TOKEN }): Promise<Run> => runCli(project, args, { env, json: false });

  it('a play that changes secret files and fails shows every change and failure, and no secret, old or current, in any form', async () => {
    await mkdir(base, { recursive: true });
    // Old contents: two secret files holding a secret of an earlier configuration, and a plain file.
    await writeFile(path.join(base, 'authkeys'), `auth 1\n1 sha1 ${OLD_KEY}\n`, { mode: 0o600 });
    await writeFile(path.join(base, 'token.conf'), `token = ${OLD_KEY}\n`);
    await writeFile(path.join(base, 'plain.conf'), 'old plain content\n');

    const r = await run(['-i', 'inventory.yaml', 'playbooks/site.yml', '-e', '@secrets.yml', '-vvv', '--diff', '--json', '-']);
    expect(r.exitCode).toBe(2);

    // The run did its work: the files hold the secrets, the failing task failed with its output.
    expect(await readFile(path.join(base, 'authkeys'), 'utf8')).toBe(`auth 1\n1 sha1 ${KEY}\n`);
    expect(await readFile(path.join(base, 'token.conf'), 'utf8')).toBe(`token = ${TOKEN}\n`);
    const events = r.stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);
    const tasks = events.filter((e) => e.type === 'task');
    expect(tasks.map((e) => `${String(e.task)}: ${String(e.status)}`)).toEqual([
      'authkeys: changed',
      'token file: changed',
      'json settings: changed',
      'encoded copy: changed',
      'plain file: changed',
      'echoes the key and fails: failed',
    ]);
    const diffs = Object.fromEntries(tasks.flatMap((e) => ((e.diff as Array<Record<string, unknown>> | undefined) ?? []).map((d) => [path.basename(String(d.path)), d])));
    for (const name of ['authkeys', 'token.conf', 'settings.json', 'key.b64']) {
      expect(diffs[name], name).toEqual({ path: path.join(base, name), secret: true, change: name === 'authkeys' || name === 'token.conf' ? 'changed' : 'created' });
    }
    expect(diffs['plain.conf']).toMatchObject({ before: 'old plain content\n', after: 'nothing secret here\n' });
    expect(r.stderr).toContain('(changed; content not shown: the file holds a secret)');
    expect(r.stderr).toContain('+nothing secret here');
    const failed = tasks.find((e) => e.status === 'failed')!;
    expect(String(failed.message)).toContain('exit code 3');
    expect(String(failed.message)).toContain('key=********');
    // -v scripts are there, without the secret files' content.
    expect(String(tasks[0]!.script)).toContain('not shown, the file may hold a secret');

    const everything = r.stdout + r.stderr;
    expect(leaks(everything, [KEY, TOKEN, OLD_KEY])).toEqual([]);
    // Masking did not corrupt ordinary text.
    expect(r.stderr).toContain('PLAY RECAP');
    expect(r.stderr).toMatch(/target1 +: ok=5 +changed=5 +unreachable=0 +failed=1/);
  });

  it('an error while loading (the secret as a port) names the problem without the secret', async () => {
    const r = await run(['-i', 'bad-inventory.yaml', 'playbooks/site.yml', '-vvv', '--json', '-']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('got a value read with !env (not shown)');
    expect(leaks(r.stdout + r.stderr, [KEY])).toEqual([]);
  });

  it('an uncaught exception is printed as an internal error, its message and stack masked', async () => {
    const r = await run(['-i', 'inventory.yaml', 'playbooks/boom.yml', '-vvv', '--json', '-']);
    expect(r.exitCode).toBe(250);
    expect(r.stderr).toContain(`ERROR (internal): boom "${MASK}"`);
    expect(r.stderr).toMatch(/\n\s+at /);
    expect(leaks(r.stdout + r.stderr, [KEY])).toEqual([]);
  });

  it('a secret shorter than the minimum stops the run before anything is touched, without masking ordinary text', async () => {
    const r = await run(['-i', 'inventory.yaml', 'playbooks/site.yml', '--json', '-'], { DEMO_AUTH_KEY: 'e' });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('the value of environment variable DEMO_AUTH_KEY (all.vars.auth_key) has 1 character; a secret needs at least 6');
    expect(r.stderr).not.toContain('*');
  });
});
