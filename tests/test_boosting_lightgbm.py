"""fastloss.lightgbm: real LightGBM boosters trained with fastloss objectives match the
built-in objectives; weights, every call form, layouts, LambdaRank against LightGBM's
lambdarank, focal against logloss on a rare class, metrics, errors."""

import inspect

import numpy as np
import pytest

import fastloss as fl

lgb = pytest.importorskip("lightgbm")
import fastloss.lightgbm as flgb  # noqa: E402

pytestmark = pytest.mark.one_kernel_set

ROUNDS = 15
BASE = {"num_leaves": 7, "learning_rate": 0.3, "min_data_in_leaf": 20, "verbose": -1,
        "num_threads": 1, "seed": 0, "deterministic": True, "force_row_wise": True}


def data(kind, n=1500, seed=0):
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
    extra = extra or {}
    built = lgb.train({**BASE, **extra, "objective": built_in},
                      lgb.Dataset(x, y, weight=w), ROUNDS)
    c = flgb.init_score(loss, y, sample_weight=w)
    init = np.tile(c, (len(y), 1)) if np.ndim(c) else np.full(len(y), c)
    ours = lgb.train({**BASE, **extra, **(ours_extra or {}), "objective": flgb.objective(loss)},
                     lgb.Dataset(x, y, weight=w, init_score=init), ROUNDS)
    return built.predict(x, raw_score=True), ours.predict(x, raw_score=True) + c


@pytest.mark.parametrize("weighted", [False, True])
def test_squared_error_matches_built_in(weighted):
    # fastloss's MSE is twice LightGBM's: the same trees with min_sum_hessian doubled
    built, ours = train_pair("regression", "regression", fl.MeanSquaredError(), weighted,
                             ours_extra={"min_sum_hessian_in_leaf": 2e-3})
    np.testing.assert_allclose(ours, built, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("weighted", [False, True])
def test_logistic_matches_built_in(weighted):
    built, ours = train_pair("binary", "binary", fl.BinaryCrossEntropy(from_logits=True),
                             weighted)
    np.testing.assert_allclose(ours, built, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("weighted", [False, True])
def test_softmax_matches_built_in_multiclass(weighted):
    built, ours = train_pair("multiclass", "multiclass",
                             fl.SparseCategoricalCrossEntropy(from_logits=True), weighted,
                             extra={"num_class": 4})
    np.testing.assert_allclose(ours, built, rtol=1e-4, atol=1e-4)


def test_weights_change_the_model_as_built_in_weights_do():
    loss = fl.BinaryCrossEntropy(from_logits=True)
    built0, ours0 = train_pair("binary", "binary", loss, False)
    built1, ours1 = train_pair("binary", "binary", loss, True)
    assert np.abs(built1 - built0).max() > 0.1
    np.testing.assert_allclose(ours1 - ours0, built1 - built0, atol=2e-4)


def test_call_forms_agree():
    objective = flgb.objective(fl.Huber(delta=0.5))
    assert len(inspect.signature(objective).parameters) == 4  # LightGBM counts them
    x, y, w = data("regression", n=200)
    p = np.random.default_rng(1).normal(3.0, 1.0, 200)
    data_w = lgb.Dataset(x, y, weight=w, free_raw_data=False).construct()
    g_native, h_native = objective(p, data_w)
    y, w = data_w.get_label(), data_w.get_weight()  # the Dataset holds them as float32
    g3, h3 = objective(y, p, w)
    g4, h4 = objective(y, p, w, None)
    for g, h in ((g3, h3), (g4, h4)):
        np.testing.assert_array_equal(g, g_native)
        np.testing.assert_array_equal(h, h_native)
    g2, _ = objective(y, p)
    np.testing.assert_allclose(g3, g2 * w, rtol=1e-12)


def test_multiclass_layout_is_class_major_float32():
    n, k = 50, 3
    rng = np.random.default_rng(2)
    buffer = rng.normal(size=n * k)
    preds = buffer.reshape(n, k, order="F")  # LightGBM's view of its scores
    y = rng.integers(0, k, n).astype(np.float32)
    g, h = flgb.objective(fl.SparseCategoricalCrossEntropy(from_logits=True))(y, preds)
    assert g.dtype == np.float32 and g.flags.f_contiguous and h.flags.f_contiguous
    assert np.shares_memory(g.ravel(order="F"), g)  # LightGBM's ravel is a view
    p = np.exp(preds - preds.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(g, p - np.eye(k)[y.astype(int)], atol=1e-6)
    np.testing.assert_allclose(h, k / (k - 1) * p * (1 - p), atol=1e-6)


def ranking_data(queries, docs, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(queries * docs, 6))
    latent = x[:, 0] + 0.6 * x[:, 1] - 0.4 * x[:, 2] * x[:, 3] + 0.5 * rng.normal(size=len(x))
    rel = np.digitize(latent, [0.3, 1.2, 2.0]).astype(float)
    return x, rel, np.full(queries, docs)


def mean_ndcg_at_10(rel, scores, docs):
    r, s = rel.reshape(-1, docs), scores.reshape(-1, docs)
    order = np.argsort(-s, axis=1, kind="stable")[:, :10]
    discount = 1 / np.log2(np.arange(2, 12))
    dcg = ((2 ** np.take_along_axis(r, order, axis=1) - 1) * discount).sum(axis=1)
    ideal = ((2 ** -np.sort(-r, axis=1)[:, :10] - 1) * discount).sum(axis=1)
    return float(np.mean(np.where(ideal > 0, dcg / np.where(ideal > 0, ideal, 1), 1.0)))


def test_lambdarank_reaches_built_in_ndcg():
    docs = 20
    x, rel, group = ranking_data(300, docs, seed=4)
    xt, relt, _ = ranking_data(300, docs, seed=5)
    params = {**BASE, "learning_rate": 0.1, "num_leaves": 15}
    built = lgb.train({**params, "objective": "lambdarank"},
                      lgb.Dataset(x, rel, group=group), 60)
    ours = lgb.train({**params, "objective": flgb.objective(fl.LambdaRank(k=10))},
                     lgb.Dataset(x, rel, group=group), 60)
    ndcg_built = mean_ndcg_at_10(relt, built.predict(xt), docs)
    ndcg_ours = mean_ndcg_at_10(relt, ours.predict(xt), docs)
    assert ndcg_built > 0.7
    assert ndcg_ours >= ndcg_built - 0.02, (ndcg_ours, ndcg_built)


def test_ranking_with_unequal_groups_and_scikit_learn_ranker():
    x, rel, _ = ranking_data(40, 10, seed=6)
    group = np.array([5, 15, 10] * 13 + [10])
    ranker = lgb.LGBMRanker(objective=flgb.objective(fl.PairwiseLogistic()), n_estimators=5,
                            num_leaves=7, verbose=-1, n_jobs=1)
    ranker.fit(x, rel, group=group, eval_set=[(x, rel)], eval_group=[group],
               eval_metric=flgb.metric(fl.PairwiseLogistic()))
    (log,) = ranker.evals_result_.values()
    values = log["PairwiseLogistic"]
    assert values[-1] < values[0]
    with pytest.raises(ValueError, match="query groups"):
        lgb.train({**BASE, "objective": flgb.objective(fl.LambdaRank())}, lgb.Dataset(x, rel), 1)


def average_precision(y, s):
    order = np.argsort(-s, kind="stable")
    hits = y[order]
    return float((np.cumsum(hits) / np.arange(1, len(y) + 1) * hits).sum() / hits.sum())


def test_focal_against_logloss_on_a_rare_class():
    rng = np.random.default_rng(8)
    n = 12000
    x = rng.normal(size=(n, 8))
    score = (1.5 * x[:, 0] + x[:, 1] * x[:, 2] - np.abs(x[:, 3]) + 0.7 * np.sin(3 * x[:, 4])
             + rng.normal(size=n))
    y = (score > np.quantile(score, 0.97)).astype(float)
    train, test = slice(0, n // 2), slice(n // 2, n)
    params = {**BASE, "learning_rate": 0.1, "num_leaves": 15}
    built = lgb.train({**params, "objective": "binary"}, lgb.Dataset(x[train], y[train]), 80)
    loss = fl.BinaryFocal(gamma=2.0, alpha=0.25, from_logits=True)
    c = flgb.init_score(loss, y[train])
    ours = lgb.train({**params, "objective": flgb.objective(loss)},
                     lgb.Dataset(x[train], y[train], init_score=np.full(n // 2, c)), 80)
    ap_built = average_precision(y[test], built.predict(x[test], raw_score=True))
    ap_focal = average_precision(y[test], ours.predict(x[test], raw_score=True) + c)
    print(f"average precision: logloss {ap_built:.4f}, focal {ap_focal:.4f}")
    # measured: logloss 0.4693, focal 0.4757 (docs/boosting.rst)
    assert ap_focal > 0.4
    assert ap_focal >= ap_built - 0.01, (ap_focal, ap_built)


def test_metric_forms():
    x, y, w = data("binary", n=400)
    loss = fl.BinaryCrossEntropy(from_logits=True)
    metric = flgb.metric(loss)
    assert len(inspect.signature(metric).parameters) == 4
    p = np.random.default_rng(3).normal(size=400)
    name, value, higher = metric(y, p, w)
    assert (name, higher) == ("BinaryCrossEntropy", False)
    assert value == pytest.approx(loss(y, p, sample_weight=w), rel=1e-12)
    dataset = lgb.Dataset(x, y, weight=w).construct()
    assert metric(p, dataset)[1] == pytest.approx(value, rel=1e-6)
    log = {}
    lgb.train({**BASE, "objective": flgb.objective(loss), "metric": "None"},
              lgb.Dataset(x, y), 3, valid_sets=[lgb.Dataset(x, y)], feval=metric,
              callbacks=[lgb.record_evaluation(log)])
    assert len(log["valid_0"]["BinaryCrossEntropy"]) == 3


def test_bad_inputs():
    x, y, _ = data("multiclass", n=200)
    with pytest.raises(TypeError, match="embedding"):
        flgb.objective(fl.BatchTriplet())
    with pytest.raises(ValueError, match="multi-class loss such as"):
        lgb.train({**BASE, "objective": flgb.objective(fl.MeanSquaredError()), "num_class": 4},
                  lgb.Dataset(x, y), 1)
    with pytest.raises(ValueError, match=r"shape \(n, k\)"):
        lgb.train({**BASE, "objective": flgb.objective(
            fl.SparseCategoricalCrossEntropy(from_logits=True))}, lgb.Dataset(x, y), 1)
    with pytest.raises(ValueError, match="class label"):
        flgb.objective(fl.SparseCategoricalCrossEntropy(from_logits=True))(
            np.array([0.0, 5.0]), np.zeros((2, 3), order="F"))
