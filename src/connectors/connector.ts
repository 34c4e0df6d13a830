// How the runner reaches a host: one Connector per host runs POSIX sh scripts there and moves files.
// The runner only sees this interface; local.ts, ssh.ts, docker.ts and vagrant.ts implement it
// (index.ts picks one).
import type { Duplex } from 'node:stream';
import { UserError } from '../core/errors.ts';
import type { LegacyProfile } from './ssh-algorithms.ts';

export interface RunOptions {
  /** kill the command (its whole process group) after this long and reject with kind 'timeout'; 0 = no limit; default: the target's ssh.commandTimeout */
  timeoutMs?: number;
  /** abort: kill the command like a timeout, then reject with the signal's reason */
  signal?: AbortSignal;
  /** streamed stdout (for -v and for lock handshakes), decoded as UTF-8 */
  onStdout?(chunk: string): void;
  /** stdin gets EOF only when this settles (used to hold a lock for a run) */
  keepStdinOpenUntil?: Promise<void>;
}

export interface RunResult {
  stdout: string;
  stderr: string;
  /** the script's exit status; 128 + N when signal N killed it (as sh reports it) */
  exitCode: number;
}

export interface Connector {
  /** inventory host name (for messages) */
  readonly host: string;
  /** opens the connection; idempotent (later calls share the first attempt) */
  connect(): Promise<void>;
  /**
   * Runs `script` with a POSIX shell on the target: the script is written to the shell's stdin
   * (`sh -s`), never passed as an argument (no ARG_MAX limit, nothing in `ps`). With become/sudo it
   * runs as root. A non-zero exit status is a result, not an error; errors are ConnectionErrors.
   * Because the shell reads the script from stdin, a command in it that reads stdin consumes what
   * follows; wrap the script in a function (`main() { ...; }; main`) when that matters.
   */
  run(script: string, options?: RunOptions): Promise<RunResult>;
  /** writes a file atomically (temp file in the same directory + rename); mode defaults to 0644 */
  put(path: string, data: Buffer | string, mode?: number): Promise<void>;
  get(path: string): Promise<Buffer>;
  /** closes the connection; waits for commands being killed after a timeout */
  close(): Promise<void>;
}

/**
 * The connection settings a connector needs: the same shape as the inventory's host (a subset of
 * it), declared here so the connectors do not depend on the inventory module.
 */
export interface ConnectionTarget {
  /** inventory name, for messages */
  name: string;
  /** a host name or IP address; for transport docker, the container's name or id */
  address: string;
  port: number;
  user: string;
  /** path of the private key file */
  key?: string;
  /** name of the environment variable holding the ssh password */
  passwordEnv?: string;
  transport: 'local' | 'ssh' | 'docker' | 'vagrant';
  /** transport docker: where the Docker engine listens */
  docker?: {
    /** unix:///path/to/docker.sock or tcp://host:port; default $DOCKER_HOST, else unix:///var/run/docker.sock */
    host?: string;
  };
  /** transport vagrant: which machine of which Vagrantfile (`vagrant ssh-config` says how to reach it) */
  vagrant?: {
    /** the directory of the Vagrantfile (absolute) */
    dir: string;
    /** the machine's name in the Vagrantfile */
    machine: string;
  };
  ssh: {
    hostKeyChecking: 'strict' | 'accept-new' | 'off';
    /** default ~/.ssh/known_hosts */
    knownHosts?: string;
    /** seconds */
    connectTimeout: number;
    /** seconds; 0 = no limit */
    commandTimeout: number;
    /** also offer the algorithms of an old sshd (see ssh-algorithms.ts) */
    legacy?: LegacyProfile;
    /** the name of the host to connect through (ProxyJump); ConnectorOptions.jumpHosts finds it */
    jump?: string;
  };
  become?: {
    sudo: boolean;
    /** name of the environment variable holding the sudo password */
    passwordEnv?: string;
  };
}

/** Settings that come from the environment of this run rather than from the inventory. */
export interface ConnectorOptions {
  /** where environment variables named by the target (passwordEnv, ...) are read; default process.env */
  env?: NodeJS.ProcessEnv;
  /** name of the environment variable holding the private key's passphrase */
  passphraseEnv?: string;
  /** the POSIX shell that runs scripts on the target; default /bin/sh */
  shell?: string;
  /** non-fatal notices: host key checking is off, a host key was added to known_hosts */
  onWarning?(message: string): void;
  /**
   * Reaches the jump hosts that targets name in ssh.jump. Share one between the connectors of a run:
   * every host behind a jump host then uses one connection to it (see jump-hosts.ts).
   */
  jumpHosts?: JumpHostProvider;
}

/** The jump hosts of a run, by inventory name. */
export interface JumpHostProvider {
  /**
   * A claim on the connection to the jump host `name`, for the connector of `forHost`. Throws a
   * ConnectionError when `name` is unknown or the jump hosts loop.
   */
  lease(name: string, forHost: string): JumpHostLease;
}

export interface JumpHostLease {
  /**
   * A TCP connection from the jump host to address:port, through its ssh connection (connected
   * first if needed): what `ssh -J` does. Rejects with a ConnectionError after timeoutMs.
   */
  forward(address: string, port: number, timeoutMs: number): Promise<Duplex>;
  /** gives the claim up; the connection to the jump host closes when nobody needs it any more */
  release(): Promise<void>;
}

export type ConnectionErrorKind = 'unreachable' | 'auth' | 'host-key' | 'timeout' | 'sudo';

/** The host could not be used: which way (kind), on which host, and what to do (hint). */
export class ConnectionError extends UserError {
  override name = 'ConnectionError';
  constructor(
    readonly kind: ConnectionErrorKind,
    readonly host: string,
    message: string,
    hint?: string,
  ) {
    super(message, { host }, hint);
  }
}
