"""Benchmark-regression check (run by .ci/run): fail when fastloss gets slower
relative to its NumPy reference on a few key workloads.

Usage: python -P benchmarks/check_regression.py [--rounds R] [--json] [--list] [--only TEXT]

For each key workload it measures, in one process and on the same data, the ratio
fastloss time / baseline time (lower is better) and compares it with the committed
floor in benchmarks/floors.json. Exit status 1, with a message naming the workload,
when a ratio is worse than its floor. The baseline is the NumPy reference, or for the
"value / value_and_gradient" checks the loss's own fused call: a value-only path must
not be slower than the value and gradient together.

Why it does not flake on a shared, noisy 2-core machine:
- ratios, never absolute times: a slow machine slows both sides;
- each round times fastloss and then the reference back to back (about 20 ms each),
  and the check takes the median over the rounds of the per-round ratios, so a burst
  of load spoils a round, not the result;
- one thread: the NumPy reference runs on one thread, and a parallel region on a
  machine whose other core is busy waits for the descheduled thread, which measures
  the neighbours rather than the kernels (thread scaling is the asv suite's job);
  NumPy's BLAS too, on both sides, where threadpoolctl (in the test and bench extras)
  can limit it;
- floors with about 2x headroom over the ratios measured when they were set;
- a workload over its floor is measured once more, with twice the rounds, and fails
  only if it is over again.

Key workloads: MSE value (10^6 and 100 elements) and Huber value_and_gradient
(10^6), float64, plus value_and_gradient at 10^5 elements of every workload of the
families in EXTRA_FAMILIES and of the workloads in EXTRA_WORKLOADS that this build
has; sparse cross-entropy from logits on rows of 32000 classes (a language-model
head; LARGE_ROWS rows, float32), value and value_and_gradient, against a max-shifted
NumPy softmax (the reference's Jacobian is too big for such rows); and value against
value_and_gradient of every workload at 10^5 elements, float64 and float32. A key
workload without a floor of its own in floors.json gets the file's default floor
(the fused default for the value / value_and_gradient checks).
"""

import argparse
import contextlib
import json
import statistics
import sys
from functools import partial
from pathlib import Path

import numpy as np

import fastloss as fl
from fastloss._cli import bench as _bench

try:
    from threadpoolctl import threadpool_limits
except ImportError:
    threadpool_limits = None

FLOORS = Path(__file__).with_name("floors.json")
THREADS = 1
#: Families whose every workload is a key workload (value_and_gradient, 10^5 elements).
EXTRA_FAMILIES = ("classification",)
#: Further key workloads by name (value_and_gradient, 10^5 elements: 781 embeddings of
#: 128, a batch of 781 for BatchTriplet, two views of 781 for InfoNCE, 1000 lists of 100).
EXTRA_WORKLOADS = ("Triplet", "BatchTriplet[hard]", "InfoNCE", "PairwiseLogistic", "LambdaRank")
#: Rows and classes of the large-row check (32 MiB of float32 logits).
LARGE_ROWS, LARGE_CLASSES = 256, 32000
FUSED = "value / value_and_gradient"


def threads_limited():
    """A context in which fastloss, and NumPy's BLAS where possible, use THREADS threads."""
    stack = contextlib.ExitStack()
    stack.enter_context(fl.threads(THREADS))
    if threadpool_limits is not None:
        stack.enter_context(threadpool_limits(THREADS, user_api="blas"))
    return stack


def check_id(workload, mode, n, dtype):
    return f"{workload.name} {mode} n={n} {dtype}"


def large_row_data(dtype, rng):
    """(args, kwargs) of the large-row check: labels and logits (LARGE_ROWS, LARGE_CLASSES)."""
    labels = rng.integers(0, LARGE_CLASSES, LARGE_ROWS)
    logits = rng.normal(size=(LARGE_ROWS, LARGE_CLASSES)).astype(dtype)
    return (labels, logits), {}


class Key:
    """One check: `fast` and `baseline` as f(*args, **kwargs) on data(rng) -> (args,
    kwargs)."""

    def __init__(self, check, fast, baseline, data):
        self.id, self.fast, self.baseline, self.data = check, fast, baseline, data


def _workload_key(workload, mode, n, dtype, baseline=None):
    check = check_id(workload, mode, n, dtype)
    if baseline == "fused":
        check = f"{workload.name} {FUSED} n={n} {dtype}"
        ref = workload.fastloss("value_and_gradient")
    else:
        ref = workload.reference(mode)
    return Key(check, workload.fastloss(mode), ref,
               lambda rng: workload.data(n, np.dtype(dtype), rng))


def key_workloads():
    """Every check, as a Key."""
    checks = [
        _workload_key(_bench.find("MeanSquaredError"), "value", 10**6, "float64"),
        _workload_key(_bench.find("Huber"), "value_and_gradient", 10**6, "float64"),
        _workload_key(_bench.find("MeanSquaredError"), "value", 100, "float64"),
    ]
    for workload in _bench.workloads():
        n = min(10**5, workload.max_size)
        extra = workload.family in EXTRA_FAMILIES or workload.name in EXTRA_WORKLOADS
        if extra and workload.reference("value_and_gradient", n):
            checks.append(_workload_key(workload, "value_and_gradient", n, "float64"))
    sce = _bench.find("SparseCategoricalCrossEntropy")
    size = f"rows={LARGE_ROWS} classes={LARGE_CLASSES} float32"
    for mode in ("value", "value_and_gradient"):
        numpy_ce = partial(_bench.numpy_sparse_ce, gradient=mode != "value")
        checks.append(Key(f"{sce.name} {mode} {size}", sce.fastloss(mode), numpy_ce,
                          partial(large_row_data, np.float32)))
    checks.append(Key(f"{sce.name} {FUSED} {size}", sce.fastloss("value"),
                      sce.fastloss("value_and_gradient"), partial(large_row_data, np.float32)))
    for workload in _bench.workloads():
        for dtype in ("float64", "float32"):
            checks.append(_workload_key(workload, "value", min(10**5, workload.max_size),
                                        dtype, baseline="fused"))
    return checks


def floor_of(check, config):
    """The committed floor of a check id, or the default that applies to it."""
    default = config["fused_default_floor"] if FUSED in check else config["default_floor"]
    return config["floors"].get(check, default)


class Check:
    def __init__(self, key, rng):
        self.id = key.id
        args, kwargs = key.data(rng)
        fast, ref = key.fast, key.baseline
        self.fast = lambda: fast(*args, **kwargs)
        self.ref = lambda: ref(*args, **kwargs)
        self.ratios = []

    def calibrate(self, target):
        self.fast()
        self.ref()
        self.numbers = (_bench.calibrate(self.fast, target), _bench.calibrate(self.ref, target))

    def round(self):
        """One round: fastloss then the baseline, back to back; store the ratio."""
        n_fast, n_ref = self.numbers
        t_fast = _bench._clock(self.fast, n_fast) / n_fast
        t_ref = _bench._clock(self.ref, n_ref) / n_ref
        self.ratios.append(t_fast / t_ref)

    @property
    def ratio(self):
        return statistics.median(self.ratios)


def measure(checks, rounds, target):
    """Calibrate every check, then run `rounds` rounds, each over every check."""
    for check in checks:
        check.calibrate(target)
        check.ratios = []
    for _ in range(rounds):
        for check in checks:
            check.round()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=9, help="rounds per check (default 9)")
    parser.add_argument("--floors", type=Path, default=FLOORS, help="the floors file")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--list", action="store_true",
                        help="list the checks and their floors, measure nothing")
    parser.add_argument("--only", metavar="TEXT", default=None,
                        help="run only the checks whose name contains TEXT")
    args = parser.parse_args(argv)
    config = json.loads(args.floors.read_text())
    config.setdefault("fused_default_floor", config["default_floor"])

    keys = key_workloads()
    if args.only is not None:
        keys = [key for key in keys if args.only in key.id]
        if not keys:
            parser.error(f"no check matches {args.only!r}")
    if args.list:
        for key in keys:
            print(f"{key.id}\t{floor_of(key.id, config)}")
        return 0
    rng = np.random.default_rng(0)
    checks = [Check(key, rng) for key in keys]
    target = 0.02
    with threads_limited():
        measure(checks, args.rounds, target)
        over = [c for c in checks if c.ratio > floor_of(c.id, config)]
        if over:  # confirm with twice the rounds before failing
            measure(over, 2 * args.rounds, target)

    results = []
    for c in checks:
        floor = floor_of(c.id, config)
        results.append({
            "check": c.id, "ratio": c.ratio, "min": min(c.ratios), "max": max(c.ratios),
            "floor": floor, "default_floor": c.id not in config["floors"],
            "ok": c.ratio <= floor,
        })
    if args.json:
        json.dump({"threads": THREADS, "rounds": args.rounds, "results": results},
                  sys.stdout, indent=1)
        print()
    else:
        width = max(len(r["check"]) for r in results)
        print(f"fastloss time / baseline time, {THREADS} thread, median of "
              f"{args.rounds} rounds (lower is better)")
        for r in results:
            note = " (default floor)" if r["default_floor"] else ""
            print(f"{'ok  ' if r['ok'] else 'FAIL'} {r['check']:<{width}}  "
                  f"{r['ratio']:.3f}  [{r['min']:.3f} .. {r['max']:.3f}]  "
                  f"floor {r['floor']:.3f}{note}")
    failed = [r for r in results if not r["ok"]]
    for r in failed:
        print(f"benchmark regression: {r['check']}: fastloss takes {r['ratio']:.3f}x the time "
              f"of its baseline, worse than the floor {r['floor']:.3f} in "
              f"{args.floors} (measured twice)", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
