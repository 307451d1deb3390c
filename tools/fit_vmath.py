"""Fit the polynomial coefficients used by fastloss/_kernels/vmath.pxd (run by hand, prints C).

Each polynomial P of degree d approximates g on [a, b]: P interpolates g at the d+1
Chebyshev points of [a, b] (within a small factor of the minimax error, Trefethen,
"Approximation Theory and Approximation Practice", ch. 16), computed in 60-digit
mpmath, converted to monomials and rounded to the target type. The printed error is
measured with the rounded coefficients on a dense grid, relative to the function the
polynomial serves (e^r, or log cosh x), in units of 2^-53 (double) or 2^-24 (float).
"""

import mpmath as mp
import numpy as np

mp.mp.dps = 60


def cheb_fit(g, a, b, degree):
    """Monomial coefficients (mpf, lowest first) of the Chebyshev interpolant of g."""
    n = degree + 1
    nodes = [(a + b) / 2 + (b - a) / 2 * mp.cos(mp.pi * (k + 0.5) / n) for k in range(n)]
    matrix = mp.matrix([[x**j for j in range(n)] for x in nodes])
    return list(mp.lu_solve(matrix, mp.matrix([g(x) for x in nodes])))


def rounded(coefs, dtype):
    return [mp.mpf(float(dtype(float(c)))) for c in coefs]


def horner(coefs, x):
    acc = mp.mpf(0)
    for c in reversed(coefs):
        acc = acc * x + c
    return acc


def report(name, coefs, dtype, err_fn, a, b):
    grid = [a + (b - a) * mp.mpf(i) / 4000 for i in range(4001)]
    unit = mp.mpf(2) ** (-53 if dtype is np.float64 else -24)
    err = max(abs(err_fn(coefs, x)) for x in grid) / unit
    digits = 17 if dtype is np.float64 else 9
    print(f"{name}: max error {float(err):.3g} units of the last place")
    for c in coefs:
        print(f"    {float(c):.{digits}g},")


def exp_fit(dtype, degree):
    """e^r = 1 + r + r^2 P(r) on |r| <= ln2/2 (with 1% slack for the rounding of k)."""
    h = mp.log(2) / 2 * mp.mpf("1.01")

    def g(r):
        with mp.workdps(200):  # the nodes include r = 0 up to rounding
            return (mp.expm1(r) - r) / r**2 if r != 0 else mp.mpf(0.5)

    coefs = rounded(cheb_fit(g, -h, h, degree), dtype)

    def err(c, r):
        return r**2 * (horner(c, r) - g(r)) / mp.exp(r)

    report(f"exp {dtype.__name__} degree {degree}", coefs, dtype, err, -h, h)


def log_cosh_fit(dtype, degree, c):
    """log cosh x = x^2 P(x^2) for |x| <= c."""

    def g(z):
        x = mp.sqrt(z)
        return mp.log1p(2 * mp.sinh(x / 2) ** 2) / z if z != 0 else mp.mpf(0.5)

    coefs = rounded(cheb_fit(g, mp.mpf(0), mp.mpf(c) ** 2, degree), dtype)

    def err(cf, z):
        return (horner(cf, z) - g(z)) / g(z)

    report(f"log_cosh {dtype.__name__} degree {degree} (x^2 <= {c}^2)", coefs, dtype, err,
           mp.mpf(0), mp.mpf(c) ** 2)


if __name__ == "__main__":
    # The degrees used by fastloss/_kernels/vmath.pxd: approximation error well under the
    # rounding error of the evaluation.
    exp_fit(np.float64, 10)
    exp_fit(np.float32, 5)
    log_cosh_fit(np.float64, 12, "0.75")
    log_cosh_fit(np.float32, 6, "0.75")
