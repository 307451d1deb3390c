# Numerically stable scalar helpers shared by all kernels (inline, nogil, double).
from libc.math cimport exp, log, log1p, fabs, INFINITY

ctypedef struct Terms:
    double loss
    double grad
    double hess


cdef inline double log1pexp(double x) noexcept nogil:
    """log(1 + exp(x)) without overflow or loss of precision.

    Thresholds from Maechler, "Accurately Computing log(1 - exp(-|a|))" (2012), eq. (10):
    exp(x) for x <= -37, log1p(exp(x)) up to 18, x + exp(-x) up to 33.3, x beyond.
    """
    if x <= -37.0:
        return exp(x)
    if x <= 18.0:
        return log1p(exp(x))
    if x <= 33.3:
        return x + exp(-x)
    return x


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
    return x * log(y)


cdef inline double times_or_zero(double x, double y) noexcept nogil:
    """x*y, but exactly 0 when x == 0 (so 0*inf = 0: the limit of a count times a log)."""
    if x == 0.0 and y == y:
        return 0.0
    return x * y
