// A container host (on the lab's own dockerd) beside a namespace host: it answers ssh as itself on
// both lab bridges, reaches its neighbour and the offline mirror, starts again on its filesystem
// when it died, is reset alone, and `lab down` removes it, its dockerd and everything they made;
// the machine's firewall is never touched.
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labContainerName } from '../../../src/lab/container-host.ts';
import { labDown, labReset, labUp } from '../../../src/lab/lab.ts';
import { labPaths } from '../../../src/lab/paths.ts';
import { findProcesses } from '../../../src/lab/processes.ts';
import { poll } from '../../../src/lab/wait.ts';
import { assertNoLabRunning, command, differences, FIRST_BUILD_TIMEOUT_MS, skipReason, snapshot, ssh, sshOk, type MachineSnapshot } from './support.ts';

const CONTAINER = { name: 'ct1', address: '10.213.2.20', heartbeat: '10.213.1.20' };
const NEIGHBOUR = { name: 'ns1', address: '10.213.2.21' };

async function writeInventory(): Promise<string> {
  const dir = path.join(tmpdir(), 'provision-lab-test');
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, 'container-lab.yaml');
  await writeFile(
    file,
    [
      'all:',
      '  hosts:',
      `    ${CONTAINER.name}: { address: ${CONTAINER.address}, lab: { kind: container, eth1: ${CONTAINER.heartbeat}/24 } }`,
      `    ${NEIGHBOUR.name}: { address: ${NEIGHBOUR.address}, lab: { kind: namespace } }`,
      '',
    ].join('\n'),
  );
  return file;
}

const docker = (args: string[]) => command('docker', ['--host', `unix://${path.join(labPaths().cache, 'docker', 'docker.sock')}`, ...args]);

describe.skipIf(skipReason)('a container lab host', () => {
  let before: MachineSnapshot;
  let inventoryFile: string;

  beforeAll(async () => {
    assertNoLabRunning();
    inventoryFile = await writeInventory();
    before = await snapshot();
  });

  afterAll(async () => {
    await labDown().catch((error: unknown) => console.error(error));
  });

  it('answers ssh as itself on both lab bridges, beside a namespace host', async () => {
    const up = await labUp({ inventoryFile, log: (line) => console.log(`lab up: ${line}`) });
    console.log(`lab up (a container and a namespace host): ${up.startSeconds.toFixed(1)} s, ${up.totalSeconds.toFixed(1)} s in all`);
    expect(up.hosts.map((host) => [host.name, host.kind])).toEqual([
      [CONTAINER.name, 'container'],
      [NEIGHBOUR.name, 'namespace'],
    ]);
    expect((await sshOk(CONTAINER.address, 'uname -n')).trim()).toBe(CONTAINER.name);
    expect(await sshOk(CONTAINER.address, 'ip -o -4 addr show')).toMatch(/eth1\s+inet 10\.213\.1\.20\/24/);
    await sshOk(CONTAINER.address, `ping -c1 -W2 ${NEIGHBOUR.address}`);
    // It is a container of the lab's dockerd, running in the lab's own network.
    expect((await docker(['inspect', '--format', '{{.State.Running}} {{.HostConfig.NetworkMode}}', labContainerName(CONTAINER.name)])).stdout.trim()).toBe('true none');
    const during = await snapshot();
    expect(during.links).toEqual(expect.arrayContaining(['pvlab0c0', 'pvlab0c1', 'pvlab1e0']));
    // The lab's dockerd left this machine's firewall as it was.
    expect(during.iptables).toEqual(before.iptables);
  }, FIRST_BUILD_TIMEOUT_MS);

  it('installs packages from the offline mirror', async () => {
    await sshOk(CONTAINER.address, 'apt-get update -q >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q ipvsadm >/dev/null 2>&1');
    expect(await sshOk(CONTAINER.address, "dpkg-query -W -f='${Status}' ipvsadm")).toBe('install ok installed');
  }, 120_000);

  it('lab up starts it again on its filesystem after its init died, and keeps its neighbour running', async () => {
    const name = labContainerName(CONTAINER.name);
    // What provisioning could have done: a package (installed above), a file, an /etc/hosts entry
    // (docker writes /etc/hosts anew when a container starts).
    await sshOk(CONTAINER.address, 'echo kept > /root/disk-marker && echo "10.213.2.99 provisioned-entry" >> /etc/hosts');
    await sshOk(NEIGHBOUR.address, 'echo running > /run/running-marker');
    const [id, init] = (await docker(['inspect', '--format', '{{.Id}} {{.State.Pid}}', name])).stdout.trim().split(' ');
    process.kill(Number(init), 'SIGKILL');
    const stopped = await poll(async () => ((await docker(['inspect', '--format', '{{.State.Running}}', name])).stdout.trim() === 'false' ? true : undefined), { timeoutMs: 10_000, intervalMs: 50 });
    expect(stopped).toBe(true);

    const up = await labUp({ inventoryFile });
    expect(up.hostActions).toEqual({ [CONTAINER.name]: { action: 'restart', why: 'its processes had ended' }, [NEIGHBOUR.name]: { action: 'keep' } });
    expect((await docker(['inspect', '--format', '{{.Id}} {{.State.Running}}', name])).stdout.trim()).toBe(`${id} true`);
    expect((await sshOk(CONTAINER.address, 'cat /root/disk-marker')).trim()).toBe('kept');
    expect(await sshOk(CONTAINER.address, "dpkg-query -W -f='${Status}' ipvsadm")).toBe('install ok installed');
    expect(await sshOk(CONTAINER.address, 'cat /etc/hosts')).toMatch(/^10\.213\.2\.99 provisioned-entry$/m);
    expect(await sshOk(CONTAINER.address, 'ip -o -4 addr show')).toMatch(/eth1\s+inet 10\.213\.1\.20\/24/);
    expect((await sshOk(NEIGHBOUR.address, 'cat /run/running-marker')).trim()).toBe('running');
  }, 60_000);

  it('reset gives it a fresh container and leaves its neighbour alone', async () => {
    await sshOk(CONTAINER.address, 'echo changed > /root/marker');
    await sshOk(NEIGHBOUR.address, 'echo kept > /root/marker');
    const id = (await docker(['inspect', '--format', '{{.Id}}', labContainerName(CONTAINER.name)])).stdout.trim();
    await labReset({ host: CONTAINER.name });
    expect((await docker(['inspect', '--format', '{{.Id}}', labContainerName(CONTAINER.name)])).stdout.trim()).not.toBe(id);
    expect((await ssh(CONTAINER.address, 'test -e /root/marker')).code).toBe(1);
    expect((await ssh(CONTAINER.address, 'command -v ipvsadm')).code).not.toBe(0);
    expect((await sshOk(NEIGHBOUR.address, 'cat /root/marker')).trim()).toBe('kept');
  }, 60_000);

  it('down removes the container, the dockerd and everything they made', async () => {
    await labDown();
    expect(await findProcesses([path.join(labPaths().cache, 'docker')])).toEqual([]);
    expect(differences(before, await snapshot())).toEqual({});
  }, 60_000);
});
