// How the runner reaches a host: one Connector per host runs POSIX sh scripts there and moves files.
// The runner only sees this interface; local.ts and ssh.ts implement it (index.ts picks one).
import { UserError } from '../core/errors.ts';

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
  address: string;
  port: number;
  user: string;
  /** path of the private key file */
  key?: string;
  /** name of the environment variable holding the ssh password */
  passwordEnv?: string;
  transport: 'local' | 'ssh';
  ssh: {
    hostKeyChecking: 'strict' | 'accept-new' | 'off';
    /** default ~/.ssh/known_hosts */
    knownHosts?: string;
    /** seconds */
    connectTimeout: number;
    /** seconds; 0 = no limit */
    commandTimeout: number;
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
