/* OpenMP queries, with single-threaded answers when the build has no OpenMP.
   Included by the Cython-generated C of the kernels, after Python.h. */
#ifndef FL_OPENMP_H
#define FL_OPENMP_H

#ifdef _OPENMP
#include <omp.h>
static inline int fl_omp_max_threads(void) { return omp_get_max_threads(); }
static inline int fl_thread_num(void) { return omp_get_thread_num(); }
static inline int fl_has_openmp(void) { return 1; }
static inline long fl_openmp_spec(void) { return (long)_OPENMP; }
#else
static inline int fl_omp_max_threads(void) { return 1; }
static inline int fl_thread_num(void) { return 0; }
static inline int fl_has_openmp(void) { return 0; }
static inline long fl_openmp_spec(void) { return 0; }
#endif

#endif /* FL_OPENMP_H */
