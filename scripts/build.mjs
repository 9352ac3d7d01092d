// Bundles the CLI into dist/ with esbuild:
// - dist/tspod.cjs: a tiny CommonJS entry (no ESM loader start-up for --version);
// - dist/cli.js + chunks: the CLI as ES modules, each command's engine in a chunk
//   loaded only when that command runs.
import { build } from 'esbuild';
import fs from 'node:fs';
import { buildDefaultImage } from './default-image.mjs';

const pkg = JSON.parse(fs.readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
// Build beside dist/ and swap it in, so a tspod running meanwhile never finds half a build.
const root = new URL('..', import.meta.url).pathname;
const staging = `${root}dist.build-${process.pid}`;
fs.rmSync(staging, { recursive: true, force: true });

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  sourcemap: 'linked',
  legalComments: 'none',
  logLevel: 'warning',
  define: { __TSPOD_VERSION__: JSON.stringify(pkg.version) },
};

await build({
  ...common,
  entryPoints: { tspod: 'src/entry.ts' },
  outdir: staging,
  outExtension: { '.js': '.cjs' },
  format: 'cjs',
});

await build({
  ...common,
  entryPoints: { cli: 'src/cli/main.ts' },
  outdir: staging,
  splitting: true,
  format: 'esm',
  // Bundled CommonJS dependencies still call require(): give ESM chunks one.
  banner: { js: "import { createRequire as __tspodCreateRequire } from 'node:module'; const require = __tspodCreateRequire(import.meta.url);" },
});

// `tspod __complete` (every Tab in a shell) runs from its own CommonJS bundle and
// reads the command specs from JSON (written here) instead of building clipanion's
// parser. It never calls packageRoot(), the one user of import.meta in what it bundles.
await build({
  ...common,
  entryPoints: { complete: 'src/completion/fast-entry.ts' },
  outdir: staging,
  outExtension: { '.js': '.cjs' },
  format: 'cjs',
  logOverride: { 'empty-import-meta': 'silent' },
});
await (await import(`${staging}/complete.cjs`)).writeSpecFile();

buildDefaultImage(`${staging}/busybox-image.tar`);

const old = `${root}dist.old-${process.pid}`;
if (fs.existsSync(`${root}dist`)) fs.renameSync(`${root}dist`, old);
fs.renameSync(staging, `${root}dist`);
fs.rmSync(old, { recursive: true, force: true });
