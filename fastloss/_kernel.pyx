# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Deterministic blocked reduction shared by every kernel.

The item range is cut into blocks whose size never depends on the thread count.
Each block is summed in double in a fixed order; the partial sums are stored by
block index and added pairwise in a fixed order. The result is therefore bitwise
identical for 1, 2 or 64 threads, and its rounding error grows like log(n) rather
than n (Higham, "The accuracy of floating point summation", SISC 1993).
"""
cimport numpy as cnp
from cython.parallel cimport prange

cnp.import_array()

cdef extern from *:
    """
    #ifdef _OPENMP
    #include <omp.h>
    static int fl_omp_max_threads(void) { return omp_get_max_threads(); }
    static int fl_has_openmp(void) { return 1; }
    #else
    static int fl_omp_max_threads(void) { return 1; }
    static int fl_has_openmp(void) { return 0; }
    #endif
    #if defined(__x86_64__) && defined(__GNUC__) && (__GNUC__ >= 12 || defined(__clang__))
    static int fl_cpu_has_x86_64_v3(void) {
        __builtin_cpu_init();
        return __builtin_cpu_supports("x86-64-v3") != 0;
    }
    #else
    static int fl_cpu_has_x86_64_v3(void) { return 0; }
    #endif
    """
    int fl_omp_max_threads() noexcept nogil
    int fl_has_openmp() noexcept nogil
    int fl_cpu_has_x86_64_v3() noexcept nogil


def openmp_max_threads():
    """Threads an OpenMP parallel region would use now (1 without OpenMP)."""
    return fl_omp_max_threads()


def cpu_has_x86_64_v3():
    """Whether this CPU runs x86-64-v3 code (AVX2, FMA, BMI1/2, F16C, LZCNT, MOVBE)."""
    return bool(fl_cpu_has_x86_64_v3())


def has_openmp():
    """Whether the kernels were compiled with OpenMP."""
    return bool(fl_has_openmp())


cdef double pairwise_sum(const double* values, Py_ssize_t n) noexcept nogil:
    """Sum values[0:n] by recursive halving (fixed order, O(log n) error growth)."""
    cdef Py_ssize_t half
    if n <= 8:
        total = 0.0
        for i in range(n):
            total += values[i]
        return total
    half = n // 2
    return pairwise_sum(values, half) + pairwise_sum(values + half, n - half)


cdef double blocked_sum(BlockFn fn, KernelArgs* args, Py_ssize_t n_items,
                        Py_ssize_t block_size, double* partials, int n_threads) noexcept nogil:
    """Run fn over [0, n_items) in blocks of block_size; return the sum of its results.

    `partials` holds one double per block. The blocks run in parallel when
    n_threads > 1; the sum is identical either way.
    """
    cdef Py_ssize_t n_blocks = (n_items + block_size - 1) // block_size
    cdef Py_ssize_t b
    if n_blocks <= 1:
        return fn(args, 0, n_items)
    if n_threads > 1:
        for b in prange(n_blocks, schedule="static", num_threads=n_threads):
            partials[b] = fn(args, b * block_size, min(n_items, (b + 1) * block_size))
    else:
        for b in range(n_blocks):
            partials[b] = fn(args, b * block_size, min(n_items, (b + 1) * block_size))
    return pairwise_sum(partials, n_blocks)


ctypedef fused real:
    float
    double


cdef Py_ssize_t _first_below(const real* x, Py_ssize_t n, double bound,
                             bint inclusive, bint nan_invalid) noexcept nogil:
    cdef Py_ssize_t i
    cdef double v
    for i in range(n):
        v = x[i]
        if v < bound or (inclusive and v == bound) or (nan_invalid and v != v):
            return i
    return -1


def first_index_below(cnp.ndarray values, double bound, bint inclusive, bint nan_invalid):
    """Flat index of the first value < bound (<= when inclusive; NaN too when
    nan_invalid), or -1. `values` is C-contiguous float32 or float64."""
    cdef Py_ssize_t n = cnp.PyArray_SIZE(values)
    cdef Py_ssize_t found
    if cnp.PyArray_TYPE(values) == cnp.NPY_FLOAT64:
        with nogil:
            found = _first_below(<const double*>cnp.PyArray_DATA(values), n, bound,
                                 inclusive, nan_invalid)
    else:
        with nogil:
            found = _first_below(<const float*>cnp.PyArray_DATA(values), n, bound,
                                 inclusive, nan_invalid)
    return found


# Kernel modes and thresholds, for the Python layer.
VALUE_SUM = MODE_VALUE_SUM
VALUE_NONE = MODE_VALUE_NONE
GRADIENT = MODE_GRADIENT
VALUE_GRADIENT = MODE_VALUE_GRADIENT
GRADIENT_HESSIAN = MODE_GRADIENT_HESSIAN
VALUE_NONE_GRADIENT = MODE_VALUE_NONE_GRADIENT
PARALLEL_MIN = PARALLEL_MIN_ELEMENTS
BLOCK = ELEMENT_BLOCK
