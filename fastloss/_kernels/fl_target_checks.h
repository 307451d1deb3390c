/* The fused target checks of the elementwise kernels (TARGET_CHECK in the family
   templates, see elementwise.tp): 1 when one of x[0:n] is outside the loss's domain
   or NaN, else 0. Eight partial counts that SSE2 and AVX2 both vectorize; never
   inlined into a kernel, where it changed how GCC vectorized the loss loop.
   Included by the Cython-generated C of the kernels, after Python.h. */
#ifndef FL_TARGET_CHECKS_H
#define FL_TARGET_CHECKS_H

#if defined(_MSC_VER)
#define FL_NOINLINE __declspec(noinline)
#else
#define FL_NOINLINE __attribute__((noinline))
#endif

/* IN_DOMAIN(v) is 1 for a valid target v (so 0 for NaN). */
#define FL_ANY_OUTSIDE(NAME, T, IN_DOMAIN)                                          \
    static FL_NOINLINE int NAME(const T *x, Py_ssize_t n)                         \
    {                                                                             \
        double count[8] = {0.0};                                                  \
        Py_ssize_t i = 0;                                                         \
        for (; i + 8 <= n; i += 8)                                                \
            for (int j = 0; j < 8; j++)                                           \
                count[j] += IN_DOMAIN(x[i + j]) ? 0.0 : 1.0;                      \
        for (; i < n; i++)                                                        \
            count[0] += IN_DOMAIN(x[i]) ? 0.0 : 1.0;                              \
        return ((count[0] + count[1]) + (count[2] + count[3]))                    \
               + ((count[4] + count[5]) + (count[6] + count[7])) != 0.0;          \
    }

#define FL_IN_UNIT(v) (((v) >= 0) & ((v) <= 1))
#define FL_NONNEGATIVE(v) ((v) >= 0)
#define FL_POSITIVE(v) ((v) > 0)

/* targets in [0, 1]: binary cross-entropy and focal losses */
FL_ANY_OUTSIDE(any_outside_unit_f64, double, FL_IN_UNIT)
FL_ANY_OUTSIDE(any_outside_unit_f32, float, FL_IN_UNIT)
/* targets >= 0: Poisson and Tweedie */
FL_ANY_OUTSIDE(any_negative_f64, double, FL_NONNEGATIVE)
FL_ANY_OUTSIDE(any_negative_f32, float, FL_NONNEGATIVE)
/* targets > 0: Gamma */
FL_ANY_OUTSIDE(any_nonpositive_f64, double, FL_POSITIVE)
FL_ANY_OUTSIDE(any_nonpositive_f32, float, FL_POSITIVE)

#endif /* FL_TARGET_CHECKS_H */
