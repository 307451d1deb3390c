"""Optimizers and gradient transformations on lists of NumPy parameter arrays.

:class:`SGD`, :class:`RMSprop`, :class:`Adam` and :class:`AdamW` are built like
``torch.optim``'s (same arguments and defaults) and follow its update rules operation
by operation (bias correction, ``eps`` added to the square root, weight decay added to
the gradient for SGD/RMSprop/Adam and applied to the parameters for AdamW, Loshchilov
& Hutter 2019), so their trajectories match PyTorch's in float64 to rounding.
``opt.step(grads)`` updates the parameters in place; ``opt.lr`` can be set between
steps (a schedule does this).

Gradient transformations (optax style, but stateful objects): :class:`ClipByValue`,
:class:`ClipByGlobalNorm`, :class:`AddWeightDecay` and :func:`chain`. An optimizer's
``transform=`` applies one to the gradients before its update rule;
:func:`clip_by_value` and :func:`clip_by_global_norm` are the plain functions.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

__all__ = [
    "Optimizer", "SGD", "RMSprop", "Adam", "AdamW",
    "clip_by_value", "clip_by_global_norm", "global_norm",
    "ClipByValue", "ClipByGlobalNorm", "AddWeightDecay", "chain",
]

Grads = list[np.ndarray]


def _as_params(params: Any) -> list[np.ndarray]:
    if isinstance(params, np.ndarray):
        params = [params]
    try:
        params = list(params)
    except TypeError:
        raise TypeError(f"params must be a list of NumPy arrays; got "
                        f"{type(params).__name__}") from None
    if not params:
        raise ValueError("params is empty: there is nothing to optimize")
    for i, p in enumerate(params):
        if not isinstance(p, np.ndarray) or p.dtype.kind != "f":
            raise TypeError(f"params[{i}] must be a floating-point NumPy array; got "
                            f"{type(p).__name__}"
                            + (f" of dtype {p.dtype}" if isinstance(p, np.ndarray) else ""))
        if not p.flags.writeable:
            raise ValueError(f"params[{i}] is read-only: updates are made in place")
    return params


def _as_grads(grads: Any, params: Sequence[np.ndarray] | None) -> Grads:
    if isinstance(grads, np.ndarray):
        grads = [grads]
    try:
        grads = [np.asarray(g) for g in grads]
    except TypeError:
        raise TypeError("grads must be a list of arrays") from None
    if params is not None:
        if len(grads) != len(params):
            raise ValueError(f"got {len(grads)} gradients for {len(params)} parameters")
        for i, (g, p) in enumerate(zip(grads, params, strict=True)):
            if g.shape != p.shape:
                raise ValueError(f"grads[{i}] has shape {g.shape}; its parameter has "
                                 f"{p.shape}")
    return grads


def _number(name: str, value: Any, low: float = 0.0, *, strict: bool = False,
            high: float | None = None, high_open: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating,
                                                         np.integer)):
        raise TypeError(f"{name} must be a number; got {type(value).__name__}")
    value = float(value)
    ok = math.isfinite(value) and (value > low if strict else value >= low)
    if high is not None:
        ok = ok and (value < high if high_open else value <= high)
    if not ok:
        bound = f"{'>' if strict else '>='} {low:g}"
        if high is not None:
            bound += f" and {'<' if high_open else '<='} {high:g}"
        raise ValueError(f"{name} must be a finite number {bound}; got {value!r}")
    return value


def _lerp(start: np.ndarray, end: np.ndarray, weight: float) -> None:
    """start <- start + weight (end - start) in place, rounded as torch.lerp_ does."""
    if weight < 0.5:
        start += weight * (end - start)
    else:
        start[...] = end - (end - start) * (1.0 - weight)


# ---------------------------------------------------------------------------------
# Clipping and gradient transformations
# ---------------------------------------------------------------------------------


def sum_of_squares(g: np.ndarray) -> float:
    """The sum of the squares of g's elements, in float64 (a float32 gradient of
    finite elements as large as 1e20 has a finite norm)."""
    flat = np.ravel(g)
    if flat.dtype.kind not in "fiu":
        raise TypeError(f"gradients must be real numbers; got an array of {flat.dtype}")
    flat = flat.astype(np.float64, copy=False)
    with np.errstate(over="ignore", invalid="ignore"):  # inf or NaN: the caller's to judge
        return float(np.dot(flat, flat))


def global_norm(grads: Sequence[np.ndarray]) -> float:
    """sqrt(sum of the squares of every element of every array), in float64."""
    return math.sqrt(sum(sum_of_squares(g) for g in grads))


def clip_by_value(grads: Sequence[np.ndarray], limit: float) -> Grads:
    """Each element clipped to [-limit, limit] (new arrays).

    Parameters
    ----------
    grads : list of arrays
        The gradients.
    limit : float > 0
        The largest absolute value kept.

    Examples
    --------
    >>> import numpy as np
    >>> from fastloss.training import clip_by_value
    >>> clip_by_value([np.array([-3.0, 0.5, 2.0])], 1.0)
    [array([-1. ,  0.5,  1. ])]
    """
    limit = _number("limit", limit, strict=True)
    return [np.clip(g, -limit, limit) for g in _as_grads(grads, None)]


def clip_by_global_norm(grads: Sequence[np.ndarray], max_norm: float) -> tuple[Grads, float]:
    """(clipped grads, norm before clipping): every gradient scaled by max_norm / norm
    when the global norm exceeds max_norm (``torch.nn.utils.clip_grad_norm_``,
    ``optax.clip_by_global_norm``); a non-finite norm leaves the gradients unchanged.

    Parameters
    ----------
    grads : list of arrays
        The gradients.
    max_norm : float > 0
        The largest global (all arrays together) Euclidean norm kept.

    Examples
    --------
    >>> import numpy as np
    >>> from fastloss.training import clip_by_global_norm
    >>> clip_by_global_norm([np.array([3.0]), np.array([4.0])], 1.0)
    ([array([0.6]), array([0.8])], 5.0)
    """
    max_norm = _number("max_norm", max_norm, strict=True)
    grads = _as_grads(grads, None)
    norm = global_norm(grads)
    if not math.isfinite(norm) or norm <= max_norm:
        return [g.copy() for g in grads], norm
    scale = max_norm / norm
    return [g * np.asarray(scale, dtype=g.dtype) for g in grads], norm


class ClipByValue:
    """Gradient transformation: :func:`clip_by_value` with a fixed ``limit``.

    Parameters
    ----------
    limit : float > 0
        The largest absolute gradient element kept.
    """

    def __init__(self, limit: float) -> None:
        self.limit = _number("limit", limit, strict=True)

    def __call__(self, grads: Grads, params: Sequence[np.ndarray]) -> Grads:
        return clip_by_value(grads, self.limit)

    def __repr__(self) -> str:
        return f"ClipByValue(limit={self.limit!r})"


class ClipByGlobalNorm:
    """Gradient transformation: :func:`clip_by_global_norm`; ``last_norm`` keeps the
    norm before clipping of the latest call.

    Parameters
    ----------
    max_norm : float > 0
        The largest global norm kept.
    """

    def __init__(self, max_norm: float) -> None:
        self.max_norm = _number("max_norm", max_norm, strict=True)
        self.last_norm = math.nan

    def __call__(self, grads: Grads, params: Sequence[np.ndarray]) -> Grads:
        clipped, self.last_norm = clip_by_global_norm(grads, self.max_norm)
        return clipped

    def __repr__(self) -> str:
        return f"ClipByGlobalNorm(max_norm={self.max_norm!r})"


class AddWeightDecay:
    """Gradient transformation g <- g + weight_decay * p (L2 regularization).

    Parameters
    ----------
    weight_decay : float >= 0
        The coefficient.
    """

    def __init__(self, weight_decay: float) -> None:
        self.weight_decay = _number("weight_decay", weight_decay)

    def __call__(self, grads: Grads, params: Sequence[np.ndarray]) -> Grads:
        return [g + self.weight_decay * p for g, p in zip(grads, params, strict=True)]

    def __repr__(self) -> str:
        return f"AddWeightDecay(weight_decay={self.weight_decay!r})"


class _Chain:
    def __init__(self, transforms: tuple[Callable[..., Grads], ...]) -> None:
        self.transforms = transforms

    def __call__(self, grads: Grads, params: Sequence[np.ndarray]) -> Grads:
        for transform in self.transforms:
            grads = transform(grads, params)
        return grads

    def __repr__(self) -> str:
        return f"chain({', '.join(map(repr, self.transforms))})"


def chain(*transforms: Callable[[Grads, Sequence[np.ndarray]], Grads]) -> _Chain:
    """One transformation applying ``transforms`` in order (``optax.chain``).

    Each is a callable ``(grads, params) -> grads``.

    Parameters
    ----------
    *transforms : callables
        The transformations, first applied first.

    Examples
    --------
    >>> import numpy as np
    >>> from fastloss.training import SGD, ClipByValue, ClipByGlobalNorm, chain
    >>> w = np.zeros(2)
    >>> opt = SGD([w], lr=0.1, transform=chain(ClipByValue(2.0), ClipByGlobalNorm(1.0)))
    >>> opt.step([np.array([30.0, 0.0])]); w
    array([-0.1,  0. ])
    """
    for t in transforms:
        if not callable(t):
            raise TypeError(f"chain takes callables (grads, params) -> grads; got "
                            f"{type(t).__name__}")
    return _Chain(transforms)


# ---------------------------------------------------------------------------------
# Optimizers
# ---------------------------------------------------------------------------------


class Optimizer:
    """Base: holds ``params`` (updated in place), the learning rate ``lr``, an optional
    gradient ``transform`` and the step count ``steps``. Subclasses implement
    ``_update(i, param, grad)``."""

    def __init__(self, params: Any, lr: float, transform: Callable[..., Grads] | None) -> None:
        self.params = _as_params(params)
        self.lr = lr
        if transform is not None and not callable(transform):
            raise TypeError("transform must be a callable (grads, params) -> grads")
        self.transform = transform
        self.steps = 0
        self.state: list[dict[str, Any]] = [{} for _ in self.params]

    @property
    def lr(self) -> float:
        """The learning rate of the next step (settable)."""
        return self._lr

    @lr.setter
    def lr(self, value: float) -> None:
        self._lr = _number("lr", value)

    def step(self, grads: Sequence[np.ndarray]) -> None:
        """Update every parameter in place from its gradient (same order as params)."""
        grads = _as_grads(grads, self.params)
        if self.transform is not None:
            grads = _as_grads(self.transform(grads, self.params), self.params)
        self.steps += 1
        for i, (param, grad) in enumerate(zip(self.params, grads, strict=True)):
            self._update(i, param, grad.astype(param.dtype, copy=False))

    def _update(self, i: int, param: np.ndarray, grad: np.ndarray) -> None:
        raise NotImplementedError

    def _arguments(self) -> str:
        return f"lr={self.lr!r}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({len(self.params)} arrays, {self._arguments()})"


class SGD(Optimizer):
    """Stochastic gradient descent with momentum (``torch.optim.SGD``).

    g <- g + weight_decay p; b <- g at the first step, else momentum b + (1 - dampening)
    g; the step is b, or g + momentum b with Nesterov; p <- p - lr step.

    Parameters
    ----------
    params : list of float arrays
        Updated in place.
    lr : float, default 1e-3
        Learning rate.
    momentum : float, default 0
        Momentum factor.
    dampening : float, default 0
        Dampening of the momentum's gradient term.
    weight_decay : float, default 0
        L2 penalty added to the gradient.
    nesterov : bool, default False
        Nesterov momentum (needs momentum > 0 and dampening 0).
    transform : callable, optional
        Applied to the gradients first (e.g. :class:`ClipByGlobalNorm`).

    Examples
    --------
    >>> import numpy as np
    >>> from fastloss.training import SGD
    >>> w = np.array([1.0])
    >>> opt = SGD([w], lr=0.1, momentum=0.9)
    >>> opt.step([np.array([1.0])]); opt.step([np.array([1.0])]); w
    array([0.71])
    """

    def __init__(self, params: Any, lr: float = 1e-3, momentum: float = 0.0,
                 dampening: float = 0.0, weight_decay: float = 0.0, nesterov: bool = False,
                 *, transform: Callable[..., Grads] | None = None) -> None:
        super().__init__(params, lr, transform)
        self.momentum = _number("momentum", momentum)
        self.dampening = _number("dampening", dampening)
        self.weight_decay = _number("weight_decay", weight_decay)
        self.nesterov = bool(nesterov)
        if self.nesterov and (self.momentum <= 0 or self.dampening != 0):
            raise ValueError("nesterov=True needs momentum > 0 and dampening = 0")

    def _update(self, i, param, grad):
        if self.weight_decay != 0:
            grad = grad + self.weight_decay * param
        if self.momentum != 0:
            state = self.state[i]
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = np.array(grad, copy=True)
            else:
                buf *= self.momentum
                buf += (1.0 - self.dampening) * grad
            grad = grad + self.momentum * buf if self.nesterov else buf
        param += -self.lr * grad

    def _arguments(self):
        return (f"lr={self.lr!r}, momentum={self.momentum!r}, dampening={self.dampening!r}, "
                f"weight_decay={self.weight_decay!r}, nesterov={self.nesterov!r}")


class RMSprop(Optimizer):
    """RMSprop (``torch.optim.RMSprop``, Hinton's lecture 6e).

    v <- alpha v + (1 - alpha) g^2; centered: m <- lerp(m, g, 1 - alpha), v - m^2 in
    place of v; d = sqrt(v) + eps; with momentum b <- momentum b + g / d and p <- p - lr
    b, else p <- p - lr g / d.

    Parameters
    ----------
    params : list of float arrays
        Updated in place.
    lr : float, default 1e-2
        Learning rate.
    alpha : float, default 0.99
        Decay of the running mean of squared gradients.
    eps : float, default 1e-8
        Added to the root mean square.
    weight_decay : float, default 0
        L2 penalty added to the gradient.
    momentum : float, default 0
        Momentum factor.
    centered : bool, default False
        Divide by the estimated standard deviation instead of the root mean square.
    transform : callable, optional
        Applied to the gradients first.
    """

    def __init__(self, params: Any, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum: float = 0.0, centered: bool = False,
                 *, transform: Callable[..., Grads] | None = None) -> None:
        super().__init__(params, lr, transform)
        self.alpha = _number("alpha", alpha)
        self.eps = _number("eps", eps)
        self.weight_decay = _number("weight_decay", weight_decay)
        self.momentum = _number("momentum", momentum)
        self.centered = bool(centered)

    def _update(self, i, param, grad):
        state = self.state[i]
        if not state:
            state["square_avg"] = np.zeros_like(param)
            if self.momentum > 0:
                state["momentum_buffer"] = np.zeros_like(param)
            if self.centered:
                state["grad_avg"] = np.zeros_like(param)
        if self.weight_decay != 0:
            grad = grad + self.weight_decay * param
        square_avg = state["square_avg"]
        square_avg *= self.alpha
        square_avg += ((1.0 - self.alpha) * grad) * grad
        if self.centered:
            grad_avg = state["grad_avg"]
            _lerp(grad_avg, grad, 1.0 - self.alpha)
            avg = np.sqrt(square_avg + (-1.0) * (grad_avg * grad_avg))
        else:
            avg = np.sqrt(square_avg)
        avg += self.eps
        if self.momentum > 0:
            buf = state["momentum_buffer"]
            buf *= self.momentum
            buf += grad / avg
            param += -self.lr * buf
        else:
            param += (-self.lr * grad) / avg

    def _arguments(self):
        return (f"lr={self.lr!r}, alpha={self.alpha!r}, eps={self.eps!r}, weight_decay="
                f"{self.weight_decay!r}, momentum={self.momentum!r}, centered={self.centered!r}")


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015; ``torch.optim.Adam``).

    g <- g + weight_decay p; m <- lerp(m, g, 1 - beta1); v <- beta2 v + (1 - beta2) g^2;
    p <- p - lr / (1 - beta1^t) m / (sqrt(v) / sqrt(1 - beta2^t) + eps). ``amsgrad``
    uses the running maximum of v.

    Parameters
    ----------
    params : list of float arrays
        Updated in place.
    lr : float, default 1e-3
        Learning rate.
    betas : (float, float), default (0.9, 0.999)
        Decays of the first and second moment estimates, in [0, 1).
    eps : float, default 1e-8
        Added to the bias-corrected root of the second moment.
    weight_decay : float, default 0
        L2 penalty added to the gradient (coupled; see :class:`AdamW`).
    amsgrad : bool, default False
        The AMSGrad variant.
    transform : callable, optional
        Applied to the gradients first.

    Examples
    --------
    >>> import numpy as np
    >>> from fastloss.training import Adam
    >>> w = np.array([1.0])
    >>> opt = Adam([w], lr=0.1)
    >>> opt.step([np.array([5.0])]); w  # the first step has size lr
    array([0.9])
    """

    _decoupled = False

    def __init__(self, params: Any, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0, amsgrad: bool = False,
                 *, transform: Callable[..., Grads] | None = None) -> None:
        super().__init__(params, lr, transform)
        try:
            beta1, beta2 = betas
        except (TypeError, ValueError):
            raise TypeError(f"betas must be a pair of numbers; got {betas!r}") from None
        self.betas = (_number("betas[0]", beta1, high=1.0, high_open=True),
                      _number("betas[1]", beta2, high=1.0, high_open=True))
        self.eps = _number("eps", eps)
        self.weight_decay = _number("weight_decay", weight_decay)
        self.amsgrad = bool(amsgrad)

    def _update(self, i, param, grad):
        beta1, beta2 = self.betas
        state = self.state[i]
        if not state:
            state["step"] = 0
            state["exp_avg"] = np.zeros_like(param)
            state["exp_avg_sq"] = np.zeros_like(param)
            if self.amsgrad:
                state["max_exp_avg_sq"] = np.zeros_like(param)
        state["step"] += 1
        step = state["step"]
        if self.weight_decay != 0:
            if self._decoupled:
                param *= 1.0 - self.lr * self.weight_decay
            else:
                grad = grad + self.weight_decay * param
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        _lerp(exp_avg, grad, 1.0 - beta1)
        exp_avg_sq *= beta2
        exp_avg_sq += ((1.0 - beta2) * grad) * grad
        bias_correction1 = 1.0 - beta1**step
        bias_correction2 = 1.0 - beta2**step
        step_size = self.lr / bias_correction1
        bias_correction2_sqrt = bias_correction2**0.5
        if self.amsgrad:
            second = state["max_exp_avg_sq"]
            np.maximum(second, exp_avg_sq, out=second)
        else:
            second = exp_avg_sq
        denom = np.sqrt(second) / bias_correction2_sqrt
        denom += self.eps
        param += (-step_size * exp_avg) / denom

    def _arguments(self):
        return (f"lr={self.lr!r}, betas={self.betas!r}, eps={self.eps!r}, weight_decay="
                f"{self.weight_decay!r}, amsgrad={self.amsgrad!r}")


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter 2019; ``torch.optim.AdamW``):
    p <- p (1 - lr weight_decay) before the Adam step, the gradient left alone.

    Parameters
    ----------
    params : list of float arrays
        Updated in place.
    lr : float, default 1e-3
        Learning rate.
    betas : (float, float), default (0.9, 0.999)
        Decays of the moment estimates.
    eps : float, default 1e-8
        Added to the bias-corrected root of the second moment.
    weight_decay : float, default 1e-2
        Decoupled decay rate (multiplied by lr).
    amsgrad : bool, default False
        The AMSGrad variant.
    transform : callable, optional
        Applied to the gradients first.
    """

    _decoupled = True

    def __init__(self, params: Any, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2, amsgrad: bool = False,
                 *, transform: Callable[..., Grads] | None = None) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, transform=transform)
