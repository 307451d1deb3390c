"""Learning-to-rank losses, row-wise over lists.

Every method takes ``(relevance, scores, *, where=None, sample_weight=None)``:
`scores` and `relevance` of shape (n_lists, list_size); `where`, an optional boolean
array of that shape, marks the real items (False for padding). A masked item is
exactly an item sliced out of its list: it forms no pair, takes no part in
softmaxes or orderings, its relevance and score are never read, and its gradient
and hessian are 0. `sample_weight` has one weight per list; "mean" averages the
per-list losses over all lists, sum(w_i l_i) / sum(w_i) (contract section 2), "none"
returns w_i l_i per list, (n_lists,). Gradients are with respect to `scores`.

Ties and degenerate lists follow rax (google/rax): pairwise losses use only pairs of
different relevance, so a list whose relevance is all equal (or that has fewer than
two valid items) has loss 0 and gradient 0; ListMLE orders equal relevance by index
(rax's sort without a random key), ListwiseSoftmax gives 0 for a list without
positive relevance. Lists run in parallel, in blocks of a fixed number of lists,
so the results are bitwise identical for any thread count. Relevance must be
finite where valid (>= 0 for ListwiseSoftmax, in [0, 1000] for LambdaRank); NaN or inf scores
propagate into their list's value and gradient.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Literal, overload

import numpy as np
from numpy.typing import ArrayLike

from fastloss._core import config as _config
from fastloss._core.base import (
    FloatArray,
    LossValue,
    OnePassLoss,
    Reduction,
    ValueT,
    blocked_weight_total,
    row_weights,
)
from fastloss._core.validation import (
    MAX_GAIN_RELEVANCE,
    _to_ndarray,
    as_real_array,
    bad_value_error,
    check_nonnegative,
    check_same_shape,
)
from fastloss._kernels import common as modes
from fastloss._kernels import dispatch as _dispatch
from fastloss._kernels.common import shortcut_call

__all__ = [
    "PairwiseHinge", "PairwiseLogistic", "ListwiseSoftmax", "ListMLE", "LambdaRank",
    "pairwise_hinge", "pairwise_logistic", "listwise_softmax", "list_mle", "lambda_rank",
]

_kernels = _dispatch.load("ranking")


class _RankingLoss(OnePassLoss[ValueT]):
    """The methods of every ranking loss; subclasses set the kernel kind."""

    _kernels = _kernels
    _kind = None
    _items = "rows"
    _keyword_inputs = ("where",)
    #: The bounds of the finite relevance allowed (None: unbounded): >= 0 for gains and
    #: label distributions.
    _relevance_range: tuple[float | None, float | None] = (None, None)

    def __init__(self, *, reduction: Reduction = "mean") -> None:
        super().__init__(reduction=reduction)
        margin, k = self._kernel_params()
        if self._runs_as(_RankingLoss):
            self._small_call = self._kernels.call_small
            low, high = self._relevance_range
            self._small_spec = (self._kind, margin, k, -sys.float_info.max if low is None
                                else low, sys.float_info.max if high is None else high)

    def _kernel_params(self):
        """(margin, k) for the kernel; k = 0 means no cutoff."""
        return 0.0, 0

    def _prepare(self, relevance, scores, where=None, sample_weight=None):
        s = as_real_array(scores, "scores")
        if s.ndim != 2:
            raise ValueError(f"scores must be 2-D (n_lists, list_size); got shape {s.shape}")
        r = as_real_array(relevance, "relevance", s.dtype)
        check_same_shape(r, s, "relevance", "scores")
        mask = None
        if where is not None:
            mask = _to_ndarray(where, "where")
            if mask.dtype != np.bool_:
                raise TypeError(f"where must be a boolean array; got dtype {mask.dtype}")
            check_same_shape(mask, s, "where", "scores")
            mask = np.ascontiguousarray(mask)
        self._check_relevance(r, mask)
        return r, s, mask, row_weights(sample_weight, s.shape[0])

    def _check_relevance(self, r, mask):
        low, high = self._relevance_range
        ok = np.isfinite(r)
        if low is not None:
            ok &= r >= low
        if high is not None:
            ok &= r <= high
        if mask is not None:
            ok |= ~mask
        if not ok.all():
            requirement = ("finite" if low is None else "finite and >= 0" if high is None
                           else f"in [{low:g}, {high:g}] (its gain 2^relevance - 1 must stay "
                                "finite)")
            raise bad_value_error("relevance", r, int(np.argmin(ok.ravel())), requirement)

    def _run(self, mode, inputs, out_a=None, out_b=None, scale=1.0, partials=None):
        r, s, mask, w = inputs
        margin, k = self._kernel_params()
        return _kernels.run(self._kind, mode, r, s, mask, w, out_a, out_b, scale,
                            margin, k, _config.get_num_threads(), partials)

    def _weight_total(self, inputs, partials=None):
        n = inputs[1].shape[0]
        return blocked_weight_total(n, inputs[3], self._block_items(inputs[1].shape), partials), n

    def _block_items(self, pred_shape):
        """Lists per reduction block (it depends on the list size)."""
        return _kernels.rows_per_block(pred_shape[1])

    def _values_buffer(self, inputs):
        s = inputs[1]
        return np.empty(s.shape[0], dtype=s.dtype)

    # -- public methods -----------------------------------------------------------------

    def __call__(
        self, relevance: ArrayLike, scores: ArrayLike, *, where: ArrayLike | None = None,
        sample_weight: ArrayLike | None = None,
    ) -> ValueT:
        """The loss value: float for "mean"/"sum", an (n_lists,) array for "none"."""
        if self._small_spec is not None and sample_weight is None:
            value = self._small_call(self._small_spec, self.reduction, modes.SMALL_VALUE,
                                     relevance, scores, where)
            if value is not None:
                return value
        return self._value(self._prepare(relevance, scores, where, sample_weight))

    def gradient(
        self, relevance: ArrayLike, scores: ArrayLike, *, where: ArrayLike | None = None,
        sample_weight: ArrayLike | None = None, out: FloatArray | None = None,
    ) -> FloatArray:
        """d(reduced loss)/d(scores), shaped and typed like scores (into `out` if given)."""
        if self._small_spec is not None and sample_weight is None and out is None:
            grad = self._small_call(self._small_spec, self.reduction, modes.SMALL_GRADIENT,
                                    relevance, scores, where)
            if grad is not None:
                return grad
        return self._gradient(self._prepare(relevance, scores, where, sample_weight), out, scores)

    def value_and_gradient(
        self, relevance: ArrayLike, scores: ArrayLike, *, where: ArrayLike | None = None,
        sample_weight: ArrayLike | None = None, out: FloatArray | None = None,
    ) -> tuple[ValueT, FloatArray]:
        """(value, gradient) from one pass over the lists."""
        if self._small_spec is not None and sample_weight is None and out is None:
            result = self._small_call(self._small_spec, self.reduction,
                                      modes.SMALL_VALUE_AND_GRADIENT, relevance, scores, where)
            if result is not None:
                return result
        inputs = self._prepare(relevance, scores, where, sample_weight)
        return self._value_and_gradient(inputs, out, scores)

    def gradient_hessian(
        self, relevance: ArrayLike, scores: ArrayLike, *, where: ArrayLike | None = None,
        sample_weight: ArrayLike | None = None,
    ) -> tuple[FloatArray, FloatArray]:
        """(gradient, hessian diagonal) wrt scores, with the reduction's scaling."""
        return self._gradient_hessian(self._prepare(relevance, scores, where, sample_weight),
                                      scores)


class PairwiseHinge(_RankingLoss[ValueT]):
    """Pairwise hinge loss: l = sum over pairs rel_i > rel_j of max(0, margin - (s_i - s_j)).

    rax's pairwise_hinge_loss (margin 1) with a margin parameter (Herbrich et al.
    2000, RankSVM). The gradient at the kink (s_i - s_j = margin) is 0. The hessian is
    0 almost everywhere; gradient_hessian returns the surrogate "number of valid
    pairs the item belongs to" (each pair counted with curvature 1, whether or not
    it is within the margin), and exact_hessian is False.

    Shapes: relevance, scores and where (n_lists, list_size); sample_weight (n_lists,).

    Examples
    --------
    >>> import fastloss as fl
    >>> fl.PairwiseHinge(margin=1.0)([[1.0, 0.0]], [[0.0, 0.5]])  # 1 - (0 - 0.5)
    1.5
    """

    exact_hessian = False
    _param_names = ("margin",)
    _kind = _kernels.HINGE
    margin: float

    @overload
    def __init__(
        self: PairwiseHinge[float], *, margin: float = 1.0,
        reduction: Literal["mean", "sum"] = "mean",
    ) -> None: ...
    @overload
    def __init__(
        self: PairwiseHinge[FloatArray], *, margin: float = 1.0, reduction: Literal["none"],
    ) -> None: ...
    @overload
    def __init__(
        self: PairwiseHinge[LossValue], *, margin: float = 1.0, reduction: Reduction,
    ) -> None: ...
    def __init__(self, *, margin: float = 1.0, reduction: Reduction = "mean") -> None:
        self.margin = check_nonnegative("margin", margin)
        super().__init__(reduction=reduction)

    def _kernel_params(self):
        return self.margin, 0


class PairwiseLogistic(_RankingLoss[ValueT]):
    """RankNet (Burges et al. 2005): l = sum over pairs rel_i > rel_j of
    log(1 + exp(-(s_i - s_j))), rax's pairwise_logistic_loss.

    Gradient: -sigmoid(s_j - s_i) for s_i and +sigmoid(s_j - s_i) for s_j, summed over
    the item's pairs; exact hessian diagonal: the sum of sigmoid(x) sigmoid(-x).

    Shapes: relevance, scores and where (n_lists, list_size); sample_weight (n_lists,).

    Examples
    --------
    >>> import fastloss as fl
    >>> fl.PairwiseLogistic()([[1.0, 0.0]], [[0.0, 0.0]])  # log 2
    0.693147180...
    """

    _kind = _kernels.LOGISTIC

    if TYPE_CHECKING:  # the inherited constructor, its value type chosen by reduction
        @overload
        def __init__(
            self: PairwiseLogistic[float], *, reduction: Literal["mean", "sum"] = "mean",
        ) -> None: ...
        @overload
        def __init__(self: PairwiseLogistic[FloatArray], *, reduction: Literal["none"]) -> None: ...
        @overload
        def __init__(self: PairwiseLogistic[LossValue], *, reduction: Reduction) -> None: ...
        def __init__(self, *, reduction: Reduction = "mean") -> None: ...


class ListwiseSoftmax(_RankingLoss[ValueT]):
    """ListNet's top-one softmax cross-entropy (Cao et al. 2007):
    l = -sum_i (rel_i / sum_j rel_j) log softmax(s)_i over the valid items.

    Relevance (>= 0) is normalized to a distribution, as TF-Ranking's SoftmaxLoss and
    rax's softmax_loss with normalized labels do; a list without positive relevance
    has no target and contributes 0 (rax and TF-Ranking leave it out). Gradient
    softmax_i - rel_i / sum rel; exact hessian diagonal softmax_i (1 - softmax_i).

    Shapes: relevance, scores and where (n_lists, list_size); sample_weight (n_lists,).

    Examples
    --------
    >>> import fastloss as fl
    >>> loss = fl.ListwiseSoftmax()
    >>> loss([[1.0, 0.0, 0.0]], [[0.0, 0.0, 0.0]])  # -log(1/3)
    1.098612288...
    >>> loss([[1.0, 0.0, 0.0]], [[0.0, 0.0, 9.0]], where=[[True, True, False]])  # log 2
    0.693147180...
    """

    _kind = _kernels.SOFTMAX
    _relevance_range = (0.0, None)

    if TYPE_CHECKING:  # the inherited constructor, its value type chosen by reduction
        @overload
        def __init__(
            self: ListwiseSoftmax[float], *, reduction: Literal["mean", "sum"] = "mean",
        ) -> None: ...
        @overload
        def __init__(self: ListwiseSoftmax[FloatArray], *, reduction: Literal["none"]) -> None: ...
        @overload
        def __init__(self: ListwiseSoftmax[LossValue], *, reduction: Reduction) -> None: ...
        def __init__(self, *, reduction: Reduction = "mean") -> None: ...


class ListMLE(_RankingLoss[ValueT]):
    """ListMLE (Xia et al. 2008), rax's listmle_loss: the Plackett-Luce negative
    log-likelihood of the order by relevance,
    l = sum_i (log sum_{j >= i} exp(s_pi(j)) - s_pi(i)), pi sorting relevance
    descending. Equal relevance keeps index order (a stable sort: deterministic,
    like rax without a random key). A list of one valid item has loss 0. Exact
    gradient and hessian diagonal.

    Shapes: relevance, scores and where (n_lists, list_size); sample_weight (n_lists,).

    Examples
    --------
    >>> import fastloss as fl
    >>> fl.ListMLE()([[2.0, 1.0, 0.0]], [[0.0, 0.0, 0.0]])  # log 3 + log 2
    1.791759469...
    """

    _kind = _kernels.LISTMLE

    if TYPE_CHECKING:  # the inherited constructor, its value type chosen by reduction
        @overload
        def __init__(
            self: ListMLE[float], *, reduction: Literal["mean", "sum"] = "mean",
        ) -> None: ...
        @overload
        def __init__(self: ListMLE[FloatArray], *, reduction: Literal["none"]) -> None: ...
        @overload
        def __init__(self: ListMLE[LossValue], *, reduction: Reduction) -> None: ...
        def __init__(self, *, reduction: Reduction = "mean") -> None: ...


class LambdaRank(_RankingLoss[ValueT]):
    """LambdaRank: RankNet pairs weighted by the change of NDCG@k when swapping them.

    l = sum over pairs rel_i > rel_j of lambda_ij log(1 + exp(-(s_i - s_j))) with
    ``lambda_ij = |G_i - G_j| |D_i - D_j| / IDCG@k``, G = 2^rel - 1, D_i = 1/log2(1 + rank_i)
    for rank_i <= k (rank by score, ties by index) and 0 beyond, IDCG@k the DCG@k of
    the ideal order (Burges 2006; rax's pairwise_logistic_loss with
    ndcg_lambdaweight(topn=k), without rax's list-size factor so that padding never
    changes the loss). k=None uses the whole list. The weights depend on the
    ranking only, which is constant between ties of scores, so the gradient and the
    hessian diagonal sum_pairs lambda_ij sigmoid(x) sigmoid(-x) are exact almost
    everywhere: gradient_hessian makes LambdaRank a gradient-boosting objective
    (LightGBM's lambdarank without its lambda normalization). Relevance must be in
    [0, 1000].

    Shapes: relevance, scores and where (n_lists, list_size); sample_weight (n_lists,).

    Examples
    --------
    >>> import fastloss as fl
    >>> fl.LambdaRank()([[1.0, 0.0]], [[0.0, 0.0]])  # (1 - 1/log2(3)) log 2
    0.255820000...
    """

    _param_names = ("k",)
    _kind = _kernels.LAMBDA
    _relevance_range = (0.0, MAX_GAIN_RELEVANCE)
    k: int | None

    @overload
    def __init__(
        self: LambdaRank[float], *, k: int | None = None,
        reduction: Literal["mean", "sum"] = "mean",
    ) -> None: ...
    @overload
    def __init__(
        self: LambdaRank[FloatArray], *, k: int | None = None, reduction: Literal["none"],
    ) -> None: ...
    @overload
    def __init__(
        self: LambdaRank[LossValue], *, k: int | None = None, reduction: Reduction,
    ) -> None: ...
    def __init__(self, *, k: int | None = None, reduction: Reduction = "mean") -> None:
        if k is not None and (isinstance(k, bool) or not isinstance(k, (int, np.integer))
                              or not 1 <= k <= sys.maxsize):
            raise ValueError(f"k must be None or an integer in [1, {sys.maxsize}]; got {k!r}")
        self.k = None if k is None else int(k)
        super().__init__(reduction=reduction)

    def _kernel_params(self):
        return 0.0, 0 if self.k is None else self.k


# ---- function shortcuts: the value in one call, hyper-parameters as keywords --------

@overload
def pairwise_hinge(
    relevance: ArrayLike, scores: ArrayLike, *, margin: float = 1.0,
    reduction: Literal["mean", "sum"] = "mean", where: ArrayLike | None = None,
    sample_weight: ArrayLike | None = None,
) -> float: ...
@overload
def pairwise_hinge(
    relevance: ArrayLike, scores: ArrayLike, *, margin: float = 1.0, reduction: Literal["none"],
    where: ArrayLike | None = None, sample_weight: ArrayLike | None = None,
) -> FloatArray: ...
@overload
def pairwise_hinge(
    relevance: ArrayLike, scores: ArrayLike, *, margin: float = 1.0, reduction: Reduction,
    where: ArrayLike | None = None, sample_weight: ArrayLike | None = None,
) -> LossValue: ...
def pairwise_hinge(
    relevance: ArrayLike, scores: ArrayLike, *, margin: float = 1.0,
    reduction: Reduction = "mean", where: ArrayLike | None = None,
    sample_weight: ArrayLike | None = None,
) -> LossValue:
    """The value of :class:`PairwiseHinge` in one call."""
    return shortcut_call(PairwiseHinge, (margin, reduction),
                         sample_weight, relevance, scores, where)


@overload
def pairwise_logistic(
    relevance: ArrayLike, scores: ArrayLike, *, reduction: Literal["mean", "sum"] = "mean",
    where: ArrayLike | None = None, sample_weight: ArrayLike | None = None,
) -> float: ...
@overload
def pairwise_logistic(
    relevance: ArrayLike, scores: ArrayLike, *, reduction: Literal["none"],
    where: ArrayLike | None = None, sample_weight: ArrayLike | None = None,
) -> FloatArray: ...
@overload
def pairwise_logistic(
    relevance: ArrayLike, scores: ArrayLike, *, reduction: Reduction,
    where: ArrayLike | None = None, sample_weight: ArrayLike | None = None,
) -> LossValue: ...
def pairwise_logistic(
    relevance: ArrayLike, scores: ArrayLike, *, reduction: Reduction = "mean",
    where: ArrayLike | None = None, sample_weight: ArrayLike | None = None,
) -> LossValue:
    """The value of :class:`PairwiseLogistic` in one call."""
    return shortcut_call(PairwiseLogistic, (reduction,), sample_weight, relevance, scores, where)


@overload
def listwise_softmax(
    relevance: ArrayLike, scores: ArrayLike, *, reduction: Literal["mean", "sum"] = "mean",
    where: ArrayLike | None = None, sample_weight: ArrayLike | None = None,
) -> float: ...
@overload
def listwise_softmax(
    relevance: ArrayLike, scores: ArrayLike, *, reduction: Literal["none"],
    where: ArrayLike | None = None, sample_weight: ArrayLike | None = None,
) -> FloatArray: ...
@overload
def listwise_softmax(
    relevance: ArrayLike, scores: ArrayLike, *, reduction: Reduction,
    where: ArrayLike | None = None, sample_weight: ArrayLike | None = None,
) -> LossValue: ...
def listwise_softmax(
    relevance: ArrayLike, scores: ArrayLike, *, reduction: Reduction = "mean",
    where: ArrayLike | None = None, sample_weight: ArrayLike | None = None,
) -> LossValue:
    """The value of :class:`ListwiseSoftmax` in one call."""
    return shortcut_call(ListwiseSoftmax, (reduction,), sample_weight, relevance, scores, where)


@overload
def list_mle(
    relevance: ArrayLike, scores: ArrayLike, *, reduction: Literal["mean", "sum"] = "mean",
    where: ArrayLike | None = None, sample_weight: ArrayLike | None = None,
) -> float: ...
@overload
def list_mle(
    relevance: ArrayLike, scores: ArrayLike, *, reduction: Literal["none"],
    where: ArrayLike | None = None, sample_weight: ArrayLike | None = None,
) -> FloatArray: ...
@overload
def list_mle(
    relevance: ArrayLike, scores: ArrayLike, *, reduction: Reduction,
    where: ArrayLike | None = None, sample_weight: ArrayLike | None = None,
) -> LossValue: ...
def list_mle(
    relevance: ArrayLike, scores: ArrayLike, *, reduction: Reduction = "mean",
    where: ArrayLike | None = None, sample_weight: ArrayLike | None = None,
) -> LossValue:
    """The value of :class:`ListMLE` in one call."""
    return shortcut_call(ListMLE, (reduction,), sample_weight, relevance, scores, where)


@overload
def lambda_rank(
    relevance: ArrayLike, scores: ArrayLike, *, k: int | None = None,
    reduction: Literal["mean", "sum"] = "mean", where: ArrayLike | None = None,
    sample_weight: ArrayLike | None = None,
) -> float: ...
@overload
def lambda_rank(
    relevance: ArrayLike, scores: ArrayLike, *, k: int | None = None, reduction: Literal["none"],
    where: ArrayLike | None = None, sample_weight: ArrayLike | None = None,
) -> FloatArray: ...
@overload
def lambda_rank(
    relevance: ArrayLike, scores: ArrayLike, *, k: int | None = None, reduction: Reduction,
    where: ArrayLike | None = None, sample_weight: ArrayLike | None = None,
) -> LossValue: ...
def lambda_rank(
    relevance: ArrayLike, scores: ArrayLike, *, k: int | None = None,
    reduction: Reduction = "mean", where: ArrayLike | None = None,
    sample_weight: ArrayLike | None = None,
) -> LossValue:
    """The value of :class:`LambdaRank` in one call."""
    return shortcut_call(LambdaRank, (k, reduction), sample_weight, relevance, scores, where)
