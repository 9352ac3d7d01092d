/**
 * The TypeScript face of tspod's WebAssembly core. Importing this module loads no
 * WebAssembly: the core is compiled on first use (see ./wasm.ts).
 */
export { coreLoaded } from './wasm.js';
export {
  createDigester,
  createHasher,
  Digester,
  parseDigest,
  sha256Digest,
  setDefaultHashImpl,
  defaultHashImpl,
  type HashImpl,
  type Hasher,
} from './digest.js';
export {
  createDecompressStream,
  decompressChunks,
  decompressSync,
  sniffCompression,
  setDefaultGzipImpl,
  defaultGzipImpl,
  WasmDecoder,
  type Compression,
  type GzipImpl,
} from './decompress.js';
export { readTar, writeTar, tarHeader, normalizeTarPath, whiteoutOf, type TarEntry, type TarHeader, type TarType, type TarWriteEntry, type TarWriteHeader, type Whiteout } from './tar.js';
export { openLayerStream, compressionForMediaType, mediaTypeFor, type LayerStreamOptions, type LayerStreamResult } from './layer.js';
export { compressChunks, type CompressOptions } from './compress.js';
export { createLayerFromDiff, diffEntries, type DiffSource, type DiffOptions, type LayerFromDiffOptions, type LayerFromDiffResult } from './diff.js';
