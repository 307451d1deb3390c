# cython: cdivision=True
# Numerically stable scalar helpers shared by all kernels (inline, nogil, double).
from libc.math cimport pow, fabs

cimport fastloss._kernels.vmath as vm

ctypedef struct Terms:
    double loss
    double grad
    double hess


cdef inline double sign(double x) noexcept nogil:
    """-1, 0 or 1 by the sign of x; NaN for NaN."""
    if x > 0.0:
        return 1.0
    if x < 0.0:
        return -1.0
    return x  # +-0 or NaN


cdef inline double xlogy(double x, double y) noexcept nogil:
    """x*log(y) with the convention 0*log(0) = 0 (scipy.special.xlogy)."""
    if x == 0.0 and y == y:
        return 0.0
    return x * fl_log(y)


cdef inline double times_or_zero(double x, double y) noexcept nogil:
    """x*y, but exactly 0 when x == 0 (so 0*inf = 0: the limit of a count times a log)."""
    if x == 0.0 and y == y:
        return 0.0
    return x * y


# ---- transcendental entry points ------------------------------------------------------
# Kernels call exp/log/log1p/expm1 only through these: the vectorizable, branch-free
# implementations of fastloss/_kernels/vmath.pxd (within 4 ulp, NaN/inf semantics kept), so
# the kernels' loops are compiled to SIMD code instead of scalar libm calls.

cdef inline double fl_exp(double x) noexcept nogil:
    return vm.fl_exp(x)
# An exp of an argument that cannot be positive (-|z|, z - max) calls vm.fl_exp_nonpos:
# the same bits without fl_exp's overflow select.


cdef inline double fl_log(double x) noexcept nogil:
    return vm.fl_log(x)


cdef inline double fl_log1p(double x) noexcept nogil:
    return vm.fl_log1p(x)


cdef inline double fl_expm1(double x) noexcept nogil:
    return vm.fl_expm1(x)


cdef inline double fl_pow(double x, double y) noexcept nogil:
    """x**y, with the common exponents 0, 1 and 2 done exactly and cheaply."""
    if y == 2.0:
        return x * x
    if y == 1.0:
        return x
    if y == 0.0:
        return 1.0 if x == x else x  # NaN stays NaN (C's pow(NaN, 0) is 1)
    return pow(x, y)


# ---- logistic helpers -----------------------------------------------------------------

ctypedef struct Logistic:
    double log1p_e      # log(1 + exp(-|z|)), the shared part of softplus(z) and softplus(-z)
    double sig          # sigmoid(z)
    double sig_neg      # sigmoid(-z) = 1 - sigmoid(z), without cancellation


cdef inline Logistic logistic_from(double z, double e, double log1p_e) noexcept nogil:
    """Everything the logistic losses need, from e = exp(-|z|) and log1p_e = log(1 + e).

    softplus(z) = max(z, 0) + log1p(e), sigmoid(z) = 1/(1+e) for z >= 0 and e/(1+e)
    below, and sigmoid(-z) the other one, so both tails are exact (no 1 - sigmoid
    cancellation); e never overflows. NaN propagates; z = +-inf gives e = 0 and the
    limits.
    """
    cdef double inv = 1.0 / (1.0 + e)
    cdef Logistic r
    r.log1p_e = log1p_e
    if z >= 0.0:
        r.sig = inv
        r.sig_neg = e * inv
    else:
        r.sig = e * inv
        r.sig_neg = inv
    return r


cdef inline Logistic logistic(double z) noexcept nogil:
    """logistic_from(z) with its one exp and one log1p computed here."""
    cdef double e = vm.fl_exp_nonpos(-fabs(z))
    return logistic_from(z, e, vm.fl_log1p_unit(e))


ctypedef fused real:  # the kernels' storage types
    float
    double


# Stages: the costly parts of a chunk of elements, one loop each, for the STAGED
# kernels of elementwise.tp (same operations as the unstaged terms, so the same bits).

cdef inline void stage_logistic(const real* z, double* e, double* log1p_e, Py_ssize_t n,
                                bint with_loss) noexcept nogil:
    """e[i] = exp(-|z[i]|) and, for the loss, log1p_e[i] = log(1 + e[i]): what
    logistic() computes, for logistic_from()."""
    cdef Py_ssize_t i
    for i in range(n):
        e[i] = vm.fl_exp_nonpos(-fabs(<double>z[i]))
    if with_loss:
        for i in range(n):
            log1p_e[i] = vm.fl_log1p_unit(e[i])


cdef inline void stage_logistic_with_log1p(const real* z, double* e, double* log1p_e,
                                           Py_ssize_t n, bint with_loss) noexcept nogil:
    """stage_logistic() for losses whose gradient needs log1p_e too (focal)."""
    stage_logistic(z, e, log1p_e, n, True)


cdef inline void stage_logs(const real* p, double* log_p, double* log_q, Py_ssize_t n,
                            bint with_loss) noexcept nogil:
    """log_p[i] = log(p[i]) and log_q[i] = log(1 - p[i]) (as log1p(-p)), always both:
    the gradients' clamps read them too."""
    cdef Py_ssize_t i
    for i in range(n):
        log_p[i] = fl_log(p[i])
    for i in range(n):
        log_q[i] = fl_log1p(-<double>p[i])


cdef inline double softplus(double z) noexcept nogil:
    """log(1 + exp(z)) = max(z, 0) + log1p(exp(-|z|)): no overflow, exact in both tails."""
    return vm.fl_log1pexp(z)


cdef inline double log_sigmoid(double z) noexcept nogil:
    """log(sigmoid(z)) = -softplus(-z), never formed as log of a rounded sigmoid."""
    return -softplus(-z)


cdef inline double sigmoid(double z) noexcept nogil:
    """1 / (1 + exp(-z)) without overflow (exp of a non-positive number only)."""
    cdef double e = vm.fl_exp_nonpos(-fabs(z))
    return 1.0 / (1.0 + e) if z >= 0.0 else e / (1.0 + e)


# PyTorch clamps log(p) at -100 in binary_cross_entropy so that p = 0 gives a finite
# loss (aten/src/ATen/native/Loss.cpp). Probability paths use the same clamp; where it
# is active the loss is flat, so the gradient and hessian there are 0.

cdef inline double clamped_log(double lp) noexcept nogil:
    """max(lp, -100) for a log-probability lp, NaN propagating."""
    return -100.0 if lp < -100.0 else lp


cdef inline Py_ssize_t first_bad_sign_label_at(const real* x, Py_ssize_t n) noexcept nogil:
    """Index of the first of x[0:n] that is not a label of {0, 1} or of {-1, 1} (a value
    outside both, or the first one mixing 0 and -1), by one pass in order; or -1."""
    cdef Py_ssize_t i
    cdef double v
    cdef bint seen_zero = False, seen_minus_one = False
    for i in range(n):
        v = x[i]
        if v == 0.0:
            if seen_minus_one:
                return i
            seen_zero = True
        elif v == -1.0:
            if seen_zero:
                return i
            seen_minus_one = True
        elif v != 1.0:
            return i
    return -1


cdef inline Py_ssize_t first_outside_unit_at(const real* x, Py_ssize_t n,
                                             bint nan_invalid) noexcept nogil:
    """Index of the first of x[0:n] outside [0, 1] (NaN counts when nan_invalid), or -1."""
    cdef Py_ssize_t i
    cdef double v
    for i in range(n):
        v = x[i]
        if not (v >= 0.0 and v <= 1.0):
            if nan_invalid or v == v:
                return i
    return -1
