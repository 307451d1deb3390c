"""fastloss.metrics against scikit-learn on random and edge-case inputs."""

import warnings

import numpy as np
import pytest

from fastloss import metrics as M

pytestmark = pytest.mark.one_kernel_set
skm = pytest.importorskip("sklearn.metrics")

RTOL = 1e-12


def rng(seed=0):
    return np.random.default_rng(seed)


def quiet(function, *args, **kwargs):
    """Call with warnings silenced (scikit-learn's UndefinedMetricWarning etc.)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return function(*args, **kwargs)


def sk_log_loss(y, p, **kwargs):
    try:
        return quiet(skm.log_loss, y, y_proba=p, **kwargs)
    except TypeError:  # scikit-learn < 1.9 names it y_pred
        return quiet(skm.log_loss, y, p, **kwargs)


# ---- labels: accuracy, precision, recall, F1 ---------------------------------------

LABEL_CASES = {
    "binary": lambda r: (r.integers(0, 2, 300), r.integers(0, 2, 300)),
    "multiclass": lambda r: (r.integers(0, 5, 300), r.integers(0, 5, 300)),
    "offset ints": lambda r: (r.integers(-3, 2, 200), r.integers(-3, 3, 200)),
    "strings": lambda r: (r.choice(np.array(["cat", "dog", "eel"]), 200),
                          r.choice(np.array(["cat", "dog", "eel"]), 200)),
    "missing class in y_pred": lambda r: (r.integers(0, 4, 100), r.integers(0, 2, 100)),
    "float labels": lambda r: (r.integers(0, 3, 100).astype(float),
                               r.integers(0, 3, 100).astype(float)),
    "one class only": lambda r: (np.zeros(50, int), np.zeros(50, int)),
}


@pytest.mark.parametrize("case", list(LABEL_CASES))
@pytest.mark.parametrize("weighted", [False, True])
def test_label_metrics_match_sklearn(case, weighted):
    r = rng(1)
    y, p = LABEL_CASES[case](r)
    w = r.uniform(0, 2, y.size) if weighted else None
    assert M.accuracy(y, p, sample_weight=w) == pytest.approx(
        skm.accuracy_score(y, p, sample_weight=w), rel=RTOL)
    assert M.accuracy(y, p, normalize=False, sample_weight=w) == pytest.approx(
        skm.accuracy_score(y, p, normalize=False, sample_weight=w), rel=RTOL)
    n_labels = np.unique(np.concatenate([y, p])).size
    averages = ["micro", "macro", "weighted", None] + (["binary"] if n_ids(y, p) else [])
    for mine, theirs in ((M.precision, skm.precision_score), (M.recall, skm.recall_score),
                         (M.f1_score, skm.f1_score)):
        for average in averages:
            if average == "binary" and n_labels > 2:
                continue
            pos = {"pos_label": pos_label(y, p)} if average == "binary" else {}
            for zero_division in ("warn", 0.0, 1.0, np.nan):
                got = quiet(mine, y, p, average=average, sample_weight=w,
                            zero_division=zero_division, **pos)
                want = quiet(theirs, y, p, average=average, sample_weight=w,
                             zero_division=zero_division, **pos)
                np.testing.assert_allclose(got, want, rtol=RTOL, equal_nan=True,
                                           err_msg=f"{mine.__name__} {average} {zero_division}")


def n_ids(y, p):
    return np.unique(np.concatenate([y, p])).size <= 2


def pos_label(y, p):
    labels = np.unique(np.concatenate([y, p]))
    return labels[-1].item() if labels.size == 2 else 1 if labels.dtype.kind in "iuf" else (
        labels[0].item())


def test_labels_argument_selects_and_orders_labels():
    r = rng(2)
    y, p = r.integers(0, 5, 200), r.integers(0, 5, 200)
    for labels in ([3, 1], [0, 4, 7]):
        for average in ("micro", "macro", "weighted", None):
            got = quiet(M.f1_score, y, p, labels=labels, average=average)
            want = quiet(skm.f1_score, y, p, labels=labels, average=average)
            np.testing.assert_allclose(got, want, rtol=RTOL)


def test_zero_division_warns_like_sklearn():
    y, p = np.array([0, 0, 1]), np.array([0, 0, 0])
    with pytest.warns(M.UndefinedMetricWarning, match="Precision is ill-defined"):
        assert M.precision(y, p) == 0.0
    assert M.precision(y, p, zero_division=1.0) == 1.0


def test_label_metric_errors():
    with pytest.raises(ValueError, match="average='binary'"):
        M.precision([0, 1, 2], [0, 1, 1])
    with pytest.raises(ValueError, match="pos_label=2 is not a valid label"):
        M.recall([0, 1, 1], [0, 1, 0], pos_label=2)
    with pytest.raises(ValueError, match="empty"):
        M.accuracy([], [])
    with pytest.raises(ValueError, match="different numbers of samples"):
        M.f1_score([0, 1], [0, 1, 1])
    with pytest.raises(ValueError, match="continuous"):
        M.accuracy([0.5, 1.0], [0.5, 1.0])
    with pytest.raises(TypeError, match="mix strings and numbers"):
        M.accuracy(["a", "b"], [0, 1])
    with pytest.raises(ValueError, match="average must be one of"):
        M.f1_score([0, 1], [0, 1], average="samples")
    with pytest.raises(ValueError, match="zero_division"):
        M.f1_score([0, 1], [0, 1], zero_division=0.5)
    with pytest.raises(ValueError, match="1-D"):
        M.accuracy([[0, 1]], [[0, 1]])
    with pytest.raises(ValueError, match="sample_weight must have shape"):
        M.accuracy([0, 1], [0, 1], sample_weight=[1.0])


# ---- scores: ROC AUC, average precision, log-loss ------------------------------------

def score_cases():
    r = rng(3)
    y = r.integers(0, 2, 500)
    yield "continuous", y, r.normal(size=500) + y
    yield "heavy ties", y, np.round(r.normal(size=500) + y, 1)
    yield "all tied", y, np.zeros(500)
    yield "perfect", y, y * 2.0 - 1
    yield "reversed", y, 1.0 - y
    yield "string labels", np.where(y == 1, "spam", "ham"), r.normal(size=500) + y
    yield "bool labels", y.astype(bool), r.integers(0, 5, 500).astype(float)
    yield "float32", y, (r.normal(size=500) + y).astype(np.float32)


@pytest.mark.parametrize("case", list(score_cases()), ids=lambda c: c[0])
@pytest.mark.parametrize("weighted", [False, True])
def test_roc_auc_and_average_precision_match_sklearn(case, weighted):
    _, y, s = case
    w = rng(4).uniform(0, 3, y.size) if weighted else None
    assert M.roc_auc(y, s, sample_weight=w) == pytest.approx(
        skm.roc_auc_score(y, s, sample_weight=w), rel=RTOL)
    pos = "spam" if y.dtype.kind == "U" else True if y.dtype == bool else 1
    assert M.average_precision(y, s, pos_label=pos, sample_weight=w) == pytest.approx(
        skm.average_precision_score(y, s, pos_label=pos, sample_weight=w), rel=RTOL)


def test_zero_weights_do_not_count():
    r = rng(5)
    y, s = r.integers(0, 2, 300), r.normal(size=300)
    w = r.uniform(0, 1, 300) * (r.random(300) < 0.6)
    assert M.roc_auc(y, s, sample_weight=w) == pytest.approx(
        skm.roc_auc_score(y, s, sample_weight=w), rel=RTOL)
    assert M.average_precision(y, s, sample_weight=w) == pytest.approx(
        skm.average_precision_score(y, s, sample_weight=w), rel=RTOL)


def test_score_metric_errors():
    with pytest.raises(ValueError, match="only one class"):
        M.roc_auc([1, 1, 1], [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="no positive sample"):
        M.average_precision([0, 0, 0], [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="more than two labels"):
        M.roc_auc([0, 1, 2], [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="NaN"):
        M.roc_auc([0, 1], [0.1, np.nan])
    with pytest.raises(ValueError, match="empty"):
        M.roc_auc([], [])
    with pytest.raises(ValueError, match="pos_label=3"):
        M.average_precision([0, 1], [0.1, 0.2], pos_label=3)
    with pytest.raises(TypeError, match="numeric"):
        M.roc_auc([0, 1], ["a", "b"])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("weighted", [False, True])
def test_log_loss_matches_sklearn(dtype, weighted):
    r = rng(6)
    y = r.integers(0, 2, 400)
    p = r.uniform(0, 1, 400).astype(dtype)
    p[:5] = [0.0, 1.0, 0.0, 1.0, 0.5]  # clipped to [eps, 1 - eps]
    w = r.uniform(0, 2, 400) if weighted else None
    rtol = RTOL if dtype == np.float64 else 1e-6
    assert M.log_loss(y, p, sample_weight=w) == pytest.approx(
        sk_log_loss(y, p, sample_weight=w), rel=rtol)
    assert M.log_loss(y, p, sample_weight=w, normalize=False) == pytest.approx(
        sk_log_loss(y, p, sample_weight=w, normalize=False), rel=rtol)
    labels = r.choice(np.array(["a", "b", "c"]), 400)
    proba = r.dirichlet([1.0, 1.0, 1.0], 400).astype(dtype)
    assert M.log_loss(labels, proba, sample_weight=w) == pytest.approx(
        sk_log_loss(labels, proba, sample_weight=w), rel=rtol)
    # Classes of y_true missing: named through labels.
    few = r.integers(0, 2, 400)
    assert M.log_loss(few, proba, labels=[0, 1, 2]) == pytest.approx(
        sk_log_loss(few, proba, labels=[0, 1, 2]), rel=rtol)


def test_log_loss_errors():
    with pytest.raises(ValueError, match="only one label"):
        M.log_loss([1, 1], [0.3, 0.9])
    with pytest.raises(ValueError, match="greater than 1"):
        M.log_loss([0, 1], [0.3, 1.5])
    with pytest.raises(ValueError, match="columns"):
        M.log_loss([0, 1, 2], np.full((3, 2), 0.5))
    with pytest.raises(ValueError, match="not in labels"):
        M.log_loss([0, 3], np.full((2, 2), 0.5), labels=[0, 1])
    with pytest.warns(UserWarning, match="sum to one"):
        M.log_loss([0, 1], np.full((2, 2), 0.3))


# ---- regression -------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("shape", [(300,), (300, 3)])
def test_regression_metrics_match_sklearn(dtype, weighted, shape):
    r = rng(7)
    y = r.normal(size=shape).astype(dtype)
    p = (y + r.normal(scale=0.5, size=shape)).astype(dtype)
    w = r.uniform(0, 2, shape[0]) if weighted else None
    rtol = RTOL if dtype == np.float64 else 2e-6
    outputs = ["uniform_average", "raw_values"] + (
        [np.array([0.2, 0.3, 0.5])] if len(shape) == 2 else [])
    for multioutput in outputs:
        np.testing.assert_allclose(
            M.rmse(y, p, sample_weight=w, multioutput=multioutput),
            skm.root_mean_squared_error(y, p, sample_weight=w, multioutput=multioutput),
            rtol=rtol)
        np.testing.assert_allclose(
            M.mae(y, p, sample_weight=w, multioutput=multioutput),
            skm.mean_absolute_error(y, p, sample_weight=w, multioutput=multioutput),
            rtol=rtol)
    for multioutput in [*outputs, "variance_weighted"]:
        np.testing.assert_allclose(
            M.r2(y, p, sample_weight=w, multioutput=multioutput),
            skm.r2_score(y, p, sample_weight=w, multioutput=multioutput), rtol=rtol)


def test_r2_of_constant_targets_follows_sklearn():
    y = np.ones((5, 2))
    p = np.ones((5, 2))
    p[0, 1] = 2.0
    for force_finite in (True, False):
        for multioutput in ("raw_values", "uniform_average", "variance_weighted"):
            np.testing.assert_equal(
                M.r2(y, p, force_finite=force_finite, multioutput=multioutput),
                quiet(skm.r2_score, y, p, force_finite=force_finite,
                      multioutput=multioutput))


def test_regression_errors():
    with pytest.raises(ValueError, match="one shape"):
        M.rmse([1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match="at least two samples"):
        M.r2([1.0], [1.0])
    with pytest.raises(ValueError, match="NaN"):
        M.mae([1.0, np.nan], [1.0, 2.0])
    with pytest.raises(ValueError, match="NaN"):
        M.rmse([1.0, np.inf], [1.0, 2.0])
    with pytest.raises(ValueError, match="empty"):
        M.mae([], [])
    with pytest.raises(ValueError, match="multioutput"):
        M.rmse([[1.0, 2.0]], [[1.0, 2.0]], multioutput="bad")
    with pytest.raises(ValueError, match="sums to zero"):
        M.rmse([1.0, 2.0], [1.0, 2.0], sample_weight=[0.0, 0.0])


# ---- ranking ----------------------------------------------------------------------

@pytest.mark.parametrize("k", [None, 1, 3, 10, 50])
@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
def test_ndcg_matches_sklearn(k, ties, weighted):
    r = rng(8)
    relevance = r.integers(0, 4, (60, 12)).astype(float)
    relevance[:3] = 0  # lists without relevant items score 0
    scores = r.normal(size=(60, 12))
    if ties:
        scores = np.round(scores)
    w = r.uniform(0, 2, 60) if weighted else None
    assert M.ndcg_at_k(relevance, scores, k=k, sample_weight=w) == pytest.approx(
        skm.ndcg_score(relevance, scores, k=k, sample_weight=w), rel=RTOL)
    if not ties:
        assert M.ndcg_at_k(relevance, scores, k=k, ignore_ties=True) == pytest.approx(
            skm.ndcg_score(relevance, scores, k=k, ignore_ties=True), rel=RTOL)


def test_ndcg_exponential_gains_by_hand():
    relevance = np.array([[3.0, 0.0, 1.0]])
    scores = np.array([[0.0, 2.0, 1.0]])  # order: item 1, 2, 0
    discounts = 1 / np.log2([2.0, 3.0, 4.0])
    dcg = np.array([0.0, 1.0, 7.0]) @ discounts
    ideal = np.array([7.0, 1.0, 0.0]) @ discounts
    assert M.ndcg_at_k(relevance, scores, gains="exponential") == pytest.approx(dcg / ideal)
    with pytest.raises(ValueError, match="<= 1000 with exponential gains"):
        M.ndcg_at_k([[1100.0, 0.0]], [[1.0, 0.0]], gains="exponential")
    assert M.ndcg_at_k([[1100.0, 0.0]], [[1.0, 0.0]]) == 1.0  # linear gains: any size
    for dtype in (np.float16, np.float32):  # gains in double whatever the dtype
        rel = np.array([[200.0, 100.0, 0.0]], dtype)
        assert M.ndcg_at_k(rel, np.array([[0.0, 1.0, 2.0]], dtype), gains="exponential") == (
            pytest.approx((1 / np.log2(4) + 2.0**-100 / np.log2(3)) / (1 + 2.0**-100 / np.log2(3))))


def test_mrr_matches_label_ranking_average_precision_with_one_relevant_item():
    r = rng(9)
    labels = r.integers(0, 8, 200)
    relevance = np.eye(8)[labels]
    for scores in (r.normal(size=(200, 8)), np.round(r.normal(size=(200, 8)))):
        assert M.mrr(relevance, scores) == pytest.approx(
            skm.label_ranking_average_precision_score(relevance, scores), rel=RTOL)
    w = r.uniform(0, 1, 200)
    assert M.mrr(relevance, scores, sample_weight=w) == pytest.approx(
        skm.label_ranking_average_precision_score(relevance, scores, sample_weight=w),
        rel=RTOL)


def test_mrr_and_recall_at_k_by_hand():
    relevance = np.array([[0, 2, 0, 1], [0, 0, 0, 0], [1, 0, 0, 0]])
    scores = np.array([[0.9, 0.5, 0.7, 0.1], [1, 2, 3, 4], [0.0, 0.0, 0.0, 0.0]])
    # Row 0: first relevant (item 1) at rank 3; row 1 has none (left out);
    # row 2: all tied, pessimistic rank 4.
    assert M.mrr(relevance, scores) == pytest.approx((1 / 3 + 1 / 4) / 2)
    assert M.mrr(relevance, scores, k=3) == pytest.approx((1 / 3 + 0) / 2)
    # Row 0 top 3: items 0, 2, 1 -> one of its two relevant; row 2: none (ties).
    assert M.recall_at_k(relevance, scores, k=3) == pytest.approx((1 / 2 + 0) / 2)
    assert M.recall_at_k(relevance, scores, k=4) == pytest.approx(1.0)


@pytest.mark.parametrize("k", [1, 2, 5])
def test_recall_at_k_matches_top_k_accuracy(k):
    r = rng(10)
    labels = r.integers(0, 6, 300)
    scores = r.normal(size=(300, 6))
    assert M.recall_at_k(np.eye(6)[labels], scores, k=k) == pytest.approx(
        skm.top_k_accuracy_score(labels, scores, k=k, labels=np.arange(6)), rel=RTOL)


def test_ranking_errors():
    with pytest.raises(ValueError, match="one shape"):
        M.ndcg_at_k(np.ones((2, 3)), np.ones((2, 4)))
    with pytest.raises(ValueError, match="non-negative"):
        M.ndcg_at_k(-np.ones((2, 3)), np.ones((2, 3)))
    with pytest.raises(ValueError, match="2-D"):
        M.mrr([1, 0], [0.5, 0.2])
    with pytest.raises(ValueError, match="no list has a relevant item"):
        M.recall_at_k(np.zeros((2, 3)), np.ones((2, 3)), k=1)
    with pytest.raises(ValueError, match="k must be an integer"):
        M.recall_at_k(np.ones((2, 3)), np.ones((2, 3)), k=0)
    with pytest.raises(ValueError, match="at least two items"):
        M.ndcg_at_k(np.ones((2, 1)), np.ones((2, 1)))
    with pytest.raises(ValueError, match="gains"):
        M.ndcg_at_k(np.ones((2, 3)), np.ones((2, 3)), gains="log")
    with pytest.raises(ValueError, match="empty"):
        M.ndcg_at_k(np.ones((0, 3)), np.ones((0, 3)))
