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
        from matplotlib.lines import Line2D
    except ImportError:
        raise ImportError(f"plot_history needs matplotlib: {EXTRA} (or pip install "
                          "matplotlib)") from None

    return Figure, Line2D


def _log_scale(values: list[float]) -> bool:
    finite = [v for v in values if math.isfinite(v) and v > 0]
    return len(finite) == len(values) and len(finite) > 1 and max(finite) / min(finite) > 30


def plot_history(history: History | Mapping[str, History], path: str | os.PathLike[str], *,
                 title: str | None = None, width: float = 10.0, height: float = 3.6,
                 dpi: int = 100) -> str:
    """Write a PNG of the training and validation loss (left), the metrics (middle,
    when recorded) and the learning rate per epoch (right; the mean gradient norm when
    the learning rate never changed).

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
    if not isinstance(history, (History, Mapping)):
        raise TypeError(f"history must be a History or a dict of label to History; got "
                        f"{type(history).__name__}")
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
    Figure, Line2D = _pyplot()
    metric_names = sorted({name for h in runs.values() for name in h.metrics})
    lr_varies = any(len(set(h.lr)) > 1 for h in runs.values())
    n_panels = 3 if metric_names else 2
    figure = Figure(figsize=(width, height), dpi=dpi)
    axes = figure.subplots(1, n_panels)
    loss_ax, right_ax = axes[0], axes[-1]
    # A diverging run would squash every other curve: the loss axis stops at 1000x the
    # largest first-epoch loss and a diverged run's cross sits at that edge.
    finite = [v for h in runs.values() for v in (*h.train_loss, *h.val_loss)
              if math.isfinite(v)]
    starts = [abs(h.train_loss[0]) for h in runs.values()
              if h.train_loss and math.isfinite(h.train_loss[0]) and h.train_loss[0] != 0]
    top = max(finite) if finite else 1.0
    if starts:
        top = min(top, 1e3 * min(starts))
    several = len(runs) > 1
    styles = set()
    shown = [v for v in finite if v <= top]
    log_loss = _log_scale(shown or [1.0])
    norm_starts = [h.grad_norm[0] for h in runs.values()
                   if h.grad_norm and math.isfinite(h.grad_norm[0]) and h.grad_norm[0] > 0]
    grad_top = 1e3 * min(norm_starts) if norm_starts else math.inf
    colours = [f"C{i}" for i in range(10)]
    for index, (label, run) in enumerate(runs.items()):
        colour = colours[index % len(colours)]
        prefix = f"{label}: " if label else ""

        def named(text, style, prefix=prefix, label=label):
            """One run: every line named; several: the run once, styles in a key."""
            if not several:
                return f"{prefix}{text}"
            styles.add(style)
            return label if style == "train" else None

        epochs = list(range(1, len(run) + 1))
        train = [v if math.isfinite(v) and v <= top else math.nan for v in run.train_loss]
        loss_ax.plot(epochs, train, color=colour, label=named("train", "train"))
        monitored = run.train_loss
        if run.val_loss:
            val = [v if math.isfinite(v) and v <= top else math.nan for v in run.val_loss]
            loss_ax.plot(epochs[:len(val)], val, color=colour, linestyle="--",
                         label=named("validation", "validation"))
            monitored = run.val_loss
        marked = run.val_loss or run.stopped_epoch is not None
        if marked and run.best_epoch is not None and run.best_epoch < len(monitored):
            loss_ax.plot([run.best_epoch + 1], [monitored[run.best_epoch]], "o", color=colour,
                         markersize=7, markeredgecolor="black",
                         label=named(f"best epoch {run.best_epoch + 1}", "best"))
        if run.stopped_epoch is not None:
            loss_ax.axvline(run.stopped_epoch + 1, color=colour, linestyle=":", linewidth=1.5,
                            label=named(f"early stop at {run.stopped_epoch + 1}", "stop"))
        if run.diverged_epoch is not None:
            loss_ax.plot([run.diverged_epoch + 1], [top], "x", color=colour, markersize=10,
                         markeredgewidth=2, clip_on=False,
                         label=f"{prefix}diverged at {run.diverged_epoch + 1}")
        if metric_names:
            for j, name in enumerate(metric_names):
                values = run.metrics.get(name)
                if values:
                    axes[1].plot(epochs[:len(values)], values, color=colour,
                                 linestyle=["-", "--", "-.", ":"][j % 4],
                                 label=(label if several and len(metric_names) == 1
                                        else f"{prefix}{name}"))
        if lr_varies:
            right_ax.plot(epochs[:len(run.lr)], run.lr, color=colour, label=label or None)
        else:
            norms = [v if math.isfinite(v) and v <= grad_top else math.nan
                     for v in run.grad_norm]
            right_ax.plot(epochs[:len(norms)], norms, color=colour, label=label or None)
    if several:
        key = {"train": ("-", None), "validation": ("--", None), "best": ("", "o"),
               "stop": (":", None)}
        handles, labels = loss_ax.get_legend_handles_labels()
        for style in ("train", "validation", "best", "stop"):
            if style in styles and (style != "train" or "validation" in styles):
                line, marker = key[style]
                handles.append(Line2D([], [], color="gray", linestyle=line, marker=marker,
                                      markeredgecolor="black"))
                labels.append({"best": "best epoch", "stop": "early stop"}.get(style, style))
        loss_ax.legend(handles, labels, fontsize="x-small")
    else:
        loss_ax.legend(fontsize="x-small")
    loss_ax.set_title("loss")
    loss_ax.set_xlabel("epoch")
    if log_loss:
        loss_ax.set_yscale("log")
    if shown:
        low = min(shown)
        loss_ax.set_ylim((0.8 * low if log_loss else min(0.0, low)),
                         top * (1.5 if log_loss else 1.05))
    loss_ax.grid(alpha=0.3)
    if metric_names:
        where = "validation " if any(h.val_loss for h in runs.values()) else ""
        axes[1].set_title(f"{where}{metric_names[0]}" if len(metric_names) == 1
                          else f"{where}metrics")
        axes[1].set_xlabel("epoch")
        axes[1].legend(fontsize="x-small")
        axes[1].grid(alpha=0.3)
    right_ax.set_xlabel("epoch")
    if lr_varies:
        right_ax.set_title("learning rate")
        values = [v for h in runs.values() for v in h.lr]
    else:
        first_lrs = {h.lr[0] for h in runs.values() if h.lr}
        right_ax.set_title(f"gradient norm (learning rate {next(iter(first_lrs)):.3g})"
                           if len(first_lrs) == 1 else "gradient norm")
        values = [v for h in runs.values() for v in h.grad_norm if v <= grad_top]
    values = [v for v in values if math.isfinite(v)]
    if values and _log_scale(values):
        right_ax.set_yscale("log")
    right_ax.grid(alpha=0.3)
    if title:
        figure.suptitle(title)
    figure.tight_layout()
    path = os.fspath(path)
    figure.savefig(path, format="png", dpi=dpi)
    return path
