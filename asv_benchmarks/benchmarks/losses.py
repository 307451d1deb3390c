"""Every loss of fastloss's workload registry (fastloss._cli.bench.WORKLOADS), timed against
its plain NumPy reference (fastloss.reference), value and value_and_gradient.

- Fastloss.time_loss   fastloss, by loss, mode, size, dtype and thread count
- Reference.time_loss  the NumPy reference (single-threaded: no thread parameter)
- Ratio.track_ratio    fastloss time / reference time measured in one process, in
                       interleaved rounds (lower is better; < 1 means fastloss wins)

Workloads are named by loss (and, where one loss has several, by its label, e.g.
"BatchTriplet[hard]"). Sizes are elements of the prediction (an embedding or list
workload of n elements has n // 128 rows or n // 100 lists). The default set is modest; set
FASTLOSS_ASV_SIZES (e.g. "100,1e4,1e6,1e7"), FASTLOSS_ASV_DTYPES (e.g. "float32")
and FASTLOSS_ASV_THREADS (e.g. "1,2,4") to change it. A parameter combination that
a workload or the installed build does not support (no reference, as for the value
mode of the embedding and ranking losses, whose references compute value and gradients
together; a size above the workload's maximum; a loss the build does not export) is
skipped. Ratio also skips value_and_gradient above a workload's
asv_gradient_ratio_max_size, where one reference call takes seconds (the multi-class and
pairwise ranking gradients at 10^6 elements): it calls the reference about eight times
per measurement, so these ratios are measured at smaller sizes, and Reference.time_loss
still times those references at every size.
"""

import os

import numpy as np

import fastloss
from fastloss._cli import bench as _bench


def _env_ints(name, default):
    text = os.environ.get(name)
    return tuple(int(float(v)) for v in text.split(",")) if text else default


LOSSES = [w.name for w in _bench.workloads()]
MODES = list(_bench.MODES)
SIZES = list(_env_ints("FASTLOSS_ASV_SIZES", (10**2, 10**6)))
DTYPES = os.environ.get("FASTLOSS_ASV_DTYPES", ",".join(_bench.DTYPES)).split(",")
THREADS = list(_env_ints("FASTLOSS_ASV_THREADS", (1, 2)))


def _workload(loss, n):
    try:
        workload = _bench.find(loss)
    except KeyError:
        raise NotImplementedError(f"{loss} is not in this build") from None
    if n > workload.max_size:
        raise NotImplementedError(f"{loss} is not measured above {workload.max_size}")
    return workload


def _inputs(workload, n, dtype):
    return workload.data(n, np.dtype(dtype), np.random.default_rng(0))


class Fastloss:
    params = (LOSSES, MODES, SIZES, DTYPES, THREADS)
    param_names = ("loss", "mode", "n", "dtype", "threads")

    def setup(self, loss, mode, n, dtype, threads):
        workload = _workload(loss, n)
        args, kwargs = _inputs(workload, n, dtype)
        fn = workload.fastloss(mode)
        self.call = lambda: fn(*args, **kwargs)
        fastloss.set_num_threads(threads)

    def teardown(self, *params):
        fastloss.set_num_threads(None)

    def time_loss(self, *params):
        self.call()


class Reference:
    params = (LOSSES, MODES, SIZES, DTYPES)
    param_names = ("loss", "mode", "n", "dtype")

    def setup(self, loss, mode, n, dtype):
        workload = _workload(loss, n)
        fn = workload.reference(mode, n)
        if fn is None:
            raise NotImplementedError(f"no NumPy reference for {loss} {mode} at n={n}")
        args, kwargs = _inputs(workload, n, dtype)
        self.call = lambda: fn(*args, **kwargs)

    def time_loss(self, *params):
        self.call()


class Ratio:
    params = (LOSSES, MODES, SIZES, DTYPES, THREADS)
    param_names = ("loss", "mode", "n", "dtype", "threads")
    unit = "fastloss time / reference time"

    def setup(self, loss, mode, n, dtype, threads):
        self.workload = _workload(loss, n)
        if self.workload.reference(mode, n) is None:
            raise NotImplementedError(f"no NumPy reference for {loss} {mode} at n={n}")
        limit = self.workload.asv_gradient_ratio_max_size
        if mode == "value_and_gradient" and limit is not None and n > limit:
            raise NotImplementedError(
                f"the {loss} {mode} reference takes seconds per call above n={limit}: "
                f"its ratio is measured up to n={limit} (Reference times it at n={n})")

    def track_ratio(self, loss, mode, n, dtype, threads):
        row = _bench.measure(self.workload, mode, n, dtype, threads, rounds=5, target=0.01)
        return 1.0 / row["speedup"]["reference"]
