import { describe, expect, it } from 'vitest';

describe('lazy loading of the WebAssembly core', () => {
  it('importing src/core loads no WebAssembly; first use does, once', async () => {
    const core = await import('../../../src/core/index.js');
    const wasm = await import('../../../src/core/wasm.js');
    expect(core.coreLoaded()).toBe(false);
    core.sha256Digest(Buffer.from('x'), 'node');
    expect(core.coreLoaded()).toBe(false);
    core.sha256Digest(Buffer.from('x'), 'wasm');
    expect(core.coreLoaded()).toBe(true);
    core.decompressSync(Buffer.from('KLUv/SAAAQAA', 'base64'), 'zstd');
    expect(wasm.coreLoadCount()).toBe(1);
  });
});
