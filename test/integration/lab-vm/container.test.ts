// Lab containers for real: the lab's own dockerd (firewall untouched), an image imported from the
// Debian 12 rootfs, a container on a private test bridge through a veth pair, answering ssh with
// the host key the lab gave it; and a dockerd killed with its container still running is cleaned
// up completely by stopDockerd.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureImage, labContainers, removeContainer, startContainer } from '../../../src/lab/container/container.ts';
import { startDockerd, stopDockerd, type Dockerd } from '../../../src/lab/container/dockerd.ts';
import type { HostFile } from '../../../src/lab/host-files.ts';
import type { HostKey } from '../../../src/lab/keys.ts';
import { labMacAddress } from '../../../src/lab/naming.ts';
import {
  createTestNetwork,
  seconds,
  skipReason,
  snapshotMachine,
  sshClient,
  testCacheDir,
  testGuestFiles,
  testHostKeys,
  testRootfs,
  type MachineSnapshot,
  type SshClient,
  type TestNetwork,
} from './support.ts';

const DOCKER_DIR = join(testCacheDir, 'docker');
const VETH = 'plct-ct1';
const ADDRESS = '10.213.9.20';
const SSH_PORT = 2222;

describe.skipIf(skipReason !== undefined)('lab containers (private dockerd)', () => {
  let before: MachineSnapshot;
  let firewallBefore: string;
  let network: TestNetwork;
  let ssh: SshClient;
  let hostKey: HostKey;
  let files: HostFile[];
  let rootfs: string;

  beforeAll(async () => {
    before = await snapshotMachine();
    firewallBefore = (await execa('iptables-save', [], { reject: false })).stdout.replace(/^#.*\n?/gm, '');
    network = await createTestNetwork('plct-br0', '10.213.9', { hostAddress: true });
    ssh = await sshClient();
    const hostKeys = await testHostKeys('ct1');
    hostKey = hostKeys[0]!;
    files = await testGuestFiles({ hostName: 'ct1', address: ADDRESS, port: SSH_PORT, hostKeys, authorizedKey: ssh.authorizedKey });
    rootfs = await testRootfs();
  }, 900_000);

  afterAll(async () => {
    await stopDockerd(DOCKER_DIR).catch((error: unknown) => console.error(error));
    await network?.remove();
    await ssh?.remove();
    expect(await snapshotMachine()).toEqual(before);
  }, 120_000);

  // As the lab core calls it: host keys and sshd settings as files, sshd on its own address and port.
  const start = (dockerd: Dockerd, image: string) =>
    startContainer(dockerd, {
      name: 'plct-ct1',
      image,
      hostname: 'ct1',
      nics: [{ hostIfname: VETH, bridge: network.bridge, mac: labMacAddress('ct1/eth0'), addresses: [`${ADDRESS}/24`] }],
      files,
      sshPort: SSH_PORT,
    });
  const sshRun = (command: string) => ssh.run(ADDRESS, hostKey.publicKey, command, SSH_PORT);

  it('runs a container on the lab bridge that answers ssh, and removes it', async () => {
    let started = Date.now();
    const dockerd = await startDockerd(DOCKER_DIR);
    console.log(`container: dockerd up in ${seconds(started)} s`);
    started = Date.now();
    const { image, imported } = await ensureImage(dockerd, { rootfs });
    console.log(`container: image ${imported ? 'imported' : 'cached, checked'} in ${seconds(started)} s`);
    expect((await ensureImage(dockerd, { rootfs })).imported).toBe(false);

    const container = await start(dockerd, image);
    console.log(`container: up with sshd listening in ${container.seconds.toFixed(1)} s`);
    expect(await sshRun('uname -n')).toBe('ct1');
    expect(await sshRun('ip -o -4 address show eth0')).toContain(`inet ${ADDRESS}/24`);
    // Its own network namespace: this machine's interfaces are not in it.
    expect(await sshRun('ls /sys/class/net | sort | tr "\\n" " "')).toBe('eth0 lo ');
    // Only the host keys the lab gave it, none of the shared rootfs's.
    expect(await sshRun('ls /etc/ssh | grep ssh_host_ | tr "\\n" " "')).toBe('ssh_host_ecdsa_key ssh_host_ecdsa_key.pub ssh_host_ed25519_key ssh_host_ed25519_key.pub ');
    // The host end of the veth is on the lab bridge.
    expect((await execa('ip', ['-o', 'link', 'show', VETH])).stdout).toContain(`master ${network.bridge}`);
    expect(await labContainers(dockerd)).toContain('plct-ct1');
    // dockerd changed no firewall rule of this machine.
    expect((await execa('iptables-save', [], { reject: false })).stdout.replace(/^#.*\n?/gm, '')).toBe(firewallBefore);

    await removeContainer(dockerd, container.name, container.hostIfnames);
    expect(await labContainers(dockerd)).not.toContain('plct-ct1');
    expect((await execa('ip', ['link', 'show', VETH], { reject: false })).exitCode).not.toBe(0);
    const stopping = Date.now();
    expect(await stopDockerd(DOCKER_DIR)).toEqual({ wasRunning: true });
    console.log(`container: dockerd stopped in ${seconds(stopping)} s`);
  }, 300_000);

  it('cleans up after a dockerd that was killed with its container running', async () => {
    const dockerd = await startDockerd(DOCKER_DIR);
    const { image } = await ensureImage(dockerd, { rootfs });
    const container = await start(dockerd, image);
    process.kill(dockerd.pid, 'SIGKILL');

    expect(await stopDockerd(DOCKER_DIR)).toEqual({ wasRunning: false });
    const after = await snapshotMachine();
    expect(after.labProcesses).toEqual([]);
    expect(after.mounts).toEqual(before.mounts);
    expect(after.cgroups).toEqual([]);
    // The container's processes are gone (at most a zombie this machine's init has not reaped yet),
    // and with its network namespace its veth pair (the kernel deletes it asynchronously).
    const state = await readFile(`/proc/${container.pid}/stat`, 'utf8').catch(() => 'gone');
    expect(state === 'gone' || / Z /.test(state)).toBe(true);
    expect(await eventually(async () => !(await snapshotMachine()).links.includes(VETH), 5_000)).toBe(true);

    // The next start of the lab replaces the dead container of the same name.
    const restarted = await startDockerd(DOCKER_DIR);
    const again = await start(restarted, image);
    expect(await sshRun('uname -n')).toBe('ct1');
    await removeContainer(restarted, again.name, again.hostIfnames);
    await stopDockerd(DOCKER_DIR);
  }, 300_000);
});

async function eventually(condition: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
