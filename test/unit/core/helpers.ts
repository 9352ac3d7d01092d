import { spawnSync } from 'node:child_process';

/** Run a program with stdin, returning stdout (throws on failure). */
export function run(cmd: string, args: string[], input?: Uint8Array): Buffer {
  const r = spawnSync(cmd, args, { input, maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

/** Deterministic PRNG (mulberry32) so failures reproduce. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Data with structure (words, repeats, runs, binary noise), good for compressors. */
export function sampleData(size: number, seed: number): Buffer {
  const r = rng(seed);
  const words = ['usr', 'lib', 'tspod', 'layer', 'container', '\n', ' ', 'image', '0123456789', 'sha256:', '\0\0\0\0'];
  const out = Buffer.alloc(size);
  let i = 0;
  while (i < size) {
    const k = r();
    if (k < 0.5) {
      const w = words[Math.floor(r() * words.length)];
      i += out.write(w, i, 'latin1');
    } else if (k < 0.7 && i > 300) {
      const dist = 1 + Math.floor(r() * Math.min(i, 40000));
      const len = 3 + Math.floor(r() * 300);
      for (let j = 0; j < len && i < size; j++, i++) out[i] = out[i - dist];
    } else if (k < 0.8) {
      const len = Math.floor(r() * 200);
      const b = Math.floor(r() * 256);
      for (let j = 0; j < len && i < size; j++, i++) out[i] = b;
    } else {
      const len = Math.floor(r() * 64);
      for (let j = 0; j < len && i < size; j++, i++) out[i] = Math.floor(r() * 256);
    }
  }
  return out;
}

export function randomBytes(size: number, seed: number): Buffer {
  const r = rng(seed);
  const out = Buffer.alloc(size);
  for (let i = 0; i < size; i++) out[i] = Math.floor(r() * 256);
  return out;
}

/** Split a buffer at random points (sizes 1..max). */
export function splitRandom(buf: Uint8Array, seed: number, max = 70000): Uint8Array[] {
  const r = rng(seed);
  const out: Uint8Array[] = [];
  let i = 0;
  while (i < buf.length) {
    const n = 1 + Math.floor(r() * (r() < 0.3 ? 16 : max));
    out.push(buf.subarray(i, i + n));
    i += n;
  }
  return out;
}
