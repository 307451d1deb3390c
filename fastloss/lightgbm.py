"""fastloss losses as LightGBM objectives and metrics (docs/boosting.rst).

Usage::

    import lightgbm as lgb, fastloss as fl, fastloss.lightgbm as flgb
    loss = fl.BinaryFocal(gamma=2.0, from_logits=True)
    c = flgb.init_score(loss, y)                        # start at the best constant
    train = lgb.Dataset(X, y, init_score=np.full(len(y), c))
    booster = lgb.train({"objective": flgb.objective(loss)}, train, 100,
                        feval=flgb.metric(loss))
    raw = booster.predict(X_new) + c                    # LightGBM does not store c

The objective and the metric take every call form LightGBM documents: the native
``(preds, train_data)`` (``params["objective"] = callable``, ``feval=``) and the
scikit-learn ``(y_true, y_pred, weight, group)`` forms (LightGBM counts the
parameters: four, of which the last two are optional). Multi-class raw scores come
as LightGBM lays them out, an (n, k) view of its class-major buffer, and gradients go
back in that order as float32, so that LightGBM neither copies nor converts them
again. Ranking losses take their lists from the Dataset's ``group``.
"""

from __future__ import annotations

from typing import Any

import lightgbm as lgb
import numpy as np
from numpy.typing import ArrayLike, NDArray

from fastloss import _boosting
from fastloss._kernels import common as _common

__all__ = ["objective", "metric", "init_score", "LightGBMObjective", "LightGBMMetric"]


def multiclass_hessian_scale(k: int) -> float:
    """LightGBM's multiclass objective passes k / (k - 1) p (1 - p) as the hessian."""
    return k / (k - 1.0)


def _inputs(y_true, y_pred, weight, group):
    if isinstance(y_pred, lgb.Dataset):  # native: (preds, dataset)
        data = y_pred
        return y_true, data.get_label(), data.get_weight(), data.get_group()
    return y_pred, y_true, weight, group


def _lists_of(cache, group, n):
    if group is None or np.size(group) == 0:
        raise _boosting.missing_groups_error(
            "LightGBM", "pass group= to lgb.Dataset (or to LGBMRanker.fit / "
            "LGBMModel.fit), one size per query in document order")
    return cache.get(group, n)


def _fortran32(a):
    """(n, k) -> the class-major float32 LightGBM wants, in one pass, in the recycled
    memory of fastloss's outputs (LightGBM uses the gradients before the objective is
    called again; a fresh array would cost a page fault per page)."""
    if a.ndim != 2:
        return a
    out = _common.empty((a.shape[1], a.shape[0]), np.float32).T
    np.copyto(out, a, casting="same_kind")
    return out


class LightGBMObjective:
    """A fastloss loss as a LightGBM objective (see :func:`objective`)."""

    def __init__(self, loss: Any, *, hessian_scale: float | None = None) -> None:
        self.loss = loss
        self._spec = _boosting.describe(loss)
        self.hessian_scale = (None if hessian_scale is None
                              else _boosting.hessian_scale_of(hessian_scale))
        self._lists = _boosting.ListCache()

    def __repr__(self) -> str:
        return f"fastloss.lightgbm.objective({self.loss!r})"

    def __call__(
        self, y_true: Any, y_pred: Any, weight: ArrayLike | None = None,
        group: ArrayLike | None = None,
    ) -> tuple[NDArray[np.floating[Any]], NDArray[np.floating[Any]]]:
        """(grad, hess) of the summed, weighted loss at the raw scores.

        Native API: ``(preds, train_data)``; scikit-learn API:
        ``(y_true, y_pred[, weight[, group]])``.
        """
        spec = self._spec
        preds, labels, weight, group = _inputs(y_true, y_pred, weight, group)
        if spec.kind == _boosting.RANKING:
            lists = _lists_of(self._lists, group, np.size(preds))
            return _boosting.ranking_derivatives(spec, lists, labels, preds, weight)
        if spec.kind == _boosting.MULTICLASS:
            y, p = _boosting.multiclass_inputs(spec, labels, preds)
            scale = self.hessian_scale
            if scale is None:
                scale = multiclass_hessian_scale(p.shape[1])
            w = _boosting.sample_weights(weight, p.shape[0])
            derivatives = spec.lightgbm_class_major(y, p, w, scale)
            if derivatives is not None:
                return derivatives
            g, h = spec.derivatives(y, p, w, scale)
            return _fortran32(g), _fortran32(h)
        y, p = _boosting.elementwise_inputs(spec, labels, preds)
        if p.ndim != 1:
            raise ValueError(
                f"{spec.name} is an elementwise loss: LightGBM trains one raw score per "
                f"sample unless num_class > 1 (multi-class losses); got raw scores of "
                f"shape {p.shape}")
        return spec.derivatives(y, p, _boosting.sample_weights(weight, p.shape[0]))


class LightGBMMetric:
    """A fastloss loss as a LightGBM evaluation metric (see :func:`metric`)."""

    def __init__(self, loss: Any, *, name: str | None = None) -> None:
        self.loss = loss
        self._spec = _boosting.describe(loss)
        self.name = name if name is not None else self._spec.name
        self._lists = _boosting.ListCache()

    def __repr__(self) -> str:
        return f"fastloss.lightgbm.metric({self.loss!r})"

    def __call__(
        self, y_true: Any, y_pred: Any, weight: ArrayLike | None = None,
        group: ArrayLike | None = None,
    ) -> tuple[str, float, bool]:
        """``(name, value, is_higher_better=False)``: native ``(preds, eval_data)`` or
        scikit-learn ``(y_true, y_pred[, weight[, group]])``."""
        spec = self._spec
        preds, labels, weight, group = _inputs(y_true, y_pred, weight, group)
        if spec.kind == _boosting.RANKING:
            lists = _lists_of(self._lists, group, np.size(preds))
            value = _boosting.ranking_value(spec, lists, labels, preds, weight)
        else:
            inputs = (_boosting.multiclass_inputs if spec.kind == _boosting.MULTICLASS
                      else _boosting.elementwise_inputs)
            y, p = inputs(spec, labels, preds)
            value = spec.value(y, p, _boosting.sample_weights(weight, p.shape[0]))
        return self.name, value, False


def objective(loss: Any, *, hessian_scale: float | None = None) -> LightGBMObjective:
    """A LightGBM objective computing ``loss.gradient_hessian`` in one compiled pass.

    Parameters
    ----------
    loss : fastloss loss
        A regression, binary, multi-class or ranking loss of raw scores
        (``from_logits=True`` for classification, ``log_input=True`` for counts).
        Embedding losses raise TypeError.
    hessian_scale : float, optional
        Factor on the hessian of multi-class losses; default k / (k - 1), as
        LightGBM's own ``multiclass``. 1 passes fastloss's diagonal. Other losses:
        no factor.

    Returns
    -------
    LightGBMObjective
        Use as ``params["objective"]`` of :func:`lightgbm.train` (with ``num_class``
        for multi-class) or ``LGBMRegressor/LGBMClassifier/LGBMRanker(objective=...)``.
        Returns ``(grad, hess)``: w_i g_i and the hessian of the policy in
        docs/boosting.rst; for k classes (n, k) float32 in LightGBM's class-major order.
    """
    return LightGBMObjective(loss, hessian_scale=hessian_scale)


def metric(loss: Any, *, name: str | None = None) -> LightGBMMetric:
    """The loss (``reduction="mean"``, weighted) as a LightGBM metric on raw scores.

    Parameters
    ----------
    loss : fastloss loss
        As for :func:`objective`.
    name : str, optional
        The metric's name in the evaluation log (default: the loss's class name).

    Returns
    -------
    LightGBMMetric
        ``feval=`` of :func:`lightgbm.train` or ``eval_metric=`` of the scikit-learn
        estimators; returns ``(name, value, False)`` (lower is better). LightGBM passes
        raw scores when the objective is custom; with a built-in objective it passes
        transformed predictions, which this metric does not expect.
    """
    return LightGBMMetric(loss, name=name)


def init_score(
    loss: Any, y_true: ArrayLike, *, sample_weight: ArrayLike | None = None,
    n_classes: int | None = None,
) -> float | NDArray[np.float64]:
    """The loss-optimal constant raw score: argmin_c sum_i w_i l(y_i, c).

    With a custom objective LightGBM starts from 0 (``boost_from_average`` applies to
    built-in objectives only). Pass ``init_score=np.full(n, c)`` (or
    ``np.tile(c, (n, 1))`` for k classes) to every Dataset, and add ``c`` to
    ``predict(..., raw_score=True)``: LightGBM does not store init scores in the model.

    Parameters
    ----------
    loss : fastloss loss
        As for :func:`objective`.
    y_true : array-like
        Targets (n,); class labels (n,) for multi-class losses.
    sample_weight : array-like, optional
        One weight per sample.
    n_classes : int, optional
        Number of classes of a multi-class loss (default: largest label + 1).

    Returns
    -------
    float or ndarray
        A float for one output, one value per class (log class probabilities for the
        cross-entropy) for multi-class losses; 0.0 for ranking losses.
    """
    return _boosting.optimal_constant(loss, y_true, sample_weight, n_classes)
