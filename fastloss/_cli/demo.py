"""``python -m fastloss demo``: train small models with several losses and compare them.

Each task builds seeded synthetic data, trains the same linear model once per loss by
plain gradient descent, using fastloss's ``value_and_gradient`` for dL/d(prediction)
and the chain rule for the model's parameters, logs the training loss at about ten
iterations and ends with a table of held-out scores and a takeaway computed from them.
Tasks are listed in ``TASKS``: regression with outliers (MSE, MAE, Huber), a rare
positive class (cross-entropy, weighted cross-entropy, focal), multi-class with noisy
labels (cross-entropy, generalized cross-entropy), metric learning for unseen classes
(BatchTriplet with hard, semi-hard and all-triplet mining; recall@1) and learning to
rank (ListwiseSoftmax, LambdaRank; NDCG@10). ``--task`` picks one, or all of them (the
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
    """prediction = x @ weights (+ bias), trained by gradient descent.

    One output per row (weights of shape (d,)) or, with n_outputs, one per class
    (weights (d, n_outputs), bias (n_outputs,)): the logits of a softmax model, or the
    coordinates of an embedding. `x` may have leading axes beyond the rows, e.g.
    (queries, documents, features) for a ranking model's scores. The weights start at
    zero unless `initial_weights` is given; `bias=False` leaves the bias out (losses
    that only compare predictions with each other cannot see it).
    """

    def __init__(self, n_features, n_outputs=None, initial_weights=None, bias=True):
        shape = (n_features,) if n_outputs is None else (n_features, n_outputs)
        self.weights = np.zeros(shape) if initial_weights is None else initial_weights.copy()
        self.bias = np.zeros(shape[1:]) if bias else None

    def predict(self, x):
        prediction = x @ self.weights
        return prediction if self.bias is None else prediction + self.bias

    def step(self, loss, x, y, step_size):
        """One gradient-descent step on loss(y, prediction); returns the loss before it.

        value_and_gradient gives L and g = dL/d(prediction) in one pass; the chain
        rule through prediction = x @ w + b gives dL/dw = x.T @ g (summed over every
        axis of x but the features) and dL/db = the sum of g over the same axes.
        """
        value, grad_pred = loss.value_and_gradient(y, self.predict(x))
        rows = tuple(range(x.ndim - 1))
        self.weights -= step_size * np.tensordot(x, grad_pred, axes=(rows, rows))
        if self.bias is not None:
            self.bias -= step_size * grad_pred.sum(axis=rows)
        return value


def train_side_by_side(losses, x, y, iterations, step_size, report, unit, **model_options):
    """Train one LinearModel(x.shape[-1], **model_options) per loss in lockstep, the
    step size shrinking linearly (linear_decay), and log each model's training loss at
    logged_iterations()."""
    models = {name: LinearModel(x.shape[-1], **model_options) for name in losses}
    logged = logged_iterations(iterations)
    log = []
    for iteration in range(1, iterations + 1):
        step = linear_decay(step_size, iteration - 1, iterations)
        values = [models[name].step(loss, x, y, step) for name, loss in losses.items()]
        if iteration in logged:
            log.append([iteration, *(f"{v:.4f}" for v in values)])
    report.log(f"Training loss, each model on its own loss ({unit}):")
    report.log(format_table(["iteration", *losses], log))
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
        report, unit="mean per point, on the noisy labels", n_outputs=N_CLASSES,
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


def recall_at_1(labels, embeddings):
    """Share of the points whose nearest other point (Euclidean) has their label."""
    sq = np.sum(embeddings * embeddings, axis=1)
    dist = sq[:, None] + sq[None, :] - 2.0 * embeddings @ embeddings.T
    np.fill_diagonal(dist, np.inf)
    return float(np.mean(labels[np.argmin(dist, axis=1)] == labels))


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
    recall@1 on held-out classes. Returns {"before": recall, strategy: recall, ...}."""
    data = make_embedding_data(options.seed)
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
        f"{NOISE_SPREAD:g}). Model: a linear embedding to {EMBEDDING_DIM} dimensions "
        f"(embedding = x @ W), started from a random projection and trained by gradient "
        f"descent with BatchTriplet (margin {TRIPLET_MARGIN:g}) on the whole training set "
        f"as one batch, once per mining strategy."
    ))

    report.log()
    started = time.perf_counter()
    models = train_side_by_side(
        losses, data.x_train, data.y_train, options.iterations, EMBEDDING_STEP_SIZE,
        report, unit="mean per mined triplet", n_outputs=EMBEDDING_DIM,
        initial_weights=data.initial_weights, bias=False,
    )
    elapsed = time.perf_counter() - started

    before = recall_at_1(data.y_test, data.x_test @ data.initial_weights)
    results = {name: recall_at_1(data.y_test, m.predict(data.x_test))
               for name, m in models.items()}
    raw = recall_at_1(data.y_test, data.x_test)
    report.line()
    report.line(wrap(
        f"Recall@1 on the held-out classes after {options.iterations} iterations "
        f"({elapsed:.2f} s): the share of held-out points whose nearest other held-out "
        f"point has their class (raw features: {raw:.3f}):"
    ))
    rows = [["random projection", f"{before:.3f}"],
            *([name, f"{value:.3f}"] for name, value in results.items())]
    report.line(format_table(["embedding", "recall@1"], rows))
    report.line()
    report.line(wrap(embedding_takeaway(before, results)))
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


def ndcg_at(k, relevance, scores):
    """Mean NDCG@k over queries, gains 2^rel - 1, ranks by score (ties by index);
    a query without relevant documents counts as 1 (any order is ideal)."""
    ranks = np.arange(1, min(k, relevance.shape[1]) + 1)
    discounts = 1.0 / np.log2(1.0 + ranks)
    order = np.argsort(-scores, axis=1, kind="stable")[:, :ranks.size]
    dcg = (np.take_along_axis(2.0**relevance - 1.0, order, axis=1) * discounts).sum(axis=1)
    ideal = ((2.0 ** -np.sort(-relevance, axis=1)[:, :ranks.size] - 1.0) * discounts).sum(axis=1)
    return float(np.mean(np.where(ideal > 0, dcg / np.where(ideal > 0, ideal, 1.0), 1.0)))


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
    queries, scored by NDCG@NDCG_K on held-out queries. Returns {"before": ndcg,
    loss name: ndcg, ...}."""
    data = make_ranking_data(options.seed)
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
        + "). Model: a linear scorer (score = x @ w), trained from zero by gradient "
        "descent on every training query at once."
    ))

    report.log()
    started = time.perf_counter()
    models = train_side_by_side(
        losses, data.x_train, data.y_train, options.iterations, RANKING_STEP_SIZE, report,
        unit="mean per query", bias=False,
    )
    elapsed = time.perf_counter() - started

    before = ndcg_at(NDCG_K, data.y_test, np.zeros(data.y_test.shape))
    results = {name: ndcg_at(NDCG_K, data.y_test, m.predict(data.x_test))
               for name, m in models.items()}
    report.line()
    report.line(wrap(
        f"NDCG@{NDCG_K} on the held-out queries after {options.iterations} iterations "
        f"({elapsed:.2f} s); before training every score is 0 and the documents keep "
        f"their given (random) order:"
    ))
    rows = [["untrained", f"{before:.3f}"],
            *([name, f"{value:.3f}"] for name, value in results.items())]
    report.line(format_table(["scorer", f"NDCG@{NDCG_K}"], rows))
    report.line()
    report.line(wrap(ranking_takeaway(before, results)))
    return {"before": before, **results}


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
    Task("embedding", "an embedding for unseen classes: BatchTriplet, hard vs semihard "
         "vs all mining", embedding_task),
    Task("ranking", f"documents for queries: ListwiseSoftmax vs LambdaRank, NDCG@{NDCG_K}",
         ranking_task),
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
