// What the ssh and the local connector share: run/put/get are shell commands started through the
// same launch (launch.ts) and supervised the same way (execution.ts); a transport only says how
// to start a process and whether it already runs as root.
import { UserError } from '../core/errors.ts';
import {
  ConnectionError,
  type ConnectionTarget,
  type Connector,
  type ConnectorOptions,
  type RunOptions,
  type RunResult,
} from './connector.ts';
import { execute, ProcessGroupKiller, type Executed, type ExecuteRequest, type ProcessStarter, type StartedProcess } from './execution.ts';
import { buildLaunch, getBody, killBody, putBody, scriptBody, type Privilege } from './launch.ts';

/** A kill after a timeout gets this long before it is abandoned. */
const KILL_TIMEOUT_MS = 10_000;

type CommandRequest = Omit<ExecuteRequest, 'launch' | 'payload'>;

export abstract class ShellConnector implements Connector {
  readonly host: string;
  protected readonly env: NodeJS.ProcessEnv;
  /** the POSIX shell on the target */
  protected readonly shell: string;
  protected readonly killer: ProcessGroupKiller;

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
  /** starts `command` with the target's login shell (ssh) or `sh -c` (local) */
  protected abstract startProcess(command: string, purpose: 'command' | 'kill'): Promise<StartedProcess>;

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
    const launch = buildLaunch(body, this.privilege(), this.shell);
    return execute(this.starter('command'), { launch, payload, ...request });
  }

  /** Kills process groups as the user (and through the sudo) the commands ran as. */
  protected async killProcessGroups(pgids: number[]): Promise<void> {
    const launch = buildLaunch(killBody(pgids), this.privilege(), this.shell);
    await execute(this.starter('kill'), { launch, payload: '', timeoutMs: KILL_TIMEOUT_MS });
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
      start: (command) => this.startProcess(command, purpose),
      // A kill that times out is abandoned rather than killed in turn.
      ...(purpose === 'command' ? { killProcessGroup: (pgid: number) => this.killer.kill(pgid) } : {}),
    };
  }

  private defaultTimeoutMs(): number {
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

  private fileError(what: string, result: Executed): UserError {
    const said = result.stderr.toString('utf8').trim().split('\n').slice(-3).join(' / ');
    return new UserError(`${what} (exit status ${result.exitCode})${said ? `: ${said}` : ''}`, { host: this.host });
  }
}
