"""The shared core through the regression losses: integer, byte-swapped and array-protocol
inputs, `out=` aliasing the inputs, validation messages, kernel dispatch, and properties
of the reductions (hypothesis). The contract tests (test_contract.py) cover what every
family shares."""

import json
import os
import subprocess
import sys

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from helpers import CPU_SKIP, REDUCTIONS, REGRESSION_CASES, case_params
from hypothesis import given
from hypothesis import strategies as st

import fastloss as fl
from fastloss._core import config as _config
from fastloss._core import rowwise as _rowwise
from fastloss._kernels import dispatch as _dispatch

#: A few losses that cover the kernel shapes: polynomial, piecewise, transcendental,
#: and a domain-checked mean parameterization.
CORE_CASES = [c for c in REGRESSION_CASES
              if c.id in ("mse()", "huber(delta=0.3)", "log_cosh()", "poisson(log_input=False)")]
METHOD_NAMES = ("__call__", "gradient", "value_and_gradient", "gradient_hessian")


def _all_results(loss, y, p, w=None):
    """Every method's results, as a flat list of floats and arrays."""
    results = []
    for name in METHOD_NAMES:
        out = getattr(loss, name)(y, p, sample_weight=w)
        results.extend(out if isinstance(out, tuple) else (out,))
    return results


def _assert_all_same(first, second):
    assert len(first) == len(second)
    for a, b in zip(first, second, strict=True):
        if isinstance(a, np.ndarray):
            assert a.dtype == b.dtype and a.shape == b.shape
            np.testing.assert_array_equal(a, b)
        else:
            assert a == b and type(a) is type(b)


def _data(case, shape=(6, 5), seed=0, dtype=np.float64):
    return case.data(shape, np.random.default_rng(seed), dtype)


# ---- array forms ------------------------------------------------------------------------


@pytest.mark.parametrize("int_dtype", [np.int8, np.uint16, np.int32, np.int64, np.bool_])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_integer_and_bool_inputs_compute_in_float64(int_dtype, reduction):
    rng = np.random.default_rng(4)
    y = rng.integers(0, 2 if int_dtype is np.bool_ else 50, (4, 7)).astype(int_dtype)
    p = rng.integers(1, 2 if int_dtype is np.bool_ else 50, (4, 7)).astype(int_dtype)
    w = rng.integers(0, 3, 4).astype(int_dtype)
    for case in CORE_CASES:
        loss = case.loss(reduction)
        results = _all_results(loss, y, p, w)
        _assert_all_same(results, _all_results(loss, y.astype(float), p.astype(float),
                                               w.astype(float)))
        assert loss.gradient(y, p).dtype == np.float64


@pytest.mark.parametrize("case", **case_params(CORE_CASES))
def test_y_true_is_converted_to_the_dtype_of_y_pred(case):
    y, p = _data(case)
    p32 = p.astype(np.float32)
    expected = _all_results(case.loss(), y.astype(np.float32), p32)
    _assert_all_same(_all_results(case.loss(), y, p32), expected)
    # Byte-swapped input is read correctly (the gradient keeps y_pred's dtype).
    swapped = _all_results(case.loss(), y.astype(">f8"), p32.astype(">f4"))
    for a, b in zip(swapped, expected, strict=True):
        np.testing.assert_array_equal(a, b)


class _ArrayLike:
    """An object offering only __array__ (and, like a tensor, a non-NumPy dtype)."""

    dtype = "float64"

    def __init__(self, a):
        self._a = a

    def __array__(self, dtype=None, copy=None):
        return self._a if dtype is None else self._a.astype(dtype)


class _DLPackOnly:
    """An object offering only the DLPack protocol."""

    def __init__(self, a):
        self._a = a

    def __dlpack__(self, **kwargs):
        return self._a.__dlpack__(**kwargs)

    def __dlpack_device__(self):
        return self._a.__dlpack_device__()


@pytest.mark.parametrize("wrapper", [_ArrayLike, _DLPackOnly], ids=["__array__", "dlpack"])
@pytest.mark.parametrize("case", **case_params(CORE_CASES))
def test_array_protocol_inputs(case, wrapper):
    y, p = _data(case)
    w = np.random.default_rng(5).uniform(0, 2, p.shape)
    _assert_all_same(_all_results(case.loss(), wrapper(y), wrapper(p), wrapper(w)),
                     _all_results(case.loss(), y, p, w))


def test_scalar_inputs():
    assert fl.mse(3.0, 4.5) == 2.25
    assert fl.mse(np.float32(3.0), 4.5) == 2.25  # 0-d stays 0-d through conversion
    assert fl.mse(3, np.float32(4.5), sample_weight=np.float32(2.0)) == 2.25
    assert fl.MeanSquaredError(reduction="sum").gradient(3.0, 4.5) == 3.0
    values = fl.MeanSquaredError(reduction="none")(3.0, 4.5, sample_weight=2.0)
    assert values.shape == () and values == 4.5
    with pytest.raises(ValueError, match=r"sample_weight must have shape \(\)"):
        fl.mse(3.0, 4.5, sample_weight=[2.0])


# ---- out= ------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["gradient", "value_and_gradient"])
def test_out_may_alias_the_inputs(method):
    """out may be y_pred or y_true itself, or overlap them shifted (as NumPy allows)."""
    loss = fl.Huber(delta=0.3, reduction="sum")

    def gradient(y, p, out):
        result = getattr(loss, method)(y, p, out=out)
        return result[1] if method == "value_and_gradient" else result

    y, p = _data(CORE_CASES[1], (40,))
    expected = loss.gradient(y, p)
    for alias in ("y_pred", "y_true"):
        y_in, p_in = y.copy(), p.copy()
        out = p_in if alias == "y_pred" else y_in
        assert gradient(y_in, p_in, out) is out
        np.testing.assert_array_equal(out, expected)
    for shift in (1, -1, 3):
        base = np.zeros(p.size + 3)
        p_in = base[3:] if shift < 0 else base[:-3]
        p_in[...] = p
        out = base[3 + shift:][:p.size] if shift < 0 else base[shift:][:p.size]
        assert gradient(y, p_in, out) is out
        np.testing.assert_array_equal(out, expected)
    # losses whose kernels check the targets after their loop (read y again)
    y, p = (np.array([0.0, 1.0, 1.0, 0.0]), np.array([0.5, -1.0, 2.0, 0.3]))
    for loss in (fl.BinaryCrossEntropy(from_logits=True, reduction="sum"),
                 fl.Poisson(reduction="sum")):
        expected = loss.gradient(y, p)
        y_in = y.copy()
        result = getattr(loss, method)(y_in, p, out=y_in)
        assert (result[1] if method == "value_and_gradient" else result) is y_in
        np.testing.assert_array_equal(y_in, expected)


# ---- bad input --------------------------------------------------------------------------

MISMATCHED = [((3,), (4,)), ((3,), (3, 1)), ((2, 3), (3, 2)), ((6,), (2, 3)), ((), (1,))]


@pytest.mark.parametrize("method", METHOD_NAMES)
@pytest.mark.parametrize("true_shape,pred_shape", MISMATCHED, ids=str)
def test_mismatched_shapes(true_shape, pred_shape, method):
    call = getattr(fl.Huber(), method)
    with pytest.raises(ValueError) as info:
        call(np.ones(true_shape), np.ones(pred_shape))
    assert f"y_true.shape={true_shape}" in str(info.value)
    assert f"y_pred.shape={pred_shape}" in str(info.value)


BAD_DTYPES = {
    "complex": np.array([1.0 + 2.0j, 0.0]),
    "object": np.array([1.0, None], dtype=object),
    "object numbers": np.array([1.0, 2.0], dtype=object),
    "string": np.array(["1.0", "2.0"]),
    "bytes": np.array([b"1", b"2"]),
    "datetime": np.array([1, 2], dtype="datetime64[s]"),
    "ragged": [1.0, [2.0, 3.0]],
}


@pytest.mark.parametrize("argument", ["y_true", "y_pred", "sample_weight"])
@pytest.mark.parametrize("bad", BAD_DTYPES.values(), ids=BAD_DTYPES.keys())
@pytest.mark.parametrize("method", METHOD_NAMES)
def test_unsupported_dtypes_are_type_errors(bad, argument, method):
    args = {"y_true": np.ones(2), "y_pred": np.ones(2), "sample_weight": None}
    args[argument] = bad
    with pytest.raises(TypeError, match=argument):
        getattr(fl.MeanSquaredError(), method)(**args)


@pytest.mark.parametrize("shape", [(4,), (3, 1), (1, 3), (4, 3), (3, 4, 1), (), (12,)],
                         ids=str)
@pytest.mark.parametrize("method", METHOD_NAMES)
def test_bad_weight_shapes(shape, method):
    with pytest.raises(ValueError) as info:
        getattr(fl.MeanSquaredError(), method)(np.zeros((3, 4)), np.ones((3, 4)),
                                               sample_weight=np.ones(shape))
    message = str(info.value)
    assert "sample_weight" in message and "(3,) or (3, 4)" in message and str(shape) in message


def test_zero_weight_hides_nothing_but_its_element():
    """A zero weight removes the element; other weights divide the mean as usual."""
    y, p = np.array([0.0, 0.0, 0.0]), np.array([1.0, 2.0, 100.0])
    assert fl.mse(y, p, sample_weight=[1.0, 3.0, 0.0]) == (1.0 + 3.0 * 4.0) / 4.0


# ---- kernel dispatch ----------------------------------------------------------------------

_PROBE = """
import json, numpy as np, fastloss as fl
from fastloss._kernels import dispatch as _dispatch
rng = np.random.default_rng(0)
y = rng.uniform(0, 3, 5000); p = rng.normal(0, 1, 5000)
out = {"set": _dispatch.KERNEL_SET}
for name in ["mse", "huber", "pseudo_huber", "log_cosh", "quantile", "poisson", "tweedie"]:
    out[name] = getattr(fl, name)(y, p, reduction="sum")
print(json.dumps(out))
"""


def _probe(dispatch, script=_PROBE):
    env = {**os.environ, "FASTLOSS_DISPATCH": dispatch}
    done = subprocess.run([sys.executable, "-P", "-c", script], env=env,
                          capture_output=True, text=True, timeout=120)
    return done


_FAMILY_SETS = """
import importlib, json
from fastloss._core.config import config
from fastloss._kernels import dispatch


def bound_set(name):  # the set whose module the family's (or part's) handle holds
    handle = dispatch.load(name)
    family = name.partition("/")[0]
    return next(s for s in dispatch.available() if handle.call_small is importlib.import_module(
        f"fastloss._kernels.{family}{dispatch._SETS[s][0]}").call_small)


checked = ("multiclass/short-rows", "multiclass", "ranking")
out = {"set": dispatch.KERNEL_SET, "forced": dispatch.FORCED,
       "families": {f: dispatch.family_set(f) for f in (*dispatch.FAMILIES, *dispatch.PARTS)},
       "config": config()["family_kernel_sets"],
       "bound": {f: bound_set(f) for f in checked}}
with dispatch.use("baseline"):
    out["in_use"] = {f: bound_set(f) for f in checked}
out["restored"] = {f: bound_set(f) for f in checked}
out["vector_bits"] = {}
for kernel_set in dispatch.available():
    with dispatch.use(kernel_set):
        out["vector_bits"][kernel_set] = {f: dispatch.load(f).VECTOR_BITS
                                          for f in dispatch.FAMILIES}
print(json.dumps(out))
"""


@pytest.mark.one_kernel_set
@pytest.mark.parametrize("forced", ["", "most capable", "baseline"])
def test_families_run_their_preferred_kernel_set_unless_one_is_forced(forced):
    """In a fresh process (the tests themselves run inside dispatch.use): the
    dispatcher's choice binds the families and parts of PREFERRED to the set measured
    faster, FASTLOSS_DISPATCH binds every family to the set it names (here none, the
    most capable set this CPU runs, or the baseline), config() names the families and
    parts that differ, and dispatch.use restores the choice."""
    if forced == "most capable":
        forced = _dispatch.available()[-1]
    done = _probe(forced, _FAMILY_SETS)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    top = out["set"]
    assert top == (forced or _dispatch.available()[-1]) and out["forced"] == bool(forced)
    expected = {f: top if forced else _dispatch.PREFERRED.get(top, {}).get(f, top)
                for f in (*_dispatch.FAMILIES, *_dispatch.PARTS)}
    assert out["families"] == expected
    assert out["config"] == {f: s for f, s in expected.items() if s != top}
    assert out["bound"] == out["restored"] == {f: expected[f] for f in out["bound"]}
    assert out["in_use"] == {f: "baseline" for f in out["bound"]}
    # the vector width each family's module was built for (meson.build): x86-64-v4 with
    # 256-bit vectors for the ranking and embedding kernels, 512-bit for the others
    usual = {"baseline": 128, "x86-64-v3": 256, "x86-64-v4": 512}
    assert out["vector_bits"] == {
        s: {f: 256 if s == "x86-64-v4" and f in ("ranking", "embedding") else usual[s]
            for f in _dispatch.FAMILIES} for s in _dispatch.available()}


def _short_row_losses():
    return [fl.CategoricalCrossEntropy(from_logits=True), fl.KLDivergence(from_logits=True),
            fl.CategoricalFocal(from_logits=True), fl.SparseCategoricalFocal(from_logits=True),
            fl.PolyLoss(from_logits=True), fl.GeneralizedCrossEntropy(from_logits=True),
            fl.CosineSimilarity()]


def _short_row_inputs(loss, n_rows, n_classes, dtype=np.float64):
    rng = np.random.default_rng(n_classes)
    z = rng.normal(0.0, 3.0, (n_rows, n_classes)).astype(dtype)
    labels = rng.integers(0, n_classes, n_rows)
    if isinstance(loss, fl.SparseCategoricalFocal):
        return labels, z
    if isinstance(loss, fl.CosineSimilarity):
        return rng.normal(size=z.shape).astype(dtype), z
    return rng.dirichlet(np.ones(n_classes), n_rows).astype(dtype), z


@pytest.mark.one_kernel_set
@pytest.mark.thread_unsafe(reason="patches the shared kernel handles")
@pytest.mark.parametrize("n_classes", [_rowwise.SHORT_ROW_CLASSES, _rowwise.SHORT_ROW_CLASSES + 1])
def test_short_rows_run_the_short_row_part_of_the_multiclass_kernels(n_classes, monkeypatch):
    """The kernels of SHORT_ROW_KERNELS take the "multiclass/short-rows" handle on rows of
    at most SHORT_ROW_CLASSES classes, the family's above, and in small calls always;
    other row kernels (here cross-entropy from probabilities) take the family's."""
    calls = []

    def recorded(name, function):
        def call(*args):
            result = function(*args)
            if result is not None:  # None: call_small left the call to the general path
                calls.append(name)
            return result
        return call

    for name in ("_multiclass", "_multiclass_short_rows"):
        handle = getattr(_rowwise, name)
        for function in ("run", "call_small"):
            monkeypatch.setattr(handle, function, recorded(name, getattr(handle, function)))
    big = _rowwise._multiclass.ROW_BLOCK // n_classes + 3  # rows past the small-call path
    short = n_classes <= _rowwise.SHORT_ROW_CLASSES
    for n_rows, expected in [(big, "_multiclass_short_rows" if short else "_multiclass"),
                             (2, "_multiclass_short_rows")]:
        for loss in _short_row_losses():  # built after the patch: they bind call_small
            calls.clear()
            loss.value_and_gradient(*_short_row_inputs(loss, n_rows, n_classes))
            assert calls and set(calls) == {expected}, (type(loss).__name__, n_rows)
        calls.clear()
        y, z = _short_row_inputs(fl.CategoricalCrossEntropy(), n_rows, n_classes)
        probabilities = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
        fl.CategoricalCrossEntropy(from_logits=False)(y, probabilities)
        assert calls and set(calls) == {"_multiclass"}


@pytest.mark.one_kernel_set
@pytest.mark.thread_unsafe(reason="dispatch.use rebinds every family")
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_the_short_row_part_gives_the_bits_of_the_family(dtype):
    """Where PREFERRED gives "multiclass/short-rows" another set, the two sets give the
    same bits for its kernels (both with FMA): which one runs a row cannot be seen."""
    named = {top: parts["multiclass/short-rows"] for top, parts in _dispatch.PREFERRED.items()
             if "multiclass/short-rows" in parts}
    assert named, "PREFERRED sends short rows nowhere: this test checks nothing"
    pairs = [(top, other) for top, other in named.items() if top in _dispatch.available()]
    if not pairs:
        pytest.skip(CPU_SKIP + "no kernel set it runs sends short rows to another set")
    for top, other in pairs:
        for n_classes in (3, 10, 100, _rowwise.SHORT_ROW_CLASSES):
            n_rows = _rowwise._multiclass.ROW_BLOCK // n_classes + 3  # past the small path
            results = []
            for kernel_set in (top, other):
                with _dispatch.use(kernel_set):
                    results.append([
                        [np.asarray(part).tobytes() for part in loss.value_and_gradient(
                            *_short_row_inputs(loss, n_rows, n_classes, dtype))]
                        for loss in _short_row_losses()])
            for loss, ours, theirs in zip(_short_row_losses(), *results, strict=True):
                assert ours == theirs, (type(loss).__name__, n_classes)


def test_every_kernel_set_agrees_with_the_baseline():
    baseline = _probe("baseline")
    assert baseline.returncode == 0, baseline.stderr
    baseline = json.loads(baseline.stdout)
    assert baseline.pop("set") == "baseline"
    default = json.loads(_probe("").stdout)
    assert default["set"] == _dispatch.available()[-1]  # the most capable set
    for kernel_set in _dispatch.available()[1:]:
        other = json.loads(_probe(kernel_set).stdout)
        assert other.pop("set") == kernel_set
        for name, value in baseline.items():
            assert value == pytest.approx(other[name], rel=1e-13), (kernel_set, name)


def test_bad_dispatch_setting_fails_at_import():
    done = _probe("avx9000")
    assert done.returncode != 0 and "FASTLOSS_DISPATCH" in done.stderr


# ---- properties --------------------------------------------------------------------------


@st.composite
def loss_inputs(draw, cases=REGRESSION_CASES):
    """(case, y_true, y_pred) with 1 to 60 elements in 1 or 2 dimensions, in the domain."""
    case = draw(st.sampled_from(cases))
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=2, min_side=1, max_side=12))
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    real = st.floats(-1e4, 1e4, width=32)
    if case.targets == "real":
        y = draw(hnp.arrays(dtype, shape, elements=real))
        p = draw(hnp.arrays(dtype, shape, elements=real))
    else:
        low = float(np.float32(1e-3)) if case.targets == "positive" else 0.0
        y = draw(hnp.arrays(dtype, shape, elements=st.floats(low, 1e3, width=32)))
        if case.log_input:
            p = draw(hnp.arrays(dtype, shape, elements=st.floats(-20, 20, width=32)))
        else:
            p = draw(hnp.arrays(dtype, shape,
                                elements=st.floats(float(np.float32(1e-3)), 1e3, width=32)))
    return case, y, p


def _weights(shape):
    """Weights 0 or in [1e-3, 10]: products with the losses stay far from underflow,
    so scaling them by a power of two is exact."""
    return hnp.arrays(np.float64, shape, elements=st.just(0.0) | st.floats(1e-3, 10.0))


@given(data=loss_inputs(), reduction=st.sampled_from(REDUCTIONS), per_row=st.booleans())
def test_unit_weights_equal_no_weights(data, reduction, per_row):
    case, y, p = data
    ones = np.ones(p.shape[:1] if per_row else p.shape)
    loss = case.loss(reduction)
    _assert_all_same(_all_results(loss, y, p, ones), _all_results(loss, y, p))


@given(data=loss_inputs(), exponent=st.integers(-20, 20), draw=st.data())
def test_mean_is_sum_over_total_weight(data, exponent, draw):
    """sum == mean * sum(w); scaling the weights by 2^k scales "sum" by 2^k exactly and
    leaves "mean" unchanged exactly."""
    case, y, p = data
    w = draw.draw(_weights(p.shape[:1]).filter(lambda a: a.sum() > 0))
    mean = case.loss("mean")(y, p, sample_weight=w)
    total = case.loss("sum")(y, p, sample_weight=w)
    total_weight = w.sum() * (p.size // p.shape[0])
    assert total == pytest.approx(mean * total_weight, rel=1e-12, abs=1e-300)
    scaled = w * 2.0**exponent
    assert case.loss("sum")(y, p, sample_weight=scaled) == total * 2.0**exponent
    assert case.loss("mean")(y, p, sample_weight=scaled) == mean
    assert case.loss("mean")(y, p) == pytest.approx(
        case.loss("sum")(y, p) / p.size, rel=1e-12, abs=1e-300)


def test_show_config(capsys):
    fl.show_config()
    printed = capsys.readouterr().out
    assert fl.__version__ in printed and f"threads: {fl.get_num_threads()}" in printed
    widths = _config.config()["family_vector_bits"]
    assert f"vector bits: {max(widths.values(), key=list(widths.values()).count)}" in printed
