"""fastloss.dask on a real distributed.LocalCluster (two worker processes): values bit
for bit equal to the in-memory call for any chunking, gradients and hessians equal,
clear errors, a killed worker, and boosting on the cluster."""

import os
import pickle
import signal
import time

import numpy as np
import pytest

import fastloss as fl

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")
import dask  # noqa: E402

import fastloss.dask as fld  # noqa: E402

pytestmark = pytest.mark.one_kernel_set

N = 100_003  # not a multiple of the 4096-element block
# Chunkings of N: one chunk, regular, irregular, and ragged (tiny chunks, a chunk
# smaller than a block, one that straddles many blocks).
CHUNKINGS = [N, 30_000, 12_289, (5, 4091, 1, 20_000, 3, N - 24_100)]


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=2, processes=True,
                                       dashboard_address=None, memory_limit="1GiB")
    with cluster, distributed.Client(cluster) as c:
        yield c


def row_chunks(chunks, n):
    """The chunking of N elements applied to n rows (scaled, ragged kept)."""
    if isinstance(chunks, int):
        return max(1, chunks * n // N)
    sizes = [max(1, c * n // N) for c in chunks[:-1]]
    return (*sizes, n - sum(sizes))


def computed(*lazy):
    return dask.compute(*lazy)


def flat(results):
    """A list of the arrays in results (tuples, of the embeddings' gradients, opened)."""
    out = []
    for r in results:
        out.extend(flat(r) if isinstance(r, tuple) else [r])
    return out


def assert_same(dask_results, memory_results):
    dask_results, memory_results = flat(dask_results), flat(memory_results)
    assert len(dask_results) == len(memory_results)
    for got, want in zip(dask_results, memory_results, strict=True):
        if np.ndim(want) == 0:
            assert float(got) == float(want)  # bit for bit
        else:
            assert got.dtype == np.asarray(want).dtype
            np.testing.assert_array_equal(got, want)


def check_methods(loss, arrays, chunks, w, chunk_w):
    """The four functions on the arrays (each chunked its own way) against the loss's
    in-memory methods."""
    lazy = [da.from_array(a, chunks=c) for a, c in zip(arrays, chunks, strict=True)]
    W = None if w is None else da.from_array(w, chunks=chunk_w)
    assert_same(computed(fld.value(loss, *lazy, sample_weight=W)),
                [loss(*arrays, sample_weight=w)])
    assert_same(computed(fld.gradient(loss, *lazy, sample_weight=W)),
                [loss.gradient(*arrays, sample_weight=w)])
    assert_same(computed(*fld.value_and_gradient(loss, *lazy, sample_weight=W)),
                loss.value_and_gradient(*arrays, sample_weight=w))
    assert_same(computed(*fld.gradient_hessian(loss, *lazy, sample_weight=W)),
                loss.gradient_hessian(*arrays, sample_weight=w))


def check_all_methods(loss, y, p, w, chunk_y, chunk_p, chunk_w):
    check_methods(loss, (y, p), (chunk_y, chunk_p), w, chunk_w)


@pytest.mark.parametrize("chunks", CHUNKINGS, ids=str)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighted", [False, True])
def test_elementwise_bitwise(client, chunks, reduction, weighted):
    rng = np.random.default_rng(1)
    y, p = rng.normal(size=N), rng.normal(size=N) * 3
    labels = (rng.random(N) < 0.3).astype(np.float32)
    w = rng.uniform(0.1, 2.0, N) if weighted else None
    check_all_methods(fl.MeanSquaredError(reduction=reduction), y, p, w, chunks, chunks, chunks)
    # The targets chunked differently from the predictions.
    other = 7_001 if chunks != 7_001 else 9_000
    check_all_methods(fl.BinaryCrossEntropy(from_logits=True, reduction=reduction), labels,
                      p.astype(np.float32), w, other, chunks, chunks)


def test_elementwise_multi_output_with_row_weights(client):
    rng = np.random.default_rng(2)
    y, p, w = rng.normal(size=(5_001, 3)), rng.normal(size=(5_001, 3)), rng.random(5_001)
    for loss in (fl.Huber(delta=0.5), fl.LogCosh(reduction="none")):
        check_all_methods(loss, y, p, w, (700, 2), (1_000, 3), 333)
        check_all_methods(loss, y, p, np.repeat(w, 3).reshape(-1, 3), 999, 4_097, 2_000)


def test_multi_label_with_per_label_pos_weight(client):
    rng = np.random.default_rng(10)
    y = (rng.random((9_001, 5)) < 0.2).astype(np.float64)
    p, w = rng.normal(size=(9_001, 5)), rng.random(9_001)
    loss = fl.BinaryCrossEntropy(from_logits=True, pos_weight=[1.0, 2.0, 0.5, 3.0, 1.5])
    check_all_methods(loss, y, p, w, (1_000, 2), (2_500, 3), 700)


def test_empty_inputs(client):
    for shape in ((0, 3), (4, 0), (0,)):
        z = np.zeros(shape)
        for reduction in ("sum", "none"):
            loss = fl.MeanSquaredError(reduction=reduction)
            check_all_methods(loss, z, z, None, 1, 1, 1)
        y, p = da.zeros(shape, chunks=1), da.zeros(shape)
        for method in (fld.value, fld.gradient, fld.value_and_gradient, fld.gradient_hessian):
            with pytest.raises(ValueError, match="undefined over no elements"):
                computed(method(fl.MeanSquaredError(), y, p))


@pytest.mark.parametrize("chunks", CHUNKINGS, ids=str)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_sparse_cross_entropy_bitwise(client, chunks, reduction):
    rng = np.random.default_rng(3)
    n, k = 20_011, 7
    labels = rng.integers(0, k, n)
    labels[::11] = -100
    p = rng.normal(size=(n, k)).astype(np.float32)
    w = rng.uniform(0.1, 2.0, n)
    loss = fl.SparseCategoricalCrossEntropy(
        from_logits=True, class_weight=rng.uniform(0.5, 2.0, k), ignore_index=-100,
        reduction=reduction)
    rows = row_chunks(chunks, n)
    check_all_methods(loss, labels, p, w, rows, (rows, 3), rows)


@pytest.mark.parametrize("chunks", CHUNKINGS, ids=str)
def test_ranking_bitwise(client, chunks):
    rng = np.random.default_rng(4)
    n, size = 3_001, 12
    relevance = rng.integers(0, 4, (n, size)).astype(float)
    scores, w = rng.normal(size=(n, size)), rng.uniform(0.1, 2.0, n)
    rows = row_chunks(chunks, n)
    for loss in (fl.LambdaRank(k=5), fl.ListwiseSoftmax(reduction="sum")):
        check_all_methods(loss, relevance, scores, w, (rows, 5), (rows, size), rows)
    # Lists of different lengths: the where mask, chunked its own way.
    where = rng.random((n, size)) < 0.8
    loss = fl.PairwiseLogistic()
    R, S = da.from_array(relevance, chunks=(rows, 4)), da.from_array(scores, chunks=(rows, 7))
    W, M = da.from_array(w, chunks=rows), da.from_array(where, chunks=(1_000, 6))
    assert_same(computed(*fld.value_and_gradient(loss, R, S, sample_weight=W, where=M)),
                loss.value_and_gradient(relevance, scores, sample_weight=w, where=where))


@pytest.mark.parametrize("chunks", CHUNKINGS, ids=str)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_pair_and_triplet_losses_bitwise(client, chunks, reduction):
    """Contrastive, CosineEmbedding and Triplet: whole rows, each input chunked its own
    way, the gradients a tuple of lazy arrays chunked like the embeddings."""
    rng = np.random.default_rng(11)
    n, dim = 2_003, 48  # 24 blocks of 85 rows
    anchor, positive, negative = (rng.normal(size=(n, dim)) for _ in range(3))
    same = (rng.random(n) < 0.5).astype(np.float64)
    w = rng.uniform(0.1, 2.0, n)
    rows = row_chunks(chunks, n)
    embedding_chunks = ((rows, 20), (400, dim), (333, 13))
    check_methods(fl.Triplet(margin=2.0, swap=True, reduction=reduction),
                  (anchor, positive, negative), embedding_chunks, w, rows)
    check_methods(fl.Contrastive(margin=8.0, reduction=reduction),
                  (same, anchor, positive.astype(np.float32)), (500, *embedding_chunks[:2]),
                  w, 700)
    check_methods(fl.CosineEmbedding(margin=0.2, reduction=reduction),
                  (2 * same - 1, anchor.astype(np.float32), positive.astype(np.float32)),
                  (rows, *embedding_chunks[1:]), None, None)
    grad = fld.gradient(fl.Triplet(), *(da.from_array(x, chunks=(rows, dim))
                                         for x in (anchor, positive, negative)))
    assert isinstance(grad, tuple) and len(grad) == 3
    assert all(g.chunks == da.from_array(anchor, chunks=(rows, dim)).chunks for g in grad)


def test_same_bits_with_any_thread_count(client):
    """The kernels' threads inside each task do not change the bits either."""
    rng = np.random.default_rng(5)
    y, p = rng.normal(size=N), rng.normal(size=N)
    loss = fl.LogCosh()
    lazy = fld.value(loss, da.from_array(y, chunks=30_000), da.from_array(p, chunks=30_000))
    with fl.threads(1):
        want = loss(y, p)
    assert float(lazy.compute()) == want
    assert float(lazy.compute(scheduler="threads")) == want


def test_errors(client):
    x = da.ones((10, 3), chunks=5)
    with pytest.raises(TypeError, match="must be a fastloss loss object"):
        fld.value(fl.MeanSquaredError, x, x)
    with pytest.raises(TypeError, match="mines triplets over the whole batch"):
        fld.value(fl.BatchTriplet(), da.zeros(10, chunks=5), x)
    with pytest.raises(TypeError, match="depends on the whole batch"):
        fld.value(fl.InfoNCE(), x, x)
    with pytest.raises(TypeError, match="pair and triplet losses, not Dice"):
        fld.value(fl.Dice(), x, x)
    with pytest.raises(TypeError, match=r"Contrastive takes 3 arrays \(same, x1, x2\); got 2"):
        fld.value(fl.Contrastive(), da.zeros(10, chunks=5), x)
    with pytest.raises(TypeError, match=r"MeanSquaredError takes 2 arrays"):
        fld.value(fl.MeanSquaredError(), x, x, x)
    with pytest.raises(ValueError, match=r"negative must have the shape of anchor \(10, 3\)"):
        fld.value(fl.Triplet(), x, x, da.ones((10, 4), chunks=5))
    with pytest.raises(ValueError, match=r"x1 must be 2-D \(n, dim\); got shape \(10,\)"):
        fld.value(fl.CosineEmbedding(), da.ones(10, chunks=5), da.ones(10, chunks=5), x)
    with pytest.raises(ValueError, match=r"same must have shape \(10,\), one per pair"):
        fld.value(fl.Contrastive(), da.zeros(9, chunks=5), x, x)
    with pytest.raises(TypeError, match="where is an argument of the ranking losses"):
        fld.value(fl.MeanSquaredError(), x, x, where=da.ones((10, 3), dtype=bool, chunks=5))
    with pytest.raises(ValueError, match="same shape"):
        fld.value(fl.MeanSquaredError(), da.ones(9, chunks=5), da.ones(10, chunks=5))
    with pytest.raises(ValueError, match="sample_weight must have shape"):
        fld.value(fl.MeanSquaredError(), x, x, sample_weight=da.ones(4, chunks=2))
    unknown = da.ones(10, chunks=5)
    unknown = unknown[unknown > 0]
    with pytest.raises(ValueError, match="unknown chunk sizes"):
        fld.value(fl.MeanSquaredError(), unknown, unknown)
    # Errors of the in-memory call surface when computed: "mean" over zero weights,
    # labels out of range.
    for method in (fld.value, fld.gradient, fld.value_and_gradient, fld.gradient_hessian):
        zero = method(fl.MeanSquaredError(), x, x, sample_weight=da.zeros(10, chunks=5))
        with pytest.raises(ValueError, match="undefined over sample weights summing to 0"):
            computed(zero)
    bad = fld.value(fl.SparseCategoricalCrossEntropy(), da.full(10, 3, chunks=5), x)
    with pytest.raises(ValueError, match="y_true"):
        bad.compute()


def test_lazy_and_numpy_inputs(client):
    rng = np.random.default_rng(6)
    y, p = rng.normal(size=1000), rng.normal(size=1000)
    lazy = fld.value(fl.MeanSquaredError(), y, p)  # NumPy arrays: one chunk
    assert isinstance(lazy, da.Array) and lazy.shape == ()
    assert float(lazy.compute()) == fl.mse(y, p)
    grad = fld.gradient(fl.MeanSquaredError(), da.from_array(y, chunks=300),
                        da.from_array(p, chunks=300))
    assert grad.chunks == ((300, 300, 300, 100),)


def test_chunk_tasks_wait_only_for_their_chunks():
    """A "mean" gradient over a known number of elements gets its scale as a number, and
    a value's reduction ends in one task that takes every chunk's sums: each dependency
    more is a round trip to the scheduler."""
    y, p = (da.from_array(np.linspace(0, 1, 20_000), chunks=8192) for _ in range(2))
    inputs = {key for a in (y, p) for key in a.__dask_keys__()}

    def tasks(lazy):
        graph = dict(lazy.__dask_graph__())
        return {key: set(dask.core.get_dependencies(graph, key)) for key in graph
                if key not in inputs}

    def named(found, prefix):
        return {key: deps for key, deps in found.items()
                if (key if isinstance(key, str) else key[0]).startswith(prefix)}

    kernels = named(tasks(fld.gradient(fl.MeanSquaredError(), y, p)), "_kernel_task")
    assert len(kernels) == 3 and all(deps <= inputs for deps in kernels.values())
    found = tasks(fld.value(fl.MeanSquaredError(), y, p))
    kernels = named(found, "_kernel_task")
    assert len(kernels) == 3 and all(deps <= inputs for deps in kernels.values())
    after = [deps for deps in found.values() if deps & set(kernels)]
    assert after == [set(kernels)]


def test_zarr_arrays_on_disk(client, tmp_path):
    """Zarr arrays read by the workers chunk by chunk (the graph holds paths, not
    data), zarr chunks not on the 4096-element blocks: the in-memory bits."""
    zarr = pytest.importorskip("zarr")
    rng = np.random.default_rng(12)
    n = 300_007
    arrays = {"y": rng.normal(size=n), "p": rng.normal(size=n) * 2, "w": rng.random(n)}
    lazy = {}
    for name, a in arrays.items():
        stored = zarr.open_array(str(tmp_path / f"{name}.zarr"), mode="w", shape=a.shape,
                                 chunks=(50_000,), dtype=a.dtype)
        stored[:] = a
        lazy[name] = da.from_zarr(str(tmp_path / f"{name}.zarr"))
        assert lazy[name].nbytes > 100 * len(pickle.dumps(lazy[name].dask))
    loss = fl.Huber(delta=0.7)
    assert_same(computed(*fld.value_and_gradient(loss, lazy["y"], lazy["p"],
                                                 sample_weight=lazy["w"])),
                loss.value_and_gradient(arrays["y"], arrays["p"], sample_weight=arrays["w"]))


def test_killed_worker_does_not_change_the_result(client):
    n = 4_000_000
    # Data made on the workers (not sent from here): the same element-wise formulas
    # give the same bits in NumPy.
    index = da.arange(n, chunks=40_000, dtype=np.float64)
    Y, P = da.sin(index * 0.001), da.cos(index * 0.0013) * 2
    y, p = np.sin(np.arange(n, dtype=np.float64) * 0.001), np.cos(np.arange(n) * 0.0013) * 2
    loss = fl.LogCosh()
    future = client.compute(fld.value(loss, Y, P))
    victim = sorted(client.scheduler_info()["workers"])[0]
    pid = client.run(os.getpid, workers=[victim])[victim]
    deadline = time.monotonic() + 30
    while not client.processing().get(victim) and time.monotonic() < deadline:
        time.sleep(0.005)  # until the victim runs tasks of this graph
    assert not future.done()
    os.kill(pid, signal.SIGKILL)
    assert float(future.result(timeout=120)) == loss(y, p)


def test_distributed_xgboost_matches_single_process(client):
    xgb = pytest.importorskip("xgboost")
    import xgboost.dask  # noqa: F401  (the submodule is not imported by xgboost)

    import fastloss.xgboost as fxgb

    rng = np.random.default_rng(8)
    n = 4_000
    # Few distinct feature values: the cluster's quantile sketch is then exact, as
    # the single process's, and the same splits are found.
    x = rng.integers(0, 16, (n, 4)).astype(np.float64)
    y = (x[:, 0] - 7 + 0.5 * x[:, 1] * (x[:, 2] > 8) + rng.normal(size=n) > 0).astype(float)
    loss = fl.BinaryCrossEntropy(from_logits=True)
    params = {"max_depth": 3, "eta": 0.3, "tree_method": "hist", "nthread": 1,
              "base_score": fxgb.init_score(loss, y)}
    single = xgb.train(params, xgb.DMatrix(x, y), 10, obj=fxgb.objective(loss))
    dtrain = xgb.dask.DaskDMatrix(client, da.from_array(x, chunks=(1_000, 4)),
                                  da.from_array(y, chunks=1_000))
    out = xgb.dask.train(client, params, dtrain, 10, obj=fxgb.objective(loss))
    np.testing.assert_allclose(
        out["booster"].predict(xgb.DMatrix(x), output_margin=True),
        single.predict(xgb.DMatrix(x), output_margin=True), rtol=1e-5, atol=1e-5)


def test_distributed_lightgbm_matches_single_process(client):
    lgb = pytest.importorskip("lightgbm")
    import fastloss.lightgbm as flgb

    rng = np.random.default_rng(9)
    n = 4_000
    x = rng.integers(0, 16, (n, 4)).astype(np.float64)
    y = x[:, 0] + 0.5 * x[:, 1] * (x[:, 2] > 8) + rng.normal(size=n)
    loss = fl.Huber(delta=1.0)
    common = {"n_estimators": 10, "num_leaves": 7, "min_child_samples": 5, "verbose": -1,
              "objective": flgb.objective(loss), "n_jobs": 1}
    init = np.full(n, flgb.init_score(loss, y))
    single = lgb.LGBMRegressor(**common).fit(x, y, init_score=init)
    X, Y = da.from_array(x, chunks=(2_000, 4)), da.from_array(y, chunks=2_000)
    model = lgb.DaskLGBMRegressor(client=client, tree_learner="data", **common)
    model.fit(X, Y, init_score=da.from_array(init, chunks=2_000))
    np.testing.assert_allclose(model.to_local().predict(x, raw_score=True),
                               single.predict(x, raw_score=True), rtol=1e-5, atol=1e-5)
