"""What the framework adapters (fastloss.torch, fastloss.jax, fastloss.keras) share.

Only fastloss's public API is used here. A loss is one of six *kinds*, which fix the
arrays its methods take (in the loss's own API order), which of them get a gradient,
and the shape of its ``reduction="none"`` values:

============== ================================== ================ ===============
kind           arguments (API order)              differentiable   "none" values
============== ================================== ================ ===============
elementwise    y_true, y_pred                     y_pred           y_pred's shape
rowwise        y_true, y_pred                     y_pred           (n,)
ranking        relevance, scores (+ where)        scores           (n_lists,)
contrastive    same, x1, x2                       x1, x2           (n,)
triplet        anchor, positive, negative         all three        (n,)
batch_triplet  labels, embeddings                 embeddings       (n,)
margin         labels, embeddings, weight         embeddings,      (n,)
                                                  weight
============== ================================== ================ ===============

The row-wise kind also holds Dice and Tversky, whose samples (n, ...) are their rows.

Dtype policy (every adapter): float32 and float64 are computed as they are;
float16 and bfloat16 are computed in float32 and the value and gradients are
returned in the input's dtype; any other dtype of a differentiable input is a
TypeError. Targets, labels, masks and sample weights are converted by fastloss.

Backward rule: for "mean" and "sum" the value is a scalar and the vector-Jacobian
product is ``g * gradient``. For "none" each value depends only on its own element
(elementwise) or its own row (the row-wise kinds), so the gradient computed with
reduction "none" (the gradient of the sum of the values) times ``g`` broadcast over
the row is exact. BatchTriplet and SupCon (the batch_triplet kind) are the exception:
an anchor's value depends on other rows of the batch, so their "none" values cannot
be differentiated this way (ValueError); so is the margin kind (ArcFace, CosFace),
whose class centres every value depends on. InfoNCE, GaussianNLL and CTC have no
adapter (TypeError).
"""

from __future__ import annotations

from dataclasses import dataclass

import fastloss as fl
from fastloss._core.base import ElementwiseLoss
from fastloss._core.rowwise import RowwiseLoss
from fastloss.segmentation import _Overlap


@dataclass(frozen=True)
class Kind:
    """The calling convention of a family of losses (see the module docstring)."""

    name: str
    #: Argument names in the loss's API order (``where`` excluded).
    inputs: tuple[str, ...]
    #: Indices into `inputs` of the arrays that get a gradient.
    differentiable: tuple[int, ...]
    #: Whether "none" values are one per row (else one per element of y_pred).
    rowwise_values: bool
    #: Whether the loss takes a boolean ``where`` mask (ranking).
    has_where: bool = False


ELEMENTWISE = Kind("elementwise", ("y_true", "y_pred"), (1,), False)
ROWWISE = Kind("rowwise", ("y_true", "y_pred"), (1,), True)
RANKING = Kind("ranking", ("relevance", "scores"), (1,), True, has_where=True)
CONTRASTIVE = Kind("contrastive", ("same", "x1", "x2"), (1, 2), True)
TRIPLET = Kind("triplet", ("anchor", "positive", "negative"), (0, 1, 2), True)
BATCH_TRIPLET = Kind("batch_triplet", ("labels", "embeddings"), (1,), True)
MARGIN = Kind("margin", ("labels", "embeddings", "weight"), (1, 2), True)

_RANKING_CLASSES = (
    fl.PairwiseHinge, fl.PairwiseLogistic, fl.ListwiseSoftmax, fl.ListMLE, fl.LambdaRank,
)


def kind_of(loss: object) -> Kind:
    """The Kind of a fastloss loss object; TypeError for anything else."""
    if isinstance(loss, ElementwiseLoss):  # every regression and binary loss
        return ELEMENTWISE
    if isinstance(loss, (RowwiseLoss, _Overlap)):  # multi-class; Dice, Tversky per sample
        return ROWWISE
    if isinstance(loss, _RANKING_CLASSES):
        return RANKING
    if isinstance(loss, fl.Triplet):
        return TRIPLET
    if isinstance(loss, (fl.Contrastive, fl.CosineEmbedding)):  # (labels, x1, x2)
        return CONTRASTIVE
    if isinstance(loss, (fl.BatchTriplet, fl.SupCon)):  # (labels, embeddings)
        return BATCH_TRIPLET
    if isinstance(loss, (fl.ArcFace, fl.CosFace)):
        return MARGIN
    if isinstance(loss, fl.GaussianNLL):
        raise TypeError(
            "GaussianNLL (three inputs: y_true, mean, var) has no framework adapter: call "
            "its value_and_gradient on arrays")
    if isinstance(loss, fl.InfoNCE):
        raise TypeError(
            "InfoNCE (two differentiable views z1, z2) has no framework adapter: call its "
            "value_and_gradient on arrays")
    if isinstance(loss, fl.CTC):
        raise TypeError(
            "CTC (four inputs: targets, log_probs, input_lengths, target_lengths) has no "
            "framework adapter: call its value_and_gradient on arrays (PyTorch's own "
            "ctc_loss takes the same arguments)")
    raise TypeError(
        "loss must be a fastloss loss object such as fastloss.Huber(delta=2.0); "
        f"got {loss!r}"
    )


def with_reduction(loss, reduction):
    """A copy of `loss` with another reduction (same hyper-parameters)."""
    if loss.reduction == reduction:
        return loss
    return type(loss)(**{**loss.get_params(), "reduction": reduction})


def check_differentiable(loss, kind):
    """ValueError when the gradient of `loss`'s values cannot be formed (see above)."""
    if kind in (BATCH_TRIPLET, MARGIN) and loss.reduction == "none":
        shared = ("the class centres" if kind is MARGIN else "other rows of the batch")
        raise ValueError(
            f'{type(loss).__name__}(reduction="none") cannot be differentiated by the '
            f"framework adapters: each value depends on {shared}, so the per-row values "
            'have no row-wise gradient. Use reduction="sum" or "mean" (or sample_weight '
            "to weight rows)."
        )


# ---- dtypes ------------------------------------------------------------------------

#: Compute dtype by input dtype name, for the differentiable inputs.
COMPUTE_DTYPES = {
    "float32": "float32",
    "float64": "float64",
    "float16": "float32",
    "bfloat16": "float32",
}


def compute_dtype(dtype_name: str, argument: str) -> str:
    """The dtype name fastloss computes in for a differentiable input of `dtype_name`."""
    try:
        return COMPUTE_DTYPES[dtype_name]
    except KeyError:
        raise TypeError(
            f"{argument} must be a floating-point array (float32, float64, float16 or "
            f"bfloat16); got dtype {dtype_name}"
        ) from None


# ---- the fused call -----------------------------------------------------------------

def call(loss, kind, arrays, sample_weight=None, where=None, want_grad=True):
    """``(value, gradients)`` of `loss` over NumPy `arrays` (in `kind.inputs` order).

    One fused pass (value_and_gradient) when `want_grad`, the value alone otherwise
    (then `gradients` is None). `value` is a float ("mean", "sum") or an array
    ("none"); `gradients` is a tuple with one array per differentiable input.
    """
    kwargs = {"sample_weight": sample_weight}
    if kind.has_where:
        kwargs["where"] = where
    if not want_grad:
        return loss(*arrays, **kwargs), None
    check_differentiable(loss, kind)
    value, grads = loss.value_and_gradient(*arrays, **kwargs)
    if not isinstance(grads, tuple):
        grads = (grads,)
    return value, grads


def cotangent_shape(kind, reduction, grad_shape):
    """The shape the incoming cotangent `g` is reshaped to before ``g * gradient``.

    () for "mean"/"sum"; for "none", y_pred's shape (elementwise) or (n, 1, ..., 1)
    (row-wise), so that it broadcasts against the gradient.
    """
    if reduction != "none":
        return ()
    if not kind.rowwise_values:
        return tuple(grad_shape)
    return (grad_shape[0],) + (1,) * (len(grad_shape) - 1)


def value_shape(kind, reduction, pred_shape):
    """The shape of the value: () for "mean"/"sum", else per element or per row."""
    if reduction != "none":
        return ()
    if not kind.rowwise_values:
        return tuple(pred_shape)
    return (pred_shape[0],) if len(pred_shape) else ()
