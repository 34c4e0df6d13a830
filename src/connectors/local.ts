// The local transport: the same shell launch as over ssh (launch.ts), started with execa on this
// machine, for the control host itself and for tests. With become and a non-root user it goes
// through sudo exactly like a remote host.
import { execa } from 'execa';
import type { Readable, Writable } from 'node:stream';
import type { ProcessExit, StartedProcess } from './execution.ts';
import { ShellConnector } from './shell-connector.ts';

export class LocalConnector extends ShellConnector {
  connect(): Promise<void> {
    return Promise.resolve();
  }

  async close(): Promise<void> {
    await this.killer.idle();
  }

  protected startsAsRoot(): boolean {
    return process.getuid?.() === 0;
  }

  protected startProcess(command: string): Promise<StartedProcess> {
    // detached: the shell leads a session of its own, so its pid is the process group that a
    // timeout kills, and a Ctrl-C meant for provision does not reach it directly.
    const subprocess = execa(this.shell, ['-c', command], {
      detached: true,
      stdin: 'pipe',
      stdout: 'pipe',
      stderr: 'pipe',
      buffer: false,
      reject: false,
      encoding: 'buffer',
    });
    // With reject: false the promise only settles; the result comes from the events below.
    void subprocess.catch(() => undefined);
    const exited = new Promise<ProcessExit>((resolve) => {
      subprocess.once('exit', (code, signal) => resolve(code !== null ? { code } : { signal: signal ?? 'unknown' }));
      subprocess.once('error', (error) => resolve({ lost: `cannot start ${this.shell}: ${error.message}` }));
    });
    const stdin = subprocess.stdin as Writable;
    const stdout = subprocess.stdout as Readable;
    const stderr = subprocess.stderr as Readable;
    return Promise.resolve({
      stdin,
      stdout,
      stderr,
      exited,
      close: () => {
        stdin.destroy();
        stdout.destroy();
        stderr.destroy();
      },
    });
  }

  protected override async killProcessGroups(pgids: number[]): Promise<void> {
    // Without sudo the command runs as this process's user: signal it directly.
    if (this.needsSudo()) return super.killProcessGroups(pgids);
    for (const pgid of pgids) {
      try {
        process.kill(-pgid, 'SIGKILL');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error; // already gone
      }
    }
  }
}
