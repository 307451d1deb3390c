"""Segmentation losses: soft overlap of a predicted mask with a target mask, per sample.

y_pred and y_true have shape (n, ...): one mask (any number of axes, and channels) per
sample, flattened into one row; y_pred holds probabilities in [0, 1], or logits with
``from_logits=True`` (a sigmoid per element); y_true soft or hard targets in [0, 1].
One value per sample ("none" has shape (n,)); sample weights are one per sample. For
the per-batch variant (the overlap summed over the whole batch), pass the batch as one
sample: ``y.reshape(1, -1)``.
"""

from __future__ import annotations

import math
from typing import Literal, overload

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
    shortcut_loss,
)
from fastloss._core.rowwise import check_unit
from fastloss._core.validation import (
    as_real_array,
    check_flag,
    check_nonnegative,
    check_number,
    check_same_shape,
)
from fastloss._kernels import dispatch as _dispatch

__all__ = ["Dice", "Tversky", "dice", "tversky"]

_kernels = _dispatch.load("multiclass")
_DICE, _TVERSKY = 0, 1


class _Overlap(OnePassLoss[ValueT]):
    """Dice and Tversky: one compiled pass over each sample's row (two with gradients)."""

    _items = "samples"
    exact_hessian = False
    from_logits: bool
    smooth: float

    def _kernel_params(self):
        """(kind, alpha, beta, gamma)."""
        raise NotImplementedError

    def _prepare(self, y_true, y_pred, sample_weight=None):
        p = as_real_array(y_pred, "y_pred")
        if p.ndim < 2:
            raise ValueError(
                f"y_pred must hold one mask per sample, shape (n, ...) with at least 2 axes; "
                f"got shape {p.shape}")
        y = as_real_array(y_true, "y_true", p.dtype)
        check_same_shape(y, p)
        check_unit(y, "y_true", nan_invalid=True)
        if not self.from_logits:
            check_unit(p, "y_pred (probabilities, from_logits=False)", nan_invalid=False)
        n = p.shape[0]
        rows = (n, int(np.prod(p.shape[1:], dtype=np.int64)))
        return y.reshape(rows), p.reshape(rows), row_weights(sample_weight, n), p.shape

    def _run(self, mode, inputs, out_a=None, out_b=None, scale=1.0, partials=None):
        y, p, w, _ = inputs
        kind, alpha, beta, gamma = self._kernel_params()
        def as_rows(out):  # "none" values are (n,); derivatives shaped like y_pred
            return out if out is None or out.ndim == 1 else out.reshape(p.shape)

        return _kernels.overlap_run(kind, mode, y, p, w, as_rows(out_a), as_rows(out_b), scale,
                                    self.from_logits, alpha, beta, gamma, self.smooth,
                                    _config.get_num_threads())

    def _outputs(self, out, inputs, original):
        y, p, _, shape = inputs
        return _Output(out, original, p.reshape(shape), y.reshape(shape))

    def _weight_total(self, inputs, partials=None):
        n, m = inputs[1].shape
        return blocked_weight_total(n, inputs[2], _kernels.rows_per_block(m), partials), n

    def _values_buffer(self, inputs):
        return np.empty(inputs[1].shape[0], dtype=inputs[1].dtype)


class Dice(_Overlap[ValueT]):
    """Soft Dice loss (Milletari et al. 2016), per sample:
    l = 1 - (2 TP + smooth) / (P + T + smooth).

    TP = sum p t, P = sum p and T = sum t over the sample's mask, p = y_pred (or its
    sigmoid with ``from_logits=True``), t = y_true; ``smooth`` is added to numerator and
    denominator as segmentation_models.pytorch's ``DiceLoss(smooth=...)`` and MONAI's
    ``DiceLoss(smooth_nr=smooth, smooth_dr=smooth)`` do: an empty target and an empty
    prediction give 0. The gradient is -(2 t_j (P + T + s) - (2 TP + s)) / (P + T + s)^2
    w.r.t. p (times p (1 - p) for logits); gradient_hessian returns the surrogate 1.

    Shapes: y_pred (n, ...) masks, y_true the same; sample_weight (n,).

    Examples
    --------
    >>> import fastloss as fl
    >>> fl.Dice(smooth=0.0)([[1.0, 1.0, 0.0, 0.0]], [[1.0, 0.5, 0.5, 0.0]])  # 1 - 3/4
    0.25
    """

    _param_names = ("smooth", "from_logits")

    @overload
    def __init__(
        self: Dice[float], *, smooth: float = 1.0, from_logits: bool = False,
        reduction: Literal["mean", "sum"] = "mean",
    ) -> None: ...
    @overload
    def __init__(
        self: Dice[FloatArray], *, smooth: float = 1.0, from_logits: bool = False,
        reduction: Literal["none"],
    ) -> None: ...
    @overload
    def __init__(
        self: Dice[LossValue], *, smooth: float = 1.0, from_logits: bool = False,
        reduction: Reduction,
    ) -> None: ...
    def __init__(self, *, smooth: float = 1.0, from_logits: bool = False,
                 reduction: Reduction = "mean") -> None:
        self.smooth = check_nonnegative("smooth", smooth)
        self.from_logits = check_flag("from_logits", from_logits)
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

    _param_names = ("alpha", "beta", "gamma", "smooth", "from_logits")
    alpha: float
    beta: float
    gamma: float

    @overload
    def __init__(
        self: Tversky[float], *, alpha: float = 0.5, beta: float = 0.5, gamma: float = 1.0,
        smooth: float = 1.0, from_logits: bool = False,
        reduction: Literal["mean", "sum"] = "mean",
    ) -> None: ...
    @overload
    def __init__(
        self: Tversky[FloatArray], *, alpha: float = 0.5, beta: float = 0.5,
        gamma: float = 1.0, smooth: float = 1.0, from_logits: bool = False,
        reduction: Literal["none"],
    ) -> None: ...
    @overload
    def __init__(
        self: Tversky[LossValue], *, alpha: float = 0.5, beta: float = 0.5,
        gamma: float = 1.0, smooth: float = 1.0, from_logits: bool = False,
        reduction: Reduction,
    ) -> None: ...
    def __init__(self, *, alpha: float = 0.5, beta: float = 0.5, gamma: float = 1.0,
                 smooth: float = 1.0, from_logits: bool = False,
                 reduction: Reduction = "mean") -> None:
        self.alpha = check_nonnegative("alpha", alpha)
        self.beta = check_nonnegative("beta", beta)
        self.gamma = check_number("gamma", gamma, lambda v: math.isfinite(v) and v > 0.0,
                                  "a finite number > 0")
        self.smooth = check_nonnegative("smooth", smooth)
        self.from_logits = check_flag("from_logits", from_logits)
        super().__init__(reduction=reduction)

    def _kernel_params(self):
        return _TVERSKY, self.alpha, self.beta, self.gamma


@overload
def dice(
    y_true: ArrayLike, y_pred: ArrayLike, *, smooth: float = 1.0, from_logits: bool = False,
    reduction: Literal["mean", "sum"] = "mean", sample_weight: ArrayLike | None = None,
) -> float: ...
@overload
def dice(
    y_true: ArrayLike, y_pred: ArrayLike, *, smooth: float = 1.0, from_logits: bool = False,
    reduction: Literal["none"], sample_weight: ArrayLike | None = None,
) -> FloatArray: ...
@overload
def dice(
    y_true: ArrayLike, y_pred: ArrayLike, *, smooth: float = 1.0, from_logits: bool = False,
    reduction: Reduction, sample_weight: ArrayLike | None = None,
) -> LossValue: ...
def dice(
    y_true: ArrayLike, y_pred: ArrayLike, *, smooth: float = 1.0, from_logits: bool = False,
    reduction: Reduction = "mean", sample_weight: ArrayLike | None = None,
) -> LossValue:
    """The value of :class:`Dice` in one call."""
    loss = shortcut_loss(Dice, smooth=smooth, from_logits=from_logits, reduction=reduction)
    return loss(y_true, y_pred, sample_weight=sample_weight)


@overload
def tversky(
    y_true: ArrayLike, y_pred: ArrayLike, *, alpha: float = 0.5, beta: float = 0.5,
    gamma: float = 1.0, smooth: float = 1.0, from_logits: bool = False,
    reduction: Literal["mean", "sum"] = "mean", sample_weight: ArrayLike | None = None,
) -> float: ...
@overload
def tversky(
    y_true: ArrayLike, y_pred: ArrayLike, *, alpha: float = 0.5, beta: float = 0.5,
    gamma: float = 1.0, smooth: float = 1.0, from_logits: bool = False,
    reduction: Literal["none"], sample_weight: ArrayLike | None = None,
) -> FloatArray: ...
@overload
def tversky(
    y_true: ArrayLike, y_pred: ArrayLike, *, alpha: float = 0.5, beta: float = 0.5,
    gamma: float = 1.0, smooth: float = 1.0, from_logits: bool = False,
    reduction: Reduction, sample_weight: ArrayLike | None = None,
) -> LossValue: ...
def tversky(
    y_true: ArrayLike, y_pred: ArrayLike, *, alpha: float = 0.5, beta: float = 0.5,
    gamma: float = 1.0, smooth: float = 1.0, from_logits: bool = False,
    reduction: Reduction = "mean", sample_weight: ArrayLike | None = None,
) -> LossValue:
    """The value of :class:`Tversky` in one call."""
    loss = shortcut_loss(Tversky, alpha=alpha, beta=beta, gamma=gamma, smooth=smooth,
                         from_logits=from_logits, reduction=reduction)
    return loss(y_true, y_pred, sample_weight=sample_weight)
