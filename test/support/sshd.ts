// A real OpenSSH server for integration tests: `/usr/sbin/sshd -D -e` on 127.0.0.1 with its own
// configuration, host keys and authorized keys in a temporary directory, so tests exercise the
// connectors against the same daemon they meet on real hosts. Needs root (sshd, useradd, sudoers).
import { spawn, type ChildProcess } from 'node:child_process';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFile, chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Why the integration tests that need root are skipped, or undefined when they can run. */
export const rootSkipReason: string | undefined =
  process.getuid?.() === 0 ? undefined : 'needs root: it starts sshd, creates a user and edits /etc/sudoers.d (CI runs it as root)';

/** The unprivileged account the sudo tests log in as. */
export const TEST_USER = 'provision-test';

export type HostKeyType = 'ed25519' | 'rsa' | 'ecdsa' | 'dsa';

export interface SshdOptions {
  /** accept passwords (the account's password from /etc/shadow); default false */
  passwordAuthentication?: boolean;
  /** listen on this port, e.g. to restart a server with new host keys on the same port; default: a free port */
  port?: number;
  /** host key types to generate (fresh keys every start); default ['ed25519'] */
  hostKeyTypes?: HostKeyType[];
  /** the type of the client key (an old sshd knows RSA and DSA only); default ed25519 */
  clientKeyType?: 'ed25519' | 'rsa';
  /**
   * more sshd_config lines, e.g. `KexAlgorithms diffie-hellman-group1-sha1`. They come first: sshd
   * takes the first value it reads for a keyword, so they win over this module's defaults.
   */
  extraConfig?: string[];
  /**
   * Run sshd in a mount namespace of its own with an empty /var/lock (a tmpfs). provision's host
   * lock is /var/lock/provision.lock on the target, so every server on this machine shares it:
   * with this option each server is a host of its own to the runner (a run can use several at
   * once) and never waits for other tests' runs. Default false.
   */
  ownLockDir?: boolean;
}

/**
 * The inventory entry of a host served by `sshd`, as a YAML flow mapping: its address and port, the
 * test client key, and a known_hosts file beside the inventory that records its host key.
 */
export function sshTarget(sshd: Pick<Sshd, 'port' | 'clientKeyPath'>): string {
  return `{ address: 127.0.0.1, port: ${sshd.port}, key: ${sshd.clientKeyPath}, ssh: { known_hosts: known_hosts, host_key_checking: accept-new } }`;
}

export interface Sshd {
  port: number;
  /** the listening sshd; each connection is served by a child of it */
  pid: number;
  /** known_hosts lines for this server's host keys, in `hostKeyTypes` order: "[127.0.0.1]:PORT type base64" */
  hostKeyLines: string[];
  /** the first of hostKeyLines */
  hostKeyLine: string;
  /** an unencrypted private key (options.clientKeyType) that may log in as root and as TEST_USER */
  clientKeyPath: string;
  /** lets the holder of this public key (an authorized_keys line) log in too */
  authorize(publicKey: string): Promise<void>;
  /** everything sshd logged so far (it logs to stderr with -e) */
  log(): string;
  /** how many logins sshd accepted so far (its "Accepted publickey/password" lines) */
  acceptedLogins(): number;
  stop(): Promise<void>;
}

const SSHD = '/usr/sbin/sshd';
const STARTUP_POLLS = 50;
const STARTUP_POLL_MS = 100;

export async function startSshd(options: SshdOptions = {}): Promise<Sshd> {
  const dir = await mkdtemp(join(tmpdir(), 'provision-sshd-'));
  // sshd reads AuthorizedKeysFile as the logging-in user, so TEST_USER must be able to reach it.
  await chmod(dir, 0o755);
  try {
    // The privilege separation directory; a fresh container or CI runner may not have it.
    await mkdir('/run/sshd', { recursive: true, mode: 0o755 });
    const hostKeyTypes = options.hostKeyTypes ?? ['ed25519'];
    const hostKeyPaths: string[] = [];
    for (const type of hostKeyTypes) {
      const path = join(dir, `ssh_host_${type}_key`);
      await run('ssh-keygen', ['-q', '-t', type, '-N', '', '-C', '', '-f', path]);
      hostKeyPaths.push(path);
    }
    const clientKeyType = options.clientKeyType ?? 'ed25519';
    const clientKeyPath = join(dir, `client_${clientKeyType}`);
    await run('ssh-keygen', ['-q', '-t', clientKeyType, '-N', '', '-C', 'provision-test-client', '-f', clientKeyPath]);
    const authorizedKeys = join(dir, 'authorized_keys');
    await writeFile(authorizedKeys, await readFile(`${clientKeyPath}.pub`), { mode: 0o644 });

    const port = options.port ?? (await freePort());
    const config = join(dir, 'sshd_config');
    await writeFile(
      config,
      [
        ...(options.extraConfig ?? []),
        `Port ${port}`,
        'ListenAddress 127.0.0.1',
        ...hostKeyPaths.map((path) => `HostKey ${path}`),
        `PidFile ${join(dir, 'sshd.pid')}`,
        `AuthorizedKeysFile ${authorizedKeys}`,
        'PubkeyAuthentication yes',
        `PasswordAuthentication ${options.passwordAuthentication ? 'yes' : 'no'}`,
        'KbdInteractiveAuthentication no',
        'PermitRootLogin yes',
        'StrictModes no',
        'UsePAM no',
        'MaxSessions 10',
        'LogLevel VERBOSE',
        '',
      ].join('\n'),
    );

    const hostKeyLines: string[] = [];
    for (const path of hostKeyPaths) {
      const [type, base64] = (await readFile(`${path}.pub`, 'utf8')).trim().split(/\s+/);
      hostKeyLines.push(`[127.0.0.1]:${port} ${type} ${base64}`);
    }

    let log = '';
    const sshdArgs = ['-D', '-e', '-f', config];
    // unshare execs sh, which execs sshd: the child is sshd itself, so stop() signals it directly.
    const child = options.ownLockDir
      ? spawn(
          'unshare',
          ['--mount', '--propagation', 'private', 'sh', '-c', 'lock=$(realpath -m /var/lock) && mkdir -p "$lock" && mount -t tmpfs -o mode=1777 provision-test-locks "$lock" && exec "$@"', 'sh', SSHD, ...sshdArgs],
          { stdio: ['ignore', 'ignore', 'pipe'] },
        )
      : spawn(SSHD, sshdArgs, { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (log += chunk));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    await waitUntilListening(child, port, () => log);

    let stopped: Promise<void> | undefined;
    return {
      port,
      pid: child.pid ?? 0,
      hostKeyLines,
      hostKeyLine: hostKeyLines[0] ?? '',
      clientKeyPath,
      authorize: (publicKey) => appendFile(authorizedKeys, `${publicKey.trim()}\n`),
      log: () => log,
      acceptedLogins: () => log.split('\n').filter((line) => /Accepted (publickey|password|keyboard-interactive)/.test(line)).length,
      stop: () =>
        (stopped ??= (async () => {
          if (child.exitCode === null && child.signalCode === null) {
            child.kill('SIGTERM');
            const killTimer = setTimeout(() => child.kill('SIGKILL'), 5000);
            await exited;
            clearTimeout(killTimer);
          }
          await rm(dir, { recursive: true, force: true });
        })()),
    };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

async function waitUntilListening(child: ChildProcess, port: number, log: () => string): Promise<void> {
  for (let poll = 0; poll < STARTUP_POLLS; poll++) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`sshd exited during startup:\n${log()}`);
    if (log().includes('Server listening') && (await portAccepts(port))) return;
    await new Promise((resolve) => setTimeout(resolve, STARTUP_POLL_MS));
  }
  child.kill('SIGKILL');
  throw new Error(`sshd did not listen on 127.0.0.1:${port} within ${(STARTUP_POLLS * STARTUP_POLL_MS) / 1000}s:\n${log()}`);
}

function portAccepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** A port on 127.0.0.1 that nothing listens on right now (the kernel picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/**
 * Makes sure TEST_USER exists with a login shell and sets a fresh random password (sshd with
 * UsePAM no refuses even key logins to a locked account, and sudo asks for this password).
 * Returns the password.
 */
export async function ensureTestUser(): Promise<string> {
  const exists = await run('getent', ['passwd', TEST_USER]).then(
    () => true,
    () => false,
  );
  if (!exists) await run('useradd', ['-m', '-s', '/bin/sh', TEST_USER]);
  const password = `pw-${randomBytes(9).toString('base64url')}`;
  await new Promise<void>((resolve, reject) => {
    const child = spawn('chpasswd', [], { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`chpasswd failed: ${stderr}`))));
    child.stdin.end(`${TEST_USER}:${password}\n`);
  });
  return password;
}

export interface SudoRule {
  /** whether sudo asks for the account's password */
  password: boolean;
  /**
   * Share cached credentials between all of TEST_USER's sessions (timestamp_type=global), so a
   * command can find them cached from an earlier sudo; by default they are per parent process.
   */
  sharedCredentialCache?: boolean;
  /** sudo refuses to run without a terminal (`Defaults requiretty`, as EL5-7 ship it) */
  requiretty?: boolean;
  /**
   * false: sudo runs the command on the caller's terminal, in the caller's session, as the sudo of
   * EL5-7 does (`!use_pty`); by default the host's setting stands (Debian: use_pty)
   */
  usePty?: boolean;
}

const SUDOERS_DROP_IN = `/etc/sudoers.d/${TEST_USER}`;

/**
 * Lets TEST_USER run anything as root, replacing any earlier rule. The host's own sudo defaults
 * (Debian: use_pty) stay in force, as on a real target. Returns the function that removes the rule.
 */
export async function allowSudo(rule: SudoRule): Promise<() => Promise<void>> {
  const defaults = [
    '!lecture',
    ...(rule.sharedCredentialCache ? ['timestamp_type=global'] : []),
    ...(rule.requiretty ? ['requiretty'] : []),
    ...(rule.usePty === false ? ['!use_pty'] : []),
  ];
  const text = `Defaults:${TEST_USER} ${defaults.join(', ')}\n${TEST_USER} ALL=(ALL) ${rule.password ? '' : 'NOPASSWD: '}ALL\n`;
  const staged = join(tmpdir(), `provision-sudoers-${process.pid}`);
  await writeFile(staged, text, { mode: 0o440 });
  try {
    await run('visudo', ['-c', '-q', '-f', staged]);
    await writeFile(SUDOERS_DROP_IN, text, { mode: 0o440 });
  } finally {
    await rm(staged, { force: true });
  }
  return removeSudoRule;
}

export async function removeSudoRule(): Promise<void> {
  await rm(SUDOERS_DROP_IN, { force: true });
  // Forget TEST_USER's cached credentials (Debian's timestamp dir) so the next test starts clean.
  await rm(join('/run/sudo/ts', TEST_USER), { force: true });
}
