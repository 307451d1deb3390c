"""Coverage-guided fuzzing of every loss class with atheris (libFuzzer for Python).

Each fuzzer input picks a loss class (one entry per class of tests/registry.py), its
hyper-parameters, a method, a reduction and sample weights, what it calls (the loss's
methods, fastloss.torch, or the LightGBM and CatBoost objectives, where those
frameworks are installed), and rebuilds some of the
valid arguments from the input's bytes: raw bytes read as any dtype or byte order,
other shapes (empty and huge-but-lazy ones included), strided views, special values,
lists and scalars.
Every call must return a result or raise TypeError / ValueError; any other exception
is a finding (atheris stops and writes the input to crash-*), and so is a crash of the
interpreter, which libFuzzer reports with the input that caused it.

    python -P tools/fuzz_atheris.py -runs=1000000        (from a clone, fastloss installed)

libFuzzer's own flags pass through (-runs, -max_total_time, -seed, corpus folders).
"""

import math
import pathlib
import sys

import atheris
import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "tests"))

with atheris.instrument_imports(include=["fastloss"]):
    import fastloss  # noqa: F401  (instrumented: its branches guide the fuzzer)

from registry import ONE_PER_CLASS  # noqa: E402
from test_fuzz_adapters import ADAPTED, GROUPS, OBJECTIVES, call_objectives, call_torch  # noqa: E402


def _available(module):
    try:
        __import__(module)
    except ImportError:
        return False
    return True


#: Where an input goes: the loss's own methods, or an adapter whose framework is
#: installed (the JAX and Dask adapters compile a graph per input shape, too slow for
#: this loop: tests/test_fuzz_adapters.py fuzzes them).
SURFACES = ("methods",
            *(("torch",) if _available("torch") else ()),
            *(("objectives",) if _available("lightgbm") and _available("catboost") else ()))

METHODS = ("__call__", "gradient", "value_and_gradient", "gradient_hessian")
REDUCTIONS = ("mean", "sum", "none")
SPECIAL = (0.0, -0.0, 1.0, -1.0, 0.5, math.nan, math.inf, -math.inf, 5e-324, 2.2e-308,
           1e308, -1e308, 3.4e38, 1e-45, 700.0, -745.0, 88.0, -104.0)
DTYPES = tuple(np.dtype(t) for t in ("<f8", ">f8", "<f4", ">f4", "<f2", "<i8", ">i8",
                                     "<i4", "u1", "?", "<c16"))
#: Elements of a huge lazy argument: 8 TiB as float64. A MemoryError is a clear error
#: for it (the kernels need the array itself), and for it only.
HUGE = 2**40
TORCH_IDS = {entry.id for entry in ADAPTED}
OBJECTIVE_IDS = {entry.id for entry in OBJECTIVES}
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
    try:
        loss = entry.cls(**_hyper_parameters(fdp, entry.params), reduction=reduction)
        with np.errstate(all="ignore"):
            if surface == "torch" and entry.id in TORCH_IDS:
                call_torch(entry, loss, args, weight, inputs.kwargs)
            elif surface == "objectives" and entry.id in OBJECTIVE_IDS:
                call_objectives(entry, loss, args, weight,
                                GROUPS[fdp.ConsumeIntInRange(0, len(GROUPS) - 1)])
            else:
                getattr(loss, method)(*args, sample_weight=weight, **inputs.kwargs)
    except (TypeError, ValueError):
        pass
    except MemoryError:
        if not any(np.size(a) >= HUGE for a in (*args, weight)):
            raise


if __name__ == "__main__":
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
