import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { createDecompressStream } from '../../../src/core/decompress.js';
import { TspodError } from '../../../src/util/errors.js';
import { run, sampleData, splitRandom } from './helpers.js';

async function through(compressed: Buffer, kind: 'gzip' | 'zstd'): Promise<Buffer> {
  const out: Buffer[] = [];
  await pipeline(
    Readable.from(splitRandom(compressed, 4, 30000)),
    createDecompressStream(kind),
    new Writable({
      write(chunk: Buffer, _e, cb) {
        out.push(chunk);
        // A slow consumer: backpressure must hold the decoder back, not buffer everything.
        setImmediate(cb);
      },
    }),
  );
  return Buffer.concat(out);
}

describe('createDecompressStream (Node stream face)', () => {
  const data = sampleData(3_000_000, 12);
  it('gzip and zstd through stream.pipeline with a slow consumer', async () => {
    expect((await through(run('gzip', ['-c'], data), 'gzip')).equals(data)).toBe(true);
    expect((await through(run('zstd', ['-q', '-c'], data), 'zstd')).equals(data)).toBe(true);
  });

  it('errors reach the pipeline as TspodErrors', async () => {
    const bad = run('zstd', ['-q', '-c'], data).subarray(0, 100_000);
    await expect(through(bad, 'zstd')).rejects.toBeInstanceOf(TspodError);
  });
});
