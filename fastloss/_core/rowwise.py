"""Row-wise losses: y_pred of shape (n, C), one loss per row (classes on the last axis).

RowwiseLoss is the counterpart of fastloss._core.base.ElementwiseLoss for the multi-class
kernels (fastloss._kernels.multiclass.pyx.tp): the same public methods (contract section 1,
from fastloss._core.base.OnePassLoss), with "none" returning one value per row (n,) and
sample weights one per row.

Targets are probability rows of y_pred's shape ("dense") or integer class labels of
shape (n,) ("sparse"); a subclass lists the kinds it accepts. The "mean" reduction
divides by sum_i w_i r_i, where r_i is the row weight: 1, or with class weights the
weight of the row's class (for soft targets sum_k t_k w_k, PyTorch's rule), and 0 for
an ignored label.
"""

from __future__ import annotations

import numpy as np

from fastloss._core import config as _config
from fastloss._core.base import OnePassLoss, Reduction, ValueT, blocked_weight_total
from fastloss._core.validation import (
    _to_ndarray,
    as_real_array,
    as_sample_weight,
    bad_value_error,
    check_same_shape,
)
from fastloss._kernels import common as _common
from fastloss._kernels import dispatch as _dispatch

_multiclass = _dispatch.load("multiclass")
_multiclass_short_rows = _dispatch.load("multiclass/short-rows")
_binary = _dispatch.load("binary")

#: The multi-class row kernels whose rows of at most SHORT_ROW_CLASSES classes run the
#: "multiclass/short-rows" handle (the kernel set fastloss._kernels.dispatch.PREFERRED
#: gives it; so do their small calls, at most ROW_BLOCK elements): the softmax rows
#: from logits and cosine similarity, whose short loops over a row ran slower with
#: 512-bit vectors.
SHORT_ROW_KERNELS = ("ce_logits", "kl_logits", "focal_logits", "poly_logits", "gce_logits",
                     "cosine_similarity")
SHORT_ROW_CLASSES = 256
_INT64 = np.dtype(np.int64)


def as_labels(y_true, n_rows, n_classes, ignore_index=None):
    """Integer class labels as C-contiguous int64 of shape (n_rows,).

    Any integer or bool dtype is accepted, and floats holding whole numbers. A label
    outside [0, n_classes) that is not ignore_index is a ValueError naming its index.
    """
    y = _to_ndarray(y_true, "y_true")
    if y.shape != (n_rows,):
        raise ValueError(
            f"y_true must hold one class label per row, shape ({n_rows},); got shape "
            f"{y.shape} (y_pred has {n_rows} rows)"
        )
    kind = y.dtype.kind
    requirement = f"a class label in [0, {n_classes})" + (
        "" if ignore_index is None else f" or ignore_index={ignore_index}"
    )
    if kind == "f":
        bad = ~(np.isfinite(y) & (y == np.round(y)) & (np.abs(y) < 2.0**62))
        if bad.any():
            raise bad_value_error("y_true", y, int(np.flatnonzero(bad)[0]), requirement)
    elif kind == "u" and y.dtype.itemsize == 8:
        too_big = y > np.iinfo(np.int64).max
        if too_big.any():
            raise bad_value_error("y_true", y, int(np.flatnonzero(too_big)[0]), requirement)
    elif kind not in "biu":
        raise TypeError(f"y_true must hold integer class labels; got dtype {y.dtype}")
    labels = y if y.dtype == _INT64 and y.flags.c_contiguous else np.ascontiguousarray(
        y, dtype=_INT64
    )
    index = _multiclass.first_bad_label(labels, n_classes, ignore_index)
    if index >= 0:
        raise bad_value_error("y_true", y, index, requirement)
    return labels


class RowwiseLoss(OnePassLoss[ValueT]):
    """A loss with one value per row of y_pred (n, C).

    Subclasses set `_targets` (a tuple of "dense" and/or "sparse") and implement
    `_kernel_spec(sparse)` -> (kernel name, param0, param1). They may set in
    `__init__`, before calling this one: `_per_class` (a float64 array of one value per
    class passed to the kernel, or None) and `_per_class_name` (the parameter it comes
    from), `_class_weights_rows` (True when _per_class holds class weights that define
    the row weights), `_ignore_index`, `_probability_input` (y_pred checked to lie
    in [0, 1]) and `_row_form` (a fixed row width and what a row holds).
    """

    _kernels = _multiclass
    _targets = ("dense",)
    _per_class = None
    _per_class_name = "class_weight"
    _class_weights_rows = False
    _ignore_index = None
    _probability_input = False
    #: (width, what a row holds) when y_pred's rows have a fixed width (boxes), else None
    _row_form = None
    #: The kernels' form of an overriding `_check_target_rows`, for call_small
    #: (TARGETS_BOXES, TARGETS_ANY); None: dense targets of such a class take the
    #: general path.
    _small_target_check = None
    _items = "rows"
    _zero_total = "rows whose weights (sample, class or ignored) sum to 0"

    def __init__(self, *, reduction: Reduction = "mean") -> None:
        super().__init__(reduction=reduction)
        self._kernel_calls = {}
        self._short_row_kernel = {}  # sparse? -> whether its kernel is in SHORT_ROW_KERNELS
        for kind in self._targets:
            name, *params = self._kernel_spec(kind == "sparse")
            params = tuple(float(v) for v in params) + (0.0,) * (2 - len(params))
            self._kernel_calls[kind == "sparse"] = (self._kernels.LOSS_IDS[name], *params)
            self._short_row_kernel[kind == "sparse"] = (
                self._kernels is _multiclass and name in SHORT_ROW_KERNELS)
        if self._small_calls_apply():
            check = (self._small_target_check
                     if type(self)._check_target_rows is not RowwiseLoss._check_target_rows
                     else self._kernels.TARGETS_UNIT)
            width = 0 if self._row_form is None else self._row_form[0]
            dense, sparse = (self._kernel_calls.get(key) for key in (False, True))
            spec = (None if dense is None or check is None else (*dense, check, width),
                    None if sparse is None else (*sparse, self._kernels.TARGETS_LABELS, width))
            if spec != (None, None):
                # small calls (at most ROW_BLOCK elements) of short-row kernels run
                # their part's set too
                kernels = (_multiclass_short_rows if all(self._short_row_kernel.values())
                           else self._kernels)
                self._small_call = kernels.call_small
                self._small_spec = spec

    def _small_calls_apply(self):
        """Whether the kernels' call_small may serve this loss: "mean" divides by the
        number of rows (no class weights or ignored labels), y_pred needs no check
        (logits or scores), and the inputs are prepared and run as here."""
        return (self._per_class is None and self._ignore_index is None
                and not self._probability_input and self._runs_as(RowwiseLoss))

    def _kernel_spec(self, sparse):
        raise NotImplementedError

    # -- inputs ---------------------------------------------------------------------

    def _check_target_rows(self, y):
        """ValueError for dense targets outside the loss's domain: probability rows."""
        check_unit(y, "y_true", nan_invalid=True)

    def _prepare(self, y_true, y_pred, sample_weight=None):
        """Validated (targets, predictions, weights or None, sparse?)."""
        p = as_real_array(y_pred, "y_pred")
        if self._row_form is not None and (p.ndim != 2 or p.shape[1] != self._row_form[0]):
            width, holds = self._row_form
            raise ValueError(
                f"y_pred must hold {holds}, shape (n, {width}); got shape {p.shape}")
        if p.ndim != 2 or p.shape[1] == 0:
            raise ValueError(
                "y_pred must be 2-D (n, C) with classes on the last axis and C >= 1; "
                f"got shape {p.shape}"
            )
        n, n_classes = p.shape
        y = _to_ndarray(y_true, "y_true")
        sparse = "sparse" in self._targets and (y.ndim == 1 or "dense" not in self._targets)
        if sparse:
            y = as_labels(y, n, n_classes, self._ignore_index)
        else:
            y = as_real_array(y, "y_true", p.dtype)
            if y.shape != p.shape:
                if "sparse" in self._targets:
                    raise ValueError(
                        f"y_true must be probability rows of y_pred's shape {p.shape} or "
                        f"class labels of shape ({n},); got shape {y.shape}"
                    )
                check_same_shape(y, p)
            self._check_target_rows(y)
        if self._per_class is not None and self._per_class.size != n_classes:
            raise ValueError(
                f"{self._per_class_name} has {self._per_class.size} values but y_pred has "
                f"{n_classes} classes (y_pred.shape={p.shape})"
            )
        if self._probability_input:
            check_unit(p, "y_pred (probabilities, from_logits=False)", nan_invalid=False)
        w = None
        if sample_weight is not None:
            w, _ = as_sample_weight(sample_weight, p.shape, rowwise=True)
        return y, p, w, sparse

    # -- kernel calls -----------------------------------------------------------------

    def _run(self, mode, inputs, out_a=None, out_b=None, scale=1.0, partials=None):
        y, p, w, sparse = inputs
        n, n_classes = p.shape
        n_threads = (
            _config.get_num_threads() if n * n_classes >= self._kernels.ROW_PARALLEL_MIN else 1
        )
        loss_id, a, b = self._kernel_calls[sparse]
        kernels = self._kernels
        if self._short_row_kernel[sparse] and n_classes <= SHORT_ROW_CLASSES:
            kernels = _multiclass_short_rows
        ignore = self._ignore_index
        in_range_ignore = float(ignore) if ignore is not None and 0 <= ignore < n_classes else -1.0
        return kernels.run(
            loss_id, mode, y, p, w, out_a, out_b, scale, a, b, in_range_ignore,
            self._per_class, n_threads, partials,
        )

    def _lightgbm_class_major(self, y_true, p, sample_weight, hessian_scale, hessian_floor):
        """LightGBM's multi-class objective for a summed plain sparse cross-entropy from
        logits (no class weights, smoothing, z-loss or ignore_index): p (n, C) F-contiguous
        float64 scores, C <= multiclass.CLASS_MAJOR_MAX_CLASSES; returns (w g, max(s w
        h, f w)) as F-contiguous float32 (LightGBM's layout; s = hessian_scale, f =
        hessian_floor), what gradient_hessian followed by the scale, the floor and a
        cast gives, without transposing anything. None where that kernel does not
        apply."""
        n, n_classes = p.shape
        loss_id, smoothing, z_loss = self._kernel_calls.get(True, (None, None, None))
        if not (self.reduction == "sum" and loss_id == self._kernels.LOSS_IDS["sce_logits"]
                and smoothing == 0.0 and z_loss == 0.0 and self._per_class is None
                and self._ignore_index is None
                and p.dtype == np.float64 and p.flags.f_contiguous
                and 1 <= n_classes <= self._kernels.CLASS_MAJOR_MAX_CLASSES):
            return None
        y = as_labels(y_true, n, n_classes)
        w = None if sample_weight is None else as_sample_weight(
            sample_weight, p.shape, rowwise=True)[0]
        # (C, n) C-ordered buffers seen transposed: F order, from the recycled memory
        g = _common.empty((n_classes, n), np.float32).T
        h = _common.empty((n_classes, n), np.float32).T
        n_threads = (
            _config.get_num_threads() if n * n_classes >= self._kernels.ROW_PARALLEL_MIN else 1
        )
        self._kernels.sparse_ce_class_major(y, p, w, g, h, hessian_scale, hessian_floor,
                                            n_threads)
        return g, h

    def _weight_total(self, inputs, partials=None):
        """sum_i w_i r_i (see the module docstring) and the number of rows."""
        _, p, w, sparse = inputs
        if (self._class_weights_rows and self._per_class is not None) or (
            sparse and self._ignore_index is not None
        ):
            total = self._run(self._kernels.MODE_ROW_WEIGHT_SUM, inputs, partials=partials)
            return total, p.shape[0]
        return blocked_weight_total(p.shape[0], w, self._block_items(p.shape), partials), p.shape[0]

    def _block_items(self, pred_shape):
        """Rows per reduction block (it depends on the number of classes)."""
        return self._kernels.rows_per_block(pred_shape[1])

    def _values_buffer(self, inputs):
        p = inputs[1]
        return np.empty(p.shape[0], dtype=p.dtype)


def check_unit(values, name, nan_invalid):
    """ValueError naming the first element outside [0, 1] (NaN too when nan_invalid)."""
    index = _binary.first_outside_unit(values, nan_invalid)
    if index >= 0:
        raise bad_value_error(name, values, index, "in [0, 1]")
