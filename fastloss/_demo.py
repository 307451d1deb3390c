"""``python -m fastloss demo``: train small models with several losses and compare them.

Each task builds seeded synthetic data, trains the same model once per loss by plain
gradient descent, using fastloss's ``value_and_gradient`` for dL/d(prediction) and the
chain rule for the model's parameters, logs the training loss as it goes and ends with
a table of held-out scores and a takeaway computed from them. Tasks are listed in
``TASKS``: regression with outliers (MSE, MAE, Huber), a rare positive class
(cross-entropy, weighted cross-entropy, focal) and multi-class with noisy labels
(cross-entropy, generalized cross-entropy). ``--task`` picks one, or all of them (the
default).
"""

import argparse
import math
import sys
import textwrap
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

import fastloss as fl

# ---------------------------------------------------------------------------------
# Output helpers shared by every task
# ---------------------------------------------------------------------------------


class Report:
    """Where a task writes: `line` always, `log` (training progress) unless quiet."""

    def __init__(self, stream=None, quiet=False):
        self.stream = sys.stdout if stream is None else stream
        self.quiet = quiet

    def line(self, text=""):
        print(text, file=self.stream)

    def log(self, text=""):
        if not self.quiet:
            self.line(text)

    def flush(self):
        self.stream.flush()


def format_row(cells, widths):
    """One line of a table: first cell left-aligned, the others right-aligned."""
    first, *rest = (str(cell) for cell in cells)
    parts = [first.ljust(widths[0]), *(c.rjust(w) for c, w in zip(rest, widths[1:], strict=True))]
    return "  ".join(parts).rstrip()


def format_header(headers, widths):
    """A header line and the rule under it."""
    return format_row(headers, widths) + "\n" + "  ".join("-" * w for w in widths)


def format_table(headers, rows):
    """Rows of already-formatted cells as aligned text."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=True)]
    return "\n".join([format_header(headers, widths), *(format_row(r, widths) for r in rows)])


def wrap(text):
    return textwrap.fill(text, width=88)


def logged_iterations(iterations):
    """The 1-based iterations to log: the first, about ten evenly spaced, the last."""
    every = max(1, math.ceil(iterations / 10))
    return {1, *range(every, iterations, every), iterations}


def linear_decay(step_size, iteration, iterations):
    """Step size shrinking linearly from `step_size` to step_size/iterations: the
    subgradient of MAE has constant size, so a fixed step would never settle."""
    return step_size * (1.0 - iteration / iterations)


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


class LinearModel:
    """prediction = x @ weights + bias, trained by gradient descent from zero.

    One output per row (weights of shape (d,)) or, with n_outputs, one per class
    (weights (d, n_outputs), bias (n_outputs,)): the logits of a softmax model.
    """

    def __init__(self, n_features, n_outputs=None):
        shape = (n_features,) if n_outputs is None else (n_features, n_outputs)
        self.weights = np.zeros(shape)
        self.bias = np.zeros(shape[1:])

    def predict(self, x):
        return x @ self.weights + self.bias

    def step(self, loss, x, y, step_size):
        """One gradient-descent step on loss(y, prediction); returns the loss before it.

        value_and_gradient gives L and g = dL/d(prediction) in one pass; the chain
        rule through prediction = x @ w + b gives dL/dw = x.T @ g and dL/db = the sum
        of g over the rows.
        """
        value, grad_pred = loss.value_and_gradient(y, self.predict(x))
        self.weights -= step_size * (x.T @ grad_pred)
        self.bias -= step_size * grad_pred.sum(axis=0)
        return value


def train_side_by_side(losses, x, y, iterations, step_size, report, unit, n_outputs=None):
    """Train one model per loss in lockstep, logging each model's training loss."""
    models = {name: LinearModel(x.shape[1], n_outputs) for name in losses}
    widths = [9, *(max(len(name), 10) for name in losses)]
    logged = logged_iterations(iterations)
    report.log(f"Training loss, each model on its own loss ({unit}):")
    report.log(format_header(["iteration", *losses], widths))
    for iteration in range(1, iterations + 1):
        step = linear_decay(step_size, iteration - 1, iterations)
        values = [models[name].step(loss, x, y, step) for name, loss in losses.items()]
        if iteration in logged:
            report.log(format_row([iteration, *(f"{v:.4f}" for v in values)], widths))
    return models


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

    Returns {loss name: {"mae": ..., "rmse": ..., "bias": ...}} on the clean held-out
    set, in k-euro.
    """
    data = make_house_data(options.seed, options.outlier_share)
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
        f"{', '.join(HOUSE_FEATURES)}. Model: linear, trained from zero by gradient "
        f"descent on prices in units of {PRICE_UNIT_K:g} k-euro; Huber delta = "
        f"{HUBER_DELTA:g} ({HUBER_DELTA * PRICE_UNIT_K:g} k-euro)."
    ))

    report.log()
    started = time.perf_counter()
    models = train_side_by_side(
        losses, data.x_train, data.y_train, options.iterations, STEP_SIZE, report,
        unit=f"prices in {PRICE_UNIT_K:g} k-euro",
    )
    elapsed = time.perf_counter() - started

    results = {}
    for name, model in models.items():
        error = (model.predict(data.x_test) - data.y_test) * PRICE_UNIT_K
        results[name] = {
            "mae": float(np.mean(np.abs(error))),
            "rmse": float(np.sqrt(np.mean(error**2))),
            "bias": float(np.mean(error)),
        }
    report.line()
    report.line(wrap(
        f"Error on the clean held-out set in k-euro after {options.iterations} "
        f"iterations ({elapsed:.2f} s); mean error > 0: predicted prices too high:"
    ))
    rows = [
        [name, f"{r['mae']:.1f}", f"{r['rmse']:.1f}", f"{r['bias']:+.1f}"]
        for name, r in results.items()
    ]
    report.line(format_table(["loss", "MAE", "RMSE", "mean error"], rows))
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
    """Held-out metrics of the rule "positive where logit > 0" (probability > 1/2)."""
    predicted = logits > 0
    actual = y_true == 1
    true_pos = int(np.sum(predicted & actual))
    flagged = int(np.sum(predicted))
    precision = true_pos / flagged if flagged else 0.0
    recall = true_pos / int(np.sum(actual))
    f1 = 2 * precision * recall / (precision + recall) if true_pos else 0.0
    return {
        "accuracy": float(np.mean(predicted == actual)), "precision": precision,
        "recall": recall, "f1": f1, "flagged": flagged,
    }


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
    data = make_binary_data(options.seed)
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
        f"first {np.count_nonzero(POSITIVE_SHIFT)}. Model: linear logistic (logits = x @ w "
        f"+ b), trained from zero by gradient descent. Weighted CE: pos_weight = "
        f"n_negative / n_positive = {pos_weight:.1f}; focal: gamma = {FOCAL_GAMMA:g}, "
        f"alpha = {FOCAL_ALPHA:g} on the positives."
    ))

    report.log()
    started = time.perf_counter()
    models = train_side_by_side(
        losses, data.x_train, data.y_train, options.iterations, BINARY_STEP_SIZE, report,
        unit="mean per training example",
    )
    elapsed = time.perf_counter() - started

    results = {name: binary_scores(data.y_test, m.predict(data.x_test))
               for name, m in models.items()}
    n_test_positives = int(data.y_test.sum())
    report.line()
    report.line(wrap(
        f"Held-out results after {options.iterations} iterations ({elapsed:.2f} s); an "
        f"example is flagged positive where its logit > 0; {n_test_positives} of the "
        f"{len(data.y_test)} are positive:"
    ))
    rows = [
        [name, f"{r['accuracy']:.3f}", f"{r['precision']:.3f}", f"{r['recall']:.3f}",
         f"{r['f1']:.3f}", r["flagged"]]
        for name, r in results.items()
    ]
    report.line(format_table(["loss", "accuracy", "precision", "recall", "F1", "flagged"], rows))
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
    """Held-out accuracy of argmax(logits), the recall of each class, and the share of
    the errors that put a point of class k in class k + 1 (where flipped labels point)."""
    predicted = np.argmax(logits, axis=1)
    wrong = predicted != y_true
    to_next = predicted[wrong] == (y_true[wrong] + 1) % N_CLASSES
    return {
        "accuracy": float(np.mean(~wrong)),
        "recall": [float(np.mean(predicted[y_true == k] == k)) for k in range(N_CLASSES)],
        "errors_to_next": float(np.mean(to_next)) if wrong.any() else 0.0,
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
    data = make_multiclass_data(options.seed, options.label_noise)
    losses = {
        "CE": fl.SparseCategoricalCrossEntropy(from_logits=True),
        f"GCE q={GCE_Q:g}": fl.GeneralizedCrossEntropy(q=GCE_Q, from_logits=True),
    }
    report.line(f"== multiclass: {N_CLASSES} classes, noisy training labels ==")
    report.line(wrap(
        f"{len(data.y_train)} training points in {N_CLASSES} unit-spread Gaussian blobs "
        f"centred on a circle of radius {BLOB_RADIUS:g}; {data.n_flipped} training labels "
        f"({data.n_flipped / len(data.y_train):.0%}) flipped from class k to k + 1; "
        f"{len(data.y_test)} held-out points with their true labels. Model: linear "
        f"softmax (logits = x @ W + b, one column per class), trained from zero by "
        f"gradient descent on integer labels."
    ))

    report.log()
    started = time.perf_counter()
    models = train_side_by_side(
        losses, data.x_train, data.y_train, options.iterations, MULTICLASS_STEP_SIZE,
        report, unit="mean per point, on the noisy labels",
        n_outputs=N_CLASSES,
    )
    elapsed = time.perf_counter() - started

    results = {name: multiclass_scores(data.y_test, m.predict(data.x_test))
               for name, m in models.items()}
    report.line()
    report.line(wrap(
        f"Held-out results (true labels) after {options.iterations} iterations "
        f"({elapsed:.2f} s): accuracy, the recall of each class, and the share of the "
        f"errors that put a point of class k in class k + 1:"
    ))
    rows = [
        [name, f"{r['accuracy']:.3f}", *(f"{v:.3f}" for v in r["recall"]),
         f"{r['errors_to_next']:.0%}"]
        for name, r in results.items()
    ]
    headers = ["loss", "accuracy", *(f"class {k}" for k in range(N_CLASSES)), "k -> k+1"]
    report.line(format_table(headers, rows))
    report.line()
    report.line(wrap(multiclass_takeaway(results, data.n_flipped / len(data.y_train))))
    return results


# ---------------------------------------------------------------------------------
# Task registry and command line
# ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Task:
    name: str
    summary: str
    run: Callable  # run(options, report) -> results


TASKS = (
    Task("regression", "house prices with outliers: MSE vs MAE vs Huber", regression_task),
    Task("binary", "a rare positive class: cross-entropy vs weighted vs focal", binary_task),
    Task("multiclass", f"{N_CLASSES} classes with noisy labels: cross-entropy vs GCE",
         multiclass_task),
)


def _iterations(text):
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1; got {text!r}")
    return value


def _share(text):
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0.0 <= value < 0.5:
        raise argparse.ArgumentTypeError(f"must be a number in [0, 0.5); got {text!r}")
    return value


def add_arguments(parser):
    """Options of ``python -m fastloss demo``."""
    parser.description = (
        "Train small models by gradient descent, once per loss, using fastloss's "
        "value_and_gradient, and compare them on held-out data. Tasks: "
        + "; ".join(f"{task.name} ({task.summary})" for task in TASKS)
        + "."
    )
    parser.epilog = (
        "Example: python -m fastloss demo --task multiclass --label-noise 0.2 --seed 1 "
        "--quiet"
    )
    parser.add_argument(
        "--task", choices=[*(task.name for task in TASKS), "all"], default="all",
        help="which task to run (default: all)",
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="seed of the synthetic data (default: 0)"
    )
    parser.add_argument(
        "--iterations", type=_iterations, default=200,
        help="gradient-descent iterations per model (default: 200)",
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
        help="print only the final tables and takeaways, not the training log",
    )


def run(args, stream=None):
    """Command-line entry: run the chosen tasks, printing to `stream`; exit status 0."""
    run_tasks(args, Report(stream, quiet=args.quiet))
    return 0


def run_tasks(args, report):
    """Run the tasks chosen by args.task and return {task name: its results}."""
    chosen = [task for task in TASKS if args.task in ("all", task.name)]
    results = {}
    for index, task in enumerate(chosen):
        if index:
            report.line()
        results[task.name] = task.run(args, report)
        report.flush()
    return results
