"""Early stopping and the training history."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from fastloss.training.optimizers import _as_params, _number
from fastloss.training.schedules import _count, _monitored

__all__ = ["EarlyStopping", "History"]


class EarlyStopping:
    """Stop when a monitored value has not improved for ``patience`` epochs
    (``keras.callbacks.EarlyStopping``'s rule).

    An epoch improves when value < best - min_delta ("min" mode; value > best +
    min_delta in "max" mode). ``step`` returns True at the first epoch (0-based count
    > 0) where ``patience`` epochs have passed since the last improvement; with
    ``restore_best`` it then copies the best epoch's parameters back into ``params``
    in place.

    Parameters
    ----------
    patience : int >= 0, default 5
        Epochs without improvement tolerated.
    min_delta : float >= 0, default 0
        The margin an improvement must beat.
    mode : {"min", "max"}, default "min"
        Whether lower or higher values are better.
    restore_best : bool, default True
        Restore the best epoch's parameters when stopping.

    Examples
    --------
    >>> from fastloss.training import EarlyStopping
    >>> stop = EarlyStopping(patience=2)
    >>> [stop.step(v) for v in [5.0, 4.0, 4.5, 4.2]]
    [False, False, False, True]
    >>> stop.best_epoch, stop.stopped_epoch
    (1, 3)
    """

    def __init__(self, patience: int = 5, min_delta: float = 0.0, mode: str = "min",
                 restore_best: bool = True) -> None:
        if mode not in ("min", "max"):
            raise ValueError(f'mode must be "min" or "max"; got {mode!r}')
        self.patience = _count("patience", patience)
        self.min_delta = _number("min_delta", min_delta)
        self.mode = mode
        self.restore_best = bool(restore_best)
        self.reset()

    def reset(self) -> None:
        """Forget every epoch seen (to reuse the object for another run)."""
        self.best = math.inf if self.mode == "min" else -math.inf
        self.best_epoch: int | None = None
        self.stopped_epoch: int | None = None
        self.wait = 0
        self.epoch = -1
        self.best_params: list[np.ndarray] | None = None

    def improved(self, value: float) -> bool:
        """Whether value improves on the best so far by more than min_delta."""
        if self.mode == "min":
            return value + self.min_delta < self.best
        return value - self.min_delta > self.best

    def step(self, value: float, params: Sequence[np.ndarray] | None = None) -> bool:
        """Record one epoch's monitored value (and the parameters it was measured
        with); True when training should stop."""
        value = _monitored(value)
        if params is not None:
            params = _as_params(params)
        self.epoch += 1
        if self.restore_best and params is not None and self.best_params is None:
            self.best_params = [p.copy() for p in params]
        self.wait += 1
        if self.improved(value):
            self.best, self.best_epoch, self.wait = value, self.epoch, 0
            if self.restore_best and params is not None:
                for kept, p in zip(self.best_params, params, strict=True):
                    kept[...] = p
            return False
        if self.wait >= self.patience and self.epoch > 0:
            self.stopped_epoch = self.epoch
            if self.restore_best and params is not None and self.best_params is not None:
                for p, kept in zip(params, self.best_params, strict=True):
                    p[...] = kept
            return True
        return False

    def __repr__(self) -> str:
        return (f"EarlyStopping(patience={self.patience!r}, min_delta={self.min_delta!r}, "
                f"mode={self.mode!r}, restore_best={self.restore_best!r})")


class History:
    """What :func:`fit` records, one entry per epoch.

    Attributes
    ----------
    train_loss, val_loss : list of float
        The mean training loss over the epoch's batches (each weighted by its size)
        and the loss on the validation set after the epoch (empty without one).
    metrics : dict of str to list of float
        Each metric after each epoch, on the validation set when there is one, else
        on the training set.
    lr : list of float
        The learning rate of each epoch.
    grad_norm : list of float
        The mean over the epoch's batches of the global gradient norm (before
        clipping).
    layer_grad_norms : list of list of float
        The mean gradient norm of each layer (``layer_names``) per epoch.
    diagnostics : list of dict
        Gradient problems found: ``{"epoch", "kind", "message"}`` with kind
        "exploding" or "vanishing".
    best_epoch, stopped_epoch : int or None
        The best epoch of the monitored value and the epoch early stopping fired at
        (0-based), from :class:`EarlyStopping`.
    """

    def __init__(self, layer_names: Sequence[str] = ()) -> None:
        self.train_loss: list[float] = []
        self.val_loss: list[float] = []
        self.metrics: dict[str, list[float]] = {}
        self.lr: list[float] = []
        self.grad_norm: list[float] = []
        self.layer_names = list(layer_names)
        self.layer_grad_norms: list[list[float]] = []
        self.diagnostics: list[dict[str, Any]] = []
        self.best_epoch: int | None = None
        self.stopped_epoch: int | None = None
        self.diverged_epoch: int | None = None

    def __len__(self) -> int:
        return len(self.train_loss)

    @property
    def epochs(self) -> list[int]:
        """0-based epoch numbers."""
        return list(range(len(self)))

    def as_dict(self) -> dict[str, Any]:
        """Every record as plain lists and numbers."""
        return {
            "train_loss": list(self.train_loss), "val_loss": list(self.val_loss),
            "metrics": {k: list(v) for k, v in self.metrics.items()},
            "lr": list(self.lr), "grad_norm": list(self.grad_norm),
            "layer_names": list(self.layer_names),
            "layer_grad_norms": [list(x) for x in self.layer_grad_norms],
            "diagnostics": [dict(d) for d in self.diagnostics],
            "best_epoch": self.best_epoch, "stopped_epoch": self.stopped_epoch,
            "diverged_epoch": self.diverged_epoch,
        }

    def __repr__(self) -> str:
        last = f", train_loss={self.train_loss[-1]:.4g}" if self.train_loss else ""
        return f"History({len(self)} epochs{last})"
