"""Plain NumPy versions of every loss: the oracle of the tests, the baseline of the benchmarks.

Each loss with function shortcut ``<name>`` (docs/contract.rst, section 5) has functions
of that name taking the shortcut's arguments (the arrays, then the hyper-parameters,
``reduction`` and ``sample_weight``, plus ``where`` for ranking):

- regression, binary and multi-class losses: ``<name>(...)``, the loss value (a float
  for "mean"/"sum", an array for "none"); ``<name>_grad(...)``, the gradient of the
  reduced loss with respect to y_pred; ``<name>_hess(...)``, the diagonal hessian with
  the same scaling (the documented surrogate where the loss class has
  ``exact_hessian = False``);
- embedding and ranking losses: ``<name>(...)`` returns ``(value, gradients)`` from one
  call (a tuple with one gradient per embedding input; the gradient with respect to
  the scores for ranking).

Every loss computes one value per item (element or row) and reduces it with the same
helpers, `_reduce` and `_scale`, which implement contract section 2 once. The
functions are written for reading, not speed: no input validation, plain array
expressions, the formula in each docstring.
"""

import numpy as np

# ---- reductions and weights (contract, section 2) -----------------------------------
# Every loss below computes one loss per item (an element of y_pred for elementwise
# losses, a row or list for row-wise ones) and its derivatives, then reduces them with
# these three helpers: `_reduce` for values, `_scale` for gradients and hessians.


def _item_weights(sample_weight, shape):
    """The weight w_i of each item of `shape` (contract, section 2): sample_weight of
    shape (n,) broadcast over the other axes, or of `shape` itself; None without
    weights (every w_i = 1)."""
    if sample_weight is None:
        return None
    w = np.asarray(sample_weight, dtype=np.float64)
    if w.shape != shape:
        w = w.reshape(w.shape + (1,) * (len(shape) - w.ndim))
    return np.broadcast_to(w, shape)


def _mean_divisor(sample_weight, shape, counts=None):
    """The divisor of "mean" over the items of `shape`: sum_i w_i r_i (contract,
    section 2), r_i the part of item i that counts (1 by default; the row weight of a
    class-weighted or ignored row, the mined triplets of an anchor)."""
    w = _item_weights(sample_weight, shape)
    if counts is None:
        return np.prod(shape, dtype=np.float64) if w is None else np.sum(w)
    return np.sum(counts) if w is None else np.sum(w * counts)


def _reduce(values, reduction, sample_weight, counts=None):
    """Reduce per-item losses (contract, section 2): "none" w_i l_i, "sum"
    sum(w_i l_i), "mean" sum(w_i l_i) / sum(w_i r_i) (see _mean_divisor)."""
    values = np.asarray(values)
    w = _item_weights(sample_weight, values.shape)
    weighted = values if w is None else w * values
    if reduction == "none":
        return weighted
    total = float(np.sum(weighted))
    if reduction == "sum":
        return total
    return total / float(_mean_divisor(sample_weight, values.shape, counts))


def _scale(derivative, reduction, sample_weight, rows=False, counts=None):
    """Per-item derivatives of the reduced loss: w_i times the derivative of l_i, and
    for "mean" divided by sum(w_i r_i) (contract, section 2). With rows=True the items
    are the rows of `derivative` (row-wise losses: one weight per row, broadcast over
    the row's entries)."""
    derivative = np.asarray(derivative)
    items = derivative.shape[:1] if rows else derivative.shape
    w = _item_weights(sample_weight, derivative.shape)
    scaled = derivative * 1.0 if w is None else w * derivative
    if reduction == "mean":
        return scaled / _mean_divisor(sample_weight, items, counts)
    return scaled


# ---- regression ----------------------------------------------------------------------
# e = y_pred - y_true throughout; the element terms are reduced by `_reduce` (values)
# and `_scale` (gradients and hessians).


def _arrays(y_true, y_pred):
    return np.asarray(y_true), np.asarray(y_pred)


# -- mean squared error


def mse(y_true, y_pred, *, reduction="mean", sample_weight=None):
    """l = (y_pred - y_true)^2."""
    y, p = _arrays(y_true, y_pred)
    if reduction == "mean" and sample_weight is None:
        return float(np.mean((y - p) ** 2))
    return _reduce((p - y) ** 2, reduction, sample_weight)


def mse_grad(y_true, y_pred, *, reduction="mean", sample_weight=None):
    """dl/dp = 2 e."""
    y, p = _arrays(y_true, y_pred)
    return _scale(2 * (p - y), reduction, sample_weight)


def mse_hess(y_true, y_pred, *, reduction="mean", sample_weight=None):
    """d2l/dp2 = 2."""
    y, p = _arrays(y_true, y_pred)
    return _scale(np.full(p.shape, 2.0), reduction, sample_weight)


# -- mean absolute error


def mae(y_true, y_pred, *, reduction="mean", sample_weight=None):
    """l = |y_pred - y_true|."""
    y, p = _arrays(y_true, y_pred)
    return _reduce(np.abs(p - y), reduction, sample_weight)


def mae_grad(y_true, y_pred, *, reduction="mean", sample_weight=None):
    """dl/dp = sign(e) (0 at e = 0)."""
    y, p = _arrays(y_true, y_pred)
    return _scale(np.sign(p - y), reduction, sample_weight)


def mae_hess(y_true, y_pred, *, reduction="mean", sample_weight=None):
    """Surrogate hessian 1 (the true one is 0 almost everywhere)."""
    y, p = _arrays(y_true, y_pred)
    return _scale(np.ones(p.shape), reduction, sample_weight)


# -- Huber


def huber(y_true, y_pred, *, delta=1.0, reduction="mean", sample_weight=None):
    """l = e^2 / 2 for |e| <= delta, delta (|e| - delta / 2) beyond."""
    y, p = _arrays(y_true, y_pred)
    ae = np.abs(p - y)
    losses = np.where(ae <= delta, 0.5 * ae**2, delta * (ae - 0.5 * delta))
    return _reduce(losses, reduction, sample_weight)


def huber_grad(y_true, y_pred, *, delta=1.0, reduction="mean", sample_weight=None):
    """dl/dp = clip(e, -delta, delta)."""
    y, p = _arrays(y_true, y_pred)
    return _scale(np.clip(p - y, -delta, delta), reduction, sample_weight)


def huber_hess(y_true, y_pred, *, delta=1.0, reduction="mean", sample_weight=None):
    """d2l/dp2 = 1 for |e| <= delta, 0 beyond."""
    y, p = _arrays(y_true, y_pred)
    return _scale((np.abs(p - y) <= delta).astype(np.float64), reduction, sample_weight)


# -- smooth L1 (PyTorch's definition)


def smooth_l1(y_true, y_pred, *, beta=1.0, reduction="mean", sample_weight=None):
    """l = e^2 / (2 beta) for |e| < beta, |e| - beta / 2 beyond; |e| for beta = 0."""
    y, p = _arrays(y_true, y_pred)
    ae = np.abs(p - y)
    if beta == 0:
        return _reduce(ae, reduction, sample_weight)
    losses = np.where(ae < beta, 0.5 * ae**2 / beta, ae - 0.5 * beta)
    return _reduce(losses, reduction, sample_weight)


def smooth_l1_grad(y_true, y_pred, *, beta=1.0, reduction="mean", sample_weight=None):
    """dl/dp = e / beta for |e| < beta, sign(e) beyond (sign(e) for beta = 0)."""
    y, p = _arrays(y_true, y_pred)
    e = p - y
    if beta == 0:
        return _scale(np.sign(e), reduction, sample_weight)
    return _scale(np.clip(e / beta, -1.0, 1.0), reduction, sample_weight)


def smooth_l1_hess(y_true, y_pred, *, beta=1.0, reduction="mean", sample_weight=None):
    """d2l/dp2 = 1 / beta for |e| <= beta (the inner value at the switch point, as
    for Huber), 0 beyond; for beta = 0 (the L1 loss) the surrogate 1, as mae_hess."""
    y, p = _arrays(y_true, y_pred)
    if beta == 0:
        return _scale(np.ones(p.shape), reduction, sample_weight)
    inside = np.abs(p - y) <= beta
    return _scale(inside / beta, reduction, sample_weight)


# -- pseudo-Huber


def pseudo_huber(y_true, y_pred, *, delta=1.0, reduction="mean", sample_weight=None):
    """l = delta^2 (sqrt(1 + r^2) - 1), r = e / delta,
    evaluated as delta^2 r (r / (sqrt(1 + r^2) + 1)) (same value, no cancellation)."""
    y, p = _arrays(y_true, y_pred)
    r = (p - y) / delta
    return _reduce(delta**2 * r * (r / (np.hypot(1.0, r) + 1.0)), reduction, sample_weight)


def pseudo_huber_grad(y_true, y_pred, *, delta=1.0, reduction="mean", sample_weight=None):
    """dl/dp = e / sqrt(1 + r^2)."""
    y, p = _arrays(y_true, y_pred)
    r = (p - y) / delta
    return _scale(delta * r / np.hypot(1.0, r), reduction, sample_weight)


def pseudo_huber_hess(y_true, y_pred, *, delta=1.0, reduction="mean", sample_weight=None):
    """d2l/dp2 = (1 + r^2)^(-3/2)."""
    y, p = _arrays(y_true, y_pred)
    r = (p - y) / delta
    return _scale(np.hypot(1.0, r) ** -3.0, reduction, sample_weight)


# -- log-cosh


def log_cosh(y_true, y_pred, *, reduction="mean", sample_weight=None):
    """l = log(cosh(e)) = logaddexp(e, -e) - log(2) (no overflow for large |e|)."""
    y, p = _arrays(y_true, y_pred)
    e = p - y
    return _reduce(np.logaddexp(e, -e) - np.log(2.0), reduction, sample_weight)


def log_cosh_grad(y_true, y_pred, *, reduction="mean", sample_weight=None):
    """dl/dp = tanh(e)."""
    y, p = _arrays(y_true, y_pred)
    return _scale(np.tanh(p - y), reduction, sample_weight)


def log_cosh_hess(y_true, y_pred, *, reduction="mean", sample_weight=None):
    """d2l/dp2 = 1 - tanh(e)^2 = 1 / cosh(e)^2."""
    y, p = _arrays(y_true, y_pred)
    return _scale(1.0 - np.tanh(p - y) ** 2, reduction, sample_weight)


# -- mean squared logarithmic error and mean absolute percentage error (Keras)

KERAS_EPSILON = 1e-7


def _log_ratio(y_true, y_pred):
    """(y, p raised to Keras's epsilon, d = log((1 + p) / (1 + y)))."""
    y, p = _arrays(y_true, y_pred)
    yc, pc = np.maximum(y, KERAS_EPSILON), np.maximum(p, KERAS_EPSILON)
    return p, pc, np.log1p(pc) - np.log1p(yc)


def msle(y_true, y_pred, *, reduction="mean", sample_weight=None):
    """l = (log(1 + max(p, eps)) - log(1 + max(y, eps)))^2, eps = 1e-7."""
    _, _, d = _log_ratio(y_true, y_pred)
    return _reduce(d**2, reduction, sample_weight)


def msle_grad(y_true, y_pred, *, reduction="mean", sample_weight=None):
    """dl/dp = 2 d / (1 + p); 0 where p < eps."""
    p, pc, d = _log_ratio(y_true, y_pred)
    return _scale(np.where(p < KERAS_EPSILON, 0.0, 2 * d / (1 + pc)), reduction, sample_weight)


def msle_hess(y_true, y_pred, *, reduction="mean", sample_weight=None):
    """d2l/dp2 = 2 (1 - d) / (1 + p)^2; 0 where p < eps."""
    p, pc, d = _log_ratio(y_true, y_pred)
    return _scale(np.where(p < KERAS_EPSILON, 0.0, 2 * (1 - d) / (1 + pc) ** 2), reduction,
                  sample_weight)


def _percent_scale(y):
    return 100.0 / np.maximum(np.abs(y), KERAS_EPSILON)


def mape(y_true, y_pred, *, reduction="mean", sample_weight=None):
    """l = 100 |p - y| / max(|y|, eps)."""
    y, p = _arrays(y_true, y_pred)
    return _reduce(np.abs(p - y) * _percent_scale(y), reduction, sample_weight)


def mape_grad(y_true, y_pred, *, reduction="mean", sample_weight=None):
    """dl/dp = 100 sign(p - y) / max(|y|, eps)."""
    y, p = _arrays(y_true, y_pred)
    return _scale(np.sign(p - y) * _percent_scale(y), reduction, sample_weight)


def mape_hess(y_true, y_pred, *, reduction="mean", sample_weight=None):
    """The surrogate 100 / max(|y|, eps) (the hessian is 0 almost everywhere)."""
    y, p = _arrays(y_true, y_pred)
    e = p - y
    return _scale(np.where(np.isnan(e), e, _percent_scale(y)), reduction, sample_weight)


# -- quantile (pinball)


def quantile(y_true, y_pred, *, quantile=0.5, reduction="mean", sample_weight=None):
    """l = max(q r, (q - 1) r), r = y_true - y_pred."""
    y, p = _arrays(y_true, y_pred)
    r = y - p
    return _reduce(np.maximum(quantile * r, (quantile - 1) * r), reduction, sample_weight)


def quantile_grad(y_true, y_pred, *, quantile=0.5, reduction="mean", sample_weight=None):
    """dl/dp = -q where y_true > y_pred, 1 - q where y_true < y_pred, 0 at equality."""
    y, p = _arrays(y_true, y_pred)
    grads = np.where(y > p, -quantile, np.where(y < p, 1 - quantile, 0.0))
    return _scale(grads, reduction, sample_weight)


def quantile_hess(y_true, y_pred, *, quantile=0.5, reduction="mean", sample_weight=None):
    """Surrogate hessian 1 (the true one is 0 almost everywhere)."""
    y, p = _arrays(y_true, y_pred)
    return _scale(np.ones(p.shape), reduction, sample_weight)


# -- Poisson, Gamma and Tweedie: y_pred is log(mu) (log_input=True) or the mean mu


def _tweedie_terms(y, p, power, log_input):
    """Loss, dl/dp and d2l/dp2 of the Tweedie negative log-likelihood, up to terms in
    y alone, for p = log(mu) or p = mu. power 1 is Poisson, 2 is Gamma:

        power 1:  l = mu - y log(mu)
        power 2:  l = log(mu) + y / mu
        else:     l = mu^(2-r) / (2-r) - y mu^(1-r) / (1-r)
    """
    r = power
    if log_input:
        # With mu = exp(p): d/dp mu^k = k mu^k.
        if r == 1:
            mu = np.exp(p)
            return mu - y * p, mu - y, mu
        if r == 2:
            ratio = y * np.exp(-p)
            return p + ratio, 1 - ratio, ratio
        mu2, mu1 = np.exp((2 - r) * p), np.exp((1 - r) * p)
        return (mu2 / (2 - r) - y * mu1 / (1 - r), mu2 - y * mu1,
                (2 - r) * mu2 - (1 - r) * y * mu1)
    mu = p
    if r == 1:
        return mu - y * np.log(mu), 1 - y / mu, y / mu**2
    if r == 2:
        return np.log(mu) + y / mu, 1 / mu - y / mu**2, -1 / mu**2 + 2 * y / mu**3
    return (mu ** (2 - r) / (2 - r) - y * mu ** (1 - r) / (1 - r),
            mu ** (1 - r) - y * mu ** (-r),
            (1 - r) * mu ** (-r) + r * y * mu ** (-r - 1))


def poisson(y_true, y_pred, *, log_input=True, reduction="mean", sample_weight=None):
    """l = exp(p) - y p for p = log(mu); mu - y log(mu) for the mean mu."""
    return _reduce(_tweedie_terms(*_arrays(y_true, y_pred), 1, log_input)[0],
                   reduction, sample_weight)


def poisson_grad(y_true, y_pred, *, log_input=True, reduction="mean", sample_weight=None):
    """dl/dp = exp(p) - y for p = log(mu); 1 - y / mu for the mean."""
    return _scale(_tweedie_terms(*_arrays(y_true, y_pred), 1, log_input)[1],
                  reduction, sample_weight)


def poisson_hess(y_true, y_pred, *, log_input=True, reduction="mean", sample_weight=None):
    """d2l/dp2 = exp(p) for p = log(mu); y / mu^2 for the mean."""
    return _scale(_tweedie_terms(*_arrays(y_true, y_pred), 1, log_input)[2],
                  reduction, sample_weight)


def gamma(y_true, y_pred, *, log_input=True, reduction="mean", sample_weight=None):
    """l = p + y exp(-p) for p = log(mu); log(mu) + y / mu for the mean mu."""
    return _reduce(_tweedie_terms(*_arrays(y_true, y_pred), 2, log_input)[0],
                   reduction, sample_weight)


def gamma_grad(y_true, y_pred, *, log_input=True, reduction="mean", sample_weight=None):
    """dl/dp = 1 - y exp(-p) for p = log(mu); 1/mu - y/mu^2 for the mean."""
    return _scale(_tweedie_terms(*_arrays(y_true, y_pred), 2, log_input)[1],
                  reduction, sample_weight)


def gamma_hess(y_true, y_pred, *, log_input=True, reduction="mean", sample_weight=None):
    """d2l/dp2 = y exp(-p) for p = log(mu); 2y/mu^3 - 1/mu^2 for the mean."""
    return _scale(_tweedie_terms(*_arrays(y_true, y_pred), 2, log_input)[2],
                  reduction, sample_weight)


def tweedie(y_true, y_pred, *, power=1.5, log_input=True, reduction="mean",
            sample_weight=None):
    """l = mu^(2-r)/(2-r) - y mu^(1-r)/(1-r), mu = exp(p) or p (Poisson at r = 1,
    Gamma at r = 2: see _tweedie_terms)."""
    return _reduce(_tweedie_terms(*_arrays(y_true, y_pred), power, log_input)[0],
                   reduction, sample_weight)


def tweedie_grad(y_true, y_pred, *, power=1.5, log_input=True, reduction="mean",
                 sample_weight=None):
    """dl/dp = mu^(2-r) - y mu^(1-r) for p = log(mu); mu^(1-r) - y mu^(-r) for the mean."""
    return _scale(_tweedie_terms(*_arrays(y_true, y_pred), power, log_input)[1],
                  reduction, sample_weight)


def tweedie_hess(y_true, y_pred, *, power=1.5, log_input=True, reduction="mean",
                 sample_weight=None):
    """d2l/dp2 = (2-r) mu^(2-r) - (1-r) y mu^(1-r) for p = log(mu);
    (1-r) mu^(-r) + r y mu^(-r-1) for the mean."""
    return _scale(_tweedie_terms(*_arrays(y_true, y_pred), power, log_input)[2],
                  reduction, sample_weight)


# -- Gaussian negative log-likelihood: three inputs, (value, (d/dmean, d/dvar)) in one
# call, as the embedding losses


def gaussian_nll(y_true, mean, var, *, full=False, eps=1e-6, reduction="mean",
                 sample_weight=None):
    """torch.nn.functional.gaussian_nll_loss: 0.5 (log v + (mean - y)^2 / v) (+ 0.5
    log(2 pi) with full), v = max(var, eps) with the gradient taken at the clamped v."""
    y, m = np.asarray(y_true, float), np.asarray(mean, float)
    v = np.maximum(np.asarray(var, float), eps)
    e = m - y
    values = 0.5 * (np.log(v) + e**2 / v) + (0.5 * np.log(2 * np.pi) if full else 0.0)
    grads = (e / v, 0.5 * (1.0 / v - e**2 / v**2))
    return (_reduce(values, reduction, sample_weight),
            tuple(_scale(g, reduction, sample_weight) for g in grads))


# ---- classification ------------------------------------------------------------------
# From the textbook formulas: the loss per element (binary) or per row (multi-class),
# the gradient with the chain rule in probability space, and the diagonal hessian.
# For moderate inputs only (they form softmax and log of it naively); the tests pin
# the extremes against mpmath instead.

def _clf_sigmoid(z):
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-z))


def _clf_clamped_log(p):
    """PyTorch's log clamped at -100, and d/dp of it (0 where clamped)."""
    with np.errstate(divide="ignore"):
        log_p = np.log(p)
        return np.maximum(log_p, -100.0), np.where(log_p < -100.0, 0.0, 1.0 / p)


# -- binary and multi-label -----------------------------------------------------------

def _clf_bce_parts(y_true, y_pred, from_logits, label_smoothing, pos_weight):
    y = np.asarray(y_true, float)
    x = np.asarray(y_pred, float)
    t = y * (1.0 - label_smoothing) + label_smoothing / 2.0
    pw = 1.0 if pos_weight is None else np.asarray(pos_weight, float)
    if from_logits:
        p = _clf_sigmoid(x)
        loss = pw * t * np.logaddexp(0.0, -x) + (1.0 - t) * np.logaddexp(0.0, x)
        grad = (1.0 - t) * p - pw * t * (1.0 - p)
        hess = (pw * t + 1.0 - t) * p * (1.0 - p)
        return loss, grad, hess
    log_p, inv_p = _clf_clamped_log(x)
    log_q, inv_q = _clf_clamped_log(1.0 - x)
    loss = -(pw * t * log_p + (1.0 - t) * log_q)
    grad = -pw * t * inv_p + (1.0 - t) * inv_q
    hess = pw * t * inv_p**2 + (1.0 - t) * inv_q**2
    return loss, grad, hess


def binary_cross_entropy(y_true, y_pred, *, from_logits=False, label_smoothing=0.0,
                         pos_weight=None, reduction="mean", sample_weight=None):
    loss = _clf_bce_parts(y_true, y_pred, from_logits, label_smoothing, pos_weight)[0]
    return _reduce(loss, reduction, sample_weight)


def binary_cross_entropy_grad(y_true, y_pred, *, from_logits=False, label_smoothing=0.0,
                              pos_weight=None, reduction="mean", sample_weight=None):
    grad = _clf_bce_parts(y_true, y_pred, from_logits, label_smoothing, pos_weight)[1]
    return _scale(grad, reduction, sample_weight)


def binary_cross_entropy_hess(y_true, y_pred, *, from_logits=False, label_smoothing=0.0,
                              pos_weight=None, reduction="mean", sample_weight=None):
    hess = _clf_bce_parts(y_true, y_pred, from_logits, label_smoothing, pos_weight)[2]
    return _scale(hess, reduction, sample_weight)


def _clf_focal_parts(y_true, y_pred, gamma, alpha, from_logits):
    """torchvision sigmoid_focal_loss: a_t ce (1 - p_t)^gamma, derivatives by the chain rule
    in p (then times dp/dz = p (1 - p), d2p/dz2 = p (1 - p)(1 - 2p) for logits)."""
    t = np.asarray(y_true, float)
    x = np.asarray(y_pred, float)
    p = _clf_sigmoid(x) if from_logits else x
    log_p, inv_p = _clf_clamped_log(p)
    log_q, inv_q = _clf_clamped_log(1.0 - p)
    ce = -(t * log_p + (1.0 - t) * log_q)
    dce = -t * inv_p + (1.0 - t) * inv_q
    d2ce = t * inv_p**2 + (1.0 - t) * inv_q**2
    if from_logits:  # exact softplus form of ce and its p-derivatives
        ce = t * np.logaddexp(0.0, -x) + (1.0 - t) * np.logaddexp(0.0, x)
        dce = -t / p + (1.0 - t) / (1.0 - p)
        d2ce = t / p**2 + (1.0 - t) / (1.0 - p) ** 2
    m = p * (1.0 - t) + (1.0 - p) * t   # 1 - p_t
    k = 1.0 - 2.0 * t                   # dm/dp
    a_t = 1.0 if alpha is None else alpha * t + (1.0 - alpha) * (1.0 - t)
    loss = a_t * ce * m**gamma
    d1 = a_t * (dce * m**gamma + ce * gamma * m ** (gamma - 1.0) * k)
    d2 = a_t * (d2ce * m**gamma + 2.0 * dce * gamma * m ** (gamma - 1.0) * k
                + ce * gamma * (gamma - 1.0) * m ** (gamma - 2.0) * k**2)
    if not from_logits:
        return loss, d1, d2
    s = p * (1.0 - p)
    return loss, d1 * s, d2 * s**2 + d1 * s * (1.0 - 2.0 * p)


def binary_focal(y_true, y_pred, *, gamma=2.0, alpha=0.25, from_logits=False,
                 reduction="mean", sample_weight=None):
    loss = _clf_focal_parts(y_true, y_pred, gamma, alpha, from_logits)[0]
    return _reduce(loss, reduction, sample_weight)


def binary_focal_grad(y_true, y_pred, *, gamma=2.0, alpha=0.25, from_logits=False,
                      reduction="mean", sample_weight=None):
    grad = _clf_focal_parts(y_true, y_pred, gamma, alpha, from_logits)[1]
    return _scale(grad, reduction, sample_weight)


def binary_focal_hess(y_true, y_pred, *, gamma=2.0, alpha=0.25, from_logits=False,
                      reduction="mean", sample_weight=None):
    hess = _clf_focal_parts(y_true, y_pred, gamma, alpha, from_logits)[2]
    return _scale(hess, reduction, sample_weight)


def _clf_soft_margin_parts(y_true, y_pred):
    """(loss, gradient, hessian) of log(1 + exp(-t z)), t = +1 for y > 0 else -1."""
    t = np.where(np.asarray(y_true, float) > 0, 1.0, -1.0)
    z = np.asarray(y_pred, float)
    return (np.logaddexp(0.0, -t * z), -t * _clf_sigmoid(-t * z),
            _clf_sigmoid(z) * _clf_sigmoid(-z))


def soft_margin(y_true, y_pred, *, reduction="mean", sample_weight=None):
    return _reduce(_clf_soft_margin_parts(y_true, y_pred)[0], reduction, sample_weight)


def soft_margin_grad(y_true, y_pred, *, reduction="mean", sample_weight=None):
    return _scale(_clf_soft_margin_parts(y_true, y_pred)[1], reduction, sample_weight)


def soft_margin_hess(y_true, y_pred, *, reduction="mean", sample_weight=None):
    return _scale(_clf_soft_margin_parts(y_true, y_pred)[2], reduction, sample_weight)


def _clf_hinge_parts(y_true, y_pred, squared):
    t = np.where(np.asarray(y_true, float) > 0, 1.0, -1.0)
    v = np.maximum(0.0, 1.0 - t * np.asarray(y_pred, float))
    if squared:
        return v**2, -2.0 * t * v, np.where(v > 0, 2.0, 0.0)
    return v, np.where(v > 0, -t, 0.0), np.ones_like(v)


def hinge(y_true, y_pred, *, reduction="mean", sample_weight=None):
    return _reduce(_clf_hinge_parts(y_true, y_pred, False)[0], reduction,
                                sample_weight)


def hinge_grad(y_true, y_pred, *, reduction="mean", sample_weight=None):
    return _scale(_clf_hinge_parts(y_true, y_pred, False)[1], reduction,
                               sample_weight)


def hinge_hess(y_true, y_pred, *, reduction="mean", sample_weight=None):
    """The surrogate 1 (the true hessian is 0 almost everywhere)."""
    return _scale(_clf_hinge_parts(y_true, y_pred, False)[2], reduction,
                               sample_weight)


def squared_hinge(y_true, y_pred, *, reduction="mean", sample_weight=None):
    return _reduce(_clf_hinge_parts(y_true, y_pred, True)[0], reduction,
                                sample_weight)


def squared_hinge_grad(y_true, y_pred, *, reduction="mean", sample_weight=None):
    return _scale(_clf_hinge_parts(y_true, y_pred, True)[1], reduction,
                               sample_weight)


def squared_hinge_hess(y_true, y_pred, *, reduction="mean", sample_weight=None):
    return _scale(_clf_hinge_parts(y_true, y_pred, True)[2], reduction,
                               sample_weight)


# -- multi-class (row-wise) -----------------------------------------------------------
# A row loss sum_k f_k(p_k) that is separable in the probabilities p. For logits,
# p = softmax(z) and the chain rule gives, with dp_k/dz_j = p_k (d_kj - p_j):
#   dl/dz_j    = p_j (f'_j - sum_k p_k f'_k)
#   d2l/dz_j^2 = sum_k f''_k p_k^2 (d_kj - p_j)^2
#                + sum_k f'_k p_k ((d_kj - p_j)^2 - p_j (1 - p_j))

def _clf_softmax(z):
    z = np.asarray(z, float)
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _clf_log_softmax(z):
    z = np.asarray(z, float)
    shifted = z - z.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def _clf_chain(p, d1, d2, from_logits):
    """(gradient, diagonal hessian) w.r.t. the logits (or p itself) from f', f''."""
    if not from_logits:
        return d1, d2
    grad = p * (d1 - np.sum(p * d1, axis=1, keepdims=True))
    n, C = p.shape
    delta = np.eye(C)[None, :, :]                      # [row, k, j]
    jac = delta - p[:, None, :]                         # d_kj - p_j
    pk = p[:, :, None]
    pj = p[:, None, :]
    hess = np.sum(d2[:, :, None] * pk**2 * jac**2, axis=1) + np.sum(
        d1[:, :, None] * pk * (jac**2 - pj * (1.0 - pj)), axis=1)
    return grad, hess


def _clf_onehot(labels, C, ignore_index=None):
    labels = np.asarray(labels)
    keep = np.ones(len(labels), bool) if ignore_index is None else labels != ignore_index
    t = np.zeros((len(labels), C))
    t[np.flatnonzero(keep), labels[keep]] = 1.0
    return t, keep


def _clf_rows(kind, t, x, from_logits, params):
    """(row losses, f', f'', p, row weights) of a loss separable in p."""
    C = x.shape[1]
    p = _clf_softmax(x) if from_logits else x
    if from_logits:
        log_p, inv_p = _clf_log_softmax(x), 1.0 / p
    else:
        log_p, inv_p = _clf_clamped_log(p)
    rows = np.ones(len(x))
    constant = 0.0
    if kind in ("ce", "kl"):
        ls = params.get("label_smoothing") or 0.0
        cw = params.get("class_weight")
        a = t * (1.0 - ls) + ls / C
        if cw is not None:
            a = a * np.asarray(cw, float)
            rows = t @ np.asarray(cw, float)
        f = -np.where(a == 0, 0.0, a * log_p)
        if kind == "kl":
            with np.errstate(divide="ignore", invalid="ignore"):
                f = f + np.where(t == 0, 0.0, t * np.log(t))
        d1, d2 = -a * inv_p, a * inv_p**2
    elif kind == "focal":
        g = params["gamma"]
        alpha = params["alpha"]
        c = t * (1.0 if alpha is None else np.asarray(alpha, float))
        q = 1.0 - p
        f = -np.where(c == 0, 0.0, c * q**g * log_p)

        def power(coef, e):  # coef q^e, 0 where coef is 0 (no 0 * inf at p = 1)
            with np.errstate(divide="ignore", invalid="ignore"):
                return np.where(coef == 0, 0.0, coef * q**e)

        # (q^(g-1) log p and q^(g-2) log p tend to 0 at p = 1, where log p = 0)
        d1 = c * (np.where(log_p == 0, 0.0, power(g, g - 1.0) * log_p) - q**g * inv_p)
        d2 = c * (np.where(log_p == 0, 0.0, power(-g * (g - 1.0), g - 2.0) * log_p)
                  + power(2.0 * g, g - 1.0) * inv_p + q**g * inv_p**2)
    elif kind == "poly":  # -log p_t + eps (1 - p_t), p_t = sum_k t_k p_k
        eps = params["epsilon"]
        f = -np.where(t == 0, 0.0, t * log_p) - eps * t * p
        constant = eps
        d1, d2 = -t * inv_p - eps * t, t * inv_p**2
    elif kind == "gce":  # sum_k t_k (1 - p_k^q) / q
        qe = params["q"]
        pq = np.exp(qe * log_p)
        f = t * (1.0 - pq) / qe
        d1 = -t * pq * inv_p
        d2 = t * (1.0 - qe) * pq * inv_p**2
    else:
        raise ValueError(kind)
    return f.sum(axis=1) + constant, d1, d2, p, rows


def _clf_z_loss(x, z_loss):
    """z_loss (log Z)^2 per row of logits x, Z = sum_k exp(x_k), with its gradient
    2 z_loss log Z p and hessian diagonal 2 z_loss (p^2 + log Z p (1 - p))."""
    m = x.max(axis=1, keepdims=True)
    log_z = m + np.log(np.exp(x - m).sum(axis=1, keepdims=True))
    p = _clf_softmax(x)
    return (z_loss * log_z[:, 0] ** 2, 2.0 * z_loss * log_z * p,
            2.0 * z_loss * (p**2 + log_z * p * (1.0 - p)))


def _clf_rowwise(kind, what, y_true, y_pred, sparse, reduction, sample_weight, from_logits,
                 ignore_index=None, z_loss=0.0, **params):
    """Value, gradient or hessian ("value", "grad", "hess") of a separable row loss, plus
    the z-loss of logits (not separable in p) when z_loss > 0."""
    x = np.asarray(y_pred, float)
    if sparse:
        t, keep = _clf_onehot(y_true, x.shape[1], ignore_index)
    else:
        t, keep = np.asarray(y_true, float), np.ones(len(x), bool)
    with np.errstate(divide="ignore", invalid="ignore"):
        losses, d1, d2, p, rows = _clf_rows(kind, t, x, from_logits, params)
    grad, hess = _clf_chain(p, d1, d2, from_logits)
    if z_loss:
        z_value, z_grad, z_hess = _clf_z_loss(x, z_loss)
        losses, grad, hess = losses + z_value, grad + z_grad, hess + z_hess
    losses = np.where(keep, losses, 0.0)
    rows = np.where(keep, rows, 0.0)
    if what == "value":
        return _reduce(losses, reduction, sample_weight, counts=rows)
    out = grad if what == "grad" else hess
    return _scale(np.where(keep[:, None], out, 0.0), reduction, sample_weight, rows=True,
                  counts=rows)


# Poly-1 and GCE take probability rows or integer labels (n,); the sparse losses take
# integer labels.

def categorical_cross_entropy(y_true, y_pred, *, from_logits=False, label_smoothing=0.0,
                              class_weight=None, z_loss=0.0, reduction="mean",
                              sample_weight=None):
    return _clf_rowwise("ce", "value", y_true, y_pred, False, reduction, sample_weight,
                        from_logits=from_logits, label_smoothing=label_smoothing,
                        class_weight=class_weight, z_loss=z_loss)


def categorical_cross_entropy_grad(y_true, y_pred, *, from_logits=False, label_smoothing=0.0,
                                   class_weight=None, z_loss=0.0, reduction="mean",
                              sample_weight=None):
    return _clf_rowwise("ce", "grad", y_true, y_pred, False, reduction, sample_weight,
                        from_logits=from_logits, label_smoothing=label_smoothing,
                        class_weight=class_weight, z_loss=z_loss)


def categorical_cross_entropy_hess(y_true, y_pred, *, from_logits=False, label_smoothing=0.0,
                                   class_weight=None, z_loss=0.0, reduction="mean",
                              sample_weight=None):
    return _clf_rowwise("ce", "hess", y_true, y_pred, False, reduction, sample_weight,
                        from_logits=from_logits, label_smoothing=label_smoothing,
                        class_weight=class_weight, z_loss=z_loss)


def sparse_categorical_cross_entropy(y_true, y_pred, *, from_logits=False, label_smoothing=0.0,
                                     class_weight=None, z_loss=0.0, ignore_index=None,
                                     reduction="mean", sample_weight=None):
    return _clf_rowwise("ce", "value", y_true, y_pred, True, reduction, sample_weight,
                        from_logits=from_logits, label_smoothing=label_smoothing,
                        class_weight=class_weight, z_loss=z_loss, ignore_index=ignore_index)


def sparse_categorical_cross_entropy_grad(y_true, y_pred, *, from_logits=False, label_smoothing=0.0,
                                          class_weight=None, z_loss=0.0, ignore_index=None,
                                          reduction="mean", sample_weight=None):
    return _clf_rowwise("ce", "grad", y_true, y_pred, True, reduction, sample_weight,
                        from_logits=from_logits, label_smoothing=label_smoothing,
                        class_weight=class_weight, z_loss=z_loss, ignore_index=ignore_index)


def sparse_categorical_cross_entropy_hess(y_true, y_pred, *, from_logits=False, label_smoothing=0.0,
                                          class_weight=None, z_loss=0.0, ignore_index=None,
                                          reduction="mean", sample_weight=None):
    return _clf_rowwise("ce", "hess", y_true, y_pred, True, reduction, sample_weight,
                        from_logits=from_logits, label_smoothing=label_smoothing,
                        class_weight=class_weight, z_loss=z_loss, ignore_index=ignore_index)


def categorical_focal(y_true, y_pred, *, gamma=2.0, alpha=None, from_logits=False, reduction="mean",
                      sample_weight=None):
    return _clf_rowwise("focal", "value", y_true, y_pred, False, reduction, sample_weight,
                        gamma=gamma, alpha=alpha, from_logits=from_logits)


def categorical_focal_grad(y_true, y_pred, *, gamma=2.0, alpha=None, from_logits=False,
                           reduction="mean", sample_weight=None):
    return _clf_rowwise("focal", "grad", y_true, y_pred, False, reduction, sample_weight,
                        gamma=gamma, alpha=alpha, from_logits=from_logits)


def categorical_focal_hess(y_true, y_pred, *, gamma=2.0, alpha=None, from_logits=False,
                           reduction="mean", sample_weight=None):
    return _clf_rowwise("focal", "hess", y_true, y_pred, False, reduction, sample_weight,
                        gamma=gamma, alpha=alpha, from_logits=from_logits)


def sparse_categorical_focal(y_true, y_pred, *, gamma=2.0, alpha=None, from_logits=False,
                             reduction="mean", sample_weight=None):
    return _clf_rowwise("focal", "value", y_true, y_pred, True, reduction, sample_weight,
                        gamma=gamma, alpha=alpha, from_logits=from_logits)


def sparse_categorical_focal_grad(y_true, y_pred, *, gamma=2.0, alpha=None, from_logits=False,
                                  reduction="mean", sample_weight=None):
    return _clf_rowwise("focal", "grad", y_true, y_pred, True, reduction, sample_weight,
                        gamma=gamma, alpha=alpha, from_logits=from_logits)


def sparse_categorical_focal_hess(y_true, y_pred, *, gamma=2.0, alpha=None, from_logits=False,
                                  reduction="mean", sample_weight=None):
    return _clf_rowwise("focal", "hess", y_true, y_pred, True, reduction, sample_weight,
                        gamma=gamma, alpha=alpha, from_logits=from_logits)


def kl_divergence(y_true, y_pred, *, from_logits=False, reduction="mean", sample_weight=None):
    return _clf_rowwise("kl", "value", y_true, y_pred, False, reduction, sample_weight,
                        from_logits=from_logits)


def kl_divergence_grad(y_true, y_pred, *, from_logits=False, reduction="mean", sample_weight=None):
    return _clf_rowwise("kl", "grad", y_true, y_pred, False, reduction, sample_weight,
                        from_logits=from_logits)


def kl_divergence_hess(y_true, y_pred, *, from_logits=False, reduction="mean", sample_weight=None):
    return _clf_rowwise("kl", "hess", y_true, y_pred, False, reduction, sample_weight,
                        from_logits=from_logits)


def poly_loss(y_true, y_pred, *, epsilon=1.0, from_logits=False, reduction="mean",
              sample_weight=None):
    return _clf_rowwise("poly", "value", y_true, y_pred, np.ndim(y_true) == 1, reduction,
                        sample_weight, epsilon=epsilon, from_logits=from_logits)


def poly_loss_grad(y_true, y_pred, *, epsilon=1.0, from_logits=False, reduction="mean",
                   sample_weight=None):
    return _clf_rowwise("poly", "grad", y_true, y_pred, np.ndim(y_true) == 1, reduction,
                        sample_weight, epsilon=epsilon, from_logits=from_logits)


def poly_loss_hess(y_true, y_pred, *, epsilon=1.0, from_logits=False, reduction="mean",
                   sample_weight=None):
    return _clf_rowwise("poly", "hess", y_true, y_pred, np.ndim(y_true) == 1, reduction,
                        sample_weight, epsilon=epsilon, from_logits=from_logits)


def generalized_cross_entropy(y_true, y_pred, *, q=0.7, from_logits=False, reduction="mean",
                              sample_weight=None):
    return _clf_rowwise("gce", "value", y_true, y_pred, np.ndim(y_true) == 1, reduction,
                        sample_weight, q=q, from_logits=from_logits)


def generalized_cross_entropy_grad(y_true, y_pred, *, q=0.7, from_logits=False, reduction="mean",
                                   sample_weight=None):
    return _clf_rowwise("gce", "grad", y_true, y_pred, np.ndim(y_true) == 1, reduction,
                        sample_weight, q=q, from_logits=from_logits)


def generalized_cross_entropy_hess(y_true, y_pred, *, q=0.7, from_logits=False, reduction="mean",
                                   sample_weight=None):
    return _clf_rowwise("gce", "hess", y_true, y_pred, np.ndim(y_true) == 1, reduction,
                        sample_weight, q=q, from_logits=from_logits)


def _clf_categorical_hinge_parts(y_true, y_pred, margin):
    s = np.asarray(y_pred, float)
    t = np.asarray(y_true, float)
    if t.ndim == 1:
        t = _clf_onehot(t.astype(int), s.shape[1])[0]
    pos = np.sum(t * s, axis=1)
    candidates = np.where(t < 1.0, (1.0 - t) * s, -np.inf)
    k_neg = np.argmax(candidates, axis=1)
    v = margin + candidates[np.arange(len(s)), k_neg] - pos
    violated = (v > 0)[:, None]
    grad = np.where(violated, (np.arange(s.shape[1]) == k_neg[:, None]) * (1.0 - t) - t, 0.0)
    return np.maximum(v, 0.0), grad, np.ones_like(s)


def categorical_hinge(y_true, y_pred, *, margin=1.0, reduction="mean", sample_weight=None):
    loss = _clf_categorical_hinge_parts(y_true, y_pred, margin)[0]
    return _reduce(loss, reduction, sample_weight)


def categorical_hinge_grad(y_true, y_pred, *, margin=1.0, reduction="mean",
                           sample_weight=None):
    grad = _clf_categorical_hinge_parts(y_true, y_pred, margin)[1]
    return _scale(grad, reduction, sample_weight, rows=True)


def categorical_hinge_hess(y_true, y_pred, *, margin=1.0, reduction="mean",
                           sample_weight=None):
    """The surrogate 1 (the true hessian is 0 almost everywhere)."""
    hess = _clf_categorical_hinge_parts(y_true, y_pred, margin)[2]
    return _scale(hess, reduction, sample_weight, rows=True)


# NLL and the multi-class margin losses take integer labels.

def _clf_nll_parts(y_true, y_pred, class_weight, ignore_index):
    """(row losses -w_y z_y, gradient, hessian 0, row weights w_y; 0 where ignored)."""
    z = np.asarray(y_pred, float)
    t, _ = _clf_onehot(y_true, z.shape[1], ignore_index)
    a = t if class_weight is None else t * np.asarray(class_weight, float)
    losses = -np.sum(np.where(a == 0.0, 0.0, a * z), axis=1)
    return losses, -a, np.zeros_like(z), a.sum(axis=1)


def nll(y_true, y_pred, *, class_weight=None, ignore_index=None, reduction="mean",
        sample_weight=None):
    losses, _, _, rows = _clf_nll_parts(y_true, y_pred, class_weight, ignore_index)
    return _reduce(losses, reduction, sample_weight, counts=rows)


def nll_grad(y_true, y_pred, *, class_weight=None, ignore_index=None, reduction="mean",
             sample_weight=None):
    _, grad, _, rows = _clf_nll_parts(y_true, y_pred, class_weight, ignore_index)
    return _scale(grad, reduction, sample_weight, rows=True, counts=rows)


def nll_hess(y_true, y_pred, *, class_weight=None, ignore_index=None, reduction="mean",
             sample_weight=None):
    _, _, hess, rows = _clf_nll_parts(y_true, y_pred, class_weight, ignore_index)
    return _scale(hess, reduction, sample_weight, rows=True, counts=rows)


def _clf_multi_margin_parts(y_true, y_pred, p, margin, class_weight, kind):
    """(row losses, gradient, hessian diagonal or its p = 1 surrogate 1) of MultiMargin:
    the violations v_k = margin - z_y + z_k over k != y (Weston-Watkins), or at the
    first best k != y only (Crammer-Singer)."""
    z = np.asarray(y_pred, float)
    n, C = z.shape
    y = np.asarray(y_true).astype(np.int64)
    rows = np.arange(n)
    onehot = np.eye(C)[y]
    s = np.ones(n) if class_weight is None else np.asarray(class_weight, float)[y]
    z_y = z[rows, y][:, None]
    if kind == "weston_watkins":
        s = s / C
        v = np.where(onehot == 0.0, margin - z_y + z, -np.inf)
    else:
        best = np.argmax(np.where(onehot == 0.0, z, -np.inf), axis=1)
        v = np.full((n, C), -np.inf)
        v[rows, best] = margin - z_y[:, 0] + z[rows, best]
    hinge = np.maximum(v, 0.0)
    losses = s * np.sum(hinge**p, axis=1)
    slope = s[:, None] * ((v > 0.0) if p == 1 else 2.0 * hinge)
    grad = slope - onehot * slope.sum(axis=1, keepdims=True)
    if p == 1:
        hess = np.ones((n, C))
    else:
        curvature = 2.0 * s[:, None] * (v > 0.0)
        hess = curvature + onehot * curvature.sum(axis=1, keepdims=True)
    return losses, grad, hess


def multi_margin(y_true, y_pred, *, p=1, margin=1.0, class_weight=None, kind="weston_watkins",
                 reduction="mean", sample_weight=None):
    losses = _clf_multi_margin_parts(y_true, y_pred, p, margin, class_weight, kind)[0]
    return _reduce(losses, reduction, sample_weight)


def multi_margin_grad(y_true, y_pred, *, p=1, margin=1.0, class_weight=None,
                      kind="weston_watkins", reduction="mean", sample_weight=None):
    grad = _clf_multi_margin_parts(y_true, y_pred, p, margin, class_weight, kind)[1]
    return _scale(grad, reduction, sample_weight, rows=True)


def multi_margin_hess(y_true, y_pred, *, p=1, margin=1.0, class_weight=None,
                      kind="weston_watkins", reduction="mean", sample_weight=None):
    """Exact for p = 2; for p = 1 the surrogate 1 at every entry."""
    hess = _clf_multi_margin_parts(y_true, y_pred, p, margin, class_weight, kind)[2]
    return _scale(hess, reduction, sample_weight, rows=True)


# ---- detection -----------------------------------------------------------------------
# Boxes are rows (x1, y1, x2, y2); the gradients are taken w.r.t. the predicted boxes.


def _max_share(a, b):
    """d max(a, b) / da as PyTorch's maximum: 1, 0.5 at a tie, 0."""
    return (a > b) + 0.5 * (a == b)


def _box_parts(y_true, y_pred, kind, eps):
    """(loss per box, gradient per box, surrogate hessian 1) of torchvision's
    IoU-family box losses (see BoxIoU): iou = I / (U + eps); GIoU adds
    (A - U) / (A + eps), DIoU d^2 / (c^2 + eps), CIoU also alpha v with alpha constant."""
    x1, y1, x2, y2 = np.asarray(y_pred, float).T
    tx1, ty1, tx2, ty2 = np.asarray(y_true, float).T
    iw = np.minimum(x2, tx2) - np.maximum(x1, tx1)
    ih = np.minimum(y2, ty2) - np.maximum(y1, ty1)
    overlap = (iw > 0) & (ih > 0)
    inter = np.where(overlap, iw * ih, 0.0)
    w, h = x2 - x1, y2 - y1
    union = w * h + (tx2 - tx1) * (ty2 - ty1) - inter
    iou = inter / (union + eps)
    # derivatives of I and U w.r.t. (x1, y1, x2, y2), one column each
    d_inter = overlap[:, None] * np.stack([-ih * _max_share(x1, tx1), -iw * _max_share(y1, ty1),
                                  ih * _max_share(tx2, x2), iw * _max_share(ty2, y2)], axis=1)
    d_union = np.stack([-h, -w, h, w], axis=1) - d_inter
    loss = 1.0 - iou
    grad = -(d_inter * (union + eps)[:, None] - inter[:, None] * d_union) / (
        (union + eps) ** 2)[:, None]
    if kind != "iou":
        cw = np.maximum(x2, tx2) - np.minimum(x1, tx1)
        ch = np.maximum(y2, ty2) - np.minimum(y1, ty1)
        # d cw / dx1, d ch / dy1, d cw / dx2, d ch / dy2
        d_side = np.stack([-_max_share(tx1, x1), -_max_share(ty1, y1), _max_share(x2, tx2),
                           _max_share(y2, ty2)], axis=1)
        sides = np.stack([cw, ch, cw, ch], axis=1)
        other = np.stack([ch, cw, ch, cw], axis=1)
    if kind == "giou":
        area = cw * ch
        loss = loss + (area - union) / (area + eps)
        d_area = other * d_side
        grad = grad + ((d_area - d_union) / (area + eps)[:, None]
                       - ((area - union) / (area + eps) ** 2)[:, None] * d_area)
    if kind in ("diou", "ciou"):
        diag = cw**2 + ch**2 + eps
        dx = (x1 + x2) / 2 - (tx1 + tx2) / 2
        dy = (y1 + y2) / 2 - (ty1 + ty2) / 2
        dist = dx**2 + dy**2
        loss = loss + dist / diag
        d_dist = np.stack([dx, dy, dx, dy], axis=1)
        d_diag = 2.0 * sides * d_side
        grad = grad + d_dist / diag[:, None] - (dist / diag**2)[:, None] * d_diag
    if kind == "ciou":
        angle = np.arctan((tx2 - tx1) / (ty2 - ty1)) - np.arctan(w / h)
        v = 4.0 / np.pi**2 * angle**2
        alpha = v / (1.0 - iou + v + eps)
        loss = loss + alpha * v
        # d atan(w / h) / dw = h / (w^2 + h^2), / dh = -w / (w^2 + h^2)
        dv_dw = -8.0 / np.pi**2 * angle * h / (w**2 + h**2)
        dv_dh = 8.0 / np.pi**2 * angle * w / (w**2 + h**2)
        grad = grad + alpha[:, None] * np.stack([-dv_dw, -dv_dh, dv_dw, dv_dh], axis=1)
    return loss, grad, np.ones_like(grad)


def box_iou_loss(y_true, y_pred, *, kind="giou", eps=1e-7, reduction="mean",
                 sample_weight=None):
    return _reduce(_box_parts(y_true, y_pred, kind, eps)[0], reduction, sample_weight)


def box_iou_loss_grad(y_true, y_pred, *, kind="giou", eps=1e-7, reduction="mean",
                      sample_weight=None):
    grad = _box_parts(y_true, y_pred, kind, eps)[1]
    return _scale(grad, reduction, sample_weight, rows=True)


def box_iou_loss_hess(y_true, y_pred, *, kind="giou", eps=1e-7, reduction="mean",
                      sample_weight=None):
    """The surrogate 1 (the box losses are not boosting objectives)."""
    hess = _box_parts(y_true, y_pred, kind, eps)[2]
    return _scale(hess, reduction, sample_weight, rows=True)


# ---- segmentation --------------------------------------------------------------------
# One mask per sample (row), flattened; p the probabilities (sigmoid of logits).


def _seg_overlap_parts(y_true, y_pred, from_logits, alpha, beta, gamma, smooth, dice,
                       multiclass=False):
    """(loss per sample, gradient, surrogate hessian 1) of soft Dice or Tversky.

    multiclass: y_pred (n, C, ...), probabilities or logits (a softmax over axis 1),
    y_true one-hot rows or integer labels (n, ...); each (sample, class) is a mask, and
    a sample's loss is the mean over its classes (the surrogate hessian 1 / C)."""
    shape = np.shape(y_pred)
    z = np.asarray(y_pred, float)
    t = np.asarray(y_true)
    if multiclass:
        classes = shape[1]
        if t.dtype.kind in "biu":
            t = np.moveaxis(np.eye(classes)[t], -1, 1)
        p = np.exp(z - z.max(axis=1, keepdims=True)) if from_logits else z
        if from_logits:
            p = p / p.sum(axis=1, keepdims=True)
        rows = shape[0] * classes
    else:
        p = 1.0 / (1.0 + np.exp(-z)) if from_logits else z
        rows, classes = shape[0], 1
    p_rows, t = p.reshape(rows, -1), np.asarray(t, float).reshape(rows, -1)
    tp, sp, st = (p_rows * t).sum(axis=1), p_rows.sum(axis=1), t.sum(axis=1)
    if dice:  # 1 - (2 TP + s) / (P + T + s)
        num, den = 2 * tp + smooth, sp + st + smooth
        d_num, d_den = 2 * t, np.ones_like(t)
    else:  # (1 - (TP + s) / (TP + a FP + b FN + s))^gamma
        num = tp + smooth
        den = tp + alpha * (sp - tp) + beta * (st - tp) + smooth
        d_num, d_den = t, t + alpha * (1 - t) - beta * t
    score = num / den
    d_score = (d_num * den[:, None] - num[:, None] * d_den) / den[:, None] ** 2
    loss = ((1 - score) ** gamma).reshape(shape[0], classes).mean(axis=1)
    grad = (-gamma * ((1 - score) ** (gamma - 1))[:, None] * d_score / classes).reshape(shape)
    if from_logits and multiclass:  # through the softmax over the class axis
        grad = p * (grad - (grad * p).sum(axis=1, keepdims=True))
    elif from_logits:
        grad = grad * p * (1 - p)
    return loss, grad, np.ones(shape) / classes


def _seg_reduce(parts, what, reduction, sample_weight):
    loss, grad, hess = parts
    if what == "value":
        return _reduce(loss, reduction, sample_weight)
    return _scale(grad if what == "grad" else hess, reduction, sample_weight, rows=True)


def dice(y_true, y_pred, *, smooth=1.0, from_logits=False, multiclass=False,
         reduction="mean", sample_weight=None):
    parts = _seg_overlap_parts(y_true, y_pred, from_logits, 0.5, 0.5, 1.0, smooth, True,
                               multiclass)
    return _seg_reduce(parts, "value", reduction, sample_weight)


def dice_grad(y_true, y_pred, *, smooth=1.0, from_logits=False, multiclass=False,
              reduction="mean", sample_weight=None):
    parts = _seg_overlap_parts(y_true, y_pred, from_logits, 0.5, 0.5, 1.0, smooth, True,
                               multiclass)
    return _seg_reduce(parts, "grad", reduction, sample_weight)


def dice_hess(y_true, y_pred, *, smooth=1.0, from_logits=False, multiclass=False,
              reduction="mean", sample_weight=None):
    """The surrogate 1 (1 / C per class with multiclass)."""
    parts = _seg_overlap_parts(y_true, y_pred, from_logits, 0.5, 0.5, 1.0, smooth, True,
                               multiclass)
    return _seg_reduce(parts, "hess", reduction, sample_weight)


def tversky(y_true, y_pred, *, alpha=0.5, beta=0.5, gamma=1.0, smooth=1.0, from_logits=False,
            multiclass=False, reduction="mean", sample_weight=None):
    parts = _seg_overlap_parts(y_true, y_pred, from_logits, alpha, beta, gamma, smooth, False,
                               multiclass)
    return _seg_reduce(parts, "value", reduction, sample_weight)


def tversky_grad(y_true, y_pred, *, alpha=0.5, beta=0.5, gamma=1.0, smooth=1.0,
                 from_logits=False, multiclass=False, reduction="mean", sample_weight=None):
    parts = _seg_overlap_parts(y_true, y_pred, from_logits, alpha, beta, gamma, smooth, False,
                               multiclass)
    return _seg_reduce(parts, "grad", reduction, sample_weight)


def tversky_hess(y_true, y_pred, *, alpha=0.5, beta=0.5, gamma=1.0, smooth=1.0,
                 from_logits=False, multiclass=False, reduction="mean", sample_weight=None):
    """The surrogate 1 (1 / C per class with multiclass)."""
    parts = _seg_overlap_parts(y_true, y_pred, from_logits, alpha, beta, gamma, smooth, False,
                               multiclass)
    return _seg_reduce(parts, "hess", reduction, sample_weight)


# ---- embedding -----------------------------------------------------------------------
# Each returns (value, gradients): rows reduced by `_reduce_rows` ("mean" of
# BatchTriplet divides by its weighted count of mined triplets).


def _reduce_rows(values, row_grads, sample_weight, reduction):
    """(reduced value, gradients) of per-row values and per-row gradients: _reduce and
    _scale over rows (contract, section 2)."""
    return (_reduce(values, reduction, sample_weight),
            tuple(_scale(g, reduction, sample_weight, rows=True) for g in row_grads))


def contrastive(same, x1, x2, margin=1.0, sample_weight=None, reduction="mean"):
    """l = same d^2 + (1 - same) max(0, margin - d)^2, d = ||x1 - x2|| (Hadsell 2006)."""
    same = np.asarray(same, dtype=float)
    diff = x1 - x2
    d = np.sqrt((diff * diff).sum(axis=1))
    hinge = np.maximum(margin - d, 0.0)
    values = same * d**2 + (1 - same) * hinge**2
    with np.errstate(divide="ignore", invalid="ignore"):
        dissimilar = np.where(d > 0, 2 * (1 - same) * hinge / d, 0.0)
    g1 = (2 * same - dissimilar)[:, None] * diff
    return _reduce_rows(values, (g1, -g1), sample_weight, reduction)


def cosine_embedding(target, x1, x2, margin=0.0, sample_weight=None, reduction="mean"):
    """torch.nn.functional.cosine_embedding_loss: 1 - cos for a target of 1,
    max(0, cos - margin) for -1; cos = x1.x2 / sqrt((|x1|^2 + 1e-12) (|x2|^2 + 1e-12))."""
    target = np.asarray(target, dtype=float)
    n1 = (x1 * x1).sum(axis=1) + 1e-12
    n2 = (x2 * x2).sum(axis=1) + 1e-12
    den = np.sqrt(n1 * n2)
    cos = (x1 * x2).sum(axis=1) / den
    similar = target == 1
    values = np.where(similar, 1.0 - cos, np.maximum(cos - margin, 0.0))
    sign = np.where(similar, -1.0, (cos > margin) * 1.0)[:, None]
    g1 = sign * (x2 / den[:, None] - (cos / n1)[:, None] * x1)
    g2 = sign * (x1 / den[:, None] - (cos / n2)[:, None] * x2)
    return _reduce_rows(values, (g1, g2), sample_weight, reduction)


def _emb_cosine_similarity_parts(y_true, y_pred):
    """Keras's -cos per row, x / max(|x|, 1e-7) normalized, its gradient w.r.t. y_pred
    and the exact hessian diagonal (0 where |y_pred| <= 1e-7, a constant norm)."""
    t, z = np.asarray(y_true, float), np.asarray(y_pred, float)
    nt = np.maximum(np.sqrt((t * t).sum(axis=1)), 1e-7)[:, None]
    zz = (z * z).sum(axis=1)[:, None]
    clamped = np.sqrt(zz) <= 1e-7
    nz = np.where(clamped, 1e-7, np.sqrt(zz))
    cos = (t * z).sum(axis=1)[:, None] / (nt * nz)
    with np.errstate(divide="ignore", invalid="ignore"):
        grad = np.where(clamped, -t / (nt * nz), -(t / (nt * nz) - cos * z / zz))
        hess = np.where(clamped, 0.0, -(3.0 * cos * z**2 / zz**2 - 2.0 * t * z / (nt * nz * zz)
                                        - cos / zz))
    return -cos[:, 0], grad, hess


def cosine_similarity(y_true, y_pred, *, reduction="mean", sample_weight=None):
    return _reduce(_emb_cosine_similarity_parts(y_true, y_pred)[0], reduction, sample_weight)


def cosine_similarity_grad(y_true, y_pred, *, reduction="mean", sample_weight=None):
    grad = _emb_cosine_similarity_parts(y_true, y_pred)[1]
    return _scale(grad, reduction, sample_weight, rows=True)


def cosine_similarity_hess(y_true, y_pred, *, reduction="mean", sample_weight=None):
    hess = _emb_cosine_similarity_parts(y_true, y_pred)[2]
    return _scale(hess, reduction, sample_weight, rows=True)


def _emb_pairwise_distance(u, v, p, eps):
    """torch.pairwise_distance: ||u - v + eps||_p per row, and its gradient wrt u."""
    x = u - v + eps
    d = (np.abs(x) ** p).sum(axis=1) ** (1.0 / p)
    with np.errstate(divide="ignore", invalid="ignore"):
        grad = np.sign(x) * (np.abs(x) / d[:, None]) ** (p - 1)
    return d, np.where(d[:, None] > 0, grad, 0.0)


def triplet(anchor, positive, negative, margin=1.0, p=2.0, swap=False, eps=1e-6,
            sample_weight=None, reduction="mean"):
    """torch.nn.functional.triplet_margin_loss: max(0, margin + d(a,p) - d(a,n))."""
    d_ap, g_ap = _emb_pairwise_distance(anchor, positive, p, eps)
    d_an, g_an = _emb_pairwise_distance(anchor, negative, p, eps)
    share_an, share_pn = np.ones_like(d_an), np.zeros_like(d_an)
    d_neg, g_pn = d_an, np.zeros_like(g_an)
    if swap:
        d_pn, g_pn = _emb_pairwise_distance(positive, negative, p, eps)
        share_an = np.where(d_pn < d_an, 0.0, np.where(d_pn == d_an, 0.5, 1.0))
        share_pn = 1.0 - share_an
        d_neg = np.minimum(d_an, d_pn)
    z = margin + d_ap - d_neg
    active = (z >= 0)[:, None]
    ga = active * (g_ap - share_an[:, None] * g_an)
    gp = active * (-g_ap - share_pn[:, None] * g_pn)
    gn = active * (share_an[:, None] * g_an + share_pn[:, None] * g_pn)
    return _reduce_rows(np.maximum(z, 0.0), (ga, gp, gn), sample_weight, reduction)


def _emb_float_array(x):
    """x as float32 or float64 (its own dtype when floating): the dtype computed in."""
    x = np.asarray(x)
    return x if x.dtype in (np.float32, np.float64) else x.astype(np.float64)


def batch_triplet_triplets(labels, embeddings, margin=1.0, strategy="hard"):
    """The mined triplets (anchor, positive, negative index arrays) and per-anchor counts.

    Distances from the Gram matrix; "hard": per anchor its farthest positive and
    closest negative; "semihard": per anchor-positive pair the closest negative farther
    than the positive, else the farthest negative; "all": every triplet with positive
    loss. Ties go to the lowest index.
    """
    X = _emb_float_array(embeddings)
    labels = np.asarray(labels)
    n = len(X)
    sq = (X * X).sum(axis=1)
    dist = np.sqrt(np.maximum(sq[:, None] + sq[None, :] - 2 * X @ X.T, 0.0))
    np.fill_diagonal(dist, 0.0)
    same = labels[:, None] == labels[None, :]
    pos_mask = same & ~np.eye(n, dtype=bool)
    neg_mask = ~same
    if strategy == "hard":
        valid = pos_mask.any(axis=1) & neg_mask.any(axis=1)
        a = np.flatnonzero(valid)
        p = np.where(pos_mask, dist, -np.inf).argmax(axis=1)[a]
        q = np.where(neg_mask, dist, np.inf).argmin(axis=1)[a]
        return a, p, q, valid.astype(float)
    triplets, counts = [], np.zeros(n)
    for anchor in range(n):
        positives, negatives = np.flatnonzero(pos_mask[anchor]), np.flatnonzero(neg_mask[anchor])
        if negatives.size == 0:
            continue
        row = dist[anchor]
        for positive in positives:
            if strategy == "semihard":
                farther = negatives[row[negatives] > row[positive]]
                if farther.size:
                    chosen = [farther[np.argmin(row[farther])]]
                else:
                    chosen = [negatives[np.argmax(row[negatives])]]
                counts[anchor] += 1
            else:
                chosen = negatives[margin + row[positive] - row[negatives] > 0]
                counts[anchor] += chosen.size
            triplets += [(anchor, positive, negative) for negative in chosen]
    a, p, q = (np.array(t, dtype=np.int64) for t in zip(*triplets, strict=True)) if triplets else (
        np.zeros(0, dtype=np.int64),) * 3
    return a, p, q, counts


def batch_triplet(labels, embeddings, margin=1.0, strategy="hard", sample_weight=None,
                  reduction="mean"):
    """Triplet loss over triplets mined in the batch; returns (value, gradient).

    l_a sums max(0, margin + d(a,p) - d(a,n)) over the anchor's mined triplets;
    "mean" divides by the weighted number of mined triplets (0.0 when there is none).
    hard/semihard losses use distances from the differences; "all" Gram distances.
    """
    X = _emb_float_array(embeddings)
    n = len(X)
    w = np.ones(n) if sample_weight is None else np.asarray(sample_weight, float)
    a, p, q, counts = batch_triplet_triplets(labels, X, margin, strategy)
    if strategy == "all":
        sq = (X * X).sum(axis=1)
        dist = np.sqrt(np.maximum(sq[:, None] + sq[None, :] - 2 * X @ X.T, 0.0))
        d_ap, d_an = dist[a, p], dist[a, q]
    else:
        d_ap = np.linalg.norm(X[a] - X[p], axis=1)
        d_an = np.linalg.norm(X[a] - X[q], axis=1)
    z = margin + d_ap - d_an
    values = np.bincount(a, weights=np.maximum(z, 0.0), minlength=n)
    with np.errstate(divide="ignore", invalid="ignore"):
        u_ap = np.where(d_ap[:, None] > 0, (X[a] - X[p]) / d_ap[:, None], 0.0)
        u_an = np.where(d_an[:, None] > 0, (X[a] - X[q]) / d_an[:, None], 0.0)
    coef = (z > 0)[:, None]
    grad_rows = np.zeros_like(X)  # gradient of sum_a w_a l_a
    np.add.at(grad_rows, a, w[a, None] * coef * (u_ap - u_an))
    np.add.at(grad_rows, p, -w[a, None] * coef * u_ap)
    np.add.at(grad_rows, q, w[a, None] * coef * u_an)
    if reduction != "mean":
        return _reduce(values, reduction, sample_weight), grad_rows
    triplets = _mean_divisor(sample_weight, (n,), counts)
    if triplets == 0:  # no mined triplet: "mean" is 0 (not an error)
        return 0.0, np.zeros_like(X)
    return _reduce(values, reduction, sample_weight, counts=counts), grad_rows / triplets



def supcon(labels, embeddings, temperature=0.1, sample_weight=None, reduction="mean"):
    """Supervised contrastive loss (Khosla et al. 2020, L_out); returns (value, gradient).

    u = x / max(|x|, 1e-12), s = u u^T / temperature; anchor i with positives P(i) (the
    other rows with its label): l_i = log sum_{a != i} e^{s_ia} - mean_{p in P(i)} s_ip,
    0 without positives. "mean" divides by the weight of the anchors with a positive.
    """
    X = np.asarray(embeddings, dtype=float)
    labels = np.asarray(labels)
    n = len(X)
    w = np.ones(n) if sample_weight is None else np.asarray(sample_weight, float)
    norm = np.maximum(np.linalg.norm(X, axis=1), 1e-12)
    U = X / norm[:, None]
    s = U @ U.T / temperature
    off_diagonal = ~np.eye(n, dtype=bool)
    positive = (labels[:, None] == labels[None, :]) & off_diagonal
    count = positive.sum(axis=1)
    s_masked = np.where(off_diagonal, s, -np.inf)
    peak = s_masked.max(axis=1, initial=-np.inf, where=off_diagonal)
    lse = peak + np.log(np.exp(s_masked - peak[:, None]).sum(axis=1))
    safe = np.maximum(count, 1)
    values = np.where(count > 0, lse - np.where(positive, s, 0.0).sum(axis=1) / safe, 0.0)
    # d(sum_i c_i l_i)/ds_ia = c_i (softmax_ia - [a in P(i)] / |P(i)|), c_i = 0 without P
    c = w * (count > 0)
    if reduction == "mean":
        divisor = np.sum(c)
        c = c / divisor if divisor > 0 else c * 0.0
    softmax = np.exp(s_masked - lse[:, None])
    G = c[:, None] * (softmax - positive / safe[:, None]) / temperature
    grad_u = G @ U + G.T @ U
    radial = np.where(np.linalg.norm(X, axis=1) > 1e-12, (grad_u * U).sum(axis=1), 0.0)
    grad = (grad_u - radial[:, None] * U) / norm[:, None]
    if reduction != "mean":
        return _reduce(values, reduction, sample_weight), grad
    divisor = _mean_divisor(sample_weight, (n,), count > 0)
    if divisor == 0:  # no anchor with a positive: "mean" is 0 (not an error)
        return 0.0, grad
    return _reduce(values, reduction, sample_weight, counts=count > 0), grad


def info_nce(z1, z2, temperature=0.1, sample_weight=None, reduction="mean"):
    """NT-Xent (Chen et al. 2020, SimCLR) over the 2n views; returns (value, (d/dz1,
    d/dz2)). Row i's loss is the mean of its two anchors' SupCon losses, whose one
    positive each is the other view."""
    z1, z2 = np.asarray(z1, dtype=float), np.asarray(z2, dtype=float)
    n = len(z1)
    w = np.ones(n) if sample_weight is None else np.asarray(sample_weight, float)
    # "none" gives w_a l_a per anchor and the gradient of their sum; an anchor has half
    # its row's weight
    weighted, grad = supcon(np.tile(np.arange(n), 2), np.concatenate([z1, z2]),
                            temperature, np.tile(w, 2) / 2, "none")
    rows = weighted[:n] + weighted[n:]
    if reduction == "none":
        return rows, (grad[:n], grad[n:])
    value = float(np.sum(rows))
    if reduction == "mean":
        divisor = _mean_divisor(sample_weight, (n,))
        value, grad = value / divisor, grad / divisor
    return value, (grad[:n], grad[n:])


def _margin_softmax(labels, embeddings, weight, scale, margin, arc, sample_weight,
                    reduction):
    """ArcFace (arc) or CosFace; returns (value, (d/d embeddings, d/d weight))."""
    X, V = np.asarray(embeddings, dtype=float), np.asarray(weight, dtype=float)
    labels = np.asarray(labels)
    n = len(X)
    w = np.ones(n) if sample_weight is None else np.asarray(sample_weight, float)
    x_len, v_len = np.linalg.norm(X, axis=1), np.linalg.norm(V, axis=1)
    U = X / np.maximum(x_len, 1e-12)[:, None]
    W = V / np.maximum(v_len, 1e-12)[:, None]
    cos = U @ W.T
    rows = np.arange(n)
    c = cos[rows, labels]
    if arc:
        sine = np.sqrt(np.maximum(1.0 - c * c, 0.0))
        inside = c > np.cos(np.pi - margin)
        target = np.where(inside, c * np.cos(margin) - sine * np.sin(margin),
                          c - np.sin(np.pi - margin) * margin)
        with np.errstate(divide="ignore", invalid="ignore"):
            slope = np.where(inside, np.cos(margin) + np.where(
                sine > 0, np.sin(margin) * c / sine, 0.0), 1.0)
    else:
        target, slope = c - margin, np.ones(n)
    logits = scale * cos
    logits[rows, labels] = scale * target
    peak = logits.max(axis=1)
    lse = peak + np.log(np.exp(logits - peak[:, None]).sum(axis=1))
    values = lse - logits[rows, labels]
    coef = w / np.sum(w) if reduction == "mean" else w
    G = scale * np.exp(logits - lse[:, None])
    G[rows, labels] -= scale
    G[rows, labels] *= slope
    G *= coef[:, None]
    grads = []
    for g_unit, unit, length in ((G @ W, U, x_len), (G.T @ U, W, v_len)):
        radial = np.where(length > 1e-12, (g_unit * unit).sum(axis=1), 0.0)
        grads.append((g_unit - radial[:, None] * unit) / np.maximum(length, 1e-12)[:, None])
    return _reduce(values, reduction, sample_weight), tuple(grads)


def arcface(labels, embeddings, weight, scale=64.0, margin=0.5, sample_weight=None,
            reduction="mean"):
    """ArcFace (Deng et al. 2019; insightface, easy_margin=False): the true class's
    logit scale cos(theta + margin), scale (cos - margin sin margin) where
    theta + margin > pi; the others scale cos. Returns (value, gradients)."""
    return _margin_softmax(labels, embeddings, weight, scale, margin, True, sample_weight,
                           reduction)


def cosface(labels, embeddings, weight, scale=64.0, margin=0.35, sample_weight=None,
            reduction="mean"):
    """CosFace (Wang et al. 2018): the true class's logit scale (cos - margin)."""
    return _margin_softmax(labels, embeddings, weight, scale, margin, False, sample_weight,
                           reduction)

# ---- ranking -------------------------------------------------------------------------
# Over (n_lists, list_size) arrays with an optional `where` mask; each returns (value,
# gradient wrt scores), lists reduced by `_reduce_rows`. Pairwise losses work on chunks
# of lists to bound the (chunk, L, L) temporaries.


def _ranking_mask(scores, where):
    return np.ones(scores.shape, dtype=bool) if where is None else np.asarray(where, dtype=bool)


def _rank_sigmoid(x):
    return np.exp(-np.logaddexp(0.0, -x))


def _rank_pairwise(relevance, scores, where, pair_fn, chunk=256):
    """Per-list sums of pair_fn over pairs rel_i > rel_j of valid items, and gradients.

    pair_fn(x, lists) -> (pair losses, d pair loss / dx) for x = s_i - s_j, x of shape
    (chunk, L, L); lists is the slice of lists, for weights that depend on the list.
    """
    relevance, scores = np.asarray(relevance, float), np.asarray(scores, float)
    mask = _ranking_mask(scores, where)
    n, size = scores.shape
    values, grad = np.zeros(n), np.zeros((n, size))
    for start in range(0, n, chunk):
        lists = slice(start, start + chunk)
        r, s, m = relevance[lists], scores[lists], mask[lists]
        valid = (r[:, :, None] > r[:, None, :]) & m[:, :, None] & m[:, None, :]
        with np.errstate(invalid="ignore", over="ignore"):
            losses, slopes = pair_fn(s[:, :, None] - s[:, None, :], lists)
        losses, slopes = np.where(valid, losses, 0.0), np.where(valid, slopes, 0.0)
        values[lists] = losses.sum(axis=(1, 2))
        grad[lists] = slopes.sum(axis=2) - slopes.sum(axis=1)
    return values, grad


def pairwise_hinge(relevance, scores, margin=1.0, where=None, sample_weight=None,
                   reduction="mean"):
    """sum over pairs rel_i > rel_j of max(0, margin - (s_i - s_j)) (rax)."""
    def pair(x, lists):
        return np.maximum(margin - x, 0.0), -(margin - x > 0).astype(float)
    values, grad = _rank_pairwise(relevance, scores, where, pair)
    value, (grad,) = _reduce_rows(values, (grad,), sample_weight, reduction)
    return value, grad


def pairwise_logistic(relevance, scores, where=None, sample_weight=None, reduction="mean"):
    """RankNet: sum over pairs rel_i > rel_j of log(1 + exp(-(s_i - s_j))) (rax)."""
    def pair(x, lists):
        return np.logaddexp(0.0, -x), -_rank_sigmoid(-x)
    values, grad = _rank_pairwise(relevance, scores, where, pair)
    value, (grad,) = _reduce_rows(values, (grad,), sample_weight, reduction)
    return value, grad


def ndcg_lambda_weights(relevance, scores, k=None, where=None):
    """|G_i - G_j| |D_i - D_j| / IDCG@k per pair, (n, L, L): G = 2^rel - 1,
    D = 1/log2(1 + rank by score) up to rank k (ties by index), 0 beyond."""
    relevance, scores = np.asarray(relevance, float), np.asarray(scores, float)
    mask = _ranking_mask(scores, where)
    n, size = scores.shape
    k = size if k is None else k
    positions = np.arange(size)
    order = np.argsort(np.where(mask, -scores, np.inf), axis=1, kind="stable")
    ranks = np.empty((n, size))
    np.put_along_axis(ranks, order, positions[None, :] + 1.0, axis=1)
    discounts = np.where(mask & (ranks <= k), 1.0 / np.log2(1.0 + ranks), 0.0)
    gains = np.where(mask, 2.0 ** np.where(mask, relevance, 0.0) - 1.0, 0.0)
    ideal_gains = -np.sort(-gains, axis=1)
    ideal = (ideal_gains / np.log2(2.0 + positions) * (positions < k)).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        gains = np.where(ideal[:, None] > 0, gains / ideal[:, None], 0.0)
    return (np.abs(gains[:, :, None] - gains[:, None, :])
            * np.abs(discounts[:, :, None] - discounts[:, None, :]))


def lambda_rank(relevance, scores, k=None, where=None, sample_weight=None, reduction="mean"):
    """RankNet pairs weighted by NDCG@k swap deltas (weights held constant)."""
    weights = ndcg_lambda_weights(relevance, scores, k, where)

    def pair(x, lists):
        lam = weights[lists]
        return lam * np.logaddexp(0.0, -x), -lam * _rank_sigmoid(-x)
    values, grad = _rank_pairwise(relevance, scores, where, pair)
    value, (grad,) = _reduce_rows(values, (grad,), sample_weight, reduction)
    return value, grad


def listwise_softmax(relevance, scores, where=None, sample_weight=None, reduction="mean"):
    """ListNet: -sum (rel_i / sum rel) log softmax(s)_i; 0 for lists without relevance."""
    relevance, scores = np.asarray(relevance, float), np.asarray(scores, float)
    mask = _ranking_mask(scores, where)
    rel = np.where(mask, relevance, 0.0)
    total = rel.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        target = np.where(total > 0, rel / total, 0.0)
    s = np.where(mask, scores, -np.inf)
    top = np.max(s, axis=1, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    lse = top + np.log(np.exp(s - top).sum(axis=1, keepdims=True))
    values = np.where(target > 0, target * (lse - np.where(mask, scores, 0.0)), 0.0).sum(axis=1)
    probs = np.where(mask, np.exp(s - lse), 0.0)
    grad = np.where(total > 0, probs - target, 0.0)
    value, (grad,) = _reduce_rows(values, (grad,), sample_weight, reduction)
    return value, grad


def list_mle(relevance, scores, where=None, sample_weight=None, reduction="mean"):
    """ListMLE: sum_i (log sum_{j >= i} exp(s_pi(j)) - s_pi(i)), pi = stable sort by
    relevance descending over the valid items."""
    relevance, scores = np.asarray(relevance, float), np.asarray(scores, float)
    mask = _ranking_mask(scores, where)
    n, size = scores.shape
    order = np.argsort(np.where(mask, -relevance, np.inf), axis=1, kind="stable")
    s = np.take_along_axis(np.where(mask, scores, -np.inf), order, axis=1)
    valid = np.take_along_axis(mask, order, axis=1)
    with np.errstate(invalid="ignore", over="ignore"):
        lse = np.flip(np.logaddexp.accumulate(np.flip(s, axis=1), axis=1), axis=1)
        values = np.where(valid, lse - s, 0.0).sum(axis=1)
        # d/ds_m = sum_{i <= m} exp(s_m - lse_i) - 1, for valid i and m
        later = np.triu(np.ones((size, size), dtype=bool))  # later[i, m]: i <= m
        probs = np.exp(s[:, None, :] - lse[:, :, None])
        probs = np.where(later & valid[:, :, None] & valid[:, None, :], probs, 0.0)
    grad_sorted = np.where(valid, probs.sum(axis=1) - 1.0, 0.0)
    grad = np.zeros((n, size))
    np.put_along_axis(grad, order, grad_sorted, axis=1)
    value, (grad,) = _reduce_rows(values, (grad,), sample_weight, reduction)
    return value, grad


# ---- sequences -------------------------------------------------------------------------


def _log_sum(*terms):
    """log(sum e^terms), elementwise; -inf when every term is -inf."""
    stacked = np.stack(np.broadcast_arrays(*terms))
    peak = stacked.max(axis=0)
    safe = np.where(np.isfinite(peak), peak, 0.0)
    with np.errstate(divide="ignore"):
        return safe + np.log(np.exp(stacked - safe).sum(axis=0))


def ctc(targets, log_probs, input_lengths, target_lengths, blank=0, zero_infinity=False,
        sample_weight=None, reduction="mean"):
    """CTC loss (Graves et al. 2006) by forward-backward in log space, per sequence;
    returns (value, d/d log_probs). "mean" is torch's: each loss over its target
    length, then the (weighted) mean. An impossible target: loss inf and a NaN
    gradient (0 and 0 with zero_infinity)."""
    lp = np.asarray(log_probs, dtype=float)
    frames, batch, _ = lp.shape
    targets = np.asarray(targets)
    lengths = np.asarray(target_lengths)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    w = np.ones(batch) if sample_weight is None else np.asarray(sample_weight, float)
    values, grad = np.zeros(batch), np.zeros_like(lp)
    for n in range(batch):
        length, steps = int(lengths[n]), int(input_lengths[n])
        labels = (targets[n, :length] if targets.ndim == 2
                  else targets[starts[n]:starts[n] + length])
        ext = np.full(2 * length + 1, blank)
        ext[1::2] = labels
        states = len(ext)
        skip = np.zeros(states, dtype=bool)
        skip[3::2] = labels[1:] != labels[:-1]
        y = lp[:steps, n, :][:, ext]  # (steps, states)
        alpha = np.full((steps, states), -np.inf)
        beta = np.full((steps, states), -np.inf)
        if steps:
            alpha[0, :2] = y[0, :2]
            beta[-1, -2:] = y[-1, -2:]
        pad = np.full(2, -np.inf)
        for t in range(1, steps):
            prev = np.concatenate([pad, alpha[t - 1]])
            alpha[t] = y[t] + _log_sum(prev[2:], prev[1:-1], np.where(skip, prev[:-2], -np.inf))
        for t in range(steps - 2, -1, -1):
            nxt = np.concatenate([beta[t + 1], pad])
            skip_next = np.concatenate([skip[2:], np.zeros(min(2, states), dtype=bool)])
            beta[t] = y[t] + _log_sum(nxt[:-2], nxt[1:-1], np.where(skip_next, nxt[2:], -np.inf))
        if steps:
            values[n] = -_log_sum(alpha[-1, -1], alpha[-1, -2] if states > 1 else -np.inf)
        else:
            values[n] = 0.0 if length == 0 else np.inf
        if np.isinf(values[n]) and zero_infinity:
            values[n] = 0.0
            continue
        both = alpha + beta  # -inf where no path passes, log y = -inf included
        with np.errstate(invalid="ignore"):
            occupancy = np.where(both > -np.inf, np.exp(both - y + values[n]), 0.0)
        for s, c in enumerate(ext):
            grad[:steps, n, c] -= occupancy[:, s]
        if np.isinf(values[n]):
            grad[:steps, n, :] = np.nan
    per_length = values / np.maximum(lengths, 1)
    if reduction == "mean":
        coef = w / np.maximum(lengths, 1) / np.sum(w)
        return float(np.sum(w * per_length) / np.sum(w)), grad * coef[None, :, None]
    return _reduce(values, reduction, sample_weight), grad * w[None, :, None]
