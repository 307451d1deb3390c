"""The registry of every loss: what the shared contract tests (test_contract.py) and the
family tests need to know about each one.

An `Entry` holds a loss class with one set of hyper-parameters, its shortcut, how to
make valid inputs of a given size and dtype, its NumPy oracle in `fastloss.reference`,
tolerances per dtype and the weights and reductions that apply. A new loss adds its
entries to `ENTRIES` (test_contract.py fails for an exported loss class without one).

Every loss method takes positional arrays and keywords: `Inputs.args` are those arrays
(y_true, y_pred; same, x1, x2; anchor, positive, negative; labels, embeddings;
relevance, scores), `Inputs.kwargs` the keywords other than sample_weight (`where` for
ranking) and `Entry.wrt` the indices of the arrays the gradient is taken with respect to.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

import fastloss as fl
from fastloss import reference

#: Relative tolerance against a float64 result, by compute dtype (relative to the
#: largest |expected| of an array: see helpers.assert_close).
RTOL = {np.dtype(np.float32): 2e-6, np.dtype(np.float64): 1e-10}
#: The contract tests' tolerance against the oracle at N_ROWS rows. Measured worst
#: case over every entry, method, reduction and weight form: 1.6e-7 in float32 (an
#: embedding gradient), 1.9e-15 in float64 (a multi-class hessian).
CONTRACT_RTOL = {np.dtype(np.float32): 1e-6, np.dtype(np.float64): 1e-12}
#: Rows of the inputs the contract tests compare against the oracle.
N_ROWS = 9
#: Columns of an elementwise loss's 2-D inputs (labels of a multi-label loss).
N_LABELS = 3
#: Classes of a multi-class loss, embedding dimension, list size.
N_CLASSES, DIM, LIST_SIZE = 5, 6, 7


#: The argument whose first axis counts the rows, where it is not the last: ArcFace's
#: last argument holds the class centres, CTC's rows are its input lengths.
_ROWS_ARG = {"margin": 1, "ctc": 2}


@dataclass(frozen=True)
class Inputs:
    """The positional arrays of a loss call and its keywords besides sample_weight."""

    args: tuple
    kwargs: dict = field(default_factory=dict)
    #: The array whose first axis is the rows (the last but for ArcFace and CosFace,
    #: whose last array holds the class centres).
    rows_arg: int = -1

    @property
    def n(self):
        """The number of rows (samples, pairs, lists): the length of sample_weight."""
        return np.shape(self.args[self.rows_arg])[0]


@dataclass(frozen=True)
class Result:
    """What the oracle says: the value, the gradients (one per array in `wrt`) and the
    hessian diagonals (None where the reference has none)."""

    value: Any
    grads: tuple
    hess: tuple | None


@dataclass(frozen=True)
class Entry:
    """A loss class with hyper-parameters, and what the tests need to run it.

    family: the module the class lives in ("regression", "classification", "detection",
    "segmentation", "embedding", "ranking"). kind: how its inputs are made (see
    `_MAKERS`). targets: a choice inside the kind (the target domain of a regression
    loss, soft or hard binary targets, probability rows or labels, ...). elementwise:
    weights may have y_pred's shape and "none" is shaped like y_pred; otherwise one
    weight and one value per row.
    wrt: indices of the arrays the gradient is taken with respect to. paired: the
    reference returns (value, gradients) from one call instead of <name>, <name>_grad
    and <name>_hess. threads_rows: rows of an input large enough for the kernels to
    run in parallel (22000 rows of 3: above 65536 elements).
    """

    cls: type
    shortcut: str
    params: dict = field(default_factory=dict)
    family: str = "regression"
    kind: str = "regression"
    targets: str = "real"
    elementwise: bool = True
    wrt: tuple = (1,)
    paired: bool = False
    rtol: dict = field(default_factory=lambda: dict(CONTRACT_RTOL))
    threads_rows: int = 22_000

    # -- naming and construction ----------------------------------------------------

    @property
    def id(self):
        args = ",".join(f"{k}={_short(v)}" for k, v in self.params.items())
        return f"{self.shortcut}({args})"

    @property
    def log_input(self):
        return self.params.get("log_input", True)

    @property
    def from_logits(self):
        """Whether y_pred holds logits or scores (True for losses without the choice)."""
        return getattr(self.loss(), "from_logits", True)

    @property
    def weight_forms(self):
        """The forms of sample_weight that apply: one per row, or one per element."""
        return ("rows", "full") if self.elementwise else ("rows",)

    def loss(self, reduction="mean"):
        return self.cls(**self.params, reduction=reduction)

    def shortcut_function(self):
        return getattr(fl, self.shortcut)

    # -- data -------------------------------------------------------------------------

    def inputs(self, n=N_ROWS, dtype=np.float64, seed=0):
        """Valid inputs with n rows: floating arrays in `dtype` (labels, masks as
        they are)."""
        rng = np.random.default_rng(seed)
        args, kwargs = _MAKERS[self.kind](self, n, rng)
        args = tuple(_cast(a, dtype) for a in args)
        return Inputs(args, kwargs, rows_arg=_ROWS_ARG.get(self.kind, -1))

    def data(self, shape, rng, dtype=np.float64):
        """(y_true, y_pred) of `shape` for a regression loss, inside its domain."""
        return _regression_data(self, shape, rng, dtype)

    def weights(self, form, inputs, seed=1):
        """sample_weight: None, one per row ("rows") or y_pred's shape ("full")."""
        if form is None:
            return None
        rng = np.random.default_rng(seed)
        shape = (inputs.n,) if form == "rows" else np.shape(inputs.args[1])
        return rng.uniform(0.1, 2.0, shape)

    # -- the oracle --------------------------------------------------------------------

    def reference(self, quantity, y_true, y_pred, reduction="mean", sample_weight=None):
        """The reference value ("value"), gradient ("grad") or hessian ("hess") of a
        loss over (y_true, y_pred)."""
        suffix = "" if quantity == "value" else "_" + quantity
        fn = getattr(reference, self.shortcut + suffix)
        return fn(y_true, y_pred, **self.params, reduction=reduction,
                  sample_weight=sample_weight)

    def oracle(self, inputs, reduction="mean", sample_weight=None):
        """The reference's Result on `inputs` (floating arrays read in float64: the
        kernels load float32 exactly into double)."""
        args = tuple(_as_float64(a) for a in inputs.args)
        if self.paired:
            value, grads = getattr(reference, self.shortcut)(
                *args, **self.params, **inputs.kwargs, reduction=reduction,
                sample_weight=sample_weight)
            return Result(value, grads if isinstance(grads, tuple) else (grads,), None)
        quantities = [self.reference(q, *args, reduction, sample_weight)
                      for q in ("value", "grad", "hess")]
        return Result(quantities[0], (quantities[1],), (quantities[2],))

    def reference_functions(self):
        """The names of the reference functions this entry relies on."""
        if self.paired:
            return [self.shortcut]
        return [self.shortcut + suffix for suffix in ("", "_grad", "_hess")]


def _short(value):
    if isinstance(value, (list, tuple, np.ndarray)):
        return "[" + ",".join(f"{float(v):g}" for v in np.ravel(value)) + "]"
    return value


def _cast(a, dtype):
    return a.astype(dtype) if isinstance(a, np.ndarray) and a.dtype.kind == "f" else a


def _as_float64(a):
    return a.astype(np.float64) if isinstance(a, np.ndarray) and a.dtype.kind == "f" else a


# ---- data makers, one per kind -----------------------------------------------------


def _regression_data(entry, shape, rng, dtype):
    if entry.targets == "real":
        y = rng.normal(0.0, 2.0, shape)
        p = y + rng.normal(0.0, 1.5, shape)
    else:
        log_mu = rng.normal(0.0, 1.0, shape)
        if entry.targets == "count":
            y = rng.poisson(np.exp(log_mu)).astype(np.float64)
        else:
            y = rng.gamma(2.0, np.exp(log_mu) / 2.0) + 0.01
        p = log_mu + rng.normal(0.0, 0.3, shape)
        if not entry.log_input:
            p = np.exp(p)
    return y.astype(dtype), p.astype(dtype)


def _make_regression(entry, n, rng):
    return _regression_data(entry, (n, N_LABELS), rng, np.float64), {}


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def _softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _make_gaussian(entry, n, rng):
    """Targets, predicted means and variances (the clamp at eps: test_gaussian_nll.py)."""
    y = rng.normal(0.0, 2.0, (n, N_LABELS))
    mean = y + rng.normal(0.0, 1.0, (n, N_LABELS))
    var = rng.uniform(0.05, 3.0, (n, N_LABELS))
    return (y, mean, var), {}


def _make_binary(entry, n, rng):
    """Targets: "soft" in [0, 1], "hard" in {0, 1}, "signed" in {-1, 1}; predictions
    logits or scores (from_logits=True, hinge losses) or probabilities."""
    shape = (n, N_LABELS)
    if entry.targets == "soft":
        y = rng.random(shape)
    else:
        y = (rng.random(shape) < 0.4).astype(np.float64)
        if entry.targets == "signed":
            y = 2.0 * y - 1.0
    z = rng.normal(size=shape)
    p = z * 2.5 if entry.from_logits else _sigmoid(1.5 * z)
    return (y, p), {}


def _make_multiclass(entry, n, rng):
    """Targets: "dense" probability rows, "onehot" rows, "labels" (n,) integers, or
    "ignored" labels where every fourth is params["ignore_index"]; predictions logits
    (from_logits=True, categorical hinge) or probability rows."""
    z = rng.normal(size=(n, N_CLASSES))
    p = 2.0 * z if entry.from_logits else _softmax(1.5 * z)
    labels = rng.integers(0, N_CLASSES, n)
    if entry.targets == "dense":
        t = rng.random((n, N_CLASSES)) + 0.05
        y = t / t.sum(axis=1, keepdims=True)
    elif entry.targets == "onehot":
        y = np.eye(N_CLASSES)[labels]
    elif entry.targets == "ignored":
        y = np.where(np.arange(n) % 4 == 1, entry.params["ignore_index"], labels)
    else:
        y = labels
    return (y, p), {}


def _make_contrastive(entry, n, rng):
    same = rng.integers(0, 2, n).astype(np.float64)
    same[:2] = 0.3  # soft labels interpolate
    x1, x2 = rng.standard_normal((2, n, DIM))
    return (same, x1, x2), {}


def _make_signed_pairs(entry, n, rng):
    target = np.where(rng.random(n) < 0.5, 1.0, -1.0)
    x1, x2 = rng.standard_normal((2, n, DIM))
    x2[:2] = x1[:2] * 2.0  # parallel pairs: cos = 1
    return (target, x1, x2), {}


def _make_vectors(entry, n, rng):
    """Target and predicted vectors (n, DIM)."""
    y_true, y_pred = rng.standard_normal((2, n, DIM))
    return (y_true, y_pred), {}


def _make_triplet(entry, n, rng):
    return tuple(rng.standard_normal((3, n, DIM))), {}


def _make_batch(entry, n, rng):
    return (rng.integers(0, 3, n), rng.standard_normal((n, DIM))), {}


def _make_views(entry, n, rng):
    """Two views (n, DIM) of n examples: the second near the first."""
    z1 = rng.standard_normal((n, DIM))
    return (z1, z1 + rng.normal(0.0, 0.7, (n, DIM))), {}


def _make_margin(entry, n, rng):
    """Labels, embeddings (n, DIM) near their class centre, and N_CLASSES centres."""
    centres = rng.standard_normal((N_CLASSES, DIM))
    labels = rng.integers(0, N_CLASSES, n)
    return (labels, centres[labels] + rng.normal(0.0, 0.8, (n, DIM)), centres), {}


def _make_ctc(entry, n, rng):
    """Padded targets (n, 4) of 0 to 4 labels (repeats included), log-probabilities
    (12, n, N_CLASSES) from a log_softmax, input lengths 6 to 12; with zero_infinity,
    every fifth target is longer than its frames allow."""
    blank = entry.params.get("blank", 0)
    others = np.array([c for c in range(N_CLASSES) if c != blank])
    targets = rng.choice(others, (n, 4))
    targets[::3, 1] = targets[::3, 0]  # a repeated label needs a blank between
    target_lengths = rng.integers(0, 5, n)
    input_lengths = rng.integers(6, 13, n)
    if entry.params.get("zero_infinity"):
        targets[::5] = others[0], others[0], others[0], others[0]
        target_lengths[::5], input_lengths[::5] = 4, 6  # needs 7 frames
    z = rng.normal(0.0, 1.5, (12, n, N_CLASSES))
    log_probs = z - np.log(np.exp(z).sum(axis=2, keepdims=True))
    return (targets, log_probs, input_lengths, target_lengths), {}


def _make_ranking(entry, n, rng):
    relevance = rng.integers(0, 4, (n, LIST_SIZE)).astype(np.float64)
    scores = rng.standard_normal((n, LIST_SIZE))
    where = rng.random((n, LIST_SIZE)) >= 0.2
    return (relevance, scores), {"where": where}


def _make_boxes(entry, n, rng):
    """Target boxes (x1, y1, x2, y2) and predictions near them; every fifth
    prediction elsewhere (no overlap, mostly)."""
    corner = rng.uniform(0.0, 10.0, (n, 2))
    target = np.concatenate([corner, corner + rng.uniform(0.5, 4.0, (n, 2))], axis=1)
    pred = target + rng.normal(0.0, 0.8, (n, 4))
    pred[::5] = target[::5] + rng.choice([-6.0, 6.0], (len(pred[::5]), 1))
    return (target, pred), {}


def _make_masks(entry, n, rng):
    """Soft or hard target masks (n, 2, 3, 4) and probabilities or logits near them; or
    class labels (n, 3, 4) of the two channels, and logits."""
    if entry.targets == "labels":
        labels = rng.integers(0, 2, (n, 3, 4))
        z = rng.normal(0.0, 1.5, (n, 2, 3, 4)) + 2.0 * np.eye(2)[labels].transpose(0, 3, 1, 2)
        return (labels, z), {}
    target = (rng.random((n, 2, 3, 4)) < 0.4).astype(np.float64)
    if entry.targets == "soft":
        target = np.clip(target + rng.uniform(-0.3, 0.3, target.shape), 0.0, 1.0)
    z = rng.normal(0.0, 1.5, target.shape) + 2.0 * target - 1.0
    return (target, z if entry.from_logits else _sigmoid(z)), {}


_MAKERS = {
    "regression": _make_regression,
    "binary": _make_binary,
    "multiclass": _make_multiclass,
    "contrastive": _make_contrastive,
    "signed_pairs": _make_signed_pairs,
    "vectors": _make_vectors,
    "triplet": _make_triplet,
    "batch": _make_batch,
    "views": _make_views,
    "margin": _make_margin,
    "ctc": _make_ctc,
    "ranking": _make_ranking,
    "boxes": _make_boxes,
    "gaussian": _make_gaussian,
    "masks": _make_masks,
}


# ---- the entries ---------------------------------------------------------------------


def _regression(cls, shortcut, params=None, targets="real"):
    return Entry(cls, shortcut, params or {}, targets=targets)


def _counts(cls, shortcut, targets, **params):
    return [_regression(cls, shortcut, {**params, "log_input": log_input}, targets)
            for log_input in (True, False)]


REGRESSION = [
    _regression(fl.MeanSquaredError, "mse"),
    _regression(fl.MeanAbsoluteError, "mae"),
    _regression(fl.Huber, "huber", {"delta": 1.0}),
    _regression(fl.Huber, "huber", {"delta": 0.3}),
    _regression(fl.SmoothL1, "smooth_l1", {"beta": 1.0}),
    _regression(fl.SmoothL1, "smooth_l1", {"beta": 0.4}),
    _regression(fl.SmoothL1, "smooth_l1", {"beta": 0.0}),
    _regression(fl.PseudoHuber, "pseudo_huber", {"delta": 1.0}),
    _regression(fl.PseudoHuber, "pseudo_huber", {"delta": 2.5}),
    _regression(fl.LogCosh, "log_cosh"),
    _regression(fl.Quantile, "quantile", {"quantile": 0.5}),
    _regression(fl.Quantile, "quantile", {"quantile": 0.9}),
    *_counts(fl.Poisson, "poisson", "count"),
    *_counts(fl.Gamma, "gamma", "positive"),
    *_counts(fl.Tweedie, "tweedie", "count", power=1.5),
    _regression(fl.Tweedie, "tweedie", {"power": 1.0, "log_input": True}, "count"),
    _regression(fl.Tweedie, "tweedie", {"power": 2.0, "log_input": False}, "positive"),
    *_counts(fl.Tweedie, "tweedie", "positive", power=3.0),
    _regression(fl.MeanSquaredLogarithmicError, "msle"),
    _regression(fl.MeanAbsolutePercentageError, "mape"),
    *[Entry(fl.GaussianNLL, "gaussian_nll", params, kind="gaussian", wrt=(1, 2), paired=True)
      for params in ({}, {"full": True, "eps": 1e-3})],
]

#: Per-class weights of the multi-class cases (short decimals: repr round-trips them).
CLASS_WEIGHTS = np.array([0.5, 1.25, 2.0, 0.75, 1.5])


def _binary(cls, shortcut, params, targets):
    return Entry(cls, shortcut, params, family="classification", kind="binary",
                 targets=targets)


def _multiclass(cls, shortcut, params, targets):
    # 8200 rows of 5 classes: above the row kernels' parallel threshold (32768 values)
    return Entry(cls, shortcut, params, family="classification", kind="multiclass",
                 targets=targets, elementwise=False, threads_rows=8200)


CLASSIFICATION = [
    _binary(fl.BinaryCrossEntropy, "binary_cross_entropy", {"from_logits": True}, "soft"),
    _binary(fl.BinaryCrossEntropy, "binary_cross_entropy",
            {"from_logits": True, "label_smoothing": 0.1, "pos_weight": 3.0}, "hard"),
    _binary(fl.BinaryCrossEntropy, "binary_cross_entropy",
            {"from_logits": True, "pos_weight": [0.5, 1.0, 4.0]}, "soft"),
    _binary(fl.BinaryCrossEntropy, "binary_cross_entropy", {}, "soft"),
    _binary(fl.BinaryCrossEntropy, "binary_cross_entropy",
            {"label_smoothing": 0.2, "pos_weight": [2.0, 1.0, 0.0]}, "hard"),
    _binary(fl.BinaryFocal, "binary_focal", {"from_logits": True}, "hard"),
    _binary(fl.BinaryFocal, "binary_focal",
            {"from_logits": True, "gamma": 0.5, "alpha": None}, "soft"),
    _binary(fl.BinaryFocal, "binary_focal", {"gamma": 1.5, "alpha": 0.6}, "soft"),
    _binary(fl.BinaryFocal, "binary_focal", {"gamma": 0.0}, "hard"),
    _binary(fl.Hinge, "hinge", {}, "hard"),
    _binary(fl.Hinge, "hinge", {}, "signed"),
    _binary(fl.SquaredHinge, "squared_hinge", {}, "hard"),
    _binary(fl.SoftMargin, "soft_margin", {}, "hard"),
    _binary(fl.SoftMargin, "soft_margin", {}, "signed"),
    _multiclass(fl.CategoricalCrossEntropy, "categorical_cross_entropy",
                {"from_logits": True}, "dense"),
    _multiclass(fl.CategoricalCrossEntropy, "categorical_cross_entropy",
                {"from_logits": True, "label_smoothing": 0.2, "class_weight": CLASS_WEIGHTS},
                "dense"),
    _multiclass(fl.CategoricalCrossEntropy, "categorical_cross_entropy",
                {"label_smoothing": 0.1}, "dense"),
    _multiclass(fl.CategoricalCrossEntropy, "categorical_cross_entropy",
                {"class_weight": CLASS_WEIGHTS}, "onehot"),
    _multiclass(fl.SparseCategoricalCrossEntropy, "sparse_categorical_cross_entropy",
                {"from_logits": True}, "labels"),
    _multiclass(fl.SparseCategoricalCrossEntropy, "sparse_categorical_cross_entropy",
                {"from_logits": True, "label_smoothing": 0.3, "class_weight": CLASS_WEIGHTS},
                "labels"),
    _multiclass(fl.SparseCategoricalCrossEntropy, "sparse_categorical_cross_entropy",
                {"from_logits": True, "ignore_index": 2}, "ignored"),
    _multiclass(fl.SparseCategoricalCrossEntropy, "sparse_categorical_cross_entropy",
                {"class_weight": CLASS_WEIGHTS, "ignore_index": -100}, "ignored"),
    _multiclass(fl.CategoricalFocal, "categorical_focal", {"from_logits": True}, "dense"),
    _multiclass(fl.CategoricalFocal, "categorical_focal",
                {"from_logits": True, "gamma": 0.5, "alpha": CLASS_WEIGHTS}, "dense"),
    _multiclass(fl.CategoricalFocal, "categorical_focal", {"gamma": 1.5, "alpha": 0.25},
                "dense"),
    _multiclass(fl.SparseCategoricalFocal, "sparse_categorical_focal",
                {"from_logits": True, "gamma": 3.0, "alpha": CLASS_WEIGHTS}, "labels"),
    _multiclass(fl.SparseCategoricalFocal, "sparse_categorical_focal", {}, "labels"),
    _multiclass(fl.CategoricalHinge, "categorical_hinge", {}, "onehot"),
    _multiclass(fl.CategoricalHinge, "categorical_hinge", {"margin": 2.5}, "dense"),
    _multiclass(fl.CategoricalHinge, "categorical_hinge", {"margin": 0.5}, "labels"),
    _multiclass(fl.KLDivergence, "kl_divergence", {"from_logits": True}, "dense"),
    _multiclass(fl.KLDivergence, "kl_divergence", {}, "dense"),
    _multiclass(fl.PolyLoss, "poly_loss", {"from_logits": True}, "dense"),
    _multiclass(fl.PolyLoss, "poly_loss", {"from_logits": True, "epsilon": -0.5}, "labels"),
    _multiclass(fl.PolyLoss, "poly_loss", {"epsilon": 2.0}, "labels"),
    _multiclass(fl.GeneralizedCrossEntropy, "generalized_cross_entropy",
                {"from_logits": True}, "dense"),
    _multiclass(fl.GeneralizedCrossEntropy, "generalized_cross_entropy",
                {"from_logits": True, "q": 0.3}, "labels"),
    _multiclass(fl.GeneralizedCrossEntropy, "generalized_cross_entropy", {"q": 1.0}, "dense"),
    _multiclass(fl.SparseCategoricalCrossEntropy, "sparse_categorical_cross_entropy",
                {"from_logits": True, "z_loss": 0.01}, "labels"),
    _multiclass(fl.CategoricalCrossEntropy, "categorical_cross_entropy",
                {"from_logits": True, "label_smoothing": 0.1, "class_weight": CLASS_WEIGHTS,
                 "z_loss": 0.05}, "dense"),
    _multiclass(fl.SparseCategoricalCrossEntropy, "sparse_categorical_cross_entropy",
                {"from_logits": True, "z_loss": 0.1, "ignore_index": 2}, "ignored"),
    _multiclass(fl.NLL, "nll", {}, "labels"),
    _multiclass(fl.NLL, "nll", {"class_weight": CLASS_WEIGHTS, "ignore_index": 2}, "ignored"),
    _multiclass(fl.MultiMargin, "multi_margin", {}, "labels"),
    _multiclass(fl.MultiMargin, "multi_margin",
                {"p": 2, "margin": 0.5, "class_weight": CLASS_WEIGHTS}, "labels"),
    _multiclass(fl.MultiMargin, "multi_margin", {"kind": "crammer_singer"}, "labels"),
    _multiclass(fl.MultiMargin, "multi_margin",
                {"kind": "crammer_singer", "p": 2, "margin": 2.0, "class_weight": CLASS_WEIGHTS},
                "labels"),
]

# 8200 boxes: above the row kernels' parallel threshold (32768 values)
DETECTION = [
    Entry(fl.BoxIoU, "box_iou_loss", {"kind": kind, **extra}, family="detection",
          kind="boxes", elementwise=False, threads_rows=8200)
    for kind, extra in (("iou", {}), ("giou", {}), ("diou", {}), ("ciou", {}),
                        ("giou", {"eps": 1e-3}))
]


# 1400 masks of 24: above the row kernels' parallel threshold (32768 values)
SEGMENTATION = [
    Entry(cls, shortcut, params, family="segmentation", kind="masks", targets=targets,
          elementwise=False, threads_rows=1400)
    for cls, shortcut, params, targets in (
        (fl.Dice, "dice", {}, "hard"),
        (fl.Dice, "dice", {"from_logits": True, "smooth": 0.0}, "soft"),
        (fl.Tversky, "tversky", {"alpha": 0.3, "beta": 0.7}, "hard"),
        (fl.Tversky, "tversky", {"alpha": 0.7, "beta": 0.3, "gamma": 1.5, "from_logits": True},
         "soft"),
        # the two channels of the masks are classes: a softmax over them, or probabilities
        (fl.Dice, "dice", {"multiclass": True, "from_logits": True}, "labels"),
        (fl.Dice, "dice", {"multiclass": True}, "hard"),
        (fl.Tversky, "tversky", {"alpha": 0.3, "beta": 0.7, "gamma": 2.0, "multiclass": True,
                                 "from_logits": True}, "soft"),
    )
]


def _embedding(cls, shortcut, params, kind, wrt, threads_rows=11_000):
    return Entry(cls, shortcut, params, family="embedding", kind=kind, elementwise=False,
                 wrt=wrt, paired=True, threads_rows=threads_rows)


EMBEDDING = [
    _embedding(fl.Contrastive, "contrastive", {}, "contrastive", (1, 2)),
    _embedding(fl.Contrastive, "contrastive", {"margin": 2.5}, "contrastive", (1, 2)),
    _embedding(fl.CosineEmbedding, "cosine_embedding", {}, "signed_pairs", (1, 2)),
    _embedding(fl.CosineEmbedding, "cosine_embedding", {"margin": 0.3}, "signed_pairs",
               (1, 2)),
    _embedding(fl.CosineEmbedding, "cosine_embedding", {"margin": -0.2}, "signed_pairs",
               (1, 2)),
    Entry(fl.CosineSimilarity, "cosine_similarity", {}, family="embedding", kind="vectors",
          elementwise=False, threads_rows=8200),
    _embedding(fl.Triplet, "triplet", {}, "triplet", (0, 1, 2)),
    *[_embedding(fl.Triplet, "triplet", {"margin": 1.5, "p": p, "swap": swap, "eps": 1e-3},
                 "triplet", (0, 1, 2))
      for p in (1.0, 1.5, 3.0) for swap in (False, True)],
    # 300 rows: the all-pairs mining runs in parallel (n^2 above 65536)
    *[_embedding(fl.BatchTriplet, "batch_triplet", {"margin": margin, "strategy": strategy},
                 "batch", (1,), threads_rows=300)
      for strategy in ("hard", "semihard", "all") for margin in (1.0, 0.0, 3.0)],
    *[_embedding(fl.SupCon, "supcon", params, "batch", (1,))
      for params in ({}, {"temperature": 0.7})],
    *[_embedding(fl.InfoNCE, "info_nce", params, "views", (0, 1))
      for params in ({}, {"temperature": 0.5})],
    *[_embedding(cls, shortcut, params, "margin", (1, 2))
      for cls, shortcut in ((fl.ArcFace, "arcface"), (fl.CosFace, "cosface"))
      for params in ({"scale": 8.0}, {"scale": 30.0, "margin": 0.2})],
]


def _ranking(cls, shortcut, params=None):
    # 1500 lists of 7: above the ranking kernels' parallel threshold
    return Entry(cls, shortcut, params or {}, family="ranking", kind="ranking",
                 elementwise=False, paired=True, threads_rows=1500)


RANKING = [
    _ranking(fl.PairwiseHinge, "pairwise_hinge"),
    _ranking(fl.PairwiseHinge, "pairwise_hinge", {"margin": 0.7}),
    _ranking(fl.PairwiseLogistic, "pairwise_logistic"),
    _ranking(fl.ListwiseSoftmax, "listwise_softmax"),
    _ranking(fl.ListMLE, "list_mle"),
    _ranking(fl.LambdaRank, "lambda_rank"),
    _ranking(fl.LambdaRank, "lambda_rank", {"k": 3}),
]

# 12 frames, 5 classes, targets up to 4 labels; 1100 sequences run in parallel
SEQUENCE = [
    Entry(fl.CTC, "ctc", params, family="sequence", kind="ctc", elementwise=False,
          paired=True, threads_rows=1100)
    for params in ({}, {"blank": 2, "zero_infinity": True})
]

#: Every entry: each loss class at least once, with non-default hyper-parameters
#: where they change the code path.
ENTRIES = [*REGRESSION, *CLASSIFICATION, *DETECTION, *SEGMENTATION, *EMBEDDING, *RANKING,
           *SEQUENCE]
#: The first entry of each class (the cheaper contract tests run on these).
ONE_PER_CLASS = [entry for i, entry in enumerate(ENTRIES)
                 if all(other.cls is not entry.cls for other in ENTRIES[:i])]
FAMILIES = ("regression", "classification", "detection", "segmentation", "embedding",
            "ranking", "sequence")


def defaults(entries):
    """One entry per class of `entries`, with default hyper-parameters."""
    seen = {}
    for entry in entries:
        seen.setdefault(entry.cls, replace(entry, params={}))
    return list(seen.values())


def family(name):
    """The entries of one family."""
    return [entry for entry in ENTRIES if entry.family == name]


def params(entries):
    """pytest.mark.parametrize keywords (argvalues and ids) over entries."""
    return {"argvalues": entries, "ids": [entry.id for entry in entries]}
