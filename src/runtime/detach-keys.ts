import { TspodError } from '../util/errors.js';

/** Podman's default --detach-keys. */
export const DEFAULT_DETACH_KEYS = 'ctrl-p,ctrl-q';

const CTRL_SPECIALS: Record<string, number> = { '@': 0, '[': 27, '\\': 28, ']': 29, '^': 30, _: 31 };

/**
 * --detach-keys as Podman reads it: a single character, or a comma-separated
 * sequence of single characters and ctrl-<value> (a-z, @, [, \, ], ^, _).
 * The empty string disables detaching.
 */
export function parseDetachKeys(spec: string): number[] {
  if (spec === '') return [];
  const bytes: number[] = [];
  for (const key of spec.split(',')) {
    const lower = key.toLowerCase();
    if (key.length === 1) {
      bytes.push(key.charCodeAt(0));
      continue;
    }
    const value = lower.startsWith('ctrl-') ? lower.slice(5) : undefined;
    if (value !== undefined && value.length === 1 && value >= 'a' && value <= 'z') bytes.push(value.charCodeAt(0) - 96);
    else if (value !== undefined && value in CTRL_SPECIALS) bytes.push(CTRL_SPECIALS[value]);
    else {
      throw new TspodError(
        `invalid detach keys "${spec}": give a single character or a comma-separated sequence of ctrl-<value>, where <value> is a-z, @, ^, [, \\, ] or _`,
      );
    }
  }
  return bytes;
}

/**
 * Watches typed bytes for the detach sequence, holding back a partial match
 * (it goes on to the container if the next key breaks it), as Podman does.
 */
export class DetachKeyFilter {
  private matched = 0;
  constructor(private readonly keys: number[]) {}

  /** The bytes to pass on, and whether the whole sequence has been typed. */
  feed(chunk: Uint8Array): { pass: Buffer; detach: boolean } {
    const out: number[] = [];
    for (const b of chunk) {
      if (this.keys.length && b === this.keys[this.matched]) {
        if (++this.matched === this.keys.length) return { pass: Buffer.from(out), detach: true };
        continue;
      }
      if (this.matched) {
        out.push(...this.keys.slice(0, this.matched));
        this.matched = 0;
      }
      if (this.keys.length && b === this.keys[0]) {
        this.matched = 1;
        if (this.keys.length === 1) return { pass: Buffer.from(out), detach: true };
        continue;
      }
      out.push(b);
    }
    return { pass: Buffer.from(out), detach: false };
  }

  /** At the end of input: a partial sequence was the user's input after all. */
  flush(): Buffer {
    const held = Buffer.from(this.keys.slice(0, this.matched));
    this.matched = 0;
    return held;
  }
}
