"""Shared test utilities: the loss cases, test data, tolerances, finite differences
and high-precision (mpmath) oracles."""

import math
from dataclasses import dataclass, field

import mpmath
import numpy as np

import fastloss as fl
from fastloss import reference

METHODS = ("call", "gradient", "value_and_gradient", "gradient_hessian")
REDUCTIONS = ("mean", "sum", "none")
DTYPES = (np.float32, np.float64)
#: Relative tolerance against the float64 reference, by compute dtype.
RTOL = {np.dtype(np.float32): 2e-6, np.dtype(np.float64): 1e-10}


@dataclass(frozen=True)
class LossCase:
    """A loss class with hyper-parameters, its shortcut and its reference functions."""

    cls: type
    shortcut: str
    params: dict = field(default_factory=dict)
    #: "real": any targets; "count": y >= 0; "positive": y > 0.
    targets: str = "real"

    @property
    def id(self):
        args = ",".join(f"{k}={v}" for k, v in self.params.items())
        return f"{self.shortcut}({args})"

    @property
    def log_input(self):
        return self.params.get("log_input", True)

    def loss(self, reduction="mean"):
        return self.cls(**self.params, reduction=reduction)

    def reference(self, quantity, y_true, y_pred, reduction="mean", sample_weight=None):
        """The reference value ("value"), gradient ("grad") or hessian ("hess")."""
        suffix = "" if quantity == "value" else "_" + quantity
        fn = getattr(reference, self.shortcut + suffix)
        return fn(y_true, y_pred, **self.params, reduction=reduction,
                  sample_weight=sample_weight)

    def data(self, shape, rng, dtype=np.float64):
        """(y_true, y_pred) of `shape` inside the loss's domain, in `dtype`."""
        if self.targets == "real":
            y = rng.normal(0.0, 2.0, shape)
            p = y + rng.normal(0.0, 1.5, shape)
        else:
            log_mu = rng.normal(0.0, 1.0, shape)
            if self.targets == "count":
                y = rng.poisson(np.exp(log_mu)).astype(np.float64)
            else:
                y = rng.gamma(2.0, np.exp(log_mu) / 2.0) + 0.01
            p = log_mu + rng.normal(0.0, 0.3, shape)
            if not self.log_input:
                p = np.exp(p)
        return y.astype(dtype), p.astype(dtype)


def _count(cls, shortcut, targets, **params):
    return [LossCase(cls, shortcut, {**params, "log_input": True}, targets),
            LossCase(cls, shortcut, {**params, "log_input": False}, targets)]


#: Every regression loss, with non-default hyper-parameters where they matter.
REGRESSION_CASES = [
    LossCase(fl.MeanSquaredError, "mse"),
    LossCase(fl.MeanAbsoluteError, "mae"),
    LossCase(fl.Huber, "huber", {"delta": 1.0}),
    LossCase(fl.Huber, "huber", {"delta": 0.3}),
    LossCase(fl.SmoothL1, "smooth_l1", {"beta": 1.0}),
    LossCase(fl.SmoothL1, "smooth_l1", {"beta": 0.4}),
    LossCase(fl.SmoothL1, "smooth_l1", {"beta": 0.0}),
    LossCase(fl.PseudoHuber, "pseudo_huber", {"delta": 1.0}),
    LossCase(fl.PseudoHuber, "pseudo_huber", {"delta": 2.5}),
    LossCase(fl.LogCosh, "log_cosh"),
    LossCase(fl.Quantile, "quantile", {"quantile": 0.5}),
    LossCase(fl.Quantile, "quantile", {"quantile": 0.9}),
    *_count(fl.Poisson, "poisson", "count"),
    *_count(fl.Gamma, "gamma", "positive"),
    *_count(fl.Tweedie, "tweedie", "count", power=1.5),
    LossCase(fl.Tweedie, "tweedie", {"power": 1.0, "log_input": True}, "count"),
    LossCase(fl.Tweedie, "tweedie", {"power": 2.0, "log_input": False}, "positive"),
    *_count(fl.Tweedie, "tweedie", "positive", power=3.0),
]
#: One case per loss class, default hyper-parameters.
DEFAULT_CASES = [LossCase(cls, case.shortcut, {}, case.targets)
                 for cls, case in {c.cls: c for c in REGRESSION_CASES}.items()]


def case_params(cases):
    """pytest.param-style (values, ids) for parametrizing over loss cases."""
    return {"argvalues": cases, "ids": [c.id for c in cases]}


def make_weight(form, shape, rng):
    """Sample weights: None, one per row ("rows") or one per element ("full")."""
    if form is None:
        return None
    if form == "rows":
        return rng.uniform(0.0, 3.0, shape[0])
    return rng.uniform(0.0, 3.0, shape)


def assert_close(actual, expected, dtype):
    """Close to a float64 reference: relative, or relative to the largest |expected|
    (so near-zero elements of an array are judged at the array's scale)."""
    rtol = RTOL[np.dtype(dtype)]
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


def mp_terms(shortcut, y_true, y_pred, **params):
    """(loss, dl/dp, d2l/dp2) of one element at 60 significant digits."""
    y, p = _mp(y_true), _mp(y_pred)
    e = p - y
    if shortcut == "mse":
        return e**2, 2 * e, _mp(2)
    if shortcut == "mae":
        return abs(e), _mp_sign(e), _mp(1)
    if shortcut == "huber":
        d = _mp(params.get("delta", 1.0))
        if abs(e) <= d:
            return e**2 / 2, e, _mp(1)
        return d * (abs(e) - d / 2), d * _mp_sign(e), _mp(0)
    if shortcut == "smooth_l1":
        b = _mp(params.get("beta", 1.0))
        if b == 0:  # the L1 loss, with MAE's surrogate hessian
            return abs(e), _mp_sign(e), _mp(1)
        if abs(e) < b:
            return e**2 / (2 * b), e / b, 1 / b
        return abs(e) - b / 2, _mp_sign(e), (1 / b if abs(e) == b else _mp(0))
    if shortcut == "pseudo_huber":
        d = _mp(params.get("delta", 1.0))
        r = e / d
        h = mpmath.sqrt(1 + r**2)
        return d**2 * r**2 / (h + 1), e / h, 1 / h**3
    if shortcut == "log_cosh":
        return _mp_log_cosh(e), mpmath.tanh(e), _mp_sech2(e)
    if shortcut == "quantile":
        q = _mp(params.get("quantile", 0.5))
        r = y - p
        if r >= 0:
            return q * r, (-q if r > 0 else _mp(0)), _mp(1)
        return (q - 1) * r, 1 - q, _mp(1)
    power = {"poisson": 1.0, "gamma": 2.0}.get(shortcut, params.get("power", 1.5))
    return _mp_tweedie(y, p, power, params.get("log_input", True))


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
