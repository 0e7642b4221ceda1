#include <zlib.h>

/// inflateInit2/deflateInit2 are macros that pass the library version and the
/// stream size; Swift cannot call macros, so they are wrapped here.
static inline int czlib_inflate_init_gzip(z_streamp stream) {
    return inflateInit2(stream, 15 + 32); /* 32: accept a gzip or zlib header */
}
static inline int czlib_deflate_init_gzip(z_streamp stream, int level) {
    return deflateInit2(stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
}
