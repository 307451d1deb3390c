"""The training loop :func:`fit`, with gradient diagnostics and a progress bar."""

from __future__ import annotations

import math
import sys
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from fastloss import metrics as _metrics
from fastloss.training.callbacks import EarlyStopping, History
from fastloss.training.optimizers import Adam, Optimizer, _number, sum_of_squares
from fastloss.training.schedules import ReduceLROnPlateau

__all__ = ["fit", "GradientWarning", "VANISHING_RATIO", "EXPLODING_RATIO", "METRICS"]

# A layer's gradient norm below this share of the output layer's: vanishing gradients.
VANISHING_RATIO = 1e-3
# An epoch's gradient norm above this multiple of the smallest so far, with the
# training loss above its first value: exploding gradients.
EXPLODING_RATIO = 100.0
# Runs of at least this many steps (epochs x batches) get a progress bar by default.
LONG_RUN_STEPS = 2000
EXTRA = 'pip install "fastloss[training]"'


class GradientWarning(RuntimeWarning):
    """Vanishing or exploding gradients found by :func:`fit`."""


ADVICE = {
    "exploding": (
        "Lower the learning rate (or add a warm-up: cosine_lr(..., warmup_steps=...)), "
        "clip the gradients (fit(..., clip_norm=1.0) or clip_value=...), standardize the "
        "inputs and targets, and check the initialization (init='he' for relu, "
        "'xavier' for tanh/sigmoid)."),
    "vanishing": (
        "Use relu (or tanh) rather than sigmoid in the hidden layers, He initialization "
        "for relu (init='he'), fewer layers, or an adaptive optimizer (Adam, RMSprop) "
        "that rescales small gradients."),
}


def _one_column(a: np.ndarray) -> np.ndarray:
    """An (n, 1) array as (n,): one output column is one binary score, not one class."""
    return a[:, 0] if a.ndim == 2 and a.shape[1] == 1 else a


def _output_labels(output: np.ndarray, loss: Any) -> np.ndarray:
    if output.ndim == 2:
        return np.argmax(output, axis=1)
    threshold = 0.0 if getattr(loss, "from_logits", True) else 0.5
    return (output > threshold).astype(np.int64)


def _true_labels(y: np.ndarray) -> np.ndarray:
    return np.argmax(y, axis=1) if y.ndim == 2 else y


def _binary_or_macro(function):
    def metric(y, output, loss):
        average = "macro" if output.ndim == 2 else "binary"
        return function(_true_labels(y), _output_labels(output, loss), average=average,
                        zero_division=0.0)
    return metric


# Named metrics of fit: (y_true, model output, loss) -> float.
METRICS: dict[str, Callable[[np.ndarray, np.ndarray, Any], float]] = {
    "accuracy": lambda y, out, loss: _metrics.accuracy(_true_labels(y),
                                                       _output_labels(out, loss)),
    "precision": _binary_or_macro(_metrics.precision),
    "recall": _binary_or_macro(_metrics.recall),
    "f1": _binary_or_macro(_metrics.f1_score),
    "roc_auc": lambda y, out, loss: _metrics.roc_auc(y, out),
    "rmse": lambda y, out, loss: _metrics.rmse(y, out),
    "mae": lambda y, out, loss: _metrics.mae(y, out),
    "r2": lambda y, out, loss: _metrics.r2(y, out),
}


#: Named metrics where larger is better (the others, and the losses, are minimized).
MAXIMIZED_METRICS = frozenset({"accuracy", "precision", "recall", "f1", "roc_auc", "r2"})


def _metric_functions(metrics: Any) -> dict[str, Callable[..., float]]:
    if metrics is None:
        return {}
    if isinstance(metrics, str):
        metrics = [metrics]
    if isinstance(metrics, dict):
        items = list(metrics.items())
    else:
        items = [(m, m) if isinstance(m, str) else (getattr(m, "__name__", repr(m)), m)
                 for m in metrics]
    functions = {}
    for name, metric in items:
        if isinstance(metric, str):
            if metric not in METRICS:
                raise ValueError(f"unknown metric {metric!r}; named metrics are "
                                 f"{sorted(METRICS)} (or pass a callable)")
            functions[name] = (lambda f: lambda y, out, loss: f(
                _one_column(np.asarray(y)), _one_column(np.asarray(out)), loss))(METRICS[metric])
            functions[name].maximized = metric in MAXIMIZED_METRICS
        elif callable(metric):
            functions[name] = (lambda f: lambda y, out, loss: f(y, out))(metric)
        else:
            raise TypeError(f"metric {name!r} must be a name or a callable "
                            "(y_true, output) -> float")
    return functions


def _progress_bar(progress: Any, total_steps: int, epochs: int):
    """A tqdm bar over the epochs, or None."""
    if progress is False:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        if progress:
            raise ImportError(f"progress=True needs tqdm: {EXTRA} (or pip install "
                              "tqdm)") from None
        return None
    if progress is None:
        isatty = getattr(sys.stderr, "isatty", lambda: False)
        if not (isatty() and total_steps >= LONG_RUN_STEPS):
            return None
    return tqdm(total=epochs, unit="epoch", leave=False)


def _check_rows(name: str, array: Any, n: int) -> np.ndarray:
    array = np.asarray(array)
    if array.ndim == 0 or array.shape[0] != n:
        raise ValueError(f"{name} must have {n} rows (one per row of X); got shape "
                         f"{array.shape}")
    return array


def _positive_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1; got {value!r}")
    return int(value)


def fit(model: Any, loss: Any, X: Any, y: Any, *, optimizer: Optimizer | None = None,
        epochs: int = 10, batch_size: int | None = 32, sample_weight: Any = None,
        validation_data: Sequence[Any] | None = None, shuffle: bool = True, seed: int = 0,
        scheduler: Any = None, early_stopping: EarlyStopping | None = None,
        monitor: str | None = None, callbacks: Sequence[Callable[..., Any]] = (),
        clip_value: float | None = None, clip_norm: float | None = None,
        metrics: Any = None, progress: bool | None = None, diagnose: bool = True) -> History:
    """Train ``model`` on ``loss`` by mini-batch gradient descent; return the History.

    Each step: output = model.forward(X_batch); value, g =
    loss.value_and_gradient(y_batch, output) (``reduction="mean"``); grads =
    model.backward(g); optional clipping; optimizer.step(grads). After each epoch: the
    validation loss and metrics, the scheduler, early stopping, the callbacks, and
    the gradient diagnostics (vanishing: a layer's mean gradient norm below
    ``VANISHING_RATIO`` times the output layer's; exploding: a NaN or infinite loss
    or gradient, which ends training, or an epoch gradient norm above
    ``EXPLODING_RATIO`` times the smallest so far with a rising loss), each recorded
    in ``history.diagnostics`` and warned once as a :class:`GradientWarning` with
    advice.

    Parameters
    ----------
    model : Linear, MLP or any object with params, forward, backward
        The model; its params are updated in place.
    loss : fastloss loss
        Any loss whose ``value_and_gradient(y, output, sample_weight=...)`` takes the
        targets then the model's output (regression, classification, BatchTriplet,
        ranking losses), with ``reduction="mean"``.
    X, y : arrays with n rows
        Inputs (in the model's dtype for speed) and targets.
    optimizer : Optimizer, optional
        Built on ``model.params`` (default ``Adam(model.params, lr=1e-3)``).
    epochs : int, default 10
        Passes over the data.
    batch_size : int or None, default 32
        Rows per step; None for the whole data at once.
    sample_weight : array of shape (n,), optional
        Weights of the rows.
    validation_data : (X_val, y_val) or (X_val, y_val, w_val), optional
        Scored after every epoch.
    shuffle : bool, default True
        Shuffle the rows every epoch (seeded by ``seed``).
    seed : int, default 0
        Seed of the shuffling.
    scheduler : schedule or ReduceLROnPlateau, optional
        A callable ``epoch -> lr`` applied before each epoch, or a
        :class:`ReduceLROnPlateau` on the same optimizer stepped with the monitored
        value after each epoch.
    early_stopping : EarlyStopping, optional
        Stepped with the monitored value and the params after each epoch.
    monitor : str, optional
        "val_loss" (the default with validation data), "train_loss" (the default
        without) or a metric name.
    callbacks : sequence of callables, optional
        ``callback(epoch, logs)`` after each epoch, logs a dict of that epoch's
        records; returning True stops training.
    clip_value, clip_norm : float, optional
        Clip each gradient element to [-clip_value, clip_value], then the global
        norm to clip_norm.
    metrics : list of names or callables, or dict of name to either, optional
        Named: "accuracy", "precision", "recall", "f1" (binary for one output, macro
        for several, labels by argmax or by the sign of the logit), "roc_auc",
        "rmse", "mae", "r2"; a callable is ``metric(y_true, output) -> float``.
    progress : bool, optional
        A tqdm progress bar over the epochs; by default on for runs of at least
        LONG_RUN_STEPS steps when stderr is a terminal and tqdm is installed.
    diagnose : bool, default True
        Look for vanishing and exploding gradients.

    Returns
    -------
    History

    Examples
    --------
    >>> import numpy as np, fastloss as fl
    >>> from fastloss.training import Linear, SGD, fit
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]]); y = 2 * X[:, 0] + 1
    >>> model = Linear(1)
    >>> history = fit(model, fl.MeanSquaredError(), X, y, epochs=500, batch_size=None,
    ...               optimizer=SGD(model.params, lr=0.1))
    >>> round(float(model.params[0][0]), 3), round(float(model.params[1]), 3)
    (2.0, 1.0)
    """
    for attribute in ("params", "forward", "backward"):
        if not hasattr(model, attribute):
            raise TypeError(f"model must have params, forward and backward; "
                            f"{type(model).__name__} has no {attribute}")
    if not hasattr(loss, "value_and_gradient"):
        raise TypeError(f"loss must be a fastloss loss; got {type(loss).__name__}")
    if getattr(loss, "reduction", "mean") != "mean":
        raise ValueError(f'fit needs a loss with reduction="mean"; got {loss.reduction!r}')
    X = np.asarray(X)
    if X.ndim < 1 or X.shape[0] == 0:
        raise ValueError(f"X must have at least one row; got shape {X.shape}")
    n = X.shape[0]
    y = _check_rows("y", y, n)
    weights = None if sample_weight is None else _check_rows("sample_weight", sample_weight, n)
    if weights is not None and not (np.all((weights >= 0) & (weights < math.inf))
                                    and np.sum(weights) > 0):
        raise ValueError("sample_weight must be finite and >= 0, with a positive sum")
    epochs = _positive_int("epochs", epochs)
    batch = n if batch_size is None else min(_positive_int("batch_size", batch_size), n)
    if optimizer is None:
        optimizer = Adam(model.params, lr=1e-3)
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"optimizer must be a fastloss.training optimizer; got "
                        f"{type(optimizer).__name__}")
    if len(optimizer.params) != len(model.params) or any(
            a is not b for a, b in zip(optimizer.params, model.params, strict=False)):
        raise ValueError("the optimizer was not built on model.params")
    if scheduler is not None:
        if isinstance(scheduler, ReduceLROnPlateau):
            if scheduler.optimizer is not optimizer:
                raise ValueError("the ReduceLROnPlateau scheduler watches another optimizer")
        elif not callable(scheduler):
            raise TypeError("scheduler must be a schedule (epoch -> lr) or a "
                            "ReduceLROnPlateau")
    if early_stopping is not None and not isinstance(early_stopping, EarlyStopping):
        raise TypeError("early_stopping must be an EarlyStopping")
    for callback in callbacks:
        if not callable(callback):
            raise TypeError("callbacks must be callables (epoch, logs) -> bool | None")
    clip_value = None if clip_value is None else _number("clip_value", clip_value, strict=True)
    clip_norm = None if clip_norm is None else _number("clip_norm", clip_norm, strict=True)
    metric_functions = _metric_functions(metrics)
    validation = None
    if validation_data is not None:
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
            raise TypeError("validation_data must be (X_val, y_val) or (X_val, y_val, w_val)")
        X_val = np.asarray(validation_data[0])
        if X_val.ndim < 1 or X_val.shape[0] == 0:
            raise ValueError("validation_data has no rows")
        y_val = _check_rows("y_val", validation_data[1], X_val.shape[0])
        w_val = (None if len(validation_data) == 2 or validation_data[2] is None
                 else _check_rows("w_val", validation_data[2], X_val.shape[0]))
        validation = (X_val, y_val, w_val)
    if monitor is None:
        monitor = "val_loss" if validation is not None else "train_loss"
    elif monitor not in ("val_loss", "train_loss", *metric_functions):
        raise ValueError(f"monitor must be 'val_loss', 'train_loss' or a metric name; got "
                         f"{monitor!r}")
    if monitor == "val_loss" and validation is None:
        raise ValueError("monitor='val_loss' needs validation_data")

    history = History([name for name, _ in getattr(model, "layers", [])])
    layer_index = [indices for _, indices in getattr(model, "layers", [])]
    rng = np.random.default_rng(seed)
    n_batches = -(-n // batch)
    bar = _progress_bar(progress, epochs * n_batches, epochs)
    warned: set[str] = set()
    params = model.params
    # a model of params, forward and backward alone is scored with forward
    predict = getattr(model, "predict", model.forward)

    def diagnose_epoch(epoch: int, kind: str, detail: str) -> None:
        message = f"{kind} gradients at epoch {epoch}: {detail}. {ADVICE[kind]}"
        history.diagnostics.append({"epoch": epoch, "kind": kind, "message": message})
        if kind not in warned:
            warned.add(kind)
            warnings.warn(message, GradientWarning, stacklevel=3)

    try:
        for epoch in range(epochs):
            if scheduler is not None and not isinstance(scheduler, ReduceLROnPlateau):
                optimizer.lr = scheduler(epoch)
            history.lr.append(optimizer.lr)
            order = rng.permutation(n) if shuffle else None
            loss_total, weight_total, norm_total, steps = 0.0, 0.0, 0.0, 0
            layer_totals = np.zeros(len(layer_index))
            diverged = None
            for start in range(0, n, batch):
                if order is None:
                    rows = slice(start, start + batch)
                else:
                    rows = order[start:start + batch]
                xb, yb = X[rows], y[rows]
                wb = None if weights is None else weights[rows]
                if wb is not None and not np.sum(wb) > 0:
                    continue  # no weight in this batch: no "mean" loss, nothing to learn
                output = model.forward(xb)
                value, grad_out = loss.value_and_gradient(yb, output, sample_weight=wb)
                grads = model.backward(grad_out)
                squares = [sum_of_squares(g) for g in grads]
                norm = math.sqrt(sum(squares))
                if not (math.isfinite(value) and math.isfinite(norm)):
                    diverged = (value, norm)
                    break
                size = float(len(yb) if wb is None else np.sum(wb))
                loss_total += value * size
                weight_total += size
                norm_total += norm
                steps += 1
                for j, indices in enumerate(layer_index):
                    layer_totals[j] += math.sqrt(sum(squares[i] for i in indices))
                if clip_value is not None:
                    grads = [np.clip(g, -clip_value, clip_value) for g in grads]
                if clip_norm is not None:
                    clipped_norm = norm if clip_value is None else math.sqrt(
                        sum(sum_of_squares(g) for g in grads))
                    if clipped_norm > clip_norm:
                        scale = clip_norm / clipped_norm
                        grads = [g * np.asarray(scale, dtype=g.dtype) for g in grads]
                optimizer.step(grads)
            if diverged is not None:
                history.diverged_epoch = epoch
                diagnose_epoch(epoch, "exploding", f"the loss or the gradient became "
                               f"{'NaN' if math.isnan(diverged[0] + diverged[1]) else 'infinite'}"
                               " (training stopped)")
                if weight_total > 0:
                    history.train_loss.append(loss_total / weight_total)
                else:
                    history.train_loss.append(float(diverged[0]))
                history.grad_norm.append(float(diverged[1]))
                history.layer_grad_norms.append([math.nan] * len(layer_index))
                break
            history.train_loss.append(loss_total / weight_total if weight_total else math.nan)
            history.grad_norm.append(norm_total / steps)
            history.layer_grad_norms.append((layer_totals / steps).tolist())
            logs: dict[str, Any] = {"train_loss": history.train_loss[-1], "lr": optimizer.lr,
                                    "grad_norm": history.grad_norm[-1]}
            if validation is not None:
                X_val, y_val, w_val = validation
                out_val = predict(X_val)
                history.val_loss.append(float(loss(y_val, out_val, sample_weight=w_val)))
                logs["val_loss"] = history.val_loss[-1]
            if metric_functions:
                y_m, out_m = ((validation[1], out_val) if validation is not None
                              else (y, predict(X)))
                for name, function in metric_functions.items():
                    value = float(function(y_m, out_m, loss))
                    history.metrics.setdefault(name, []).append(value)
                    logs[name] = value
            if diagnose:
                _diagnose(history, epoch, diagnose_epoch)
            monitored = logs[monitor]
            stop = False
            if isinstance(scheduler, ReduceLROnPlateau):
                scheduler.step(monitored)
            if early_stopping is not None:
                stop = early_stopping.step(monitored, params)
                history.best_epoch = early_stopping.best_epoch
                if stop:
                    history.stopped_epoch = early_stopping.stopped_epoch
            for callback in callbacks:
                if callback(epoch, logs):
                    stop = True
            if bar is not None:
                bar.update(1)
                bar.set_postfix({k: f"{v:.4g}" for k, v in logs.items()
                                 if k in ("train_loss", "val_loss")})
            if stop:
                break
    finally:
        if bar is not None:
            bar.close()
    if history.best_epoch is None and len(history):
        series = (history.val_loss if monitor == "val_loss" else history.train_loss
                  if monitor == "train_loss" else history.metrics[monitor])
        finite = [(v, i) for i, v in enumerate(series) if math.isfinite(v)]
        if finite:
            maximize = _maximized(metric_functions.get(monitor), early_stopping, scheduler)
            # the first best epoch, as EarlyStopping counts it
            history.best_epoch = (max(finite, key=lambda vi: (vi[0], -vi[1])) if maximize
                                  else min(finite))[1]
    return history


def _maximized(metric: Any, early_stopping: Any, scheduler: Any) -> bool:
    """Whether the best epoch has the largest monitored value: the mode of the early
    stopping or of the plateau scheduler watching it, else the nature of the named
    metric monitored (None for the losses)."""
    for watcher in (early_stopping, scheduler):
        if isinstance(watcher, (EarlyStopping, ReduceLROnPlateau)):
            return watcher.mode == "max"
    return getattr(metric, "maximized", False)


def _diagnose(history: History, epoch: int, report: Callable[[int, str, str], None]) -> None:
    """Record vanishing and (finite) exploding gradients of the epoch just ended."""
    layers = history.layer_grad_norms[-1]
    if len(layers) >= 2 and layers[-1] > 0:
        ratios = [norm / layers[-1] for norm in layers[:-1]]
        worst = int(np.argmin(ratios))
        if ratios[worst] < VANISHING_RATIO:
            report(epoch, "vanishing", (
                f"the gradient norm of {history.layer_names[worst]} is "
                f"{ratios[worst]:.1e} times that of {history.layer_names[-1]} "
                f"({layers[worst]:.2e} against {layers[-1]:.2e})"))
    norms = history.grad_norm
    if len(norms) >= 2 and min(norms[:-1]) > 0:
        growth = norms[-1] / min(norms[:-1])
        if growth > EXPLODING_RATIO and history.train_loss[-1] > history.train_loss[0]:
            report(epoch, "exploding", (
                f"the gradient norm grew {growth:.3g}-fold to {norms[-1]:.3g} while the "
                f"training loss rose from {history.train_loss[0]:.4g} to "
                f"{history.train_loss[-1]:.4g}"))
