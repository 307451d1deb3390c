"""Embedding losses: Contrastive, Triplet and BatchTriplet against PyTorch's
definitions, finite differences, tie-breaking, parallel mining and their documented
edge cases. (The contract tests, tests/test_contract.py, compare every loss with
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

REDUCTIONS = ("mean", "sum", "none")
STRATEGIES = ("hard", "semihard", "all")


def rng(seed=0):
    return np.random.default_rng(seed)


def assert_close(actual, expected, rtol=1e-12, atol=1e-12):
    np.testing.assert_allclose(np.asarray(actual), np.asarray(expected), rtol=rtol, atol=atol)


def pairs(n=40, dim=6, seed=0):
    g = rng(seed)
    x1, x2 = g.standard_normal((2, n, dim))
    same = g.integers(0, 2, n).astype(float)
    return same, x1, x2


def triplets(n=40, dim=6, seed=0):
    return tuple(rng(seed).standard_normal((3, n, dim)))


def batch(n=48, dim=5, classes=4, seed=0):
    g = rng(seed)
    return g.integers(0, classes, n), g.standard_normal((n, dim))


def numeric_gradient(f, arrays, index, coords, h=1e-6):
    """Central differences of f(*arrays) wrt arrays[index] at the given (row, col)."""
    out = []
    for r, c in coords:
        plus = [a.copy() for a in arrays]
        minus = [a.copy() for a in arrays]
        plus[index][r, c] += h
        minus[index][r, c] -= h
        out.append((f(*plus) - f(*minus)) / (2 * h))
    return np.array(out)


def some_coords(shape, k=12, seed=1):
    g = rng(seed)
    return list(zip(g.integers(0, shape[0], k), g.integers(0, shape[1], k), strict=True))


# ---- against the NumPy reference and across kernel sets --------------------------


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_batch_triplet_ties_go_to_the_lowest_index(strategy):
    # integer points: exact Gram distances with many ties
    g = rng(13)
    for _ in range(10):
        n = int(g.integers(4, 60))
        x = g.integers(-2, 3, (n, 3)).astype(float)
        labels = g.integers(0, 4, n)
        value, grad = fl.BatchTriplet(strategy=strategy).value_and_gradient(labels, x)
        ref_value, ref_grad = reference.batch_triplet(labels, x, 1.0, strategy)
        assert_close(value, ref_value)
        assert_close(grad, ref_grad)


KERNEL_SET_SCRIPT = """
import hashlib, numpy as np, fastloss as fl
g = np.random.default_rng(0)
h = hashlib.sha256()


def feed(result):
    if isinstance(result, tuple):
        for item in result:
            feed(item)
    else:
        h.update(np.asarray(result, dtype=np.float64).tobytes())


a, p, n = g.standard_normal((3, 700, 37)).astype(np.float32)
for loss in [fl.Triplet(), fl.Triplet(p=3.0, swap=True)]:
    feed(loss.value_and_gradient(a, p, n))
    feed(loss.gradient_hessian(a, p, n))
feed(fl.Contrastive().gradient_hessian(g.integers(0, 2, 700), a, p))
x = g.integers(-2, 3, (301, 5)).astype(np.float32)
labels = g.integers(0, 6, 301)
for s in ["hard", "semihard", "all"]:
    feed(fl.BatchTriplet(strategy=s).value_and_gradient(labels, x))
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


# ---- PyTorch's definitions ----------------------------------------------------------


@pytest.mark.parametrize("p", [1.0, 1.5, 2.0, 3.0])
@pytest.mark.parametrize("swap", [False, True])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_triplet_matches_torch(p, swap, reduction):
    torch = pytest.importorskip("torch")
    a, pos, neg = triplets(n=64, dim=9, seed=5)
    tensors = [torch.tensor(v, requires_grad=True) for v in (a, pos, neg)]
    out = torch.nn.functional.triplet_margin_loss(
        *tensors, margin=0.8, p=p, swap=swap, eps=1e-6, reduction=reduction)
    out.sum().backward()
    loss = fl.Triplet(margin=0.8, p=p, swap=swap, reduction=reduction)
    value = loss(a, pos, neg)
    grads = loss.gradient(a, pos, neg)
    assert_close(value, out.detach().numpy(), rtol=1e-12, atol=1e-12)
    for g, t in zip(grads, tensors, strict=True):
        assert_close(g if reduction != "none" else g, t.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_contrastive_matches_torch_autograd():
    torch = pytest.importorskip("torch")
    same, x1, x2 = pairs(n=50, dim=7, seed=6)
    x2[0] = x1[0]  # d = 0: the dissimilar term's gradient is 0, as torch's norm gives
    same[0] = 0.0
    t1, t2 = (torch.tensor(v, requires_grad=True) for v in (x1, x2))
    s = torch.tensor(same)
    d = torch.linalg.vector_norm(t1 - t2, dim=1)
    values = s * d**2 + (1 - s) * torch.clamp(1.3 - d, min=0) ** 2
    values.mean().backward()
    value, (g1, g2) = fl.Contrastive(margin=1.3).value_and_gradient(same, x1, x2)
    assert_close(value, values.mean().item())
    assert_close(g1, t1.grad.numpy())
    assert_close(g2, t2.grad.numpy())


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("margin", [0.0, 0.4, -0.3])
def test_cosine_embedding_matches_torch(reduction, margin):
    torch = pytest.importorskip("torch")
    _, x1, x2 = pairs(n=60, dim=7, seed=10)
    target = np.where(rng(11).random(60) < 0.5, 1.0, -1.0)
    x2[:3] = 2.0 * x1[:3]  # cos = 1
    x2[3:6] = -x1[3:6]  # cos = -1
    t1, t2 = (torch.tensor(v, requires_grad=True) for v in (x1, x2))
    out = torch.nn.functional.cosine_embedding_loss(t1, t2, torch.tensor(target),
                                                    margin=margin, reduction=reduction)
    out.sum().backward()
    loss = fl.CosineEmbedding(margin=margin, reduction=reduction)
    value, (g1, g2) = loss.value_and_gradient(target, x1, x2)
    assert_close(value, out.detach().numpy(), rtol=1e-12, atol=1e-12)
    assert_close(g1, t1.grad.numpy(), rtol=1e-12, atol=1e-12)
    assert_close(g2, t2.grad.numpy(), rtol=1e-12, atol=1e-12)
    f32 = loss.value_and_gradient(target, x1.astype(np.float32), x2.astype(np.float32))
    assert f32[1][0].dtype == np.float32
    assert_close(f32[0], out.detach().numpy(), rtol=1e-6, atol=1e-6)


# ---- finite differences -------------------------------------------------------------


def test_cosine_embedding_gradient_and_hessian_finite_differences():
    _, x1, x2 = pairs(n=30, dim=5, seed=12)
    target = np.where(rng(13).random(30) < 0.5, 1.0, -1.0)
    loss = fl.CosineEmbedding(margin=-0.5, reduction="sum")
    arrays = [target, x1, x2]
    grads, hessians = loss.gradient_hessian(*arrays)
    for index in (0, 1):
        coords = some_coords(x1.shape, seed=index)

        def value(x1_, x2_):
            return loss(target, x1_, x2_)

        def grad_entry(x1_, x2_, r, c, index=index):
            return loss.gradient(target, x1_, x2_)[index][r, c]

        expected = numeric_gradient(value, [x1, x2], index, coords)
        assert_close([grads[index][r, c] for r, c in coords], expected, rtol=1e-6, atol=1e-9)
        hess_fd = [numeric_gradient(lambda u, v, r=r, c=c: grad_entry(u, v, r, c),
                                    [x1, x2], index, [(r, c)])[0] for r, c in coords]
        assert_close([hessians[index][r, c] for r, c in coords], hess_fd, rtol=1e-5, atol=1e-7)


def test_cosine_embedding_of_a_zero_vector_is_finite():
    """torch's epsilon on the squared norms: cos = 0, a finite (large) gradient."""
    x = np.array([[0.0, 0.0], [0.0, 0.0]])
    y = np.array([[3.0, 4.0], [3.0, 4.0]])
    values, grads = fl.CosineEmbedding(margin=-0.25, reduction="none").value_and_gradient(
        [1, -1], x, y)
    np.testing.assert_array_equal(values, [1.0, 0.25])
    assert all(np.isfinite(g).all() for g in grads)


def test_cosine_similarity_is_keras_at_small_norms():
    """Keras normalizes x * min(1 / |x|, 1e7): below |x| = 1e-7 the norm is constant."""
    t = np.array([[3.0, 4.0], [3.0, 4.0], [1e-9, 0.0], [0.0, 0.0]])
    z = np.array([[0.0, 0.0], [3e-8, 4e-8], [1.0, 1.0], [1.0, 2.0]])
    loss = fl.CosineSimilarity(reduction="none")
    values, grad = loss.value_and_gradient(t, z)
    np.testing.assert_allclose(values, [0.0, -0.5, -1e-9 / 1e-7 / np.sqrt(2.0), 0.0],
                               rtol=1e-12)
    np.testing.assert_allclose(grad[:2], [[-0.6e7, -0.8e7]] * 2, rtol=1e-12)
    assert np.isnan(loss(t[:1], [[np.nan, 1.0]]))


def test_cosine_embedding_bad_input():
    _, x1, x2 = pairs(n=4, dim=3)
    with pytest.raises(ValueError, match=r"target must be 1 or -1; got \S*0\.0\S* at index 2"):
        fl.cosine_embedding([1, -1, 0, 1], x1, x2)
    with pytest.raises(ValueError, match=r"shape \(4,\)"):
        fl.cosine_embedding([1, -1], x1, x2)
    with pytest.raises(ValueError, match="margin"):
        fl.CosineEmbedding(margin=np.nan)


def test_contrastive_gradient_and_hessian_finite_differences():
    same, x1, x2 = pairs(n=30, dim=5, seed=7)
    same[:8] = 0.4
    w = rng(8).uniform(0.5, 2, 30)
    loss = fl.Contrastive(margin=3.0)
    grads, hessians = loss.gradient_hessian(same, x1, x2, sample_weight=w)
    for index in (0, 1):
        coords = some_coords(x1.shape)

        def value(x1_, x2_):
            return loss(same, x1_, x2_, sample_weight=w)

        def grad_entry(x1_, x2_, r, c, index=index):
            return loss.gradient(same, x1_, x2_, sample_weight=w)[index][r, c]

        expected = numeric_gradient(value, [x1, x2], index, coords)
        assert_close([grads[index][r, c] for r, c in coords], expected, rtol=1e-6, atol=1e-9)
        hess_fd = [numeric_gradient(lambda u, v, r=r, c=c: grad_entry(u, v, r, c),
                                    [x1, x2], index, [(r, c)])[0] for r, c in coords]
        assert_close([hessians[index][r, c] for r, c in coords], hess_fd, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("p", [1.5, 2.0, 3.0])
@pytest.mark.parametrize("swap", [False, True])
def test_triplet_gradient_and_hessian_finite_differences(p, swap):
    a, pos, neg = triplets(n=30, dim=5, seed=9)
    loss = fl.Triplet(margin=2.0, p=p, swap=swap, reduction="sum")
    assert loss.exact_hessian
    arrays = [a, pos, neg]
    grads, hessians = loss.gradient_hessian(*arrays)
    for index in range(3):
        coords = some_coords(a.shape, seed=index)
        expected = numeric_gradient(loss, arrays, index, coords)
        assert_close([grads[index][r, c] for r, c in coords], expected, rtol=1e-6, atol=1e-8)
        hess_fd = [
            numeric_gradient(lambda *xs, r=r, c=c, i=index: loss.gradient(*xs)[i][r, c],
                             arrays, index, [(r, c)])[0]
            for r, c in coords
        ]
        assert_close([hessians[index][r, c] for r, c in coords], hess_fd, rtol=1e-5, atol=1e-7)


def test_triplet_p1_hessian_is_a_documented_surrogate():
    a, pos, neg = triplets(n=10, dim=3)
    loss = fl.Triplet(p=1.0, reduction="mean")
    assert not loss.exact_hessian and fl.Triplet.exact_hessian
    w = np.arange(10.0)
    _, hessians = loss.gradient_hessian(a, pos, neg, sample_weight=w)
    for h in hessians:
        assert_close(h, np.repeat(w[:, None] / w.sum(), 3, axis=1))


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_batch_triplet_gradient_and_hessian_finite_differences(strategy):
    labels, x = batch(n=24, dim=4, classes=3, seed=11)
    loss = fl.BatchTriplet(margin=1.0, strategy=strategy)
    grad, hess = loss.gradient_hessian(labels, x)
    assert np.abs(grad).max() > 0
    coords = some_coords(x.shape, k=16)

    def value(x_):
        return loss(labels, x_)

    expected = numeric_gradient(value, [x], 0, coords, h=1e-7)
    assert_close([grad[r, c] for r, c in coords], expected, rtol=1e-5, atol=1e-8)
    hess_fd = [numeric_gradient(lambda x_, r=r, c=c: loss.gradient(labels, x_)[r, c],
                                [x], 0, [(r, c)], h=1e-7)[0] for r, c in coords]
    assert_close([hess[r, c] for r, c in coords], hess_fd, rtol=1e-4, atol=1e-6)


# ---- parallel mining, dtypes ----------------------------------------------------


def test_mining_helpers_in_parallel_give_the_same_bits():
    # sizes above the parallel threshold of the O(n dim) helpers of batch mining (2^24)
    kernels = _dispatch.load("embedding")
    g = rng(31)
    x = g.standard_normal((1000, 128))
    m = 1 << 17
    src, dst = g.integers(0, 1000, m), g.integers(0, 1000, m)
    coef = g.standard_normal(m)
    wide = g.standard_normal((4096, 4096)).astype(np.float32)
    results = []
    for t in (1, 2, 3):
        lengths = kernels.pair_distances(x, src, dst, t)
        results.append((lengths, *kernels.edges_apply(x, src, dst, coef, lengths, True, t),
                        kernels.sq_norms(wide, t)))
    for result in results[1:]:
        for got, want in zip(result, results[0], strict=True):
            np.testing.assert_array_equal(got, want)
    np.testing.assert_allclose(results[0][0], np.linalg.norm(x[src] - x[dst], axis=1),
                               rtol=1e-12)
    np.testing.assert_allclose(results[0][3], (wide.astype(np.float64) ** 2).sum(axis=1),
                               rtol=1e-6)


def test_hard_mining_in_parallel_matches_numpy_and_any_thread_count():
    # n = 8192 anchors: mining runs in parallel, bands of Gram rows per thread. Integer
    # points give exact Gram entries and many ties (the lowest index must win).
    from fastloss._kernels import dispatch as _dispatch
    from fastloss.embedding import _lower_gram

    g = rng(29)
    n = 8192
    x = g.integers(-2, 3, (n, 3)).astype(np.float64)
    labels = g.integers(0, 50, n).astype(np.int64)
    labels[:3] = [50, 51, 51]  # one anchor without positives
    sq = (x * x).sum(axis=1)
    kernels = _dispatch.load("embedding")
    lower = _lower_gram(x)
    mined = [kernels.mine_hard(lower, sq, labels, t) for t in (1, 2, 3)]
    for pos, neg in mined[1:]:
        np.testing.assert_array_equal(pos, mined[0][0])
        np.testing.assert_array_equal(neg, mined[0][1])
    want_pos, want_neg = np.empty(n, np.int64), np.empty(n, np.int64)
    for start in range(0, n, 1024):
        rows = slice(start, start + 1024)
        d2 = np.maximum(sq[rows, None] + sq[None, :] - 2.0 * (x[rows] @ x.T), 0.0)
        same = labels[rows, None] == labels[None, :]
        same[np.arange(d2.shape[0]), np.arange(start, start + d2.shape[0])] = False
        other = labels[rows, None] != labels[None, :]
        want_pos[rows] = np.where(same.any(1), np.where(same, d2, -1.0).argmax(1), -1)
        want_neg[rows] = np.where(other.any(1), np.where(other, d2, np.inf).argmin(1), -1)
    np.testing.assert_array_equal(mined[0][0], want_pos)
    np.testing.assert_array_equal(mined[0][1], want_neg)
    assert want_pos[0] == -1


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_out_may_be_any_of_the_inputs(dtype):
    """out[i] may be input i itself or another input's memory; the kernels read every
    input while they write, so they never write into another input's memory."""
    rng = np.random.default_rng(1)  # rows where swap picks d(positive, negative)
    A, P, N = (rng.normal(0, 1, (5, 8)).astype(dtype) for _ in range(3))
    loss = fl.Triplet(margin=3.0, swap=True, reduction="sum")
    expected = loss.gradient(A, P, N)
    for order in ((0, 1, 2), (1, 0, 2), (2, 0, 1), (1, 2, 0)):
        inputs = [A.copy(), P.copy(), N.copy()]
        got = loss.gradient(*inputs, out=tuple(inputs[j] for j in order))
        for g, e in zip(got, expected, strict=True):
            np.testing.assert_array_equal(g, e)
    same = rng.integers(0, 2, 5).astype(dtype)
    pair = fl.Contrastive(margin=2.0, reduction="sum")
    expected = pair.gradient(same, A, P)
    x1, x2 = A.copy(), P.copy()
    for g, e in zip(pair.gradient(same, x1, x2, out=(x2, x1)), expected, strict=True):
        np.testing.assert_array_equal(g, e)
    x1 = A.copy()
    with pytest.raises(ValueError, match="must not share memory"):
        pair.gradient(same, x1, P, out=(x1, x1))


def test_flags_take_numpy_bools():
    assert fl.Triplet(swap=np.bool_(True)).swap is True
    assert fl.Poisson(log_input=np.bool_(False)).log_input is False
    with pytest.raises(ValueError, match="swap must be True or False"):
        fl.Triplet(swap=1)


def test_mixed_and_integer_dtypes():
    same, x1, x2 = pairs()
    x32 = x1.astype(np.float32)
    g1, g2 = fl.Contrastive().gradient(same, x32, x2)  # mixed: computed in float64
    assert g1.dtype == np.float32 and g2.dtype == np.float64
    assert_close(g2, reference.contrastive(same, x32.astype(float), x2)[1][1])
    ints = (x1 * 10).astype(np.int64), (x2 * 10).astype(np.int32)
    g1, g2 = fl.Contrastive().gradient(same, *ints)
    assert g1.dtype == g2.dtype == np.float64


# ---- edge cases ----------------------------------------------------------------------


def test_single_row_and_zero_dim():
    a, p, n = triplets(n=1, dim=3)
    value, grads = fl.Triplet().value_and_gradient(a, p, n)
    ref_value, ref_grads = reference.triplet(a, p, n)
    assert_close(value, ref_value)
    zero = np.zeros((3, 0))
    assert fl.Triplet(margin=0.5)(zero, zero, zero) == 0.5
    assert fl.Contrastive(margin=2.0)([0, 0, 1], zero, zero) == pytest.approx(8.0 / 3)


def test_contrastive_at_zero_distance():
    x = rng().standard_normal((4, 3))
    same = np.array([0.0, 1.0, 0.5, 0.0])
    value, (g1, g2) = fl.Contrastive(margin=2.0, reduction="none").value_and_gradient(same, x, x)
    assert_close(value, (1 - same) * 4.0)
    assert not np.any(g1) and not np.any(g2)
    _, (h1, h2) = fl.Contrastive(margin=2.0, reduction="sum").gradient_hessian(same, x, x)
    assert_close(h1, np.repeat(2 * same[:, None], 3, axis=1))


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_batch_triplet_without_triplets_is_zero(strategy):
    x = rng().standard_normal((6, 3))
    for labels in (np.zeros(6, dtype=int), np.arange(6)):  # one class; singletons
        loss = fl.BatchTriplet(strategy=strategy)
        value, grad = loss.value_and_gradient(labels, x)
        assert value == 0.0 and not np.any(grad)
        assert fl.BatchTriplet(strategy=strategy, reduction="sum")(labels, x) == 0.0
        assert not np.any(fl.BatchTriplet(strategy=strategy, reduction="none")(labels, x))
    # "all" with every triplet satisfied: no triplet with positive loss
    labels = np.array([0, 0, 1, 1])
    far = np.array([[0.0], [0.1], [10.0], [10.1]])
    assert fl.BatchTriplet(strategy="all", margin=1.0)(labels, far) == 0.0


def test_batch_triplet_hard_is_mean_over_valid_anchors():
    labels = np.array([0, 0, 1, 1, 2])  # anchor 4 has no positive
    x = np.array([[0.0], [1.0], [0.5], [3.0], [7.0]])
    value = fl.BatchTriplet(margin=1.0, strategy="hard")(labels, x)
    per_anchor = fl.BatchTriplet(margin=1.0, strategy="hard", reduction="none")(labels, x)
    assert per_anchor[4] == 0.0
    assert value == pytest.approx(per_anchor[:4].sum() / 4)


def test_batch_triplet_zero_weights():
    labels, x = batch(n=10)
    with pytest.raises(ValueError, match="summing to 0"):
        fl.BatchTriplet()(labels, x, sample_weight=np.zeros(10))
    w = np.zeros(10)
    w[labels == labels[0]] = 1.0
    assert fl.BatchTriplet(reduction="sum")(labels, x, sample_weight=w) >= 0


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_batch_triplet_near_duplicates_use_exact_distances(strategy, dtype):
    # Norms ~400 and distances ~6: |x_a|^2 + |x_j|^2 - 2 G_aj cancels 4 digits, which
    # float32 cannot spare; every anchor's positive is its exact duplicate.
    base = (100 + rng(12).standard_normal((5, 16))).astype(dtype)
    x = np.concatenate([base, base])
    labels = np.arange(10) % 5
    loss = fl.BatchTriplet(strategy=strategy, margin=10.0, reduction="none")
    values, grad = loss.value_and_gradient(labels, x)
    x64 = x.astype(np.float64)
    dist = np.linalg.norm(x64[:, None] - x64[None, :], axis=-1)
    negatives = np.where(labels[:, None] != labels[None, :], dist, np.nan)
    if strategy == "all":  # every triplet is within the margin
        expected = np.nansum(10.0 - negatives, axis=1)
    else:  # d(a, p) = 0: the closest negative for both rules
        expected = 10.0 - np.nanmin(negatives, axis=1)
    assert_close(values, expected, rtol=1e-6 if dtype == np.float32 else 1e-10)
    assert np.all(np.isfinite(grad))


@pytest.mark.parametrize("loss, args", [
    (fl.Contrastive(), "pairs"), (fl.CosineEmbedding(), "pairs"), (fl.Triplet(), "triplets"),
    (fl.BatchTriplet(), "batch"), (fl.BatchTriplet(strategy="all"), "batch"),
])
def test_nan_embeddings_give_nan(loss, args):
    if args == "pairs":
        arrays = list(pairs(n=5, dim=3))
        arrays[1][2, 1] = np.nan
        if isinstance(loss, fl.CosineEmbedding):
            arrays[0] = 2.0 * arrays[0] - 1.0  # targets 1 and -1
    elif args == "triplets":
        arrays = list(triplets(n=5, dim=3))
        arrays[0][2, 1] = np.nan
    else:
        arrays = list(batch(n=8, dim=3, classes=2))
        arrays[1][2, 1] = np.nan
    value, grads = loss.value_and_gradient(*arrays)
    assert np.isnan(value)
    none = type(loss)(**{**loss.get_params(), "reduction": "none"})(*arrays)
    if isinstance(loss, fl.BatchTriplet):
        assert np.all(np.isnan(none)) and np.all(np.isnan(grads))  # mining is undefined
    else:
        assert np.isnan(none[2]) and np.all(np.isfinite(np.delete(none, 2)))
        assert all(np.all(np.isnan(g[2])) for g in grads)
        assert all(np.all(np.isfinite(np.delete(g, 2, axis=0))) for g in grads)


def test_bad_inputs():
    same, x1, x2 = pairs(n=5, dim=3)
    with pytest.raises(ValueError, match=r"x1.shape=\(5, 3\), x2.shape=\(4, 3\)"):
        fl.contrastive(same, x1, x2[:4])
    with pytest.raises(ValueError, match="2-D"):
        fl.triplet(x1[0], x1[0], x1[0])
    with pytest.raises(ValueError, match=r"same must have shape \(5,\)"):
        fl.contrastive(same[:3], x1, x2)
    with pytest.raises(ValueError, match=r"same must be in \[0, 1\]; got .*2.0.* at index 1"):
        fl.contrastive([0, 2, 0, 1, 1], x1, x2)
    with pytest.raises(ValueError, match="sample_weight must have shape"):
        fl.contrastive(same, x1, x2, sample_weight=np.ones(3))
    with pytest.raises(ValueError, match="finite and >= 0"):
        fl.triplet(x1, x1, x2, sample_weight=-np.ones(5))
    with pytest.raises(TypeError, match="real numbers"):
        fl.triplet(x1.astype(complex), x1, x2)
    with pytest.raises(TypeError, match="labels must hold integers"):
        fl.batch_triplet(np.zeros(5), x1)
    with pytest.raises(ValueError, match=r"labels must have shape \(5,\)"):
        fl.batch_triplet(np.zeros(4, dtype=int), x1)
    for cls, kw in [(fl.Contrastive, {"margin": -1.0}), (fl.Triplet, {"p": 0.5}),
                    (fl.Triplet, {"eps": float("nan")}), (fl.Triplet, {"swap": 1}),
                    (fl.BatchTriplet, {"strategy": "easy"}),
                    (fl.BatchTriplet, {"margin": float("inf")})]:
        with pytest.raises(ValueError, match=next(iter(kw))):
            cls(**kw)


def test_repr_and_equality():
    loss = fl.Triplet(margin=0.5, p=3.0, swap=True, reduction="sum")
    assert repr(loss) == "Triplet(margin=0.5, p=3.0, swap=True, eps=1e-06, reduction='sum')"
    assert fl.BatchTriplet(strategy="all") != fl.BatchTriplet()


# ---- SupCon and InfoNCE ----------------------------------------------------------------

def torch_grads(torch, fn, arrays, wrt):
    """(value, gradients wrt arrays[i] for i in wrt) of fn's torch loss."""
    tensors = [torch.tensor(a, requires_grad=i in wrt) if a.dtype.kind == "f"
               else torch.tensor(a) for i, a in enumerate(arrays)]
    loss = fn(*tensors)
    grads = torch.autograd.grad(loss, [tensors[i] for i in wrt])
    return loss.item(), [g.numpy() for g in grads]


@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-10), (np.float32, 1e-5)])
@pytest.mark.parametrize("temperature", [0.07, 0.5])
def test_supcon_matches_torch(dtype, rtol, temperature):
    torch = pytest.importorskip("torch")
    from fastloss._cli.bench import torch_supcon
    labels, x = batch(n=300, dim=9)  # 300 rows: two blocks of anchors
    x = x.astype(dtype)
    labels[0] = 99  # an anchor without a positive: left out of the mean
    expected, (grad,) = torch_grads(
        torch, lambda lab, e: torch_supcon(lab, e, temperature), (labels, x), (1,))
    value, ours = fl.SupCon(temperature=temperature).value_and_gradient(labels, x)
    assert ours.dtype == dtype
    assert value == pytest.approx(expected, rel=rtol)
    assert_close(ours, grad, rtol=0, atol=rtol * np.abs(grad).max())


@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-10), (np.float32, 1e-5)])
def test_info_nce_matches_torch_nt_xent(dtype, rtol):
    torch = pytest.importorskip("torch")
    from fastloss._cli.bench import torch_nt_xent
    g = rng(3)
    z1 = g.standard_normal((200, 16))
    z1[0] = 0.0  # a zero embedding: normalized by max(|z|, 1e-12), as torch
    z2 = z1 + 0.5 * g.standard_normal((200, 16))
    z1, z2 = z1.astype(dtype), z2.astype(dtype)
    expected, grads = torch_grads(torch, lambda a, b: torch_nt_xent(a, b, 0.2), (z1, z2),
                                  (0, 1))
    value, ours = fl.InfoNCE(temperature=0.2).value_and_gradient(z1, z2)
    assert value == pytest.approx(expected, rel=rtol)
    for mine, theirs in zip(ours, grads, strict=True):
        assert mine.dtype == dtype
        assert_close(mine, theirs, rtol=0, atol=rtol * np.abs(theirs).max())


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_contrast_many_blocks_match_reference(dtype):
    """600 anchors: three blocks of the similarity matrix, weighted."""
    labels, x = batch(n=600, dim=7, classes=40, seed=5)
    w = rng(6).uniform(0.1, 2.0, 600)
    for reduction in REDUCTIONS:
        loss = fl.SupCon(temperature=0.3, reduction=reduction)
        if reduction == "none":
            expected = reference.supcon(labels, x, 0.3, w, "none")[0]
            assert_close(loss(labels, x.astype(dtype), sample_weight=w), expected,
                         rtol=1e-10 if dtype == np.float64 else 1e-5)
            continue
        value, grad = loss.value_and_gradient(labels, x.astype(dtype), sample_weight=w)
        ref_value, ref_grad = reference.supcon(labels, x, 0.3, w, reduction)
        tol = 1e-10 if dtype == np.float64 else 1e-5
        assert value == pytest.approx(ref_value, rel=tol)
        assert_close(grad, ref_grad, rtol=0, atol=tol * np.abs(ref_grad).max())


def test_contrast_gradients_match_finite_differences():
    labels, x = batch(n=30, dim=4, classes=5, seed=2)
    loss = fl.SupCon(temperature=0.4, reduction="sum")
    coords = some_coords(x.shape)
    numeric = numeric_gradient(lambda lab, e: loss(lab, e), [labels, x], 1, coords)
    grad = loss.gradient(labels, x)
    assert_close([grad[r, c] for r, c in coords], numeric, rtol=1e-6, atol=1e-8)
    z1, z2 = rng(4).standard_normal((2, 20, 3))
    nce = fl.InfoNCE(temperature=0.3)
    g1, g2 = nce.gradient(z1, z2)
    for index, grad in ((0, g1), (1, g2)):
        numeric = numeric_gradient(nce, [z1, z2], index, some_coords(z1.shape))
        assert_close([grad[r, c] for r, c in some_coords(z1.shape)], numeric, rtol=1e-6,
                     atol=1e-8)


def test_contrast_closed_forms_at_the_extremes():
    # identical embeddings: every similarity equal, l = log(n - 1), no gradient
    x = np.ones((6, 3))
    value, grad = fl.SupCon().value_and_gradient([0, 0, 1, 1, 2, 2], x)
    assert value == pytest.approx(math.log(5), rel=1e-14)
    assert_close(grad, np.zeros_like(x), atol=1e-12)
    # two orthogonal classes of identical rows at temperature 1e-3: logits of 1000;
    # l = log(k + m e^(-1000)) - 0 = log(k) (k positives, m negatives)
    e = np.repeat(np.eye(2), [3, 4], axis=0)
    labels = np.repeat([0, 1], [3, 4])
    values = fl.SupCon(temperature=1e-3, reduction="none")(labels, e)
    assert_close(values, np.log(np.repeat([2.0, 3.0], [3, 4])), rtol=1e-15)
    # a perfect match far from the negatives in InfoNCE: the loss underflows to 0
    assert fl.InfoNCE(temperature=1e-3)(np.eye(3), np.eye(3)) == pytest.approx(0.0, abs=1e-300)


def test_contrast_without_positives_and_with_nan():
    loss = fl.SupCon()
    x = rng(0).standard_normal((4, 3))
    value, grad = loss.value_and_gradient([0, 1, 2, 3], x)  # no anchor has a positive
    assert value == 0.0 and not grad.any()
    assert loss.weight_total([0, 1, 2, 3], x) == 0.0
    x[1, 2] = np.nan
    value, grad = loss.value_and_gradient([0, 0, 1, 1], x)
    assert math.isnan(value) and np.isnan(grad).all()
    value, (g1, g2) = fl.InfoNCE().value_and_gradient(x, x + 1.0)
    assert math.isnan(value) and np.isnan(g1).all() and np.isnan(g2).all()


def test_contrast_bad_input():
    for bad in (0.0, -1.0, np.inf, np.nan, "0.1", True, 1e-320):
        with pytest.raises(ValueError, match="temperature"):
            fl.SupCon(temperature=bad)
        with pytest.raises(ValueError, match="temperature"):
            fl.InfoNCE(temperature=bad)
    x = np.ones((4, 3))
    with pytest.raises(TypeError, match="integers"):
        fl.supcon([0.5, 0, 1, 1], x)
    with pytest.raises(ValueError, match=r"shape \(4,\)"):
        fl.supcon([0, 1], x)
    with pytest.raises(ValueError, match="2-D"):
        fl.supcon([0, 1, 1, 0], np.ones(4))
    with pytest.raises(ValueError, match="same shape"):
        fl.info_nce(x, np.ones((3, 3)))
    with pytest.raises(ValueError, match="sample_weight"):
        fl.info_nce(x, x, sample_weight=np.ones(8))


# ---- ArcFace and CosFace ---------------------------------------------------------------

def faces(n=120, classes=11, dim=6, seed=0):
    g = rng(seed)
    centres = g.standard_normal((classes, dim))
    labels = g.integers(0, classes, n)
    return labels, centres[labels] + g.normal(0.0, 0.9, (n, dim)), centres


@pytest.mark.parametrize("cls", [fl.ArcFace, fl.CosFace])
@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-10), (np.float32, 1e-5)])
def test_margin_losses_match_torch(cls, dtype, rtol):
    torch = pytest.importorskip("torch")
    from fastloss._cli.bench import torch_margin_softmax
    labels, x, centres = faces()
    x[0] = centres[labels[0]] * 3.0  # theta = 0: the angle's derivative term is 0
    x[1] = -centres[labels[1]]  # theta = pi: ArcFace's linear continuation
    loss = cls(scale=16.0)
    arc = cls is fl.ArcFace
    w = rng(9).uniform(0.2, 2.0, len(labels))

    def formula(lab, e, c):
        values = torch_margin_softmax(lab, e, c, loss.scale, loss.margin, arc)
        weights = torch.tensor(w, dtype=values.dtype)
        return (weights * values).sum() / weights.sum()

    expected, grads = torch_grads(torch, formula, (labels, x.astype(dtype),
                                                   centres.astype(dtype)), (1, 2))
    value, ours = loss.value_and_gradient(labels, x.astype(dtype), centres.astype(dtype),
                                          sample_weight=w)
    assert value == pytest.approx(expected, rel=rtol)
    for mine, theirs in zip(ours, grads, strict=True):
        assert mine.dtype == dtype and np.isfinite(mine).all()
        # torch's ArcFace gradient is NaN at theta = 0 (sqrt's derivative at 0): sample
        # 0's embedding and its class centre
        known = np.isfinite(theirs)
        assert known.sum() >= theirs.size - 2 * theirs.shape[1]
        assert_close(mine[known], theirs[known], rtol=0,
                     atol=rtol * np.abs(theirs[known]).max())


def test_margin_losses_over_many_blocks_and_finite_differences():
    """70000 classes: blocks of 16 rows; float64 against the reference."""
    labels, x, centres = faces(n=40, classes=70000, dim=3, seed=4)
    for cls, shortcut in ((fl.ArcFace, "arcface"), (fl.CosFace, "cosface")):
        value, grads = cls(scale=10.0, reduction="sum").value_and_gradient(labels, x, centres)
        ref_value, ref_grads = getattr(reference, shortcut)(labels, x, centres, 10.0,
                                                            reduction="sum")
        assert value == pytest.approx(ref_value, rel=1e-11)
        for mine, theirs in zip(grads, ref_grads, strict=True):
            assert_close(mine, theirs, rtol=0, atol=1e-11 * np.abs(theirs).max())
    labels, x, centres = faces(n=15, classes=4, dim=3, seed=5)
    for cls in (fl.ArcFace, fl.CosFace):
        loss = cls(scale=5.0)
        g_x, g_c = loss.gradient(labels, x, centres)
        for index, grad, shape in ((1, g_x, x.shape), (2, g_c, centres.shape)):
            coords = some_coords(shape, seed=index)
            numeric = numeric_gradient(loss, [labels, x, centres], index, coords)
            assert_close([grad[r, c] for r, c in coords], numeric, rtol=1e-6, atol=1e-8)


def test_margin_losses_closed_forms():
    # the embedding on its centre, the other centre orthogonal:
    # ArcFace l = log(1 + e^(s (0 - cos m))) ... with the true logit s cos(m)
    e, c = [[2.0, 0.0]], [[1.0, 0.0], [0.0, 1.0]]
    for m in (0.2, 0.5, 1.0):
        assert fl.arcface([0], e, c, scale=3.0, margin=m) == pytest.approx(
            math.log1p(math.exp(-3.0 * math.cos(m))), rel=1e-14)
        assert fl.cosface([0], e, c, scale=3.0, margin=m) == pytest.approx(
            math.log1p(math.exp(-3.0 * (1.0 - m))), rel=1e-14)
    # opposite its centre (theta = pi): ArcFace's continuation cos - m sin m
    assert fl.arcface([0], [[-1.0, 0.0]], c, scale=2.0, margin=0.5) == pytest.approx(
        math.log1p(math.exp(2.0 * (1.0 + 0.5 * math.sin(0.5)))), rel=1e-14)
    # a large scale: no overflow, the loss of a perfect match underflows towards 0
    assert 0.0 <= fl.cosface([0], e, c, scale=1e4, margin=0.1) < 1e-300


def test_margin_losses_bad_input():
    labels, x, centres = faces(n=5, classes=3)
    for bad in (0.0, -2.0, np.inf, np.nan):
        with pytest.raises(ValueError, match="scale"):
            fl.ArcFace(scale=bad)
    for bad in (-0.1, math.pi, np.nan):
        with pytest.raises(ValueError, match="margin"):
            fl.ArcFace(margin=bad)
    with pytest.raises(ValueError, match="margin"):
        fl.CosFace(margin=np.inf)
    for bad_label in (3, -1):
        wrong = labels.copy()
        wrong[2] = bad_label
        with pytest.raises(ValueError, match=r"class indices in \[0, 3\)"):
            fl.arcface(wrong, x, centres)
    with pytest.raises(ValueError, match="same dim"):
        fl.cosface(labels, x, centres[:, :-1])
    with pytest.raises(TypeError, match="integers"):
        fl.cosface(labels.astype(float), x, centres)
    x[1, 1] = np.nan
    value, (g_x, g_c) = fl.CosFace().value_and_gradient(labels, x, centres)
    assert math.isnan(value) and np.isnan(g_x).all() and np.isnan(g_c).all()
