"""Thread configuration and determinism: every thread count gives the same bits."""

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from helpers import REDUCTIONS, REGRESSION_CASES
from registry import ONE_PER_CLASS
from threadpoolctl import threadpool_limits

import fastloss as fl
from fastloss._kernels import common as _kernel

#: Above the parallel threshold, and not a whole number of blocks.
N_PARALLEL = 300_000
THREAD_CASES = [c for c in REGRESSION_CASES if c.id in (
    "mse()", "huber(delta=1.0)", "pseudo_huber(delta=1.0)", "log_cosh()",
    "quantile(quantile=0.9)", "poisson(log_input=True)", "tweedie(power=1.5,log_input=False)")]


def _results(loss, y, p, w):
    value, grad = loss.value_and_gradient(y, p, sample_weight=w)
    return [loss(y, p, sample_weight=w), value, grad, loss.gradient(y, p, sample_weight=w),
            *loss.gradient_hessian(y, p, sample_weight=w)]


def _same_bits(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


def test_test_size_runs_in_parallel():
    assert N_PARALLEL >= _kernel.PARALLEL_MIN and N_PARALLEL % _kernel.BLOCK


@pytest.fixture(scope="module", params=[np.float64, np.float32], ids=["f64", "f32"])
def dtype(request):
    return request.param


@pytest.fixture(scope="module", params=THREAD_CASES, ids=[c.id for c in THREAD_CASES])
def parallel_data(request, dtype):
    """(case, 1-D y, 1-D p, 2-D y, 2-D p, row weights of the 2-D ones), made once."""
    case = request.param
    y, p = case.data((N_PARALLEL,), np.random.default_rng(0), dtype)
    w = np.random.default_rng(1).uniform(0, 2, N_PARALLEL // 6)
    return case, y, p, y.reshape(-1, 6), p.reshape(-1, 6), w


@pytest.mark.parametrize("layout", ["1d-unweighted", "2d-weighted"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bitwise_identical_for_any_thread_count(parallel_data, reduction, layout):
    case, y1, p1, y2, p2, w2 = parallel_data
    y, p, w = (y1, p1, None) if layout == "1d-unweighted" else (y2, p2, w2)
    loss = case.loss(reduction)
    with fl.threads(1):
        serial = _results(loss, y, p, w)
    for n in (2, 3):
        with fl.threads(n):
            parallel = _results(loss, y, p, w)
        for a, b in zip(serial, parallel, strict=True):
            assert _same_bits(a, b), f"{n} threads differ from 1"


def test_concurrent_calls_from_python_threads():
    """Calls from several Python threads at once (the GIL is released in the kernels)
    each get their own correct result."""
    rng = np.random.default_rng(1)
    inputs = [(rng.normal(size=N_PARALLEL), rng.normal(size=N_PARALLEL)) for _ in range(4)]
    loss = fl.Huber(delta=0.5, reduction="sum")
    expected = [loss.value_and_gradient(y, p) for y, p in inputs]
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda args: loss.value_and_gradient(*args), inputs * 3))
    for (value, grad), (want_value, want_grad) in zip(results, expected * 3, strict=True):
        assert value == want_value and _same_bits(grad, want_grad)


def _flat(result):
    """The arrays of a (value, gradients) result, flattened into one list."""
    value, grads = result
    return [np.asarray(value), *(grads if isinstance(grads, tuple) else (grads,))]


@pytest.mark.one_kernel_set
def test_every_loss_from_eight_python_threads_at_once():
    """Each loss class's value_and_gradient called from 8 Python threads at once, some
    inside fl.threads(n) blocks, gives the serial call's bits."""
    calls = []
    for entry in ONE_PER_CLASS:
        inputs = entry.inputs(n=entry.threads_rows // 4 + 5, seed=3)
        loss = entry.loss("sum")
        calls.append((entry.id, loss, inputs))

    def run(call, threads=None):
        _, loss, inputs = call
        if threads is None:
            return _flat(loss.value_and_gradient(*inputs.args, **inputs.kwargs))
        with fl.threads(threads):
            return _flat(loss.value_and_gradient(*inputs.args, **inputs.kwargs))

    expected = [run(call) for call in calls]
    jobs = [(i, (None, 1, 2)[i % 3]) for i in range(len(calls))] * 2
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda job: run(calls[job[0]], job[1]), jobs))
    for (i, _), result in zip(jobs, results, strict=True):
        assert all(_same_bits(a, b) for a, b in zip(result, expected[i], strict=True)), \
            calls[i][0]


# ---- get_num_threads / set_num_threads / threads ----------------------------------------


def test_default_is_a_positive_int():
    n = fl.get_num_threads()
    assert type(n) is int and n >= 1


def test_set_num_threads_and_restore_default():
    default = fl.get_num_threads()
    fl.set_num_threads(3)
    assert fl.get_num_threads() == 3
    fl.set_num_threads(1)
    assert fl.get_num_threads() == 1
    fl.set_num_threads(None)
    assert fl.get_num_threads() == default


def test_threads_context_restores_the_previous_setting():
    default = fl.get_num_threads()
    with fl.threads(5):
        assert fl.get_num_threads() == 5
        with fl.threads(1):
            assert fl.get_num_threads() == 1
            with fl.threads(None):
                assert fl.get_num_threads() == default
            assert fl.get_num_threads() == 1
        assert fl.get_num_threads() == 5
    assert fl.get_num_threads() == default
    fl.set_num_threads(2)
    with pytest.raises(RuntimeError), fl.threads(7):
        assert fl.get_num_threads() == 7
        raise RuntimeError
    assert fl.get_num_threads() == 2


@pytest.mark.parametrize("bad", [0, -1, 1.5, 2.0, "2", True, False, [2], np.float64(2),
                                 4097, 2**31 - 1, 2**64])
def test_bad_thread_counts(bad):
    before = fl.get_num_threads()
    with pytest.raises(ValueError, match="num_threads"):
        fl.set_num_threads(bad)
    with pytest.raises(ValueError, match="num_threads"), fl.threads(bad):
        pass
    assert fl.get_num_threads() == before


def test_default_follows_threadpoolctl_limits():
    with threadpool_limits(limits=1, user_api="openmp"):
        assert fl.get_num_threads() == 1
        with fl.threads(2):
            assert fl.get_num_threads() == 2


def test_default_follows_omp_num_threads():
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        [sys.executable, "-P", "-c", "import fastloss; print(fastloss.get_num_threads())"],
        env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "1"


def test_threads_block_is_local_to_its_python_thread():
    """fl.threads(n) sets a context variable: two Python threads inside their own blocks
    at the same moment each see their own count, and the main thread neither."""
    import threading

    default = fl.get_num_threads()
    seen = {}
    inside = threading.Barrier(2)

    def worker(name, count):
        with fl.threads(count):
            inside.wait(timeout=10)
            seen[name] = fl.get_num_threads()
            inside.wait(timeout=10)
        seen[name + " after"] = fl.get_num_threads()

    workers = [threading.Thread(target=worker, args=(name, count))
               for name, count in (("a", 1), ("b", 3))]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert seen == {"a": 1, "b": 3, "a after": default, "b after": default}
    assert fl.get_num_threads() == default


def test_set_num_threads_is_process_wide_and_a_block_takes_precedence():
    fl.set_num_threads(2)
    try:
        with fl.threads(1):
            assert fl.get_num_threads() == 1
            with fl.threads(None):  # None: the default, whatever the process setting
                assert fl.get_num_threads() == fl._core.config._default_num_threads()
        assert fl.get_num_threads() == 2
    finally:
        fl.set_num_threads(None)
