// Bundles the CLI into dist/ with esbuild:
// - dist/tspod.cjs: a tiny CommonJS entry (no ESM loader start-up for --version);
// - dist/cli.cjs: the CLI in one CommonJS file, which src/entry.ts loads with a
//   V8 code cache (src/code-cache.ts); each command's engine is evaluated only
//   when that command runs.
import { build } from 'esbuild';
import fs from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
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
  charset: 'ascii',
  // Every command reads and V8 lazily parses the whole CLI bundle: without
  // whitespace it is a quarter smaller (1.38 -> 1.0 MB). Identifiers stay as
  // written, so stack traces read as the source and no name-keeping wrappers run.
  minifyWhitespace: true,
  minifySyntax: true,
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

// Node's built-in modules through require() shims, dynamic import() included:
// code run by vm.Script (the code cache) has no module loader for import().
// The heavy ones are required when a property is first read, not when a module
// importing them loads: `net` alone is ~9 ms, and `run` imports it for net.isIP.
const LAZY_BUILTINS = ['net', 'tls', 'http', 'https', 'dgram', 'child_process', 'readline', 'zlib', 'worker_threads', 'crypto'];
const nodeRequire = createRequire(import.meta.url);
function builtinShim(specifier) {
  const name = specifier.replace(/^node:/, '');
  if (!LAZY_BUILTINS.includes(name)) return `module.exports = require(${JSON.stringify(specifier)});`;
  return [
    `let loaded; const load = () => (loaded ??= require(${JSON.stringify(specifier)}));`,
    `for (const key of ${JSON.stringify(Object.keys(nodeRequire(specifier)))})`,
    '  Object.defineProperty(exports, key, { enumerable: true, get: () => load()[key] });',
  ].join('\n');
}
const builtinsThroughRequire = {
  name: 'builtins-through-require',
  setup(b) {
    const builtins = new Set(builtinModules);
    b.onResolve({ filter: /^[a-z_:/]+$/ }, (args) => {
      const name = args.path.replace(/^node:/, '');
      if (!builtins.has(name)) return undefined;
      if (args.namespace === 'builtin') return { path: args.path, external: true };
      return { path: args.path, namespace: 'builtin' };
    });
    b.onLoad({ filter: /.*/, namespace: 'builtin' }, (args) => ({ contents: builtinShim(args.path), loader: 'js' }));
  },
};

/**
 * clipanion builds its default context when it loads: process.stdin, stdout and
 * stderr, and the tty module for the colour depth (tty loads net). That is about
 * 15 ms of every command, though `run` may never print a byte itself. Patched at
 * bundle time so each is made on first use; the build fails if clipanion's code
 * no longer has the expected shape.
 */
const lazyClipanionStdio = {
  name: 'lazy-clipanion-stdio',
  setup(b) {
    const patch = (text, from, to, file) => {
      const out = text.replace(from, to);
      if (out === text) throw new Error(`clipanion's ${file} changed shape (${from}); update lazyClipanionStdio in scripts/build.mjs`);
      return out;
    };
    b.onLoad({ filter: /clipanion[\\/]lib[\\/]platform[\\/]node\.js$/ }, (args) => ({
      contents: patch(fs.readFileSync(args.path, 'utf8'), /var tty = require\('tty'\);/, "var tty = { get default() { return require('tty'); } };", 'platform/node.js'),
      loader: 'js',
    }));
    b.onLoad({ filter: /clipanion[\\/]lib[\\/]advanced[\\/]Cli\.js$/ }, (args) => {
      let text = fs.readFileSync(args.path, 'utf8');
      text = patch(text, /\{\s*\.\.\.Cli\.defaultContext,\s*\.\.\.userContext,\s*\}/g, 'withProcessStdio(userContext)', 'advanced/Cli.js');
      text = patch(
        text,
        /Cli\.defaultContext = \{\s*env: process\.env,\s*stdin: process\.stdin,\s*stdout: process\.stdout,\s*stderr: process\.stderr,\s*colorDepth: platform\.getDefaultColorDepth\(\),\s*\};/,
        `Object.defineProperty(Cli, 'defaultContext', { configurable: true, enumerable: true, get: () => withProcessStdio({}) });
function withProcessStdio(user) {
    const context = { env: process.env, ...user };
    const lazily = (name, make) => {
        if (name in context) return;
        Object.defineProperty(context, name, { configurable: true, enumerable: true, get() {
            const value = make();
            Object.defineProperty(context, name, { value, writable: true, enumerable: true, configurable: true });
            return value;
        } });
    };
    lazily('stdin', () => process.stdin);
    lazily('stdout', () => process.stdout);
    lazily('stderr', () => process.stderr);
    lazily('colorDepth', () => platform.getDefaultColorDepth());
    return context;
}`,
        'advanced/Cli.js',
      );
      return { contents: text, loader: 'js' };
    });
  },
};

await build({
  ...common,
  plugins: [builtinsThroughRequire, lazyClipanionStdio],
  entryPoints: { cli: 'src/cli/main.ts' },
  outdir: staging,
  outExtension: { '.js': '.cjs' },
  format: 'cjs',
  define: { ...common.define, 'import.meta.url': '__tspodImportMetaUrl' },
  banner: { js: "const __tspodImportMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
});

// The thread that hashes and decompresses big layers (src/core/off-thread.ts) loads its own small bundle.
await build({
  ...common,
  entryPoints: { 'decode-worker': 'src/core/decode-worker.ts' },
  outdir: staging,
  outExtension: { '.js': '.cjs' },
  format: 'cjs',
  define: { ...common.define, 'import.meta.url': '__tspodImportMetaUrl' },
  banner: { js: "const __tspodImportMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
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
// src/code-cache.ts reads the bundles as latin1, faster than UTF-8 for 1.3 MB:
// right only while every byte is ASCII (charset above).
for (const bundle of ['cli.cjs', 'complete.cjs']) {
  memoizeToESM(`${staging}/${bundle}`);
  if (/[^\x00-\x7f]/.test(fs.readFileSync(`${staging}/${bundle}`, 'latin1'))) {
    throw new Error(`dist/${bundle} has non-ASCII bytes (a regular expression literal?); write them as \\u escapes`);
  }
}
await (await import(`${staging}/complete.cjs`)).writeSpecFile();

/**
 * esbuild's __toESM copies every property of a CommonJS module (node:fs, clipanion)
 * into a fresh namespace object for each module that imports it: 275 copies, about
 * 19 ms of every `tspod run`. A namespace is never mutated, so one per module does.
 * Inserted on the helper's own line, so the source map stays true.
 */
function memoizeToESM(file) {
  const text = fs.readFileSync(file, 'latin1');
  const head = /var __toESM ?= ?(?=\(mod, ?isNodeMode, ?target\) ?=> ?\()/.exec(text);
  if (!head) {
    if (text.includes('__toESM')) throw new Error(`${file}: esbuild's __toESM helper has a new shape; update memoizeToESM`);
    return;
  }
  // The helper is `(mod, isNodeMode, target) => (...)`: wrap it up to its closing parenthesis.
  const from = head.index + head[0].length;
  let at = text.indexOf('=>', from) + 2;
  while (text[at] === ' ') at++;
  let depth = 0;
  for (; at < text.length; at++) {
    if (text[at] === '(') depth++;
    else if (text[at] === ')' && --depth === 0) break;
  }
  const memo =
    '((toESM, seen = [new WeakMap(), new WeakMap()]) => (mod, isNodeMode) => {' +
    " if (mod == null || (typeof mod !== 'object' && typeof mod !== 'function')) return toESM(mod, isNodeMode);" +
    ' const cache = seen[isNodeMode ? 1 : 0]; let ns = cache.get(mod);' +
    ' if (!ns) cache.set(mod, (ns = toESM(mod, isNodeMode))); return ns; })(';
  fs.writeFileSync(file, text.slice(0, from) + memo + text.slice(from, at + 1) + ')' + text.slice(at + 1), 'latin1');
}
// clipanion's parser machines, compiled once here instead of on every run (src/cli/machine-cache.ts).
createRequire(import.meta.url)(`${staging}/cli.cjs`).compileMachineCache(staging);

buildDefaultImage(`${staging}/busybox-image.tar`);

const old = `${root}dist.old-${process.pid}`;
if (fs.existsSync(`${root}dist`)) fs.renameSync(`${root}dist`, old);
fs.renameSync(staging, `${root}dist`);
fs.rmSync(old, { recursive: true, force: true });
