"""Regression losses: many reduction blocks against the NumPy reference, finite
differences and high-precision (mpmath) results; domains and special values. (The
contract tests, tests/test_contract.py, compare every method with the reference.)"""

import math

import numpy as np
import pytest
from helpers import (
    DEFAULT_CASES,
    DTYPES,
    REDUCTIONS,
    REGRESSION_CASES,
    assert_close,
    case_params,
    central_difference,
    central_difference_diagonal,
    make_weight,
    mp_terms,
    ulp_error,
)

import fastloss as fl
from fastloss._kernels import common as _kernel

# ---- many reduction blocks against reference.py -----------------------------------------


@pytest.mark.parametrize("case", **case_params(REGRESSION_CASES))
def test_many_blocks_match_reference(case):
    """Inputs spanning several reduction blocks (and a partial last block)."""
    rng = np.random.default_rng(3)
    shape = (3 * _kernel.BLOCK + 123,)
    y, p = case.data(shape, rng)
    w = make_weight("rows", shape, rng)
    value, grad = case.loss("mean").value_and_gradient(y, p, sample_weight=w)
    assert_close(value, case.reference("value", y, p, "mean", w), np.float64)
    assert_close(grad, case.reference("grad", y, p, "mean", w), np.float64)


def test_shortcuts_take_hyper_parameters_as_keywords():
    y, p = [0.0, 1.0, 2.0], [0.5, 3.0, -2.0]
    assert fl.huber(y, p, delta=0.5, reduction="sum") == fl.Huber(delta=0.5, reduction="sum")(y, p)
    assert fl.tweedie([1.0], [2.0], power=1.2, log_input=False) == fl.Tweedie(
        power=1.2, log_input=False)([1.0], [2.0])
    with pytest.raises(TypeError):
        fl.huber(y, p, 0.5)  # hyper-parameters are keyword-only
    with pytest.raises(TypeError):
        fl.huber(y, p, detla=0.5)


def test_float32_sums_accumulate_in_float64():
    """A float32 accumulator would be off by ~1e-5 relative over 10^5 terms."""
    rng = np.random.default_rng(5)
    y = rng.uniform(0, 1, 100_000).astype(np.float32)
    p = (y + rng.uniform(0.5, 1.5, y.size)).astype(np.float32)
    exact = math.fsum(np.abs(p.astype(np.float64) - y.astype(np.float64)).tolist())
    assert fl.mae(y, p, reduction="sum") == pytest.approx(exact, rel=1e-12)


# ---- derivatives against central finite differences (float64) ---------------------------


@pytest.mark.parametrize("weight_form", [None, "rows"], ids=["unweighted", "w_rows"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("case", **case_params(REGRESSION_CASES))
def test_gradient_matches_finite_differences(case, reduction, weight_form):
    rng = np.random.default_rng(13)
    y, p = case.data((3, 4), rng)
    w = make_weight(weight_form, p.shape, rng)
    loss = case.loss(reduction)
    if reduction == "none":
        numeric = central_difference_diagonal(lambda q: loss(y, q, sample_weight=w), p)
    else:
        numeric = central_difference(lambda q: loss(y, q, sample_weight=w), p)
    np.testing.assert_allclose(loss.gradient(y, p, sample_weight=w), numeric,
                               rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("weight_form", [None, "rows"], ids=["unweighted", "w_rows"])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize(
    "case", **case_params([c for c in REGRESSION_CASES if c.loss().exact_hessian]))
def test_hessian_matches_finite_differences(case, reduction, weight_form):
    rng = np.random.default_rng(17)
    y, p = case.data((3, 4), rng)
    w = make_weight(weight_form, p.shape, rng)
    loss = case.loss(reduction)
    numeric = central_difference_diagonal(lambda q: loss.gradient(y, q, sample_weight=w), p)
    np.testing.assert_allclose(loss.gradient_hessian(y, p, sample_weight=w)[1], numeric,
                               rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize(
    "case", **case_params([c for c in REGRESSION_CASES if not c.loss().exact_hessian]))
def test_surrogate_hessian_is_positive(case):
    y, p = case.data((50,), np.random.default_rng(19))
    hess = case.loss("sum").gradient_hessian(y, p)[1]
    assert np.all(hess > 0)


def test_exact_hessian_attribute():
    inexact = {fl.MeanAbsoluteError, fl.Quantile, fl.MeanAbsolutePercentageError}
    for case in DEFAULT_CASES:
        assert case.cls.exact_hessian is (case.cls not in inexact)
        assert case.loss().exact_hessian is case.cls.exact_hessian
    # beta = 0 makes SmoothL1 the L1 loss: its hessian is then MAE's surrogate.
    assert fl.SmoothL1(beta=0.0).exact_hessian is False
    assert fl.SmoothL1(beta=0.5).exact_hessian is True


# ---- extreme values against mpmath ---------------------------------------------------------

_UP, _DOWN = math.nextafter(1.0, 2.0), math.nextafter(1.0, 0.0)
_E = 2.0**-33  # a tiny error, exactly representable as y_pred - y_true with y_true = 1

#: (shortcut, hyper-parameters, y_true, y_pred). Avoided: points where the loss is a
#: difference of large nearly equal terms, and Tweedie powers whose exp((1 - r) p) has
#: an inexact argument at large |p| (exp turns its rounding into |p| ulp); both are
#: ill-conditioned by definition, not by evaluation.
EXTREMES = [
    *[("mse", {}, y, p) for y, p in [(0.0, 1e-300), (0.0, -1e-160), (1.0, 1.0 + _E),
                                     (0.0, 1e150), (0.0, -1e300), (-1e308, 1e308)]],
    *[("mae", {}, y, p) for y, p in [(0.0, 1e-300), (0.0, -1e300), (1.0, 1.0 + _E),
                                     (-1e308, 1e308)]],
    *[("huber", {"delta": 1.0}, 0.0, p) for p in
      [1.0, -1.0, _UP, _DOWN, -_UP, 1e-300, 1e-10, -1e-160, 1e300, -1e300, 1.7e308]],
    ("huber", {"delta": 1.0}, 1.0, 1.0 + _E),
    ("huber", {"delta": 1.0}, -1e308, 1e308),
    *[("huber", {"delta": d}, 0.0, p) for d, p in
      [(2.5, 2.5), (2.5, math.nextafter(2.5, 3)), (0.1, 0.1), (0.1, -0.1),
       (1e-300, 1e-300), (1e-300, 1.0), (1e300, 1e-300), (1e300, 1e299)]],
    *[("smooth_l1", {"beta": 1.0}, 0.0, p) for p in
      [1.0, -1.0, _UP, _DOWN, 1e-300, 1e-10, 1e300, -1e300]],
    *[("smooth_l1", {"beta": b}, 0.0, p) for b, p in
      [(0.5, 0.5), (0.5, math.nextafter(0.5, 0)), (0.5, math.nextafter(0.5, 1)),
       (0.0, 1e-300), (0.0, -1e300), (1e-300, 1e-300), (1e-300, 1e-301), (1e300, 1e200),
       (1e300, 1e300), (1e300, 1e-300)]],
    *[("pseudo_huber", {"delta": 1.0}, 0.0, p) for p in
      [1e-300, 1e-10, -1e-5, 0.5, 1.0, -2.0, 1e10, 1e150, -1e200, 1e300, 1.7e308]],
    *[("pseudo_huber", {"delta": d}, 0.0, p) for d, p in
      [(1e150, 1e-150), (1e150, 1e100), (1e-300, 1.0), (1e-300, 1e-300),
       (1e-10, 1e300), (1e200, 1e150), (1e-200, 1e-100)]],
    ("pseudo_huber", {"delta": 1.0}, 1.0, 1.0 + _E),
    *[("log_cosh", {}, 0.0, p) for p in
      [1e-300, -1e-160, 1e-10, 1e-5, 0.5, _DOWN, 1.0, -_UP, 2.0, 20.0, 300.0, 360.0,
       709.0, -710.0, 711.0, 1000.0, -1e300, 1.7e308]],
    ("log_cosh", {}, 1.0, 1.0 + _E),
    ("log_cosh", {}, -1e308, 1e308),
    *[("quantile", {"quantile": q}, y, p) for q, y, p in
      [(0.1, 0.0, 1e300), (0.1, 0.0, -1e300), (0.9, 0.0, 1e-300), (0.9, 1e-300, 0.0),
       (0.5, 1.0, 1.0 + _E), (0.25, 5.0, 5.0)]],
    *[("poisson", {}, y, p) for y, p in
      [(0.0, 700.0), (3.0, 700.0), (0.0, 709.7), (3.0, 710.0), (0.0, -700.0),
       (3.0, -700.0), (0.0, -745.0), (2.0, -1e-10), (1e300, -1.0), (0.0, 1e-300)]],
    *[("poisson", {"log_input": False}, y, mu) for y, mu in
      [(0.0, 1e-300), (2.5, 1e-300), (0.0, 1e300), (2.5, 1e300), (0.0, 5e-324),
       (2.5, 1e-200), (1e300, 1e-10)]],
    *[("gamma", {}, y, p) for y, p in
      [(1.0, 700.0), (1.0, -700.0), (1.0, -710.0), (1e300, 700.0), (1e-300, -700.0),
       (2.0, 1e-10), (1.0, 0.5)]],
    *[("gamma", {"log_input": False}, y, mu) for y, mu in
      [(1.0, 1e-300), (1.0, 1e300), (1e-300, 1e300), (1e300, 1e-10), (1.0, 5e-324),
       (1e-10, 1e-300)]],
    *[("tweedie", {"power": r}, y, p) for r, y, p in
      [(1.5, 0.0, 700.0), (1.5, 2.0, 700.0), (1.5, 0.0, -700.0), (1.5, 2.0, -700.0),
       (1.5, 0.0, -1500.0), (1.5, 2.0, 1400.0), (3.0, 2.0, 700.0), (3.0, 2.0, -300.0),
       (3.0, 2.0, -700.0), (1.25, 0.0, 3000.0), (1.25, 5.0, -3000.0), (1.2, 5.0, -3.0)]],
    *[("tweedie", {"power": r, "log_input": False}, y, mu) for r, y, mu in
      [(1.5, 0.0, 1e-300), (1.5, 2.0, 1e-300), (1.5, 0.0, 1e300), (1.5, 2.0, 1e300),
       (1.5, 0.0, 5e-324), (3.0, 2.0, 1e-100), (3.0, 2.0, 1e300), (3.0, 1e-300, 1e-100)]],
    *[("msle", {}, y, p) for y, p in
      [(0.0, 1e-300), (-5.0, -1e300), (1.0, 1.0 + _E), (1.0, 3.0), (3.0, 1.0), (1.0, 1e300),
       (1e300, 1.0), (0.5, 0.75), (1.0, 1.5e-7), (1.0, 1.7e308)]],
    *[("mape", {}, y, p) for y, p in
      [(0.0, 1e-300), (1e-300, 0.0), (1.0, 1.0 + _E), (-4.0, -3.0), (1e300, -1e300),
       (1e-10, 1.0), (2.0, 3.0)]],
]


def _extreme_id(point):
    shortcut, params, y, p = point
    args = "".join(f",{k}={v}" for k, v in params.items())
    return f"{shortcut}(y={y!r},p={p!r}{args})"


def _extreme_results(point, dtype):
    """(value, gradient, hessian) of the loss at one point, each as a float."""
    shortcut, params, y, p = point
    cls = _CLASSES[shortcut]
    y, p = np.array([y], dtype), np.array([p], dtype)
    value = cls(**params, reduction="none")(y, p)[0]
    grad, hess = cls(**params, reduction="sum").gradient_hessian(y, p)
    return float(value), float(grad[0]), float(hess[0])


@pytest.mark.parametrize("point", EXTREMES, ids=[_extreme_id(x) for x in EXTREMES])
def test_extreme_values_against_mpmath(point):
    """float64: within 3 ulp of the exact value (the worst seen is under 2)."""
    exact = mp_terms(point[0], *point[2:], **point[1])
    results = _extreme_results(point, np.float64)
    errors = [ulp_error(actual, want) for actual, want in zip(results, exact, strict=True)]
    assert max(errors) <= 3, (f"ulp errors (value, grad, hess) {errors}; got {results}, "
                              f"exact {tuple(float(x) for x in exact)}")


_IN_FLOAT32 = [x for x in EXTREMES
               if all(abs(v) <= float(np.finfo(np.float32).max) and float(np.float32(v)) == v
                      for v in x[2:])]


@pytest.mark.parametrize("point", _IN_FLOAT32, ids=[_extreme_id(x) for x in _IN_FLOAT32])
def test_extreme_values_against_mpmath_float32(point):
    """float32 data: computed in double, so correctly rounded up to the double's error."""
    exact = mp_terms(point[0], *point[2:], **point[1])
    results = _extreme_results(point, np.float32)
    errors = [ulp_error(actual, want, np.float32)
              for actual, want in zip(results, exact, strict=True)]
    assert max(errors) <= 0.51, f"float32 ulp errors (value, grad, hess) {errors}"


_CLASSES = {c.shortcut: c.cls for c in DEFAULT_CASES}


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("shortcut,param", [("huber", "delta"), ("smooth_l1", "beta")])
def test_switch_points_are_continuous(shortcut, param, dtype):
    """Value and gradient agree on both sides of |e| == delta (beta) to rounding."""
    threshold = dtype(0.75)
    edge = np.array([np.nextafter(threshold, dtype(0)), threshold,
                     np.nextafter(threshold, dtype(1))], dtype=dtype)
    y = np.zeros(6, dtype)
    p = np.concatenate([edge, -edge])
    loss = _CLASSES[shortcut](**{param: 0.75}, reduction="none")
    value, grad = loss.value_and_gradient(y, p)
    for half in (slice(0, 3), slice(3, 6)):
        assert np.ptp(value[half]) <= 4 * np.spacing(value[half][1])
        assert np.ptp(grad[half]) <= 4 * np.spacing(abs(grad[half][1]))


# ---- special values -------------------------------------------------------------------


@pytest.mark.parametrize("case", **case_params(REGRESSION_CASES))
def test_nan_in_predictions_propagates(case):
    y, p = case.data((2, 5), np.random.default_rng(23))
    p[1, 2] = np.nan
    nan_at = np.zeros(p.shape, bool)
    nan_at[1, 2] = True
    values, grad = case.loss("none").value_and_gradient(y, p)
    for result in (values, grad, case.loss("mean").gradient(y, p)):
        np.testing.assert_array_equal(np.isnan(result), nan_at)
    hess = case.loss("sum").gradient_hessian(y, p)[1]
    assert not np.isnan(hess[~nan_at]).any()  # (the hessian of MSE is the constant 2)
    assert math.isnan(case.loss("mean")(y, p))
    assert math.isnan(case.loss("sum").value_and_gradient(y, p)[0])


@pytest.mark.parametrize(
    "case", **case_params([c for c in REGRESSION_CASES if c.targets == "real"]))
def test_nan_in_targets_propagates(case):
    """(NaN targets of the count and positive-valued losses are rejected: see below.)"""
    values = case.loss("none")([1.0, np.nan], [0.5, 0.5])
    assert np.isfinite(values[0]) and math.isnan(values[1])


#: Loss value and gradient for y_true = 0 and y_pred = +inf and -inf.
INFINITE = [
    ("mse", {}, (math.inf, math.inf), (math.inf, -math.inf)),
    ("mae", {}, (math.inf, 1.0), (math.inf, -1.0)),
    ("huber", {"delta": 2.0}, (math.inf, 2.0), (math.inf, -2.0)),
    ("smooth_l1", {"beta": 2.0}, (math.inf, 1.0), (math.inf, -1.0)),
    ("smooth_l1", {"beta": 0.0}, (math.inf, 1.0), (math.inf, -1.0)),
    ("pseudo_huber", {"delta": 2.0}, (math.inf, 2.0), (math.inf, -2.0)),
    ("log_cosh", {}, (math.inf, 1.0), (math.inf, -1.0)),
    ("quantile", {"quantile": 0.25}, (math.inf, 0.75), (math.inf, -0.25)),
    ("poisson", {}, (math.inf, math.inf), (0.0, 0.0)),
    ("msle", {}, (math.inf, 0.0), (0.0, 0.0)),
    ("mape", {}, (math.inf, 100 / 1e-7), (math.inf, -100 / 1e-7)),
]


@pytest.mark.parametrize("shortcut,params,at_plus_inf,at_minus_inf", INFINITE,
                         ids=[f"{s}{p}" for s, p, *_ in INFINITE])
def test_infinite_predictions(shortcut, params, at_plus_inf, at_minus_inf):
    loss = _CLASSES[shortcut](**params, reduction="none")
    values, grad = loss.value_and_gradient([0.0, 0.0], [math.inf, -math.inf])
    assert (values[0], grad[0]) == at_plus_inf
    assert (values[1], grad[1]) == at_minus_inf


# ---- domains of the count and positive-valued losses -----------------------------------

DOMAIN_CASES = [c for c in REGRESSION_CASES if c.targets != "real"]


@pytest.mark.parametrize("case", **case_params(DOMAIN_CASES))
def test_invalid_targets_name_the_first_bad_index(case):
    y, p = case.data((3, 4), np.random.default_rng(29))
    y[1, 2] = -1.0
    y[2, 0] = -2.0
    with pytest.raises(ValueError, match=r"y_true.*-1\.0.*\(1, 2\)"):
        case.loss()(y, p)
    y1, p1 = y.ravel(), p.ravel()
    with pytest.raises(ValueError, match=r"y_true.*index 6\b"):
        case.loss("sum").gradient(y1, p1)
    y1[6] = np.nan
    with pytest.raises(ValueError, match=r"y_true.*nan.*index 6\b"):
        case.loss("none").value_and_gradient(y1, p1)


@pytest.mark.parametrize("case", **case_params(DOMAIN_CASES))
def test_zero_targets(case):
    """0 is a valid count (Poisson, Tweedie power < 2) but not a Gamma-type target."""
    y, p = case.data((5,), np.random.default_rng(31))
    y[3] = 0.0
    if case.targets == "positive":
        with pytest.raises(ValueError, match=r"y_true must be > 0.*index 3\b"):
            case.loss().gradient_hessian(y, p)
    else:
        assert_close(case.loss("none")(y, p), case.reference("value", y, p, "none"),
                     np.float64)


@pytest.mark.parametrize("bad_mean", [0.0, -0.0, -1.5, -np.inf])
@pytest.mark.parametrize("case", **case_params([c for c in DOMAIN_CASES if not c.log_input]))
def test_non_positive_means_are_rejected(case, bad_mean):
    y, p = case.data((2, 3), np.random.default_rng(37))
    p[1, 1] = bad_mean
    for method in ("__call__", "gradient", "value_and_gradient", "gradient_hessian"):
        with pytest.raises(ValueError, match=r"y_pred.*> 0.*\(1, 1\)"):
            getattr(case.loss(), method)(y, p)


@pytest.mark.parametrize("case", **case_params([c for c in DOMAIN_CASES if c.log_input]))
def test_log_input_accepts_any_real_prediction(case):
    y, p = case.data((6,), np.random.default_rng(41))
    p[:3] = [0.0, -5.0, -50.0]
    assert np.all(np.isfinite(case.loss("none")(y, p)))


# ---- objects -----------------------------------------------------------------------------

REPRS = [
    (fl.Huber(), "Huber(delta=1.0, reduction='mean')"),
    (fl.MeanSquaredError(reduction="sum"), "MeanSquaredError(reduction='sum')"),
    (fl.SmoothL1(beta=0.5, reduction="none"), "SmoothL1(beta=0.5, reduction='none')"),
    (fl.Quantile(quantile=0.9), "Quantile(quantile=0.9, reduction='mean')"),
    (fl.Poisson(log_input=False), "Poisson(log_input=False, reduction='mean')"),
    (fl.Tweedie(power=2), "Tweedie(power=2.0, log_input=True, reduction='mean')"),
    (fl.PseudoHuber(delta=3), "PseudoHuber(delta=3.0, reduction='mean')"),
]


@pytest.mark.parametrize("loss,text", REPRS, ids=[t for _, t in REPRS])
def test_repr(loss, text):
    assert repr(loss) == text
    assert eval(text, vars(fl)) == loss


def test_equality_is_by_type_and_parameters():
    assert fl.Huber(delta=2) == fl.Huber(delta=2.0)
    assert fl.Huber(delta=2.0) != fl.Huber(delta=3.0)
    assert fl.Huber(delta=1.0) != fl.SmoothL1(beta=1.0)
    assert fl.Tweedie(power=1.5) != fl.Tweedie(power=1.5, log_input=False)
    assert len({fl.Huber(), fl.Huber(delta=1), fl.Huber(reduction="sum")}) == 2
    assert fl.MeanSquaredError() != "MeanSquaredError(reduction='mean')"


#: (class, parameter, bad values) for each validated hyper-parameter.
BAD_PARAMS = [
    (fl.Huber, "delta", [0.0, -1.0, math.nan, math.inf, "1", None, True, np.True_, [1.0],
                         np.float32(-1.0)]),
    (fl.PseudoHuber, "delta", [0, -2.5, math.nan, math.inf, "1", None, False]),
    (fl.SmoothL1, "beta", [-1e-9, -1.0, math.nan, math.inf, "1", None]),
    (fl.Quantile, "quantile", [0.0, 1.0, -0.1, 1.5, math.nan, "0.5", None]),
    (fl.Tweedie, "power", [0.5, 0.0, -1.0, math.nan, math.inf, "1.5", None]),
    (fl.Tweedie, "log_input", [1, 0, "yes", None]),
    (fl.Poisson, "log_input", [1, "True", None]),
    (fl.Gamma, "log_input", [0, np.float64(1.0)]),
]


@pytest.mark.parametrize("cls,param,values", BAD_PARAMS,
                         ids=[f"{c.__name__}.{p}" for c, p, _ in BAD_PARAMS])
def test_bad_hyper_parameters(cls, param, values):
    for value in values:
        with pytest.raises(ValueError, match=param):
            cls(**{param: value})
        shortcut = getattr(fl, next(c.shortcut for c in DEFAULT_CASES if c.cls is cls))
        with pytest.raises(ValueError, match=param):
            shortcut([1.0], [1.0], **{param: value})


def test_hyper_parameters_may_be_numpy_scalars():
    assert fl.Huber(delta=np.float32(2.5)).delta == 2.5
    assert fl.Quantile(quantile=np.float64(0.25)).quantile == 0.25
    assert fl.Tweedie(power=np.int64(2)) == fl.Tweedie(power=2.0)


