// A real Docker engine for integration tests: the lab's private dockerd (firewall untouched, every
// file under one directory), an image imported from the lab's Debian rootfs when this machine has
// built it (or on request), else from a tiny busybox rootfs made here, and containers to run
// tests against.
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { mkdir, rm, symlink, writeFile, copyFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { ensureImage } from '../../src/lab/container/container.ts';
import { docker, startDockerd, stopDockerd, type Dockerd } from '../../src/lab/container/dockerd.ts';
import { labPaths } from '../../src/lab/paths.ts';
import { ensureRootfs } from '../../src/lab/rootfs.ts';

/** Kept across runs, so the image is imported once; dockerd itself is stopped by every test file. */
const DOCKER_DIR = join(tmpdir(), 'provision-docker-test');
const IMAGE_REPOSITORY = 'provision-test/target';
const BUSYBOX = '/usr/bin/busybox';

export interface TestContainer {
  name: string;
  id: string;
  /** the container's init on this machine: its pid namespace is the container's */
  initPid: number;
}

export interface TestDocker {
  dockerd: Dockerd;
  /** the engine address, as a host's docker.host takes it */
  host: string;
  image: string;
  /** which rootfs the image was made from */
  rootfs: 'lab' | 'busybox';
  /** runs a container that sleeps (under docker-init, which reaps orphans), with `binds` mounted at the same paths */
  run(name: string, options?: { binds?: string[]; user?: string }): Promise<TestContainer>;
  /** docker CLI against this engine */
  cli(args: string[]): Promise<string>;
  /** removes the containers it ran, then stops dockerd */
  stop(): Promise<void>;
}

/**
 * Starts the engine with an image of the lab's Debian 12 rootfs when it is built (its manifest is
 * written last), else of busybox; `debian: true` builds the lab's rootfs first if needed (once,
 * about a minute), for tests that need a full userland: busybox-static has no cksum, which the
 * runner's apply scripts use.
 */
export async function startTestDocker(options: { debian?: boolean } = {}): Promise<TestDocker> {
  const started = Date.now();
  const lab = labPaths();
  if (options.debian) await ensureRootfs(lab, (line) => console.log(line));
  const dockerd = await startDockerd(DOCKER_DIR);
  const useLab = existsSync(lab.rootfsManifest) && existsSync(join(lab.rootfs, 'bin/sh'));
  const rootfs = useLab ? lab.rootfs : await busyboxRootfs(join(DOCKER_DIR, 'busybox-rootfs'));
  const { image, imported } = await ensureImage(dockerd, { rootfs, repository: IMAGE_REPOSITORY });
  console.log(`docker: engine and image (${useLab ? 'lab rootfs' : 'busybox'}, ${imported ? 'imported' : 'cached'}) ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  const names: string[] = [];
  const cli = async (args: string[]) => (await docker(dockerd, args)).stdout.trim();
  return {
    dockerd,
    host: dockerd.host,
    image,
    rootfs: useLab ? 'lab' : 'busybox',
    cli,
    async run(name, options = {}) {
      await docker(dockerd, ['rm', '--force', name], { reject: false });
      names.push(name);
      const id = await cli([
        'run', '--detach', '--init', '--network', 'none', '--name', name,
        ...(options.user === undefined ? [] : ['--user', options.user]),
        ...(options.binds ?? []).flatMap((path) => ['--volume', `${path}:${path}`]),
        image, 'sleep', '2147483647',
      ]);
      const initPid = Number(await cli(['inspect', '--format', '{{.State.Pid}}', id]));
      return { name, id, initPid };
    },
    async stop() {
      for (const name of names) await docker(dockerd, ['rm', '--force', name], { reject: false });
      await stopDockerd(DOCKER_DIR);
    },
  };
}

/**
 * A root filesystem of busybox-static: every applet linked in /bin, root and nobody in
 * /etc/passwd. Enough for the connector contract and a playbook of file operations.
 */
async function busyboxRootfs(dir: string): Promise<string> {
  if (existsSync(join(dir, 'bin/sh'))) return dir;
  await rm(dir, { recursive: true, force: true });
  for (const sub of ['bin', 'etc', 'tmp', 'root', 'proc', 'sys', 'dev', 'run']) await mkdir(join(dir, sub), { recursive: true });
  await copyFile(BUSYBOX, join(dir, 'bin/busybox'));
  const applets = (await execa(BUSYBOX, ['--list'])).stdout.split('\n').filter((name) => /^[\w.[-]+$/.test(name) && name !== 'busybox');
  for (const applet of applets) await symlink('busybox', join(dir, 'bin', applet));
  await writeFile(join(dir, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/sh\n');
  await writeFile(join(dir, 'etc/group'), 'root:x:0:\nnogroup:x:65534:\n');
  await execa('chmod', ['1777', join(dir, 'tmp')]);
  return dir;
}

/**
 * Whether the process with `pid` in the container's pid namespace is gone or a zombie: the pid a
 * shell in the container prints is not this machine's, so it is looked up by NSpid.
 */
export function containerProcessIsDead(container: TestContainer, pid: string): boolean {
  const namespace = readlinkSync(`/proc/${container.initPid}/ns/pid`);
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readlinkSync(`/proc/${entry}/ns/pid`) !== namespace) continue;
      const status = readFileSync(`/proc/${entry}/status`, 'utf8');
      if (/^NSpid:.*\s(\d+)$/m.exec(status)?.[1] === pid) return /^State:\s+Z/m.test(status);
    } catch {
      // it ended meanwhile
    }
  }
  return true;
}
