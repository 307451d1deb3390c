"""fastloss losses as Keras 3 losses, for the torch and jax backends.

``Loss(loss)`` is a ``keras.losses.Loss``; pass it to ``model.compile``::

    import fastloss as fl
    import fastloss.keras as flk

    model.compile(optimizer="adam", loss=flk.Loss(fl.Huber(delta=2.0)))  # keras.losses.Huber(2.0)

Keras's own conventions apply: ``(y_true, y_pred)`` order (fastloss's),
``sample_weight`` given to ``fit``/``__call__`` (its shape must broadcast to the
per-sample values', else ValueError), masks, and the ``reduction`` argument
(``"sum_over_batch_size"`` by default). ``call`` returns one value per
sample, computed by fastloss with ``reduction="none"`` (the fastloss loss's own
reduction is replaced): per row for multi-class and ranking losses, and for
elementwise losses the mean over the last axis of a 2-D or higher ``y_pred``, as
Keras's built-in losses do. Sparse labels of shape ``(n, 1)`` are accepted as
``(n,)``. The rows a sparse loss's ``ignore_index`` names are masked, as with
Keras's ``ignore_class``: the reduction counts only the others.
:class:`fastloss.BatchTriplet` (``y_true`` = labels, ``y_pred`` = embeddings) has no
per-sample values: it applies its own reduction over mined
triplets to the batch, with ``sample_weight`` as fastloss's per-anchor weights.
Contrastive and Triplet take three inputs and have no Keras form.

Backends: with ``KERAS_BACKEND=torch`` the loss is :func:`fastloss.torch.apply`,
with ``jax`` :func:`fastloss.jax.function` (both differentiable, usable in
``model.fit`` and its compiled train step). The TensorFlow backend is not supported:
calling the loss raises a NotImplementedError (TensorFlow is not a dependency and
has no counterpart of these adapters here).
"""

from __future__ import annotations

import keras
import numpy as np

import fastloss as fl
from fastloss import _adapters

__all__ = ["Loss"]

_SUPPORTED = (_adapters.ELEMENTWISE, _adapters.ROWWISE, _adapters.RANKING,
              _adapters.BATCH_TRIPLET)


class Loss(keras.losses.Loss):
    """A fastloss loss as a ``keras.losses.Loss`` (torch and jax backends).

    Parameters
    ----------
    loss : fastloss loss
        A fastloss loss of ``(y_true, y_pred)`` (regression, binary, multi-class),
        of ``(relevance, scores)`` (ranking, without ``where``), BatchTriplet or
        SupCon; its hyper-parameters apply, its reduction is replaced by Keras's.
    reduction : str or None
        Keras's reduction of the per-sample values: ``"sum_over_batch_size"``
        (default), ``"sum"``, ``"mean"``, ``"mean_with_sample_weight"``, ``"none"``
        or None. BatchTriplet and SupCon accept only the default (their own
        reduction over the batch applies).
    name : str, optional
        The loss's name (default: ``fastloss_`` and the class name).
    dtype : str, optional
        Keras's compute dtype of the loss (default: ``keras.backend.floatx()``).
    """

    def __init__(self, loss, reduction="sum_over_batch_size", name=None, dtype=None):
        kind = _adapters.kind_of(loss)
        if kind not in _SUPPORTED:
            raise TypeError(
                f"{type(loss).__name__} takes the inputs {kind.inputs}, which do not fit "
                "Keras's (y_true, y_pred); use fastloss.torch or fastloss.jax directly"
            )
        if kind is _adapters.BATCH_TRIPLET and reduction != "sum_over_batch_size":
            raise ValueError(
                f"{type(loss).__name__} applies its own reduction over the batch: leave "
                f"Keras's reduction at its default; got reduction={reduction!r}"
            )
        super().__init__(name=name or f"fastloss_{type(loss).__name__}",
                         reduction=reduction, dtype=dtype)
        self.loss = loss
        self._kind = kind
        # the multi-class losses of integer labels (Sparse*, NLL, MultiMargin)
        self._sparse = getattr(loss, "_targets", None) == ("sparse",)
        # integer labels: those, and the multi-class Dice and Tversky (n, ...) labels
        self._labels = self._sparse or getattr(loss, "multiclass", False)
        per_sample = loss if kind is _adapters.BATCH_TRIPLET else (
            _adapters.with_reduction(loss, "none"))
        self._per_sample = per_sample
        self._jax_function = None

    # -- the backends ----------------------------------------------------------------

    def _compute(self, y_true, y_pred, sample_weight=None):
        backend = keras.backend.backend()
        if backend == "torch":
            from fastloss import torch as fastloss_torch

            if self._kind in (_adapters.ELEMENTWISE, _adapters.ROWWISE):
                return fastloss_torch.apply(self._per_sample, y_pred, y_true, sample_weight)
            return fastloss_torch.apply(self._per_sample, y_true, y_pred, weight=sample_weight)
        if backend == "jax":
            if self._jax_function is None:
                from fastloss import jax as fastloss_jax

                self._jax_function = fastloss_jax.function(self._per_sample)
            return self._jax_function(y_true, y_pred, sample_weight=sample_weight)
        raise NotImplementedError(
            f"fastloss.keras supports the torch and jax Keras backends; the {backend!r} "
            "backend is not supported (set KERAS_BACKEND=torch or KERAS_BACKEND=jax)"
        )

    def _targets(self, y_true, y_pred):
        """y_true as fastloss expects it: integer labels of shape (n,) (Keras passes
        them as floats, and of shape (n, 1) too), elementwise targets of y_pred's shape."""
        true_rank, pred_rank = len(y_true.shape), len(y_pred.shape)
        if self._labels or self._kind is _adapters.BATCH_TRIPLET:
            if true_rank == 2 and y_true.shape[-1] == 1:
                y_true = keras.ops.reshape(y_true, (-1,))
            return keras.ops.cast(y_true, "int32")  # Keras passes labels as floats
        elif self._kind is _adapters.ELEMENTWISE and true_rank != pred_rank:
            if abs(true_rank - pred_rank) == 1 and int(np.prod(y_true.shape)) == int(
                    np.prod(y_pred.shape)):
                return keras.ops.reshape(y_true, y_pred.shape)
        return y_true

    def call(self, y_true, y_pred):
        """Per-sample values: one per row (the mean over the last axis for
        elementwise losses of a 2-D or higher y_pred)."""
        targets = self._targets(y_true, y_pred)
        values = self._compute(targets, y_pred)
        if self._kind is _adapters.ELEMENTWISE and len(values.shape) >= 2:
            values = keras.ops.mean(values, axis=-1)
        ignored = self.loss.get_params().get("ignore_index") if self._sparse else None
        if ignored is not None:
            # as Keras's own ignore_class: the ignored rows (value 0) are masked, so
            # that Keras's reduction counts only the others
            from keras.src.backend import set_keras_mask

            set_keras_mask(values, keras.ops.not_equal(targets, ignored))
        return values

    def _check_sample_weight(self, y_pred, sample_weight):
        """Keras multiplies the per-sample values by sample_weight, broadcast; a shape
        that does not broadcast to theirs is a ValueError here, not the backend's
        error from inside Keras."""
        if sample_weight is None or self._kind is _adapters.BATCH_TRIPLET:
            return  # BatchTriplet: fastloss's per-anchor weights, checked by the loss
        pred_shape = tuple(int(d) for d in np.shape(y_pred))
        if self._kind is _adapters.ELEMENTWISE:
            values_shape = pred_shape[:-1] if len(pred_shape) >= 2 else pred_shape
        else:
            values_shape = pred_shape[:1]
        weight_shape = tuple(int(d) for d in np.shape(sample_weight))
        if len(weight_shape) == len(values_shape) + 1 and weight_shape[-1] == 1:
            weight_shape = weight_shape[:-1]  # Keras squeezes (n, 1) to (n,)
        try:
            fits = np.broadcast_shapes(weight_shape, values_shape) == values_shape
        except ValueError:
            fits = False
        if not fits:
            raise ValueError(
                f"sample_weight of shape {tuple(np.shape(sample_weight))} does not broadcast "
                f"to the per-sample values' shape {values_shape} (y_pred: {pred_shape})"
            )

    def __call__(self, y_true, y_pred, sample_weight=None):
        self._check_sample_weight(y_pred, sample_weight)
        if self._kind is not _adapters.BATCH_TRIPLET:
            return super().__call__(y_true, y_pred, sample_weight=sample_weight)
        y_pred = keras.ops.convert_to_tensor(y_pred, dtype=self.dtype)
        y_true = keras.ops.convert_to_tensor(y_true)
        if sample_weight is not None:
            sample_weight = keras.ops.reshape(
                keras.ops.convert_to_tensor(sample_weight, dtype=self.dtype), (-1,))
        return self._compute(self._targets(y_true, y_pred), y_pred, sample_weight)

    # -- serialization ---------------------------------------------------------------

    def get_config(self):
        params = {
            key: value.tolist() if isinstance(value, np.ndarray) else value
            for key, value in self.loss.get_params().items()
        }
        return {**super().get_config(), "loss_class": type(self.loss).__name__,
                "loss_params": params}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        loss = getattr(fl, config.pop("loss_class"))(**config.pop("loss_params"))
        return cls(loss, **config)
