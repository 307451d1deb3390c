"""CTC: PyTorch's definition (values, and gradients through the log_softmax), both
target layouts, closed forms, impossible alignments, the underflow fallback, finite
differences and bad input. (The contract tests, tests/test_contract.py, compare with
fastloss.reference.)"""

import math

import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import given, settings

import fastloss as fl
from fastloss import reference


def log_softmax(z):
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def batch(frames=30, n=7, classes=6, width=8, seed=0):
    rng = np.random.default_rng(seed)
    log_probs = log_softmax(rng.normal(0.0, 2.0, (frames, n, classes)))
    targets = rng.integers(1, classes, (n, width))
    targets[2, :4] = 3  # repeats: each needs a blank between
    target_lengths = rng.integers(0, width + 1, n)
    target_lengths[0] = 0
    input_lengths = rng.integers(frames // 2, frames + 1, n)
    input_lengths[1] = frames
    return targets, log_probs, input_lengths, target_lengths


def through_log_softmax(grad, log_probs):
    """d/d logits from d/d log_probs, log_probs = log_softmax(logits)."""
    return grad - np.exp(log_probs) * grad.sum(axis=-1, keepdims=True)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-10), (np.float32, 1e-5)])
def test_matches_torch(reduction, dtype, rtol):
    torch = pytest.importorskip("torch")
    targets, log_probs, input_lengths, target_lengths = batch()
    lp = log_probs.astype(dtype)
    # torch in float64 on the same (rounded) inputs: its float32 forward-backward is
    # about 1e-5 off, ours (in double) about 1e-8
    logits = torch.tensor(lp.astype(np.float64), requires_grad=True)
    expected = torch.nn.functional.ctc_loss(
        torch.log_softmax(logits, dim=2), torch.tensor(targets), torch.tensor(input_lengths),
        torch.tensor(target_lengths), reduction=reduction)
    loss = fl.CTC(reduction=reduction)
    if reduction == "none":
        np.testing.assert_allclose(loss(targets, lp, input_lengths, target_lengths),
                                   expected.detach().numpy(), rtol=rtol)
        return
    value, grad = loss.value_and_gradient(targets, lp, input_lengths, target_lengths)
    assert grad.dtype == dtype
    assert value == pytest.approx(expected.item(), rel=rtol)
    expected.backward()
    theirs = logits.grad.numpy()
    np.testing.assert_allclose(through_log_softmax(grad.astype(np.float64), lp), theirs, rtol=0,
                               atol=rtol * np.abs(theirs).max())


def test_concatenated_targets_equal_padded():
    targets, log_probs, input_lengths, target_lengths = batch(seed=1)
    flat = np.concatenate([row[:k] for row, k in zip(targets, target_lengths, strict=True)])
    w = np.linspace(0.5, 2.0, len(input_lengths))
    loss = fl.CTC(reduction="sum")
    padded = loss.value_and_gradient(targets, log_probs, input_lengths, target_lengths,
                                     sample_weight=w)
    concatenated = loss.value_and_gradient(flat, log_probs, input_lengths, target_lengths,
                                           sample_weight=w)
    assert padded[0] == concatenated[0]
    np.testing.assert_array_equal(padded[1], concatenated[1])


def test_closed_forms():
    # one label, uniform over C classes, T frames: the alignments blank* a+ blank* number
    # T (T + 1) / 2, each of probability C^-T
    for frames, classes in ((1, 2), (5, 3), (40, 10)):
        log_probs = np.full((frames, 1, classes), -math.log(classes))
        expected = frames * math.log(classes) - math.log(frames * (frames + 1) / 2)
        assert fl.ctc([[1]], log_probs, [frames], [1], reduction="sum") == pytest.approx(
            expected, rel=1e-14)
    # an empty target: only blanks
    log_probs = log_softmax(np.random.default_rng(2).normal(size=(6, 1, 4)))
    assert fl.ctc(np.zeros((1, 0), dtype=int), log_probs, [6], [0], reduction="sum") == \
        pytest.approx(-log_probs[:, 0, 0].sum(), rel=1e-14)
    # no frames and no target: probability 1
    assert fl.ctc(np.zeros((1, 0), dtype=int), log_probs, [0], [0], reduction="sum") == 0.0


def test_impossible_alignments():
    log_probs = np.log(np.full((3, 2, 3), 1 / 3))
    targets = [[1, 1], [1, 2]]
    # "1 1" needs a blank between: 3 frames suffice, 2 do not; "1 2" needs 2
    values = fl.ctc(targets, log_probs, [2, 2], [2, 2], reduction="none")
    assert values[0] == np.inf and np.isfinite(values[1])
    value, grad = fl.CTC(reduction="sum").value_and_gradient(targets, log_probs, [2, 2], [2, 2])
    assert value == np.inf
    assert np.isnan(grad[:2, 0]).all() and np.isfinite(grad[:, 1]).all()
    assert not grad[2, 0].any()  # past the input length
    loss = fl.CTC(reduction="sum", zero_infinity=True)
    value, grad = loss.value_and_gradient(targets, log_probs, [2, 2], [2, 2])
    assert value == pytest.approx(values[1], rel=1e-15)
    assert not grad[:, 0].any()
    assert fl.ctc(targets, log_probs, [0, 0], [2, 2], zero_infinity=True) == 0.0


def test_classes_at_minus_infinity():
    """A class masked to log-probability -inf: no path uses it, its gradient is 0 (not
    NaN); an impossible target under zero_infinity has a zero gradient."""
    targets, log_probs, input_lengths, target_lengths = batch(seed=6)
    log_probs[:, :, 5] = -np.inf
    targets[targets == 5] = 4
    for reduction in ("sum", "mean"):
        value, grad = fl.CTC(reduction=reduction).value_and_gradient(
            targets, log_probs, input_lengths, target_lengths)
        expected_value, expected_grad = reference.ctc(
            targets, log_probs, input_lengths, target_lengths, reduction=reduction)
        assert np.isfinite(grad).all() and not grad[:, :, 5].any()
        assert value == pytest.approx(expected_value, rel=1e-12)
        np.testing.assert_allclose(grad, expected_grad, rtol=0, atol=1e-13)
    log_probs[:, 0, 1:] = -np.inf  # sequence 0 can only emit blanks
    target_lengths[0], targets[0, 0] = 1, 1
    value, grad = fl.CTC(reduction="none", zero_infinity=True).value_and_gradient(
        targets, log_probs, input_lengths, target_lengths)
    assert value[0] == 0.0 and not grad[:, 0].any() and np.isfinite(grad).all()


def test_columns_far_below_their_maximum_are_not_lost():
    """Labels at log-probability -3000 and certain blanks: each label state lies
    thousands below the column maximum, where e^(x - max) underflows; the frames are
    recomputed without the scaling (the loss is finite: 8 labels cost 24000 each)."""
    log_probs = np.full((40, 2, 4), -3000.0)
    log_probs[:, :, 0] = 0.0
    targets = np.array([[1, 2, 3, 1, 2, 3, 1, 2], [3, 3, 3, 2, 2, 1, 1, 1]])
    value, grad = fl.CTC(reduction="sum").value_and_gradient(targets, log_probs, [40, 40],
                                                             [8, 8])
    expected_value, expected_grad = reference.ctc(targets, log_probs, [40, 40], [8, 8],
                                                  reduction="sum")
    assert 47900 < value < 48000  # two sequences
    assert value == pytest.approx(expected_value, rel=1e-14)
    np.testing.assert_allclose(grad, expected_grad, rtol=0, atol=1e-12)


def test_gradient_matches_finite_differences():
    targets, log_probs, input_lengths, target_lengths = batch(frames=10, n=3, seed=3)
    loss = fl.CTC()
    grad = loss.gradient(targets, log_probs, input_lengths, target_lengths)
    rng = np.random.default_rng(4)
    h = 1e-6
    for _ in range(20):
        t, n, c = rng.integers(0, 10), rng.integers(0, 3), rng.integers(0, 6)
        plus, minus = log_probs.copy(), log_probs.copy()
        plus[t, n, c] += h
        minus[t, n, c] -= h
        numeric = (loss(targets, plus, input_lengths, target_lengths)
                   - loss(targets, minus, input_lengths, target_lengths)) / (2 * h)
        assert grad[t, n, c] == pytest.approx(numeric, rel=1e-6, abs=1e-9)


def test_nan_propagates_to_its_sequence_only():
    targets, log_probs, input_lengths, target_lengths = batch(seed=5)
    log_probs[3, 4, 0] = np.nan  # a blank: on every path
    values = fl.ctc(targets, log_probs, input_lengths, target_lengths, reduction="none")
    assert np.isnan(values[4]) and np.isfinite(np.delete(values, 4)).all()


def test_bad_input():
    targets, log_probs, input_lengths, target_lengths = batch(frames=12, n=3, width=4)
    ctc = fl.ctc
    bad_targets = targets.copy()
    bad_targets[1, 0] = 0
    target_lengths = np.array([2, 3, 4])
    with pytest.raises(ValueError, match="other than blank=0; got 0"):
        ctc(bad_targets, log_probs, input_lengths, target_lengths)
    bad_targets[1, 0] = 6
    with pytest.raises(ValueError, match=r"class indices in \[0, 6\)"):
        ctc(bad_targets, log_probs, input_lengths, target_lengths)
    with pytest.raises(ValueError, match=r"input_lengths must lie in \[0, 12\]"):
        ctc(targets, log_probs, [12, 13, 5], target_lengths)
    with pytest.raises(ValueError, match="target_lengths must be >= 0"):
        ctc(targets, log_probs, input_lengths, [1, -1, 2])
    with pytest.raises(ValueError, match="at most the targets' width 4"):
        ctc(targets, log_probs, input_lengths, [1, 5, 2])
    with pytest.raises(ValueError, match=r"sum\(target_lengths\) = 9"):
        ctc(targets.ravel()[:8], log_probs, input_lengths, target_lengths)
    huge = [2**63 - 1, 2**63 - 1, 2]  # their int64 sum wraps around to 0
    with pytest.raises(ValueError, match="concatenated"):
        ctc(np.zeros(0, dtype=int), log_probs, input_lengths, huge)
    with pytest.raises(ValueError, match="3-D"):
        ctc(targets, log_probs[:, 0], input_lengths, target_lengths)
    with pytest.raises(ValueError, match=r"input_lengths must have shape \(3,\)"):
        ctc(targets, log_probs, input_lengths[:2], target_lengths)
    with pytest.raises(TypeError, match="integers"):
        ctc(targets.astype(float), log_probs, input_lengths, target_lengths)
    with pytest.raises(TypeError, match="integers"):
        ctc(targets, log_probs, input_lengths.astype(float), target_lengths)
    with pytest.raises(ValueError, match="blank=6 is not a class"):
        ctc(targets, log_probs, input_lengths, target_lengths, blank=6)
    for blank in (-1, 1.0, True, "0"):
        with pytest.raises(ValueError, match="blank must be a class index"):
            fl.CTC(blank=blank)
    with pytest.raises(ValueError, match="zero_infinity"):
        fl.CTC(zero_infinity=1)


@settings(max_examples=300, deadline=None)
@given(frames=st.integers(0, 6), batch=st.integers(0, 4), classes=st.integers(1, 5),
       width=st.integers(0, 5), data=st.data())
def test_fuzzed_lengths_and_labels_give_a_result_or_a_clear_error(frames, batch, classes,
                                                                  width, data):
    """Any labels, lengths and layouts (negative, too long, blank, out of range,
    wrapped sums): a finite-or-inf result with a gradient of the right shape, or a
    ValueError / TypeError; never a crash or an out-of-bounds read."""
    labels = st.integers(-2, classes + 1)
    padded = data.draw(st.booleans())
    if padded:
        targets = np.array(data.draw(st.lists(st.lists(labels, min_size=width,
                                                       max_size=width),
                                              min_size=batch, max_size=batch)),
                           dtype=np.int64).reshape(batch, width)
    else:
        targets = np.array(data.draw(st.lists(labels, max_size=12)), dtype=np.int64)
    lengths = st.integers(-1, 8) | st.sampled_from([2**62, 2**63 - 1])
    input_lengths = data.draw(st.lists(st.integers(-1, frames + 1), min_size=batch,
                                       max_size=batch))
    target_lengths = data.draw(st.lists(lengths, min_size=batch, max_size=batch))
    blank = data.draw(st.integers(0, classes))
    log_probs = log_softmax(np.random.default_rng(0).normal(size=(frames, batch, classes)))
    loss = fl.CTC(blank=blank, reduction="sum", zero_infinity=data.draw(st.booleans()))
    try:
        value, grad = loss.value_and_gradient(targets, log_probs,
                                              np.array(input_lengths, dtype=np.int64),
                                              np.array(target_lengths, dtype=np.int64))
    except (ValueError, TypeError):
        return
    assert grad.shape == log_probs.shape
    assert not np.isnan(value) and value >= -1e-12  # log_softmax rounds to +-1e-17
