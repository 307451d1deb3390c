"""Speed of fastloss.training.fit and fastloss.metrics.

1. One epoch of ``fit`` with a Linear model on 10^6 x 20 float32 rows (MSE, Adam):
   the share of its time spent outside NumPy and fastloss calls. The NumPy and
   fastloss calls fit makes in an epoch (the shuffle; per step the gather, forward,
   loss, backward, gradient norms and the Adam update) are written out by hand and
   timed one by one; fit's epoch time minus that is the time in the toolkit's own
   Python. (cProfile cannot tell them apart: ``X[rows]`` and ``@`` are operators,
   whose time it charges to the calling Python function.)

2. Metrics on 10^7 predictions against scikit-learn (best of ``--repeats`` runs each).

Run: ``python -P benchmarks/training_speed.py`` (``--rows``, ``--batch-size``,
``--n-metrics``, ``--repeats``).
"""

import argparse
import time
import warnings

import numpy as np

import fastloss as fl
from fastloss import metrics
from fastloss.training import Adam, Linear, fit


def fit_epoch_time(X, y, batch_size, repeats):
    model = Linear(X.shape[1], dtype=np.float32)
    opt = Adam(model.params, lr=1e-3)
    loss = fl.MeanSquaredError()
    fit(model, loss, X[:batch_size], y[:batch_size], optimizer=opt, epochs=1,
        batch_size=batch_size, progress=False)  # warm-up
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        fit(model, loss, X, y, optimizer=opt, epochs=1, batch_size=batch_size,
            progress=False)
        best = min(best, time.perf_counter() - start)
    return best


def numpy_time_of_an_epoch(X, y, batch_size, repeats):
    """(epoch time, time inside NumPy/fastloss calls) of fit's epoch written by hand:
    every NumPy or fastloss call that fit makes per step (gather, forward, loss,
    backward, gradient norms, the Adam update of torch.optim) timed one by one."""
    w = np.zeros(X.shape[1], dtype=np.float32)
    b = np.zeros((), dtype=np.float32)
    params = [w, b]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    loss = fl.MeanSquaredError()
    rng = np.random.default_rng(0)
    clock = time.perf_counter
    best = (np.inf, np.inf)
    step = 0
    for _ in range(repeats):
        inside = 0.0
        start = clock()
        t = clock()
        order = rng.permutation(len(X))
        inside += clock() - t
        for i in range(0, len(X), batch_size):
            t = clock()
            rows = order[i:i + batch_size]
            xb, yb = X[rows], y[rows]
            out = xb @ w
            out += b
            _, g = loss.value_and_gradient(yb, out)
            grads = [xb.T @ g, g.sum(axis=0)]
            norms = [float(np.vdot(gi, gi)) for gi in grads]
            inside += clock() - t
            step += 1
            c1, c2 = 1 - 0.9**step, (1 - 0.999**step) ** 0.5
            for p, gi, mi, vi in zip(params, grads, m, v, strict=True):
                t = clock()
                gi = gi.astype(p.dtype, copy=False)
                mi += 0.1 * (gi - mi)
                vi *= 0.999
                vi += (0.001 * gi) * gi
                denom = np.sqrt(vi) / c2
                denom += 1e-8
                p += (-1e-3 / c1 * mi) / denom
                inside += clock() - t
            del norms
        best = min(best, (clock() - start, inside))
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
    fitted = fit_epoch_time(X, y, args.batch_size, args.repeats)
    by_hand, inside = numpy_time_of_an_epoch(X, y, args.batch_size, args.repeats)
    outside = fitted - inside
    print(f"  fit: {fitted:.3f} s per epoch; its NumPy/fastloss calls take {inside:.3f} s "
          f"(timed one by one in the same epoch written by hand, {by_hand:.3f} s in all)")
    print(f"  outside NumPy/fastloss: {outside:.3f} s = {outside / fitted:.1%} of fit's "
          f"epoch (target <= 25%)")

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
