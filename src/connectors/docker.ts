// The docker transport (dockerode): the host is a running container, reached through the Docker
// engine's API instead of sshd. Commands are execs (`sh -c` with the launch of launch.ts, stdin and
// output over the hijacked connection), so timeouts, aborts and become behave as over ssh; files
// move through the archive API (a tar built and read in memory, tar.ts).
//
// Differences from ssh, because the engine is root-equivalent anyway: become needs no sudo (the
// exec simply runs as root, user 0), and files move through the archive API, which reads and
// writes as root. So as another user (no become), put and get go through the shell as that
// user instead, as over ssh, and that user's permissions hold.
import { randomBytes } from 'node:crypto';
import { posix } from 'node:path';
import { PassThrough, Writable, type Duplex } from 'node:stream';
import Docker from 'dockerode';
import { UserError } from '../core/errors.ts';
import { quote } from '../core/shell.ts';
import { ConnectionError, type ConnectionTarget, type ConnectorOptions } from './connector.ts';
import type { ProcessExit, StartedProcess } from './execution.ts';
import { ShellConnector } from './shell-connector.ts';
import { readTar, tarFile } from './tar.ts';

export const DEFAULT_DOCKER_HOST = 'unix:///var/run/docker.sock';
/** How often a running exec is asked whether it ended: quickly at first, then at most this often. */
const EXIT_POLL_FIRST_MS = 25;
const EXIT_POLL_MAX_MS = 500;
/** How Docker words an exec that could not start, written where the command's output would be. */
const DOCKER_START_FAILURE = /^(OCI runtime exec failed|unable to find (user|group)|exec failed)/;
const MAX_FIRST_LINE = 64 * 1024;
/** The kernel's limit on symbolic links followed in one lookup (ELOOP). */
const MAX_SYMLINKS = 40;

/** Where the Docker engine listens, as dockerode takes it, and as messages show it. */
export interface DockerEndpoint {
  options: Docker.DockerOptions;
  label: string;
}

/**
 * The engine address of a host: its docker.host setting, else $DOCKER_HOST, else the default
 * socket. unix:///path and tcp://host:port (plain HTTP, as the docker CLI without TLS variables).
 */
export function dockerEndpoint(setting: string | undefined, env: NodeJS.ProcessEnv, host: string): DockerEndpoint {
  const fromEnv = setting === undefined && env.DOCKER_HOST !== undefined && env.DOCKER_HOST !== '';
  const value = setting ?? (fromEnv ? (env.DOCKER_HOST as string) : DEFAULT_DOCKER_HOST);
  const unix = /^unix:\/\/(\/.+)$/.exec(value);
  if (unix?.[1] !== undefined) return { options: { socketPath: unix[1] }, label: value };
  const tcp = /^tcp:\/\/(\[[0-9a-fA-F:.]+\]|[^:/\s]+):(\d{1,5})\/?$/.exec(value);
  if (tcp?.[1] !== undefined && tcp[2] !== undefined && Number(tcp[2]) >= 1 && Number(tcp[2]) <= 65535) {
    return { options: { host: tcp[1].replace(/^\[|\]$/g, ''), port: Number(tcp[2]), protocol: 'http' }, label: value };
  }
  throw new UserError(
    `${fromEnv ? '$DOCKER_HOST' : `docker.host of ${host}`} is ${JSON.stringify(value)}, which is not a Docker engine address provision can use`,
    { host },
    'give unix:///path/to/docker.sock or tcp://HOST:PORT',
  );
}

interface FoundContainer {
  id: string;
  name: string;
}

type DockerApiError = Error & { statusCode?: number; json?: { message?: string } | null; code?: string };

export class DockerConnector extends ShellConnector {
  private readonly endpoint: DockerEndpoint;
  private readonly engine: Docker;
  private container: Promise<FoundContainer> | undefined;

  constructor(target: ConnectionTarget, options: ConnectorOptions = {}) {
    super(target, options);
    this.endpoint = dockerEndpoint(target.docker?.host, this.env, target.name);
    this.engine = new Docker(this.endpoint.options);
  }

  /** Finds the container (by name or id) and checks that it runs. */
  connect(): Promise<void> {
    return this.found().then(() => undefined);
  }

  async close(): Promise<void> {
    await this.killer.idle();
    // Nothing stays open between requests; a later call looks the container up again.
    this.container = undefined;
  }

  protected startsAsRoot(): boolean {
    return this.execUser() === '0';
  }

  protected async startProcess(command: string): Promise<StartedProcess> {
    const { id } = await this.found();
    let exec: Docker.Exec;
    let socket: Duplex;
    try {
      exec = await this.engine.getContainer(id).exec({
        Cmd: [this.shell, '-c', command],
        User: this.execUser(),
        AttachStdin: true,
        AttachStdout: true,
        AttachStderr: true,
        Tty: false,
      });
      socket = (await exec.start({ hijack: true, stdin: true })) as Duplex;
    } catch (error) {
      throw this.engineError(error, `cannot start a command in ${this.describe()}`);
    }
    return execProcess(this.engine, exec, socket, this.host);
  }

  override async put(path: string, data: Buffer | string, mode = 0o644): Promise<void> {
    if (!this.startsAsRoot()) return super.put(path, data, mode);
    checkRemotePath(path);
    if (!Number.isInteger(mode) || mode < 0 || mode > 0o7777) throw new Error(`invalid file mode ${mode}`);
    const { id } = await this.found();
    const dir = posix.dirname(path);
    // Like launch.ts's putBody: a temp file in the same directory (rename is atomic only within a
    // file system), renamed over the file once it is complete; removed if the rename fails.
    const temp = posix.join(dir, `.${posix.basename(path)}.provision-${randomBytes(8).toString('hex')}`);
    const archive = tarFile({ name: posix.basename(temp), data: Buffer.from(data), mode, uid: 0, gid: 0, mtime: Date.now() / 1000 });
    try {
      await this.engine.getContainer(id).putArchive(archive, { path: dir, ...this.requestSignal() });
    } catch (error) {
      throw this.fileTransferError(`cannot write ${path}`, error, dir);
    }
    const finish = `if mv -f ${quote(temp)} ${quote(path)}; then exit 0; fi\nrm -f ${quote(temp)}\nexit 1`;
    const result = await this.execute(finish, '', { timeoutMs: this.defaultTimeoutMs() });
    if (result.exitCode !== 0) throw this.fileError(`cannot write ${path}`, result);
  }

  /** The file's content; symbolic links are followed, as `cat` follows them over ssh. */
  override async get(path: string): Promise<Buffer> {
    if (!this.startsAsRoot()) return super.get(path);
    checkRemotePath(path);
    const { id } = await this.found();
    let current = path;
    for (let links = 0; links <= MAX_SYMLINKS; links++) {
      let archive: Buffer;
      try {
        const stream = await this.engine.getContainer(id).getArchive({ path: current, ...this.requestSignal() });
        archive = await collect(stream);
      } catch (error) {
        throw this.fileTransferError(`cannot read ${path}`, error, current);
      }
      const [entry] = readTar(archive);
      if (entry === undefined) throw new UserError(`cannot read ${path}: the Docker engine sent an empty archive`, { host: this.host });
      switch (entry.type) {
        case 'file':
          return entry.data;
        case 'symlink':
          current = posix.resolve(posix.dirname(current), entry.linkName);
          continue;
        case 'directory':
          throw new UserError(`cannot read ${path}: it is a directory`, { host: this.host });
        default:
          throw new UserError(`cannot read ${path}: it is not a regular file`, { host: this.host });
      }
    }
    throw new UserError(`cannot read ${path}: too many levels of symbolic links`, { host: this.host });
  }

  /** Docker's user for the exec: root as 0, so containers without an /etc/passwd work too. */
  private execUser(): string {
    return this.target.become !== undefined || this.target.user === 'root' ? '0' : this.target.user;
  }

  /** The container, looked up on first use; a failed lookup is tried again by the next call. */
  private found(): Promise<FoundContainer> {
    this.container ??= this.findContainer().catch((error: unknown) => {
      this.container = undefined;
      throw error;
    });
    return this.container;
  }

  private async findContainer(): Promise<FoundContainer> {
    const { address } = this.target;
    let info: Docker.ContainerInspectInfo;
    try {
      info = await this.engine.getContainer(address).inspect({ abortSignal: AbortSignal.timeout(this.target.ssh.connectTimeout * 1000) });
    } catch (error) {
      if ((error as DockerApiError).statusCode === 404) {
        throw new ConnectionError(
          'unreachable',
          this.host,
          `the Docker engine at ${this.endpoint.label} has no container ${address} (the address of ${this.host})`,
          `check the address of ${this.host} (a container name or id; \`docker ps -a\` lists them) and docker.host`,
        );
      }
      throw this.engineError(error, `cannot look up container ${address} of ${this.host}`, this.target.ssh.connectTimeout);
    }
    const name = info.Name.replace(/^\//, '');
    if (!info.State.Running || info.State.Paused || info.State.Restarting) {
      const state = info.State.Paused ? 'paused' : info.State.Restarting ? 'restarting' : info.State.Status;
      throw new ConnectionError(
        'unreachable',
        this.host,
        `container ${name} (${this.host}) is not running: it is ${state}`,
        info.State.Paused ? `unpause it: docker unpause ${name}` : `start it: docker start ${name}`,
      );
    }
    return { id: info.Id, name };
  }

  /** Bounds one archive request by the command timeout (0: no limit). */
  private requestSignal(): { abortSignal?: AbortSignal } {
    const ms = this.defaultTimeoutMs();
    return ms > 0 ? { abortSignal: AbortSignal.timeout(ms) } : {};
  }

  private describe(): string {
    return `container ${this.target.address} (${this.host})`;
  }

  /** What failed talking to the engine: unreachable, timed out, or what the engine said. */
  private engineError(error: unknown, doing: string, timeoutSeconds = this.target.ssh.commandTimeout): ConnectionError {
    const e = error as DockerApiError;
    if (e.name === 'TimeoutError' || e.name === 'AbortError') {
      return new ConnectionError('timeout', this.host, `${doing}: the Docker engine at ${this.endpoint.label} did not answer within ${timeoutSeconds}s`, 'check that dockerd is healthy (docker info)');
    }
    if (e.code === 'ENOENT' || e.code === 'ECONNREFUSED' || e.code === 'EACCES' || e.code === 'ECONNRESET' || e.code === 'EHOSTUNREACH') {
      const reason = e.code === 'ENOENT' ? 'no such socket' : e.code === 'EACCES' ? 'permission denied' : e.code === 'ECONNREFUSED' ? 'connection refused' : e.message;
      return new ConnectionError(
        'unreachable',
        this.host,
        `${doing}: cannot reach the Docker engine at ${this.endpoint.label}: ${reason}`,
        e.code === 'EACCES'
          ? 'run provision as root or as a member of the docker group'
          : `check that dockerd runs and listens there; set docker.host of ${this.host} or DOCKER_HOST to its address`,
      );
    }
    // 409: the container stopped (or was paused) after it was found.
    const hint = e.statusCode === 409 ? `start it (docker start ${this.target.address}), then run again` : `check ${this.describe()}: \`docker inspect ${this.target.address}\``;
    return new ConnectionError('unreachable', this.host, `${doing}: ${engineMessage(e)}`, hint);
  }

  /** A failed archive request: the engine's answer is about the file, unless the container is gone or the engine did not answer. */
  private fileTransferError(what: string, error: unknown, path: string): Error {
    const e = error as DockerApiError;
    if (e.statusCode === undefined) return this.engineError(error, what);
    const message = engineMessage(e);
    if (e.statusCode === 404 && /no such container/i.test(message)) {
      return new ConnectionError('unreachable', this.host, `${what}: ${this.describe()} no longer exists`, 'was it removed during the run? Create it again, then run again');
    }
    if (e.statusCode === 404) return new UserError(`${what}: ${path} does not exist`, { host: this.host });
    if (/too many links/i.test(message)) return new UserError(`${what}: too many levels of symbolic links`, { host: this.host });
    // The engine names paths as it sees them, under the container's root in its data directory.
    return new UserError(`${what}: ${message.replace(/\S*\/merged(?=\/)/g, '')}`, { host: this.host });
  }

}

function checkRemotePath(path: string): void {
  if (!posix.isAbsolute(path)) throw new Error(`a remote path must be absolute: ${path}`);
}

/** The engine's own words (its JSON "message"), else dockerode's message. */
function engineMessage(error: DockerApiError): string {
  return (error.json?.message ?? error.message).trim();
}

function collect(stream: NodeJS.ReadableStream): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.once('error', reject);
    stream.once('end', () => resolve(Buffer.concat(chunks)));
  });
}

/**
 * An exec as a StartedProcess. The output arrives multiplexed on the hijacked connection (Tty is
 * off); the exit status comes from inspecting the exec, because the connection stays open while
 * a background process holds the output open, after the command itself exited.
 */
function execProcess(engine: Docker, exec: Docker.Exec, socket: Duplex, host: string): StartedProcess {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  // Docker reports an exec it could not start (unknown user, no such shell) on the output stream,
  // where the launch's ready line comes first otherwise: sent to stderr, it reaches the error
  // message (execution.ts reports a command that never announced itself with its stderr).
  let firstLine: Buffer | undefined = Buffer.alloc(0);
  const settleFirstLine = () => {
    if (firstLine === undefined) return;
    (DOCKER_START_FAILURE.test(firstLine.toString('latin1')) ? stderr : stdout).write(firstLine);
    firstLine = undefined;
  };
  const stdoutSink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      if (firstLine === undefined) {
        stdout.write(chunk);
      } else {
        firstLine = Buffer.concat([firstLine, chunk]);
        if (firstLine.includes(0x0a) || firstLine.length > MAX_FIRST_LINE) settleFirstLine();
      }
      done();
    },
  });
  engine.modem.demuxStream(socket, stdoutSink, stderr);
  let socketEnded = false;
  let wakeUp: (() => void) | undefined;
  const onSocketEnd = () => {
    if (socketEnded) return;
    socketEnded = true;
    settleFirstLine();
    stdout.end();
    stderr.end();
    wakeUp?.();
  };
  socket.once('end', onSocketEnd);
  socket.once('close', onSocketEnd);
  // A reset connection ends the output; the exit status (or its absence) says what happened.
  socket.on('error', () => onSocketEnd());

  let closed = false;
  const exited = (async (): Promise<ProcessExit> => {
    let delay = EXIT_POLL_FIRST_MS;
    // Bounded by the process: it exits, or execution.ts kills it (timeout, abort) and calls close().
    while (!closed) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, socketEnded ? EXIT_POLL_FIRST_MS : delay);
        wakeUp = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wakeUp = undefined;
      let info: Docker.ExecInspectInfo;
      try {
        info = await exec.inspect();
      } catch (error) {
        return { lost: `the Docker engine did not report on the command in ${host}: ${engineMessage(error as DockerApiError)}` };
      }
      if (!info.Running) {
        return typeof info.ExitCode === 'number' ? { code: info.ExitCode } : { lost: 'the command ended without an exit status' };
      }
      delay = Math.min(delay * 2, EXIT_POLL_MAX_MS);
    }
    return { lost: 'the command was stopped' };
  })();

  return {
    stdin: socket,
    stdout,
    stderr,
    exited,
    close: () => {
      closed = true;
      wakeUp?.();
      socket.destroy();
      onSocketEnd();
    },
  };
}
