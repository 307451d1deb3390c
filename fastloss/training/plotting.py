"""Loss curves as a PNG: :func:`plot_history` (matplotlib, imported when called)."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping

from fastloss.training.callbacks import History

__all__ = ["plot_history"]

EXTRA = 'pip install "fastloss[training]"'


def _pyplot():
    try:
        # A Figure drawn by the Agg canvas: no pyplot, no GUI backend, no global state.
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError(f"plot_history needs matplotlib: {EXTRA} (or pip install "
                          "matplotlib)") from None

    return Figure


def _log_scale(values: list[float]) -> bool:
    finite = [v for v in values if math.isfinite(v) and v > 0]
    return len(finite) == len(values) and len(finite) > 1 and max(finite) / min(finite) > 30


def plot_history(history: History | Mapping[str, History], path: str | os.PathLike[str], *,
                 title: str | None = None, width: float = 10.0, height: float = 3.6,
                 dpi: int = 100) -> str:
    """Write a PNG of the training and validation loss (left), the metrics (middle,
    when recorded) and the learning rate (right) per epoch.

    The best epoch (``history.best_epoch``) is marked by a dot on the monitored curve
    and the epoch early stopping fired at by a dashed vertical line; a run that
    diverged ends with a cross. Several runs (a dict of label to History) share the
    axes, one colour per run. The image is ``width * dpi`` by ``height * dpi`` pixels.

    Parameters
    ----------
    history : History or dict of str to History
        One run, or several to compare.
    path : str or path
        Where to write the PNG (its folder must exist).
    title : str, optional
        Title above the panels.
    width, height : float, default 10 and 3.6
        Size in inches.
    dpi : int, default 100
        Pixels per inch.

    Returns
    -------
    str
        The path written.
    """
    runs = {"": history} if isinstance(history, History) else dict(history)
    if not runs or not all(isinstance(h, History) for h in runs.values()):
        raise TypeError("history must be a History or a non-empty dict of label to History")
    if not any(len(h) for h in runs.values()):
        raise ValueError("history is empty: nothing to plot")
    if isinstance(dpi, bool) or not isinstance(dpi, int) or dpi < 10:
        raise ValueError(f"dpi must be an integer >= 10; got {dpi!r}")
    for name, value in (("width", width), ("height", height)):
        if not isinstance(value, (int, float)) or not 1 <= value <= 100:
            raise ValueError(f"{name} must be a number of inches in [1, 100]; got {value!r}")
    Figure = _pyplot()
    metric_names = sorted({name for h in runs.values() for name in h.metrics})
    n_panels = 3 if metric_names else 2
    figure = Figure(figsize=(width, height), dpi=dpi)
    axes = figure.subplots(1, n_panels)
    loss_ax, lr_ax = axes[0], axes[-1]
    colours = ["C0", "C1", "C2", "C3", "C4", "C5", "C6", "C7", "C8", "C9"]
    all_losses: list[float] = []
    for index, (label, run) in enumerate(runs.items()):
        colour = colours[index % len(colours)]
        prefix = f"{label}: " if label else ""
        epochs = list(range(1, len(run) + 1))
        loss_ax.plot(epochs, run.train_loss, color=colour, label=f"{prefix}train")
        all_losses += run.train_loss
        monitored = run.train_loss
        if run.val_loss:
            loss_ax.plot(epochs[:len(run.val_loss)], run.val_loss, color=colour,
                         linestyle="--", label=f"{prefix}validation")
            all_losses += run.val_loss
            monitored = run.val_loss
        if run.best_epoch is not None and run.best_epoch < len(monitored):
            loss_ax.plot([run.best_epoch + 1], [monitored[run.best_epoch]], "o", color=colour,
                         markersize=7, markeredgecolor="black",
                         label=f"{prefix}best epoch {run.best_epoch + 1}")
        if run.stopped_epoch is not None:
            loss_ax.axvline(run.stopped_epoch + 1, color=colour, linestyle=":", linewidth=1.5,
                            label=f"{prefix}early stop at {run.stopped_epoch + 1}")
        if run.diverged_epoch is not None:
            finite = [(e, v) for e, v in zip(epochs, run.train_loss, strict=True)
                      if math.isfinite(v)]
            if finite:
                loss_ax.plot([finite[-1][0]], [finite[-1][1]], "x", color=colour,
                             markersize=10, markeredgewidth=2,
                             label=f"{prefix}diverged at {run.diverged_epoch + 1}")
        if metric_names:
            for j, name in enumerate(metric_names):
                values = run.metrics.get(name)
                if values:
                    axes[1].plot(epochs[:len(values)], values, color=colour,
                                 linestyle=["-", "--", "-.", ":"][j % 4],
                                 label=f"{prefix}{name}")
        lr_ax.plot(epochs[:len(run.lr)], run.lr, color=colour, label=label or None)
    loss_ax.set_title("loss")
    loss_ax.set_xlabel("epoch")
    if _log_scale([v for v in all_losses if math.isfinite(v)] or [1.0]):
        loss_ax.set_yscale("log")
    loss_ax.legend(fontsize="x-small")
    loss_ax.grid(alpha=0.3)
    if metric_names:
        axes[1].set_title("validation metrics" if any(h.val_loss for h in runs.values())
                          else "metrics")
        axes[1].set_xlabel("epoch")
        axes[1].legend(fontsize="x-small")
        axes[1].grid(alpha=0.3)
    lr_ax.set_title("learning rate")
    lr_ax.set_xlabel("epoch")
    lr_values = [v for h in runs.values() for v in h.lr]
    if _log_scale(lr_values):
        lr_ax.set_yscale("log")
    lr_ax.grid(alpha=0.3)
    if title:
        figure.suptitle(title)
    figure.tight_layout()
    path = os.fspath(path)
    figure.savefig(path, format="png", dpi=dpi)
    return path
