// Container hosts: a Debian host in a container of the lab's own dockerd (started by `lab up` with
// flags that leave the machine's firewall, forwarding and bridges alone: container/dockerd.ts),
// from an image imported once from the lab's rootfs. The lab gives it its interfaces itself (veth
// pairs on the lab bridges), and the host runs sshd, like every lab host: the runner reaches it
// over ssh until the docker connector exists.
import path from 'node:path';
import { ensureImage, labContainers, removeContainer, restartContainer, startContainer } from './container/container.ts';
import { DOCKERD_TOOLS, dockerdLeftOver, runningDockerd, startDockerd, stopDockerd, type Dockerd } from './container/dockerd.ts';
import type { HostStartContext, LabContext, LabHostDriver } from './driver.ts';
import type { LabPaths } from './paths.ts';
import { hostLinkName, labMacAddress, LAB_PREFIX } from './naming.ts';
import { processStartTime } from './processes.ts';
import type { LabHost } from './settings.ts';
import type { LabResource } from './state.ts';

interface ContainerRuntime {
  dockerd: Dockerd;
  image: string;
}

/** The lab's dockerd: its data root (the imported image) stays in the cache across labs. */
export function labDockerDir(paths: LabPaths): string {
  return path.join(paths.cache, 'docker');
}

/** The lab's container of a host, as its dockerd names it. */
export function labContainerName(hostName: string): string {
  return `${LAB_PREFIX}-${hostName}`;
}

/** The running dockerd and image of each lab cache, found once per `lab up` (every container shares them) or `lab reset`. */
const runtimes = new Map<string, Promise<ContainerRuntime>>();

/**
 * Starts the lab's dockerd, or finds the one `lab up` started (`lab reset` runs in another
 * process), and imports the image when the rootfs changed. The caller has recorded the dockerd.
 */
function containerRuntime({ paths, log }: LabContext): Promise<ContainerRuntime> {
  let runtime = runtimes.get(paths.cache);
  if (runtime === undefined) {
    runtime = (async () => {
      const dockerd = await startDockerd(labDockerDir(paths), { log });
      const started = Date.now();
      const { image, imported } = await ensureImage(dockerd, { rootfs: paths.rootfs });
      if (imported) log(`imported the lab's container image ${image} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
      return { dockerd, image };
    })();
    runtimes.set(paths.cache, runtime);
    // A failure is not remembered: the next attempt in this process tries again.
    void runtime.catch(() => runtimes.delete(paths.cache));
  }
  return runtime;
}

export const containerDriver: LabHostDriver = {
  kind: 'container',
  tools: DOCKERD_TOOLS,
  // startContainer returns once sshd listens: the core's wait is only the first answer.
  sshReadyTimeoutMs: 15_000,

  async prepare(context: LabContext, record: (resource: LabResource) => Promise<void>, running: readonly LabHost[]): Promise<void> {
    const dir = labDockerDir(context.paths);
    // A dockerd found by an earlier `lab up` of this process may have been stopped since.
    runtimes.delete(context.paths.cache);
    await record({ type: 'driver', kind: 'container', data: { dockerd: dir } });
    const { dockerd } = await containerRuntime(context);
    // Containers of an earlier lab whose dockerd was killed are still in its data root (stopped);
    // those of the running lab are its hosts' disks.
    const kept = new Set(running.map((host) => labContainerName(host.name)));
    for (const name of await labContainers(dockerd)) if (!kept.has(name)) await removeContainer(dockerd, name, []);
  },

  async base(context: LabContext): Promise<string> {
    return `container image ${(await containerRuntime(context)).image}`;
  },

  async start(context: HostStartContext): Promise<void> {
    const { host, files, record, disk } = context;
    const { dockerd, image } = await containerRuntime(context);
    const nics = host.interfaces.map((iface, i) => ({
      hostIfname: hostLinkName(host.index, i, 'c'),
      bridge: iface.bridge,
      mac: labMacAddress(`${host.name}/${iface.name}`),
      addresses: [`${iface.address}/${iface.prefix}`],
    }));
    for (const nic of nics) await record({ type: 'link', name: nic.hostIfname });
    const name = labContainerName(host.name);
    await record({ type: 'driver', kind: 'container', data: { container: name, dockerd: dockerd.dir } });
    const options = { name, image, hostname: host.name, nics, files, sshPort: host.sshPort };
    const container = await (disk === 'kept' ? restartContainer(dockerd, options) : startContainer(dockerd, options));
    // Its init as a process, so the lab sees a container that stopped (and `lab status` shows it).
    const startTime = await processStartTime(container.pid);
    if (startTime !== undefined) await record({ type: 'process', pid: container.pid, startTime, what: `init of container ${name}` });
  },

  async release(data: Record<string, unknown>, context: LabContext): Promise<void> {
    const { container, dockerd } = data;
    // Stopping a dockerd unmounts and removes what is below its directory: only the lab's own.
    if (dockerd !== labDockerDir(context.paths)) throw new Error(`not a record of this lab's dockerd (${labDockerDir(context.paths)}): ${JSON.stringify(data)}`);
    if (typeof container === 'string') {
      // Without its dockerd the container is stopped already; stopping the dockerd cleans up the rest.
      const running = await runningDockerd(dockerd);
      if (running !== undefined) await removeContainer(running, container, []);
      return;
    }
    runtimes.delete(context.paths.cache);
    await stopDockerd(dockerd);
  },

  async leftovers({ paths }: LabContext): Promise<LabResource[]> {
    const dir = labDockerDir(paths);
    return (await dockerdLeftOver(dir)) ? [{ type: 'driver', kind: 'container', data: { dockerd: dir } }] : [];
  },
};
