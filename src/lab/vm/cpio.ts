// A writer for the "newc" cpio format, the only archive format the kernel unpacks as an initramfs.
// Writing it here (instead of calling `cpio`, which the machine lacks, or busybox's) lets the
// initramfs hold device nodes such as /dev/console without mknod privileges or a staging tree.

export type CpioEntry =
  | { type: 'file'; path: string; data: Buffer | string; mode?: number }
  | { type: 'directory'; path: string; mode?: number }
  | { type: 'symlink'; path: string; target: string }
  | { type: 'char-device'; path: string; major: number; minor: number; mode?: number };

const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;
const S_IFCHR = 0o020000;
const TRAILER = 'TRAILER!!!';
// Every field of a newc header is 8 hex digits, so a value must fit in 32 bits.
const MAX_FIELD = 0xffffffff;

/**
 * The archive of `entries`, in order (a directory must come before what it contains, as the kernel
 * creates entries as it reads them). Owner root, mtime 0, so the same entries give the same bytes.
 */
export function cpioArchive(entries: readonly CpioEntry[]): Buffer {
  const parts: Buffer[] = [];
  let offset = 0;
  const push = (buffer: Buffer): void => {
    parts.push(buffer);
    offset += buffer.length;
  };
  const pad = (): void => {
    const rest = offset % 4;
    if (rest !== 0) push(Buffer.alloc(4 - rest));
  };
  const seen = new Set<string>();
  entries.forEach((entry, index) => {
    const path = archivePath(entry.path);
    if (seen.has(path)) throw new Error(`cpio: "${path}" is in the archive twice`);
    seen.add(path);
    const { mode, data, rdevMajor, rdevMinor } = describe(entry);
    push(header({ ino: index + 1, mode, nlink: entry.type === 'directory' ? 2 : 1, size: data.length, rdevMajor, rdevMinor, nameSize: Buffer.byteLength(path) + 1 }));
    push(Buffer.from(`${path}\0`));
    pad();
    push(data);
    pad();
  });
  push(header({ ino: 0, mode: 0, nlink: 1, size: 0, rdevMajor: 0, rdevMinor: 0, nameSize: TRAILER.length + 1 }));
  push(Buffer.from(`${TRAILER}\0`));
  pad();
  return Buffer.concat(parts);
}

function archivePath(path: string): string {
  const trimmed = path.replace(/^\/+/, '').replace(/\/+$/, '');
  if (trimmed === '' || trimmed.split('/').some((part) => part === '' || part === '.' || part === '..')) {
    throw new Error(`cpio: "${path}" is not a plain relative path`);
  }
  return trimmed;
}

function describe(entry: CpioEntry): { mode: number; data: Buffer; rdevMajor: number; rdevMinor: number } {
  switch (entry.type) {
    case 'file':
      return { mode: S_IFREG | (entry.mode ?? 0o644), data: Buffer.from(entry.data), rdevMajor: 0, rdevMinor: 0 };
    case 'directory':
      return { mode: S_IFDIR | (entry.mode ?? 0o755), data: Buffer.alloc(0), rdevMajor: 0, rdevMinor: 0 };
    case 'symlink':
      return { mode: S_IFLNK | 0o777, data: Buffer.from(entry.target), rdevMajor: 0, rdevMinor: 0 };
    case 'char-device':
      return { mode: S_IFCHR | (entry.mode ?? 0o600), data: Buffer.alloc(0), rdevMajor: entry.major, rdevMinor: entry.minor };
  }
}

function header(fields: { ino: number; mode: number; nlink: number; size: number; rdevMajor: number; rdevMinor: number; nameSize: number }): Buffer {
  const values = [fields.ino, fields.mode, 0, 0, fields.nlink, 0, fields.size, 0, 0, fields.rdevMajor, fields.rdevMinor, fields.nameSize, 0];
  for (const value of values) {
    if (!Number.isInteger(value) || value < 0 || value > MAX_FIELD) throw new Error(`cpio: ${value} does not fit a newc header field`);
  }
  return Buffer.from('070701' + values.map((value) => value.toString(16).padStart(8, '0')).join(''), 'ascii');
}
