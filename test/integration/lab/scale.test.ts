// The lab at the scale of the bench (npm run bench -- --scale): 100 namespace hosts come up within
// this machine's limits, every one answers ssh as itself (OpenSSH, the lab key, strict host key
// checking), and `lab down` leaves nothing behind: no namespace, link, mount, process, firewall
// rule or host directory. About 30 s on the 2-core build machine (up ~15-20 s, ssh ~3 s, down ~5 s).
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labDown, labUp } from '../../../src/lab/lab.ts';
import { scaleHostName, scaleInventory } from '../../../scripts/bench/scale/inventory.ts';
import { assertNoLabRunning, differences, FIRST_BUILD_TIMEOUT_MS, skipReason, snapshot, ssh, type MachineSnapshot } from './support.ts';

const HOSTS = 100;
/** ssh clients at once: enough to be quick, few enough not to queue on this machine's 2 cores. */
const SSH_CONCURRENCY = 10;

describe.skipIf(skipReason)('a lab of 100 namespace hosts', () => {
  let inventoryFile: string;
  let before: MachineSnapshot;

  beforeAll(async () => {
    assertNoLabRunning();
    const dir = path.join(tmpdir(), 'provision-lab-test');
    await mkdir(dir, { recursive: true });
    inventoryFile = path.join(dir, 'scale.yaml');
    await writeFile(inventoryFile, scaleInventory(HOSTS));
    before = await snapshot();
  });

  afterAll(async () => {
    await labDown().catch((error: unknown) => console.error(error));
  });

  it('comes up, answers ssh on every host, and goes down without a trace', async () => {
    const up = await labUp({ inventoryFile });
    expect(up.hosts).toHaveLength(HOSTS);
    const during = await snapshot();
    expect(during.netns.filter((line) => line.startsWith('pvlab-s'))).toHaveLength(HOSTS);

    const names = new Map<string, string>();
    const queue = up.hosts.map((host) => host);
    await Promise.all(
      Array.from({ length: SSH_CONCURRENCY }, async () => {
        for (let host = queue.shift(); host !== undefined; host = queue.shift()) {
          const result = await ssh(host.address, 'uname -n');
          names.set(host.name, result.code === 0 ? result.stdout.trim() : `exit ${result.code}: ${result.stderr.trim()}`);
        }
      }),
    );
    const wrong = up.hosts.filter((host) => names.get(host.name) !== host.name).map((host) => `${host.name}: ${names.get(host.name)}`);
    expect(wrong).toEqual([]);
    expect(names.get(scaleHostName(HOSTS - 1))).toBe('s100');

    const down = await labDown();
    expect(down.hosts).toBe(HOSTS);
    expect(differences(before, await snapshot())).toEqual({});
  }, FIRST_BUILD_TIMEOUT_MS);
});
