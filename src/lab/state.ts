// What the running lab created on this machine, kept in the cache directory so `lab down` can remove
// it all, also after `lab up` crashed half-way. Every resource is recorded BEFORE it is created:
// releasing something that was never made is a no-op, while forgetting something made is a leak.
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { isRunning } from './processes.ts';
import type { LabBridge, LabHost, LabKind } from './settings.ts';

export type LabResource =
  /** a process outside any lab namespace (the package mirror, qemu, dockerd); startTime guards against a reused pid */
  | { type: 'process'; pid: number; startTime: string; what: string }
  /** a network namespace: every process in it is killed, then it is deleted */
  | { type: 'netns'; name: string }
  /** a network interface on the machine (bridge, veth or tap end) */
  | { type: 'link'; name: string }
  /**
   * a mount point on the machine (most lab mounts live in the hosts' own mount namespaces and need
   * none). shared: it may hold other programs' mounts (/run/netns), so it is unmounted only when
   * empty. removeDir: the directory was created with it and goes too.
   */
  | { type: 'mount'; path: string; shared?: boolean; removeDir?: boolean }
  /** a file or directory inside the cache directory, removed recursively */
  | { type: 'path'; path: string }
  /** an iptables rule, deleted with -D */
  | { type: 'iptables'; table: string; chain: string; rule: string[] }
  /** anything else, released by the driver of that host kind (e.g. a docker container) */
  | { type: 'driver'; kind: LabKind; data: Record<string, unknown> };

export interface HostState {
  spec: LabHost;
  /**
   * What its disk was made from (its driver's base(): the rootfs build, the VM image, the container
   * image); `lab up` rebuilds a host whose base is no longer the current one. Unset: unknown.
   */
  base?: string;
  /** in creation order; released in reverse */
  resources: LabResource[];
}

export interface LabState {
  version: 1;
  /** 'starting' until every host answered ssh */
  phase: 'starting' | 'up';
  inventory: string;
  createdAt: string;
  bridges: LabBridge[];
  /** lab-wide resources (bridges, mirror server, firewall openings), in creation order */
  resources: LabResource[];
  hosts: Record<string, HostState>;
  /**
   * The process that uses the lab: the one that brought it up, or the first `lab up` after that
   * one ended. Cleanups of a lab left up by an ended run (CI's) leave a lab whose user still runs.
   */
  user?: { pid: number; startTime: string };
}

/** Whether the process that uses the lab still runs (false when none is recorded). */
export async function labInUse(state: LabState): Promise<boolean> {
  return state.user !== undefined && (await isRunning(state.user.pid, state.user.startTime));
}

/**
 * The state file, written atomically after every change. Writes are serialised, so hosts starting
 * in parallel can record concurrently.
 */
export class StateFile {
  private writes: Promise<void> = Promise.resolve();

  constructor(
    readonly file: string,
    readonly state: LabState,
  ) {}

  static async read(file: string): Promise<StateFile | undefined> {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch {
      return undefined;
    }
    try {
      const state = JSON.parse(text) as LabState;
      if (state.version !== 1 || typeof state.hosts !== 'object' || !Array.isArray(state.resources)) throw new Error('unknown format');
      return new StateFile(file, state);
    } catch (error) {
      // An unreadable state file must not stop `lab down`: the leftover scan still finds what the lab made.
      process.stderr.write(`warning: ignoring the unreadable lab state ${file}: ${(error as Error).message}\n`);
      return undefined;
    }
  }

  /**
   * Records a lab-wide resource (undefined host) or a host's, and waits until it is on disk. A
   * resource recorded already is listed once: `lab up` on a running lab records its bridges again,
   * and a host started again on its disk records its VM or container again.
   */
  async record(host: string | undefined, resource: LabResource): Promise<void> {
    const resources = host === undefined ? this.state.resources : this.hostState(host).resources;
    if (!resources.some((recorded) => isDeepStrictEqual(recorded, resource))) resources.push(resource);
    await this.save();
  }

  /** Forgets resources that are gone (released, or ended by themselves); `host` undefined: lab-wide ones. */
  async forget(host: string | undefined, gone: (resource: LabResource) => boolean): Promise<void> {
    if (host === undefined) this.state.resources = this.state.resources.filter((resource) => !gone(resource));
    else this.hostState(host).resources = this.hostState(host).resources.filter((resource) => !gone(resource));
    await this.save();
  }

  hostState(name: string): HostState {
    const found = this.state.hosts[name];
    if (found === undefined) throw new Error(`lab state has no host ${name}`);
    return found;
  }

  /** A host about to be created, on a new disk made from `base`. */
  async addHost(spec: LabHost, base: string | undefined): Promise<void> {
    this.state.hosts[spec.name] = { spec, ...(base === undefined ? {} : { base }), resources: [] };
    await this.save();
  }

  async removeHost(name: string): Promise<void> {
    delete this.state.hosts[name];
    await this.save();
  }

  async save(): Promise<void> {
    const snapshot = `${JSON.stringify(this.state, null, 2)}\n`;
    const write = this.writes.then(async () => {
      await mkdir(path.dirname(this.file), { recursive: true });
      await writeFile(`${this.file}.tmp`, snapshot);
      await rename(`${this.file}.tmp`, this.file);
    });
    this.writes = write.catch(() => undefined);
    await write;
  }

  async remove(): Promise<void> {
    await this.writes;
    await rm(this.file, { force: true });
  }
}
