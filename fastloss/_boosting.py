"""What the XGBoost, LightGBM and CatBoost adapters share.

Built on fastloss's public API only. A boosting library hands the objective raw
scores (margins) and wants per-sample first and second derivatives of the summed,
weighted loss: fastloss's ``gradient_hessian`` with ``reduction="sum"`` and
``sample_weight`` gives exactly w_i g_i and w_i h_i. This module decides which losses
can be objectives (``describe``), turns the library's arrays into the loss's layout
(``Derivatives``), applies the hessian policy (``HESSIAN_POLICY``), computes the
metric value and solves for the loss-optimal constant score (``optimal_constant``).
"""

from __future__ import annotations

import math

import numpy as np

import fastloss as fl

ELEMENTWISE = "elementwise"
MULTICLASS = "multiclass"
RANKING = "ranking"

#: Largest |raw score| of a constant for logits: logit(1 - 1e-15), LightGBM's clamp.
LOGIT_LIMIT = math.log((1.0 - 1e-15) / 1e-15)
#: Floor of exact hessians, times the sample weight (XGBoost's built-ins use 1e-16).
HESSIAN_EPS = 1e-16
#: Non-convex losses: the hessian passed is at least |g| / MAX_STEP, so no sample asks
#: for a Newton step longer than MAX_STEP raw-score units (before the learning rate).
MAX_STEP = 1.0

_IDENTITY_REGRESSION = (fl.MeanSquaredError, fl.MeanAbsoluteError, fl.Huber, fl.SmoothL1,
                        fl.PseudoHuber, fl.LogCosh, fl.Quantile,
                        fl.MeanSquaredLogarithmicError, fl.MeanAbsolutePercentageError)
_COUNT = (fl.Poisson, fl.Gamma, fl.Tweedie)
_BINARY = (fl.BinaryCrossEntropy, fl.BinaryFocal, fl.Hinge, fl.SquaredHinge, fl.SoftMargin)
_MULTICLASS = (fl.CategoricalCrossEntropy, fl.CategoricalFocal, fl.CategoricalHinge,
               fl.KLDivergence, fl.PolyLoss, fl.GeneralizedCrossEntropy, fl.MultiMargin)
_RANKING = (fl.PairwiseHinge, fl.PairwiseLogistic, fl.ListwiseSoftmax, fl.ListMLE,
            fl.LambdaRank)
_EMBEDDING = (fl.Contrastive, fl.Triplet, fl.BatchTriplet, fl.CosineEmbedding,
              fl.CosineSimilarity, fl.SupCon, fl.InfoNCE, fl.ArcFace, fl.CosFace)

#: The hessian each loss passes to the libraries, and why (docs/boosting.rst, table).
#: "exact": the exact diagonal, floored at 1e-16 w (positive where the gradient is not 0).
#: "surrogate": exact_hessian is False: fastloss's documented positive surrogate.
#: "bound": the exact hessian vanishes where the gradient does not (Huber beyond delta,
#: the tails of PseudoHuber and LogCosh): the curvature's upper bound M w, a majorizer,
#: so each leaf step decreases the loss (LightGBM's built-in huber passes 1 too).
#: "floored": non-convex, the exact hessian can be negative: max(h, |g| / MAX_STEP)
#: (MSLE: where the prediction exceeds e (1 + y_true) - 1).
HESSIAN_POLICY = {
    "MeanSquaredError": "exact", "MeanAbsoluteError": "surrogate", "Huber": "bound",
    "SmoothL1": "bound", "PseudoHuber": "bound", "LogCosh": "bound",
    "Quantile": "surrogate", "Poisson": "exact", "Gamma": "exact", "Tweedie": "exact",
    "MeanSquaredLogarithmicError": "floored", "MeanAbsolutePercentageError": "surrogate",
    "BinaryCrossEntropy": "exact", "BinaryFocal": "floored", "Hinge": "surrogate",
    "SquaredHinge": "exact", "SoftMargin": "exact",
    "CategoricalCrossEntropy": "exact", "SparseCategoricalCrossEntropy": "exact",
    "CategoricalFocal": "floored", "SparseCategoricalFocal": "floored",
    "CategoricalHinge": "surrogate", "KLDivergence": "exact", "PolyLoss": "floored",
    "GeneralizedCrossEntropy": "floored", "MultiMargin": "exact",
    "PairwiseHinge": "surrogate", "PairwiseLogistic": "exact", "ListwiseSoftmax": "exact",
    "ListMLE": "exact", "LambdaRank": "exact",
}


class Spec:
    """How one loss works as a boosting objective.

    kind: ELEMENTWISE (one raw score per target: regression, binary, multi-label),
    MULTICLASS (a row of k class scores per sample) or RANKING (one score per
    document, lists from the library's query groups). summed: the loss rebuilt with
    reduction="sum" (per-sample w_i g_i). sparse: for MULTICLASS, the loss that takes
    integer labels (the loss itself, or its equivalent for one-hot targets).
    """

    def __init__(self, loss):
        if isinstance(loss, type):
            raise TypeError(f"pass a loss instance, e.g. {loss.__name__}(), not the class")
        if isinstance(loss, (fl.Dice, fl.Tversky, fl.GaussianNLL)):
            raise TypeError(
                f"{type(loss).__name__} is not a boosting objective: it is not a sum of "
                "per-sample terms of one raw score (an overlap of whole masks, or a loss "
                "of two predicted arrays)")
        if isinstance(loss, fl.BoxIoU):
            raise TypeError(
                "BoxIoU is a box regression loss (four coordinates per sample, a loss per "
                "box): it is not a boosting objective")
        if isinstance(loss, fl.CTC):
            raise TypeError(
                "CTC is a sequence loss (a loss per sequence of frames, over every "
                "alignment of its target): it is not a boosting objective")
        if isinstance(loss, fl.NLL):
            raise TypeError(
                "NLL takes log-probabilities and is linear in them: over the raw scores a "
                "boosting model predicts it has no minimum. Use "
                "SparseCategoricalCrossEntropy(from_logits=True), its value on the scores' "
                "log-softmax"
            )
        if isinstance(loss, _EMBEDDING):
            raise TypeError(
                f"{type(loss).__name__} is an embedding loss (a loss of embedding vectors, "
                "with in-batch mining for BatchTriplet): a boosting model predicts one raw "
                "score per sample (or per class), so it cannot be a boosting objective"
            )
        name = type(loss).__name__
        if not isinstance(loss, _IDENTITY_REGRESSION + _COUNT + _BINARY + _MULTICLASS
                          + _RANKING):
            raise TypeError(
                f"loss must be a fastloss loss instance usable as a boosting objective "
                f"(see fastloss._boosting.usable_losses()); got {loss!r}"
            )
        if getattr(loss, "from_logits", True) is False:
            raise ValueError(
                f"boosting libraries pass raw scores (logits), not probabilities: build the "
                f"loss with from_logits=True, e.g. {name}(from_logits=True); got {loss!r}"
            )
        if getattr(loss, "log_input", True) is False:
            raise ValueError(
                f"boosting libraries pass unbounded raw scores: use the log link, "
                f"{name}(log_input=True) (the raw score is log(mean)); got {loss!r}"
            )
        self.loss = loss
        self.name = name
        params = loss.get_params()
        params["reduction"] = "sum"
        self.summed = type(loss)(**params)
        params["reduction"] = "mean"
        self.mean = type(loss)(**params)
        if isinstance(loss, _RANKING):
            self.kind = RANKING
        elif isinstance(loss, _MULTICLASS):
            self.kind = MULTICLASS
        else:
            self.kind = ELEMENTWISE
        self.policy = HESSIAN_POLICY[name]
        if not loss.exact_hessian:  # SmoothL1(beta=0) is MAE
            self.policy = "surrogate"
        self.bound = {"Huber": 1.0, "PseudoHuber": 1.0, "LogCosh": 1.0}.get(name)
        if name == "SmoothL1" and self.policy == "bound":
            self.bound = 1.0 / loss.beta
        self.sparse = self.summed
        self.sparse_mean = self.mean
        if self.kind == MULTICLASS:
            self.sparse, self.sparse_mean = (_sparse_equivalent(loss, r)
                                             for r in ("sum", "mean"))

    # -- derivatives -------------------------------------------------------------------

    def derivatives(self, y, p, w, hessian_scale=1.0):
        """(w g, policy hessian) of the summed loss; y, p, w in the loss's layout."""
        loss = self.sparse if self.kind == MULTICLASS and y.ndim == 1 else self.summed
        if self.kind == RANKING:
            r, s, where = y
            if self.policy == "bound":  # no ranking loss has this policy
                raise AssertionError(self.name)
            g, h = loss.gradient_hessian(r, s, where=where, sample_weight=w)
            wb = None if w is None else np.broadcast_to(w[:, None], s.shape)
        else:
            wb = None if w is None else (w if p.ndim == 1 else w[:, None])
            if self.policy == "bound":
                g = loss.gradient(y, p, sample_weight=w)
                h = np.full(p.shape, self.bound, dtype=g.dtype)
                if wb is not None:
                    h *= wb
                return g, h
            g, h = loss.gradient_hessian(y, p, sample_weight=w)
        if hessian_scale != 1.0:
            h *= hessian_scale
        if self.policy == "exact":
            np.maximum(h, HESSIAN_EPS if wb is None else HESSIAN_EPS * wb, out=h)
        elif self.policy == "floored":
            np.maximum(h, np.abs(g) * (1.0 / MAX_STEP), out=h)
        return g, h

    def lightgbm_class_major(self, y, p, w, hessian_scale):
        """derivatives() cast to float32 in LightGBM's class-major layout, for a
        multi-class loss on class labels and p (n, k) F-ordered: one pass of the
        class-major kernel where it applies (plain softmax cross-entropy, up to 16
        classes), else None."""
        if not (self.kind == MULTICLASS and self.policy == "exact" and y.ndim == 1
                and p.flags.f_contiguous):
            return None
        return self.sparse._lightgbm_class_major(y, p, w, hessian_scale, HESSIAN_EPS)

    def value(self, y, p, w):
        """The loss value with reduction="mean" (weighted mean over samples or lists)."""
        if self.kind == RANKING:
            r, s, where = y
            return float(self.mean(r, s, where=where, sample_weight=w))
        loss = self.sparse_mean if self.kind == MULTICLASS and y.ndim == 1 else self.mean
        return float(loss(y, p, sample_weight=w))


def _sparse_equivalent(loss, reduction):
    """The loss over integer labels equal to `loss` over their one-hot rows."""
    params = loss.get_params()
    params["reduction"] = reduction
    if isinstance(loss, (fl.SparseCategoricalCrossEntropy, fl.SparseCategoricalFocal,
                         fl.CategoricalHinge, fl.PolyLoss, fl.GeneralizedCrossEntropy,
                         fl.MultiMargin)):
        return type(loss)(**params)
    if isinstance(loss, fl.CategoricalCrossEntropy):
        return fl.SparseCategoricalCrossEntropy(**params)
    if isinstance(loss, fl.CategoricalFocal):
        return fl.SparseCategoricalFocal(**params)
    if isinstance(loss, fl.KLDivergence):  # KL to a one-hot row is its cross-entropy
        return fl.SparseCategoricalCrossEntropy(from_logits=True, reduction=reduction)
    raise AssertionError(type(loss).__name__)


def hessian_scale_of(value):
    """The hessian_scale argument as a float, which must be finite and > 0."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not 0 < value < math.inf:
        raise ValueError(f"hessian_scale must be a finite number > 0; got {value!r}")
    return float(value)


def describe(loss):
    """The Spec of `loss`; TypeError/ValueError for losses that cannot be objectives."""
    return Spec(loss)


def usable_losses():
    """{class name: (kind, hessian policy)} for every loss usable as an objective."""
    kinds = {}
    for cls in _IDENTITY_REGRESSION + _COUNT + _BINARY:
        kinds[cls.__name__] = ELEMENTWISE
    for cls in _MULTICLASS + (fl.SparseCategoricalCrossEntropy, fl.SparseCategoricalFocal):
        kinds[cls.__name__] = MULTICLASS
    for cls in _RANKING:
        kinds[cls.__name__] = RANKING
    return {name: (kind, HESSIAN_POLICY[name]) for name, kind in kinds.items()}


# ---- inputs from the libraries -----------------------------------------------------

def as_float_array(x, name):
    """x as a float ndarray (no copy when it already is one)."""
    arr = np.asarray(x)
    if arr.dtype.kind not in "fiub":
        raise TypeError(f"{name} must hold real numbers; got dtype {arr.dtype}")
    if arr.dtype.kind != "f":
        arr = arr.astype(np.float64)
    return arr


def sample_weights(weight, n, name="sample_weight"):
    """None for absent weights (None or size 0, as the libraries report them), else a
    1-D float array of n weights."""
    if weight is None:
        return None
    w = as_float_array(weight, name).reshape(-1)
    if w.size == 0:
        return None
    if w.size != n:
        raise ValueError(f"{name} must hold one weight per sample ({n}); got {w.size}")
    return w


def elementwise_inputs(spec, labels, preds):
    """(y, p) for an elementwise loss: p (n,) or (n, k) as given, y reshaped to it."""
    p = as_float_array(preds, "predictions")
    y = as_float_array(labels, "labels")
    if p.ndim not in (1, 2):
        raise ValueError(f"raw scores must be 1-D (n,) or 2-D (n, k); got shape {p.shape}")
    if y.size != p.size:
        if p.ndim == 2 and y.size == p.shape[0]:
            raise ValueError(
                f"{spec.name} is an elementwise loss (one target per raw score) but the "
                f"library passes {p.shape[1]} scores per sample and one label: for "
                "multi-class use a multi-class loss such as "
                "SparseCategoricalCrossEntropy(from_logits=True)"
            )
        raise ValueError(
            f"labels and raw scores do not match: {y.size} labels for raw scores of shape "
            f"{p.shape}"
        )
    return y.reshape(p.shape), p


def multiclass_inputs(spec, labels, preds):
    """(y, p) for a multi-class loss: p (n, k) in the library's layout (C order, or
    LightGBM's class-major F order), y (n,) class labels or (n, k) probability rows."""
    p = as_float_array(preds, "predictions")
    if p.ndim != 2 or p.shape[1] < 2:
        raise ValueError(
            f"{spec.name} is a multi-class loss: the library must pass a row of class "
            f"scores per sample, shape (n, k) with k >= 2 (set num_class / "
            f"objective='multiclass' / loss dimension); got raw scores of shape {p.shape}"
        )
    n, k = p.shape
    y = as_float_array(labels, "labels")
    if y.size == n:
        y = y.reshape(n)
    elif y.size == n * k:
        if isinstance(spec.loss, (fl.SparseCategoricalCrossEntropy,
                                  fl.SparseCategoricalFocal)):
            raise ValueError(f"{spec.name} takes integer class labels, one per sample; "
                             f"got {k} target values per sample")
        y = y.reshape(n, k)
    else:
        raise ValueError(
            f"labels and raw scores do not match: {y.size} labels for {n} samples with {k} "
            "class scores (expected one class label per sample)"
        )
    return y, p


# ---- ranking: lists from query groups ---------------------------------------------

class Lists:
    """Documents of consecutive query groups as padded (n_lists, max_size) matrices."""

    def __init__(self, sizes, n):
        sizes = np.asarray(sizes, dtype=np.int64).reshape(-1)
        if sizes.size == 0 or (sizes < 0).any() or int(sizes.sum()) != n:
            raise ValueError(
                f"query groups must be sizes of consecutive groups summing to the number of "
                f"samples ({n}); got {sizes.size} groups summing to {int(sizes.sum())}"
            )
        self.sizes = sizes
        self.n = n
        self.n_lists = sizes.size
        self.size = int(sizes.max())
        self.uniform = bool((sizes == self.size).all())
        if not self.uniform:
            starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
            self.rows = np.repeat(np.arange(sizes.size), sizes)
            self.cols = np.arange(n) - np.repeat(starts, sizes)
            self.where = np.zeros((sizes.size, self.size), dtype=bool)
            self.where[self.rows, self.cols] = True
        else:
            self.where = None

    @classmethod
    def from_pointers(cls, pointers, n):
        ptr = np.asarray(pointers, dtype=np.int64).reshape(-1)
        if ptr.size < 2 or ptr[0] != 0:
            raise ValueError("query group pointers must start at 0 and hold one entry per "
                             "group boundary")
        return cls(np.diff(ptr), n)

    def same(self, sizes):
        s = np.asarray(sizes).reshape(-1)
        return s.size == self.sizes.size and np.array_equal(s, self.sizes)

    def to_matrix(self, values, dtype):
        v = np.asarray(values, dtype=dtype).reshape(-1)
        if self.uniform:
            return v.reshape(self.n_lists, self.size)
        out = np.zeros((self.n_lists, self.size), dtype=dtype)
        out[self.rows, self.cols] = v
        return out

    def from_matrix(self, m):
        if self.uniform:
            return m.reshape(self.n)
        return m[self.rows, self.cols]

    def list_weights(self, w):
        """Per-list weights from per-list (n_lists,) or per-document (n,) weights."""
        if w is None:
            return None
        w = np.asarray(w, dtype=np.float64).reshape(-1)
        if w.size == 0:  # how XGBoost and LightGBM report no weights
            return None
        if w.size == self.n_lists and w.size != self.n:
            return w
        if w.size != self.n:
            raise ValueError(
                f"ranking weights must be one per query group ({self.n_lists}) or one per "
                f"document ({self.n}); got {w.size}")
        starts = np.concatenate(([0], np.cumsum(self.sizes)[:-1]))
        first = w[starts]
        if not np.array_equal(np.repeat(first, self.sizes), w):
            raise ValueError(
                "ranking losses weight whole lists: the sample weights must be equal "
                "within each query group")
        return first


class ListCache:
    """The Lists of the last groups seen (an objective is called every round with the
    same training groups)."""

    def __init__(self):
        self._lists = None

    def get(self, sizes, n):
        if self._lists is None or self._lists.n != n or not self._lists.same(sizes):
            self._lists = Lists(sizes, n)
        return self._lists


def ranking_derivatives(spec, lists, labels, preds, weight):
    """(g, h) of a ranking loss as 1-D arrays in document order."""
    p = as_float_array(preds, "predictions").reshape(-1)
    if p.size != lists.n:
        raise ValueError(f"{p.size} raw scores for {lists.n} documents in the query groups")
    r = lists.to_matrix(labels, p.dtype)
    s = lists.to_matrix(p, p.dtype)
    g, h = spec.derivatives((r, s, lists.where), s, lists.list_weights(weight))
    return lists.from_matrix(g), lists.from_matrix(h)


def ranking_value(spec, lists, labels, preds, weight):
    p = as_float_array(preds, "predictions").reshape(-1)
    r = lists.to_matrix(labels, p.dtype)
    s = lists.to_matrix(p, p.dtype)
    return spec.value((r, s, lists.where), s, lists.list_weights(weight))


def missing_groups_error(library, how):
    return ValueError(
        f"ranking losses need the query groups, and {library} did not pass them: {how}"
    )


# ---- the loss-optimal constant ------------------------------------------------------

def optimal_constant(loss, y_true, sample_weight=None, n_classes=None):
    """The constant raw score c minimizing sum_i w_i l(y_i, c) (see init_score)."""
    spec = describe(loss)
    if spec.kind == RANKING:
        return 0.0  # every ranking loss depends on score differences only
    y = as_float_array(y_true, "y_true")
    if y.ndim == 0 or y.shape[0] == 0:
        raise ValueError(f"y_true must hold at least one sample; got shape {y.shape}")
    w = sample_weights(sample_weight, y.shape[0])
    if w is not None and not (np.isfinite(w).all() and (w >= 0).all()):
        raise ValueError("sample_weight must be finite and >= 0")
    if w is not None and not w.sum() > 0:
        raise ValueError("sample_weight sums to 0: no constant is optimal")
    if spec.kind == MULTICLASS:
        return _multiclass_constant(spec, y, w, n_classes)
    if not np.isfinite(y).all():
        raise ValueError("y_true must be finite")
    if y.ndim == 1:
        return _scalar_constant(spec, y, w)
    if y.ndim != 2:
        raise ValueError(f"y_true must be 1-D or 2-D (n, outputs); got shape {y.shape}")
    return np.array([_scalar_constant(spec, np.ascontiguousarray(y[:, j]), w)
                     for j in range(y.shape[1])])


def _scalar_constant(spec, y, w):
    # The loss at a constant depends on y through its distinct values and their weights.
    values, inverse = np.unique(y.astype(np.float64), return_inverse=True)
    weights = np.bincount(inverse.reshape(-1), weights=w, minlength=values.size)
    keep = weights > 0
    values, weights = values[keep], weights[keep]
    loss = spec.summed
    loss.gradient(values, values, sample_weight=weights)  # validates the targets

    def slope(c):
        return float(loss.gradient(values, np.full(values.shape, c),
                                   sample_weight=weights).sum())

    def curvature(c):
        if spec.policy == "surrogate":
            return 0.0  # no Newton steps on a surrogate
        _, h = loss.gradient_hessian(values, np.full(values.shape, c), sample_weight=weights)
        return float(h.sum())

    if isinstance(spec.loss, _IDENTITY_REGRESSION):
        lo, hi = float(values[0]), float(values[-1])
    elif isinstance(spec.loss, _COUNT):  # the optimum is log(weighted mean)
        mean = float(np.dot(values, weights) / weights.sum())
        if not mean > 0:
            raise ValueError(
                f"every target is 0: the optimal constant of {spec.name} is log(0) = -inf")
        lo, hi = math.log(mean) - 1.0, math.log(mean) + 1.0
    else:
        lo, hi = -LOGIT_LIMIT, LOGIT_LIMIT
    return _root(slope, curvature, lo, hi)


def _root(slope, curvature, lo, hi):
    """A zero of the non-decreasing slope on [lo, hi] (an end when it has none there):
    Newton steps kept inside a shrinking bracket, bisection when they leave it."""
    if lo == hi:
        return lo
    d_lo, d_hi = slope(lo), slope(hi)
    if d_lo >= 0:
        return lo
    if d_hi <= 0:
        return hi
    c = 0.5 * (lo + hi)
    for _ in range(200):
        d = slope(c)
        if d == 0:
            return c
        if d < 0:
            lo = c
        else:
            hi = c
        if hi - lo <= 4e-16 * max(1.0, abs(lo), abs(hi)):
            break
        h = curvature(c)
        step = c - d / h if h > 0 else math.nan
        if lo < step < hi:
            c = step
        else:
            c = 0.5 * (lo + hi)
    return 0.5 * (lo + hi)


def _multiclass_constant(spec, y, w, n_classes):
    if y.ndim == 1:
        if not (np.isfinite(y).all() and (y == np.round(y)).all() and (y >= 0).all()):
            raise ValueError("y_true must hold class labels 0, 1, ..., k - 1")
        if n_classes is not None and (isinstance(n_classes, bool) or not isinstance(
                n_classes, (int, np.integer))):
            raise ValueError(f"n_classes must be an integer; got {n_classes!r}")
        k = int(y.max()) + 1 if n_classes is None else int(n_classes)
        if n_classes is not None and (k < 2 or y.max() >= k):
            raise ValueError(f"n_classes={n_classes!r} must be >= 2 and above every label")
        if k < 2:
            raise ValueError("y_true holds one class only; pass n_classes")
        weights = np.bincount(y.astype(np.int64), weights=w, minlength=k)
        rows = np.arange(k, dtype=np.float64)
        loss, value = spec.sparse, spec.sparse
        present = weights > 0
    elif y.ndim == 2:
        k = y.shape[1]
        if n_classes is not None and n_classes != k:
            raise ValueError(f"n_classes={n_classes!r} but y_true has {k} columns")
        weights = np.ones(y.shape[0]) if w is None else w
        rows, loss, value = y, spec.summed, spec.summed
        present = (weights[:, None] * y).sum(axis=0) > 0
    else:
        raise ValueError(f"y_true must be class labels (n,) or rows (n, k); got {y.shape}")
    # Every multi-class loss of fastloss depends on score differences only: classes
    # without weight go to -inf, kept at LOGIT_LIMIT below the top class.
    c = np.where(present, 0.0, -LOGIT_LIMIT)
    m = rows.shape[0]

    def f(c):
        return float(value(rows, np.broadcast_to(c, (m, k)).copy(), sample_weight=weights))

    current = f(c)
    total = float(weights.sum())
    for _ in range(200):
        g, h = loss.gradient_hessian(rows, np.broadcast_to(c, (m, k)).copy(),
                                     sample_weight=weights)
        g, h = g.sum(axis=0), h.sum(axis=0)
        g[~present] = 0.0
        if np.abs(g).max() <= 1e-13 * total:
            break
        step = np.where(h > 1e-12 * total, -g / np.maximum(h, 1e-300), -g / total)
        descent = float(np.dot(g, step))  # < 0
        t = 1.0
        while t > 1e-10:
            trial = c + t * step
            value_t = f(trial)
            if value_t <= current + 1e-4 * t * descent:
                break
            t *= 0.5
        else:
            break
        c, current = trial, value_t
    c = c - c[present].max()
    c = np.where(present, np.maximum(c, -LOGIT_LIMIT), -LOGIT_LIMIT)
    return c - _logsumexp(c)


def _logsumexp(c):
    top = c.max()
    return top + math.log(float(np.exp(c - top).sum()))
