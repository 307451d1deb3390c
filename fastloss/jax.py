"""fastloss losses as differentiable JAX functions (host callbacks).

``function(loss)`` returns a JAX function of the loss's own arguments, target first
as in fastloss and Keras::

    import fastloss as fl
    import fastloss.jax as flj

    huber = flj.function(fl.Huber(delta=2.0))
    value = huber(y_true, y_pred)                     # optax: huber_loss(y_pred, y_true)
    grads = jax.jit(jax.grad(lambda p: huber(y, p)))(p)

Elementwise and multi-class losses: ``f(y_true, y_pred, sample_weight=None)``;
Triplet ``f(anchor, positive, negative, sample_weight=None)``, Contrastive
``f(same, x1, x2, sample_weight=None)``, BatchTriplet ``f(labels, embeddings,
sample_weight=None)``, ranking ``f(relevance, scores, where=None,
sample_weight=None)``.

How: ``jax.pure_callback`` runs fastloss on the host, inside ``jit`` too, and
``jax.custom_vjp`` makes it differentiable: the forward of a differentiated call
computes the value and the gradient in one fused pass and keeps the gradient as the
residual; the backward is ``cotangent * gradient``. An undifferentiated call
computes the value alone. Targets, labels, masks and weights get a zero cotangent.
The function is differentiable once (no hessians through it).

vmap: the callback uses ``vmap_method="broadcast_all"``: a vmapped call is one host
callback that receives the inputs with the batch axes in front (unbatched inputs
broadcast along them) and loops over the batch, one fused fastloss call per
problem; results are stacked. Any nesting of ``vmap``, ``jit`` and ``grad`` works.

Dtypes: results have the dtype of the (first) differentiable input: float32 by
default, float64 with ``jax_enable_x64``; float16 and bfloat16 are computed in
float32 and returned in their own dtype.

Errors: shapes and dtypes are checked when the call is traced; values (a label out of
range, a target outside the loss's domain) on the host, inside the callback. An eager
call raises fastloss's own ValueError for them; inside ``jit``, JAX reports it as a
``JaxRuntimeError`` that carries fastloss's message.

Devices: fastloss runs on the CPU. On a GPU or TPU backend the callback still
works, but every call copies its inputs from the device to host memory and the
value and gradient back (and synchronises the device): use the framework's own loss
there.
"""

from __future__ import annotations

import threading

import jax
import jax.numpy as jnp
import numpy as np

from fastloss import _adapters

__all__ = ["function"]

_VMAP_METHOD = "broadcast_all"


def _dtype_name(dtype):
    return np.dtype(dtype).name


class _Call:
    """The static description of one call: loss, kind, shapes and dtypes."""

    def __init__(self, loss, kind, inputs, has_where, has_weight):
        self.loss, self.kind = loss, kind
        self.has_where, self.has_weight = has_where, has_weight
        self.ndims = tuple(x.ndim for x in inputs)
        diff = [inputs[i] for i in kind.differentiable]
        names = [kind.inputs[i] for i in kind.differentiable]
        for x, name in zip(diff, names, strict=True):
            _adapters.compute_dtype(_dtype_name(x.dtype), name)
        if len({x.dtype for x in diff}) > 1:
            raise TypeError(
                f"{', '.join(names)} must share one dtype; got "
                f"{[_dtype_name(x.dtype) for x in diff]}"
            )
        if kind is _adapters.ELEMENTWISE and inputs[0].shape != inputs[1].shape:
            raise ValueError(
                "y_true and y_pred must have the same shape; got "
                f"y_true.shape={inputs[0].shape} and y_pred.shape={inputs[1].shape}"
            )
        self.dtype = diff[0].dtype
        self.compute = np.dtype(_adapters.compute_dtype(_dtype_name(self.dtype), names[0]))
        self.value_spec = jax.ShapeDtypeStruct(
            _adapters.value_shape(kind, loss.reduction, diff[0].shape), self.dtype)
        self.grads_spec = tuple(jax.ShapeDtypeStruct(x.shape, self.dtype) for x in diff)
        self._failed = threading.local()

    def take_error(self):
        """The TypeError or ValueError the host callback raised last in this thread
        (JAX reports it as a JaxRuntimeError), or None; forgotten once taken."""
        error = getattr(self._failed, "error", None)
        self._failed.error = None
        return error

    # -- on the host --------------------------------------------------------------------

    def host(self, want_grad):
        def run(*arrays):
            try:
                return compute(*arrays)
            except (TypeError, ValueError) as error:  # bad values: see take_error
                self._failed.error = error
                raise

        def compute(*arrays):
            arrays = [np.asarray(a) for a in arrays]
            batch = arrays[0].shape[: arrays[0].ndim - self.ndims[0]]
            if not batch:
                return self._one(arrays, want_grad)
            size = int(np.prod(batch))
            flat = [a.reshape((size,) + a.shape[len(batch):]) for a in arrays]
            results = [self._one([a[i] for a in flat], want_grad) for i in range(size)]
            return jax.tree_util.tree_map(
                lambda *rs: np.stack(rs).reshape(batch + rs[0].shape), *results)
        return run

    def _one(self, arrays, want_grad):
        n = len(self.ndims)
        inputs = list(arrays[:n])
        for i in self.kind.differentiable:
            if inputs[i].dtype != self.compute:
                inputs[i] = inputs[i].astype(self.compute)
        rest = arrays[n:]
        where = rest.pop(0) if self.has_where else None
        weight = rest.pop(0) if self.has_weight else None
        value, grads = _adapters.call(
            self.loss, self.kind, inputs, weight, where, want_grad)
        value = np.asarray(value, dtype=self.dtype)
        if not want_grad:
            return value
        return value, tuple(np.asarray(g, dtype=self.dtype) for g in grads)

    # -- in JAX ---------------------------------------------------------------------------

    def value(self, operands):
        return jax.pure_callback(
            self.host(False), self.value_spec, *operands, vmap_method=_VMAP_METHOD)

    def value_and_grads(self, operands):
        return jax.pure_callback(
            self.host(True), (self.value_spec, self.grads_spec), *operands,
            vmap_method=_VMAP_METHOD)


def _make(call):
    """The custom_vjp function of the operands (inputs..., [where], [weight])."""

    @jax.custom_vjp
    def f(*operands):
        return call.value(operands)

    def fwd(*operands):
        _adapters.check_differentiable(call.loss, call.kind)
        value, grads = call.value_and_grads(operands)
        return value, grads

    def bwd(grads, g):
        shape = _adapters.cotangent_shape(call.kind, call.loss.reduction, grads[0].shape)
        scaled = iter([jnp.reshape(g, shape) * grad for grad in grads])
        n_inputs = len(call.ndims)
        n_operands = n_inputs + call.has_where + call.has_weight
        cotangents = [
            next(scaled) if i in call.kind.differentiable else None
            for i in range(n_inputs)
        ]
        return (*cotangents, *([None] * (n_operands - n_inputs)))

    f.defvjp(fwd, bwd)
    return f


def function(loss):
    """A differentiable JAX function computing `loss` (see the module docstring).

    Parameters
    ----------
    loss : fastloss loss
        Any fastloss loss object, e.g. ``fastloss.Huber(delta=2.0)``; its
        hyper-parameters and reduction apply.

    Returns
    -------
    callable
        ``f(y_true, y_pred, sample_weight=None)`` (or the loss's own inputs, see the
        module docstring) returning a 0-d array ("mean", "sum") or the per-element
        or per-row values ("none"), usable under ``jit``, ``grad``,
        ``value_and_grad`` and ``vmap``.
    """
    kind = _adapters.kind_of(loss)
    cache = {}

    def compute(inputs, where, sample_weight):
        inputs = tuple(jnp.asarray(x) for x in inputs)
        if where is not None:
            where = jnp.asarray(where)
            if where.dtype != jnp.bool_:
                raise TypeError(f"where must be a boolean array; got dtype {where.dtype}")
        if sample_weight is not None:
            sample_weight = jnp.asarray(sample_weight)
        key = (
            tuple((x.shape, x.dtype) for x in inputs), where is not None,
            sample_weight is not None,
        )
        cached = cache.get(key)
        if cached is None:
            call = _Call(loss, kind, inputs, where is not None, sample_weight is not None)
            cached = cache[key] = jax.jit(_make(call)), call  # eager calls: no retracing
        f, call = cached
        operands = inputs + tuple(x for x in (where, sample_weight) if x is not None)
        try:
            return f(*operands)
        except (jax.errors.JaxRuntimeError, TypeError, ValueError):
            # An input the host rejected (a label out of range, a target outside the
            # loss's domain): the error itself, as fastloss raises it, where the call
            # runs eagerly. Inside an outer jit, JAX reports it at run time. JAX wraps it
            # in a JaxRuntimeError, or on a compiled function's later calls in a
            # ValueError whose message holds the host's traceback.
            error = call.take_error()
            if error is None:
                raise
            raise error from None

    if kind.has_where:
        def fn(relevance, scores, where=None, sample_weight=None):
            return compute((relevance, scores), where, sample_weight)
    elif kind is _adapters.TRIPLET:
        def fn(anchor, positive, negative, sample_weight=None):
            return compute((anchor, positive, negative), None, sample_weight)
    elif kind is _adapters.CONTRASTIVE:
        def fn(same, x1, x2, sample_weight=None):
            return compute((same, x1, x2), None, sample_weight)
    elif kind is _adapters.MARGIN:
        def fn(labels, embeddings, weight, sample_weight=None):
            return compute((labels, embeddings, weight), None, sample_weight)
    elif kind is _adapters.BATCH_TRIPLET:
        def fn(labels, embeddings, sample_weight=None):
            return compute((labels, embeddings), None, sample_weight)
    else:
        def fn(y_true, y_pred, sample_weight=None):
            return compute((y_true, y_pred), None, sample_weight)

    fn.__doc__ = f"{loss!r} as a differentiable JAX function of {', '.join(kind.inputs)}."
    fn.loss = loss
    return fn
