"""Speed of fastloss.training.fit and fastloss.metrics.

1. One epoch of ``fit`` with a Linear model on 10^6 x 20 float32 rows (MSE, Adam):
   the share of its time spent outside NumPy and fastloss calls, measured two ways:

   - profile: cProfile of the epoch; every function's own time (tottime) is counted
     "inside" when it is NumPy's or fastloss's (C functions of numpy, or Python code
     under numpy/ or fastloss/ but not fastloss/training/), "outside" otherwise (the
     loop's own Python, Python builtins). The profiler slows Python calls most, so
     this share is an upper bound;
   - bare loop: the same epoch written by hand (shuffle, slice, forward, loss,
     backward, torch-style Adam update) against fit's epoch, both unprofiled: fit's
     extra time is the toolkit's overhead.

2. Metrics on 10^7 predictions against scikit-learn (best of ``--repeats`` runs each).

Run: ``python -P benchmarks/training_speed.py`` (``--rows``, ``--batch-size``,
``--n-metrics``, ``--repeats``).
"""

import argparse
import cProfile
import pstats
import time
import warnings

import numpy as np

import fastloss as fl
from fastloss import metrics
from fastloss.training import Adam, Linear, fit


def inside_numpy_or_fastloss(function_key):
    filename, _, name = function_key
    if filename == "~":  # a C function: "<method 'x' of 'numpy.ndarray' objects>" etc.
        return "numpy" in name or "fastloss" in name or "_kernel" in name
    path = filename.replace("\\", "/")
    if "/numpy/" in path:
        return True
    return "/fastloss/" in path and "/fastloss/training/" not in path and \
        "/fastloss/metrics" not in path


def profile_epoch(X, y, batch_size):
    model = Linear(X.shape[1], dtype=np.float32)
    opt = Adam(model.params, lr=1e-3)
    loss = fl.MeanSquaredError()
    fit(model, loss, X[:batch_size], y[:batch_size], optimizer=opt, epochs=1,
        batch_size=batch_size, progress=False)  # warm-up
    profiler = cProfile.Profile()
    profiler.enable()
    fit(model, loss, X, y, optimizer=opt, epochs=1, batch_size=batch_size, progress=False)
    profiler.disable()
    stats = pstats.Stats(profiler)
    inside = outside = 0.0
    rows = []
    for key, (_, _, tottime, _, _) in stats.stats.items():
        if inside_numpy_or_fastloss(key):
            inside += tottime
        else:
            outside += tottime
            rows.append((tottime, key))
    rows.sort(reverse=True)
    return inside, outside, rows[:5]


def fit_epoch_time(X, y, batch_size, repeats):
    model = Linear(X.shape[1], dtype=np.float32)
    opt = Adam(model.params, lr=1e-3)
    loss = fl.MeanSquaredError()
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        fit(model, loss, X, y, optimizer=opt, epochs=1, batch_size=batch_size,
            progress=False)
        best = min(best, time.perf_counter() - start)
    return best


def bare_epoch_time(X, y, batch_size, repeats):
    """The same epoch by hand: the NumPy and fastloss work fit cannot avoid."""
    w = np.zeros(X.shape[1], dtype=np.float32)
    b = np.zeros((), dtype=np.float32)
    params = [w, b]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    loss = fl.MeanSquaredError()
    rng = np.random.default_rng(0)
    best = np.inf
    step = 0
    for _ in range(repeats):
        start = time.perf_counter()
        order = rng.permutation(len(X))
        for i in range(0, len(X), batch_size):
            rows = order[i:i + batch_size]
            xb, yb = X[rows], y[rows]
            out = xb @ w
            out += b
            _, g = loss.value_and_gradient(yb, out)
            grads = [xb.T @ g, g.sum()]
            step += 1
            for p, gi, mi, vi in zip(params, grads, m, v, strict=True):
                mi += 0.1 * (gi - mi)
                vi *= 0.999
                vi += (0.001 * gi) * gi
                denom = np.sqrt(vi) / (1 - 0.999**step) ** 0.5
                denom += 1e-8
                p += (-1e-3 / (1 - 0.9**step) * mi) / denom
        best = min(best, time.perf_counter() - start)
    return best


def best_time(function, repeats):
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - start)
    return best


def metric_cases(n, rng):
    from sklearn import metrics as skm

    labels = rng.integers(0, 2, n)
    scores = rng.normal(size=n) + labels
    proba = 1.0 / (1.0 + np.exp(-scores))
    predicted = (scores > 0.5).astype(np.int64)
    classes = rng.integers(0, 5, n)
    predicted_classes = np.where(rng.random(n) < 0.7, classes, rng.integers(0, 5, n))
    y = rng.normal(size=n)
    p = y + rng.normal(scale=0.5, size=n)
    lists = max(n // 100, 1)
    relevance = rng.integers(0, 4, (lists // 10, 100)).astype(float)
    list_scores = rng.normal(size=relevance.shape)
    return [
        ("roc_auc", lambda: metrics.roc_auc(labels, scores),
         lambda: skm.roc_auc_score(labels, scores), n),
        ("average_precision", lambda: metrics.average_precision(labels, scores),
         lambda: skm.average_precision_score(labels, scores), n),
        ("accuracy", lambda: metrics.accuracy(labels, predicted),
         lambda: skm.accuracy_score(labels, predicted), n),
        ("f1 binary", lambda: metrics.f1_score(labels, predicted),
         lambda: skm.f1_score(labels, predicted), n),
        ("f1 macro, 5 classes", lambda: metrics.f1_score(classes, predicted_classes,
                                                         average="macro"),
         lambda: skm.f1_score(classes, predicted_classes, average="macro"), n),
        ("log_loss", lambda: metrics.log_loss(labels, proba),
         lambda: skm.log_loss(labels, proba), n),
        ("rmse", lambda: metrics.rmse(y, p), lambda: skm.root_mean_squared_error(y, p), n),
        ("mae", lambda: metrics.mae(y, p), lambda: skm.mean_absolute_error(y, p), n),
        ("r2", lambda: metrics.r2(y, p), lambda: skm.r2_score(y, p), n),
        ("ndcg_at_k k=10", lambda: metrics.ndcg_at_k(relevance, list_scores, k=10),
         lambda: skm.ndcg_score(relevance, list_scores, k=10), relevance.size),
    ]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10**6)
    parser.add_argument("--batch-size", type=int, default=4096)
    parser.add_argument("--n-metrics", type=int, default=10**7)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--skip-metrics", action="store_true")
    args = parser.parse_args(argv)

    rng = np.random.default_rng(0)
    X = rng.normal(size=(args.rows, 20)).astype(np.float32)
    y = (X @ rng.normal(size=20).astype(np.float32) + 0.1 * rng.normal(size=args.rows)
         ).astype(np.float32)
    print(f"fastloss {fl.__version__}, {fl.get_num_threads()} threads; numpy {np.__version__}")
    print(f"fit, one epoch: Linear, MSE, Adam, {args.rows} x 20 float32, batch "
          f"{args.batch_size} ({-(-args.rows // args.batch_size)} steps)")
    inside, outside, top = profile_epoch(X, y, args.batch_size)
    print(f"  profile: {inside + outside:.3f} s profiled; outside NumPy/fastloss "
          f"{outside:.3f} s = {outside / (inside + outside):.1%} (target <= 25%)")
    for tottime, (filename, line, name) in top:
        print(f"    {tottime:.3f} s  {name} ({filename.split('/')[-1]}:{line})")
    fitted = fit_epoch_time(X, y, args.batch_size, args.repeats)
    bare = bare_epoch_time(X, y, args.batch_size, args.repeats)
    print(f"  unprofiled: fit {fitted:.3f} s, the same epoch by hand {bare:.3f} s: fit's "
          f"own overhead {(fitted - bare) / fitted:.1%} of its time")

    if args.skip_metrics:
        return 0
    print(f"metrics on {args.n_metrics} predictions (best of {args.repeats}), "
          f"scikit-learn time / fastloss time:")
    for name, mine, theirs, size in metric_cases(args.n_metrics, rng):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            a, b = mine(), theirs()
            assert np.isclose(a, b, rtol=1e-9), (name, a, b)
            t_mine = best_time(mine, args.repeats)
            t_theirs = best_time(theirs, args.repeats)
        print(f"  {name:<22} n={size:<9} fastloss {t_mine:8.4f} s  scikit-learn "
              f"{t_theirs:8.4f} s  {t_theirs / t_mine:6.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
