"""fastloss losses as XGBoost objectives and metrics (docs/boosting.rst).

Usage::

    import xgboost as xgb, fastloss as fl, fastloss.xgboost as fxgb
    loss = fl.BinaryFocal(gamma=2.0, from_logits=True)
    params = {"base_score": fxgb.init_score(loss, y)}   # start at the best constant
    booster = xgb.train(params, xgb.DMatrix(X, y), 100, obj=fxgb.objective(loss),
                        custom_metric=fxgb.metric(loss))

The objective and the metric take both of XGBoost's call forms: the native
``(predt, dtrain)`` of :func:`xgboost.train` and the scikit-learn
``(y_true, y_pred, sample_weight=None)`` of ``XGBRegressor(objective=...)``.
Raw scores (margins) come in, gradients and hessians of the summed, weighted loss go
out: ``(n,)`` for one output, ``(n, k)`` for k classes or outputs, as XGBoost lays
them out. Ranking losses take their lists from the DMatrix's query groups
(``qid=`` or ``group=``); ``XGBRanker`` refuses custom objectives, so ranking needs the
native API.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import xgboost as xgb
from numpy.typing import ArrayLike, NDArray

from fastloss import _boosting

__all__ = ["objective", "metric", "init_score", "XGBoostObjective", "XGBoostMetric"]

#: XGBoost's multi:softprob passes 2 p (1 - p) as the hessian of each class score.
MULTICLASS_HESSIAN_SCALE = 2.0


class XGBoostObjective:
    """A fastloss loss as an XGBoost objective (see :func:`objective`)."""

    def __init__(self, loss: Any, *, hessian_scale: float | None = None) -> None:
        self.loss = loss
        self._spec = _boosting.describe(loss)
        if hessian_scale is None:
            hessian_scale = (MULTICLASS_HESSIAN_SCALE if self._spec.kind == _boosting.MULTICLASS
                             else 1.0)
        self.hessian_scale = _boosting.hessian_scale_of(hessian_scale)
        self._lists = _boosting.ListCache()

    def __repr__(self) -> str:
        return f"fastloss.xgboost.objective({self.loss!r})"

    def __call__(
        self, y_true: Any, y_pred: Any, sample_weight: ArrayLike | None = None
    ) -> tuple[NDArray[np.floating[Any]], NDArray[np.floating[Any]]]:
        """(grad, hess) of the summed, weighted loss at the raw scores.

        Native API: ``(predt, dtrain)``; scikit-learn API:
        ``(y_true, y_pred, sample_weight=None)``.
        """
        spec = self._spec
        if isinstance(y_pred, xgb.DMatrix):
            preds, dtrain = y_true, y_pred
            labels, weight = dtrain.get_label(), dtrain.get_weight()
            group_ptr = dtrain.get_uint_info("group_ptr")
        else:
            preds, labels, weight, group_ptr = y_pred, y_true, sample_weight, None
        if spec.kind == _boosting.RANKING:
            lists = _lists_of(self._lists, group_ptr, np.size(preds))
            return _boosting.ranking_derivatives(spec, lists, labels, preds, weight)
        if spec.kind == _boosting.MULTICLASS:
            y, p = _boosting.multiclass_inputs(spec, labels, preds)
            return spec.derivatives(y, p, _boosting.sample_weights(weight, p.shape[0]),
                                    self.hessian_scale)
        y, p = _boosting.elementwise_inputs(spec, labels, preds)
        return spec.derivatives(y, p, _boosting.sample_weights(weight, p.shape[0]))


def _lists_of(cache, group_ptr, n):
    if group_ptr is None or np.size(group_ptr) < 2:
        raise _boosting.missing_groups_error(
            "XGBoost",
            "build the training DMatrix with qid= (or group=) and use xgboost.train(..., "
            "obj=...); the scikit-learn API does not pass groups to a custom objective "
            "and XGBRanker does not accept one",
        )
    ptr = np.asarray(group_ptr, dtype=np.int64)
    return cache.get(np.diff(ptr), n)


class XGBoostMetric:
    """A fastloss loss as an XGBoost evaluation metric (see :func:`metric`)."""

    def __init__(self, loss: Any, *, name: str | None = None) -> None:
        self.loss = loss
        self._spec = _boosting.describe(loss)
        self.__name__ = name if name is not None else self._spec.name
        self._lists = _boosting.ListCache()

    def __repr__(self) -> str:
        return f"fastloss.xgboost.metric({self.loss!r})"

    def __call__(
        self, y_true: Any, y_pred: Any, sample_weight: ArrayLike | None = None
    ) -> tuple[str, float] | float:
        """Native ``(predt, dtrain) -> (name, value)``; scikit-learn
        ``(y_true, y_pred, sample_weight=None) -> value``. Lower is better."""
        spec = self._spec
        native = isinstance(y_pred, xgb.DMatrix)
        if native:
            preds, dmat = y_true, y_pred
            labels, weight = dmat.get_label(), dmat.get_weight()
            group_ptr = dmat.get_uint_info("group_ptr")
        else:
            preds, labels, weight, group_ptr = y_pred, y_true, sample_weight, None
        if spec.kind == _boosting.RANKING:
            lists = _lists_of(self._lists, group_ptr, np.size(preds))
            value = _boosting.ranking_value(spec, lists, labels, preds, weight)
        else:
            inputs = (_boosting.multiclass_inputs if spec.kind == _boosting.MULTICLASS
                      else _boosting.elementwise_inputs)
            y, p = inputs(spec, labels, preds)
            value = spec.value(y, p, _boosting.sample_weights(weight, p.shape[0]))
        return (self.__name__, value) if native else value


def objective(loss: Any, *, hessian_scale: float | None = None) -> XGBoostObjective:
    """An XGBoost objective computing ``loss.gradient_hessian`` in one compiled pass.

    Parameters
    ----------
    loss : fastloss loss
        A regression, binary, multi-class or ranking loss of raw scores
        (``from_logits=True`` for classification, ``log_input=True`` for counts).
        Embedding losses raise TypeError.
    hessian_scale : float, optional
        Factor on the hessian of multi-class losses; default 2, as XGBoost's own
        ``multi:softprob`` (the diagonal p (1 - p) ignores the coupling of the
        classes). 1 passes fastloss's diagonal. Other losses: default 1.

    Returns
    -------
    XGBoostObjective
        Use as ``xgb.train(params, dtrain, obj=...)`` or
        ``XGBRegressor(objective=...)`` / ``XGBClassifier(objective=...)``. Returns
        ``(grad, hess)`` shaped like the raw scores: w_i g_i and the hessian of the
        policy in docs/boosting.rst (exact, surrogate, bound or floored).
    """
    return XGBoostObjective(loss, hessian_scale=hessian_scale)


def metric(loss: Any, *, name: str | None = None) -> XGBoostMetric:
    """The loss (``reduction="mean"``, weighted) as an XGBoost metric on raw scores.

    Parameters
    ----------
    loss : fastloss loss
        As for :func:`objective`.
    name : str, optional
        The metric's name in the evaluation log (default: the loss's class name).

    Returns
    -------
    XGBoostMetric
        ``custom_metric=`` of :func:`xgboost.train` (lower is better, XGBoost's
        default) or ``eval_metric=`` of the scikit-learn estimators. XGBoost passes
        raw scores to metrics when the objective is custom; with a built-in objective
        it passes transformed predictions, which this metric does not expect.
    """
    return XGBoostMetric(loss, name=name)


def init_score(
    loss: Any, y_true: ArrayLike, *, sample_weight: ArrayLike | None = None,
    n_classes: int | None = None,
) -> float | NDArray[np.float64]:
    """The loss-optimal constant raw score: argmin_c sum_i w_i l(y_i, c).

    With a custom objective XGBoost starts every sample at ``base_score`` (default:
    not estimated), not at the best constant. Pass this as ``base_score``: with
    ``xgb.train`` and no ``objective`` parameter (identity link) it is the raw score;
    with ``XGBClassifier`` (``binary:logistic``) pass the probability
    ``1 / (1 + exp(-c))``. For k classes it returns k scores (log class
    probabilities); set them as ``base_margin`` of the DMatrix (train and predict) or
    as a list ``base_score``.

    Parameters
    ----------
    loss : fastloss loss
        As for :func:`objective`.
    y_true : array-like
        Targets (n,) or (n, outputs); class labels (n,) for multi-class losses.
    sample_weight : array-like, optional
        One weight per sample.
    n_classes : int, optional
        Number of classes of a multi-class loss (default: largest label + 1).

    Returns
    -------
    float or ndarray
        A float for one output, one value per output or class otherwise; 0.0 for
        ranking losses (they depend on score differences only).
    """
    return _boosting.optimal_constant(loss, y_true, sample_weight, n_classes)
