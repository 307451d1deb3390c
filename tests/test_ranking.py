"""Ranking losses against fastloss.reference at extreme score spreads, rax's documented
values, finite differences, masks (a masked item is a sliced-out item) and their edge
cases. (The contract tests, tests/test_contract.py, compare every loss with
fastloss.reference.)"""

import math
import os
import subprocess
import sys

import numpy as np
import pytest

import fastloss as fl
from fastloss import reference
from fastloss._kernels import dispatch as _dispatch

LOSSES = {
    "hinge": (fl.PairwiseHinge, reference.pairwise_hinge, {"margin": 0.7}),
    "logistic": (fl.PairwiseLogistic, reference.pairwise_logistic, {}),
    "softmax": (fl.ListwiseSoftmax, reference.listwise_softmax, {}),
    "listmle": (fl.ListMLE, reference.list_mle, {}),
    "lambda": (fl.LambdaRank, reference.lambda_rank, {}),
    "lambda@3": (fl.LambdaRank, reference.lambda_rank, {"k": 3}),
}
EXACT_HESSIAN = ("logistic", "softmax", "listmle", "lambda", "lambda@3")


def make(name, **kw):
    cls, _, params = LOSSES[name]
    return cls(**{**params, **kw})


def ref(name, relevance, scores, **kw):
    _, fn, params = LOSSES[name]
    return fn(relevance, scores, **{**params, **kw})


def lists(n=40, size=9, levels=4, seed=0, mask=0.2):
    g = np.random.default_rng(seed)
    relevance = g.integers(0, levels, (n, size)).astype(float)
    scores = g.standard_normal((n, size))
    where = g.random((n, size)) >= mask
    return relevance, scores, where


def assert_close(actual, expected, rtol=1e-12, atol=1e-12):
    np.testing.assert_allclose(np.asarray(actual), np.asarray(expected), rtol=rtol, atol=atol)


# ---- against the NumPy reference and rax --------------------------------------------


@pytest.mark.parametrize("name", LOSSES)
def test_extreme_score_spreads_match_reference(name):
    # spreads beyond exp's range take the pair-by-pair path; tiny and huge pair losses
    relevance, scores, where = lists(n=12, size=7, seed=3)
    scores[0] *= 1000.0
    scores[1] = np.arange(7) * 60.0  # 360 apart at most: the exp(s - max) path
    scores[2] = -np.arange(7) * 60.0
    for masked in (None, where):
        value, grad = make(name, reduction="none").value_and_gradient(
            relevance, scores, where=masked)
        ref_value, ref_grad = ref(name, relevance, scores, where=masked, reduction="none")
        assert_close(value, ref_value, rtol=1e-12, atol=1e-300)
        assert_close(grad, ref_grad, rtol=1e-12, atol=1e-300)


def test_tiny_pair_losses_keep_relative_accuracy():
    scores = np.array([[50.0, 0.0], [700.0, 0.0], [0.5, 0.5 - 1e-9]])
    relevance = np.array([[1.0, 0.0]] * 3)
    values = fl.PairwiseLogistic(reduction="none")(relevance, scores)
    expected = [math.log1p(math.exp(-50.0)), math.log1p(math.exp(-700.0)),
                math.log1p(math.exp(-1e-9))]
    assert_close(values, expected, rtol=4e-16, atol=0)


def test_log1p_kernel_helper():
    kernels = _dispatch.load("ranking")
    for t in [0.0, 5e-324, 1e-300, 1e-17, 1e-8, 0.25, 0.4142135623730951, 1.0, 3.0, 1e8,
              2.0**53, 1e300]:
        assert kernels.log1p_nonneg(t) == pytest.approx(math.log1p(t), rel=2.3e-16, abs=0)
    g = np.random.default_rng(0)
    for t in np.exp(g.uniform(-700, 700, 2000)):
        assert kernels.log1p_nonneg(t) == pytest.approx(math.log1p(t), rel=3e-16, abs=0)


def test_rax_documented_values():
    scores = np.array([[2.0, 1.0, 3.0], [1.0, 0.5, 1.5]])
    labels = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    assert_close(fl.PairwiseHinge(reduction="none")(labels, scores), [2.0, 0.5])
    assert_close(fl.PairwiseLogistic(reduction="none")(labels, scores),
                 [1.6265235, 0.7873387], rtol=1e-7)
    assert_close(fl.ListwiseSoftmax(reduction="none")(labels, scores),
                 [1.4076059, 0.68026966], rtol=1e-7)


# ---- finite differences -------------------------------------------------------------


@pytest.mark.parametrize("name", LOSSES)
def test_gradient_and_hessian_finite_differences(name):
    relevance, scores, where = lists(n=6, size=8, seed=5)
    w = np.linspace(0.5, 2.0, 6)
    loss = make(name)
    grad, hess = loss.gradient_hessian(relevance, scores, where=where, sample_weight=w)
    h = 1e-6
    for i, j in zip(*np.nonzero(where), strict=True):
        plus, minus = scores.copy(), scores.copy()
        plus[i, j] += h
        minus[i, j] -= h
        fd = (loss(relevance, plus, where=where, sample_weight=w)
              - loss(relevance, minus, where=where, sample_weight=w)) / (2 * h)
        assert grad[i, j] == pytest.approx(fd, rel=1e-6, abs=1e-9)
        if name in EXACT_HESSIAN:
            g_plus = loss.gradient(relevance, plus, where=where, sample_weight=w)[i, j]
            g_minus = loss.gradient(relevance, minus, where=where, sample_weight=w)[i, j]
            assert hess[i, j] == pytest.approx((g_plus - g_minus) / (2 * h), rel=1e-5, abs=1e-8)
    assert not np.any(grad[~where]) and not np.any(hess[~where])


def test_hinge_hessian_surrogate_counts_pairs():
    relevance = np.array([[2.0, 1.0, 1.0, 0.0, 3.0]])
    where = np.array([[True, True, True, True, False]])
    loss = fl.PairwiseHinge(reduction="sum")
    assert not loss.exact_hessian and fl.PairwiseLogistic.exact_hessian
    _, hess = loss.gradient_hessian(relevance, np.zeros((1, 5)), where=where)
    assert_close(hess, [[3.0, 2.0, 2.0, 3.0, 0.0]])


# ---- masks, ties, degenerate lists -----------------------------------------------------


@pytest.mark.parametrize("name", LOSSES)
def test_mask_equals_slicing(name):
    relevance, scores, where = lists(n=30, size=10, seed=7, mask=0.35)
    relevance[~where] = np.nan  # never read
    scores[~where] = np.inf
    loss = make(name, reduction="none")
    values, grad = loss.value_and_gradient(relevance, scores, where=where)
    for i in range(len(scores)):
        keep = where[i]
        v, g = loss.value_and_gradient(relevance[i:i + 1, keep], scores[i:i + 1, keep])
        assert values[i] == v[0]
        np.testing.assert_array_equal(grad[i, keep], g[0])
        assert not np.any(grad[i, ~keep])


@pytest.mark.parametrize("name", LOSSES)
def test_lists_of_one_and_fully_masked(name):
    relevance = np.array([[2.0], [0.0]])
    scores = np.array([[0.3], [-1.0]])
    value, grad = make(name, reduction="none").value_and_gradient(relevance, scores)
    assert not np.any(value) and not np.any(grad)
    relevance, scores, _ = lists(n=3, size=5)
    where = np.zeros((3, 5), dtype=bool)
    value, grad = make(name).value_and_gradient(relevance, scores, where=where)
    assert value == 0.0 and not np.any(grad)


@pytest.mark.parametrize("name", ["hinge", "logistic", "lambda", "lambda@3"])
def test_pairwise_all_equal_relevance_is_zero(name):
    scores = np.random.default_rng(0).standard_normal((4, 6))
    value, grad = make(name).value_and_gradient(np.full((4, 6), 2.0), scores)
    assert value == 0.0 and not np.any(grad)


def test_listmle_ties_keep_index_order():
    g = np.random.default_rng(8)
    relevance = g.integers(0, 3, (20, 8)).astype(float)
    scores = g.standard_normal((20, 8))
    # break ties by index explicitly: relevance descending, then index ascending
    order = np.lexsort((np.arange(8)[None, :].repeat(20, 0), -relevance), axis=1)
    distinct = np.empty_like(relevance)
    np.put_along_axis(distinct, order, -np.arange(8.0)[None, :].repeat(20, 0), axis=1)
    loss = fl.ListMLE(reduction="none")
    np.testing.assert_array_equal(loss(relevance, scores), loss(distinct, scores))
    all_equal = loss(np.zeros((20, 8)), scores)
    np.testing.assert_array_equal(all_equal, loss(-np.arange(8.0)[None, :].repeat(20, 0), scores))


def test_softmax_without_relevance_is_zero():
    relevance = np.array([[0.0, 0.0, 0.0], [1.0, 1.0, 1.0]])
    scores = np.array([[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]])
    values, grad = fl.ListwiseSoftmax(reduction="none").value_and_gradient(relevance, scores)
    assert values[0] == 0.0 and not np.any(grad[0])
    lse = np.log(np.exp(scores[1]).sum())
    assert_close(values[1], np.mean(lse - scores[1]))


def test_lambda_rank_cutoff():
    relevance, scores, where = lists(n=20, size=8, seed=9)
    full = fl.LambdaRank()(relevance, scores, where=where)
    assert fl.LambdaRank(k=8)(relevance, scores, where=where) == full
    assert fl.LambdaRank(k=100)(relevance, scores, where=where) == full
    for k in (1, 5):
        value, grad = fl.LambdaRank(k=k).value_and_gradient(relevance, scores, where=where)
        ref_value, ref_grad = reference.lambda_rank(relevance, scores, k=k, where=where)
        assert_close(value, ref_value)
        assert_close(grad, ref_grad)
    grad, hess = fl.LambdaRank(k=3).gradient_hessian(relevance, scores, where=where)
    assert np.all(hess >= 0) and np.any(hess > 0)


def test_nan_scores_stay_in_their_list():
    relevance, scores, _ = lists(n=5, size=6, seed=10)
    scores[2, 1] = np.nan
    relevance[2] = [3, 2, 1, 0, 0, 1]
    for name in LOSSES:
        values, grad = make(name, reduction="none").value_and_gradient(relevance, scores)
        assert np.isnan(values[2]), name
        assert np.all(np.isfinite(np.delete(values, 2))) and np.all(np.isfinite(grad[[0, 1, 3, 4]]))


def test_empty_lists():
    """Lists of no items (n_lists > 0): every loss is 0 (the contract tests cover no lists)."""
    for name in LOSSES:
        value, grad = make(name).value_and_gradient(np.zeros((3, 0)), np.zeros((3, 0)))
        assert value == 0.0 and grad.shape == (3, 0)


# ---- kernel sets, bad input ---------------------------------------------------


KERNEL_SET_SCRIPT = """
import hashlib, numpy as np, fastloss as fl
g = np.random.default_rng(0)
rel = g.integers(0, 5, (300, 37)).astype(float)
s = g.standard_normal((300, 37))
s[3] *= 1000
where = g.random((300, 37)) > 0.1
h = hashlib.sha256()


def feed(result):
    if isinstance(result, tuple):
        for item in result:
            feed(item)
    else:
        h.update(np.asarray(result, dtype=np.float64).tobytes())


for loss in [fl.PairwiseHinge(), fl.PairwiseLogistic(), fl.ListwiseSoftmax(), fl.ListMLE(),
             fl.LambdaRank(k=5)]:
    feed(loss.value_and_gradient(rel, s, where=where))
    feed(loss.gradient_hessian(rel, s, where=where))
print(fl._kernels.dispatch.KERNEL_SET, h.hexdigest())
"""


def test_kernel_sets_give_the_same_bits():
    results = set()
    for forced in _dispatch.available():
        env = {**os.environ, "FASTLOSS_DISPATCH": forced}
        out = subprocess.run([sys.executable, "-P", "-c", KERNEL_SET_SCRIPT], env=env,
                             capture_output=True, text=True, check=True).stdout.split()
        assert out[0] == forced
        results.add(out[1])
    assert len(results) == 1


def test_bad_inputs():
    relevance, scores, where = lists(n=4, size=5)
    with pytest.raises(ValueError, match=r"relevance.shape=\(4, 4\) and scores.shape=\(4, 5\)"):
        fl.pairwise_logistic(relevance[:, :4], scores)
    with pytest.raises(ValueError, match="2-D"):
        fl.list_mle(relevance[0], scores[0])
    with pytest.raises(TypeError, match="where must be a boolean array"):
        fl.list_mle(relevance, scores, where=where.astype(int))
    with pytest.raises(ValueError, match=r"where.shape=\(4, 4\)"):
        fl.list_mle(relevance, scores, where=where[:, :4])
    bad = relevance.copy()
    bad[1, 2] = np.nan
    with pytest.raises(ValueError, match=r"finite; got .*nan.* at index \(1, 2\)"):
        fl.pairwise_hinge(bad, scores)
    assert np.isfinite(fl.pairwise_hinge(bad, scores, where=~np.isnan(bad)))
    negative = relevance.copy()
    negative[0, 0] = -1.0
    for fn in (fl.listwise_softmax, fl.lambda_rank):
        with pytest.raises(ValueError, match=r"(>= 0|1000.*); got .*-1.0.* at index \(0, 0\)"):
            fn(negative, scores)
    assert np.isfinite(fl.list_mle(negative, scores))
    with pytest.raises(ValueError, match="sample_weight must have shape"):
        fl.list_mle(relevance, scores, sample_weight=np.ones(5))
    for kw in ({"k": 0}, {"k": 2.5}, {"k": True}, {"k": 2**63}):
        with pytest.raises(ValueError, match="k must be"):
            fl.LambdaRank(**kw)
    huge = relevance.copy()
    huge[2, 1] = 1100.0  # 2^relevance - 1 overflows
    for rows in (huge, huge[2:3]):  # the general path and the small-call path
        with pytest.raises(ValueError, match=r"in \[0, 1000\].* got 1100.0"):
            fl.lambda_rank(rows, scores[2:3] if len(rows) == 1 else scores)
    huge[2, 1] = 1000.0
    assert np.isfinite(fl.lambda_rank(huge, scores))
    with pytest.raises(ValueError, match="margin"):
        fl.PairwiseHinge(margin=-1.0)


def test_repr_and_equality():
    assert repr(fl.LambdaRank(k=10, reduction="sum")) == "LambdaRank(k=10, reduction='sum')"
    assert fl.PairwiseHinge(margin=2.0) != fl.PairwiseHinge()
