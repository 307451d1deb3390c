"""Dice and Tversky (fastloss.segmentation): PyTorch formulas with autograd (as
segmentation_models.pytorch and MONAI compute them), closed forms, empty masks, finite
differences and bad input. The NumPy reference, weights, reductions, dtypes and threads
are in the shared contract tests (registry.SEGMENTATION)."""

import numpy as np
import pytest

import fastloss as fl


def masks(n=6, shape=(3, 9, 7), seed=0):
    rng = np.random.default_rng(seed)
    target = (rng.random((n, *shape)) < 0.3).astype(np.float64)
    logits = rng.normal(0.0, 2.0, (n, *shape)) + 2.0 * target
    return target, logits


def torch_overlap(torch, target, p, alpha, beta, gamma, smooth, dice):
    dims = tuple(range(1, p.ndim))
    tp = (p * target).sum(dims)
    if dice:
        return 1 - (2 * tp + smooth) / (p.sum(dims) + target.sum(dims) + smooth)
    fp = (p * (1 - target)).sum(dims)
    fn = ((1 - p) * target).sum(dims)
    return (1 - (tp + smooth) / (tp + alpha * fp + beta * fn + smooth)) ** gamma


CASES = [
    (fl.Dice, {}, (0.5, 0.5, 1.0, 1.0, True)),
    (fl.Dice, {"smooth": 0.0}, (0.5, 0.5, 1.0, 0.0, True)),
    (fl.Tversky, {"alpha": 0.3, "beta": 0.7}, (0.3, 0.7, 1.0, 1.0, False)),
    (fl.Tversky, {"alpha": 0.7, "beta": 0.3, "gamma": 1.5, "smooth": 0.5},
     (0.7, 0.3, 1.5, 0.5, False)),
]


@pytest.mark.parametrize("cls, params, formula", CASES)
@pytest.mark.parametrize("from_logits", [False, True])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_matches_torch(cls, params, formula, from_logits, reduction, dtype):
    torch = pytest.importorskip("torch")
    target, logits = masks()
    pred = logits if from_logits else 1.0 / (1.0 + np.exp(-logits))
    x = torch.tensor(pred.astype(dtype), requires_grad=True)
    t = torch.tensor(target.astype(dtype))
    values = torch_overlap(torch, t, torch.sigmoid(x) if from_logits else x, *formula)
    reduce = {"mean": torch.mean, "sum": torch.sum, "none": lambda v: v}[reduction]
    out = reduce(values)
    out.sum().backward()
    loss = cls(**params, from_logits=from_logits, reduction=reduction)
    value, grad = loss.value_and_gradient(target.astype(dtype), pred.astype(dtype))
    assert grad.shape == pred.shape and grad.dtype == dtype
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    expected = out.detach().numpy()
    np.testing.assert_allclose(value, expected, rtol=rtol, atol=rtol * np.abs(expected).max())
    g = x.grad.numpy()
    np.testing.assert_allclose(grad, g, rtol=rtol, atol=rtol * np.abs(g).max())


def test_closed_forms_and_empty_masks():
    empty = np.zeros((1, 4))
    assert fl.Dice()(empty, empty) == 0.0  # smooth / smooth
    assert fl.Tversky()(empty, empty) == 0.0
    full = np.ones((1, 4))
    assert fl.Dice(smooth=0.0)(full, full) == 0.0
    assert fl.Dice(smooth=0.0)(full, empty) == 1.0
    assert fl.Tversky(alpha=0.3, beta=0.7, smooth=0.0)(full, empty) == 1.0
    # alpha = beta = 0.5 is Dice with the smoothing halved
    target, logits = masks(seed=1)
    p = 1.0 / (1.0 + np.exp(-logits))
    np.testing.assert_allclose(fl.Tversky(smooth=0.5, reduction="none")(target, p),
                               fl.Dice(smooth=1.0, reduction="none")(target, p), rtol=1e-13)


@pytest.mark.parametrize("cls, params, formula", CASES)
def test_gradient_matches_finite_differences(cls, params, formula):
    target, logits = masks(n=3, shape=(5,), seed=2)
    loss = cls(**params, from_logits=True, reduction="sum")
    grad = loss.gradient(target, logits)
    step = 1e-6
    for index in [(0, 0), (1, 3), (2, 4)]:
        up, down = logits.copy(), logits.copy()
        up[index] += step
        down[index] -= step
        slope = (loss(target, up) - loss(target, down)) / (2 * step)
        assert grad[index] == pytest.approx(slope, rel=1e-6, abs=1e-10)
    assert not loss.exact_hessian
    np.testing.assert_array_equal(loss.gradient_hessian(target, logits)[1], 1.0)


def test_threads_give_the_same_bits():
    target, logits = masks(n=4, shape=(64, 300), seed=3)
    loss = fl.Dice(from_logits=True)
    with fl.threads(1):
        one = loss.value_and_gradient(target, logits)
    with fl.threads(2):
        two = loss.value_and_gradient(target, logits)
    assert one[0] == two[0]
    np.testing.assert_array_equal(one[1], two[1])


def test_bad_input():
    target, logits = masks(n=2, shape=(4,))
    with pytest.raises(ValueError, match="at least 2 axes"):
        fl.dice(target[0], logits[0])
    with pytest.raises(ValueError, match="same shape"):
        fl.dice(target[:, :3], logits)
    with pytest.raises(ValueError, match=r"y_true must be in \[0, 1\]"):
        fl.dice(target * 2.0, logits, from_logits=True)
    with pytest.raises(ValueError, match=r"y_pred \(probabilities"):
        fl.dice(target, logits)
    with pytest.raises(ValueError, match="smooth"):
        fl.Dice(smooth=-1.0)
    with pytest.raises(ValueError, match="gamma"):
        fl.Tversky(gamma=0.0)
    with pytest.raises(ValueError, match="alpha"):
        fl.Tversky(alpha=np.nan)
    with pytest.raises(ValueError, match="from_logits"):
        fl.Dice(from_logits="yes")


# ---- multiclass=True: a softmax over the class axis, the mean over classes -------------

@pytest.mark.parametrize("cls, params, formula", CASES)
@pytest.mark.parametrize("labels", [False, True])
@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-10), (np.float32, 1e-5)])
def test_multiclass_matches_torch(cls, params, formula, labels, dtype, rtol):
    """MONAI's DiceLoss(softmax=True) and segmentation_models' mode="multiclass": each
    class's overlap per sample, then the mean over classes."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    classes = 4
    label_map = rng.integers(0, classes, (5, 9, 7))
    onehot = np.eye(classes)[label_map].transpose(0, 3, 1, 2)
    logits = (rng.normal(0.0, 2.0, onehot.shape) + 2.0 * onehot).astype(dtype)
    z = torch.tensor(logits.astype(np.float64), requires_grad=True)
    p = torch.softmax(z, dim=1)
    t = torch.tensor(onehot)
    per_class = torch.stack([torch_overlap(torch, t[:, c], p[:, c], *formula)
                             for c in range(classes)], dim=1)
    w = rng.uniform(0.2, 2.0, 5)
    expected = (torch.tensor(w) * per_class.mean(dim=1)).sum() / w.sum()
    expected.backward()
    loss = cls(**params, from_logits=True, multiclass=True)
    value, grad = loss.value_and_gradient(label_map if labels else onehot, logits,
                                          sample_weight=w)
    assert grad.dtype == dtype and grad.shape == logits.shape
    assert value == pytest.approx(expected.item(), rel=rtol)
    theirs = z.grad.numpy()
    np.testing.assert_allclose(grad, theirs, rtol=0, atol=rtol * np.abs(theirs).max())
    values = cls(**params, from_logits=True, multiclass=True, reduction="none")(
        label_map, logits)
    np.testing.assert_allclose(values, per_class.mean(dim=1).detach().numpy(), rtol=rtol)


def test_multiclass_closed_form_and_bad_labels():
    # a perfect one-hot prediction: every class's Dice is 1 (smooth on both sides)
    onehot = np.eye(3)[[[0, 1], [2, 2]]].transpose(2, 0, 1)[None]  # (1, 3, 2, 2)
    assert fl.dice(onehot, onehot, multiclass=True) == 0.0
    # uniform probabilities over 2 classes, 4 pixels all of class 0, smooth 0:
    # class 0: 1 - 2 * 2 / (2 + 4) = 1/3; class 1: 1 - 0 / 2 = 1; mean 2/3
    uniform = np.full((1, 2, 4), 0.5)
    assert fl.dice([[0, 0, 0, 0]], uniform, smooth=0.0, multiclass=True) == pytest.approx(
        2 / 3, rel=1e-15)
    with pytest.raises(ValueError, match=r"class labels must lie in \[0, 2\)"):
        fl.dice([[0, 2, 0, 0]], uniform, multiclass=True)
    with pytest.raises(ValueError, match=r"must have shape \(1, 4\)"):
        fl.dice([[0, 1, 0]], uniform, multiclass=True)
    # integer one-hot targets (torch's F.one_hot, mask == k) are one-hot, not labels
    onehot_int = np.eye(2, dtype=np.int64)[[[0, 0, 1, 1]]].transpose(0, 2, 1)
    assert fl.dice(onehot_int, uniform, multiclass=True) == fl.dice(
        [[0, 0, 1, 1]], uniform, multiclass=True)
    with pytest.raises(ValueError, match="multiclass must be True or False"):
        fl.Tversky(multiclass="yes")


@pytest.mark.parametrize("cls", [fl.Dice, fl.Tversky])
def test_gradient_into_its_own_inputs(cls):
    """out= may be y_true or y_pred itself: the gradient from logits keeps the
    sigmoid's slope in the output row between its passes, but not over y_true."""
    target, logits = masks(seed=4)
    loss = cls(from_logits=True)
    expected = loss.gradient(target, logits)
    for which in ("y_true", "y_pred"):
        y, z = target.copy(), logits.copy()
        out = y if which == "y_true" else z
        assert loss.gradient(y, z, out=out) is out
        np.testing.assert_array_equal(out, expected)
