import { describe, expect, it } from 'vitest';
import { DetachKeyFilter, parseDetachKeys } from '../../../src/runtime/detach-keys.js';
import { parseInterval, parseWaitConditions } from '../../../src/runtime/wait.js';

describe('--detach-keys', () => {
  it("reads Podman's forms", () => {
    expect(parseDetachKeys('ctrl-p,ctrl-q')).toEqual([16, 17]);
    expect(parseDetachKeys('ctrl-@,ctrl-[,ctrl-\\,ctrl-],ctrl-^,ctrl-_')).toEqual([0, 27, 28, 29, 30, 31]);
    expect(parseDetachKeys('a,ctrl-B')).toEqual([97, 2]);
    expect(parseDetachKeys('')).toEqual([]);
    for (const bad of ['ctrl-', 'ctrl-1', 'shift-a', 'ab', 'ctrl-p,']) expect(() => parseDetachKeys(bad), bad).toThrow(/invalid detach keys/);
  });

  it('detaches on the whole sequence and passes a broken one on', () => {
    const f = new DetachKeyFilter([16, 17]);
    expect(f.feed(Buffer.from('ab\x10'))).toEqual({ pass: Buffer.from('ab'), detach: false });
    // Ctrl-P then something else: the held Ctrl-P was the user's.
    expect(f.feed(Buffer.from('x\x10'))).toEqual({ pass: Buffer.from('\x10x'), detach: false });
    expect(f.feed(Buffer.from('\x10\x11'))).toEqual({ pass: Buffer.from('\x10'), detach: true });
    const g = new DetachKeyFilter([16, 17]);
    g.feed(Buffer.from('\x10'));
    expect(g.flush()).toEqual(Buffer.from('\x10'));
    expect(new DetachKeyFilter([]).feed(Buffer.from('\x10\x11'))).toEqual({ pass: Buffer.from('\x10\x11'), detach: false });
    expect(new DetachKeyFilter([5]).feed(Buffer.from('a\x05b'))).toEqual({ pass: Buffer.from('a'), detach: true });
  });
});

describe('wait options', () => {
  it('reads --interval as Go durations, a bare number as milliseconds', () => {
    expect(parseInterval('250ms')).toBe(250);
    expect(parseInterval('1m30s')).toBe(90_000);
    expect(parseInterval('1.5s')).toBe(1500);
    expect(parseInterval('40')).toBe(40);
    for (const bad of ['abc', '', '5x', 's']) expect(() => parseInterval(bad), bad).toThrow(/invalid duration/);
  });

  it('defaults to stopped and refuses unknown states', () => {
    expect(parseWaitConditions([])).toEqual(['stopped']);
    expect(parseWaitConditions(['running', 'healthy'])).toEqual(['running', 'healthy']);
    expect(() => parseWaitConditions(['bogus'])).toThrow('unknown container state: bogus: invalid argument');
  });
});
