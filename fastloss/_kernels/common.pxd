# Shared kernel machinery: the argument record every block function reads and the
# deterministic blocked driver that runs block functions serially or in parallel.

ctypedef struct KernelArgs:
    const void* y_true      # targets, in the compute dtype (or int64 labels)
    const void* y_pred      # predictions, in the compute dtype
    const double* weight    # NULL when unweighted
    void* out_a             # per-element loss ("none") or gradient
    void* out_b             # hessian, when asked for
    double scale            # gradient/hessian scaling of the reduction (1/sum(w) for "mean")
    double param0           # loss hyper-parameters
    double param1
    double param2
    Py_ssize_t ncols        # row width, for row-wise kernels
    const double* extra     # per-column extra data (class or label weights), or NULL
    unsigned char* target_bad  # per block: 1 when a target failed the fused check, or NULL

# A block function handles items [start, stop) and returns their weighted loss sum,
# accumulated in double in a fixed order.
ctypedef double (*BlockFn)(KernelArgs* args, Py_ssize_t start, Py_ssize_t stop) noexcept nogil

cdef enum Mode:
    MODE_VALUE_SUM = 0          # sum of w*l
    MODE_VALUE_NONE = 1         # out_a[i] = w*l
    MODE_GRADIENT = 2           # out_a[i] = scale*w*g
    MODE_VALUE_GRADIENT = 3     # sum of w*l and out_a[i] = scale*w*g
    MODE_GRADIENT_HESSIAN = 4   # out_a[i] = scale*w*g, out_b[i] = scale*w*h
    MODE_VALUE_NONE_GRADIENT = 5  # out_a[i] = w*l, out_b[i] = scale*w*g

cdef double blocked_sum(BlockFn fn, KernelArgs* args, Py_ssize_t n_items,
                        Py_ssize_t block_size, double* partials, int n_threads) noexcept nogil

cdef enum:
    # Items per block of the deterministic reduction (fixed: never depends on threads).
    ELEMENT_BLOCK = 4096
    # Below this many elements a kernel runs serially: starting a parallel region
    # costs more than it saves (measured with benchmarks/threshold.py).
    PARALLEL_MIN_ELEMENTS = 65536
