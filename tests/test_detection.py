"""Box regression losses (fastloss.detection): closed forms, degenerate boxes, finite
differences and bad input. Values and gradients against torchvision's definitions are
in test_torch.py; the NumPy reference, weights, reductions, dtypes and threads are in
the shared contract tests (registry.DETECTION)."""

import numpy as np
import pytest

import fastloss as fl

KINDS = ("iou", "giou", "diou", "ciou")


def boxes(n, seed):
    rng = np.random.default_rng(seed)
    corner = rng.uniform(0.0, 10.0, (n, 2))
    target = np.concatenate([corner, corner + rng.uniform(0.5, 4.0, (n, 2))], axis=1)
    return target, target + rng.normal(0.0, 1.0, (n, 4))


@pytest.mark.parametrize("kind", ("iou", "giou", "diou"))  # CIoU: the next test
def test_gradient_matches_finite_differences(kind):
    target, pred = boxes(12, 3)
    loss = fl.BoxIoU(kind=kind, reduction="sum")
    grad = loss.gradient(target, pred)
    step = 1e-6
    for index in np.ndindex(pred.shape):
        up, down = pred.copy(), pred.copy()
        up[index] += step
        down[index] -= step
        slope = (loss(target, up) - loss(target, down)) / (2 * step)
        assert grad[index] == pytest.approx(slope, rel=1e-6, abs=1e-8), index


def test_ciou_gradient_holds_alpha_constant():
    """CIoU is DIoU + alpha v, and its gradient DIoU's plus alpha dv with
    alpha = v / (1 - iou + v + eps) held fixed."""
    target, pred = boxes(6, 4)
    step = 1e-6
    ciou = fl.BoxIoU(kind="ciou", reduction="sum")
    diou = fl.BoxIoU(kind="diou", reduction="sum")
    iou = 1.0 - fl.BoxIoU(kind="iou", reduction="none")(target, pred)

    def v(p):
        def angle(b):
            return np.arctan((b[:, 2] - b[:, 0]) / (b[:, 3] - b[:, 1]))

        return 4 / np.pi**2 * (angle(target) - angle(p)) ** 2

    alpha = v(pred) / (1.0 - iou + v(pred) + 1e-7)
    assert ciou(target, pred) == pytest.approx(diou(target, pred) + np.sum(alpha * v(pred)),
                                               rel=1e-14)
    expected = diou.gradient(target, pred).copy()
    for j in range(4):
        up, down = pred.copy(), pred.copy()
        up[:, j] += step
        down[:, j] -= step
        expected[:, j] += alpha * (v(up) - v(down)) / (2 * step)
    np.testing.assert_allclose(ciou.gradient(target, pred), expected, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("kind", KINDS)
def test_identical_boxes_cost_nothing(kind):
    target, _ = boxes(5, 5)
    values = fl.BoxIoU(kind=kind, reduction="none")(target, target)
    np.testing.assert_allclose(values, 0.0, atol=1e-7)  # 1 - U / (U + eps)


def test_closed_forms():
    """Unit target [0, 0, 1, 1]: a disjoint neighbour, a contained half, a far box."""
    target = np.array([[0.0, 0.0, 1.0, 1.0]] * 3)
    pred = np.array([[2.0, 0.0, 3.0, 1.0], [0.0, 0.0, 0.5, 1.0], [10.0, 10.0, 11.0, 11.0]])
    eps = 1e-7
    iou = np.array([0.0, 0.5 / (1.0 + eps), 0.0])
    area = np.array([3.0, 1.0, 121.0])
    union = np.array([2.0, 1.0, 2.0])
    centres = np.array([4.0, 0.0625, 200.0])
    diagonal = np.array([10.0, 2.0, 242.0]) + eps
    expected = {
        "iou": 1.0 - iou,
        "giou": 1.0 - iou + (area - union) / (area + eps),
        "diou": 1.0 - iou + centres / diagonal,
    }
    ratio = 4 / np.pi**2 * (np.arctan(1.0) - np.arctan(0.5)) ** 2
    alpha = ratio / (1.0 - iou[1] + ratio + eps)
    expected["ciou"] = expected["diou"] + np.array([0.0, alpha * ratio, 0.0])
    for kind, values in expected.items():
        got = fl.BoxIoU(kind=kind, reduction="none")(target, pred)
        np.testing.assert_allclose(got, values, rtol=1e-14, err_msg=kind)


def test_degenerate_boxes():
    """Point and line boxes: no area, no NaN, except CIoU's aspect ratio of a point
    (0 / 0, NaN in torchvision too)."""
    point = np.array([[1.0, 1.0, 1.0, 1.0]])
    line = np.array([[0.0, 1.0, 2.0, 1.0]])
    for kind in ("iou", "giou", "diou"):
        loss = fl.BoxIoU(kind=kind)
        value, grad = loss.value_and_gradient(point, point)
        assert value == 1.0 and np.isfinite(grad).all()  # I = U = 0: iou = 0
        assert np.isfinite(loss.value_and_gradient(line, line + 0.5)[1]).all()
    assert np.isnan(fl.BoxIoU(kind="ciou")(point, point))
    assert np.isfinite(fl.BoxIoU(kind="ciou")(line, line + 0.5))  # atan(inf) = pi / 2


def test_nan_predictions_propagate():
    target, pred = boxes(3, 6)
    pred[1, 2] = np.nan
    for kind in KINDS:
        values, grad = fl.BoxIoU(kind=kind, reduction="none").value_and_gradient(target, pred)
        assert np.isnan(values[1]) and np.isfinite(values[[0, 2]]).all()
        assert np.isfinite(grad[[0, 2]]).all()


def test_bad_input():
    target, pred = boxes(4, 7)
    loss = fl.BoxIoU()
    with pytest.raises(ValueError, match=r"shape \(n, 4\); got shape \(4, 3\)"):
        loss(target[:, :3], pred[:, :3])
    with pytest.raises(ValueError, match=r"shape \(n, 4\); got shape \(4,\)"):
        loss(target[0], pred[0])
    with pytest.raises(ValueError, match="same shape"):
        loss(target[:3], pred)
    swapped = target.copy()
    swapped[2] = swapped[2, [2, 3, 0, 1]]
    with pytest.raises(ValueError, match="x1 <= x2 and y1 <= y2; row 2 is"):
        loss(swapped, pred)
    for bad in (np.nan, np.inf):
        broken = target.copy()
        broken[3, 1] = bad
        with pytest.raises(ValueError, match="row 3"):
            loss(broken, pred)
    with pytest.raises(ValueError, match="kind must be one of iou, giou, diou, ciou"):
        fl.BoxIoU(kind="eiou")
    with pytest.raises(ValueError, match="eps"):
        fl.BoxIoU(eps=-1.0)
    with pytest.raises(ValueError, match="same shape"):  # boxes, not labels
        fl.BoxIoU()(np.zeros(4, int), pred)
    with pytest.raises(TypeError):
        loss(target.astype(str), pred)


def test_a_detection_head_is_two_weighted_one_pass_losses():
    """The documented recipe: classification and box losses, weighted, summed."""
    rng = np.random.default_rng(8)
    labels, logits = rng.integers(0, 3, 6), rng.normal(size=(6, 3))
    target, pred = boxes(6, 9)
    classification = fl.SparseCategoricalCrossEntropy(from_logits=True)
    box = fl.BoxIoU(kind="giou")
    value_c, grad_c = classification.value_and_gradient(labels, logits)
    value_b, grad_b = box.value_and_gradient(target, pred)
    total = 1.0 * value_c + 2.0 * value_b
    assert total == pytest.approx(classification(labels, logits) + 2.0 * box(target, pred))
    np.testing.assert_allclose(2.0 * grad_b, 2.0 * box.gradient(target, pred))
