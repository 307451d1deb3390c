"""Segmentation losses: soft overlap of a predicted mask with a target mask, per sample.

y_pred and y_true have shape (n, ...): one mask (any number of axes, and channels) per
sample, flattened into one row; y_pred holds probabilities in [0, 1], or logits with
``from_logits=True`` (a sigmoid per element); y_true soft or hard targets in [0, 1].
With ``multiclass=True``, y_pred is (n, C, ...) class scores (a softmax over axis 1
with ``from_logits=True``) and y_true one-hot (n, C, ...) or integer labels (n, ...):
each (sample, class) mask is scored and a sample's loss is the mean over its classes.
One value per sample ("none" has shape (n,)); sample weights are one per sample. For
the per-batch variant (the overlap summed over the whole batch), pass the batch as one
sample: ``y.reshape(1, -1)`` (with ``multiclass=True``, keep the class axis:
``np.moveaxis(y_pred, 1, 0).reshape(1, C, -1)`` and labels ``.reshape(1, -1)``).
"""

from __future__ import annotations

from typing import Literal, NamedTuple, overload

import numpy as np
from numpy.typing import ArrayLike

from fastloss._core import config as _config
from fastloss._core.base import (
    FloatArray,
    LossValue,
    OnePassLoss,
    Reduction,
    ValueT,
    _Output,
    blocked_weight_total,
    row_weights,
)
from fastloss._core.rowwise import check_unit
from fastloss._core.validation import (
    _to_ndarray,
    as_real_array,
    check_flag,
    check_nonnegative,
    check_positive,
    check_same_shape,
)
from fastloss._kernels import dispatch as _dispatch
from fastloss._kernels.common import shortcut_call

__all__ = ["Dice", "Tversky", "dice", "tversky"]

_kernels = _dispatch.load("multiclass")
_DICE, _TVERSKY = 0, 1


class _Rows(NamedTuple):
    """The prepared inputs: targets and probabilities (or logits) as one row per
    sample, the samples' weights, y_pred's shape; with multiclass=True and integer
    labels, the labels (n, pixels) (then y is not read)."""

    y: np.ndarray
    p: np.ndarray
    w: np.ndarray | None
    shape: tuple
    labels: np.ndarray | None = None


class _Overlap(OnePassLoss[ValueT]):
    """Dice and Tversky: one compiled pass over each sample's row (two with gradients)."""

    _items = "samples"
    exact_hessian = False
    from_logits: bool
    multiclass: bool
    smooth: float

    def __init__(self, *, reduction: Reduction = "mean") -> None:
        super().__init__(reduction=reduction)
        if not self.multiclass and self._runs_as(_Overlap):
            kind, alpha, beta, gamma = self._kernel_params()
            self._small_call = _kernels.overlap_call_small
            self._small_spec = (kind, self.from_logits, alpha, beta, gamma, self.smooth)

    def _kernel_params(self):
        """(kind, alpha, beta, gamma)."""
        raise NotImplementedError

    def _prepare(self, y_true, y_pred, sample_weight=None):
        p = as_real_array(y_pred, "y_pred")
        if p.ndim < 2:
            raise ValueError(
                f"y_pred must hold one mask per sample, shape (n, ...) with at least 2 axes; "
                f"got shape {p.shape}")
        n = p.shape[0]
        w = row_weights(sample_weight, n)
        if self.multiclass:
            return self._prepare_classes(y_true, p, w)
        y = as_real_array(y_true, "y_true", p.dtype)
        check_same_shape(y, p)
        check_unit(y, "y_true", nan_invalid=True)
        if not self.from_logits:
            check_unit(p, "y_pred (probabilities, from_logits=False)", nan_invalid=False)
        rows = (n, int(np.prod(p.shape[1:], dtype=np.int64)))
        return _Rows(y.reshape(rows), p.reshape(rows), w, p.shape)

    def _prepare_classes(self, y_true, p, w):
        """multiclass=True: one row of (C, pixels) scores per sample, and its targets:
        one-hot rows, or integer labels (n, pixels)."""
        n, classes = p.shape[:2]
        rows = (n, int(np.prod(p.shape[1:], dtype=np.int64)))
        if not self.from_logits:
            check_unit(p, "y_pred (probabilities, from_logits=False)", nan_invalid=False)
        labels = _to_ndarray(y_true, "y_true")
        if labels.dtype.kind in "biu" and labels.ndim != p.ndim:  # labels, not one-hot
            if labels.shape != (n,) + p.shape[2:]:
                raise ValueError(
                    f"integer y_true (class labels) must have shape {(n,) + p.shape[2:]} "
                    f"(y_pred's without its class axis 1); got {labels.shape}")
            if labels.size and (labels.min() < 0 or labels.max() >= classes):
                raise ValueError(f"class labels must lie in [0, {classes}); got "
                                 f"{labels[(labels < 0) | (labels >= classes)][0]}")
            pixels = np.ascontiguousarray(labels, dtype=np.int64).reshape(n, -1)
            p_rows = p.reshape(rows)
            return _Rows(p_rows, p_rows, w, p.shape, pixels)
        y = as_real_array(y_true, "y_true", p.dtype)
        check_same_shape(y, p)
        check_unit(y, "y_true", nan_invalid=True)
        return _Rows(y.reshape(rows), p.reshape(rows), w, p.shape)

    def _run(self, mode, inputs, out_a=None, out_b=None, scale=1.0, partials=None):
        kind, alpha, beta, gamma = self._kernel_params()
        p = inputs.p

        def as_rows(out):  # "none" values are (n,); derivatives shaped like y_pred
            return out if out is None or out.ndim == 1 else out.reshape(p.shape)

        return _kernels.overlap_run(
            kind, mode, inputs.y, p, inputs.w, as_rows(out_a), as_rows(out_b), scale,
            self.from_logits, alpha, beta, gamma, self.smooth, _config.get_num_threads(),
            inputs.shape[1] if self.multiclass else 0, inputs.labels)

    def _outputs(self, out, inputs, original):
        return _Output(out, original, inputs.p.reshape(inputs.shape),
                       inputs.y.reshape(inputs.shape))

    def _weight_total(self, inputs, partials=None):
        n, m = inputs.p.shape
        return blocked_weight_total(n, inputs.w, _kernels.rows_per_block(m), partials), n

    def _values_buffer(self, inputs):
        return np.empty(inputs.shape[0], dtype=inputs.p.dtype)


class Dice(_Overlap[ValueT]):
    """Soft Dice loss (Milletari et al. 2016), per sample:
    l = 1 - (2 TP + smooth) / (P + T + smooth).

    TP = sum p t, P = sum p and T = sum t over the sample's mask, p = y_pred (or its
    sigmoid with ``from_logits=True``), t = y_true; ``smooth`` is added to numerator and
    denominator as segmentation_models.pytorch's ``DiceLoss(smooth=...)`` and MONAI's
    ``DiceLoss(smooth_nr=smooth, smooth_dr=smooth)`` do: an empty target and an empty
    prediction give 0. The gradient is -(2 t_j (P + T + s) - (2 TP + s)) / (P + T + s)^2
    w.r.t. p (times p (1 - p) for logits); gradient_hessian returns the surrogate 1.

    Shapes: y_pred (n, ...) masks, y_true the same; sample_weight (n,). With
    ``multiclass=True``: y_pred (n, C, ...) class scores (softmax over axis 1 for
    logits), y_true one-hot or labels (n, ...); the loss of a sample is the mean over
    classes of the per-class loss (MONAI's ``DiceLoss(softmax=True)``), computed in
    one compiled pass over each sample (the softmax over the classes in chunks of
    pixels) and a second for the gradient.

    Examples
    --------
    >>> import fastloss as fl
    >>> fl.Dice(smooth=0.0)([[1.0, 1.0, 0.0, 0.0]], [[1.0, 0.5, 0.5, 0.0]])  # 1 - 3/4
    0.25
    """

    _param_names = ("smooth", "from_logits", "multiclass")

    @overload
    def __init__(
        self: Dice[float], *, smooth: float = 1.0, from_logits: bool = False,
        multiclass: bool = False, reduction: Literal["mean", "sum"] = "mean",
    ) -> None: ...
    @overload
    def __init__(
        self: Dice[FloatArray], *, smooth: float = 1.0, from_logits: bool = False,
        multiclass: bool = False, reduction: Literal["none"],
    ) -> None: ...
    @overload
    def __init__(
        self: Dice[LossValue], *, smooth: float = 1.0, from_logits: bool = False,
        multiclass: bool = False, reduction: Reduction,
    ) -> None: ...
    def __init__(self, *, smooth: float = 1.0, from_logits: bool = False,
                 multiclass: bool = False, reduction: Reduction = "mean") -> None:
        self.smooth = check_nonnegative("smooth", smooth)
        self.from_logits = check_flag("from_logits", from_logits)
        self.multiclass = check_flag("multiclass", multiclass)
        super().__init__(reduction=reduction)

    def _kernel_params(self):
        return _DICE, 0.0, 0.0, 1.0


class Tversky(_Overlap[ValueT]):
    """Tversky loss (Salehi et al. 2017) and focal Tversky (Abraham & Khan 2019), per
    sample: TI = (TP + smooth) / (TP + alpha FP + beta FN + smooth), l = (1 - TI)^gamma.

    TP = sum p t, FP = sum p (1 - t), FN = sum (1 - p) t over the sample's mask, p as for
    Dice. alpha weighs false positives and beta false negatives (alpha = beta = 0.5 is
    Dice with the smoothing halved); gamma = 1 is the Tversky loss, other values the
    focal Tversky loss of segmentation_models.pytorch's ``TverskyLoss(gamma=...)``
    (with gamma < 1 the gradient is infinite at a perfect match). gradient_hessian
    returns the surrogate 1.

    Shapes: y_pred (n, ...) masks, y_true the same; sample_weight (n,).

    Examples
    --------
    >>> import fastloss as fl
    >>> fl.Tversky(alpha=0.3, beta=0.7, smooth=0.0)([[1.0, 0.0]], [[0.5, 0.5]])
    0.5
    """

    _param_names = ("alpha", "beta", "gamma", "smooth", "from_logits", "multiclass")
    alpha: float
    beta: float
    gamma: float

    @overload
    def __init__(
        self: Tversky[float], *, alpha: float = 0.5, beta: float = 0.5, gamma: float = 1.0,
        smooth: float = 1.0, from_logits: bool = False,
        multiclass: bool = False, reduction: Literal["mean", "sum"] = "mean",
    ) -> None: ...
    @overload
    def __init__(
        self: Tversky[FloatArray], *, alpha: float = 0.5, beta: float = 0.5,
        gamma: float = 1.0, smooth: float = 1.0, from_logits: bool = False,
        multiclass: bool = False, reduction: Literal["none"],
    ) -> None: ...
    @overload
    def __init__(
        self: Tversky[LossValue], *, alpha: float = 0.5, beta: float = 0.5,
        gamma: float = 1.0, smooth: float = 1.0, from_logits: bool = False,
        multiclass: bool = False, reduction: Reduction,
    ) -> None: ...
    def __init__(self, *, alpha: float = 0.5, beta: float = 0.5, gamma: float = 1.0,
                 smooth: float = 1.0, from_logits: bool = False, multiclass: bool = False,
                 reduction: Reduction = "mean") -> None:
        self.alpha = check_nonnegative("alpha", alpha)
        self.beta = check_nonnegative("beta", beta)
        self.gamma = check_positive("gamma", gamma)
        self.smooth = check_nonnegative("smooth", smooth)
        self.from_logits = check_flag("from_logits", from_logits)
        self.multiclass = check_flag("multiclass", multiclass)
        super().__init__(reduction=reduction)

    def _kernel_params(self):
        return _TVERSKY, self.alpha, self.beta, self.gamma


@overload
def dice(
    y_true: ArrayLike, y_pred: ArrayLike, *, smooth: float = 1.0, from_logits: bool = False,
    multiclass: bool = False, reduction: Literal["mean", "sum"] = "mean",
    sample_weight: ArrayLike | None = None,
) -> float: ...
@overload
def dice(
    y_true: ArrayLike, y_pred: ArrayLike, *, smooth: float = 1.0, from_logits: bool = False,
    multiclass: bool = False, reduction: Literal["none"], sample_weight: ArrayLike | None = None,
) -> FloatArray: ...
@overload
def dice(
    y_true: ArrayLike, y_pred: ArrayLike, *, smooth: float = 1.0, from_logits: bool = False,
    multiclass: bool = False, reduction: Reduction, sample_weight: ArrayLike | None = None,
) -> LossValue: ...
def dice(
    y_true: ArrayLike, y_pred: ArrayLike, *, smooth: float = 1.0, from_logits: bool = False,
    multiclass: bool = False, reduction: Reduction = "mean", sample_weight: ArrayLike | None = None,
) -> LossValue:
    """The value of :class:`Dice` in one call."""
    return shortcut_call(Dice, (smooth, from_logits, multiclass, reduction),
                         sample_weight, y_true, y_pred)


@overload
def tversky(
    y_true: ArrayLike, y_pred: ArrayLike, *, alpha: float = 0.5, beta: float = 0.5,
    gamma: float = 1.0, smooth: float = 1.0, from_logits: bool = False,
    multiclass: bool = False, reduction: Literal["mean", "sum"] = "mean",
    sample_weight: ArrayLike | None = None,
) -> float: ...
@overload
def tversky(
    y_true: ArrayLike, y_pred: ArrayLike, *, alpha: float = 0.5, beta: float = 0.5,
    gamma: float = 1.0, smooth: float = 1.0, from_logits: bool = False,
    multiclass: bool = False, reduction: Literal["none"], sample_weight: ArrayLike | None = None,
) -> FloatArray: ...
@overload
def tversky(
    y_true: ArrayLike, y_pred: ArrayLike, *, alpha: float = 0.5, beta: float = 0.5,
    gamma: float = 1.0, smooth: float = 1.0, from_logits: bool = False,
    multiclass: bool = False, reduction: Reduction, sample_weight: ArrayLike | None = None,
) -> LossValue: ...
def tversky(
    y_true: ArrayLike, y_pred: ArrayLike, *, alpha: float = 0.5, beta: float = 0.5,
    gamma: float = 1.0, smooth: float = 1.0, from_logits: bool = False,
    multiclass: bool = False, reduction: Reduction = "mean", sample_weight: ArrayLike | None = None,
) -> LossValue:
    """The value of :class:`Tversky` in one call."""
    return shortcut_call(Tversky, (alpha, beta, gamma, smooth, from_logits, multiclass, reduction),
                         sample_weight, y_true, y_pred)
