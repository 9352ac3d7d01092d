// Bundles the CLI into dist/ with esbuild: one small entry chunk so start-up
// parses little, and every command's engine in chunks loaded on demand.
import { build } from 'esbuild';
import fs from 'node:fs';

const pkg = JSON.parse(fs.readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
fs.rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });

await build({
  entryPoints: { tspod: 'src/entry.ts' },
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: 'linked',
  legalComments: 'none',
  logLevel: 'warning',
  define: { __TSPOD_VERSION__: JSON.stringify(pkg.version) },
  // Bundled CommonJS dependencies still call require(): give ESM chunks one.
  banner: { js: "import { createRequire as __tspodCreateRequire } from 'node:module'; const require = __tspodCreateRequire(import.meta.url);" },
});
