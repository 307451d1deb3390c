"""fastloss.jax: values and gradients against optax, jit, grad, value_and_grad, vmap,
dtypes, errors and a training loop."""

import numpy as np
import pytest

jax = pytest.importorskip("jax")
optax = pytest.importorskip("optax")
jnp = jax.numpy

import fastloss as fl  # noqa: E402
import fastloss.jax as flj  # noqa: E402

pytestmark = pytest.mark.one_kernel_set

TOL = {"float32": 1e-6, "float64": 1e-12}


def close(actual, expected, dtype):
    actual, expected = np.asarray(actual, np.float64), np.asarray(expected, np.float64)
    scale = max(float(np.abs(expected).max(initial=0.0)), 1e-30)
    np.testing.assert_allclose(actual, expected, rtol=TOL[dtype], atol=TOL[dtype] * scale)


def compare(ours, theirs, y, p, dtype):
    """Values and gradients wrt p of ours(y, p) and theirs(y, p), jitted."""
    with jax.enable_x64(dtype == "float64"):
        y, p = jnp.asarray(y), jnp.asarray(p, dtype=dtype)
        v1, g1 = jax.jit(jax.value_and_grad(ours, argnums=1))(y, p)
        v2, g2 = jax.jit(jax.value_and_grad(theirs, argnums=1))(y, p)
        assert v1.dtype == v2.dtype == p.dtype and g1.dtype == p.dtype
        close(v1, v2, dtype)
        close(g1, g2, dtype)


rng = np.random.default_rng(0)
DTYPES = ("float32", "float64")


@pytest.mark.parametrize("dtype", DTYPES)
def test_regression_matches_optax(dtype):
    y, p = rng.normal(size=(30, 4)), rng.normal(scale=3.0, size=(30, 4))
    mse = flj.function(fl.MeanSquaredError())
    compare(mse, lambda y, p: optax.squared_error(p, y).mean(), y, p, dtype)
    huber = flj.function(fl.Huber(delta=1.5, reduction="sum"))
    compare(huber, lambda y, p: optax.huber_loss(p, y, delta=1.5).sum(), y, p, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_weighted_bce_matches_optax(dtype):
    y = (rng.uniform(size=(40, 3)) < 0.4).astype(float)
    z = rng.normal(scale=4.0, size=(40, 3))
    w = rng.uniform(0.0, 2.0, size=40)
    bce = flj.function(fl.BinaryCrossEntropy(from_logits=True))

    def theirs(y, z):
        per_row = optax.sigmoid_binary_cross_entropy(z, y).mean(axis=1)
        return (per_row * w).sum() / w.sum()

    compare(lambda y, z: bce(y, z, sample_weight=w), theirs, y, z, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_cross_entropy_matches_optax(dtype):
    logits, labels = rng.normal(scale=2.0, size=(50, 6)), rng.integers(0, 6, size=50)
    sce = flj.function(fl.SparseCategoricalCrossEntropy(from_logits=True))
    compare(sce, lambda y, p: optax.softmax_cross_entropy_with_integer_labels(p, y).mean(),
            labels, logits, dtype)
    smoothed = flj.function(fl.CategoricalCrossEntropy(from_logits=True, label_smoothing=0.1))
    onehot = np.eye(6)[labels]
    compare(smoothed,
            lambda y, p: optax.softmax_cross_entropy(p, optax.smooth_labels(y, 0.1)).mean(),
            onehot, logits, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_multiclass_hinge_matches_optax(dtype):
    """MultiMargin(kind="crammer_singer") is optax's multiclass_hinge_loss (margin 1,
    p 1)."""
    scores, labels = rng.normal(size=(50, 6)), rng.integers(0, 6, size=50)
    hinge = flj.function(fl.MultiMargin(kind="crammer_singer"))
    compare(hinge, lambda y, p: optax.losses.multiclass_hinge_loss(p, y).mean(),
            labels, scores, dtype)


@pytest.mark.parametrize("reduction", ["mean", "none"])
def test_triplet_matches_formula(reduction):
    a, p, n = (jnp.asarray(rng.normal(size=(12, 5)), dtype=jnp.float32) for _ in range(3))
    f = flj.function(fl.Triplet(margin=1.0, eps=0.0, reduction=reduction))

    def formula(a, p, n):
        d = lambda u, v: jnp.sqrt(((u - v) ** 2).sum(axis=1))  # noqa: E731
        values = jnp.maximum(1.0 + d(a, p) - d(a, n), 0.0)
        return values.mean() if reduction == "mean" else values

    g = jnp.asarray(rng.uniform(size=12), dtype=jnp.float32)
    for fn, out in ((f, []), (formula, [])):
        value, vjp = jax.vjp(fn, a, p, n)
        out.extend([value, *vjp(g if reduction == "none" else jnp.float32(1.0))])
    ours = [f(a, p, n), *jax.vjp(f, a, p, n)[1](
        g if reduction == "none" else jnp.float32(1.0))]
    theirs_value, theirs_vjp = jax.vjp(formula, a, p, n)
    theirs = [theirs_value, *theirs_vjp(g if reduction == "none" else jnp.float32(1.0))]
    for x, y in zip(ours, theirs, strict=True):
        close(x, y, "float32")


def test_ranking_contrastive_batch_triplet_match_numpy():
    relevance = rng.integers(0, 3, size=(5, 7)).astype(float)
    scores, where = rng.normal(size=(5, 7)), rng.uniform(size=(5, 7)) < 0.8
    loss = fl.LambdaRank(k=3)
    f = flj.function(loss)
    with jax.enable_x64(True):
        value, grad = jax.value_and_grad(f, argnums=1)(relevance, scores, where)
        expected = loss.value_and_gradient(relevance, scores, where=where)
        np.testing.assert_array_equal(value, expected[0])
        np.testing.assert_array_equal(grad, expected[1])
        same, x1, x2 = rng.uniform(size=9) < 0.5, rng.normal(size=(9, 3)), rng.normal(size=(9, 3))
        contrastive = fl.Contrastive(margin=2.0, reduction="sum")
        grads = jax.grad(flj.function(contrastive), argnums=(1, 2))(same, x1, x2)
        for ours, theirs in zip(grads, contrastive.gradient(same, x1, x2), strict=True):
            np.testing.assert_array_equal(ours, theirs)
        labels, emb = rng.integers(0, 3, size=16), rng.normal(size=(16, 4))
        centres = rng.normal(size=(3, 4))
        margin = fl.ArcFace(scale=4.0)
        value, grads = jax.value_and_grad(flj.function(margin), argnums=(1, 2))(
            labels, emb, centres)
        expected = margin.value_and_gradient(labels, emb, centres)
        np.testing.assert_array_equal(value, expected[0])
        for ours, theirs in zip(grads, expected[1], strict=True):
            np.testing.assert_array_equal(ours, theirs)
        for batch in (fl.BatchTriplet(strategy="hard"), fl.SupCon(temperature=0.2)):
            value, grad = jax.value_and_grad(flj.function(batch), argnums=1)(labels, emb)
            expected = batch.value_and_gradient(labels, emb)
            np.testing.assert_array_equal(value, expected[0])
            np.testing.assert_array_equal(grad, expected[1])


def test_jit_grad_and_vmap_match():
    f = flj.function(fl.Huber(delta=0.5))
    y = jnp.asarray(rng.normal(size=(6, 20)), dtype=jnp.float32)
    p = jnp.asarray(rng.normal(size=(6, 20)), dtype=jnp.float32)
    w = jnp.asarray(rng.uniform(size=20), dtype=jnp.float32)
    grad = jax.grad(f, argnums=1)
    eager = np.stack([grad(y[i], p[i]) for i in range(6)])
    np.testing.assert_array_equal(jax.jit(grad)(y[0], p[0]), eager[0])
    np.testing.assert_array_equal(jax.vmap(grad)(y, p), eager)
    np.testing.assert_array_equal(jax.jit(jax.vmap(grad))(y, p), eager)
    values = jax.vmap(f)(y, p)
    np.testing.assert_array_equal(values, [f(y[i], p[i]) for i in range(6)])
    # unbatched weights broadcast, nested vmap, value_and_grad
    weighted = jax.vmap(lambda y, p: f(y, p, sample_weight=w))(y, p)
    np.testing.assert_allclose(weighted, [fl.Huber(delta=0.5)(np.asarray(y[i]), np.asarray(
        p[i]), sample_weight=np.asarray(w)) for i in range(6)], rtol=1e-6)
    nested = jax.vmap(jax.vmap(f))(y.reshape(2, 3, 20), p.reshape(2, 3, 20))
    np.testing.assert_array_equal(nested.reshape(6), values)
    v, g = jax.jit(jax.vmap(jax.value_and_grad(f, argnums=1)))(y, p)
    np.testing.assert_array_equal(v, values)
    np.testing.assert_array_equal(g, eager)


def test_dtypes():
    f = flj.function(fl.MeanSquaredError(reduction="none"))
    y = np.linspace(0, 1, 8)
    p = jnp.linspace(1, 2, 8)
    assert f(y, p).dtype == jnp.float32  # x64 off: float32
    with jax.enable_x64(True):
        p64 = jnp.linspace(1, 2, 8, dtype=jnp.float64)
        assert f(y, p64).dtype == jnp.float64
        assert jax.grad(lambda p: f(y, p).sum())(p64).dtype == jnp.float64
    for half in (jnp.bfloat16, jnp.float16):
        ph = p.astype(half)
        value = f(y, ph)
        grad = jax.grad(lambda p: f(y, p).sum())(ph)
        assert value.dtype == half and grad.dtype == half
        np.testing.assert_allclose(np.asarray(value, np.float32),
                                   (np.asarray(ph, np.float32) - y) ** 2, rtol=1e-2)


def test_bad_input():
    with pytest.raises(TypeError, match="fastloss loss"):
        flj.function(optax.l2_loss)
    f = flj.function(fl.MeanSquaredError())
    with pytest.raises(TypeError, match="floating-point"):
        f(jnp.zeros(3), jnp.arange(3))
    with pytest.raises(ValueError, match="same shape"):
        f(jnp.zeros(3), jnp.zeros(4))
    with pytest.raises(TypeError, match="boolean"):
        flj.function(fl.ListMLE())(jnp.zeros((2, 3)), jnp.zeros((2, 3)), where=jnp.ones((2, 3)))
    batch = flj.function(fl.BatchTriplet(reduction="none"))
    labels, emb = jnp.array([0, 0, 1, 1]), jnp.ones((4, 2))
    assert batch(labels, emb).shape == (4,)
    with pytest.raises(ValueError, match="cannot be differentiated"):
        jax.grad(lambda e: batch(labels, e).sum())(emb)


def test_values_the_host_rejects_raise_fastloss_errors():
    """A label out of range or a target outside the loss's domain is found on the host,
    inside the callback: an eager call raises fastloss's own ValueError (JAX would
    report a JaxRuntimeError), with or without a gradient."""
    hinge = flj.function(fl.Hinge())
    y, p = jnp.array([0.0, -1.0, 1.0]), jnp.zeros(3)  # 0 and -1 mixed
    with pytest.raises(ValueError, match="labels in"):
        hinge(y, p)
    with pytest.raises(ValueError, match="labels in"):
        jax.grad(lambda q: hinge(y, q))(p)
    sparse = flj.function(fl.SparseCategoricalCrossEntropy(from_logits=True))
    with pytest.raises(ValueError, match="class label"):
        sparse(jnp.array([0, 7]), jnp.zeros((2, 3)))
    assert float(hinge(jnp.array([0.0, 1.0, 1.0]), p)) == 1.0  # the next call is clean
    sparse(jnp.array([0, 1]), jnp.zeros((2, 3)))  # after a good call, the error unwrapped
    with pytest.raises(ValueError, match="^y_true must be a class label"):
        sparse(jnp.array([0, 7]), jnp.zeros((2, 3)))


def test_dice_matches_numpy():
    y = (rng.uniform(size=(4, 2, 6, 6)) < 0.4).astype(float)
    p = rng.normal(size=(4, 2, 6, 6))
    for loss in (fl.Dice(from_logits=True), fl.Tversky(alpha=0.7, beta=0.3, from_logits=True,
                                                      reduction="sum")):
        with jax.enable_x64(True):
            value, grad = jax.value_and_grad(flj.function(loss), argnums=1)(y, p)
        expected = loss.value_and_gradient(y, p)
        np.testing.assert_array_equal(value, expected[0])
        np.testing.assert_array_equal(grad, expected[1])


def _train(loss_fn, seed=0, steps=100):
    key = np.random.default_rng(seed)
    centers = key.normal(size=(4, 8)) * 2.0
    labels = key.integers(0, 4, size=512)
    x = (centers[labels] + key.normal(size=(512, 8)) * 1.5).astype(np.float32)
    k1, k2 = jax.random.split(jax.random.PRNGKey(seed))
    params = {
        "w1": jax.random.normal(k1, (8, 32)) * 0.3, "b1": jnp.zeros(32),
        "w2": jax.random.normal(k2, (32, 4)) * 0.3, "b2": jnp.zeros(4),
    }

    def predict(params, x):
        return jnp.tanh(x @ params["w1"] + params["b1"]) @ params["w2"] + params["b2"]

    opt = optax.sgd(0.2)
    state = opt.init(params)

    @jax.jit
    def step(params, state):
        grads = jax.grad(lambda q: loss_fn(labels[:384], predict(q, x[:384])))(params)
        updates, state = opt.update(grads, state)
        return optax.apply_updates(params, updates), state

    for _ in range(steps):
        params, state = step(params, state)
    return float((predict(params, x[384:]).argmax(1) == labels[384:]).mean())


def test_training_loop_reaches_builtin_accuracy():
    ours = _train(flj.function(fl.SparseCategoricalCrossEntropy(from_logits=True)))
    theirs = _train(
        lambda y, p: optax.softmax_cross_entropy_with_integer_labels(p, y).mean())
    assert ours > 0.6
    assert abs(ours - theirs) <= 1 / 128
