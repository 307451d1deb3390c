"""Embedding (metric-learning) losses, row-wise: one value per pair, triplet or anchor.

The methods take the arrays each loss names instead of (y_true, y_pred), and
`gradient` returns a tuple with one array per embedding input (contract section 5).
Embeddings are 2-D, (n, dim); float32 inputs are computed without conversion (sums
in float64) and every gradient comes back in its input's dtype. When the embedding
inputs have different dtypes, float64 is used for all. Reductions are over rows:
"mean" is sum(w_i l_i) / sum(w_i), except for BatchTriplet (over its mined triplets)
and SupCon (over the anchors that have a positive): see there.
"""

from __future__ import annotations

import math
from typing import Literal, TypeAlias, overload

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
    _Outputs,
    blocked_weight_total,
    row_weights,
)
from fastloss._core.rowwise import RowwiseLoss, check_unit
from fastloss._core.validation import (
    KERAS_EPSILON,
    _to_ndarray,
    as_int64_array,
    as_real_array,
    bad_value_error,
    check_flag,
    check_nonnegative,
    check_number,
    check_positive,
    compute_dtype,
)
from fastloss._kernels import common as modes
from fastloss._kernels import dispatch as _dispatch
from fastloss._kernels.common import shortcut_call

__all__ = [
    "Contrastive", "Triplet", "BatchTriplet", "CosineEmbedding", "CosineSimilarity",
    "SupCon", "InfoNCE", "ArcFace", "CosFace",
    "contrastive", "triplet", "batch_triplet", "cosine_embedding", "cosine_similarity",
    "supcon", "info_nce", "arcface", "cosface",
]

_kernels = _dispatch.load("embedding")

#: Gradients (or hessian diagonals) of a pair loss: one array per input.
Pair: TypeAlias = tuple[FloatArray, FloatArray]
#: Gradients (or hessian diagonals) of a triplet loss: one array per input.
Triple: TypeAlias = tuple[FloatArray, FloatArray, FloatArray]
#: The triplet mining strategies of BatchTriplet.
Strategy: TypeAlias = Literal["hard", "semihard", "all"]


def _embeddings(arrays, names):
    """The inputs as C-contiguous (n, dim) arrays sharing one compute dtype."""
    converted = [as_real_array(x, name) for x, name in zip(arrays, names, strict=True)]
    if len({x.dtype for x in converted}) > 1:
        converted = [as_real_array(x, name, np.dtype(np.float64))
                     for x, name in zip(converted, names, strict=True)]
    for x, name in zip(converted, names, strict=True):
        if x.ndim != 2:
            raise ValueError(f"{name} must be 2-D (n, dim); got shape {x.shape}")
    if len({x.shape for x in converted}) > 1:
        shapes = ", ".join(
            f"{name}.shape={x.shape}" for x, name in zip(converted, names, strict=True))
        raise ValueError(f"{', '.join(names)} must have the same shape; got {shapes}")
    return converted


def _embedding_outputs(out, originals, arrays, names):
    """One _Output per embedding input; `out` is None or a tuple with one array each."""
    if out is None:
        return [_Output(None, original, x) for original, x in zip(originals, arrays, strict=True)]
    if not isinstance(out, (tuple, list)) or len(out) != len(arrays):
        raise TypeError(
            f"out must be a tuple of {len(arrays)} arrays (one per input: {', '.join(names)})"
        )
    for i, o in enumerate(out):
        if any(isinstance(o, np.ndarray) and isinstance(other, np.ndarray)
               and np.shares_memory(o, other) for other in out[i + 1:]):
            raise ValueError("the arrays of out must not share memory")
    # out[i] may be input i itself; written into directly only if it shares no memory
    # with the other inputs, which the kernels read while they write it
    return [_Output(o, original, x, others=arrays[:i] + arrays[i + 1:])
            for i, (o, original, x) in enumerate(zip(out, originals, arrays, strict=True))]


class _RowEmbeddingLoss(OnePassLoss[ValueT]):
    """Contrastive and Triplet: one compiled row kernel, every mode in one pass."""

    _kind = None
    _input_names = ()
    #: The arrays of the value call: the pair labels (if any), then the embeddings.
    _argument_names = ()
    _items = "rows"
    #: The kernels' check of the first argument (same, target) in the small-call path.
    _same_check = _kernels.SAME_NONE

    def __init__(self, *, reduction: Reduction = "mean") -> None:
        super().__init__(reduction=reduction)
        self._small_call = _kernels.rows_call_small
        self._small_spec = (self._kind, *self._kernel_params(), self._same_check)

    def _kernel_params(self):
        """(margin, p, eps, swap) for the row kernel."""
        raise NotImplementedError

    def _small(self, what, arrays, sample_weight, out=None):
        """The small-call path's result (the kernels' rows_call_small) for the public
        arguments `arrays`, or None when they take the general path."""
        if self._small_spec is None or sample_weight is not None or out is not None:
            return None
        return self._small_call(self._small_spec, self.reduction, what, *arrays)

    def _check_same(self, same, n):
        return None

    def _prepare_rows(self, arrays, same, sample_weight):
        xs = _embeddings(arrays, self._input_names)
        n = xs[0].shape[0]
        return xs, self._check_same(same, n), row_weights(sample_weight, n)

    def _run(self, mode, inputs, out_a=None, out_b=None, scale=1.0, partials=None):
        xs, same, w = inputs
        if mode in (modes.VALUE_NONE, modes.VALUE_NONE_GRADIENT):
            values, grads, hessians = out_a, out_b or (), ()
        else:
            values, grads, hessians = None, out_a or (), out_b or ()
        margin, p, eps, swap = self._kernel_params()
        return _kernels.rows_run(
            self._kind, mode, tuple(xs), same, w, values, grads, hessians,
            scale, margin, p, eps, swap, _config.get_num_threads(), partials,
        )

    def _weight_total(self, inputs, partials=None):
        x = inputs[0][0]
        return blocked_weight_total(x.shape[0], inputs[2], self._block_items(x.shape),
                                    partials), x.shape[0]

    def _block_items(self, pred_shape):
        """Rows per reduction block (it depends on the embedding width)."""
        return _kernels.rows_per_block(pred_shape[1])

    def _values_buffer(self, inputs):
        xs = inputs[0]
        return np.empty(xs[0].shape[0], dtype=xs[0].dtype)

    def _outputs(self, out, inputs, original):
        return _Outputs(_embedding_outputs(out, original, inputs[0], self._input_names))


class Contrastive(_RowEmbeddingLoss[ValueT]):
    """Contrastive loss (Hadsell, Chopra & LeCun 2006) over pairs of embeddings.

    ``loss(same, x1, x2)``: l_i = s_i d_i^2 + (1 - s_i) max(0, margin - d_i)^2 with
    ``d_i = ||x1_i - x2_i||_2`` and s_i = 1 for a matching pair, 0 otherwise (values in
    between are accepted and interpolate). `same` has shape (n,); x1 and x2 (n, dim).
    The gradient is a tuple (d/dx1, d/dx2), d/dx2 = -d/dx1. At d = 0 the dissimilar
    term's direction is undefined: its gradient is 0 there (the minimum-norm
    subgradient, as torch's norm backward gives). gradient_hessian returns the exact
    hessian diagonal (the same for x1 and x2): 2 s_i, plus for a dissimilar pair with
    0 < d < margin, 2 delta_k^2/d^2 - 2 (margin - d)(1 - delta_k^2/d^2)/d where
    delta = x1 - x2 (negative where the hinge is concave; 0 at d = 0).

    Examples
    --------
    >>> import fastloss as fl
    >>> x1, x2 = [[0.0, 0.0], [0.0, 0.0]], [[3.0, 4.0], [0.5, 0.0]]
    >>> fl.Contrastive(margin=1.0, reduction="none")([1, 0], x1, x2)  # 5**2, (1 - 0.5)**2
    array([25.  ,  0.25])
    """

    _param_names = ("margin",)
    _kind = _kernels.CONTRASTIVE
    _input_names = ("x1", "x2")
    _argument_names = ("same", "x1", "x2")
    _same_check = _kernels.SAME_UNIT
    margin: float

    @overload
    def __init__(
        self: Contrastive[float], *, margin: float = 1.0,
        reduction: Literal["mean", "sum"] = "mean",
    ) -> None: ...
    @overload
    def __init__(
        self: Contrastive[FloatArray], *, margin: float = 1.0, reduction: Literal["none"],
    ) -> None: ...
    @overload
    def __init__(
        self: Contrastive[LossValue], *, margin: float = 1.0, reduction: Reduction,
    ) -> None: ...
    def __init__(self, *, margin: float = 1.0, reduction: Reduction = "mean") -> None:
        self.margin = check_nonnegative("margin", margin)
        super().__init__(reduction=reduction)

    def _kernel_params(self):
        return self.margin, 2.0, 0.0, False

    def _check_same(self, same, n):
        s = _to_ndarray(same, "same")
        compute_dtype(s.dtype, "same")
        s = np.ascontiguousarray(s, dtype=np.float64)
        if s.shape != (n,):
            raise ValueError(f"same must have shape ({n},), one per pair; got {s.shape}")
        check_unit(s, "same", nan_invalid=True)
        return s

    def _prepare(self, same, x1, x2, sample_weight=None):
        return self._prepare_rows((x1, x2), same, sample_weight)

    def __call__(
        self, same: ArrayLike, x1: ArrayLike, x2: ArrayLike, *,
        sample_weight: ArrayLike | None = None,
    ) -> ValueT:
        """The loss value: float for "mean"/"sum", an (n,) array for "none"."""
        small = self._small(modes.SMALL_VALUE, (same, x1, x2), sample_weight)
        if small is not None:
            return small
        return self._value(self._prepare(same, x1, x2, sample_weight))

    def gradient(
        self, same: ArrayLike, x1: ArrayLike, x2: ArrayLike, *,
        sample_weight: ArrayLike | None = None, out: Pair | None = None,
    ) -> Pair:
        """(d/dx1, d/dx2) of the reduced loss; `out` is an optional pair of arrays."""
        small = self._small(modes.SMALL_GRADIENT, (same, x1, x2), sample_weight, out)
        if small is not None:
            return small
        return self._gradient(self._prepare(same, x1, x2, sample_weight), out, (x1, x2))

    def value_and_gradient(
        self, same: ArrayLike, x1: ArrayLike, x2: ArrayLike, *,
        sample_weight: ArrayLike | None = None, out: Pair | None = None,
    ) -> tuple[ValueT, Pair]:
        """(value, (d/dx1, d/dx2)) from one pass over the data."""
        small = self._small(modes.SMALL_VALUE_AND_GRADIENT, (same, x1, x2), sample_weight, out)
        if small is not None:
            return small
        return self._value_and_gradient(
            self._prepare(same, x1, x2, sample_weight), out, (x1, x2))

    def gradient_hessian(
        self, same: ArrayLike, x1: ArrayLike, x2: ArrayLike, *,
        sample_weight: ArrayLike | None = None,
    ) -> tuple[Pair, Pair]:
        """((d/dx1, d/dx2), (hessian diagonal wrt x1, wrt x2))."""
        return self._gradient_hessian(self._prepare(same, x1, x2, sample_weight), (x1, x2))


class CosineEmbedding(_RowEmbeddingLoss[ValueT]):
    """Cosine embedding loss over pairs, torch ``CosineEmbeddingLoss``'s definition.

    ``loss(target, x1, x2)``: l_i = 1 - cos_i for a target of 1 (a similar pair) and
    max(0, cos_i - margin) for -1, with cos_i = x1_i . x2_i / sqrt((x1_i . x1_i + 1e-12)
    (x2_i . x2_i + 1e-12)) (torch's epsilon). `target` has shape (n,) and holds 1 or -1;
    x1 and x2 (n, dim). The gradient is a tuple (d/dx1, d/dx2) with
    d cos / dx1 = x2 / D - cos x1 / (x1 . x1 + 1e-12), D the denominator.
    gradient_hessian returns the exact hessian diagonals.

    Examples
    --------
    >>> import fastloss as fl
    >>> x1, x2 = [[1.0, 0.0], [1.0, 0.0]], [[0.0, 1.0], [1.0, 1.0]]
    >>> fl.CosineEmbedding(margin=0.5, reduction="none")([1, -1], x1, x2)  # 1 - 0, cos - 0.5
    array([1.        , 0.20710678])
    """

    _param_names = ("margin",)
    _kind = _kernels.COSINE
    _input_names = ("x1", "x2")
    _argument_names = ("target", "x1", "x2")
    _same_check = _kernels.SAME_SIGN
    #: torch's epsilon added to each squared norm
    EPSILON = 1e-12
    margin: float

    @overload
    def __init__(
        self: CosineEmbedding[float], *, margin: float = 0.0,
        reduction: Literal["mean", "sum"] = "mean",
    ) -> None: ...
    @overload
    def __init__(
        self: CosineEmbedding[FloatArray], *, margin: float = 0.0, reduction: Literal["none"],
    ) -> None: ...
    @overload
    def __init__(
        self: CosineEmbedding[LossValue], *, margin: float = 0.0, reduction: Reduction,
    ) -> None: ...
    def __init__(self, *, margin: float = 0.0, reduction: Reduction = "mean") -> None:
        self.margin = check_number("margin", margin, math.isfinite, "a finite number")
        super().__init__(reduction=reduction)

    def _kernel_params(self):
        return self.margin, 2.0, self.EPSILON, False

    def _check_same(self, target, n):
        t = _to_ndarray(target, "target")
        compute_dtype(t.dtype, "target")
        t = np.ascontiguousarray(t, dtype=np.float64)
        if t.shape != (n,):
            raise ValueError(f"target must have shape ({n},), one per pair; got {t.shape}")
        bad = ~((t == 1.0) | (t == -1.0))
        if bad.any():
            raise bad_value_error("target", t, int(np.flatnonzero(bad)[0]), "1 or -1")
        return t

    def _prepare(self, target, x1, x2, sample_weight=None):
        return self._prepare_rows((x1, x2), target, sample_weight)

    def __call__(
        self, target: ArrayLike, x1: ArrayLike, x2: ArrayLike, *,
        sample_weight: ArrayLike | None = None,
    ) -> ValueT:
        """The loss value: float for "mean"/"sum", an (n,) array for "none"."""
        small = self._small(modes.SMALL_VALUE, (target, x1, x2), sample_weight)
        if small is not None:
            return small
        return self._value(self._prepare(target, x1, x2, sample_weight))

    def gradient(
        self, target: ArrayLike, x1: ArrayLike, x2: ArrayLike, *,
        sample_weight: ArrayLike | None = None, out: Pair | None = None,
    ) -> Pair:
        """(d/dx1, d/dx2) of the reduced loss; `out` is an optional pair of arrays."""
        small = self._small(modes.SMALL_GRADIENT, (target, x1, x2), sample_weight, out)
        if small is not None:
            return small
        return self._gradient(self._prepare(target, x1, x2, sample_weight), out, (x1, x2))

    def value_and_gradient(
        self, target: ArrayLike, x1: ArrayLike, x2: ArrayLike, *,
        sample_weight: ArrayLike | None = None, out: Pair | None = None,
    ) -> tuple[ValueT, Pair]:
        """(value, (d/dx1, d/dx2)) from one pass over the data."""
        small = self._small(modes.SMALL_VALUE_AND_GRADIENT, (target, x1, x2), sample_weight,
                            out)
        if small is not None:
            return small
        return self._value_and_gradient(
            self._prepare(target, x1, x2, sample_weight), out, (x1, x2))

    def gradient_hessian(
        self, target: ArrayLike, x1: ArrayLike, x2: ArrayLike, *,
        sample_weight: ArrayLike | None = None,
    ) -> tuple[Pair, Pair]:
        """((d/dx1, d/dx2), (hessian diagonal wrt x1, wrt x2))."""
        return self._gradient_hessian(self._prepare(target, x1, x2, sample_weight), (x1, x2))


class CosineSimilarity(RowwiseLoss[ValueT]):
    """Keras's CosineSimilarity loss: l = -cos(y_true, y_pred) per row.

    cos = (t / N(t)) . (z / N(z)) over the last axis, N(x) = max(norm(x), 1e-7) (Keras's
    L2 normalization, which caps 1 / norm(x) at 1 / epsilon). Values lie in [-1, 1];
    -1 is a perfect match (Keras's sign: the loss is minimized). The gradient is taken
    w.r.t. y_pred only: -(t_k / (N(t) N(z)) - cos z_k / norm(z)^2); gradient_hessian
    returns the exact diagonal. Targets are any real vectors (not checked beyond being
    numbers).

    Shapes: y_pred (n, dim), y_true (n, dim); sample_weight (n,). One value per row.

    Examples
    --------
    >>> import fastloss as fl
    >>> fl.CosineSimilarity(reduction="none")([[0.0, 1.0], [1.0, 1.0]], [[1.0, 0.0], [2.0, 2.0]])
    array([-0., -1.])
    """

    _targets = ("dense",)
    _probability_input = False
    _small_target_check = RowwiseLoss._kernels.TARGETS_ANY

    @overload
    def __init__(
        self: CosineSimilarity[float], *, reduction: Literal["mean", "sum"] = "mean",
    ) -> None: ...
    @overload
    def __init__(self: CosineSimilarity[FloatArray], *, reduction: Literal["none"]) -> None: ...
    @overload
    def __init__(self: CosineSimilarity[LossValue], *, reduction: Reduction) -> None: ...
    def __init__(self, *, reduction: Reduction = "mean") -> None:
        super().__init__(reduction=reduction)

    def _kernel_spec(self, sparse):
        return ("cosine_similarity", KERAS_EPSILON)

    def _check_target_rows(self, y):
        """Any real vectors: NaN propagates to the row's loss."""


class Triplet(_RowEmbeddingLoss[ValueT]):
    """Triplet margin loss, torch.nn.functional.triplet_margin_loss's definition.

    ``loss(anchor, positive, negative)``, each (n, dim):
    l_i = max(0, margin + d(a_i, p_i) - d(a_i, n_i)) with ``d(u, v) = ||u - v + eps||_p``
    (torch.pairwise_distance: eps is added to the difference). With ``swap=True``,
    d(a, n) is replaced by min(d(a, n), d(p, n)) (Balntas et al. 2016); a tie shares
    the gradient equally, as torch's minimum does. The gradient flows where
    margin + d(a,p) - d(a,n) >= 0 (torch's clamp_min), and the gradient of a norm at
    0 is 0 (torch's norm backward). p must be >= 1 (a norm; torch accepts smaller p).

    gradient_hessian returns the exact hessian diagonal for p > 1 (for p = 2 and
    x = u - v + eps, d2 d / dx_k^2 = (1 - x_k^2/d^2)/d, summed with the signs of the
    loss over the distances each input enters); it may be negative, and is 0 for
    triplets outside the margin. For p = 1 the loss is piecewise linear: the hessian
    is the constant surrogate 1 (times weight and reduction scale) for every
    coordinate, and ``exact_hessian`` is False on that instance.

    Examples
    --------
    >>> import fastloss as fl
    >>> loss = fl.Triplet(margin=6.0, eps=0.0)
    >>> anchor, positive, negative = [[0.0, 0.0]], [[3.0, 4.0]], [[6.0, 8.0]]
    >>> loss(anchor, positive, negative)  # 6 + 5 - 10
    1.0
    >>> loss.gradient(anchor, positive, negative)[1]  # d/dpositive: (p - a) / 5
    array([[0.6, 0.8]])
    """

    _param_names = ("margin", "p", "swap", "eps")
    _kind = _kernels.TRIPLET
    _input_names = ("anchor", "positive", "negative")
    _argument_names = _input_names
    margin: float
    p: float
    swap: bool
    eps: float

    @overload
    def __init__(
        self: Triplet[float], *, margin: float = 1.0, p: float = 2.0, swap: bool = False,
        eps: float = 1e-06, reduction: Literal["mean", "sum"] = "mean",
    ) -> None: ...
    @overload
    def __init__(
        self: Triplet[FloatArray], *, margin: float = 1.0, p: float = 2.0, swap: bool = False,
        eps: float = 1e-06, reduction: Literal["none"],
    ) -> None: ...
    @overload
    def __init__(
        self: Triplet[LossValue], *, margin: float = 1.0, p: float = 2.0, swap: bool = False,
        eps: float = 1e-06, reduction: Reduction,
    ) -> None: ...
    def __init__(self, *, margin: float = 1.0, p: float = 2.0, swap: bool = False,
                 eps: float = 1e-6, reduction: Reduction = "mean") -> None:
        self.margin = check_nonnegative("margin", margin)
        self.p = check_number("p", p, lambda v: math.isfinite(v) and v >= 1, "a finite number >= 1")
        self.swap = check_flag("swap", swap)
        self.eps = check_nonnegative("eps", eps)
        if self.p == 1.0:
            self.exact_hessian = False
        super().__init__(reduction=reduction)

    def _kernel_params(self):
        return self.margin, self.p, self.eps, self.swap

    def _prepare(self, anchor, positive, negative, sample_weight=None):
        return self._prepare_rows((anchor, positive, negative), None, sample_weight)

    def __call__(
        self, anchor: ArrayLike, positive: ArrayLike, negative: ArrayLike, *,
        sample_weight: ArrayLike | None = None,
    ) -> ValueT:
        """The loss value: float for "mean"/"sum", an (n,) array for "none"."""
        small = self._small(modes.SMALL_VALUE, (anchor, positive, negative),
                            sample_weight)
        if small is not None:
            return small
        return self._value(self._prepare(anchor, positive, negative, sample_weight))

    def gradient(
        self, anchor: ArrayLike, positive: ArrayLike, negative: ArrayLike, *,
        sample_weight: ArrayLike | None = None, out: Triple | None = None,
    ) -> Triple:
        """(d/danchor, d/dpositive, d/dnegative); `out` is an optional triple of arrays."""
        small = self._small(modes.SMALL_GRADIENT, (anchor, positive, negative),
                            sample_weight, out)
        if small is not None:
            return small
        inputs = self._prepare(anchor, positive, negative, sample_weight)
        return self._gradient(inputs, out, (anchor, positive, negative))

    def value_and_gradient(
        self, anchor: ArrayLike, positive: ArrayLike, negative: ArrayLike, *,
        sample_weight: ArrayLike | None = None, out: Triple | None = None,
    ) -> tuple[ValueT, Triple]:
        """(value, (d/danchor, d/dpositive, d/dnegative)) from one pass over the data."""
        small = self._small(modes.SMALL_VALUE_AND_GRADIENT, (anchor, positive, negative),
                            sample_weight, out)
        if small is not None:
            return small
        inputs = self._prepare(anchor, positive, negative, sample_weight)
        return self._value_and_gradient(inputs, out, (anchor, positive, negative))

    def gradient_hessian(
        self, anchor: ArrayLike, positive: ArrayLike, negative: ArrayLike, *,
        sample_weight: ArrayLike | None = None,
    ) -> tuple[Triple, Triple]:
        """(gradients, hessian diagonals), each a triple like the inputs."""
        inputs = self._prepare(anchor, positive, negative, sample_weight)
        return self._gradient_hessian(inputs, (anchor, positive, negative))


class BatchTriplet(OnePassLoss[ValueT]):
    """Triplet loss with triplets mined inside the batch (Euclidean distances).

    ``loss(labels, embeddings)``: labels (n,) of any integer dtype, embeddings
    (n, dim). For anchor a, positives are the other items with a's label, negatives
    the items with another label; a triplet (a, p, n) has loss
    max(0, margin + d(a,p) - d(a,n)), d the Euclidean distance. Strategies:

    - "hard" (Hermans et al. 2017, "batch hard"): per anchor, its farthest positive and
      closest negative; l_a is that triplet's loss; the mean is over the anchors that
      have a positive and a negative.
    - "semihard" (Schroff et al. 2015, FaceNet; the rule of
      tfa.losses.TripletSemiHardLoss): for every anchor-positive pair, the closest
      negative farther from the anchor than the positive, or the farthest negative
      when there is none; l_a sums the anchor's pairs; the mean is over the
      anchor-positive pairs of anchors that have a negative.
    - "all": every triplet with a positive loss; l_a sums the anchor's; the mean is
      over those triplets (weighted by their anchor's weight).

    Ties in mining go to the lowest index. "mean" divides sum(w_a l_a) by the
    weighted count of triplets described above; a batch without any (one class
    only, singletons only, or no triplet with positive loss for "all") gives 0.0
    and a zero gradient. "sum" is sum(w_a l_a); "none" is w_a l_a per anchor, (n,).
    An empty batch follows the contract ("mean" raises ValueError, "sum" is 0.0). Any NaN
    or inf in the embeddings makes the value and the whole gradient NaN (mining is
    undefined).

    Distances come from the Gram matrix X X^T (BLAS, in the embeddings' dtype; "hard"
    reads only its lower triangle, computed in two row blocks: three quarters of the
    products), squared distances clamped at 0. "hard" and "semihard" choose triplets
    on those distances, then compute the chosen pairs' distances, losses and
    gradients from the embedding differences (exact even for near-duplicates). "all"
    uses the Gram distances, recomputing from the differences those whose squared
    distance is below
    ``16 sqrt(machine eps) (|x_a|^2 + |x_j|^2)``, where the Gram formula cancels; its
    gradient is assembled with one more matrix product. The gradient of a distance
    of length 0 is 0. Mining and the gradient scatter are compiled and run in
    parallel over anchors; results do not depend on the thread count. Memory is
    O(n^2) (the Gram matrix), never O(n^3). The Gram distances lose about the squared
    norm times the machine epsilon: float32 embeddings far from the origin (norms of
    100 and more) can mine other triplets than the exact distances would; centre
    them, normalize them, or pass float64.

    gradient_hessian returns the exact hessian diagonal for the mined triplets
    (mining is piecewise constant in the embeddings): sum over the triplet
    distances of +-(1 - (x_ik - x_jk)^2/d^2)/d.

    Examples
    --------
    >>> import fastloss as fl
    >>> loss = fl.BatchTriplet(margin=2.0, strategy="hard", reduction="none")
    >>> loss([0, 0, 1], [[0.0], [1.0], [3.0]])  # the last anchor has no positive
    array([0., 1., 0.])
    """

    _param_names = ("margin", "strategy")
    _items = "rows"
    STRATEGIES = ("hard", "semihard", "all")
    margin: float
    strategy: Strategy

    @overload
    def __init__(
        self: BatchTriplet[float], *, margin: float = 1.0, strategy: Strategy = "hard",
        reduction: Literal["mean", "sum"] = "mean",
    ) -> None: ...
    @overload
    def __init__(
        self: BatchTriplet[FloatArray], *, margin: float = 1.0, strategy: Strategy = "hard",
        reduction: Literal["none"],
    ) -> None: ...
    @overload
    def __init__(
        self: BatchTriplet[LossValue], *, margin: float = 1.0, strategy: Strategy = "hard",
        reduction: Reduction,
    ) -> None: ...
    def __init__(self, *, margin: float = 1.0, strategy: Strategy = "hard",
                 reduction: Reduction = "mean") -> None:
        self.margin = check_nonnegative("margin", margin)
        if strategy not in self.STRATEGIES:
            raise ValueError(f"strategy must be one of {self.STRATEGIES}; got {strategy!r}")
        self.strategy = strategy
        super().__init__(reduction=reduction)

    # -- inputs -----------------------------------------------------------------------

    def _prepare(self, labels, embeddings, sample_weight=None):
        X = as_real_array(embeddings, "embeddings")
        if X.ndim != 2:
            raise ValueError(f"embeddings must be 2-D (n, dim); got shape {X.shape}")
        n = X.shape[0]
        return _batch_labels(labels, n), X, row_weights(sample_weight, n)

    def _weight_total(self, inputs):
        """The rows and their weights: "mean" needs rows and a positive weight sum
        (its divisor is the weighted triplet count: see weight_total)."""
        _, X, w = inputs
        return blocked_weight_total(X.shape[0], w, modes.BLOCK), X.shape[0]

    # -- mining and the gradient --------------------------------------------------------

    def _compute(self, lab, X, w, scale, want_grad, want_hess):
        """(per-anchor loss sums, per-anchor triplet counts, gradient, hessian).

        `scale` is a function of the (weighted) triplet count returning the gradient
        scale; it is called once mining has counted the triplets.
        """
        n, dim = X.shape
        threads = _config.get_num_threads()
        if n == 0 or not np.isfinite(X).all():
            fill = 0.0 if n == 0 else np.nan
            full = np.full(n, fill)
            grad = np.full_like(X, fill) if want_grad else None
            hess = np.full_like(X, fill) if want_hess else None
            return full, np.ones(n), grad, hess
        sq = _kernels.sq_norms(X, threads)
        weights = np.ones(n) if w is None else w
        if self.strategy == "hard":
            pos, neg = _kernels.mine_hard(_lower_gram(X), sq, lab, threads)
        else:
            gram = X @ np.ascontiguousarray(X.T)
        if self.strategy == "all":
            tol = 16.0 * math.sqrt(np.finfo(X.dtype).eps)
            dist, coef, loss, count = _kernels.mine_all(
                gram, sq, X, lab, self.margin, tol, threads)
            if not want_grad:
                return loss, count, None, None
            grad, hess = _all_gradient(
                X, dist, coef, scale(_weighted_sum(weights, count)) * weights, want_hess)
            return loss, count, grad, hess
        if self.strategy == "hard":
            anchors = np.flatnonzero((pos >= 0) & (neg >= 0))
            count = np.zeros(n)
            count[anchors] = 1.0
            positives, negatives = pos[anchors], neg[anchors]
        else:
            _, inverse, class_sizes = np.unique(lab, return_inverse=True, return_counts=True)
            same_class = class_sizes[inverse.ravel()]
            pairs = np.where(same_class < n, same_class - 1, 0)
            offsets = np.zeros(n + 1, dtype=np.int64)
            np.cumsum(pairs, out=offsets[1:])
            positives, negatives = _kernels.mine_semihard(gram, sq, lab, offsets, threads)
            anchors = np.repeat(np.arange(n, dtype=np.int64), pairs)
            count = pairs.astype(np.float64)
        m = anchors.size
        dist = _kernels.pair_distances(
            X, np.concatenate([anchors, anchors]), np.concatenate([positives, negatives]),
            threads)
        d_ap, d_an = dist[:m], dist[m:]
        z = self.margin + d_ap - d_an
        triplet_loss = np.maximum(z, 0.0)
        loss = np.bincount(anchors, weights=triplet_loss, minlength=n)
        if not want_grad:
            return loss, count, None, None
        active = z > 0
        anchor_scale = scale(_weighted_sum(weights, count)) * weights[anchors[active]]
        src = np.concatenate([anchors[active], anchors[active]])
        dst = np.concatenate([positives[active], negatives[active]])
        coef = np.concatenate([anchor_scale, -anchor_scale])
        lengths = np.concatenate([d_ap[active], d_an[active]])
        grad, hess = _kernels.edges_apply(X, src, dst, coef, lengths, want_hess, threads)
        return loss, count, grad, hess

    def _triplet_scale(self, inputs):
        """Gradient scale from the weighted triplet count (0 when there is none)."""
        if self.reduction != "mean":
            return lambda count: 1.0
        self._mean_divisor(inputs)  # "mean" needs rows and a positive weight sum
        return lambda count: 1.0 / count if count > 0 else 0.0

    def _finish(self, loss, count, inputs):
        _, X, w = inputs
        weighted = loss if w is None else w * loss
        if self.reduction == "none":
            return weighted.astype(X.dtype)
        total = float(np.sum(weighted))
        if self.reduction == "sum":
            return total
        self._mean_divisor(inputs)
        triplets = float(np.sum(count if w is None else w * count))
        if math.isnan(total):
            return total
        return total / triplets if triplets > 0 else 0.0

    # -- public methods -----------------------------------------------------------------

    def __call__(
        self, labels: ArrayLike, embeddings: ArrayLike, *, sample_weight: ArrayLike | None = None
    ) -> ValueT:
        """The loss value: float for "mean"/"sum", an (n,) array for "none"."""
        lab, X, w = inputs = self._prepare(labels, embeddings, sample_weight)
        loss, count, _, _ = self._compute(lab, X, w, None, False, False)
        return self._finish(loss, count, inputs)

    def weight_total(
        self, labels: ArrayLike, embeddings: ArrayLike, *, sample_weight: ArrayLike | None = None
    ) -> float:
        """What "mean" divides by: the weighted count of mined triplets (see above)."""
        lab, X, w = self._prepare(labels, embeddings, sample_weight)
        _, count, _, _ = self._compute(lab, X, w, None, False, False)
        return _weighted_sum(np.ones(X.shape[0]) if w is None else w, count)

    def gradient(
        self, labels: ArrayLike, embeddings: ArrayLike, *,
        sample_weight: ArrayLike | None = None, out: FloatArray | None = None,
    ) -> FloatArray:
        """d(reduced loss)/d(embeddings), shaped and typed like embeddings."""
        return self.value_and_gradient(labels, embeddings, sample_weight=sample_weight,
                                       out=out)[1]

    def value_and_gradient(
        self, labels: ArrayLike, embeddings: ArrayLike, *,
        sample_weight: ArrayLike | None = None, out: FloatArray | None = None,
    ) -> tuple[ValueT, FloatArray]:
        """(value, gradient) from one Gram matrix and one mining pass."""
        lab, X, w = inputs = self._prepare(labels, embeddings, sample_weight)
        result = _Output(out, embeddings, X)
        scale = self._triplet_scale(inputs)
        loss, count, grad, _ = self._compute(lab, X, w, scale, True, False)
        result.buffer[...] = grad
        return self._finish(loss, count, inputs), result.result()

    def gradient_hessian(
        self, labels: ArrayLike, embeddings: ArrayLike, *, sample_weight: ArrayLike | None = None
    ) -> tuple[FloatArray, FloatArray]:
        """(gradient, hessian diagonal), both shaped like embeddings."""
        lab, X, w = inputs = self._prepare(labels, embeddings, sample_weight)
        scale = self._triplet_scale(inputs)
        _, _, grad, hess = self._compute(lab, X, w, scale, True, True)
        grad_out, hess_out = _Output(None, embeddings, X), _Output(None, embeddings, X)
        grad_out.buffer[...] = grad
        hess_out.buffer[...] = hess
        return grad_out.result(), hess_out.result()


class _SoftmaxContrast(OnePassLoss[ValueT]):
    """SupCon and InfoNCE: a softmax over each anchor's cosine similarities to the other
    embeddings of the batch (see _softmax_contrast).

    The inputs are (labels, X, w): the stacked anchors' labels (m,) and embeddings
    (m, dim), and the row weights (None or one per row of "none"). An anchor i belongs
    to row i % rows; InfoNCE's rows are its pairs (two anchors each), SupCon's its
    anchors.
    """

    _param_names = ("temperature",)
    _items = "rows"
    _views = 1
    exact_hessian = False
    temperature: float

    def __init__(self, *, temperature: float = 0.1, reduction: Reduction = "mean") -> None:
        self.temperature = check_number(
            "temperature", temperature, lambda v: v > 0.0 and math.isfinite(1.0 / v)
            and math.isfinite(v), "a finite number > 0 with a finite inverse")
        super().__init__(reduction=reduction)

    def _rows(self, inputs):
        return inputs[1].shape[0] // self._views

    def _anchor_weights(self, inputs):
        """Each anchor's share of its row's weight, float64 (m,)."""
        w = inputs[2]
        base = np.ones(self._rows(inputs)) if w is None else w
        return np.tile(base, self._views) / self._views

    def _weight_total(self, inputs):
        return blocked_weight_total(self._rows(inputs), inputs[2], modes.BLOCK), self._rows(inputs)

    def _counted(self, inputs):
        """What "mean" divides by: the weight of the anchors that have a positive."""
        has_positive = _positive_counts(inputs[0]) > 0
        return float(np.sum(self._anchor_weights(inputs)[has_positive]))

    def _scale(self, inputs):
        """The reduction's factor on every anchor's loss (0 for "mean" over a batch
        without a positive pair)."""
        if self.reduction != "mean":
            return 1.0
        self._mean_divisor(inputs)
        counted = self._counted(inputs)
        return 1.0 / counted if counted > 0 else 0.0

    def _compute(self, inputs, want_grad, scale=0.0):
        """(per-anchor losses (m,), gradient wrt the stacked embeddings or None)."""
        labels, X, _ = inputs
        coef = self._anchor_weights(inputs) * (scale / self.temperature)
        return _softmax_contrast(X, labels, coef, 1.0 / self.temperature, want_grad)

    def _finish(self, losses, inputs):
        rows = losses.reshape(self._views, -1).sum(axis=0) / self._views
        w = inputs[2]
        weighted = rows if w is None else w * rows
        if self.reduction == "none":
            return weighted.astype(inputs[1].dtype)
        total = float(np.sum(weighted))
        if self.reduction == "sum":
            return total
        self._mean_divisor(inputs)
        counted = self._counted(inputs)
        if math.isnan(total):
            return total
        return total / counted if counted > 0 else 0.0

    def _hessian(self, inputs, scale):
        """The surrogate: each anchor's weight times the reduction's factor."""
        per_anchor = self._anchor_weights(inputs) * scale
        return np.repeat(per_anchor[:, None], inputs[1].shape[1], axis=1).astype(inputs[1].dtype)

    def _value(self, inputs):
        return self._finish(self._compute(inputs, False)[0], inputs)

    def _value_and_gradient(self, inputs):
        losses, grad = self._compute(inputs, True, self._scale(inputs))
        return self._finish(losses, inputs), grad

    def _gradient_hessian(self, inputs):
        scale = self._scale(inputs)
        return self._compute(inputs, True, scale)[1], self._hessian(inputs, scale)


class SupCon(_SoftmaxContrast[ValueT]):
    """Supervised contrastive loss (Khosla et al. 2020, "SupCon", L_out).

    ``loss(labels, embeddings)``: labels (n,) of any integer dtype, embeddings (n, dim).
    With u_i = x_i / max(norm(x_i), 1e-12) (torch.nn.functional.normalize),
    s_ia = u_i . u_a / temperature and P(i) the other rows with i's label, anchor i's
    loss is

        l_i = log sum_{a != i} exp(s_ia) - (1 / size(P(i))) sum_{p in P(i)} s_ip,

    0 for an anchor without a positive. "mean" divides sum(w_i l_i) by the weight of the
    anchors that have a positive (0.0 when none has); "sum" is sum(w_i l_i); "none" is
    w_i l_i per anchor, (n,). An empty batch follows the contract. NaN or inf in the
    embeddings makes the value and the whole gradient NaN.

    The similarities come from BLAS products of row blocks (256 anchors against the
    batch, in the embeddings' dtype); each block's softmax and its gradient are
    compiled and run in parallel over anchors, and two more products carry the
    gradient back to the embeddings. Memory is O(256 n), not O(n^2). Results do not
    depend on the thread count. gradient_hessian returns a surrogate (the anchor's
    weight times the reduction's factor; ``exact_hessian`` is False).

    Examples
    --------
    >>> import fastloss as fl
    >>> round(fl.SupCon(temperature=1.0)([0, 0, 1], [[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]]), 6)
    0.313262
    """

    @overload
    def __init__(
        self: SupCon[float], *, temperature: float = 0.1,
        reduction: Literal["mean", "sum"] = "mean",
    ) -> None: ...
    @overload
    def __init__(
        self: SupCon[FloatArray], *, temperature: float = 0.1, reduction: Literal["none"],
    ) -> None: ...
    @overload
    def __init__(
        self: SupCon[LossValue], *, temperature: float = 0.1, reduction: Reduction,
    ) -> None: ...
    def __init__(self, *, temperature: float = 0.1, reduction: Reduction = "mean") -> None:
        super().__init__(temperature=temperature, reduction=reduction)

    def _prepare(self, labels, embeddings, sample_weight=None):
        X = as_real_array(embeddings, "embeddings")
        if X.ndim != 2:
            raise ValueError(f"embeddings must be 2-D (n, dim); got shape {X.shape}")
        n = X.shape[0]
        return _batch_labels(labels, n), np.ascontiguousarray(X), row_weights(sample_weight, n)

    def __call__(
        self, labels: ArrayLike, embeddings: ArrayLike, *, sample_weight: ArrayLike | None = None
    ) -> ValueT:
        """The loss value: float for "mean"/"sum", an (n,) array for "none"."""
        return self._value(self._prepare(labels, embeddings, sample_weight))

    def weight_total(
        self, labels: ArrayLike, embeddings: ArrayLike, *, sample_weight: ArrayLike | None = None
    ) -> float:
        """What "mean" divides by: the weight of the anchors that have a positive."""
        return self._counted(self._prepare(labels, embeddings, sample_weight))

    def gradient(
        self, labels: ArrayLike, embeddings: ArrayLike, *,
        sample_weight: ArrayLike | None = None, out: FloatArray | None = None,
    ) -> FloatArray:
        """d(reduced loss)/d(embeddings), shaped and typed like embeddings."""
        return self.value_and_gradient(labels, embeddings, sample_weight=sample_weight,
                                       out=out)[1]

    def value_and_gradient(
        self, labels: ArrayLike, embeddings: ArrayLike, *,
        sample_weight: ArrayLike | None = None, out: FloatArray | None = None,
    ) -> tuple[ValueT, FloatArray]:
        """(value, gradient) from one pass over the similarities."""
        inputs = self._prepare(labels, embeddings, sample_weight)
        result = _Output(out, embeddings, inputs[1])
        value, grad = self._value_and_gradient(inputs)
        result.buffer[...] = grad
        return value, result.result()

    def gradient_hessian(
        self, labels: ArrayLike, embeddings: ArrayLike, *, sample_weight: ArrayLike | None = None
    ) -> tuple[FloatArray, FloatArray]:
        """(gradient, hessian surrogate), both shaped like embeddings."""
        inputs = self._prepare(labels, embeddings, sample_weight)
        outputs = [_Output(None, embeddings, inputs[1]) for _ in range(2)]
        for output, array in zip(outputs, self._gradient_hessian(inputs), strict=True):
            output.buffer[...] = array
        grad, hess = (output.result() for output in outputs)
        return grad, hess


class InfoNCE(_SoftmaxContrast[ValueT]):
    """InfoNCE over two views, as NT-Xent (Chen et al. 2020, SimCLR; Oord et al. 2018).

    ``loss(z1, z2)``: z1 and z2 (n, dim), row i of each a view of the same example.
    The 2n embeddings form one batch; each is an anchor whose one positive is the
    other view of its example and whose negatives are the other 2n - 2 embeddings:
    with u = z / max(norm(z), 1e-12) and s_ab = u_a . u_b / temperature,

        l_a = log sum_{b != a} exp(s_ab) - s_a,pos(a).

    Row i's loss is the mean of its two anchors' (l_i + l_{n+i}) / 2, so "mean" (sum of
    w_i times it over sum(w_i)) is SimCLR's mean over the 2n anchors; "none" gives n
    values; gradient returns one array per view. This is SupCon on the stacked views
    with labels (0..n-1, 0..n-1): see :class:`SupCon` for the computation, its memory
    and its hessian surrogate.

    Examples
    --------
    >>> import fastloss as fl
    >>> round(fl.InfoNCE(temperature=1.0)([[1.0, 0.0], [0.0, 1.0]],
    ...                                    [[1.0, 0.0], [0.0, 1.0]]), 6)
    0.551445
    """

    _views = 2
    _input_names = ("z1", "z2")

    @overload
    def __init__(
        self: InfoNCE[float], *, temperature: float = 0.1,
        reduction: Literal["mean", "sum"] = "mean",
    ) -> None: ...
    @overload
    def __init__(
        self: InfoNCE[FloatArray], *, temperature: float = 0.1, reduction: Literal["none"],
    ) -> None: ...
    @overload
    def __init__(
        self: InfoNCE[LossValue], *, temperature: float = 0.1, reduction: Reduction,
    ) -> None: ...
    def __init__(self, *, temperature: float = 0.1, reduction: Reduction = "mean") -> None:
        super().__init__(temperature=temperature, reduction=reduction)

    def _prepare(self, z1, z2, sample_weight=None):
        views = _embeddings((z1, z2), self._input_names)
        n = views[0].shape[0]
        labels = np.tile(np.arange(n, dtype=np.int64), 2)
        return labels, np.concatenate(views), row_weights(sample_weight, n)

    def _split(self, stacked, originals, inputs, out):
        n = self._rows(inputs)
        views = (inputs[1][:n], inputs[1][n:])
        outputs = _embedding_outputs(out, originals, views, self._input_names)
        for output, part in zip(outputs, (stacked[:n], stacked[n:]), strict=True):
            output.buffer[...] = part
        first, second = (output.result() for output in outputs)
        return first, second

    def __call__(
        self, z1: ArrayLike, z2: ArrayLike, *, sample_weight: ArrayLike | None = None
    ) -> ValueT:
        """The loss value: float for "mean"/"sum", an (n,) array for "none"."""
        return self._value(self._prepare(z1, z2, sample_weight))

    def gradient(
        self, z1: ArrayLike, z2: ArrayLike, *, sample_weight: ArrayLike | None = None,
        out: Pair | None = None,
    ) -> Pair:
        """(d/dz1, d/dz2) of the reduced loss, each shaped and typed like its view."""
        return self.value_and_gradient(z1, z2, sample_weight=sample_weight, out=out)[1]

    def value_and_gradient(
        self, z1: ArrayLike, z2: ArrayLike, *, sample_weight: ArrayLike | None = None,
        out: Pair | None = None,
    ) -> tuple[ValueT, Pair]:
        """(value, (d/dz1, d/dz2)) from one pass over the similarities."""
        inputs = self._prepare(z1, z2, sample_weight)
        value, grad = self._value_and_gradient(inputs)
        return value, self._split(grad, (z1, z2), inputs, out)

    def gradient_hessian(
        self, z1: ArrayLike, z2: ArrayLike, *, sample_weight: ArrayLike | None = None
    ) -> tuple[Pair, Pair]:
        """((d/dz1, d/dz2), (hessian surrogates)), each shaped like its view."""
        inputs = self._prepare(z1, z2, sample_weight)
        grad, hess = self._gradient_hessian(inputs)
        return (self._split(grad, (z1, z2), inputs, None),
                self._split(hess, (z1, z2), inputs, None))


class _MarginSoftmax(OnePassLoss[ValueT]):
    """ArcFace and CosFace: cross-entropy over scaled cosines to the class centres,
    with a margin on the true class (see margin_rows)."""

    _param_names = ("scale", "margin")
    _items = "rows"
    _arc = False
    exact_hessian = False
    scale: float
    margin: float

    def __init__(self, *, scale: float, margin: float, reduction: Reduction) -> None:
        self.scale = check_positive("scale", scale)
        self.margin = check_number(
            "margin", margin,
            (lambda v: 0.0 <= v < math.pi) if self._arc else
            (lambda v: math.isfinite(v) and v >= 0.0),
            "a number in [0, pi)" if self._arc else "a finite number >= 0")
        super().__init__(reduction=reduction)

    def _prepare(self, labels, embeddings, weight, sample_weight=None):
        X = as_real_array(embeddings, "embeddings")
        V = as_real_array(weight, "weight")
        if X.dtype != V.dtype:
            X, V = (as_real_array(a, name, np.dtype(np.float64))
                    for a, name in ((X, "embeddings"), (V, "weight")))
        if X.ndim != 2 or V.ndim != 2 or X.shape[1] != V.shape[1]:
            raise ValueError(
                "embeddings must be (n, dim) and weight (n_classes, dim), with the same dim; "
                f"got shapes {X.shape} and {V.shape}")
        n, n_classes = X.shape[0], V.shape[0]
        lab = _batch_labels(labels, n)
        if n and (lab.min() < 0 or lab.max() >= n_classes):
            bad = lab[(lab < 0) | (lab >= n_classes)][0]
            raise ValueError(
                f"labels must be class indices in [0, {n_classes}) (the rows of weight); "
                f"got {bad}")
        return lab, np.ascontiguousarray(X), np.ascontiguousarray(V), row_weights(
            sample_weight, n)

    def _weight_total(self, inputs):
        n = inputs[1].shape[0]
        return blocked_weight_total(n, inputs[3], modes.BLOCK), n

    def _compute(self, inputs, want_grad, scale=0.0):
        """(per-sample losses, d/d embeddings, d/d weight) of sum_i coef_i l_i."""
        labels, X, V, w = inputs
        n = X.shape[0]
        if n == 0 or not (np.isfinite(X).all() and np.isfinite(V).all()):
            fill = 0.0 if n == 0 else np.nan
            grads = (np.full_like(X, fill), np.full_like(V, fill)) if want_grad else (None,) * 2
            return (np.full(n, fill), *grads)
        coef = np.full(n, scale) if w is None else scale * w
        threads = _config.get_num_threads()

        def run_block(S, start, values):
            _kernels.margin_rows(S, start, labels, self._arc, self.scale, self.margin, coef,
                                 want_grad, values, threads)

        return _cosine_softmax(X, V, run_block, want_grad)

    def _finish(self, losses, inputs):
        X, w = inputs[1], inputs[3]
        weighted = losses if w is None else w * losses
        if self.reduction == "none":
            return weighted.astype(X.dtype)
        total = float(np.sum(weighted))
        if self.reduction == "sum":
            return total
        return total / self._mean_divisor(inputs)

    def _outputs_for(self, grads, originals, inputs, out):
        names = ("embeddings", "weight")
        outputs = _embedding_outputs(out, originals, inputs[1:3], names)
        for output, grad in zip(outputs, grads, strict=True):
            output.buffer[...] = grad
        first, second = (output.result() for output in outputs)
        return first, second

    # -- public methods -----------------------------------------------------------------

    def __call__(
        self, labels: ArrayLike, embeddings: ArrayLike, weight: ArrayLike, *,
        sample_weight: ArrayLike | None = None,
    ) -> ValueT:
        """The loss value: float for "mean"/"sum", an (n,) array for "none"."""
        inputs = self._prepare(labels, embeddings, weight, sample_weight)
        return self._finish(self._compute(inputs, False)[0], inputs)

    def gradient(
        self, labels: ArrayLike, embeddings: ArrayLike, weight: ArrayLike, *,
        sample_weight: ArrayLike | None = None, out: Pair | None = None,
    ) -> Pair:
        """(d/d embeddings, d/d weight) of the reduced loss, shaped like each."""
        return self.value_and_gradient(labels, embeddings, weight,
                                       sample_weight=sample_weight, out=out)[1]

    def value_and_gradient(
        self, labels: ArrayLike, embeddings: ArrayLike, weight: ArrayLike, *,
        sample_weight: ArrayLike | None = None, out: Pair | None = None,
    ) -> tuple[ValueT, Pair]:
        """(value, (d/d embeddings, d/d weight)) from one pass over the cosines."""
        inputs = self._prepare(labels, embeddings, weight, sample_weight)
        losses, g_x, g_v = self._compute(inputs, True, self._gradient_scale(inputs))
        return (self._finish(losses, inputs),
                self._outputs_for((g_x, g_v), (embeddings, weight), inputs, out))

    def gradient_hessian(
        self, labels: ArrayLike, embeddings: ArrayLike, weight: ArrayLike, *,
        sample_weight: ArrayLike | None = None,
    ) -> tuple[Pair, Pair]:
        """((gradients), (hessian surrogates)): each sample's weight times the
        reduction's factor on its embedding, their sum on every weight entry."""
        inputs = self._prepare(labels, embeddings, weight, sample_weight)
        factor = self._gradient_scale(inputs)
        _, g_x, g_v = self._compute(inputs, True, factor)
        X, V, w = inputs[1], inputs[2], inputs[3]
        per_row = np.full(X.shape[0], factor) if w is None else factor * w
        h_x = np.repeat(per_row[:, None], X.shape[1], axis=1).astype(X.dtype)
        h_v = np.full(V.shape, per_row.sum(), dtype=V.dtype)
        originals = (embeddings, weight)
        return (self._outputs_for((g_x, g_v), originals, inputs, None),
                self._outputs_for((h_x, h_v), originals, inputs, None))


class ArcFace(_MarginSoftmax[ValueT]):
    """Additive angular margin loss (Deng et al. 2019, ArcFace), as insightface's
    ArcMarginProduct (easy_margin=False).

    ``loss(labels, embeddings, weight)``: labels (n,) class indices, embeddings (n, dim),
    weight (n_classes, dim) the class centres (a linear layer's weight, as torch
    stores it). With cos_ij the cosine of embedding i and centre j (both normalized by
    max(norm, 1e-12)) and theta its angle, the logits are scale * cos_ij, except the
    true class's scale * cos(theta + margin); where theta + margin would pass pi
    (cos <= cos(pi - margin)) it is scale * (cos - margin sin(margin)), which keeps the
    logit decreasing in theta. The loss is the cross-entropy of the logits at the
    label; "mean" is sum(w_i l_i) / sum(w_i).

    Gradients come back for the embeddings and the weight (gradient returns both). The
    derivative of cos(theta + m) in cos is infinite at theta = 0 exactly, where the
    angle has no derivative; its term is taken as 0 there. Computed in row blocks
    (BLAS for the cosines and the two gradient products, the softmax compiled, as
    :class:`SupCon`); memory O(block x n_classes). gradient_hessian returns a surrogate
    (``exact_hessian`` is False): each sample's weight times the reduction's factor
    on its embedding, their sum on the weight.

    Examples
    --------
    >>> import fastloss as fl
    >>> round(fl.ArcFace(scale=1.0, margin=0.5)([0], [[1.0, 0.0]], [[1.0, 0.0], [0.0, 1.0]]), 6)
    0.347685
    """

    _arc = True

    @overload
    def __init__(
        self: ArcFace[float], *, scale: float = 64.0, margin: float = 0.5,
        reduction: Literal["mean", "sum"] = "mean",
    ) -> None: ...
    @overload
    def __init__(
        self: ArcFace[FloatArray], *, scale: float = 64.0, margin: float = 0.5,
        reduction: Literal["none"],
    ) -> None: ...
    @overload
    def __init__(
        self: ArcFace[LossValue], *, scale: float = 64.0, margin: float = 0.5,
        reduction: Reduction,
    ) -> None: ...
    def __init__(self, *, scale: float = 64.0, margin: float = 0.5,
                 reduction: Reduction = "mean") -> None:
        super().__init__(scale=scale, margin=margin, reduction=reduction)


class CosFace(_MarginSoftmax[ValueT]):
    """Large margin cosine loss (Wang et al. 2018, CosFace; AM-Softmax).

    ``loss(labels, embeddings, weight)`` as :class:`ArcFace`; the true class's logit is
    scale * (cos - margin), the others scale * cos. Gradients for the embeddings and
    the weight; the same computation and hessian surrogate as :class:`ArcFace`.

    Examples
    --------
    >>> import fastloss as fl
    >>> round(fl.CosFace(scale=1.0, margin=0.35)([0], [[1.0, 0.0]], [[1.0, 0.0], [0.0, 1.0]]), 6)
    0.420055
    """

    @overload
    def __init__(
        self: CosFace[float], *, scale: float = 64.0, margin: float = 0.35,
        reduction: Literal["mean", "sum"] = "mean",
    ) -> None: ...
    @overload
    def __init__(
        self: CosFace[FloatArray], *, scale: float = 64.0, margin: float = 0.35,
        reduction: Literal["none"],
    ) -> None: ...
    @overload
    def __init__(
        self: CosFace[LossValue], *, scale: float = 64.0, margin: float = 0.35,
        reduction: Reduction,
    ) -> None: ...
    def __init__(self, *, scale: float = 64.0, margin: float = 0.35,
                 reduction: Reduction = "mean") -> None:
        super().__init__(scale=scale, margin=margin, reduction=reduction)


def _batch_labels(labels, n):
    """Integer labels, one per row of the embeddings, as C-contiguous int64."""
    return as_int64_array(labels, "labels", (n,))


def _positive_counts(labels):
    """How many other rows share each row's label."""
    _, start, end = _label_groups(labels)
    return end - start - 1


def _label_groups(labels):
    """(members, start, end): members[start[i]:end[i]] are the rows with row i's label
    (i included), in index order."""
    members = np.argsort(labels, kind="stable").astype(np.int64)
    _, first, inverse, sizes = np.unique(labels[members], return_index=True,
                                         return_inverse=True, return_counts=True)
    start, end = np.empty_like(members), np.empty_like(members)  # int64: the kernel's
    start[members] = first[inverse.ravel()]
    end[members] = start[members] + sizes[inverse.ravel()]
    return members, start, end


#: Rows per block of cosines: at most _COSINE_BLOCK_ELEMENTS cosines (4 MB of float32),
#: 16 to 256 rows. The block stays in the cache between its BLAS product, the softmax
#: pass and the two gradient products. 4096 x 128 float32 (InfoNCE, value and
#: gradient): 128, 256, 512 and 1024 rows took 128, 122, 120 and 120 ms.
_COSINE_BLOCK_ELEMENTS = 1 << 20
_COSINE_BLOCK_ROWS = (16, 256)


def _unit_rows(X, threads):
    """(X's rows over max(|x|, 1e-12), the row lengths |x| in float64), as
    torch.nn.functional.normalize."""
    lengths = np.sqrt(_kernels.sq_norms(X, threads))
    return X / np.maximum(lengths, 1e-12).astype(X.dtype)[:, None], lengths


def _through_unit_rows(grad_u, U, lengths):
    """d/dX from d/dU, U = X / max(|x|, 1e-12): (g - (g . u) u) / |x|, or g / 1e-12
    where |x| <= 1e-12 (the division by the constant)."""
    radial = np.where(lengths > 1e-12, np.einsum("ij,ij->i", grad_u, U), 0.0)
    norms = np.maximum(lengths, 1e-12).astype(U.dtype)
    return (grad_u - radial.astype(U.dtype)[:, None] * U) / norms[:, None]


def _cosine_softmax(X, V, run_block, want_grad):
    """Per-row losses (float64) and, with want_grad, the gradients wrt X and V of a
    loss computed from the cosines S = U W^T (U, W: the rows of X and V normalized;
    V None: W = U, its gradient folded into X's).

    S is formed in row blocks by BLAS products in X's dtype; run_block(S, start, values)
    writes the block's losses and, with want_grad, turns S in place into
    G_ij = coef_i dl_i/dS_ij. Then dL/dU = G W and dL/dW = G^T U, the second summed
    block by block in block order, so the results do not depend on the thread count.
    Memory: one block (at most _COSINE_BLOCK_ELEMENTS cosines), not n x m.
    """
    threads = _config.get_num_threads()
    n = X.shape[0]
    U, u_lengths = _unit_rows(X, threads)
    W, w_lengths = (U, u_lengths) if V is None else _unit_rows(V, threads)
    Wt = np.ascontiguousarray(W.T)
    losses = np.empty(n)
    low, high = _COSINE_BLOCK_ROWS
    rows = max(1, min(n, max(low, min(high, _COSINE_BLOCK_ELEMENTS // max(1, len(W))))))
    block = modes.empty_like(np.broadcast_to(np.zeros((), X.dtype), (rows, len(W))))
    if want_grad:
        grad_u, grad_w, part = np.empty_like(U), np.zeros_like(W), np.empty_like(W)
    for start in range(0, n, rows):
        stop = min(n, start + rows)
        S = block[:stop - start]
        np.matmul(U[start:stop], Wt, out=S)
        run_block(S, start, losses[start:stop])
        if want_grad:
            np.matmul(S, W, out=grad_u[start:stop])
            np.matmul(S.T, U[start:stop], out=part)
            grad_w += part
    if not want_grad:
        return losses, None, None
    if V is None:
        grad_u += grad_w
        return losses, _through_unit_rows(grad_u, U, u_lengths), None
    return (losses, _through_unit_rows(grad_u, U, u_lengths),
            _through_unit_rows(grad_w, W, w_lengths))


def _softmax_contrast(X, labels, coef, inv_temp, want_grad):
    """Per-anchor losses (float64) and, with want_grad, sum_i coef_i dl_i/dX (X's dtype)
    of SupCon on the rows of X (see contrast_rows and _cosine_softmax; coef carries the
    inv_temp of dt/dS)."""
    if X.shape[0] == 0 or not np.isfinite(X).all():
        fill = 0.0 if X.shape[0] == 0 else np.nan
        return np.full(X.shape[0], fill), (np.full_like(X, fill) if want_grad else None)
    members, group_start, group_end = _label_groups(labels)
    threads = _config.get_num_threads()

    def run_block(S, start, values):
        _kernels.contrast_rows(S, start, members, group_start, group_end, inv_temp, coef,
                               want_grad, values, threads)

    losses, grad, _ = _cosine_softmax(X, None, run_block, want_grad)
    return losses, grad

#: The lower Gram triangle (see _lower_gram) takes at most this many BLAS products, of
#: at least _GRAM_MIN_ROWS rows each. 2048 x 128 float32, one thread: 12.3 ms in one
#: product of the full matrix, 9.8 / 8.4 / 7.7 ms in 2 / 4 / 8 products of row blocks.
#: But each product wakes the BLAS threads, and on a loaded machine that costs a
#: scheduler slice: value_and_gradient with 2 threads, the other core busy, took 51, 55
#: and 201 ms with 1, 2 and 8 products. So two.
_GRAM_BLOCKS = 2
_GRAM_MIN_ROWS = 512


def _lower_gram(X):
    """X X^T in X's dtype, at least on and below the diagonal (the rest is left
    unwritten): one BLAS product per block of rows, against the columns up to the
    block's end (with two blocks, three quarters of the full matrix). NumPy's BLAS,
    as the caller's own products use: a second BLAS library's threads would compete
    with NumPy's, which spin for a while after each product. The memory is recycled
    (fastloss._kernels.common.empty_like): a fresh 16 MB array costs a page fault per page."""
    n = X.shape[0]
    lower = modes.empty_like(np.broadcast_to(np.zeros((), X.dtype), (n, n)))
    xt = np.ascontiguousarray(X.T)
    rows = max(_GRAM_MIN_ROWS, -(-n // _GRAM_BLOCKS))
    for start in range(0, n, rows):
        stop = min(n, start + rows)
        np.matmul(X[start:stop], xt[:, :stop], out=lower[start:stop, :stop])
    return lower


def _weighted_sum(weights, values):
    return float(np.sum(weights * values))


def _all_gradient(X, dist, coef, anchor_scale, want_hess):
    """Gradient (and hessian diagonal) of the "all" strategy from its coefficients.

    The loss is sum_aj scale_a c_aj d(a, j) plus constants, c_aj the signed number of
    active triplets using the distance d(a, j); coef[a, j] = c_aj / d(a, j). With
    W = diag(scale) coef and S = W + W^T, the gradient is row_sum(S)_i x_i - (S X)_i,
    and the hessian diagonal row_sum(S)_i - sum_j T_ij (x_ik - x_jk)^2, T = S / d^2.
    """
    coef *= anchor_scale.astype(X.dtype)[:, None]
    sym = coef + coef.T
    row_sum = sym.sum(axis=1)
    grad = row_sum[:, None] * X - sym @ X
    if not want_hess:
        return grad, None
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(dist > 0, sym / (dist * dist), 0.0).astype(X.dtype)
    t_sum = t.sum(axis=1)
    hess = (row_sum[:, None] - X * X * t_sum[:, None] + 2.0 * X * (t @ X)
            - t @ (X * X))
    return grad, hess


# ---- function shortcuts: the value in one call, hyper-parameters as keywords --------

@overload
def contrastive(
    same: ArrayLike, x1: ArrayLike, x2: ArrayLike, *, margin: float = 1.0,
    reduction: Literal["mean", "sum"] = "mean", sample_weight: ArrayLike | None = None,
) -> float: ...
@overload
def contrastive(
    same: ArrayLike, x1: ArrayLike, x2: ArrayLike, *, margin: float = 1.0,
    reduction: Literal["none"], sample_weight: ArrayLike | None = None,
) -> FloatArray: ...
@overload
def contrastive(
    same: ArrayLike, x1: ArrayLike, x2: ArrayLike, *, margin: float = 1.0, reduction: Reduction,
    sample_weight: ArrayLike | None = None,
) -> LossValue: ...
def contrastive(
    same: ArrayLike, x1: ArrayLike, x2: ArrayLike, *, margin: float = 1.0,
    reduction: Reduction = "mean", sample_weight: ArrayLike | None = None,
) -> LossValue:
    """The value of :class:`Contrastive` in one call."""
    return shortcut_call(Contrastive, (margin, reduction), sample_weight, same, x1, x2)


@overload
def triplet(
    anchor: ArrayLike, positive: ArrayLike, negative: ArrayLike, *, margin: float = 1.0,
    p: float = 2.0, swap: bool = False, eps: float = 1e-06,
    reduction: Literal["mean", "sum"] = "mean", sample_weight: ArrayLike | None = None,
) -> float: ...
@overload
def triplet(
    anchor: ArrayLike, positive: ArrayLike, negative: ArrayLike, *, margin: float = 1.0,
    p: float = 2.0, swap: bool = False, eps: float = 1e-06, reduction: Literal["none"],
    sample_weight: ArrayLike | None = None,
) -> FloatArray: ...
@overload
def triplet(
    anchor: ArrayLike, positive: ArrayLike, negative: ArrayLike, *, margin: float = 1.0,
    p: float = 2.0, swap: bool = False, eps: float = 1e-06, reduction: Reduction,
    sample_weight: ArrayLike | None = None,
) -> LossValue: ...
def triplet(
    anchor: ArrayLike, positive: ArrayLike, negative: ArrayLike, *, margin: float = 1.0,
    p: float = 2.0, swap: bool = False, eps: float = 1e-6, reduction: Reduction = "mean",
    sample_weight: ArrayLike | None = None,
) -> LossValue:
    """The value of :class:`Triplet` in one call."""
    return shortcut_call(Triplet, (margin, p, swap, eps, reduction),
                         sample_weight, anchor, positive, negative)


@overload
def batch_triplet(
    labels: ArrayLike, embeddings: ArrayLike, *, margin: float = 1.0, strategy: Strategy = "hard",
    reduction: Literal["mean", "sum"] = "mean", sample_weight: ArrayLike | None = None,
) -> float: ...
@overload
def batch_triplet(
    labels: ArrayLike, embeddings: ArrayLike, *, margin: float = 1.0, strategy: Strategy = "hard",
    reduction: Literal["none"], sample_weight: ArrayLike | None = None,
) -> FloatArray: ...
@overload
def batch_triplet(
    labels: ArrayLike, embeddings: ArrayLike, *, margin: float = 1.0, strategy: Strategy = "hard",
    reduction: Reduction, sample_weight: ArrayLike | None = None,
) -> LossValue: ...
def batch_triplet(
    labels: ArrayLike, embeddings: ArrayLike, *, margin: float = 1.0,
    strategy: Strategy = "hard", reduction: Reduction = "mean",
    sample_weight: ArrayLike | None = None,
) -> LossValue:
    """The value of :class:`BatchTriplet` in one call."""
    return shortcut_call(BatchTriplet, (margin, strategy, reduction),
                         sample_weight, labels, embeddings)


@overload
def cosine_embedding(
    target: ArrayLike, x1: ArrayLike, x2: ArrayLike, *, margin: float = 0.0,
    reduction: Literal["mean", "sum"] = "mean", sample_weight: ArrayLike | None = None,
) -> float: ...
@overload
def cosine_embedding(
    target: ArrayLike, x1: ArrayLike, x2: ArrayLike, *, margin: float = 0.0,
    reduction: Literal["none"], sample_weight: ArrayLike | None = None,
) -> FloatArray: ...
@overload
def cosine_embedding(
    target: ArrayLike, x1: ArrayLike, x2: ArrayLike, *, margin: float = 0.0,
    reduction: Reduction, sample_weight: ArrayLike | None = None,
) -> LossValue: ...
def cosine_embedding(
    target: ArrayLike, x1: ArrayLike, x2: ArrayLike, *, margin: float = 0.0,
    reduction: Reduction = "mean", sample_weight: ArrayLike | None = None,
) -> LossValue:
    """The value of :class:`CosineEmbedding` in one call."""
    return shortcut_call(CosineEmbedding, (margin, reduction), sample_weight, target, x1, x2)


@overload
def cosine_similarity(
    y_true: ArrayLike, y_pred: ArrayLike, *, reduction: Literal["mean", "sum"] = "mean",
    sample_weight: ArrayLike | None = None,
) -> float: ...
@overload
def cosine_similarity(
    y_true: ArrayLike, y_pred: ArrayLike, *, reduction: Literal["none"],
    sample_weight: ArrayLike | None = None,
) -> FloatArray: ...
@overload
def cosine_similarity(
    y_true: ArrayLike, y_pred: ArrayLike, *, reduction: Reduction,
    sample_weight: ArrayLike | None = None,
) -> LossValue: ...
def cosine_similarity(
    y_true: ArrayLike, y_pred: ArrayLike, *, reduction: Reduction = "mean",
    sample_weight: ArrayLike | None = None,
) -> LossValue:
    """The value of :class:`CosineSimilarity` in one call."""
    return shortcut_call(CosineSimilarity, (reduction,), sample_weight, y_true, y_pred)


@overload
def supcon(
    labels: ArrayLike, embeddings: ArrayLike, *, temperature: float = 0.1,
    reduction: Literal["mean", "sum"] = "mean", sample_weight: ArrayLike | None = None,
) -> float: ...
@overload
def supcon(
    labels: ArrayLike, embeddings: ArrayLike, *, temperature: float = 0.1,
    reduction: Literal["none"], sample_weight: ArrayLike | None = None,
) -> FloatArray: ...
@overload
def supcon(
    labels: ArrayLike, embeddings: ArrayLike, *, temperature: float = 0.1,
    reduction: Reduction, sample_weight: ArrayLike | None = None,
) -> LossValue: ...
def supcon(
    labels: ArrayLike, embeddings: ArrayLike, *, temperature: float = 0.1,
    reduction: Reduction = "mean", sample_weight: ArrayLike | None = None,
) -> LossValue:
    """The value of :class:`SupCon` in one call."""
    return shortcut_call(SupCon, (temperature, reduction), sample_weight, labels, embeddings)


@overload
def info_nce(
    z1: ArrayLike, z2: ArrayLike, *, temperature: float = 0.1,
    reduction: Literal["mean", "sum"] = "mean", sample_weight: ArrayLike | None = None,
) -> float: ...
@overload
def info_nce(
    z1: ArrayLike, z2: ArrayLike, *, temperature: float = 0.1,
    reduction: Literal["none"], sample_weight: ArrayLike | None = None,
) -> FloatArray: ...
@overload
def info_nce(
    z1: ArrayLike, z2: ArrayLike, *, temperature: float = 0.1,
    reduction: Reduction, sample_weight: ArrayLike | None = None,
) -> LossValue: ...
def info_nce(
    z1: ArrayLike, z2: ArrayLike, *, temperature: float = 0.1,
    reduction: Reduction = "mean", sample_weight: ArrayLike | None = None,
) -> LossValue:
    """The value of :class:`InfoNCE` in one call."""
    return shortcut_call(InfoNCE, (temperature, reduction), sample_weight, z1, z2)


@overload
def arcface(
    labels: ArrayLike, embeddings: ArrayLike, weight: ArrayLike, *, scale: float = 64.0,
    margin: float = 0.5, reduction: Literal["mean", "sum"] = "mean",
    sample_weight: ArrayLike | None = None,
) -> float: ...
@overload
def arcface(
    labels: ArrayLike, embeddings: ArrayLike, weight: ArrayLike, *, scale: float = 64.0,
    margin: float = 0.5, reduction: Literal["none"], sample_weight: ArrayLike | None = None,
) -> FloatArray: ...
@overload
def arcface(
    labels: ArrayLike, embeddings: ArrayLike, weight: ArrayLike, *, scale: float = 64.0,
    margin: float = 0.5, reduction: Reduction, sample_weight: ArrayLike | None = None,
) -> LossValue: ...
def arcface(
    labels: ArrayLike, embeddings: ArrayLike, weight: ArrayLike, *, scale: float = 64.0,
    margin: float = 0.5, reduction: Reduction = "mean", sample_weight: ArrayLike | None = None,
) -> LossValue:
    """The value of :class:`ArcFace` in one call."""
    return shortcut_call(ArcFace, (scale, margin, reduction),
                         sample_weight, labels, embeddings, weight)


@overload
def cosface(
    labels: ArrayLike, embeddings: ArrayLike, weight: ArrayLike, *, scale: float = 64.0,
    margin: float = 0.35, reduction: Literal["mean", "sum"] = "mean",
    sample_weight: ArrayLike | None = None,
) -> float: ...
@overload
def cosface(
    labels: ArrayLike, embeddings: ArrayLike, weight: ArrayLike, *, scale: float = 64.0,
    margin: float = 0.35, reduction: Literal["none"], sample_weight: ArrayLike | None = None,
) -> FloatArray: ...
@overload
def cosface(
    labels: ArrayLike, embeddings: ArrayLike, weight: ArrayLike, *, scale: float = 64.0,
    margin: float = 0.35, reduction: Reduction, sample_weight: ArrayLike | None = None,
) -> LossValue: ...
def cosface(
    labels: ArrayLike, embeddings: ArrayLike, weight: ArrayLike, *, scale: float = 64.0,
    margin: float = 0.35, reduction: Reduction = "mean", sample_weight: ArrayLike | None = None,
) -> LossValue:
    """The value of :class:`CosFace` in one call."""
    return shortcut_call(CosFace, (scale, margin, reduction),
                         sample_weight, labels, embeddings, weight)
