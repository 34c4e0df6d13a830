// POSIX `cksum` (CRC-32, polynomial 0x04C11DB7, length appended), computed locally so the apply
// script can verify with the target's own `cksum` (present in coreutils since EL5 and in busybox)
// that a task's state is still the one that was probed.

const table = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i << 24;
    for (let k = 0; k < 8; k++) c = c & 0x80000000 ? (c << 1) ^ 0x04c11db7 : c << 1;
    t[i] = c >>> 0;
  }
  return t;
})();

/** The line `cksum` prints for this input read from stdin: "CRC LENGTH". */
export function posixCksum(data: Buffer | string): string {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  let crc = 0;
  const step = (byte: number) => {
    crc = ((crc << 8) ^ table[((crc >>> 24) ^ byte) & 0xff]!) >>> 0;
  };
  for (const b of bytes) step(b);
  for (let n = bytes.length; n > 0; n = Math.floor(n / 256)) step(n & 0xff);
  return `${(~crc >>> 0).toString()} ${bytes.length}`;
}
