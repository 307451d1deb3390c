"""fastloss.torch: values and gradients against torch.nn.functional, autograd checks,
torch.library.opcheck, torch.compile, dtypes, devices and a training loop."""

import copy
import pickle

import numpy as np
import pytest

torch = pytest.importorskip("torch")
F = torch.nn.functional

import fastloss as fl  # noqa: E402
import fastloss.torch as flt  # noqa: E402

pytestmark = pytest.mark.one_kernel_set

#: Relative tolerance (to the largest magnitude of the reference) by dtype.
TOL = {torch.float32: 1e-6, torch.float64: 1e-12}
DTYPES = (torch.float32, torch.float64)


def close(actual, expected, dtype):
    actual = actual.detach().double().numpy()
    expected = expected.detach().double().numpy()
    scale = max(float(np.abs(expected).max(initial=0.0)), 1e-30)
    np.testing.assert_allclose(actual, expected, rtol=TOL[dtype], atol=TOL[dtype] * scale)


def leaf(array, dtype):
    return torch.tensor(array, dtype=dtype, requires_grad=True)


def compare(ours_fn, theirs_fn, inputs, dtype, grad_output=None):
    """Values and gradients (wrt every input requiring grad) of two functions."""
    ours_in = [x.detach().clone().requires_grad_(x.requires_grad) for x in inputs]
    theirs_in = [x.detach().clone().requires_grad_(x.requires_grad) for x in inputs]
    ours, theirs = ours_fn(*ours_in), theirs_fn(*theirs_in)
    assert ours.dtype == theirs.dtype == dtype
    assert ours.shape == theirs.shape
    close(ours, theirs, dtype)
    g = torch.ones_like(theirs) if grad_output is None else grad_output.to(dtype)
    ours.backward(g)
    theirs.backward(g)
    for a, b in zip(ours_in, theirs_in, strict=True):
        if b.requires_grad:
            close(a.grad, b.grad, dtype)


rng = np.random.default_rng(0)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_regression_matches_torch(dtype, reduction):
    y, p = rng.normal(size=(40, 3)), rng.normal(scale=3.0, size=(40, 3))
    g = torch.tensor(rng.uniform(0.5, 2.0, size=(40, 3)))
    grad_output = g if reduction == "none" else None
    compare(lambda i, t: flt.apply(fl.MeanSquaredError(reduction=reduction), i, t),
            lambda i, t: F.mse_loss(i, t, reduction=reduction),
            [leaf(p, dtype), torch.tensor(y, dtype=dtype)], dtype, grad_output)
    module = flt.Module(fl.Huber(delta=2.0, reduction=reduction))
    compare(module, lambda i, t: F.huber_loss(i, t, delta=2.0, reduction=reduction),
            [leaf(p, dtype), torch.tensor(y, dtype=dtype)], dtype, grad_output)


@pytest.mark.parametrize("dtype", DTYPES)
def test_weighted_mean_matches_torch(dtype):
    y, p = rng.normal(size=50), rng.normal(size=50)
    w = rng.uniform(0.0, 2.0, size=50)
    wt = torch.tensor(w, dtype=dtype)
    compare(lambda i, t: flt.apply(fl.Huber(delta=0.5), i, t, weight=wt),
            lambda i, t: (F.huber_loss(i, t, delta=0.5, reduction="none") * wt).sum() / wt.sum(),
            [leaf(p, dtype), torch.tensor(y, dtype=dtype)], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", ["mean", "none"])
def test_bce_with_logits_pos_weight_matches_torch(dtype, reduction):
    y = (rng.uniform(size=(30, 4)) < 0.3).astype(float)
    z = rng.normal(scale=3.0, size=(30, 4))
    pos_weight = np.array([1.0, 2.5, 0.5, 4.0])
    loss = fl.BinaryCrossEntropy(from_logits=True, pos_weight=pos_weight, reduction=reduction)
    grad_output = torch.tensor(rng.uniform(size=(30, 4))) if reduction == "none" else None
    compare(lambda i, t: flt.apply(loss, i, t),
            lambda i, t: F.binary_cross_entropy_with_logits(
                i, t, pos_weight=torch.tensor(pos_weight, dtype=dtype), reduction=reduction),
            [leaf(z, dtype), torch.tensor(y, dtype=dtype)], dtype, grad_output)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_soft_margin_matches_torch(dtype, reduction):
    y = np.where(rng.uniform(size=(30, 4)) < 0.3, 1.0, -1.0)
    z = rng.normal(scale=3.0, size=(30, 4))
    grad_output = torch.tensor(rng.uniform(size=(30, 4))) if reduction == "none" else None
    compare(lambda i, t: flt.apply(fl.SoftMargin(reduction=reduction), i, t),
            lambda i, t: F.soft_margin_loss(i, t, reduction=reduction),
            [leaf(z, dtype), torch.tensor(y, dtype=dtype)], dtype, grad_output)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_matches_torch(dtype, reduction):
    n, c = 64, 7
    logits = rng.normal(scale=2.0, size=(n, c))
    labels = rng.integers(0, c, size=n)
    labels[::5] = -100
    class_weight = rng.uniform(0.2, 3.0, size=c)
    loss = fl.SparseCategoricalCrossEntropy(
        from_logits=True, class_weight=class_weight, label_smoothing=0.1, ignore_index=-100,
        reduction=reduction)
    grad_output = torch.tensor(rng.uniform(size=n)) if reduction == "none" else None
    compare(lambda i, t: flt.apply(loss, i, t),
            lambda i, t: F.cross_entropy(
                i, t, weight=torch.tensor(class_weight, dtype=dtype), label_smoothing=0.1,
                ignore_index=-100, reduction=reduction),
            [leaf(logits, dtype), torch.tensor(labels)], dtype, grad_output)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_nll_matches_torch(dtype, reduction):
    n, c = 64, 7
    log_probs = np.log(rng.dirichlet(np.ones(c), size=n))
    labels = rng.integers(0, c, size=n)
    labels[::5] = -100
    class_weight = rng.uniform(0.2, 3.0, size=c)
    loss = fl.NLL(class_weight=class_weight, ignore_index=-100, reduction=reduction)
    grad_output = torch.tensor(rng.uniform(size=n)) if reduction == "none" else None
    compare(lambda i, t: flt.apply(loss, i, t),
            lambda i, t: F.nll_loss(i, t, weight=torch.tensor(class_weight, dtype=dtype),
                                    ignore_index=-100, reduction=reduction),
            [leaf(log_probs, dtype), torch.tensor(labels)], dtype, grad_output)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("p", [1, 2])
@pytest.mark.parametrize("weighted", [False, True])
def test_multi_margin_matches_torch(dtype, reduction, p, weighted):
    n, c = 64, 7
    scores = rng.normal(scale=1.5, size=(n, c))
    labels = rng.integers(0, c, size=n)
    class_weight = rng.uniform(0.2, 3.0, size=c) if weighted else None
    loss = fl.MultiMargin(p=p, margin=0.8, class_weight=class_weight, reduction=reduction)
    grad_output = torch.tensor(rng.uniform(size=n)) if reduction == "none" else None
    weight = None if class_weight is None else torch.tensor(class_weight, dtype=dtype)
    compare(lambda i, t: flt.apply(loss, i, t),
            lambda i, t: F.multi_margin_loss(i, t, p=p, margin=0.8, weight=weight,
                                             reduction=reduction),
            [leaf(scores, dtype), torch.tensor(labels)], dtype, grad_output)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("classes", [5, 40])
def test_z_loss_matches_torch(dtype, classes):
    """Cross-entropy plus z_loss * logsumexp^2 (PaLM's auxiliary loss), mean over rows."""
    logits = rng.normal(scale=3.0, size=(50, classes))
    labels = rng.integers(0, classes, size=50)
    loss = fl.SparseCategoricalCrossEntropy(from_logits=True, z_loss=1e-2)
    compare(lambda i, t: flt.apply(loss, i, t),
            lambda i, t: F.cross_entropy(i, t) + 1e-2 * (torch.logsumexp(i, 1) ** 2).mean(),
            [leaf(logits, dtype), torch.tensor(labels)], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("kind", ["iou", "giou", "diou", "ciou"])
def test_box_losses_match_torchvision(dtype, reduction, kind):
    """torchvision.ops' box losses, as torch_box_iou_loss computes them with torch alone;
    boxes that overlap, touch, are disjoint, identical, or share corners (ties)."""
    from fastloss._cli.bench import torch_box_iou_loss

    corner = rng.uniform(0.0, 10.0, (60, 2))
    target = np.concatenate([corner, corner + rng.uniform(0.5, 4.0, (60, 2))], axis=1)
    pred = target + rng.normal(0.0, 1.0, (60, 4))
    pred[:10] = target[:10] + 8.0
    pred[10:15] = target[10:15]
    pred[15:20, :2] = target[15:20, :2]
    grad_output = torch.tensor(rng.uniform(size=60)) if reduction == "none" else None
    reduce = {"mean": torch.mean, "sum": torch.sum, "none": lambda x: x}[reduction]
    compare(lambda p, t: flt.apply(fl.BoxIoU(kind=kind, reduction=reduction), p, t),
            lambda p, t: reduce(torch_box_iou_loss(t, p, kind)),
            [leaf(pred, dtype), torch.tensor(target, dtype=dtype)], dtype, grad_output)


@pytest.mark.parametrize("dtype", DTYPES)
def test_soft_target_cross_entropy_matches_torch(dtype):
    logits = rng.normal(size=(20, 5))
    target = rng.dirichlet(np.ones(5), size=20)
    compare(lambda i, t: flt.apply(fl.CategoricalCrossEntropy(from_logits=True), i, t),
            lambda i, t: F.cross_entropy(i, t),
            [leaf(logits, dtype), torch.tensor(target, dtype=dtype)], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", ["mean", "none"])
def test_triplet_matches_torch(dtype, reduction):
    a, p, n = (rng.normal(size=(25, 8)) for _ in range(3))
    loss = flt.Module(fl.Triplet(margin=1.5, swap=True, reduction=reduction))
    grad_output = torch.tensor(rng.uniform(size=25)) if reduction == "none" else None
    compare(loss,
            lambda a, p, n: F.triplet_margin_loss(a, p, n, margin=1.5, swap=True,
                                                  reduction=reduction),
            [leaf(a, dtype), leaf(p, dtype), leaf(n, dtype)], dtype, grad_output)


def test_contrastive_matches_formula():
    same = torch.tensor((rng.uniform(size=30) < 0.5).astype(float))
    x1, x2 = leaf(rng.normal(size=(30, 4)), torch.float64), leaf(rng.normal(size=(30, 4)),
                                                                  torch.float64)

    def formula(same, x1, x2):
        d = (x1 - x2).norm(dim=1)
        return (same * d**2 + (1 - same) * F.relu(2.0 - d) ** 2).mean()

    compare(lambda s, a, b: flt.apply(fl.Contrastive(margin=2.0), s, a, b), formula,
            [same, x1, x2], torch.float64)


@pytest.mark.parametrize("loss", [
    fl.ListMLE(), fl.PairwiseLogistic(reduction="none"), fl.ListwiseSoftmax(reduction="sum"),
    fl.BatchTriplet(strategy="semihard"), fl.SupCon(temperature=0.3),
], ids=repr)
def test_ranking_and_batch_triplet_match_numpy(loss):
    """The values and gradients fastloss computes on NumPy arrays (through the op)."""
    if isinstance(loss, (fl.BatchTriplet, fl.SupCon)):
        first, second = rng.integers(0, 3, size=24), rng.normal(size=(24, 5))
        kwargs = {}
    else:
        first, second = rng.integers(0, 4, size=(6, 9)).astype(float), rng.normal(size=(6, 9))
        kwargs = {"where": torch.tensor(rng.uniform(size=(6, 9)) < 0.8)}
    x = torch.tensor(second, requires_grad=True)
    value = flt.apply(loss, torch.tensor(first), x, **kwargs)
    np_kwargs = {k: v.numpy() for k, v in kwargs.items()}
    expected, grad = loss.value_and_gradient(first, second, **np_kwargs)
    np.testing.assert_array_equal(value.detach().numpy(), expected)
    value.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), grad)


@pytest.mark.parametrize("loss, make", [
    (fl.Huber(delta=0.7, reduction="none"),
     lambda: (torch.randn(6, 3, dtype=torch.float64), torch.randn(6, 3, dtype=torch.float64))),
    (fl.SparseCategoricalCrossEntropy(from_logits=True, label_smoothing=0.2),
     lambda: (torch.randn(5, 4, dtype=torch.float64), torch.tensor([0, 3, 1, 1, 2]))),
    (fl.ListMLE(reduction="none"),
     lambda: (torch.randn(3, 5, dtype=torch.float64), torch.rand(3, 5, dtype=torch.float64))),
], ids=repr)
def test_gradcheck_two_inputs(loss, make):
    torch.manual_seed(0)
    pred, target = make()
    pred.requires_grad_(True)
    weight = torch.rand(pred.shape[0], dtype=torch.float64) + 0.5
    if isinstance(loss, fl.ListMLE):
        fn = lambda s: flt.apply(loss, target, s, weight=weight)  # noqa: E731
    else:
        fn = lambda p: flt.apply(loss, p, target, weight)  # noqa: E731
    assert torch.autograd.gradcheck(fn, (pred,))


def test_gradcheck_triplet_and_batch_triplet():
    torch.manual_seed(1)
    a, p, n = (torch.randn(6, 3, dtype=torch.float64, requires_grad=True) for _ in range(3))
    assert torch.autograd.gradcheck(
        lambda a, p, n: flt.apply(fl.Triplet(margin=2.0, reduction="none"), a, p, n), (a, p, n))
    x = torch.randn(10, 3, dtype=torch.float64, requires_grad=True)
    labels = torch.tensor([0, 0, 1, 1, 2, 2, 0, 1, 2, 0])
    assert torch.autograd.gradcheck(
        lambda x: flt.apply(fl.BatchTriplet(margin=1.0, strategy="all"), labels, x), (x,))
    assert torch.autograd.gradcheck(
        lambda x: flt.apply(fl.SupCon(temperature=0.5, reduction="sum"), labels, x), (x,))


@pytest.mark.thread_unsafe(reason="opcheck enters torch's global dispatch levels")
def test_opcheck():
    torch.manual_seed(2)
    huber = flt._register(fl.Huber(delta=1.0, reduction="none"))
    sce = flt._register(fl.SparseCategoricalCrossEntropy(from_logits=True))
    rank = flt._register(fl.ListwiseSoftmax())
    triplet = flt._register(fl.Triplet())
    contrastive = flt._register(fl.Contrastive(reduction="sum"))
    x = torch.randn(4, 3, requires_grad=True)
    samples = [
        (torch.ops.fastloss.loss2.default,
         (huber, torch.randn(4, 3), x, None, None, True)),
        (torch.ops.fastloss.loss2.default,
         (sce, torch.tensor([0, 2, 1, 1]), x, torch.rand(4), None, True)),
        (torch.ops.fastloss.loss2.default,
         (rank, torch.rand(4, 3), x, None, torch.rand(4, 3) < 0.7, True)),
        (torch.ops.fastloss.loss2.default,
         (huber, torch.randn(4, 3), torch.randn(4, 3), None, None, False)),
        (torch.ops.fastloss.loss3.default,
         (triplet, x, torch.randn(4, 3, requires_grad=True), torch.randn(4, 3), None, True)),
        (torch.ops.fastloss.loss3.default,
         (contrastive, torch.tensor([1.0, 0.0, 1.0, 0.0]), x, torch.randn(4, 3), None, True)),
    ]
    for op, args in samples:
        torch.library.opcheck(op, args)


class _MLP(torch.nn.Module):
    def __init__(self, d_in, d_out):
        super().__init__()
        self.net = torch.nn.Sequential(
            torch.nn.Linear(d_in, 32), torch.nn.Tanh(), torch.nn.Linear(32, d_out))

    def forward(self, x):
        return self.net(x)


def test_compile_fullgraph_matches_eager():
    torch.manual_seed(3)
    x, labels = torch.randn(64, 10), torch.randint(0, 4, (64,))
    criterion = flt.Module(fl.SparseCategoricalCrossEntropy(from_logits=True,
                                                            label_smoothing=0.05))
    huber = fl.Huber()  # losses are built outside the compiled function
    model = _MLP(10, 4)

    def forward(model, x, labels, w):
        return criterion(model(x), labels, w) + flt.apply(huber, model(x)[:, 0], x[:, 0])

    w = torch.rand(64)
    eager_model = copy.deepcopy(model)
    expected = forward(eager_model, x, labels, w)
    expected.backward()
    compiled = torch.compile(forward, fullgraph=True, backend="aot_eager")
    value = compiled(model, x, labels, w)
    value.backward()  # the backward graph compiled by AOTAutograd
    torch.testing.assert_close(value, expected, rtol=1e-6, atol=0)
    for a, b in zip(model.parameters(), eager_model.parameters(), strict=True):
        torch.testing.assert_close(a.grad, b.grad, rtol=1e-6, atol=1e-7)


def test_compile_traces_a_loss_built_inside():
    x, t = torch.randn(8, requires_grad=True), torch.randn(8)

    def step(a, b):
        return flt.apply(fl.Huber(delta=2.0), a, b)  # built inside the compiled function

    expected = F.huber_loss(x, t, delta=2.0)
    for fullgraph in (False, True):
        value = torch.compile(step, fullgraph=fullgraph, backend="aot_eager")(x, t)
        torch.testing.assert_close(value, expected, rtol=1e-6, atol=0)


def test_zero_dimensional_predictions_keep_their_shape():
    x, t = torch.tensor(3.0, requires_grad=True), torch.tensor(1.0)
    value = flt.apply(fl.MeanSquaredError(reduction="none"), x, t)
    assert value.shape == F.mse_loss(x, t, reduction="none").shape == ()
    value.backward()
    assert x.grad.shape == () and x.grad.item() == 4.0
    compiled = torch.compile(lambda a, b: flt.apply(fl.MeanSquaredError(), a, b),
                             fullgraph=True, backend="aot_eager")
    assert compiled(x, t).item() == 4.0


@pytest.mark.parametrize("loss", [
    fl.Dice(from_logits=True), fl.Tversky(alpha=0.3, beta=0.7, reduction="none"),
    fl.Dice(multiclass=True, from_logits=True, reduction="sum"),
], ids=repr)
def test_dice_and_tversky_through_the_op(loss):
    """Their samples (n, ...) are rows: values and gradients as on NumPy arrays."""
    p = rng.normal(size=(4, 3, 5, 5))
    if loss.multiclass:
        y = rng.integers(0, 3, size=(4, 5, 5))
    else:
        y = (rng.uniform(size=p.shape) < 0.4).astype(float)
        p = p if loss.from_logits else 1 / (1 + np.exp(-p))
    x = torch.tensor(p, requires_grad=True)
    value = flt.apply(loss, x, torch.tensor(y))
    expected, grad = loss.value_and_gradient(y, p)
    np.testing.assert_array_equal(value.detach().numpy(), expected)
    g = torch.rand(value.shape, dtype=torch.float64)
    value.backward(g)
    scale = g.numpy().reshape(g.shape + (1,) * (p.ndim - g.ndim))
    np.testing.assert_allclose(x.grad.numpy(), scale * grad, rtol=1e-15, atol=0)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_dtypes_compute_in_float32(dtype):
    p = torch.randn(20, 5).to(dtype).requires_grad_(True)
    y = torch.randint(0, 5, (20,))
    loss = fl.SparseCategoricalCrossEntropy(from_logits=True)
    value = flt.apply(loss, p, y)
    value.backward()
    assert value.dtype == dtype and p.grad.dtype == dtype
    expected, grad = loss.value_and_gradient(y.numpy(), p.detach().float().numpy())
    assert value.item() == pytest.approx(float(np.float32(expected).astype(
        torch.tensor(0, dtype=dtype).numpy().dtype if dtype == torch.float16 else np.float32)),
        rel=1e-2)
    torch.testing.assert_close(p.grad, torch.from_numpy(grad).to(dtype))


def test_strided_input_and_contiguous_view():
    base = torch.randn(6, 8, dtype=torch.float64)
    p = base.t().requires_grad_(True)  # non-contiguous: copied
    y = torch.randn(8, 6, dtype=torch.float64)
    value = flt.apply(fl.MeanSquaredError(), p, y)
    value.backward()
    torch.testing.assert_close(value, F.mse_loss(p.detach(), y))
    torch.testing.assert_close(p.grad, 2 * (p.detach() - y) / p.numel())


@pytest.mark.parametrize("n", [100, 10**6])  # below and above the recycled-memory size
def test_backward_of_one_hands_over_the_saved_gradient_safely(n):
    """backward() of a reduced loss (grad_output exactly 1) returns the saved gradient
    itself: the leaf's .grad is fastloss's gradient, a retained graph's second backward
    adds it again even after .grad was changed in place, and other grad_outputs scale it."""
    loss = fl.BinaryCrossEntropy(from_logits=True)
    z = torch.randn(n, dtype=torch.float64)
    y = (torch.rand(n) > 0.5).double()
    expected = torch.from_numpy(loss.value_and_gradient(y.numpy(), z.numpy())[1])
    x = z.clone().requires_grad_(True)
    flt.apply(loss, x, y).backward()
    assert torch.equal(x.grad, expected)
    x = z.clone().requires_grad_(True)
    value = flt.apply(loss, x, y)
    value.backward(retain_graph=True)
    x.grad.mul_(3.0)
    value.backward()
    torch.testing.assert_close(x.grad, 4.0 * expected, rtol=1e-15, atol=0)
    x = z.clone().requires_grad_(True)
    (2.5 * flt.apply(loss, x, y)).backward()
    torch.testing.assert_close(x.grad, 2.5 * expected, rtol=1e-15, atol=0)


def test_targets_and_weights_get_no_gradient():
    p = torch.randn(10, requires_grad=True)
    y = torch.randn(10, requires_grad=True)
    w = torch.rand(10, requires_grad=True)
    flt.apply(fl.MeanSquaredError(), p, y, w).backward()
    assert p.grad is not None and y.grad is None and w.grad is None
    value = flt.apply(fl.MeanSquaredError(), p.detach(), y)  # only the target requires grad
    assert not value.requires_grad  # a constant of the graph, as the target is data


def test_no_grad_and_module_pickle():
    loss = fl.Huber(delta=2.0)
    p, y = torch.randn(7, requires_grad=True), torch.randn(7)
    with torch.no_grad():
        value = flt.Module(loss)(p, y)
    assert not value.requires_grad
    assert value.item() == pytest.approx(loss(y.numpy(), p.detach().numpy()))
    module = pickle.loads(pickle.dumps(flt.Module(loss)))
    assert module(p, y).item() == value.item()
    assert "Huber(delta=2.0" in repr(module)
    module.loss = fl.Huber(delta=3.0)  # another loss assigned: the module computes it
    assert module(p, y).item() == pytest.approx(fl.Huber(delta=3.0)(y.numpy(),
                                                                   p.detach().numpy()))


def test_bad_input():
    p, y = torch.randn(4, 3), torch.randn(4, 3)
    with pytest.raises(ValueError, match="CPU library"):
        flt.apply(fl.MeanSquaredError(), p.to("meta"), y)
    with pytest.raises(ValueError, match="CPU library"):
        flt.apply(fl.MeanSquaredError(), p, y, torch.ones(4, device="meta"))
    with pytest.raises(TypeError, match="floating-point"):
        flt.apply(fl.MeanSquaredError(), p.long(), y)
    with pytest.raises(TypeError, match="torch.Tensor"):
        flt.apply(fl.MeanSquaredError(), p.numpy(), y)
    with pytest.raises(TypeError, match="fastloss loss"):
        flt.Module(torch.nn.MSELoss())
    with pytest.raises(ValueError, match="same shape"):
        flt.apply(fl.MeanSquaredError(), p, y[:2])
    with pytest.raises(ValueError, match="class label"):
        flt.apply(fl.SparseCategoricalCrossEntropy(from_logits=True), p, torch.tensor([0, 1, 3, 0]))
    with pytest.raises(TypeError, match="share one dtype"):
        flt.apply(fl.Triplet(), p, p.double(), p)
    with pytest.raises(TypeError):
        flt.Module(fl.Triplet())(p, y)  # a triplet takes three inputs
    x = torch.randn(6, 2, requires_grad=True)
    with pytest.raises(ValueError, match="cannot be differentiated"):
        flt.apply(fl.BatchTriplet(reduction="none"), torch.tensor([0, 0, 1, 1, 2, 2]), x)
    with torch.no_grad():  # the values alone are fine
        assert flt.apply(fl.BatchTriplet(reduction="none"), torch.tensor([0, 0, 1, 1, 2, 2]),
                         x).shape == (6,)


def test_numpy_api_refuses_tensors_that_require_grad():
    x = torch.randn(3, requires_grad=True)
    with pytest.raises(TypeError, match="y_pred could not be converted.*requires grad"):
        fl.MeanSquaredError()(torch.zeros(3), x)
    assert fl.MeanSquaredError()(torch.zeros(3), x.detach()) == pytest.approx(
        float((x.detach() ** 2).mean()))


def test_double_backward_raises():
    p = torch.randn(5, requires_grad=True)
    value = flt.apply(fl.LogCosh(), p, torch.zeros(5))
    with pytest.raises(RuntimeError, match="differentiable once"):
        torch.autograd.grad(value, p, create_graph=True)


def _train(criterion, seed=0, steps=150):
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny matrices: threads only contend
    try:
        return _train_loop(criterion, seed, steps)
    finally:
        torch.set_num_threads(threads)


def _train_loop(criterion, seed, steps):
    gen = torch.Generator().manual_seed(seed)
    centers = torch.randn(4, 8, generator=gen) * 2.0
    labels = torch.randint(0, 4, (512,), generator=gen)
    x = centers[labels] + torch.randn(512, 8, generator=gen) * 1.5
    torch.manual_seed(seed)
    model = _MLP(8, 4)
    opt = torch.optim.SGD(model.parameters(), lr=0.2)
    for _ in range(steps):
        opt.zero_grad()
        criterion(model(x[:384]), labels[:384]).backward()
        opt.step()
    with torch.no_grad():
        return (model(x[384:]).argmax(1) == labels[384:]).float().mean().item()


def test_training_loop_reaches_builtin_accuracy():
    ours = _train(flt.Module(fl.SparseCategoricalCrossEntropy(from_logits=True)))
    theirs = _train(torch.nn.CrossEntropyLoss())
    assert ours > 0.6
    assert abs(ours - theirs) <= 1 / 128


@pytest.mark.parametrize("loss, match", [(fl.InfoNCE(), "InfoNCE"),
                                         (fl.GaussianNLL(), "GaussianNLL"), (fl.CTC(), "CTC")])
def test_losses_without_an_adapter_are_a_clear_error(loss, match):
    x = torch.ones(4, 3, dtype=torch.float64, requires_grad=True)
    with pytest.raises(TypeError, match=f"{match}.*no framework adapter"):
        flt.apply(loss, x, x)
    with pytest.raises(TypeError, match="no framework adapter"):
        flt.Module(loss)


def test_supcon_none_is_not_differentiable():
    x = torch.ones(4, 3, dtype=torch.float64, requires_grad=True)
    with pytest.raises(ValueError, match=r'SupCon\(reduction="none"\)'):
        flt.apply(fl.SupCon(reduction="none"), torch.tensor([0, 0, 1, 1]), x)


@pytest.mark.parametrize("loss", [fl.ArcFace(scale=8.0), fl.CosFace(scale=8.0, reduction="sum")],
                         ids=repr)
def test_margin_losses_through_the_op(loss):
    labels = torch.tensor(rng.integers(0, 5, 12))
    x = torch.tensor(rng.normal(size=(12, 4)), requires_grad=True)
    centres = torch.tensor(rng.normal(size=(5, 4)), requires_grad=True)
    value = flt.apply(loss, labels, x, centres)
    expected, (g_x, g_c) = loss.value_and_gradient(labels.numpy(), x.detach().numpy(),
                                                  centres.detach().numpy())
    assert value.item() == expected
    value.backward()
    np.testing.assert_array_equal(x.grad.numpy(), g_x)
    np.testing.assert_array_equal(centres.grad.numpy(), g_c)
    assert torch.autograd.gradcheck(lambda a, b: flt.apply(loss, labels, a, b), (x, centres))
    with pytest.raises(ValueError, match="class centres"):
        flt.apply(type(loss)(reduction="none"), labels, x, centres)


@pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")  # torch's
def test_shortcut_takes_tensor_hyper_parameters_afresh():
    """A tensor compares element by element and can change in place: a shortcut given
    one builds its loss each call (no cached loss compared with it, none kept)."""
    labels, logits = np.array([0, 1, 2, 1]), np.random.default_rng(0).standard_normal((4, 3))
    weight = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)
    for _ in range(2):
        expected = fl.SparseCategoricalCrossEntropy(from_logits=True,
                                                    class_weight=weight.numpy())(labels, logits)
        assert fl.sparse_categorical_cross_entropy(
            labels, logits, from_logits=True, class_weight=weight.clone()) == expected
        assert fl.sparse_categorical_cross_entropy(
            labels, logits, from_logits=True, class_weight=weight) == expected
        weight[0] = 10.0
