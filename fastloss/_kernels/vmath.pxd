# Vectorizable elementary functions for the kernels' loops, in double and float.
#
#     double fl_exp(double x)           float fl_expf(float x)            e^x
#     double fl_exp_nonpos(double x)    float fl_exp_nonposf(float x)     e^x, x <= 0 or NaN
#     double fl_expm1(double x)         float fl_expm1f(float x)          e^x - 1
#     double fl_log(double x)           float fl_logf(float x)            log x
#     double fl_log1p(double x)         float fl_log1pf(float x)          log(1 + x)
#     double fl_log1p_unit(double x)    float fl_log1p_unitf(float x)     log(1 + x), x in [0, 1]
#     double fl_log1pexp(double x)      float fl_log1pexpf(float x)       log(1 + e^x)
#     double fl_log_sigmoid(double x)   float fl_log_sigmoidf(float x)    -log(1 + e^-x)
#     double fl_sigmoid(double x)       float fl_sigmoidf(float x)        1 / (1 + e^-x)
#     double fl_tanh(double x)          float fl_tanhf(float x)           tanh x
#     double fl_log_cosh(double x)      float fl_log_coshf(float x)       log cosh x
#   rows (contiguous x[0:n]; the float versions accumulate in double):
#     double fl_row_max(const double* x, n)   float fl_row_maxf(const float* x, n)
#     double fl_sum_exp(const double* x, n, double shift)     sum of e^(x[i] - shift)
#     double fl_sum_expf(const float* x, n, float shift)
#     double fl_sum_exp_scaled(double* x, n, double scale, double shift, int inplace)
#     double fl_sum_exp_scaledf(float* x, n, double scale, double shift, int inplace)
#                         sum of e^(x[i] scale - shift); inplace: x[i] becomes its term
#     double fl_sum_exp_below(const double* x, n, double m, double* terms, Py_ssize_t* n_max)
#     double fl_sum_exp_belowf(const float* x, n, float m, float* terms, Py_ssize_t* n_max)
#                         sum of e^(x[i] - m) over x[i] < m (m the row max), the
#                         terms kept in terms[0:n], the number of x[i] == m added to
#                         *n_max
#     double fl_sum_in_eight(const double* x, n)  double fl_sum_in_eightf(const float* x, n)
#                         sum of x[0:n] in double in fl_sum_exp_below's order
#     double fl_logsumexp(const double* x, n)  double fl_logsumexpf(const float* x, n)
#   memory:
#     void fl_prefetch_ahead(const void* p, n_bytes)   prefetch [p, p + n_bytes) + 8 KiB
#
# Every helper is a branch-free static inline C function (noexcept nogil in Cython):
# range reduction and a polynomial, bit manipulation through memcpy, and special cases
# chosen with ternaries, which GCC turns into blends. A loop calling them is
# vectorized by the compiler (SSE2 in the baseline kernel set, AVX2 + FMA in the
# x86-64-v3 set, AVX-512 in the x86-64-v4 set; `benchmarks/vmath_speed.py
# --disassembly` counts the packed instructions); no libm call is left in the loop.
# This needs -fno-trapping-math (set in meson.build): under GCC's default
# -ftrapping-math a floating-point operation feeding a select stays behind a branch
# and the loop is not vectorized.
# The float versions compute in float, eight lanes to an AVX2 register. The row
# helpers keep eight interleaved partial results in a fixed order, so their result
# does not depend on the instruction set beyond the last bits of each term.
#
# Semantics: NaN in gives NaN out; +-inf give the limits (exp(-inf) = 0,
# log(0) = -inf, log(x < 0) = NaN, log1pexp(inf) = inf, sigmoid(+-inf) = 1 / 0,
# log_sigmoid(-inf) = -inf, tanh(+-inf) = +-1, ...); results overflow to inf and
# underflow to 0 at the thresholds of the correctly rounded function; subnormal
# inputs and results are computed, not flushed (a subnormal result of exp is rounded
# once, so it is within 1 ulp); expm1, log1p and tanh keep the sign of -0. Nothing
# assumes finite input; the build uses no -ffast-math. log-sum-exp ignores NaN when
# taking the row max but the NaN reaches the sum, so it returns NaN; a row holding
# +inf gives +inf, an empty or all -inf row -inf.
#
# Accuracy: within 4 ulp of the correctly rounded result over the whole domain, in
# every kernel set. tests/test_vmath.py checks it against mpmath; the largest errors
# seen (2^32/97 float32 inputs; 60000 float64 points against mpmath) are
#     exp 1.0, expm1 1.8, log 0.8, log1p 1.4, log1p_unit 1.4 (2 * 10^7 float64
#     points against log1pl), log1pexp 1.7, log_sigmoid 1.6,
#     sigmoid 2.3, tanh 2.5, log_cosh 1.8 ulp.
# The x86-64-v3 and v4 sets use fused multiply-adds (FL_FMA), the baseline set a multiply
# and an add (a library fma would be a slow call); both stay within the bound, and
# their results may differ in the last bits.
#
# Sources: Cody & Waite range reduction with fdlibm's split of ln 2 (Sun
# Microsystems 1993, e_exp.c); the log core is fdlibm's e_log.c (float: FreeBSD
# e_logf.c), coefficients Lg1..Lg7; log1p adds the rounding error of 1 + x
# (TwoSum, Knuth TAOCP vol. 2) to the reduced argument; expm1 follows fdlibm's
# s_expm1.c reconstruction 2^k (q + 1 - 2^-k). The exp and small-|x| log_cosh
# polynomials are Chebyshev interpolants fitted by tools/fit_vmath.py.

cdef extern from "fl_vmath.h":
    double fl_exp(double x) noexcept nogil
    float fl_expf(float x) noexcept nogil
    double fl_exp_nonpos(double x) noexcept nogil
    float fl_exp_nonposf(float x) noexcept nogil
    double fl_expm1(double x) noexcept nogil
    float fl_expm1f(float x) noexcept nogil
    double fl_log(double x) noexcept nogil
    float fl_logf(float x) noexcept nogil
    double fl_log1p(double x) noexcept nogil
    float fl_log1pf(float x) noexcept nogil
    double fl_log1p_unit(double x) noexcept nogil
    float fl_log1p_unitf(float x) noexcept nogil
    double fl_log1pexp(double x) noexcept nogil
    float fl_log1pexpf(float x) noexcept nogil
    double fl_log_sigmoid(double x) noexcept nogil
    float fl_log_sigmoidf(float x) noexcept nogil
    double fl_sigmoid(double x) noexcept nogil
    float fl_sigmoidf(float x) noexcept nogil
    double fl_tanh(double x) noexcept nogil
    float fl_tanhf(float x) noexcept nogil
    double fl_log_cosh(double x) noexcept nogil
    float fl_log_coshf(float x) noexcept nogil
    double fl_row_max(const double* x, Py_ssize_t n) noexcept nogil
    float fl_row_maxf(const float* x, Py_ssize_t n) noexcept nogil
    double fl_sum_exp(const double* x, Py_ssize_t n, double shift) noexcept nogil
    double fl_sum_expf(const float* x, Py_ssize_t n, float shift) noexcept nogil
    double fl_sum_exp_scaled(double* x, Py_ssize_t n, double scale, double shift,
                             int inplace) noexcept nogil
    double fl_sum_exp_scaledf(float* x, Py_ssize_t n, double scale, double shift,
                              int inplace) noexcept nogil
    double fl_sum_exp_below(const double* x, Py_ssize_t n, double m, double* terms,
                            Py_ssize_t* n_max) noexcept nogil
    double fl_sum_exp_belowf(const float* x, Py_ssize_t n, float m, float* terms,
                             Py_ssize_t* n_max) noexcept nogil
    double fl_logsumexp(const double* x, Py_ssize_t n) noexcept nogil
    void fl_prefetch_ahead(const void* p, Py_ssize_t n_bytes) noexcept nogil
    double fl_sum_in_eight(const double* x, Py_ssize_t n) noexcept nogil
    double fl_sum_in_eightf(const float* x, Py_ssize_t n) noexcept nogil
    double fl_logsumexpf(const float* x, Py_ssize_t n) noexcept nogil
