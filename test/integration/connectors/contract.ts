// What every connector must do, whatever the transport: the same tests run against the local
// connector, the ssh connector on a real sshd (each with dash and with busybox sh), the docker
// connector on a real dockerd and the vagrant connector (ssh-config from a stand-in vagrant).
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConnectionError, type Connector } from '../../../src/connectors/connector.ts';

export interface ContractContext {
  /** a new connector to the test target (the caller closes it after the test) */
  connector(settings?: { commandTimeout?: number }): Connector;
  /** a directory on the target the connector may write to (and this process reads: the same path here) */
  dir(): string;
  /**
   * Whether the process with this pid, as the target's shell prints it ($$, $!), is gone or a
   * zombie; default: the same pid on this machine. A container has pids of its own.
   */
  isDead?(pid: string): boolean;
}

export function connectorContract(ctx: ContractContext): void {
  const targetPidDead = (pid: string) => (ctx.isDead ?? isDead)(pid);
  describe('run', () => {
    it('returns stdout, stderr and the exit status, and streams stdout', async () => {
      const streamed: string[] = [];
      const result = await ctx.connector().run('echo out; echo err >&2; printf "no newline"; exit 3\n', { onStdout: (chunk) => streamed.push(chunk) });
      expect(result).toEqual({ stdout: 'out\nno newline', stderr: 'err\n', exitCode: 3 });
      expect(streamed.join('')).toBe('out\nno newline');
    });

    it('reports a command killed by a signal as 128 + the signal number', async () => {
      expect((await ctx.connector().run('kill -9 $$\n')).exitCode).toBe(137);
    });

    it('keeps multi-byte characters split across chunks intact', async () => {
      const streamed: string[] = [];
      // printf with octal escapes writes "ü" as two separate writes.
      const result = await ctx.connector().run("printf '\\303'; sleep 0.2; printf '\\274\\n'\n", { onStdout: (chunk) => streamed.push(chunk) });
      expect(result.stdout).toBe('ü\n');
      expect(streamed.join('')).toBe('ü\n');
    });

    it('delivers a 5 MB script intact through stdin', async () => {
      const lines: string[] = [];
      for (let size = 0; size < 5 * 1024 * 1024; ) {
        const line = randomBytes(57).toString('base64');
        lines.push(line);
        size += line.length + 1;
      }
      const data = `${lines.join('\n')}\n`;
      const result = await ctx.connector().run(`cat <<'PAYLOAD_END' | sha256sum\n${data}PAYLOAD_END\necho finished\n`);
      expect(result).toMatchObject({ stdout: `${createHash('sha256').update(data).digest('hex')}  -\nfinished\n`, exitCode: 0 });
    });

    it('kills the whole command, children too, when it times out', async () => {
      const pids: string[] = [];
      const started = Date.now();
      const error = await connectionError(
        ctx.connector().run('sleep 100 & echo "pid $!"; sh -c \'echo "pid $$"; exec sleep 100\'\n', {
          timeoutMs: 1500,
          onStdout: (chunk) => pids.push(...[...chunk.matchAll(/pid (\d+)/g)].map((m) => m[1]!)),
        }),
      );
      expect(error.kind).toBe('timeout');
      expect(error.message).toContain('did not finish within 1.5s');
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(pids).toHaveLength(2);
      for (const pid of pids) await until(() => targetPidDead(pid));
    });

    it("uses the target's commandTimeout when the run sets none", async () => {
      const error = await connectionError(ctx.connector({ commandTimeout: 1 }).run('sleep 100\n'));
      expect(error.kind).toBe('timeout');
    });

    it('runs without a time limit when timeoutMs is 0', async () => {
      expect((await ctx.connector({ commandTimeout: 1 }).run('sleep 1.5; echo slow\n', { timeoutMs: 0 })).stdout).toBe('slow\n');
    });

    it('kills the command when aborted and rejects with the abort reason', async () => {
      const controller = new AbortController();
      let pid = '';
      const running = ctx.connector().run('echo "pid $$"; sleep 100\n', {
        signal: controller.signal,
        onStdout: (chunk) => {
          pid ||= /pid (\d+)/.exec(chunk)?.[1] ?? '';
          if (pid) controller.abort(new Error('stop now'));
        },
      });
      await expect(running).rejects.toThrow('stop now');
      await until(() => targetPidDead(pid));
    });

    it('holds stdin open until keepStdinOpenUntil settles', async () => {
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      let waiting = false;
      let settled = false;
      const running = ctx
        .connector()
        .run('echo waiting; read x; echo done\n', { keepStdinOpenUntil: held, onStdout: (chunk) => (waiting ||= chunk.includes('waiting')) })
        .finally(() => (settled = true));
      await until(() => waiting);
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(settled).toBe(false);
      release();
      expect(await running).toMatchObject({ stdout: 'waiting\ndone\n', exitCode: 0 });
    });

    it('returns once the command exited even if a background process keeps its output open', async () => {
      const started = Date.now();
      const result = await ctx.connector().run('sleep 5 & echo left-running\n');
      expect(result).toMatchObject({ stdout: 'left-running\n', exitCode: 0 });
      expect(Date.now() - started).toBeLessThan(4000);
    });
  });

  describe('files', () => {
    it('puts and gets binary data with the given mode, replacing atomically', async () => {
      const c = ctx.connector();
      const folder = join(ctx.dir(), `put-${randomBytes(4).toString('hex')}`);
      await mkdir(folder, { mode: 0o755 });
      const path = join(folder, 'blob.bin');
      const data = Buffer.concat([randomBytes(300_000), Buffer.from([0, 10, 13, 0, 255])]);
      await c.put(path, data, 0o640);
      expect((await stat(path)).mode & 0o7777).toBe(0o640);
      expect((await readFile(path)).equals(data)).toBe(true);
      expect((await c.get(path)).equals(data)).toBe(true);
      await c.put(path, 'second\n');
      expect(await readFile(path, 'utf8')).toBe('second\n');
      expect((await stat(path)).mode & 0o7777).toBe(0o644);
      expect(await readdir(folder)).toEqual(['blob.bin']); // no temp file left behind
    });

    it('reports a missing file or directory with its path, leaving nothing behind', async () => {
      const c = ctx.connector();
      const missing = join(ctx.dir(), 'missing');
      await expect(c.get(missing)).rejects.toThrow(`cannot read ${missing}`);
      await expect(c.put(join(missing, 'file'), 'x')).rejects.toThrow(`cannot write ${join(missing, 'file')}`);
    });

    it('refuses relative paths', async () => {
      await expect(ctx.connector().put('relative/file', 'x')).rejects.toThrow('must be absolute');
    });
  });
}

export async function connectionError(promise: Promise<unknown>): Promise<ConnectionError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ConnectionError);
  return error as ConnectionError;
}

/** Whether the process is gone or a zombie (killed; a container's init may be slow to reap it). */
export function isDead(pid: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').startsWith('Z');
  } catch {
    return true;
  }
}

/** Waits (bounded: 10 s) until `condition` holds. */
export async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 50));
  expect(condition()).toBe(true);
}
