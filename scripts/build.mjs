// Bundles the CLI into dist/ with esbuild:
// - dist/tspod.cjs: a tiny CommonJS entry (no ESM loader start-up for --version);
// - dist/cli.js + chunks: the CLI as ES modules, each command's engine in a chunk
//   loaded only when that command runs.
import { build } from 'esbuild';
import fs from 'node:fs';
import { builtinModules } from 'node:module';
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

// Node's built-in modules reach the ESM chunks through require(), not import:
// importing a built-in from ESM builds a facade that reads every export, which
// loads streams, net and more that a command never uses (15-20 ms per start).
const builtinsThroughRequire = {
  name: 'builtins-through-require',
  setup(b) {
    const builtins = new Set(builtinModules);
    b.onResolve({ filter: /^[a-z_:/]+$/ }, (args) => {
      const name = args.path.replace(/^node:/, '');
      if (!builtins.has(name)) return undefined;
      // A dynamic import() keeps Node's own module: it must have the named exports.
      if (args.kind === 'dynamic-import') return { path: args.path, external: true };
      if (args.namespace === 'builtin') return { path: args.path, external: true };
      return { path: args.path, namespace: 'builtin' };
    });
    b.onLoad({ filter: /.*/, namespace: 'builtin' }, (args) => ({ contents: `module.exports = require(${JSON.stringify(args.path)});`, loader: 'js' }));
  },
};

await build({
  ...common,
  plugins: [builtinsThroughRequire],
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
// clipanion's parser machines, compiled once here instead of on every run (src/cli/machine-cache.ts).
(await import(`${staging}/cli.js`)).compileMachineCache(staging);

buildDefaultImage(`${staging}/busybox-image.tar`);

const old = `${root}dist.old-${process.pid}`;
if (fs.existsSync(`${root}dist`)) fs.renameSync(`${root}dist`, old);
fs.renameSync(staging, `${root}dist`);
fs.rmSync(old, { recursive: true, force: true });
