// What the ssh, local and docker connectors share: run/put/get are shell commands started through
// the same launch (launch.ts) and supervised the same way (execution.ts); a transport only says
// how to start a process and whether it already runs as root (docker moves files its own way).
//
// sudo with `Defaults requiretty` (EL5-7 ship it) refuses to run without a terminal. The first
// command that meets it fails before anything ran; it runs again on a pty, and so does every later
// command of the connector (transports that can allocate one: ssh). Output is the same on a pty,
// except that stderr arrives when the command ends (launch.ts says why).
import { UserError } from '../core/errors.ts';
import {
  ConnectionError,
  type ConnectionTarget,
  type Connector,
  type ConnectorOptions,
  type RunOptions,
  type RunResult,
} from './connector.ts';
import {
  execute,
  ProcessGroupKiller,
  SudoNeedsTerminalError,
  type Executed,
  type ExecuteRequest,
  type ProcessStarter,
  type StartedProcess,
} from './execution.ts';
import { buildLaunch, getBody, killBody, putBody, scriptBody, type Privilege, type TerminalStdin } from './launch.ts';

/** A kill after a timeout gets this long before it is abandoned. */
const KILL_TIMEOUT_MS = 10_000;

type CommandRequest = Omit<ExecuteRequest, 'launch' | 'payload'>;

export abstract class ShellConnector implements Connector {
  readonly host: string;
  protected readonly env: NodeJS.ProcessEnv;
  /** the POSIX shell on the target */
  protected readonly shell: string;
  protected readonly killer: ProcessGroupKiller;
  /** set once sudo asked for a terminal: every later command runs on one */
  private onTerminal = false;

  constructor(
    protected readonly target: ConnectionTarget,
    protected readonly options: ConnectorOptions = {},
  ) {
    this.host = target.name;
    this.env = options.env ?? process.env;
    this.shell = options.shell ?? '/bin/sh';
    this.killer = new ProcessGroupKiller(
      (pgids) => this.killProcessGroups(pgids),
      (error, pgids) =>
        this.warn(`could not kill the timed-out command on ${this.host} (process group ${pgids.join(', ')}): ${(error as Error).message}`),
    );
  }

  abstract connect(): Promise<void>;
  abstract close(): Promise<void>;
  /** whether commands start as root already (then become needs no sudo) */
  protected abstract startsAsRoot(): boolean;
  /** starts `command` with the target's login shell (ssh) or `sh -c` (local); on a pty when `terminal` */
  protected abstract startProcess(command: string, purpose: 'command' | 'kill', terminal: boolean): Promise<StartedProcess>;

  /** whether startProcess can run a command on a terminal (for sudo's requiretty) */
  protected supportsTerminal(): boolean {
    return false;
  }

  async run(script: string, options: RunOptions = {}): Promise<RunResult> {
    const result = await this.execute(scriptBody(this.shell), script, {
      timeoutMs: options.timeoutMs ?? this.defaultTimeoutMs(),
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.onStdout ? { onStdout: options.onStdout } : {}),
      ...(options.keepStdinOpenUntil ? { keepStdinOpenUntil: options.keepStdinOpenUntil } : {}),
    });
    return { stdout: result.stdout.toString('utf8'), stderr: result.stderr.toString('utf8'), exitCode: result.exitCode };
  }

  async put(path: string, data: Buffer | string, mode = 0o644): Promise<void> {
    const result = await this.execute(putBody(path, mode), data, { timeoutMs: this.defaultTimeoutMs() });
    if (result.exitCode !== 0) throw this.fileError(`cannot write ${path}`, result);
  }

  async get(path: string): Promise<Buffer> {
    const result = await this.execute(getBody(path), '', { timeoutMs: this.defaultTimeoutMs() });
    if (result.exitCode !== 0) throw this.fileError(`cannot read ${path}`, result);
    return result.stdout;
  }

  protected async execute(body: string, payload: Buffer | string, request: CommandRequest): Promise<Executed> {
    await this.connect();
    try {
      return await this.executeOnce(body, payload, request);
    } catch (error) {
      if (!(error instanceof SudoNeedsTerminalError) || this.onTerminal || !this.supportsTerminal()) throw error;
      // sudo refused before anything ran as root: run the command again, on a terminal.
      this.onTerminal = true;
      return this.executeOnce(body, payload, request);
    }
  }

  private executeOnce(body: string, payload: Buffer | string, request: CommandRequest): Promise<Executed> {
    const launch = buildLaunch(body, this.privilege(), this.shell, this.terminalStdin(payload, request.keepStdinOpenUntil !== undefined));
    return execute(this.starter('command'), { launch, payload, ...request });
  }

  /** Kills process groups as the user (and through the sudo) the commands ran as. */
  protected async killProcessGroups(pgids: number[]): Promise<void> {
    const launch = buildLaunch(killBody(pgids), this.privilege(), this.shell, this.terminalStdin('', false));
    await execute(this.starter('kill'), { launch, payload: '', timeoutMs: KILL_TIMEOUT_MS });
  }

  private terminalStdin(payload: Buffer | string, keepOpen: boolean): TerminalStdin | undefined {
    return this.onTerminal ? { payloadBytes: Buffer.byteLength(payload), keepOpen } : undefined;
  }

  protected warn(message: string): void {
    this.options.onWarning?.(message);
  }

  private starter(purpose: 'command' | 'kill'): ProcessStarter {
    const passwordEnv = this.target.become?.passwordEnv;
    return {
      host: this.host,
      user: this.target.user,
      ...(this.needsSudo() ? { sudo: passwordEnv !== undefined ? { passwordEnv } : {} } : {}),
      start: (command, { terminal }) => this.startProcess(command, purpose, terminal),
      // A kill that times out is abandoned rather than killed in turn.
      ...(purpose === 'command' ? { killProcessGroup: (pgid: number) => this.killer.kill(pgid) } : {}),
    };
  }

  protected defaultTimeoutMs(): number {
    return this.target.ssh.commandTimeout * 1000;
  }

  protected needsSudo(): boolean {
    return this.target.become?.sudo === true && !this.startsAsRoot();
  }

  private privilege(): Privilege {
    if (!this.needsSudo()) return { sudo: false };
    const passwordEnv = this.target.become?.passwordEnv;
    if (passwordEnv === undefined) return { sudo: true };
    const password = this.env[passwordEnv];
    if (password === undefined || password === '') {
      throw new ConnectionError(
        'sudo',
        this.host,
        `become.passwordEnv of ${this.host} names $${passwordEnv}, which is not set`,
        `export ${passwordEnv} with the sudo password of ${this.target.user} before running`,
      );
    }
    return { sudo: true, password };
  }

  protected fileError(what: string, result: Executed): UserError {
    const said = result.stderr.toString('utf8').trim().split('\n').slice(-3).join(' / ');
    return new UserError(`${what} (exit status ${result.exitCode})${said ? `: ${said}` : ''}`, { host: this.host });
  }
}
