"""Plain NumPy versions of every loss: the oracle of the tests, the baseline of the benchmarks.

For each loss with function shortcut ``<name>`` (see API.md section 5) there are three
functions taking the shortcut's arguments:

- ``<name>(y_true, y_pred, *, <hyper-parameters>, reduction="mean", sample_weight=None)``:
  the loss value (a float for "mean"/"sum", an array for "none");
- ``<name>_grad(...)``: the gradient of the reduced loss with respect to y_pred;
- ``<name>_hess(...)``: the diagonal hessian with the same scaling (the documented
  surrogate where the loss class has ``exact_hessian = False``).

They are written for reading, not speed: no input validation, plain array expressions,
the formula in each docstring. Reductions and weights follow API.md section 2.
"""

import numpy as np

# ---- regression ----------------------------------------------------------------------
# e = y_pred - y_true throughout. The element terms below are reduced by `_reduce`
# (values) and `_scale` (gradients and hessians).


def _weight(sample_weight, shape):
    """sample_weight, shape (n,) or `shape`, broadcast to `shape` (1.0 when None)."""
    if sample_weight is None:
        return 1.0
    w = np.asarray(sample_weight, dtype=np.float64)
    if w.shape != shape:
        w = w.reshape(w.shape + (1,) * (len(shape) - 1))
    return np.broadcast_to(w, shape)


def _reduce(losses, reduction, sample_weight):
    """API.md section 2: "mean" sum(w l) / sum(w), "sum" sum(w l), "none" w l."""
    if sample_weight is None:
        if reduction == "mean":
            return float(np.mean(losses))
        return float(np.sum(losses)) if reduction == "sum" else losses
    w = _weight(sample_weight, np.shape(losses))
    if reduction == "none":
        return w * losses
    total = float(np.sum(w * losses))
    return total / float(np.sum(w)) if reduction == "mean" else total


def _scale(terms, reduction, sample_weight):
    """Per-element derivative terms times w, divided by sum(w) for "mean"."""
    w = _weight(sample_weight, np.shape(terms))
    scaled = w * terms
    if reduction == "mean":
        return scaled / (np.size(terms) if sample_weight is None else np.sum(w))
    return scaled


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
