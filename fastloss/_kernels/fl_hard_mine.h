/* Batch-hard mining of one anchor over a row of the Gram matrix (embedding
   family), with AVX2 intrinsics where the kernel set has them.
   Included by the Cython-generated C of the kernels, after Python.h. */
#ifndef FL_HARD_MINE_H
#define FL_HARD_MINE_H

#include <math.h>
#include <stddef.h>
#ifdef __AVX2__
#include <immintrin.h>
#endif
/* Batch-hard mining of anchor a: the positive with the largest squared distance
   and the negative with the smallest, d2 = max(|x_a|^2 + |x_j|^2 - 2 G_aj, 0),
   the lowest index on ties, -1 when there is none (their squared distances in
   pd2 and nd2: -1 and inf when there is none). Written with AVX2 intrinsics
   where the kernel set has them (GCC does not vectorize arg-max reductions): each
   lane keeps its first extreme, and lanes are merged by value, then index, so both
   paths return the same indices. */
#define FL_HARD_MINE(NAME, CTYPE, LOAD4)                                           \
static inline void NAME(const CTYPE *g, const double *sq, const long long *labels, \
                        ptrdiff_t n, ptrdiff_t a, long long *pos, long long *neg,  \
                        double *pd2, double *nd2) {                                \
    const long long label = labels[a];                                             \
    const double sq_a = sq[a];                                                     \
    double pmax = -1.0, nmin = INFINITY, d2;                                       \
    long long ipos = -1, ineg = -1;                                                \
    ptrdiff_t j = 0;                                                               \
    FL_HARD_MINE_AVX2(LOAD4)                                                       \
    for (; j < n; j++) {                                                           \
        d2 = sq_a + sq[j] - 2.0 * (double)g[j];                                    \
        d2 = d2 > 0.0 ? d2 : 0.0;                                                  \
        if (labels[j] == label) {                                                  \
            if (j != a && d2 > pmax) { pmax = d2; ipos = j; }                      \
        } else if (d2 < nmin) {                                                    \
            nmin = d2; ineg = j;                                                   \
        }                                                                          \
    }                                                                              \
    *pos = ipos;                                                                   \
    *neg = ineg;                                                                   \
    *pd2 = pmax;                                                                   \
    *nd2 = nmin;                                                                   \
}
#ifdef __AVX2__
#define FL_HARD_MINE_AVX2(LOAD4)                                                   \
    if (n >= 4) {                                                                  \
        const __m256d vsq_a = _mm256_set1_pd(sq_a), two = _mm256_set1_pd(2.0);     \
        const __m256d zero = _mm256_setzero_pd(), none = _mm256_set1_pd(-1.0);     \
        const __m256d inf = _mm256_set1_pd(INFINITY);                              \
        const __m256i vlabel = _mm256_set1_epi64x(label);                          \
        const __m256i va = _mm256_set1_epi64x(a), four = _mm256_set1_epi64x(4);    \
        __m256i idx = _mm256_setr_epi64x(0, 1, 2, 3);                              \
        __m256i vipos = _mm256_set1_epi64x(-1), vineg = _mm256_set1_epi64x(-1);    \
        __m256d vmax = none, vmin = inf;                                           \
        double lmax[4], lmin[4];                                                   \
        long long lipos[4], lineg[4];                                              \
        for (; j + 4 <= n; j += 4) {                                               \
            __m256d d = _mm256_sub_pd(_mm256_add_pd(vsq_a, _mm256_loadu_pd(sq + j)), \
                                      _mm256_mul_pd(two, LOAD4(g + j)));           \
            d = _mm256_max_pd(d, zero);                                            \
            __m256i same = _mm256_cmpeq_epi64(                                     \
                _mm256_loadu_si256((const __m256i *)(labels + j)), vlabel);        \
            __m256i self = _mm256_cmpeq_epi64(idx, va);                            \
            __m256d p = _mm256_blendv_pd(none, d,                                  \
                _mm256_castsi256_pd(_mm256_andnot_si256(self, same)));             \
            __m256d q = _mm256_blendv_pd(d, inf, _mm256_castsi256_pd(same));       \
            __m256d up = _mm256_cmp_pd(p, vmax, _CMP_GT_OQ);                       \
            __m256d down = _mm256_cmp_pd(q, vmin, _CMP_LT_OQ);                     \
            vmax = _mm256_blendv_pd(vmax, p, up);                                  \
            vmin = _mm256_blendv_pd(vmin, q, down);                                \
            vipos = _mm256_castpd_si256(_mm256_blendv_pd(                          \
                _mm256_castsi256_pd(vipos), _mm256_castsi256_pd(idx), up));        \
            vineg = _mm256_castpd_si256(_mm256_blendv_pd(                          \
                _mm256_castsi256_pd(vineg), _mm256_castsi256_pd(idx), down));      \
            idx = _mm256_add_epi64(idx, four);                                     \
        }                                                                          \
        _mm256_storeu_pd(lmax, vmax);                                              \
        _mm256_storeu_pd(lmin, vmin);                                              \
        _mm256_storeu_si256((__m256i *)lipos, vipos);                              \
        _mm256_storeu_si256((__m256i *)lineg, vineg);                              \
        for (int k = 0; k < 4; k++) {                                              \
            if (lipos[k] >= 0 && (lmax[k] > pmax                                   \
                                  || (lmax[k] == pmax && lipos[k] < ipos))) {      \
                pmax = lmax[k]; ipos = lipos[k];                                   \
            }                                                                      \
            if (lineg[k] >= 0 && (lmin[k] < nmin                                   \
                                  || (lmin[k] == nmin && lineg[k] < ineg))) {      \
                nmin = lmin[k]; ineg = lineg[k];                                   \
            }                                                                      \
        }                                                                          \
    }
#define FL_LOAD4_F64(p) _mm256_loadu_pd(p)
#define FL_LOAD4_F32(p) _mm256_cvtps_pd(_mm_loadu_ps(p))
#else
#define FL_HARD_MINE_AVX2(LOAD4)
#endif
FL_HARD_MINE(fl_hard_mine_f64, double, FL_LOAD4_F64)
FL_HARD_MINE(fl_hard_mine_f32, float, FL_LOAD4_F32)

#endif /* FL_HARD_MINE_H */
