"""Loss base classes: hyper-parameters, reductions, weights and the kernel calls.

Loss holds what every loss shares (reduction, repr, equality, pickling); Reduction,
FloatArray, LossValue and ValueT are the types of the public annotations. OnePassLoss
adds the methods of contract section 1 for losses computed by one kernel pass over
(y_true, y_pred); ElementwiseLoss is one for losses computed element by element by a
generated kernel (fastloss/_kernels/elementwise.tp).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Generic, Literal, TypeAlias

import numpy as np
from numpy.typing import ArrayLike, NDArray

from fastloss._core import config as _config
from fastloss._core.validation import (
    as_real_array,
    as_sample_weight,
    check_reduction,
    check_same_shape,
)
from fastloss._kernels import common as modes  # kernel modes, thresholds, output allocation

#: The reduction of a loss over its elements or rows (contract section 2).
Reduction: TypeAlias = Literal["mean", "sum", "none"]
#: A floating-point result array (float32 or float64, or y_pred's float dtype).
FloatArray: TypeAlias = NDArray[np.floating[Any]]
#: A loss value: a Python float for "mean"/"sum", an array for "none".
LossValue: TypeAlias = float | FloatArray

# The type of a loss's value, the parameter of every loss class: a type checker sees
# Huber[float] for Huber() and Huber(reduction="sum"), Huber[FloatArray] for
# Huber(reduction="none"), and Huber[LossValue] (also what a bare `Huber` annotation
# means: the default) when the reduction is not a literal. The constructors' overloads
# choose it; nothing of it exists at run time beyond typing.Generic's class attributes.
if TYPE_CHECKING:
    from typing_extensions import TypeVar

    ValueT = TypeVar("ValueT", bound=LossValue, default=LossValue, covariant=True)
else:
    from typing import TypeVar

    ValueT = TypeVar("ValueT", bound=LossValue, covariant=True)


class Loss(Generic[ValueT]):
    """Base of every loss: keyword-only hyper-parameters and `reduction`."""

    #: Whether gradient_hessian returns the true second derivative (else a surrogate).
    exact_hessian: bool = True
    #: Hyper-parameter names in constructor order (reduction excluded).
    _param_names: tuple[str, ...] = ()
    #: The inputs that come after the positional ones and are passed by keyword
    #: (ranking's `where`), for the function shortcuts (common.shortcut_call).
    _keyword_inputs: tuple[str, ...] = ()
    #: The small-call path: one compiled function of the kernels (`_small_call`, a
    #: family's call_small) for the value, gradient and value_and_gradient calls of
    #: small, already-valid inputs, and what it needs to know of this loss
    #: (`_small_spec`) where it may serve the loss (see ElementwiseLoss, RowwiseLoss,
    #: the ranking, overlap, row-embedding and CTC losses); else None.
    _small_call: Any = None
    _small_spec: tuple[Any, ...] | None = None

    def __init__(self, *, reduction: Reduction = "mean") -> None:
        self.reduction: Reduction = check_reduction(reduction)

    def __setattr__(self, name: str, value: Any) -> None:
        """The hyper-parameters and reduction are fixed once set: the kernels' arguments
        are prepared from them at construction, so a later change would be ignored."""
        if name in self.__dict__ and (name == "reduction" or name in self._param_names):
            raise AttributeError(
                f"{type(self).__name__}.{name} is fixed at construction (the kernels' "
                f"arguments are prepared from it); build a new loss: "
                f"{type(self).__name__}({name}={value!r}, ...)")
        super().__setattr__(name, value)

    def get_params(self) -> dict[str, Any]:
        """The hyper-parameters and reduction as a dict (constructor keywords)."""
        params = {name: getattr(self, name) for name in self._param_names}
        params["reduction"] = self.reduction
        return params

    def __repr__(self) -> str:
        args = ", ".join(f"{key}={value!r}" for key, value in self.get_params().items())
        return f"{type(self).__name__}({args})"

    def __eq__(self, other: object) -> bool:
        if type(self) is not type(other):
            return NotImplemented
        return _params_key(self) == _params_key(other)

    def __hash__(self) -> int:
        return hash((type(self).__name__, _params_key(self)))

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self.get_params()))


def _rebuild(cls, params):
    return cls(**params)


def _params_key(loss):
    def freeze(value):
        if isinstance(value, np.ndarray):
            return ("array", value.dtype.str, value.shape, value.tobytes())
        return value

    return tuple((key, freeze(value)) for key, value in loss.get_params().items())


class OnePassLoss(Loss[ValueT]):
    """The four public methods of contract section 1, implemented once for every loss
    computed by one kernel pass, and the one reduction.

    A subclass implements:

    - `_prepare(*arrays, **keywords)`: the public arguments (exactly those of the value
      call) as a tuple of validated inputs;
    - `_run(mode, inputs, out_a=None, out_b=None, scale=1.0, partials=None)`: the
      kernel pass; returns the weighted loss sum, and writes the per-item values,
      gradients or hessians into the outputs (a buffer, or a tuple of buffers for a
      loss of several inputs) and, when given, each reduction block's sum into
      `partials`;
    - `_weight_total(inputs, partials=None)`: (the divisor of "mean", the number of
      items), computed by the same blocked reduction (block sums into `partials`);
    - `_values_buffer(inputs)`: the array of "none" values.

    Losses whose items (elements, rows or lists) can be split between machines also
    say how many items make one reduction block (`_block_items(pred_shape)`): a caller
    that splits at block boundaries and adds the block sums in the kernels' order
    (fastloss.dask) gets the in-memory result to the bit.

    It may override `_outputs(out, inputs, original)` (one result per prediction input:
    see _Output) and `_items` (what "mean" averages over, for error messages).
    Element-wise and multi-class losses take (y_true, y_pred) and inherit the public
    methods as they are; the embedding and ranking families redefine them with their
    own arguments, each a one-line call of `_value`, `_gradient`, `_value_and_gradient`
    or `_gradient_hessian`.
    """

    _items = "elements"
    #: Why "mean" has nothing to divide by when there are items (for the error).
    _zero_total = "sample weights summing to 0"

    # -- the reduction ----------------------------------------------------------------

    def _runs_as(self, base):
        """Whether this class prepares, runs, reduces and returns its results as `base`
        does: the condition for the kernels' call_small to stand in for them."""
        cls = type(self)
        return all(getattr(cls, name) is getattr(base, name) for name in (
            "_prepare", "_run", "_weight_total", "_values_buffer", "_outputs"))

    def _mean_divisor(self, inputs):
        """sum(w) over what counts: "mean"'s divisor; ValueError when it is not > 0."""
        total, count = self._weight_total(inputs)
        if not total > 0:
            what = f"no {self._items}" if count == 0 else self._zero_total
            raise ValueError(f'reduction="mean" is undefined over {what}')
        return total

    def _gradient_scale(self, inputs):
        return 1.0 / self._mean_divisor(inputs) if self.reduction == "mean" else 1.0

    def _outputs(self, out, inputs, original):
        return _Output(out, original, inputs[1], inputs[0])

    # -- the four methods, on prepared inputs -----------------------------------------

    def _value(self, inputs):
        if self.reduction == "none":
            values = self._values_buffer(inputs)
            self._run(modes.VALUE_NONE, inputs, values)
            return values
        total = self._run(modes.VALUE_SUM, inputs)
        if self.reduction == "sum":
            return float(total)
        return float(total) / self._mean_divisor(inputs)

    def _gradient(self, inputs, out, original):
        scale = self._gradient_scale(inputs)
        grad = self._outputs(out, inputs, original)
        self._run(modes.GRADIENT, inputs, grad.buffer, scale=scale)
        return grad.result()

    def _value_and_gradient(self, inputs, out, original):
        grad = self._outputs(out, inputs, original)
        if self.reduction == "none":
            values = self._values_buffer(inputs)
            self._run(modes.VALUE_NONE_GRADIENT, inputs, values, grad.buffer)
            return values, grad.result()
        if self.reduction == "sum":
            return float(self._run(modes.VALUE_GRADIENT, inputs, grad.buffer)), grad.result()
        divisor = self._mean_divisor(inputs)
        total = self._run(modes.VALUE_GRADIENT, inputs, grad.buffer, scale=1.0 / divisor)
        return float(total) / divisor, grad.result()

    def _gradient_hessian(self, inputs, original):
        scale = self._gradient_scale(inputs)
        grad = self._outputs(None, inputs, original)
        hess = self._outputs(None, inputs, original)
        self._run(modes.GRADIENT_HESSIAN, inputs, grad.buffer, hess.buffer, scale)
        return grad.result(), hess.result()

    # -- public methods -------------------------------------------------------------

    def weight_total(self, *arrays: Any, **keywords: Any) -> float:
        """What "mean" divides by, for the arguments of the value call: sum(w_i) over
        the elements or rows that count (with class weights, ignored labels or mined
        triplets, those that the loss counts). Adapters that split the data (Dask,
        boosting) use it to scale gradients by the global total."""
        return float(self._weight_total(self._prepare(*arrays, **keywords))[0])

    def __call__(
        self, y_true: ArrayLike, y_pred: ArrayLike, *, sample_weight: ArrayLike | None = None
    ) -> ValueT:
        """The loss value: float for "mean"/"sum", for "none" an array shaped like y_pred
        (one value per row for the row-wise losses)."""
        if self._small_spec is not None and sample_weight is None:
            value = self._small_call(self._small_spec, self.reduction, modes.SMALL_VALUE,
                                     y_true, y_pred)
            if value is not None:
                return value
        return self._value(self._prepare(y_true, y_pred, sample_weight))

    def gradient(
        self,
        y_true: ArrayLike,
        y_pred: ArrayLike,
        *,
        sample_weight: ArrayLike | None = None,
        out: FloatArray | None = None,
    ) -> FloatArray:
        """d(reduced loss)/d(y_pred), shaped and typed like y_pred (into `out` if given)."""
        if self._small_spec is not None and sample_weight is None and out is None:
            grad = self._small_call(self._small_spec, self.reduction, modes.SMALL_GRADIENT,
                                    y_true, y_pred)
            if grad is not None:
                return grad
        return self._gradient(self._prepare(y_true, y_pred, sample_weight), out, y_pred)

    def value_and_gradient(
        self,
        y_true: ArrayLike,
        y_pred: ArrayLike,
        *,
        sample_weight: ArrayLike | None = None,
        out: FloatArray | None = None,
    ) -> tuple[ValueT, FloatArray]:
        """(value, gradient) from one pass over the data; equal to the two separate calls."""
        if self._small_spec is not None and sample_weight is None and out is None:
            result = self._small_call(
                self._small_spec, self.reduction, modes.SMALL_VALUE_AND_GRADIENT, y_true, y_pred)
            if result is not None:
                return result
        inputs = self._prepare(y_true, y_pred, sample_weight)
        return self._value_and_gradient(inputs, out, y_pred)

    def gradient_hessian(
        self, y_true: ArrayLike, y_pred: ArrayLike, *, sample_weight: ArrayLike | None = None
    ) -> tuple[FloatArray, FloatArray]:
        """(gradient, diagonal hessian), both with the reduction's scaling."""
        return self._gradient_hessian(self._prepare(y_true, y_pred, sample_weight), y_pred)


class ElementwiseLoss(OnePassLoss[ValueT]):
    """A loss summed over the elements of y_pred (any shape; y_true the same shape).

    Subclasses set `_kernels` (the compiled family module) and implement
    `_kernel_spec()` -> (kernel name, param0, param1, param2), and may override
    `_check_inputs(y_true, y_pred)` to reject targets or predictions outside the
    loss's domain.
    """

    _kernels: Any = None
    #: The kernels' form of an overriding `_check_inputs`, for call_small
    #: (TARGETS_SIGN_LABELS); None: small calls of such a class take the general path.
    _small_target_check: int | None = None
    #: One parameter per column of the last axis (a float64 array: pos_weight per
    #: label), for the kernels that take one (PER_COLUMN in the kernel template); else
    #: None.
    _per_column: Any = None

    def __init__(self, *, reduction: Reduction = "mean") -> None:
        super().__init__(reduction=reduction)
        name, *params = self._kernel_spec()
        self._kernel_id = self._kernels.LOSS_IDS[name]
        self._kernel_params = tuple(float(v) for v in params) + (0.0,) * (3 - len(params))
        if not self._checks_inputs() and self._runs_as(ElementwiseLoss):
            self._small_call = self._kernels.call_small
            self._small_spec = (self._kernel_id, *self._kernel_params,
                                self._small_target_check or self._kernels.TARGETS_ANY)

    def _kernel_spec(self) -> tuple[Any, ...]:
        raise NotImplementedError

    def _check_inputs(self, y_true, y_pred):
        """Raise ValueError for inputs outside the loss's domain (default: none)."""

    def _checks_inputs(self):
        """Whether the inputs need more than the kernels' own checks (a _check_inputs
        without a compiled form, or per-column parameters) for these hyper-parameters;
        when not, the value and gradient calls of small inputs take the kernels'
        call_small path."""
        return ((type(self)._check_inputs is not ElementwiseLoss._check_inputs
                 and self._small_target_check is None)
                or self._per_column is not None)

    def _bad_target(self, y_true):
        """Called when the kernel's own target check (TARGET_CHECK in the kernel
        template) found a target outside the loss's domain: raise the ValueError that
        names the first one."""

    # -- one pass of the kernel ---------------------------------------------------

    def _prepare(self, y_true, y_pred, sample_weight=None):
        p = as_real_array(y_pred, "y_pred")
        y = as_real_array(y_true, "y_true", p.dtype)
        if y.shape != p.shape:
            check_same_shape(y, p)
        self._check_inputs(y, p)
        if sample_weight is None:
            return y, p, None
        w, per_weight = as_sample_weight(sample_weight, p.shape, rowwise=False)
        if per_weight != 1:  # one weight per row: the kernels take one per element
            w = np.repeat(w, per_weight)
        return y, p, w

    def _run(self, mode, inputs, out_a=None, out_b=None, scale=1.0, partials=None):
        y, p, w = inputs
        n_threads = _config.get_num_threads() if p.size >= modes.PARALLEL_MIN else 1
        a, b, c = self._kernel_params
        return self._kernels.run(
            self._kernel_id, mode, y, p, w, out_a, out_b, scale, a, b, c, n_threads,
            self._per_column, self._bad_target, partials,
        )

    def _weight_total(self, inputs, partials=None):
        """sum(w) over all elements (n when unweighted)."""
        _, p, w = inputs
        return blocked_weight_total(p.size, w, modes.BLOCK, partials), p.size

    def _block_items(self, pred_shape):
        """Elements (of the flattened arrays) per reduction block."""
        return modes.BLOCK

    def _values_buffer(self, inputs):
        return modes.empty_like(inputs[1])


class _Output:
    """An output array shaped like the prediction: a kernel writes `buffer`
    (C-contiguous, compute dtype); `result()` returns it in y_pred's dtype, or
    copies it into the user's `out` (which may alias the inputs: a kernel writes
    into it directly only where it is exactly p, or shares no memory with p, nor with y
    (the kernels that check the targets read y again after their loop), nor with any
    of `others`, the other inputs of a loss of several)."""

    def __init__(self, out, y_pred_input, p, y=None, others=()):
        dtype = getattr(y_pred_input, "dtype", None)  # not a NumPy dtype for tensors
        self.dtype = dtype if isinstance(dtype, np.dtype) and dtype.kind == "f" else p.dtype
        self.out = out
        if out is not None:
            if not isinstance(out, np.ndarray):
                raise TypeError(f"out must be a numpy.ndarray; got {type(out).__name__}")
            if out.shape != p.shape or out.dtype != self.dtype:
                raise ValueError(
                    f"out must have shape {p.shape} and dtype {self.dtype}; "
                    f"got shape {out.shape} and dtype {out.dtype}"
                )
            if not out.flags.writeable:
                raise ValueError("out must be writeable")
            if out.flags.c_contiguous and out.flags.aligned and out.dtype == p.dtype and not (
                _overlaps(out, p) or (y is not None and np.may_share_memory(out, y))
                or any(np.may_share_memory(out, a) for a in others)
            ):
                self.buffer = out
                return
        self.buffer = modes.empty_like(p)

    def result(self):
        if self.out is None:
            if self.dtype == self.buffer.dtype:
                return self.buffer
            return self.buffer.astype(self.dtype)
        if self.buffer is not self.out:
            self.out[...] = self.buffer
        return self.out


class _Outputs:
    """One _Output per prediction input, for a loss of several inputs (embedding
    pairs and triplets): `buffer` is the tuple of their buffers."""

    def __init__(self, outputs):
        self.outputs = outputs
        self.buffer = tuple(o.buffer for o in outputs)

    def result(self):
        return tuple(o.result() for o in self.outputs)


def row_weights(sample_weight, n):
    """sample_weight of a row-wise loss as C-contiguous float64 of shape (n,), or None."""
    if sample_weight is None:
        return None
    return as_sample_weight(sample_weight, (n,), rowwise=True)[0]


def blocked_weight_total(n, w, block, partials=None):
    """sum(w) over n items by the kernels' blocked reduction, in blocks of `block`
    items (n when unweighted; then each block's item count goes into `partials`)."""
    if w is not None:
        return float(modes.weight_sum(w, block, partials))
    if partials is not None and len(partials):
        partials[:] = block
        partials[-1] = n - block * (len(partials) - 1)
    return n


def _overlaps(out, a):
    """Whether out and a share memory other than element for element (same start)."""
    return (a is not None and np.may_share_memory(out, a)
            and out.__array_interface__["data"] != a.__array_interface__["data"])
