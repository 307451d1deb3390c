"""fastloss.catboost: CatBoost models trained with fastloss objectives match the
built-in Logloss and RMSE; weights, the vectorized and multi-class paths, metrics,
errors."""

import numpy as np
import pytest

import fastloss as fl

cb = pytest.importorskip("catboost")
import fastloss.catboost as fcb  # noqa: E402

pytestmark = pytest.mark.one_kernel_set

ROUNDS = 10
BASE = {"iterations": ROUNDS, "depth": 3, "learning_rate": 0.3, "boosting_type": "Plain",
        "bootstrap_type": "No", "random_strength": 0.0, "random_seed": 0, "thread_count": 1,
        "leaf_estimation_method": "Newton", "leaf_estimation_iterations": 1,
        "verbose": False, "allow_writing_files": False}


def data(kind, n=1000, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 5))
    score = x[:, 0] + 0.5 * x[:, 1] * x[:, 2] + 0.3 * rng.normal(size=n)
    if kind == "regression":
        y = 3.0 + 2.0 * score
    elif kind == "binary":
        y = (score + rng.normal(size=n) > 1.0).astype(float)
    else:
        y = np.digitize(score + rng.normal(size=n), [-0.8, 0.2, 1.0]).astype(float)
    return x, y, rng.uniform(0.2, 3.0, n)


def train_pair(kind, built_in, loss, weighted, extra=None, ours_extra=None):
    x, y, w = data(kind)
    w = w if weighted else None
    built = cb.CatBoost({**BASE, **(extra or {}), "loss_function": built_in,
                         "boost_from_average": True})
    built.fit(cb.Pool(x, y, weight=w))
    c = fcb.init_score(loss, y, sample_weight=w)
    ours = cb.CatBoost({**BASE, **(extra or {}), **(ours_extra or {}),
                        "loss_function": fcb.objective(loss), "eval_metric": fcb.metric(loss)})
    ours.fit(cb.Pool(x, y, weight=w, baseline=np.full(len(y), c)))
    ours.set_scale_and_bias(1.0, c)
    raw = {"prediction_type": "RawFormulaVal"}
    return built.predict(x, **raw), ours.predict(x, **raw)


@pytest.mark.parametrize("weighted", [False, True])
def test_logistic_matches_built_in_logloss(weighted):
    built, ours = train_pair("binary", "Logloss", fl.BinaryCrossEntropy(from_logits=True),
                             weighted)
    np.testing.assert_allclose(ours, built, rtol=1e-4, atol=1e-4)


def test_squared_error_matches_built_in_rmse():
    # fastloss's MSE is twice CatBoost's RMSE objective (y - p)^2 / 2. CatBoost's Cosine
    # split score regularizes as if each object's hessian were 1, so no l2_leaf_reg makes
    # the two identical except 0 (Huber with a huge delta, the same scale, matches at any).
    built, ours = train_pair("regression", "RMSE", fl.MeanSquaredError(), False,
                             extra={"l2_leaf_reg": 0.0})
    np.testing.assert_allclose(ours, built, rtol=1e-4, atol=1e-4)
    built, ours = train_pair("regression", "RMSE", fl.Huber(delta=1e6), True)
    np.testing.assert_allclose(ours, built, rtol=1e-4, atol=1e-4)


def test_vectorized_derivatives_are_negated():
    objective = fcb.objective(fl.BinaryCrossEntropy(from_logits=True))
    assert objective.no_jit
    z = np.array([-1.0, 0.0, 2.0])
    y = np.array([0.0, 1.0, 1.0], dtype=np.float32)
    w = np.array([1.0, 2.0, 0.5], dtype=np.float32)
    ders = objective.calc_ders_range(z, y, w)
    p = 1 / (1 + np.exp(-z))
    assert ders.shape == (3, 2) and ders.dtype == np.float64
    np.testing.assert_allclose(ders[:, 0], w * (y - p), rtol=1e-7)
    np.testing.assert_allclose(ders[:, 1], -w * p * (1 - p), rtol=1e-7)


def test_multiclass_through_calc_ders_multi():
    x, y, _ = data("multiclass", n=400)
    loss = fl.SparseCategoricalCrossEntropy(from_logits=True)
    objective = fcb.objective(loss)
    g, h = objective.calc_ders_multi(np.array([0.0, 1.0, -1.0, 0.5]), 2.0, 2.0)
    p = np.exp([0.0, 1.0, -1.0, 0.5])
    p /= p.sum()
    np.testing.assert_allclose(g, -2.0 * (p - np.eye(4)[2]), rtol=1e-12)
    np.testing.assert_allclose(h, np.diag(-2.0 * p * (1 - p)), rtol=1e-12)
    model = cb.CatBoostClassifier(**{**BASE, "iterations": 5}, loss_function=objective,
                                  classes_count=4, eval_metric=fcb.metric(loss))
    model.fit(x, y, eval_set=(x, y))
    history = model.get_evals_result()["validation"]
    values = next(v for key, v in history.items() if "SparseCategoricalCrossEntropy" in key
                  or key.startswith("fastloss") or key != "MultiClass")
    assert values[-1] < values[0]


def test_metric():
    x, y, w = data("binary", n=300)
    loss = fl.BinaryCrossEntropy(from_logits=True)
    metric = fcb.metric(loss)
    z = np.random.default_rng(1).normal(size=300)
    error, weight = metric.evaluate([z], y, w)
    assert metric.get_final_error(error, weight) == pytest.approx(
        loss(y, z, sample_weight=w), rel=1e-12)
    assert metric.is_max_optimal() is False


def test_bad_inputs():
    with pytest.raises(ValueError, match="query groups"):
        fcb.objective(fl.LambdaRank())
    with pytest.raises(TypeError, match="embedding"):
        fcb.objective(fl.Contrastive())
    with pytest.raises(ValueError, match="multi-class loss"):
        fcb.objective(fl.SparseCategoricalCrossEntropy(from_logits=True)).calc_ders_range(
            np.zeros(3), np.zeros(3), None)
    x, y, _ = data("binary", n=100)
    with pytest.raises(Exception, match="from_logits"):
        cb.CatBoost({**BASE, "loss_function": fcb.objective(fl.BinaryCrossEntropy())}).fit(x, y)
