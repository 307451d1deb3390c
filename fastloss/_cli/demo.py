"""``python -m fastloss demo``: the advice of every guide to loss functions, measured.

Each task builds seeded synthetic data, trains small models with the public toolkit
(:mod:`fastloss.training`: optimizers, schedules, clipping, early stopping, ``fit``
with its gradient diagnostics; :mod:`fastloss.metrics` for the held-out scores),
prints the training log, a table of several held-out metrics and a verdict computed
from those numbers, and with ``--plots DIR`` writes the loss curves as PNGs.

Tasks are entries of the ``TASKS`` registry (name -> :class:`Task`): the loss
comparisons (outliers, a rare class, noisy labels, an embedding for unseen classes,
ranking) and the common training problems (overfitting caught by early stopping,
exploding gradients fixed by clipping, vanishing gradients in a deep sigmoid network,
plain SGD stuck on a plateau, MSE used for classification). ``--task`` picks one;
``--quick`` runs every task on smaller data for tests.
"""

import argparse
import math
import os
import sys
import textwrap
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

import fastloss as fl
from fastloss import metrics
from fastloss._cli import integers
from fastloss.training import (
    MLP,
    SGD,
    Adam,
    EarlyStopping,
    GradientWarning,
    Linear,
    ReduceLROnPlateau,
    RMSprop,
    cosine_lr,
    fit,
    plot_history,
)

# ---------------------------------------------------------------------------------
# Output helpers shared by every task
# ---------------------------------------------------------------------------------


class Report:
    """Where a task writes: `line` always, `log` (training progress) unless quiet;
    `plot` writes loss curves when a plot folder was given."""

    def __init__(self, stream=None, quiet=False, plots=None):
        self.stream = sys.stdout if stream is None else stream
        self.quiet = quiet
        self.plots = plots
        self.written = []

    def line(self, text=""):
        print(text, file=self.stream)

    def log(self, text=""):
        if not self.quiet:
            self.line(text)

    def flush(self):
        self.stream.flush()

    def plot(self, name, histories, title):
        """Loss curves of `histories` (label -> History) as DIR/name.png."""
        if self.plots is None:
            return None
        os.makedirs(self.plots, exist_ok=True)
        path = plot_history(histories, os.path.join(self.plots, f"{name}.png"), title=title)
        self.written.append(path)
        self.line(f"Loss curves: {path}")
        return path


def format_table(headers, rows):
    """Rows of cells as aligned text under a header line and a rule: the first column
    left-aligned, the others right-aligned, each as wide as its widest cell."""
    lines = [[str(cell) for cell in row] for row in (headers, *rows)]
    widths = [max(len(cell) for cell in column) for column in zip(*lines, strict=True)]

    def line(cells):
        first, *rest = cells
        return "  ".join([first.ljust(widths[0]),
                          *(c.rjust(w) for c, w in zip(rest, widths[1:], strict=True))]).rstrip()

    return "\n".join([line(lines[0]), "  ".join("-" * w for w in widths),
                      *(line(cells) for cells in lines[1:])])


def wrap(text):
    return textwrap.fill(text, width=88)


def logged_epochs(epochs):
    """The 1-based epochs to log: the first, about ten evenly spaced, the last."""
    every = max(1, math.ceil(epochs / 10))
    return {1, *range(every, epochs, every), epochs}


def log_training(report, histories, unit, series="train_loss"):
    """A table of each run's loss at logged_epochs() (`histories`: label -> History, or
    label -> list of values); runs that stopped early or diverged show "-" after their
    last epoch."""
    columns = {label: (getattr(h, series) if hasattr(h, series) else h)
               for label, h in histories.items()}
    epochs = max(len(values) for values in columns.values())
    rows = []
    for epoch in sorted(logged_epochs(epochs)):
        cells = []
        for values in columns.values():
            if epoch > len(values):
                cells.append("-")
            else:
                value = values[epoch - 1]
                cells.append(f"{value:.4f}" if abs(value) < 1e5 else f"{value:.3g}")
        rows.append([epoch, *cells])
    what = "Validation" if series == "val_loss" else "Training"
    report.log(f"{what} loss per epoch ({unit}):")
    report.log(format_table(["epoch", *columns], rows))


def pick(options, full, quick):
    """`quick` under --quick (small data for tests), else `full`."""
    return quick if options.quick else full


def train(model, loss, x, y, **options):
    """fit(...) with its GradientWarnings caught: (history, warning messages)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", GradientWarning)
        history = fit(model, loss, x, y, progress=False, **options)
    messages = [str(w.message) for w in caught if issubclass(w.category, GradientWarning)]
    return history, messages


def first_epoch_below(values, level):
    """1-based first epoch whose value is below `level`, or None."""
    return next((i + 1 for i, v in enumerate(values) if v < level), None)


# ---------------------------------------------------------------------------------
# Task: robust regression on house prices with corrupted training targets
# ---------------------------------------------------------------------------------

HOUSE_FEATURES = ("size_m2", "rooms", "age_years", "distance_km")
# Price in k-euro = intercept + sum(coefficient * feature) + noise (a made-up market).
HOUSE_INTERCEPT = 120.0
HOUSE_COEFFICIENTS = np.array([2.2, 12.0, -1.0, -5.0])
HOUSE_NOISE_K = 20.0
PRICE_UNIT_K = 100.0  # the model is trained on prices in units of 100 k-euro
OUTLIER_FACTOR = 10.0  # a corrupted price carries an extra zero
HUBER_DELTA = 0.5  # in training units: 50 k-euro, a little over twice the noise
# Initial gradient-descent step, shrinking linearly to ~0. MSE diverges above 2 / (largest
# eigenvalue of its hessian 2 cov([x, 1])), about 0.55 for these correlated features.
STEP_SIZE = 0.4
CLEAR_WIN = 1.2  # the takeaway calls a loss better when its error is 1.2x smaller


def house_features(rng, n):
    """n houses: size, rooms (tied to size), age, distance to the centre."""
    size = rng.lognormal(mean=math.log(100.0), sigma=0.3, size=n)
    rooms = np.clip(np.round(size / 28.0 + rng.normal(0.0, 0.7, n)), 1, None)
    age = rng.uniform(0.0, 80.0, n)
    distance = rng.gamma(shape=2.0, scale=4.0, size=n)
    return np.column_stack([size, rooms, age, distance])


def house_prices(rng, features):
    """Clean prices in k-euro."""
    noise = rng.normal(0.0, HOUSE_NOISE_K, len(features))
    return HOUSE_INTERCEPT + features @ HOUSE_COEFFICIENTS + noise


@dataclass
class HouseData:
    x_train: np.ndarray  # standardized features
    y_train: np.ndarray  # prices in PRICE_UNIT_K, a share of them corrupted
    x_test: np.ndarray
    y_test: np.ndarray  # clean prices in PRICE_UNIT_K
    n_outliers: int


def make_house_data(seed, outlier_share, n_train=2000, n_test=1000):
    rng = np.random.default_rng(seed)
    raw_train = house_features(rng, n_train)
    raw_test = house_features(rng, n_test)
    y_train = house_prices(rng, raw_train) / PRICE_UNIT_K
    y_test = house_prices(rng, raw_test) / PRICE_UNIT_K
    n_outliers = round(outlier_share * n_train)
    corrupted = rng.choice(n_train, size=n_outliers, replace=False)
    y_train[corrupted] *= OUTLIER_FACTOR
    # Standardize with the training statistics (features are clean; only prices are not).
    mean, std = raw_train.mean(axis=0), raw_train.std(axis=0)
    return HouseData(
        (raw_train - mean) / std, y_train, (raw_test - mean) / std, y_test, n_outliers
    )

def regression_takeaway(results, outlier_share):
    """One sentence drawn from the held-out errors: `results` maps each loss name to
    {"mae": mean absolute error, "bias": mean signed error}, in k-euro."""
    mae = {name: r["mae"] for name, r in results.items()}
    bias = {name: r["bias"] for name, r in results.items()}
    robust = [name for name in results if name != "MSE"]
    ranking = ", ".join(f"{name} {mae[name]:.1f}" for name in sorted(mae, key=mae.get))
    corrupted = f"with {outlier_share:.0%} of training prices corrupted"
    if all(mae[name] * CLEAR_WIN <= mae["MSE"] for name in robust):
        ratios = " and ".join(
            f"{mae['MSE'] / mae[name]:.1f}x {name}'s {mae[name]:.1f}" for name in robust
        )
        shifts = " and ".join(f"{bias[name]:+.1f}" for name in robust)
        return (
            f"Takeaway: {corrupted}, MSE misses clean prices by {mae['MSE']:.1f} k-euro on "
            f"average, {ratios}. The squared error's gradient grows with the residual, so "
            f"the outliers drag MSE's whole fit (predictions shifted by {bias['MSE']:+.1f} "
            f"k-euro on average); the gradients of {' and '.join(robust)} are bounded, so "
            f"the outliers shift them by only {shifts} k-euro."
        )
    spread = max(mae.values()) / min(mae.values()) - 1
    if spread < CLEAR_WIN - 1:
        return (
            f"Takeaway: {corrupted}, the three losses end up within {spread:.1%} of each "
            f"other (held-out MAE in k-euro: {ranking}): with few or no gross outliers "
            "the robust losses cost little, and MSE, the maximum-likelihood fit for "
            "Gaussian noise, loses nothing."
        )
    return (
        f"Takeaway: {corrupted}, the held-out MAE in k-euro ranks the losses {ranking}: "
        f"no loss beats all others by {CLEAR_WIN:g}x here."
    )

def regression_task(options, report):
    """Linear house-price model trained with MSE, MAE and Huber on corrupted targets.

    Returns {loss name: {"mae", "rmse", "bias", "r2"}} on the clean held-out set, in
    k-euro (R^2 unitless).
    """
    data = make_house_data(options.seed, options.outlier_share,
                           n_train=pick(options, 2000, 500), n_test=pick(options, 1000, 300))
    epochs = pick(options, 200, 80)
    losses = {
        "MSE": fl.MeanSquaredError(),
        "MAE": fl.MeanAbsoluteError(),
        "Huber": fl.Huber(delta=HUBER_DELTA),
    }
    report.line("== regression: house prices with corrupted training targets ==")
    report.line(wrap(
        f"{len(data.y_train)} training houses, {data.n_outliers} of them "
        f"({options.outlier_share:.0%}) with the price typed x{OUTLIER_FACTOR:g}; "
        f"{len(data.y_test)} clean held-out houses. Features (standardized): "
        f"{', '.join(HOUSE_FEATURES)}. Model: Linear, trained from zero by full-batch "
        f"SGD with a cosine schedule from {STEP_SIZE:g} to 0 (the subgradient of MAE "
        f"never shrinks, so a fixed step would not settle), on prices in units of "
        f"{PRICE_UNIT_K:g} k-euro; Huber delta = {HUBER_DELTA:g} "
        f"({HUBER_DELTA * PRICE_UNIT_K:g} k-euro)."
    ))
    started = time.perf_counter()
    histories, models = {}, {}
    for name, loss in losses.items():
        model = models[name] = Linear(data.x_train.shape[1])
        histories[name], _ = train(
            model, loss, data.x_train, data.y_train, epochs=epochs, batch_size=None,
            optimizer=SGD(model.params, lr=STEP_SIZE), scheduler=cosine_lr(STEP_SIZE, epochs))
    elapsed = time.perf_counter() - started
    report.log()
    log_training(report, histories, f"each model on its own loss, prices in "
                 f"{PRICE_UNIT_K:g} k-euro")

    results = {}
    for name, model in models.items():
        predicted = model.predict(data.x_test) * PRICE_UNIT_K
        clean = data.y_test * PRICE_UNIT_K
        results[name] = {
            "mae": metrics.mae(clean, predicted),
            "rmse": metrics.rmse(clean, predicted),
            "bias": float(np.mean(predicted - clean)),
            "r2": metrics.r2(clean, predicted),
        }
    report.line()
    report.line(wrap(
        f"Clean held-out set after {epochs} epochs ({elapsed:.2f} s); errors in k-euro, "
        f"mean error > 0: predicted prices too high:"
    ))
    rows = [[name, f"{r['mae']:.1f}", f"{r['rmse']:.1f}", f"{r['bias']:+.1f}",
             f"{r['r2']:.3f}"] for name, r in results.items()]
    report.line(format_table(["loss", "MAE", "RMSE", "mean error", "R^2"], rows))
    report.plot("regression", histories, "house prices with outliers: training loss")
    report.line()
    report.line(wrap(regression_takeaway(results, options.outlier_share)))
    return results


# ---------------------------------------------------------------------------------
# Task: a rare positive class (imbalanced binary classification)
# ---------------------------------------------------------------------------------

POSITIVE_SHARE = 0.03
# Features are standard normal; the positives' mean is shifted along the first three
# (the last three are noise), so the classes overlap but a linear score separates most.
POSITIVE_SHIFT = np.array([2.0, 1.5, 1.0, 0.0, 0.0, 0.0])
FOCAL_GAMMA = 2.0
# alpha weighs the positive terms, 1 - alpha the negative ones: 0.75 leans towards the
# rare class (torchvision's default 0.25 leans the other way, towards the negatives).
FOCAL_ALPHA = 0.75
BINARY_STEP_SIZE = 2.0


@dataclass
class BinaryData:
    x_train: np.ndarray
    y_train: np.ndarray  # 0.0 or 1.0
    x_test: np.ndarray
    y_test: np.ndarray


def rare_class_sample(rng, n):
    labels = (rng.random(n) < POSITIVE_SHARE).astype(np.float64)
    features = rng.normal(size=(n, POSITIVE_SHIFT.size)) + labels[:, None] * POSITIVE_SHIFT
    return features, labels


def make_binary_data(seed, n_train=5000, n_test=20000):
    rng = np.random.default_rng(seed)
    return BinaryData(*rare_class_sample(rng, n_train), *rare_class_sample(rng, n_test))
def binary_scores(y_true, logits):
    """Held-out metrics of the rule "positive where logit > 0" (probability > 1/2),
    and the ranking metrics of the logits."""
    predicted = (logits > 0).astype(np.float64)
    scores = {
        "accuracy": metrics.accuracy(y_true, predicted),
        "precision": metrics.precision(y_true, predicted, zero_division=0.0),
        "recall": metrics.recall(y_true, predicted, zero_division=0.0),
        "f1": metrics.f1_score(y_true, predicted, zero_division=0.0),
        "flagged": int(predicted.sum()),
    }
    if 0 < y_true.sum() < y_true.size:
        scores["roc_auc"] = metrics.roc_auc(y_true, logits)
        scores["average_precision"] = metrics.average_precision(y_true, logits)
    return scores


def binary_takeaway(results, n_positives, n_test):
    """Sentences drawn from the held-out metrics: `results` maps each loss name to
    binary_scores(...); the first entry is plain cross-entropy."""
    plain, *others = results
    base = results[plain]
    best_accuracy = max(r["accuracy"] for r in results.values())
    parts = [
        f"Takeaway: plain {plain} reaches {base['accuracy']:.1%} accuracy"
        + (", the best here" if base["accuracy"] == best_accuracy else "")
        + f" (always answering \"negative\" scores {1 - n_positives / n_test:.1%}), but "
        f"finds only {base['recall']:.0%} of the {n_positives} held-out positives "
        f"(precision {base['precision']:.0%})."
    ]
    for name in others:
        r = results[name]
        subject = name[0].upper() + name[1:]
        if r["recall"] > base["recall"] and r["precision"] < base["precision"]:
            parts.append(
                f"{subject} trades precision for recall: it finds {r['recall']:.0%} of "
                f"them by flagging {r['flagged']} examples instead of {base['flagged']}, "
                f"at {r['precision']:.0%} precision."
            )
        else:
            parts.append(
                f"{subject} finds {r['recall']:.0%} of them at {r['precision']:.0%} "
                "precision."
            )
    best = max(results, key=lambda name: results[name]["f1"])
    parts.append(
        f"The best balance of the two (F1) is {best}'s {results[best]['f1']:.2f}; which "
        "trade is right depends on what a missed positive costs against a false alarm."
    )
    return " ".join(parts)

def binary_task(options, report):
    """Linear logistic model on a rare positive class: cross-entropy, weighted
    cross-entropy and focal loss. Returns {loss name: binary_scores(...)} on the
    held-out set."""
    data = make_binary_data(options.seed, n_train=pick(options, 5000, 3000),
                            n_test=pick(options, 20000, 5000))
    epochs = pick(options, 200, 80)
    n_positives = int(data.y_train.sum())
    # pos_weight (torch BCEWithLogitsLoss) rather than per-example sample weights: one
    # number in the loss instead of an array per batch, and "mean" still divides by the
    # number of examples. n_negative / n_positive balances the two classes' total weight.
    pos_weight = (len(data.y_train) - n_positives) / n_positives
    losses = {
        "CE": fl.BinaryCrossEntropy(from_logits=True),
        "weighted CE": fl.BinaryCrossEntropy(from_logits=True, pos_weight=pos_weight),
        "focal": fl.BinaryFocal(gamma=FOCAL_GAMMA, alpha=FOCAL_ALPHA, from_logits=True),
    }
    report.line("== binary: a rare positive class ==")
    report.line(wrap(
        f"{len(data.y_train)} training examples, {n_positives} of them positive "
        f"({n_positives / len(data.y_train):.1%}); {len(data.y_test)} held-out. "
        f"{POSITIVE_SHIFT.size} standard-normal features, the positives' mean shifted by "
        f"{', '.join(f'{v:g}' for v in POSITIVE_SHIFT[POSITIVE_SHIFT > 0])} along the "
        f"first {np.count_nonzero(POSITIVE_SHIFT)}. Model: Linear (logits), trained from "
        f"zero by full-batch SGD (lr {BINARY_STEP_SIZE:g}). Weighted CE: pos_weight = "
        f"n_negative / n_positive = {pos_weight:.1f}; focal: gamma = {FOCAL_GAMMA:g}, "
        f"alpha = {FOCAL_ALPHA:g} on the positives."
    ))
    started = time.perf_counter()
    histories, models = {}, {}
    for name, loss in losses.items():
        model = models[name] = Linear(data.x_train.shape[1])
        histories[name], _ = train(model, loss, data.x_train, data.y_train, epochs=epochs,
                                   batch_size=None,
                                   optimizer=SGD(model.params, lr=BINARY_STEP_SIZE))
    elapsed = time.perf_counter() - started
    report.log()
    log_training(report, histories, "mean per training example")

    results = {name: binary_scores(data.y_test, m.predict(data.x_test))
               for name, m in models.items()}
    n_test_positives = int(data.y_test.sum())
    report.line()
    report.line(wrap(
        f"Held-out results after {epochs} epochs ({elapsed:.2f} s); an example is "
        f"flagged positive where its logit > 0; {n_test_positives} of the "
        f"{len(data.y_test)} are positive. ROC AUC and average precision (AP) rank by "
        f"the logit, whatever the threshold:"
    ))
    rows = [
        [name, f"{r['accuracy']:.3f}", f"{r['precision']:.3f}", f"{r['recall']:.3f}",
         f"{r['f1']:.3f}", f"{r['roc_auc']:.3f}", f"{r['average_precision']:.3f}",
         r["flagged"]]
        for name, r in results.items()
    ]
    report.line(format_table(["loss", "accuracy", "precision", "recall", "F1", "ROC AUC",
                              "AP", "flagged"], rows))
    report.plot("binary", histories, "a rare positive class: training loss")
    report.line()
    report.line(wrap(binary_takeaway(results, n_test_positives, len(data.y_test))))
    return results


# ---------------------------------------------------------------------------------
# Task: multi-class with noisy training labels
# ---------------------------------------------------------------------------------

N_CLASSES = 5
BLOB_RADIUS = 2.0  # class centres evenly spaced on a circle; each blob has unit spread
GCE_Q = 0.7  # Zhang & Sabuncu's choice
MULTICLASS_STEP_SIZE = 3.0
CLEAR_GAIN = 0.02  # the takeaway calls GCE better when its accuracy is 2 points higher


@dataclass
class MulticlassData:
    x_train: np.ndarray
    y_train: np.ndarray  # noisy labels
    x_test: np.ndarray
    y_test: np.ndarray  # true labels
    n_flipped: int


def blob_sample(rng, n):
    angles = 2 * np.pi * np.arange(N_CLASSES) / N_CLASSES
    centres = BLOB_RADIUS * np.column_stack([np.cos(angles), np.sin(angles)])
    labels = rng.integers(0, N_CLASSES, size=n)
    return centres[labels] + rng.normal(size=(n, 2)), labels


def make_multiclass_data(seed, label_noise, n_train=5000, n_test=10000):
    """Pair-flip noise: each training label k becomes (k + 1) mod N_CLASSES with
    probability label_noise, the systematic confusion of a careless annotator."""
    rng = np.random.default_rng(seed)
    x_train, y_train = blob_sample(rng, n_train)
    x_test, y_test = blob_sample(rng, n_test)
    flipped = rng.random(n_train) < label_noise
    y_train[flipped] = (y_train[flipped] + 1) % N_CLASSES
    return MulticlassData(x_train, y_train, x_test, y_test, int(flipped.sum()))
def multiclass_scores(y_true, logits):
    """Held-out accuracy of argmax(logits), macro F1, the recall of each class, the
    share of the errors that put a point of class k in class k + 1 (where flipped
    labels point), and the log-loss of the softmax probabilities."""
    predicted = np.argmax(logits, axis=1)
    wrong = predicted != y_true
    to_next = predicted[wrong] == (y_true[wrong] + 1) % N_CLASSES
    shifted = logits - logits.max(axis=1, keepdims=True)
    proba = np.exp(shifted)
    proba /= proba.sum(axis=1, keepdims=True)
    return {
        "accuracy": metrics.accuracy(y_true, predicted),
        "macro_f1": metrics.f1_score(y_true, predicted, average="macro",
                                     labels=np.arange(N_CLASSES), zero_division=0.0),
        "recall": [float(v) for v in metrics.recall(
            y_true, predicted, average=None, labels=np.arange(N_CLASSES), zero_division=0.0)],
        "errors_to_next": float(np.mean(to_next)) if wrong.any() else 0.0,
        "log_loss": metrics.log_loss(y_true, proba, labels=np.arange(N_CLASSES)),
    }


def multiclass_takeaway(results, flipped_share):
    """One sentence from the held-out scores; the first entry is cross-entropy."""
    plain, robust = results
    acc = {name: r["accuracy"] for name, r in results.items()}
    to_next = {name: r["errors_to_next"] for name, r in results.items()}
    chance = f"chance: {1 / N_CLASSES:.0%}"
    if acc[robust] - acc[plain] >= CLEAR_GAIN:
        return (
            f"Takeaway: with {flipped_share:.0%} of training labels flipped to the next "
            f"class, {robust} classifies {acc[robust]:.1%} of the held-out points "
            f"correctly against {plain}'s {acc[plain]:.1%} ({chance}). {plain} learns the "
            f"flips: {to_next[plain]:.0%} of its errors put a point of class k in class "
            f"k + 1 ({robust}: {to_next[robust]:.0%}). A point whose label the model "
            f"confidently rejects still pulls on {plain} with full force; {robust}'s "
            f"gradient is {plain}'s scaled by p^q, the probability the model gives the "
            f"label, so such points, mostly the flipped ones, stop pulling."
        )
    return (
        f"Takeaway: with {flipped_share:.0%} of training labels flipped to the next class, "
        f"{plain} and {robust} classify {acc[plain]:.1%} and {acc[robust]:.1%} of the "
        f"held-out points correctly ({chance}): with few or no flipped labels the robust loss "
        f"buys little, and cross-entropy, the maximum-likelihood fit, loses little."
    )

def multiclass_task(options, report):
    """Linear softmax model on N_CLASSES Gaussian blobs with flipped training labels:
    cross-entropy against generalized cross-entropy. Returns {loss name:
    multiclass_scores(...)} on the held-out set (true labels)."""
    data = make_multiclass_data(options.seed, options.label_noise,
                                n_train=pick(options, 5000, 2000),
                                n_test=pick(options, 10000, 3000))
    epochs = pick(options, 200, 80)
    losses = {
        "CE": fl.SparseCategoricalCrossEntropy(from_logits=True),
        f"GCE q={GCE_Q:g}": fl.GeneralizedCrossEntropy(q=GCE_Q, from_logits=True),
    }
    report.line(f"== multiclass: {N_CLASSES} classes, noisy training labels ==")
    report.line(wrap(
        f"{len(data.y_train)} training points in {N_CLASSES} unit-spread Gaussian blobs "
        f"centred on a circle of radius {BLOB_RADIUS:g}; {data.n_flipped} training labels "
        f"({data.n_flipped / len(data.y_train):.0%}) flipped from class k to k + 1; "
        f"{len(data.y_test)} held-out points with their true labels. Model: Linear with "
        f"one logit per class, trained from zero by full-batch SGD (lr "
        f"{MULTICLASS_STEP_SIZE:g}) on integer labels."
    ))
    started = time.perf_counter()
    histories, models = {}, {}
    for name, loss in losses.items():
        model = models[name] = Linear(2, n_outputs=N_CLASSES)
        histories[name], _ = train(model, loss, data.x_train, data.y_train, epochs=epochs,
                                   batch_size=None,
                                   optimizer=SGD(model.params, lr=MULTICLASS_STEP_SIZE))
    elapsed = time.perf_counter() - started
    report.log()
    log_training(report, histories, "mean per point, on the noisy labels")

    results = {name: multiclass_scores(data.y_test, m.predict(data.x_test))
               for name, m in models.items()}
    report.line()
    report.line(wrap(
        f"Held-out results (true labels) after {epochs} epochs ({elapsed:.2f} s): "
        f"accuracy, macro F1, log-loss of the softmax probabilities, the recall of each "
        f"class, and the share of the errors that put a point of class k in class k + 1:"
    ))
    rows = [
        [name, f"{r['accuracy']:.3f}", f"{r['macro_f1']:.3f}", f"{r['log_loss']:.3f}",
         *(f"{v:.3f}" for v in r["recall"]), f"{r['errors_to_next']:.0%}"]
        for name, r in results.items()
    ]
    headers = ["loss", "accuracy", "macro F1", "log-loss",
               *(f"class {k}" for k in range(N_CLASSES)), "k -> k+1"]
    report.line(format_table(headers, rows))
    report.plot("multiclass", histories, "noisy labels: training loss (on the noisy labels)")
    report.line()
    report.line(wrap(multiclass_takeaway(results, data.n_flipped / len(data.y_train))))
    return results


# ---------------------------------------------------------------------------------
# Task: metric learning, an embedding for classes never seen in training
# ---------------------------------------------------------------------------------

SIGNAL_DIMS = 4  # the class centres differ in these raw features only
NOISE_DIMS = 28  # the others carry noise, larger than the spread of the centres
CENTRE_SPREAD = 1.0  # class centres ~ N(0, CENTRE_SPREAD^2) in the signal features
CLASS_SPREAD = 0.25  # a class's points scatter this much around their centre
NOISE_SPREAD = 1.0
EMBEDDING_DIM = 8
TRIPLET_MARGIN = 1.0
EMBEDDING_STEP_SIZE = 0.5
CLEAR_GAIN_RECALL = 0.05  # the takeaway ranks the strategies when they differ by more
STRATEGIES = ("hard", "semihard", "all")


@dataclass
class EmbeddingData:
    x_train: np.ndarray  # raw features, (n, SIGNAL_DIMS + NOISE_DIMS)
    y_train: np.ndarray  # class labels
    x_test: np.ndarray  # points of other classes
    y_test: np.ndarray
    initial_weights: np.ndarray  # the random projection every model starts from


def clustered_sample(rng, n_classes, per_class, first_label):
    """per_class points around each of n_classes random centres, then noise features."""
    centres = rng.normal(0.0, CENTRE_SPREAD, (n_classes, SIGNAL_DIMS))
    labels = np.repeat(np.arange(n_classes), per_class)
    signal = centres[labels] + rng.normal(0.0, CLASS_SPREAD, (labels.size, SIGNAL_DIMS))
    noise = rng.normal(0.0, NOISE_SPREAD, (labels.size, NOISE_DIMS))
    return np.hstack([signal, noise]), labels + first_label


def make_embedding_data(seed, n_train_classes=12, n_test_classes=20, per_class=15):
    """Training and held-out points from disjoint classes (held-out labels follow the
    training ones), and a random initial projection to EMBEDDING_DIM."""
    rng = np.random.default_rng(seed)
    x_train, y_train = clustered_sample(rng, n_train_classes, per_class, 0)
    x_test, y_test = clustered_sample(rng, n_test_classes, per_class, n_train_classes)
    n_features = SIGNAL_DIMS + NOISE_DIMS
    initial = rng.normal(0.0, 1.0 / math.sqrt(n_features), (n_features, EMBEDDING_DIM))
    return EmbeddingData(x_train, y_train, x_test, y_test, initial)
def neighbour_lists(labels, embeddings):
    """(relevance, scores) of every point's list of the other points: relevant when of
    the same label, scored by minus the Euclidean distance (the point itself last)."""
    sq = np.sum(embeddings * embeddings, axis=1)
    dist = np.sqrt(np.maximum(sq[:, None] + sq[None, :] - 2.0 * embeddings @ embeddings.T,
                              0.0))
    scores = -dist
    np.fill_diagonal(scores, scores.min() - 1.0)
    relevance = (labels[:, None] == labels[None, :]).astype(np.float64)
    np.fill_diagonal(relevance, 0.0)
    return relevance, scores


def recall_at_1(labels, embeddings):
    """Share of the points whose nearest other point (Euclidean) has their label:
    the reciprocal rank of the first same-label point, cut at rank 1."""
    return metrics.mrr(*neighbour_lists(labels, embeddings), k=1)


def embedding_scores(labels, embeddings):
    relevance, scores = neighbour_lists(labels, embeddings)
    return {"recall@1": metrics.mrr(relevance, scores, k=1),
            "mrr": metrics.mrr(relevance, scores),
            "recall@10": metrics.recall_at_k(relevance, scores, k=10)}


def embedding_takeaway(before, results):
    """One sentence from the held-out recall@1 before training and per strategy."""
    ranked = sorted(results, key=results.get, reverse=True)
    spread = results[ranked[0]] - results[ranked[-1]]
    return (
        f"Takeaway: on classes it never saw, the random projection finds a same-class "
        f"nearest neighbour for {before:.1%} of the points; after training, "
        + ", ".join(f"{name} {results[name]:.1%}" for name in ranked)
        + ". Triplet losses only compare distances, so the embedding learns to drop the "
        "noise features and keep those the classes differ in, which carries over to new "
        "classes. "
        + (f"The mining strategies end up within {100 * spread:.1f} points of each other "
           "here: on clean clusters each finds the triplets that teach this."
           if spread < CLEAR_GAIN_RECALL else
           f"Mining decides which triplets teach: {ranked[0]} does best here, "
           f"{ranked[-1]} worst.")
    )

def embedding_task(options, report):
    """Linear embedding trained with BatchTriplet under each mining strategy, scored by
    recall@1, MRR and recall@10 on held-out classes. Returns {"before": scores,
    strategy: scores, ...}."""
    data = make_embedding_data(options.seed, per_class=pick(options, 15, 10))
    epochs = pick(options, 200, 80)
    losses = {name: fl.BatchTriplet(margin=TRIPLET_MARGIN, strategy=name)
              for name in STRATEGIES}
    n_train_classes = len(np.unique(data.y_train))
    n_test_classes = len(np.unique(data.y_test))
    report.line("== embedding: metric learning for unseen classes ==")
    report.line(wrap(
        f"{len(data.y_train)} training points of {n_train_classes} classes; "
        f"{len(data.y_test)} held-out points of {n_test_classes} other classes. Each point "
        f"has {SIGNAL_DIMS} features around its class centre (spread {CLASS_SPREAD:g}, "
        f"centres spread {CENTRE_SPREAD:g}) and {NOISE_DIMS} noise features (spread "
        f"{NOISE_SPREAD:g}). Model: Linear to {EMBEDDING_DIM} dimensions without bias, "
        f"started from a random projection and trained by full-batch SGD (lr "
        f"{EMBEDDING_STEP_SIZE:g}) with BatchTriplet (margin {TRIPLET_MARGIN:g}), once per "
        f"mining strategy."
    ))
    started = time.perf_counter()
    histories, models = {}, {}
    for name, loss in losses.items():
        model = models[name] = Linear(data.x_train.shape[1], n_outputs=EMBEDDING_DIM,
                                      bias=False)
        model.params[0][...] = data.initial_weights
        histories[name], _ = train(model, loss, data.x_train, data.y_train, epochs=epochs,
                                   batch_size=None,
                                   optimizer=SGD(model.params, lr=EMBEDDING_STEP_SIZE))
    elapsed = time.perf_counter() - started
    report.log()
    log_training(report, histories, "mean per mined triplet")

    before = embedding_scores(data.y_test, data.x_test @ data.initial_weights)
    results = {name: embedding_scores(data.y_test, m.predict(data.x_test))
               for name, m in models.items()}
    raw = recall_at_1(data.y_test, data.x_test)
    report.line()
    report.line(wrap(
        f"Held-out classes after {epochs} epochs ({elapsed:.2f} s): recall@1 (the share "
        f"of points whose nearest other point has their class; raw features: {raw:.3f}), "
        f"MRR of the first same-class neighbour and recall@10 of all of them:"
    ))
    rows = [[name, *(f"{r[key]:.3f}" for key in ("recall@1", "mrr", "recall@10"))]
            for name, r in {"random projection": before, **results}.items()]
    report.line(format_table(["embedding", "recall@1", "MRR", "recall@10"], rows))
    report.plot("embedding", histories, "embedding: BatchTriplet training loss")
    report.line()
    report.line(wrap(embedding_takeaway(before["recall@1"],
                                        {n: r["recall@1"] for n, r in results.items()})))
    return {"before": before, **results}


# ---------------------------------------------------------------------------------
# Task: learning to rank documents for queries
# ---------------------------------------------------------------------------------

RANK_FEATURES = 10
DOCS_PER_QUERY = 30
RANK_NOISE = 1.0  # the graders' noise on a document's utility
# Relevance grade g where utility > GRADE_CUTS[g - 1]: most documents are irrelevant.
GRADE_CUTS = np.array([1.0, 2.0, 2.8, 3.5])
NDCG_K = 10
RANKING_STEP_SIZE = 1.0


@dataclass
class RankingData:
    x_train: np.ndarray  # (queries, DOCS_PER_QUERY, RANK_FEATURES)
    y_train: np.ndarray  # relevance grades 0..4, (queries, DOCS_PER_QUERY)
    x_test: np.ndarray
    y_test: np.ndarray


def ranking_sample(rng, true_weights, n_queries):
    x = rng.normal(size=(n_queries, DOCS_PER_QUERY, RANK_FEATURES))
    utility = x @ true_weights + rng.normal(0.0, RANK_NOISE, (n_queries, DOCS_PER_QUERY))
    return x, np.searchsorted(GRADE_CUTS, utility).astype(np.float64)


def make_ranking_data(seed, n_train=300, n_test=1000):
    rng = np.random.default_rng(seed)
    true_weights = rng.normal(size=RANK_FEATURES) / math.sqrt(RANK_FEATURES) * 1.5
    return RankingData(*ranking_sample(rng, true_weights, n_train),
                       *ranking_sample(rng, true_weights, n_test))
def ranking_scores(relevance, scores):
    """NDCG@NDCG_K with the gains 2^rel - 1 of LambdaRank, MRR of the first relevant
    document, recall@5 of the relevant ones (grade > 0)."""
    return {"ndcg": metrics.ndcg_at_k(relevance, scores, k=NDCG_K, gains="exponential"),
            "mrr": metrics.mrr(relevance, scores),
            "recall@5": metrics.recall_at_k(relevance, scores, k=5)}


def ranking_takeaway(before, results):
    (listwise, a), (lambda_name, b) = results.items()
    parts = [
        f"Takeaway: ranking the held-out queries' documents in their given order scores "
        f"NDCG@{NDCG_K} {before:.3f}; {listwise} lifts it to {a:.3f} and {lambda_name} to "
        f"{b:.3f}."
    ]
    if abs(a - b) < 0.005:
        parts.append(
            "Both learn nearly the same scorer: when a linear score can order the whole "
            "list well, optimizing the whole list and optimizing its top agree."
        )
    else:
        winner = lambda_name if b > a else listwise
        parts.append(
            f"{winner} ranks the top better here: {lambda_name} weighs each pair by how "
            f"much swapping it changes NDCG@{NDCG_K}, so it spends the model's capacity "
            f"on the first {NDCG_K} positions; {listwise} matches the whole list's "
            f"relevance distribution."
        )
    return " ".join(parts)

def ranking_task(options, report):
    """Linear scorer trained with ListwiseSoftmax and LambdaRank@NDCG_K on synthetic
    queries. Returns {"before": scores, loss name: scores, ...} on held-out queries."""
    data = make_ranking_data(options.seed, n_train=pick(options, 300, 150),
                             n_test=pick(options, 1000, 300))
    epochs = pick(options, 200, 80)
    losses = {
        "ListwiseSoftmax": fl.ListwiseSoftmax(),
        f"LambdaRank@{NDCG_K}": fl.LambdaRank(k=NDCG_K),
    }
    grades = np.bincount(data.y_train.astype(np.int64).ravel(), minlength=GRADE_CUTS.size + 1)
    report.line("== ranking: documents for queries ==")
    report.line(wrap(
        f"{len(data.y_train)} training and {len(data.y_test)} held-out queries of "
        f"{DOCS_PER_QUERY} documents, each with {RANK_FEATURES} standard-normal features; "
        f"relevance grades 0-{GRADE_CUTS.size} cut from a hidden linear utility plus "
        f"noise (training grades: "
        + ", ".join(f"{share:.0%} grade {g}" for g, share in enumerate(grades / grades.sum()))
        + f"). Model: Linear scorer without bias, trained from zero by full-batch SGD "
        f"(lr {RANKING_STEP_SIZE:g}) on every training query at once."
    ))
    started = time.perf_counter()
    histories, models = {}, {}
    for name, loss in losses.items():
        model = models[name] = Linear(RANK_FEATURES, bias=False)
        histories[name], _ = train(model, loss, data.x_train, data.y_train, epochs=epochs,
                                   batch_size=None,
                                   optimizer=SGD(model.params, lr=RANKING_STEP_SIZE))
    elapsed = time.perf_counter() - started
    report.log()
    log_training(report, histories, "mean per query")

    # Before training every score is 0: tied scores share their gains (the expected
    # NDCG of a random order).
    before = ranking_scores(data.y_test, np.zeros(data.y_test.shape))
    results = {name: ranking_scores(data.y_test, m.predict(data.x_test))
               for name, m in models.items()}
    report.line()
    report.line(wrap(
        f"Held-out queries after {epochs} epochs ({elapsed:.2f} s): NDCG@{NDCG_K} "
        f"(gains 2^grade - 1; an untrained scorer ties every document: the mean over "
        f"random orders), MRR of the first relevant document and recall@5 (ties count "
        f"against the scorer):"
    ))
    rows = [[name, *(f"{r[key]:.3f}" for key in ("ndcg", "mrr", "recall@5"))]
            for name, r in {"untrained": before, **results}.items()]
    report.line(format_table(["scorer", f"NDCG@{NDCG_K}", "MRR", "recall@5"], rows))
    report.plot("ranking", histories, "ranking: training loss")
    report.line()
    report.line(wrap(ranking_takeaway(before["ndcg"], {n: r["ndcg"]
                                                       for n, r in results.items()})))
    return {"before": before, **results}


# ---------------------------------------------------------------------------------
# Challenge: overfitting, caught by the validation loss and early stopping
# ---------------------------------------------------------------------------------

OVERFIT_NOISE = 0.3
OVERFIT_PATIENCE = 50


def wave_sample(rng, n):
    x = rng.uniform(-1.0, 1.0, size=(n, 1))
    return x, np.sin(3.0 * x[:, 0]) + rng.normal(0.0, OVERFIT_NOISE, n)


def overfitting_takeaway(full, stopped, full_test, stopped_test):
    best = stopped.best_epoch
    rise = full.val_loss[-1] / min(full.val_loss) - 1
    if stopped_test["rmse"] < full_test["rmse"]:
        verdict = (f"Restoring that epoch's parameters cuts the test RMSE from "
                   f"{full_test['rmse']:.3f} (all {len(full)} epochs) to "
                   f"{stopped_test['rmse']:.3f}, with {len(stopped)} epochs of training "
                   f"instead of {len(full)}.")
    else:
        verdict = (f"Here the restored parameters score a test RMSE of "
                   f"{stopped_test['rmse']:.3f} against {full_test['rmse']:.3f} after all "
                   f"{len(full)} epochs: no gain on this seed.")
    return (
        f"Takeaway: the training loss falls to {full.train_loss[-1]:.3f} while the "
        f"validation loss bottoms out at {min(full.val_loss):.3f} (epoch "
        f"{int(np.argmin(full.val_loss)) + 1}) and ends {rise:.0%} higher: the network "
        f"memorizes the noise of its {OVERFIT_TRAIN} training points. Early stopping "
        f"(patience {OVERFIT_PATIENCE}) fired at epoch {stopped.stopped_epoch + 1} and "
        f"kept epoch {best + 1}. " + verdict
    )


OVERFIT_TRAIN = 30


def overfitting_task(options, report):
    """An MLP on 30 noisy points, with and without early stopping on a validation set.
    Returns {"full": {...}, "early stopping": {...}} with test RMSE and R^2, the best
    and stopping epochs."""
    rng = np.random.default_rng(options.seed)
    x_train, y_train = wave_sample(rng, OVERFIT_TRAIN)
    x_val, y_val = wave_sample(rng, 200)
    x_test, y_test = wave_sample(rng, pick(options, 2000, 500))
    epochs = pick(options, 800, 400)
    report.line("== overfitting: caught by the validation loss and early stopping ==")
    report.line(wrap(
        f"{OVERFIT_TRAIN} training points of y = sin(3x) + noise (sd {OVERFIT_NOISE:g}), "
        f"{len(y_val)} validation and {len(y_test)} test points. Model: MLP with two "
        f"hidden relu layers of 64 (4,353 parameters), full-batch Adam (lr 0.01), MSE. "
        f"Once for {epochs} epochs, once with EarlyStopping(patience={OVERFIT_PATIENCE}, "
        f"restore_best=True) on the validation loss."
    ))
    started = time.perf_counter()
    histories, models = {}, {}
    for name, stopper in (("all epochs", None),
                          ("early stopping", EarlyStopping(patience=OVERFIT_PATIENCE))):
        model = models[name] = MLP(1, hidden=(64, 64), seed=options.seed)
        histories[name], _ = train(model, fl.MeanSquaredError(), x_train, y_train,
                                   epochs=epochs, batch_size=None,
                                   validation_data=(x_val, y_val), early_stopping=stopper,
                                   optimizer=Adam(model.params, lr=0.01))
    elapsed = time.perf_counter() - started
    report.log()
    log_training(report, {"train, all epochs": histories["all epochs"].train_loss,
                          "validation, all epochs": histories["all epochs"].val_loss,
                          "validation, early stopping": histories["early stopping"].val_loss},
                 "MSE; '-': stopped")
    results = {}
    for name, model in models.items():
        predicted = model.predict(x_test)
        h = histories[name]
        results[name] = {"rmse": metrics.rmse(y_test, predicted),
                         "r2": metrics.r2(y_test, predicted), "epochs": len(h),
                         "best_epoch": int(np.argmin(h.val_loss)),
                         "stopped_epoch": h.stopped_epoch,
                         "min_val_loss": min(h.val_loss), "last_val_loss": h.val_loss[-1],
                         "train_loss": h.train_loss[-1]}
    report.line()
    report.line(wrap(f"Test set ({elapsed:.2f} s); noise alone gives RMSE "
                     f"{OVERFIT_NOISE:g}:"))
    rows = [[name, r["epochs"], r["best_epoch"] + 1, f"{r['train_loss']:.3f}",
             f"{r['min_val_loss']:.3f}", f"{r['last_val_loss']:.3f}", f"{r['rmse']:.3f}",
             f"{r['r2']:.3f}"] for name, r in results.items()]
    report.line(format_table(["run", "epochs", "best epoch", "train MSE", "best val MSE",
                              "last val MSE", "test RMSE", "test R^2"], rows))
    report.plot("overfitting", histories, "overfitting: training vs validation loss")
    report.line()
    report.line(wrap(overfitting_takeaway(
        histories["all epochs"], histories["early stopping"], results["all epochs"],
        results["early stopping"])))
    return results


# ---------------------------------------------------------------------------------
# Challenge: exploding gradients from a too-large learning rate, fixed by clipping
# ---------------------------------------------------------------------------------

EXPLODING_LR = 1e-3
CLIP_NORM = 1.0


def exploding_task(options, report):
    """Linear regression on raw (unscaled) house features by mini-batch SGD with a
    learning rate far above the stable one: diverges; clipping the gradient norm keeps
    it finite; standardizing the features removes the cause. Returns {run: {"rmse",
    "diverged_epoch", "warnings", "max_grad_norm"}}."""
    rng = np.random.default_rng(options.seed)
    n = pick(options, 2000, 600)
    raw = house_features(rng, n)
    prices = house_prices(rng, raw) / PRICE_UNIT_K
    raw_test = house_features(rng, 1000)
    test_prices = house_prices(rng, raw_test) / PRICE_UNIT_K
    mean, std = raw.mean(axis=0), raw.std(axis=0)
    epochs = pick(options, 60, 25)
    # The largest eigenvalue of the MSE hessian 2 E[x x^T] sets the stable step: 2 / it.
    stable = 2.0 / np.linalg.eigvalsh(2.0 * (raw.T @ raw) / n).max()
    runs = {
        "raw, SGD": (raw, raw_test, None),
        f"raw, SGD + clip_norm={CLIP_NORM:g}": (raw, raw_test, CLIP_NORM),
        "standardized, SGD": ((raw - mean) / std, (raw_test - mean) / std, None),
    }
    report.line("== exploding: a too-large learning rate, fixed by clipping ==")
    report.line(wrap(
        f"{n} houses, features {', '.join(HOUSE_FEATURES)} left in their units (sizes "
        f"around 100 m^2). Model: Linear, MSE, mini-batch SGD (batch 100, lr "
        f"{EXPLODING_LR:g}) for {epochs} epochs. On the raw features the largest stable "
        f"step of gradient descent is {stable:.1e}, {EXPLODING_LR / stable:.0f}x below "
        f"the learning rate."
    ))
    started = time.perf_counter()
    histories, results = {}, {}
    for name, (x, x_test, clip) in runs.items():
        model = Linear(x.shape[1])
        with np.errstate(over="ignore", invalid="ignore"):  # the diverging run overflows
            histories[name], messages = train(
                model, fl.MeanSquaredError(), x, prices, epochs=epochs, batch_size=100,
                clip_norm=clip, optimizer=SGD(model.params, lr=EXPLODING_LR),
                seed=options.seed)
            predicted = model.predict(x_test) * PRICE_UNIT_K
            finite = bool(np.all(np.isfinite(predicted) & (np.abs(predicted) < 1e100)))
        h = histories[name]
        results[name] = {
            "diverged_epoch": h.diverged_epoch,
            "rmse": metrics.rmse(test_prices * PRICE_UNIT_K, predicted) if finite else math.inf,
            "r2": metrics.r2(test_prices * PRICE_UNIT_K, predicted) if finite else -math.inf,
            "max_grad_norm": max(h.grad_norm),
            "warnings": messages,
        }
    elapsed = time.perf_counter() - started
    report.log()
    log_training(report, histories, "MSE, prices in 100 k-euro; '-': training stopped")
    report.line()
    report.line(wrap(f"Held-out houses ({elapsed:.2f} s):"))
    rows = [[name, "-" if r["diverged_epoch"] is None else r["diverged_epoch"] + 1,
             f"{r['max_grad_norm']:.3g}",
             "inf" if math.isinf(r["rmse"]) else f"{r['rmse']:.1f}",
             "-inf" if math.isinf(r["r2"]) else f"{r['r2']:.3f}"]
            for name, r in results.items()]
    report.line(format_table(["run", "diverged at", "max grad norm", "RMSE k-euro", "R^2"],
                             rows))
    for name, r in results.items():
        for message in r["warnings"][:1]:
            report.log()
            report.log(wrap(f"fit warned ({name}): {message}"))
    report.plot("exploding", histories, "exploding gradients: training loss")
    report.line()
    report.line(wrap(exploding_takeaway(results)))
    return results


def exploding_takeaway(results):
    (raw_name, raw), (clip_name, clip), (std_name, std) = results.items()
    parts = ["Takeaway:"]
    if raw["diverged_epoch"] is not None:
        parts.append(f"with plain SGD the loss overflowed at epoch "
                     f"{raw['diverged_epoch'] + 1} (gradient norm up to "
                     f"{raw['max_grad_norm']:.2g}), and fit stopped with an exploding-"
                     f"gradient warning.")
    else:
        parts.append(f"plain SGD did not diverge here (held-out RMSE {raw['rmse']:.1f} "
                     "k-euro).")
    if clip["diverged_epoch"] is None:
        parts.append(f"Clipping the gradient norm to {CLIP_NORM:g} bounds every step, so "
                     f"the same learning rate stays finite (RMSE {clip['rmse']:.1f} k-euro);")
    else:
        parts.append("Clipping did not prevent the divergence here;")
    if std["diverged_epoch"] is None and std["rmse"] < clip["rmse"]:
        parts.append(f"standardizing the features removes the cause, the badly scaled "
                     f"curvature, and fits best (RMSE {std['rmse']:.1f} k-euro).")
    else:
        parts.append(f"standardized features reach RMSE {std['rmse']:.1f} k-euro.")
    return " ".join(parts)


# ---------------------------------------------------------------------------------
# Challenge: vanishing gradients in a deep sigmoid network
# ---------------------------------------------------------------------------------

DEEP_LAYERS = 8
DEEP_WIDTH = 16


def ring_sample(rng, n):
    """Points in the square [-2, 2]^2, positive inside the ring 1 < |x| < 1.7."""
    x = rng.uniform(-2.0, 2.0, size=(n, 2))
    radius = np.hypot(x[:, 0], x[:, 1])
    return x, ((radius > 1.0) & (radius < 1.7)).astype(np.float64)


def vanishing_task(options, report):
    """The same deep MLP with sigmoid (Xavier init) and relu (He init) activations on a
    nonlinear task, by SGD with momentum. Returns {activation: {"accuracy", "roc_auc",
    "ratio" (first / output layer gradient norm, first epoch), "vanishing"}}."""
    rng = np.random.default_rng(options.seed)
    x_train, y_train = ring_sample(rng, pick(options, 1500, 1000))
    x_test, y_test = ring_sample(rng, pick(options, 2000, 1000))
    epochs = pick(options, 20, 10)
    report.line("== vanishing: gradients in a deep sigmoid network ==")
    report.line(wrap(
        f"{len(y_train)} points in [-2, 2]^2, positive inside a ring ({y_train.mean():.0%} "
        f"of them); {len(y_test)} held-out. Model: MLP with {DEEP_LAYERS} hidden layers of "
        f"{DEEP_WIDTH}, binary cross-entropy on the logit, SGD (lr 0.05, momentum 0.9, "
        f"batch 64) for {epochs} epochs; sigmoid with Xavier initialization against relu "
        f"with He initialization and tanh with Xavier."
    ))
    started = time.perf_counter()
    histories, results = {}, {}
    for activation in ("sigmoid", "tanh", "relu"):
        model = MLP(2, hidden=(DEEP_WIDTH,) * DEEP_LAYERS, activation=activation,
                    seed=options.seed)
        h, messages = train(model, fl.BinaryCrossEntropy(from_logits=True), x_train, y_train,
                            epochs=epochs, batch_size=64, seed=options.seed,
                            validation_data=(x_test, y_test), metrics=["accuracy"],
                            optimizer=SGD(model.params, lr=0.05, momentum=0.9))
        histories[activation] = h
        logits = model.predict(x_test)
        first = h.layer_grad_norms[0]
        results[activation] = {
            "accuracy": metrics.accuracy(y_test, (logits > 0).astype(np.float64)),
            "roc_auc": metrics.roc_auc(y_test, logits),
            "ratio": first[0] / first[-1],
            "first_layer": first[0], "output_layer": first[-1],
            "vanishing": any(d["kind"] == "vanishing" for d in h.diagnostics),
            "warnings": messages,
        }
    elapsed = time.perf_counter() - started
    report.log()
    log_training(report, histories, "binary cross-entropy")
    report.line()
    report.line(wrap(
        f"Mean gradient norms of the first epoch (first hidden layer and output layer) "
        f"and held-out scores after {epochs} epochs ({elapsed:.2f} s); always answering "
        f"the majority class scores accuracy {max(y_test.mean(), 1 - y_test.mean()):.3f}:"))
    rows = [[name, f"{r['first_layer']:.2e}", f"{r['output_layer']:.2e}",
             f"{r['ratio']:.1e}", "yes" if r["vanishing"] else "no", f"{r['accuracy']:.3f}",
             f"{r['roc_auc']:.3f}"] for name, r in results.items()]
    report.line(format_table(["activation", "layer 1", "output", "ratio", "warned",
                              "accuracy", "ROC AUC"], rows))
    for name, r in results.items():
        for message in r["warnings"][:1]:
            report.log()
            report.log(wrap(f"fit warned ({name}): {message}"))
    report.plot("vanishing", histories, "vanishing gradients: sigmoid vs tanh vs relu")
    report.line()
    report.line(wrap(vanishing_takeaway(results, max(y_test.mean(), 1 - y_test.mean()))))
    return results


def vanishing_takeaway(results, majority):
    sig, relu = results["sigmoid"], results["relu"]
    parts = [
        f"Takeaway: through {DEEP_LAYERS} sigmoid layers the first layer's gradient is "
        f"{sig['ratio']:.1e} times the output layer's (relu: {relu['ratio']:.1e}): each "
        f"sigmoid multiplies the backward signal by its slope, at most 1/4."
    ]
    if relu["accuracy"] > sig["accuracy"] + 0.05:
        stuck = sig["accuracy"] < majority + 0.02
        parts.append(
            f"The sigmoid network ends at {sig['accuracy']:.1%} accuracy"
            + (f", no better than always answering the majority class ({majority:.1%})"
               if stuck else f" (majority class {majority:.1%})")
            + f", while relu with He initialization reaches {relu['accuracy']:.1%}.")
    else:
        parts.append(f"Accuracy: sigmoid {sig['accuracy']:.1%}, relu {relu['accuracy']:.1%}.")
    if sig["vanishing"]:
        parts.append("fit flagged it with a vanishing-gradient warning advising relu and He "
                     "initialization.")
    return " ".join(parts)


# ---------------------------------------------------------------------------------
# Challenge: plain SGD stuck on a plateau, against Adam, RMSprop and reduce-on-plateau
# ---------------------------------------------------------------------------------

PLATEAU_INIT = 0.02  # small initial weights: the network starts near a saddle point


def xor_sample(rng, n):
    x = rng.uniform(-1.0, 1.0, size=(n, 2))
    return x, (x[:, 0] * x[:, 1] > 0).astype(np.float64)


def plateau_task(options, report):
    """A tanh MLP started with tiny weights on XOR: plain SGD sits on the flat loss
    around the saddle; RMSprop and Adam rescale the small gradients and leave it;
    ReduceLROnPlateau mistakes the saddle for convergence under SGD and refines Adam
    once it has converged. Returns {run: {"escape_epoch", "val_loss",
    "accuracy", "reductions"}}."""
    rng = np.random.default_rng(options.seed)
    x_train, y_train = xor_sample(rng, pick(options, 1000, 600))
    x_val, y_val = xor_sample(rng, pick(options, 1000, 600))
    epochs = pick(options, 40, 25)
    loss = fl.BinaryCrossEntropy(from_logits=True)
    report.line("== plateau: plain SGD stuck, against Adam, RMSprop and reduce-on-plateau ==")
    report.line(wrap(
        f"{len(y_train)} points of XOR (positive where x1 x2 > 0), {len(y_val)} for "
        f"validation. Model: MLP with one tanh layer of 16, weights drawn with sd "
        f"{PLATEAU_INIT:g} (near the saddle at zero, where the loss is flat at log 2 = "
        f"0.693), binary cross-entropy, batch 32, {epochs} epochs."
    ))

    def optimizers(params):
        """Each run's optimizer and scheduler on `params`."""
        sgd, adam = SGD(params, lr=0.5), Adam(params, lr=0.05)
        return {
            "SGD lr 0.5": (SGD(params, lr=0.5), None),
            "SGD + ReduceLROnPlateau": (sgd, ReduceLROnPlateau(sgd, factor=0.3, patience=3)),
            "RMSprop lr 0.01": (RMSprop(params, lr=0.01), None),
            "Adam lr 0.05": (Adam(params, lr=0.05), None),
            "Adam + ReduceLROnPlateau": (adam, ReduceLROnPlateau(adam, factor=0.3,
                                                                 patience=3)),
        }

    names = list(optimizers([np.zeros(1)]))
    started = time.perf_counter()
    histories, results = {}, {}
    for name in names:
        model = MLP(2, hidden=(16,), activation="tanh", init=PLATEAU_INIT, seed=options.seed)
        optimizer, scheduler = optimizers(model.params)[name]
        h, _ = train(model, loss, x_train, y_train, epochs=epochs, batch_size=32,
                     seed=options.seed, optimizer=optimizer, scheduler=scheduler,
                     validation_data=(x_val, y_val), metrics=["accuracy"])
        histories[name] = h
        results[name] = {
            "escape_epoch": first_epoch_below(h.val_loss, 0.9 * math.log(2.0)),
            "val_loss": h.val_loss[-1],
            "accuracy": h.metrics["accuracy"][-1],
            "reductions": list(scheduler.reductions) if scheduler is not None else [],
            "final_lr": h.lr[-1],
        }
    elapsed = time.perf_counter() - started
    report.log()
    log_training(report, histories, "binary cross-entropy", series="val_loss")
    report.line()
    report.line(wrap(f"Validation after {epochs} epochs ({elapsed:.2f} s); 'left the "
                     f"plateau': the first epoch with validation loss below 0.9 log 2:"))
    rows = [[name, r["escape_epoch"] or "never", f"{r['val_loss']:.4f}",
             f"{r['accuracy']:.3f}", f"{r['final_lr']:.2g}"] for name, r in results.items()]
    report.line(format_table(["optimizer", "left the plateau", "val loss", "accuracy",
                              "final lr"], rows))
    report.plot("plateau", histories, "plateau: SGD vs RMSprop vs Adam (+ reduce on plateau)")
    report.line()
    report.line(wrap(plateau_takeaway(results, epochs)))
    return results


def plateau_takeaway(results, epochs):
    sgd, sgd_rlr, rms, adam, adam_rlr = results.values()
    names = list(results)

    def left(r):
        return f"epoch {r['escape_epoch']}" if r["escape_epoch"] else f"not in {epochs} epochs"

    parts = [
        "Takeaway: plain SGD "
        + (f"sat on the plateau until epoch {sgd['escape_epoch']}"
           if sgd["escape_epoch"] else f"never left the plateau in {epochs} epochs")
        + f"; {names[2]} left it at "
        f"{left(rms)} and {names[3]} at {left(adam)}. Near the saddle every gradient is "
        f"tiny, so a fixed step moves slowly; RMSprop and Adam divide by the gradients' "
        f"running scale and take full-size steps at once."
    ]
    if sgd_rlr["reductions"] and (sgd_rlr["escape_epoch"] is None or (
            sgd["escape_epoch"] is not None and sgd_rlr["escape_epoch"] > sgd["escape_epoch"])):
        parts.append(
            f"ReduceLROnPlateau is no cure for a saddle: it read the flat loss as "
            f"convergence, cut SGD's learning rate {len(sgd_rlr['reductions'])} times (to "
            f"{sgd_rlr['final_lr']:.2g}) and the run left the plateau {left(sgd_rlr)}.")
    if adam_rlr["reductions"]:
        better = adam_rlr["val_loss"] < adam["val_loss"]
        parts.append(
            f"Once Adam has converged it does its job: it cut the learning rate "
            f"{len(adam_rlr['reductions'])} times (to {adam_rlr['final_lr']:.2g}) when the "
            f"validation loss stalled, "
            + (f"lowering the final loss from {adam['val_loss']:.4f} to "
               f"{adam_rlr['val_loss']:.4f}." if better else
               f"ending at {adam_rlr['val_loss']:.4f} against {adam['val_loss']:.4f} "
               "without it: no gain on this seed."))
    else:
        parts.append("ReduceLROnPlateau never fired on Adam: its loss kept improving.")
    return " ".join(parts)


# ---------------------------------------------------------------------------------
# Challenge: MSE used for classification (a common mistake) against cross-entropy
# ---------------------------------------------------------------------------------

EASY_SHARE = 0.2  # share of the positives far out on their side: "too correct" points


def easy_points_sample(rng, n):
    """Two overlapping classes along x1, and a share of the positives far beyond."""
    labels = (rng.random(n) < 0.5).astype(np.float64)
    x = rng.normal(size=(n, 2))
    x[:, 0] += np.where(labels == 1, 1.0, -1.0)
    far = (labels == 1) & (rng.random(n) < EASY_SHARE)
    x[far] += np.array([6.0, 6.0])
    return x, labels


def mse_classification_task(options, report):
    """A linear classifier trained with MSE on the 0/1 labels against binary
    cross-entropy on the logit. Returns {loss: {"accuracy", "f1", "roc_auc",
    "log_loss"}}."""
    rng = np.random.default_rng(options.seed)
    x_train, y_train = easy_points_sample(rng, pick(options, 4000, 1500))
    x_test, y_test = easy_points_sample(rng, pick(options, 10000, 3000))
    epochs = pick(options, 150, 80)
    report.line("== mse-classification: MSE used for classification ==")
    report.line(wrap(
        f"{len(y_train)} training points of two unit-spread classes centred at x1 = -1 "
        f"and +1; {EASY_SHARE:.0%} of the positives lie far out, 6 units beyond, on the "
        f"right side: easy points. Model: Linear, full-batch Adam (lr 0.05), {epochs} "
        f"epochs; MSE on the 0/1 labels (predict 1 where the output > 0.5) against "
        f"binary cross-entropy on the logit (predict 1 where the logit > 0)."
    ))
    runs = {"MSE on 0/1": fl.MeanSquaredError(),
            "cross-entropy": fl.BinaryCrossEntropy(from_logits=True)}
    started = time.perf_counter()
    histories, results = {}, {}
    for name, loss in runs.items():
        model = Linear(2)
        histories[name], _ = train(model, loss, x_train, y_train, epochs=epochs,
                                   batch_size=None, optimizer=Adam(model.params, lr=0.05))
        output = model.predict(x_test)
        if name.startswith("MSE"):
            proba = np.clip(output, 0.0, 1.0)
            predicted = output > 0.5
        else:
            proba = 1.0 / (1.0 + np.exp(-output))
            predicted = output > 0
        predicted = predicted.astype(np.float64)
        results[name] = {
            "accuracy": metrics.accuracy(y_test, predicted),
            "f1": metrics.f1_score(y_test, predicted),
            "recall": metrics.recall(y_test, predicted),
            "roc_auc": metrics.roc_auc(y_test, output),
            "log_loss": metrics.log_loss(y_test, proba),
            "weights": model.params[0].copy(),
        }
    elapsed = time.perf_counter() - started
    report.log()
    log_training(report, histories, "each model on its own loss")
    report.line()
    report.line(wrap(f"Held-out results after {epochs} epochs ({elapsed:.2f} s); for MSE "
                     f"the output clipped to [0, 1] serves as the probability of the "
                     f"log-loss:"))
    rows = [[name, f"{r['accuracy']:.3f}", f"{r['recall']:.3f}", f"{r['f1']:.3f}",
             f"{r['roc_auc']:.3f}", f"{r['log_loss']:.3f}",
             f"{r['weights'][1] / r['weights'][0]:+.2f}"] for name, r in results.items()]
    report.line(format_table(["loss", "accuracy", "recall", "F1", "ROC AUC", "log-loss",
                              "tilt w2/w1"], rows))
    report.plot("mse_classification", histories, "MSE vs cross-entropy: training loss")
    report.line()
    report.line(wrap(mse_classification_takeaway(results)))
    return results


def mse_classification_takeaway(results):
    mse, ce = results["MSE on 0/1"], results["cross-entropy"]
    if ce["accuracy"] > mse["accuracy"] + 0.01:
        lead = (f"Takeaway: cross-entropy classifies {ce['accuracy']:.1%} of the held-out "
                f"points correctly, MSE {mse['accuracy']:.1%} (recall {ce['recall']:.0%} "
                f"against {mse['recall']:.0%}).")
    else:
        lead = (f"Takeaway: accuracy {ce['accuracy']:.1%} with cross-entropy and "
                f"{mse['accuracy']:.1%} with MSE: no clear difference on this seed.")
    return (
        lead + f" MSE asks every output to equal its label, so the easy points, whose "
        f"outputs overshoot 1, pull the line towards them (its boundary tilts: w2/w1 = "
        f"{mse['weights'][1] / mse['weights'][0]:+.2f} against "
        f"{ce['weights'][1] / ce['weights'][0]:+.2f}); cross-entropy's gradient on a "
        f"correct, confident point fades to zero. MSE's outputs are no probabilities "
        f"either: log-loss {mse['log_loss']:.3f} against {ce['log_loss']:.3f}."
    )


# ---------------------------------------------------------------------------------
# Task registry and command line
# ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Task:
    name: str
    summary: str
    run: Callable  # run(options, report) -> results


# name -> Task. One more task is one more entry (register(Task(...)) from elsewhere).
TASKS = {}


def register(task):
    """Add a task to the demo (after the built-in ones); returns it."""
    if task.name in TASKS or task.name == "all":
        raise ValueError(f"a demo task is already called {task.name!r}")
    TASKS[task.name] = task
    return task


def _boosting_task(options, report):
    """The gradient-boosting task (fastloss._cli.demo_boosting: it imports LightGBM or
    XGBoost, so only when it runs)."""
    from fastloss._cli.demo_boosting import boosting_task

    return boosting_task(options, report)


for _task in (
    Task("regression", "house prices with outliers: MSE vs MAE vs Huber", regression_task),
    Task("binary", "a rare positive class: cross-entropy vs weighted vs focal", binary_task),
    Task("multiclass", f"{N_CLASSES} classes with noisy labels: cross-entropy vs GCE",
         multiclass_task),
    Task("embedding", "an embedding for unseen classes: BatchTriplet, hard vs semihard "
         "vs all mining", embedding_task),
    Task("ranking", f"documents for queries: ListwiseSoftmax vs LambdaRank, NDCG@{NDCG_K}",
         ranking_task),
    Task("overfitting", "validation loss and early stopping with restored best parameters",
         overfitting_task),
    Task("exploding", "a too-large learning rate diverges; clipping keeps it finite",
         exploding_task),
    Task("vanishing", "a deep sigmoid network against relu and tanh", vanishing_task),
    Task("plateau", "plain SGD stuck on a plateau against RMSprop, Adam and "
         "reduce-on-plateau", plateau_task),
    Task("mse-classification", "MSE on 0/1 labels against cross-entropy",
         mse_classification_task),
    Task("boosting", "LightGBM or XGBoost on a rare class: built-in logloss vs fastloss "
         "focal (needs one of them)", _boosting_task),
):
    register(_task)


def _share(text):
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0.0 <= value < 0.5:
        raise argparse.ArgumentTypeError(f"must be a number in [0, 0.5); got {text!r}")
    return value


def _task_name(text):
    if text != "all" and text not in TASKS:
        raise argparse.ArgumentTypeError(
            f"unknown task {text!r}; choose from {', '.join(TASKS)} or all")
    return text


def add_arguments(parser):
    """Options of ``python -m fastloss demo``."""
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.description = wrap(
        "Train small models with fastloss.training (fit, optimizers, schedules, "
        "clipping, early stopping; every gradient from a loss's value_and_gradient) "
        "and compare them on held-out data with fastloss.metrics. Each task prints "
        "its training log, a table of metrics and a verdict computed from them."
    ) + "\n\ntasks:\n" + "\n".join(f"  {name:<20}{task.summary}"
                                    for name, task in TASKS.items())
    parser.epilog = (
        "Example: python -m fastloss demo --task overfitting --plots curves --quiet")
    parser.add_argument(
        "--task", type=_task_name, default="all", metavar="NAME",
        help="which task to run: one of the tasks above, or all (the default)",
    )
    parser.add_argument(
        "--seed", type=integers(0), default=0,
        help="seed of the synthetic data, an integer >= 0 (default: 0)",
    )
    parser.add_argument(
        "--plots", metavar="DIR", default=None,
        help="write each task's loss curves as DIR/<task>.png (needs matplotlib)",
    )
    parser.add_argument(
        "--quick", action="store_true",
        help="smaller data and fewer epochs (a fast check; the verdicts are less sharp)",
    )
    parser.add_argument(
        "--outlier-share", type=_share, default=0.1, metavar="SHARE",
        help="regression: share of training targets corrupted into gross outliers, in "
        "[0, 0.5) (default: 0.1)",
    )
    parser.add_argument(
        "--label-noise", type=_share, default=0.3, metavar="SHARE",
        help="multiclass: share of training labels flipped to the next class, in "
        "[0, 0.5) (default: 0.3)",
    )
    parser.add_argument(
        "--quiet", action="store_true",
        help="print only the final tables and verdicts, not the training logs",
    )


def run(args, stream=None):
    """Command-line entry: run the chosen tasks, printing to `stream`; exit status 0,
    or 2 when the plot folder cannot be written."""
    if args.plots is not None:
        try:
            os.makedirs(args.plots, exist_ok=True)
        except OSError as exc:
            print(f"error: cannot create the plot folder {args.plots!r}: {exc}",
                  file=sys.stderr)
            return 2
    run_tasks(args, Report(stream, quiet=args.quiet, plots=args.plots))
    return 0


def run_tasks(args, report):
    """Run the tasks chosen by args.task and return {task name: its results}."""
    chosen = [task for name, task in TASKS.items() if args.task in ("all", name)]
    results = {}
    for index, task in enumerate(chosen):
        if index:
            report.line()
        results[task.name] = task.run(args, report)
        report.flush()
    return results
