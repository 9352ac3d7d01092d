// world root:component/root
export function alloc(size: number): number;
export function dealloc(ptr: number, size: number): void;
export function sha256New(): number;
export function sha256Update(h: number, ptr: number, len: number): void;
export function sha256Finish(h: number, out: number): void;
export function sha256(data: Uint8Array): Uint8Array;
export function streamNew(kind: number): number;
export function zstdCompressNew(level: number): number;
export function streamInPtr(h: number, len: number): number;
export function streamRun(h: number, len: number, finish: number): number;
export function streamMemberCrc(h: number): number;
export function streamOutPtr(h: number): number;
export function streamOutLen(h: number): number;
export function streamError(h: number): string;
export function streamFree(h: number): void;
export function decompress(kind: number, data: Uint8Array): Uint8Array;
