/* zstd's decoder is always given a custom allocator (see core/src/zstd.rs), so its
 * default malloc/calloc/free paths are unreachable; they trap rather than link to a libc. */
#include <stddef.h>
void *malloc(size_t n) { (void)n; __builtin_trap(); }
void *calloc(size_t n, size_t s) { (void)n; (void)s; __builtin_trap(); }
void free(void *p) { if (p) __builtin_trap(); }

/* Rust's wasm32-unknown-unknown "C" ABI passes structs by value differently from
 * clang's, so the ZSTD_customMem struct is built on this side. */
#define ZSTD_STATIC_LINKING_ONLY
#include "zstd.h"
ZSTD_DStream *tspod_zstd_create(ZSTD_allocFunction a, ZSTD_freeFunction f) {
    ZSTD_customMem mem = { a, f, NULL };
    return ZSTD_createDStream_advanced(mem);
}

ZSTD_CStream *tspod_zstd_create_c(ZSTD_allocFunction a, ZSTD_freeFunction f) {
    ZSTD_customMem mem = { a, f, NULL };
    return ZSTD_createCStream_advanced(mem);
}
