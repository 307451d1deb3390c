# Shared kernel machinery: the argument record every block function reads and the
# deterministic blocked driver that runs block functions serially or in parallel.

ctypedef struct KernelArgs:
    const void* y_true      # targets, in the compute dtype (or int64 labels)
    const void* y_pred      # predictions, in the compute dtype
    const double* weight    # NULL when unweighted
    void* out_a             # per-element loss ("none") or gradient
    void* out_b             # hessian; the gradient beside "none" values (VALUE_NONE_GRADIENT)
    double scale            # gradient/hessian scaling of the reduction (1/sum(w) for "mean")
    double param0           # loss hyper-parameters
    double param1
    double param2
    Py_ssize_t ncols        # row width, for row-wise kernels
    const double* extra     # per-column extra data (class or label weights), or NULL
    unsigned char* target_bad  # per block: 1 when a target failed the fused check, or NULL
    int mode                # the kernel mode, for block functions that read it at run time
    bint stream_out         # large derivatives: non-temporal stores where a kernel can

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

# The small-call path: one public call (value, gradient, or both) of a loss on small,
# already-valid inputs, in one compiled function per family (call_small), without the
# Python layer. `what` is the public method it stands for.
cdef enum SmallCall:
    CALL_VALUE = 0
    CALL_GRADIENT = 1
    CALL_VALUE_AND_GRADIENT = 2

# The reductions, as small_reduction gives them.
cdef enum SmallReduction:
    SMALL_MEAN = 0
    SMALL_SUM = 1
    SMALL_NONE = 2

cdef int small_input_type(object x) noexcept
cdef int small_reduction(object reduction) noexcept
cdef int small_call_mode(int what, int reduction) noexcept
cdef object small_call_run(BlockFn fn, KernelArgs* args, object y_pred, int values_ndim,
                           Py_ssize_t n_items, int reduction, int what)

# What a kernel mode computes, for block functions that take the mode at run time.
ctypedef struct ModeOutputs:
    bint value   # the loss: summed, or written per item when `none`
    bint none    # per-item losses are written (out_a)
    bint grad    # the gradient is written (out_b when `none`, else out_a)
    bint hess    # the hessian diagonal is written (out_b)

cdef inline ModeOutputs mode_outputs(int mode) noexcept nogil:
    cdef ModeOutputs f
    f.none = mode == MODE_VALUE_NONE or mode == MODE_VALUE_NONE_GRADIENT
    f.value = f.none or mode == MODE_VALUE_SUM or mode == MODE_VALUE_GRADIENT
    f.grad = not (mode == MODE_VALUE_SUM or mode == MODE_VALUE_NONE)
    f.hess = mode == MODE_GRADIENT_HESSIAN
    return f

cdef double pairwise_sum(const double* values, Py_ssize_t n) noexcept nogil

cdef double blocked_sum(BlockFn fn, KernelArgs* args, Py_ssize_t n_items,
                        Py_ssize_t block_size, double* partials, int n_threads) noexcept nogil

# The array blocked_sum writes its block sums into (partials_out, checked, or a new
# one), and that array's data for blocked_sum (NULL for None or no blocks). Typed
# memoryviews would do the same, at about 3 s of C compilation per module.
cdef object partials_array(partials_out, Py_ssize_t n_items, Py_ssize_t block)
cdef double* partials_data(object partials) noexcept

cdef enum:
    # Items per block of the deterministic reduction (fixed: never depends on threads).
    ELEMENT_BLOCK = 4096
    # Below this many elements a kernel runs serially: starting a parallel region
    # costs more than it saves (measured with benchmarks/threshold.py).
    PARALLEL_MIN_ELEMENTS = 65536


cdef extern from "fl_cpu.h":
    # the vector width, in bits, the including module was compiled for (each family
    # exports it as VECTOR_BITS, for show_config)
    enum: FL_VECTOR_BITS
