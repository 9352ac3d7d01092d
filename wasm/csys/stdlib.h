/* Minimal stdlib for zstd's decoder on wasm32: the allocator is Rust's (see core/src/libc.rs). */
#ifndef TSPOD_CSYS_STDLIB_H
#define TSPOD_CSYS_STDLIB_H
#include <stddef.h>
void *malloc(size_t n);
void *calloc(size_t n, size_t size);
void free(void *p);
void abort(void) __attribute__((noreturn));
#endif
