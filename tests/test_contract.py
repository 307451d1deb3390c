"""The API contract (docs/contract.rst) for every loss of the registry (tests/registry.py):
values, gradients and hessians against fastloss.reference in float32 and float64, with
and without weights, for every reduction; the one-pass and separate calls agree
bitwise; the shortcut is the object call; weight_total is the divisor of "mean"; array
forms (strided, read-only, lists) and `out=`; objects (pickle, equality, repr); thread
counts; empty and bad input. The family test files hold what is particular to a loss."""

import copy
import math
import pickle
from dataclasses import replace

import numpy as np
import pytest
from helpers import assert_close, mp_terms
from registry import ENTRIES, FAMILIES, ONE_PER_CLASS, family, params

import fastloss as fl
from fastloss import reference
from fastloss._kernels import common as fl_common

REDUCTIONS = ("mean", "sum", "none")
DTYPES = (np.float32, np.float64)
METHODS = ("__call__", "gradient", "value_and_gradient", "gradient_hessian")
#: One entry per class, plus every mining strategy of BatchTriplet (separate code paths).
THREAD_ENTRIES = ONE_PER_CLASS + [e for e in family("embedding")
                                  if e.params.get("strategy") in ("semihard", "all")
                                  and e.params.get("margin") == 1.0]


def call(loss, method, inputs, sample_weight=None, **extra):
    """loss.<method>(*arrays, sample_weight=..., <keywords>)."""
    return getattr(loss, method)(*inputs.args, sample_weight=sample_weight, **inputs.kwargs,
                                 **extra)


def as_tuple(result):
    return result if isinstance(result, tuple) else (result,)


def all_results(loss, inputs, sample_weight=None):
    """Every method's results as one flat list of floats and arrays."""
    return flatten(tuple(call(loss, method, inputs, sample_weight) for method in METHODS))


def flatten(result):
    """A result (a float, an array, or tuples or lists of them) as a flat list."""
    if isinstance(result, (tuple, list)):
        return [item for part in result for item in flatten(part)]
    return [result]


def assert_same(first, second):
    """Bitwise equality of two results (floats or arrays of the same dtype and shape,
    possibly in nested tuples)."""
    first, second = flatten(first), flatten(second)
    assert len(first) == len(second)
    for a, b in zip(first, second, strict=True):
        if isinstance(a, np.ndarray):
            assert isinstance(b, np.ndarray) and a.dtype == b.dtype and a.shape == b.shape
            np.testing.assert_array_equal(a, b)
        else:
            assert type(a) is type(b) and (a == b or (math.isnan(a) and math.isnan(b)))


def input_forms(entry, dtype):
    """The inputs the reference comparison runs on: 2-D, and for elementwise losses
    without per-label parameters also the flattened 1-D arrays."""
    inputs = entry.inputs(dtype=dtype)
    forms = [inputs]
    per_label = any(np.ndim(v) > 0 for v in entry.params.values())
    if entry.elementwise and not per_label:
        forms.append(type(inputs)(tuple(np.ravel(a) for a in inputs.args), inputs.kwargs))
    return forms


# ---- the registry ----------------------------------------------------------------------


def _exported_loss_classes():
    return {obj for name in fl.__all__ if isinstance(obj := getattr(fl, name), type)
            and callable(getattr(obj, "value_and_gradient", None))}


@pytest.mark.one_kernel_set
def test_registry_covers_every_exported_loss():
    registered = {entry.cls for entry in ENTRIES}
    missing = sorted(cls.__name__ for cls in _exported_loss_classes() - registered)
    assert not missing, f"exported losses without an entry in tests/registry.py: {missing}"
    assert {entry.family for entry in ENTRIES} == set(FAMILIES)


@pytest.mark.one_kernel_set
@pytest.mark.parametrize("entry", **params(ONE_PER_CLASS))
def test_registry_entry_is_consistent(entry):
    assert entry.shortcut in fl.__all__ and callable(entry.shortcut_function())
    assert entry.cls.__module__ == f"fastloss.{entry.family}"
    for name in entry.reference_functions():
        assert callable(getattr(reference, name, None)), f"fastloss.reference.{name} is missing"
    assert isinstance(entry.cls.exact_hessian, bool)


@pytest.mark.one_kernel_set
def test_mpmath_oracle_refuses_an_unknown_loss():
    for entry in family("regression"):
        if entry.kind == "regression":  # (y_true, y_pred) losses; not GaussianNLL
            assert len(mp_terms(entry.shortcut, 1.0, 0.5, **entry.params)) == 3
    for shortcut in ("hinge", "huber_loss", "binary_cross_entropy"):
        with pytest.raises(NotImplementedError, match=shortcut):
            mp_terms(shortcut, 1.0, 0.5)


# ---- against the reference ---------------------------------------------------------------


def _check_weight_total(entry, loss, inputs, w, mean_value):
    """weight_total is the divisor of "mean": the reference's "sum" over its "mean" (CTC's
    "mean" divides each loss by its target length first: sum(w) there)."""
    total = call(loss, "weight_total", inputs, w)
    assert type(total) is float
    if entry.kind == "ctc":
        assert total == pytest.approx(inputs.n if w is None else np.sum(w), rel=1e-12)
        return
    ref_sum = entry.oracle(inputs, "sum", w).value
    ref_mean = entry.oracle(inputs, "mean", w).value
    if ref_mean != 0:
        assert total == pytest.approx(ref_sum / ref_mean, rel=1e-9)
    if mean_value != 0:
        assert total == pytest.approx(call(entry.loss("sum"), "__call__", inputs, w) / mean_value,
                                      rel=1e-5)


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("entry", **params(ENTRIES))
def test_matches_reference(entry, reduction, dtype):
    """Every method against the oracle, with each form of weights; value_and_gradient
    and gradient_hessian's gradient equal the separate calls bitwise."""
    loss = entry.loss(reduction)
    rtol = entry.rtol[np.dtype(dtype)]
    for inputs in input_forms(entry, dtype):
        predictions = [inputs.args[i] for i in entry.wrt]
        for form in (None, *entry.weight_forms):
            w = entry.weights(form, inputs)
            expected = entry.oracle(inputs, reduction, w)
            value = call(loss, "__call__", inputs, w)
            if reduction == "none":
                items = predictions[0].shape if entry.elementwise else (inputs.n,)
                assert isinstance(value, np.ndarray) and value.shape == items
                assert value.dtype == dtype
            else:
                assert type(value) is float
            assert_close(value, expected.value, rtol)
            grads = as_tuple(call(loss, "gradient", inputs, w))
            for grad, x, ref in zip(grads, predictions, expected.grads, strict=True):
                assert grad.shape == x.shape and grad.dtype == dtype
                assert_close(grad, ref, rtol)
            fused = call(loss, "value_and_gradient", inputs, w)
            assert_same(fused[0], value)
            assert_same(fused[1], grads)
            first, hess = call(loss, "gradient_hessian", inputs, w)
            assert_same(first, fused[1])
            for h, x in zip(as_tuple(hess), predictions, strict=True):
                assert h.shape == x.shape and h.dtype == dtype
            if expected.hess is not None:
                assert_close(hess, expected.hess[0], rtol)
            if reduction == "mean":
                _check_weight_total(entry, loss, inputs, w, value)


@pytest.mark.parametrize("entry", **params(ENTRIES))
def test_shortcut_equals_object_call(entry, monkeypatch):
    """The shortcut returns the object call's bits, weighted or not, and takes the
    small-call path where the object call takes it."""
    inputs = entry.inputs(seed=2)
    shortcut = entry.shortcut_function()
    for w in (None, entry.weights("rows", inputs)):
        for reduction in REDUCTIONS:
            expected = call(entry.loss(reduction), "__call__", inputs, w)
            assert_same(shortcut(*inputs.args, **entry.params, **inputs.kwargs,
                                 reduction=reduction, sample_weight=w), expected)
    if entry.loss()._small_spec is not None:
        with monkeypatch.context() as patch:
            patch.setattr(entry.cls, "_prepare", _general_path_taken)
            shortcut(*inputs.args, **entry.params, **inputs.kwargs)
    with pytest.raises(TypeError):
        shortcut(*inputs.args, 1.0)  # hyper-parameters are keywords


def test_shortcut_cache_keeps_only_what_it_can_compare():
    """The shortcuts' cached losses are found again by value and type only for
    scalars and tuples of them: True is not 1, an array changed in place or another
    array-like object builds the loss afresh, and equal tuples give the same loss."""
    rng = np.random.default_rng(0)
    y, p = rng.standard_normal(8), rng.standard_normal(8)
    for delta in (1, 1.0, np.float64(1.0), 2, np.float32(2.0)):
        assert fl.huber(y, p, delta=delta) == fl.Huber(delta=delta)(y, p)
    with pytest.raises(ValueError, match="delta"):
        fl.huber(y, p, delta=True)
    labels, logits = np.array([0, 1, 2, 1]), rng.standard_normal((4, 3))
    weights = np.array([1.0, 2.0, 3.0])
    for _ in range(2):
        for class_weight in (weights, tuple(weights), list(weights)):
            assert fl.sparse_categorical_cross_entropy(
                labels, logits, from_logits=True, class_weight=class_weight
            ) == fl.SparseCategoricalCrossEntropy(from_logits=True, class_weight=class_weight)(
                labels, logits)
        weights[0] *= 10.0  # in place: the next round must see it


# ---- the small-call path ----------------------------------------------------------------

SMALL_CALL_ENTRIES = [e for e in ENTRIES if e.loss()._small_spec is not None]


def test_small_call_path_serves_every_family_but_the_batch_losses():
    served = {type(e.loss()).__name__ for e in SMALL_CALL_ENTRIES}
    assert {"MeanSquaredError", "BinaryCrossEntropy", "SparseCategoricalCrossEntropy",
            "CategoricalCrossEntropy", "NLL", "ListwiseSoftmax", "LambdaRank", "BoxIoU",
            "Dice", "Tversky", "Contrastive", "Triplet", "CosineEmbedding",
            "CosineSimilarity"} <= served
    # losses whose inputs need checks of their own keep the general path
    assert fl.BinaryCrossEntropy(from_logits=False)._small_spec is None
    assert fl.SparseCategoricalCrossEntropy(from_logits=True, ignore_index=0)._small_spec is None
    assert fl.CategoricalCrossEntropy(from_logits=True, class_weight=[1.0, 2.0])._small_spec \
        is None
    assert fl.Dice(multiclass=True)._small_spec is None


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("entry", **params(SMALL_CALL_ENTRIES))
def test_small_call_path_gives_the_general_paths_bits(entry, dtype, monkeypatch):
    """The compiled small-call path (small, contiguous, unweighted inputs) returns
    what the general path returns, to the bit; and it is the path taken."""
    inputs = entry.inputs(dtype=dtype, seed=3)
    args, kwargs = inputs.args, inputs.kwargs  # ranking: the where mask
    for reduction in REDUCTIONS:
        loss = entry.loss(reduction)
        expected = _general_path(loss, "__call__", "gradient", "value_and_gradient",
                                 args=args, kwargs=kwargs)
        with monkeypatch.context() as patch:
            patch.setattr(type(loss), "_prepare", _general_path_taken)
            got = (loss(*args, **kwargs), loss.gradient(*args, **kwargs),
                   loss.value_and_gradient(*args, **kwargs))
        assert_same(got, expected)
        assert type(got[0]) is type(expected[0])


def _general_path(loss, *methods, args, kwargs=None):
    """The results of `methods` on `args` with the small-call path switched off."""
    general = copy.copy(loss)
    general._small_spec = None
    return tuple(getattr(general, m)(*args, **(kwargs or {})) for m in methods)


def _general_path_taken(*args, **kwargs):
    raise AssertionError("the small-call path did not serve this call")


@pytest.mark.parametrize("entry", **params([e for e in ONE_PER_CLASS
                                            if e.loss()._small_spec is not None]))
def test_small_call_path_leaves_other_inputs_to_the_general_path(entry):
    """Inputs the small-call path does not take (byte-swapped, other dtypes, lists,
    misaligned, more than one block) give the general path's results."""
    inputs = entry.inputs(seed=4)
    args = inputs.args
    at = entry.wrt[0]  # the (first) differentiated argument is replaced
    loss = entry.loss()
    expected, = _general_path(loss, "value_and_gradient", args=args)
    if inputs.kwargs:  # ranking's where mask: a list, or an int array, is not taken as is
        for where in (inputs.kwargs["where"].tolist(), inputs.kwargs["where"].astype(int)):
            assert loss._small_call(loss._small_spec, loss.reduction,
                                    fl_common.SMALL_VALUE, *args, where) is None
    x = args[at]
    swapped = x.astype(x.dtype.newbyteorder())
    misaligned = np.frombuffer(b"\0" + x.tobytes(), dtype=x.dtype, offset=1,
                               count=x.size).reshape(x.shape)
    assert not misaligned.flags.aligned
    for other in (swapped, misaligned, x.tolist()):
        changed = (*args[:at], other, *args[at + 1:])
        value, grad = loss.value_and_gradient(*changed)
        grad = grad if isinstance(grad, tuple) else (grad,)
        assert value == expected[0]
        assert grad[0].dtype == getattr(other, "dtype", np.float64)  # its own, byte order too
        for g, e in zip(grad, expected[1] if isinstance(expected[1], tuple) else (expected[1],),
                        strict=True):
            np.testing.assert_array_equal(g, e)
    big = entry.inputs(n=5000, seed=5)  # more than one reduction block
    assert loss._small_call(loss._small_spec, loss.reduction,
                            fl_common.SMALL_VALUE_AND_GRADIENT, *big.args) is None
    assert_same(loss.value_and_gradient(*big.args),
                _general_path(loss, "value_and_gradient", args=big.args)[0])


ELEMENTWISE_ENTRIES = [e for e in ONE_PER_CLASS if e.elementwise]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("entry", **params(ELEMENTWISE_ENTRIES))
def test_unit_weights_give_the_unweighted_bits(entry, dtype):
    """Weights of 1 are exactly no weights, over several chunks and blocks: the kernels
    compiled once for both weight forms (WEIGHT_AT_RUN_TIME) read a chunk of ones."""
    inputs = entry.inputs(n=3000, dtype=dtype, seed=6)  # 9000 elements: 3 blocks
    ones = np.ones(np.shape(inputs.args[1]))
    for reduction in REDUCTIONS:
        loss = entry.loss(reduction)
        for method in ("value_and_gradient", "gradient_hessian"):
            assert_same(call(loss, method, inputs), call(loss, method, inputs, ones))


# ---- array forms ------------------------------------------------------------------------


def _strided(a):
    """a as a view with a stride of two rows (a non-contiguous view of the same values)."""
    a = np.asarray(a)
    base = np.zeros((2 * a.shape[0],) + a.shape[1:], dtype=a.dtype)
    base[::2] = a
    return base[::2]


def _read_only(a):
    a = np.array(a)
    a.flags.writeable = False
    return a


def _transform(inputs, w, fn):
    kwargs = {key: fn(value) for key, value in inputs.kwargs.items()}
    return type(inputs)(tuple(fn(a) for a in inputs.args), kwargs), fn(w)


@pytest.mark.parametrize("entry", **params(ONE_PER_CLASS))
def test_non_contiguous_read_only_and_list_inputs(entry):
    """Strided, Fortran-ordered, read-only and list inputs give the results of
    contiguous arrays, bit for bit."""
    inputs = entry.inputs(n=8, seed=3)
    w = entry.weights("rows", inputs)
    for reduction in ("mean", "none"):
        loss = entry.loss(reduction)
        expected = all_results(loss, inputs, w)
        for fn in (_strided, np.asfortranarray, _read_only, lambda a: np.asarray(a).tolist()):
            got_inputs, got_w = _transform(inputs, w, fn)
            assert_same(all_results(loss, got_inputs, got_w), expected)


@pytest.mark.parametrize("entry", **params(ONE_PER_CLASS))
def test_float16_is_computed_as_float32(entry):
    """Contract section 3: float16 in, the float32 results, gradients in float16."""
    inputs = entry.inputs(n=6, dtype=np.float16, seed=9)
    as32 = type(inputs)(tuple(a.astype(np.float32) if a.dtype == np.float16 else a
                              for a in inputs.args), inputs.kwargs)
    for reduction in ("mean", "sum"):
        loss = entry.loss(reduction)
        value, grads = call(loss, "value_and_gradient", inputs)
        value32, grads32 = call(loss, "value_and_gradient", as32)
        assert value == value32
        for g, g32 in zip(as_tuple(grads), as_tuple(grads32), strict=True):
            assert g.dtype == np.float16
            np.testing.assert_array_equal(g, g32.astype(np.float16))


# ---- out= --------------------------------------------------------------------------------


@pytest.mark.parametrize("entry", **params(ONE_PER_CLASS))
def test_out_is_written_and_returned(entry):
    loss = entry.loss("sum")
    for dtype in DTYPES:
        inputs = entry.inputs(n=6, dtype=dtype, seed=4)
        expected = as_tuple(call(loss, "gradient", inputs))
        outs = tuple(np.full(inputs.args[i].shape, np.nan, dtype) for i in entry.wrt)
        out = outs if len(outs) > 1 else outs[0]
        for method in ("gradient", "value_and_gradient"):
            result = call(loss, method, inputs, out=out)
            grads = as_tuple(result[1] if method == "value_and_gradient" else result)
            assert all(g is o for g, o in zip(grads, outs, strict=True))
            assert_same(grads, expected)
            for o in outs:
                o[...] = np.nan
        # a strided out is written through the view
        base = np.full((2 * outs[0].shape[0],) + outs[0].shape[1:], -7.0, dtype)
        strided = (base[::2], *outs[1:])
        grads = as_tuple(call(loss, "gradient", inputs,
                              out=strided if len(outs) > 1 else strided[0]))
        assert grads[0] is strided[0]
        assert_same(grads, expected)
        assert np.all(base[1::2] == -7.0)


@pytest.mark.one_kernel_set
@pytest.mark.parametrize("entry", **params(ONE_PER_CLASS))
def test_bad_out(entry):
    inputs = entry.inputs(n=6, seed=5)
    loss = entry.loss()
    good = [np.zeros(inputs.args[i].shape) for i in entry.wrt]

    def with_first(first):
        outs = (first, *good[1:])
        return outs if len(good) > 1 else outs[0]

    read_only = np.zeros_like(good[0])
    read_only.flags.writeable = False
    for method in ("gradient", "value_and_gradient"):
        for bad in (np.empty(good[0].shape[:1] + (good[0].shape[-1] + 1,)),
                    good[0].astype(np.float32), np.zeros(good[0].shape, np.int64)):
            with pytest.raises(ValueError, match="out must have shape"):
                call(loss, method, inputs, out=with_first(bad))
        with pytest.raises(ValueError, match="out must be writeable"):
            call(loss, method, inputs, out=with_first(read_only))
        with pytest.raises(TypeError, match="out must be"):
            call(loss, method, inputs, out=good[0].tolist() if len(good) == 1 else good[0])


# ---- objects -----------------------------------------------------------------------------


@pytest.mark.one_kernel_set
@pytest.mark.parametrize("entry", **params(ENTRIES))
def test_pickle_equality_and_repr(entry):
    loss = entry.loss("sum")
    clone = pickle.loads(pickle.dumps(loss))
    assert clone == loss and hash(clone) == hash(loss) and clone is not loss
    assert repr(clone) == repr(loss)
    assert repr(loss).startswith(entry.cls.__name__ + "(")
    assert repr(loss).endswith("reduction='sum')")
    assert eval(repr(loss), {**vars(fl), "array": np.array}) == loss
    assert type(loss)(**loss.get_params()) == loss
    assert loss != entry.loss("mean") and loss != repr(loss)
    for name, value in loss.get_params().items():  # fixed: a change would be ignored
        with pytest.raises(AttributeError, match=f"{name} is fixed at construction"):
            setattr(loss, name, value)
    inputs = entry.inputs(n=5, seed=6)
    assert_same(call(clone, "value_and_gradient", inputs), call(loss, "value_and_gradient", inputs))


@pytest.mark.one_kernel_set
@pytest.mark.parametrize("entry", **params(ONE_PER_CLASS))
def test_constructor_keywords_and_reduction(entry):
    with pytest.raises(TypeError):
        entry.cls("mean")  # keyword-only
    for reduction in ("avg", "Mean", None, 1):
        with pytest.raises(ValueError, match="reduction"):
            entry.cls(**entry.params, reduction=reduction)


# ---- threads ------------------------------------------------------------------------------


@pytest.mark.parametrize("entry", **params(THREAD_ENTRIES))
def test_thread_counts_give_identical_bits(entry):
    """Inputs above the kernels' parallel threshold: 1 and 2 threads, the same bits."""
    inputs = entry.inputs(n=entry.threads_rows, seed=7)
    w = entry.weights("rows", inputs)
    loss = entry.loss("mean")
    results = []
    for n_threads in (1, 2):
        with fl.threads(n_threads):
            results.append(all_results(loss, inputs, w))
    assert_same(results[1], results[0])


# ---- empty and bad input ------------------------------------------------------------------


def _empty_forms(entry):
    inputs = entry.inputs(n=0)
    forms = [inputs]
    if entry.elementwise:  # rows, but no elements
        full = entry.inputs(n=3)
        forms.append(type(full)(tuple(a[:, :0] for a in full.args), full.kwargs))
    return forms


@pytest.mark.parametrize("entry", **params(ONE_PER_CLASS))
def test_empty_inputs(entry):
    """Contract section 2: "mean" over nothing is a ValueError, "sum" is 0.0, "none" an
    empty array; the gradients keep the inputs' shapes."""
    for inputs in _empty_forms(entry):
        predictions = [inputs.args[i] for i in entry.wrt]
        for w in (None, np.ones(inputs.n)):
            for method in METHODS:
                with pytest.raises(ValueError, match='"mean" is undefined over no'):
                    call(entry.loss("mean"), method, inputs, w)
            total = entry.loss("sum")
            assert call(total, "__call__", inputs, w) == 0.0
            value, grads = call(total, "value_and_gradient", inputs, w)
            assert value == 0.0
            for g, x in zip(as_tuple(grads), predictions, strict=True):
                assert g.shape == x.shape
            for result in call(total, "gradient_hessian", inputs, w):
                for h, x in zip(as_tuple(result), predictions, strict=True):
                    assert h.shape == x.shape
            values = call(entry.loss("none"), "__call__", inputs, w)
            assert values.size == 0 and values.dtype == np.float64
            assert values.shape == (predictions[0].shape if entry.elementwise else (0,))


@pytest.mark.one_kernel_set
@pytest.mark.parametrize("entry", **params(ONE_PER_CLASS))
def test_bad_input_is_a_clear_error(entry):
    inputs = entry.inputs(n=6, seed=8)
    loss = entry.loss()
    args = list(inputs.args)
    short_args = list(args)
    short_args[inputs.rows_arg] = args[inputs.rows_arg][:-1]  # one row fewer
    short = replace(inputs, args=tuple(short_args))
    complex_args = list(args)
    complex_args[entry.wrt[0]] = args[entry.wrt[0]].astype(np.complex128)
    complex_inputs = replace(inputs, args=tuple(complex_args))
    for method in METHODS:
        with pytest.raises(ValueError, match="shape"):
            call(loss, method, short)
        with pytest.raises(TypeError):
            call(loss, method, complex_inputs)
        for bad in (-1.0, np.nan, np.inf):
            w = np.ones(inputs.n)
            w[3] = bad
            with pytest.raises(ValueError, match=r"sample_weight must be finite and >= 0"):
                call(loss, method, inputs, w)
        with pytest.raises(ValueError, match="sample_weight"):
            call(loss, method, inputs, np.ones(inputs.n + 1))
        with pytest.raises(ValueError, match='"mean" is undefined over .*sum(ming)? to 0'):
            call(loss, method, inputs, np.zeros(inputs.n))
    assert call(entry.loss("sum"), "__call__", inputs, np.zeros(inputs.n)) == 0.0
    zero_weight = call(entry.loss("sum"), "gradient", inputs, np.zeros(inputs.n))
    assert not any(np.any(g) for g in as_tuple(zero_weight))

