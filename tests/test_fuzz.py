"""Fuzzing every loss class: random perturbations of valid inputs (dtypes, byte
order, shapes including empty ones, NaN, infinities, subnormals and huge values,
out-of-range labels, bad weights, extreme hyper-parameters), through every public
method. Each call gives a result or a TypeError / ValueError, nothing else.

The examples per class come from the hypothesis profile (FUZZ_EXAMPLES overrides
it); `tools/fuzz.sh` runs the long campaign (docs/reliability.rst)."""

import math
import os

import numpy as np
import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from registry import ONE_PER_CLASS, params

pytestmark = pytest.mark.one_kernel_set

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "40"))
#: A seed for other examples than CI's (the long campaign runs several); unset: the
#: same examples on every run.
SEED = os.environ.get("FUZZ_SEED")
METHODS = ("__call__", "gradient", "value_and_gradient", "gradient_hessian")
SPECIAL = [0.0, -0.0, 1.0, -1.0, 0.5, math.nan, math.inf, -math.inf, 5e-324, -5e-324,
           2.2e-308, 1e308, -1e308, 3.4e38, 1e-45, 700.0, -745.0, 88.0, -104.0]
#: Elements of a huge lazy argument (np.broadcast_to of one element): 8 TiB as float64.
HUGE = 2**40
DTYPES = [np.dtype(t) for t in ("<f8", ">f8", "<f4", ">f4", "<f2", "<i8", ">i4", "u1",
                                 "?", "<c16", "O")]


#: Any float64: the special values above, or anything hypothesis draws.
FLOATS = st.one_of(st.sampled_from(SPECIAL), st.floats(allow_nan=True, width=64))


@st.composite
def perturbed_array(draw, base):
    """An array like `base` (a valid argument), changed in one way or several."""
    a = np.array(base, copy=True)
    choice = draw(st.integers(0, 7))
    if choice == 0 and a.size:  # special values at random places
        flat = a.reshape(-1).astype(np.float64) if a.dtype.kind == "f" else a.reshape(-1)
        for _ in range(draw(st.integers(1, 4))):
            i = draw(st.integers(0, a.size - 1))
            if a.dtype.kind == "f":
                flat[i] = draw(st.sampled_from(SPECIAL))
            else:
                flat[i] = draw(st.integers(-(2**62), 2**62)) if a.dtype.kind == "i" else 0
        a = flat.reshape(a.shape).astype(a.dtype) if a.dtype.kind == "f" else a
    elif choice == 1:  # another dtype or byte order
        dtype = draw(st.sampled_from(DTYPES))
        with np.errstate(all="ignore"):
            try:
                a = a.astype(dtype)
            except (TypeError, ValueError, OverflowError):
                pass
    elif choice == 2:  # another shape: a row or axis more or less, or empty
        shape = draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=5))
        a = draw(hnp.arrays(np.float64, shape, elements=FLOATS))
    elif choice == 3 and a.ndim and a.shape[0] > 1:  # strided view
        a = a[::2]
    elif choice == 4:  # a whole random array of its shape
        a = draw(hnp.arrays(a.dtype if a.dtype.kind in "fiu" else np.float64, a.shape,
                            elements=FLOATS if a.dtype.kind == "f"
                            else st.integers(-3, 10)))
    elif choice == 5:  # a Python list or a scalar
        a = a.tolist() if draw(st.booleans()) else draw(st.sampled_from(SPECIAL))
    elif choice == 6:  # huge but lazy: one element broadcast to 2^40 rows or columns
        shape = list(a.shape) or [1]
        shape[draw(st.sampled_from([0, -1]))] = HUGE
        first = a.reshape(-1)[:1] if a.size else np.zeros(1, a.dtype)
        a = np.broadcast_to(first.reshape([1] * len(shape)), shape)
    return a


SETTINGS = settings(max_examples=EXAMPLES, deadline=None, derandomize=SEED is None,
                    suppress_health_check=list(HealthCheck), database=None)


def _seeded(test):
    return test if SEED is None else seed(int(SEED))(test)


def _call(loss, method, args, kwargs, weight):
    """The call; a MemoryError counts as a clear error for a huge (lazy) argument,
    which the kernels would need as a real array."""
    try:
        with np.errstate(all="ignore"):
            return getattr(loss, method)(*args, sample_weight=weight, **kwargs)
    except MemoryError:
        if not any(np.size(a) >= HUGE for a in (*args, weight)):
            raise


@pytest.mark.parametrize("entry", **params(ONE_PER_CLASS))
def test_every_input_gives_a_result_or_a_clear_error(entry):
    inputs = entry.inputs(n=4)

    @SETTINGS
    @_seeded
    @given(data=st.data())
    def fuzz(data):
        args = list(inputs.args)
        for i in data.draw(st.sets(st.integers(0, len(args) - 1), min_size=1)):
            args[i] = data.draw(perturbed_array(args[i]), label=f"arg{i}")
        weight = data.draw(st.one_of(
            st.none(),
            st.just(np.ones(inputs.n)),
            hnp.arrays(np.float64, st.sampled_from([(inputs.n,), (inputs.n + 1,), ()]),
                       elements=FLOATS),
        ), label="sample_weight")
        reduction = data.draw(st.sampled_from(["mean", "sum", "none"]))
        method = data.draw(st.sampled_from(METHODS))
        loss = entry.loss(reduction)
        try:
            _call(loss, method, args, inputs.kwargs, weight)
        except (TypeError, ValueError):
            pass

    fuzz()


@pytest.mark.parametrize("entry", **params(ONE_PER_CLASS))
def test_extreme_hyper_parameters_give_a_result_or_a_clear_error(entry):
    inputs = entry.inputs(n=4)
    numeric = {k: v for k, v in entry.params.items()
               if isinstance(v, (int, float)) and not isinstance(v, bool)}

    @SETTINGS
    @_seeded
    @given(values=st.fixed_dictionaries({k: st.one_of(
        st.sampled_from(SPECIAL), st.booleans(), st.integers(-(2**70), 2**70),
        st.just("1.0"), st.none()) for k in numeric}))
    def fuzz(values):
        try:
            loss = entry.cls(**{**entry.params, **values})
        except (TypeError, ValueError):
            return
        for method in METHODS:
            try:
                _call(loss, method, inputs.args, inputs.kwargs, None)
            except (TypeError, ValueError):
                pass

    fuzz()
