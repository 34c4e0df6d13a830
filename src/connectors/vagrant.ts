// The vagrant transport: a machine of a Vagrantfile, reached over ssh at the address Vagrant
// forwards for it. `vagrant ssh-config MACHINE` (run where the Vagrantfile is) says where that is;
// then the ssh connector does the rest, so everything ssh does (become, timeouts, one shared
// connection) holds for Vagrant machines too.
//
// From the ssh-config come the address, port, user and key, and the host key policy: Vagrant's
// own is "no checking" (StrictHostKeyChecking no, UserKnownHostsFile /dev/null), because a
// machine gets a new host key each time it is recreated and forwarded ports are reused by other
// machines. The inventory's other ssh settings (timeouts) still apply.
import { access, constants } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { ConnectionError, type ConnectionTarget, type Connector, type ConnectorOptions, type RunOptions, type RunResult } from './connector.ts';
import { SshConnector } from './ssh.ts';

/** `vagrant ssh-config` starts Ruby and loads the Vagrantfile: seconds, more on a loaded machine. */
const SSH_CONFIG_TIMEOUT_MS = 120_000;

/** What one `Host` block of an ssh_config(5) text says about connecting. */
export interface SshConfigHost {
  /** the Host line's pattern (Vagrant writes the machine name) */
  host: string;
  hostName?: string;
  user?: string;
  port?: number;
  /** in order; OpenSSH tries them all */
  identityFiles: string[];
  /** StrictHostKeyChecking, lower-cased: yes, no, accept-new, off, ask */
  strictHostKeyChecking?: string;
  userKnownHostsFile?: string;
}

/**
 * Parses the `Host` blocks of ssh_config text, as `vagrant ssh-config` prints it: keywords are
 * case-insensitive, separated from their value by spaces or "=", values may be double-quoted
 * (paths with spaces), and the first value of a keyword wins (ssh_config(5)), except IdentityFile,
 * which accumulates. Keywords before any Host line and unknown keywords are ignored.
 */
export function parseSshConfig(text: string): SshConfigHost[] {
  const hosts: SshConfigHost[] = [];
  let current: SshConfigHost | undefined;
  for (const [index, rawLine] of text.split(/\r?\n/).entries()) {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#')) continue;
    const match = /^(\S+?)(?:\s*=\s*|\s+)(.*)$/.exec(line);
    if (!match) continue; // a keyword without a value
    const keyword = (match[1] ?? '').toLowerCase();
    const value = unquote(match[2] ?? '', index + 1);
    if (keyword === 'host') {
      current = { host: value, identityFiles: [] };
      hosts.push(current);
      continue;
    }
    if (current === undefined) continue;
    switch (keyword) {
      case 'hostname':
        current.hostName ??= value;
        break;
      case 'user':
        current.user ??= value;
        break;
      case 'port': {
        const port = Number(value);
        if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`ssh-config line ${index + 1}: Port ${JSON.stringify(value)} is not a port number`);
        current.port ??= port;
        break;
      }
      case 'identityfile':
        current.identityFiles.push(value);
        break;
      case 'stricthostkeychecking':
        current.strictHostKeyChecking ??= value.toLowerCase();
        break;
      case 'userknownhostsfile':
        // Several files may be listed; the first is the one OpenSSH writes to.
        current.userKnownHostsFile ??= value.split(/\s+/)[0] ?? value;
        break;
    }
  }
  return hosts;
}

function unquote(value: string, line: number): string {
  if (!value.startsWith('"')) return value;
  const end = value.indexOf('"', 1);
  if (end < 0) throw new Error(`ssh-config line ${line}: unterminated quote in ${value}`);
  return value.slice(1, end);
}

/**
 * The ssh connection target for a Vagrant machine, from its ssh-config and the inventory host.
 * `keyExists` says which IdentityFile to use: the first one that exists (ssh2 takes one key).
 */
export function sshTargetFromConfig(target: ConnectionTarget, config: SshConfigHost, keyExists: (path: string) => boolean): ConnectionTarget {
  const key = config.identityFiles.find(keyExists) ?? config.identityFiles[0];
  const strict = config.strictHostKeyChecking;
  const knownHosts = config.userKnownHostsFile !== undefined && config.userKnownHostsFile !== '/dev/null' ? config.userKnownHostsFile : undefined;
  const hostKeyChecking: ConnectionTarget['ssh']['hostKeyChecking'] =
    strict === 'no' || strict === 'off' ? 'off' : strict === 'yes' ? 'strict' : strict === 'accept-new' ? 'accept-new' : target.ssh.hostKeyChecking;
  return {
    ...target,
    transport: 'ssh',
    address: config.hostName ?? config.host,
    port: config.port ?? 22,
    user: config.user ?? target.user,
    ...(key === undefined ? {} : { key }),
    ssh: {
      ...target.ssh,
      hostKeyChecking,
      ...(knownHosts === undefined ? {} : { knownHosts }),
    },
  };
}

export class VagrantConnector implements Connector {
  readonly host: string;
  private readonly env: NodeJS.ProcessEnv;
  private readonly dir: string;
  private readonly machine: string;
  private ssh: Promise<SshConnector> | undefined;

  constructor(
    private readonly target: ConnectionTarget,
    private readonly options: ConnectorOptions = {},
  ) {
    this.host = target.name;
    this.env = options.env ?? process.env;
    this.dir = target.vagrant?.dir ?? process.cwd();
    this.machine = target.vagrant?.machine ?? target.name;
  }

  async connect(): Promise<void> {
    await (await this.connector()).connect();
  }

  async run(script: string, options?: RunOptions): Promise<RunResult> {
    return (await this.connector()).run(script, options);
  }

  async put(path: string, data: Buffer | string, mode?: number): Promise<void> {
    return (await this.connector()).put(path, data, mode);
  }

  async get(path: string): Promise<Buffer> {
    return (await this.connector()).get(path);
  }

  async close(): Promise<void> {
    const ssh = this.ssh;
    this.ssh = undefined;
    await (await ssh?.catch(() => undefined))?.close();
  }

  /** The ssh connector, made once from the machine's ssh-config; a failure is tried again next time. */
  private connector(): Promise<SshConnector> {
    this.ssh ??= this.sshTarget().then(
      (target) => new SshConnector(target, this.options),
      (error: unknown) => {
        this.ssh = undefined;
        throw error;
      },
    );
    return this.ssh;
  }

  private async sshTarget(): Promise<ConnectionTarget> {
    const command = `vagrant ssh-config ${this.machine}`;
    const where = `${command} (in ${this.dir})`;
    const result = await execa('vagrant', ['ssh-config', this.machine], {
      cwd: this.dir,
      env: this.env,
      extendEnv: false,
      stdin: 'ignore',
      reject: false,
      timeout: SSH_CONFIG_TIMEOUT_MS,
    });
    if ((result.cause as NodeJS.ErrnoException | undefined)?.code === 'ENOENT' && result.exitCode === undefined) {
      const missingDir = await access(this.dir, constants.R_OK).then(() => false, () => true);
      throw new ConnectionError(
        'unreachable',
        this.host,
        missingDir ? `the Vagrantfile directory ${this.dir} of ${this.host} does not exist` : `${this.host} is a Vagrant machine, but the vagrant command is not installed`,
        missingDir ? `set vagrant.dir of ${this.host} to the directory of its Vagrantfile` : 'install Vagrant (Debian: apt-get install vagrant), or reach the host with transport: ssh',
      );
    }
    if (result.timedOut) {
      throw new ConnectionError('timeout', this.host, `${where} did not finish within ${SSH_CONFIG_TIMEOUT_MS / 1000}s`, 'check that Vagrant works there (vagrant status)');
    }
    if (result.exitCode !== 0) {
      const said = String(result.stderr || result.stdout).trim().split('\n').map((line) => line.trim()).filter(Boolean).slice(-4).join(' / ');
      throw new ConnectionError(
        'unreachable',
        this.host,
        `${where} failed${said ? `: ${said}` : ` with exit status ${result.exitCode}`}`,
        `bring the machine up (vagrant up ${this.machine} in ${this.dir}); check vagrant.machine and vagrant.dir of ${this.host}`,
      );
    }
    let hosts: SshConfigHost[];
    try {
      hosts = parseSshConfig(String(result.stdout));
    } catch (error) {
      throw new ConnectionError('unreachable', this.host, `${where} printed an ssh-config provision cannot read: ${(error as Error).message}`);
    }
    const config = hosts.find((entry) => entry.host === this.machine) ?? hosts[0];
    if (config?.hostName === undefined) {
      throw new ConnectionError('unreachable', this.host, `${where} printed no HostName for ${this.machine}`, `check that the machine is up: vagrant status ${this.machine}`);
    }
    // ssh expands ~ in IdentityFile; Vagrant prints absolute paths, a hand-made config may not.
    const home = this.env.HOME || homedir();
    const identityFiles = config.identityFiles.map((file) => (file === '~' ? home : file.startsWith('~/') ? join(home, file.slice(2)) : file));
    const existing = new Set<string>();
    for (const file of identityFiles) if (await access(file, constants.R_OK).then(() => true, () => false)) existing.add(file);
    return sshTargetFromConfig(this.target, { ...config, identityFiles }, (file) => existing.has(file));
  }
}
