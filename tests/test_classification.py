"""Classification losses: binary, multi-label and multi-class.

Against mpmath at extreme logits, against central finite differences, and against the
frameworks' definitions (torch class weights and label smoothing, Keras smoothing,
torchvision focal loss) written out in NumPy; label dtypes, ignored rows and a clear
error for every kind of bad input. (The contract tests, tests/test_contract.py, compare
every loss with fastloss.reference.)
"""

import mpmath as mp
import numpy as np
import pytest
import registry

import fastloss as fl

RNG_SEED = 20240611
N, C = 9, 5


def rng(offset=0):
    return np.random.default_rng(RNG_SEED + offset)


def logits(shape, scale=2.0, offset=0):
    return rng(offset).normal(size=shape) * scale


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def soft_targets(offset=0):
    t = rng(offset).random((N, C)) + 0.05
    return t / t.sum(axis=1, keepdims=True)


def labels(offset=0):
    return rng(offset).integers(0, C, N)


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


# ---- finite differences -------------------------------------------------------------

def _central_differences(loss, y_true, y_pred, step=1e-6):
    grad = np.zeros_like(y_pred)
    hess = np.zeros_like(y_pred)
    for index in np.ndindex(y_pred.shape):
        up, down = y_pred.copy(), y_pred.copy()
        h = step * max(1.0, abs(y_pred[index]))
        up[index] += h
        down[index] -= h
        grad[index] = (loss(y_true, up) - loss(y_true, down)) / (2 * h)
        hess[index] = (loss.gradient(y_true, up)[index]
                       - loss.gradient(y_true, down)[index]) / (2 * h)
    return grad, hess


@pytest.mark.parametrize("entry", **registry.params(registry.family("classification")))
def test_gradient_and_hessian_match_finite_differences(entry):
    loss = entry.loss("sum")
    y_true, y_pred = entry.inputs(n=4, seed=12).args
    if not entry.from_logits:  # keep probabilities away from 0 and 1
        y_pred = 0.03 + 0.94 * y_pred
    grad, hess = loss.gradient_hessian(y_true, y_pred)
    fd_grad, fd_hess = _central_differences(loss, y_true, y_pred)
    np.testing.assert_allclose(grad, fd_grad, rtol=1e-6, atol=1e-7)
    if loss.exact_hessian:
        np.testing.assert_allclose(hess, fd_hess, rtol=1e-5, atol=1e-6)
    else:
        assert np.all(hess == 1.0)


# ---- exact at the extremes (mpmath) -------------------------------------------------

mp.mp.dps = 60
#: Why the tests that change mpmath's working precision run in one thread.
MPMATH_GLOBAL = "mpmath's working precision is global to the process"


def mp_softplus(x):
    x = mp.mpf(x)
    return mp.log1p(mp.exp(x))


def mp_sigmoid(x):
    return 1 / (1 + mp.exp(-mp.mpf(x)))


EXTREME_LOGITS = [-1e20, -1e4, -745.0, -232.9, -37.0, -18.5, -1e-9, 0.0, 3e-8, 17.0, 36.9,
                  232.9, 709.0, 1e4, 1e20]


def assert_close_mp(actual, expected, rtol=4e-15, what=""):
    expected = float(expected)
    if expected == 0.0:
        assert actual == 0.0 or abs(actual) < 1e-300, what
    else:
        assert abs(actual - expected) <= rtol * abs(expected), (what, actual, expected)


@pytest.mark.parametrize("z", EXTREME_LOGITS)
@pytest.mark.parametrize("y", [0.0, 1.0, 0.25])
def test_bce_logits_exact_at_extremes(y, z):
    loss = fl.BinaryCrossEntropy(from_logits=True, reduction="sum")
    grad, hess = loss.gradient_hessian([y], [z])
    s, s_neg = mp_sigmoid(z), mp_sigmoid(-z)
    assert_close_mp(loss([y], [z]), y * mp_softplus(-z) + (1 - y) * mp_softplus(z),
                    what="value")
    assert_close_mp(grad[0], (1 - y) * s - y * s_neg, what="gradient")
    assert_close_mp(hess[0], s * s_neg, what="hessian")


@pytest.mark.parametrize("z", EXTREME_LOGITS)
@pytest.mark.parametrize("y", [1.0, 0.0, -1.0])
def test_soft_margin_exact_at_extremes(y, z):
    loss = fl.SoftMargin(reduction="sum")
    grad, hess = loss.gradient_hessian([y], [z])
    t = 1 if y > 0 else -1
    assert_close_mp(loss([y], [z]), mp_softplus(-t * z), what="value")
    assert_close_mp(grad[0], -t * mp_sigmoid(-t * z), what="gradient")
    assert_close_mp(hess[0], mp_sigmoid(z) * mp_sigmoid(-z), what="hessian")


@pytest.mark.parametrize("z", [-1e20, -37.0, 232.9, 1e4])
def test_bce_pos_weight_and_smoothing_exact(z):
    loss = fl.BinaryCrossEntropy(from_logits=True, pos_weight=3.0, label_smoothing=0.1,
                                 reduction="sum")
    t = mp.mpf(1.0 * (1.0 - 0.1) + 0.5 * 0.1)  # the smoothed target, as the kernel rounds it
    expected = 3 * t * mp_softplus(-z) + (1 - t) * mp_softplus(z)
    assert_close_mp(loss([1.0], [z]), expected, rtol=1e-14)


def mp_focal(t, z, gamma, alpha):
    z = mp.mpf(z)
    p = mp_sigmoid(z)
    ce = t * mp_softplus(-z) + (1 - t) * mp_softplus(z)
    miss = p * (1 - t) + mp_sigmoid(-z) * t  # 1 - p_t, with 1 - p = sigmoid(-z) exactly
    a_t = 1 if alpha is None else alpha * t + (1 - alpha) * (1 - t)
    return a_t * ce * miss**gamma


@pytest.mark.thread_unsafe(reason=MPMATH_GLOBAL)
@pytest.mark.parametrize("z", [-1e4, -232.9, -37.0, -5.0, 0.5, 5.0, 37.0, 232.9, 1e4])
@pytest.mark.parametrize(("t", "gamma", "alpha"), [(1.0, 2.0, 0.25), (0.0, 2.0, 0.25),
                                                   (1.0, 0.5, None), (0.3, 1.5, None)])
def test_binary_focal_logits_exact_at_extremes(t, z, gamma, alpha):
    loss = fl.BinaryFocal(gamma=gamma, alpha=alpha, from_logits=True, reduction="sum")
    grad, hess = loss.gradient_hessian([t], [z])
    with mp.workdps(MP_DIGITS):
        def f(x):
            return mp_focal(t, x, gamma, alpha)
        value, d1, d2 = f(z), mp.diff(f, z, 1, h=MP_STEP), mp.diff(f, z, 2, h=MP_STEP)
    assert_close_mp(loss([t], [z]), value, rtol=1e-14, what="value")
    assert_close_mp(grad[0], d1, rtol=1e-13, what="gradient")
    assert_close_mp(hess[0], d2, rtol=1e-12, what="hessian")


@pytest.mark.thread_unsafe(reason=MPMATH_GLOBAL)
@pytest.mark.parametrize("gamma", [1.0, 3.0, 7.0, 63.0, 2.5, 63.5, 64.0, 70.25])
@pytest.mark.parametrize("from_logits", [True, False])
def test_binary_focal_any_gamma_matches_mpmath(gamma, from_logits):
    # (1 - p_t)^gamma: integer gamma below 64 by repeated squaring, the rest exp(f log m)
    t = np.array([0.0, 1.0, 0.3, 1.0, 0.0, 0.7])
    z = np.array([-3.0, -0.5, 0.5, 3.0, 9.0, -20.0])
    x = z if from_logits else 1.0 / (1.0 + np.exp(-z))
    loss = fl.BinaryFocal(gamma=gamma, alpha=0.25, from_logits=from_logits, reduction="none")
    got = loss(t, x)
    with mp.workdps(50):
        for i in range(len(t)):
            if from_logits:
                expected = mp_focal(t[i], z[i], gamma, 0.25)
            else:
                p, ti = mp.mpf(x[i]), mp.mpf(t[i])
                ce = -(ti * mp.log(p) + (1 - ti) * mp.log(1 - p))
                a_t = 0.25 * ti + 0.75 * (1 - ti)
                expected = a_t * ce * (p * (1 - ti) + (1 - p) * ti) ** gamma
            assert_close_mp(got[i], expected, rtol=1e-13, what=(gamma, i))


def mp_log_softmax(row, k):
    row = [mp.mpf(v) for v in row]
    m = max(row)
    return row[k] - m - mp.log(mp.fsum(mp.exp(v - m) for v in row))


# Derivatives by mp.diff at 450 digits with step 1e-110: rounding and truncation errors
# near 1e-220 relative, below what matters to a double here (the losses vary over 200
# orders of magnitude, e.g. exp(-465.8)).
MP_DIGITS = 450
MP_STEP = mp.mpf("1e-110")


EXTREME_ROWS = [
    [1e4, 0.0, 7e-7],
    [-1e4, 0.0, 1e4],
    [40.0, 0.0, -3.0],
    [0.0, 40.0, 39.999999],
    [232.9, -232.9, 0.0],
    [1e-300, -1e-300, 0.0],
]


def mp_row_loss(kind, row, k, **params):
    L = mp_log_softmax(row, k)
    miss = mp.fsum(mp.exp(mp_log_softmax(row, j)) for j in range(len(row)) if j != k)  # 1 - p
    if kind == "ce":
        return -L
    if kind == "focal":
        return -miss ** params["gamma"] * L
    if kind == "poly":
        return -L + params["epsilon"] * miss
    if kind == "gce":
        return -mp.expm1(params["q"] * L) / params["q"]
    if kind == "ce_z":  # plus z_loss (log Z)^2
        log_z = row[k] - L
        return -L + params["z_loss"] * log_z**2
    raise ValueError(kind)


ROW_KINDS = [
    ("ce", fl.SparseCategoricalCrossEntropy(from_logits=True, reduction="sum"), {}),
    ("focal", fl.SparseCategoricalFocal(from_logits=True, gamma=2.0, reduction="sum"),
     {"gamma": 2}),
    ("focal", fl.SparseCategoricalFocal(from_logits=True, gamma=0.5, reduction="sum"),
     {"gamma": mp.mpf("0.5")}),
    ("poly", fl.PolyLoss(from_logits=True, epsilon=1.0, reduction="sum"), {"epsilon": 1}),
    ("gce", fl.GeneralizedCrossEntropy(from_logits=True, q=0.7, reduction="sum"),
     {"q": mp.mpf("0.7")}),
    ("ce_z", fl.SparseCategoricalCrossEntropy(from_logits=True, z_loss=0.01, reduction="sum"),
     {"z_loss": mp.mpf("0.01")}),
    ("ce_z", fl.SparseCategoricalCrossEntropy(from_logits=True, z_loss=0.01, label_smoothing=0.0,
                                              class_weight=[1.0, 1.0, 1.0], reduction="sum"),
     {"z_loss": mp.mpf("0.01")}),
]


@pytest.mark.thread_unsafe(reason=MPMATH_GLOBAL)
@pytest.mark.parametrize("row", EXTREME_ROWS)
@pytest.mark.parametrize(("kind", "loss", "params"), ROW_KINDS,
                         ids=["ce", "focal2", "focal05", "poly", "gce", "ce_z", "ce_z_weighted"])
def test_softmax_losses_exact_at_extremes(kind, loss, params, row):
    """Every value, gradient and hessian entry to a few ulps of its own size (entries
    range over 200 orders of magnitude within a row)."""
    C3 = len(row)
    for k in range(C3):
        grad, hess = loss.gradient_hessian([k], [row])
        with mp.workdps(MP_DIGITS):
            assert_close_mp(loss([k], [row]), mp_row_loss(kind, row, k, **params),
                            rtol=1e-14, what=("value", k))
            exact = []
            for j in range(C3):
                def f(x, j=j, k=k):
                    moved = list(row)
                    moved[j] = x
                    return mp_row_loss(kind, moved, k, **params)
                d1 = mp.diff(f, mp.mpf(row[j]), 1, h=MP_STEP)
                exact.append(float(mp.diff(f, mp.mpf(row[j]), 2, h=MP_STEP)))
                assert_close_mp(grad[0, j], d1, rtol=5e-13, what=("gradient", k, j))
        for j in range(C3):
            assert_close_mp(hess[0, j], exact[j], rtol=5e-12, what=("hessian", k, j))


def test_limits_at_infinity_and_nan_propagation():
    bce = fl.BinaryCrossEntropy(from_logits=True, reduction="none")
    z = np.array([np.inf, -np.inf, np.inf, -np.inf, np.nan])
    y = np.array([1.0, 1.0, 0.0, 0.0, 1.0])
    values, grad = bce.value_and_gradient(y, z)
    np.testing.assert_array_equal(values[:4], [0.0, np.inf, np.inf, 0.0])
    np.testing.assert_array_equal(grad[:4], [0.0, -1.0, 1.0, 0.0])
    assert np.isnan(values[4]) and np.isnan(grad[4])
    hess = fl.BinaryCrossEntropy(from_logits=True).gradient_hessian(y, z)[1]
    np.testing.assert_array_equal(hess[:4], 0.0)
    focal = fl.BinaryFocal(from_logits=True, reduction="none")
    values, grad = focal.value_and_gradient(y, z)
    np.testing.assert_array_equal(values[:4], [0.0, 0.25 * np.inf, 0.75 * np.inf, 0.0])
    np.testing.assert_array_equal(grad[:4], [0.0, -0.25, 0.75, 0.0])
    assert np.isnan(values[4]) and np.isnan(grad[4])

    ce = fl.SparseCategoricalCrossEntropy(from_logits=True, reduction="none")
    rows = np.array([[np.inf, 0.0, 1.0], [np.inf, 0.0, 1.0], [-np.inf, 0.0, 1.0],
                     [np.nan, 0.0, 1.0], [0.0, np.nan, 1.0], [np.inf, np.inf, 0.0]])
    values, grad = ce.value_and_gradient([0, 1, 0, 1, 0, 0], rows)
    np.testing.assert_array_equal(values[:3], [0.0, np.inf, np.inf])
    np.testing.assert_array_equal(grad[0], [0.0, 0.0, 0.0])
    np.testing.assert_array_equal(grad[1], [1.0, -1.0, 0.0])
    np.testing.assert_allclose(grad[2], [-1.0, 1 / (1 + np.e), np.e / (1 + np.e)])
    assert np.isnan(values[3:]).all() and np.isnan(grad[3:]).all()


def test_nll_and_multi_margin_limits_and_nan():
    """Closed forms at infinite inputs; NaN propagates from what the loss reads."""
    nll = fl.NLL(reduction="none")
    values, grad = nll.value_and_gradient([0, 1, 2], [[-np.inf, 0.0, 0.0], [0.0, -5.0, np.nan],
                                                      [0.0, 0.0, np.nan]])
    assert values[0] == np.inf and values[1] == 5.0 and np.isnan(values[2])
    np.testing.assert_array_equal(grad, [[-1, 0, 0], [0, -1, 0], [0, 0, -1]])
    for kind in ("weston_watkins", "crammer_singer"):
        loss = fl.MultiMargin(kind=kind, p=2, reduction="none")
        rows = [[np.inf, 0.0, 1.0], [0.0, np.inf, 1.0], [0.0, np.nan, 1.0], [np.nan, 0.0, 1.0],
                [5.0, 1.0, -2.0]]
        values, grad = loss.value_and_gradient([0, 0, 0, 0, 0], rows)
        assert values[0] == 0.0 and values[1] == np.inf and values[4] == 0.0
        assert np.isnan(values[2]) and np.isnan(values[3])
        np.testing.assert_array_equal(grad[4], 0.0)
    # one class: nothing to separate from
    assert fl.MultiMargin(kind="crammer_singer")([0], [[3.0]]) == 0.0
    assert fl.MultiMargin()([0], [[3.0]]) == 0.0


def test_large_logits_stay_finite_and_exact():
    """Logits up to +-1e4 in float32 and float64: finite, equal to the shifted problem."""
    z = np.array([[1e4, 1e4 - 1.0, 1e4 - 3.0], [-1e4, -1e4 + 2.0, -1e4 + 0.5]])
    shifted = z - z.max(axis=1, keepdims=True)
    ce = fl.SparseCategoricalCrossEntropy(from_logits=True, reduction="none")
    for dtype in (np.float64, np.float32):
        values, grad = ce.value_and_gradient([1, 0], z.astype(dtype))
        ref_values, ref_grad = ce.value_and_gradient([1, 0], shifted)
        np.testing.assert_allclose(values, ref_values, rtol=1e-6 if dtype == np.float32 else 1e-12)
        np.testing.assert_allclose(grad, ref_grad, rtol=1e-6, atol=1e-7)
    bce = fl.BinaryCrossEntropy(from_logits=True, reduction="none")
    for dtype in (np.float64, np.float32):
        values = bce([1.0, 0.0, 1.0, 0.0], np.array([1e4, 1e4, -1e4, -1e4], dtype))
        np.testing.assert_array_equal(values, [0.0, 1e4, 1e4, 0.0])


def test_probability_clamp_is_pytorch_and_gradient_is_consistent():
    bce = fl.BinaryCrossEntropy(reduction="none")
    values, grad = bce.value_and_gradient([1.0, 0.0, 1.0, 0.0], [0.0, 1.0, 1e-50, 1.0 - 1e-16])
    np.testing.assert_allclose(values, [100.0, 100.0, 100.0, -np.log1p(-(1.0 - 1e-16))])
    np.testing.assert_array_equal(grad[:3], 0.0)  # flat where the log is clamped
    assert grad[3] == pytest.approx(1.0 / (1.0 - (1.0 - 1e-16)))
    cce = fl.CategoricalCrossEntropy(reduction="none")
    values, grad = cce.value_and_gradient([[1.0, 0.0], [0.5, 0.5]], [[0.0, 1.0], [0.5, 0.5]])
    np.testing.assert_allclose(values, [100.0, np.log(2.0)])
    np.testing.assert_array_equal(grad[0], [0.0, 0.0])
    np.testing.assert_allclose(grad[1], [-1.0, -1.0])


# ---- agreement between the losses and with the frameworks' definitions ----------------

def test_binary_and_two_class_softmax_agree():
    z = logits(N, 3.0, 12)
    y = (rng(13).random(N) < 0.5).astype(np.int64)
    rows = np.stack([np.zeros(N), z], axis=1)
    bce = fl.BinaryCrossEntropy(from_logits=True)
    sce = fl.SparseCategoricalCrossEntropy(from_logits=True)
    np.testing.assert_allclose(bce(y.astype(float), z), sce(y, rows), rtol=1e-14)
    bg, bh = bce.gradient_hessian(y.astype(float), z)
    sg, sh = sce.gradient_hessian(y, rows)
    np.testing.assert_allclose(bg, sg[:, 1], rtol=1e-13, atol=1e-17)
    np.testing.assert_allclose(bh, sh[:, 1], rtol=1e-13)
    # probabilities, and the focal losses without alpha on hard labels
    p = sigmoid(z)
    np.testing.assert_allclose(
        fl.binary_cross_entropy(y, p),
        fl.categorical_cross_entropy(np.eye(2)[y], np.stack([1 - p, p], axis=1)), rtol=1e-12)
    np.testing.assert_allclose(
        fl.binary_focal(y, z, from_logits=True, alpha=None, gamma=1.7),
        fl.sparse_categorical_focal(y, rows, from_logits=True, gamma=1.7), rtol=1e-13)
    bg = fl.BinaryFocal(from_logits=True, alpha=None).gradient(y, z)
    sg = fl.SparseCategoricalFocal(from_logits=True).gradient(y, rows)
    np.testing.assert_allclose(bg, sg[:, 1], rtol=1e-12, atol=1e-17)


def test_sparse_equals_dense_one_hot():
    z = logits((N, C), 2.0, 14)
    y = labels(15)
    onehot = np.eye(C)[y]
    w = rng(16).random(C) + 0.1
    sw = rng(17).random(N)
    pairs = [
        (fl.SparseCategoricalCrossEntropy(from_logits=True, label_smoothing=0.2,
                                          class_weight=w),
         fl.CategoricalCrossEntropy(from_logits=True, label_smoothing=0.2, class_weight=w)),
        (fl.SparseCategoricalFocal(from_logits=True, alpha=w),
         fl.CategoricalFocal(from_logits=True, alpha=w)),
        (fl.PolyLoss(from_logits=True), fl.PolyLoss(from_logits=True)),
        (fl.CategoricalHinge(), fl.CategoricalHinge()),
    ]
    for sparse, dense in pairs:
        np.testing.assert_allclose(sparse(y, z, sample_weight=sw),
                                   dense(onehot, z, sample_weight=sw), rtol=1e-14)
        np.testing.assert_allclose(sparse.gradient(y, z), dense.gradient(onehot, z),
                                   rtol=1e-13, atol=1e-17)


# Classes where sparse cross-entropy changes path: rows of up to 16 classes are computed
# eight at a time, rows of more than 2048 classes (one chunk) in one pass chunk by chunk.
ROW_PATH_CLASSES = [1, 3, 9, 16, 17, 2048, 2049, 5000]


@pytest.mark.parametrize("n_classes", ROW_PATH_CLASSES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sparse_ce_row_paths_match_dense_kernel(n_classes, dtype):
    """Plain sparse cross-entropy (its own row paths) against the dense kernel on one-hot
    rows, with ties, a max far into the row, sample weights and ignored rows, over a
    row count that leaves a partial group of eight."""
    gen = rng(n_classes)
    n = 21
    z = gen.normal(size=(n, n_classes)) * 30.0
    z[1] = z[1, 0]                                  # one value repeated: all tied
    z[2, n_classes // 2] = z[2].max() + 5.0         # the max in the middle chunk
    z[3, -1] = z[3].max() + 50.0                    # the max in the last chunk
    z[4, : (n_classes + 1) // 2] -= 1000.0          # the first chunks vanish
    z[5, ::7] = z[5].max() + 1.0                    # the max repeated in every chunk
    z = z.astype(dtype)
    y = gen.integers(0, n_classes, n)
    y[6] = -100
    sw = gen.random(n)
    onehot = np.eye(n_classes, dtype=dtype)[np.where(y < 0, 0, y)] * (y >= 0)[:, None]
    sparse = fl.SparseCategoricalCrossEntropy(from_logits=True, reduction="none",
                                              ignore_index=-100)
    dense = fl.CategoricalCrossEntropy(from_logits=True, reduction="none")
    rtol, atol = (1e-12, 1e-15) if dtype == np.float64 else (2e-5, 1e-7)
    for weight in (None, sw):
        values, grad = sparse.value_and_gradient(y, z, sample_weight=weight)
        want_values, want_grad = dense.value_and_gradient(onehot, z, sample_weight=weight)
        np.testing.assert_allclose(values, want_values, rtol=rtol, atol=atol)
        np.testing.assert_allclose(grad, want_grad, rtol=rtol, atol=atol)
        np.testing.assert_array_equal(sparse(y, z, sample_weight=weight), values)
    grad, hess = sparse.gradient_hessian(y, z)
    want_grad, want_hess = dense.gradient_hessian(onehot, z)
    np.testing.assert_allclose(grad, want_grad, rtol=rtol, atol=atol)
    np.testing.assert_allclose(hess, want_hess, rtol=rtol, atol=atol)


def test_sparse_ce_long_rows_special_values():
    """Infinities and NaN in a later chunk of a long row follow the rules of short rows."""
    n_classes = 5000
    z = np.zeros((5, n_classes))
    z[0, 4500] = np.inf                     # certain: loss 0 at 4500, gradient 0
    z[1, [10, 4500]] = np.inf               # two +inf: no softmax
    z[2, 3000] = np.nan
    z[3] = -np.inf
    z[4, :2048] = -np.inf                   # the first chunk contributes nothing
    ce = fl.SparseCategoricalCrossEntropy(from_logits=True, reduction="none")
    values, grad = ce.value_and_gradient([4500, 4500, 0, 0, 2048], z)
    np.testing.assert_array_equal(ce([4500, 4500, 0, 0, 2048], z), values)
    assert values[0] == 0.0 and not grad[0].any()
    assert np.isnan(values[1:4]).all() and np.isnan(grad[1:4]).all()
    assert values[4] == pytest.approx(np.log(n_classes - 2048), rel=1e-15)
    assert not grad[4, :2048].any()
    np.testing.assert_allclose(grad[4, 2049:], 1.0 / (n_classes - 2048), rtol=1e-14)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sparse_ce_streamed_gradient_has_the_bits_of_cached_one(dtype):
    """A gradient of at least 32 MiB is written with non-temporal stores; rows of an
    odd class count start off the 64-byte boundaries, so each row also takes the
    ordinary stores before its first boundary. The bits equal those of calls small
    enough for ordinary stores, row by row; the value is unchanged."""
    n_classes = 8193
    n_rows = (32 << 20) // (n_classes * np.dtype(dtype).itemsize) + 3
    gen = rng(44)
    z = (gen.normal(size=(n_rows, n_classes)) * 4.0).astype(dtype)
    y = gen.integers(0, n_classes, n_rows)
    sw = gen.random(n_rows)
    ce = fl.SparseCategoricalCrossEntropy(from_logits=True, reduction="sum")
    value, grad = ce.value_and_gradient(y, z, sample_weight=sw)
    assert grad.nbytes >= 32 << 20
    for start in range(0, n_rows, 128):
        rows = slice(start, start + 128)
        _, want = ce.value_and_gradient(y[rows], z[rows], sample_weight=sw[rows])
        np.testing.assert_array_equal(grad[rows], want)
    assert value == ce(y, z, sample_weight=sw)


def test_torch_class_weights_and_label_smoothing():
    """torch.nn.functional.cross_entropy(z, y, weight=w, label_smoothing=ls) written out
    (aten/src/ATen/native/LossNLL.cpp, cross_entropy_loss_label_smoothing)."""
    z = logits((N, C), 2.0, 18)
    y = labels(19)
    w = rng(20).random(C) + 0.1
    ls = 0.15
    shifted = z - z.max(axis=1, keepdims=True)
    logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    nll = -w[y] * logp[np.arange(N), y]
    smooth = -(logp * w).sum(axis=1)
    torch_none = (1 - ls) * nll + ls / C * smooth
    torch_mean = ((1 - ls) * nll.sum() + ls / C * smooth.sum()) / w[y].sum()
    loss = fl.SparseCategoricalCrossEntropy(from_logits=True, label_smoothing=ls, class_weight=w)
    np.testing.assert_allclose(loss(y, z), torch_mean, rtol=1e-13)
    np.testing.assert_allclose(
        fl.sparse_categorical_cross_entropy(y, z, from_logits=True, label_smoothing=ls,
                                            class_weight=w, reduction="none"),
        torch_none, rtol=1e-13)
    # ignore_index=-100 (torch's default value): ignored rows leave loss and denominator
    y_ignored = y.copy()
    y_ignored[::3] = -100
    keep = y_ignored != -100
    loss = fl.SparseCategoricalCrossEntropy(from_logits=True, class_weight=w,
                                            ignore_index=-100)
    np.testing.assert_allclose(loss(y_ignored, z), nll[keep].sum() / w[y[keep]].sum(),
                               rtol=1e-13)
    grad = loss.gradient(y_ignored, z)
    np.testing.assert_array_equal(grad[~keep], 0.0)


def test_soft_targets_with_class_weights_divide_by_target_weighted_rows():
    t = soft_targets(21)
    z = logits((N, C), 2.0, 22)
    w = rng(23).random(C) + 0.1
    logp = np.log(softmax(z))
    expected = -(t * w * logp).sum() / (t @ w).sum()
    np.testing.assert_allclose(
        fl.categorical_cross_entropy(t, z, from_logits=True, class_weight=w), expected,
        rtol=1e-13)


def test_keras_label_smoothing():
    y = (rng(24).random(N) < 0.5).astype(float)
    z = logits(N, 2.0, 25)
    smoothed = y * (1 - 0.2) + 0.1
    np.testing.assert_allclose(
        fl.binary_cross_entropy(y, z, from_logits=True, label_smoothing=0.2),
        fl.binary_cross_entropy(smoothed, z, from_logits=True), rtol=1e-14)
    t = np.eye(C)[labels(26)]
    zc = logits((N, C), 2.0, 27)
    np.testing.assert_allclose(
        fl.categorical_cross_entropy(t, zc, from_logits=True, label_smoothing=0.2),
        fl.categorical_cross_entropy(t * 0.8 + 0.2 / C, zc, from_logits=True), rtol=1e-14)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("C", [17, 100])
def test_sparse_ce_values_in_groups_of_rows_keep_their_bits(C, dtype):
    """The value without a gradient takes plain rows eight at a time: every row count
    (a partial last group), NaN, infinite and ignored rows give value_and_gradient's
    bits."""
    rng = np.random.default_rng(C)
    for n in (1, 9, 17):
        z = (rng.standard_normal((n, C)) * 4).astype(dtype)
        y = rng.integers(0, C, n)
        z[0, 3] = np.nan
        if n > 1:
            z[1, :], y[2] = -np.inf, -100
        if n > 8:
            z[8, 5], z[3, 1:3], z[4, y[4]] = np.inf, np.inf, np.inf
        for reduction in ("none", "sum"):
            loss = fl.SparseCategoricalCrossEntropy(from_logits=True, ignore_index=-100,
                                                    reduction=reduction)
            value = np.asarray(loss(y, z))
            assert value.tobytes() == np.asarray(loss.value_and_gradient(y, z)[0]).tobytes()


@pytest.mark.parametrize("gamma", [0.0, 0.5, 1.0, 2.0])
def test_focal_reference_at_certain_probabilities(gamma):
    """The oracle's focal derivatives where p_y = 1 (q = 0): no 0 * inf."""
    from fastloss import reference

    y, p = [0, 1], np.array([[1.0, 0.0, 0.0], [0.2, 0.5, 0.3]])
    loss = fl.SparseCategoricalFocal(gamma=gamma, reduction="sum")
    grad = reference.sparse_categorical_focal_grad(y, p, gamma=gamma, reduction="sum")
    assert np.isfinite(grad).all()
    np.testing.assert_allclose(grad, loss.gradient(y, p), rtol=1e-12)
    if gamma == 0.0:  # cross-entropy on probabilities: -1 / p_y at the label
        np.testing.assert_array_equal(grad[0], [-1.0, 0.0, 0.0])


def test_torchvision_sigmoid_focal_loss():
    """torchvision.ops.sigmoid_focal_loss(inputs, targets, alpha, gamma) written out."""
    z = logits((N, 3), 2.0, 28)
    t = (rng(29).random((N, 3)) < 0.3).astype(float)
    p = sigmoid(z)
    ce = np.maximum(z, 0) - z * t + np.log1p(np.exp(-np.abs(z)))
    p_t = p * t + (1 - p) * (1 - t)
    loss = ce * (1 - p_t) ** 2.0
    alpha_t = 0.25 * t + 0.75 * (1 - t)
    np.testing.assert_allclose(fl.binary_focal(t, z, from_logits=True), (alpha_t * loss).mean(),
                               rtol=1e-13)
    np.testing.assert_allclose(fl.binary_focal(t, z, from_logits=True, alpha=None),
                               loss.mean(), rtol=1e-13)


def test_multilabel_pos_weight_per_column():
    y = (rng(30).random((N, 3)) < 0.5).astype(float)
    z = logits((N, 3), 2.0, 31)
    pw = np.array([0.5, 2.0, 7.0])
    per_column = fl.BinaryCrossEntropy(from_logits=True, pos_weight=pw, reduction="none")(y, z)
    for j in range(3):
        column = fl.BinaryCrossEntropy(from_logits=True, pos_weight=pw[j], reduction="none")
        np.testing.assert_array_equal(per_column[:, j], column(y[:, j], z[:, j]))


def test_hinge_label_conventions_agree():
    z = logits(N, 2.0, 32)
    y01 = (rng(33).random(N) < 0.5).astype(float)
    for cls in (fl.Hinge, fl.SquaredHinge):
        loss = cls(reduction="none")
        np.testing.assert_array_equal(loss(y01, z), loss(2 * y01 - 1, z))
        np.testing.assert_array_equal(loss(y01.astype(np.int8), z), loss(y01, z))
    assert fl.Hinge.exact_hessian is False and fl.SquaredHinge.exact_hessian is True


def test_label_dtypes():
    z = logits((N, C), 2.0, 34)
    y = labels(35)
    expected = fl.sparse_categorical_cross_entropy(y, z, from_logits=True)
    for dtype in (np.int8, np.uint8, np.int16, np.uint16, np.int32, np.uint32, np.uint64,
                  np.float32, np.float64):
        assert fl.sparse_categorical_cross_entropy(
            y.astype(dtype), z, from_logits=True) == expected
    assert fl.sparse_categorical_cross_entropy(list(y), z.tolist(), from_logits=True) == expected
    strided = np.repeat(y, 2)[::2]
    assert fl.sparse_categorical_cross_entropy(strided, np.asfortranarray(z),
                                               from_logits=True) == expected


# ---- reductions, weights and outputs ------------------------------------------------

def test_all_ignored_mean_is_an_error():
    z = logits((3, C), 1.0, 39)
    with pytest.raises(ValueError, match="mean"):
        fl.sparse_categorical_cross_entropy([-1, -1, -1], z, ignore_index=-1, from_logits=True)
    assert fl.sparse_categorical_cross_entropy([-1, -1, -1], z, ignore_index=-1,
                                               from_logits=True, reduction="sum") == 0.0


def test_row_weights_are_one_per_row():
    z = logits((N, C), 2.0, 40)
    y = labels(41)
    loss = fl.SparseCategoricalCrossEntropy(from_logits=True)
    with pytest.raises(ValueError, match="sample_weight"):
        loss(y, z, sample_weight=np.ones((N, C)))  # row-wise: one weight per row


# ---- objects ------------------------------------------------------------------------

def test_exact_hessian_flags():
    inexact = {fl.Hinge, fl.CategoricalHinge}
    for cls in {entry.cls for entry in registry.family("classification")}:
        assert cls.exact_hessian is (cls not in inexact), cls


# ---- bad input ----------------------------------------------------------------------

@pytest.mark.parametrize(("cls", "params", "match"), [
    (fl.BinaryCrossEntropy, {"label_smoothing": -0.1}, "label_smoothing"),
    (fl.BinaryCrossEntropy, {"label_smoothing": 1.5}, "label_smoothing"),
    (fl.BinaryCrossEntropy, {"from_logits": "yes"}, "from_logits"),
    (fl.BinaryCrossEntropy, {"pos_weight": -1.0}, "pos_weight"),
    (fl.BinaryCrossEntropy, {"pos_weight": [1.0, np.nan]}, "pos_weight"),
    (fl.BinaryCrossEntropy, {"pos_weight": [[1.0]]}, "pos_weight"),
    (fl.BinaryCrossEntropy, {"pos_weight": []}, "pos_weight"),
    (fl.BinaryCrossEntropy, {"reduction": "avg"}, "reduction"),
    (fl.BinaryFocal, {"gamma": -1.0}, "gamma"),
    (fl.BinaryFocal, {"alpha": 1.5}, "alpha"),
    (fl.BinaryFocal, {"gamma": np.inf}, "gamma"),
    (fl.CategoricalCrossEntropy, {"class_weight": 2.0}, "class_weight"),
    (fl.CategoricalCrossEntropy, {"class_weight": [1.0, -2.0]}, "class_weight"),
    (fl.CategoricalCrossEntropy, {"class_weight": ["a"]}, "class_weight"),
    (fl.SparseCategoricalCrossEntropy, {"ignore_index": 1.5}, "ignore_index"),
    (fl.SparseCategoricalCrossEntropy, {"ignore_index": True}, "ignore_index"),
    (fl.CategoricalFocal, {"alpha": [0.5, -1.0]}, "alpha"),
    (fl.CategoricalHinge, {"margin": np.nan}, "margin"),
    (fl.PolyLoss, {"epsilon": -2.0}, "epsilon"),
    (fl.GeneralizedCrossEntropy, {"q": 0.0}, "q"),
    (fl.GeneralizedCrossEntropy, {"q": 1.5}, "q"),
    (fl.KLDivergence, {"from_logits": 1}, "from_logits"),
    (fl.CategoricalCrossEntropy, {"from_logits": True, "z_loss": -1e-4}, "z_loss"),
    (fl.SparseCategoricalCrossEntropy, {"z_loss": 1e-4}, "from_logits=True"),
    (fl.SparseCategoricalCrossEntropy, {"from_logits": True, "z_loss": np.inf}, "z_loss"),
    (fl.NLL, {"ignore_index": "x"}, "ignore_index"),
    (fl.NLL, {"class_weight": [1.0, np.nan]}, "class_weight"),
    (fl.MultiMargin, {"p": 3}, "p must be 1 or 2"),
    (fl.MultiMargin, {"p": True}, "p must be 1 or 2"),
    (fl.MultiMargin, {"kind": "hinge"}, "kind"),
    (fl.MultiMargin, {"margin": np.inf}, "margin"),
    (fl.MultiMargin, {"class_weight": -1.0}, "class_weight"),
])
def test_bad_parameters(cls, params, match):
    with pytest.raises(ValueError, match=match):
        cls(**params)


def test_bad_binary_inputs():
    with pytest.raises(ValueError, match=r"y_true must be in \[0, 1\]; got \S*1.5\S* at index 2"):
        fl.binary_cross_entropy([0.0, 1.0, 1.5], [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match=r"y_true .*nan\S* at index 0"):
        fl.binary_cross_entropy([np.nan], [0.1], from_logits=True)
    with pytest.raises(ValueError, match=r"y_pred \(probabilities.*-0.1\S* at index \(1, 0\)"):
        fl.binary_cross_entropy(np.zeros((2, 2)), [[0.5, 0.5], [-0.1, 0.5]])
    assert np.isnan(fl.binary_cross_entropy([1.0], [np.nan]))  # NaN predictions propagate
    with pytest.raises(ValueError, match="pos_weight has 2 values but y_pred has 3 labels"):
        fl.binary_cross_entropy(np.zeros((4, 3)), np.zeros((4, 3)), from_logits=True,
                                pos_weight=[1.0, 2.0])
    with pytest.raises(ValueError, match="same shape"):
        fl.binary_cross_entropy(np.zeros(3), np.zeros((3, 1)), from_logits=True)
    with pytest.raises(ValueError, match=r"labels in \{0, 1\} or in \{-1, 1\}.*index 1"):
        fl.hinge([1.0, 2.0], [0.0, 0.0])
    with pytest.raises(ValueError, match="index 2"):
        fl.squared_hinge([1.0, 0.0, -1.0], [0.0, 0.0, 0.0])  # mixes 0 and -1
    with pytest.raises(TypeError):
        fl.binary_cross_entropy([1.0], np.array([1j]))


def test_bad_multiclass_inputs():
    z = logits((4, 3), 1.0, 43)
    with pytest.raises(ValueError, match=r"class label in \[0, 3\); got \S*3\S* at index 2"):
        fl.sparse_categorical_cross_entropy([0, 1, 3, 0], z, from_logits=True)
    with pytest.raises(ValueError, match=r"got \S*-1\S* at index 1"):
        fl.sparse_categorical_cross_entropy([0, -1, 2, 0], z, from_logits=True)
    with pytest.raises(ValueError, match=r"ignore_index=-100; got \S*-1\S* at index 3"):
        fl.sparse_categorical_cross_entropy([0, -100, 2, -1], z, from_logits=True,
                                            ignore_index=-100)
    with pytest.raises(ValueError, match="index 0"):
        fl.sparse_categorical_cross_entropy(np.array([2**63 + 5, 0, 0, 0], np.uint64), z,
                                            from_logits=True)
    with pytest.raises(ValueError, match=r"0.5\S* at index 1"):
        fl.sparse_categorical_cross_entropy([0.0, 0.5, 1.0, 2.0], z, from_logits=True)
    with pytest.raises(TypeError, match="integer class labels"):
        fl.sparse_categorical_cross_entropy(["a", "b", "c", "d"], z, from_logits=True)
    with pytest.raises(ValueError, match=r"shape \(4,\)"):
        fl.sparse_categorical_cross_entropy([0, 1, 2], z, from_logits=True)
    with pytest.raises(ValueError, match="same shape"):
        fl.categorical_cross_entropy(np.full((4, 4), 0.25), z, from_logits=True)
    with pytest.raises(ValueError, match=r"probability rows of y_pred's shape \(4, 3\)"):
        fl.poly_loss(np.full((4, 4), 0.25), z, from_logits=True)
    with pytest.raises(ValueError, match="2-D"):
        fl.categorical_cross_entropy(np.full(3, 1 / 3), z[0], from_logits=True)
    with pytest.raises(ValueError, match="2-D"):
        fl.sparse_categorical_cross_entropy(np.zeros(4, int), np.zeros((4, 0)))
    with pytest.raises(ValueError, match=r"in \[0, 1\]; got \S*1.2\S* at index \(0, 1\)"):
        fl.categorical_cross_entropy([[0.0, 1.2, 0.0]] * 4, z, from_logits=True)
    with pytest.raises(ValueError, match=r"y_pred \(probabilities.*at index \(0, 0\)"):
        fl.categorical_cross_entropy(np.full((4, 3), 1 / 3), z - 5.0)
    with pytest.raises(ValueError, match="class_weight has 2 values but y_pred has 3 classes"):
        fl.categorical_cross_entropy(np.full((4, 3), 1 / 3), z, from_logits=True,
                                     class_weight=[1.0, 2.0])
    with pytest.raises(ValueError, match="alpha has 4 values but y_pred has 3 classes"):
        fl.sparse_categorical_focal([0, 1, 2, 0], z, from_logits=True, alpha=[1.0] * 4)
    with pytest.raises(TypeError):
        fl.categorical_cross_entropy(np.full((4, 3), "a"), z, from_logits=True)
    for shortcut in (fl.nll, fl.multi_margin):  # integer labels only
        with pytest.raises(ValueError, match=r"one class label per row, shape \(4,\)"):
            shortcut(np.full((4, 3), 1 / 3), z)
        with pytest.raises(ValueError, match=r"class label in \[0, 3\); got \S*5\S* at index 1"):
            shortcut([0, 5, 1, 1], z)
    with pytest.raises(ValueError, match="class_weight has 2 values but y_pred has 3 classes"):
        fl.multi_margin([0, 1, 2, 0], z, class_weight=[1.0, 2.0])
