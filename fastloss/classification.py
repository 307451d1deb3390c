"""Classification losses: binary, multi-label and multi-class.

Binary and multi-label losses are elementwise (fastloss._core.base.ElementwiseLoss):
y_pred of any shape, y_true the same shape, and a 2-D y_pred of shape (n, L) is L
independent binary problems, one per column. Multi-class losses are row-wise
(fastloss._core.rowwise.RowwiseLoss): y_pred has shape (n, C), classes on the last axis.

`from_logits=True` means y_pred holds raw scores (logits); otherwise probabilities in
[0, 1]. Gradients and hessians are taken with respect to what y_pred holds. Logits
paths never form log(sigmoid) or log(softmax) from a rounded probability: they are
exact for logits up to +-1e4 and have the right limits at +-inf. Probability paths
clamp log(p) at -100 as PyTorch does; where the clamp is active the loss is flat in
p, so its gradient and hessian there are 0 (consistent with the clamped value).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Literal, overload

import numpy as np
from numpy.typing import ArrayLike, NDArray

from fastloss._core.base import (
    ElementwiseLoss,
    FloatArray,
    LossValue,
    Reduction,
    ValueT,
)
from fastloss._core.rowwise import RowwiseLoss, check_unit
from fastloss._core.validation import (
    bad_value_error,
    check_flag,
    check_nonnegative,
    check_number,
)
from fastloss._kernels import dispatch as _dispatch
from fastloss._kernels.common import shortcut_call

__all__ = [
    "BinaryCrossEntropy", "BinaryFocal", "Hinge", "SquaredHinge", "SoftMargin",
    "CategoricalCrossEntropy", "SparseCategoricalCrossEntropy", "CategoricalFocal",
    "SparseCategoricalFocal", "CategoricalHinge", "KLDivergence", "PolyLoss",
    "GeneralizedCrossEntropy", "NLL", "MultiMargin",
    "binary_cross_entropy", "binary_focal", "hinge", "squared_hinge", "soft_margin",
    "categorical_cross_entropy", "sparse_categorical_cross_entropy", "categorical_focal",
    "sparse_categorical_focal", "categorical_hinge", "kl_divergence", "poly_loss",
    "generalized_cross_entropy", "nll", "multi_margin",
]

_binary = _dispatch.load("binary")


# ---- parameter checks ----------------------------------------------------------------

def _smoothing(value):
    return check_number("label_smoothing", value, lambda v: 0.0 <= v <= 1.0, "in [0, 1]")


def _weights_or_scalar(name, value, allow_none=True, bounds=(0.0, math.inf)):
    """None, a float, or a read-only 1-D float64 array (one value per label or class)."""
    lo, hi = bounds
    requirement = f"finite and in [{lo:g}, {hi:g}]" if math.isfinite(hi) else "finite and >= 0"
    if value is None:
        if allow_none:
            return None
        raise ValueError(f"{name} must not be None")
    if np.ndim(value) == 0:
        return check_number(name, value, lambda v: math.isfinite(v) and lo <= v <= hi, requirement)
    try:
        arr = np.array(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number or a 1-D array of numbers") from None
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} must be a number or a non-empty 1-D array; got shape {arr.shape}")
    bad = ~(np.isfinite(arr) & (arr >= lo) & (arr <= hi))
    if bad.any():
        index = int(np.flatnonzero(bad)[0])
        raise ValueError(f"{name} must be {requirement}; got {arr[index]!r} at index {index}")
    arr.flags.writeable = False
    return arr


# ---- binary and multi-label (elementwise) -------------------------------------------

class _Binary(ElementwiseLoss[ValueT]):
    _kernels = _binary

    def _bad_target(self, y_true):
        check_unit(y_true, "y_true", True)


class _ProbabilisticBinary(_Binary[ValueT]):
    """Targets in [0, 1]; with from_logits=False, predictions in [0, 1] too.

    The kernels check the targets in their loss loop (TARGET_CHECK in binary.pyx.tp)
    and call check_unit, which names the first bad one, only when they saw one.
    """

    def _check_inputs(self, y_true, y_pred):
        if not self.from_logits:
            check_unit(y_pred, "y_pred (probabilities, from_logits=False)", nan_invalid=False)

    def _checks_inputs(self):
        # The targets are checked by the kernels; the probabilities (and pos_weight's
        # length) here.
        return not self.from_logits or self._per_column is not None


class BinaryCrossEntropy(_ProbabilisticBinary[ValueT]):
    """Binary cross-entropy, one independent problem per element (multi-label for 2-D).

    l = -(pw t log(p) + (1 - t) log(1 - p)), p = sigmoid(y_pred) with from_logits=True,
    else p = y_pred. Targets t in [0, 1] are smoothed as Keras does:
    t = y_true (1 - label_smoothing) + label_smoothing / 2. ``pos_weight`` (pw) weights the
    positive term as torch ``BCEWithLogitsLoss``: a scalar, or one value per label
    (length y_pred.shape[-1]). Logits: l = pw t softplus(-z) + (1 - t) softplus(z),
    gradient (1 - t) sigmoid(z) - pw t sigmoid(-z), exact hessian
    (pw t + 1 - t) sigmoid(z) sigmoid(-z). Probabilities: log clamped at -100 (torch
    ``BCELoss``); the gradient and hessian terms of a clamped log are 0.

    Shapes: y_true and y_pred of one shape; a 2-D y_pred (n, L) holds L labels;
    sample_weight (n,) or y_pred's shape.

    Examples
    --------
    >>> import fastloss as fl
    >>> loss = fl.BinaryCrossEntropy(from_logits=True)
    >>> loss([1.0, 0.0], [0.0, 0.0])  # log 2
    0.693147180...
    >>> loss([1.0], [-800.0])  # softplus(800), exact far beyond exp's range
    800.0
    >>> fl.BinaryCrossEntropy(pos_weight=3.0)([1.0], [0.5])  # 3 log 2
    2.079441541...
    """

    _param_names = ("from_logits", "label_smoothing", "pos_weight")
    from_logits: bool
    label_smoothing: float
    pos_weight: float | NDArray[np.float64] | None

    @overload
    def __init__(
        self: BinaryCrossEntropy[float], *, from_logits: bool = False, label_smoothing: float = 0.0,
        pos_weight: ArrayLike | None = None, reduction: Literal["mean", "sum"] = "mean",
    ) -> None: ...
    @overload
    def __init__(
        self: BinaryCrossEntropy[FloatArray], *, from_logits: bool = False,
        label_smoothing: float = 0.0, pos_weight: ArrayLike | None = None,
        reduction: Literal["none"],
    ) -> None: ...
    @overload
    def __init__(
        self: BinaryCrossEntropy[LossValue], *, from_logits: bool = False,
        label_smoothing: float = 0.0, pos_weight: ArrayLike | None = None, reduction: Reduction,
    ) -> None: ...
    def __init__(self, *, from_logits: bool = False, label_smoothing: float = 0.0,
                 pos_weight: ArrayLike | None = None, reduction: Reduction = "mean") -> None:
        self.from_logits = check_flag("from_logits", from_logits)
        self.label_smoothing = _smoothing(label_smoothing)
        self.pos_weight = _weights_or_scalar("pos_weight", pos_weight)
        if isinstance(self.pos_weight, np.ndarray):
            self._per_column = self.pos_weight
        super().__init__(reduction=reduction)

    def _kernel_spec(self):
        name = "bce_logits" if self.from_logits else "bce_probs"
        if self._per_column is not None:
            return (name + "_cols", self.label_smoothing, 0.0)
        pos_weight = 1.0 if self.pos_weight is None else self.pos_weight
        return (name, self.label_smoothing, pos_weight)

    def _check_inputs(self, y_true, y_pred):
        if self._per_column is not None:
            labels = y_pred.shape[-1] if y_pred.ndim else 1
            if labels != self._per_column.size:
                raise ValueError(
                    f"pos_weight has {self._per_column.size} values but y_pred has "
                    f"{labels} labels (y_pred.shape={y_pred.shape}; labels are the last axis)"
                )
        super()._check_inputs(y_true, y_pred)


class BinaryFocal(_ProbabilisticBinary[ValueT]):
    """Binary focal loss (Lin et al. 2017), torchvision ``sigmoid_focal_loss``.

    l = a_t ce (1 - p_t)^gamma with ce the binary cross-entropy, p = sigmoid(y_pred)
    (from_logits=True) or y_pred, p_t = p t + (1 - p)(1 - t) and
    a_t = alpha t + (1 - alpha)(1 - t); ``alpha=None`` disables the weighting (a_t = 1).
    gradient_hessian returns the exact second derivative, which can be negative (the
    loss is not convex). Probabilities: log clamped at -100 as BinaryCrossEntropy.

    Shapes: y_true and y_pred of one shape; a 2-D y_pred (n, L) holds L labels;
    sample_weight (n,) or y_pred's shape.

    Examples
    --------
    >>> import fastloss as fl
    >>> fl.BinaryFocal(gamma=2.0, alpha=None)([1.0], [0.5])  # (1 - 0.5)**2 log 2
    0.173286795...
    """

    _param_names = ("gamma", "alpha", "from_logits")
    gamma: float
    alpha: float | None
    from_logits: bool

    @overload
    def __init__(
        self: BinaryFocal[float], *, gamma: float = 2.0, alpha: float | None = 0.25,
        from_logits: bool = False, reduction: Literal["mean", "sum"] = "mean",
    ) -> None: ...
    @overload
    def __init__(
        self: BinaryFocal[FloatArray], *, gamma: float = 2.0, alpha: float | None = 0.25,
        from_logits: bool = False, reduction: Literal["none"],
    ) -> None: ...
    @overload
    def __init__(
        self: BinaryFocal[LossValue], *, gamma: float = 2.0, alpha: float | None = 0.25,
        from_logits: bool = False, reduction: Reduction,
    ) -> None: ...
    def __init__(self, *, gamma: float = 2.0, alpha: float | None = 0.25,
                 from_logits: bool = False, reduction: Reduction = "mean") -> None:
        self.gamma = check_nonnegative("gamma", gamma)
        self.alpha = None if alpha is None else check_number(
            "alpha", alpha, lambda v: 0.0 <= v <= 1.0, "None or in [0, 1]"
        )
        self.from_logits = check_flag("from_logits", from_logits)
        super().__init__(reduction=reduction)

    def _kernel_spec(self):
        alpha = -1.0 if self.alpha is None else self.alpha
        name = "focal_logits" if self.from_logits else "focal_probs"
        # gamma = 2 has kernels of its own, where the power is a product (vectorized)
        return (name + "_gamma2" if self.gamma == 2.0 else name, self.gamma, alpha)


class _SignLabels(_Binary[ValueT]):
    """Targets are labels in {0, 1} or in {-1, 1} (0 and -1 both mean negative)."""

    _small_target_check = _binary.TARGETS_SIGN_LABELS

    def _check_inputs(self, y_true, y_pred):
        index = _binary.first_bad_sign_label(y_true)
        if index >= 0:
            raise bad_value_error(
                "y_true", y_true, index, "labels in {0, 1} or in {-1, 1} (not both 0 and -1)"
            )


class Hinge(_SignLabels[ValueT]):
    """Hinge loss: l = max(0, 1 - t y_pred), t = +1 for label 1 and -1 for 0 or -1.

    Keras ``Hinge`` (which also maps {0, 1} labels to {-1, 1}); y_pred are scores.
    Gradient -t where the margin is violated, else 0. The hessian is zero almost
    everywhere; gradient_hessian returns the surrogate 1.

    Shapes: y_true and y_pred of one shape; a 2-D y_pred (n, L) holds L labels;
    sample_weight (n,) or y_pred's shape.

    Examples
    --------
    >>> import fastloss as fl
    >>> fl.Hinge(reduction="none")([1, 0], [0.5, 0.5])  # targets +1 and -1
    array([0.5, 1.5])
    """

    exact_hessian = False

    if TYPE_CHECKING:  # the inherited constructor, its value type chosen by reduction
        @overload
        def __init__(self: Hinge[float], *, reduction: Literal["mean", "sum"] = "mean") -> None: ...
        @overload
        def __init__(self: Hinge[FloatArray], *, reduction: Literal["none"]) -> None: ...
        @overload
        def __init__(self: Hinge[LossValue], *, reduction: Reduction) -> None: ...
        def __init__(self, *, reduction: Reduction = "mean") -> None: ...

    def _kernel_spec(self):
        return ("hinge",)


class SoftMargin(_SignLabels[ValueT]):
    """Soft-margin (logistic) loss: l = log(1 + exp(-t y_pred)), t = +1 for label 1 and
    -1 for 0 or -1.

    torch ``SoftMarginLoss`` (labels -1 and 1; 0 also counts as negative here, as in
    Hinge); y_pred are scores. It equals BinaryCrossEntropy from logits with labels
    (t + 1) / 2. Gradient -t sigmoid(-t y_pred), hessian sigmoid(y_pred)
    sigmoid(-y_pred); no overflow for any score.

    Parameters
    ----------
    reduction : {"mean", "sum", "none"}
        How the per-element values are combined (weighted by sample_weight).

    Shapes: y_true and y_pred of one shape; a 2-D y_pred (n, L) holds L labels;
    sample_weight (n,) or y_pred's shape.

    Examples
    --------
    >>> import fastloss as fl
    >>> fl.SoftMargin(reduction="none")([1, -1], [0.0, 1000.0])  # log 2, and 1000
    array([6.93147181e-01, 1.00000000e+03])
    """

    if TYPE_CHECKING:  # the inherited constructor, its value type chosen by reduction
        @overload
        def __init__(
            self: SoftMargin[float], *, reduction: Literal["mean", "sum"] = "mean",
        ) -> None: ...
        @overload
        def __init__(self: SoftMargin[FloatArray], *, reduction: Literal["none"]) -> None: ...
        @overload
        def __init__(self: SoftMargin[LossValue], *, reduction: Reduction) -> None: ...
        def __init__(self, *, reduction: Reduction = "mean") -> None: ...

    def _kernel_spec(self):
        return ("soft_margin",)


class SquaredHinge(_SignLabels[ValueT]):
    """Squared hinge: l = max(0, 1 - t y_pred)^2, t as in Hinge (Keras ``SquaredHinge``).

    Gradient -2 t max(0, 1 - t y_pred); hessian 2 where the margin is violated, else 0.

    Shapes: y_true and y_pred of one shape; a 2-D y_pred (n, L) holds L labels;
    sample_weight (n,) or y_pred's shape.

    Examples
    --------
    >>> import fastloss as fl
    >>> fl.SquaredHinge(reduction="none")([1, -1], [0.5, 0.5])
    array([0.25, 2.25])
    """

    if TYPE_CHECKING:  # the inherited constructor, its value type chosen by reduction
        @overload
        def __init__(
            self: SquaredHinge[float], *, reduction: Literal["mean", "sum"] = "mean",
        ) -> None: ...
        @overload
        def __init__(self: SquaredHinge[FloatArray], *, reduction: Literal["none"]) -> None: ...
        @overload
        def __init__(self: SquaredHinge[LossValue], *, reduction: Reduction) -> None: ...
        def __init__(self, *, reduction: Reduction = "mean") -> None: ...

    def _kernel_spec(self):
        return ("squared_hinge",)


# ---- multi-class (row-wise) ---------------------------------------------------------

def _ignore_index(value):
    """None or the integer label whose rows are ignored."""
    if value is not None and (
        isinstance(value, (bool, np.bool_))
        or not isinstance(value, (int, np.integer))
        or not -(2**63) <= value < 2**63
    ):
        raise ValueError(f"ignore_index must be None or an integer; got {value!r}")
    return None if value is None else int(value)


def _per_class(name, value):
    """None or a read-only float64 array of one finite value >= 0 per class."""
    if value is None:
        return None
    if np.ndim(value) == 0:
        raise ValueError(f"{name} must be None or a 1-D array with one value per class")
    return _weights_or_scalar(name, value)


class _Categorical(RowwiseLoss[ValueT]):
    """from_logits selects softmax logits or probability rows for y_pred."""

    from_logits: bool

    def __init__(self, *, from_logits: bool, reduction: Reduction) -> None:
        self.from_logits = check_flag("from_logits", from_logits)
        self._probability_input = not self.from_logits
        super().__init__(reduction=reduction)

    def _kernel_name(self, base):
        return base + ("_logits" if self.from_logits else "_probs")


class CategoricalCrossEntropy(_Categorical[ValueT]):
    """Cross-entropy over probability-row targets: l = -sum_k a_k log p_k, per row.

    p = softmax(y_pred) with from_logits=True (log-sum-exp with the row max, never
    log of a rounded softmax), else y_pred as given (probability rows, not
    renormalized; log clamped at -100 as PyTorch's BCELoss). Targets t are rows of
    probabilities in [0, 1]. Label smoothing (Keras/PyTorch):
    t' = t (1 - label_smoothing) + label_smoothing / C. Class weights follow PyTorch's
    ``CrossEntropyLoss(weight=...)``: a_k = class_weight_k t'_k (the weight applies to
    the smoothed target), and "mean" divides by sum_i w_i sum_k t_ik class_weight_k (the
    row's class weight for one-hot rows, computed from the unsmoothed targets).
    Gradient w.r.t. logits A p - a (A = sum_k a_k), exact diagonal hessian A p (1 - p).

    ``z_loss`` (logits only) adds z_loss (log Z)^2 per row, Z = sum_k exp(z_k): the
    log-partition regularizer of PaLM (Chowdhery et al. 2022) and T5X, which keeps the
    logits of a large-vocabulary softmax from drifting. It is not scaled by the class
    weight. Its gradient is 2 z_loss log Z p_k and its hessian diagonal
    2 z_loss (p_k^2 + log Z p_k (1 - p_k)).

    Shapes: y_pred (n, C), y_true (n, C) probability rows; sample_weight (n,).

    Examples
    --------
    >>> import fastloss as fl
    >>> loss = fl.CategoricalCrossEntropy(from_logits=True)
    >>> loss([[1.0, 0.0]], [[0.0, 0.0]])  # log 2
    0.693147180...
    >>> loss.gradient([[1.0, 0.0]], [[0.0, 0.0]])  # softmax - target
    array([[-0.5,  0.5]])
    """

    _param_names = ("from_logits", "label_smoothing", "class_weight", "z_loss")
    _class_weights_rows = True
    label_smoothing: float
    class_weight: NDArray[np.float64] | None
    z_loss: float

    @overload
    def __init__(
        self: CategoricalCrossEntropy[float], *, from_logits: bool = False,
        label_smoothing: float = 0.0, class_weight: ArrayLike | None = None, z_loss: float = 0.0,
        reduction: Literal["mean", "sum"] = "mean",
    ) -> None: ...
    @overload
    def __init__(
        self: CategoricalCrossEntropy[FloatArray], *, from_logits: bool = False,
        label_smoothing: float = 0.0, class_weight: ArrayLike | None = None, z_loss: float = 0.0,
        reduction: Literal["none"],
    ) -> None: ...
    @overload
    def __init__(
        self: CategoricalCrossEntropy[LossValue], *, from_logits: bool = False,
        label_smoothing: float = 0.0, class_weight: ArrayLike | None = None, z_loss: float = 0.0,
        reduction: Reduction,
    ) -> None: ...
    def __init__(self, *, from_logits: bool = False, label_smoothing: float = 0.0,
                 class_weight: ArrayLike | None = None, z_loss: float = 0.0,
                 reduction: Reduction = "mean") -> None:
        self.label_smoothing = _smoothing(label_smoothing)
        self.class_weight = _per_class("class_weight", class_weight)
        self._per_class = self.class_weight
        self.z_loss = check_nonnegative("z_loss", z_loss)
        if self.z_loss and not from_logits:
            raise ValueError("z_loss applies to logits: it needs from_logits=True")
        super().__init__(from_logits=from_logits, reduction=reduction)

    def _kernel_spec(self, sparse):
        return (self._kernel_name("ce"), self.label_smoothing, self.z_loss)


class SparseCategoricalCrossEntropy(CategoricalCrossEntropy[ValueT]):
    """Cross-entropy with integer class labels y_true of shape (n,) (any integer dtype).

    The same loss as CategoricalCrossEntropy with one-hot targets, as torch
    ``CrossEntropyLoss`` with class indices: with label smoothing and class weights
    l = (1 - ls) w_y (-log p_y) + (ls / C) sum_k w_k (-log p_k), and "mean" divides by
    sum_i w_i class_weight[y_i]. Rows whose label equals ``ignore_index`` contribute
    0 to the loss, the gradient and the denominator; any other label outside [0, C) is
    a ValueError.

    Shapes: y_pred (n, C), y_true (n,) integer labels; sample_weight (n,).

    Examples
    --------
    >>> import fastloss as fl
    >>> loss = fl.SparseCategoricalCrossEntropy(from_logits=True, ignore_index=-1)
    >>> loss([0, -1], [[0.0, 0.0], [5.0, 1.0]])  # the second row is ignored
    0.693147180...
    """

    _param_names = ("from_logits", "label_smoothing", "class_weight", "z_loss",
                    "ignore_index")
    _targets = ("sparse",)
    ignore_index: int | None

    @overload
    def __init__(
        self: SparseCategoricalCrossEntropy[float], *, from_logits: bool = False,
        label_smoothing: float = 0.0, class_weight: ArrayLike | None = None, z_loss: float = 0.0,
        ignore_index: int | None = None, reduction: Literal["mean", "sum"] = "mean",
    ) -> None: ...
    @overload
    def __init__(
        self: SparseCategoricalCrossEntropy[FloatArray], *, from_logits: bool = False,
        label_smoothing: float = 0.0, class_weight: ArrayLike | None = None, z_loss: float = 0.0,
        ignore_index: int | None = None, reduction: Literal["none"],
    ) -> None: ...
    @overload
    def __init__(
        self: SparseCategoricalCrossEntropy[LossValue], *, from_logits: bool = False,
        label_smoothing: float = 0.0, class_weight: ArrayLike | None = None, z_loss: float = 0.0,
        ignore_index: int | None = None, reduction: Reduction,
    ) -> None: ...
    def __init__(self, *, from_logits: bool = False, label_smoothing: float = 0.0,
                 class_weight: ArrayLike | None = None, z_loss: float = 0.0,
                 ignore_index: int | None = None, reduction: Reduction = "mean") -> None:
        self.ignore_index = self._ignore_index = _ignore_index(ignore_index)
        super().__init__(from_logits=from_logits, label_smoothing=label_smoothing,
                         class_weight=class_weight, z_loss=z_loss, reduction=reduction)

    def _kernel_spec(self, sparse):
        if self.from_logits:  # the one-pass kernel for labels and logits
            return ("sce_logits", self.label_smoothing, self.z_loss)
        return super()._kernel_spec(sparse)


class CategoricalFocal(_Categorical[ValueT]):
    """Focal loss over classes (Lin et al. 2017; Keras ``CategoricalFocalCrossentropy``).

    l = -sum_k alpha_k t_k (1 - p_k)^gamma log p_k per row, p = softmax(y_pred) with
    from_logits=True, else y_pred (log clamped at -100). ``alpha`` is None (1), a
    scalar, or one value per class; it weights the terms but not the "mean"
    denominator (the number of rows, or the sum of sample weights). gradient_hessian
    returns the exact diagonal of the hessian, which can be negative.

    Shapes: y_pred (n, C), y_true (n, C) probability rows; sample_weight (n,).

    Examples
    --------
    >>> import fastloss as fl
    >>> fl.CategoricalFocal(gamma=2.0)([[1.0, 0.0]], [[0.5, 0.5]])  # (1 - 0.5)**2 log 2
    0.173286795...
    """

    _param_names = ("gamma", "alpha", "from_logits")
    gamma: float
    alpha: float | NDArray[np.float64] | None

    @overload
    def __init__(
        self: CategoricalFocal[float], *, gamma: float = 2.0, alpha: ArrayLike | None = None,
        from_logits: bool = False, reduction: Literal["mean", "sum"] = "mean",
    ) -> None: ...
    @overload
    def __init__(
        self: CategoricalFocal[FloatArray], *, gamma: float = 2.0, alpha: ArrayLike | None = None,
        from_logits: bool = False, reduction: Literal["none"],
    ) -> None: ...
    @overload
    def __init__(
        self: CategoricalFocal[LossValue], *, gamma: float = 2.0, alpha: ArrayLike | None = None,
        from_logits: bool = False, reduction: Reduction,
    ) -> None: ...
    def __init__(self, *, gamma: float = 2.0, alpha: ArrayLike | None = None,
                 from_logits: bool = False, reduction: Reduction = "mean") -> None:
        self.gamma = check_nonnegative("gamma", gamma)
        self.alpha = _weights_or_scalar("alpha", alpha)
        self._per_class = self.alpha if isinstance(self.alpha, np.ndarray) else None
        self._per_class_name = "alpha"
        super().__init__(from_logits=from_logits, reduction=reduction)

    def _kernel_spec(self, sparse):
        alpha = self.alpha if isinstance(self.alpha, float) else 1.0
        return (self._kernel_name("focal"), self.gamma, alpha)


class SparseCategoricalFocal(CategoricalFocal[ValueT]):
    """CategoricalFocal with integer class labels y_true of shape (n,):
    l = -alpha_y (1 - p_y)^gamma log p_y.

    Shapes: y_pred (n, C), y_true (n,) integer labels; sample_weight (n,).

    Examples
    --------
    >>> import fastloss as fl
    >>> fl.SparseCategoricalFocal(gamma=2.0)([0], [[0.5, 0.5]])  # (1 - 0.5)**2 log 2
    0.173286795...
    """

    _targets = ("sparse",)

    if TYPE_CHECKING:  # the inherited constructor, its value type chosen by reduction
        @overload
        def __init__(
            self: SparseCategoricalFocal[float], *, gamma: float = 2.0,
            alpha: ArrayLike | None = None, from_logits: bool = False,
            reduction: Literal["mean", "sum"] = "mean",
        ) -> None: ...
        @overload
        def __init__(
            self: SparseCategoricalFocal[FloatArray], *, gamma: float = 2.0,
            alpha: ArrayLike | None = None, from_logits: bool = False, reduction: Literal["none"],
        ) -> None: ...
        @overload
        def __init__(
            self: SparseCategoricalFocal[LossValue], *, gamma: float = 2.0,
            alpha: ArrayLike | None = None, from_logits: bool = False, reduction: Reduction,
        ) -> None: ...
        def __init__(
            self, *, gamma: float = 2.0, alpha: ArrayLike | None = None, from_logits: bool = False,
            reduction: Reduction = "mean",
        ) -> None: ...


class CategoricalHinge(RowwiseLoss[ValueT]):
    """Crammer–Singer multi-class hinge: l = max(0, margin + neg - pos) per row.

    pos = sum_k t_k s_k and neg = max over classes with t_k < 1 of (1 - t_k) s_k, for
    scores s = y_pred. With one-hot targets (or integer labels y of shape (n,)):
    max(0, margin + max_{k != y} s_k - s_y) (Crammer & Singer 2001); with soft targets,
    Keras ``CategoricalHinge``. Keras also counts the target class's 0 in the max, which
    differs only when every other score is negative. The gradient is (1 - t_k) at the
    maximizing wrong class minus t_k where the margin is violated, else 0; the hessian
    is 0 almost everywhere and gradient_hessian returns the surrogate 1.

    Shapes: y_pred (n, C); y_true (n, C) probability rows or (n,) integer labels;
    sample_weight (n,).

    Examples
    --------
    >>> import fastloss as fl
    >>> fl.CategoricalHinge(margin=1.0)([0], [[1.0, 0.5]])  # max(0, 1 + 0.5 - 1)
    0.5
    """

    exact_hessian = False
    _param_names = ("margin",)
    _targets = ("dense", "sparse")
    margin: float

    @overload
    def __init__(
        self: CategoricalHinge[float], *, margin: float = 1.0,
        reduction: Literal["mean", "sum"] = "mean",
    ) -> None: ...
    @overload
    def __init__(
        self: CategoricalHinge[FloatArray], *, margin: float = 1.0, reduction: Literal["none"],
    ) -> None: ...
    @overload
    def __init__(
        self: CategoricalHinge[LossValue], *, margin: float = 1.0, reduction: Reduction,
    ) -> None: ...
    def __init__(self, *, margin: float = 1.0, reduction: Reduction = "mean") -> None:
        self.margin = check_number("margin", margin, math.isfinite, "a finite number")
        super().__init__(reduction=reduction)

    def _kernel_spec(self, sparse):
        return ("hinge", self.margin)


class KLDivergence(_Categorical[ValueT]):
    """Kullback–Leibler divergence KL(t || p) = sum_k t_k (log t_k - log p_k) per row.

    t: target probability rows (0 log 0 = 0); p = softmax(y_pred) with from_logits=True,
    else y_pred (log clamped at -100). "mean" averages over rows (torch ``KLDivLoss``
    with reduction="batchmean"; Keras ``KLDivergence``, which clips instead of clamping).
    Gradient w.r.t. logits T p - t (T = sum_k t_k), exact diagonal hessian T p (1 - p).

    Shapes: y_pred (n, C), y_true (n, C) probability rows; sample_weight (n,).

    Examples
    --------
    >>> import fastloss as fl
    >>> fl.KLDivergence()([[0.5, 0.5]], [[0.25, 0.75]])  # 0.5 log(4/3)
    0.143841036...
    """

    _param_names = ("from_logits",)

    @overload
    def __init__(
        self: KLDivergence[float], *, from_logits: bool = False,
        reduction: Literal["mean", "sum"] = "mean",
    ) -> None: ...
    @overload
    def __init__(
        self: KLDivergence[FloatArray], *, from_logits: bool = False, reduction: Literal["none"],
    ) -> None: ...
    @overload
    def __init__(
        self: KLDivergence[LossValue], *, from_logits: bool = False, reduction: Reduction,
    ) -> None: ...
    def __init__(self, *, from_logits: bool = False, reduction: Reduction = "mean") -> None:
        super().__init__(from_logits=from_logits, reduction=reduction)

    def _kernel_spec(self, sparse):
        return (self._kernel_name("kl"),)


class PolyLoss(_Categorical[ValueT]):
    """Poly-1 loss (Leng et al. 2022, "PolyLoss"): l = CE + epsilon (1 - p_t) per row.

    p_t = sum_k t_k p_k, the probability of the target class. Targets are probability
    rows or integer labels of shape (n,). p = softmax(y_pred) with from_logits=True,
    else y_pred (log clamped at -100). epsilon >= -1 keeps the loss decreasing in p_t.
    Exact diagonal hessian.

    Shapes: y_pred (n, C); y_true (n, C) probability rows or (n,) integer labels;
    sample_weight (n,).

    Examples
    --------
    >>> import fastloss as fl
    >>> fl.PolyLoss(epsilon=1.0)([0], [[0.5, 0.5]])  # log 2 + (1 - 0.5)
    1.193147180...
    """

    _param_names = ("epsilon", "from_logits")
    _targets = ("dense", "sparse")
    epsilon: float

    @overload
    def __init__(
        self: PolyLoss[float], *, epsilon: float = 1.0, from_logits: bool = False,
        reduction: Literal["mean", "sum"] = "mean",
    ) -> None: ...
    @overload
    def __init__(
        self: PolyLoss[FloatArray], *, epsilon: float = 1.0, from_logits: bool = False,
        reduction: Literal["none"],
    ) -> None: ...
    @overload
    def __init__(
        self: PolyLoss[LossValue], *, epsilon: float = 1.0, from_logits: bool = False,
        reduction: Reduction,
    ) -> None: ...
    def __init__(self, *, epsilon: float = 1.0, from_logits: bool = False,
                 reduction: Reduction = "mean") -> None:
        self.epsilon = check_number(
            "epsilon", epsilon, lambda v: math.isfinite(v) and v >= -1.0, "a finite number >= -1"
        )
        super().__init__(from_logits=from_logits, reduction=reduction)

    def _kernel_spec(self, sparse):
        return (self._kernel_name("poly"), self.epsilon)


class GeneralizedCrossEntropy(_Categorical[ValueT]):
    """Generalized cross-entropy (Zhang & Sabuncu 2018): l = sum_k t_k (1 - p_k^q) / q.

    Robust to label noise: q -> 0 is cross-entropy, q = 1 is the MAE of the
    probabilities. Targets are probability rows or integer labels of shape (n,).
    p = softmax(y_pred) with from_logits=True (p^q = exp(q log p), exact), else y_pred,
    with p^q = exp(q max(log p, -100)) (the cross-entropy clamp). Exact diagonal hessian.

    Shapes: y_pred (n, C); y_true (n, C) probability rows or (n,) integer labels;
    sample_weight (n,).

    Examples
    --------
    >>> import fastloss as fl
    >>> fl.GeneralizedCrossEntropy(q=0.5)([0], [[0.25, 0.75]])  # (1 - 0.25**0.5) / 0.5
    1.0
    """

    _param_names = ("q", "from_logits")
    _targets = ("dense", "sparse")
    q: float

    @overload
    def __init__(
        self: GeneralizedCrossEntropy[float], *, q: float = 0.7, from_logits: bool = False,
        reduction: Literal["mean", "sum"] = "mean",
    ) -> None: ...
    @overload
    def __init__(
        self: GeneralizedCrossEntropy[FloatArray], *, q: float = 0.7, from_logits: bool = False,
        reduction: Literal["none"],
    ) -> None: ...
    @overload
    def __init__(
        self: GeneralizedCrossEntropy[LossValue], *, q: float = 0.7, from_logits: bool = False,
        reduction: Reduction,
    ) -> None: ...
    def __init__(self, *, q: float = 0.7, from_logits: bool = False,
                 reduction: Reduction = "mean") -> None:
        self.q = check_number("q", q, lambda v: 0.0 < v <= 1.0, "in (0, 1]")
        super().__init__(from_logits=from_logits, reduction=reduction)

    def _kernel_spec(self, sparse):
        return (self._kernel_name("gce"), self.q)


class NLL(RowwiseLoss[ValueT]):
    """Negative log-likelihood of log-probabilities: l = -class_weight[y] z_y per row.

    y_pred holds log-probabilities z (for example a log-softmax output), y_true integer
    class labels, as torch ``NLLLoss``: with class weights "mean" divides by
    sum_i w_i class_weight[y_i], and rows whose label equals ``ignore_index`` count for
    nothing (loss, gradient, denominator). The inputs are not checked to be
    log-probabilities (the loss is defined for any scores), and only the label's entry
    of each row is read: the loss depends on nothing else. Gradient -class_weight[y] at
    the label, 0 elsewhere; the loss is linear in z,
    so its hessian is exactly 0 (for a Newton step use CategoricalCrossEntropy on the
    logits instead).

    Shapes: y_pred (n, C); y_true (n,) integer labels; sample_weight (n,).

    Examples
    --------
    >>> import fastloss as fl
    >>> fl.NLL()([1, 0], [[-0.5, -1.0], [-2.0, -0.25]])  # (1.0 + 2.0) / 2
    1.5
    """

    _param_names = ("class_weight", "ignore_index")
    _targets = ("sparse",)
    _class_weights_rows = True
    class_weight: NDArray[np.float64] | None
    ignore_index: int | None

    @overload
    def __init__(
        self: NLL[float], *, class_weight: ArrayLike | None = None,
        ignore_index: int | None = None, reduction: Literal["mean", "sum"] = "mean",
    ) -> None: ...
    @overload
    def __init__(
        self: NLL[FloatArray], *, class_weight: ArrayLike | None = None,
        ignore_index: int | None = None, reduction: Literal["none"],
    ) -> None: ...
    @overload
    def __init__(
        self: NLL[LossValue], *, class_weight: ArrayLike | None = None,
        ignore_index: int | None = None, reduction: Reduction,
    ) -> None: ...
    def __init__(self, *, class_weight: ArrayLike | None = None, ignore_index: int | None = None,
                 reduction: Reduction = "mean") -> None:
        self.class_weight = self._per_class = _per_class("class_weight", class_weight)
        self.ignore_index = self._ignore_index = _ignore_index(ignore_index)
        super().__init__(reduction=reduction)

    def _kernel_spec(self, sparse):
        return ("nll",)


MultiMarginKind = Literal["weston_watkins", "crammer_singer"]


class MultiMargin(RowwiseLoss[ValueT]):
    """Multi-class margin (hinge) loss on scores z with integer labels y.

    ``kind="weston_watkins"`` (Weston & Watkins 1999; torch ``MultiMarginLoss``):
    l = (w_y / C) sum_{k != y} max(0, margin - z_y + z_k)^p.
    ``kind="crammer_singer"`` (Crammer & Singer 2001; optax ``multiclass_hinge_loss``
    for margin 1, p 1): l = w_y max(0, margin - z_y + max_{k != y} z_k)^p.
    w_y is ``class_weight[y]`` (1 without); as in torch it scales the row's loss, and
    "mean" divides by the number of rows (or the sum of sample weights), not by the
    class weights. ``p`` is 1 or 2. The gradient is w_y p max(0, v_k)^(p-1) (over C for
    Weston-Watkins) at each violating class k and minus their sum at y. The hessian
    diagonal is exact for p = 2; for p = 1 it is 0 almost everywhere and
    gradient_hessian returns the surrogate 1 (as the other hinge losses).

    Shapes: y_pred (n, C); y_true (n,) integer labels; sample_weight (n,).

    Examples
    --------
    >>> import fastloss as fl
    >>> fl.MultiMargin()([0], [[1.0, 0.5, -1.0]])  # (max(0, 0.5) + max(0, -1)) / 3
    0.1666666666...
    """

    _param_names = ("p", "margin", "class_weight", "kind")
    _targets = ("sparse",)
    p: int
    margin: float
    class_weight: NDArray[np.float64] | None
    kind: MultiMarginKind

    @overload
    def __init__(
        self: MultiMargin[float], *, p: int = 1, margin: float = 1.0,
        class_weight: ArrayLike | None = None, kind: MultiMarginKind = "weston_watkins",
        reduction: Literal["mean", "sum"] = "mean",
    ) -> None: ...
    @overload
    def __init__(
        self: MultiMargin[FloatArray], *, p: int = 1, margin: float = 1.0,
        class_weight: ArrayLike | None = None, kind: MultiMarginKind = "weston_watkins",
        reduction: Literal["none"],
    ) -> None: ...
    @overload
    def __init__(
        self: MultiMargin[LossValue], *, p: int = 1, margin: float = 1.0,
        class_weight: ArrayLike | None = None, kind: MultiMarginKind = "weston_watkins",
        reduction: Reduction,
    ) -> None: ...
    def __init__(self, *, p: int = 1, margin: float = 1.0, class_weight: ArrayLike | None = None,
                 kind: MultiMarginKind = "weston_watkins", reduction: Reduction = "mean") -> None:
        if isinstance(p, (bool, np.bool_)) or p not in (1, 2):
            raise ValueError(f"p must be 1 or 2; got {p!r}")
        if kind not in ("weston_watkins", "crammer_singer"):
            raise ValueError(
                f"kind must be 'weston_watkins' or 'crammer_singer'; got {kind!r}")
        self.p = int(p)
        self.margin = check_number("margin", margin, math.isfinite, "a finite number")
        self.class_weight = self._per_class = _per_class("class_weight", class_weight)
        self.kind = kind
        self.exact_hessian = self.p == 2
        super().__init__(reduction=reduction)

    def _kernel_spec(self, sparse):
        name = "multi_margin_ww" if self.kind == "weston_watkins" else "multi_margin_cs"
        return (name, self.margin, self.p)


# ---- function shortcuts: the value in one call, hyper-parameters as keywords --------

@overload
def binary_cross_entropy(
    y_true: ArrayLike, y_pred: ArrayLike, *, from_logits: bool = False,
    label_smoothing: float = 0.0, pos_weight: ArrayLike | None = None,
    reduction: Literal["mean", "sum"] = "mean", sample_weight: ArrayLike | None = None,
) -> float: ...
@overload
def binary_cross_entropy(
    y_true: ArrayLike, y_pred: ArrayLike, *, from_logits: bool = False,
    label_smoothing: float = 0.0, pos_weight: ArrayLike | None = None, reduction: Literal["none"],
    sample_weight: ArrayLike | None = None,
) -> FloatArray: ...
@overload
def binary_cross_entropy(
    y_true: ArrayLike, y_pred: ArrayLike, *, from_logits: bool = False,
    label_smoothing: float = 0.0, pos_weight: ArrayLike | None = None, reduction: Reduction,
    sample_weight: ArrayLike | None = None,
) -> LossValue: ...
def binary_cross_entropy(
    y_true: ArrayLike, y_pred: ArrayLike, *, from_logits: bool = False,
    label_smoothing: float = 0.0, pos_weight: ArrayLike | None = None,
    reduction: Reduction = "mean", sample_weight: ArrayLike | None = None,
) -> LossValue:
    """The value of :class:`BinaryCrossEntropy` in one call."""
    return shortcut_call(BinaryCrossEntropy, (from_logits, label_smoothing, pos_weight, reduction),
                         sample_weight, y_true, y_pred)


@overload
def binary_focal(
    y_true: ArrayLike, y_pred: ArrayLike, *, gamma: float = 2.0, alpha: float | None = 0.25,
    from_logits: bool = False, reduction: Literal["mean", "sum"] = "mean",
    sample_weight: ArrayLike | None = None,
) -> float: ...
@overload
def binary_focal(
    y_true: ArrayLike, y_pred: ArrayLike, *, gamma: float = 2.0, alpha: float | None = 0.25,
    from_logits: bool = False, reduction: Literal["none"], sample_weight: ArrayLike | None = None,
) -> FloatArray: ...
@overload
def binary_focal(
    y_true: ArrayLike, y_pred: ArrayLike, *, gamma: float = 2.0, alpha: float | None = 0.25,
    from_logits: bool = False, reduction: Reduction, sample_weight: ArrayLike | None = None,
) -> LossValue: ...
def binary_focal(
    y_true: ArrayLike, y_pred: ArrayLike, *, gamma: float = 2.0, alpha: float | None = 0.25,
    from_logits: bool = False, reduction: Reduction = "mean",
    sample_weight: ArrayLike | None = None,
) -> LossValue:
    """The value of :class:`BinaryFocal` in one call."""
    return shortcut_call(BinaryFocal, (gamma, alpha, from_logits, reduction),
                         sample_weight, y_true, y_pred)


@overload
def hinge(
    y_true: ArrayLike, y_pred: ArrayLike, *, reduction: Literal["mean", "sum"] = "mean",
    sample_weight: ArrayLike | None = None,
) -> float: ...
@overload
def hinge(
    y_true: ArrayLike, y_pred: ArrayLike, *, reduction: Literal["none"],
    sample_weight: ArrayLike | None = None,
) -> FloatArray: ...
@overload
def hinge(
    y_true: ArrayLike, y_pred: ArrayLike, *, reduction: Reduction,
    sample_weight: ArrayLike | None = None,
) -> LossValue: ...
def hinge(
    y_true: ArrayLike, y_pred: ArrayLike, *, reduction: Reduction = "mean",
    sample_weight: ArrayLike | None = None,
) -> LossValue:
    """The value of :class:`Hinge` in one call."""
    return shortcut_call(Hinge, (reduction,), sample_weight, y_true, y_pred)


@overload
def squared_hinge(
    y_true: ArrayLike, y_pred: ArrayLike, *, reduction: Literal["mean", "sum"] = "mean",
    sample_weight: ArrayLike | None = None,
) -> float: ...
@overload
def squared_hinge(
    y_true: ArrayLike, y_pred: ArrayLike, *, reduction: Literal["none"],
    sample_weight: ArrayLike | None = None,
) -> FloatArray: ...
@overload
def squared_hinge(
    y_true: ArrayLike, y_pred: ArrayLike, *, reduction: Reduction,
    sample_weight: ArrayLike | None = None,
) -> LossValue: ...
def squared_hinge(
    y_true: ArrayLike, y_pred: ArrayLike, *, reduction: Reduction = "mean",
    sample_weight: ArrayLike | None = None,
) -> LossValue:
    """The value of :class:`SquaredHinge` in one call."""
    return shortcut_call(SquaredHinge, (reduction,), sample_weight, y_true, y_pred)


@overload
def soft_margin(
    y_true: ArrayLike, y_pred: ArrayLike, *, reduction: Literal["mean", "sum"] = "mean",
    sample_weight: ArrayLike | None = None,
) -> float: ...
@overload
def soft_margin(
    y_true: ArrayLike, y_pred: ArrayLike, *, reduction: Literal["none"],
    sample_weight: ArrayLike | None = None,
) -> FloatArray: ...
@overload
def soft_margin(
    y_true: ArrayLike, y_pred: ArrayLike, *, reduction: Reduction,
    sample_weight: ArrayLike | None = None,
) -> LossValue: ...
def soft_margin(
    y_true: ArrayLike, y_pred: ArrayLike, *, reduction: Reduction = "mean",
    sample_weight: ArrayLike | None = None,
) -> LossValue:
    """The value of :class:`SoftMargin` in one call."""
    return shortcut_call(SoftMargin, (reduction,), sample_weight, y_true, y_pred)


@overload
def categorical_cross_entropy(
    y_true: ArrayLike, y_pred: ArrayLike, *, from_logits: bool = False,
    label_smoothing: float = 0.0, class_weight: ArrayLike | None = None, z_loss: float = 0.0,
    reduction: Literal["mean", "sum"] = "mean", sample_weight: ArrayLike | None = None,
) -> float: ...
@overload
def categorical_cross_entropy(
    y_true: ArrayLike, y_pred: ArrayLike, *, from_logits: bool = False,
    label_smoothing: float = 0.0, class_weight: ArrayLike | None = None, z_loss: float = 0.0,
    reduction: Literal["none"],
    sample_weight: ArrayLike | None = None,
) -> FloatArray: ...
@overload
def categorical_cross_entropy(
    y_true: ArrayLike, y_pred: ArrayLike, *, from_logits: bool = False,
    label_smoothing: float = 0.0, class_weight: ArrayLike | None = None, z_loss: float = 0.0,
    reduction: Reduction, sample_weight: ArrayLike | None = None,
) -> LossValue: ...
def categorical_cross_entropy(
    y_true: ArrayLike, y_pred: ArrayLike, *, from_logits: bool = False,
    label_smoothing: float = 0.0, class_weight: ArrayLike | None = None, z_loss: float = 0.0,
    reduction: Reduction = "mean", sample_weight: ArrayLike | None = None,
) -> LossValue:
    """The value of :class:`CategoricalCrossEntropy` in one call."""
    return shortcut_call(
        CategoricalCrossEntropy, (from_logits, label_smoothing, class_weight, z_loss, reduction),
        sample_weight, y_true, y_pred)


@overload
def sparse_categorical_cross_entropy(
    y_true: ArrayLike, y_pred: ArrayLike, *, from_logits: bool = False,
    label_smoothing: float = 0.0, class_weight: ArrayLike | None = None, z_loss: float = 0.0,
    ignore_index: int | None = None, reduction: Literal["mean", "sum"] = "mean",
    sample_weight: ArrayLike | None = None,
) -> float: ...
@overload
def sparse_categorical_cross_entropy(
    y_true: ArrayLike, y_pred: ArrayLike, *, from_logits: bool = False,
    label_smoothing: float = 0.0, class_weight: ArrayLike | None = None, z_loss: float = 0.0,
    ignore_index: int | None = None, reduction: Literal["none"],
    sample_weight: ArrayLike | None = None,
) -> FloatArray: ...
@overload
def sparse_categorical_cross_entropy(
    y_true: ArrayLike, y_pred: ArrayLike, *, from_logits: bool = False,
    label_smoothing: float = 0.0, class_weight: ArrayLike | None = None, z_loss: float = 0.0,
    ignore_index: int | None = None, reduction: Reduction, sample_weight: ArrayLike | None = None,
) -> LossValue: ...
def sparse_categorical_cross_entropy(
    y_true: ArrayLike, y_pred: ArrayLike, *, from_logits: bool = False,
    label_smoothing: float = 0.0, class_weight: ArrayLike | None = None, z_loss: float = 0.0,
    ignore_index: int | None = None, reduction: Reduction = "mean",
    sample_weight: ArrayLike | None = None,
) -> LossValue:
    """The value of :class:`SparseCategoricalCrossEntropy` in one call."""
    values = (from_logits, label_smoothing, class_weight, z_loss, ignore_index, reduction)
    return shortcut_call(SparseCategoricalCrossEntropy, values, sample_weight, y_true, y_pred)


@overload
def categorical_focal(
    y_true: ArrayLike, y_pred: ArrayLike, *, gamma: float = 2.0, alpha: ArrayLike | None = None,
    from_logits: bool = False, reduction: Literal["mean", "sum"] = "mean",
    sample_weight: ArrayLike | None = None,
) -> float: ...
@overload
def categorical_focal(
    y_true: ArrayLike, y_pred: ArrayLike, *, gamma: float = 2.0, alpha: ArrayLike | None = None,
    from_logits: bool = False, reduction: Literal["none"], sample_weight: ArrayLike | None = None,
) -> FloatArray: ...
@overload
def categorical_focal(
    y_true: ArrayLike, y_pred: ArrayLike, *, gamma: float = 2.0, alpha: ArrayLike | None = None,
    from_logits: bool = False, reduction: Reduction, sample_weight: ArrayLike | None = None,
) -> LossValue: ...
def categorical_focal(
    y_true: ArrayLike, y_pred: ArrayLike, *, gamma: float = 2.0,
    alpha: ArrayLike | None = None, from_logits: bool = False, reduction: Reduction = "mean",
    sample_weight: ArrayLike | None = None,
) -> LossValue:
    """The value of :class:`CategoricalFocal` in one call."""
    return shortcut_call(CategoricalFocal, (gamma, alpha, from_logits, reduction),
                         sample_weight, y_true, y_pred)


@overload
def sparse_categorical_focal(
    y_true: ArrayLike, y_pred: ArrayLike, *, gamma: float = 2.0, alpha: ArrayLike | None = None,
    from_logits: bool = False, reduction: Literal["mean", "sum"] = "mean",
    sample_weight: ArrayLike | None = None,
) -> float: ...
@overload
def sparse_categorical_focal(
    y_true: ArrayLike, y_pred: ArrayLike, *, gamma: float = 2.0, alpha: ArrayLike | None = None,
    from_logits: bool = False, reduction: Literal["none"], sample_weight: ArrayLike | None = None,
) -> FloatArray: ...
@overload
def sparse_categorical_focal(
    y_true: ArrayLike, y_pred: ArrayLike, *, gamma: float = 2.0, alpha: ArrayLike | None = None,
    from_logits: bool = False, reduction: Reduction, sample_weight: ArrayLike | None = None,
) -> LossValue: ...
def sparse_categorical_focal(
    y_true: ArrayLike, y_pred: ArrayLike, *, gamma: float = 2.0,
    alpha: ArrayLike | None = None, from_logits: bool = False, reduction: Reduction = "mean",
    sample_weight: ArrayLike | None = None,
) -> LossValue:
    """The value of :class:`SparseCategoricalFocal` in one call."""
    return shortcut_call(SparseCategoricalFocal, (gamma, alpha, from_logits, reduction),
                         sample_weight, y_true, y_pred)


@overload
def categorical_hinge(
    y_true: ArrayLike, y_pred: ArrayLike, *, margin: float = 1.0,
    reduction: Literal["mean", "sum"] = "mean", sample_weight: ArrayLike | None = None,
) -> float: ...
@overload
def categorical_hinge(
    y_true: ArrayLike, y_pred: ArrayLike, *, margin: float = 1.0, reduction: Literal["none"],
    sample_weight: ArrayLike | None = None,
) -> FloatArray: ...
@overload
def categorical_hinge(
    y_true: ArrayLike, y_pred: ArrayLike, *, margin: float = 1.0, reduction: Reduction,
    sample_weight: ArrayLike | None = None,
) -> LossValue: ...
def categorical_hinge(
    y_true: ArrayLike, y_pred: ArrayLike, *, margin: float = 1.0,
    reduction: Reduction = "mean", sample_weight: ArrayLike | None = None,
) -> LossValue:
    """The value of :class:`CategoricalHinge` in one call."""
    return shortcut_call(CategoricalHinge, (margin, reduction), sample_weight, y_true, y_pred)


@overload
def kl_divergence(
    y_true: ArrayLike, y_pred: ArrayLike, *, from_logits: bool = False,
    reduction: Literal["mean", "sum"] = "mean", sample_weight: ArrayLike | None = None,
) -> float: ...
@overload
def kl_divergence(
    y_true: ArrayLike, y_pred: ArrayLike, *, from_logits: bool = False, reduction: Literal["none"],
    sample_weight: ArrayLike | None = None,
) -> FloatArray: ...
@overload
def kl_divergence(
    y_true: ArrayLike, y_pred: ArrayLike, *, from_logits: bool = False, reduction: Reduction,
    sample_weight: ArrayLike | None = None,
) -> LossValue: ...
def kl_divergence(
    y_true: ArrayLike, y_pred: ArrayLike, *, from_logits: bool = False,
    reduction: Reduction = "mean", sample_weight: ArrayLike | None = None,
) -> LossValue:
    """The value of :class:`KLDivergence` in one call."""
    return shortcut_call(KLDivergence, (from_logits, reduction), sample_weight, y_true, y_pred)


@overload
def poly_loss(
    y_true: ArrayLike, y_pred: ArrayLike, *, epsilon: float = 1.0, from_logits: bool = False,
    reduction: Literal["mean", "sum"] = "mean", sample_weight: ArrayLike | None = None,
) -> float: ...
@overload
def poly_loss(
    y_true: ArrayLike, y_pred: ArrayLike, *, epsilon: float = 1.0, from_logits: bool = False,
    reduction: Literal["none"], sample_weight: ArrayLike | None = None,
) -> FloatArray: ...
@overload
def poly_loss(
    y_true: ArrayLike, y_pred: ArrayLike, *, epsilon: float = 1.0, from_logits: bool = False,
    reduction: Reduction, sample_weight: ArrayLike | None = None,
) -> LossValue: ...
def poly_loss(
    y_true: ArrayLike, y_pred: ArrayLike, *, epsilon: float = 1.0, from_logits: bool = False,
    reduction: Reduction = "mean", sample_weight: ArrayLike | None = None,
) -> LossValue:
    """The value of :class:`PolyLoss` in one call."""
    return shortcut_call(PolyLoss, (epsilon, from_logits, reduction),
                         sample_weight, y_true, y_pred)


@overload
def generalized_cross_entropy(
    y_true: ArrayLike, y_pred: ArrayLike, *, q: float = 0.7, from_logits: bool = False,
    reduction: Literal["mean", "sum"] = "mean", sample_weight: ArrayLike | None = None,
) -> float: ...
@overload
def generalized_cross_entropy(
    y_true: ArrayLike, y_pred: ArrayLike, *, q: float = 0.7, from_logits: bool = False,
    reduction: Literal["none"], sample_weight: ArrayLike | None = None,
) -> FloatArray: ...
@overload
def generalized_cross_entropy(
    y_true: ArrayLike, y_pred: ArrayLike, *, q: float = 0.7, from_logits: bool = False,
    reduction: Reduction, sample_weight: ArrayLike | None = None,
) -> LossValue: ...
def generalized_cross_entropy(
    y_true: ArrayLike, y_pred: ArrayLike, *, q: float = 0.7, from_logits: bool = False,
    reduction: Reduction = "mean", sample_weight: ArrayLike | None = None,
) -> LossValue:
    """The value of :class:`GeneralizedCrossEntropy` in one call."""
    return shortcut_call(GeneralizedCrossEntropy, (q, from_logits, reduction),
                         sample_weight, y_true, y_pred)


@overload
def nll(
    y_true: ArrayLike, y_pred: ArrayLike, *, class_weight: ArrayLike | None = None,
    ignore_index: int | None = None, reduction: Literal["mean", "sum"] = "mean",
    sample_weight: ArrayLike | None = None,
) -> float: ...
@overload
def nll(
    y_true: ArrayLike, y_pred: ArrayLike, *, class_weight: ArrayLike | None = None,
    ignore_index: int | None = None, reduction: Literal["none"],
    sample_weight: ArrayLike | None = None,
) -> FloatArray: ...
@overload
def nll(
    y_true: ArrayLike, y_pred: ArrayLike, *, class_weight: ArrayLike | None = None,
    ignore_index: int | None = None, reduction: Reduction,
    sample_weight: ArrayLike | None = None,
) -> LossValue: ...
def nll(
    y_true: ArrayLike, y_pred: ArrayLike, *, class_weight: ArrayLike | None = None,
    ignore_index: int | None = None, reduction: Reduction = "mean",
    sample_weight: ArrayLike | None = None,
) -> LossValue:
    """The value of :class:`NLL` in one call."""
    return shortcut_call(NLL, (class_weight, ignore_index, reduction),
                         sample_weight, y_true, y_pred)


@overload
def multi_margin(
    y_true: ArrayLike, y_pred: ArrayLike, *, p: int = 1, margin: float = 1.0,
    class_weight: ArrayLike | None = None, kind: MultiMarginKind = "weston_watkins",
    reduction: Literal["mean", "sum"] = "mean", sample_weight: ArrayLike | None = None,
) -> float: ...
@overload
def multi_margin(
    y_true: ArrayLike, y_pred: ArrayLike, *, p: int = 1, margin: float = 1.0,
    class_weight: ArrayLike | None = None, kind: MultiMarginKind = "weston_watkins",
    reduction: Literal["none"], sample_weight: ArrayLike | None = None,
) -> FloatArray: ...
@overload
def multi_margin(
    y_true: ArrayLike, y_pred: ArrayLike, *, p: int = 1, margin: float = 1.0,
    class_weight: ArrayLike | None = None, kind: MultiMarginKind = "weston_watkins",
    reduction: Reduction, sample_weight: ArrayLike | None = None,
) -> LossValue: ...
def multi_margin(
    y_true: ArrayLike, y_pred: ArrayLike, *, p: int = 1, margin: float = 1.0,
    class_weight: ArrayLike | None = None, kind: MultiMarginKind = "weston_watkins",
    reduction: Reduction = "mean", sample_weight: ArrayLike | None = None,
) -> LossValue:
    """The value of :class:`MultiMargin` in one call."""
    return shortcut_call(MultiMargin, (p, margin, class_weight, kind, reduction),
                         sample_weight, y_true, y_pred)
