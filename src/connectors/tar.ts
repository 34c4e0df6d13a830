// Tar archives in memory, just what the docker connector needs: Docker's archive API moves files
// in and out of a container only as tar streams (PUT/GET /containers/ID/archive). The writer makes
// a one-file POSIX (ustar + pax) archive; the reader understands what Docker (Go's archive/tar)
// and GNU tar write: ustar with prefix, pax extended headers, GNU long names and base-256 sizes.
// Entries are read whole into memory, as the other connectors read files whole.

const BLOCK = 512;
const USTAR_MAGIC = 'ustar\0';
const USTAR_VERSION = '00';
/** ustar's size field holds 11 octal digits. */
const MAX_USTAR_SIZE = 0o77777777777;
const MAX_USTAR_NAME = 100;
/** Headers that describe the next entry (pax 'x', global pax 'g') or hold its long name or link (GNU 'L', 'K'). */
const META_TYPES = ['x', 'g', 'L', 'K'];

export type TarEntryType = 'file' | 'directory' | 'symlink' | 'hardlink' | 'other';

export interface TarEntry {
  /** the path inside the archive, as written (no leading "./" removed) */
  name: string;
  type: TarEntryType;
  /** permission bits (and setuid/setgid/sticky) */
  mode: number;
  uid: number;
  gid: number;
  /** the target of a symlink or hard link */
  linkName: string;
  data: Buffer;
}

export interface TarFileInput {
  name: string;
  data: Buffer;
  mode: number;
  uid: number;
  gid: number;
  /** seconds since the epoch */
  mtime: number;
}

/** A tar archive holding one regular file. Names longer than ustar's 100 bytes go in a pax header. */
export function tarFile(file: TarFileInput): Buffer {
  if (file.data.length > MAX_USTAR_SIZE) throw new Error(`${file.name} is too large for a tar entry (${file.data.length} bytes)`);
  const blocks: Buffer[] = [];
  const nameBytes = Buffer.byteLength(file.name);
  if (nameBytes > MAX_USTAR_NAME) {
    const records = paxRecord('path', file.name);
    blocks.push(header({ name: 'PaxHeader', type: 'x', mode: 0o644, uid: 0, gid: 0, size: records.length, mtime: file.mtime }), padded(records));
  }
  const shortName = nameBytes > MAX_USTAR_NAME ? truncateUtf8(file.name, MAX_USTAR_NAME) : file.name;
  blocks.push(header({ name: shortName, type: '0', mode: file.mode, uid: file.uid, gid: file.gid, size: file.data.length, mtime: file.mtime }));
  blocks.push(padded(file.data));
  blocks.push(Buffer.alloc(2 * BLOCK)); // end of archive
  return Buffer.concat(blocks);
}

/** The entries of an archive, in order. Throws on a damaged archive (bad checksum, cut short). */
export function readTar(archive: Buffer): TarEntry[] {
  const entries: TarEntry[] = [];
  let offset = 0;
  // Extended names and sizes that apply to the next real entry.
  let pending: { path?: string; linkPath?: string; size?: number } = {};
  while (offset + BLOCK <= archive.length) {
    const block = archive.subarray(offset, offset + BLOCK);
    if (block.every((byte) => byte === 0)) break;
    verifyChecksum(block, offset);
    const typeFlag = String.fromCharCode(block[156] ?? 0);
    const isMeta = META_TYPES.includes(typeFlag);
    // A pax size overrides the header's for the entry it describes, never for another extension header.
    const size = (isMeta ? undefined : pending.size) ?? readNumber(block.subarray(124, 136), 'size', offset);
    const dataStart = offset + BLOCK;
    const dataEnd = dataStart + size;
    if (dataEnd > archive.length) throw new Error(`the tar archive is cut short: an entry at offset ${offset} needs ${size} bytes`);
    const data = archive.subarray(dataStart, dataEnd);
    offset = dataStart + Math.ceil(size / BLOCK) * BLOCK;

    // A global pax header ('g') holds defaults such as a comment; none of them matters here.
    if (typeFlag === 'g') continue;
    if (typeFlag === 'x') {
      const records = parsePaxRecords(data);
      if (records.path !== undefined) pending.path = records.path;
      if (records.linkpath !== undefined) pending.linkPath = records.linkpath;
      if (records.size !== undefined) pending.size = readPaxSize(records.size, offset);
      continue;
    }
    if (typeFlag === 'L' || typeFlag === 'K') {
      const text = cString(data);
      if (typeFlag === 'L') pending.path = text;
      else pending.linkPath = text;
      continue;
    }

    // GNU tar's own format has another magic and uses the prefix field for other things.
    const prefix = block.subarray(257, 263).toString('latin1') === USTAR_MAGIC ? cString(block.subarray(345, 500)) : '';
    const ustarName = cString(block.subarray(0, 100));
    entries.push({
      name: pending.path ?? (prefix ? `${prefix}/${ustarName}` : ustarName),
      type: entryType(typeFlag),
      mode: readNumber(block.subarray(100, 108), 'mode', offset) & 0o7777,
      uid: readNumber(block.subarray(108, 116), 'uid', offset),
      gid: readNumber(block.subarray(116, 124), 'gid', offset),
      linkName: pending.linkPath ?? cString(block.subarray(157, 257)),
      data: Buffer.from(data),
    });
    pending = {};
  }
  return entries;
}

interface HeaderFields {
  name: string;
  type: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
}

function header(fields: HeaderFields): Buffer {
  const block = Buffer.alloc(BLOCK);
  block.write(fields.name, 0, MAX_USTAR_NAME, 'utf8');
  writeOctal(block, 100, 8, fields.mode & 0o7777);
  writeOctal(block, 108, 8, fields.uid);
  writeOctal(block, 116, 8, fields.gid);
  writeOctal(block, 124, 12, fields.size);
  writeOctal(block, 136, 12, Math.max(0, Math.floor(fields.mtime)));
  block.write(fields.type, 156, 1, 'latin1');
  block.write(USTAR_MAGIC, 257, 6, 'latin1');
  block.write(USTAR_VERSION, 263, 2, 'latin1');
  // The checksum is computed with its own field as spaces, then written as 6 digits, NUL, space.
  block.fill(0x20, 148, 156);
  const sum = checksum(block);
  block.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1');
  return block;
}

/** `width - 1` octal digits and a NUL, as ustar numeric fields are written. */
function writeOctal(block: Buffer, offset: number, width: number, value: number): void {
  const digits = value.toString(8);
  if (!Number.isInteger(value) || value < 0 || digits.length > width - 1) throw new Error(`${value} does not fit a tar header field`);
  block.write(`${digits.padStart(width - 1, '0')}\0`, offset, width, 'latin1');
}

/** An octal field (space or NUL terminated), or GNU's base-256 form (high bit of the first byte set). */
function readNumber(field: Buffer, what: string, offset: number): number {
  const first = field[0] ?? 0;
  if (first & 0x80) {
    let value = first & 0x7f;
    for (const byte of field.subarray(1)) value = value * 256 + byte;
    return value;
  }
  const text = field.toString('latin1').replace(/[\0 ]+$/, '').replace(/^[\0 ]+/, '');
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) throw new Error(`the tar entry at offset ${offset} has an invalid ${what} field: ${JSON.stringify(text)}`);
  return parseInt(text, 8);
}

function readPaxSize(text: string, offset: number): number {
  if (!/^\d+$/.test(text)) throw new Error(`the tar entry at offset ${offset} has an invalid pax size ${JSON.stringify(text)}`);
  return Number(text);
}

function checksum(block: Buffer): number {
  let sum = 0;
  for (const byte of block) sum += byte;
  return sum;
}

function verifyChecksum(block: Buffer, offset: number): void {
  const recorded = readNumber(block.subarray(148, 156), 'checksum', offset);
  const copy = Buffer.from(block);
  copy.fill(0x20, 148, 156);
  // Some old writers summed signed bytes; accept both, as GNU tar does.
  let signed = 0;
  for (const byte of copy) signed += byte > 127 ? byte - 256 : byte;
  if (recorded !== checksum(copy) && recorded !== signed) throw new Error(`the tar archive is damaged: bad header checksum at offset ${offset}`);
}

function entryType(flag: string): TarEntryType {
  switch (flag) {
    case '0':
    case '\0':
    case '7': // contiguous file: a regular file everywhere that matters
      return 'file';
    case '1':
      return 'hardlink';
    case '2':
      return 'symlink';
    case '5':
      return 'directory';
    default:
      return 'other';
  }
}

/** One pax record, "LEN key=value\n", where LEN counts the whole record including its own digits. */
function paxRecord(key: string, value: string): Buffer {
  const body = ` ${key}=${value}\n`;
  const bodyBytes = Buffer.byteLength(body);
  let length = bodyBytes + String(bodyBytes).length;
  if (String(length).length + bodyBytes !== length) length = bodyBytes + String(length).length;
  return Buffer.from(`${length}${body}`);
}

function parsePaxRecords(data: Buffer): Record<string, string> {
  const records: Record<string, string> = {};
  let offset = 0;
  while (offset < data.length) {
    const space = data.indexOf(0x20, offset);
    if (space < 0) break;
    const length = Number(data.subarray(offset, space).toString('latin1'));
    if (!Number.isInteger(length) || length <= 0 || offset + length > data.length) throw new Error('the tar archive has a damaged pax header');
    const record = data.subarray(space + 1, offset + length - 1).toString('utf8');
    const equals = record.indexOf('=');
    if (equals > 0) records[record.slice(0, equals)] = record.slice(equals + 1);
    offset += length;
  }
  return records;
}

function padded(data: Buffer): Buffer {
  const rest = data.length % BLOCK;
  return rest === 0 ? data : Buffer.concat([data, Buffer.alloc(BLOCK - rest)]);
}

function cString(field: Buffer): string {
  const end = field.indexOf(0);
  return field.subarray(0, end < 0 ? field.length : end).toString('utf8');
}

/** At most `bytes` bytes of `text` without splitting a UTF-8 character (for the ustar name field, which the pax path overrides). */
function truncateUtf8(text: string, bytes: number): string {
  let out = '';
  for (const char of text) {
    if (Buffer.byteLength(out + char) > bytes) break;
    out += char;
  }
  return out;
}
