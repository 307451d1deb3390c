"""fastloss losses as differentiable PyTorch operators (CPU).

``Module(loss)`` is an ``nn.Module`` and ``apply(loss, ...)`` a function; both take
torch's argument order, prediction first::

    import fastloss as fl
    import fastloss.torch as flt

    criterion = flt.Module(fl.Huber(delta=2.0))      # nn.HuberLoss(delta=2.0)
    loss = criterion(input, target)                  # input = y_pred, target = y_true
    loss.backward()

Elementwise and multi-class losses take ``(input, target, weight=None)``; the
others take their own inputs in their API order, then ``weight=None``: Triplet
``(anchor, positive, negative)``, Contrastive ``(same, x1, x2)``, BatchTriplet
``(labels, embeddings)``, ranking losses ``(relevance, scores, where=None)``.
``weight`` is fastloss's ``sample_weight`` (one per row, or per element for the
elementwise losses); the reduction is the loss's own.

Each call is one operator of the ``fastloss`` library namespace
(``torch.ops.fastloss.loss2`` for two inputs, ``loss3`` for three), registered with
``torch.library.custom_op`` for the CPU, a fake implementation (so that
``torch.compile(fullgraph=True)`` traces it without a graph break) and an autograd
formula: the forward computes the value and the gradient in one fused pass and
saves the gradient; the backward is ``grad_output * gradient`` (the saved gradient
itself when grad_output is exactly 1, as for ``loss.backward()``). An operator cannot
take a Python object, so each distinct loss (by its parameters) is registered once
in a process-wide table and the operator takes its integer index.

Inputs: CPU tensors. Contiguous float32/float64 tensors are read in place (NumPy
views, no copy); other strides are copied by fastloss; float16 and bfloat16 are
computed in float32 and the value and gradient returned in the input dtype. Tensors
on another device raise a ValueError (fastloss is a CPU library). Targets, labels,
masks and weights never get a gradient, and the losses are differentiable once
(``create_graph=True`` through them raises a RuntimeError).
"""

from __future__ import annotations

import numpy as np
import torch

from fastloss import _adapters
from fastloss._kernels import common as _common

__all__ = ["Module", "apply"]

# ---- the table of losses an operator refers to by index ------------------------------

_LOSSES: list = []  # index -> (loss, kind)
_INDEX: dict = {}  # loss (hashed and compared by its parameters) -> index
_BY_OBJECT: dict = {}  # id(loss) -> (loss, index): skips hashing the parameters
_BY_OBJECT_MAX = 4096


def _register(loss) -> int:
    """The index of `loss` in the table (added on first use)."""
    entry = _BY_OBJECT.get(id(loss))
    if entry is not None and entry[0] is loss:
        return entry[1]
    kind = _adapters.kind_of(loss)
    index = _INDEX.get(loss)
    if index is None:
        index = len(_LOSSES)
        _LOSSES.append((loss, kind))
        _INDEX[loss] = index
    if len(_BY_OBJECT) >= _BY_OBJECT_MAX:
        _BY_OBJECT.clear()
    _BY_OBJECT[id(loss)] = (loss, index)
    return index


_register_constant = torch.compiler.assume_constant_result(_register)


@torch.compiler.assume_constant_result
def _register_params(cls, params) -> int:
    """_register of the loss cls(**dict(params)).

    Under torch.compile a loss built inside the compiled function has its attributes
    only in the trace, not yet on the object that a constant function receives; its
    class and plain parameters are constants, from which the loss is built again."""
    return _register(cls(**dict(params)))


def _loss_id(loss) -> int:
    """The table index of `loss`, also where torch.compile traces the call."""
    if torch.compiler.is_compiling() and type(loss).__module__.startswith("fastloss."):
        params = loss.get_params()
        if all(value is None or isinstance(value, (bool, int, float, str))
               for value in params.values()):
            return _register_params(type(loss), tuple(params.items()))
    return _register_constant(loss)


# ---- tensors <-> arrays -----------------------------------------------------------------

_HALF = (torch.float16, torch.bfloat16)
_FLOATS = (torch.float32, torch.float64, torch.float16, torch.bfloat16)


def _array(t):
    """A CPU tensor as a NumPy array: a view, or a float32 copy for float16/bfloat16."""
    if t.dtype in _HALF:
        t = t.float()
    return t.detach().numpy() if t.requires_grad else t.numpy()


def _tensor(a, dtype):
    """A NumPy result as a tensor of `dtype` (sharing memory when the dtype matches);
    a 0-d result stays 0-d (np.ascontiguousarray would make it 1-d)."""
    a = np.asarray(a)
    t = torch.from_numpy(a if a.flags.c_contiguous else np.ascontiguousarray(a))
    return t if t.dtype == dtype else t.to(dtype)


_NUMPY_DTYPES = {torch.float32: np.dtype(np.float32), torch.float64: np.dtype(np.float64)}


def _value(value, dtype):
    """The loss value (a float or an array) as a tensor of `dtype`."""
    if isinstance(value, np.ndarray):
        return _tensor(value, dtype)
    np_dtype = _NUMPY_DTYPES.get(dtype)
    if np_dtype is None:  # float16, bfloat16
        return torch.tensor(value, dtype=dtype)
    return torch.from_numpy(np.array(value, dtype=np_dtype))


# ---- the operators ----------------------------------------------------------------------

def _loss2_impl(loss_id, a, b, weight, where, need_grad):
    """(value, d value / d b) of a loss of two inputs (a, b) in its API order; the
    gradient is empty when need_grad is False."""
    loss, kind = _LOSSES[loss_id]
    value, grads = _adapters.call(
        loss, kind, (_array(a), _array(b)),
        None if weight is None else _array(weight),
        None if where is None else _array(where),
        need_grad,
    )
    grad = _tensor(grads[0], b.dtype) if need_grad else b.new_empty((0,))
    return _value(value, b.dtype), grad


@torch.library.custom_op("fastloss::loss2", mutates_args=(), device_types="cpu")
def _loss2(
    loss_id: int, a: torch.Tensor, b: torch.Tensor, weight: torch.Tensor | None,
    where: torch.Tensor | None, need_grad: bool,
) -> tuple[torch.Tensor, torch.Tensor]:
    """(value, d value / d b) of a loss of two inputs (a, b) in its API order."""
    return _loss2_impl(loss_id, a, b, weight, where, need_grad)


@_loss2.register_fake
def _loss2_fake(loss_id, a, b, weight, where, need_grad):
    loss, kind = _LOSSES[loss_id]
    value = b.new_empty(_adapters.value_shape(kind, loss.reduction, b.shape))
    return value, b.new_empty(b.shape if need_grad else (0,))


def _loss2_setup(ctx, inputs, output):
    loss, kind = _LOSSES[inputs[0]]
    ctx.kind, ctx.reduction, ctx.need_grad = kind, loss.reduction, inputs[-1]
    ctx.mark_non_differentiable(output[1])
    ctx.save_for_backward(output[1])
    # The gradient outputs never receive a gradient: without this, autograd would
    # fill a zero tensor of their size on every backward (170 ms for a 4096 x 32000
    # head).
    ctx.set_materialize_grads(False)


def _loss2_backward(ctx, grad_value, _grad_grad):
    _check_once(ctx)
    if not ctx.need_grad or grad_value is None:
        return None, None, None, None, None, None
    (grad,) = ctx.saved_tensors
    return None, None, _scale(ctx, grad_value, grad), None, None, None


_loss2.register_autograd(_loss2_backward, setup_context=_loss2_setup)


def _loss3_impl(loss_id, a, b, c, weight, need_grad):
    """(value, d/da, d/db, d/dc) of a loss of three inputs in its API order; the
    gradient of an input that takes none (Contrastive's `same`) is empty."""
    loss, kind = _LOSSES[loss_id]
    inputs = (a, b, c)
    value, grads = _adapters.call(
        loss, kind, tuple(_array(x) for x in inputs),
        None if weight is None else _array(weight), None, need_grad,
    )
    out = [x.new_empty((0,)) for x in inputs]
    if need_grad:
        for index, grad in zip(kind.differentiable, grads, strict=True):
            out[index] = _tensor(grad, inputs[index].dtype)
    return _value(value, b.dtype), *out


@torch.library.custom_op("fastloss::loss3", mutates_args=(), device_types="cpu")
def _loss3(
    loss_id: int, a: torch.Tensor, b: torch.Tensor, c: torch.Tensor,
    weight: torch.Tensor | None, need_grad: bool,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """(value, d/da, d/db, d/dc) of a loss of three inputs in its API order."""
    return _loss3_impl(loss_id, a, b, c, weight, need_grad)


@_loss3.register_fake
def _loss3_fake(loss_id, a, b, c, weight, need_grad):
    loss, kind = _LOSSES[loss_id]
    value = b.new_empty(_adapters.value_shape(kind, loss.reduction, b.shape))
    inputs = (a, b, c)
    grads = [
        x.new_empty(x.shape if need_grad and i in kind.differentiable else (0,))
        for i, x in enumerate(inputs)
    ]
    return value, *grads


def _loss3_setup(ctx, inputs, output):
    loss, kind = _LOSSES[inputs[0]]
    ctx.kind, ctx.reduction, ctx.need_grad = kind, loss.reduction, inputs[-1]
    ctx.mark_non_differentiable(*output[1:])
    ctx.save_for_backward(*output[1:])
    ctx.set_materialize_grads(False)  # as in _loss2_setup


def _loss3_backward(ctx, grad_value, *_grad_grads):
    _check_once(ctx)
    grads = [None, None, None]
    if ctx.need_grad and grad_value is not None:
        saved = ctx.saved_tensors
        for index in ctx.kind.differentiable:
            grads[index] = _scale(ctx, grad_value, saved[index])
    return None, *grads, None, None


_loss3.register_autograd(_loss3_backward, setup_context=_loss3_setup)


class _Loss2Eager(torch.autograd.Function):
    """The operator's implementation and autograd formula without the dispatcher:
    what eager mode runs (the dispatcher costs tens of microseconds per call)."""

    @staticmethod
    def forward(ctx, *inputs):
        output = _loss2_impl(*inputs)
        _loss2_setup(ctx, inputs, output)
        return output

    backward = staticmethod(_loss2_backward)


class _Loss3Eager(torch.autograd.Function):
    """As _Loss2Eager, for fastloss::loss3."""

    @staticmethod
    def forward(ctx, *inputs):
        output = _loss3_impl(*inputs)
        _loss3_setup(ctx, inputs, output)
        return output

    backward = staticmethod(_loss3_backward)


def _scale(ctx, grad_value, grad):
    """grad_output times the saved gradient (broadcast over rows for "none").

    A grad_output of exactly 1 (``backward()`` of a reduced loss) returns the saved
    gradient itself: autograd copies it only where a retained graph still holds it,
    and otherwise takes it as it is (3 ms of 21 ms for BCE from logits' forward and
    backward at 10^7 float32). Else the product is written into fastloss's recycled
    output memory where the dtypes allow: a fresh tensor of a language-model head's
    size costs a page fault per page (230 ms against 69 ms for the multiply alone at
    4096 x 32000 float32)."""
    plain = (type(grad) is torch.Tensor and type(grad_value) is torch.Tensor
             and not torch.compiler.is_compiling())  # not fake, functional or traced
    if ctx.reduction == "none":
        grad_value = grad_value.reshape(
            _adapters.cotangent_shape(ctx.kind, "none", grad.shape))
    elif plain and grad_value.dtype == grad.dtype and grad_value.item() == 1.0:
        return grad
    if (not plain or grad.dtype not in _NUMPY_DTYPES or grad_value.dtype != grad.dtype
            or grad.numel() * grad.element_size() < _common.RECYCLE_MIN_BYTES):
        return grad_value * grad
    out = torch.from_numpy(_common.empty_like(grad.numpy()))
    return torch.mul(grad_value, grad, out=out)


def _check_once(ctx):
    if torch.is_grad_enabled() and not torch.compiler.is_compiling():
        raise RuntimeError(
            "fastloss losses are differentiable once: the backward of a fastloss "
            "operator cannot itself be differentiated (create_graph=True, double "
            "backward, gradient penalties through the loss)"
        )


# ---- argument checks and the public functions -------------------------------------------

def _check_tensor(x, name):
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor; got {type(x).__name__}")
    if x.device.type != "cpu":
        raise ValueError(
            f"{name} is on device {x.device}: fastloss is a CPU library; move the "
            f"tensors to the CPU (.cpu()) or use the framework's own loss on {x.device}"
        )


def _check_float(x, name):
    if x.dtype not in _FLOATS:
        raise TypeError(
            f"{name} must be a floating-point tensor (float32, float64, float16 or "
            f"bfloat16); got {x.dtype}"
        )


def _needs_grad(*tensors):
    return torch.is_grad_enabled() and any(t.requires_grad for t in tensors)


def _two(loss_id, kind, a, b, weight, where):
    names = kind.inputs
    _check_tensor(a, names[0])
    _check_tensor(b, names[1])
    _check_float(b, names[1])
    if weight is not None:
        _check_tensor(weight, "weight")
    if where is not None:
        _check_tensor(where, "where")
    need_grad = _needs_grad(b)
    if torch.compiler.is_compiling():
        return torch.ops.fastloss.loss2(loss_id, a, b, weight, where, need_grad)[0]
    if need_grad:
        return _Loss2Eager.apply(loss_id, a, b, weight, where, True)[0]
    return _loss2_impl(loss_id, a, b, weight, where, False)[0]


def _three(loss_id, kind, a, b, c, weight):
    names = kind.inputs
    for x, name in ((a, names[0]), (b, names[1]), (c, names[2])):
        _check_tensor(x, name)
    diff = [x for i, x in enumerate((a, b, c)) if i in kind.differentiable]
    for x, name in zip(diff, (names[i] for i in kind.differentiable), strict=True):
        _check_float(x, name)
        if x.dtype != diff[0].dtype:
            raise TypeError(
                f"{', '.join(names[i] for i in kind.differentiable)} must share one dtype; "
                f"got {[str(x.dtype) for x in diff]}"
            )
    if weight is not None:
        _check_tensor(weight, "weight")
    need_grad = _needs_grad(*diff)
    if torch.compiler.is_compiling():
        return torch.ops.fastloss.loss3(loss_id, a, b, c, weight, need_grad)[0]
    if need_grad:
        return _Loss3Eager.apply(loss_id, a, b, c, weight, True)[0]
    return _loss3_impl(loss_id, a, b, c, weight, False)[0]


def _pred_target(loss_id, kind, input, target, weight=None):  # noqa: A002 (torch's name)
    return _two(loss_id, kind, target, input, weight, None)


def _ranking(loss_id, kind, relevance, scores, where=None, weight=None):
    return _two(loss_id, kind, relevance, scores, weight, where)


def _batch_triplet(loss_id, kind, labels, embeddings, weight=None):
    return _two(loss_id, kind, labels, embeddings, weight, None)


def _contrastive(loss_id, kind, same, x1, x2, weight=None):
    return _three(loss_id, kind, same, x1, x2, weight)


def _triplet(loss_id, kind, anchor, positive, negative, weight=None):
    return _three(loss_id, kind, anchor, positive, negative, weight)


def _margin(loss_id, kind, labels, embeddings, centres, weight=None):
    return _three(loss_id, kind, labels, embeddings, centres, weight)


_CALLS = {
    _adapters.ELEMENTWISE.name: _pred_target,
    _adapters.ROWWISE.name: _pred_target,
    _adapters.RANKING.name: _ranking,
    _adapters.BATCH_TRIPLET.name: _batch_triplet,
    _adapters.CONTRASTIVE.name: _contrastive,
    _adapters.TRIPLET.name: _triplet,
    _adapters.MARGIN.name: _margin,
}


def apply(loss, *args, **kwargs):
    """The value of `loss` over tensors, as a differentiable tensor op.

    ``apply(loss, input, target, weight=None)`` for elementwise and multi-class
    losses (torch's order: prediction first); Triplet ``(anchor, positive, negative,
    weight=None)``, Contrastive ``(same, x1, x2, weight=None)``, BatchTriplet
    ``(labels, embeddings, weight=None)``, ranking ``(relevance, scores, where=None,
    weight=None)``.

    Parameters
    ----------
    loss : fastloss loss
        Any fastloss loss object, e.g. ``fastloss.Huber(delta=2.0)``; its reduction
        applies.
    *args, **kwargs : torch.Tensor
        The inputs named above, CPU tensors; ``weight`` is the loss's
        ``sample_weight``.

    Returns
    -------
    torch.Tensor
        A 0-d tensor ("mean", "sum") or the per-element or per-row values ("none"),
        in the dtype of the (first) differentiable input.
    """
    kind = _adapters.kind_of(loss)
    return _CALLS[kind.name](_loss_id(loss), kind, *args, **kwargs)


class Module(torch.nn.Module):
    """A fastloss loss as an ``nn.Module`` (a drop-in criterion).

    ``Module(fl.Huber(delta=2.0))(input, target)`` equals
    ``nn.HuberLoss(delta=2.0)(input, target)``. ``forward`` takes the arguments of
    :func:`apply` (without the loss).

    Parameters
    ----------
    loss : fastloss loss
        Any fastloss loss object; its hyper-parameters and reduction apply.
    """

    def __init__(self, loss) -> None:
        super().__init__()
        # not through the property: nn.Module would keep an nn.Module given here (a
        # torch loss by mistake) as a submodule, without the check of _set_loss
        self._set_loss(loss)

    @property
    def loss(self):
        """The fastloss loss; assigning another one makes the module compute it."""
        return self._loss

    @loss.setter
    def loss(self, loss) -> None:
        self._set_loss(loss)

    def _set_loss(self, loss) -> None:
        self._kind = _adapters.kind_of(loss)
        self._call = _CALLS[self._kind.name]
        self._loss_id = _register(loss)
        self._loss = loss

    def forward(self, *args, **kwargs):
        return self._call(self._loss_id, self._kind, *args, **kwargs)

    def extra_repr(self) -> str:
        return repr(self.loss)

    def __setstate__(self, state):
        super().__setstate__(state)
        if "_loss" not in self.__dict__:  # pickled before `loss` became a property
            self.__dict__["_loss"] = self.__dict__.pop("loss")
        self._loss_id = _register(self._loss)  # the table is per process
