/* log1p(t) for t >= 0 without branches, for the ranking kernels' loops.
   Included by the Cython-generated C of the kernels, after Python.h. */
#ifndef FL_LOG1P_H
#define FL_LOG1P_H

#include <stdint.h>
#include <string.h>
/* log1p(t) for finite t >= 0, branch-free so that loops over it vectorize (glibc's
   log1p is a scalar call). u = 1 + t rounded; log1p(t) = log(u) + (t - (u - 1)) / u
   corrects the rounding of u to first order (Goldberg 1991, "What every computer
   scientist should know about floating-point arithmetic", Theorem 4). log(u) is
   fdlibm's e_log.c: u = 2^k m, m in [sqrt(2)/2, sqrt(2)), f = m - 1,
   s = f / (2 + f), log(m) = f - (f^2/2 - s (f^2/2 + R(s^2))) with fdlibm's minimax
   polynomial R. Measured error <= 1 ulp against 80-bit log1pl over t in
   [2^-1074, e^750] (tests/test_ranking.py checks it through the losses). */
static inline double fl_log1p_nonneg(double t) {
    const double Lg1 = 6.666666666666735130e-01, Lg2 = 3.999999999940941908e-01,
                 Lg3 = 2.857142874366239149e-01, Lg4 = 2.222219843214978396e-01,
                 Lg5 = 1.818357216161805012e-01, Lg6 = 1.531383769920937332e-01,
                 Lg7 = 1.479819860511658591e-01;
    const double ln2_hi = 6.93147180369123816490e-01,
                 ln2_lo = 1.90821492927058770002e-10;
    double u = 1.0 + t;
    double c = (t - (u - 1.0)) / u;
    uint64_t bits, mbits, kbits;
    double m, dk;
    memcpy(&bits, &u, sizeof bits);
    /* subtracting the bits of sqrt(2)/2 makes the exponent field round m into range */
    uint64_t k = (bits - 0x3fe6a09e667f3bcdULL) >> 52;   /* 0 <= k < 1024 for u >= 1 */
    mbits = bits - (k << 52);
    memcpy(&m, &mbits, sizeof m);
    kbits = 0x4330000000000000ULL | k;                   /* k as a double, exactly */
    memcpy(&dk, &kbits, sizeof dk);
    dk -= 4503599627370496.0;
    double f = m - 1.0;
    double s = f / (2.0 + f);
    double z = s * s;
    double w = z * z;
    double R = z * (Lg1 + w * (Lg3 + w * (Lg5 + w * Lg7))) + w * (Lg2 + w * (Lg4 + w * Lg6));
    double hfsq = 0.5 * f * f;
    return dk * ln2_hi - ((hfsq - (s * (hfsq + R) + (dk * ln2_lo + c))) - f);
}

#endif /* FL_LOG1P_H */
