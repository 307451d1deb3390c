"""Fuzzing the adapters: the perturbed inputs of test_fuzz.py through fastloss.torch,
fastloss.jax, the boosting objectives (LightGBM's scikit-learn form, CatBoost's
calc_ders_range, XGBoost's objective and metric in both call forms) and fastloss.dask;
fastloss.keras through call_keras in tests/keras_backend_check.py, and every call_*
function in tools/fuzz_atheris.py. Each call gives a result or a TypeError /
ValueError (for a huge lazy argument, an out-of-memory error: see clear_errors_only),
nothing else; each test skips when its framework is absent."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from registry import ONE_PER_CLASS, params
from test_fuzz import EXAMPLES, FLOATS, HUGE, SETTINGS, _seeded, perturbed_array

from hypothesis.extra import numpy as hnp  # isort: skip

from fastloss import _adapters, _boosting

pytestmark = pytest.mark.one_kernel_set

try:  # imported here: importing CatBoost raises the recursion limit, which hypothesis
    import catboost  # noqa: F401  (restores after each test) would warn about
except ImportError:
    pass

REDUCTIONS = ("mean", "sum", "none")
#: Query groups for the ranking objectives: right, wrong and missing.
GROUPS = (None, [2, 2], [4], [5], [-1, 5], [0, 4])
#: Fewer examples where each one is slow (a JAX compilation, a Dask graph).
SLOW_EXAMPLES = max(1, EXAMPLES // 4)


def _adapter_kind(entry):
    try:
        return _adapters.kind_of(entry.loss())
    except TypeError:
        return None


def _objective_kind(entry):
    try:
        return _boosting.describe(entry.loss()).kind
    except (TypeError, ValueError):
        return None


ADAPTED = [e for e in ONE_PER_CLASS if _adapter_kind(e) is not None]
OBJECTIVES = [e for e in ONE_PER_CLASS if _objective_kind(e) is not None]
#: One loss per adapter kind and per kind of Dask split, for the slow adapters.
JAX_ENTRIES = list({_adapter_kind(e).name: e for e in ADAPTED}.values())
DASK_ENTRIES = [e for e in ONE_PER_CLASS if e.shortcut in (
    "mse", "binary_cross_entropy", "sparse_categorical_cross_entropy", "listwise_softmax")]


def _perturbed(data, inputs):
    """Some of the arguments perturbed, a sample weight (maybe bad) and a reduction."""
    args = list(inputs.args)
    for i in data.draw(st.sets(st.integers(0, len(args) - 1), min_size=1)):
        args[i] = data.draw(perturbed_array(args[i]), label=f"arg{i}")
    weight = data.draw(st.one_of(
        st.none(), st.just(np.ones(inputs.n)),
        hnp.arrays(np.float64, st.sampled_from([(inputs.n,), (inputs.n + 1,)]),
                   elements=FLOATS)), label="sample_weight")
    return args, weight, data.draw(st.sampled_from(REDUCTIONS), label="reduction")


def clear_errors_only(call, args, weight):
    """Run `call`: a result, a TypeError / ValueError, or, when an argument is huge
    (lazy), an out-of-memory error: NumPy's MemoryError, or torch's RuntimeError when
    a framework copies it into a tensor. Any other exception propagates (a finding)."""
    try:
        with np.errstate(all="ignore"):
            call()
    except (TypeError, ValueError):
        pass
    except (MemoryError, RuntimeError) as exc:
        huge = any(np.size(a) >= HUGE for a in (*args, weight))
        out_of_memory = isinstance(exc, MemoryError) or "can't allocate memory" in str(exc)
        if not (huge and out_of_memory):
            raise


def fuzz_of(entry, body, examples=EXAMPLES):
    """A hypothesis test, called without arguments, running `body(entry, inputs, data)`
    on the entry's valid inputs (4 rows) and hypothesis's data."""
    inputs = entry.inputs(n=4)

    @settings(SETTINGS, max_examples=examples)
    @_seeded
    @given(data=st.data())
    def fuzz(data):
        body(entry, inputs, data)

    return fuzz


def _fuzz(entries, examples=EXAMPLES):
    """A test over `entries` running `body(entry, inputs, data)` (see fuzz_of)."""
    def decorate(body):
        @pytest.mark.parametrize("entry", **params(entries))
        def test(entry):
            fuzz_of(entry, body, examples)()

        test.__name__ = body.__name__
        test.__doc__ = body.__doc__
        return test
    return decorate


def call_torch(entry, loss, args, weight, kwargs):
    """fastloss.torch.apply, forward and backward, on tensors made from `args` (the
    arrays themselves where torch cannot hold them)."""
    import torch

    import fastloss.torch as flt

    kind = _adapter_kind(entry)

    def tensor(a, grad):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # read-only arrays (broadcast views)
                t = torch.from_numpy(np.asarray(a))
        except (TypeError, ValueError, RuntimeError):
            return a
        return t.requires_grad_() if grad and t.is_floating_point() else t

    tensors = [tensor(a, i in kind.differentiable) for i, a in enumerate(args)]
    if kind in (_adapters.ELEMENTWISE, _adapters.ROWWISE):
        tensors[0], tensors[1] = tensors[1], tensors[0]  # torch's order: input, target
    value = flt.apply(loss, *tensors, weight=None if weight is None else tensor(weight, False),
                      **kwargs)
    if value.requires_grad:
        value.sum().backward()


def call_objectives(entry, loss, args, weight, group):
    """LightGBM's scikit-learn-form objective (y_true, y_pred, weight, group) and, but
    for ranking losses, CatBoost's calc_ders_range."""
    import fastloss.catboost as fcb
    import fastloss.lightgbm as flgb

    y, p = args[0], args[1]
    flgb.objective(loss)(y, p, weight, group)
    if _objective_kind(entry) != _boosting.RANKING:
        fcb.objective(loss).calc_ders_range(p, y, weight)


def call_jax(entry, loss, args, weight, kwargs):
    """fastloss.jax.function under jax.grad: the value and the gradient."""
    import jax

    import fastloss.jax as flj

    f = flj.function(loss)

    def total(*xs):
        return f(*xs, sample_weight=weight, **kwargs).sum()

    jax.grad(total, argnums=_adapter_kind(entry).differentiable)(*args)


def call_dask(loss, args, weight, kwargs):
    """fastloss.dask.value_and_gradient on Dask arrays of the arguments (chunks of 2
    rows), computed with the synchronous scheduler."""
    import dask
    import dask.array as da

    import fastloss.dask as fld

    def lazy(a):
        a = np.asarray(a)
        return da.from_array(a, chunks=2) if a.ndim and a.size < HUGE else a

    results = fld.value_and_gradient(loss, *map(lazy, args),
                                     sample_weight=None if weight is None else lazy(weight),
                                     **kwargs)
    with dask.config.set(scheduler="synchronous"):
        dask.compute(*results)


def call_xgboost(entry, loss, args, weight, group):
    """fastloss.xgboost's objective and metric in XGBoost's two call forms: the
    scikit-learn ``(y_true, y_pred, sample_weight)`` and, where XGBoost itself takes
    the labels, weights and groups into a DMatrix, the native ``(predt, dtrain)``."""
    import xgboost as xgb

    import fastloss.xgboost as fxgb

    y, p = args[0], args[1]
    objective, metric = fxgb.objective(loss), fxgb.metric(loss)
    if _objective_kind(entry) != _boosting.RANKING:
        objective(y, p, weight)
        metric(y, p, weight)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            dtrain = xgb.DMatrix(np.zeros((np.shape(y)[0] if np.ndim(y) else 1, 1)),
                                 label=y, weight=weight, group=group)
    except Exception:  # noqa: BLE001  (XGBoost's own checks of what it is given)
        return
    objective(p, dtrain)
    metric(p, dtrain)


def call_keras(entry, loss, args, weight):
    """fastloss.keras.Loss on the backend Keras was imported with: under torch the
    value and its gradient (torch.autograd), under jax the value."""
    import keras

    import fastloss.keras as flk

    try:
        keras_loss = flk.Loss(loss)
    except TypeError:
        return  # the losses of three inputs have no Keras form
    backend = keras.backend.backend()
    y, p = args[0], args[1]
    if backend == "torch":
        import torch

        def tensor(a):
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # read-only arrays (broadcast views)
                    return torch.from_numpy(np.asarray(a))
            except (TypeError, ValueError, RuntimeError):
                return a

        p = tensor(p)
        if isinstance(p, torch.Tensor) and p.is_floating_point():
            p.requires_grad_()
        value = keras_loss(tensor(y), p, sample_weight=None if weight is None else tensor(weight))
        if value.requires_grad:
            value.sum().backward()
    else:
        keras_loss(y, p, sample_weight=weight)


@_fuzz(ADAPTED)
def test_torch_apply_gives_a_result_or_a_clear_error(entry, inputs, data):
    """fastloss.torch.apply (call_torch) on the perturbed arrays."""
    pytest.importorskip("torch")
    args, weight, reduction = _perturbed(data, inputs)
    clear_errors_only(lambda: call_torch(entry, entry.loss(reduction), args, weight,
                                          inputs.kwargs), args, weight)


@_fuzz(JAX_ENTRIES, SLOW_EXAMPLES)
def test_jax_function_gives_a_result_or_a_clear_error(entry, inputs, data):
    """fastloss.jax.function, value and gradient (call_jax), on the perturbed arrays."""
    pytest.importorskip("jax")
    args, weight, reduction = _perturbed(data, inputs)
    clear_errors_only(lambda: call_jax(entry, entry.loss(reduction), args, weight,
                                        inputs.kwargs), args, weight)


@_fuzz(OBJECTIVES)
def test_boosting_objectives_give_a_result_or_a_clear_error(entry, inputs, data):
    """The boosting objectives that take arrays (call_objectives), on the perturbed
    arrays and query groups."""
    pytest.importorskip("lightgbm")
    pytest.importorskip("catboost")
    args, weight, _ = _perturbed(data, inputs)
    group = data.draw(st.sampled_from(GROUPS), label="group")
    clear_errors_only(lambda: call_objectives(entry, entry.loss(), args, weight, group),
                       args, weight)


@_fuzz(OBJECTIVES)
def test_xgboost_objective_and_metric_give_a_result_or_a_clear_error(entry, inputs, data):
    """fastloss.xgboost's objective and metric (call_xgboost), on the perturbed arrays
    and query groups."""
    pytest.importorskip("xgboost")
    args, weight, _ = _perturbed(data, inputs)
    group = data.draw(st.sampled_from(GROUPS), label="group")
    clear_errors_only(lambda: call_xgboost(entry, entry.loss(), args, weight, group),
                       args, weight)


@_fuzz(DASK_ENTRIES, SLOW_EXAMPLES)
def test_dask_gives_a_result_or_a_clear_error(entry, inputs, data):
    """fastloss.dask.value_and_gradient on Dask arrays of the perturbed arrays
    (chunks of 2 rows), computed with the synchronous scheduler."""
    pytest.importorskip("dask.array")
    args, weight, reduction = _perturbed(data, inputs)
    clear_errors_only(lambda: call_dask(entry.loss(reduction), args, weight, inputs.kwargs),
                       args, weight)
