#!/usr/bin/env node
// Builds tspod's WebAssembly core (see wasm/README.md):
//   1. zstd's C decoder (wasm/vendor/zstd) -> wasm32 objects with clang-14 -> libzstddec.a
//   2. the Rust crate (wasm/core) -> core module, with Debian's rustc 1.63 and rust-lld
//   3. jco: componentEmbed (WIT from wasm/wit/core.wit) -> componentNew -> transpile
//   4. wasm/dist/SHA256SUMS
// Everything is offline and byte-reproducible. `--check` rebuilds into a temporary
// directory and compares with the committed wasm/dist instead of overwriting it.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const check = process.argv.includes('--check');
const target = path.join(here, 'core', 'target');
const distFinal = path.join(here, 'dist');
const dist = check ? fs.mkdtempSync(path.join(os.tmpdir(), 'tspod-wasm-')) : distFinal;

const env = {
  ...process.env,
  // Debian's toolchain, never rustup's (whose rustc has no wasm32 std here).
  PATH: `/usr/bin:/bin:${process.env.PATH ?? ''}`,
  RUSTC: '/usr/bin/rustc',
  CARGO_HOME: path.join(target, 'cargo-home'),
  CARGO_TARGET_DIR: target,
  SOURCE_DATE_EPOCH: '0',
  LC_ALL: 'C',
};
delete env.RUSTUP_TOOLCHAIN;
delete env.RUSTFLAGS;
delete env.CARGO_BUILD_RUSTFLAGS;

function run(cmd, args, opts = {}) {
  try {
    return String(execFileSync(cmd, args, { env, stdio: ["ignore", "pipe", "inherit"], ...opts }) ?? "");
  } catch (err) {
    console.error(`build:wasm: \`${cmd} ${args.join(' ')}\` failed`);
    process.exit(1);
  }
}

function need(bin, pkg) {
  if (!fs.existsSync(bin)) {
    console.error(`build:wasm: ${bin} is missing; install it with: apt-get install ${pkg} (see wasm/README.md)`);
    process.exit(1);
  }
}
need('/usr/bin/rustc', 'rustc cargo libstd-rust-dev-wasm32');
need('/usr/bin/cargo', 'cargo');
need('/usr/bin/clang-14', 'clang-14');
need('/usr/bin/llvm-ar-14', 'llvm-14');
need('/usr/lib/rustlib/wasm32-unknown-unknown', 'libstd-rust-dev-wasm32');
need('/usr/bin/rust-lld', 'lld-14');

const rustcVersion = run('/usr/bin/rustc', ['--version']).trim();
if (!rustcVersion.startsWith('rustc 1.63.')) {
  console.error(`build:wasm: expected Debian 12's rustc 1.63, found "${rustcVersion}"; outputs would not be reproducible`);
  process.exit(1);
}

// 1. zstd decoder
const cdir = path.join(target, 'c');
fs.rmSync(cdir, { recursive: true, force: true });
fs.mkdirSync(cdir, { recursive: true });
const zlib = path.join(here, 'vendor', 'zstd', 'lib');
const csources = [
  'common/entropy_common.c',
  'common/error_private.c',
  'common/fse_decompress.c',
  'common/xxhash.c',
  'common/zstd_common.c',
  'decompress/huf_decompress.c',
  'decompress/zstd_ddict.c',
  'decompress/zstd_decompress.c',
  'decompress/zstd_decompress_block.c',
  'compress/fse_compress.c',
  'compress/hist.c',
  'compress/huf_compress.c',
  'compress/zstd_compress.c',
  'compress/zstd_compress_literals.c',
  'compress/zstd_compress_sequences.c',
  'compress/zstd_compress_superblock.c',
  'compress/zstd_double_fast.c',
  'compress/zstd_fast.c',
  'compress/zstd_lazy.c',
  'compress/zstd_ldm.c',
  'compress/zstd_opt.c',
  'compress/zstd_preSplit.c',
].map((f) => path.join(zlib, f));
csources.push(path.join(here, 'csys', 'shim.c'));
const cflags = [
  '--target=wasm32-unknown-unknown',
  '-O2',
  '-ffreestanding',
  '-nostdlib',
  '-msimd128',
  '-mbulk-memory',
  '-fno-builtin-malloc',
  '-fvisibility=hidden',
  '-DZSTDLIB_VISIBLE=',
  '-DZSTDERRORLIB_VISIBLE=',
  `-ffile-prefix-map=${here}=/tspod/wasm`,
  '-isystem',
  path.join(here, 'csys'),
  '-I',
  zlib,
  '-DNDEBUG',
  '-DDEBUGLEVEL=0',
  '-DZSTD_DISABLE_ASM',
  '-DZSTD_LEGACY_SUPPORT=0',
  '-DZSTD_TRACE=0',
  '-DXXH_NAMESPACE=ZSTD_',
];
const objs = [];
for (const src of csources) {
  const obj = path.join(cdir, path.basename(src).replace(/\.c$/, '.o'));
  run('/usr/bin/clang-14', [...cflags, '-c', src, '-o', obj]);
  objs.push(obj);
}
const lib = path.join(cdir, 'libzstddec.a');
run('/usr/bin/llvm-ar-14', ['rcsD', lib, ...objs.map((o) => path.basename(o))], { cwd: cdir });

// 2. Rust (always from clean: cargo does not see the C library change)
fs.rmSync(path.join(target, 'wasm32-unknown-unknown'), { recursive: true, force: true });
const rustflags = [
  '-C',
  'target-feature=+simd128,+bulk-memory',
  '-L',
  `native=${cdir}`,
  '-l',
  'static=zstddec',
  `--remap-path-prefix=${here}=/tspod/wasm`,
  `--remap-path-prefix=${env.CARGO_HOME}=/cargo`,
].join('\x1f');
run('/usr/bin/cargo', ['build', '--release', '--offline', '--target', 'wasm32-unknown-unknown'], {
  cwd: path.join(here, 'core'),
  env: { ...env, CARGO_ENCODED_RUSTFLAGS: rustflags },
  stdio: ['ignore', 'inherit', 'inherit'],
});
const coreModule = fs.readFileSync(path.join(target, 'wasm32-unknown-unknown', 'release', 'tspod_core.wasm'));

// 3. jco
const jco = await import('@bytecodealliance/jco');
const witSource = fs.readFileSync(path.join(here, 'wit', 'core.wit'), 'utf8');
const embedded = await jco.componentEmbed({ binary: coreModule, witSource, world: 'core', stringEncoding: 'utf8' });
const component = await jco.componentNew(embedded);
const { files } = await jco.transpile(component, {
  name: 'tspod_core',
  instantiation: undefined,
  noTypescript: false,
  quiet: true,
});

fs.rmSync(dist, { recursive: true, force: true });
fs.mkdirSync(path.join(dist, 'jco'), { recursive: true });
fs.writeFileSync(path.join(dist, 'tspod_core.wasm'), embedded);
fs.writeFileSync(path.join(dist, 'tspod_core.component.wasm'), component);
for (const [name, bytes] of Object.entries(files)) {
  const out = path.join(dist, 'jco', name);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, bytes);
}

// 4. checksums
function listFiles(dir, base = dir) {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((d) => (d.isDirectory() ? listFiles(path.join(dir, d.name), base) : [path.relative(base, path.join(dir, d.name))]))
    .filter((f) => f !== 'SHA256SUMS')
    .sort();
}
const sums = listFiles(dist)
  .map((f) => `${createHash('sha256').update(fs.readFileSync(path.join(dist, f))).digest('hex')}  ${f}`)
  .join('\n');
fs.writeFileSync(path.join(dist, 'SHA256SUMS'), sums + '\n');

if (check) {
  const committed = fs.existsSync(path.join(distFinal, 'SHA256SUMS')) ? fs.readFileSync(path.join(distFinal, 'SHA256SUMS'), 'utf8') : '';
  const actual = fs.readFileSync(path.join(dist, 'SHA256SUMS'), 'utf8');
  let ok = committed === actual;
  for (const f of listFiles(distFinal)) {
    const a = path.join(dist, f);
    if (!fs.existsSync(a) || !fs.readFileSync(a).equals(fs.readFileSync(path.join(distFinal, f)))) ok = false;
  }
  fs.rmSync(dist, { recursive: true, force: true });
  if (!ok) {
    console.error('build:wasm --check: the rebuilt wasm/dist differs from the committed one.');
    console.error('--- committed SHA256SUMS\n' + committed + '--- rebuilt SHA256SUMS\n' + actual);
    process.exit(1);
  }
  console.log('build:wasm --check: rebuilt outputs match the committed wasm/dist byte for byte.');
} else {
  console.log(sums);
  console.log(`build:wasm: wrote ${path.relative(process.cwd(), dist) || dist} (core module ${embedded.length} bytes, ${rustcVersion})`);
}
