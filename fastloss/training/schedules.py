"""Learning-rate schedules and reduce-on-plateau.

A schedule is a callable ``schedule(step) -> lr`` (``step`` counts from 0; :func:`fit`
calls it once per epoch), with the formulas of ``torch.optim.lr_scheduler`` and
``optax``: :func:`constant_lr`, :func:`step_lr` (``StepLR``), :func:`exponential_lr`
(``ExponentialLR``) and :func:`cosine_lr` (``optax.warmup_cosine_decay_schedule``;
``CosineAnnealingLR`` without warm-up). :class:`ReduceLROnPlateau` lowers an
optimizer's ``lr`` when a monitored value stops improving, epoch for epoch as
PyTorch's does.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from fastloss.training.optimizers import _number

__all__ = ["Schedule", "constant_lr", "step_lr", "exponential_lr", "cosine_lr",
           "ReduceLROnPlateau"]


def _count(name: str, value: Any, low: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ValueError(f"{name} must be an integer >= {low}; got {value!r}")
    return value


def _monitored(value: Any) -> float:
    """A monitored value as a float (NaN allowed: it never counts as an improvement); a
    0-d array (a loss returned by a reduction) counts as its number."""
    if isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "fiu":
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"the monitored value must be a number; got {type(value).__name__}")
    return float(value)


class Schedule:
    """A learning rate as a function of the step: ``schedule(step) -> float``."""

    def __init__(self, name: str, function: Any, **arguments: Any) -> None:
        self._name, self._function, self.arguments = name, function, arguments

    def __call__(self, step: int) -> float:
        step = _count("step", step)
        return float(self._function(step))

    def __repr__(self) -> str:
        arguments = ", ".join(f"{k}={v!r}" for k, v in self.arguments.items())
        return f"{self._name}({arguments})"


def constant_lr(lr: float) -> Schedule:
    """lr at every step.

    Parameters
    ----------
    lr : float >= 0
        The learning rate.
    """
    lr = _number("lr", lr)
    return Schedule("constant_lr", lambda step: lr, lr=lr)


def step_lr(lr: float, step_size: int, gamma: float = 0.1) -> Schedule:
    """lr * gamma ** (step // step_size) (``torch.optim.lr_scheduler.StepLR``).

    Parameters
    ----------
    lr : float >= 0
        The initial learning rate.
    step_size : int >= 1
        Steps between two decays.
    gamma : float >= 0, default 0.1
        The factor of each decay.

    Examples
    --------
    >>> from fastloss.training import step_lr
    >>> [step_lr(1.0, 2, gamma=0.5)(t) for t in range(5)]
    [1.0, 1.0, 0.5, 0.5, 0.25]
    """
    lr, gamma = _number("lr", lr), _number("gamma", gamma)
    step_size = _count("step_size", step_size, 1)
    return Schedule("step_lr", lambda step: lr * gamma ** (step // step_size), lr=lr,
                    step_size=step_size, gamma=gamma)


def exponential_lr(lr: float, gamma: float) -> Schedule:
    """lr * gamma ** step (``torch.optim.lr_scheduler.ExponentialLR``).

    Parameters
    ----------
    lr : float >= 0
        The initial learning rate.
    gamma : float >= 0
        The factor of each step.
    """
    lr, gamma = _number("lr", lr), _number("gamma", gamma)
    return Schedule("exponential_lr", lambda step: lr * gamma**step, lr=lr, gamma=gamma)


def cosine_lr(lr: float, decay_steps: int, *, warmup_steps: int = 0,
              warmup_start: float = 0.0, final_lr: float = 0.0) -> Schedule:
    """Linear warm-up from warmup_start to lr over warmup_steps, then a cosine from lr
    to final_lr, reached at decay_steps (the total, warm-up included) and kept after.

    ``optax.warmup_cosine_decay_schedule(warmup_start, lr, warmup_steps, decay_steps,
    final_lr)``; without warm-up, ``CosineAnnealingLR(T_max=decay_steps,
    eta_min=final_lr)`` up to T_max: final + (lr - final) (1 + cos(pi t / T)) / 2.

    Parameters
    ----------
    lr : float >= 0
        The peak learning rate.
    decay_steps : int >= 1
        Length of the schedule, warm-up included (> warmup_steps).
    warmup_steps : int >= 0, default 0
        Steps of linear warm-up.
    warmup_start : float >= 0, default 0
        The learning rate at step 0 when warming up.
    final_lr : float >= 0, default 0
        The learning rate from decay_steps on.

    Examples
    --------
    >>> from fastloss.training import cosine_lr
    >>> schedule = cosine_lr(1.0, 6, warmup_steps=2)
    >>> [round(schedule(t), 3) for t in range(8)]
    [0.0, 0.5, 1.0, 0.854, 0.5, 0.146, 0.0, 0.0]
    """
    lr, warmup_start, final_lr = (_number("lr", lr), _number("warmup_start", warmup_start),
                                  _number("final_lr", final_lr))
    decay_steps = _count("decay_steps", decay_steps, 1)
    warmup_steps = _count("warmup_steps", warmup_steps)
    if warmup_steps >= decay_steps:
        raise ValueError(f"decay_steps ({decay_steps}) must exceed warmup_steps "
                         f"({warmup_steps}): it counts the warm-up too")

    def value(step: int) -> float:
        if step < warmup_steps:
            return warmup_start + (lr - warmup_start) * step / warmup_steps
        t = min(step - warmup_steps, decay_steps - warmup_steps)
        cosine = 0.5 * (1.0 + math.cos(math.pi * t / (decay_steps - warmup_steps)))
        return final_lr + (lr - final_lr) * cosine

    return Schedule("cosine_lr", value, lr=lr, decay_steps=decay_steps,
                    warmup_steps=warmup_steps, warmup_start=warmup_start, final_lr=final_lr)


class ReduceLROnPlateau:
    """Multiply the optimizer's lr by ``factor`` when the monitored value has not
    improved for more than ``patience`` epochs (``torch.optim.lr_scheduler
    .ReduceLROnPlateau``, same rule and epochs).

    Improvement ("min" mode): value < best (1 - threshold) ("rel") or value < best -
    threshold ("abs"); "max" mode mirrors it. After a reduction the counter restarts
    and ``cooldown`` epochs pass before bad epochs count again. The lr never goes
    below ``min_lr``; a reduction smaller than ``eps`` is skipped.

    Parameters
    ----------
    optimizer : object with a settable ``lr``
        Usually one of :mod:`fastloss.training`'s optimizers.
    mode : {"min", "max"}, default "min"
        Whether lower or higher values are better.
    factor : float in (0, 1), default 0.1
        The lr's multiplier at a reduction.
    patience : int >= 0, default 10
        Epochs without improvement tolerated.
    threshold : float >= 0, default 1e-4
        The margin of an improvement.
    threshold_mode : {"rel", "abs"}, default "rel"
        Relative or absolute margin.
    cooldown : int >= 0, default 0
        Epochs after a reduction during which bad epochs are not counted.
    min_lr : float >= 0, default 0
        Lower bound of the lr.
    eps : float >= 0, default 1e-8
        Smallest change applied.

    Examples
    --------
    >>> from fastloss.training import SGD, ReduceLROnPlateau
    >>> import numpy as np
    >>> opt = SGD([np.zeros(1)], lr=1.0)
    >>> plateau = ReduceLROnPlateau(opt, factor=0.5, patience=1)
    >>> [plateau.step(v) for v in [3.0, 2.0, 2.0, 2.0, 2.0]]
    [False, False, False, True, False]
    >>> opt.lr
    0.5
    """

    def __init__(self, optimizer: Any, mode: str = "min", factor: float = 0.1,
                 patience: int = 10, threshold: float = 1e-4, threshold_mode: str = "rel",
                 cooldown: int = 0, min_lr: float = 0.0, eps: float = 1e-8) -> None:
        if not hasattr(optimizer, "lr"):
            raise TypeError("optimizer must have a settable lr attribute")
        if mode not in ("min", "max"):
            raise ValueError(f'mode must be "min" or "max"; got {mode!r}')
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(f'threshold_mode must be "rel" or "abs"; got {threshold_mode!r}')
        self.optimizer = optimizer
        self.mode, self.threshold_mode = mode, threshold_mode
        self.factor = _number("factor", factor, strict=True, high=1.0, high_open=True)
        self.patience = _count("patience", patience)
        self.threshold = _number("threshold", threshold)
        self.cooldown = _count("cooldown", cooldown)
        self.min_lr = _number("min_lr", min_lr)
        self.eps = _number("eps", eps)
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_epochs = 0
        self.cooldown_counter = 0
        self.last_epoch = 0
        self.reductions: list[int] = []  # the 1-based epochs at which lr was reduced

    def is_better(self, value: float, best: float) -> bool:
        if self.mode == "min":
            if self.threshold_mode == "rel":
                return value < best * (1.0 - self.threshold)
            return value < best - self.threshold
        if self.threshold_mode == "rel":
            return value > best * (self.threshold + 1.0)
        return value > best + self.threshold

    def step(self, value: float) -> bool:
        """Record one epoch's monitored value; True when the lr was reduced."""
        current = _monitored(value)
        self.last_epoch += 1
        if self.is_better(current, self.best):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            reduced = self._reduce()
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
            return reduced
        return False

    def _reduce(self) -> bool:
        old = float(self.optimizer.lr)
        new = max(old * self.factor, self.min_lr)
        if old - new > self.eps:
            self.optimizer.lr = new
            self.reductions.append(self.last_epoch)
            return True
        return False

    def __repr__(self) -> str:
        return (f"ReduceLROnPlateau(mode={self.mode!r}, factor={self.factor!r}, patience="
                f"{self.patience!r}, threshold={self.threshold!r}, threshold_mode="
                f"{self.threshold_mode!r}, cooldown={self.cooldown!r}, min_lr={self.min_lr!r})")
