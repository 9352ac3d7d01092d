import fs from 'node:fs';

/**
 * Random bytes from the kernel's pool (/dev/urandom, as crypto.randomBytes gets
 * them): loading node:crypto costs ~10 ms of a command that only needs an ID.
 */
export function randomBytes(size: number): Buffer {
  const out = Buffer.alloc(size);
  const fd = fs.openSync('/dev/urandom', 'r');
  try {
    for (let got = 0; got < size; ) got += fs.readSync(fd, out, got, size - got, null);
  } finally {
    fs.closeSync(fd);
  }
  return out;
}

/** `size` random bytes in hex: container, pod and volume IDs, temporary names. */
export function randomHex(size: number): string {
  return randomBytes(size).toString('hex');
}

/** A uniform integer in [0, max), without modulo bias. */
export function randomInt(max: number): number {
  const limit = Math.floor(0x1_0000_0000 / max) * max;
  for (;;) {
    const value = randomBytes(4).readUInt32BE(0);
    if (value < limit) return value % max;
  }
}
