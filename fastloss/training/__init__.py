"""Training toolkit: optimizers, gradient clipping, learning-rate schedules, early
stopping, a training history, small NumPy models, the :func:`fit` loop with gradient
diagnostics, and loss-curve plots.

NumPy only: matplotlib (:func:`plot_history`) and tqdm (``fit(progress=True)``) are
imported when used. Models and optimizers work on lists of NumPy arrays, so a model of
your own can use the optimizers, schedules, clipping and early stopping without
:func:`fit`::

    opt = Adam(params, lr=1e-3)
    for epoch in range(epochs):
        opt.lr = schedule(epoch)
        grads, norm = clip_by_global_norm(compute_grads(params), 1.0)
        opt.step(grads)
        if stopper.step(validation_loss(params), params):
            break
"""

from fastloss.training.callbacks import EarlyStopping, History
from fastloss.training.loop import GradientWarning, fit
from fastloss.training.models import MLP, Linear
from fastloss.training.optimizers import (
    SGD,
    Adam,
    AdamW,
    AddWeightDecay,
    ClipByGlobalNorm,
    ClipByValue,
    Optimizer,
    RMSprop,
    chain,
    clip_by_global_norm,
    clip_by_value,
    global_norm,
)
from fastloss.training.plotting import plot_history
from fastloss.training.schedules import (
    ReduceLROnPlateau,
    Schedule,
    constant_lr,
    cosine_lr,
    exponential_lr,
    step_lr,
)

__all__ = [
    "Optimizer", "SGD", "RMSprop", "Adam", "AdamW",
    "clip_by_value", "clip_by_global_norm", "global_norm",
    "ClipByValue", "ClipByGlobalNorm", "AddWeightDecay", "chain",
    "Schedule", "constant_lr", "step_lr", "exponential_lr", "cosine_lr",
    "ReduceLROnPlateau", "EarlyStopping", "History",
    "Linear", "MLP", "fit", "GradientWarning", "plot_history",
]
