import { defineConfig } from 'vitest/config';
import os from 'node:os';
import path from 'node:path';

// The rootless suites run as an unprivileged user who may not own the checkout,
// so vite's cache goes to a per-user temporary directory.
export default defineConfig({
  cacheDir: path.join(os.tmpdir(), `tspod-vitest-${process.getuid?.() ?? 'x'}`),
  test: {
    include: ['test/unit/**/*.test.ts', 'test/rootless/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ['default', './test/summary-reporter.ts'],
    pool: 'forks',
    // clipanion's ESM build imports a directory, which Node's loader refuses; let vite resolve it.
    server: { deps: { inline: ['clipanion'] } },
  },
});
