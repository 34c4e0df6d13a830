// How VMs and the lab's dockerd are launched and cleaned up, checked without launching them.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { CGROUP_PARENT_PREFIX, dockerdArguments, dockerdFiles, mountPointsUnder, shimSocketPath } from '../../../src/lab/container/dockerd.ts';
import { GUEST_SETUP } from '../../../src/lab/guest-config.ts';
import { INITRAMFS_INIT, VM_INIT } from '../../../src/lab/vm/guest-scripts.ts';
import type { VmImage } from '../../../src/lab/vm/image.ts';
import { qemuArguments, vmFiles } from '../../../src/lab/vm/qemu.ts';

const image: VmImage = {
  key: 'k',
  dir: '/cache/vm-image/k',
  disk: '/cache/vm-image/k/disk.img',
  vmlinuz: '/cache/vm-image/k/vmlinuz',
  initrd: '/cache/vm-image/k/initrd.img',
  kernelVersion: '6.1.0-56-amd64',
  kernelPackage: 'linux-image-6.1.0-56-amd64',
};

/** The values that follow each occurrence of `flag`. */
function valuesOf(args: string[], flag: string): string[] {
  return args.flatMap((arg, index) => (arg === flag ? [args[index + 1] ?? ''] : []));
}

describe('qemuArguments', () => {
  const files = vmFiles('/cache/hosts/dir1', 'dir1');
  const nics = [
    { tap: 'lab-dir1-0', mac: '52:54:00:00:00:01', addresses: ['10.213.9.10/24'] },
    { tap: 'lab-dir1-1', mac: '52:54:00:00:00:02', addresses: [] },
  ];
  const args = qemuArguments(files, image, nics, 1024, 2);

  it('runs TCG (KVM does not work on the lab machine) with the memory and CPUs asked for', () => {
    expect(valuesOf(args, '-accel')).toEqual(['tcg']);
    expect(valuesOf(args, '-cpu')).toEqual(['max']);
    expect(valuesOf(args, '-m')).toEqual(['1024']);
    expect(valuesOf(args, '-smp')).toEqual(['2']);
  });

  it('boots the image kernel and initramfs, root overlay first (vda), configuration read-only second (vdb)', () => {
    expect(valuesOf(args, '-kernel')).toEqual([image.vmlinuz]);
    expect(valuesOf(args, '-initrd')).toEqual([image.initrd]);
    expect(valuesOf(args, '-append')[0]).toContain('console=ttyS0');
    const drives = valuesOf(args, '-drive');
    expect(drives[0]).toBe(`file=${files.overlay},format=qcow2,if=none,id=root,cache=unsafe`);
    expect(drives[1]).toBe(`file=${files.configDisk},format=raw,if=none,id=config,readonly=on`);
    expect(valuesOf(args, '-device').filter((device) => device.startsWith('virtio-blk-pci'))).toEqual(['virtio-blk-pci,drive=root', 'virtio-blk-pci,drive=config']);
  });

  it('puts each NIC on its tap device, in order (eth0, eth1), with its MAC, no qemu network scripts and no boot ROM', () => {
    expect(valuesOf(args, '-netdev')).toEqual(['tap,id=net0,ifname=lab-dir1-0,script=no,downscript=no', 'tap,id=net1,ifname=lab-dir1-1,script=no,downscript=no']);
    expect(valuesOf(args, '-device').filter((device) => device.startsWith('virtio-net-pci'))).toEqual([
      'virtio-net-pci,netdev=net0,mac=52:54:00:00:00:01,romfile=',
      'virtio-net-pci,netdev=net1,mac=52:54:00:00:00:02,romfile=',
    ]);
    expect(args).toContain('-nodefaults');
  });

  it('logs the console to a file, listens for control on the second serial port, and daemonizes with a pid file', () => {
    expect(valuesOf(args, '-serial')).toEqual(['chardev:console', 'chardev:control']);
    expect(valuesOf(args, '-chardev')).toEqual([`file,id=console,path=${files.consoleLog}`, `socket,id=control,path=${files.controlSocket},server=on,wait=off`]);
    expect(args).toContain('-daemonize');
    expect(valuesOf(args, '-pidfile')).toEqual([files.pidFile]);
  });

  it('keeps every file of the VM in its directory', () => {
    for (const file of [files.overlay, files.configDisk, files.consoleLog, files.controlSocket, files.pidFile]) expect(file.startsWith('/cache/hosts/dir1/')).toBe(true);
    // The console log is where the lab core looks when a host does not answer ssh.
    expect(files.consoleLog).toBe('/cache/hosts/dir1/console.log');
  });

  it('refuses VM names that are not plain names', () => {
    expect(() => vmFiles('/cache/hosts/x', '../etc')).toThrow(/cannot name a lab VM/);
  });
});

describe('dockerdArguments', () => {
  const files = dockerdFiles('/cache/docker');
  const args = dockerdArguments(files);

  it('leaves the firewall, IP forwarding and bridges of this machine alone', () => {
    for (const flag of ['--iptables=false', '--ip6tables=false', '--ip-forward=false', '--ip-masq=false', '--bridge=none']) expect(args).toContain(flag);
  });

  it('keeps every file under the lab directory and ignores /etc/docker/daemon.json', () => {
    expect(valuesOf(args, '--data-root')).toEqual(['/cache/docker/data']);
    expect(valuesOf(args, '--exec-root')).toEqual(['/cache/docker/exec']);
    expect(valuesOf(args, '--pidfile')).toEqual(['/cache/docker/dockerd.pid']);
    expect(valuesOf(args, '--host')).toEqual(['unix:///cache/docker/docker.sock']);
    expect(valuesOf(args, '--config-file')).toEqual(['/cache/docker/daemon.json']);
    expect(valuesOf(args, '--cgroup-parent')).toEqual([files.cgroupParent]);
  });

  it("puts the containers of each lab's dockerd into a cgroup of their own", () => {
    expect(files.cgroupParent.startsWith(CGROUP_PARENT_PREFIX)).toBe(true);
    expect(dockerdFiles('/cache/docker').cgroupParent).toBe(files.cgroupParent);
    expect(dockerdFiles('/other-cache/docker').cgroupParent).not.toBe(files.cgroupParent);
  });
});

describe('mountPointsUnder', () => {
  const mountinfo = [
    '42 27 254:0 /x /lab/docker/data rw,relatime shared:1 - ext4 /dev/vda rw',
    '43 42 0:50 / /lab/docker/data/overlay2/abc/merged rw - overlay overlay rw',
    '44 27 0:4 net:[4026532] /lab/docker/exec/netns/c038 rw - nsfs nsfs rw',
    '45 27 0:51 / /lab/docker-other/data rw - ext4 /dev/vda rw',
    '46 27 0:52 / /lab/docker/with\\040space rw - tmpfs tmpfs rw',
    '47 27 0:53 / /elsewhere rw - tmpfs tmpfs rw',
  ].join('\n');

  it('lists the mounts under a directory, deepest first, without its namesakes', () => {
    expect(mountPointsUnder(mountinfo, '/lab/docker')).toEqual([
      '/lab/docker/data/overlay2/abc/merged',
      '/lab/docker/exec/netns/c038',
      '/lab/docker/with space',
      '/lab/docker/data',
    ]);
  });
});

describe('shimSocketPath', () => {
  it("follows containerd's formula (checked against a socket a real shim left)", () => {
    expect(shimSocketPath('/tmp/labdev/cache/docker/exec/containerd/containerd.sock', 'cb023dce41fc170b98e9b514792ad6363e5364b90b33ec592694927a6626642b')).toBe(
      '/run/containerd/s/dfe3a670dcdb588217173cbc7f5b11a5e6e3e6d264cdfab73f6c4e23e4464355',
    );
  });
});

describe('guest scripts', () => {
  const check = (shell: string[], script: string): void => {
    const result = spawnSync(shell[0]!, [...shell.slice(1), '-n'], { input: script, encoding: 'utf8' });
    if (result.error) return; // this machine lacks the shell; the integration tests boot the scripts
    expect(result.status, result.stderr).toBe(0);
  };

  it('parse in the shells that run them', () => {
    check(['dash'], GUEST_SETUP);
    check(['busybox', 'sh'], GUEST_SETUP);
    check(['bash'], VM_INIT);
    check(['busybox', 'sh'], INITRAMFS_INIT);
  });

  it('use no bash-only syntax where dash or busybox runs them', () => {
    for (const script of [GUEST_SETUP, INITRAMFS_INIT]) {
      for (const bashism of [/\[\[ /, /(^|\s)\$'/m, /\becho -e\b/, /(^|[;\s])local\s/m, /^\s*function\s/m]) expect(script).not.toMatch(bashism);
    }
  });
});
