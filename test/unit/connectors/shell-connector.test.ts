// How a connector meets sudo's requiretty: the command that sudo refused runs again on a terminal,
// as does every later one, on transports that can give one; the others fail saying what to change.
// Driven by a connector whose processes are fakes that act like sudo under requiretty.
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ConnectionError, type ConnectionTarget } from '../../../src/connectors/connector.ts';
import type { ProcessExit, StartedProcess } from '../../../src/connectors/execution.ts';
import { ShellConnector } from '../../../src/connectors/shell-connector.ts';

const target: ConnectionTarget = {
  name: 'el5-box',
  address: '192.0.2.5',
  port: 22,
  user: 'deploy',
  transport: 'ssh',
  become: { sudo: true },
  ssh: { hostKeyChecking: 'strict', connectTimeout: 5, commandTimeout: 60 },
};

/** Every process acts like sudo with requiretty: it refuses without a terminal, and runs on one. */
class RequirettyConnector extends ShellConnector {
  readonly starts: boolean[] = [];

  constructor(private readonly terminals: boolean) {
    super(target, { env: {} });
  }

  connect(): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  protected startsAsRoot(): boolean {
    return false;
  }

  protected override supportsTerminal(): boolean {
    return this.terminals;
  }

  protected startProcess(command: string, _purpose: 'command' | 'kill', terminal: boolean): Promise<StartedProcess> {
    this.starts.push(terminal);
    const stdin = new PassThrough();
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let exit!: (result: ProcessExit) => void;
    const exited = new Promise<ProcessExit>((resolve) => (exit = resolve));
    setImmediate(() => {
      if (terminal) {
        const ready = /provision-ready-[0-9a-f]+/.exec(command)![0];
        const stderrMarker = /provision-stderr-[0-9a-f]+/.exec(command)![0];
        // As the launch prints it: a newline, then the marker line (stdout need not end with a newline).
        stdout.end(`${ready} 4242\nran as root\n\n${stderrMarker}\n`);
        stderr.end();
        exit({ code: 0 });
      } else {
        stderr.end('sudo: sorry, you must have a tty to run sudo\n');
        stdout.end();
        exit({ code: 1 });
      }
    });
    stdin.resume();
    return Promise.resolve({ stdin, stdout, stderr, exited, close: () => undefined });
  }
}

describe('sudo with requiretty', () => {
  it('runs the refused command again on a terminal, and every later command on one at once', async () => {
    const connector = new RequirettyConnector(true);
    expect(await connector.run('id -u\n')).toEqual({ stdout: 'ran as root\n', stderr: '', exitCode: 0 });
    expect(await connector.run('id -u\n')).toEqual({ stdout: 'ran as root\n', stderr: '', exitCode: 0 });
    expect(connector.starts).toEqual([false, true, true]);
  });

  it('fails with kind sudo and the sudoers line to add where the transport has no terminal', async () => {
    const connector = new RequirettyConnector(false);
    const error = await connector.run('id -u\n').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConnectionError);
    expect((error as ConnectionError).kind).toBe('sudo');
    expect((error as ConnectionError).hint).toContain('Defaults:deploy !requiretty');
    expect(connector.starts).toEqual([false]);
  });
});
