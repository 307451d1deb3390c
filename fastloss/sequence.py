"""Sequence losses: the connectionist temporal classification (CTC) loss.

``loss(targets, log_probs, input_lengths, target_lengths)`` with PyTorch's layout:
log_probs (T, N, C), log-probabilities over C classes (blank included) for each of T
frames of N sequences; one value per sequence ("none" has shape (N,)) and sample
weights one per sequence.
"""

from __future__ import annotations

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
)
from fastloss._core.validation import as_int64_array, as_real_array, check_flag
from fastloss._kernels import common as modes
from fastloss._kernels import dispatch as _dispatch
from fastloss._kernels.common import shortcut_call

__all__ = ["CTC", "ctc"]

_kernels = _dispatch.load("sequence")


class CTC(OnePassLoss[ValueT]):
    """Connectionist temporal classification loss (Graves et al. 2006), as
    torch.nn.CTCLoss.

    ``loss(targets, log_probs, input_lengths, target_lengths)``: log_probs (T, N, C)
    log-probabilities (a log_softmax over C classes, ``blank`` among them) of N
    sequences of T frames; input_lengths (N,) the frames each sequence uses (at most
    T); target_lengths (N,) the length of each target; targets either (N, S) padded
    rows (S at least the longest target) or 1-D, the targets concatenated
    (sum(target_lengths) labels). Labels lie in [0, C) and are not ``blank``.

    The loss of a sequence is -log p(target | x), p summed over every alignment of
    the target to the frames: blanks anywhere, repeats collapsed, a blank needed
    between two equal labels. "mean" is PyTorch's: each loss divided by its target
    length (at least 1), then the weighted mean sum(w_n l_n / len_n) / sum(w_n);
    "sum" is sum(w_n l_n); "none" w_n l_n, (N,). A target that no alignment can
    produce (too few frames) has an infinite loss and a NaN gradient, or 0 and a zero
    gradient with ``zero_infinity=True``.

    Forward-backward in log space, in double, one sequence per thread (results do not
    depend on the thread count). The gradient is the partial derivative with respect
    to log_probs, -sum over the target's states of the posterior occupancy; PyTorch's
    adds exp(log_probs), a term that cancels through the log_softmax that produces
    them (identical gradients for the logits). gradient_hessian returns a surrogate
    (``exact_hessian`` is False): each sequence's weight times the reduction's factor.

    Examples
    --------
    >>> import numpy as np
    >>> import fastloss as fl
    >>> log_probs = np.log(np.full((2, 1, 2), 0.5))  # 2 frames, 1 sequence, 2 classes
    >>> fl.CTC()([[1]], log_probs, [2], [1])  # alignments (1, b), (b, 1), (1, 1): p = 3/4
    0.2876820724517809
    """

    _param_names = ("blank", "zero_infinity")
    _items = "sequences"
    exact_hessian = False
    blank: int
    zero_infinity: bool

    @overload
    def __init__(
        self: CTC[float], *, blank: int = 0, zero_infinity: bool = False,
        reduction: Literal["mean", "sum"] = "mean",
    ) -> None: ...
    @overload
    def __init__(
        self: CTC[FloatArray], *, blank: int = 0, zero_infinity: bool = False,
        reduction: Literal["none"],
    ) -> None: ...
    @overload
    def __init__(
        self: CTC[LossValue], *, blank: int = 0, zero_infinity: bool = False,
        reduction: Reduction,
    ) -> None: ...
    def __init__(self, *, blank: int = 0, zero_infinity: bool = False,
                 reduction: Reduction = "mean") -> None:
        if isinstance(blank, (bool, np.bool_)) or not isinstance(blank, (int, np.integer)) \
                or blank < 0:
            raise ValueError(f"blank must be a class index (an integer >= 0); got {blank!r}")
        self.blank = int(blank)
        self.zero_infinity = check_flag("zero_infinity", zero_infinity)
        super().__init__(reduction=reduction)
        self._small_call = _kernels.ctc_call_small
        self._small_spec = (self.blank, self.zero_infinity)

    # -- inputs -----------------------------------------------------------------------

    def _prepare(self, targets, log_probs, input_lengths, target_lengths,
                 sample_weight=None):
        lp = as_real_array(log_probs, "log_probs")
        if lp.ndim != 3:
            raise ValueError(
                f"log_probs must be 3-D (frames, batch, classes); got shape {lp.shape}")
        frames, batch, classes = lp.shape
        if not self.blank < classes:
            raise ValueError(f"blank={self.blank} is not a class of log_probs ({classes} "
                             "classes)")
        in_len = as_int64_array(input_lengths, "input_lengths", (batch,))
        tgt_len = as_int64_array(target_lengths, "target_lengths", (batch,))
        if batch and (in_len.min() < 0 or in_len.max() > frames):
            raise ValueError(
                f"input_lengths must lie in [0, {frames}] (the frames of log_probs); got "
                f"{in_len[(in_len < 0) | (in_len > frames)][0]}")
        if batch and tgt_len.min() < 0:
            raise ValueError(f"target_lengths must be >= 0; got {tgt_len.min()}")
        tgt = as_int64_array(targets, "targets")
        if tgt.ndim == 2:
            if tgt.shape[0] != batch:
                raise ValueError(f"targets (padded) must have shape ({batch}, S); got shape "
                                 f"{tgt.shape}")
            if batch and tgt_len.max() > tgt.shape[1]:
                raise ValueError(
                    f"target_lengths must be at most the targets' width {tgt.shape[1]}; got "
                    f"{tgt_len.max()}")
            start = np.arange(batch, dtype=np.int64) * tgt.shape[1]
            used = np.arange(tgt.shape[1]) < tgt_len[:, None]
        elif tgt.ndim == 1:
            if batch and tgt_len.max() > tgt.size or tgt.size != tgt_len.sum():
                raise ValueError(
                    f"targets (concatenated) must hold sum(target_lengths) = "
                    f"{tgt_len.sum()} labels; got shape {tgt.shape}")
            start = np.zeros(batch, dtype=np.int64)
            np.cumsum(tgt_len[:-1], out=start[1:])
            used = np.ones(tgt.shape, dtype=bool)
        else:
            raise ValueError(f"targets must be 2-D (batch, S) or 1-D; got shape {tgt.shape}")
        labels = tgt[used]
        if labels.size and (labels.min() < 0 or labels.max() >= classes
                            or (labels == self.blank).any()):
            bad = labels[(labels < 0) | (labels >= classes) | (labels == self.blank)][0]
            raise ValueError(
                f"targets must be class indices in [0, {classes}) other than blank="
                f"{self.blank}; got {bad}")
        lengths = (in_len, tgt_len)
        return (np.ascontiguousarray(tgt.ravel()), start, lengths, np.ascontiguousarray(lp),
                row_weights(sample_weight, batch))

    def _weight_total(self, inputs):
        batch = inputs[3].shape[1]
        return blocked_weight_total(batch, inputs[4], modes.BLOCK), batch

    def _per_sequence_factor(self, inputs, scale):
        """The gradient's factor per sequence: w_n times the reduction's."""
        (_, tgt_len), w = inputs[2], inputs[4]
        factor = np.ones(len(tgt_len)) if w is None else w.copy()
        if self.reduction == "mean":
            factor /= np.maximum(tgt_len, 1) * self._mean_divisor(inputs)
        return factor * scale

    def _run(self, inputs, grad=None, scale=1.0):
        tgt, start, (in_len, tgt_len), lp, _ = inputs
        coef = self._per_sequence_factor(inputs, scale) if grad is not None else np.zeros(
            len(tgt_len))
        return _kernels.ctc_run(lp, tgt, start, tgt_len, in_len, self.blank,
                                self.zero_infinity, coef, grad, _config.get_num_threads())

    def _finish(self, losses, inputs):
        tgt_len, w, lp = inputs[2][1], inputs[4], inputs[3]
        weighted = losses if w is None else w * losses
        if self.reduction == "none":
            return weighted.astype(lp.dtype)
        if self.reduction == "sum":
            return modes.pairwise_total(weighted)
        return (modes.pairwise_total(weighted / np.maximum(tgt_len, 1))
                / self._mean_divisor(inputs))

    # -- public methods -----------------------------------------------------------------

    def __call__(
        self, targets: ArrayLike, log_probs: ArrayLike, input_lengths: ArrayLike,
        target_lengths: ArrayLike, *, sample_weight: ArrayLike | None = None,
    ) -> ValueT:
        """The loss value: float for "mean"/"sum", an (N,) array for "none"."""
        if self._small_spec is not None and sample_weight is None:
            value = self._small_call(self._small_spec, self.reduction, modes.SMALL_VALUE,
                                     targets, log_probs, input_lengths, target_lengths)
            if value is not None:
                return value
        inputs = self._prepare(targets, log_probs, input_lengths, target_lengths,
                               sample_weight)
        return self._finish(self._run(inputs), inputs)

    def weight_total(
        self, targets: ArrayLike, log_probs: ArrayLike, input_lengths: ArrayLike,
        target_lengths: ArrayLike, *, sample_weight: ArrayLike | None = None,
    ) -> float:
        """What "mean" divides by: sum(w_n) (each loss is first divided by its length)."""
        inputs = self._prepare(targets, log_probs, input_lengths, target_lengths,
                               sample_weight)
        return float(self._weight_total(inputs)[0])

    def gradient(
        self, targets: ArrayLike, log_probs: ArrayLike, input_lengths: ArrayLike,
        target_lengths: ArrayLike, *, sample_weight: ArrayLike | None = None,
        out: FloatArray | None = None,
    ) -> FloatArray:
        """d(reduced loss)/d(log_probs), shaped and typed like log_probs."""
        return self.value_and_gradient(targets, log_probs, input_lengths, target_lengths,
                                       sample_weight=sample_weight, out=out)[1]

    def value_and_gradient(
        self, targets: ArrayLike, log_probs: ArrayLike, input_lengths: ArrayLike,
        target_lengths: ArrayLike, *, sample_weight: ArrayLike | None = None,
        out: FloatArray | None = None,
    ) -> tuple[ValueT, FloatArray]:
        """(value, gradient) from one forward-backward pass."""
        if self._small_spec is not None and sample_weight is None and out is None:
            result = self._small_call(self._small_spec, self.reduction,
                                      modes.SMALL_VALUE_AND_GRADIENT, targets, log_probs,
                                      input_lengths, target_lengths)
            if result is not None:
                return result
        inputs = self._prepare(targets, log_probs, input_lengths, target_lengths,
                               sample_weight)
        result = _Output(out, log_probs, inputs[3])
        if self.reduction == "mean":
            self._mean_divisor(inputs)
        losses = self._run(inputs, result.buffer)
        return self._finish(losses, inputs), result.result()

    def gradient_hessian(
        self, targets: ArrayLike, log_probs: ArrayLike, input_lengths: ArrayLike,
        target_lengths: ArrayLike, *, sample_weight: ArrayLike | None = None,
    ) -> tuple[FloatArray, FloatArray]:
        """(gradient, hessian surrogate), both shaped like log_probs."""
        inputs = self._prepare(targets, log_probs, input_lengths, target_lengths,
                               sample_weight)
        grad_out, hess_out = _Output(None, log_probs, inputs[3]), _Output(None, log_probs,
                                                                           inputs[3])
        self._run(inputs, grad_out.buffer)
        factor = self._per_sequence_factor(inputs, 1.0)
        frames = np.arange(inputs[3].shape[0])[:, None] < inputs[2][0][None, :]
        hess_out.buffer[...] = (frames * factor)[:, :, None]
        return grad_out.result(), hess_out.result()


@overload
def ctc(
    targets: ArrayLike, log_probs: ArrayLike, input_lengths: ArrayLike,
    target_lengths: ArrayLike, *, blank: int = 0, zero_infinity: bool = False,
    reduction: Literal["mean", "sum"] = "mean", sample_weight: ArrayLike | None = None,
) -> float: ...
@overload
def ctc(
    targets: ArrayLike, log_probs: ArrayLike, input_lengths: ArrayLike,
    target_lengths: ArrayLike, *, blank: int = 0, zero_infinity: bool = False,
    reduction: Literal["none"], sample_weight: ArrayLike | None = None,
) -> FloatArray: ...
@overload
def ctc(
    targets: ArrayLike, log_probs: ArrayLike, input_lengths: ArrayLike,
    target_lengths: ArrayLike, *, blank: int = 0, zero_infinity: bool = False,
    reduction: Reduction, sample_weight: ArrayLike | None = None,
) -> LossValue: ...
def ctc(
    targets: ArrayLike, log_probs: ArrayLike, input_lengths: ArrayLike,
    target_lengths: ArrayLike, *, blank: int = 0, zero_infinity: bool = False,
    reduction: Reduction = "mean", sample_weight: ArrayLike | None = None,
) -> LossValue:
    """The value of :class:`CTC` in one call."""
    return shortcut_call(CTC, (blank, zero_infinity, reduction),
                         sample_weight, targets, log_probs, input_lengths, target_lengths)
