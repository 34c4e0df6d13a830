// The files that make a copy of the shared rootfs into one particular lab host: its name, its
// sshd settings (its own address, key-only root logins, its own host keys), the keys that may log
// in, its apt source (the offline mirror only). Every kind of host gets them: a namespace host in
// its overlay's upper layer, a VM or container in its own image.
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { HostKey } from './keys.ts';
import { mirrorSourceLine } from './mirror.ts';
import type { LabBridge, LabHost } from './settings.ts';

export interface HostFile {
  /** absolute path inside the host */
  path: string;
  /** undefined for a directory */
  content?: string;
  mode: number;
}

export interface HostFilesInput {
  host: LabHost;
  bridges: readonly LabBridge[];
  /** the shared root filesystem (some files are edited copies of its own) */
  rootfs: string;
  authorizedKeys: readonly string[];
  hostKeys: readonly HostKey[];
}

export async function labHostFiles({ host, bridges, rootfs, authorizedKeys, hostKeys }: HostFilesInput): Promise<HostFile[]> {
  const eth0 = host.interfaces[0];
  if (eth0 === undefined) throw new Error(`lab host ${host.name} has no eth0`);
  const bridge = bridges.find((candidate) => candidate.name === eth0.bridge);
  if (bridge === undefined) throw new Error(`lab host ${host.name}: no bridge ${eth0.bridge}`);

  const files: HostFile[] = [
    { path: '/etc/hostname', content: `${host.name}\n`, mode: 0o644 },
    // Only the host itself: name resolution of the other hosts is the roles' business, as on real hosts.
    { path: '/etc/hosts', content: `127.0.0.1\tlocalhost\n${eth0.address}\t${host.name}\n::1\tlocalhost ip6-localhost ip6-loopback\n`, mode: 0o644 },
    {
      path: '/etc/ssh/sshd_config.d/provision-lab.conf',
      content: [
        '# Written by provision lab: this host listens on its own address and takes root logins by key only.',
        `ListenAddress ${eth0.address}:${host.sshPort}`,
        'PermitRootLogin prohibit-password',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'UseDNS no',
        ...hostKeys.map((key) => `HostKey /etc/ssh/ssh_host_${key.type}_key`),
        '',
      ].join('\n'),
      mode: 0o644,
    },
    { path: '/etc/apt/sources.list.d/provision-lab.list', content: `# The lab's offline package mirror (the only source: lab hosts have no route off the machine)\n${mirrorSourceLine(bridge)}\n`, mode: 0o644 },
    { path: '/root/.ssh', mode: 0o700 },
    { path: '/root/.ssh/authorized_keys', content: `${authorizedKeys.join('\n')}\n`, mode: 0o600 },
  ];
  files.push(...(await hostKeyFiles(host.name, hostKeys)));
  // pam_loginuid cannot set the login uid of a process in a container-like host, and sshd then
  // refuses the session: make it optional, as container images do.
  const pamSshd = await readFile(path.join(rootfs, 'etc/pam.d/sshd'), 'utf8').catch(() => undefined);
  const relaxed = pamSshd?.replace(/^(session\s+)required(\s+pam_loginuid\.so)/m, '$1optional$2');
  if (relaxed !== undefined && relaxed !== pamSshd) files.push({ path: '/etc/pam.d/sshd', content: relaxed, mode: 0o644 });
  return files;
}

/** The host's ssh host key pairs as the files sshd reads (/etc/ssh/ssh_host_TYPE_key and .pub). */
export async function hostKeyFiles(hostName: string, hostKeys: readonly HostKey[]): Promise<HostFile[]> {
  const files: HostFile[] = [];
  for (const key of hostKeys) {
    files.push({ path: `/etc/ssh/ssh_host_${key.type}_key`, content: await readFile(key.privateFile, 'utf8'), mode: 0o600 });
    files.push({ path: `/etc/ssh/ssh_host_${key.type}_key.pub`, content: `${key.publicKey} root@${hostName}\n`, mode: 0o644 });
  }
  return files;
}

/**
 * Writes host files below `root` (an overlay's upper layer or an image directory). Missing parent
 * directories take the mode of their counterpart in `lower` (the rootfs), so an upper layer's
 * /root stays 0700 instead of becoming the default 0755.
 */
export async function writeHostFiles(root: string, files: readonly HostFile[], lower: string): Promise<void> {
  for (const file of files) {
    const target = path.join(root, file.path);
    await makeParents(root, path.dirname(file.path), lower);
    if (file.content === undefined) {
      await mkdir(target, { recursive: true, mode: file.mode });
    } else {
      await writeFile(target, file.content, { mode: file.mode });
    }
    await chmod(target, file.mode);
  }
}

async function makeParents(root: string, dir: string, lower: string): Promise<void> {
  let current = '/';
  for (const part of dir.split('/').filter(Boolean)) {
    current = path.posix.join(current, part);
    const target = path.join(root, current);
    if (await stat(target).then(() => true, () => false)) continue;
    const mode = (await stat(path.join(lower, current)).then((info) => info.mode & 0o7777, () => 0o755));
    await mkdir(target, { mode });
    await chmod(target, mode);
  }
}
