"""OpenMP scaling of key kernels: time at 1, 4, 8, 16 threads (or --threads).

Usage: python -P benchmarks/openmp_scaling.py [--threads 1 4 8 16] [--repeat 7]

Each workload holds 10^7 elements: MSE value (float64), binary cross-entropy from
logits value (float64), sparse categorical cross-entropy from logits
value_and_gradient (float32, 10^5 rows x 100 classes). Prints a markdown table of
median times and speed-ups over one thread; the thread count is set with
fastloss.threads(). Workloads whose loss class is absent are skipped.
"""

import argparse
import statistics
import time

import numpy as np

import fastloss as fl


def workloads(rng):
    n = 10**7
    y = rng.random(n)
    p = rng.random(n) * 3
    yield "MSE value, n=1e7 f64", lambda: fl.MeanSquaredError()(y, p)
    if hasattr(fl, "BinaryCrossEntropy"):
        labels = (rng.random(n) < 0.3).astype(np.float64)
        logits = rng.standard_normal(n) * 4
        bce = fl.BinaryCrossEntropy(from_logits=True)
        yield "BCE logits value, n=1e7 f64", lambda: bce(labels, logits)
    if hasattr(fl, "SparseCategoricalCrossEntropy"):
        rows, classes = 10**5, 100
        targets = rng.integers(0, classes, rows)
        scores = rng.standard_normal((rows, classes)).astype(np.float32)
        scce = fl.SparseCategoricalCrossEntropy(from_logits=True)
        yield (
            "SCCE logits value_and_gradient, 1e5x100 f32",
            lambda: scce.value_and_gradient(targets, scores),
        )


def median_time(fn, repeat):
    fn()  # warm up: page faults, thread pool start
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 4, 8, 16])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    fl.show_config()
    header = " | ".join(f"{t} thr" for t in args.threads)
    print(f"\n| workload | {header} |")
    print("|---|" + "---|" * len(args.threads))
    for name, fn in workloads(rng):
        cells = []
        base = None
        for count in args.threads:
            with fl.threads(count):
                seconds = median_time(fn, args.repeat)
            base = base or seconds
            cells.append(f"{seconds * 1e3:.2f} ms ({base / seconds:.1f}x)")
        print(f"| {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
