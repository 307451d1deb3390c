# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Deterministic blocked reduction shared by every kernel.

The item range is cut into blocks whose size never depends on the thread count.
Each block is summed in double in a fixed order; the partial sums are stored by
block index and added pairwise in a fixed order. The result is therefore bitwise
identical for 1, 2 or 64 threads, and its rounding error grows like log(n) rather
than n (Higham, "The accuracy of floating point summation", SISC 1993).
"""
cimport cpython
cimport numpy as cnp
import numpy as np
from cython.parallel cimport prange

cnp.import_array()

cdef extern from "fl_openmp.h":
    int fl_omp_max_threads() noexcept nogil
    int fl_has_openmp() noexcept nogil
    long fl_openmp_spec() noexcept nogil

cdef extern from "fl_cpu.h":
    int fl_cpu_x86_64_level() noexcept nogil


def openmp_max_threads():
    """Threads an OpenMP parallel region would use now (1 without OpenMP)."""
    return fl_omp_max_threads()


def cpu_x86_64_level():
    """The x86-64 level this CPU runs: 4 (x86-64-v4: AVX-512 F/BW/CD/DQ/VL), 3
    (x86-64-v3: AVX2, FMA, BMI1/2, F16C, LZCNT, MOVBE), else 1 (and 1 off x86-64)."""
    return fl_cpu_x86_64_level()


def has_openmp():
    """Whether the kernels were compiled with OpenMP."""
    return bool(fl_has_openmp())


def openmp_spec():
    """The _OPENMP date macro the kernels were compiled with (e.g. 201511), or 0."""
    return fl_openmp_spec()


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

    `partials` holds one double per block (NULL: a single block, or the caller does
    not need them; callers that split the data pass it to get each block's sum, see
    `pairwise_total`). The blocks run in parallel when
    n_threads > 1; the sum is identical either way. Threads take eight blocks at a
    time (dynamic schedule), so that on a shared machine a thread that loses its core
    for a while does not hold up the others; which thread sums a block never changes
    the result.
    """
    cdef Py_ssize_t n_blocks = (n_items + block_size - 1) // block_size
    cdef Py_ssize_t b
    cdef double total
    if n_blocks <= 1:
        total = fn(args, 0, n_items)
        if partials != NULL and n_blocks == 1:
            partials[0] = total
        return total
    if n_threads > 1:
        for b in prange(n_blocks, schedule="dynamic", chunksize=8, num_threads=n_threads):
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


cdef double _weight_block(KernelArgs* args, Py_ssize_t start, Py_ssize_t stop) noexcept nogil:
    """sum(weight[start:stop]) with eight interleaved accumulators, in a fixed order."""
    cdef const double* w = args.weight
    cdef double s[8]
    cdef Py_ssize_t i, u, body_stop = start + (stop - start) // 8 * 8
    for u in range(8):
        s[u] = 0.0
    for i in range(start, body_stop, 8):
        for u in range(8):
            s[u] += w[i + u]
    for i in range(body_stop, stop):
        s[i - body_stop] += w[i]
    return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]))


cdef object partials_array(partials_out, Py_ssize_t n_items, Py_ssize_t block):
    """partials_out (the caller's array for the block sums of n_items in blocks of
    `block`: writeable, C-contiguous float64, one value per block), or, when it is
    None, a new array when there is more than one block (else None)."""
    cdef Py_ssize_t n_blocks = (n_items + block - 1) // block
    cdef cnp.ndarray partials
    if partials_out is None:
        return np.empty(n_blocks, dtype=np.float64) if n_blocks > 1 else None
    if not isinstance(partials_out, cnp.ndarray):
        raise TypeError("partials_out must be a numpy.ndarray")
    partials = <cnp.ndarray>partials_out
    if (cnp.PyArray_TYPE(partials) != cnp.NPY_FLOAT64 or not cnp.PyArray_ISCARRAY(partials)
            or cnp.PyArray_NDIM(partials) != 1):
        raise ValueError("partials_out must be a writeable C-contiguous 1-D float64 array")
    if cnp.PyArray_DIM(partials, 0) != n_blocks:
        raise ValueError("partials_out must have one value per block")
    return partials


cdef double* partials_data(object partials) noexcept:
    if partials is None or cnp.PyArray_SIZE(<cnp.ndarray>partials) == 0:
        return NULL
    return <double*>cnp.PyArray_DATA(<cnp.ndarray>partials)


def weight_sum(cnp.ndarray weight, Py_ssize_t block, partials_out=None):
    """sum(weight) (C-contiguous float64, 1-D) by the kernels' blocked reduction: blocks
    of `block` items, their sums added by `pairwise_total`. Every "mean" divides by a
    total computed this way, so that a caller who splits the weights at block
    boundaries (fastloss.dask) can add the same partial sums in the same order.
    `partials_out` (float64, one per block) receives the block sums."""
    cdef KernelArgs args
    cdef Py_ssize_t n = cnp.PyArray_SIZE(weight)
    cdef double total
    if block < 1:
        raise ValueError("block must be >= 1")
    args.weight = <const double*>cnp.PyArray_DATA(weight)
    partials = partials_array(partials_out, n, block)
    cdef double* partials_ptr = partials_data(partials)
    with nogil:
        total = blocked_sum(_weight_block, &args, n, block, partials_ptr, 1)
    return total


def pairwise_total(partials):
    """The sum of block partials (a 1-D float64 array) in blocked_sum's order
    (recursive halving)."""
    cdef cnp.ndarray values = np.ascontiguousarray(partials, dtype=np.float64)
    if cnp.PyArray_NDIM(values) != 1:
        raise ValueError("partials must be 1-D")
    if cnp.PyArray_SIZE(values) == 0:
        return 0.0
    return pairwise_sum(<double*>cnp.PyArray_DATA(values), cnp.PyArray_SIZE(values))


def block_partials(Py_ssize_t n_items, Py_ssize_t block):
    """A float64 array for the partial sums of n_items split in blocks of `block`."""
    return np.empty(max(1, (n_items + block - 1) // block) if n_items else 0, dtype=np.float64)


# ---- the machine's memory limit ------------------------------------------------------

cdef enum:
    PROBE_BLOCK_WORDS = 1 << 13  # 64 KiB per block of the probes


def memory_probe(sources, destination=None, int n_threads=1):
    """Read every byte of the C-contiguous arrays `sources` once (an XOR of their
    64-bit words, returned so that nothing is optimized away), or, with `destination`
    (a C-contiguous array of the first source's byte size), copy the first source into
    it: read once and write once. Blocks of 64 KiB over n_threads threads, as the
    kernels run: the time is the machine's limit for a workload streaming the same
    bytes (the benchmarks' bandwidth probe). Trailing bytes beyond a multiple of 8
    are left out."""
    cdef const unsigned long long* src
    cdef unsigned long long* dst = NULL
    cdef unsigned long long acc = 0, word
    cdef Py_ssize_t n_words, n_blocks, b, i, start, stop
    cdef cnp.ndarray array
    if destination is not None:
        array = sources[0]
        if (cnp.PyArray_NBYTES(destination) != cnp.PyArray_NBYTES(array)
                or not cnp.PyArray_ISCARRAY(destination) or not cnp.PyArray_ISCARRAY_RO(array)):
            raise ValueError("destination must be a writable C-contiguous array of the "
                             "source's size")
        dst = <unsigned long long*>cnp.PyArray_DATA(destination)
        sources = sources[:1]
    for array in sources:
        if not cnp.PyArray_ISCARRAY_RO(array):
            raise ValueError("the sources must be C-contiguous arrays")
        src = <const unsigned long long*>cnp.PyArray_DATA(array)
        n_words = cnp.PyArray_NBYTES(array) // 8
        n_blocks = (n_words + PROBE_BLOCK_WORDS - 1) // PROBE_BLOCK_WORDS
        with nogil:
            for b in prange(n_blocks, num_threads=max(1, n_threads), schedule="static"):
                start = b * PROBE_BLOCK_WORDS
                stop = min(start + PROBE_BLOCK_WORDS, n_words)
                word = 0
                if dst != NULL:
                    for i in range(start, stop):
                        dst[i] = src[i]
                else:
                    for i in range(start, stop):
                        word = word ^ src[i]
                acc ^= word
    return int(acc)


# Kernel modes and thresholds, for the Python layer.
VALUE_SUM = MODE_VALUE_SUM
VALUE_NONE = MODE_VALUE_NONE
GRADIENT = MODE_GRADIENT
VALUE_GRADIENT = MODE_VALUE_GRADIENT
GRADIENT_HESSIAN = MODE_GRADIENT_HESSIAN
VALUE_NONE_GRADIENT = MODE_VALUE_NONE_GRADIENT
PARALLEL_MIN = PARALLEL_MIN_ELEMENTS
BLOCK = ELEMENT_BLOCK
SMALL_VALUE = CALL_VALUE
SMALL_GRADIENT = CALL_GRADIENT
SMALL_VALUE_AND_GRADIENT = CALL_VALUE_AND_GRADIENT


# ---- the small-call path ---------------------------------------------------------

cdef int small_input_type(object x) noexcept:
    """NumPy's type number of x when it is an exact numpy.ndarray of native, aligned,
    C-contiguous float64 or float32 (what a small call takes as it is), else -1."""
    cdef int type_num
    if type(x) is not cnp.ndarray or not cnp.PyArray_ISCARRAY_RO(<cnp.ndarray>x):
        return -1
    type_num = cnp.PyArray_TYPE(<cnp.ndarray>x)
    return type_num if type_num == cnp.NPY_FLOAT64 or type_num == cnp.NPY_FLOAT32 else -1


cdef int small_reduction(object reduction) noexcept:
    """SMALL_MEAN, SMALL_SUM or SMALL_NONE for "mean", "sum" or "none"; else -1."""
    if type(reduction) is not str:
        return -1
    if reduction == "mean":
        return SMALL_MEAN
    if reduction == "sum":
        return SMALL_SUM
    return SMALL_NONE if reduction == "none" else -1


cdef int small_call_mode(int what, int reduction) noexcept:
    """The kernel mode that computes `what` under `reduction`."""
    if what == CALL_GRADIENT:
        return MODE_GRADIENT
    if what == CALL_VALUE:
        return MODE_VALUE_NONE if reduction == SMALL_NONE else MODE_VALUE_SUM
    return MODE_VALUE_NONE_GRADIENT if reduction == SMALL_NONE else MODE_VALUE_GRADIENT


cdef object small_call_run(BlockFn fn, KernelArgs* args, object y_pred, int values_ndim,
                           Py_ssize_t n_items, int reduction, int what):
    """Run fn, the block function of small_call_mode(what, reduction), over n_items
    items in one block (args holds the inputs and parameters), and return what the
    public method returns: the value (a float; for "none" an array shaped like the
    first values_ndim axes of y_pred), the gradient (shaped like y_pred), or both.
    "mean" divides by n_items (the caller has made sure that this is its divisor).
    None when the kernel flagged a target outside the loss's domain."""
    cdef cnp.ndarray p = <cnp.ndarray>y_pred
    cdef int type_num = cnp.PyArray_TYPE(p)
    cdef object values = None, grad = None
    cdef double total
    args.scale = 1.0 / <double>n_items if reduction == SMALL_MEAN else 1.0
    if what != CALL_GRADIENT and reduction == SMALL_NONE:
        values = cnp.PyArray_EMPTY(values_ndim, cnp.PyArray_DIMS(p), type_num, 0)
    if what != CALL_VALUE:
        grad = cnp.PyArray_EMPTY(cnp.PyArray_NDIM(p), cnp.PyArray_DIMS(p), type_num, 0)
    # The kernels write "none" values into out_a and the gradient beside them into
    # out_b (VALUE_NONE_GRADIENT); a gradient alone into out_a.
    args.out_a = NULL
    args.out_b = NULL
    if values is not None:
        args.out_a = cnp.PyArray_DATA(<cnp.ndarray>values)
        if grad is not None:
            args.out_b = cnp.PyArray_DATA(<cnp.ndarray>grad)
    elif grad is not None:
        args.out_a = cnp.PyArray_DATA(<cnp.ndarray>grad)
    total = blocked_sum(fn, args, n_items, n_items, NULL, 1)
    if args.target_bad != NULL and args.target_bad[0]:
        return None
    if what == CALL_GRADIENT:
        return grad
    if reduction != SMALL_NONE:
        values = total / <double>n_items if reduction == SMALL_MEAN else total
    return values if what == CALL_VALUE else (values, grad)


# ---- recycled output buffers ---------------------------------------------------------
# A fresh multi-megabyte array costs a page fault per page on its first write: for a
# 10^7-element gradient that is as much time as the kernel itself. Training loops ask
# for the same output size again and again, so the memory of large outputs is kept
# for reuse after NumPy frees them: at most _CACHE_SLOTS buffers (three: Triplet
# returns three gradients; with two slots one was allocated afresh on every call,
# 24 ms instead of 13 ms at 10^5 x 128 float32), each between _RECYCLE_MIN_BYTES and
# _RECYCLE_MAX_BYTES. Everything here runs with the GIL held.

from libc.stdlib cimport free

cdef extern from "fl_memory.h":
    void* fl_alloc_large(size_t nbytes) nogil

DEF _CACHE_SLOTS = 3
cdef size_t _RECYCLE_MIN_BYTES = 4 << 20
cdef size_t _RECYCLE_MAX_BYTES = 1 << 30
#: Outputs of at least this many bytes come from recycled memory (empty, empty_like).
RECYCLE_MIN_BYTES = _RECYCLE_MIN_BYTES
cdef void* _cached_ptr[_CACHE_SLOTS]
cdef size_t _cached_bytes[_CACHE_SLOTS]


cdef class _Memory:
    """Owner of one large allocation; gives it back to the cache when released."""
    cdef void* ptr
    cdef size_t nbytes

    def __dealloc__(self):
        cdef int slot
        cdef int victim = 0
        if self.ptr == NULL:
            return
        for slot in range(_CACHE_SLOTS):
            if _cached_ptr[slot] == NULL:
                victim = slot
                break
            if _cached_bytes[slot] < _cached_bytes[victim]:
                victim = slot
        if _cached_ptr[victim] != NULL:
            free(_cached_ptr[victim])
        _cached_ptr[victim] = self.ptr
        _cached_bytes[victim] = self.nbytes
        self.ptr = NULL


cdef void* _take_cached(size_t nbytes):
    """A cached allocation of exactly nbytes, removed from the cache, or NULL."""
    cdef int slot
    cdef void* ptr
    for slot in range(_CACHE_SLOTS):
        if _cached_ptr[slot] != NULL and _cached_bytes[slot] == nbytes:
            ptr = _cached_ptr[slot]
            _cached_ptr[slot] = NULL
            _cached_bytes[slot] = 0
            return ptr
    return NULL


def empty_like(cnp.ndarray like):
    """An uninitialized C-contiguous array with like's shape and dtype.

    Large arrays reuse the memory of earlier outputs of the same size that have
    been freed (see above); small ones come from np.empty.
    """
    return _empty(cnp.PyArray_NDIM(like), cnp.PyArray_DIMS(like), cnp.PyArray_TYPE(like))


def empty(shape, dtype):
    """empty_like for a shape and dtype (C order, the same recycled memory)."""
    cdef cnp.npy_intp dims[32]
    cdef int ndim = len(shape), axis
    if ndim > 32:
        raise ValueError("at most 32 dimensions")
    for axis in range(ndim):
        dims[axis] = shape[axis]
    return _empty(ndim, dims, np.dtype(dtype).num)


cdef _empty(int ndim, cnp.npy_intp* dims, int type_num):
    cdef size_t nbytes = np.dtype(cnp.PyArray_TypeObjectFromType(type_num)).itemsize
    cdef _Memory memory
    cdef cnp.ndarray out
    cdef int axis
    for axis in range(ndim):
        nbytes *= <size_t>dims[axis]
    if nbytes < _RECYCLE_MIN_BYTES or nbytes > _RECYCLE_MAX_BYTES:
        return cnp.PyArray_EMPTY(ndim, dims, type_num, 0)
    memory = _Memory.__new__(_Memory)
    memory.ptr = _take_cached(nbytes)
    if memory.ptr == NULL:
        memory.ptr = fl_alloc_large(nbytes)
        if memory.ptr == NULL:
            raise MemoryError(f"cannot allocate {nbytes} bytes")
    memory.nbytes = nbytes
    out = cnp.PyArray_SimpleNewFromData(ndim, dims, type_num, memory.ptr)
    cnp.PyArray_SetBaseObject(out, memory)  # steals a reference
    cpython.Py_INCREF(memory)
    return out


def release_cached_memory():
    """Free the memory kept for reuse by empty_like."""
    cdef int slot
    for slot in range(_CACHE_SLOTS):
        if _cached_ptr[slot] != NULL:
            free(_cached_ptr[slot])
            _cached_ptr[slot] = NULL
            _cached_bytes[slot] = 0


# ---- the function shortcuts ---------------------------------------------------------

cdef class _Shortcut:
    """One cached shortcut loss: the object, what its small-call path needs, the
    hyper-parameter values it was built from, and the names of its trailing inputs
    that its methods take as keywords (`_keyword_inputs`: ranking's `where`)."""
    cdef object loss, small_call, small_spec, reduction
    cdef tuple values, keyword_inputs

    def __cinit__(self, loss, tuple values):
        self.loss = loss
        self.small_call = loss._small_call
        self.small_spec = loss._small_spec
        self.reduction = loss.reduction
        self.values = values
        self.keyword_inputs = tuple(loss._keyword_inputs)

    cdef bint built_from(self, tuple values):
        """Whether `values` are those this loss was built from (_same_value each)."""
        cdef Py_ssize_t i
        for i in range(len(values)):
            if not _same_value(self.values[i], values[i]):
                return False
        return True


cdef bint _same_value(mine, given):
    """The same object, or equal values of the same type (True equals 1 but is not a
    valid number), tuples item by item; for the values _cacheable admits."""
    if mine is given:
        return True
    if type(mine) is not type(given):
        return False
    if type(mine) is tuple:
        return len(<tuple>mine) == len(<tuple>given) and all(
            [_same_value(a, b) for a, b in zip(<tuple>mine, <tuple>given)])
    return bool(mine == given)


cdef bint _cacheable(value):
    """Whether a loss built from `value` may be kept and found again by value: None,
    Python and NumPy scalars, and tuples of them. Anything else (arrays, lists,
    tensors: mutable, or compared element by element) builds the loss afresh."""
    if value is None or type(value) in (bool, int, float, str) or isinstance(value, np.generic):
        return True
    return type(value) is tuple and all([_cacheable(item) for item in <tuple>value])


#: Shortcut losses built so far: (class, hyper-parameter values) -> _Shortcut.
cdef dict _shortcuts = {}
#: The last shortcut loss of each class, looked at first.
cdef dict _last_shortcut = {}
#: The most losses kept; beyond it the cache starts afresh.
cdef Py_ssize_t _SHORTCUT_CACHE_SIZE = 1024


cdef _Shortcut _shortcut(cls, tuple values):
    """The cached loss ``cls(**params)``, params the hyper-parameters `values` in the
    order of ``cls._param_names`` and then the reduction: built (and so validated) on
    the first call with these values. Values that _cacheable does not admit build a
    new loss on every call."""
    found = _last_shortcut.get(cls)
    if found is not None and (<_Shortcut>found).built_from(values):
        return <_Shortcut>found
    if not all([_cacheable(value) for value in values]):
        return _Shortcut(_build_shortcut(cls, values), values)
    key = (cls, values)
    found = _shortcuts.get(key)
    if found is None or not (<_Shortcut>found).built_from(values):
        found = _Shortcut(_build_shortcut(cls, values), values)
        if len(_shortcuts) >= _SHORTCUT_CACHE_SIZE:
            _shortcuts.clear()
        _shortcuts[key] = found
    _last_shortcut[cls] = found
    return <_Shortcut>found


def clear_shortcuts():
    """Empty the shortcuts' cache of losses (their small-call paths keep the kernel
    set they were built with: dispatch.use calls this)."""
    _shortcuts.clear()
    _last_shortcut.clear()


cdef object _build_shortcut(cls, tuple values):
    return cls(**dict(zip((*cls._param_names, "reduction"), values, strict=True)))


#: Marks the inputs a shortcut did not pass (shortcut_call takes two to four).
cdef object _ABSENT = object()


def shortcut_call(cls, tuple values, sample_weight, a, b, c=_ABSENT, d=_ABSENT):
    """``cls(**params)(a, b, ..., sample_weight=sample_weight)`` for a function
    shortcut, the loss taken from a cache (see _shortcut) and its small-call path
    taken here as the object's own call takes it, so that the shortcut costs what a
    call of the object costs. The inputs named in the loss's `_keyword_inputs` come
    last."""
    cdef _Shortcut entry = _shortcut(cls, values)
    cdef tuple inputs
    cdef Py_ssize_t n_positional
    if sample_weight is None and entry.small_spec is not None:
        if c is _ABSENT:
            result = entry.small_call(entry.small_spec, entry.reduction, CALL_VALUE, a, b)
        elif d is _ABSENT:
            result = entry.small_call(entry.small_spec, entry.reduction, CALL_VALUE, a, b, c)
        else:
            result = entry.small_call(entry.small_spec, entry.reduction, CALL_VALUE,
                                      a, b, c, d)
        if result is not None:
            return result
    if sample_weight is None and not entry.keyword_inputs:  # the object's call, as written
        if c is _ABSENT:
            return entry.loss(a, b)
        return entry.loss(a, b, c) if d is _ABSENT else entry.loss(a, b, c, d)
    inputs = tuple([x for x in (a, b, c, d) if x is not _ABSENT])
    if not entry.keyword_inputs:
        return entry.loss(*inputs, sample_weight=sample_weight)
    n_positional = len(inputs) - len(entry.keyword_inputs)
    keywords = dict(zip(entry.keyword_inputs, inputs[n_positional:], strict=True))
    return entry.loss(*inputs[:n_positional], sample_weight=sample_weight, **keywords)
