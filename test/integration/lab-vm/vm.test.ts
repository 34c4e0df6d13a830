// A lab VM for real: the image is built from a Debian 12 rootfs, qemu (TCG) boots it on tap devices
// of two private test bridges, ssh answers with the host key the lab gave it, IPVS works inside,
// and stopping it powers it off cleanly and leaves nothing behind.
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HostFile } from '../../../src/lab/host-files.ts';
import type { HostKey } from '../../../src/lab/keys.ts';
import { labMacAddress } from '../../../src/lab/naming.ts';
import { labPaths } from '../../../src/lab/paths.ts';
import { ensureVmImage, type VmImage } from '../../../src/lab/vm/image.ts';
import { removeVm, resetVm, runningPid, startVm, stopVm, vmFiles, waitForVm, type RunningVm } from '../../../src/lab/vm/qemu.ts';
import { createTap, deleteTap } from '../../../src/lab/vm/tap.ts';
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

const NAME = 'plvt-dir1';
const TAPS = ['plvt-tap0', 'plvt-tap1'];
const ADDRESS = '10.213.9.10';
const HEARTBEAT_ADDRESS = '10.213.10.10';
const VIP = '10.213.9.100';
/** The promise: a VM director answers ssh within 20 s of launch on the lab's machine kind. */
const SSH_READY_LIMIT_S = 20;
const files = vmFiles(join(testCacheDir, 'vms', NAME), NAME);

describe.skipIf(skipReason !== undefined)('lab VM (qemu TCG with IPVS)', () => {
  let before: MachineSnapshot;
  const networks: TestNetwork[] = [];
  let ssh: SshClient;
  let image: VmImage;
  let hostKey: HostKey;
  let guestFiles: HostFile[];
  let vm: RunningVm | undefined;

  beforeAll(async () => {
    before = await snapshotMachine();
    networks.push(await createTestNetwork('plvt-br0', '10.213.9', { hostAddress: true }));
    networks.push(await createTestNetwork('plvt-br1', '10.213.10', { hostAddress: false }));
    ssh = await sshClient();
    const hostKeys = await testHostKeys(NAME);
    hostKey = hostKeys[0]!;
    guestFiles = await testGuestFiles({ hostName: NAME, address: ADDRESS, hostKeys, authorizedKey: ssh.authorizedKey });
    const rootfs = await testRootfs();
    const started = Date.now();
    // The lab's own image (built once into the lab cache, shared with the lab tests).
    const ensured = await ensureVmImage({ rootfs, cacheDir: labPaths().cache, log: (line) => console.log(`vm image [${seconds(started)} s] ${line}`) });
    image = ensured.image;
    console.log(`vm image: ${ensured.built ? 'built' : 'cached, checked'} in ${seconds(started)} s (${image.kernelPackage})`);
  }, 900_000);

  afterAll(async () => {
    await stopVm(files).catch((error: unknown) => console.error(error));
    await removeVm(files).catch((error: unknown) => console.error(error));
    for (const tap of TAPS) await deleteTap(tap).catch((error: unknown) => console.error(error));
    for (const network of networks) await network.remove();
    await ssh?.remove();
    const after = await snapshotMachine();
    expect(after).toEqual(before);
  }, 120_000);

  it('boots, answers ssh with its own host key within 20 s of launch, and runs ipvsadm', async () => {
    await resetVm(files);
    await createTap(TAPS[0]!, 'plvt-br0');
    await createTap(TAPS[1]!, 'plvt-br1');
    const baseModified = (await stat(image.disk)).mtimeMs;

    vm = await startVm({
      files,
      image,
      nics: [
        { tap: TAPS[0]!, mac: labMacAddress(`${NAME}/eth0`), addresses: [`${ADDRESS}/24`] },
        { tap: TAPS[1]!, mac: labMacAddress(`${NAME}/eth1`), addresses: [`${HEARTBEAT_ADDRESS}/24`] },
      ],
      hostname: 'dir1',
      guestFiles,
    });
    const booted = await waitForVm(vm, { timeoutMs: 60_000 });
    expect(await ssh.run(ADDRESS, hostKey.publicKey, 'uname -n')).toBe('dir1');
    const sshReady = (Date.now() - vm.startedAt) / 1000;
    console.log(`vm: sshd listening ${booted.seconds.toFixed(1)} s after launch, first ssh command done ${sshReady.toFixed(1)} s after launch`);
    expect(sshReady).toBeLessThan(SSH_READY_LIMIT_S);

    const addresses = await ssh.run(ADDRESS, hostKey.publicKey, 'ip -o -4 address show');
    expect(addresses).toMatch(new RegExp(`eth0\\s+inet ${ADDRESS.replaceAll('.', '\\.')}/24`));
    expect(addresses).toMatch(new RegExp(`eth1\\s+inet ${HEARTBEAT_ADDRESS.replaceAll('.', '\\.')}/24`));
    expect(await ssh.run(ADDRESS, hostKey.publicKey, 'ip -o link show eth0')).toContain(labMacAddress(`${NAME}/eth0`));

    const ipvs = await ssh.run(ADDRESS, hostKey.publicKey, `modprobe ip_vs && ipvsadm -A -t ${VIP}:80 -s rr && ipvsadm -Ln`);
    expect(ipvs).toMatch(new RegExp(`TCP\\s+${VIP.replaceAll('.', '\\.')}:80 rr`));
    // The guest's writes go to its overlay, never to the shared base image.
    await ssh.run(ADDRESS, hostKey.publicKey, 'echo changed > /root/marker && sync');
    expect((await stat(image.disk)).mtimeMs).toBe(baseModified);

    const stopping = Date.now();
    const stopped = await stopVm(vm);
    console.log(`vm: stopped in ${seconds(stopping)} s`);
    expect(stopped).toEqual({ wasRunning: true, clean: true });
    expect(await runningPid(vm)).toBeUndefined();
  }, 180_000);

  it('keeps its changes across a restart until it is reset', async () => {
    const nics = [{ tap: TAPS[0]!, mac: labMacAddress(`${NAME}/eth0`), addresses: [`${ADDRESS}/24`] }];
    const start = () => startVm({ files, image, nics, hostname: 'dir1', guestFiles });

    vm = await start();
    await waitForVm(vm);
    expect(await ssh.run(ADDRESS, hostKey.publicKey, 'cat /root/marker')).toBe('changed');
    expect((await stopVm(vm)).clean).toBe(true);

    await resetVm(files);
    vm = await start();
    await waitForVm(vm);
    expect(await ssh.run(ADDRESS, hostKey.publicKey, 'test -e /root/marker && echo present || echo absent')).toBe('absent');
    expect((await stopVm(vm)).clean).toBe(true);
  }, 180_000);
});
