"""Plain NumPy reference implementations: the oracle of the tests, the baseline of
the benchmarks. Each loss `name` has `name(y_true, y_pred, *, <params>,
reduction="mean", sample_weight=None)` and `name_grad(...)` with the same arguments.
"""

import numpy as np


def _weights(sample_weight, shape):
    """Sample weights broadcast to `shape` ((n,) weights apply to whole rows)."""
    w = np.asarray(sample_weight, dtype=np.float64)
    if w.ndim == 1 and len(shape) > 1:
        w = w.reshape((-1,) + (1,) * (len(shape) - 1))
    return np.broadcast_to(w, shape)


def _reduce(terms, reduction, sample_weight):
    if sample_weight is None:
        if reduction == "none":
            return terms
        return float(np.sum(terms) if reduction == "sum" else np.mean(terms))
    w = _weights(sample_weight, terms.shape)
    if reduction == "none":
        return (w * terms).astype(terms.dtype)
    total = float(np.sum(w * terms))
    return total if reduction == "sum" else total / float(w.sum())


def _reduce_grad(grad, reduction, sample_weight):
    if sample_weight is None:
        return grad / grad.size if reduction == "mean" else grad
    w = _weights(sample_weight, grad.shape)
    scale = 1.0 / float(w.sum()) if reduction == "mean" else 1.0
    return (w * grad * scale).astype(grad.dtype)


def mse(y_true, y_pred, *, reduction="mean", sample_weight=None):
    """Mean squared error: (y_pred - y_true)^2."""
    e = np.asarray(y_pred) - np.asarray(y_true)
    return _reduce(e * e, reduction, sample_weight)


def mse_grad(y_true, y_pred, *, reduction="mean", sample_weight=None):
    e = np.asarray(y_pred) - np.asarray(y_true)
    return _reduce_grad(2 * e, reduction, sample_weight)


def huber(y_true, y_pred, *, delta=1.0, reduction="mean", sample_weight=None):
    """Huber: e^2/2 for |e| <= delta, delta (|e| - delta/2) beyond."""
    e = np.asarray(y_pred) - np.asarray(y_true)
    a = np.abs(e)
    terms = np.where(a <= delta, 0.5 * e * e, delta * (a - 0.5 * delta))
    return _reduce(terms, reduction, sample_weight)


def huber_grad(y_true, y_pred, *, delta=1.0, reduction="mean", sample_weight=None):
    e = np.asarray(y_pred) - np.asarray(y_true)
    return _reduce_grad(np.clip(e, -delta, delta), reduction, sample_weight)
