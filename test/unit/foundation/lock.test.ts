import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeFileAtomic } from '../../../src/storage/atomic.js';
import { FileLock } from '../../../src/storage/lock.js';
import { REPO_ROOT } from '../../helpers/tspod.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tspod-lock-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A second process that holds an flock on `file` until killed. */
function holdLockInChild(file: string): Promise<ReturnType<typeof spawn>> {
  const script = `
    const { createRequire } = require('node:module');
    const addon = createRequire(${JSON.stringify(REPO_ROOT + '/')})('./native/build/Release/tspod_native.node');
    const fd = require('node:fs').openSync(${JSON.stringify(file)}, 'a');
    addon.flockSync(fd, 2);
    process.stdout.write('locked\\n');
    setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.stdout!.once('data', () => resolve(child));
    child.once('error', reject);
  });
}

describe('file locks', () => {
  it('exclude another process, and are freed when it dies', async () => {
    const file = path.join(dir, 'a.lock');
    const holder = await holdLockInChild(file);
    expect(FileLock.tryAcquire(file)).toBeUndefined();
    let acquired = false;
    const waiting = FileLock.acquire(file).then((l) => {
      acquired = true;
      return l;
    });
    await new Promise((r) => setTimeout(r, 200));
    expect(acquired).toBe(false);
    holder.kill('SIGKILL');
    const lock = await waiting;
    expect(acquired).toBe(true);
    lock.release();
    const again = FileLock.tryAcquire(file);
    expect(again).toBeDefined();
    again!.release();
  });

  it('allows many shared holders but no exclusive one meanwhile', async () => {
    const file = path.join(dir, 'b.lock');
    const a = await FileLock.acquire(file, { shared: true });
    const b = FileLock.tryAcquire(file, { shared: true });
    expect(b).toBeDefined();
    expect(FileLock.tryAcquire(file)).toBeUndefined();
    a.release();
    b!.release();
    FileLock.tryAcquire(file)!.release();
  });
});

describe('atomic writes', () => {
  it('replace the whole file and leave no temporary behind', () => {
    const file = path.join(dir, 'state.json');
    writeFileAtomic(file, 'first');
    writeFileAtomic(file, 'second, longer content');
    expect(fs.readFileSync(file, 'utf8')).toBe('second, longer content');
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.readdirSync(dir).filter((f) => f.startsWith('.state.json'))).toEqual([]);
  });

  it('keep the old content when the write fails', () => {
    const file = path.join(dir, 'keep.json');
    writeFileAtomic(file, 'old');
    const bad = { toString: () => { throw new Error('boom'); } } as unknown as string;
    expect(() => writeFileAtomic(file, bad)).toThrow();
    expect(fs.readFileSync(file, 'utf8')).toBe('old');
    expect(fs.readdirSync(dir).filter((f) => f.startsWith('.keep.json'))).toEqual([]);
  });
});
