// Lab hosts are separate hosts: their own hostname, files, host keys, network settings and sshd;
// `lab reset` restores one of them only; they install packages from the lab's offline mirror;
// `lab up` on the running lab keeps the healthy hosts and starts a crashed one again on its disk.
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labDown, labReset, labStatus, labUp } from '../../../src/lab/lab.ts';
import { labPaths } from '../../../src/lab/paths.ts';
import { assertNoLabRunning, command, FIRST_BUILD_TIMEOUT_MS, killNamespaceHost, LAB_CLI, namespaceHostInit, skipReason, ssh, sshOk, TEST_HOSTS, writeTestInventory } from './support.ts';

const [dir1, dir2, rs1, rs2] = TEST_HOSTS;

describe.skipIf(skipReason)('lab hosts', () => {
  let inventoryFile: string;

  beforeAll(async () => {
    assertNoLabRunning();
    inventoryFile = await writeTestInventory();
    await labUp({ inventoryFile });
  }, FIRST_BUILD_TIMEOUT_MS);

  afterAll(async () => {
    await labDown();
  });

  it('are separate: hostname, files, host keys and processes of their own', async () => {
    for (const host of TEST_HOSTS) expect((await sshOk(host.address, 'uname -n')).trim()).toBe(host.name);
    await sshOk(rs1.address, 'echo rs1 > /root/only-on-rs1');
    expect((await sshOk(rs1.address, 'cat /root/only-on-rs1')).trim()).toBe('rs1');
    for (const other of [dir1, dir2, rs2]) expect((await ssh(other.address, 'test -e /root/only-on-rs1')).code).toBe(1);

    // ssh checked every host strictly against the lab's known_hosts; each host has keys of its own.
    const knownHosts = (await readFile(labPaths().knownHosts, 'utf8')).trim().split('\n');
    expect(knownHosts).toHaveLength(TEST_HOSTS.length * 2);
    const keys = knownHosts.map((line) => line.split(' ').slice(1).join(' '));
    expect(new Set(keys).size).toBe(keys.length);
    for (const host of TEST_HOSTS) {
      const served = (await sshOk(host.address, 'cut -d" " -f1,2 /etc/ssh/ssh_host_ed25519_key.pub')).trim();
      expect(knownHosts).toContain(`${host.address} ${served}`);
    }

    // Each host's PID 1 is its own init, and it sees only its own processes.
    const processes = (await sshOk(rs1.address, 'ps -e -o pid=,comm=')).trim().split('\n');
    expect(processes[0]?.trim()).toMatch(/^1 sh$/);
    expect(processes.length).toBeLessThan(10);
  });

  it('have their own network settings; other sysctls are read-only', async () => {
    await sshOk(rs1.address, 'sysctl -q -w net.ipv4.conf.all.arp_ignore=1');
    expect((await sshOk(rs1.address, 'cat /proc/sys/net/ipv4/conf/all/arp_ignore')).trim()).toBe('1');
    expect((await sshOk(rs2.address, 'cat /proc/sys/net/ipv4/conf/all/arp_ignore')).trim()).toBe('0');
    expect((await readFile('/proc/sys/net/ipv4/conf/all/arp_ignore', 'utf8')).trim()).toBe('0');
    const write = await ssh(rs1.address, 'echo 10 > /proc/sys/vm/swappiness');
    expect(write.code).not.toBe(0);
    expect(write.stderr).toMatch(/Read-only file system/);
  });

  it('reach each other on eth0, directors on their eth1 link, and nothing outside the lab', async () => {
    await sshOk(rs1.address, `ping -c1 -W2 ${rs2.address}`);
    await sshOk(dir1.address, `ping -c1 -W2 -I eth1 ${dir2.eth1.split('/')[0]!}`);
    expect((await sshOk(rs1.address, 'ip -o link show | cut -d: -f2')).split('\n').map((name) => name.trim().replace(/@.*/, '')).filter(Boolean)).toEqual(['lo', 'eth0']);
    // No route off the lab: the hosts have no default route.
    const outside = await ssh(rs1.address, 'ip route get 192.0.2.1');
    expect(outside.code).not.toBe(0);
    expect(outside.stderr).toMatch(/unreachable/i);
  });

  it('install packages from the offline mirror, their only apt source', async () => {
    const sources = await sshOk(rs2.address, "grep -h '^deb' /etc/apt/sources.list /etc/apt/sources.list.d/* || true");
    expect(sources.trim()).toBe('deb [trusted=yes] http://10.213.2.1:8213/ ./');
    const update = await sshOk(rs2.address, 'apt-get update 2>&1');
    expect(update).toContain('http://10.213.2.1:8213');
    expect(update).not.toMatch(/^(W|E):/m);
    await sshOk(rs2.address, 'DEBIAN_FRONTEND=noninteractive apt-get install -y -q ipvsadm >/dev/null 2>&1');
    expect(await sshOk(rs2.address, 'dpkg-query -W -f=\'${Status}\' ipvsadm')).toBe('install ok installed');
    // Installed on rs2 only.
    expect((await ssh(rs1.address, 'command -v ipvsadm')).code).not.toBe(0);
  }, 60_000);

  it('reset throws one host’s changes away and leaves the others running untouched', async () => {
    for (const host of [rs1, rs2]) await sshOk(host.address, `echo changed > /root/marker && ip addr add 10.213.2.254/32 dev lo`);
    const rs2Sshd = (await sshOk(rs2.address, 'cat /run/sshd.pid')).trim();
    const rs1HostKey = (await sshOk(rs1.address, 'cat /etc/ssh/ssh_host_ed25519_key.pub')).trim();

    await labReset({ host: rs1.name });

    expect((await ssh(rs1.address, 'test -e /root/marker')).code).toBe(1);
    expect(await sshOk(rs1.address, 'ip -o addr show dev lo')).not.toContain('10.213.2.254');
    expect((await sshOk(rs1.address, 'cat /proc/sys/net/ipv4/conf/all/arp_ignore')).trim()).toBe('0');
    expect((await sshOk(rs1.address, 'uname -n')).trim()).toBe(rs1.name);
    expect((await sshOk(rs1.address, 'cat /etc/ssh/ssh_host_ed25519_key.pub')).trim()).toBe(rs1HostKey);

    expect((await sshOk(rs2.address, 'cat /root/marker')).trim()).toBe('changed');
    expect(await sshOk(rs2.address, 'ip -o addr show dev lo')).toContain('10.213.2.254');
    expect((await sshOk(rs2.address, 'cat /run/sshd.pid')).trim()).toBe(rs2Sshd);
  });

  it('status says which hosts run and whose ssh answers', async () => {
    const running = await labStatus();
    expect(running?.map((host) => [host.name, host.running, host.sshBanner?.startsWith('SSH-2.0-')])).toEqual(TEST_HOSTS.map((host) => [host.name, true, true]));
    // Stop rs2's sshd listener (this session's own sshd process survives it).
    await sshOk(rs2.address, 'kill "$(cat /run/sshd.pid)"');
    const stopped = await labStatus();
    const silent = stopped?.find((host) => host.name === rs2.name);
    expect(silent?.running).toBe(true);
    expect(silent?.sshBanner).toBeUndefined();
    expect(stopped?.filter((host) => host.sshBanner !== undefined).map((host) => host.name)).toEqual([dir1.name, dir2.name, rs1.name]);
    await labReset({ host: rs2.name });
    expect((await labStatus())?.every((host) => host.sshBanner !== undefined)).toBe(true);
  });

  it('lab up keeps the healthy hosts running and starts a crashed one again on its disk, saying which', async () => {
    // On the disk (kept by a restart) and in /run (a tmpfs: gone when the host starts again).
    for (const host of TEST_HOSTS) await sshOk(host.address, `echo ${host.name} > /root/disk-marker && echo ${host.name} > /run/running-marker`);
    const healthy = [dir1, dir2, rs1];
    const initsBefore = await Promise.all(healthy.map((host) => namespaceHostInit(host.name)));
    expect(initsBefore.every((pid) => pid !== undefined)).toBe(true);
    await killNamespaceHost(rs2.name);

    const up = await command(process.execPath, ['--import', 'tsx', LAB_CLI, 'lab', 'up', '-i', inventoryFile], 60_000);
    expect(up.code, up.stderr).toBe(0);
    expect(up.stdout).toMatch(/^ {2}rs2 +namespace +10\.213\.2\.253 +restarted on its disk \(its processes had ended\); ssh answered after \d+\.\d s$/m);
    for (const host of healthy) expect(up.stdout).toMatch(new RegExp(`^ {2}${host.name} +namespace +${host.address.replaceAll('.', '\\.')} +kept running$`, 'm'));

    // The healthy hosts ran on untouched: the same init, /run as it was.
    expect(await Promise.all(healthy.map((host) => namespaceHostInit(host.name)))).toEqual(initsBefore);
    for (const host of healthy) expect((await sshOk(host.address, 'cat /root/disk-marker /run/running-marker')).split('\n')).toEqual([host.name, host.name, '']);
    // The crashed host is back as itself (ssh checks its host key strictly), on the disk it had.
    expect((await sshOk(rs2.address, 'uname -n; cat /root/disk-marker')).split('\n')).toEqual([rs2.name, rs2.name, '']);
    expect((await ssh(rs2.address, 'test -e /run/running-marker')).code).toBe(1);
  }, 90_000);
});
