// VM hosts: a Debian host with a kernel of its own, for what the machine's kernel cannot do (IPVS:
// the directors). qemu with TCG (KVM does not work on the lab's machine kind) boots the Debian
// kernel on a copy-on-write overlay of the lab's VM image (built once from the lab's rootfs, see
// vm/image.ts); tap devices put its NICs on the lab bridges, on the same L2 segment as the other
// hosts (LVS-DR forwards to real servers by MAC). Everything of a VM lives in its host directory,
// so `lab reset` (a new directory) gives it a fresh disk, and `lab up` after its qemu ended boots
// it again on the overlay it had (startVm keeps an overlay of the same image).
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import type { HostStartContext, LabContext, LabHostDriver } from './driver.ts';
import type { LabPaths } from './paths.ts';
import { hostLinkName, labMacAddress } from './naming.ts';
import { findProcesses, findProcessesUsing, processStartTime } from './processes.ts';
import type { LabResource } from './state.ts';
import { ensureVmImage, VM_IMAGE_DIR, VM_IMAGE_TOOLS, type VmImage } from './vm/image.ts';
import { GUEST_KERNEL_DIR } from './vm/kernel.ts';
import { killVm, QEMU_TOOLS, startVm, vmFiles } from './vm/qemu.ts';
import { createTap } from './vm/tap.ts';

/** The image of each lab cache, looked up once per `lab up` (every VM shares it) or `lab reset`. */
const images = new Map<string, Promise<VmImage>>();

function vmImage({ paths, log }: LabContext): Promise<VmImage> {
  let image = images.get(paths.cache);
  if (image === undefined) {
    image = ensureVmImage({ rootfs: paths.rootfs, cacheDir: paths.cache, log }).then(({ image: ensured, built, buildSeconds }) => {
      if (built) log(`built the lab VM image (${ensured.kernelPackage}) in ${(buildSeconds ?? 0).toFixed(0)} s`);
      return ensured;
    });
    images.set(paths.cache, image);
    // A failed build is not remembered: the next `lab up` in this process tries again.
    void image.catch(() => images.delete(paths.cache));
  }
  return image;
}

/** What `lab down` needs to stop a VM: its directory (with its overlay, named in qemu's command line). */
interface VmRecord {
  dir: string;
  name: string;
}

/** The record, checked to name a host directory of this lab (its files are removed). */
function vmRecord(data: Record<string, unknown>, paths: LabPaths): VmRecord {
  const { dir, name } = data;
  if (typeof dir !== 'string' || typeof name !== 'string' || path.dirname(dir) !== paths.hosts) throw new Error(`not a record of a VM of this lab: ${JSON.stringify(data)}`);
  return { dir, name };
}

export const vmDriver: LabHostDriver = {
  kind: 'vm',
  tools: [...VM_IMAGE_TOOLS, ...QEMU_TOOLS],
  // TCG boots to sshd in 8-15 s on the lab's machine kind; more when the machine is busy.
  sshReadyTimeoutMs: 90_000,

  async prepare(context: LabContext): Promise<void> {
    // Looked up afresh (the rootfs may have been rebuilt since an earlier `lab up` of this process),
    // and built, the first time (10-20 s: the kernel download, a copy of the rootfs, the ext4
    // image), before any host starts.
    images.delete(context.paths.cache);
    await vmImage(context);
  },

  async base(context: LabContext): Promise<string> {
    return `VM image ${(await vmImage(context)).key}`;
  },

  async start(context: HostStartContext): Promise<void> {
    const { host, dir, files, record, log } = context;
    const image = await vmImage(context);
    const nics = host.interfaces.map((iface, i) => ({
      tap: hostLinkName(host.index, i, 't'),
      bridge: iface.bridge,
      mac: labMacAddress(`${host.name}/${iface.name}`),
      addresses: [`${iface.address}/${iface.prefix}`],
    }));
    for (const nic of nics) {
      await record({ type: 'link', name: nic.tap });
      await createTap(nic.tap, nic.bridge);
    }
    // Recorded before qemu starts: `lab down` finds a qemu that is still starting by its overlay.
    await record({ type: 'driver', kind: 'vm', data: { dir, name: host.name } satisfies VmRecord });
    const running = await startVm({ files: vmFiles(dir, host.name), image, nics, hostname: host.name, guestFiles: files, sshPort: host.sshPort, log });
    // Also as a process, so the lab sees a VM that stopped (and `lab status` shows it).
    const startTime = await processStartTime(running.pid);
    if (startTime !== undefined) await record({ type: 'process', pid: running.pid, startTime, what: `qemu of ${host.name}` });
  },

  async release(data: Record<string, unknown>, { paths }: LabContext): Promise<void> {
    const { dir, name } = vmRecord(data, paths);
    await killVm(vmFiles(dir, name));
  },

  async leftovers({ paths }: LabContext): Promise<LabResource[]> {
    const leftovers: LabResource[] = [];
    // VMs of host directories no state file names.
    for (const { pid, startTime } of await findProcesses(['qemu-system', `${paths.hosts}/`])) leftovers.push({ type: 'process', pid, startTime, what: 'qemu of a lab VM' });
    // A build of the kernel or the image whose `lab up` was killed: its tools (cp, mke2fs, dpkg) may still run.
    for (const buildsDir of [path.join(paths.cache, VM_IMAGE_DIR), path.join(paths.cache, GUEST_KERNEL_DIR)]) {
      for (const name of await readdir(buildsDir).catch(() => [] as string[])) {
        const builder = /\.partial-(\d+)$/.exec(name)?.[1];
        if (builder === undefined || (await isAlive(Number(builder)))) continue;
        const partial = path.join(buildsDir, name);
        for (const { pid, startTime } of await findProcessesUsing(partial)) leftovers.push({ type: 'process', pid, startTime, what: `build in ${partial}` });
        leftovers.push({ type: 'path', path: partial });
      }
    }
    // In release order (the processes before their directories), as the core's leftover scan lists them.
    return leftovers;
  },
};

async function isAlive(pid: number): Promise<boolean> {
  return (await processStartTime(pid)) !== undefined;
}
