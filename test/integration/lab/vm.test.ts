// The shipped lab (inventory/lab.yaml): two VM directors with a kernel of their own (IPVS works
// there, not on this machine) and three namespace hosts on one L2 segment. A VM installs packages
// from the offline mirror; `lab reset` gives one VM a fresh disk without touching the other; `lab
// up` boots a VM whose qemu died on the disk it had; `lab down` leaves no trace, also when `lab up`
// was killed while a VM was starting (with or without the state file).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labDown, labReset, labStatus, labUp } from '../../../src/lab/lab.ts';
import { hostDir, labPaths } from '../../../src/lab/paths.ts';
import { findProcesses } from '../../../src/lab/processes.ts';
import { poll } from '../../../src/lab/wait.ts';
import { assertNoLabRunning, differences, FIRST_BUILD_TIMEOUT_MS, LAB_CLI, skipReason, snapshot, ssh, sshOk, type MachineSnapshot } from './support.ts';

const LAB_INVENTORY = fileURLToPath(new URL('../../../inventory/lab.yaml', import.meta.url));
const HOSTS = [
  { name: 'lvs-master', kind: 'vm', address: '10.213.2.250' },
  { name: 'lvs-backup', kind: 'vm', address: '10.213.2.251' },
  { name: 'web1', kind: 'namespace', address: '10.213.2.252' },
  { name: 'web2', kind: 'namespace', address: '10.213.2.253' },
  { name: 'client', kind: 'namespace', address: '10.213.2.10' },
] as const;
const [master, backup, web1] = HOSTS;
const VIP = '10.213.2.254';
/** A VM boots in 8-15 s under TCG; a busy machine (CI) may need more. */
const VM_LAB_TIMEOUT_MS = 180_000;

/** qemu processes of a lab host's directory. */
const qemuOf = (hostName: string) => findProcesses(['qemu-system', `${hostDir(labPaths(), hostName)}/`]);

describe.skipIf(skipReason)('the shipped lab: VM directors and namespace hosts', () => {
  let before: MachineSnapshot;

  beforeAll(async () => {
    assertNoLabRunning();
    before = await snapshot();
  });

  afterAll(async () => {
    await labDown().catch((error: unknown) => console.error(error));
  }, VM_LAB_TIMEOUT_MS);

  it('starts two VMs and three namespace hosts, each answering ssh as itself', async () => {
    const up = await labUp({ inventoryFile: LAB_INVENTORY, log: (line) => console.log(`lab up: ${line}`) });
    console.log(`lab up of inventory/lab.yaml: hosts answered ${up.startSeconds.toFixed(1)} s after the bridges came up (${up.totalSeconds.toFixed(1)} s in all)`);
    expect(up.hosts.map((host) => [host.name, host.kind, host.address])).toEqual(HOSTS.map((host) => [host.name, host.kind, host.address]));
    for (const host of HOSTS) expect((await sshOk(host.address, 'uname -n')).trim()).toBe(host.name);

    // A VM runs a kernel of its own (the Debian kernel under qemu), a namespace host this machine's.
    expect((await sshOk(master.address, 'uname -r')).trim()).not.toBe(os.release());
    expect((await sshOk(web1.address, 'uname -r')).trim()).toBe(os.release());
    for (const vm of [master, backup]) expect(await qemuOf(vm.name)).toHaveLength(1);
    const links = (await snapshot()).links;
    // Tap devices of each VM interface (the directors have eth0 and the heartbeat link eth1).
    expect(links).toEqual(expect.arrayContaining(['pvlab0t0', 'pvlab0t1', 'pvlab1t0', 'pvlab1t1', 'pvlab2e0']));
    expect((await sshOk(master.address, 'ip -o -4 addr show eth1')).trim()).toContain('inet 10.213.1.250/24');
    await sshOk(master.address, 'ping -c1 -W5 -I eth1 10.213.1.251');

    const status = await labStatus();
    expect(status?.map((host) => [host.name, host.kind, host.running, host.sshBanner?.startsWith('SSH-2.0-')])).toEqual(HOSTS.map((host) => [host.name, host.kind, true, true]));
    // The first `lab up` of a cold cache also builds the VM image.
  }, FIRST_BUILD_TIMEOUT_MS);

  it('runs IPVS on a VM director, with a namespace real server on its L2 segment', async () => {
    const table = await sshOk(master.address, `modprobe ip_vs && ipvsadm -A -t ${VIP}:80 -s rr && ipvsadm -a -t ${VIP}:80 -r ${web1.address} -g && ipvsadm -Ln`);
    expect(table).toMatch(/^TCP {2}10\.213\.2\.254:80 rr\s*$/m);
    expect(table).toMatch(/^ {2}-> 10\.213\.2\.252:80\s+Route\s+1\s/m);
    // Direct routing forwards by MAC: the real server must be a neighbour of the director.
    await sshOk(master.address, `ping -c1 -W5 ${web1.address}`);
    expect(await sshOk(master.address, `ip neigh show ${web1.address}`)).toMatch(/lladdr ([0-9a-f]{2}:){5}[0-9a-f]{2}/);
  });

  it('installs packages on a VM from the offline mirror', async () => {
    expect((await sshOk(backup.address, "grep -h '^deb' /etc/apt/sources.list /etc/apt/sources.list.d/* || true")).trim()).toBe('deb [trusted=yes] http://10.213.2.1:8213/ ./');
    expect((await ssh(backup.address, 'command -v keepalived')).code).not.toBe(0);
    const update = await sshOk(backup.address, 'apt-get update 2>&1');
    expect(update).not.toMatch(/^(W|E):/m);
    // Under TCG dpkg is slow: keepalived and its dependencies (perl among them) take 30-40 s.
    await sshOk(backup.address, 'DEBIAN_FRONTEND=noninteractive apt-get install -y -q keepalived >/dev/null 2>&1', 150_000);
    expect(await sshOk(backup.address, "dpkg-query -W -f='${Status}' keepalived")).toBe('install ok installed');
    expect(await sshOk(backup.address, 'keepalived --version 2>&1')).toMatch(/^Keepalived v2\./m);
  }, 200_000);

  it('reset gives one VM a fresh disk and leaves the other running untouched', async () => {
    await sshOk(master.address, 'echo changed > /root/marker && sync');
    const masterKey = (await sshOk(master.address, 'cat /etc/ssh/ssh_host_ed25519_key.pub')).trim();
    const backupBoot = (await sshOk(backup.address, 'cat /proc/sys/kernel/random/boot_id')).trim();
    const masterBoot = (await sshOk(master.address, 'cat /proc/sys/kernel/random/boot_id')).trim();
    const [backupQemu] = await qemuOf(backup.name);

    const reset = await labReset({ host: master.name });
    console.log(`lab reset ${master.name}: ${reset.seconds.toFixed(1)} s`);

    expect((await sshOk(master.address, 'cat /proc/sys/kernel/random/boot_id')).trim()).not.toBe(masterBoot);
    expect((await ssh(master.address, 'test -e /root/marker')).code).toBe(1);
    expect((await sshOk(master.address, 'uname -n')).trim()).toBe(master.name);
    expect((await sshOk(master.address, 'cat /etc/ssh/ssh_host_ed25519_key.pub')).trim()).toBe(masterKey);
    expect(await qemuOf(master.name)).toHaveLength(1);

    expect((await sshOk(backup.address, 'cat /proc/sys/kernel/random/boot_id')).trim()).toBe(backupBoot);
    expect(await sshOk(backup.address, "dpkg-query -W -f='${Status}' keepalived")).toBe('install ok installed');
    expect(await qemuOf(backup.name)).toEqual([backupQemu]);
  }, VM_LAB_TIMEOUT_MS);

  it('lab up boots a VM whose qemu died again on its overlay, and keeps the other hosts running', async () => {
    // One ssh per VM and step: each login costs seconds of emulated CPU.
    const BOOT_ID = 'cat /proc/sys/kernel/random/boot_id';
    // Synced, as a real host's file before a power cut: what the guest synced reaches the overlay.
    const backupBoot = await sshOk(backup.address, `echo kept > /root/disk-marker && sync && ${BOOT_ID}`);
    const masterBoot = await sshOk(master.address, BOOT_ID);
    await sshOk(web1.address, 'echo running > /run/running-marker');
    const masterQemu = await qemuOf(master.name);
    for (const { pid } of await qemuOf(backup.name)) process.kill(pid, 'SIGKILL');
    expect(await poll(async () => ((await qemuOf(backup.name)).length === 0 ? true : undefined), { timeoutMs: 10_000, intervalMs: 50 })).toBe(true);

    const up = await labUp({ inventoryFile: LAB_INVENTORY });
    console.log(`lab up with ${backup.name}'s qemu killed: ${backup.name} answered after ${up.hostSeconds[backup.name]?.toFixed(1)} s, ${up.totalSeconds.toFixed(1)} s in all`);
    expect(up.hostActions).toEqual(Object.fromEntries(HOSTS.map((host) => [host.name, host === backup ? { action: 'restart', why: 'its processes had ended' } : { action: 'keep' }])));

    // The backup booted again (ssh checks its host key strictly) on the disk it had, with its addresses.
    const [boot, name, marker, keepalived, eth1] = (await sshOk(backup.address, `${BOOT_ID}; uname -n; cat /root/disk-marker; dpkg-query -W -f='\${Status}\n' keepalived; ip -o -4 addr show eth1`)).split('\n');
    expect(boot).not.toBe(backupBoot.trim());
    expect([name, marker, keepalived]).toEqual([backup.name, 'kept', 'install ok installed']);
    expect(eth1).toContain('inet 10.213.1.251/24');
    // The others ran on.
    expect(await sshOk(master.address, BOOT_ID)).toBe(masterBoot);
    expect(await qemuOf(master.name)).toEqual(masterQemu);
    expect((await sshOk(web1.address, 'cat /run/running-marker')).trim()).toBe('running');
  }, VM_LAB_TIMEOUT_MS);

  it('down leaves no trace', async () => {
    const down = await labDown();
    console.log(`lab down: ${down.seconds.toFixed(1)} s`);
    expect(down.hosts).toBe(HOSTS.length);
    expect(differences(before, await snapshot())).toEqual({});
    expect(existsSync(labPaths().state)).toBe(false);
  }, VM_LAB_TIMEOUT_MS);

  it.each([
    ['with its state file', false],
    ['without its state file (the leftover scan finds it all)', true],
  ])('down removes everything after lab up was killed while a VM was starting, %s', async (_, loseState) => {
    const child = spawn(process.execPath, ['--import', 'tsx', LAB_CLI, 'lab', 'up', '-i', LAB_INVENTORY], { stdio: 'ignore' });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    // The VM's qemu runs (daemonized: it outlives the killed `lab up`) but has not booted yet.
    const hit = await poll(async () => ((await qemuOf(master.name)).length > 0 ? true : undefined), { timeoutMs: 120_000, intervalMs: 20 });
    child.kill('SIGKILL');
    await exited;
    expect(hit).toBe(true);
    expect(existsSync(labPaths().state)).toBe(true);
    if (loseState) await rm(labPaths().state);

    await labDown();
    expect(await qemuOf(master.name)).toEqual([]);
    expect(await qemuOf(backup.name)).toEqual([]);
    // /run/netns, mounted by `ip netns add`, is unmounted only when a state file says the lab mounted it.
    const withoutNetnsDir = (s: MachineSnapshot) => (loseState ? { ...s, mounts: s.mounts.filter((mount) => !mount.startsWith('/run/netns ')) } : s);
    expect(differences(withoutNetnsDir(before), withoutNetnsDir(await snapshot()))).toEqual({});
  }, VM_LAB_TIMEOUT_MS);
});
