"""fastloss.keras under the torch and jax Keras backends.

Keras reads KERAS_BACKEND once, at import, so each backend runs
tests/keras_backend_check.py in its own subprocess (one per backend per session);
the tests below assert on what it measured.
"""

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

if importlib.util.find_spec("keras") is None:  # importing it needs KERAS_BACKEND set
    pytest.skip("could not import 'keras'", allow_module_level=True)

pytestmark = pytest.mark.one_kernel_set

SCRIPT = Path(__file__).with_name("keras_backend_check.py")
BACKENDS = ("torch", "jax")


@pytest.fixture(scope="module", params=BACKENDS)
def measured(request):
    backend = request.param
    pytest.importorskip(backend)
    env = {**os.environ, "KERAS_BACKEND": backend, "PYTHONWARNINGS": "ignore",
           "TF_CPP_MIN_LOG_LEVEL": "3"}
    proc = subprocess.run([sys.executable, "-P", str(SCRIPT)], env=env, capture_output=True,
                          text=True, timeout=300)
    if proc.returncode != 0:
        pytest.fail(f"keras check under {backend} failed:\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_backend(measured):
    assert measured["backend"] in BACKENDS


def test_values_and_gradients_match_builtin_losses(measured):
    """Every reduction, with and without sample_weight (Huber, sparse cross-entropy),
    and the default reduction with weights (MSE, log-cosh, MSLE, MAPE, binary and
    categorical cross-entropy, cosine similarity, labels of shape (n, 1)), and every
    reduction of sparse cross-entropy with ignored rows (Keras's ignore_class), float32:
    within 1e-6."""
    assert len(measured["values"]) == 2 * 4 * 2 + 8 + 4
    for key, (value_diff, grad_diff, same_shape) in measured["values"].items():
        assert same_shape, key
        assert value_diff <= 1e-6, (key, value_diff)
        assert grad_diff <= 1e-6, (key, grad_diff)


def test_batch_triplet_uses_its_own_reduction(measured):
    assert measured["batch_triplet"] <= 1e-6


def test_losses_of_labels_only_take_keras_labels(measured):
    assert measured["labels_only"].keys() == {"nll", "multi_margin", "dice_multiclass"}
    assert max(measured["labels_only"].values()) <= 1e-6


def test_fit_loss_curve_matches_builtin(measured):
    ours, theirs = measured["curves"]["huber_weighted"]
    assert len(ours) == len(theirs) == 4
    assert ours[-1] < ours[0]
    np.testing.assert_allclose(ours, theirs, rtol=1e-5)


def test_classifier_reaches_builtin_accuracy(measured):
    (ours, ours_curve), (theirs, theirs_curve) = (
        measured["classifier"]["fastloss"], measured["classifier"]["builtin"])
    assert ours > 0.6
    assert abs(ours - theirs) <= 1 / 128
    np.testing.assert_allclose(ours_curve, theirs_curve, rtol=1e-5)


def test_config_roundtrip(measured):
    assert measured["config"] is True


def test_unsupported_losses(measured):
    assert measured["errors"] == {"triplet": "TypeError", "contrastive": "TypeError",
                                  "not_a_loss": "TypeError", "batch_triplet_sum": "ValueError",
                                  "sample_weight_shape": "ValueError",
                                  "sample_weight_rows": "ValueError"}


def test_fuzzed_inputs_give_a_result_or_a_clear_error(measured):
    """Hypothesis's perturbed inputs through fastloss.keras.Loss (value and gradient):
    a result, a TypeError / ValueError, or an out-of-memory error for a huge lazy
    argument; nothing else."""
    assert measured["fuzz_findings"] == []
