// A cheap identity for a directory tree (a rootfs): every entry's path, type, mode, owner, size,
// mtime and link target. Anything that changes a file changes its size or mtime, so caches built
// from the tree (the VM disk image, the container image) are rebuilt exactly when it changed,
// without reading its ~300 MB of contents.
import { createHash } from 'node:crypto';
import { lstat, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';

export async function treeFingerprint(root: string): Promise<string> {
  const hash = createHash('sha256');
  const visit = async (relative: string): Promise<void> => {
    const path = join(root, relative);
    const stats = await lstat(path);
    const target = stats.isSymbolicLink() ? await readlink(path) : '';
    hash.update(`${relative}\0${stats.mode}\0${stats.uid}:${stats.gid}\0${stats.size}\0${stats.mtimeMs}\0${target}\n`);
    if (!stats.isDirectory()) return;
    const names = (await readdir(path)).sort();
    for (const name of names) await visit(relative === '' ? name : `${relative}/${name}`);
  };
  await visit('');
  return hash.digest('hex');
}
