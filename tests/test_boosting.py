"""What the boosting adapters share (fastloss._boosting), without a boosting library:
which losses are objectives, the derivatives and hessian policy, the loss-optimal
constant against closed forms, query groups, and the errors."""

import math

import numpy as np
import pytest

import fastloss as fl
from fastloss import _boosting
from fastloss import reference as ref

pytestmark = pytest.mark.one_kernel_set

RNG = np.random.default_rng(20240614)
DTYPES = [np.float64, np.float32]


def weights(n, rng=RNG):
    return rng.uniform(0.2, 3.0, n)


# ---- which losses are objectives --------------------------------------------------

def test_usable_losses_cover_every_non_embedding_loss():
    usable = _boosting.usable_losses()
    exported = {name for name in fl.__all__ if name[0].isupper()}
    assert set(usable) == exported - {"Contrastive", "Triplet", "BatchTriplet", "CosineEmbedding",
                                      "CosineSimilarity", "SupCon", "InfoNCE", "ArcFace",
                                      "CosFace", "NLL",
                                      "BoxIoU", "GaussianNLL", "CTC",
                                      "Dice", "Tversky"}
    assert {policy for _, policy in usable.values()} == {
        "exact", "surrogate", "bound", "floored"}


@pytest.mark.parametrize("loss", [fl.Contrastive(), fl.Triplet(), fl.BatchTriplet(),
                                  fl.CosineEmbedding(), fl.CosineSimilarity(), fl.SupCon(),
                                  fl.InfoNCE(), fl.ArcFace(), fl.CosFace()])
def test_embedding_losses_are_not_objectives(loss):
    with pytest.raises(TypeError, match="embedding loss"):
        _boosting.describe(loss)


@pytest.mark.parametrize("loss, match", [
    (fl.NLL(), "no minimum"), (fl.BoxIoU(), "not a boosting objective"),
    (fl.Dice(), "not a boosting objective"), (fl.GaussianNLL(), "not a boosting objective"),
    (fl.CTC(), "sequence loss"),
])
def test_nll_and_box_losses_are_not_objectives(loss, match):
    with pytest.raises(TypeError, match=match):
        _boosting.describe(loss)


@pytest.mark.parametrize("loss, match", [
    (fl.BinaryCrossEntropy(), "from_logits=True"),
    (fl.SparseCategoricalCrossEntropy(), "from_logits=True"),
    (fl.Poisson(log_input=False), "log_input=True"),
])
def test_probability_and_mean_inputs_are_refused(loss, match):
    with pytest.raises(ValueError, match=match):
        _boosting.describe(loss)


@pytest.mark.parametrize("bad", [fl.MeanSquaredError, "mse", None, np.mean])
def test_not_a_loss_instance(bad):
    with pytest.raises(TypeError):
        _boosting.describe(bad)


# ---- derivatives: w_i g_i and the hessian policy -------------------------------------

ELEMENTWISE_CASES = [
    (fl.MeanSquaredError(), "mse", {}, "regression"),
    (fl.Huber(delta=0.7), "huber", {"delta": 0.7}, "regression"),
    (fl.LogCosh(), "log_cosh", {}, "regression"),
    (fl.PseudoHuber(delta=2.0), "pseudo_huber", {"delta": 2.0}, "regression"),
    (fl.SmoothL1(beta=0.5), "smooth_l1", {"beta": 0.5}, "regression"),
    (fl.MeanAbsoluteError(), "mae", {}, "regression"),
    (fl.Quantile(quantile=0.8), "quantile", {"quantile": 0.8}, "regression"),
    (fl.Poisson(), "poisson", {}, "counts"),
    (fl.Tweedie(power=1.5), "tweedie", {"power": 1.5}, "counts"),
    (fl.BinaryCrossEntropy(from_logits=True), "binary_cross_entropy",
     {"from_logits": True}, "binary"),
    (fl.BinaryFocal(gamma=2.0, from_logits=True), "binary_focal",
     {"gamma": 2.0, "from_logits": True}, "binary"),
    (fl.Hinge(), "hinge", {}, "binary"),
    (fl.SquaredHinge(), "squared_hinge", {}, "binary"),
]


def elementwise_data(kind, n, dtype, rng=RNG):
    p = rng.normal(0.0, 2.0, n)
    if kind == "regression":
        y = p + rng.standard_t(2.0, n)
    elif kind == "counts":
        y = rng.poisson(np.exp(0.3 * p)).astype(float)
    else:
        y = (rng.uniform(size=n) < 1 / (1 + np.exp(-p))).astype(float)
    return y.astype(dtype), p.astype(dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("loss, name, params, kind", ELEMENTWISE_CASES,
                         ids=[case[1] for case in ELEMENTWISE_CASES])
def test_elementwise_derivatives_follow_the_policy(loss, name, params, kind, dtype):
    n = 500
    y, p = elementwise_data(kind, n, dtype)
    w = weights(n)
    spec = _boosting.describe(loss)
    g, h = spec.derivatives(y, p, w)
    assert g.dtype == dtype and h.dtype == dtype and g.shape == h.shape == (n,)
    y64, p64 = y.astype(float), p.astype(float)
    grad = getattr(ref, name + "_grad")(y64, p64, reduction="sum", sample_weight=w, **params)
    hess = getattr(ref, name + "_hess")(y64, p64, reduction="sum", sample_weight=w, **params)
    tol = 1e-10 if dtype == np.float64 else 2e-5
    np.testing.assert_allclose(g, grad, rtol=tol, atol=tol)
    policy = _boosting.HESSIAN_POLICY[type(loss).__name__]
    assert spec.policy == policy
    if policy == "exact":
        np.testing.assert_allclose(h, np.maximum(hess, 1e-16 * w), rtol=tol, atol=tol)
    elif policy == "surrogate":
        np.testing.assert_allclose(h, hess, rtol=tol, atol=tol)  # fastloss's surrogate
    elif policy == "bound":
        assert np.all(hess <= spec.bound * w * (1 + 1e-6))  # a majorizer of the curvature
        np.testing.assert_allclose(h, spec.bound * w, rtol=tol)
    else:  # floored: the exact hessian, at least |g| (a step of at most one unit)
        np.testing.assert_allclose(h, np.maximum(hess, np.abs(grad)), rtol=tol, atol=tol)
    assert np.all(h[w > 0] > 0) or policy in ("exact", "floored")
    assert np.all(h[np.abs(g) > 0] > 0)


def test_floored_focal_hessian_replaces_negative_curvature():
    p = np.linspace(-8.0, 8.0, 401)
    y = np.ones_like(p)
    loss = fl.BinaryFocal(gamma=2.0, alpha=None, from_logits=True, reduction="sum")
    _, exact = loss.gradient_hessian(y, p)
    assert (exact < 0).any()  # the focal loss is not convex
    g, h = _boosting.describe(loss).derivatives(y, p, None)
    assert np.all(h > 0) and np.all(np.abs(g) / h <= _boosting.MAX_STEP + 1e-12)


@pytest.mark.parametrize("dtype", DTYPES)
def test_multiclass_derivatives_scale_and_weights(dtype):
    n, k = 300, 4
    p = RNG.normal(size=(n, k)).astype(dtype)
    y = RNG.integers(0, k, n).astype(np.float32)
    w = weights(n)
    spec = _boosting.describe(fl.SparseCategoricalCrossEntropy(from_logits=True))
    g, h = spec.derivatives(y, p, w, 2.0)
    p64 = p.astype(float)
    grad = ref.sparse_categorical_cross_entropy_grad(y.astype(int), p64, from_logits=True,
                                                     reduction="sum", sample_weight=w)
    hess = ref.sparse_categorical_cross_entropy_hess(y.astype(int), p64, from_logits=True,
                                                     reduction="sum", sample_weight=w)
    tol = 1e-10 if dtype == np.float64 else 2e-5
    np.testing.assert_allclose(g, grad, rtol=tol, atol=tol)
    np.testing.assert_allclose(h, np.maximum(2.0 * hess, 1e-16 * w[:, None]), rtol=tol,
                               atol=tol)


@pytest.mark.parametrize("n_classes", [1, 2, 10, 16, 17])
@pytest.mark.parametrize("n", [1, 9, 1000, 20001])
def test_lightgbm_class_major_kernel_gives_the_row_major_derivatives(n_classes, n):
    """LightGBM's class-major (F-ordered) scores take a kernel of their own for plain
    softmax cross-entropy (up to 16 classes): bitwise the derivatives of the C-ordered
    scores with the hessian's scale and floor, cast to float32 in F order, with no
    transposition."""
    p = RNG.normal(size=(n, n_classes)) * 5.0
    p[0, 0] = 60.0  # a hessian under the floor
    y = RNG.integers(0, n_classes, n).astype(np.float32)
    spec = _boosting.describe(fl.SparseCategoricalCrossEntropy(from_logits=True))
    for w in (None, weights(n)):
        got = spec.lightgbm_class_major(y, np.asfortranarray(p), w, 1.5)
        if n_classes > 16:
            assert got is None
            continue
        g, h = spec.derivatives(y, p, w, 1.5)
        for ours, want in zip(got, (g, h), strict=True):
            assert ours.dtype == np.float32 and ours.flags.f_contiguous
            np.testing.assert_array_equal(ours, want.astype(np.float32))
    if n > 1 and n_classes > 1:  # C order takes the generic path
        assert spec.lightgbm_class_major(y, np.ascontiguousarray(p), None, 1.5) is None


@pytest.mark.parametrize("loss", [
    fl.SparseCategoricalCrossEntropy(from_logits=True, label_smoothing=0.1, reduction="sum"),
    fl.SparseCategoricalCrossEntropy(from_logits=True, class_weight=[1.0, 2.0, 3.0],
                                     reduction="sum"),
    fl.SparseCategoricalCrossEntropy(from_logits=True, ignore_index=1, reduction="sum"),
    fl.SparseCategoricalCrossEntropy(reduction="sum"),
    fl.SparseCategoricalCrossEntropy(from_logits=True),
    fl.SparseCategoricalFocal(from_logits=True, reduction="sum"),
])
def test_class_major_kernel_only_for_plain_summed_cross_entropy(loss):
    p = np.asfortranarray(RNG.random((20, 3)))
    labels = RNG.integers(0, 3, 20)
    assert loss._lightgbm_class_major(labels, p, None, 1.0, 0.0) is None
    plain = fl.SparseCategoricalCrossEntropy(from_logits=True, reduction="sum")
    assert plain._lightgbm_class_major(labels, np.ascontiguousarray(p), None, 1.0, 0.0) is None
    assert plain._lightgbm_class_major(labels, p.astype(np.float32), None, 1.0, 0.0) is None
    with pytest.raises(ValueError, match="class label"):
        plain._lightgbm_class_major([3] * 20, p, None, 1.0, 0.0)


@pytest.mark.parametrize("dense", [fl.CategoricalCrossEntropy(from_logits=True),
                                   fl.KLDivergence(from_logits=True),
                                   fl.CategoricalFocal(gamma=1.0, from_logits=True)])
def test_dense_target_losses_take_class_labels(dense):
    n, k = 50, 3
    p = RNG.normal(size=(n, k))
    labels = RNG.integers(0, k, n)
    onehot = np.eye(k)[labels]
    spec = _boosting.describe(dense)
    y, pc = _boosting.multiclass_inputs(spec, labels.astype(float), p)
    g, h = spec.derivatives(y, pc, None)
    g1, h1 = spec.derivatives(onehot, p, None)
    np.testing.assert_allclose(g, g1, atol=1e-12)
    np.testing.assert_allclose(h, h1, atol=1e-12)


def test_multiclass_inputs_errors():
    spec = _boosting.describe(fl.SparseCategoricalCrossEntropy(from_logits=True))
    with pytest.raises(ValueError, match=r"shape \(n, k\)"):
        _boosting.multiclass_inputs(spec, np.zeros(5), np.zeros(5))
    with pytest.raises(ValueError, match="integer class labels"):
        _boosting.multiclass_inputs(spec, np.zeros(15), np.zeros((5, 3)))
    with pytest.raises(ValueError, match="do not match"):
        _boosting.multiclass_inputs(spec, np.zeros(7), np.zeros((5, 3)))
    with pytest.raises(ValueError, match="class label"):
        spec.derivatives(np.array([0.0, 3.0]), np.zeros((2, 3)), None)
    elementwise = _boosting.describe(fl.MeanSquaredError())
    with pytest.raises(ValueError, match="multi-class loss such as"):
        _boosting.elementwise_inputs(elementwise, np.zeros(5), np.zeros((5, 3)))


# ---- ranking lists --------------------------------------------------------------------

@pytest.mark.parametrize("sizes", [[4, 4, 4], [3, 1, 5, 2]])
def test_ranking_lists_from_groups(sizes):
    n = sum(sizes)
    scores = RNG.normal(size=n)
    rel = RNG.integers(0, 4, n).astype(float)
    w = np.repeat(np.arange(1.0, len(sizes) + 1), sizes)
    lists = _boosting.Lists(sizes, n)
    spec = _boosting.describe(fl.LambdaRank(k=3))
    g, h = _boosting.ranking_derivatives(spec, lists, rel, scores, w)
    loss = fl.LambdaRank(k=3, reduction="sum")
    start = 0
    for i, size in enumerate(sizes):
        part = slice(start, start + size)
        gi, hi = loss.gradient_hessian(rel[None, part], scores[None, part],
                                       sample_weight=[i + 1.0])
        np.testing.assert_allclose(g[part], gi[0], atol=1e-12)
        np.testing.assert_allclose(h[part], np.maximum(hi[0], 1e-16 * (i + 1)), atol=1e-12)
        start += size
    assert _boosting.Lists.from_pointers(np.cumsum([0, *sizes]), n).sizes.tolist() == sizes


def test_ranking_errors():
    with pytest.raises(ValueError, match="summing to the number of samples"):
        _boosting.Lists([3, 3], 7)
    lists = _boosting.Lists([2, 2], 4)
    with pytest.raises(ValueError, match="equal within each query group"):
        lists.list_weights([1.0, 2.0, 1.0, 1.0])
    np.testing.assert_array_equal(lists.list_weights([1.0, 1.0, 3.0, 3.0]), [1.0, 3.0])


# ---- the loss-optimal constant ----------------------------------------------------------

def weighted_quantile(y, w, q):
    order = np.argsort(y)
    cum = np.cumsum(w[order]) / w.sum()
    return y[order][np.searchsorted(cum, q)]


@pytest.mark.parametrize("dtype", DTYPES)
def test_init_score_closed_forms(dtype):
    n = 1000
    y = RNG.normal(3.0, 2.0, n).astype(dtype)
    w = weights(n)
    mean = np.average(y.astype(float), weights=w)
    c = _boosting.optimal_constant(fl.MeanSquaredError(), y, w)
    assert isinstance(c, float) and c == pytest.approx(mean, rel=1e-12)
    c = _boosting.optimal_constant(fl.MeanAbsoluteError(), y, w)
    assert c == pytest.approx(weighted_quantile(y.astype(float), w, 0.5), rel=1e-9)
    c = _boosting.optimal_constant(fl.Quantile(quantile=0.9), y, w)
    assert c == pytest.approx(weighted_quantile(y.astype(float), w, 0.9), rel=1e-9)
    labels = (RNG.uniform(size=n) < 0.1).astype(dtype)
    prior = np.average(labels.astype(float), weights=w)
    c = _boosting.optimal_constant(fl.BinaryCrossEntropy(from_logits=True), labels, w)
    assert c == pytest.approx(math.log(prior / (1 - prior)), rel=1e-10)
    counts = RNG.poisson(2.5, n).astype(dtype)
    for loss in (fl.Poisson(), fl.Tweedie(power=1.5)):
        c = _boosting.optimal_constant(loss, counts, w)
        assert c == pytest.approx(math.log(np.average(counts.astype(float), weights=w)),
                                  rel=1e-10)


def test_init_score_huber_is_a_minimum():
    y = np.concatenate([RNG.normal(0.0, 1.0, 300), RNG.normal(30.0, 1.0, 20)])
    loss = fl.Huber(delta=1.0)
    c = _boosting.optimal_constant(loss, y)
    assert abs(c) < 1.0  # robust: not pulled to the mean (~1.9)
    assert abs(float(loss.gradient(y, np.full_like(y, c)).sum())) < 1e-9


def test_init_score_focal_is_a_minimum():
    y = (RNG.uniform(size=2000) < 0.05).astype(float)
    loss = fl.BinaryFocal(gamma=2.0, alpha=0.25, from_logits=True)
    c = _boosting.optimal_constant(loss, y)
    values = [loss(y, np.full_like(y, c + d)) for d in (-1e-3, 0.0, 1e-3)]
    assert values[1] <= min(values[0], values[2])


def test_init_score_multiclass_is_log_priors():
    rng = np.random.default_rng(7)  # its own data: the solver's accuracy depends on it
    n, k = 900, 4
    y = rng.choice(k, n, p=[0.5, 0.3, 0.15, 0.05]).astype(float)
    w = weights(n, rng)
    prior = np.bincount(y.astype(int), weights=w, minlength=k) / w.sum()
    for loss in (fl.SparseCategoricalCrossEntropy(from_logits=True),
                 fl.CategoricalCrossEntropy(from_logits=True)):
        c = _boosting.optimal_constant(loss, y, w)
        np.testing.assert_allclose(c, np.log(prior), rtol=1e-9)
    c = _boosting.optimal_constant(fl.SparseCategoricalCrossEntropy(from_logits=True), y,
                                   n_classes=6)
    assert c.shape == (6,) and c[4] == c[5] == pytest.approx(np.max(c) - _boosting.LOGIT_LIMIT,
                                                               abs=1e-6)


def test_init_score_multi_output_and_ranking():
    y = RNG.normal(size=(200, 3)) + [1.0, 2.0, 3.0]
    np.testing.assert_allclose(_boosting.optimal_constant(fl.MeanSquaredError(), y),
                               y.mean(axis=0), rtol=1e-12)
    assert _boosting.optimal_constant(fl.LambdaRank(), RNG.integers(0, 3, 50)) == 0.0


def test_init_score_errors():
    with pytest.raises(ValueError, match="every target is 0"):
        _boosting.optimal_constant(fl.Poisson(), np.zeros(10))
    with pytest.raises(ValueError, match="sums to 0"):
        _boosting.optimal_constant(fl.MeanSquaredError(), np.ones(3), np.zeros(3))
    with pytest.raises(ValueError, match="one weight per sample"):
        _boosting.optimal_constant(fl.MeanSquaredError(), np.ones(3), np.ones(4))
    with pytest.raises(ValueError, match="class labels"):
        _boosting.optimal_constant(fl.SparseCategoricalCrossEntropy(from_logits=True),
                                   [0.5, 1.0])
    with pytest.raises(ValueError, match="n_classes"):
        _boosting.optimal_constant(fl.SparseCategoricalCrossEntropy(from_logits=True),
                                   [0, 3], n_classes=3)
    with pytest.raises(ValueError, match="n_classes must be an integer"):
        _boosting.optimal_constant(fl.SparseCategoricalCrossEntropy(from_logits=True),
                                   [0, 1, 1], n_classes=2.5)
    with pytest.raises(ValueError, match="y_true"):
        _boosting.optimal_constant(fl.BinaryCrossEntropy(from_logits=True), [0.0, 2.0])
    # a single class: the constant is clamped at LightGBM's logit limit, not infinite
    c = _boosting.optimal_constant(fl.BinaryCrossEntropy(from_logits=True), np.ones(5))
    assert c == _boosting.LOGIT_LIMIT


@pytest.mark.parametrize("library", ["xgboost", "lightgbm", "catboost"])
def test_hessian_scale_must_be_finite_and_positive(library):
    pytest.importorskip(library)
    adapter = __import__(f"fastloss.{library}", fromlist=["objective"])
    loss = fl.SparseCategoricalCrossEntropy(from_logits=True)
    assert adapter.objective(loss, hessian_scale=np.float32(2.0)).hessian_scale == 2.0
    for bad in (math.inf, math.nan, 0.0, -1.0, True, "2"):
        with pytest.raises(ValueError, match="hessian_scale must be a finite number > 0"):
            adapter.objective(loss, hessian_scale=bad)
