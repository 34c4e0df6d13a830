// The guard that keeps a lab container's set-up from rewriting this machine: the set-up runs only
// in a process whose mount, PID, UTS and network namespaces are all its own. Real processes in real
// namespaces (unshare), no docker needed.
import { readFile } from 'node:fs/promises';
import { execa, type ResultPromise } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import { assertOwnNamespaces } from '../../../src/lab/container/container.ts';
import { poll } from '../../../src/lab/wait.ts';

const isRoot = process.getuid?.() === 0;
const started: ResultPromise[] = [];

/** `sleep 60`, run under `unshare` with these options when there are any. */
function sleeper(unshareOptions: string[]): ResultPromise {
  const child = unshareOptions.length === 0 ? execa('sleep', ['60'], { reject: false }) : execa('unshare', [...unshareOptions, 'sleep', '60'], { reject: false });
  started.push(child);
  return child;
}

/** The first child of `pid` (unshare --fork's process in the new PID namespace). */
async function childOf(pid: number): Promise<number> {
  const child = await poll(async () => {
    const children = (await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8').catch(() => '')).trim();
    return children === '' ? undefined : Number(children.split(' ')[0]);
  }, { timeoutMs: 5_000, intervalMs: 20 });
  if (child === undefined) throw new Error(`process ${pid} started no child`);
  return child;
}

afterEach(() => {
  for (const child of started.splice(0)) child.kill('SIGKILL');
});

describe.skipIf(!isRoot)('a lab container must not share the machine\'s namespaces', () => {
  it('refuses a process in all of this machine\'s namespaces, naming them and what to do', async () => {
    const child = sleeper([]);
    await expect(assertOwnNamespaces(child.pid ?? 0, 'lab container ct1')).rejects.toMatchObject({
      message: expect.stringMatching(/^lab container ct1 shares this machine's mnt, pid, uts, net namespaces: .*nothing was run in it$/),
      hint: expect.stringContaining('not inside a chroot'),
    });
  });

  it('refuses a process that has only its own network namespace (the chroot case: docker gave it a network, nothing else)', async () => {
    const unshare = sleeper(['--net']);
    await poll(async () => ((await readFile(`/proc/${unshare.pid}/comm`, 'utf8')).trim() === 'sleep' ? true : undefined), { timeoutMs: 5_000, intervalMs: 20 });
    await expect(assertOwnNamespaces(unshare.pid ?? 0, 'lab container ct1')).rejects.toThrow(/shares this machine's mnt, pid, uts namespaces/);
  });

  it('accepts a process in its own mount, PID, UTS and network namespaces', async () => {
    const unshare = sleeper(['--mount', '--uts', '--net', '--pid', '--fork']);
    const inside = await childOf(unshare.pid ?? 0);
    await expect(assertOwnNamespaces(inside, 'lab container ct1')).resolves.toBeUndefined();
  });
});
