// `provision lint` runs in CI without the secrets: an `!env` variable that is not set is a warning
// at its file:line (exit 0), while a run and --check still stop on it. The real CLI, with the
// secrets removed from its environment.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeProject, runCli, type Project } from '../../support/project.ts';

const inventory = `all:
  children:
    directors:
      hosts:
        lvs-master: { address: 192.168.2.250 }
        lvs-backup: { address: 192.168.2.251 }
    webservers:
      hosts:
        web1: { address: 192.168.2.252 }
cluster:
  name: web
  manager: heartbeat
  directors: [lvs-master, lvs-backup]
  network: { interface: eth0, prefix: 24, gateway: 192.168.2.1 }
  virtual_services:
    - { vip: 192.168.2.254, port: 80, scheduler: wlc, forwarding: dr, realservers: [{ host: web1 }],
        check: { checktype: negotiate, service: http, request: .testpage, receive: Test Page } }
  heartbeat:
    ucast: [{ interface: eth1, addresses: { lvs-master: 192.168.1.250, lvs-backup: 192.168.1.251 } }]
    authkeys: { method: sha1, key: !env HA_AUTH_KEY }
`;
/** where `!env HA_AUTH_KEY` is written: line 20, the variable's name at column 41 */
const UNSET_AT = 'inventory.yaml:20:41';

/** The environment of a CI job without the secret. */
const WITHOUT_SECRET = { HA_AUTH_KEY: undefined };

describe('provision lint without the secrets', () => {
  let project: Project;
  beforeAll(async () => {
    project = await makeProject({ 'inventory.yaml': inventory, 'site.yml': '- hosts: all\n  roles: []\n' });
  });
  afterAll(() => project.remove());

  const provision = (args: string[], env: NodeJS.ProcessEnv) => runCli(project, args, { env, json: false });

  it('lint: a warning naming file:line and the variable, exit 0', async () => {
    const result = await provision(['lint', '-i', 'inventory.yaml'], WITHOUT_SECRET);
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
    expect(result.stdout.split('\n').filter((line) => line !== '' && !line.startsWith(' '))).toEqual([
      `${UNSET_AT}: warning [env-unset] HA_AUTH_KEY is not set (cluster.heartbeat.authkeys.key): a run will need it (export HA_AUTH_KEY=...)`,
      'lint: 1 warning, no errors',
    ]);
  });

  for (const args of [['--check'], []]) {
    it(`${args.length === 0 ? 'a run' : args.join(' ')}: the unset variable is an error at its file:line, nothing runs`, async () => {
      const result = await provision(['-i', 'inventory.yaml', ...args, 'site.yml'], WITHOUT_SECRET);
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toBe(
        `ERROR: ${UNSET_AT}: environment variable HA_AUTH_KEY is not set (cluster.heartbeat.authkeys.key)\n  export HA_AUTH_KEY before running, or replace '!env HA_AUTH_KEY' in inventory.yaml with a value\n`,
      );
      expect(result.stdout).not.toContain('PLAY RECAP');
    });
  }

  it('lint of two inventories sharing a group_vars file: its unset variable is one warning, not one per inventory', async () => {
    const shared = await makeProject({
      'one.yaml': 'all:\n  hosts:\n    h1: { address: 192.168.2.10 }\n',
      'two.yaml': 'all:\n  hosts:\n    h2: { address: 192.168.2.11 }\n',
      'group_vars/all.yaml': 'report_token: !env REPORT_TOKEN\n',
    });
    try {
      const result = await runCli(shared, ['lint', '-i', 'one.yaml', '-i', 'two.yaml'], { env: { REPORT_TOKEN: undefined }, json: false });
      expect(result.exitCode, result.stderr).toBe(0);
      expect(result.stdout.split('\n').filter((line) => line.includes('[env-unset]'))).toEqual([
        expect.stringMatching(/^group_vars\/all\.yaml:1:\d+: warning \[env-unset\] REPORT_TOKEN is not set/),
      ]);
    } finally {
      await shared.remove();
    }
  });

  it('lint with the secret set: no warning, and the value is nowhere in the output', async () => {
    const secret = 'k3y-from-ci-vault';
    const result = await provision(['lint', '-i', 'inventory.yaml'], { HA_AUTH_KEY: secret });
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe('lint: no findings (1 cluster)\n');
    expect(result.stderr).toBe('');
  });

  it('lint with a secret that is set but invalid: an error as in a run, without the value', async () => {
    for (const secret of ['k3y with-blanks', 'k3y']) {
      const lint = await provision(['lint', '-i', 'inventory.yaml'], { HA_AUTH_KEY: secret });
      const run = await provision(['-i', 'inventory.yaml', '--check', 'site.yml'], { HA_AUTH_KEY: secret });
      expect(lint.exitCode, secret).toBe(1);
      expect(lint.stderr, secret).toMatch(new RegExp(`^ERROR: ${UNSET_AT}: `));
      expect(lint.stderr, secret).toBe(run.stderr);
      expect(lint.stdout + lint.stderr, secret).not.toContain('k3y');
    }
  });
});
