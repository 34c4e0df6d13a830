// How one kind of lab host (namespace, vm, container) is created and removed. The lab core owns
// what all kinds share: the bridges (one per subnet, the machine at .1), the package mirror, the
// keys, the state file and `lab down`; a driver plugs its hosts into that.
//
// A driver's start() must record every machine resource BEFORE creating it (context.record), so
// `lab down` can remove it after any crash. Generic resources (process, netns, link, mount, path,
// iptables) are released by the core; anything else is recorded as { type: 'driver', data } and
// released by the driver's release().
import type { HostFile } from './host-files.ts';
import type { MachineTool } from './packages.ts';
import type { LabPaths } from './paths.ts';
import type { LabBridge, LabHost, LabKind } from './settings.ts';
import type { LabResource } from './state.ts';

/** What a host's init, kernel or daemon printed, in its directory: shown when the host fails to answer ssh. */
export const HOST_CONSOLE_LOG = 'console.log';

export interface LabContext {
  paths: LabPaths;
  bridges: readonly LabBridge[];
  /** progress lines for the user */
  log(line: string): void;
}

export interface HostStartContext extends LabContext {
  host: LabHost;
  /**
   * 'new': the host is created; its directory is empty. 'kept': the host ran before and its processes
   * have ended: start it again on the disk it had (its directory, the VM's overlay, the container's
   * filesystem), which holds what provisioning changed.
   */
  disk: 'new' | 'kept';
  /** the host's own working directory (already created; removed by `lab down`) */
  dir: string;
  /** the shared Debian root filesystem (read-only: stack on it, copy it, never change it) */
  rootfs: string;
  /**
   * files to write into the host before its sshd starts: on a new disk every file the host must have
   * (hostname, sshd settings, authorized keys, host keys, apt source); on a kept disk its host keys
   * only (the rest is there, maybe changed by provisioning, and stays as it is)
   */
  files: readonly HostFile[];
  /** records a resource of this host; await it before creating the resource */
  record(resource: LabResource): Promise<void>;
}

export interface LabHostDriver {
  readonly kind: LabKind;
  /** the machine tools this kind runs (installed before anything is built: src/lab/apt.ts) */
  readonly tools: readonly MachineTool[];
  /** how long the core waits for the host's sshd after start() resolved */
  readonly sshReadyTimeoutMs: number;
  /**
   * Work done once per `lab up` before any host of this kind starts (build or check an image,
   * start a daemon); `record` records lab-wide resources; `running` are this kind's hosts of the
   * lab that is up already (their disks must survive it). Optional.
   */
  prepare?(context: LabContext, record: (resource: LabResource) => Promise<void>, running: readonly LabHost[]): Promise<void>;
  /**
   * What a new host of this kind is made from now (after prepare), in words ("VM image 1a2b..."):
   * recorded with each host, and a host made from another base is rebuilt by `lab up`. Optional.
   */
  base?(context: LabContext): Promise<string>;
  /**
   * Creates the host, or starts it again on its kept disk (context.disk): plugs eth0 (and eth1)
   * into host.interfaces[i].bridge with the interface's address, writes `files` into its root,
   * starts its sshd on eth0's address and host.sshPort.
   * May resolve before sshd answers: the core then waits (sshReadyTimeoutMs) and fails early when
   * every process recorded for the host has ended.
   */
  start(context: HostStartContext): Promise<void>;
  /** Releases a { type: 'driver' } resource this driver recorded. Must succeed when it is already gone. */
  release?(data: Record<string, unknown>, context: LabContext): Promise<void>;
  /** This kind's leftovers that no state file names (found by prefix or path), for `lab down`. */
  leftovers?(context: LabContext): Promise<LabResource[]>;
}
