"""Checks of fastloss.keras under the Keras backend named by KERAS_BACKEND.

Run by tests/test_keras.py in a subprocess (Keras picks its backend once, at import);
prints one JSON object of measurements that the tests assert on.
"""

import json
import os
import sys
from pathlib import Path

import keras  # KERAS_BACKEND is read at import
import numpy as np

import fastloss as fl
import fastloss.keras as flk

BACKEND = keras.backend.backend()
assert BACKEND == os.environ["KERAS_BACKEND"], BACKEND


def to_numpy(x):
    return np.asarray(keras.ops.convert_to_numpy(x), dtype=np.float64)


def value_and_grad(loss, y_true, y_pred, sample_weight):
    """The loss and its gradient wrt y_pred, with the backend's autodiff."""
    if BACKEND == "torch":
        import torch

        p = torch.tensor(y_pred, requires_grad=True)
        value = loss(torch.tensor(y_true), p, sample_weight=sample_weight)
        value.sum().backward()
        return to_numpy(value.detach()), p.grad.double().numpy()
    import jax

    value, vjp = jax.vjp(lambda p: loss(y_true, p, sample_weight=sample_weight), y_pred)
    (grad,) = vjp(np.ones(value.shape, value.dtype))
    return to_numpy(value), np.asarray(grad, np.float64)


def relative(a, b):
    scale = max(float(np.abs(b).max(initial=0.0)), 1e-30)
    return float(np.abs(a - b).max(initial=0.0) / scale)


def value_checks(rng):
    """Max relative difference (value, gradient) against Keras's built-in losses, for
    every reduction, with sample weights."""
    n = 32
    y_reg = rng.normal(size=(n, 3)).astype(np.float32)
    p_reg = rng.normal(scale=2.0, size=(n, 3)).astype(np.float32)
    y_bin = (rng.uniform(size=(n, 3)) < 0.4).astype(np.float32)
    labels = rng.integers(0, 5, size=n).astype(np.float32)
    logits = rng.normal(scale=2.0, size=(n, 5)).astype(np.float32)
    onehot = np.eye(5, dtype=np.float32)[labels.astype(int)]
    w = rng.uniform(0.1, 2.0, size=n).astype(np.float32)
    cases = {
        "mse": (fl.MeanSquaredError(), keras.losses.MeanSquaredError, {}, y_reg, p_reg),
        "huber": (fl.Huber(delta=0.7), keras.losses.Huber, {"delta": 0.7}, y_reg, p_reg),
        "log_cosh": (fl.LogCosh(), keras.losses.LogCosh, {}, y_reg, p_reg),
        "msle": (fl.MeanSquaredLogarithmicError(), keras.losses.MeanSquaredLogarithmicError,
                 {}, y_reg, p_reg),
        "mape": (fl.MeanAbsolutePercentageError(), keras.losses.MeanAbsolutePercentageError,
                 {}, y_reg, p_reg),
        "bce_logits": (fl.BinaryCrossEntropy(from_logits=True), keras.losses.BinaryCrossentropy,
                       {"from_logits": True}, y_bin, p_reg),
        "scce_logits": (fl.SparseCategoricalCrossEntropy(from_logits=True),
                        keras.losses.SparseCategoricalCrossentropy, {"from_logits": True},
                        labels, logits),
        "scce_labels_n1": (fl.SparseCategoricalCrossEntropy(from_logits=True),
                           keras.losses.SparseCategoricalCrossentropy, {"from_logits": True},
                           labels[:, None], logits),
        "scce_ignored_rows": (fl.SparseCategoricalCrossEntropy(from_logits=True, ignore_index=-1),
                              keras.losses.SparseCategoricalCrossentropy,
                              {"from_logits": True, "ignore_class": -1},
                              np.where(np.arange(n) % 3 == 0, -1.0, labels).astype(np.float32),
                              logits),
        "cosine_similarity": (fl.CosineSimilarity(), keras.losses.CosineSimilarity, {},
                              p_reg, y_reg),
        "cce_smoothing": (fl.CategoricalCrossEntropy(from_logits=True, label_smoothing=0.1),
                          keras.losses.CategoricalCrossentropy,
                          {"from_logits": True, "label_smoothing": 0.1}, onehot, logits),
    }
    full = ("sum_over_batch_size", "sum", "mean_with_sample_weight", "none")
    results = {}
    for name, (loss, builtin, kwargs, y, p) in cases.items():
        reductions = (full if name in ("huber", "scce_logits", "scce_ignored_rows")
                      else ("sum_over_batch_size",))
        for reduction in reductions:
            for weight in (None, w) if name in ("huber", "scce_logits") else (w,):
                ours = value_and_grad(flk.Loss(loss, reduction=reduction), y, p, weight)
                theirs = value_and_grad(builtin(reduction=reduction, **kwargs), y, p, weight)
                key = f"{name}/{reduction}/{'weighted' if weight is not None else 'plain'}"
                results[key] = [relative(ours[0], theirs[0]), relative(ours[1], theirs[1]),
                                list(np.shape(ours[0])) == list(np.shape(theirs[0]))]
    return results


def batch_triplet_check(rng):
    labels = rng.integers(0, 3, size=20)
    emb = rng.normal(size=(20, 4)).astype(np.float32)
    w = rng.uniform(0.5, 1.5, size=20).astype(np.float32)
    loss = fl.BatchTriplet(margin=0.5, strategy="semihard")
    ours = to_numpy(flk.Loss(loss)(labels.astype(np.float32)[:, None], emb, sample_weight=w))
    return relative(ours, np.float64(loss(labels, emb, sample_weight=w)))


def labels_only_check(rng):
    """NLL and MultiMargin take integer labels only: Keras's float (n, 1) labels reach
    them as labels. Relative difference of each value to fastloss's own."""
    labels = rng.integers(0, 4, size=24)
    scores = rng.normal(size=(24, 4)).astype(np.float32)
    log_probs = scores - np.log(np.exp(scores).sum(axis=1, keepdims=True))
    out = {}
    for name, loss, p in (("nll", fl.NLL(), log_probs),
                          ("multi_margin", fl.MultiMargin(p=2), scores)):
        ours = to_numpy(flk.Loss(loss)(labels.astype(np.float32)[:, None], p))
        out[name] = relative(ours, np.float64(loss(labels, p)))
    masks = rng.integers(0, 3, size=(6, 5, 5))  # multi-class Dice: a label per pixel
    logits = rng.normal(size=(6, 3, 5, 5)).astype(np.float32)
    dice = fl.Dice(multiclass=True, from_logits=True)
    ours = to_numpy(flk.Loss(dice)(masks.astype(np.float32), logits))
    out["dice_multiclass"] = relative(ours, np.float64(dice(masks, logits)))
    return out


def regression_data(rng):
    x = rng.normal(size=(256, 6)).astype(np.float32)
    y = (x @ rng.normal(size=(6, 2)) + 0.3 * rng.standard_t(2, size=(256, 2))).astype(np.float32)
    return x, y


def fit_curve(loss, x, y, sample_weight=None, epochs=4):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((x.shape[1],)), keras.layers.Dense(16, "tanh"),
                              keras.layers.Dense(y.shape[1] if y.ndim == 2 else 4)])
    model.compile(optimizer=keras.optimizers.SGD(0.05), loss=loss)
    history = model.fit(x, y, sample_weight=sample_weight, batch_size=32, epochs=epochs,
                        shuffle=False, verbose=0)
    return model, [float(v) for v in history.history["loss"]]


def curves(rng):
    x, y = regression_data(rng)
    w = rng.uniform(0.2, 2.0, size=len(x)).astype(np.float32)
    out = {}
    _, ours = fit_curve(flk.Loss(fl.Huber(delta=0.5)), x, y, w)
    _, theirs = fit_curve(keras.losses.Huber(delta=0.5), x, y, w)
    out["huber_weighted"] = [ours, theirs]
    return out


def classifier(rng):
    centers = rng.normal(size=(4, 8)) * 2.0
    labels = rng.integers(0, 4, size=512)
    x = (centers[labels] + rng.normal(size=(512, 8)) * 1.5).astype(np.float32)
    out = {}
    for name, loss in (
        ("fastloss", flk.Loss(fl.SparseCategoricalCrossEntropy(from_logits=True))),
        ("builtin", keras.losses.SparseCategoricalCrossentropy(from_logits=True)),
    ):
        model, curve = fit_curve(loss, x[:384], labels[:384], epochs=8)
        predicted = to_numpy(model.predict(x[384:], verbose=0)).argmax(axis=1)
        out[name] = [float(np.mean(predicted == labels[384:])), curve]
    return out


def config_roundtrip():
    loss = flk.Loss(fl.CategoricalCrossEntropy(class_weight=[1.0, 2.0]), reduction="sum")
    again = flk.Loss.from_config(loss.get_config())
    return again.loss == loss.loss and again.reduction == "sum"


def errors():
    """The exception raised by each unsupported construction or call (None: no error)."""
    out = {}
    for name, build in (
        ("triplet", lambda: flk.Loss(fl.Triplet())),
        ("contrastive", lambda: flk.Loss(fl.Contrastive())),
        ("not_a_loss", lambda: flk.Loss(object())),
        ("batch_triplet_sum", lambda: flk.Loss(fl.BatchTriplet(), reduction="sum")),
        # a sample_weight that does not fit the per-sample values: fastloss's
        # ValueError, not the backend's error from inside Keras
        ("sample_weight_shape", lambda: flk.Loss(fl.MeanSquaredError())(
            np.zeros(4, np.float32), np.ones(4, np.float32), sample_weight=np.ones(5))),
        ("sample_weight_rows", lambda: flk.Loss(fl.SparseCategoricalCrossEntropy())(
            np.zeros(4), np.ones((4, 3), np.float32), sample_weight=np.ones((4, 3)))),
    ):
        try:
            build()
            out[name] = None
        except (TypeError, ValueError) as exc:
            out[name] = type(exc).__name__
    return out


def fuzz_findings(examples):
    """The perturbed inputs of tests/test_fuzz_adapters.py through fastloss.keras.Loss
    on this backend (call_keras; every loss it takes under torch, one per adapter kind
    under jax, which compiles per input shape): each exception other than a clear
    error, as "entry: type: message"."""
    sys.path.insert(0, str(Path(__file__).parent))
    from test_fuzz_adapters import (
        ADAPTED,
        JAX_ENTRIES,
        _perturbed,
        call_keras,
        clear_errors_only,
        fuzz_of,
    )

    def body(entry, inputs, data):
        args, weight, reduction = _perturbed(data, inputs)
        clear_errors_only(lambda: call_keras(entry, entry.loss(reduction), args, weight),
                          args, weight)

    findings = []
    for entry in ADAPTED if BACKEND == "torch" else JAX_ENTRIES:
        try:
            fuzz_of(entry, body, examples)()
        except Exception as exc:  # noqa: BLE001  (each one is a finding, reported)
            findings += [f"{entry.id}: {type(e).__name__}: {str(e)[:300]}"
                         for e in getattr(exc, "exceptions", [exc])]
    return findings


def main():
    rng = np.random.default_rng(0)
    results = {
        "backend": BACKEND,
        "values": value_checks(rng),
        "batch_triplet": batch_triplet_check(rng),
        "labels_only": labels_only_check(rng),
        "curves": curves(rng),
        "classifier": classifier(rng),
        "config": config_roundtrip(),
        "errors": errors(),
        "fuzz_findings": fuzz_findings(int(os.environ.get("FUZZ_EXAMPLES", "40")) // 4),
    }
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
