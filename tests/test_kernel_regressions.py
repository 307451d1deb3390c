"""Kernel sets are distinct modules, and regression tests for kernel bugs found."""

import importlib

import numpy as np
import pytest

import fastloss as fl
from fastloss._kernels import dispatch

FAMILIES = ("regression", "binary", "multiclass", "embedding", "ranking", "vmath_check")
SUFFIX = {"baseline": "", "x86-64-v3": "_v3", "x86-64-v4": "_v4"}


@pytest.mark.one_kernel_set
@pytest.mark.parametrize("family", FAMILIES)
def test_each_kernel_set_is_its_own_module(family):
    """The sets share one C file per family; each must still load as its own module
    (Cython's init code registers a module in sys.modules under its name)."""
    modules = {}
    for kernel_set in dispatch.available():
        name = f"fastloss._kernels.{family}{SUFFIX[kernel_set]}"
        module = importlib.import_module(name)
        assert module.__name__ == name
        stem = module.__file__.rsplit("/", 1)[-1].split(".")[0]
        assert stem == f"{family}{SUFFIX[kernel_set]}", (name, module.__file__)
        modules[kernel_set] = module
    assert len({id(m) for m in modules.values()}) == len(modules)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n_classes", [8, 9, 12, 16, 100])
def test_sparse_cross_entropy_from_logits_with_the_maximum_anywhere(n_classes, dtype):
    """float64 rows of 8 or more classes once lost the element four places after the row
    maximum from the softmax sum (x86-64-v3)."""
    rng = np.random.default_rng(n_classes)
    rows = []
    for position in range(min(n_classes, 20)):
        z = rng.normal(size=n_classes)
        z[position] = 5.0
        rows.append(z)
    logits = np.array(rows).astype(dtype)
    labels = rng.integers(0, n_classes, len(rows))
    labels[: min(n_classes, 4)] = np.arange(min(n_classes, 4))  # the label at the maximum
    z = logits.astype(np.float64)
    shifted = z - z.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    expected_values = -log_p[np.arange(len(rows)), labels]
    expected_grad = np.exp(log_p)
    expected_grad[np.arange(len(rows)), labels] -= 1.0
    loss = fl.SparseCategoricalCrossEntropy(from_logits=True, reduction="none")
    values, grad = loss.value_and_gradient(labels, logits)
    rtol = 1e-12 if dtype == np.float64 else 2e-6
    np.testing.assert_allclose(values, expected_values, rtol=rtol, atol=rtol)
    np.testing.assert_allclose(grad, expected_grad, rtol=rtol, atol=rtol)
