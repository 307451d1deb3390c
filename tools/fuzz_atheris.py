"""Coverage-guided fuzzing of every loss class with atheris (libFuzzer for Python).

Each fuzzer input picks a loss class (one entry per class of tests/registry.py), its
hyper-parameters, a method, a reduction and sample weights, what it calls (the loss's
methods, or, where the framework is installed, fastloss.torch, fastloss.keras on the
torch backend, fastloss.jax, fastloss.dask, the LightGBM and CatBoost objectives or
XGBoost's objective and metric: the call_* functions of tests/test_fuzz_adapters.py),
and rebuilds some of the valid arguments from the input's bytes: raw bytes read as any
dtype or byte order, other shapes (empty and huge-but-lazy ones included), strided
views, special values, lists and scalars.

Every call must return a result or raise TypeError / ValueError (for a huge lazy
argument an out-of-memory error too: NumPy's MemoryError, or torch's RuntimeError when
Keras copies it into a tensor); any other exception is a finding (atheris stops and
writes the input to crash-*), and so is a crash of the interpreter, which libFuzzer
reports with the input that caused it.

    python -P tools/fuzz_atheris.py -runs=1000000        (from a clone, fastloss installed)

libFuzzer's own flags pass through (-runs, -max_total_time, -seed, corpus folders).
"""

import collections
import importlib
import importlib.util
import math
import os
import pathlib
import sys

import atheris
import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "tests"))

os.environ.setdefault("KERAS_BACKEND", "torch")  # read once, when Keras is imported
#: The adapter modules, imported here (where their framework is) to be instrumented.
ADAPTERS = ("torch", "keras", "jax", "dask", "lightgbm", "catboost", "xgboost")

with atheris.instrument_imports(include=["fastloss"]):
    import fastloss  # noqa: F401  (instrumented: its branches guide the fuzzer)

    for _adapter in ADAPTERS:
        try:
            importlib.import_module(f"fastloss.{_adapter}")
        except ImportError:  # its framework is not installed (or, for Keras, torch)
            pass

from registry import ONE_PER_CLASS  # noqa: E402
from test_fuzz_adapters import (  # noqa: E402
    ADAPTED,
    GROUPS,
    JAX_ENTRIES,
    OBJECTIVES,
    call_dask,
    call_jax,
    call_keras,
    call_objectives,
    call_torch,
    call_xgboost,
    clear_errors_only,
)


def _available(module):
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # "dask.array" without dask
        return False


#: Where an input goes: the loss's own methods, or an adapter whose framework is
#: installed. JAX compiles once per input shape and dtype, Dask builds a graph per call:
#: they are slow surfaces, taken by one input in SLOW_SHARE of those that pick them
#: (the others go to the loss's methods), and JAX by one loss per adapter kind.
SURFACES = ("methods",
            *(("torch",) if _available("torch") else ()),
            *(("objectives",) if _available("lightgbm") and _available("catboost") else ()),
            *(("xgboost",) if _available("xgboost") else ()),
            *(("keras",) if _available("keras") and _available("torch") else ()),
            *(("jax",) if _available("jax") else ()),
            *(("dask",) if _available("dask.array") else ()))
SLOW = ("jax", "dask")
SLOW_SHARE = 8

METHODS = ("__call__", "gradient", "value_and_gradient", "gradient_hessian")
REDUCTIONS = ("mean", "sum", "none")
SPECIAL = (0.0, -0.0, 1.0, -1.0, 0.5, math.nan, math.inf, -math.inf, 5e-324, 2.2e-308,
           1e308, -1e308, 3.4e38, 1e-45, 700.0, -745.0, 88.0, -104.0)
DTYPES = tuple(np.dtype(t) for t in ("<f8", ">f8", "<f4", ">f4", "<f2", "<i8", ">i8",
                                     "<i4", "u1", "?", "<c16"))
#: Elements of a huge lazy argument: 8 TiB as float64. A MemoryError is a clear error
#: for it (the kernels need the array itself), and for it only.
HUGE = 2**40
#: The classes each surface takes (one entry each).
TAKEN = {"torch": {e.id for e in ADAPTED}, "keras": {e.id for e in ADAPTED},
         "dask": {e.id for e in ADAPTED}, "jax": {e.id for e in JAX_ENTRIES},
         "objectives": {e.id for e in OBJECTIVES}, "xgboost": {e.id for e in OBJECTIVES}}
#: Each class's valid inputs (4 rows), made once.
BASES = [(entry, entry.inputs(n=4)) for entry in ONE_PER_CLASS]


def _shape(fdp):
    return tuple(fdp.ConsumeIntInRange(0, 5) for _ in range(fdp.ConsumeIntInRange(0, 3)))


def _array(fdp, base):
    """An argument like `base`, rebuilt from the fuzzer's bytes in one of several ways."""
    a = np.asarray(base)
    choice = fdp.ConsumeIntInRange(0, 8)
    if choice == 0:  # the input's bytes read as some dtype, into base's shape if they fit
        dtype = DTYPES[fdp.ConsumeIntInRange(0, len(DTYPES) - 1)]
        raw = fdp.ConsumeBytes(dtype.itemsize * max(a.size, 1))
        flat = np.frombuffer(raw[: len(raw) // dtype.itemsize * dtype.itemsize], dtype)
        return flat.reshape(a.shape) if flat.size == a.size else flat
    if choice == 1 and a.size:  # special values at places the input picks
        b = a.astype(np.float64)
        for _ in range(fdp.ConsumeIntInRange(1, 4)):
            b.flat[fdp.ConsumeIntInRange(0, a.size - 1)] = SPECIAL[
                fdp.ConsumeIntInRange(0, len(SPECIAL) - 1)]
        return b.astype(a.dtype) if a.dtype.kind == "f" else b
    if choice == 2:  # floats of another shape
        shape = _shape(fdp)
        return np.array([fdp.ConsumeRegularFloat() for _ in range(math.prod(shape))],
                        dtype=np.float64).reshape(shape)
    if choice == 3:  # integers of base's shape (labels out of range, negative lengths)
        return np.array([fdp.ConsumeIntInRange(-(2**40), 2**40) for _ in range(a.size)],
                        dtype=np.int64).reshape(a.shape)
    if choice == 4 and a.ndim and a.shape[0] > 1:  # a strided or reversed view
        return a[::2] if fdp.ConsumeBool() else a[::-1]
    if choice == 5:  # a list or a scalar
        return a.tolist() if fdp.ConsumeBool() else fdp.ConsumeRegularFloat()
    if choice == 6:  # another dtype or byte order
        with np.errstate(all="ignore"):
            return a.astype(DTYPES[fdp.ConsumeIntInRange(0, len(DTYPES) - 1)])
    if choice == 7:  # huge but lazy: one element broadcast to 2^40 rows or columns
        shape = list(a.shape) or [1]
        shape[-1 if fdp.ConsumeBool() else 0] = HUGE
        first = a.reshape(-1)[:1] if a.size else np.zeros(1, a.dtype)
        return np.broadcast_to(first.reshape([1] * len(shape)), shape)
    return a


def _hyper_parameters(fdp, params):
    """The entry's hyper-parameters, some numbers replaced by what the input says."""
    changed = dict(params)
    for key, value in params.items():
        if isinstance(value, (int, float)) and not isinstance(value, bool) \
                and fdp.ConsumeIntInRange(0, 3) == 0:
            changed[key] = (SPECIAL[fdp.ConsumeIntInRange(0, len(SPECIAL) - 1)]
                            if fdp.ConsumeBool() else fdp.ConsumeRegularFloat())
    return changed


def test_one_input(data):
    fdp = atheris.FuzzedDataProvider(data)
    entry, inputs = BASES[fdp.ConsumeIntInRange(0, len(BASES) - 1)]
    method = METHODS[fdp.ConsumeIntInRange(0, len(METHODS) - 1)]
    reduction = REDUCTIONS[fdp.ConsumeIntInRange(0, len(REDUCTIONS) - 1)]
    args = [_array(fdp, a) if fdp.ConsumeBool() else a for a in inputs.args]
    weight = (None if fdp.ConsumeBool()
              else _array(fdp, np.ones(inputs.n)))
    surface = SURFACES[fdp.ConsumeIntInRange(0, len(SURFACES) - 1)]
    if surface in SLOW and fdp.ConsumeIntInRange(1, SLOW_SHARE) != 1 \
            or surface != "methods" and entry.id not in TAKEN[surface]:
        surface = "methods"
    group = GROUPS[fdp.ConsumeIntInRange(0, len(GROUPS) - 1)]
    _count(surface)

    def call():
        loss = entry.cls(**_hyper_parameters(fdp, entry.params), reduction=reduction)
        if surface == "torch":
            call_torch(entry, loss, args, weight, inputs.kwargs)
        elif surface == "keras":
            call_keras(entry, loss, args, weight)
        elif surface == "jax":
            call_jax(entry, loss, args, weight, inputs.kwargs)
        elif surface == "dask":
            call_dask(loss, args, weight, inputs.kwargs)
        elif surface == "objectives":
            call_objectives(entry, loss, args, weight, group)
        elif surface == "xgboost":
            call_xgboost(entry, loss, args, weight, group)
        else:
            getattr(loss, method)(*args, sample_weight=weight, **inputs.kwargs)

    clear_errors_only(call, args, weight)


#: Inputs per surface (those whose loss the surface takes, or sent to the methods).
CALLS = collections.Counter()
#: Every this many inputs the counts go to standard error.
REPORT_EVERY = 100_000


def _count(surface):
    CALLS[surface] += 1
    if CALLS.total() % REPORT_EVERY == 0:
        print(f"inputs per surface: {dict(CALLS)}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
