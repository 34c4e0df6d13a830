// The ssh transport (ssh2): one connection per host, reused by every run/put/get, with at most
// MAX_CHANNELS commands at a time on it (sshd's default MaxSessions is 10; one more is kept for
// killing timed-out commands, see ProcessGroupKiller).
//
// Files move through exec'd shell commands (cat > temp && mv), not SFTP: SFTP cannot go through
// sudo, old servers may lack the subsystem, and one code path for every mode is easier to trust.
//
// Old servers: the algorithms offered come from ssh-algorithms.ts (ssh2's defaults plus the host's
// legacy preset); a failed negotiation says what the server offers and which preset would help.
// Jump hosts (ProxyJump): the connection runs over a TCP connection that the jump host's own ssh
// connection opens (a direct-tcpip channel, ConnectConfig.sock); ConnectorOptions.jumpHosts shares
// that connection between every host behind the jump host (jump-hosts.ts). Each host's key is
// checked against its own known_hosts entry, the jump host's and the target's alike.
// sudo requiretty: commands can run on a pty in raw mode (see launch.ts and shell-connector.ts).
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
// ssh2 is CommonJS: Node's ESM loader exposes `utils` only on the default export.
import ssh2, {
  Client,
  type AnyAuthMethod,
  type ClientChannel,
  type ConnectConfig,
  type ParsedKey,
  type PseudoTtyOptions,
} from 'ssh2';
import { ConnectionError, type ConnectionTarget, type JumpHostLease } from './connector.ts';
import type { ProcessExit, StartedProcess } from './execution.ts';
import {
  appendHostKey,
  blobKeyType,
  changedKeyMessage,
  checkHostKey,
  fingerprint,
  knownKeyTypes,
  lookupName,
  readKnownHostsCached,
  unknownKeyHint,
  unknownKeyMessage,
  type HostKeyQuery,
  type KnownHostEntry,
  type KnownHosts,
} from './known-hosts.ts';
import { Semaphore } from './semaphore.ts';
import { ShellConnector } from './shell-connector.ts';
import { connectAlgorithms, ServerAlgorithms } from './ssh-algorithms.ts';

/** Commands at a time on one connection; the rest queue. */
export const MAX_CHANNELS = 8;
/** close() waits this long for the server to acknowledge the disconnect. */
const CLOSE_TIMEOUT_MS = 5_000;
const KEEPALIVE_INTERVAL_MS = 15_000;
const KEEPALIVE_COUNT_MAX = 4;

const NETWORK_ERRORS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  EHOSTUNREACH: 'no route to host',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'connection timed out',
  ECONNRESET: 'connection reset',
  ENOTFOUND: 'name not found',
  EAI_AGAIN: 'name lookup failed',
  EPIPE: 'connection closed',
};

/**
 * The pty for a command that must run on a terminal (sudo requiretty), in raw mode: no echo (the
 * sudo password and the script never come back as output), no line editing or line length limit,
 * no signal or flow control characters, no CR/LF translation either way. sshd applies the modes
 * when it creates the pty, before the command starts.
 */
const RAW_TERMINAL: PseudoTtyOptions = {
  term: 'dumb',
  modes: {
    ECHO: 0, ECHOE: 0, ECHOK: 0, ECHONL: 0, ECHOCTL: 0, ECHOKE: 0,
    ICANON: 0, ISIG: 0, IEXTEN: 0,
    ICRNL: 0, INLCR: 0, IGNCR: 0, ISTRIP: 0, IXON: 0, IXOFF: 0, IXANY: 0, IMAXBEL: 0, PARMRK: 0, INPCK: 0,
    OPOST: 0, ONLCR: 0, OCRNL: 0,
    CS8: 1, PARENB: 0,
  },
};

const DEFAULT_IDENTITIES = ['id_ed25519', 'id_ecdsa', 'id_rsa'];

interface AuthAttempt {
  /** for messages: "publickey /path", "ssh-agent", ... */
  label: string;
  /** the server-side method it uses */
  serverMethod: 'publickey' | 'password' | 'keyboard-interactive';
  method: AnyAuthMethod;
}

type ErrorWithLevel = Error & { level?: string; code?: string };

export class SshConnector extends ShellConnector {
  private readonly channels = new Semaphore(MAX_CHANNELS);
  private connection: Promise<Client> | undefined;
  private client: Client | undefined;
  private warnedHostKeyOff = false;
  /** the claim on the jump host's connection (ssh.jump), held until close() */
  private jumpLease: JumpHostLease | undefined;

  connect(): Promise<void> {
    this.connection ??= this.openConnection().catch((error: unknown) => {
      this.connection = undefined; // a later call may try again
      throw error;
    });
    return this.connection.then(() => undefined);
  }

  async close(): Promise<void> {
    await this.killer.idle();
    const connection = this.connection;
    this.connection = undefined;
    const client = await connection?.catch(() => undefined);
    if (client) await endConnection(client);
    const lease = this.jumpLease;
    this.jumpLease = undefined;
    await lease?.release();
  }

  /**
   * A TCP connection from this host to address:port through its ssh connection (a direct-tcpip
   * channel, as `ssh -W`), for a host behind it. Rejects with a ConnectionError after timeoutMs.
   */
  async forward(address: string, port: number, timeoutMs: number): Promise<Duplex> {
    await this.connect();
    const client = await this.connection;
    if (!client) throw new ConnectionError('unreachable', this.host, `the connection to ${this.host} is closed`);
    const target = `${address}:${port}`;
    return new Promise<Duplex>((resolve, reject) => {
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        reject(
          new ConnectionError(
            'unreachable',
            this.host,
            `${this.host} could not connect to ${target} within ${Math.round(timeoutMs / 100) / 10}s`,
            `check that the host is up and that nothing between ${this.host} and it drops the connection; raise ssh.connectTimeout for slow links`,
          ),
        );
      }, timeoutMs);
      // The originator address is informational (sshd logs it); OpenSSH's ssh -W sends 127.0.0.1 too.
      client.forwardOut('127.0.0.1', 0, address, port, (error, channel) => {
        if (timedOut) {
          channel?.close();
          return;
        }
        clearTimeout(timer);
        if (error) {
          reject(
            new ConnectionError(
              'unreachable',
              this.host,
              `${this.host} could not connect to ${target}: ${error.message.replace(/^\(SSH\) /, '')}`,
              `check that the host is up and that sshd listens on port ${port}; sshd on ${this.host} must allow TCP forwarding (AllowTcpForwarding)`,
            ),
          );
        } else {
          resolve(channel);
        }
      });
    });
  }

  protected override supportsTerminal(): boolean {
    return true;
  }

  protected startsAsRoot(): boolean {
    return this.target.user === 'root';
  }

  protected async startProcess(command: string, purpose: 'command' | 'kill', terminal: boolean): Promise<StartedProcess> {
    // A kill runs outside the channel limit: the timed-out commands hold their channels until
    // they are dead, and at most one kill runs at a time (see ProcessGroupKiller).
    const release = purpose === 'kill' ? () => undefined : await this.channels.acquire();
    try {
      const client = await this.connection;
      if (!client) throw new ConnectionError('unreachable', this.host, `the connection to ${this.host} is closed`);
      const channel = await new Promise<ClientChannel>((resolve, reject) => {
        client.exec(command, terminal ? { pty: RAW_TERMINAL } : {}, (error, channel) => (error ? reject(error) : resolve(channel)));
      });
      return channelProcess(channel, release);
    } catch (error) {
      release();
      if (error instanceof ConnectionError) throw error;
      throw new ConnectionError(
        'unreachable',
        this.host,
        `cannot start a command on ${this.host}: ${(error as Error).message}`,
        'the connection may have dropped, or the server allows few sessions (MaxSessions in sshd_config must be at least 10)',
      );
    }
  }

  /** the home directory with .ssh/ (known_hosts, default keys) */
  private home(): string {
    return this.env.HOME || homedir();
  }

  private async openConnection(): Promise<Client> {
    const { target } = this;
    const deadline = Date.now() + target.ssh.connectTimeout * 1000;
    const checking = target.ssh.hostKeyChecking;
    const knownHostsFile = target.ssh.knownHosts ?? join(this.home(), '.ssh', 'known_hosts');
    const knownHosts =
      checking === 'off'
        ? { file: knownHostsFile, entries: [] }
        : await readKnownHostsCached(knownHostsFile).catch((error: unknown) => {
            throw new ConnectionError('host-key', this.host, `cannot read ${knownHostsFile}: ${(error as Error).message}`, 'check ssh.knownHosts of the host and the file\'s permissions');
          });
    const auth = await this.authAttempts();
    const sock = target.ssh.jump === undefined ? undefined : await this.tunnel(target.ssh.jump, deadline);

    const client = new Client();
    let hostKeyFailure: ConnectionError | undefined;
    const tried: string[] = [];
    let serverMethods: string[] | undefined;
    const agentNotes: string[] = [];
    const serverAlgorithms = new ServerAlgorithms();

    const config: ConnectConfig = {
      host: target.address,
      port: target.port,
      ...(sock ? { sock } : {}),
      username: target.user,
      // What is left of connectTimeout after reaching the jump host (at least a second).
      readyTimeout: Math.max(1000, deadline - Date.now()),
      keepaliveInterval: KEEPALIVE_INTERVAL_MS,
      keepaliveCountMax: KEEPALIVE_COUNT_MAX,
      algorithms: connectAlgorithms(knownKeyTypes(knownHosts, lookupName(target.address, target.port)), target.ssh.legacy),
      debug: serverAlgorithms.debug,
      hostVerifier: (key: Buffer, verify: (valid: boolean) => void) => {
        this.verifyHostKey(checking, knownHosts, key).then(
          () => verify(true),
          (error: unknown) => {
            hostKeyFailure = error instanceof ConnectionError ? error : new ConnectionError('host-key', this.host, String(error));
            verify(false);
          },
        );
      },
      // Returns the next method, or false when none is left (ssh2 then fails with level
      // 'client-authentication'). The first call has no list yet: the server sends it on failure.
      authHandler: (methodsLeft: string[] | null) => {
        if (methodsLeft) serverMethods = methodsLeft;
        for (;;) {
          const next = auth.attempts.shift();
          if (!next) return false;
          if (methodsLeft && !methodsLeft.includes(next.serverMethod)) continue;
          tried.push(next.label);
          return next.method;
        }
      },
    };

    return new Promise<Client>((resolve, reject) => {
      let ready = false;
      client.on('error', (error: ErrorWithLevel) => {
        if (error.level === 'agent') {
          agentNotes.push(`ssh-agent failed: ${error.message}`);
          return; // ssh2 goes on with the next method
        }
        if (ready) return; // channels see the 'close' that follows and report it
        sock?.destroy();
        reject(this.connectError(error, hostKeyFailure, serverAlgorithms, { tried, serverMethods, notes: [...auth.notes, ...agentNotes] }));
      });
      client.once('handshake', () => serverAlgorithms.stop());
      client.once('ready', () => {
        ready = true;
        this.client = client;
        resolve(client);
      });
      client.on('close', () => {
        if (!ready) {
          sock?.destroy();
          reject(new ConnectionError('unreachable', this.host, `${this.host} (${target.address}:${target.port}) closed the connection during the SSH handshake`, 'check sshd on the host (its log says why)'));
          return;
        }
        // The next command reconnects.
        if (this.client === client) {
          this.client = undefined;
          this.connection = undefined;
        }
      });
      client.connect(config);
    });
  }

  private async verifyHostKey(checking: ConnectionTarget['ssh']['hostKeyChecking'], knownHosts: KnownHosts, key: Buffer): Promise<void> {
    const { target } = this;
    const query: HostKeyQuery = { host: this.host, address: target.address, port: target.port, key };
    if (checking === 'off') {
      if (!this.warnedHostKeyOff) {
        this.warnedHostKeyOff = true;
        this.warn(`host key checking is off for ${this.host}: accepting its ${blobKeyType(key)} key ${fingerprint(key)} without checking it`);
      }
      return;
    }
    const verdict = checkHostKey(knownHosts, query);
    switch (verdict.status) {
      case 'known':
        return;
      case 'revoked':
        throw new ConnectionError(
          'host-key',
          this.host,
          `host key ${fingerprint(key)} of ${this.host} (${target.address}:${target.port}) is marked @revoked in ${knownHosts.file} line ${verdict.entry.line}`,
          'the host uses a key that was withdrawn: give it a new host key',
        );
      case 'changed':
        throw changedKeyError(this.host, knownHosts.file, query, verdict.entry);
      case 'unknown':
        if (checking === 'strict') {
          throw new ConnectionError('host-key', this.host, unknownKeyMessage(knownHosts.file, query), unknownKeyHint(knownHosts.file, query));
        }
        return this.acceptNewHostKey(knownHosts.file, query);
    }
  }

  private async acceptNewHostKey(file: string, query: HostKeyQuery): Promise<void> {
    const outcome = await appendHostKey(file, query).catch((error: unknown) => {
      throw new ConnectionError('host-key', this.host, `cannot record the host key of ${this.host} in ${file}: ${(error as Error).message}`, 'make the file writable, or add the key yourself (ssh-keyscan)');
    });
    switch (outcome.status) {
      case 'added':
        this.warn(`added the ${blobKeyType(query.key)} host key ${fingerprint(query.key)} of ${this.host} (${lookupName(query.address, query.port)}) to ${file}`);
        return;
      case 'known': // another connection recorded it meanwhile
        return;
      case 'changed':
      case 'revoked': // another connection recorded a different key meanwhile
        throw changedKeyError(this.host, file, query, outcome.entry);
    }
  }

  /** The methods to try, in order, and notes on methods that could not be used (for the error message). */
  private async authAttempts(): Promise<{ attempts: AuthAttempt[]; notes: string[] }> {
    const { target, env } = this;
    const username = target.user;
    const attempts: AuthAttempt[] = [];
    const notes: string[] = [];
    const passphrase = this.options.passphraseEnv ? env[this.options.passphraseEnv] : undefined;
    const agent = env.SSH_AUTH_SOCK;

    const addKey = async (path: string, explicit: boolean) => {
      let data: Buffer;
      try {
        data = await readFile(path);
      } catch (error) {
        if (!explicit) return; // default identities are optional
        throw new ConnectionError('auth', this.host, `cannot read the private key ${path} of ${this.host}: ${(error as Error).message}`, `check \`key\` of ${this.host} in the inventory`);
      }
      const parsed = ssh2.utils.parseKey(data, passphrase);
      const key = Array.isArray(parsed) ? (parsed[0] as ParsedKey | undefined) : parsed;
      if (key === undefined || key instanceof Error) {
        const encrypted = key instanceof Error && /encrypt|passphrase/i.test(key.message);
        notes.push(
          encrypted
            ? `key ${path} is encrypted and ${this.options.passphraseEnv ? `$${this.options.passphraseEnv} does not decrypt it` : 'no passphrase was given'}`
            : `key ${path} cannot be used: ${key instanceof Error ? key.message : 'no key in the file'}`,
        );
        return;
      }
      attempts.push({ label: `publickey ${path}`, serverMethod: 'publickey', method: { type: 'publickey', username, key } });
    };

    if (target.key !== undefined) await addKey(target.key, true);
    if (agent) attempts.push({ label: 'ssh-agent', serverMethod: 'publickey', method: { type: 'agent', username, agent } });
    if (target.key === undefined) {
      for (const name of DEFAULT_IDENTITIES) await addKey(join(this.home(), '.ssh', name), false);
    }
    if (target.passwordEnv !== undefined) {
      const password = env[target.passwordEnv];
      if (password === undefined || password === '') {
        notes.push(`passwordEnv names $${target.passwordEnv}, which is not set`);
      } else {
        attempts.push({ label: 'password', serverMethod: 'password', method: { type: 'password', username, password } });
        // Servers that leave passwords to PAM accept them only as keyboard-interactive.
        attempts.push({
          label: 'keyboard-interactive',
          serverMethod: 'keyboard-interactive',
          method: {
            type: 'keyboard-interactive',
            username,
            prompt: (_name, _instructions, _lang, prompts, finish) => finish(prompts.map(() => password)),
          },
        });
      }
    }
    if (attempts.length === 0) {
      throw new ConnectionError(
        'auth',
        this.host,
        `no way to log in to ${this.host} as ${username}${notes.length ? `: ${notes.join('; ')}` : ''}`,
        'set `key` (a private key file) or `passwordEnv` for the host in the inventory, or run an ssh-agent (SSH_AUTH_SOCK)',
      );
    }
    return { attempts, notes };
  }

  /**
   * A TCP connection to the target made by its jump host (which may be behind a jump host too),
   * within the connect deadline. The lease on the jump host's connection is kept until close().
   */
  private async tunnel(jump: string, deadline: number): Promise<Duplex> {
    const { target } = this;
    const jumpHosts = this.options.jumpHosts;
    if (!jumpHosts) throw new Error(`${this.host} names the jump host ${jump}, but its connector was given no jumpHosts`);
    try {
      this.jumpLease ??= jumpHosts.lease(jump, this.host);
      return await this.jumpLease.forward(target.address, target.port, Math.max(1000, deadline - Date.now()));
    } catch (error) {
      if (!(error instanceof ConnectionError)) throw error;
      throw new ConnectionError(error.kind, this.host, `cannot reach ${this.host} through its jump host ${jump}: ${error.message}`, error.hint);
    }
  }

  private connectError(
    error: ErrorWithLevel,
    hostKeyFailure: ConnectionError | undefined,
    serverAlgorithms: ServerAlgorithms,
    auth: { tried: string[]; serverMethods: string[] | undefined; notes: string[] },
  ): ConnectionError {
    const { target } = this;
    const where = `${this.host} (${target.address}:${target.port})`;
    if (hostKeyFailure) return hostKeyFailure;
    const negotiation = error.level === 'handshake' ? serverAlgorithms.explain(error, this.host, target.ssh.legacy) : undefined;
    if (negotiation) {
      return new ConnectionError('unreachable', this.host, `SSH connection to ${where} failed: ${negotiation.message}`, negotiation.hint);
    }
    const network = error.code !== undefined ? NETWORK_ERRORS[error.code] : undefined;
    if (network) {
      return new ConnectionError(
        'unreachable',
        this.host,
        `cannot reach ${where}: ${network}`,
        `check that the host is up, that sshd listens on port ${target.port} and that no firewall blocks it`,
      );
    }
    if (error.level === 'client-timeout') {
      return new ConnectionError(
        'unreachable',
        this.host,
        `no SSH session with ${where} within ${target.ssh.connectTimeout}s`,
        'check that the host is up and that the address and port are right; raise ssh.connectTimeout for slow links',
      );
    }
    if (error.level === 'client-authentication') {
      const tried = auth.tried.length ? auth.tried.join(', ') : 'nothing the server accepts';
      const accepts = auth.serverMethods ? `; the server accepts ${auth.serverMethods.join(', ')}` : '';
      const notes = auth.notes.length ? `; ${auth.notes.join('; ')}` : '';
      return new ConnectionError(
        'auth',
        this.host,
        `login to ${where} as ${target.user} failed: tried ${tried}${accepts}${notes}`,
        `add the public key to ~${target.user}/.ssh/authorized_keys on the host (ssh-copy-id), or check \`key\`/\`passwordEnv\` of ${this.host} in the inventory`,
      );
    }
    return new ConnectionError(
      'unreachable',
      this.host,
      `SSH connection to ${where} failed: ${error.message}`,
      'check the sshd log on the host',
    );
  }
}

function changedKeyError(host: string, file: string, query: HostKeyQuery, entry: KnownHostEntry): ConnectionError {
  return new ConnectionError(
    'host-key',
    host,
    changedKeyMessage(file, query, entry),
    'if nobody reinstalled the host or changed its keys, do not connect: someone may be intercepting the connection',
  );
}

/** Ends the connection, waiting (bounded) for the server to acknowledge. */
function endConnection(client: Client): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      client.destroy();
      resolve();
    }, CLOSE_TIMEOUT_MS);
    client.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    client.end();
  });
}

function channelProcess(channel: ClientChannel, release: () => void): StartedProcess {
  let exit: ProcessExit | undefined;
  const exited = new Promise<ProcessExit>((resolve) => {
    channel.on('exit', (code: number | null, signalName?: string) => {
      exit = typeof code === 'number' ? { code } : signalName ? { signal: signalName } : { lost: 'the command ended without an exit status' };
      resolve(exit);
    });
    channel.once('close', () => {
      release();
      resolve(exit ?? { lost: 'the channel closed before the command exited' });
    });
  });
  return { stdin: channel, stdout: channel, stderr: channel.stderr, exited, close: () => channel.close() };
}
