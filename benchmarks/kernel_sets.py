"""The kernel sets against each other, loss by loss, on this machine.

Usage: python -P benchmarks/kernel_sets.py [--size N] [--rounds R] [--threads T]
                                            [--family F[,F]] [--workload W[,W]]
                                            [--classes C] [--json]

Every kernel set this build and CPU can run (baseline, x86-64-v3, x86-64-v4) times
the value and the value_and_gradient of every bench workload of the chosen families
(default: all; or the named workloads) at N elements (default 10^5; the multi-class
workloads in rows of C classes, default 100), float64 and float32, in one process: the
sets take turns within each round (dispatch.use switches every family), and each
time is the median over the rounds. It prints, per workload, mode and dtype, each
set's time over the time of the most capable set (< 1: that set is faster), then per
family the geometric mean of those ratios: what the dispatcher's per-family choice
(fastloss._kernels.dispatch.PREFERRED) and the v4 vector widths
(fastloss/_kernels/meson.build) rest on. Each set runs every family's own module:
PREFERRED does not apply inside dispatch.use.
"""

import argparse
import json
import math
import statistics
import sys
from collections import defaultdict
from functools import partial

import numpy as np

import fastloss
from fastloss._cli import bench as _bench
from fastloss._kernels import dispatch as _dispatch

MODES = ("value", "value_and_gradient")
DTYPES = ("float64", "float32")


def measure(workload, mode, dtype, size, sets, rounds, target=0.01):
    """{kernel set: median seconds per call} for one workload, mode and dtype."""
    rng = np.random.default_rng(0)
    args, kwargs = workload.data(size, np.dtype(dtype), rng)
    calls, samples = {}, defaultdict(list)
    for kernel_set in sets:
        with _dispatch.use(kernel_set):
            method = workload.fastloss(mode)  # a loss built in the set, for its small path
            call = partial(method, *args, **kwargs)
            calls[kernel_set] = (call, _bench.calibrate(call, target))
    for r in range(rounds):
        for kernel_set in sets[r % len(sets):] + sets[:r % len(sets)]:
            call, number = calls[kernel_set]
            with _dispatch.use(kernel_set):
                seconds = _bench._clock(call, number)
            samples[kernel_set].append(seconds / number)
    return {s: statistics.median(v) for s, v in samples.items()}


def compare(families, workloads, size, sets, rounds, threads):
    """Time each selected workload in every set; print and return one row per workload,
    mode and dtype."""
    top = sets[-1]
    rows = []
    with fastloss.threads(threads):
        for workload in _bench.WORKLOADS:
            if (families and workload.family not in families
                    or workloads and workload.name not in workloads):
                continue
            n = min(size, workload.max_size)
            for mode in MODES:
                for dtype in DTYPES:
                    times = measure(workload, mode, dtype, n, sets, rounds)
                    rows.append({"family": workload.family, "workload": workload.name,
                                 "mode": mode, "dtype": dtype, "n": n,
                                 "classes": _bench.CLASSES, "seconds": times})
                    ratios = "  ".join(f"{s} {times[s] / times[top]:.2f}" for s in sets)
                    print(f"{workload.family:15s} {workload.name:30s} {mode:19s} {dtype:8s} "
                          f"{times[top] * 1e6:9.1f} us  {ratios}", flush=True)
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=float, default=1e5)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--family", default="")
    parser.add_argument("--workload", default="")
    parser.add_argument("--classes", type=int, default=_bench.CLASSES)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    sets = _dispatch.available()
    if len(sets) < 2:
        sys.exit(f"only one kernel set runs here ({sets}): nothing to compare")
    families = {f for f in args.family.split(",") if f}
    workloads = {w for w in args.workload.split(",") if w}
    unknown = workloads - {w.name for w in _bench.WORKLOADS}
    if unknown:
        sys.exit(f"no such workload: {', '.join(sorted(unknown))}")
    top = sets[-1]
    classes, _bench.CLASSES = _bench.CLASSES, args.classes
    try:
        rows = compare(families, workloads, int(args.size), sets, args.rounds, args.threads)
    finally:
        _bench.CLASSES = classes
    print(f"\ngeometric mean of time / {top} time, per family:")
    by_family = defaultdict(lambda: defaultdict(list))
    for row in rows:
        for s in sets:
            by_family[row["family"]][s].append(math.log(row["seconds"][s] / row["seconds"][top]))
    for family, logs in by_family.items():
        means = "  ".join(f"{s} {math.exp(statistics.fmean(v)):.2f}" for s, v in logs.items())
        print(f"  {family:15s} {means}")
    if args.json:
        print(json.dumps(rows))


if __name__ == "__main__":
    main()
