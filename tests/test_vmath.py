"""Accuracy and special values of the vectorized math helpers (fastloss/_kernels/vmath.pxd).

Each helper runs over arrays through the private module fastloss._kernels.vmath_check, in
every kernel set this machine can run (the autouse fixture of conftest.py).
The error is measured against mpmath in ulps of the exact result: |computed - exact|
divided by the spacing of floating-point numbers at the exact value (2^-1074 or 2^-149
below the normal range; an infinite result counts as 2^1024 or 2^128). The bound is
4 ulp over random points spread over the whole domain, log-uniformly in magnitude and
with both signs, denser in the range where the function is not trivially 0, 1 or x,
plus edge points: zeros, subnormals, thresholds of the formulas, near overflow.
"""

import functools

import mpmath
import numpy as np
import pytest

from fastloss._kernels import dispatch as _dispatch

MAX_ULP = 4.0
N_RANDOM = 700  # per range below

vm = _dispatch.load("vmath_check")  # bound to the kernel set under test

DTYPES = [np.float64, np.float32]


def _log1pexp(x):
    return x + mpmath.log1p(mpmath.exp(-x)) if x > 0 else mpmath.log1p(mpmath.exp(x))


def _log_cosh(x):
    ax = abs(x)
    if ax < 1:  # cosh x - 1 = 2 sinh(x/2)^2, without cancellation
        return mpmath.log1p(2 * mpmath.sinh(ax / 2) ** 2)
    return ax - mpmath.log(2) + mpmath.log1p(mpmath.exp(-2 * ax))


# helper -> (exact function in mpmath, domain test)
REFERENCES = {
    "exp": (mpmath.exp, None),
    "exp_nonpos": (mpmath.exp, lambda x: x <= 0),
    "expm1": (mpmath.expm1, None),
    "log": (mpmath.log, lambda x: x > 0),
    "log1p": (mpmath.log1p, lambda x: x > -1),
    "log1p_unit": (mpmath.log1p, lambda x: 0 <= x <= 1),
    "log1pexp": (_log1pexp, None),
    "log_sigmoid": (lambda x: -_log1pexp(-x), None),
    "sigmoid": (lambda x: 1 / (1 + mpmath.exp(-x)), None),
    "tanh": (mpmath.tanh, None),
    "log_cosh": (_log_cosh, None),
}

# helper -> ranges (per dtype) sampled uniformly, where the function varies
ACTIVE = {
    "exp": {np.float64: [(-750, 712), (-1, 1)], np.float32: [(-105, 90), (-1, 1)]},
    "exp_nonpos": {np.float64: [(-750, 0), (-1, 0)], np.float32: [(-105, 0), (-1, 0)]},
    "expm1": {np.float64: [(-45, 712), (-1, 1)], np.float32: [(-20, 90), (-1, 1)]},
    "log": {np.float64: [(0, 4), (0.9, 1.1)], np.float32: [(0, 4), (0.9, 1.1)]},
    "log1p": {np.float64: [(-1, 1), (-1, -0.9)], np.float32: [(-1, 1), (-1, -0.9)]},
    "log1p_unit": {np.float64: [(0, 1), (0.4, 0.43)], np.float32: [(0, 1), (0.4, 0.43)]},
    "log1pexp": {np.float64: [(-750, 750), (-40, 40)], np.float32: [(-110, 110), (-20, 20)]},
    "log_sigmoid": {np.float64: [(-750, 750), (-40, 40)],
                    np.float32: [(-110, 110), (-20, 20)]},
    "sigmoid": {np.float64: [(-750, 750), (-40, 40)], np.float32: [(-110, 110), (-20, 20)]},
    "tanh": {np.float64: [(-25, 25), (-1, 1)], np.float32: [(-12, 12), (-1, 1)]},
    "log_cosh": {np.float64: [(-40, 40), (-2, 2)], np.float32: [(-20, 20), (-2, 2)]},
}


def _edge_points(dtype):
    info = np.finfo(dtype)
    tiny = float(info.smallest_subnormal)
    normal = float(info.smallest_normal)
    big = float(info.max)
    log_max = float(np.log(big))
    log_tiny = float(np.log(tiny))
    values = [
        0.0, tiny, 3 * tiny, normal, float(np.nextafter(dtype(normal), dtype(0))), 1e-30,
        float(info.eps) / 2, float(info.eps), 1e-8, 1e-4, 0.25, 0.3465735902799727, 0.5,
        0.55, 0.75, 0.7500001, 1.0, 1.0 + float(info.eps), 1.5, 2.0, 3.0, 10.0, 15.9, 17.3,
        18.0, 20.0, 33.3, 36.7, 37.0, 40.0, 80.0, 88.72, 100.0, 103.9, 700.0, 708.4,
        log_max, -log_tiny, 746.0, 1e10, 1e30, big,
        float(np.nextafter(dtype(1), dtype(0))), float(np.nextafter(dtype(1), dtype(2))),
    ]
    for v in (log_max, -log_tiny, -float(np.log(normal))):
        for step in (-2, -1, 1, 2):
            values.append(float(np.nextafter(dtype(v), dtype(np.inf * step))))
    values = np.array([v for v in values if v <= big], dtype=np.float64)
    values = np.concatenate([values, -values])
    return values.astype(dtype)


def _random_points(name, dtype, rng):
    info = np.finfo(dtype)
    lo = np.log2(float(info.smallest_subnormal))
    hi = np.log2(float(info.max))
    magnitude = np.exp2(rng.uniform(lo, hi, N_RANDOM))
    sign = rng.choice([-1.0, 1.0], N_RANDOM)
    parts = [sign * magnitude]
    for a, b in ACTIVE[name][dtype]:
        parts.append(rng.uniform(a, b, N_RANDOM))
    if name == "log1p":  # (-1, 0) log-uniformly, and just above -1
        parts.append(-np.exp2(rng.uniform(lo, 0, N_RANDOM)))
        parts.append(-1 + np.exp2(rng.uniform(np.log2(float(info.eps)) - 1, -1, N_RANDOM)))
    return np.concatenate(parts).astype(dtype)


@functools.cache
def _reference(name, dtype):
    """(x, exact hi, exact lo): the points and the exact results as double-doubles."""
    rng = np.random.default_rng(sum(map(ord, name)) + np.dtype(dtype).itemsize)
    x = np.concatenate([_edge_points(dtype), _random_points(name, dtype, rng)])
    function, domain = REFERENCES[name]
    if domain is not None:
        x = x[[bool(domain(v)) for v in x.astype(np.float64)]]
    hi = np.empty(x.size)
    lo = np.empty(x.size)
    with mpmath.workprec(160):
        for i, v in enumerate(x.astype(np.float64)):
            exact = function(mpmath.mpf(float(v)))
            hi[i] = float(exact)
            lo[i] = float(exact - hi[i]) if np.isfinite(hi[i]) else 0.0
    return x, hi, lo


def ulp_errors(computed, hi, lo, dtype):
    """|computed - (hi + lo)| in ulps of the exact value hi + lo, in the type dtype."""
    info = np.finfo(dtype)
    mant = info.nmant
    min_exp = int(np.log2(float(info.smallest_subnormal)))
    max_exp = info.maxexp  # a result of magnitude 2^max_exp stands for infinity
    mag = np.abs(hi)
    # floor(log2 |exact|): that of hi, one less when hi is a power of two above exact
    _, e = np.frexp(mag)
    floor_log2 = e - 1
    power_of_two = mag == np.ldexp(1.0, floor_log2)
    floor_log2 = np.where(power_of_two & (lo * np.sign(hi) < 0), floor_log2 - 1, floor_log2)
    ulp_exp = np.maximum(floor_log2 - mant, min_exp)
    c = computed.astype(np.float64)
    with np.errstate(all="ignore"):
        infinite = np.sign(c) * np.ldexp(1.0, max_exp - ulp_exp)
        scaled_c = np.where(np.isinf(c), infinite, np.ldexp(c, -ulp_exp))
        err = np.abs((scaled_c - np.ldexp(hi, -ulp_exp)) - np.ldexp(lo, -ulp_exp))
        # An exact result beyond the largest finite number (plus half an ulp) rounds
        # to infinity, which is then the only right answer.
        overflow = mag >= np.ldexp(2.0 - 2.0 ** -(mant + 1), max_exp - 1)
    err = np.where(overflow, np.where(c == np.copysign(np.inf, hi), 0.0, np.inf), err)
    return np.where(np.isnan(c), np.inf, err)


@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
@pytest.mark.parametrize("name", list(REFERENCES))
def test_accuracy(name, dtype):
    x, hi, lo = _reference(name, dtype)
    computed = vm.vmath(name, x)
    assert computed.dtype == dtype
    err = ulp_errors(computed, hi, lo, dtype)
    worst = int(np.argmax(err))
    assert err[worst] <= MAX_ULP, (
        f"{name}({x[worst]!r}) = {computed[worst]!r}, exact {hi[worst]!r}: "
        f"{err[worst]:.2f} ulp"
    )


INF = np.inf
NAN = np.nan
SPECIAL = {
    "exp": [(-INF, 0.0), (INF, INF), (1000.0, INF), (-1000.0, 0.0), (0.0, 1.0)],
    "exp_nonpos": [(-INF, 0.0), (-1000.0, 0.0), (0.0, 1.0), (-0.0, 1.0)],
    "expm1": [(-INF, -1.0), (INF, INF), (1000.0, INF), (-1000.0, -1.0), (0.0, 0.0)],
    "log": [(0.0, -INF), (-0.0, -INF), (-1.0, NAN), (-INF, NAN), (INF, INF), (1.0, 0.0)],
    "log1p": [(-1.0, -INF), (-2.0, NAN), (-INF, NAN), (INF, INF), (0.0, 0.0)],
    "log1p_unit": [(0.0, 0.0), (1.0, np.log(2.0))],
    "log1pexp": [(-INF, 0.0), (INF, INF), (0.0, np.log(2.0))],
    "log_sigmoid": [(-INF, -INF), (INF, 0.0), (0.0, -np.log(2.0))],
    "sigmoid": [(-INF, 0.0), (INF, 1.0), (0.0, 0.5)],
    "tanh": [(-INF, -1.0), (INF, 1.0), (0.0, 0.0)],
    "log_cosh": [(-INF, INF), (INF, INF), (0.0, 0.0)],
}


@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
@pytest.mark.parametrize("name", list(SPECIAL))
def test_special_values(name, dtype):
    cases = SPECIAL[name] + [(NAN, NAN)]
    # repeated so that the vectorized body of the loop sees every case, not only its tail
    x = np.repeat(np.array([c[0] for c in cases], dtype=dtype), 17)
    expected = np.repeat(np.array([c[1] for c in cases], dtype=dtype), 17)
    with np.errstate(all="ignore"):
        got = vm.vmath(name, x)
    np.testing.assert_array_equal(got, expected)


def test_exp_nonpos_has_the_bits_of_exp():
    """exp_nonpos (the softmax terms) is exp without its overflow select: the same bits
    for every x <= 0 and NaN: float32 inputs 97 bit patterns apart over all the
    negative floats (and -0, -inf, NaN), float64 ones spread over [-760, 0]."""
    negative = np.arange(0x80000000, 0x100000000, 97, dtype=np.uint64).astype(np.uint32)
    x32 = np.concatenate([negative.view(np.float32),
                          np.array([-0.0, 0.0, -INF, NAN], dtype=np.float32)])
    rng = np.random.default_rng(7)
    x64 = np.concatenate([-np.exp2(rng.uniform(-1080, np.log2(760), 2 * 10**6)),
                          -rng.uniform(0, 760, 10**6), [-0.0, 0.0, -INF, NAN]])
    for x in (x32, x64):
        with np.errstate(all="ignore"):
            np.testing.assert_array_equal(vm.vmath("exp_nonpos", x), vm.vmath("exp", x))


def test_tanh_has_the_bits_of_its_expm1_formula():
    """tanh scales e^-2|x| - 1 as exp_nonpos scales (k <= 0), not as expm1 does: the
    same bits as copysign(-t / (2 + t), x), t = expm1(-2|x|), 1 beyond |x| = 40, for
    float32 inputs 97 bit patterns apart over every float (and +-0, +-inf, NaN), float64
    ones spread over [-60, 60] and tiny ones."""
    patterns = np.arange(0, 0x100000000, 97, dtype=np.uint64).astype(np.uint32)
    specials = [-0.0, 0.0, -INF, INF, NAN]
    x32 = np.concatenate([patterns.view(np.float32), np.array(specials, dtype=np.float32)])
    rng = np.random.default_rng(8)
    x64 = np.concatenate([rng.uniform(-60, 60, 2 * 10**6),
                          rng.choice([-1, 1], 10**6) * np.exp2(rng.uniform(-1074, 6, 10**6)),
                          specials])
    for x in (x32, x64):
        with np.errstate(all="ignore"):
            ax = np.abs(x)
            t = vm.vmath("expm1", -2 * ax)
            want = np.copysign(np.where(ax > 40, x.dtype.type(1), -t / (2 + t)), x)
            np.testing.assert_array_equal(vm.vmath("tanh", x), want)


@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
@pytest.mark.parametrize("name", ["expm1", "log1p", "tanh"])
def test_odd_functions_keep_the_sign_of_zero(name, dtype):
    got = vm.vmath(name, np.full(33, -0.0, dtype=dtype))
    assert np.all(got == 0) and np.all(np.signbit(got))


def _logsumexp_exact(row):
    finite = [mpmath.mpf(float(v)) for v in row if np.isfinite(v)]
    return mpmath.log(mpmath.fsum(mpmath.exp(v) for v in finite)) if finite else -mpmath.inf


@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
def test_logsumexp_accuracy(dtype):
    """Rows of many lengths and scales; error in ulps of |max| + log(sum e^(x - max)).

    That is the size of the terms added in the last step, and the error that rounding
    the inputs alone would cause; a row whose log-sum-exp is near 0 by cancellation
    cannot do better in relative terms.
    """
    rng = np.random.default_rng(7)
    with mpmath.workprec(160):
        for cols in (1, 3, 8, 13, 64, 101):
            for scale in (1e-3, 1.0, 30.0, 1000.0):
                rows = rng.normal(0.0, scale, (6, cols)) + rng.normal(0.0, scale, (6, 1))
                rows = rows.astype(dtype)
                got = vm.logsumexp(rows)
                assert got.dtype == np.float64
                for row, value in zip(rows.astype(np.float64), got, strict=True):
                    exact = _logsumexp_exact(row)
                    m = max(row)
                    size = abs(m) + float(exact - m)
                    err = abs(mpmath.mpf(float(value)) - exact)
                    ulp = np.spacing(dtype(size))
                    assert err <= MAX_ULP * float(ulp), (row, value, exact)


@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
def test_logsumexp_special_rows(dtype):
    rows = np.array([
        [-INF, -INF, -INF],
        [0.0, -INF, 0.0],
        [INF, 1.0, 2.0],
        [INF, NAN, 2.0],
        [NAN, 1.0, 2.0],
        [1000.0, 1000.0, -INF],
        [-1000.0, -1000.0, -INF],
    ], dtype=dtype)
    expected = [-INF, np.log(2.0), INF, NAN, NAN, 1000.0 + np.log(2.0), -1000.0 + np.log(2.0)]
    with np.errstate(all="ignore"):
        got = vm.logsumexp(rows)
    np.testing.assert_allclose(got, expected, rtol=4 * np.finfo(dtype).eps)
    assert vm.logsumexp(np.empty((2, 0), dtype=dtype)).tolist() == [-INF, -INF]
