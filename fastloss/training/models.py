"""Small models with forward and backward passes in NumPy: :class:`Linear` and
:class:`MLP`.

A model has ``params`` (a list of arrays, updated in place by an optimizer),
``forward(X)`` (the output, remembering what ``backward`` needs), ``backward(grad)``
(the gradients of the params from d(loss)/d(output), in the order of ``params``),
``predict(X)`` (forward without remembering) and ``layers`` (name and indices into
``params`` of each layer, for per-layer gradient norms). Outputs are raw scores: the
loss applies the link (logits with ``from_logits=True``, the log of the mean for
``Poisson``, ``Gamma`` and ``Tweedie``), so :class:`Linear` is a generalized linear
model for any fastloss loss.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = ["Linear", "MLP", "ACTIVATIONS"]

ACTIVATIONS = ("relu", "sigmoid", "tanh")


def _width(name: str, value: Any, allow_none: bool = False) -> int | None:
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1{' or None' if allow_none else ''}; "
                         f"got {value!r}")
    return int(value)


def _dtype(dtype: Any) -> np.dtype:
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise ValueError(f"dtype must be float32 or float64; got {dtype}")
    return dtype


def _initial(init: Any, fan_in: int, fan_out: int, rng: np.random.Generator,
             dtype: np.dtype) -> np.ndarray:
    """Weights (fan_in, fan_out): "zeros", "he" N(0, 2 / fan_in) (He et al. 2015),
    "xavier" N(0, 2 / (fan_in + fan_out)) (Glorot & Bengio 2010), or a float: the
    standard deviation of a normal."""
    if isinstance(init, str):
        if init == "zeros":
            return np.zeros((fan_in, fan_out), dtype=dtype)
        if init == "he":
            std = math.sqrt(2.0 / fan_in)
        elif init == "xavier":
            std = math.sqrt(2.0 / (fan_in + fan_out))
        else:
            raise ValueError(f'init must be "zeros", "he", "xavier" or a standard deviation; '
                             f"got {init!r}")
    elif isinstance(init, (int, float)) and not isinstance(init, bool) and init >= 0:
        std = float(init)
    else:
        raise ValueError(f'init must be "zeros", "he", "xavier" or a standard deviation >= 0; '
                         f"got {init!r}")
    return (rng.standard_normal((fan_in, fan_out)) * std).astype(dtype)


def _check_input(X: Any, n_features: int, dtype: np.dtype, min_ndim: int = 2,
                 max_ndim: int | None = None) -> np.ndarray:
    X = np.asarray(X)
    if X.dtype.kind not in "biuf":
        raise TypeError(f"X must be numeric; got dtype {X.dtype}")
    if X.ndim < min_ndim or (max_ndim is not None and X.ndim > max_ndim) or \
            X.shape[-1] != n_features:
        raise ValueError(f"X must have shape (n, {n_features})"
                         + (" (or leading axes before the features)" if max_ndim is None
                            else "") + f"; got {X.shape}")
    return X if X.dtype == dtype else X.astype(dtype)


class Linear:
    """output = X @ W + b: a linear or generalized linear model.

    With ``n_outputs=None`` the output has one value per row (shape ``X.shape[:-1]``:
    a regression target, a binary logit, or a ranking score when X is
    ``(n_lists, list_size, n_features)``); with ``n_outputs=k`` it has k (the logits
    of k classes, an embedding).

    Parameters
    ----------
    n_features : int
        Input width (the last axis of X).
    n_outputs : int, optional
        Output width; None for one output per row, without an output axis.
    bias : bool, default True
        Add the intercept b (losses that compare outputs only, e.g. ranking and
        embedding losses, cannot see it).
    init : "zeros", "he", "xavier" or float, default "zeros"
        Initial weights (a float: the standard deviation of a normal).
    seed : int, optional
        Seed of the random initial weights.
    dtype : float32 or float64, default float64
        Dtype of the parameters (pass X in the same dtype for speed).

    Examples
    --------
    >>> import numpy as np
    >>> from fastloss.training import Linear
    >>> model = Linear(2)
    >>> model.params[0][...] = [1.0, -1.0]
    >>> model.predict(np.array([[3.0, 1.0]]))
    array([2.])
    """

    def __init__(self, n_features: int, n_outputs: int | None = None, *, bias: bool = True,
                 init: Any = "zeros", seed: int | None = None, dtype: Any = np.float64) -> None:
        self.n_features = _width("n_features", n_features)
        self.n_outputs = _width("n_outputs", n_outputs, allow_none=True)
        self.dtype = _dtype(dtype)
        rng = np.random.default_rng(seed)
        width = 1 if self.n_outputs is None else self.n_outputs
        weights = _initial(init, self.n_features, width, rng, self.dtype)
        self.weights = weights[:, 0].copy() if self.n_outputs is None else weights
        self.params = [self.weights]
        self.bias = None
        if bias:
            self.bias = np.zeros(() if self.n_outputs is None else (width,), dtype=self.dtype)
            self.params.append(self.bias)
        self.layers = [("linear", list(range(len(self.params))))]
        self._input: np.ndarray | None = None

    def predict(self, X: Any) -> np.ndarray:
        """The output for X of shape (..., n_features)."""
        X = _check_input(X, self.n_features, self.dtype, min_ndim=1)
        out = X @ self.weights
        if self.bias is not None:
            out += self.bias
        return out

    __call__ = predict

    def forward(self, X: Any) -> np.ndarray:
        """The output, remembering X for backward."""
        X = _check_input(X, self.n_features, self.dtype, min_ndim=1)
        self._input = X
        out = X @ self.weights
        if self.bias is not None:
            out += self.bias
        return out

    def backward(self, grad: np.ndarray) -> list[np.ndarray]:
        """[dL/dW, dL/db] from grad = dL/d(output) of the last forward."""
        if self._input is None:
            raise RuntimeError("backward needs a forward pass first")
        X = self._input
        rows = X.ndim - 1
        if X.ndim == 2:
            grad_w = X.T @ grad
        else:
            grad_w = np.tensordot(X, grad, axes=(list(range(rows)), list(range(rows))))
        grads = [grad_w]
        if self.bias is not None:
            grads.append(grad.sum(axis=tuple(range(rows))))
        return grads

    def __repr__(self) -> str:
        return (f"Linear(n_features={self.n_features}, n_outputs={self.n_outputs}, "
                f"bias={self.bias is not None}, dtype={self.dtype.name})")


class MLP:
    """A multi-layer perceptron: hidden layers h = act(h_prev @ W + b), then a linear
    output layer (raw scores, as :class:`Linear`).

    Parameters
    ----------
    n_features : int
        Input width.
    hidden : sequence of int, default (32,)
        Widths of the hidden layers.
    n_outputs : int, optional
        Output width; None for one output per row without an output axis.
    activation : {"relu", "sigmoid", "tanh"}, default "relu"
        Activation of the hidden layers.
    init : "he", "xavier", "zeros", float or None, default None
        Initial weights: None picks He for relu and Xavier (Glorot) for sigmoid and
        tanh; a float is the standard deviation of a normal. Biases start at 0.
    seed : int, optional
        Seed of the initial weights.
    dtype : float32 or float64, default float64
        Dtype of the parameters.

    Examples
    --------
    >>> import numpy as np
    >>> from fastloss.training import MLP
    >>> model = MLP(3, hidden=(8, 8), n_outputs=2, activation="tanh", seed=0)
    >>> model.predict(np.ones((4, 3))).shape
    (4, 2)
    >>> [name for name, _ in model.layers]
    ['layer 1', 'layer 2', 'output']
    """

    def __init__(self, n_features: int, hidden: Any = (32,), n_outputs: int | None = None, *,
                 activation: str = "relu", init: Any = None, seed: int | None = None,
                 dtype: Any = np.float64) -> None:
        self.n_features = _width("n_features", n_features)
        self.n_outputs = _width("n_outputs", n_outputs, allow_none=True)
        try:
            self.hidden = tuple(_width("hidden widths", h) for h in hidden)
        except TypeError:
            raise TypeError("hidden must be a sequence of layer widths") from None
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {ACTIVATIONS}; got {activation!r}")
        self.activation = activation
        self.init = ("he" if activation == "relu" else "xavier") if init is None else init
        self.dtype = _dtype(dtype)
        rng = np.random.default_rng(seed)
        widths = [self.n_features, *self.hidden, 1 if self.n_outputs is None else self.n_outputs]
        self.params = []
        self.layers = []
        for i, (fan_in, fan_out) in enumerate(zip(widths[:-1], widths[1:], strict=True)):
            last = i == len(widths) - 2
            # The output layer is linear: Xavier suits it whatever the hidden activation.
            init_i = "xavier" if last and self.init == "he" else self.init
            self.params += [_initial(init_i, fan_in, fan_out, rng, self.dtype),
                            np.zeros(fan_out, dtype=self.dtype)]
            self.layers.append(("output" if last else f"layer {i + 1}", [2 * i, 2 * i + 1]))
        self._cache: list[np.ndarray] | None = None

    def _act(self, z: np.ndarray) -> np.ndarray:
        if self.activation == "relu":
            return np.maximum(z, 0, out=z)
        if self.activation == "tanh":
            return np.tanh(z, out=z)
        # Stable logistic: exp of a non-positive number only.
        e = np.exp(-np.abs(z))
        return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(z.dtype, copy=False)

    def _act_grad(self, a: np.ndarray) -> np.ndarray:
        """d act / dz from the activation's output a."""
        if self.activation == "relu":
            return (a > 0).astype(a.dtype)
        if self.activation == "tanh":
            return 1.0 - a * a
        return a * (1.0 - a)

    def _run(self, X: Any, keep: bool) -> np.ndarray:
        h = _check_input(X, self.n_features, self.dtype, max_ndim=2)
        cache = [h]
        n_layers = len(self.layers)
        for i in range(n_layers):
            z = h @ self.params[2 * i]
            z += self.params[2 * i + 1]
            h = z if i == n_layers - 1 else self._act(z)
            if keep:
                cache.append(h)
        if keep:
            self._cache = cache
        return h[:, 0] if self.n_outputs is None else h

    def predict(self, X: Any) -> np.ndarray:
        """The output for X of shape (n, n_features)."""
        return self._run(X, keep=False)

    __call__ = predict

    def forward(self, X: Any) -> np.ndarray:
        """The output, remembering the activations for backward."""
        return self._run(X, keep=True)

    def backward(self, grad: np.ndarray) -> list[np.ndarray]:
        """Gradients of every W and b (in params order) from dL/d(output)."""
        if self._cache is None:
            raise RuntimeError("backward needs a forward pass first")
        g = np.asarray(grad)
        if self.n_outputs is None:
            g = g[:, None]
        grads: list[np.ndarray] = [None] * len(self.params)  # type: ignore[list-item]
        for i in range(len(self.layers) - 1, -1, -1):
            h_in = self._cache[i]
            grads[2 * i] = h_in.T @ g
            grads[2 * i + 1] = g.sum(axis=0)
            if i > 0:
                g = (g @ self.params[2 * i].T) * self._act_grad(h_in)
        return grads

    def __repr__(self) -> str:
        return (f"MLP(n_features={self.n_features}, hidden={self.hidden}, n_outputs="
                f"{self.n_outputs}, activation={self.activation!r}, init={self.init!r})")
