// The ssh connector against a real OpenSSH server (test/support/sshd.ts) on 127.0.0.1: the
// connector contract (contract.ts) as root with dash and busybox sh and through sudo with a
// password, then what only ssh has: one shared connection, logins, host keys, sudo failures.
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ConnectionTarget, Connector, ConnectorOptions } from '../../../src/connectors/connector.ts';
import { MAX_CHANNELS, SshConnector } from '../../../src/connectors/ssh.ts';
import { allowSudo, ensureTestUser, freePort, removeSudoRule, rootSkipReason, startSshd, TEST_USER, type Sshd } from '../../support/sshd.ts';
import { connectionError as rejection, connectorContract, until } from './contract.ts';

const execFileAsync = promisify(execFile);

describe.skipIf(rootSkipReason !== undefined)(`ssh connector against a real sshd${rootSkipReason ? ` (skipped: ${rootSkipReason})` : ''}`, () => {
  let sshd: Sshd;
  let dir: string;
  let knownHosts: string;
  let busyboxSh: string;
  let testUserPassword: string;
  const open: Connector[] = [];

  beforeAll(async () => {
    sshd = await startSshd();
    dir = await mkdtemp(join(tmpdir(), 'provision-ssh-test-'));
    await chmod(dir, 0o755); // TEST_USER reaches the busybox shell in here
    knownHosts = join(dir, 'known_hosts');
    await writeFile(knownHosts, `${sshd.hostKeyLine}\n`);
    // busybox runs as sh when called by that name.
    busyboxSh = join(dir, 'sh');
    await symlink('/usr/bin/busybox', busyboxSh);
    testUserPassword = await ensureTestUser();
  });

  afterEach(async () => {
    await Promise.all(open.splice(0).map((connector) => connector.close()));
  });

  afterAll(async () => {
    await removeSudoRule();
    await sshd?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  function target(overrides: Partial<ConnectionTarget> = {}, ssh: Partial<ConnectionTarget['ssh']> = {}): ConnectionTarget {
    return {
      name: 'lvs-test',
      address: '127.0.0.1',
      port: sshd.port,
      user: 'root',
      key: sshd.clientKeyPath,
      transport: 'ssh',
      ...overrides,
      ssh: { hostKeyChecking: 'strict', knownHosts, connectTimeout: 5, commandTimeout: 60, ...ssh },
    };
  }

  /** A connector that ignores this machine's ssh-agent and ~/.ssh (options.env) and is closed after the test. */
  function connector(t: ConnectionTarget = target(), options: ConnectorOptions = {}): SshConnector {
    const c = new SshConnector(t, { env: {}, ...options });
    open.push(c);
    return c;
  }

  describe('as root with dash', () => {
    connectorContract({ connector: (settings) => connector(target({}, settings)), dir: () => dir });
  });

  describe('as root with busybox sh', () => {
    it('really runs busybox', async () => {
      const result = await connector(target(), { shell: busyboxSh }).run('readlink /proc/$$/exe\n');
      expect(result.stdout).toBe('/usr/bin/busybox\n');
    });
    connectorContract({ connector: (settings) => connector(target({}, settings), { shell: busyboxSh }), dir: () => dir });
  });

  describe('through sudo with a password', () => {
    beforeAll(() => allowSudo({ password: true }));
    afterAll(() => removeSudoRule());
    const sudoConnector = (settings?: Partial<ConnectionTarget['ssh']>) =>
      connector(target({ user: TEST_USER, become: { sudo: true, passwordEnv: 'TEST_SUDO_PASSWORD' } }, settings), {
        env: { TEST_SUDO_PASSWORD: testUserPassword },
      });
    it('runs as root', async () => {
      expect((await sudoConnector().run('id -u\n')).stdout).toBe('0\n');
    });
    connectorContract({ connector: sudoConnector, dir: () => dir });
  });

  describe('run', () => {
    it(`runs 20 commands in parallel over ONE connection, at most ${MAX_CHANNELS} at a time`, async () => {
      const before = sshd.acceptedLogins();
      const c = connector();
      // Each run reports when it started and ended; the intervals show how many overlapped.
      const script = 'echo "$(date +%s%N) start"; sleep 1.5; echo "$(date +%s%N) end"\n';
      const results = await Promise.all(Array.from({ length: 20 }, () => c.run(script)));
      expect(sshd.acceptedLogins() - before).toBe(1);
      const events = results
        .flatMap((r) => r.stdout.trim().split('\n'))
        .map((line) => line.split(' '))
        .map(([time, kind]) => ({ time: BigInt(time!), delta: kind === 'start' ? 1 : -1 }))
        .sort((a, b) => (a.time === b.time ? a.delta - b.delta : a.time < b.time ? -1 : 1));
      let running = 0;
      let most = 0;
      for (const event of events) most = Math.max(most, (running += event.delta));
      expect(events).toHaveLength(40);
      expect(most).toBe(MAX_CHANNELS);
    });

    it('reports a dropped connection as unreachable, and reconnects for the next command', async () => {
      const c = connector();
      let pgid = 0;
      const running = c.run('echo "pgid $$"; sleep 100\n', { onStdout: (chunk) => (pgid ||= Number(/pgid (\d+)/.exec(chunk)?.[1] ?? 0)) });
      await until(() => pgid > 0);
      try {
        // Kill the sshd processes serving this connection (children of the listener).
        const { stdout } = await execFileAsync('pgrep', ['-P', String(sshd.pid)]);
        for (const pid of stdout.trim().split('\n')) process.kill(Number(pid), 'SIGKILL');
        const error = await rejection(running);
        expect(error.kind).toBe('unreachable');
        expect((await c.run('echo again\n')).stdout).toBe('again\n');
      } finally {
        // Like OpenSSH, a dropped connection leaves the remote command running: end it here.
        process.kill(-pgid, 'SIGKILL');
      }
    });
  });

  describe('connecting', () => {
    it('refuses a closed port quickly with kind unreachable', async () => {
      const port = await freePort();
      const started = Date.now();
      const error = await rejection(connector(target({ port })).connect());
      expect(error.kind).toBe('unreachable');
      expect(error.message).toContain('connection refused');
      expect(error.message).toContain(`127.0.0.1:${port}`);
      expect(Date.now() - started).toBeLessThan(3000);
    });

    it('gives up on a server that never speaks SSH after connectTimeout', async () => {
      const silent: Server = createServer(() => undefined);
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      try {
        const port = (silent.address() as { port: number }).port;
        const started = Date.now();
        const error = await rejection(connector(target({ port }, { connectTimeout: 1 })).connect());
        expect(error.kind).toBe('unreachable');
        expect(error.message).toContain('within 1s');
        expect(Date.now() - started).toBeLessThan(5000);
      } finally {
        silent.close();
      }
    });

    it('opens one connection however often connect() is called', async () => {
      const before = sshd.acceptedLogins();
      const c = connector();
      await Promise.all([c.connect(), c.connect(), c.connect()]);
      await c.connect();
      await c.run('true\n');
      expect(sshd.acceptedLogins() - before).toBe(1);
    });

    it('fails with kind auth naming the user and what was tried when the key is not authorized', async () => {
      const wrongKey = join(dir, 'wrong_key');
      await execFileAsync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', wrongKey]);
      const error = await rejection(connector(target({ key: wrongKey })).connect());
      expect(error.kind).toBe('auth');
      expect(error.message).toContain('as root');
      expect(error.message).toContain(`publickey ${wrongKey}`);
      expect(error.message).toContain('the server accepts publickey');
      expect(error.hint).toContain('authorized_keys');
    });

    it('logs in with a password from the environment variable named by passwordEnv', async () => {
      const withPasswords = await startSshd({ passwordAuthentication: true });
      try {
        await writeFile(join(dir, 'known_hosts_pw'), `${withPasswords.hostKeyLine}\n`);
        const t = target({ port: withPasswords.port, key: withPasswords.clientKeyPath, user: TEST_USER, passwordEnv: 'TEST_SSH_PASSWORD' }, { knownHosts: join(dir, 'known_hosts_pw') });
        delete t.key;
        const c = connector(t, { env: { TEST_SSH_PASSWORD: testUserPassword } });
        expect((await c.run('id -un\n')).stdout).toBe(`${TEST_USER}\n`);
        await c.close();
        const wrong = await rejection(connector(t, { env: { TEST_SSH_PASSWORD: 'not-the-password' } }).connect());
        expect(wrong.kind).toBe('auth');
        expect(wrong.message).toContain(`as ${TEST_USER}`);
        expect(wrong.message).toContain('password');
        expect(wrong.message).not.toContain('not-the-password');
      } finally {
        await Promise.all(open.splice(0).map((connector) => connector.close()));
        await withPasswords.stop();
      }
    });

    it('logs in with a passphrase-protected key, the passphrase from the variable named by passphraseEnv', async () => {
      const key = join(dir, 'encrypted_key');
      await execFileAsync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', 'open sesame', '-f', key]);
      await sshd.authorize(await readFile(`${key}.pub`, 'utf8'));
      const withoutPassphrase = await rejection(connector(target({ key })).connect());
      expect(withoutPassphrase.kind).toBe('auth');
      expect(withoutPassphrase.message).toContain(`key ${key} is encrypted and no passphrase was given`);
      const c = connector(target({ key }), { passphraseEnv: 'KEY_PASSPHRASE', env: { KEY_PASSPHRASE: 'open sesame' } });
      expect((await c.run('echo in\n')).stdout).toBe('in\n');
    });

    it('logs in with a key held by ssh-agent (SSH_AUTH_SOCK)', async () => {
      const socket = join(dir, 'agent.sock');
      const agent = spawn('ssh-agent', ['-D', '-a', socket], { stdio: 'ignore' });
      try {
        await until(() => existsSync(socket));
        await execFileAsync('ssh-add', [sshd.clientKeyPath], { env: { SSH_AUTH_SOCK: socket } });
        const t = target();
        delete t.key;
        const c = connector(t, { env: { SSH_AUTH_SOCK: socket, HOME: dir } });
        expect((await c.run('echo via agent\n')).stdout).toBe('via agent\n');
      } finally {
        agent.kill();
      }
    });

    it('says when there is no way to log in at all', async () => {
      const t = target({ passwordEnv: 'UNSET_PASSWORD_VARIABLE' });
      delete t.key;
      const error = await rejection(connector(t, { env: { HOME: dir } }).connect());
      expect(error.kind).toBe('auth');
      expect(error.message).toContain('$UNSET_PASSWORD_VARIABLE, which is not set');
    });
  });

  describe('host keys', () => {
    it('strict refuses a host that is not in known_hosts, showing its fingerprint', async () => {
      const empty = join(dir, 'known_hosts_empty');
      await writeFile(empty, '');
      const error = await rejection(connector(target({}, { hostKeyChecking: 'strict', knownHosts: empty })).connect());
      expect(error.kind).toBe('host-key');
      expect(error.message).toContain(`is not in ${empty}`);
      expect(error.message).toMatch(/ssh-ed25519 SHA256:[A-Za-z0-9+/]{43}/);
      expect(error.hint).toContain(`ssh-keyscan -p ${sshd.port} 127.0.0.1`);
    });

    it('strict accepts a hashed known_hosts entry (ssh-keygen -H)', async () => {
      const hashed = join(dir, 'known_hosts_hashed');
      await writeFile(hashed, `${sshd.hostKeyLine}\n`);
      await execFileAsync('ssh-keygen', ['-H', '-f', hashed]);
      expect(await readFile(hashed, 'utf8')).toMatch(/^\|1\|/);
      await connector(target({}, { knownHosts: hashed })).connect();
    });

    it('prefers the key type on file when the server has several', async () => {
      const server = await startSshd({ hostKeyTypes: ['ed25519', 'rsa'] });
      try {
        const rsaOnly = join(dir, 'known_hosts_rsa');
        await writeFile(rsaOnly, `${server.hostKeyLines[1]}\n`);
        await connector(target({ port: server.port, key: server.clientKeyPath }, { knownHosts: rsaOnly })).connect();
      } finally {
        await Promise.all(open.splice(0).map((connector) => connector.close()));
        await server.stop();
      }
    });

    it('accept-new records a new host, then refuses it with a CHANGED message when its key changes', async () => {
      const file = join(dir, 'known_hosts_accept_new');
      await writeFile(file, '# my hosts\n');
      let server = await startSshd();
      try {
        const warnings: string[] = [];
        const t = target({ port: server.port, key: server.clientKeyPath }, { hostKeyChecking: 'accept-new', knownHosts: file });
        await connector(t, { onWarning: (m) => warnings.push(m) }).connect();
        expect(await readFile(file, 'utf8')).toBe(`# my hosts\n${server.hostKeyLine}\n`);
        expect(warnings.join('\n')).toContain(`added the ssh-ed25519 host key`);

        // Known now: a second connection neither warns nor writes.
        warnings.length = 0;
        await connector(t, { onWarning: (m) => warnings.push(m) }).connect();
        expect(await readFile(file, 'utf8')).toBe(`# my hosts\n${server.hostKeyLine}\n`);
        expect(warnings).toEqual([]);
        await Promise.all(open.splice(0).map((connector) => connector.close()));

        // The same address and port with new host keys, as after a reinstall.
        const recorded = await readFile(file, 'utf8');
        const port = server.port;
        await server.stop();
        server = await startSshd({ port });
        const restarted = { ...t, key: server.clientKeyPath };
        const error = await rejection(connector(restarted).connect());
        expect(error.kind).toBe('host-key');
        expect(error.message).toMatch(
          new RegExp(
            `^host key for lvs-test \\(127\\.0\\.0\\.1:${port}\\) has CHANGED: ${file} line 2 has ssh-ed25519 SHA256:\\S+, ` +
              `the server offered ssh-ed25519 SHA256:\\S+; if the host was reinstalled, remove the old key with: ` +
              `ssh-keygen -R '\\[127\\.0\\.0\\.1\\]:${port}' -f ${file}$`,
          ),
        );
        expect(await readFile(file, 'utf8')).toBe(recorded);

        // The suggested command works: afterwards the new key is accepted.
        await execFileAsync('ssh-keygen', ['-R', `[127.0.0.1]:${port}`, '-f', file]);
        await connector(restarted).connect();
        expect(await readFile(file, 'utf8')).toBe(`# my hosts\n${server.hostKeyLine}\n`);
      } finally {
        await Promise.all(open.splice(0).map((connector) => connector.close()));
        await server.stop();
      }
    });

    it('accept-new records several hosts connecting at once without losing a line', async () => {
      const file = join(dir, 'known_hosts_parallel');
      const servers = await Promise.all([startSshd(), startSshd(), startSshd()]);
      try {
        await Promise.all(servers.map((s) => connector(target({ port: s.port, key: s.clientKeyPath }, { hostKeyChecking: 'accept-new', knownHosts: file })).connect()));
        const lines = (await readFile(file, 'utf8')).trim().split('\n').sort();
        expect(lines).toEqual(servers.map((s) => s.hostKeyLine).sort());
        expect((await stat(file)).mode & 0o777).toBe(0o600);
      } finally {
        await Promise.all(open.splice(0).map((connector) => connector.close()));
        await Promise.all(servers.map((s) => s.stop()));
      }
    });

    it('off accepts any key and warns once', async () => {
      const warnings: string[] = [];
      const c = connector(target({}, { hostKeyChecking: 'off', knownHosts: join(dir, 'does-not-exist') }), { onWarning: (m) => warnings.push(m) });
      await c.run('true\n');
      await c.run('true\n');
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toContain('host key checking is off for lvs-test');
      expect(existsSync(join(dir, 'does-not-exist'))).toBe(false);
    });
  });

  describe('sudo', () => {
    afterEach(() => removeSudoRule());
    const asTestUser = (become: ConnectionTarget['become']) => target({ user: TEST_USER, become });

    it('runs as root with a NOPASSWD rule', async () => {
      await allowSudo({ password: false });
      const c = connector(asTestUser({ sudo: true }));
      expect(await c.run('id -u; id -un\n')).toMatchObject({ stdout: '0\nroot\n', exitCode: 0 });
      const path = join(dir, 'sudo-nopasswd');
      await c.put(path, 'root file\n', 0o600);
      expect((await stat(path)).uid).toBe(0);
      expect((await c.get(path)).toString()).toBe('root file\n');
    });

    it('runs as the user itself without become', async () => {
      const c = connector(target({ user: TEST_USER }));
      expect((await c.run('id -un\n')).stdout).toBe(`${TEST_USER}\n`);
    });

    for (const sharedCredentialCache of [false, true]) {
      it(`runs as root with a password (${sharedCredentialCache ? 'credentials cached by the check' : 'no cached credentials'}) that never reaches the script`, async () => {
        await allowSudo({ password: true, sharedCredentialCache });
        const c = connector(asTestUser({ sudo: true, passwordEnv: 'TEST_SUDO_PASSWORD' }), { env: { TEST_SUDO_PASSWORD: testUserPassword } });
        // Whatever is left on stdin after the script is what the script could read.
        const result = await c.run('main() { id -u; cat; echo end; }; main\n');
        expect(result).toEqual({ stdout: '0\nend\n', stderr: '', exitCode: 0 });
        const path = join(dir, `sudo-password-${sharedCredentialCache}`);
        const data = randomBytes(100_000);
        await c.put(path, data, 0o600);
        expect((await stat(path)).uid).toBe(0);
        expect((await c.get(path)).equals(data)).toBe(true);
      });
    }

    it('runs and moves files through sudo with a password on busybox sh', async () => {
      await allowSudo({ password: true });
      const c = connector(target({ user: TEST_USER, become: { sudo: true, passwordEnv: 'TEST_SUDO_PASSWORD' } }), {
        env: { TEST_SUDO_PASSWORD: testUserPassword },
        shell: busyboxSh,
      });
      expect(await c.run('main() { id -u; readlink /proc/$$/exe; cat; }; main\n')).toEqual({ stdout: '0\n/usr/bin/busybox\n', stderr: '', exitCode: 0 });
      const path = join(dir, 'sudo-busybox');
      const data = randomBytes(50_000);
      await c.put(path, data, 0o600);
      expect((await c.get(path)).equals(data)).toBe(true);
    });

    it('fails with kind sudo and a clear message when the password is wrong', async () => {
      await allowSudo({ password: true });
      const c = connector(asTestUser({ sudo: true, passwordEnv: 'TEST_SUDO_PASSWORD' }), { env: { TEST_SUDO_PASSWORD: 'wrong-password' } });
      const error = await rejection(c.run('id -u\n'));
      expect(error.kind).toBe('sudo');
      expect(error.message).toContain(`sudo as ${TEST_USER} on lvs-test failed`);
      expect(error.message).toContain('incorrect password');
      expect(error.message).not.toContain('wrong-password');
      expect(error.hint).toContain('$TEST_SUDO_PASSWORD');
    });

    it('fails with kind sudo when the user may not sudo without a password', async () => {
      await allowSudo({ password: true });
      const error = await rejection(connector(asTestUser({ sudo: true })).run('id -u\n'));
      expect(error.kind).toBe('sudo');
      expect(error.message).toContain('a password is required');
      expect(error.hint).toContain('NOPASSWD');
    });

    it('fails with kind sudo when the user is not in sudoers', async () => {
      const error = await rejection(connector(asTestUser({ sudo: true })).run('id -u\n'));
      expect(error.kind).toBe('sudo');
    });

    it('fails with kind sudo before running anything when the password variable is not set', async () => {
      const error = await rejection(connector(asTestUser({ sudo: true, passwordEnv: 'TEST_SUDO_PASSWORD' })).run('id -u\n'));
      expect(error.kind).toBe('sudo');
      expect(error.message).toContain('$TEST_SUDO_PASSWORD, which is not set');
    });
  });
});
