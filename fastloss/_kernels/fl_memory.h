/* Memory for large output buffers.
   Included by the Cython-generated C of the kernels, after Python.h. */
#ifndef FL_MEMORY_H
#define FL_MEMORY_H

#include <stdlib.h>
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

#endif /* FL_MEMORY_H */
