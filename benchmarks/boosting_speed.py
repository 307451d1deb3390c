"""Boosting objectives: fastloss adapters against the same objectives in plain NumPy.

Two measurements (not a test; run by hand, see docs/boosting.rst):

1. Objective call time per round: the fastloss LightGBM objective (what LightGBM calls
   every round, with LightGBM's layouts: (n,) float64 scores, (n, k) class-major
   scores, documents in query groups) against a plain-NumPy objective computing the
   same gradient and hessian, medians of interleaved calls. Binary focal on 10^6
   rows, softmax cross-entropy on 10^5 x 10, LambdaRank on 10^4 queries x 100
   documents.
2. Share of a 100-round LightGBM training spent in the objective, fastloss against
   NumPy (smaller sizes, printed).

    python benchmarks/boosting_speed.py [--repeats 5] [--threads 2] [--train-threads 1]
                                        [--no-training]

Prints a markdown table.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import fastloss as fl
import fastloss.lightgbm as flgb

GAMMA, ALPHA = 2.0, 0.25


# ---- plain NumPy objectives (what one writes without fastloss) ------------------------

def numpy_focal(y, z):
    """Binary focal loss from logits: gradient and exact hessian (can be < 0), then the
    same floor as the adapter: max(h, |g|)."""
    p = 1.0 / (1.0 + np.exp(-z))
    a = np.where(y > 0.5, ALPHA, 1.0 - ALPHA)
    s = 2.0 * y - 1.0  # +1 for positives
    pt = np.where(y > 0.5, p, 1.0 - p)
    q = 1.0 - pt
    log_pt = -np.logaddexp(0.0, -s * z)
    # l = -a q^g log pt; d pt/dz = s pt q; dq/dz = -s pt q
    dl_dz = a * s * pt * q * (GAMMA * q ** (GAMMA - 1.0) * log_pt - q ** GAMMA / pt)
    # second derivative: dl_dz = a s u, u = pt q (g q^(g-1) log pt - q^g / pt)
    dpt = s * pt * q
    dq = -dpt
    u1 = dpt * q + pt * dq
    inner = GAMMA * q ** (GAMMA - 1.0) * log_pt - q ** GAMMA / pt
    dinner = (GAMMA * (GAMMA - 1.0) * q ** (GAMMA - 2.0) * dq * log_pt
              + GAMMA * q ** (GAMMA - 1.0) * dpt / pt
              - (GAMMA * q ** (GAMMA - 1.0) * dq * pt - q ** GAMMA * dpt) / pt ** 2)
    hess = a * s * (u1 * inner + pt * q * dinner)
    return dl_dz, np.maximum(hess, np.abs(dl_dz))


def numpy_softmax(y, scores):
    """Softmax cross-entropy on LightGBM's (n, k) class-major scores: p - onehot and
    k/(k-1) p (1 - p), returned class-major float32 as the adapter does."""
    n, k = scores.shape
    shifted = scores - scores.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    p = e / e.sum(axis=1, keepdims=True)
    grad = p.copy()
    grad[np.arange(n), y.astype(np.int64)] -= 1.0
    hess = np.maximum(k / (k - 1.0) * p * (1.0 - p), 1e-16)
    return np.asfortranarray(grad, np.float32), np.asfortranarray(hess, np.float32)


def numpy_lambdarank(rel, scores, chunk=128):
    """LambdaRank (NDCG over the whole list, as fl.LambdaRank()) gradient and hessian
    for equal-size lists (n_lists, size), in chunks of lists."""
    n, size = scores.shape
    grad = np.empty_like(scores)
    hess = np.empty_like(scores)
    positions = np.arange(size)
    ideal_discount = 1.0 / np.log2(2.0 + positions)
    for start in range(0, n, chunk):
        r, s = rel[start:start + chunk], scores[start:start + chunk]
        order = np.argsort(-s, axis=1, kind="stable")
        ranks = np.empty_like(s)
        np.put_along_axis(ranks, order, positions[None, :] + 1.0, axis=1)
        discount = 1.0 / np.log2(1.0 + ranks)
        gains = 2.0 ** r - 1.0
        ideal = (-np.sort(-gains, axis=1) * ideal_discount).sum(axis=1, keepdims=True)
        gains = np.where(ideal > 0, gains / np.where(ideal > 0, ideal, 1.0), 0.0)
        lam = (np.abs(gains[:, :, None] - gains[:, None, :])
               * np.abs(discount[:, :, None] - discount[:, None, :]))
        lam *= r[:, :, None] > r[:, None, :]
        x = s[:, :, None] - s[:, None, :]
        sig = 0.5 * (1.0 + np.tanh(-0.5 * x))  # sigmoid(-x)
        slope = lam * sig  # pair (i, j), rel_i > rel_j: d/ds_i = -slope, d/ds_j = +slope
        curv = lam * sig * (1.0 - sig)
        grad[start:start + chunk] = slope.sum(axis=1) - slope.sum(axis=2)
        hess[start:start + chunk] = curv.sum(axis=2) + curv.sum(axis=1)
    return grad, np.maximum(hess, 1e-16)


# ---- timing -------------------------------------------------------------------------

def interleaved_medians(calls, repeats):
    times = [[] for _ in calls]
    for _ in range(repeats):
        for i, call in enumerate(calls):
            began = time.perf_counter()
            call()
            times[i].append(time.perf_counter() - began)
    return [float(np.median(t)) for t in times]


def focal_case(n, rng):
    z = rng.normal(-3.0, 2.0, n)
    y = (rng.uniform(size=n) < 0.05).astype(np.float64)
    objective = flgb.objective(fl.BinaryFocal(gamma=GAMMA, alpha=ALPHA, from_logits=True))
    return (lambda: objective(y, z)), (lambda: numpy_focal(y, z)), objective(y, z), \
        numpy_focal(y, z)


def softmax_case(n, k, rng):
    scores = np.asfortranarray(rng.normal(size=(n, k)))  # LightGBM's class-major view
    y = rng.integers(0, k, n).astype(np.float32)
    objective = flgb.objective(fl.SparseCategoricalCrossEntropy(from_logits=True))
    return (lambda: objective(y, scores)), (lambda: numpy_softmax(y, scores)), \
        objective(y, scores), numpy_softmax(y, scores)


def lambdarank_case(queries, docs, rng):
    n = queries * docs
    scores = rng.normal(size=n)
    rel = rng.integers(0, 5, n).astype(np.float32)
    group = np.full(queries, docs, dtype=np.int32)
    objective = flgb.objective(fl.LambdaRank())

    def plain():
        g, h = numpy_lambdarank(rel.reshape(queries, docs).astype(np.float64),
                                scores.reshape(queries, docs))
        return g.reshape(n), h.reshape(n)

    return (lambda: objective(rel, scores, None, group)), plain, \
        objective(rel, scores, None, group), plain()


def check_same(ours, theirs, what, rtol=1e-5, atol=1e-6):
    """Warn (the timing still runs) when the two objectives disagree."""
    for a, b, name in zip(ours, theirs, ("gradient", "hessian"), strict=True):
        a, b = np.asarray(a, float), np.asarray(b, float)
        if not np.allclose(a, b, rtol=rtol, atol=atol):
            print(f"WARNING {what}: the NumPy objective's {name} differs from fastloss's "
                  f"by up to {np.abs(a - b).max():.3g}")


def call_table(repeats):
    rng = np.random.default_rng(0)
    cases = [
        ("binary focal (gamma 2, alpha 0.25)", "10^6", "f64 scores", 10.0,
         focal_case(10**6, rng)),
        ("softmax cross-entropy", "10^5 x 10", "f64 scores, class-major", 5.0,
         softmax_case(10**5, 10, rng)),
        ("LambdaRank (NDCG, whole list)", "10^4 queries x 100", "f64 scores", 20.0,
         lambdarank_case(10**4, 100, rng)),
    ]
    rows = []
    for name, size, dtype, target, (ours, plain, out_ours, out_plain) in cases:
        check_same(out_ours, out_plain, name)
        t_ours, t_plain = interleaved_medians([ours, plain], repeats)
        rows.append((name, size, dtype, t_ours, t_plain, t_plain / t_ours, target))
    return rows


# ---- share of a training spent in the objective ---------------------------------------

class Timed:
    """An objective that records the time spent in it; 4 parameters as LightGBM counts."""

    def __init__(self, fn):
        self.fn, self.seconds = fn, 0.0

    def __deepcopy__(self, memo):  # lightgbm.train deep-copies params: keep the counter
        return self

    def __call__(self, y_true, y_pred, weight=None, group=None):
        began = time.perf_counter()
        if not isinstance(y_pred, np.ndarray):  # native form: (preds, train_data)
            y_true, y_pred, group = y_pred.get_label(), y_true, y_pred.get_group()
        out = self.fn(y_true, y_pred, weight, group)
        self.seconds += time.perf_counter() - began
        return out


def training_share(rounds, threads):
    import lightgbm as lgb

    rng = np.random.default_rng(1)
    results = []
    n = 200_000
    x = rng.normal(size=(n, 10))
    y = (x[:, 0] + 0.5 * x[:, 1] * x[:, 2] + rng.normal(size=n) > 2.6).astype(float)
    focal = flgb.objective(fl.BinaryFocal(gamma=GAMMA, alpha=ALPHA, from_logits=True))
    setups = [("binary focal", f"{n} x 10 features", x, y, None, None,
               lambda yt, yp, w, g: focal(yt, yp, w, g),
               lambda yt, yp, w, g: numpy_focal(yt, yp))]
    n_soft, k = 50_000, 10
    xs = rng.normal(size=(n_soft, 10))
    ys = np.argmax(xs[:, :k] + rng.normal(size=(n_soft, k)), axis=1).astype(float)
    soft = flgb.objective(fl.SparseCategoricalCrossEntropy(from_logits=True))
    setups.append(("softmax cross-entropy", f"{n_soft} x {k} classes", xs, ys, k, None,
                   lambda yt, yp, w, g: soft(yt, yp, w, g),
                   lambda yt, yp, w, g: numpy_softmax(yt, yp)))
    queries, docs = 1000, 100
    xr = rng.normal(size=(queries * docs, 10))
    rel = np.clip(np.round(xr[:, 0] + 0.5 * xr[:, 1] + rng.normal(size=queries * docs)),
                  0, 4)
    group = np.full(queries, docs)
    rank = flgb.objective(fl.LambdaRank())

    def numpy_rank(yt, yp, w, g):
        gr, h = numpy_lambdarank(np.asarray(yt, float).reshape(-1, docs),
                                 np.asarray(yp).reshape(-1, docs))
        return gr.reshape(-1), h.reshape(-1)

    setups.append(("LambdaRank", f"{queries} queries x {docs} docs", xr, rel, None, group,
                   lambda yt, yp, w, g: rank(yt, yp, w, g), numpy_rank))
    for name, size, features, labels, classes, groups, ours, plain in setups:
        shares = []
        for fn in (ours, plain):
            timed = Timed(fn)
            params = {"objective": timed, "verbose": -1, "num_threads": threads,
                      "num_leaves": 31, "learning_rate": 0.1, "seed": 0}
            if classes:
                params["num_class"] = classes
            data = lgb.Dataset(features, labels, group=groups)
            began = time.perf_counter()
            lgb.train(params, data, rounds)
            total = time.perf_counter() - began
            shares.append((timed.seconds, total))
        results.append((name, size, shares))
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument("--train-threads", type=int, default=1,
                        help="LightGBM's threads (fastloss keeps --threads)")
    parser.add_argument("--no-training", action="store_true")
    args = parser.parse_args()
    fl.set_num_threads(args.threads)
    print(f"fastloss {fl.__version__}, {args.threads} threads, medians of {args.repeats} "
          "interleaved calls\n")
    print("| objective (LightGBM layout) | size | dtype | fastloss | NumPy | ratio | target |")
    print("|---|---|---|---:|---:|---:|---:|")
    for name, size, dtype, t_ours, t_plain, ratio, target in call_table(args.repeats):
        print(f"| {name} | {size} | {dtype} | {t_ours * 1e3:.1f} ms | {t_plain * 1e3:.1f} ms "
              f"| {ratio:.1f}x | >= {target:g}x |")
    if args.no_training:
        return
    print(f"\n| {args.rounds}-round LightGBM training | size | objective share, fastloss "
          "| objective share, NumPy | training time, fastloss | training time, NumPy |")
    print("|---|---|---:|---:|---:|---:|")
    for name, size, ((o1, t1), (o2, t2)) in training_share(args.rounds, args.train_threads):
        print(f"| {name} | {size} | {100 * o1 / t1:.0f}% ({o1:.2f} s) | "
              f"{100 * o2 / t2:.0f}% ({o2:.2f} s) | {t1:.1f} s | {t2:.1f} s |")


if __name__ == "__main__":
    main()
