"""fastloss losses as CatBoost objectives and metrics (docs/boosting.rst).

Usage::

    import catboost as cb, fastloss as fl, fastloss.catboost as fcb
    loss = fl.BinaryFocal(gamma=2.0, from_logits=True)
    c = fcb.init_score(loss, y)                         # start at the best constant
    model = cb.CatBoost({"loss_function": fcb.objective(loss),
                         "eval_metric": fcb.metric(loss), "iterations": 100})
    model.fit(cb.Pool(X, y, baseline=np.full(len(y), c)))
    model.set_scale_and_bias(1.0, c)                    # predictions include c

CatBoost maximizes: its objectives return the negated first and second derivatives,
and so does this one. Objects of one score use CatBoost's vectorized path
(``calc_ders_range`` returning an (n, 2) array, one call per block of objects);
multi-class losses go through ``calc_ders_multi``, which CatBoost calls once per
object (see docs/boosting.rst for what that costs). Both objects carry ``no_jit`` so
CatBoost does not try to compile them with numba. CatBoost's Python interface passes
no query groups to objectives: ranking losses raise ValueError here.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from fastloss import _boosting

__all__ = ["objective", "metric", "init_score", "CatBoostObjective", "CatBoostMetric"]


def _spec_of(loss):
    spec = _boosting.describe(loss)
    if spec.kind == _boosting.RANKING:
        raise _boosting.missing_groups_error(
            "CatBoost", "its Python objective and metric interfaces receive objects without "
            "their query groups; use CatBoost's built-in ranking losses (YetiRank, "
            "PairLogit, QueryRMSE) or fastloss.lightgbm / fastloss.xgboost")
    return spec


class CatBoostObjective:
    """A fastloss loss as a CatBoost objective (see :func:`objective`)."""

    #: CatBoost compiles objectives with numba unless they carry this attribute.
    no_jit = True

    def __init__(self, loss: Any, *, hessian_scale: float | None = None) -> None:
        self.loss = loss
        self._spec = _spec_of(loss)
        if hessian_scale is None:
            hessian_scale = 1.0
        self.hessian_scale = _boosting.hessian_scale_of(hessian_scale)

    def __repr__(self) -> str:
        return f"fastloss.catboost.objective({self.loss!r})"

    def calc_ders_range(
        self, approxes: ArrayLike, targets: ArrayLike, weights: ArrayLike | None
    ) -> NDArray[np.float64]:
        """(n, 2) array of (-grad, -hess) per object: CatBoost's vectorized form."""
        spec = self._spec
        if spec.kind != _boosting.ELEMENTWISE:
            raise ValueError(
                f"{spec.name} is a multi-class loss: CatBoost calls calc_ders_range for "
                "models of one score per object; train a multi-class model "
                "(CatBoostClassifier with more than two classes, or classes_count)")
        y, p = _boosting.elementwise_inputs(spec, targets, approxes)
        g, h = spec.derivatives(y, p, _boosting.sample_weights(weights, p.shape[0]))
        out = np.empty((p.shape[0], 2), dtype=np.float64)
        np.negative(g, out=out[:, 0])
        np.negative(h, out=out[:, 1])
        return out

    def calc_ders_multi(
        self, approx: ArrayLike, target: float, weight: float
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """(-grad (k,), -hessian (k, k)) of one object of a multi-class model; the
        hessian matrix is diagonal (fastloss's diagonal, times hessian_scale)."""
        spec = self._spec
        if spec.kind != _boosting.MULTICLASS:
            raise ValueError(
                f"{spec.name} is a loss of one score per target: CatBoost's multi-target "
                "models are not supported by this adapter")
        p = np.asarray(approx, dtype=np.float64).reshape(1, -1)
        y, p = _boosting.multiclass_inputs(spec, np.array([target]), p)
        w = None if weight is None else np.array([weight], dtype=np.float64)
        g, h = spec.derivatives(y, p, w, self.hessian_scale)
        return -g[0], np.diag(-h[0])


class CatBoostMetric:
    """A fastloss loss as a CatBoost evaluation metric (see :func:`metric`)."""

    no_jit = True

    def __init__(self, loss: Any) -> None:
        self.loss = loss
        self._spec = _spec_of(loss)

    def __repr__(self) -> str:
        return f"fastloss.catboost.metric({self.loss!r})"

    def is_max_optimal(self) -> bool:
        """False: lower is better."""
        return False

    def evaluate(
        self, approxes: Any, target: ArrayLike, weight: ArrayLike | None
    ) -> tuple[float, float]:
        """(sum_i w_i l_i, sum_i w_i) over a block of objects."""
        spec = self._spec
        scores = [np.asarray(a, dtype=np.float64) for a in approxes]
        if spec.kind == _boosting.MULTICLASS:
            y, p = _boosting.multiclass_inputs(spec, target, np.stack(scores, axis=1))
            loss = spec.sparse if y.ndim == 1 else spec.summed
        else:
            if len(scores) != 1:
                raise ValueError(f"{spec.name} takes one score per object; CatBoost passed "
                                 f"{len(scores)}")
            y, p = _boosting.elementwise_inputs(spec, target, scores[0])
            loss = spec.summed
        w = _boosting.sample_weights(weight, p.shape[0])
        total = float(loss(y, p, sample_weight=w))
        return total, float(p.shape[0] if w is None else w.sum())

    def get_final_error(self, error: float, weight: float) -> float:
        """The weighted mean: error / weight."""
        return error / weight if weight > 0 else 0.0


def objective(loss: Any, *, hessian_scale: float | None = None) -> CatBoostObjective:
    """A CatBoost objective computing ``loss.gradient_hessian`` in one compiled pass.

    Parameters
    ----------
    loss : fastloss loss
        A regression, binary or multi-class loss of raw scores (``from_logits=True``,
        ``log_input=True``). Ranking losses raise ValueError (no groups reach CatBoost
        objectives), embedding losses TypeError.
    hessian_scale : float, optional
        Factor on the hessian of multi-class losses (default 1).

    Returns
    -------
    CatBoostObjective
        ``loss_function=`` of CatBoost, CatBoostRegressor or CatBoostClassifier.
    """
    return CatBoostObjective(loss, hessian_scale=hessian_scale)


def metric(loss: Any) -> CatBoostMetric:
    """The loss (``reduction="mean"``, weighted) as a CatBoost metric on raw scores.

    Parameters
    ----------
    loss : fastloss loss
        As for :func:`objective`.

    Returns
    -------
    CatBoostMetric
        ``eval_metric=`` (or an entry of ``custom_metric``); lower is better.
    """
    return CatBoostMetric(loss)


def init_score(
    loss: Any, y_true: ArrayLike, *, sample_weight: ArrayLike | None = None,
    n_classes: int | None = None,
) -> float | NDArray[np.float64]:
    """The loss-optimal constant raw score: argmin_c sum_i w_i l(y_i, c).

    With a custom objective CatBoost starts from 0. Train with
    ``Pool(..., baseline=np.full(n, c))`` (``np.tile(c, (n, 1))`` for k classes), then
    ``model.set_scale_and_bias(1.0, c)`` so that predictions include it.

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
        A float for one score per object, one value per class otherwise.
    """
    _spec_of(loss)
    return _boosting.optimal_constant(loss, y_true, sample_weight, n_classes)
