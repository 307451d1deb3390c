"""fastloss.xgboost: real XGBoost boosters trained with fastloss objectives match the
built-in objectives; sample weights, the scikit-learn forms, metrics, groups, errors."""

import numpy as np
import pytest

import fastloss as fl

xgb = pytest.importorskip("xgboost")
import fastloss.xgboost as fxgb  # noqa: E402

pytestmark = pytest.mark.one_kernel_set

ROUNDS = 15
BASE = {"max_depth": 3, "eta": 0.3, "tree_method": "hist", "nthread": 1, "seed": 0}


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


def margins(booster, x, **kw):
    return booster.predict(xgb.DMatrix(x, **kw), output_margin=True)


@pytest.mark.parametrize("weighted", [False, True])
def test_squared_error_matches_built_in(weighted):
    x, y, w = data("regression")
    w = w if weighted else None
    built = xgb.train({**BASE, "objective": "reg:squarederror"},
                      xgb.DMatrix(x, y, weight=w), ROUNDS)
    loss = fl.MeanSquaredError()
    # fastloss's MSE is twice XGBoost's (y - p)^2 / 2: doubling lambda and
    # min_child_weight makes every split and leaf the same.
    ours = xgb.train({**BASE, "reg_lambda": 2.0, "min_child_weight": 2.0,
                      "base_score": fxgb.init_score(loss, y, sample_weight=w)},
                     xgb.DMatrix(x, y, weight=w), ROUNDS, obj=fxgb.objective(loss))
    np.testing.assert_allclose(margins(ours, x), margins(built, x), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("weighted", [False, True])
def test_logistic_matches_built_in(weighted):
    x, y, w = data("binary")
    w = w if weighted else None
    built = xgb.train({**BASE, "objective": "binary:logistic"},
                      xgb.DMatrix(x, y, weight=w), ROUNDS)
    loss = fl.BinaryCrossEntropy(from_logits=True)
    ours = xgb.train({**BASE, "base_score": fxgb.init_score(loss, y, sample_weight=w)},
                     xgb.DMatrix(x, y, weight=w), ROUNDS, obj=fxgb.objective(loss))
    np.testing.assert_allclose(margins(ours, x), margins(built, x), rtol=1e-4, atol=1e-4)


def test_weights_change_the_model_as_built_in_weights_do():
    x, y, w = data("binary")
    loss = fl.BinaryCrossEntropy(from_logits=True)
    models = []
    for weight in (None, w):
        models.append(xgb.train(
            {**BASE, "base_score": fxgb.init_score(loss, y, sample_weight=weight)},
            xgb.DMatrix(x, y, weight=weight), ROUNDS, obj=fxgb.objective(loss)))
    built = [xgb.train({**BASE, "objective": "binary:logistic"},
                       xgb.DMatrix(x, y, weight=weight), ROUNDS) for weight in (None, w)]
    change = margins(models[1], x) - margins(models[0], x)
    built_change = margins(built[1], x) - margins(built[0], x)
    assert np.abs(built_change).max() > 0.1  # the weights matter
    np.testing.assert_allclose(change, built_change, atol=2e-4)


def test_softmax_matches_built_in_softprob():
    x, y, w = data("multiclass")
    k = 4
    loss = fl.SparseCategoricalCrossEntropy(from_logits=True)
    start = fxgb.init_score(loss, y, sample_weight=w)
    built = xgb.train({**BASE, "objective": "multi:softprob", "num_class": k},
                      xgb.DMatrix(x, y, weight=w), ROUNDS)
    base_margin = np.tile(start, (len(y), 1))
    ours = xgb.train({**BASE, "num_class": k},
                     xgb.DMatrix(x, y, weight=w, base_margin=base_margin), ROUNDS,
                     obj=fxgb.objective(loss))
    built_margin = margins(built, x)
    ours_margin = margins(ours, x, base_margin=base_margin)
    # softmax scores are defined up to a shift per row
    built_margin -= built_margin.mean(axis=1, keepdims=True)
    ours_margin -= ours_margin.mean(axis=1, keepdims=True)
    np.testing.assert_allclose(ours_margin, built_margin, rtol=1e-4, atol=2e-4)


def test_scikit_learn_forms_match_native():
    x, y, w = data("regression")
    loss = fl.Huber(delta=1.0)
    c = fxgb.init_score(loss, y, sample_weight=w)
    native = xgb.train({**BASE, "base_score": c}, xgb.DMatrix(x, y, weight=w), ROUNDS,
                       obj=fxgb.objective(loss))
    model = xgb.XGBRegressor(objective=fxgb.objective(loss), n_estimators=ROUNDS,
                             max_depth=3, learning_rate=0.3, tree_method="hist",
                             n_jobs=1, random_state=0, base_score=c)
    model.fit(x, y, sample_weight=w)
    np.testing.assert_allclose(model.predict(x), margins(native, x), rtol=1e-6, atol=1e-6)
    # the unweighted form (y_true, y_pred)
    xgb.XGBRegressor(objective=fxgb.objective(loss), n_estimators=2).fit(x, y)


def test_classifier_with_fastloss_objective():
    x, y, _ = data("binary")
    loss = fl.BinaryCrossEntropy(from_logits=True)
    c = fxgb.init_score(loss, y)
    model = xgb.XGBClassifier(objective=fxgb.objective(loss), n_estimators=ROUNDS,
                              max_depth=3, learning_rate=0.3, tree_method="hist",
                              n_jobs=1, base_score=1 / (1 + np.exp(-c)))
    model.fit(x, y)
    built = xgb.XGBClassifier(n_estimators=ROUNDS, max_depth=3, learning_rate=0.3,
                              tree_method="hist", n_jobs=1).fit(x, y)
    np.testing.assert_allclose(model.predict_proba(x), built.predict_proba(x), atol=1e-4)


def test_metric_native_and_scikit_learn():
    x, y, w = data("binary")
    loss = fl.BinaryCrossEntropy(from_logits=True)
    log = {}
    dtrain = xgb.DMatrix(x, y, weight=w)
    booster = xgb.train({**BASE, "disable_default_eval_metric": 1}, dtrain, 5,
                        obj=fxgb.objective(loss), custom_metric=fxgb.metric(loss),
                        evals=[(dtrain, "train")], evals_result=log, verbose_eval=False)
    value = log["train"]["BinaryCrossEntropy"][-1]
    assert value == pytest.approx(loss(y, margins(booster, x), sample_weight=w), rel=1e-5)
    model = xgb.XGBRegressor(objective=fxgb.objective(fl.MeanSquaredError()),
                             eval_metric=fxgb.metric(fl.MeanSquaredError(), name="mse2"),
                             n_estimators=3, n_jobs=1)
    model.fit(x, y, eval_set=[(x, y)], verbose=False)
    assert len(model.evals_result()["validation_0"]["mse2"]) == 3


def test_ranking_with_query_groups():
    rng = np.random.default_rng(3)
    queries, docs = 60, 12
    x = rng.normal(size=(queries * docs, 4))
    rel = np.clip(np.round(x[:, 0] + 0.5 * rng.normal(size=len(x)) + 1), 0, 3)
    qid = np.repeat(np.arange(queries), docs)
    dtrain = xgb.DMatrix(x, rel, qid=qid)
    loss = fl.LambdaRank(k=5)
    log = {}
    xgb.train({**BASE, "disable_default_eval_metric": 1}, dtrain, 10,
              obj=fxgb.objective(loss), custom_metric=fxgb.metric(loss),
              evals=[(dtrain, "train")], evals_result=log, verbose_eval=False)
    values = log["train"]["LambdaRank"]
    assert values[-1] < 0.8 * values[0]
    with pytest.raises(ValueError, match="query groups"):
        xgb.train(BASE, xgb.DMatrix(x, rel), 1, obj=fxgb.objective(loss))
    with pytest.raises(ValueError, match="query groups"):
        xgb.XGBRegressor(objective=fxgb.objective(loss), n_estimators=1).fit(x, rel)


def test_bad_inputs():
    x, y, _ = data("multiclass")
    with pytest.raises(TypeError, match="embedding"):
        fxgb.objective(fl.Triplet())
    with pytest.raises(ValueError, match="from_logits=True"):
        fxgb.objective(fl.BinaryCrossEntropy())
    with pytest.raises(ValueError, match="hessian_scale"):
        fxgb.objective(fl.MeanSquaredError(), hessian_scale=0.0)
    with pytest.raises(ValueError, match="multi-class loss such as"):
        xgb.train({**BASE, "num_class": 4}, xgb.DMatrix(x, y), 1,
                  obj=fxgb.objective(fl.MeanSquaredError()))
    with pytest.raises(ValueError, match=r"shape \(n, k\)"):
        xgb.train(BASE, xgb.DMatrix(x, y), 1,
                  obj=fxgb.objective(fl.SparseCategoricalCrossEntropy(from_logits=True)))
