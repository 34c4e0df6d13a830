// Namespace hosts: a Debian host that is a set of namespaces on this machine (network, mount, UTS,
// IPC, PID), with a copy-on-write root (overlayfs: a per-host upper layer over the shared rootfs)
// and a real sshd. Fast (a few hundred ms each), real daemons, but the machine's kernel: no IPVS.
//
// Every mount of a namespace host is made inside its own mount namespace, so killing its processes
// removes them all; on the machine it leaves only its network namespace and veth links, recorded
// for `lab down`, and its upper layer, on which `lab up` starts it again when its processes ended.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, open, readFile } from 'node:fs/promises';
import path from 'node:path';
import { run } from './command.ts';
import { HOST_CONSOLE_LOG, type HostStartContext, type LabContext, type LabHostDriver } from './driver.ts';
import { writeHostFiles } from './host-files.ts';
import { hostLinkName, labMacAddress, netnsName } from './naming.ts';
import { disableIpv6 } from './network.ts';
import { processStartTime } from './processes.ts';
import { readManifest } from './rootfs.ts';
import type { LabResource } from './state.ts';

/**
 * Runs as PID 1 of the host's PID namespace, in its fresh mount and UTS namespaces, with the
 * machine's tools: mounts the overlay root and what a Debian system expects (proc, sysfs, /dev,
 * /run), then becomes the host's init inside the root. /proc/sys is read-only except
 * /proc/sys/net: other sysctls are shared with the machine (the network ones are the host's own).
 * The init is a shell that starts sshd and reaps orphans (dash's wait reaps any child) forever: a
 * role may restart sshd, which must not end the host.
 */
const INIT_SCRIPT = `set -eu
root=$1 upper=$2 work=$3 lower=$4 name=$5
mount -t overlay overlay -o "lowerdir=$lower,upperdir=$upper,workdir=$work" "$root"
mount -t proc -o nosuid,nodev,noexec proc "$root/proc"
mount --bind "$root/proc/sys" "$root/proc/sys"
mount --bind "$root/proc/sys/net" "$root/proc/sys/net"
mount -o remount,bind,ro,nosuid,nodev,noexec "$root/proc/sys"
mount -t sysfs -o ro,nosuid,nodev,noexec sysfs "$root/sys"
mount -t tmpfs -o mode=755,nosuid tmpfs "$root/dev"
for device in null zero full random urandom tty; do
  : > "$root/dev/$device"
  mount --bind "/dev/$device" "$root/dev/$device"
done
mkdir -m 755 "$root/dev/pts"
mkdir -m 1777 "$root/dev/shm"
mount -t devpts -o newinstance,ptmxmode=0666,mode=0620,gid=5,nosuid,noexec devpts "$root/dev/pts"
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$root/dev/shm"
ln -s pts/ptmx "$root/dev/ptmx"
ln -s /proc/self/fd "$root/dev/fd"
ln -s /proc/self/fd/0 "$root/dev/stdin"
ln -s /proc/self/fd/1 "$root/dev/stdout"
ln -s /proc/self/fd/2 "$root/dev/stderr"
mount -t tmpfs -o mode=755,nosuid,nodev tmpfs "$root/run"
mkdir -m 755 "$root/run/sshd"
mkdir -m 1777 "$root/run/lock"
hostname "$name"
exec chroot "$root" /bin/sh -c '
/usr/sbin/sshd -D -e &
while :; do
  sleep 2147483647 &
  wait $! || :
done'
`;

const NETNS_DIR = '/run/netns';

export const namespaceDriver: LabHostDriver = {
  kind: 'namespace',
  // unshare, ip and the rootfs tools are the lab's own (LAB_TOOLS)
  tools: [],
  sshReadyTimeoutMs: 15_000,

  async prepare(_context: LabContext, record: (resource: LabResource) => Promise<void>): Promise<void> {
    // `ip netns add` makes /run/netns a mount point the first time and never undoes it.
    if (!(await isMountPoint(NETNS_DIR))) await record({ type: 'mount', path: NETNS_DIR, shared: true, removeDir: !existsSync(NETNS_DIR) });
  },

  async base({ paths }: LabContext): Promise<string> {
    // An upper layer holds a host's changes to one build of the rootfs: it fits no other.
    return `the rootfs built ${(await readManifest(paths.rootfsManifest))?.builtAt ?? 'at an unknown time'}`;
  },

  // On a kept disk the upper layer is the one the host had (what provisioning changed stays) and
  // `files` are only its host keys; everything else (namespace, links, mounts, init) is made anew.
  async start({ host, dir, rootfs, files, bridges, record }: HostStartContext): Promise<void> {
    const netns = netnsName(host.name);
    const layers = { upper: path.join(dir, 'upper'), work: path.join(dir, 'work'), root: path.join(dir, 'root') };
    for (const layerDir of Object.values(layers)) await mkdir(layerDir, { recursive: true });
    await writeHostFiles(layers.upper, files, rootfs);

    await record({ type: 'netns', name: netns });
    const links = host.interfaces.map((iface, i) => ({ iface, link: hostLinkName(host.index, i, 'e') }));
    for (const { link } of links) await record({ type: 'link', name: link });
    for (const iface of host.interfaces) {
      if (!bridges.some((bridge) => bridge.name === iface.bridge)) throw new Error(`no bridge ${iface.bridge} for ${host.name}'s ${iface.name}`);
    }
    await run('ip', ['-batch', '-'], {
      input: [
        `netns add ${netns}`,
        ...links.flatMap(({ iface, link }) => [
          `link add ${link} address ${labMacAddress(`${host.name}/${iface.name}/machine`)} type veth peer name ${iface.name} address ${labMacAddress(`${host.name}/${iface.name}`)} netns ${netns}`,
          `link set ${link} master ${iface.bridge}`,
        ]),
      ].join('\n'),
    });
    // Bridge ports carry no address of the machine; without this each would get an IPv6 link-local one.
    for (const { link } of links) await disableIpv6(link);
    await run('ip', ['-batch', '-'], { input: links.map(({ link }) => `link set ${link} up`).join('\n') });
    await run('ip', ['-n', netns, '-batch', '-'], {
      input: ['link set lo up', ...links.flatMap(({ iface }) => [`addr add ${iface.address}/${iface.prefix} dev ${iface.name}`, `link set ${iface.name} up`])].join('\n'),
    });

    const console = await open(path.join(dir, HOST_CONSOLE_LOG), 'w');
    let child;
    try {
      child = spawn(
        'ip',
        ['netns', 'exec', netns, 'unshare', '--mount', '--uts', '--ipc', '--pid', '--fork', '--kill-child', 'sh', '-c', INIT_SCRIPT, 'lab-init', layers.root, layers.upper, layers.work, rootfs, host.name],
        { detached: true, stdio: ['ignore', console.fd, console.fd] },
      );
    } finally {
      await console.close();
    }
    child.unref();
    const pid = child.pid;
    const startTime = pid === undefined ? undefined : await processStartTime(pid);
    // A host whose init already ended is caught by the core's ssh wait, which shows its console log.
    if (pid !== undefined && startTime !== undefined) await record({ type: 'process', pid, startTime, what: `init of ${host.name}` });
  },
};

async function isMountPoint(dir: string): Promise<boolean> {
  const mountinfo = await readFile('/proc/self/mountinfo', 'utf8');
  return mountinfo.split('\n').some((line) => line.split(' ')[4] === dir);
}
