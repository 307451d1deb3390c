/* Vectorizable elementary functions in double and float: the C side of
   vmath.pxd, which lists them and states their semantics, accuracy and sources.
   Included by the Cython-generated C of the kernels, after Python.h. */
#ifndef FL_VMATH_H
#define FL_VMATH_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#if defined(_MSC_VER)
#define FL_INLINE static __forceinline
#else
#define FL_INLINE static inline __attribute__((always_inline))
#endif

/* A fused multiply-add where the instruction set has one (x86-64-v3, AArch64);
   elsewhere a multiply and an add, since a library fma would be a slow call.
   C11 builds do not contract a * b + c on their own. */
#if defined(__FMA__) || defined(__ARM_FEATURE_FMA)
#define FL_FMA(a, b, c) __builtin_fma((a), (b), (c))
#define FL_FMAF(a, b, c) __builtin_fmaf((a), (b), (c))
#else
#define FL_FMA(a, b, c) ((a) * (b) + (c))
#define FL_FMAF(a, b, c) ((a) * (b) + (c))
#endif

FL_INLINE uint64_t fl__bits(double x) { uint64_t u; memcpy(&u, &x, 8); return u; }
FL_INLINE double fl__double(uint64_t u) { double x; memcpy(&x, &u, 8); return x; }
FL_INLINE uint32_t fl__bitsf(float x) { uint32_t u; memcpy(&u, &x, 4); return u; }
FL_INLINE float fl__float(uint32_t u) { float x; memcpy(&x, &u, 4); return x; }

/* ---- exp family: x = k ln2 + r, |r| <= ln2/2, e^r - 1 = r + r^2 P(r) ---------- */

/* ln2 split as in fdlibm: k * FL_LN2_HI is exact for |k| < 2^21. */
#define FL_LN2_HI 6.93147180369123816490e-01
#define FL_LN2_LO 1.90821492927058770002e-10
#define FL_LN2_HIF 6.9314575195e-01f
#define FL_LN2_LOF 1.4286067653e-06f

typedef struct { double q; double k; uint64_t t; } fl__reduced;
typedef struct { float q; float k; uint32_t t; } fl__reducedf;

/* q = e^r - 1 and k, valid for x in [-1078 ln2, 1026 ln2] (NaN passes through into
   q); t = k + 2048, from which the scale factors are built with integer operations. */
FL_INLINE fl__reduced fl__reduce(double x)
{
    fl__reduced a;
    /* Adding 1.5 * 2^52 rounds x / ln2 to an integer held in the low bits. */
    double z = FL_FMA(x, 1.4426950408889634, 0x1.8p52);
    a.t = fl__bits(z) - 0x4338000000000000ULL + 2048;
    a.k = z - 0x1.8p52;
    double r = FL_FMA(-a.k, FL_LN2_HI, x);
    r = FL_FMA(-a.k, FL_LN2_LO, r);
    /* Estrin's scheme: a shorter dependency chain than Horner's (the baseline set,
       without FMA, is bound by the latency of the chain). */
    double r2 = r * r, r4 = r2 * r2;
    double p01 = FL_FMA(r, 0.16666666666666671, 0.5);
    double p23 = FL_FMA(r, 0.0083333333333255443, 0.041666666666666671);
    double p45 = FL_FMA(r, 0.00019841269876864356, 0.0013888888888883327);
    double p67 = FL_FMA(r, 2.7557252833516911e-06, 2.4801587327007187e-05);
    double p89 = FL_FMA(r, 2.5106274733573296e-08, 2.75572718102198e-07);
    double p03 = FL_FMA(r2, p23, p01);
    double p47 = FL_FMA(r2, p67, p45);
    double p8a = FL_FMA(r2, 2.0915442297780116e-09, p89);
    double p = FL_FMA(r4, FL_FMA(r4, p8a, p47), p03);
    a.q = FL_FMA(r2, p, r);
    return a;
}

/* y * 2^k, as (y * 2^floor(k/2)) * 2^(k - floor(k/2)): both factors are normal,
   so results overflow to inf and round to subnormals with a single rounding. */
FL_INLINE double fl__scale(double y, uint64_t t)
{
    uint64_t e1 = t >> 1;  /* floor(k/2) + 1024 */
    return (y * fl__double((e1 - 1) << 52)) * fl__double((t - e1 - 1) << 52);
}

/* e^x - 1 = 2^k (q + (1 - 2^-k)) (fdlibm s_expm1.c): q + (1 - 2^-k), to be scaled by
   2^k. 1 - 2^-k is exact for |k| <= 53; beyond, its rounding adds at most half an ulp. */
FL_INLINE double fl__expm1_unscaled(fl__reduced a)
{
    double tk = fl__double((3071 - a.t) << 52);  /* 2^-k */
    tk = a.k > 60.0 ? 0.0 : tk;
    return a.q + (1.0 - tk);
}

FL_INLINE double fl__expm1_from(fl__reduced a)
{
    return fl__scale(fl__expm1_unscaled(a), a.t);
}

FL_INLINE fl__reducedf fl__reducef(float x)
{
    fl__reducedf a;
    float z = FL_FMAF(x, 1.44269502f, 0x1.8p23f);
    a.t = fl__bitsf(z) - 0x4b400000U + 256;
    a.k = z - 0x1.8p23f;
    float r = FL_FMAF(-a.k, FL_LN2_HIF, x);
    r = FL_FMAF(-a.k, FL_LN2_LOF, r);
    float r2 = r * r;
    float p = FL_FMAF(r2 * r2, FL_FMAF(r, 0.000198919806f, 0.00139345415f),
                      FL_FMAF(r2, FL_FMAF(r, 0.00833331048f, 0.0416664556f),
                              FL_FMAF(r, 0.166666672f, 0.5f)));
    a.q = FL_FMAF(r2, p, r);
    return a;
}

FL_INLINE float fl__scalef(float y, uint32_t t)
{
    uint32_t e1 = t >> 1;  /* floor(k/2) + 128 */
    return (y * fl__float((e1 - 1) << 23)) * fl__float((t - e1 - 1) << 23);
}

FL_INLINE float fl__expm1_unscaledf(fl__reducedf a)
{
    float tk = fl__float((383 - a.t) << 23);  /* 2^-k */
    tk = a.k > 30.0f ? 0.0f : tk;
    return a.q + (1.0f - tk);
}

FL_INLINE float fl__expm1_fromf(fl__reducedf a)
{
    return fl__scalef(fl__expm1_unscaledf(a), a.t);
}

/* Arguments beyond the range where k fits are replaced at the end (a clamp of x
   at the start would let the compiler propagate the constant through the whole
   computation and blend every intermediate): e^x is inf above 710 (e^710 >
   DBL_MAX), 0 below -746 (e^-746 < DBL_TRUE_MIN / 2), e^x - 1 is -1 below -40;
   in float, inf above 89, 0 below -104, -1 below -18. Between the thresholds
   and the limits of the format the computation overflows or underflows itself. */
FL_INLINE double fl_exp(double x)
{
    fl__reduced a = fl__reduce(x);
    double y = fl__scale(1.0 + a.q, a.t);
    y = x < -746.0 ? 0.0 : y;
    return x > 710.0 ? INFINITY : y;
}

FL_INLINE float fl_expf(float x)
{
    fl__reducedf a = fl__reducef(x);
    float y = fl__scalef(1.0f + a.q, a.t);
    y = x < -104.0f ? 0.0f : y;
    return x > 89.0f ? INFINITY : y;
}

/* y * 2^k for k <= 0, as (y * 2^(k + 64)) * 2^-64: the first product is exact (2^(k + 64)
   is normal down to k = -1086, below the smallest k reached), the second rounds once,
   so the bits are fl__scale's with fewer integer operations. t - 961 = k + 64 + 1023. */
FL_INLINE double fl__scale_nonpos(double y, uint64_t t)
{
    return (y * fl__double((t - 961) << 52)) * 0x1p-64;
}

FL_INLINE float fl__scale_nonposf(float y, uint32_t t)
{
    return (y * fl__float((t - 65) << 23)) * 0x1p-64f;  /* t - 65 = k + 64 + 127 */
}

/* e^x for x <= 0 or NaN: a softmax term e^(z - max), the e^-|x| of the logistic
   functions. fl_exp without the select for overflow, which cannot happen there, and
   with the shorter scaling by 2^k: the same bits, and a shorter loop
   (benchmarks/vmath_speed.py: exp_nonpos against exp). */
FL_INLINE double fl_exp_nonpos(double x)
{
    fl__reduced a = fl__reduce(x);
    double y = fl__scale_nonpos(1.0 + a.q, a.t);
    return x < -746.0 ? 0.0 : y;
}

FL_INLINE float fl_exp_nonposf(float x)
{
    fl__reducedf a = fl__reducef(x);
    float y = fl__scale_nonposf(1.0f + a.q, a.t);
    return x < -104.0f ? 0.0f : y;
}

FL_INLINE double fl_expm1(double x)
{
    double y = fl__expm1_from(fl__reduce(x));
    y = x < -40.0 ? -1.0 : y;
    return copysign(x > 710.0 ? INFINITY : y, x);  /* keeps -0 */
}

FL_INLINE float fl_expm1f(float x)
{
    float y = fl__expm1_fromf(fl__reducef(x));
    y = x < -18.0f ? -1.0f : y;
    return copysignf(x > 89.0f ? INFINITY : y, x);
}

/* ---- log family: x = 2^k (1 + f), 1 + f in [sqrt(2)/2, sqrt(2)) ------------------ */

/* k ln2 + log(1 + f), fdlibm e_log.c: s = f / (2 + f), log(1 + f) = 2 atanh(s);
   k ln2 given as k_hi = k FL_LN2_HI (exact) and k_lo = k FL_LN2_LO. */
FL_INLINE double fl__log_core_split(double f, double k_hi, double k_lo)
{
    double s = f / (2.0 + f);
    double z = s * s, w = z * z;
    double t1 = w * FL_FMA(w, FL_FMA(w, 1.531383769920937332e-01, 2.222219843214978396e-01),
                           3.999999999940941908e-01);
    double t2 = z * FL_FMA(w, FL_FMA(w, FL_FMA(w, 1.479819860511658591e-01,
                                                  1.818357216161805012e-01),
                                        2.857142874366239149e-01),
                           6.666666666666735130e-01);
    double hfsq = 0.5 * f * f;
    return k_hi - ((hfsq - (s * (hfsq + (t1 + t2)) + k_lo)) - f);
}

FL_INLINE double fl__log_core(double f, double k)
{
    return fl__log_core_split(f, k * FL_LN2_HI, k * FL_LN2_LO);
}

FL_INLINE float fl__log_core_splitf(float f, float k_hi, float k_lo)
{
    float s = f / (2.0f + f);
    float z = s * s, w = z * z;
    float t1 = w * FL_FMAF(w, 0xf89e26.0p-26f, 0xccce13.0p-25f);
    float t2 = z * FL_FMAF(w, 0x91e9ee.0p-25f, 0xaaaaaa.0p-24f);
    float hfsq = 0.5f * f * f;
    return k_hi - ((hfsq - (s * (hfsq + (t1 + t2)) + k_lo)) - f);
}

FL_INLINE float fl__log_coref(float f, float k)
{
    return fl__log_core_splitf(f, k * 6.9313812256e-01f, k * 9.0580006145e-06f);
}

/* For x = 2^k m of a positive normal double: k + 1023 with m in [sqrt(2)/2, sqrt(2)).
   Adding 1 - sqrt(2)/2 (in the exponent-and-mantissa bits) moves the cut. */
#define FL_LOG_OFFSET 0x00095f619980c433ULL
#define FL_LOG_OFFSETF 0x004afb0dU

/* k as a double from its biased value kb (exact; no 64-bit integer conversion). */
FL_INLINE double fl__unbias(uint64_t kb)
{
    return fl__double(kb | 0x4330000000000000ULL) - (0x1p52 + 1023.0);
}

/* Special cases are selected at the end: the core runs on whatever x is, and
   log(0) = -inf, log(x < 0) = NaN, log(+inf) = inf, log(NaN) = NaN replace it.
   Subnormal x is scaled by 2^52 first. */
FL_INLINE double fl_log(double x)
{
    int subnormal = x < 0x1p-1022;
    uint64_t ix = fl__bits(x * (subnormal ? 0x1p52 : 1.0));
    uint64_t kb = (ix + FL_LOG_OFFSET) >> 52;
    double m = fl__double(ix - ((kb - 1023) << 52));
    double y = fl__log_core(m - 1.0, fl__unbias(kb) - (subnormal ? 52.0 : 0.0));
    y = x > 0.0 ? y : (x == 0.0 ? -INFINITY : NAN);
    return x < INFINITY ? y : x;
}

FL_INLINE float fl_logf(float x)
{
    int subnormal = x < 0x1p-126f;
    uint32_t ix = fl__bitsf(x * (subnormal ? 0x1p23f : 1.0f));
    uint32_t kb = (ix + FL_LOG_OFFSETF) >> 23;
    float m = fl__float(ix - ((kb - 127) << 23));
    float k = (float)((int32_t)kb - 127) - (subnormal ? 23.0f : 0.0f);
    float y = fl__log_coref(m - 1.0f, k);
    y = x > 0.0f ? y : (x == 0.0f ? -INFINITY : NAN);
    return x < INFINITY ? y : x;
}

/* log1p(x) for x > -1 finite (NaN for NaN). log(u + c) with u = 1 + x rounded and
   c = (1 + x) - u exact (TwoSum, Knuth); u = 2^k m, and
   log(u + c) = k ln2 + log1p(m - 1 + c 2^-k) to first order. u >= 2^-53 is normal. */
FL_INLINE double fl__log1p_inside(double x)
{
    double u = 1.0 + x;
    double v = u - x;
    double c = (x - (u - v)) + (1.0 - v);
    uint64_t iu = fl__bits(u);
    uint64_t kb = (iu + FL_LOG_OFFSET) >> 52;
    double m = fl__double(iu - ((kb - 1023) << 52));
    /* c 2^-k as (c 2^(1-k)) / 2: 2^(1-k) is 0 for the largest u, where c 2^-k
       is negligible, and the halving is exact. */
    double f = (m - 1.0) + (c * fl__double((2047 - kb) << 52)) * 0.5;
    return fl__log_core(f, fl__unbias(kb));
}

FL_INLINE float fl__log1p_insidef(float x)
{
    float u = 1.0f + x;
    float v = u - x;
    float c = (x - (u - v)) + (1.0f - v);
    uint32_t iu = fl__bitsf(u);
    uint32_t kb = (iu + FL_LOG_OFFSETF) >> 23;
    float m = fl__float(iu - ((kb - 127) << 23));
    float f = (m - 1.0f) + (c * fl__float((255 - kb) << 23)) * 0.5f;
    return fl__log_coref(f, (float)((int32_t)kb - 127));
}

/* log1p(x) for x in [0, 1] (NaN for NaN), as e^-|z| in softplus: 1 + x = 2^k m
   with k = 0 (f = x) below sqrt(2) - 1, else k = 1 and f = x / 2 - 1 / 2, which
   is exact there; so no rounding of 1 + x to correct, and no exponent bits.
   k ln2 is selected as its two parts (a select of k itself let GCC fold the
   products lane by lane, which broke the vectorization of the callers' loops). */
FL_INLINE double fl_log1p_unit(double x)
{
    int big = x > 0.41421356237309503;
    double f = big ? FL_FMA(x, 0.5, -0.5) : x;
    double k_hi = big ? FL_LN2_HI : 0.0, k_lo = big ? FL_LN2_LO : 0.0;
    return fl__log_core_split(f, k_hi, k_lo);
}

FL_INLINE float fl_log1p_unitf(float x)
{
    int big = x > 0.414213562f;
    float f = big ? FL_FMAF(x, 0.5f, -0.5f) : x;
    float k_hi = big ? 6.9313812256e-01f : 0.0f, k_lo = big ? 9.0580006145e-06f : 0.0f;
    return fl__log_core_splitf(f, k_hi, k_lo);
}

/* log1p(-1) = -inf, log1p(x < -1) = NaN, log1p(inf) = inf, selected at the end;
   the sign of x is kept (log1p(-0) = -0). */
FL_INLINE double fl_log1p(double x)
{
    double y = fl__log1p_inside(x);
    y = x > -1.0 ? y : (x == -1.0 ? -INFINITY : NAN);
    return copysign(x < INFINITY ? y : x, x);
}

FL_INLINE float fl_log1pf(float x)
{
    float y = fl__log1p_insidef(x);
    y = x > -1.0f ? y : (x == -1.0f ? -INFINITY : NAN);
    return copysignf(x < INFINITY ? y : x, x);
}

/* ---- composites ----------------------------------------------------------------- */

/* log(1 + e^x) = max(x, 0) + log1p(e^-|x|): no overflow, no cancellation (both
   terms are >= 0), the same form as scikit-learn's and PyTorch's softplus. */
FL_INLINE double fl_log1pexp(double x)
{
    return (x > 0.0 ? x : 0.0) + fl_log1p_unit(fl_exp_nonpos(-fabs(x)));
}

FL_INLINE float fl_log1pexpf(float x)
{
    return (x > 0.0f ? x : 0.0f) + fl_log1p_unitf(fl_exp_nonposf(-fabsf(x)));
}

/* log(sigmoid(x)) = min(x, 0) - log1p(e^-|x|). */
FL_INLINE double fl_log_sigmoid(double x)
{
    return (x < 0.0 ? x : 0.0) - fl_log1p_unit(fl_exp_nonpos(-fabs(x)));
}

FL_INLINE float fl_log_sigmoidf(float x)
{
    return (x < 0.0f ? x : 0.0f) - fl_log1p_unitf(fl_exp_nonposf(-fabsf(x)));
}

/* 1 / (1 + e^-x) for x >= 0, e^x / (1 + e^x) below: e = e^-|x| never overflows,
   and tiny results keep their relative accuracy. */
FL_INLINE double fl_sigmoid(double x)
{
    double e = fl_exp_nonpos(-fabs(x));
    return (x >= 0.0 ? 1.0 : e) / (1.0 + e);
}

FL_INLINE float fl_sigmoidf(float x)
{
    float e = fl_exp_nonposf(-fabsf(x));
    return (x >= 0.0f ? 1.0f : e) / (1.0f + e);
}

/* tanh|x| = (1 - e^-2|x|) / (1 + e^-2|x|) = -t / (2 + t), t = expm1(-2|x|): no
   cancellation near 0, and t + 2 > 1 keeps the denominator accurate. The sign is
   restored by copysign; tanh(40) rounds to 1 in both types, and 1 replaces the
   result beyond (where 2|x| may leave the range of the reduction). As -2|x| <= 0, t
   is scaled by 2^k as fl_exp_nonpos scales: the bits of fl_expm1 (compared for every
   float32 and 2 x 10^8 doubles). */
FL_INLINE double fl_tanh(double x)
{
    double ax = fabs(x);
    fl__reduced a = fl__reduce(-2.0 * ax);
    double t = fl__scale_nonpos(fl__expm1_unscaled(a), a.t);  /* k <= 0 */
    return copysign(ax > 40.0 ? 1.0 : -t / (2.0 + t), x);
}

FL_INLINE float fl_tanhf(float x)
{
    float ax = fabsf(x);
    fl__reducedf a = fl__reducef(-2.0f * ax);
    float t = fl__scale_nonposf(fl__expm1_unscaledf(a), a.t);  /* k <= 0 */
    return copysignf(ax > 40.0f ? 1.0f : -t / (2.0f + t), x);
}

/* log cosh x = x^2 P(x^2) for |x| < 0.75, else (|x| - ln2) + log1p(e^-2|x|) with ln2
   in two parts, which cancels at most a few bits at |x| = 0.75. */
FL_INLINE double fl_log_cosh(double x)
{
    double ax = fabs(x);
    double z = ax * ax;
    double p = 1.712980917330056e-07;
    p = FL_FMA(p, z, -1.0877301036102407e-06);
    p = FL_FMA(p, z, 3.953222593287847e-06);
    p = FL_FMA(p, z, -1.1702763976921858e-05);
    p = FL_FMA(p, z, 3.2680472703225072e-05);
    p = FL_FMA(p, z, -9.0962797813048563e-05);
    p = FL_FMA(p, z, 0.00025657553171000224);
    p = FL_FMA(p, z, -0.00073860232218389088);
    p = FL_FMA(p, z, 0.0021869488014526445);
    p = FL_FMA(p, z, -0.0067460317434871325);
    p = FL_FMA(p, z, 0.022222222222157539);
    p = FL_FMA(p, z, -0.08333333333333269);
    p = FL_FMA(p, z, 0.5);
    double small = ax * (ax * p);
    double large = (ax - FL_LN2_HI) + (fl_log1p_unit(fl_exp_nonpos(-2.0 * ax)) - FL_LN2_LO);
    return ax < 0.75 ? small : large;
}

FL_INLINE float fl_log_coshf(float x)
{
    float ax = fabsf(x);
    float z = ax * ax;
    float p = 0.000134305723f;
    p = FL_FMAF(p, z, -0.000656266406f);
    p = FL_FMAF(p, z, 0.00215741852f);
    p = FL_FMAF(p, z, -0.00674042851f);
    p = FL_FMAF(p, z, 0.0222217087f);
    p = FL_FMAF(p, z, -0.0833333135f);
    p = FL_FMAF(p, z, 0.5f);
    float small = ax * (ax * p);
    float large = (ax - FL_LN2_HIF) + (fl_log1p_unitf(fl_exp_nonposf(-2.0f * ax)) - FL_LN2_LOF);
    return ax < 0.75f ? small : large;
}

/* ---- rows ----------------------------------------------------------------------- */

/* Eight interleaved lanes in a fixed order: the compiler vectorizes the loop over
   the lanes (kept as a loop, not unrolled into scalars), and the order of the
   additions does not depend on the instruction set. */
#define FL_LANES 8
#if defined(__GNUC__)
#define FL_LANE_LOOP _Pragma("GCC unroll 1")
#else
#define FL_LANE_LOOP
#endif

/* Largest element of x[0:n], ignoring NaN; -inf when there is none. */
FL_INLINE double fl_row_max(const double *x, Py_ssize_t n)
{
    double m[FL_LANES];
    Py_ssize_t i = 0;
    for (int j = 0; j < FL_LANES; j++) m[j] = -INFINITY;
    for (; i + FL_LANES <= n; i += FL_LANES) {
        FL_LANE_LOOP
        for (int j = 0; j < FL_LANES; j++) m[j] = x[i + j] > m[j] ? x[i + j] : m[j];
    }
    for (; i < n; i++) m[0] = x[i] > m[0] ? x[i] : m[0];
    for (int j = 1; j < FL_LANES; j++) m[0] = m[j] > m[0] ? m[j] : m[0];
    return m[0];
}

FL_INLINE float fl_row_maxf(const float *x, Py_ssize_t n)
{
    float m[FL_LANES];
    Py_ssize_t i = 0;
    for (int j = 0; j < FL_LANES; j++) m[j] = -INFINITY;
    for (; i + FL_LANES <= n; i += FL_LANES) {
        FL_LANE_LOOP
        for (int j = 0; j < FL_LANES; j++) m[j] = x[i + j] > m[j] ? x[i + j] : m[j];
    }
    for (; i < n; i++) m[0] = x[i] > m[0] ? x[i] : m[0];
    for (int j = 1; j < FL_LANES; j++) m[0] = m[j] > m[0] ? m[j] : m[0];
    return m[0];
}

/* sum of e^(x[i] - shift), in a fixed order (NaN if any x[i] is NaN). */
FL_INLINE double fl_sum_exp(const double *x, Py_ssize_t n, double shift)
{
    double s[FL_LANES];
    Py_ssize_t i = 0;
    for (int j = 0; j < FL_LANES; j++) s[j] = 0.0;
    for (; i + FL_LANES <= n; i += FL_LANES) {
        FL_LANE_LOOP
        for (int j = 0; j < FL_LANES; j++) s[j] += fl_exp(x[i + j] - shift);
    }
    for (; i < n; i++) s[0] += fl_exp(x[i] - shift);
    return ((s[0] + s[4]) + (s[2] + s[6])) + ((s[1] + s[5]) + (s[3] + s[7]));
}

/* The same for float data: e^ in float, accumulated in double. */
FL_INLINE double fl_sum_expf(const float *x, Py_ssize_t n, float shift)
{
    double s[FL_LANES];
    Py_ssize_t i = 0;
    for (int j = 0; j < FL_LANES; j++) s[j] = 0.0;
    for (; i + FL_LANES <= n; i += FL_LANES) {
        FL_LANE_LOOP
        for (int j = 0; j < FL_LANES; j++) s[j] += (double)fl_expf(x[i + j] - shift);
    }
    for (; i < n; i++) s[0] += (double)fl_expf(x[i] - shift);
    return ((s[0] + s[4]) + (s[2] + s[6])) + ((s[1] + s[5]) + (s[3] + s[7]));
}

/* sum of e^(x[i] - m) over the x[i] < m of a row whose max is m, and the number of
   x[i] == m added to *n_max: e^ in the row's precision, each term kept in terms[i]
   (0 at the maxima), then summed in double in eight partial sums, element i into
   partial sum i % 8 (the tail into the first), combined ((0 + 1) + (2 + 3)) +
   ((4 + 5) + (6 + 7)). Two loops (the terms with the count of maxima, then the sum)
   ran faster than one on every kernel set: a loop that takes e^ in float and adds in
   double vectorizes at the width of a double vector. Counting in the terms loop
   instead of a third loop took 0.91-0.98x the time of sparse cross-entropy's value
   (rows of 3000 and 32000 classes, both dtypes); counting each block's maxima in an
   int, whose lanes are as wide as a float's, instead of a Py_ssize_t took float32
   chunks 0.87x the time in C on x86-64-v3. The terms loop, compute-bound,
   prefetches the row FL_PREFETCH bytes ahead, 256 bytes at a time, so that the next
   chunk of a long row is read while this one is computed (prefetching past the end
   of an array never faults). */
#define FL_PREFETCH 8192
#if defined(__GNUC__)
#define FL_PREFETCH_READ(p) __builtin_prefetch((const void *)((uintptr_t)(p) + FL_PREFETCH), 0, 3)
#else
#define FL_PREFETCH_READ(p) ((void)0)
#endif
/* Prefetch the bytes FL_PREFETCH ahead of [p, p + bytes), a cache line at a time: for
   a compute-bound loop over a chunk of a long array, whose next chunks the hardware
   prefetcher would not fetch in time. */
FL_INLINE void fl_prefetch_ahead(const void *p, Py_ssize_t bytes)
{
    for (Py_ssize_t b = 0; b < bytes; b += 64) FL_PREFETCH_READ((const char *)p + b);
}

#define FL_SUM_EXP_BELOW(NAME, T, EXP, SUM)                                            \
FL_INLINE double NAME(const T *x, Py_ssize_t n, T m, T *terms, Py_ssize_t *n_max)     \
{                                                                                     \
    const Py_ssize_t block = 256 / sizeof(T);                                         \
    Py_ssize_t i = 0, k, count = 0;                                                   \
    for (; i + block <= n; i += block) {                                              \
        int block_count = 0;                                                          \
        fl_prefetch_ahead(x + i, 256);                                                \
        for (k = i; k < i + block; k++) {                                             \
            terms[k] = x[k] == m ? (T)0 : EXP(x[k] - m);                              \
            block_count += x[k] == m;                                                 \
        }                                                                             \
        count += block_count;                                                         \
    }                                                                                 \
    for (k = i; k < n; k++) {                                                         \
        terms[k] = x[k] == m ? (T)0 : EXP(x[k] - m);                                  \
        count += x[k] == m;                                                           \
    }                                                                                 \
    *n_max += count;                                                                  \
    return SUM(terms, n);                                                             \
}
/* sum of x[0:n] in double in the order of fl_sum_exp_below (partial sum i % 8, the
   tail into the first, combined ((0 + 1) + (2 + 3)) + ((4 + 5) + (6 + 7))): the
   softmax rows' sum of terms, with or without a gradient, so that both give the same
   bits. */
#define FL_SUM_IN_EIGHT(NAME, T)                                                       \
FL_INLINE double NAME(const T *x, Py_ssize_t n)                                       \
{                                                                                     \
    double s[FL_LANES];                                                               \
    Py_ssize_t i;                                                                     \
    for (int j = 0; j < FL_LANES; j++) s[j] = 0.0;                                    \
    for (i = 0; i + FL_LANES <= n; i += FL_LANES) {                                   \
        FL_LANE_LOOP                                                                  \
        for (int j = 0; j < FL_LANES; j++) s[j] += (double)x[i + j];                  \
    }                                                                                 \
    for (; i < n; i++) s[0] += (double)x[i];                                          \
    return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));         \
}
FL_SUM_IN_EIGHT(fl_sum_in_eight, double)
FL_SUM_IN_EIGHT(fl_sum_in_eightf, float)
#undef FL_SUM_IN_EIGHT
FL_SUM_EXP_BELOW(fl_sum_exp_below, double, fl_exp_nonpos, fl_sum_in_eight)
FL_SUM_EXP_BELOW(fl_sum_exp_belowf, float, fl_exp_nonposf, fl_sum_in_eightf)
#undef FL_SUM_EXP_BELOW

/* sum of e^(x[i] scale - shift), in a fixed order (NaN if any x[i] is NaN); with
   `inplace`, x[i] is overwritten with its term. The float version forms the
   argument in double (x[i] scale is not rounded to float before the shift, so a
   loss log(sum) + shift - x[k] scale does not lose the last bits of a large
   scaled logit), then takes e^ in float. */
FL_INLINE double fl_sum_exp_scaled(double *x, Py_ssize_t n, double scale, double shift,
                                   int inplace)
{
    double s[FL_LANES];
    Py_ssize_t i = 0;
    for (int j = 0; j < FL_LANES; j++) s[j] = 0.0;
    for (; i + FL_LANES <= n; i += FL_LANES) {
        FL_LANE_LOOP
        for (int j = 0; j < FL_LANES; j++) {
            double e = fl_exp(x[i + j] * scale - shift);
            s[j] += e;
            if (inplace) x[i + j] = e;
        }
    }
    for (; i < n; i++) {
        double e = fl_exp(x[i] * scale - shift);
        s[0] += e;
        if (inplace) x[i] = e;
    }
    return ((s[0] + s[4]) + (s[2] + s[6])) + ((s[1] + s[5]) + (s[3] + s[7]));
}

FL_INLINE double fl_sum_exp_scaledf(float *x, Py_ssize_t n, double scale, double shift,
                                    int inplace)
{
    double s[FL_LANES];
    Py_ssize_t i = 0;
    for (int j = 0; j < FL_LANES; j++) s[j] = 0.0;
    for (; i + FL_LANES <= n; i += FL_LANES) {
        FL_LANE_LOOP
        for (int j = 0; j < FL_LANES; j++) {
            float e = fl_expf((float)((double)x[i + j] * scale - shift));
            s[j] += (double)e;
            if (inplace) x[i + j] = e;
        }
    }
    for (; i < n; i++) {
        float e = fl_expf((float)((double)x[i] * scale - shift));
        s[0] += (double)e;
        if (inplace) x[i] = e;
    }
    return ((s[0] + s[4]) + (s[2] + s[6])) + ((s[1] + s[5]) + (s[3] + s[7]));
}

/* log sum e^x[i] = m + log(sum e^(x[i] - m)), m the row max. An infinite max is
   not subtracted: +inf gives +inf (NaN with a NaN in the row), an empty or all
   -inf row gives -inf, any NaN gives NaN. */
FL_INLINE double fl_logsumexp(const double *x, Py_ssize_t n)
{
    double m = fl_row_max(x, n);
    double shift = (m > -INFINITY) & (m < INFINITY) ? m : 0.0;
    return shift + fl_log(fl_sum_exp(x, n, shift));
}

FL_INLINE double fl_logsumexpf(const float *x, Py_ssize_t n)
{
    float m = fl_row_maxf(x, n);
    float shift = (m > -INFINITY) & (m < INFINITY) ? m : 0.0f;
    return (double)shift + fl_log(fl_sum_expf(x, n, shift));
}

#endif /* FL_VMATH_H */
