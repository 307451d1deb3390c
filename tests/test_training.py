"""fastloss.training: optimizers and schedules against torch.optim and optax, early
stopping and plateau epochs on scripted sequences, clipping, models, fit, plots."""

import math
import os
import struct
import warnings

import numpy as np
import pytest

import fastloss as fl
from fastloss import training as T

pytestmark = pytest.mark.one_kernel_set


def rng(seed=0):
    return np.random.default_rng(seed)


# ---- optimizers against torch.optim ------------------------------------------------

OPTIMIZER_CASES = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True)),
    ("SGD", dict(lr=0.1, momentum=0.8, dampening=0.3, weight_decay=0.01)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, alpha=0.9, momentum=0.9, centered=True, weight_decay=0.1)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1)),
    ("Adam", dict(lr=0.01, amsgrad=True)),
    ("AdamW", dict(lr=0.01)),
    ("AdamW", dict(lr=0.02, weight_decay=0.5, amsgrad=True)),
]


@pytest.mark.parametrize(("name", "kwargs"), OPTIMIZER_CASES,
                         ids=[f"{n}-{k}" for n, k in OPTIMIZER_CASES])
def test_optimizer_trajectory_matches_torch(name, kwargs):
    torch = pytest.importorskip("torch")
    r = rng(1)
    start = [r.normal(size=(6, 3)), r.normal(size=3), np.array(0.5)]
    mine = [p.copy() for p in start]
    theirs = [torch.tensor(p, dtype=torch.float64, requires_grad=True) for p in start]
    opt = getattr(T, name)(mine, **kwargs)
    topt = getattr(torch.optim, name)(theirs, **kwargs)
    for step in range(100):
        # Gradients of a noisy quadratic, computed from the current parameters.
        grads = [0.5 * p + r.normal(size=p.shape) for p in mine]
        if step == 60:  # a learning-rate change mid-run, as a schedule makes
            opt.lr = kwargs["lr"] / 3
            for group in topt.param_groups:
                group["lr"] = opt.lr
        for t, g in zip(theirs, grads, strict=True):
            t.grad = torch.tensor(g, dtype=torch.float64)
        topt.step()
        opt.step(grads)
    for a, b in zip(mine, theirs, strict=True):
        np.testing.assert_allclose(a, b.detach().numpy(), rtol=0, atol=1e-12)


def test_float32_parameters_stay_float32():
    w = np.ones(4, dtype=np.float32)
    opt = T.Adam([w], lr=0.1)
    opt.step([np.ones(4)])
    assert w.dtype == np.float32
    np.testing.assert_allclose(w, 0.9, rtol=1e-6)


def test_optimizer_errors():
    w = np.zeros(3)
    with pytest.raises(TypeError, match="params"):
        T.SGD(3.0)
    with pytest.raises(ValueError, match="empty"):
        T.SGD([])
    with pytest.raises(TypeError, match="floating-point"):
        T.Adam([np.zeros(3, dtype=int)])
    with pytest.raises(ValueError, match="lr must be a finite number >= 0"):
        T.Adam([w], lr=-1.0)
    with pytest.raises(ValueError, match="betas\\[1\\]"):
        T.Adam([w], betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="nesterov"):
        T.SGD([w], momentum=0.0, nesterov=True)
    opt = T.SGD([w], lr=0.1)
    with pytest.raises(ValueError, match="shape"):
        opt.step([np.zeros(4)])
    with pytest.raises(ValueError, match="1 parameters"):
        opt.step([np.zeros(3), np.zeros(3)])
    with pytest.raises(ValueError, match="lr"):
        opt.lr = math.nan
    readonly = np.zeros(2)
    readonly.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        T.SGD([readonly])


# ---- clipping and transformations --------------------------------------------------

def test_clip_by_value_and_global_norm():
    grads = [np.array([3.0, -4.0]), np.array([[12.0]])]
    clipped = T.clip_by_value(grads, 3.5)
    np.testing.assert_array_equal(clipped[0], [3.0, -3.5])
    np.testing.assert_array_equal(clipped[1], [[3.5]])
    scaled, norm = T.clip_by_global_norm(grads, 6.5)
    assert norm == pytest.approx(13.0)
    assert T.global_norm(scaled) == pytest.approx(6.5)
    np.testing.assert_allclose(scaled[0], np.array([3.0, -4.0]) / 2)
    same, norm = T.clip_by_global_norm(grads, 20.0)
    assert norm == pytest.approx(13.0) and same[0] is not grads[0]
    np.testing.assert_array_equal(same[0], grads[0])
    with pytest.raises(ValueError, match="max_norm"):
        T.clip_by_global_norm(grads, 0.0)
    with pytest.raises(ValueError, match="limit"):
        T.clip_by_value(grads, -1.0)


def test_clip_by_global_norm_matches_torch():
    torch = pytest.importorskip("torch")
    r = rng(2)
    grads = [r.normal(size=(4, 5)) * 10, r.normal(size=5)]
    tensors = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads]
    for t, g in zip(tensors, grads, strict=True):
        t.grad = torch.tensor(g)
    norm = torch.nn.utils.clip_grad_norm_(tensors, 1.0)
    mine, my_norm = T.clip_by_global_norm(grads, 1.0)
    assert my_norm == pytest.approx(float(norm), rel=1e-12)
    for a, t in zip(mine, tensors, strict=True):
        np.testing.assert_allclose(a, t.grad.numpy(), rtol=1e-6)  # torch adds 1e-6 to the norm


def test_chain_applies_transforms_in_order():
    w = np.array([1.0, 1.0])
    transform = T.chain(T.AddWeightDecay(1.0), T.ClipByValue(2.0), T.ClipByGlobalNorm(1.0))
    opt = T.SGD([w], lr=1.0, transform=transform)
    opt.step([np.array([5.0, 0.0])])  # +w: [6, 1]; clip: [2, 1]; norm sqrt(5) -> 1
    np.testing.assert_allclose(w, [1 - 2 / math.sqrt(5), 1 - 1 / math.sqrt(5)])
    assert transform.transforms[-1].last_norm == pytest.approx(math.sqrt(5))
    with pytest.raises(TypeError, match="callables"):
        T.chain(3)


# ---- schedules ---------------------------------------------------------------------

def test_schedules_follow_their_formulas():
    assert [T.constant_lr(0.3)(t) for t in range(3)] == [0.3] * 3
    step = T.step_lr(1.0, step_size=3, gamma=0.5)
    assert [step(t) for t in range(7)] == [1, 1, 1, 0.5, 0.5, 0.5, 0.25]
    expo = T.exponential_lr(2.0, gamma=0.9)
    assert expo(5) == pytest.approx(2.0 * 0.9**5, rel=1e-15)
    cosine = T.cosine_lr(1.0, 10, warmup_steps=4, warmup_start=0.2, final_lr=0.1)
    assert cosine(0) == pytest.approx(0.2)
    assert cosine(2) == pytest.approx(0.6)
    assert cosine(4) == pytest.approx(1.0)
    assert cosine(7) == pytest.approx(0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * 3 / 6)))
    assert cosine(10) == cosine(50) == pytest.approx(0.1)


def test_schedules_match_torch_lr_schedulers():
    torch = pytest.importorskip("torch")
    S = torch.optim.lr_scheduler

    def torch_lrs(make, steps=30):
        opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.5)
        scheduler = make(opt)
        lrs = []
        for _ in range(steps):
            lrs.append(opt.param_groups[0]["lr"])
            opt.step()
            scheduler.step()
        return lrs

    cases = [
        (lambda o: S.StepLR(o, step_size=4, gamma=0.3), T.step_lr(0.5, 4, gamma=0.3)),
        (lambda o: S.ExponentialLR(o, gamma=0.9), T.exponential_lr(0.5, 0.9)),
        (lambda o: S.CosineAnnealingLR(o, T_max=30, eta_min=0.01),
         T.cosine_lr(0.5, 30, final_lr=0.01)),
        (lambda o: S.ConstantLR(o, factor=1.0, total_iters=0), T.constant_lr(0.5)),
    ]
    for make, schedule in cases:
        np.testing.assert_allclose([schedule(t) for t in range(30)], torch_lrs(make),
                                   rtol=1e-12, err_msg=repr(schedule))


def test_cosine_warmup_matches_optax():
    optax = pytest.importorskip("optax")
    reference = optax.warmup_cosine_decay_schedule(
        init_value=0.01, peak_value=0.5, warmup_steps=5, decay_steps=40, end_value=0.02)
    mine = T.cosine_lr(0.5, 40, warmup_steps=5, warmup_start=0.01, final_lr=0.02)
    np.testing.assert_allclose([mine(t) for t in range(50)],
                               [float(reference(t)) for t in range(50)], rtol=1e-6)


def test_schedule_errors():
    with pytest.raises(ValueError, match="step_size"):
        T.step_lr(0.1, 0)
    with pytest.raises(ValueError, match="must exceed warmup_steps"):
        T.cosine_lr(0.1, 5, warmup_steps=5)
    with pytest.raises(ValueError, match="step must be an integer"):
        T.constant_lr(0.1)(-1)


PLATEAU_SEQUENCES = {
    "noisy descent": [10, 9, 9.5, 9.2, 8, 8.1, 8.05, 8.2, 8.3, 7, 7.5, 7.6, 7.7, 7.8, 7.9,
                      8.0, 6.0, 6.0, 6.0, 6.0, 6.0, 6.0, 5.0, 5.1, 5.2, 5.3, 5.4, 5.5],
    "flat": [1.0] * 25,
    "rising": list(np.linspace(1, 3, 25)),
}


@pytest.mark.parametrize("sequence", list(PLATEAU_SEQUENCES))
@pytest.mark.parametrize("options", [
    dict(), dict(patience=2, factor=0.5), dict(patience=1, cooldown=2, factor=0.5),
    dict(patience=0, threshold=0.1, threshold_mode="abs", min_lr=0.02),
    dict(mode="max", patience=2, factor=0.5),
    dict(mode="max", patience=1, threshold_mode="abs", threshold=0.5),
])
def test_reduce_on_plateau_reduces_at_torchs_epochs(sequence, options):
    torch = pytest.importorskip("torch")
    values = PLATEAU_SEQUENCES[sequence]
    opt = T.SGD([np.zeros(1)], lr=1.0)
    mine = T.ReduceLROnPlateau(opt, **options)
    topt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
    theirs = torch.optim.lr_scheduler.ReduceLROnPlateau(topt, **options)
    for value in values:
        mine.step(value)
        theirs.step(value)
        assert opt.lr == pytest.approx(topt.param_groups[0]["lr"], rel=1e-15)


def test_reduce_on_plateau_by_hand_and_errors():
    opt = T.SGD([np.zeros(1)], lr=1.0)
    plateau = T.ReduceLROnPlateau(opt, factor=0.5, patience=2, cooldown=1, min_lr=0.2)
    reduced = [plateau.step(v) for v in [5, 4] + [4] * 15]
    # Bad epochs 3, 4, 5 (1-based; 3 > patience 2) -> 0.5 at epoch 5; one epoch of
    # cooldown, three more bad ones -> 0.25 at 9; -> max(0.125, 0.2) = 0.2 at 13; at 17
    # max(0.1, 0.2) = 0.2 is no change.
    assert plateau.reductions == [5, 9, 13]
    assert opt.lr == 0.2 and reduced.count(True) == 3
    with pytest.raises(ValueError, match="factor"):
        T.ReduceLROnPlateau(opt, factor=1.0)
    with pytest.raises(ValueError, match="mode"):
        T.ReduceLROnPlateau(opt, mode="up")
    with pytest.raises(TypeError, match="lr"):
        T.ReduceLROnPlateau(object())
    with pytest.raises(TypeError, match="number"):
        plateau.step("low")


# ---- early stopping ----------------------------------------------------------------

def test_early_stopping_stops_and_restores_best_parameters():
    w = np.zeros(3)
    stop = T.EarlyStopping(patience=3, min_delta=0.05)
    losses = [1.0, 0.8, 0.7, 0.69, 0.72, 0.66, 0.9, 0.95]
    # 0.69 and 0.66 do not beat 0.7 by 0.05: epochs 3, 4, 5 are not improvements.
    results = []
    for epoch, value in enumerate(losses):
        w[...] = epoch  # the parameters "trained" to epoch
        results.append(stop.step(value, [w]))
        if results[-1]:
            break
    assert results == [False, False, False, False, False, True]
    assert stop.best_epoch == 2 and stop.stopped_epoch == 5 and stop.best == 0.7
    np.testing.assert_array_equal(w, [2.0, 2.0, 2.0])  # restored in place


def test_early_stopping_max_mode_without_restore_matches_keras_rule():
    stop = T.EarlyStopping(patience=2, mode="max", restore_best=False)
    w = np.zeros(1)
    accuracies = [0.5, 0.6, 0.6, 0.55, 0.7]
    flags = []
    for value in accuracies:
        w += 1
        flags.append(stop.step(value, [w]))
        if flags[-1]:
            break
    assert flags == [False, False, False, True]
    assert stop.best_epoch == 1 and stop.stopped_epoch == 3 and w[0] == 4.0
    # patience 0 never stops at the first epoch (Keras: epoch > 0).
    zero = T.EarlyStopping(patience=0)
    assert [zero.step(v) for v in [1.0, 2.0]] == [False, True]


def test_early_stopping_matches_keras(monkeypatch):
    monkeypatch.setenv("KERAS_BACKEND", os.environ.get("KERAS_BACKEND", "numpy"))
    keras = pytest.importorskip("keras")
    values = [1.0, 0.9, 0.95, 0.91, 0.85, 0.86, 0.86, 0.87, 0.84, 0.9, 0.99, 1.2]
    for patience, min_delta in [(1, 0.0), (2, 0.0), (2, 0.02), (3, 0.01)]:
        callback = keras.callbacks.EarlyStopping(monitor="loss", patience=patience,
                                                 min_delta=min_delta)

        class Model:
            stop_training = False

        callback.set_model(Model())
        callback.on_train_begin()
        stop = T.EarlyStopping(patience=patience, min_delta=min_delta)
        for epoch, value in enumerate(values):
            callback.on_epoch_end(epoch, {"loss": value})
            assert stop.step(value) == callback.model.stop_training, (patience, epoch)
            if callback.model.stop_training:
                break


def test_early_stopping_errors():
    with pytest.raises(ValueError, match="patience"):
        T.EarlyStopping(patience=-1)
    with pytest.raises(ValueError, match="mode"):
        T.EarlyStopping(mode="best")
    with pytest.raises(ValueError, match="min_delta"):
        T.EarlyStopping(min_delta=-0.1)


# ---- models ------------------------------------------------------------------------

@pytest.mark.parametrize("activation", ["relu", "sigmoid", "tanh"])
def test_mlp_backward_matches_finite_differences(activation):
    r = rng(3)
    model = T.MLP(4, hidden=(5, 3), n_outputs=2, activation=activation, seed=1)
    for p in model.params:
        p += r.normal(scale=0.1, size=p.shape)  # nonzero biases
    X, y = r.normal(size=(7, 4)), r.integers(0, 2, 7)
    loss = fl.SparseCategoricalCrossEntropy(from_logits=True)
    _, g = loss.value_and_gradient(y, model.forward(X))
    grads = model.backward(g)
    for p, grad in zip(model.params, grads, strict=True):
        numeric = np.zeros_like(p)
        for index in np.ndindex(p.shape):
            old = p[index]
            p[index] = old + 1e-6
            up = loss(y, model.predict(X))
            p[index] = old - 1e-6
            down = loss(y, model.predict(X))
            p[index] = old
            numeric[index] = (up - down) / 2e-6
        np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-8)


def test_linear_model_shapes_and_backward():
    r = rng(4)
    model = T.Linear(3, init="xavier", seed=0)
    X = r.normal(size=(10, 3))
    assert model.forward(X).shape == (10,)
    g = r.normal(size=10)
    dw, db = model.backward(g)
    np.testing.assert_allclose(dw, X.T @ g)
    assert db == pytest.approx(g.sum())
    ranking = T.Linear(3, bias=False)
    scores = ranking.forward(r.normal(size=(4, 6, 3)))
    assert scores.shape == (4, 6) and len(ranking.params) == 1
    (dw,) = ranking.backward(np.ones((4, 6)))
    assert dw.shape == (3,)
    wide = T.Linear(3, n_outputs=5, dtype=np.float32)
    assert wide.predict(X).dtype == np.float32 and wide.predict(X).shape == (10, 5)


def test_initializations_have_their_scale():
    he = T.MLP(400, hidden=(300,), seed=0)
    assert np.std(he.params[0]) == pytest.approx(math.sqrt(2 / 400), rel=0.02)
    xavier = T.MLP(400, hidden=(300,), activation="tanh", seed=0)
    assert np.std(xavier.params[0]) == pytest.approx(math.sqrt(2 / 700), rel=0.02)


def test_model_errors():
    with pytest.raises(ValueError, match="activation"):
        T.MLP(3, activation="gelu")
    with pytest.raises(ValueError, match="n_features"):
        T.Linear(0)
    with pytest.raises(ValueError, match="init"):
        T.Linear(3, init="orthogonal")
    with pytest.raises(ValueError, match="shape"):
        T.Linear(3).predict(np.zeros((2, 4)))
    with pytest.raises(RuntimeError, match="forward"):
        T.MLP(3).backward(np.zeros(2))


# ---- fit ---------------------------------------------------------------------------

def test_fit_reproduces_closed_form_least_squares():
    r = rng(5)
    X = r.normal(size=(200, 4))
    y = X @ np.array([1.0, -2.0, 0.5, 3.0]) + 0.7 + r.normal(scale=0.3, size=200)
    model = T.Linear(4)
    history = T.fit(model, fl.MeanSquaredError(), X, y, epochs=300, batch_size=None,
                    optimizer=T.SGD(model.params, lr=0.3, momentum=0.5))
    design = np.column_stack([X, np.ones(200)])
    exact, *_ = np.linalg.lstsq(design, y, rcond=None)
    np.testing.assert_allclose(np.append(model.params[0], model.params[1]), exact,
                               rtol=1e-9, atol=1e-9)
    assert history.train_loss[-1] < history.train_loss[0]
    assert len(history.lr) == len(history.grad_norm) == 300


def test_fit_trains_a_softmax_classifier():
    r = rng(6)
    centres = np.array([[2.0, 0.0], [-1.0, 1.7], [-1.0, -1.7]])
    labels = r.integers(0, 3, 1500)
    X = centres[labels] + r.normal(scale=0.7, size=(1500, 2))
    X_train, y_train, X_val, y_val = X[:1000], labels[:1000], X[1000:], labels[1000:]
    model = T.Linear(2, n_outputs=3)
    history = T.fit(model, fl.SparseCategoricalCrossEntropy(from_logits=True), X_train,
                    y_train, epochs=15, batch_size=50, validation_data=(X_val, y_val),
                    optimizer=T.Adam(model.params, lr=0.05), metrics=["accuracy", "f1"])
    # Bayes accuracy of these blobs is about 0.985; a linear softmax model reaches it.
    assert history.metrics["accuracy"][-1] > 0.96
    assert history.metrics["accuracy"][-1] == pytest.approx(
        np.mean(np.argmax(model.predict(X_val), axis=1) == y_val))
    assert history.val_loss[-1] < 0.15
    assert history.best_epoch is not None


def test_fit_with_float32_data_keeps_float32():
    r = rng(7)
    X = r.normal(size=(300, 3)).astype(np.float32)
    y = (X @ np.array([1.0, 2.0, 3.0], dtype=np.float32))
    model = T.Linear(3, dtype=np.float32)
    T.fit(model, fl.MeanSquaredError(), X, y, epochs=30, batch_size=64,
          optimizer=T.Adam(model.params, lr=0.1))
    assert model.params[0].dtype == np.float32
    np.testing.assert_allclose(model.params[0], [1.0, 2.0, 3.0], atol=0.05)


def test_fit_weights_rows():
    r = rng(8)
    X = np.ones((100, 1))
    y = np.where(np.arange(100) < 50, 0.0, 1.0)
    w = np.where(y == 1, 3.0, 1.0)
    model = T.Linear(1, bias=False)
    T.fit(model, fl.MeanSquaredError(), X, y, sample_weight=w, epochs=200, batch_size=None,
          optimizer=T.SGD(model.params, lr=0.5))
    assert model.params[0][0] == pytest.approx(0.75)  # the weighted mean
    del r


def test_fit_early_stopping_restores_the_best_epoch():
    r = rng(9)
    # An MLP with many parameters overfits 40 noisy points: validation loss turns up.
    X = r.uniform(-1, 1, size=(40, 1))
    y = np.sin(3 * X[:, 0]) + r.normal(scale=0.3, size=40)
    X_val = r.uniform(-1, 1, size=(400, 1))
    y_val = np.sin(3 * X_val[:, 0]) + r.normal(scale=0.3, size=400)
    model = T.MLP(1, hidden=(64, 64), seed=0)
    stop = T.EarlyStopping(patience=10)
    history = T.fit(model, fl.MeanSquaredError(), X, y, epochs=2000, batch_size=None,
                    validation_data=(X_val, y_val), early_stopping=stop,
                    optimizer=T.Adam(model.params, lr=0.01))
    assert history.stopped_epoch is not None and history.stopped_epoch < 1999
    assert history.stopped_epoch - history.best_epoch == 10
    assert history.best_epoch == int(np.argmin(history.val_loss))
    # The restored parameters give the best validation loss.
    restored = fl.MeanSquaredError()(y_val, model.predict(X_val))
    assert restored == pytest.approx(min(history.val_loss), rel=1e-12)


def test_fit_schedules_and_plateau_set_the_learning_rate():
    r = rng(10)
    X, y = r.normal(size=(64, 2)), r.normal(size=64)
    model = T.Linear(2)
    history = T.fit(model, fl.MeanSquaredError(), X, y, epochs=6, batch_size=None,
                    optimizer=T.SGD(model.params, lr=1.0), scheduler=T.step_lr(0.1, 2))
    np.testing.assert_allclose(history.lr, [0.1, 0.1, 0.01, 0.01, 0.001, 0.001])
    opt = T.SGD(model.params, lr=0.1)
    plateau = T.ReduceLROnPlateau(opt, patience=1, factor=0.5)
    history = T.fit(model, fl.MeanSquaredError(), X, y, epochs=30, batch_size=None,
                    optimizer=opt, scheduler=plateau)
    assert plateau.reductions and history.lr[-1] < 0.1
    assert history.lr[plateau.reductions[0]] == 0.05


def test_fit_clipping_bounds_the_step():
    X = np.array([[100.0]])
    y = np.array([0.0])
    model = T.Linear(1, bias=False)
    model.params[0][...] = 1.0
    T.fit(model, fl.MeanSquaredError(), X, y, epochs=1, batch_size=None, clip_norm=0.5,
          optimizer=T.SGD(model.params, lr=1.0))
    assert model.params[0][0] == pytest.approx(0.5)
    model.params[0][...] = 1.0
    T.fit(model, fl.MeanSquaredError(), X, y, epochs=1, batch_size=None, clip_value=0.25,
          optimizer=T.SGD(model.params, lr=1.0))
    assert model.params[0][0] == pytest.approx(0.75)


def test_fit_warns_on_exploding_gradients_and_stops_at_nan():
    r = rng(11)
    X = r.normal(size=(100, 3)) * 10
    y = X @ np.ones(3)
    model = T.Linear(3)
    with pytest.warns(T.GradientWarning, match="exploding gradients.*clip"):
        history = T.fit(model, fl.MeanSquaredError(), X, y, epochs=500, batch_size=None,
                        optimizer=T.SGD(model.params, lr=0.1))
    assert history.diverged_epoch is not None and len(history) < 500
    kinds = {d["kind"] for d in history.diagnostics}
    assert kinds == {"exploding"}
    # Clipping the gradient norm tames the same run.
    model = T.Linear(3)
    with warnings.catch_warnings():
        warnings.simplefilter("error", T.GradientWarning)
        history = T.fit(model, fl.MeanSquaredError(), X, y, epochs=200, batch_size=None,
                        optimizer=T.SGD(model.params, lr=0.1, momentum=0.0), clip_norm=1.0,
                        scheduler=T.exponential_lr(0.1, 0.97))
    assert history.diverged_epoch is None and history.train_loss[-1] < 1e-2


def test_fit_warns_on_vanishing_gradients_in_a_deep_sigmoid_network():
    r = rng(12)
    X, y = r.normal(size=(200, 10)), r.integers(0, 2, 200)
    deep = T.MLP(10, hidden=(32,) * 8, activation="sigmoid", seed=0)
    with pytest.warns(T.GradientWarning, match="vanishing gradients.*relu"):
        history = T.fit(deep, fl.BinaryCrossEntropy(from_logits=True), X, y, epochs=2,
                        batch_size=None, optimizer=T.SGD(deep.params, lr=0.1))
    first, last = history.layer_grad_norms[-1][0], history.layer_grad_norms[-1][-1]
    assert first / last < 1e-3
    relu = T.MLP(10, hidden=(32,) * 8, activation="relu", seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", T.GradientWarning)
        history = T.fit(relu, fl.BinaryCrossEntropy(from_logits=True), X, y, epochs=2,
                        batch_size=None, optimizer=T.SGD(relu.params, lr=0.1))
    assert not history.diagnostics


def test_fit_trains_a_ranker_and_an_embedding():
    r = rng(13)
    true_w = r.normal(size=4)
    X = r.normal(size=(50, 8, 4))
    relevance = np.clip(np.round(X @ true_w), 0, 3)
    model = T.Linear(4, bias=False)
    history = T.fit(model, fl.ListwiseSoftmax(), X, relevance, epochs=30, batch_size=10,
                    optimizer=T.Adam(model.params, lr=0.05))
    assert history.train_loss[-1] < history.train_loss[0]
    from fastloss.metrics import ndcg_at_k
    assert ndcg_at_k(relevance, model.predict(X), k=5) > 0.9
    labels = np.repeat(np.arange(5), 10)
    points = r.normal(size=(5, 6))[labels] + r.normal(scale=0.3, size=(50, 6))
    embed = T.Linear(6, n_outputs=3, bias=False, init=0.3, seed=0)
    history = T.fit(embed, fl.BatchTriplet(margin=1.0), points, labels, epochs=20,
                    batch_size=None, optimizer=T.Adam(embed.params, lr=0.05))
    assert history.train_loss[-1] < 0.5 * history.train_loss[0]


def test_fit_callbacks_and_metrics_names():
    r = rng(14)
    X, y = r.normal(size=(60, 2)), r.integers(0, 2, 60)
    seen = []

    def stop_at_three(epoch, logs):
        seen.append(sorted(logs))
        return epoch == 2

    model = T.Linear(2)
    history = T.fit(model, fl.BinaryCrossEntropy(from_logits=True), X, y, epochs=10,
                    callbacks=[stop_at_three], metrics={"auc": "roc_auc",
                                                        "mine": lambda t, o: 1.0})
    assert len(history) == 3
    assert seen[0] == ["auc", "grad_norm", "lr", "mine", "train_loss"]
    assert history.metrics["mine"] == [1.0] * 3


class ForwardOnly:
    """A model of params, forward and backward alone (no predict)."""

    def __init__(self):
        self.inner = T.Linear(2)
        self.params = self.inner.params

    def forward(self, X):
        return self.inner.forward(X)

    def backward(self, g):
        return self.inner.backward(g)


def test_fit_scores_a_model_without_predict():
    r = rng(15)
    X, y = r.normal(size=(40, 2)), r.integers(0, 2, 40)
    model = ForwardOnly()
    history = T.fit(model, fl.BinaryCrossEntropy(from_logits=True), X, y, epochs=2,
                    validation_data=(X, y), metrics=["accuracy"])
    assert len(history.val_loss) == 2 and len(history.metrics["accuracy"]) == 2
    expected = np.mean((model.inner.predict(X) > 0) == y)
    assert history.metrics["accuracy"][-1] == pytest.approx(expected)


def test_fit_metrics_of_one_output_column_are_binary():
    r = rng(16)
    X = r.normal(size=(50, 3))
    y = (r.random(50) < 0.3).astype(np.float64)[:, None]
    model = T.Linear(3, n_outputs=1)
    # lr 0: every logit stays 0, so every row is predicted negative
    history = T.fit(model, fl.BinaryCrossEntropy(from_logits=True), X, y, epochs=1,
                    optimizer=T.SGD(model.params, lr=0.0),
                    metrics=["accuracy", "f1", "roc_auc"])
    assert history.metrics["accuracy"] == [pytest.approx(1.0 - y.mean())]
    assert history.metrics["f1"] == [0.0]
    assert history.metrics["roc_auc"] == [0.5]


def test_fit_skips_batches_without_weight():
    X = np.array([[1.0], [2.0], [3.0], [4.0]])
    y = np.array([5.0, -1.0, 2.0, 3.0])
    w = np.array([0.0, 0.0, 1.0, 2.0])
    model, alone = T.Linear(1), T.Linear(1)
    alone.params[0][...] = model.params[0]
    history = T.fit(model, fl.MeanSquaredError(), X, y, sample_weight=w, batch_size=2,
                    shuffle=False, epochs=3, optimizer=T.SGD(model.params, lr=0.01))
    T.fit(alone, fl.MeanSquaredError(), X[2:], y[2:], sample_weight=w[2:], batch_size=2,
          epochs=3, optimizer=T.SGD(alone.params, lr=0.01))
    for a, b in zip(model.params, alone.params, strict=True):
        np.testing.assert_array_equal(a, b)
    assert all(math.isfinite(v) for v in history.train_loss + history.grad_norm)
    for bad in (np.zeros(4), np.array([1.0, -1.0, 0.5, 0.0]), np.array([1.0, np.nan, 1, 1])):
        with pytest.raises(ValueError, match="finite and >= 0, with a positive sum"):
            T.fit(model, fl.MeanSquaredError(), X, y, sample_weight=bad)


def test_fit_best_epoch_follows_the_monitors_direction():
    r = rng(17)
    X, y = r.normal(size=(80, 2)), r.integers(0, 2, 80)
    for scheduler in (None, "plateau"):
        model = T.Linear(2)
        optimizer = T.SGD(model.params, lr=0.05)
        plateau = (T.ReduceLROnPlateau(optimizer, mode="max") if scheduler else None)
        history = T.fit(model, fl.BinaryCrossEntropy(from_logits=True), X, y, epochs=6,
                        optimizer=optimizer, scheduler=plateau, metrics={"acc": "accuracy"},
                        monitor="acc")
        accuracy = history.metrics["acc"]
        assert history.best_epoch == accuracy.index(max(accuracy))  # the first best
    history = T.fit(T.Linear(2), fl.BinaryCrossEntropy(from_logits=True), X, y, epochs=6,
                    metrics=["mae"], monitor="mae")
    assert history.metrics["mae"][history.best_epoch] == min(history.metrics["mae"])


def test_global_norm_sums_in_float64():
    tenths = np.full(10**6, 0.1, dtype=np.float32)
    assert T.global_norm([tenths]) == pytest.approx(
        math.sqrt(np.sum(tenths.astype(np.float64) ** 2)), rel=1e-12)
    huge = np.array([1e20, 1e20], dtype=np.float32)
    assert T.global_norm([huge]) == pytest.approx(math.sqrt(2) * 1e20, rel=1e-6)
    clipped, norm = T.clip_by_global_norm([huge], 1.0)
    np.testing.assert_allclose(clipped[0], [math.sqrt(0.5)] * 2, rtol=1e-6)
    assert clipped[0].dtype == np.float32
    for bad in (np.array([1 + 2j]), np.array(["a"])):
        with pytest.raises(TypeError, match="real numbers"):
            T.global_norm([bad])


def test_monitors_take_zero_dimensional_arrays():
    stopper = T.EarlyStopping(patience=1)
    assert stopper.step(np.array(1.0)) is False
    plateau = T.ReduceLROnPlateau(T.SGD([np.zeros(1)], lr=1.0), patience=0)
    plateau.step(np.float32(2.0))
    assert plateau.step(np.array(3.0)) is True
    with pytest.raises(TypeError, match="monitored value"):
        stopper.step(np.array([1.0]))


def test_fit_errors():
    X, y = np.zeros((10, 2)), np.zeros(10)
    model = T.Linear(2)
    mse = fl.MeanSquaredError()
    with pytest.raises(ValueError, match='reduction="mean"'):
        T.fit(model, fl.MeanSquaredError(reduction="sum"), X, y)
    with pytest.raises(ValueError, match="y must have 10 rows"):
        T.fit(model, mse, X, np.zeros(9))
    with pytest.raises(ValueError, match="epochs"):
        T.fit(model, mse, X, y, epochs=0)
    with pytest.raises(ValueError, match="batch_size"):
        T.fit(model, mse, X, y, batch_size=0)
    with pytest.raises(ValueError, match="not built on model.params"):
        T.fit(model, mse, X, y, optimizer=T.SGD([np.zeros(2)]))
    with pytest.raises(ValueError, match="unknown metric"):
        T.fit(model, mse, X, y, metrics=["precision@3"])
    with pytest.raises(ValueError, match="needs validation_data"):
        T.fit(model, mse, X, y, monitor="val_loss")
    with pytest.raises(TypeError, match="early_stopping"):
        T.fit(model, mse, X, y, early_stopping=5)
    with pytest.raises(TypeError, match="model must have"):
        T.fit(object(), mse, X, y)
    with pytest.raises(TypeError, match="fastloss loss"):
        T.fit(model, lambda a, b: 0.0, X, y)
    with pytest.raises(ValueError, match="another optimizer"):
        other = T.ReduceLROnPlateau(T.SGD([np.zeros(1)]))
        T.fit(model, mse, X, y, scheduler=other)


def test_progress_bar_runs_when_asked(capsys):
    pytest.importorskip("tqdm")
    X, y = np.zeros((10, 2)), np.zeros(10)
    T.fit(T.Linear(2), fl.MeanSquaredError(), X, y, epochs=3, progress=True)
    assert "epoch" in capsys.readouterr().err


# ---- plots -------------------------------------------------------------------------

def png_size(path):
    with open(path, "rb") as handle:
        head = handle.read(24)
    assert head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR"
    return struct.unpack(">II", head[16:24])


def test_plot_history_writes_a_png_of_the_expected_size(tmp_path):
    pytest.importorskip("matplotlib")
    history = T.History(["layer 1", "output"])
    for epoch in range(12):
        history.train_loss.append(1 / (epoch + 1))
        history.val_loss.append(0.5 + abs(epoch - 5) * 0.05)
        history.lr.append(0.1 * 0.9**epoch)
        history.grad_norm.append(1.0)
        history.metrics.setdefault("accuracy", []).append(0.5 + epoch * 0.03)
    history.best_epoch, history.stopped_epoch = 5, 10
    path = T.plot_history(history, tmp_path / "curves.png", title="demo", width=8,
                          height=3, dpi=50)
    assert png_size(path) == (400, 150)
    other = T.History()
    other.train_loss += [2.0, 1.0, math.nan]
    other.lr += [0.1] * 3
    other.diverged_epoch = 2
    path = T.plot_history({"a": history, "b": other}, tmp_path / "two.png")
    assert png_size(path) == (1000, 360)
    path = T.plot_history({"empty": T.History(), "b": other}, tmp_path / "first.png")
    assert png_size(path) == (1000, 360)
    with pytest.raises(ValueError, match="empty"):
        T.plot_history(T.History(), tmp_path / "x.png")
    with pytest.raises(TypeError, match="History"):
        T.plot_history([1, 2], tmp_path / "x.png")
