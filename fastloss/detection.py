"""Object-detection losses: box regression on (x1, y1, x2, y2) boxes, row-wise.

A detection head's loss adds a classification loss over its anchors or queries and a
box loss over the matched ones, each with a weight. Both are one-pass fastloss losses,
so the head's loss is the weighted sum of two value_and_gradient calls (docs: the
choosing guide's detection row):

    value_c, grad_c = classification.value_and_gradient(labels, logits)
    value_b, grad_b = BoxIoU(kind="giou").value_and_gradient(target_boxes, boxes)
    loss = w_c * value_c + w_b * value_b   # gradients: w_c * grad_c, w_b * grad_b
"""

from __future__ import annotations

from typing import Literal, overload

from numpy.typing import ArrayLike

from fastloss._core.base import FloatArray, LossValue, Reduction, ValueT
from fastloss._core.rowwise import RowwiseLoss
from fastloss._core.validation import check_nonnegative
from fastloss._kernels.common import shortcut_call

__all__ = ["BoxIoU", "box_iou_loss"]

BoxKind = Literal["iou", "giou", "diou", "ciou"]
_BOX_KINDS = ("iou", "giou", "diou", "ciou")


class BoxIoU(RowwiseLoss[ValueT]):
    """IoU losses of predicted boxes against target boxes, as torchvision defines them.

    Boxes are rows (x1, y1, x2, y2) with x1 <= x2 and y1 <= y2 (targets are checked;
    predictions are not, as a network's early outputs need not be ordered). With
    I the intersection area (0 unless the boxes overlap in both axes), U the union and
    iou = I / (U + eps):

    - ``kind="iou"``: l = 1 - iou.
    - ``kind="giou"`` (Rezatofighi et al. 2019; torchvision
      ``generalized_box_iou_loss``): l = 1 - iou + (A - U) / (A + eps), A the area of
      the smallest box enclosing both.
    - ``kind="diou"`` (Zheng et al. 2020; ``distance_box_iou_loss``):
      l = 1 - iou + d^2 / (c^2 + eps), d the distance between the centres, c the
      diagonal of the enclosing box.
    - ``kind="ciou"`` (Zheng et al. 2020; ``complete_box_iou_loss``): DIoU + alpha v
      with v = (4 / pi^2) (atan(w_t / h_t) - atan(w / h))^2 and
      alpha = v / (1 - iou + v + eps), which, as in torchvision, is held constant in the
      gradient. A box of zero width and height has no aspect ratio: NaN, as there.

    The gradient is taken w.r.t. the predicted boxes; at ties of min and max it is
    split in half as PyTorch's. The hessian is not used by box regressors: the
    surrogate 1 is returned (``exact_hessian`` is False).

    Shapes: y_pred (n, 4) predicted boxes, y_true (n, 4) target boxes; sample_weight
    (n,). One value per box pair.

    Examples
    --------
    >>> import fastloss as fl
    >>> fl.BoxIoU(kind="iou")([[0.0, 0.0, 2.0, 2.0]], [[1.0, 0.0, 3.0, 2.0]])  # 1 - 2/6
    0.666666...
    """

    exact_hessian = False
    _param_names = ("kind", "eps")
    _targets = ("dense",)
    _row_form = (4, "boxes (x1, y1, x2, y2)")
    _small_target_check = RowwiseLoss._kernels.TARGETS_BOXES
    kind: BoxKind
    eps: float

    @overload
    def __init__(
        self: BoxIoU[float], *, kind: BoxKind = "giou", eps: float = 1e-7,
        reduction: Literal["mean", "sum"] = "mean",
    ) -> None: ...
    @overload
    def __init__(
        self: BoxIoU[FloatArray], *, kind: BoxKind = "giou", eps: float = 1e-7,
        reduction: Literal["none"],
    ) -> None: ...
    @overload
    def __init__(
        self: BoxIoU[LossValue], *, kind: BoxKind = "giou", eps: float = 1e-7,
        reduction: Reduction,
    ) -> None: ...
    def __init__(self, *, kind: BoxKind = "giou", eps: float = 1e-7,
                 reduction: Reduction = "mean") -> None:
        if kind not in _BOX_KINDS:
            raise ValueError(f"kind must be one of {', '.join(_BOX_KINDS)}; got {kind!r}")
        self.kind = kind
        self.eps = check_nonnegative("eps", eps)
        super().__init__(reduction=reduction)

    def _kernel_spec(self, sparse):
        return ("box_" + self.kind, 0.0, self.eps)

    def _check_target_rows(self, y):
        row = self._kernels.first_bad_box(y)
        if row >= 0:
            raise ValueError(
                "y_true must hold finite target boxes (x1, y1, x2, y2) with x1 <= x2 and "
                f"y1 <= y2; row {row} is {y[row].tolist()}")


@overload
def box_iou_loss(
    y_true: ArrayLike, y_pred: ArrayLike, *, kind: BoxKind = "giou", eps: float = 1e-7,
    reduction: Literal["mean", "sum"] = "mean", sample_weight: ArrayLike | None = None,
) -> float: ...
@overload
def box_iou_loss(
    y_true: ArrayLike, y_pred: ArrayLike, *, kind: BoxKind = "giou", eps: float = 1e-7,
    reduction: Literal["none"], sample_weight: ArrayLike | None = None,
) -> FloatArray: ...
@overload
def box_iou_loss(
    y_true: ArrayLike, y_pred: ArrayLike, *, kind: BoxKind = "giou", eps: float = 1e-7,
    reduction: Reduction, sample_weight: ArrayLike | None = None,
) -> LossValue: ...
def box_iou_loss(
    y_true: ArrayLike, y_pred: ArrayLike, *, kind: BoxKind = "giou", eps: float = 1e-7,
    reduction: Reduction = "mean", sample_weight: ArrayLike | None = None,
) -> LossValue:
    """The value of :class:`BoxIoU` in one call."""
    return shortcut_call(BoxIoU, (kind, eps, reduction), sample_weight, y_true, y_pred)
