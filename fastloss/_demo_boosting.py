"""Demo task: gradient boosting on a rare positive class, the library's built-in
logloss against fastloss's focal loss as a custom objective (held-out average
precision). Uses LightGBM when installed, else XGBoost; without either it says how to
install them. Self-contained and seeded.
"""

from __future__ import annotations

import time

import numpy as np

import fastloss as fl

ROUNDS = 150
LEARNING_RATE = 0.1
FOCAL = {"gamma": 2.0, "alpha": 0.25}


def _rare_class_data(seed, n_train=20000, n_test=20000, n_features=10):
    """About 2% positives: a noisy, non-linear score of the features, thresholded."""
    rng = np.random.default_rng(seed)
    n = n_train + n_test
    x = rng.normal(size=(n, n_features))
    score = (1.5 * x[:, 0] + x[:, 1] * x[:, 2] - np.abs(x[:, 3]) + 0.7 * np.sin(3 * x[:, 4])
             + rng.normal(0.0, 1.0, n))
    y = (score > np.quantile(score, 0.98)).astype(np.float64)
    return x[:n_train], y[:n_train], x[n_train:], y[n_train:]


def average_precision(y_true, scores):
    """Average precision (area under the precision-recall steps), ties broken by order."""
    order = np.argsort(-scores, kind="stable")
    hits = y_true[order]
    positives = hits.sum()
    if positives == 0:
        return 0.0
    precision = np.cumsum(hits) / np.arange(1, hits.size + 1)
    return float((precision * hits).sum() / positives)


def _backend():
    try:
        import lightgbm
        return "lightgbm", lightgbm
    except ImportError:
        pass
    try:
        import xgboost
        return "xgboost", xgboost
    except ImportError:
        return None, None


def _train_lightgbm(lgb, x, y, x_test, objective=None, start=0.0):
    import fastloss.lightgbm as flgb

    params = {"learning_rate": LEARNING_RATE, "num_leaves": 15, "min_data_in_leaf": 20,
              "verbose": -1, "seed": 0, "deterministic": True, "num_threads": 1}
    if objective is None:
        params["objective"] = "binary"
        booster = lgb.train(params, lgb.Dataset(x, y), ROUNDS)
        return booster.predict(x_test, raw_score=True)
    params["objective"] = flgb.objective(objective)
    train = lgb.Dataset(x, y, init_score=np.full(y.shape, start))
    booster = lgb.train(params, train, ROUNDS)
    return booster.predict(x_test, raw_score=True) + start


def _train_xgboost(xgb, x, y, x_test, objective=None, start=0.0):
    import fastloss.xgboost as fxgb

    params = {"eta": LEARNING_RATE, "max_depth": 4, "tree_method": "hist", "seed": 0,
              "nthread": 1}
    if objective is None:
        params["objective"] = "binary:logistic"
        booster = xgb.train(params, xgb.DMatrix(x, y), ROUNDS)
    else:
        params["base_score"] = start
        booster = xgb.train(params, xgb.DMatrix(x, y), ROUNDS, obj=fxgb.objective(objective))
    return booster.predict(xgb.DMatrix(x_test), output_margin=True)


def run_boosting_task(plots_dir: str | None = None) -> None:
    """Train the built-in logloss and fastloss's focal objective; print held-out AP.

    Parameters
    ----------
    plots_dir : str, optional
        Unused (the task prints a table only); accepted like the other demo tasks.
    """
    name, library = _backend()
    print("Gradient boosting on a rare class (2% positives): built-in logloss against "
          "fastloss's focal loss as a custom objective.")
    if library is None:
        print("  Neither LightGBM nor XGBoost is installed. Enable this task with\n"
              "      pip install 'fastloss[boosting]'\n"
              "  (or pip install lightgbm / xgboost).")
        return
    train = _train_lightgbm if name == "lightgbm" else _train_xgboost
    x, y, x_test, y_test = _rare_class_data(seed=7)
    focal = fl.BinaryFocal(from_logits=True, **FOCAL)
    if name == "lightgbm":
        import fastloss.lightgbm as adapter
    else:
        import fastloss.xgboost as adapter
    start = adapter.init_score(focal, y)
    rows = []
    for label, objective, c in [("built-in logloss", None, 0.0),
                                (f"fastloss BinaryFocal(gamma={FOCAL['gamma']}, "
                                 f"alpha={FOCAL['alpha']})", focal, start)]:
        began = time.perf_counter()
        scores = train(library, x, y, x_test, objective, c)
        seconds = time.perf_counter() - began
        rows.append((label, average_precision(y_test, scores), seconds))
    print(f"  {name} {library.__version__}, {ROUNDS} rounds, {y.size} training rows "
          f"({int(y.sum())} positive), {y_test.size} held out ({int(y_test.sum())} positive)")
    width = max(len(r[0]) for r in rows)
    print(f"  {'objective':<{width}}  average precision  training")
    for label, ap, seconds in rows:
        print(f"  {label:<{width}}  {ap:17.4f}  {seconds:6.2f} s")
    gain = rows[1][1] - rows[0][1]
    verdict = "higher" if gain > 0 else "lower"
    print(f"  focal average precision is {abs(gain):.4f} {verdict} than logloss; the focal "
          f"objective starts at its optimal constant score {start:.3f} "
          "(fastloss init_score), as the built-in starts at the log-odds of the prior.")
