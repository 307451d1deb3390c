"""GaussianNLL: torch's definition, the variance clamp, finite differences and bad
input. The NumPy reference, weights, reductions, dtypes and threads are in the shared
contract tests (registry: the "gaussian" entries)."""

import math

import numpy as np
import pytest

import fastloss as fl

REDUCTIONS = ("mean", "sum", "none")


def data(n=30, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.normal(0.0, 2.0, (n, 3))
    mean = y + rng.normal(0.0, 1.0, (n, 3))
    var = rng.uniform(0.05, 3.0, (n, 3))
    return y, mean, var


@pytest.mark.parametrize("full", [False, True])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_matches_torch(full, reduction, dtype):
    torch = pytest.importorskip("torch")
    y, mean, var = data()
    var[0, 0] = 0.0  # clamped at eps, the gradient taken at the clamped value
    var[1, 1] = 3e-7
    m, v = (torch.tensor(a.astype(dtype), requires_grad=True) for a in (mean, var))
    out = torch.nn.functional.gaussian_nll_loss(m, torch.tensor(y.astype(dtype)), v,
                                                full=full, eps=1e-6, reduction=reduction)
    out.sum().backward()
    value, (g_mean, g_var) = fl.GaussianNLL(full=full, reduction=reduction).value_and_gradient(
        y.astype(dtype), mean.astype(dtype), var.astype(dtype))
    rtol = 1e-6 if dtype == np.float32 else 1e-12
    for ours, theirs in ((value, out.detach().numpy()), (g_mean, m.grad.numpy()),
                         (g_var, v.grad.numpy())):
        scale = np.abs(theirs).max()
        np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=rtol * scale)
    assert g_mean.dtype == g_var.dtype == dtype


def test_closed_forms():
    loss = fl.GaussianNLL(reduction="none")
    values = loss([0.0, 1.0, 0.0], [0.0, 3.0, 0.0], [1.0, 2.0, 0.0])
    eps = 1e-6
    np.testing.assert_allclose(values, [0.0, 0.5 * (math.log(2.0) + 2.0),
                                        0.5 * math.log(eps)], rtol=1e-15)
    full = fl.GaussianNLL(full=True, reduction="none")([0.0], [0.0], [1.0])
    np.testing.assert_allclose(full, [0.5 * math.log(2 * math.pi)], rtol=1e-15)


@pytest.mark.parametrize("full", [False, True])
def test_gradient_and_hessian_match_finite_differences(full):
    y, mean, var = data(8, 1)
    loss = fl.GaussianNLL(full=full, reduction="sum")
    (g_mean, g_var), (h_mean, h_var) = loss.gradient_hessian(y, mean, var)
    step = 1e-6
    for which, grad, hess in ((1, g_mean, h_mean), (2, g_var, h_var)):
        for index in [(0, 0), (3, 1), (7, 2)]:
            arrays = [y, mean, var]
            up = [a.copy() for a in arrays]
            down = [a.copy() for a in arrays]
            up[which][index] += step
            down[which][index] -= step
            slope = (loss(*up) - loss(*down)) / (2 * step)
            assert grad[index] == pytest.approx(slope, rel=1e-6, abs=1e-9)
            curvature = (loss.gradient(*up)[which - 1][index]
                         - loss.gradient(*down)[which - 1][index]) / (2 * step)
            assert hess[index] == pytest.approx(curvature, rel=1e-5, abs=1e-7)
    assert (h_var < 0).any() and (h_var > 0).any()  # not convex in the variance


def test_nan_propagates():
    y, mean, var = data(3, 2)
    for array in (y, mean, var):
        broken = array.copy()
        broken[1, 2] = np.nan
        arrays = [broken if a is array else a for a in (y, mean, var)]
        values = fl.GaussianNLL(reduction="none")(*arrays)
        assert np.isnan(values[1, 2]) and np.isfinite(np.delete(values.ravel(), 5)).all()


def test_bad_input():
    y, mean, var = data(4, 3)
    negative = var.copy()
    negative[2, 1] = -0.5
    with pytest.raises(ValueError, match=r"var must be >= 0 \(a variance\); got \S*-0.5\S* "
                                         r"at index \(2, 1\)"):
        fl.gaussian_nll(y, mean, negative)
    with pytest.raises(ValueError, match="var must have the mean's shape"):
        fl.gaussian_nll(y, mean, var[:, :1])
    with pytest.raises(ValueError, match="same shape"):
        fl.gaussian_nll(y[:3], mean, var)
    with pytest.raises(ValueError, match="full"):
        fl.GaussianNLL(full=1)
    for eps in (0.0, -1.0, np.inf):
        with pytest.raises(ValueError, match="eps"):
            fl.GaussianNLL(eps=eps)
    with pytest.raises(TypeError, match="out must be a tuple of 2 arrays"):
        fl.GaussianNLL().gradient(y, mean, var, out=np.empty_like(mean))
