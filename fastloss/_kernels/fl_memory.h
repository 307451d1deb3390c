/* Memory for large output buffers.
   Included by the Cython-generated C of the kernels, after Python.h. */
#ifndef FL_MEMORY_H
#define FL_MEMORY_H

#include <stdint.h>
#include <stdlib.h>
#if defined(__SSE2__) || defined(__AVX__) || defined(__AVX512F__)
#include <immintrin.h>
#endif
#if defined(__linux__)
#include <sys/mman.h>
#endif
/* 2 MiB-aligned memory, advised to use transparent huge pages where available. */
static inline void* fl_alloc_large(size_t nbytes) {
    void* ptr = NULL;
    size_t rounded = (nbytes + 2097151u) & ~(size_t)2097151u;
    if (posix_memalign(&ptr, 2097152u, rounded) != 0) return NULL;
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    madvise(ptr, rounded, MADV_HUGEPAGE);
#endif
    return ptr;
}

/* dst[i] = a * src[i] for i < n. With `stream`, the part of dst from its first 64-byte
   boundary on is written a vector at a time with non-temporal stores, which do not read
   dst's cache lines before writing them: two memory transfers per line instead of
   three, for an output too large to stay in the cache. The products are the same
   either way. The stores are fenced before returning, so the caller's later loads,
   stores and thread barriers see them in order. */
#if defined(__AVX512F__)
#define FL__STREAM_VECTOR(SFX)                                                          \
    _mm512_stream_##SFX(dst + i, _mm512_mul_##SFX(_mm512_loadu_##SFX(src + i),          \
                                                  _mm512_set1_##SFX(a)))
#define FL__STREAM_BYTES 64
#elif defined(__AVX__)
#define FL__STREAM_VECTOR(SFX)                                                          \
    _mm256_stream_##SFX(dst + i, _mm256_mul_##SFX(_mm256_loadu_##SFX(src + i),          \
                                                  _mm256_set1_##SFX(a)))
#define FL__STREAM_BYTES 32
#elif defined(__SSE2__)
#define FL__STREAM_VECTOR(SFX)                                                          \
    _mm_stream_##SFX(dst + i, _mm_mul_##SFX(_mm_loadu_##SFX(src + i), _mm_set1_##SFX(a)))
#define FL__STREAM_BYTES 16
#endif

#define FL_SCALED_COPY(NAME, T, SFX)                                                    \
static inline void NAME(T *dst, const T *src, T a, Py_ssize_t n, int stream)            \
{                                                                                       \
    Py_ssize_t i = 0;                                                                   \
    FL__SCALED_COPY_STREAM(T, SFX)                                                      \
    for (; i < n; i++) dst[i] = a * src[i];                                             \
}
#if defined(FL__STREAM_BYTES)
#define FL__SCALED_COPY_STREAM(T, SFX)                                                  \
    if (stream) {                                                                       \
        const Py_ssize_t lanes = FL__STREAM_BYTES / (Py_ssize_t)sizeof(T);              \
        for (; i < n && ((uintptr_t)(dst + i) & 63u) != 0; i++) dst[i] = a * src[i];    \
        for (; i + lanes <= n; i += lanes) FL__STREAM_VECTOR(SFX);                      \
        _mm_sfence();                                                                   \
    }
#else
#define FL__SCALED_COPY_STREAM(T, SFX) (void)stream;
#endif
FL_SCALED_COPY(fl_scaled_copy, double, pd)
FL_SCALED_COPY(fl_scaled_copyf, float, ps)
#undef FL_SCALED_COPY

#endif /* FL_MEMORY_H */
