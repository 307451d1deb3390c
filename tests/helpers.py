"""Shared test utilities: the regression cases of the registry, tolerances, finite
differences and high-precision (mpmath) oracles."""

import math

import mpmath
import numpy as np
from registry import RTOL, defaults, family

#: The reason of a skip for want of a CPU feature (a kernel set this CPU cannot run):
#: FASTLOSS_NO_SKIP fails a run on every other skip (tests/conftest.py).
CPU_SKIP = "this CPU cannot run it: "

REDUCTIONS = ("mean", "sum", "none")
DTYPES = (np.float32, np.float64)
#: Every regression entry of the registry of a (y_true, y_pred) loss, with non-default
#: hyper-parameters (GaussianNLL, of three arrays, is tested in test_gaussian_nll.py).
REGRESSION_CASES = [c for c in family("regression") if c.kind == "regression"]
#: One case per regression loss class, default hyper-parameters.
DEFAULT_CASES = defaults(REGRESSION_CASES)


def case_params(cases):
    """pytest.mark.parametrize keywords (argvalues and ids) over loss cases."""
    return {"argvalues": cases, "ids": [c.id for c in cases]}


def make_weight(form, shape, rng):
    """Sample weights: None, one per row ("rows") or one per element ("full")."""
    if form is None:
        return None
    if form == "rows":
        return rng.uniform(0.0, 3.0, shape[0])
    return rng.uniform(0.0, 3.0, shape)


def assert_close(actual, expected, tolerance):
    """Close to a float64 reference: relative, or relative to the largest |expected|
    (so near-zero elements of an array are judged at the array's scale). `tolerance`
    is the relative tolerance, or a dtype (registry.RTOL of that dtype)."""
    rtol = tolerance if isinstance(tolerance, float) else RTOL[np.dtype(tolerance)]
    expected = np.asarray(expected, dtype=np.float64)
    scale = float(np.max(np.abs(expected), initial=0.0)) or 1.0
    np.testing.assert_allclose(np.asarray(actual, dtype=np.float64), expected,
                               rtol=rtol, atol=rtol * scale)


# ---- finite differences --------------------------------------------------------------


def central_difference(f, x, step=1e-6):
    """d f(x) / dx_i for every element of x by central differences, with a step
    relative to |x_i|. f maps an array like x to a float or to an array; the result
    has the shape of x (times f's shape, flattened, when f returns an array)."""
    x = np.array(x, dtype=np.float64)
    derivative = []
    for i in range(x.size):
        h = step * max(1.0, abs(x.flat[i]))
        up, down = x.copy(), x.copy()
        up.flat[i] += h
        down.flat[i] -= h
        derivative.append((np.asarray(f(up)) - np.asarray(f(down))) / (up.flat[i] - down.flat[i]))
    return np.array(derivative).reshape(x.shape + np.shape(derivative[0]))


def central_difference_diagonal(f, x, step=1e-6):
    """Diagonal of the Jacobian of an elementwise array function f (d f_i / dx_i)."""
    jacobian = central_difference(f, x, step)
    return jacobian.reshape(x.size, x.size).diagonal().reshape(np.shape(x))


# ---- high-precision oracles ------------------------------------------------------------

mpmath.mp.dps = 60
_mp = mpmath.mpf


def _mp_log_cosh(e):
    # Exact identities, chosen so that 60 digits suffice at every magnitude.
    ae = abs(e)
    if ae < 1:
        return mpmath.log1p(2 * mpmath.sinh(e / 2) ** 2)
    return ae - mpmath.log(2) + mpmath.log1p(mpmath.exp(-2 * ae))


def _mp_sech2(e):
    decay = mpmath.exp(-2 * abs(e))
    return 4 * decay / (1 + decay) ** 2


def _mp_sign(x):
    return _mp(1) if x > 0 else (_mp(-1) if x < 0 else _mp(0))


def _mp_tweedie(y, p, power, log_input):
    """(loss, dl/dp, d2l/dp2) of Tweedie with p = log(mu) or p = mu; Poisson at
    power 1, Gamma at power 2 (the formulas of fastloss.reference)."""
    r = _mp(power)
    if log_input:
        if r == 1:
            mu = mpmath.exp(p)
            return mu - y * p, mu - y, mu
        if r == 2:
            ratio = y * mpmath.exp(-p)
            return p + ratio, 1 - ratio, ratio
        mu2, mu1 = mpmath.exp((2 - r) * p), mpmath.exp((1 - r) * p)
        return (mu2 / (2 - r) - y * mu1 / (1 - r), mu2 - y * mu1,
                (2 - r) * mu2 - (1 - r) * y * mu1)
    mu = p
    if r == 1:
        return mu - (y * mpmath.log(mu) if y else 0), 1 - y / mu, y / mu**2
    if r == 2:
        return mpmath.log(mu) + y / mu, 1 / mu - y / mu**2, -1 / mu**2 + 2 * y / mu**3
    return (mu ** (2 - r) / (2 - r) - y * mu ** (1 - r) / (1 - r),
            mu ** (1 - r) - y * mu**-r,
            (1 - r) * mu**-r + r * y * mu ** (-r - 1))


def _mp_huber(y, p, e, params):
    d = _mp(params.get("delta", 1.0))
    if abs(e) <= d:
        return e**2 / 2, e, _mp(1)
    return d * (abs(e) - d / 2), d * _mp_sign(e), _mp(0)


def _mp_smooth_l1(y, p, e, params):
    b = _mp(params.get("beta", 1.0))
    if b == 0:  # the L1 loss, with MAE's surrogate hessian
        return abs(e), _mp_sign(e), _mp(1)
    if abs(e) < b:
        return e**2 / (2 * b), e / b, 1 / b
    return abs(e) - b / 2, _mp_sign(e), (1 / b if abs(e) == b else _mp(0))


def _mp_pseudo_huber(y, p, e, params):
    d = _mp(params.get("delta", 1.0))
    r = e / d
    h = mpmath.sqrt(1 + r**2)
    return d**2 * r**2 / (h + 1), e / h, 1 / h**3


def _mp_quantile(y, p, e, params):
    q = _mp(params.get("quantile", 0.5))
    r = y - p
    if r >= 0:
        return q * r, (-q if r > 0 else _mp(0)), _mp(1)
    return (q - 1) * r, 1 - q, _mp(1)


_KERAS_EPSILON = _mp(1e-7)


def _mp_msle(y, p, e, params):
    pc, yc = max(p, _KERAS_EPSILON), max(y, _KERAS_EPSILON)
    d = mpmath.log((1 + pc) / (1 + yc))
    if p < _KERAS_EPSILON:
        return d**2, _mp(0), _mp(0)
    return d**2, 2 * d / (1 + pc), 2 * (1 - d) / (1 + pc) ** 2


def _mp_mape(y, p, e, params):
    scale = 100 / max(abs(y), _KERAS_EPSILON)
    return abs(e) * scale, _mp_sign(e) * scale, scale


def _mp_power(power):
    def terms(y, p, e, params):
        return _mp_tweedie(y, p, params.get("power", power), params.get("log_input", True))
    return terms


#: (loss, dl/dp, d2l/dp2) at one element, by shortcut: f(y, p, e = p - y, params).
_MP_TERMS = {
    "mse": lambda y, p, e, params: (e**2, 2 * e, _mp(2)),
    "mae": lambda y, p, e, params: (abs(e), _mp_sign(e), _mp(1)),
    "huber": _mp_huber,
    "smooth_l1": _mp_smooth_l1,
    "pseudo_huber": _mp_pseudo_huber,
    "log_cosh": lambda y, p, e, params: (_mp_log_cosh(e), mpmath.tanh(e), _mp_sech2(e)),
    "quantile": _mp_quantile,
    "poisson": _mp_power(1.0),
    "gamma": _mp_power(2.0),
    "tweedie": _mp_power(1.5),
    "msle": _mp_msle,
    "mape": _mp_mape,
}


def mp_terms(shortcut, y_true, y_pred, **params):
    """(loss, dl/dp, d2l/dp2) of one element at 60 significant digits; a loss without
    an mpmath formula here is a NotImplementedError (never a guess)."""
    try:
        terms = _MP_TERMS[shortcut]
    except KeyError:
        raise NotImplementedError(
            f"no mpmath oracle for {shortcut!r} (known: {', '.join(sorted(_MP_TERMS))})"
        ) from None
    y, p = _mp(y_true), _mp(y_pred)
    return terms(y, p, p - y, params)


def ulp_error(actual, exact, dtype=np.float64):
    """|actual - exact| in units of the last place, in `dtype`, of the number nearest
    to exact. Infinite results must match exactly (inf where exact overflows the
    dtype); NaN is never close."""
    with np.errstate(over="ignore"):
        nearest = dtype(float(exact))
    if math.isnan(actual):
        return math.inf
    if math.isinf(nearest) or math.isinf(actual):
        return 0.0 if actual == nearest else math.inf
    return float(abs(_mp(float(actual)) - exact) / _mp(float(np.spacing(abs(nearest)))))
