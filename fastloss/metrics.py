"""Evaluation metrics, equal to scikit-learn's metric of the same name.

Classification: :func:`accuracy`, :func:`precision`, :func:`recall`, :func:`f1_score`
(``average`` "binary", "micro", "macro", "weighted" or None), :func:`roc_auc`,
:func:`average_precision`, :func:`log_loss`. Regression: :func:`rmse`, :func:`mae`,
:func:`r2`. Ranking, over lists on rows (``relevance`` and ``scores`` of shape
``(n_lists, list_size)``): :func:`ndcg_at_k`, :func:`mrr`, :func:`recall_at_k`.

Arguments are in scikit-learn's order, ``(y_true, y_pred_or_score, *, sample_weight,
...)``, and the results are scikit-learn's (``sklearn.metrics.accuracy_score``,
``precision_score``, ``recall_score``, ``f1_score``, ``roc_auc_score``,
``average_precision_score``, ``log_loss``, ``root_mean_squared_error``,
``mean_absolute_error``, ``r2_score``, ``ndcg_score``; :func:`mrr` is
``label_ranking_average_precision_score`` on lists with one relevant item and
:func:`recall_at_k` is ``top_k_accuracy_score`` on lists with one relevant item and
no ties). Labels are 1-D (no multi-label indicator matrices). Where scikit-learn warns
and returns nan (ROC AUC with one class in ``y_true``, average precision without
positives, R^2 of fewer than two samples) these raise ``ValueError``; empty input is
a ``ValueError`` everywhere.

Speed: ROC AUC and average precision sort the scores once (``np.argsort``, no stable
sort needed: tied scores are grouped, which makes the result exact for ties) and
integrate cumulative sums; label counts use ``np.bincount`` for integer labels;
RMSE and MAE use fastloss's kernels.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

import fastloss as fl
from fastloss._core.validation import MAX_GAIN_RELEVANCE

__all__ = [
    "accuracy", "precision", "recall", "f1_score", "roc_auc", "average_precision",
    "log_loss", "rmse", "mae", "r2", "ndcg_at_k", "mrr", "recall_at_k",
    "UndefinedMetricWarning",
]

_AVERAGES = ("binary", "micro", "macro", "weighted", None)
# Integer labels spanning at most this many values are counted with np.bincount.
_BINCOUNT_RANGE = 1 << 20


class UndefinedMetricWarning(UserWarning):
    """A precision, recall or F1 divided by zero and was set to ``zero_division``."""


# ---------------------------------------------------------------------------------
# Validation helpers
# ---------------------------------------------------------------------------------


def _array(name: str, values: ArrayLike) -> np.ndarray:
    try:
        array = np.asarray(values)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be array-like; got {type(values).__name__}") from exc
    if array.dtype == object:
        raise TypeError(f"{name} must be a numeric or string array; got dtype object")
    return array


def _labels_1d(name: str, values: ArrayLike) -> np.ndarray:
    array = _array(name, values)
    if array.ndim != 1:
        raise ValueError(f"{name} must be 1-D (one label per sample); got shape {array.shape}")
    if array.size == 0:
        raise ValueError(f"{name} is empty: a metric needs at least one sample")
    if array.dtype.kind == "f":
        if not np.all(np.isfinite(array)):
            raise ValueError(f"{name} contains NaN or infinity")
        if not np.array_equal(array, np.floor(array)):
            raise ValueError(
                f"{name} holds continuous values; classification metrics need labels "
                "(integers, booleans or strings)")
    elif array.dtype.kind not in "biuUS":
        raise TypeError(f"{name} must hold integer, boolean or string labels; got dtype "
                        f"{array.dtype}")
    return array


def _scores(name: str, values: ArrayLike, ndim: int | tuple[int, ...] = 1) -> np.ndarray:
    array = _array(name, values)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be numeric; got dtype {array.dtype}")
    ndims = (ndim,) if isinstance(ndim, int) else ndim
    if array.ndim not in ndims:
        raise ValueError(f"{name} must be {' or '.join(f'{d}-D' for d in ndims)}; got shape "
                         f"{array.shape}")
    if array.size == 0:
        raise ValueError(f"{name} is empty: a metric needs at least one sample")
    if array.dtype.kind != "f":
        array = array.astype(np.float64)
    return array


def _finite(name: str, array: np.ndarray) -> None:
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains NaN or infinity")


def _same_length(n: int, name: str, other: np.ndarray) -> None:
    if other.shape[0] != n:
        raise ValueError(f"y_true and {name} have different numbers of samples: "
                         f"{n} and {other.shape[0]}")


def _weights(sample_weight: ArrayLike | None, n: int) -> np.ndarray | None:
    if sample_weight is None:
        return None
    w = _array("sample_weight", sample_weight)
    if w.dtype.kind not in "biuf":
        raise TypeError(f"sample_weight must be numeric; got dtype {w.dtype}")
    w = w.astype(np.float64, copy=False)
    if w.shape != (n,):
        raise ValueError(f"sample_weight must have shape ({n},); got {w.shape}")
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        raise ValueError("sample_weight must be finite and non-negative")
    return w


def _compatible(a: np.ndarray, b: np.ndarray) -> None:
    strings = (a.dtype.kind in "US", b.dtype.kind in "US")
    if strings[0] != strings[1]:
        raise TypeError(f"labels mix strings and numbers: y_true has dtype {a.dtype}, "
                        f"y_pred has dtype {b.dtype}")


class _Encoded:
    """Labels as integer codes: codes index a range of `size` slots, `present` the
    slots of the sorted `classes` (numbers, booleans or strings)."""

    def __init__(self, *arrays: np.ndarray) -> None:
        numeric = all(a.dtype.kind in "biuf" for a in arrays)
        if numeric:
            lows = [a.min() for a in arrays]
            highs = [a.max() for a in arrays]
            low, high = min(lows), max(highs)
            if float(high) - float(low) < _BINCOUNT_RANGE:
                self.size = int(high) - int(low) + 1
                self.codes = [
                    (a.astype(np.intp) - int(low)) if a.dtype.kind == "f" or a.dtype == bool
                    else (a - a.dtype.type(low)).astype(np.intp, copy=False)
                    for a in arrays
                ]
                seen = np.zeros(self.size, dtype=bool)
                for codes in self.codes:
                    seen |= np.bincount(codes, minlength=self.size) > 0
                self.present = np.flatnonzero(seen)
                dtype = np.result_type(*arrays)
                self.classes = (self.present + int(low)).astype(dtype)
                return
        classes, inverse = np.unique(np.concatenate(arrays), return_inverse=True)
        bounds = np.cumsum([0, *(a.size for a in arrays)])
        self.codes = [inverse[lo:hi] for lo, hi in zip(bounds[:-1], bounds[1:], strict=True)]
        self.size = classes.size
        self.present = np.arange(classes.size)
        self.classes = classes

    def counts(self, codes: np.ndarray, weights: np.ndarray | None) -> np.ndarray:
        """Weighted count of each present class among `codes`."""
        return np.bincount(codes, weights=weights, minlength=self.size)[self.present].astype(
            np.float64)

    def slots(self, labels: np.ndarray) -> np.ndarray:
        """Index into `classes` of each label, -1 for labels that are not present."""
        index = np.searchsorted(self.classes, labels)
        index = np.minimum(index, self.classes.size - 1)
        found = self.classes[index] == labels
        return np.where(found, index, -1)


def _check_average(average: Any) -> None:
    if average not in _AVERAGES:
        raise ValueError(f"average must be one of {list(_AVERAGES)}; got {average!r}")


def _zero_division_value(zero_division: Any) -> float:
    if isinstance(zero_division, str):
        if zero_division == "warn":
            return 0.0
    elif isinstance(zero_division, (int, float)) and (
            zero_division in (0, 1) or math.isnan(zero_division)):
        return float(zero_division)
    raise ValueError(f'zero_division must be "warn", 0.0, 1.0 or nan; got {zero_division!r}')


def _divide(numerator: np.ndarray, denominator: np.ndarray, zero_division: Any,
            what: str) -> np.ndarray:
    zero = denominator == 0
    result = numerator / np.where(zero, 1.0, denominator)
    if zero.any():
        result[zero] = _zero_division_value(zero_division)
        if isinstance(zero_division, str):
            warnings.warn(
                f"{what} is ill-defined (a division by zero) for {int(zero.sum())} "
                "label(s) and set to 0.0; pass zero_division to choose the value",
                UndefinedMetricWarning, stacklevel=4)
    return result


def _average(values: np.ndarray, weights: np.ndarray | None) -> float:
    """scikit-learn's average of per-label scores: NaNs left out; weights summing to
    zero count as equal weights."""
    keep = ~np.isnan(values)
    if not keep.any():
        return math.nan
    values = values[keep]
    if weights is not None:
        weights = weights[keep]
        if weights.sum() > 0:
            return float(np.average(values, weights=weights))
    return float(np.mean(values))


# ---------------------------------------------------------------------------------
# Classification from labels
# ---------------------------------------------------------------------------------


def accuracy(y_true: ArrayLike, y_pred: ArrayLike, *, normalize: bool = True,
             sample_weight: ArrayLike | None = None) -> float:
    """Share (``normalize=True``) or weighted count of samples with ``y_pred == y_true``.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n,)
        Labels: integers, booleans, integral floats or strings.
    normalize : bool, default True
        The weighted mean (True) or the weighted sum (False) of the hits.
    sample_weight : array-like of shape (n,), optional
        Non-negative weights.

    Examples
    --------
    >>> from fastloss.metrics import accuracy
    >>> accuracy([0, 1, 2, 2], [0, 2, 2, 2])
    0.75
    """
    yt, yp = _labels_1d("y_true", y_true), _labels_1d("y_pred", y_pred)
    _same_length(yt.size, "y_pred", yp)
    _compatible(yt, yp)
    w = _weights(sample_weight, yt.size)
    hits = yt == yp
    if w is None:
        return float(np.mean(hits)) if normalize else float(np.count_nonzero(hits))
    total = float(np.dot(hits, w))
    if not normalize:
        return total
    if w.sum() == 0:
        raise ValueError("sample_weight sums to zero: the weighted accuracy is undefined")
    return total / float(w.sum())


def _confusion(y_true, y_pred, labels, pos_label, average, sample_weight):
    """(true count, predicted count, true positives) per label of interest."""
    _check_average(average)
    yt, yp = _labels_1d("y_true", y_true), _labels_1d("y_pred", y_pred)
    _same_length(yt.size, "y_pred", yp)
    _compatible(yt, yp)
    w = _weights(sample_weight, yt.size)
    enc = _Encoded(yt, yp)
    ct, cp = enc.codes
    true_count = enc.counts(ct, w)
    pred_count = enc.counts(cp, w)
    hit = ct == cp
    tp = enc.counts(ct[hit], None if w is None else w[hit])
    if average == "binary":
        if enc.classes.size > 2:
            raise ValueError(
                f"y_true and y_pred hold {enc.classes.size} labels but average='binary'; "
                "choose average='micro', 'macro', 'weighted' or None")
        if pos_label not in enc.classes.tolist() and enc.classes.size == 2:
            raise ValueError(f"pos_label={pos_label!r} is not a valid label; it should be "
                             f"one of {enc.classes.tolist()}")
        labels = [pos_label]
    if labels is None:
        return tp, true_count, pred_count
    wanted = np.asarray(labels)
    if wanted.ndim != 1 or wanted.size == 0:
        raise ValueError("labels must be a non-empty 1-D list of labels")
    try:
        index = enc.slots(wanted.astype(enc.classes.dtype))
    except (TypeError, ValueError) as exc:
        raise TypeError(f"labels {wanted.tolist()} are not of the labels' type") from exc

    def pick(counts):
        return np.where(index >= 0, counts[np.maximum(index, 0)], 0.0)

    return pick(tp), pick(true_count), pick(pred_count)


def _prf(metric, y_true, y_pred, labels, pos_label, average, sample_weight, zero_division):
    _zero_division_value(zero_division)
    tp, true_count, pred_count = _confusion(y_true, y_pred, labels, pos_label, average,
                                            sample_weight)
    support = true_count
    if average == "micro":
        tp, true_count, pred_count = (np.array([a.sum()]) for a in (tp, true_count,
                                                                     pred_count))
    if metric == "precision":
        scores = _divide(tp, pred_count, zero_division, "Precision")
    elif metric == "recall":
        scores = _divide(tp, true_count, zero_division, "Recall")
    else:
        scores = _divide(2.0 * tp, true_count + pred_count, zero_division, "F1")
    if average is None:
        return scores
    return _average(scores, support if average == "weighted" else None)


_PRF_PARAMETERS = """
    Parameters
    ----------
    y_true, y_pred : array-like of shape (n,)
        Labels: integers, booleans, integral floats or strings.
    labels : array-like, optional
        The labels to score and average over (default: every label of y_true and
        y_pred, sorted).
    pos_label : label, default 1
        The positive class of ``average="binary"``.
    average : {"binary", "micro", "macro", "weighted", None}, default "binary"
        "binary": the positive class only (at most two labels); "micro": from the
        counts summed over the labels; "macro": the unweighted mean over labels;
        "weighted": the mean weighted by each label's (weighted) number of true
        samples; None: one score per label.
    sample_weight : array-like of shape (n,), optional
        Non-negative weights.
    zero_division : "warn", 0.0, 1.0 or nan, default "warn"
        The score where it divides by zero ("warn": 0.0 and an
        :class:`UndefinedMetricWarning`).
"""


def precision(y_true: ArrayLike, y_pred: ArrayLike, *, labels: ArrayLike | None = None,
              pos_label: Any = 1, average: str | None = "binary",
              sample_weight: ArrayLike | None = None, zero_division: Any = "warn") -> Any:
    """Precision tp / (tp + fp): the share of the predicted positives that are positive.

    scikit-learn's ``precision_score``.
    {parameters}
    Examples
    --------
    >>> from fastloss.metrics import precision
    >>> precision([0, 1, 1, 0], [1, 1, 1, 0])
    0.666...
    """
    return _prf("precision", y_true, y_pred, labels, pos_label, average, sample_weight,
                zero_division)


def recall(y_true: ArrayLike, y_pred: ArrayLike, *, labels: ArrayLike | None = None,
           pos_label: Any = 1, average: str | None = "binary",
           sample_weight: ArrayLike | None = None, zero_division: Any = "warn") -> Any:
    """Recall tp / (tp + fn): the share of the positives that are predicted positive.

    scikit-learn's ``recall_score``.
    {parameters}
    Examples
    --------
    >>> from fastloss.metrics import recall
    >>> recall([0, 1, 1, 0], [1, 1, 0, 0])
    0.5
    """
    return _prf("recall", y_true, y_pred, labels, pos_label, average, sample_weight,
                zero_division)


def f1_score(y_true: ArrayLike, y_pred: ArrayLike, *, labels: ArrayLike | None = None,
             pos_label: Any = 1, average: str | None = "binary",
             sample_weight: ArrayLike | None = None, zero_division: Any = "warn") -> Any:
    """F1 = 2 tp / (2 tp + fp + fn), the harmonic mean of precision and recall.

    scikit-learn's ``f1_score``.
    {parameters}
    Examples
    --------
    >>> from fastloss.metrics import f1_score
    >>> f1_score([0, 1, 1, 0], [1, 1, 0, 0])
    0.5
    """
    return _prf("f1", y_true, y_pred, labels, pos_label, average, sample_weight,
                zero_division)


for _function in (precision, recall, f1_score):
    _function.__doc__ = _function.__doc__.replace("    {parameters}", _PRF_PARAMETERS)


# ---------------------------------------------------------------------------------
# Classification from scores
# ---------------------------------------------------------------------------------


def _binary_target(y_true: np.ndarray, pos_label: Any | None) -> np.ndarray:
    """y_true as booleans (True: positive). Without pos_label the larger of the two
    labels is the positive one; ValueError when y_true holds more than two labels."""
    if y_true.dtype == bool and pos_label is None:
        return y_true
    if y_true.dtype.kind in "biuf":
        low, high = y_true.min(), y_true.max()
        if not np.all((y_true == low) | (y_true == high)):
            raise ValueError("y_true holds more than two labels: these metrics are binary")
        present = [low] if low == high else [low, high]
    else:
        present = np.unique(y_true)
        if present.size > 2:
            raise ValueError("y_true holds more than two labels: these metrics are binary")
        present = present.tolist()
        high = present[-1]
    if pos_label is None:
        if len(present) == 2 or y_true.dtype.kind in "biuf":
            return y_true == high
        return np.zeros(y_true.shape, dtype=bool)
    if len(present) == 2 and pos_label not in present:
        raise ValueError(f"pos_label={pos_label!r} is not a valid label; it should be one "
                         f"of {[p.item() if hasattr(p, 'item') else p for p in present]}")
    return y_true == pos_label


def _threshold_counts(positive: np.ndarray, score: np.ndarray, w: np.ndarray | None):
    """(true positives, false positives) at each distinct threshold, highest first:
    the weighted counts of the samples scoring at least that threshold."""
    order = np.argsort(score)[::-1]
    ranked = score[order]
    ends = np.flatnonzero(ranked[1:] != ranked[:-1])
    ends = np.append(ends, ranked.size - 1)
    hits = positive[order]
    if w is None:
        tps = np.cumsum(hits, dtype=np.int64)[ends]
        fps = ends + 1 - tps
        return tps.astype(np.float64), fps.astype(np.float64)
    ranked_w = w[order]
    tps = np.cumsum(np.where(hits, ranked_w, 0.0))[ends]
    fps = np.cumsum(np.where(hits, 0.0, ranked_w))[ends]
    return tps, fps


def _score_inputs(y_true, y_score, sample_weight):
    yt = _labels_1d("y_true", y_true)
    ys = _scores("y_score", y_score)
    _same_length(yt.size, "y_score", ys)
    _finite("y_score", ys)
    return yt, ys, _weights(sample_weight, yt.size)


def roc_auc(y_true: ArrayLike, y_score: ArrayLike, *,
            sample_weight: ArrayLike | None = None) -> float:
    """Area under the ROC curve (true against false positive rate), binary ``y_true``.

    Tied scores count half (the trapezoid between thresholds), as in scikit-learn's
    ``roc_auc_score``; the larger of the two labels is the positive class.

    Parameters
    ----------
    y_true : array-like of shape (n,)
        Two labels (both must be present: ValueError otherwise).
    y_score : array-like of shape (n,)
        Scores of the positive class (probabilities, logits, any monotone score).
    sample_weight : array-like of shape (n,), optional
        Non-negative weights.

    Examples
    --------
    >>> from fastloss.metrics import roc_auc
    >>> roc_auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    0.75
    """
    yt, ys, w = _score_inputs(y_true, y_score, sample_weight)
    positive = _binary_target(yt, None)
    tps, fps = _threshold_counts(positive, ys, w)
    if tps[-1] == 0 or fps[-1] == 0:
        raise ValueError("only one class is present in y_true (or has weight): ROC AUC "
                         "is not defined in that case")
    # Trapezoids between consecutive thresholds, from the origin.
    d_fps = np.diff(fps, prepend=0.0)
    area = float(np.dot(d_fps, tps) - 0.5 * np.dot(d_fps, np.diff(tps, prepend=0.0)))
    return area / (float(tps[-1]) * float(fps[-1]))


def average_precision(y_true: ArrayLike, y_score: ArrayLike, *, pos_label: Any = 1,
                      sample_weight: ArrayLike | None = None) -> float:
    """Average precision: sum over thresholds of (R_t - R_{t-1}) P_t, binary ``y_true``.

    Thresholds are the distinct scores, highest first, so tied scores form one step;
    scikit-learn's ``average_precision_score``.

    Parameters
    ----------
    y_true : array-like of shape (n,)
        At most two labels; ``pos_label`` must be present (ValueError otherwise).
    y_score : array-like of shape (n,)
        Scores of the positive class.
    pos_label : label, default 1
        The positive class.
    sample_weight : array-like of shape (n,), optional
        Non-negative weights.

    Examples
    --------
    >>> from fastloss.metrics import average_precision
    >>> average_precision([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    0.833...
    """
    yt, ys, w = _score_inputs(y_true, y_score, sample_weight)
    positive = _binary_target(yt, pos_label)
    tps, fps = _threshold_counts(positive, ys, w)
    if tps[-1] == 0:
        raise ValueError(f"no positive sample (pos_label={pos_label!r}) with weight in "
                         "y_true: average precision is not defined")
    predicted = tps + fps
    precision_at = np.divide(tps, predicted, out=np.zeros_like(tps), where=predicted != 0)
    value = float(np.dot(np.diff(tps, prepend=0.0), precision_at)) / float(tps[-1])
    return max(0.0, value)


def log_loss(y_true: ArrayLike, y_proba: ArrayLike, *, normalize: bool = True,
             sample_weight: ArrayLike | None = None, labels: ArrayLike | None = None) -> float:
    """Cross-entropy of predicted probabilities: mean of -log p[i, y_i].

    Probabilities are clipped to [eps, 1 - eps] (eps of their dtype), as
    scikit-learn's ``log_loss`` does, so a confident mistake costs about 36 (float64)
    rather than infinity.

    Parameters
    ----------
    y_true : array-like of shape (n,)
        Labels; their sorted unique values (or ``labels``) name the columns of y_proba.
    y_proba : array-like of shape (n,) or (n, n_classes)
        Probabilities in [0, 1]; a 1-D array is the probability of the larger of two
        labels. Rows should sum to 1 (a UserWarning when they do not).
    normalize : bool, default True
        The weighted mean (True) or the weighted sum (False).
    sample_weight : array-like of shape (n,), optional
        Non-negative weights.
    labels : array-like, optional
        All class labels, when y_true does not hold every one.

    Examples
    --------
    >>> from fastloss.metrics import log_loss
    >>> round(log_loss([0, 1, 1], [0.2, 0.7, 0.9]), 6)
    0.228393
    """
    yt = _labels_1d("y_true", y_true)
    proba = _scores("y_proba", y_proba, (1, 2))
    _same_length(yt.size, "y_proba", proba)
    w = _weights(sample_weight, yt.size)
    _finite("y_proba", proba)
    if proba.max() > 1:
        raise ValueError(f"y_proba contains values greater than 1: {proba.max()}")
    if proba.min() < 0:
        raise ValueError(f"y_proba contains values lower than 0: {proba.min()}")
    if labels is None:
        enc = _Encoded(yt)
        classes, codes = enc.classes, np.searchsorted(enc.present, enc.codes[0])
        if classes.size == 1:
            raise ValueError(f"y_true contains only one label ({classes[0]!r}); pass every "
                             "class label through the labels argument")
    else:
        classes = np.unique(_labels_1d("labels", labels))
        if classes.size < 2:
            raise ValueError(f"labels must hold at least two labels; got {classes.tolist()}")
        _compatible(yt, classes)
        codes = np.searchsorted(classes, yt)
        if np.any(codes >= classes.size) or np.any(
                classes[np.minimum(codes, classes.size - 1)] != yt):
            raise ValueError("y_true contains labels that are not in labels")
    if proba.ndim == 2 and proba.shape[1] == 1:
        proba = proba[:, 0]
    eps = np.finfo(proba.dtype).eps
    if proba.ndim == 1:
        if classes.size != 2:
            raise ValueError(f"a 1-D y_proba needs two classes; y_true has {classes.size}")
        picked = np.where(codes == 1, proba, 1 - proba)
    else:
        if proba.shape[1] != classes.size:
            raise ValueError(f"y_proba has {proba.shape[1]} columns for {classes.size} "
                             f"classes {classes.tolist()}; pass labels to name them all")
        sums = proba.sum(axis=1)
        if not np.allclose(sums, 1.0, rtol=math.sqrt(eps), atol=0.0):
            warnings.warn("The y_proba rows do not sum to one; pass probabilities",
                          UserWarning, stacklevel=2)
        picked = np.take_along_axis(proba, codes[:, None], axis=1)[:, 0]
    losses = -np.log(np.clip(picked, eps, 1 - eps))
    if not normalize:
        return float(np.sum(losses if w is None else losses * w))
    return float(np.average(losses, weights=w))


# ---------------------------------------------------------------------------------
# Regression
# ---------------------------------------------------------------------------------


def _regression_inputs(y_true, y_pred, sample_weight):
    yt = _scores("y_true", y_true, (1, 2))
    yp = _scores("y_pred", y_pred, (1, 2))
    if yt.shape != yp.shape:
        raise ValueError(f"y_true and y_pred must have one shape; got {yt.shape} and "
                         f"{yp.shape}")
    w = _weights(sample_weight, yt.shape[0])
    if w is not None and w.sum() == 0:
        raise ValueError("sample_weight sums to zero: the weighted mean is undefined")
    if yt.dtype != yp.dtype:
        dtype = np.result_type(yt, yp)
        yt, yp = yt.astype(dtype), yp.astype(dtype)
    return yt, yp, w


def _multioutput(values: np.ndarray, multioutput: Any, n_outputs: int) -> Any:
    if isinstance(multioutput, str):
        if multioutput == "raw_values":
            return values
        if multioutput == "uniform_average":
            return float(np.mean(values))
        raise ValueError("multioutput must be 'raw_values', 'uniform_average' or an array "
                         f"of {n_outputs} weights; got {multioutput!r}")
    weights = np.asarray(multioutput, dtype=np.float64)
    if weights.shape != (n_outputs,):
        raise ValueError(f"multioutput weights must have shape ({n_outputs},); got "
                         f"{weights.shape}")
    return float(np.average(values, weights=weights))


def _column_means(loss: fl.MeanSquaredError | fl.MeanAbsoluteError, yt, yp, w):
    """Weighted mean of the elementwise loss, per output (column) for 2-D input."""
    if yt.ndim == 1:
        value = float(loss(yt, yp, sample_weight=w))
        if not math.isfinite(value):
            _finite("y_true", yt)
            _finite("y_pred", yp)
        return np.array([value])
    values = type(loss)(reduction="none")(yt, yp)
    means = np.average(values, axis=0, weights=w)
    if not np.all(np.isfinite(means)):
        _finite("y_true", yt)
        _finite("y_pred", yp)
    return means


def rmse(y_true: ArrayLike, y_pred: ArrayLike, *, sample_weight: ArrayLike | None = None,
         multioutput: Any = "uniform_average") -> Any:
    """Root mean squared error sqrt(sum w (y_pred - y_true)^2 / sum w), per output.

    scikit-learn's ``root_mean_squared_error``.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n,) or (n, n_outputs)
        Targets and predictions.
    sample_weight : array-like of shape (n,), optional
        Non-negative weights.
    multioutput : "uniform_average", "raw_values" or array of shape (n_outputs,)
        How the outputs' RMSEs are combined.

    Examples
    --------
    >>> from fastloss.metrics import rmse
    >>> rmse([0.0, 1.0], [1.0, 3.0])  # sqrt((1 + 4) / 2)
    1.58113...
    """
    yt, yp, w = _regression_inputs(y_true, y_pred, sample_weight)
    values = np.sqrt(_column_means(fl.MeanSquaredError(), yt, yp, w))
    return _multioutput(values, multioutput, values.size)


def mae(y_true: ArrayLike, y_pred: ArrayLike, *, sample_weight: ArrayLike | None = None,
        multioutput: Any = "uniform_average") -> Any:
    """Mean absolute error ``sum w |y_pred - y_true| / sum w``, per output.

    scikit-learn's ``mean_absolute_error``.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n,) or (n, n_outputs)
        Targets and predictions.
    sample_weight : array-like of shape (n,), optional
        Non-negative weights.
    multioutput : "uniform_average", "raw_values" or array of shape (n_outputs,)
        How the outputs' errors are combined.

    Examples
    --------
    >>> from fastloss.metrics import mae
    >>> mae([0.0, 1.0], [1.0, 3.0])
    1.5
    """
    yt, yp, w = _regression_inputs(y_true, y_pred, sample_weight)
    values = _column_means(fl.MeanAbsoluteError(), yt, yp, w)
    return _multioutput(values, multioutput, values.size)


def r2(y_true: ArrayLike, y_pred: ArrayLike, *, sample_weight: ArrayLike | None = None,
       multioutput: Any = "uniform_average", force_finite: bool = True) -> Any:
    """Coefficient of determination 1 - sum w (y - p)^2 / sum w (y - mean_w(y))^2.

    scikit-learn's ``r2_score``: with constant ``y_true`` (a zero denominator) the
    score is 1.0 for a perfect prediction and 0.0 otherwise (``force_finite=True``),
    or nan / -inf (``force_finite=False``).

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n,) or (n, n_outputs), n >= 2
        Targets and predictions.
    sample_weight : array-like of shape (n,), optional
        Non-negative weights.
    multioutput : "uniform_average", "raw_values", "variance_weighted" or array
        How the outputs' scores are combined; "variance_weighted" weighs each by the
        variance of its targets.
    force_finite : bool, default True
        Replace the nan and -inf of constant targets by 1.0 and 0.0.

    Examples
    --------
    >>> from fastloss.metrics import r2
    >>> r2([1.0, 2.0, 3.0], [1.0, 2.0, 4.0])
    0.5
    """
    yt, yp, w = _regression_inputs(y_true, y_pred, sample_weight)
    if yt.shape[0] < 2:
        raise ValueError(f"R^2 needs at least two samples; got {yt.shape[0]}")
    if yt.ndim == 1:
        # One pass of the fastloss kernel for the residuals, a BLAS dot for the spread.
        numerator = np.array([fl.MeanSquaredError(reduction="sum")(yt, yp, sample_weight=w)])
        centred = yt - np.average(yt, weights=w)
        weighted = centred if w is None else centred * w
        denominator = np.array([float(np.dot(weighted, centred))])
    else:
        weight = 1.0 if w is None else w[:, None]
        numerator = np.sum(weight * (yt - yp) ** 2, axis=0, dtype=np.float64)
        centred = yt - np.average(yt, axis=0, weights=w)
        denominator = np.sum(weight * centred**2, axis=0, dtype=np.float64)
    if not (np.all(np.isfinite(numerator)) and np.all(np.isfinite(denominator))):
        _finite("y_true", yt)
        _finite("y_pred", yp)
    nonzero_num, nonzero_den = numerator != 0, denominator != 0
    valid = nonzero_num & nonzero_den
    scores = np.ones(numerator.size)
    scores[valid] = 1 - numerator[valid] / denominator[valid]
    if force_finite:
        scores[nonzero_num & ~nonzero_den] = 0.0
    else:
        scores[nonzero_num & ~nonzero_den] = -np.inf
        scores[~nonzero_num & ~nonzero_den] = np.nan
    if isinstance(multioutput, str) and multioutput == "variance_weighted":
        if not np.any(nonzero_den):  # every output constant: equal weights
            return float(np.mean(scores))
        return float(np.average(scores, weights=denominator))
    return _multioutput(scores, multioutput, scores.size)


# ---------------------------------------------------------------------------------
# Ranking, one list per row
# ---------------------------------------------------------------------------------


def _lists(relevance: ArrayLike, scores: ArrayLike, sample_weight: ArrayLike | None):
    rel = _scores("relevance", relevance, 2)
    sc = _scores("scores", scores, 2)
    if rel.shape != sc.shape:
        raise ValueError(f"relevance and scores must have one shape (n_lists, list_size); "
                         f"got {rel.shape} and {sc.shape}")
    _finite("relevance", rel)
    _finite("scores", sc)
    if rel.min() < 0:
        raise ValueError("relevance must be non-negative")
    return rel, sc, _weights(sample_weight, rel.shape[0])


def _check_k(k: Any, required: bool) -> int | None:
    if k is None and not required:
        return None
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k must be an integer >= 1{'' if required else ' or None'}; "
                         f"got {k!r}")
    return int(k)


def ndcg_at_k(relevance: ArrayLike, scores: ArrayLike, *, k: int | None = None,
              sample_weight: ArrayLike | None = None, ignore_ties: bool = False,
              gains: str = "linear") -> float:
    """Mean NDCG@k over lists: DCG@k of the order by score / DCG@k of the ideal order.

    DCG@k = sum over the first k ranks r (from 0) of gain / log2(r + 2). Tied scores
    share the mean gain of their group over the ranks they span (McSherry & Najork
    2008), so the result does not depend on the order of tied items; a list without
    relevant items scores 0. ``gains="linear"`` (the relevance itself) is
    scikit-learn's ``ndcg_score``; ``"exponential"`` (2^relevance - 1) is the gain of
    :class:`fastloss.LambdaRank`, LightGBM and XGBoost.

    Parameters
    ----------
    relevance : array-like of shape (n_lists, list_size)
        Non-negative graded relevance; at least two items per list.
    scores : array-like of shape (n_lists, list_size)
        The model's scores.
    k : int, optional
        Only the first k ranks count (default: all).
    sample_weight : array-like of shape (n_lists,), optional
        Weights of the lists.
    ignore_ties : bool, default False
        Rank tied scores in an arbitrary order (faster; wrong where there are ties).
    gains : {"linear", "exponential"}, default "linear"
        The gain of an item of relevance r: r, or 2^r - 1.

    Examples
    --------
    >>> from fastloss.metrics import ndcg_at_k
    >>> round(ndcg_at_k([[3, 2, 0, 1]], [[0.9, 0.1, 0.5, 0.3]]), 6)
    0.915893
    """
    rel, sc, w = _lists(relevance, scores, sample_weight)
    k = _check_k(k, required=False)
    if gains not in ("linear", "exponential"):
        raise ValueError(f'gains must be "linear" or "exponential"; got {gains!r}')
    n, m = rel.shape
    if m < 2:
        raise ValueError(f"NDCG needs lists of at least two items; got list_size {m}")
    if gains == "exponential" and rel.max() > MAX_GAIN_RELEVANCE:
        raise ValueError(f"relevance must be <= {MAX_GAIN_RELEVANCE:g} with exponential "
                         f"gains (2^relevance - 1 must stay finite); got {float(rel.max())!r}")
    rel = rel.astype(np.float64)  # 2^1000 - 1 is finite only in double
    gain = rel if gains == "linear" else np.exp2(rel) - 1.0
    discount = 1.0 / np.log2(np.arange(m) + 2.0)
    if k is not None:
        discount[k:] = 0.0
    order = np.argsort(-sc, axis=1)
    ranked_gain = np.take_along_axis(gain, order, axis=1)
    if ignore_ties:
        dcg = ranked_gain @ discount
    else:
        ranked = np.take_along_axis(sc, order, axis=1)
        starts = np.ones((n, m), dtype=bool)
        starts[:, 1:] = ranked[:, 1:] != ranked[:, :-1]
        group = np.cumsum(starts.ravel()) - 1
        n_groups = int(group[-1]) + 1
        gain_sum = np.bincount(group, weights=ranked_gain.ravel(), minlength=n_groups)
        discount_sum = np.bincount(group, weights=np.broadcast_to(discount, (n, m)).ravel(),
                                   minlength=n_groups)
        size = np.bincount(group, minlength=n_groups)
        row = np.repeat(np.arange(n), starts.sum(axis=1))
        dcg = np.bincount(row, weights=gain_sum / size * discount_sum, minlength=n)
    ideal = -np.sort(-gain, axis=1) @ discount
    ndcg = np.divide(dcg, ideal, out=np.zeros(n), where=ideal != 0)
    return float(np.average(ndcg, weights=w))


def _ranked_lists(relevance, scores, sample_weight):
    rel, sc, w = _lists(relevance, scores, sample_weight)
    relevant = rel > 0
    has_relevant = relevant.any(axis=1)
    if not has_relevant.any():
        raise ValueError("no list has a relevant item (relevance > 0): the metric is "
                         "undefined")
    return relevant, sc, w, has_relevant


def _mean_over_lists(values, w, has_relevant):
    weights = None if w is None else w[has_relevant]
    if weights is not None and weights.sum() == 0:
        raise ValueError("the lists with relevant items have zero total weight")
    return float(np.average(values[has_relevant], weights=weights))


def mrr(relevance: ArrayLike, scores: ArrayLike, *, k: int | None = None,
        sample_weight: ArrayLike | None = None) -> float:
    """Mean reciprocal rank of the first relevant item (relevance > 0) of each list.

    The rank of the best-scored relevant item counts every non-relevant item scored
    at least as high (ties are pessimistic: scikit-learn's rule in
    ``label_ranking_average_precision_score``, which equals this metric on lists with
    one relevant item). Beyond rank k the reciprocal rank is 0. Lists without a
    relevant item are left out of the mean.

    Parameters
    ----------
    relevance : array-like of shape (n_lists, list_size)
        Non-negative relevance; items with relevance > 0 are relevant.
    scores : array-like of shape (n_lists, list_size)
        The model's scores.
    k : int, optional
        Cut-off rank (default: none).
    sample_weight : array-like of shape (n_lists,), optional
        Weights of the lists.

    Examples
    --------
    >>> from fastloss.metrics import mrr
    >>> mrr([[0, 1, 0], [1, 0, 0]], [[0.9, 0.5, 0.1], [0.8, 0.2, 0.3]])  # (1/2 + 1) / 2
    0.75
    """
    relevant, sc, w, has_relevant = _ranked_lists(relevance, scores, sample_weight)
    k = _check_k(k, required=False)
    best = np.where(relevant, sc, -np.inf).max(axis=1)
    rank = 1 + np.count_nonzero(~relevant & (sc >= best[:, None]), axis=1)
    reciprocal = 1.0 / rank
    if k is not None:
        reciprocal[rank > k] = 0.0
    return _mean_over_lists(reciprocal, w, has_relevant)


def recall_at_k(relevance: ArrayLike, scores: ArrayLike, *, k: int,
                sample_weight: ArrayLike | None = None) -> float:
    """Mean over lists of the share of relevant items ranked within the first k.

    An item is within the first k when at most k items (itself included) score at
    least as high (ties are pessimistic, so a constant scorer finds nothing). Lists
    without a relevant item are left out of the mean. With one relevant item per list
    and no ties this is scikit-learn's ``top_k_accuracy_score``.

    Parameters
    ----------
    relevance : array-like of shape (n_lists, list_size)
        Non-negative relevance; items with relevance > 0 are relevant.
    scores : array-like of shape (n_lists, list_size)
        The model's scores.
    k : int
        Cut-off rank.
    sample_weight : array-like of shape (n_lists,), optional
        Weights of the lists.

    Examples
    --------
    >>> from fastloss.metrics import recall_at_k
    >>> recall_at_k([[1, 0, 1, 0]], [[0.9, 0.8, 0.1, 0.5]], k=2)
    0.5
    """
    relevant, sc, w, has_relevant = _ranked_lists(relevance, scores, sample_weight)
    k = _check_k(k, required=True)
    m = sc.shape[1]
    if k >= m:
        found = relevant
    else:
        # Within the first k <=> scored above the (k+1)-th highest score.
        cut = -np.partition(-sc, k, axis=1)[:, k]
        found = relevant & (sc > cut[:, None])
    share = np.count_nonzero(found, axis=1) / np.maximum(relevant.sum(axis=1), 1)
    return _mean_over_lists(share, w, has_relevant)
