"""A user's program that calls every public class and function of fastloss.

tests/test_typing.py type-checks it with ``mypy --strict`` (and pyright, when it is
installed) against the installed package and runs it. ``assert_type`` pins the type
each call gives (an annotation that decays to Any fails the check), the values of
every shortcut and class are assigned to ``float`` and array variables for each
reduction, and each ``# type: ignore[...]`` marks a call the annotations must reject
(under --strict an ignore that is not needed is itself an error). The file is not a
test module: pytest does not collect it.
"""

from __future__ import annotations

import pickle
import sys
from typing import Any, Literal, Protocol

import numpy as np
from numpy.typing import ArrayLike, NDArray

import fastloss as fl

if sys.version_info >= (3, 11):
    from typing import assert_type
else:
    from typing_extensions import assert_type

FloatArray = NDArray[np.floating[Any]]
Value = float | FloatArray
Strategy = Literal["hard", "semihard", "all"]


class PredictionLoss(Protocol):
    """What a training loop needs of a loss over (y_true, y_pred)."""

    exact_hessian: bool

    def __call__(
        self, y_true: ArrayLike, y_pred: ArrayLike, *, sample_weight: ArrayLike | None = ...
    ) -> Value: ...

    def gradient(
        self, y_true: ArrayLike, y_pred: ArrayLike, *,
        sample_weight: ArrayLike | None = ..., out: FloatArray | None = ...,
    ) -> FloatArray: ...

    def value_and_gradient(
        self, y_true: ArrayLike, y_pred: ArrayLike, *,
        sample_weight: ArrayLike | None = ..., out: FloatArray | None = ...,
    ) -> tuple[Value, FloatArray]: ...

    def gradient_hessian(
        self, y_true: ArrayLike, y_pred: ArrayLike, *, sample_weight: ArrayLike | None = ...
    ) -> tuple[FloatArray, FloatArray]: ...


class RankingLoss(Protocol):
    """What a learning-to-rank loop needs of a ranking loss."""

    def __call__(
        self, relevance: ArrayLike, scores: ArrayLike, *, where: ArrayLike | None = ...,
        sample_weight: ArrayLike | None = ...,
    ) -> Value: ...

    def value_and_gradient(
        self, relevance: ArrayLike, scores: ArrayLike, *, where: ArrayLike | None = ...,
        sample_weight: ArrayLike | None = ..., out: FloatArray | None = ...,
    ) -> tuple[Value, FloatArray]: ...

    def gradient_hessian(
        self, relevance: ArrayLike, scores: ArrayLike, *, where: ArrayLike | None = ...,
        sample_weight: ArrayLike | None = ...,
    ) -> tuple[FloatArray, FloatArray]: ...


def as_float(value: Value) -> float:
    """The value of a "mean" or "sum" reduction."""
    assert isinstance(value, float)
    return value


def check_values(mean: float, total: float, each: FloatArray) -> None:
    """The run-time types behind the static ones of a "mean", "sum" and "none" value."""
    assert isinstance(mean, float) and isinstance(total, float)
    assert isinstance(each, np.ndarray) and each.dtype.kind == "f"


def fit_linear(loss: PredictionLoss, X: FloatArray, y: FloatArray, steps: int) -> FloatArray:
    """Gradient descent on a linear model: what a user does with value_and_gradient."""
    coef = np.zeros(X.shape[1])
    for _ in range(steps):
        value, grad = loss.value_and_gradient(y, X @ coef)
        assert np.isfinite(as_float(value))
        coef -= 0.1 * (X.T @ grad)
    return coef


def newton_step(loss: PredictionLoss, y: ArrayLike, raw: FloatArray) -> FloatArray:
    """One boosting-style step from the gradient and the (surrogate) hessian."""
    grad, hess = loss.gradient_hessian(y, raw, sample_weight=np.ones(raw.shape[0]))
    return raw - grad / np.maximum(hess, 1e-12)


rng = np.random.default_rng(0)
n = 16

# ---- regression ---------------------------------------------------------------------
X = rng.normal(size=(n, 3))
y = X @ np.array([1.0, -2.0, 0.5]) + rng.normal(scale=0.1, size=n)
counts = rng.poisson(2.0, size=n).astype(np.float64)
positive = counts + 1.0
log_mean = rng.normal(scale=0.3, size=n)
w = rng.uniform(0.5, 1.5, size=n)

regression: list[PredictionLoss] = [
    fl.MeanSquaredError(), fl.MeanAbsoluteError(reduction="sum"), fl.Huber(delta=2.0),
    fl.SmoothL1(beta=0.5), fl.PseudoHuber(delta=1.5), fl.LogCosh(), fl.Quantile(quantile=0.9),
    fl.MeanAbsolutePercentageError(),
]
for loss in regression:
    coef = fit_linear(loss, X, y, steps=3)
    assert_type(coef, FloatArray)
    g = np.empty(n)
    assert_type(loss.gradient(y, X @ coef, sample_weight=w, out=g), FloatArray)
    assert_type(newton_step(loss, y, X @ coef), FloatArray)

for count_loss in [fl.Poisson(), fl.Gamma(log_input=True), fl.Tweedie(power=1.5)]:
    assert_type(count_loss(positive, log_mean), float)
    assert_type(count_loss.exact_hessian, bool)

huber = fl.Huber(delta=1.0, reduction="none")
assert_type(huber.delta, float)
assert_type(huber.reduction, Literal["mean", "sum", "none"])
per_element = huber(y, X[:, 0])
assert isinstance(per_element, np.ndarray) and per_element.shape == (n,)
assert pickle.loads(pickle.dumps(huber)) == huber and repr(huber).startswith("Huber(")
assert_type(huber.get_params(), dict[str, Any])
assert_type(fl.Tweedie(power=1.2, log_input=False).power, float)
assert_type(fl.Poisson(log_input=False).log_input, bool)
assert_type(fl.Quantile(quantile=0.1).quantile, float)
assert_type(fl.SmoothL1(beta=2.0).beta, float)

gaussian = fl.GaussianNLL(full=True, eps=1e-6)
variance = np.full(n, 0.5)
assert_type(gaussian(y, X[:, 0], variance), float)
assert_type(gaussian.gradient(y, X[:, 0], variance), tuple[FloatArray, FloatArray])
assert_type(fl.gaussian_nll(y, X[:, 0], variance, reduction="none"), FloatArray)

values: list[Value] = [
    fl.mse(y, X[:, 0]),
    fl.mae(y, X[:, 0], sample_weight=w),
    fl.huber([0.0, 0.0], [0.5, 3.0], delta=1.0, reduction="sum"),
    fl.smooth_l1(y, X[:, 0], beta=0.5),
    fl.pseudo_huber(y, X[:, 0], delta=2.0, reduction="none"),
    fl.log_cosh(y, X[:, 0]),
    fl.quantile(y, X[:, 0], quantile=0.25),
    fl.poisson(counts, log_mean, log_input=True),
    fl.gamma(positive, np.exp(log_mean), log_input=False),
    fl.tweedie(counts, log_mean, power=1.3, log_input=True),
    fl.msle(positive, positive + 0.5),
    fl.mape(y, X[:, 0], reduction="sum"),
]
assert_type(fl.mse(y, X[:, 0]), float)
assert_type(fl.mse(y, X[:, 0], reduction="none"), FloatArray)
assert_type(fl.MeanSquaredLogarithmicError()(positive, positive), float)
assert len(values) == 12

# ---- binary and multi-label classification ------------------------------------------
labels01 = rng.integers(0, 2, size=(n, 2)).astype(np.float64)
logits = rng.normal(size=(n, 2))
probabilities = 1.0 / (1.0 + np.exp(-logits))
binary: list[PredictionLoss] = [
    fl.BinaryCrossEntropy(from_logits=True, label_smoothing=0.1, pos_weight=[1.0, 3.0]),
    fl.BinaryCrossEntropy(pos_weight=2.0),
    fl.BinaryFocal(gamma=2.0, alpha=None, from_logits=True),
    fl.Hinge(),
    fl.SquaredHinge(reduction="sum"),
    fl.SoftMargin(),
]
for loss in binary:
    value, grad = loss.value_and_gradient(labels01, probabilities)
    assert grad.shape == (n, 2) and np.isfinite(as_float(value))
assert_type(fl.BinaryFocal(alpha=0.5).alpha, float | None)
assert_type(fl.BinaryCrossEntropy().from_logits, bool)
assert_type(fl.BinaryCrossEntropy().pos_weight, float | NDArray[np.float64] | None)

values = [
    fl.binary_cross_entropy(labels01, logits, from_logits=True, label_smoothing=0.0,
                            pos_weight=None, sample_weight=np.ones(n)),
    fl.binary_focal(labels01, probabilities, gamma=1.0, alpha=0.25),
    fl.hinge(labels01, logits),
    fl.squared_hinge(2 * labels01 - 1, logits, reduction="mean"),
    fl.soft_margin(2 * labels01 - 1, logits),
]

# ---- multi-class classification -----------------------------------------------------
classes = 4
scores = rng.normal(size=(n, classes))
labels = rng.integers(0, classes, size=n)
onehot = np.eye(classes)[labels]
softmax = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
multiclass: list[PredictionLoss] = [
    fl.CategoricalCrossEntropy(from_logits=True, label_smoothing=0.1,
                               class_weight=[1.0, 2.0, 1.0, 1.0]),
    fl.CategoricalFocal(gamma=2.0, alpha=0.25, from_logits=True),
    fl.CategoricalHinge(margin=1.0),
    fl.KLDivergence(from_logits=True),
    fl.PolyLoss(epsilon=1.0, from_logits=True),
    fl.GeneralizedCrossEntropy(q=0.7, from_logits=True),
]
for loss in multiclass:
    grad = loss.gradient(onehot, scores)
    assert grad.shape == (n, classes)
sparse: list[PredictionLoss] = [
    fl.SparseCategoricalCrossEntropy(from_logits=True, ignore_index=-1),
    fl.SparseCategoricalFocal(gamma=1.0, alpha=[0.25, 0.25, 0.25, 0.25], from_logits=True),
    fl.SparseCategoricalCrossEntropy(from_logits=True, z_loss=1e-4),
    fl.NLL(class_weight=[1.0, 2.0, 1.0, 1.0], ignore_index=-100),
    fl.MultiMargin(p=2, margin=0.5, kind="crammer_singer"),
]
for loss in sparse:
    grad, hess = loss.gradient_hessian(labels, scores)
    assert grad.shape == hess.shape == (n, classes)
assert_type(fl.SparseCategoricalCrossEntropy(ignore_index=0).ignore_index, int | None)
assert_type(fl.CategoricalCrossEntropy().class_weight, NDArray[np.float64] | None)
assert_type(fl.CategoricalFocal().alpha, float | NDArray[np.float64] | None)
assert_type(fl.CategoricalHinge().margin, float)
assert_type(fl.PolyLoss().epsilon, float)
assert_type(fl.GeneralizedCrossEntropy().q, float)
assert_type(fl.KLDivergence().from_logits, bool)
assert_type(fl.CategoricalCrossEntropy().z_loss, float)
assert_type(fl.NLL().ignore_index, int | None)
assert_type(fl.MultiMargin().p, int)
assert_type(fl.MultiMargin().kind, Literal["weston_watkins", "crammer_singer"])
assert_type(fl.MultiMargin(reduction="none")(labels, scores), FloatArray)

values = [
    fl.categorical_cross_entropy(onehot, softmax, label_smoothing=0.05),
    fl.sparse_categorical_cross_entropy(labels, scores, from_logits=True, class_weight=None,
                                        ignore_index=None),
    fl.categorical_focal(onehot, scores, gamma=2.0, alpha=None, from_logits=True),
    fl.sparse_categorical_focal(labels, softmax),
    fl.categorical_hinge(labels, scores, margin=0.5),
    fl.kl_divergence(onehot, scores, from_logits=True, reduction="none"),
    fl.poly_loss(labels, scores, epsilon=2.0, from_logits=True),
    fl.generalized_cross_entropy(onehot, softmax, q=0.5, sample_weight=w),
    fl.nll(labels, np.log(softmax), class_weight=None, ignore_index=None),
    fl.multi_margin(labels, scores, p=1, margin=1.0, kind="weston_watkins"),
]

# ---- segmentation -----------------------------------------------------------------------
mask = (rng.random((n, 8, 8)) < 0.3).astype(np.float64)
mask_logits = rng.normal(size=(n, 8, 8))
overlap: list[PredictionLoss] = [
    fl.Dice(smooth=1.0, from_logits=True),
    fl.Tversky(alpha=0.3, beta=0.7, gamma=1.5, from_logits=True),
]
for loss in overlap:
    assert loss.gradient(mask, mask_logits).shape == mask.shape
assert_type(fl.Tversky().gamma, float)
assert_type(fl.dice(mask, mask_logits, from_logits=True, reduction="none"), FloatArray)
assert_type(fl.tversky(mask, mask_logits, from_logits=True), float)
class_map = rng.integers(0, 3, size=(n, 8, 8))
class_logits = rng.normal(size=(n, 3, 8, 8))
softmax_dice = fl.Dice(from_logits=True, multiclass=True)
assert softmax_dice.gradient(class_map, class_logits).shape == class_logits.shape
assert_type(softmax_dice.multiclass, bool)
assert_type(fl.tversky(class_map, class_logits, from_logits=True, multiclass=True), float)

# ---- detection ------------------------------------------------------------------------
corners = rng.uniform(0.0, 10.0, size=(n, 2))
target_boxes = np.concatenate([corners, corners + 2.0], axis=1)
boxes = target_boxes + rng.normal(scale=0.5, size=(n, 4))
box_loss: PredictionLoss = fl.BoxIoU(kind="ciou", eps=1e-7)
value, grad = box_loss.value_and_gradient(target_boxes, boxes)
assert grad.shape == (n, 4) and np.isfinite(as_float(value))
assert_type(fl.BoxIoU().kind, Literal["iou", "giou", "diou", "ciou"])
assert_type(fl.BoxIoU(reduction="none")(target_boxes, boxes), FloatArray)
assert_type(fl.box_iou_loss(target_boxes, boxes, kind="giou"), float)
try:
    fl.BoxIoU(kind="eiou")  # type: ignore[call-overload]
except ValueError:
    pass

# ---- embedding ------------------------------------------------------------------------
dim = 5
x1, x2, x3 = (rng.normal(size=(n, dim)).astype(np.float32) for _ in range(3))
same = rng.integers(0, 2, size=n)

signs = 2 * same - 1
cosine = fl.CosineEmbedding(margin=0.1)
assert_type(cosine(signs, x1, x2), float)
assert_type(cosine.gradient(signs, x1, x2), tuple[FloatArray, FloatArray])
assert_type(fl.cosine_embedding(signs, x1, x2, reduction="none"), FloatArray)
direction: PredictionLoss = fl.CosineSimilarity()
assert direction.gradient(x1, x2).shape == x2.shape
assert_type(fl.cosine_similarity(x1, x2), float)

contrastive = fl.Contrastive(margin=2.0)
assert_type(contrastive(same, x1, x2, sample_weight=w), float)
g1, g2 = contrastive.gradient(same, x1, x2, out=(np.empty_like(x1), np.empty_like(x2)))
assert_type(g1, FloatArray)
value, (g1, g2) = contrastive.value_and_gradient(same, x1, x2)
assert g1.dtype == np.float32 and np.allclose(g1, -g2)
(g1, g2), (h1, h2) = contrastive.gradient_hessian(same, x1, x2)
assert_type(h2, FloatArray)

triplet = fl.Triplet(margin=1.0, p=2.0, swap=True, eps=1e-6, reduction="sum")
assert_type(triplet(x1, x2, x3), float)
ga, gp, gn = triplet.gradient(x1, x2, x3)
value, (ga, gp, gn) = triplet.value_and_gradient(x1, x2, x3, sample_weight=w)
(ga, gp, gn), (ha, hp, hn) = triplet.gradient_hessian(x1, x2, x3)
assert_type(hn, FloatArray)
assert_type(triplet.swap, bool)

classes_of = rng.integers(0, 3, size=n)
strategies: list[Strategy] = ["hard", "semihard", "all"]
for strategy in strategies:
    mined = fl.BatchTriplet(margin=0.5, strategy=strategy)
    assert_type(mined.strategy, Strategy)
    value, grad = mined.value_and_gradient(classes_of, x1)
    grad, hess = mined.gradient_hessian(classes_of, x1)
    assert_type(mined.gradient(classes_of, x1, out=np.empty_like(x1)), FloatArray)
    assert_type(mined(classes_of, x1), float)

supervised = fl.SupCon(temperature=0.2)
assert_type(supervised(classes_of, x1, sample_weight=w), float)
assert_type(supervised.gradient(classes_of, x1, out=np.empty_like(x1)), FloatArray)
grad, hess = supervised.gradient_hessian(classes_of, x1)
assert_type(supervised.temperature, float)
views = fl.InfoNCE(reduction="none")
assert_type(views(x1, x2), FloatArray)
value_each, (g1, g2) = views.value_and_gradient(x1, x2)
(g1, g2), (h1, h2) = fl.InfoNCE().gradient_hessian(x1, x2)
assert_type(h1, FloatArray)
assert_type(fl.info_nce(x1, x2, temperature=0.5), float)
assert_type(fl.supcon(classes_of, x1, reduction="sum"), float)
centres = rng.normal(size=(3, x1.shape[1])).astype(np.float32)
arc = fl.ArcFace(scale=30.0, margin=0.3)
assert_type(arc(classes_of, x1, centres), float)
g_emb, g_centres = arc.gradient(classes_of, x1, centres)
assert g_centres.shape == centres.shape
value, (g_emb, g_centres) = fl.CosFace(reduction="sum").value_and_gradient(
    classes_of, x1, centres, sample_weight=w)
(g_emb, g_centres), (h_emb, h_centres) = arc.gradient_hessian(classes_of, x1, centres)
assert_type(h_centres, FloatArray)
assert_type(fl.cosface(classes_of, x1, centres, reduction="none"), FloatArray)
assert_type(fl.arcface(classes_of, x1, centres, margin=0.2), float)

values = [
    fl.contrastive(same, x1, x2, margin=1.0),
    fl.triplet(x1, x2, x3, margin=0.2, p=1.0, swap=False, eps=0.0),
    fl.batch_triplet(classes_of, x1, margin=0.2, strategy="all", reduction="none"),
]

# ---- sequences ------------------------------------------------------------------------
frames_lp = np.log(np.full((6, 2, 4), 0.25))
ctc_loss = fl.CTC(blank=0, zero_infinity=True)
assert_type(ctc_loss([[1, 2], [3, 3]], frames_lp, [6, 5], [2, 2]), float)
assert_type(ctc_loss.zero_infinity, bool)
ctc_grad = ctc_loss.gradient([[1, 2], [3, 3]], frames_lp, [6, 5], [2, 2])
assert ctc_grad.shape == frames_lp.shape
value, ctc_grad = fl.CTC(reduction="sum").value_and_gradient([1, 2, 3, 3], frames_lp, [6, 5],
                                                            [2, 2])
assert_type(fl.ctc([[1, 2], [3, 3]], frames_lp, [6, 5], [2, 2], reduction="none"), FloatArray)

# ---- ranking --------------------------------------------------------------------------
relevance = rng.integers(0, 3, size=(4, 6)).astype(np.float64)
ranking_scores = rng.normal(size=(4, 6))
where = np.ones((4, 6), dtype=bool)
where[:, -1] = False
ranking: list[RankingLoss] = [
    fl.PairwiseHinge(margin=1.0), fl.PairwiseLogistic(), fl.ListwiseSoftmax(),
    fl.ListMLE(reduction="sum"), fl.LambdaRank(k=3),
]
for rank_loss in ranking:
    value, grad = rank_loss.value_and_gradient(relevance, ranking_scores, where=where)
    grad, hess = rank_loss.gradient_hessian(relevance, ranking_scores, sample_weight=np.ones(4))
    assert_type(rank_loss(relevance, ranking_scores), Value)
assert_type(fl.LambdaRank().k, int | None)
assert_type(fl.PairwiseHinge().margin, float)
assert_type(fl.ListMLE().gradient(relevance, ranking_scores), FloatArray)

values = [
    fl.pairwise_hinge(relevance, ranking_scores, margin=0.5, where=where),
    fl.pairwise_logistic(relevance, ranking_scores, sample_weight=np.ones(4)),
    fl.listwise_softmax(relevance, ranking_scores),
    fl.list_mle(relevance, ranking_scores, reduction="none"),
    fl.lambda_rank(relevance, ranking_scores, k=None),
]

# ---- every shortcut's value type, for each reduction literal --------------------------
# "mean" (the default) and "sum" give a float, "none" an array: what a user assigns.
p = X[:, 0]
mean: float
total: float
each: FloatArray
mean = fl.mse(y, p)
mean = fl.mse(y, p, reduction="mean")
total = fl.mse(y, p, reduction="sum")
each = fl.mse(y, p, reduction="none")
check_values(mean, total, each)
mean = fl.mae(y, p)
mean = fl.mae(y, p, reduction="mean")
total = fl.mae(y, p, reduction="sum")
each = fl.mae(y, p, reduction="none")
check_values(mean, total, each)
mean = fl.huber(y, p)
mean = fl.huber(y, p, reduction="mean")
total = fl.huber(y, p, reduction="sum")
each = fl.huber(y, p, reduction="none")
check_values(mean, total, each)
mean = fl.smooth_l1(y, p)
mean = fl.smooth_l1(y, p, reduction="mean")
total = fl.smooth_l1(y, p, reduction="sum")
each = fl.smooth_l1(y, p, reduction="none")
check_values(mean, total, each)
mean = fl.pseudo_huber(y, p)
mean = fl.pseudo_huber(y, p, reduction="mean")
total = fl.pseudo_huber(y, p, reduction="sum")
each = fl.pseudo_huber(y, p, reduction="none")
check_values(mean, total, each)
mean = fl.log_cosh(y, p)
mean = fl.log_cosh(y, p, reduction="mean")
total = fl.log_cosh(y, p, reduction="sum")
each = fl.log_cosh(y, p, reduction="none")
check_values(mean, total, each)
mean = fl.quantile(y, p)
mean = fl.quantile(y, p, reduction="mean")
total = fl.quantile(y, p, reduction="sum")
each = fl.quantile(y, p, reduction="none")
check_values(mean, total, each)
mean = fl.poisson(counts, log_mean)
mean = fl.poisson(counts, log_mean, reduction="mean")
total = fl.poisson(counts, log_mean, reduction="sum")
each = fl.poisson(counts, log_mean, reduction="none")
check_values(mean, total, each)
mean = fl.gamma(positive, log_mean)
mean = fl.gamma(positive, log_mean, reduction="mean")
total = fl.gamma(positive, log_mean, reduction="sum")
each = fl.gamma(positive, log_mean, reduction="none")
check_values(mean, total, each)
mean = fl.tweedie(counts, log_mean)
mean = fl.tweedie(counts, log_mean, reduction="mean")
total = fl.tweedie(counts, log_mean, reduction="sum")
each = fl.tweedie(counts, log_mean, reduction="none")
check_values(mean, total, each)
mean = fl.binary_cross_entropy(labels01, probabilities)
mean = fl.binary_cross_entropy(labels01, probabilities, reduction="mean")
total = fl.binary_cross_entropy(labels01, probabilities, reduction="sum")
each = fl.binary_cross_entropy(labels01, probabilities, reduction="none")
check_values(mean, total, each)
mean = fl.binary_focal(labels01, probabilities)
mean = fl.binary_focal(labels01, probabilities, reduction="mean")
total = fl.binary_focal(labels01, probabilities, reduction="sum")
each = fl.binary_focal(labels01, probabilities, reduction="none")
check_values(mean, total, each)
mean = fl.hinge(labels01, logits)
mean = fl.hinge(labels01, logits, reduction="mean")
total = fl.hinge(labels01, logits, reduction="sum")
each = fl.hinge(labels01, logits, reduction="none")
check_values(mean, total, each)
mean = fl.squared_hinge(labels01, logits)
mean = fl.squared_hinge(labels01, logits, reduction="mean")
total = fl.squared_hinge(labels01, logits, reduction="sum")
each = fl.squared_hinge(labels01, logits, reduction="none")
check_values(mean, total, each)
mean = fl.categorical_cross_entropy(onehot, softmax)
mean = fl.categorical_cross_entropy(onehot, softmax, reduction="mean")
total = fl.categorical_cross_entropy(onehot, softmax, reduction="sum")
each = fl.categorical_cross_entropy(onehot, softmax, reduction="none")
check_values(mean, total, each)
mean = fl.sparse_categorical_cross_entropy(labels, softmax)
mean = fl.sparse_categorical_cross_entropy(labels, softmax, reduction="mean")
total = fl.sparse_categorical_cross_entropy(labels, softmax, reduction="sum")
each = fl.sparse_categorical_cross_entropy(labels, softmax, reduction="none")
check_values(mean, total, each)
mean = fl.categorical_focal(onehot, softmax)
mean = fl.categorical_focal(onehot, softmax, reduction="mean")
total = fl.categorical_focal(onehot, softmax, reduction="sum")
each = fl.categorical_focal(onehot, softmax, reduction="none")
check_values(mean, total, each)
mean = fl.sparse_categorical_focal(labels, softmax)
mean = fl.sparse_categorical_focal(labels, softmax, reduction="mean")
total = fl.sparse_categorical_focal(labels, softmax, reduction="sum")
each = fl.sparse_categorical_focal(labels, softmax, reduction="none")
check_values(mean, total, each)
mean = fl.categorical_hinge(labels, scores)
mean = fl.categorical_hinge(labels, scores, reduction="mean")
total = fl.categorical_hinge(labels, scores, reduction="sum")
each = fl.categorical_hinge(labels, scores, reduction="none")
check_values(mean, total, each)
mean = fl.kl_divergence(onehot, softmax)
mean = fl.kl_divergence(onehot, softmax, reduction="mean")
total = fl.kl_divergence(onehot, softmax, reduction="sum")
each = fl.kl_divergence(onehot, softmax, reduction="none")
check_values(mean, total, each)
mean = fl.poly_loss(labels, softmax)
mean = fl.poly_loss(labels, softmax, reduction="mean")
total = fl.poly_loss(labels, softmax, reduction="sum")
each = fl.poly_loss(labels, softmax, reduction="none")
check_values(mean, total, each)
mean = fl.generalized_cross_entropy(onehot, softmax)
mean = fl.generalized_cross_entropy(onehot, softmax, reduction="mean")
total = fl.generalized_cross_entropy(onehot, softmax, reduction="sum")
each = fl.generalized_cross_entropy(onehot, softmax, reduction="none")
check_values(mean, total, each)
mean = fl.contrastive(same, x1, x2)
mean = fl.contrastive(same, x1, x2, reduction="mean")
total = fl.contrastive(same, x1, x2, reduction="sum")
each = fl.contrastive(same, x1, x2, reduction="none")
check_values(mean, total, each)
mean = fl.triplet(x1, x2, x3)
mean = fl.triplet(x1, x2, x3, reduction="mean")
total = fl.triplet(x1, x2, x3, reduction="sum")
each = fl.triplet(x1, x2, x3, reduction="none")
check_values(mean, total, each)
mean = fl.batch_triplet(classes_of, x1)
mean = fl.batch_triplet(classes_of, x1, reduction="mean")
total = fl.batch_triplet(classes_of, x1, reduction="sum")
each = fl.batch_triplet(classes_of, x1, reduction="none")
check_values(mean, total, each)
mean = fl.pairwise_hinge(relevance, ranking_scores)
mean = fl.pairwise_hinge(relevance, ranking_scores, reduction="mean")
total = fl.pairwise_hinge(relevance, ranking_scores, reduction="sum")
each = fl.pairwise_hinge(relevance, ranking_scores, reduction="none")
check_values(mean, total, each)
mean = fl.pairwise_logistic(relevance, ranking_scores)
mean = fl.pairwise_logistic(relevance, ranking_scores, reduction="mean")
total = fl.pairwise_logistic(relevance, ranking_scores, reduction="sum")
each = fl.pairwise_logistic(relevance, ranking_scores, reduction="none")
check_values(mean, total, each)
mean = fl.listwise_softmax(relevance, ranking_scores)
mean = fl.listwise_softmax(relevance, ranking_scores, reduction="mean")
total = fl.listwise_softmax(relevance, ranking_scores, reduction="sum")
each = fl.listwise_softmax(relevance, ranking_scores, reduction="none")
check_values(mean, total, each)
mean = fl.list_mle(relevance, ranking_scores)
mean = fl.list_mle(relevance, ranking_scores, reduction="mean")
total = fl.list_mle(relevance, ranking_scores, reduction="sum")
each = fl.list_mle(relevance, ranking_scores, reduction="none")
check_values(mean, total, each)
mean = fl.lambda_rank(relevance, ranking_scores)
mean = fl.lambda_rank(relevance, ranking_scores, reduction="mean")
total = fl.lambda_rank(relevance, ranking_scores, reduction="sum")
each = fl.lambda_rank(relevance, ranking_scores, reduction="none")
check_values(mean, total, each)

# ---- every class's value type: the reduction is part of the loss's type --------
mean = fl.MeanSquaredError()(y, p)
total = fl.MeanSquaredError(reduction="sum")(y, p)
each = fl.MeanSquaredError(reduction="none")(y, p)
check_values(mean, total, each)
mean = fl.MeanAbsoluteError()(y, p)
total = fl.MeanAbsoluteError(reduction="sum")(y, p)
each = fl.MeanAbsoluteError(reduction="none")(y, p)
check_values(mean, total, each)
mean = fl.Huber()(y, p)
total = fl.Huber(reduction="sum")(y, p)
each = fl.Huber(reduction="none")(y, p)
check_values(mean, total, each)
mean = fl.SmoothL1()(y, p)
total = fl.SmoothL1(reduction="sum")(y, p)
each = fl.SmoothL1(reduction="none")(y, p)
check_values(mean, total, each)
mean = fl.PseudoHuber()(y, p)
total = fl.PseudoHuber(reduction="sum")(y, p)
each = fl.PseudoHuber(reduction="none")(y, p)
check_values(mean, total, each)
mean = fl.LogCosh()(y, p)
total = fl.LogCosh(reduction="sum")(y, p)
each = fl.LogCosh(reduction="none")(y, p)
check_values(mean, total, each)
mean = fl.Quantile()(y, p)
total = fl.Quantile(reduction="sum")(y, p)
each = fl.Quantile(reduction="none")(y, p)
check_values(mean, total, each)
mean = fl.Poisson()(counts, log_mean)
total = fl.Poisson(reduction="sum")(counts, log_mean)
each = fl.Poisson(reduction="none")(counts, log_mean)
check_values(mean, total, each)
mean = fl.Gamma()(positive, log_mean)
total = fl.Gamma(reduction="sum")(positive, log_mean)
each = fl.Gamma(reduction="none")(positive, log_mean)
check_values(mean, total, each)
mean = fl.Tweedie()(counts, log_mean)
total = fl.Tweedie(reduction="sum")(counts, log_mean)
each = fl.Tweedie(reduction="none")(counts, log_mean)
check_values(mean, total, each)
mean = fl.BinaryCrossEntropy()(labels01, probabilities)
total = fl.BinaryCrossEntropy(reduction="sum")(labels01, probabilities)
each = fl.BinaryCrossEntropy(reduction="none")(labels01, probabilities)
check_values(mean, total, each)
mean = fl.BinaryFocal()(labels01, probabilities)
total = fl.BinaryFocal(reduction="sum")(labels01, probabilities)
each = fl.BinaryFocal(reduction="none")(labels01, probabilities)
check_values(mean, total, each)
mean = fl.Hinge()(labels01, logits)
total = fl.Hinge(reduction="sum")(labels01, logits)
each = fl.Hinge(reduction="none")(labels01, logits)
check_values(mean, total, each)
mean = fl.SquaredHinge()(labels01, logits)
total = fl.SquaredHinge(reduction="sum")(labels01, logits)
each = fl.SquaredHinge(reduction="none")(labels01, logits)
check_values(mean, total, each)
mean = fl.CategoricalCrossEntropy()(onehot, softmax)
total = fl.CategoricalCrossEntropy(reduction="sum")(onehot, softmax)
each = fl.CategoricalCrossEntropy(reduction="none")(onehot, softmax)
check_values(mean, total, each)
mean = fl.SparseCategoricalCrossEntropy()(labels, softmax)
total = fl.SparseCategoricalCrossEntropy(reduction="sum")(labels, softmax)
each = fl.SparseCategoricalCrossEntropy(reduction="none")(labels, softmax)
check_values(mean, total, each)
mean = fl.CategoricalFocal()(onehot, softmax)
total = fl.CategoricalFocal(reduction="sum")(onehot, softmax)
each = fl.CategoricalFocal(reduction="none")(onehot, softmax)
check_values(mean, total, each)
mean = fl.SparseCategoricalFocal()(labels, softmax)
total = fl.SparseCategoricalFocal(reduction="sum")(labels, softmax)
each = fl.SparseCategoricalFocal(reduction="none")(labels, softmax)
check_values(mean, total, each)
mean = fl.CategoricalHinge()(labels, scores)
total = fl.CategoricalHinge(reduction="sum")(labels, scores)
each = fl.CategoricalHinge(reduction="none")(labels, scores)
check_values(mean, total, each)
mean = fl.KLDivergence()(onehot, softmax)
total = fl.KLDivergence(reduction="sum")(onehot, softmax)
each = fl.KLDivergence(reduction="none")(onehot, softmax)
check_values(mean, total, each)
mean = fl.PolyLoss()(labels, softmax)
total = fl.PolyLoss(reduction="sum")(labels, softmax)
each = fl.PolyLoss(reduction="none")(labels, softmax)
check_values(mean, total, each)
mean = fl.GeneralizedCrossEntropy()(onehot, softmax)
total = fl.GeneralizedCrossEntropy(reduction="sum")(onehot, softmax)
each = fl.GeneralizedCrossEntropy(reduction="none")(onehot, softmax)
check_values(mean, total, each)
mean = fl.Contrastive()(same, x1, x2)
total = fl.Contrastive(reduction="sum")(same, x1, x2)
each = fl.Contrastive(reduction="none")(same, x1, x2)
check_values(mean, total, each)
mean = fl.Triplet()(x1, x2, x3)
total = fl.Triplet(reduction="sum")(x1, x2, x3)
each = fl.Triplet(reduction="none")(x1, x2, x3)
check_values(mean, total, each)
mean = fl.BatchTriplet()(classes_of, x1)
total = fl.BatchTriplet(reduction="sum")(classes_of, x1)
each = fl.BatchTriplet(reduction="none")(classes_of, x1)
check_values(mean, total, each)
mean = fl.PairwiseHinge()(relevance, ranking_scores)
total = fl.PairwiseHinge(reduction="sum")(relevance, ranking_scores)
each = fl.PairwiseHinge(reduction="none")(relevance, ranking_scores)
check_values(mean, total, each)
mean = fl.PairwiseLogistic()(relevance, ranking_scores)
total = fl.PairwiseLogistic(reduction="sum")(relevance, ranking_scores)
each = fl.PairwiseLogistic(reduction="none")(relevance, ranking_scores)
check_values(mean, total, each)
mean = fl.ListwiseSoftmax()(relevance, ranking_scores)
total = fl.ListwiseSoftmax(reduction="sum")(relevance, ranking_scores)
each = fl.ListwiseSoftmax(reduction="none")(relevance, ranking_scores)
check_values(mean, total, each)
mean = fl.ListMLE()(relevance, ranking_scores)
total = fl.ListMLE(reduction="sum")(relevance, ranking_scores)
each = fl.ListMLE(reduction="none")(relevance, ranking_scores)
check_values(mean, total, each)
mean = fl.LambdaRank()(relevance, ranking_scores)
total = fl.LambdaRank(reduction="sum")(relevance, ranking_scores)
each = fl.LambdaRank(reduction="none")(relevance, ranking_scores)
check_values(mean, total, each)

# ---- the value type of value_and_gradient follows the reduction too -----------------
scalar_value, gradient = fl.Huber(delta=2.0).value_and_gradient(y, p)
assert_type(scalar_value, float)
array_value, gradient = fl.Huber(reduction="none").value_and_gradient(y, p)
assert_type(array_value, FloatArray)
each, (g1, g2) = fl.Contrastive(reduction="none").value_and_gradient(same, x1, x2)
total, (ga, gp, gn) = fl.Triplet(reduction="sum").value_and_gradient(x1, x2, x3)
each, grad = fl.BatchTriplet(reduction="none").value_and_gradient(classes_of, x1)
mean, grad = fl.SparseCategoricalCrossEntropy(from_logits=True).value_and_gradient(labels, scores)
mean, grad = fl.LambdaRank(k=3).value_and_gradient(relevance, ranking_scores)
check_values(mean, total, each)

# ---- a reduction that is not a literal, and annotations of loss objects -------------
reduction: Literal["mean", "sum", "none"] = "sum" if n > 1 else "none"
assert_type(fl.huber(y, p, reduction=reduction), Value)
assert_type(fl.Huber(reduction=reduction)(y, p), Value)
assert_type(fl.Huber(reduction=reduction), fl.Huber[Value])
assert_type(fl.Huber(), fl.Huber[float])
assert_type(fl.Huber(reduction="none"), fl.Huber[FloatArray])


def huber_value(loss: fl.Huber) -> Value:
    """A bare class in an annotation: a loss of any reduction."""
    return assert_type(loss(y, p), Value)


assert isinstance(huber_value(fl.Huber(reduction="none")), np.ndarray)
assert isinstance(huber_value(fl.Huber()), float)
scalar_losses: list[fl.Huber[float] | fl.MeanSquaredError[float]] = [
    fl.Huber(delta=0.5), fl.MeanSquaredError(reduction="sum"),
]
mean = scalar_losses[0](y, p) + scalar_losses[1](y, p)

# ---- threads and configuration --------------------------------------------------------
threads_before = fl.get_num_threads()
assert_type(threads_before, int)
fl.set_num_threads(1)
with fl.threads(2):
    assert fl.get_num_threads() == 2
fl.set_num_threads(None)
assert fl.get_num_threads() == threads_before
assert_type(fl.show_config(), None)
assert_type(fl.__version__, str)
assert {name for name in fl.__all__} >= {"Huber", "huber", "threads", "show_config"}

# ---- calls the annotations reject -----------------------------------------------------
try:
    fl.Huber(reduction="average")  # type: ignore[call-overload]
except ValueError:
    pass
try:
    fl.huber(y, X[:, 0], 2.0)  # type: ignore[call-overload]
except TypeError:
    pass
try:
    fl.huber(y, X[:, 0], reduction="average")  # type: ignore[call-overload]
except ValueError:
    pass
wrong: float = fl.huber(y, X[:, 0], reduction="none")  # type: ignore[assignment]
wrong_too: FloatArray = fl.Huber()(y, X[:, 0])  # type: ignore[assignment]
try:
    fl.MultiMargin(kind="hinge")  # type: ignore[call-overload]
except ValueError:
    pass
try:
    fl.BatchTriplet(strategy="easy")  # type: ignore[call-overload]
except ValueError:
    pass
try:
    fl.set_num_threads("2")  # type: ignore[arg-type]
except ValueError:
    pass
