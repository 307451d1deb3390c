"""Regression losses (elementwise): y_pred is the prediction, y_true the target.

Every class takes keyword-only hyper-parameters and `reduction` ("mean", "sum",
"none"); see fastloss._core.base.ElementwiseLoss for the methods. Gradients and hessians
are taken with respect to y_pred. Formulas are stated with e = y_pred - y_true.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Literal, overload

import numpy as np
from numpy.typing import ArrayLike

from fastloss._core import config as _config
from fastloss._core.base import (
    ElementwiseLoss,
    FloatArray,
    LossValue,
    OnePassLoss,
    Reduction,
    ValueT,
    _Output,
    _Outputs,
    blocked_weight_total,
)
from fastloss._core.validation import (
    KERAS_EPSILON,
    as_real_array,
    as_sample_weight,
    bad_value_error,
    check_flag,
    check_nonnegative,
    check_number,
    check_positive,
    check_same_shape,
)
from fastloss._kernels import common as modes
from fastloss._kernels import dispatch as _dispatch
from fastloss._kernels.common import first_index_below, shortcut_call

__all__ = [
    "MeanSquaredError", "MeanAbsoluteError", "Huber", "SmoothL1", "PseudoHuber",
    "LogCosh", "Quantile", "Poisson", "Gamma", "Tweedie",
    "MeanSquaredLogarithmicError", "MeanAbsolutePercentageError", "GaussianNLL",
    "mse", "mae", "huber", "smooth_l1", "pseudo_huber", "log_cosh", "quantile",
    "poisson", "gamma", "tweedie", "msle", "mape", "gaussian_nll",
]



def _require(values, name, bound, inclusive, nan_invalid, requirement):
    """ValueError naming the first element < bound (<= when inclusive)."""
    index = first_index_below(values, bound, inclusive, nan_invalid)
    if index >= 0:
        raise bad_value_error(name, values, index, requirement)


class _Regression(ElementwiseLoss[ValueT]):
    _kernels = _dispatch.load("regression")


class MeanSquaredError(_Regression[ValueT]):
    """Mean squared error: l = (y_pred - y_true)^2.

    Gradient 2e, hessian 2. Keras ``MeanSquaredError``, torch ``MSELoss``.

    Shapes: y_true and y_pred of one shape (any); sample_weight (n,) or that shape.

    Examples
    --------
    >>> import fastloss as fl
    >>> loss = fl.MeanSquaredError()
    >>> loss([0.0, 1.0], [1.0, 3.0])  # (1**2 + 2**2) / 2
    2.5
    >>> loss.gradient([0.0, 1.0], [1.0, 3.0])  # 2 e / n
    array([1., 2.])
    """

    if TYPE_CHECKING:  # the inherited constructor, its value type chosen by reduction
        @overload
        def __init__(
            self: MeanSquaredError[float], *, reduction: Literal["mean", "sum"] = "mean",
        ) -> None: ...
        @overload
        def __init__(self: MeanSquaredError[FloatArray], *, reduction: Literal["none"]) -> None: ...
        @overload
        def __init__(self: MeanSquaredError[LossValue], *, reduction: Reduction) -> None: ...
        def __init__(self, *, reduction: Reduction = "mean") -> None: ...

    def _kernel_spec(self):
        return ("mse",)


class MeanAbsoluteError(_Regression[ValueT]):
    """Mean absolute error: ``l = |y_pred - y_true|``.

    Keras ``MeanAbsoluteError``, torch ``L1Loss``. Gradient sign(e) (0 at e = 0). The
    hessian is zero almost everywhere; gradient_hessian returns the surrogate 1
    (LightGBM's and scikit-learn's choice).

    Shapes: y_true and y_pred of one shape (any); sample_weight (n,) or that shape.

    Examples
    --------
    >>> import fastloss as fl
    >>> loss = fl.MeanAbsoluteError(reduction="sum")
    >>> loss([0.0, 1.0], [1.0, -3.0])
    5.0
    >>> loss.gradient_hessian([0.0, 1.0], [1.0, -3.0])  # hessian: the surrogate 1
    (array([ 1., -1.]), array([1., 1.]))
    """

    exact_hessian = False

    if TYPE_CHECKING:  # the inherited constructor, its value type chosen by reduction
        @overload
        def __init__(
            self: MeanAbsoluteError[float], *, reduction: Literal["mean", "sum"] = "mean",
        ) -> None: ...
        @overload
        def __init__(
            self: MeanAbsoluteError[FloatArray], *, reduction: Literal["none"],
        ) -> None: ...
        @overload
        def __init__(self: MeanAbsoluteError[LossValue], *, reduction: Reduction) -> None: ...
        def __init__(self, *, reduction: Reduction = "mean") -> None: ...

    def _kernel_spec(self):
        return ("mae",)


class Huber(_Regression[ValueT]):
    """Huber loss: ``l = e^2/2`` for ``|e| <= delta``, ``delta (|e| - delta/2)`` beyond.

    Huber (1964); torch ``HuberLoss``, Keras ``Huber``. Gradient clip(e, -delta, delta),
    hessian 1 inside the quadratic zone and 0 outside.

    Shapes: y_true and y_pred of one shape (any); sample_weight (n,) or that shape.

    Examples
    --------
    >>> import fastloss as fl
    >>> loss = fl.Huber(delta=1.0)
    >>> loss([0.0, 0.0], [0.5, 3.0])  # (0.5**2 / 2 + (3.0 - 0.5)) / 2
    1.3125
    >>> loss.gradient([0.0, 0.0], [0.5, 3.0])  # clip(e, -1, 1) / 2
    array([0.25, 0.5 ])
    """

    _param_names = ("delta",)
    delta: float

    @overload
    def __init__(
        self: Huber[float], *, delta: float = 1.0, reduction: Literal["mean", "sum"] = "mean",
    ) -> None: ...
    @overload
    def __init__(
        self: Huber[FloatArray], *, delta: float = 1.0, reduction: Literal["none"],
    ) -> None: ...
    @overload
    def __init__(self: Huber[LossValue], *, delta: float = 1.0, reduction: Reduction) -> None: ...
    def __init__(self, *, delta: float = 1.0, reduction: Reduction = "mean") -> None:
        self.delta = check_positive("delta", delta)
        super().__init__(reduction=reduction)

    def _kernel_spec(self):
        return ("huber", self.delta)


class SmoothL1(_Regression[ValueT]):
    """Smooth L1: ``l = e^2 / (2 beta)`` for ``|e| < beta``, ``|e| - beta/2`` beyond.

    torch ``SmoothL1Loss``. Equals Huber(delta=beta) / beta for beta > 0. beta = 0 is
    the L1 loss: then gradient_hessian returns MAE's surrogate hessian 1 and the
    instance's ``exact_hessian`` is False.

    Shapes: y_true and y_pred of one shape (any); sample_weight (n,) or that shape.

    Examples
    --------
    >>> import fastloss as fl
    >>> loss = fl.SmoothL1(beta=2.0, reduction="none")
    >>> loss([0.0, 0.0], [0.5, 3.0])  # 0.5**2 / (2 * 2), 3 - 2 / 2
    array([0.0625, 2.    ])
    """

    _param_names = ("beta",)
    beta: float

    @overload
    def __init__(
        self: SmoothL1[float], *, beta: float = 1.0, reduction: Literal["mean", "sum"] = "mean",
    ) -> None: ...
    @overload
    def __init__(
        self: SmoothL1[FloatArray], *, beta: float = 1.0, reduction: Literal["none"],
    ) -> None: ...
    @overload
    def __init__(self: SmoothL1[LossValue], *, beta: float = 1.0, reduction: Reduction) -> None: ...
    def __init__(self, *, beta: float = 1.0, reduction: Reduction = "mean") -> None:
        self.beta = check_nonnegative("beta", beta)
        if self.beta == 0:
            self.exact_hessian = False
        super().__init__(reduction=reduction)

    def _kernel_spec(self):
        return ("smooth_l1", self.beta)


class PseudoHuber(_Regression[ValueT]):
    """Pseudo-Huber: l = delta^2 (sqrt(1 + (e/delta)^2) - 1).

    Charbonnier et al. (1997); XGBoost ``reg:pseudohubererror``. Gradient
    e / sqrt(1 + (e/delta)^2), hessian (1 + (e/delta)^2)^(-3/2).

    Shapes: y_true and y_pred of one shape (any); sample_weight (n,) or that shape.

    Examples
    --------
    >>> import fastloss as fl
    >>> fl.PseudoHuber(delta=1.0)([0.0], [1.0])  # sqrt(2) - 1
    0.414213562...
    """

    _param_names = ("delta",)
    delta: float

    @overload
    def __init__(
        self: PseudoHuber[float], *, delta: float = 1.0, reduction: Literal["mean", "sum"] = "mean",
    ) -> None: ...
    @overload
    def __init__(
        self: PseudoHuber[FloatArray], *, delta: float = 1.0, reduction: Literal["none"],
    ) -> None: ...
    @overload
    def __init__(
        self: PseudoHuber[LossValue], *, delta: float = 1.0, reduction: Reduction,
    ) -> None: ...
    def __init__(self, *, delta: float = 1.0, reduction: Reduction = "mean") -> None:
        self.delta = check_positive("delta", delta)
        super().__init__(reduction=reduction)

    def _kernel_spec(self):
        return ("pseudo_huber", self.delta)


class LogCosh(_Regression[ValueT]):
    """Log-cosh: l = log(cosh(e)). Gradient tanh(e), hessian 1/cosh(e)^2.

    Keras ``LogCosh``. Finite for every finite e (``|e| + log1p(exp(-2|e|)) - log 2``
    for large ``|e|``, so no overflow past ``|e| = 710``).

    Shapes: y_true and y_pred of one shape (any); sample_weight (n,) or that shape.

    Examples
    --------
    >>> import fastloss as fl
    >>> fl.LogCosh(reduction="none")([0.0, 0.0], [1.0, 1000.0])  # no overflow: 1000 - log 2
    array([4.33780830e-01, 9.99306853e+02])
    """

    if TYPE_CHECKING:  # the inherited constructor, its value type chosen by reduction
        @overload
        def __init__(
            self: LogCosh[float], *, reduction: Literal["mean", "sum"] = "mean",
        ) -> None: ...
        @overload
        def __init__(self: LogCosh[FloatArray], *, reduction: Literal["none"]) -> None: ...
        @overload
        def __init__(self: LogCosh[LossValue], *, reduction: Reduction) -> None: ...
        def __init__(self, *, reduction: Reduction = "mean") -> None: ...

    def _kernel_spec(self):
        return ("log_cosh",)


class MeanSquaredLogarithmicError(_Regression[ValueT]):
    """Mean squared logarithmic error: l = (log(1 + y_pred) - log(1 + y_true))^2.

    Keras ``MeanSquaredLogarithmicError``: values below 1e-7 (Keras's epsilon) are
    raised to 1e-7 first, so any real input is accepted and the gradient and hessian
    are 0 where y_pred is raised. With d = log((1 + y_pred) / (1 + y_true)): gradient
    2 d / (1 + y_pred), hessian 2 (1 - d) / (1 + y_pred)^2 (negative for d > 1: the
    loss is not convex there). d is computed from the ratio, without the cancellation
    of two nearly equal logs.

    Parameters
    ----------
    reduction : {"mean", "sum", "none"}
        How the per-element values are combined (weighted by sample_weight).

    Shapes: y_true and y_pred of one shape (any); sample_weight (n,) or that shape.

    Examples
    --------
    >>> import fastloss as fl
    >>> fl.MeanSquaredLogarithmicError(reduction="none")([1.0, 1.0], [3.0, 1.0])  # log(2)^2
    array([0.48045301, 0.        ])
    """

    if TYPE_CHECKING:  # the inherited constructor, its value type chosen by reduction
        @overload
        def __init__(
            self: MeanSquaredLogarithmicError[float], *, reduction: Literal["mean", "sum"] = "mean",
        ) -> None: ...
        @overload
        def __init__(
            self: MeanSquaredLogarithmicError[FloatArray], *, reduction: Literal["none"],
        ) -> None: ...
        @overload
        def __init__(
            self: MeanSquaredLogarithmicError[LossValue], *, reduction: Reduction,
        ) -> None: ...
        def __init__(self, *, reduction: Reduction = "mean") -> None: ...

    def _kernel_spec(self):
        return ("msle", KERAS_EPSILON)


class MeanAbsolutePercentageError(_Regression[ValueT]):
    """Mean absolute percentage error: l = 100 abs(y_pred - y_true) / max(abs(y_true), 1e-7).

    Keras ``MeanAbsolutePercentageError`` (1e-7 is Keras's epsilon). Gradient
    100 sign(e) / max(abs(y_true), 1e-7); the hessian is zero almost everywhere, and
    gradient_hessian returns the surrogate 100 / max(abs(y_true), 1e-7) (MeanAbsoluteError's
    1 on the same scale, as LightGBM's ``mape`` objective weights its rows).

    Parameters
    ----------
    reduction : {"mean", "sum", "none"}
        How the per-element values are combined (weighted by sample_weight).

    Shapes: y_true and y_pred of one shape (any); sample_weight (n,) or that shape.

    Examples
    --------
    >>> import fastloss as fl
    >>> fl.MeanAbsolutePercentageError(reduction="none")([2.0, -4.0], [3.0, -3.0])
    array([50., 25.])
    """

    if TYPE_CHECKING:  # the inherited constructor, its value type chosen by reduction
        @overload
        def __init__(
            self: MeanAbsolutePercentageError[float], *, reduction: Literal["mean", "sum"] = "mean",
        ) -> None: ...
        @overload
        def __init__(
            self: MeanAbsolutePercentageError[FloatArray], *, reduction: Literal["none"],
        ) -> None: ...
        @overload
        def __init__(
            self: MeanAbsolutePercentageError[LossValue], *, reduction: Reduction,
        ) -> None: ...
        def __init__(self, *, reduction: Reduction = "mean") -> None: ...

    exact_hessian = False

    def _kernel_spec(self):
        return ("mape", KERAS_EPSILON)


class Quantile(_Regression[ValueT]):
    """Pinball (quantile) loss: l = q r for r = y_true - y_pred >= 0, (q - 1) r below.

    Koenker & Bassett (1978); scikit-learn ``PinballLoss``. Gradient -q where
    y_true > y_pred, 1 - q where y_true < y_pred, 0 at equality. The hessian is zero
    almost everywhere; gradient_hessian returns the surrogate 1.

    Shapes: y_true and y_pred of one shape (any); sample_weight (n,) or that shape.

    Examples
    --------
    >>> import fastloss as fl
    >>> loss = fl.Quantile(quantile=0.9, reduction="none")
    >>> loss([1.0, 0.0], [0.0, 1.0])  # under-prediction costs 0.9, over-prediction 0.1
    array([0.9, 0.1])
    """

    exact_hessian = False
    _param_names = ("quantile",)
    quantile: float

    @overload
    def __init__(
        self: Quantile[float], *, quantile: float = 0.5, reduction: Literal["mean", "sum"] = "mean",
    ) -> None: ...
    @overload
    def __init__(
        self: Quantile[FloatArray], *, quantile: float = 0.5, reduction: Literal["none"],
    ) -> None: ...
    @overload
    def __init__(
        self: Quantile[LossValue], *, quantile: float = 0.5, reduction: Reduction,
    ) -> None: ...
    def __init__(self, *, quantile: float = 0.5, reduction: Reduction = "mean") -> None:
        self.quantile = check_number(
            "quantile", quantile, lambda v: 0 < v < 1, "strictly between 0 and 1"
        )
        super().__init__(reduction=reduction)

    def _kernel_spec(self):
        return ("quantile", self.quantile)


class _CountLoss(_Regression[ValueT]):
    """Base of Poisson/Gamma/Tweedie: y_pred is log(mean) or, with log_input=False, the mean."""

    _param_names = ("log_input",)
    #: Targets must be > 0 (True) or >= 0 (False).
    _targets_positive = False
    #: Whether the kernel's own target check is "> 0" (else ">= 0").
    _kernel_checks_positive = False
    log_input: bool

    def __init__(self, *, log_input: bool = True, reduction: Reduction = "mean") -> None:
        self.log_input = check_flag("log_input", log_input)
        super().__init__(reduction=reduction)

    def _check_inputs(self, y_true, y_pred):
        if self._targets_positive and not self._kernel_checks_positive:
            self._bad_target(y_true)
        if not self.log_input:
            _require(y_pred, "y_pred (the mean, log_input=False)", 0.0, True, False, "> 0")

    def _checks_inputs(self):
        # The kernels check the targets (TARGET_CHECK: > 0 for Gamma, >= 0 otherwise).
        return not self.log_input or (self._targets_positive
                                      and not self._kernel_checks_positive)

    def _bad_target(self, y_true):
        """ValueError naming the first target outside the domain (> 0 or >= 0)."""
        if self._targets_positive:
            _require(y_true, "y_true", 0.0, True, True, "> 0")
        else:
            _require(y_true, "y_true", 0.0, False, True, ">= 0")


class Poisson(_CountLoss[ValueT]):
    """Poisson negative log-likelihood without the log(y!) term.

    l = exp(p) - y p for p = log(mean) (log_input=True), l = mu - y log(mu) for the
    mean mu (log_input=False); torch ``PoissonNLLLoss`` (full=False), with 0 log 0 = 0.
    Targets must be >= 0; with log_input=False, means must be > 0.

    Shapes: y_true and y_pred of one shape (any); sample_weight (n,) or that shape.

    Examples
    --------
    >>> import fastloss as fl
    >>> import math
    >>> fl.Poisson()([2.0], [math.log(2.0)])  # exp(p) - y p = 2 - 2 log 2
    0.613705638...
    >>> fl.Poisson(log_input=False)([2.0], [2.0])  # mu - y log(mu)
    0.613705638...
    """

    if TYPE_CHECKING:  # the inherited constructor, its value type chosen by reduction
        @overload
        def __init__(
            self: Poisson[float], *, log_input: bool = True,
            reduction: Literal["mean", "sum"] = "mean",
        ) -> None: ...
        @overload
        def __init__(
            self: Poisson[FloatArray], *, log_input: bool = True, reduction: Literal["none"],
        ) -> None: ...
        @overload
        def __init__(
            self: Poisson[LossValue], *, log_input: bool = True, reduction: Reduction,
        ) -> None: ...
        def __init__(self, *, log_input: bool = True, reduction: Reduction = "mean") -> None: ...

    def _kernel_spec(self):
        return ("poisson" if self.log_input else "poisson_mean",)


class Gamma(_CountLoss[ValueT]):
    """Gamma negative log-likelihood up to terms in y alone (log link).

    l = p + y exp(-p) for p = log(mean) (log_input=True), l = log(mu) + y / mu for the
    mean (log_input=False); the loss term of scikit-learn's ``HalfGammaLoss`` and XGBoost's
    ``reg:gamma``. Targets must be > 0.

    Shapes: y_true and y_pred of one shape (any); sample_weight (n,) or that shape.

    Examples
    --------
    >>> import fastloss as fl
    >>> import math
    >>> fl.Gamma()([2.0], [math.log(2.0)])  # p + y exp(-p) = log 2 + 1
    1.693147180...
    """

    _targets_positive = True
    _kernel_checks_positive = True

    if TYPE_CHECKING:  # the inherited constructor, its value type chosen by reduction
        @overload
        def __init__(
            self: Gamma[float], *, log_input: bool = True,
            reduction: Literal["mean", "sum"] = "mean",
        ) -> None: ...
        @overload
        def __init__(
            self: Gamma[FloatArray], *, log_input: bool = True, reduction: Literal["none"],
        ) -> None: ...
        @overload
        def __init__(
            self: Gamma[LossValue], *, log_input: bool = True, reduction: Reduction,
        ) -> None: ...
        def __init__(self, *, log_input: bool = True, reduction: Reduction = "mean") -> None: ...

    def _kernel_spec(self):
        return ("gamma" if self.log_input else "gamma_mean",)


class Tweedie(_CountLoss[ValueT]):
    """Tweedie negative log-likelihood up to terms in y alone, power r >= 1.

    l = mu^(2-r)/(2-r) - y mu^(1-r)/(1-r) with mu = exp(y_pred) (log_input=True) or
    mu = y_pred; XGBoost ``reg:tweedie``, the loss term of scikit-learn's
    ``HalfTweedieLoss``. power = 1 and 2 are Poisson and Gamma
    (their formulas above, which differ from the general one by terms in y alone).
    Targets must be >= 0 for power < 2 and > 0 from power 2.

    Shapes: y_true and y_pred of one shape (any); sample_weight (n,) or that shape.

    Examples
    --------
    >>> import fastloss as fl
    >>> fl.Tweedie(power=1.5)([1.0], [0.0])  # mu = 1: 1 / 0.5 + 1 / 0.5
    4.0
    """

    _param_names = ("power", "log_input")
    power: float

    @overload
    def __init__(
        self: Tweedie[float], *, power: float = 1.5, log_input: bool = True,
        reduction: Literal["mean", "sum"] = "mean",
    ) -> None: ...
    @overload
    def __init__(
        self: Tweedie[FloatArray], *, power: float = 1.5, log_input: bool = True,
        reduction: Literal["none"],
    ) -> None: ...
    @overload
    def __init__(
        self: Tweedie[LossValue], *, power: float = 1.5, log_input: bool = True,
        reduction: Reduction,
    ) -> None: ...
    def __init__(
        self, *, power: float = 1.5, log_input: bool = True, reduction: Reduction = "mean"
    ) -> None:
        self.power = check_number(
            "power", power, lambda v: math.isfinite(v) and v >= 1, "a finite number >= 1"
        )
        self._targets_positive = self.power >= 2
        self._kernel_checks_positive = self.power == 2  # the Gamma kernel
        super().__init__(log_input=log_input, reduction=reduction)

    def _kernel_spec(self):
        base = {1.0: "poisson", 2.0: "gamma"}.get(self.power, "tweedie")
        return (base if self.log_input else base + "_mean", self.power)


#: Gradients (or hessian diagonals) of GaussianNLL: (w.r.t. mean, w.r.t. var).
MeanVar = tuple[FloatArray, FloatArray]


class GaussianNLL(OnePassLoss[ValueT]):
    """Gaussian negative log-likelihood of a predicted mean and variance, torch
    ``GaussianNLLLoss``'s definition.

    ``loss(y_true, mean, var)``: l = 0.5 (log v + (mean - y)^2 / v) per element, plus
    0.5 log(2 pi) with ``full=True``; v = max(var, eps), clamped as torch clamps it (the
    gradient keeps the formula at the clamped value). The three arrays have one shape
    (broadcast a shared variance to the mean's shape first, and sum its gradient over
    the broadcast axes); a negative variance is a ValueError, as in torch. The
    gradient is a tuple (d/dmean, d/dvar) = ((mean - y) / v, 0.5 (1 / v - (mean - y)^2
    / v^2)); gradient_hessian returns the exact diagonals, 1 / v and
    ((mean - y)^2 / v - 0.5) / v^2 (negative where the variance is more than twice
    the squared error). Weights as for the elementwise losses: one per row or one per
    element.

    Examples
    --------
    >>> import fastloss as fl
    >>> fl.GaussianNLL(reduction="none")([0.0, 0.0], [1.0, 0.0], [1.0, 4.0])  # 0.5, log 2
    array([0.5       , 0.69314718])
    """

    _param_names = ("full", "eps")
    _kernels = _dispatch.load("regression")
    full: bool
    eps: float

    @overload
    def __init__(
        self: GaussianNLL[float], *, full: bool = False, eps: float = 1e-6,
        reduction: Literal["mean", "sum"] = "mean",
    ) -> None: ...
    @overload
    def __init__(
        self: GaussianNLL[FloatArray], *, full: bool = False, eps: float = 1e-6,
        reduction: Literal["none"],
    ) -> None: ...
    @overload
    def __init__(
        self: GaussianNLL[LossValue], *, full: bool = False, eps: float = 1e-6,
        reduction: Reduction,
    ) -> None: ...
    def __init__(self, *, full: bool = False, eps: float = 1e-6,
                 reduction: Reduction = "mean") -> None:
        self.full = check_flag("full", full)
        self.eps = check_positive("eps", eps)
        super().__init__(reduction=reduction)

    def _prepare(self, y_true, mean, var, sample_weight=None):
        m = as_real_array(mean, "mean")
        y = as_real_array(y_true, "y_true", m.dtype)
        v = as_real_array(var, "var", m.dtype)
        check_same_shape(y, m, pred_name="mean")
        if v.shape != m.shape:
            raise ValueError(
                f"var must have the mean's shape {m.shape} (broadcast a shared variance "
                f"first); got shape {v.shape}")
        index = first_index_below(v, 0.0, False, False)
        if index >= 0:
            raise bad_value_error("var", v, index, ">= 0 (a variance)")
        w = None
        if sample_weight is not None:
            w, per_weight = as_sample_weight(sample_weight, m.shape, rowwise=False)
            if per_weight != 1:
                w = np.repeat(w, per_weight)
        return y, m, v, w

    def _run(self, mode, inputs, out_a=None, out_b=None, scale=1.0, partials=None):
        y, m, v, w = inputs
        if mode in (modes.VALUE_NONE, modes.VALUE_NONE_GRADIENT):
            values, grads, hessians = out_a, out_b or (), ()
        else:
            values, grads, hessians = None, out_a or (), out_b or ()
        constant = 0.5 * math.log(2.0 * math.pi) if self.full else 0.0
        return self._kernels.gaussian_nll_run(
            mode, y, m, v, w, values, grads, hessians, scale, self.eps, constant,
            _config.get_num_threads())

    def _weight_total(self, inputs, partials=None):
        m, w = inputs[1], inputs[3]
        return blocked_weight_total(m.size, w, modes.BLOCK, partials), m.size

    def _values_buffer(self, inputs):
        return np.empty(inputs[1].shape, dtype=inputs[1].dtype)

    def _outputs(self, out, inputs, original):
        _, m, v, _ = inputs
        if out is None:
            return _Outputs([_Output(None, original[0], m), _Output(None, original[1], v)])
        if not isinstance(out, (tuple, list)) or len(out) != 2:
            raise TypeError("out must be a tuple of 2 arrays (one per input: mean, var)")
        return _Outputs([_Output(out[0], original[0], m, inputs[0]),
                         _Output(out[1], original[1], v, inputs[0])])

    def __call__(
        self, y_true: ArrayLike, mean: ArrayLike, var: ArrayLike, *,
        sample_weight: ArrayLike | None = None,
    ) -> ValueT:
        """The loss value: float for "mean"/"sum", an array like mean for "none"."""
        return self._value(self._prepare(y_true, mean, var, sample_weight))

    def gradient(
        self, y_true: ArrayLike, mean: ArrayLike, var: ArrayLike, *,
        sample_weight: ArrayLike | None = None, out: MeanVar | None = None,
    ) -> MeanVar:
        """(d/dmean, d/dvar) of the reduced loss; `out` is an optional pair of arrays."""
        return self._gradient(self._prepare(y_true, mean, var, sample_weight), out,
                              (mean, var))

    def value_and_gradient(
        self, y_true: ArrayLike, mean: ArrayLike, var: ArrayLike, *,
        sample_weight: ArrayLike | None = None, out: MeanVar | None = None,
    ) -> tuple[ValueT, MeanVar]:
        """(value, (d/dmean, d/dvar)) from one pass over the data."""
        return self._value_and_gradient(
            self._prepare(y_true, mean, var, sample_weight), out, (mean, var))

    def gradient_hessian(
        self, y_true: ArrayLike, mean: ArrayLike, var: ArrayLike, *,
        sample_weight: ArrayLike | None = None,
    ) -> tuple[MeanVar, MeanVar]:
        """((d/dmean, d/dvar), (hessian diagonal wrt mean, wrt var))."""
        return self._gradient_hessian(self._prepare(y_true, mean, var, sample_weight),
                                      (mean, var))


# ---- function shortcuts: the value in one call, hyper-parameters as keywords --------

@overload
def mse(
    y_true: ArrayLike, y_pred: ArrayLike, *, reduction: Literal["mean", "sum"] = "mean",
    sample_weight: ArrayLike | None = None,
) -> float: ...
@overload
def mse(
    y_true: ArrayLike, y_pred: ArrayLike, *, reduction: Literal["none"],
    sample_weight: ArrayLike | None = None,
) -> FloatArray: ...
@overload
def mse(
    y_true: ArrayLike, y_pred: ArrayLike, *, reduction: Reduction,
    sample_weight: ArrayLike | None = None,
) -> LossValue: ...
def mse(
    y_true: ArrayLike, y_pred: ArrayLike, *, reduction: Reduction = "mean",
    sample_weight: ArrayLike | None = None,
) -> LossValue:
    """The value of :class:`MeanSquaredError` in one call."""
    return shortcut_call(MeanSquaredError, (reduction,), sample_weight, y_true, y_pred)


@overload
def mae(
    y_true: ArrayLike, y_pred: ArrayLike, *, reduction: Literal["mean", "sum"] = "mean",
    sample_weight: ArrayLike | None = None,
) -> float: ...
@overload
def mae(
    y_true: ArrayLike, y_pred: ArrayLike, *, reduction: Literal["none"],
    sample_weight: ArrayLike | None = None,
) -> FloatArray: ...
@overload
def mae(
    y_true: ArrayLike, y_pred: ArrayLike, *, reduction: Reduction,
    sample_weight: ArrayLike | None = None,
) -> LossValue: ...
def mae(
    y_true: ArrayLike, y_pred: ArrayLike, *, reduction: Reduction = "mean",
    sample_weight: ArrayLike | None = None,
) -> LossValue:
    """The value of :class:`MeanAbsoluteError` in one call."""
    return shortcut_call(MeanAbsoluteError, (reduction,), sample_weight, y_true, y_pred)


@overload
def huber(
    y_true: ArrayLike, y_pred: ArrayLike, *, delta: float = 1.0,
    reduction: Literal["mean", "sum"] = "mean", sample_weight: ArrayLike | None = None,
) -> float: ...
@overload
def huber(
    y_true: ArrayLike, y_pred: ArrayLike, *, delta: float = 1.0, reduction: Literal["none"],
    sample_weight: ArrayLike | None = None,
) -> FloatArray: ...
@overload
def huber(
    y_true: ArrayLike, y_pred: ArrayLike, *, delta: float = 1.0, reduction: Reduction,
    sample_weight: ArrayLike | None = None,
) -> LossValue: ...
def huber(
    y_true: ArrayLike, y_pred: ArrayLike, *, delta: float = 1.0, reduction: Reduction = "mean",
    sample_weight: ArrayLike | None = None,
) -> LossValue:
    """The value of :class:`Huber` in one call."""
    return shortcut_call(Huber, (delta, reduction), sample_weight, y_true, y_pred)


@overload
def smooth_l1(
    y_true: ArrayLike, y_pred: ArrayLike, *, beta: float = 1.0,
    reduction: Literal["mean", "sum"] = "mean", sample_weight: ArrayLike | None = None,
) -> float: ...
@overload
def smooth_l1(
    y_true: ArrayLike, y_pred: ArrayLike, *, beta: float = 1.0, reduction: Literal["none"],
    sample_weight: ArrayLike | None = None,
) -> FloatArray: ...
@overload
def smooth_l1(
    y_true: ArrayLike, y_pred: ArrayLike, *, beta: float = 1.0, reduction: Reduction,
    sample_weight: ArrayLike | None = None,
) -> LossValue: ...
def smooth_l1(
    y_true: ArrayLike, y_pred: ArrayLike, *, beta: float = 1.0, reduction: Reduction = "mean",
    sample_weight: ArrayLike | None = None,
) -> LossValue:
    """The value of :class:`SmoothL1` in one call."""
    return shortcut_call(SmoothL1, (beta, reduction), sample_weight, y_true, y_pred)


@overload
def pseudo_huber(
    y_true: ArrayLike, y_pred: ArrayLike, *, delta: float = 1.0,
    reduction: Literal["mean", "sum"] = "mean", sample_weight: ArrayLike | None = None,
) -> float: ...
@overload
def pseudo_huber(
    y_true: ArrayLike, y_pred: ArrayLike, *, delta: float = 1.0, reduction: Literal["none"],
    sample_weight: ArrayLike | None = None,
) -> FloatArray: ...
@overload
def pseudo_huber(
    y_true: ArrayLike, y_pred: ArrayLike, *, delta: float = 1.0, reduction: Reduction,
    sample_weight: ArrayLike | None = None,
) -> LossValue: ...
def pseudo_huber(
    y_true: ArrayLike, y_pred: ArrayLike, *, delta: float = 1.0, reduction: Reduction = "mean",
    sample_weight: ArrayLike | None = None,
) -> LossValue:
    """The value of :class:`PseudoHuber` in one call."""
    return shortcut_call(PseudoHuber, (delta, reduction), sample_weight, y_true, y_pred)


@overload
def log_cosh(
    y_true: ArrayLike, y_pred: ArrayLike, *, reduction: Literal["mean", "sum"] = "mean",
    sample_weight: ArrayLike | None = None,
) -> float: ...
@overload
def log_cosh(
    y_true: ArrayLike, y_pred: ArrayLike, *, reduction: Literal["none"],
    sample_weight: ArrayLike | None = None,
) -> FloatArray: ...
@overload
def log_cosh(
    y_true: ArrayLike, y_pred: ArrayLike, *, reduction: Reduction,
    sample_weight: ArrayLike | None = None,
) -> LossValue: ...
def log_cosh(
    y_true: ArrayLike, y_pred: ArrayLike, *, reduction: Reduction = "mean",
    sample_weight: ArrayLike | None = None,
) -> LossValue:
    """The value of :class:`LogCosh` in one call."""
    return shortcut_call(LogCosh, (reduction,), sample_weight, y_true, y_pred)


@overload
def quantile(
    y_true: ArrayLike, y_pred: ArrayLike, *, quantile: float = 0.5,
    reduction: Literal["mean", "sum"] = "mean", sample_weight: ArrayLike | None = None,
) -> float: ...
@overload
def quantile(
    y_true: ArrayLike, y_pred: ArrayLike, *, quantile: float = 0.5, reduction: Literal["none"],
    sample_weight: ArrayLike | None = None,
) -> FloatArray: ...
@overload
def quantile(
    y_true: ArrayLike, y_pred: ArrayLike, *, quantile: float = 0.5, reduction: Reduction,
    sample_weight: ArrayLike | None = None,
) -> LossValue: ...
def quantile(
    y_true: ArrayLike, y_pred: ArrayLike, *, quantile: float = 0.5,
    reduction: Reduction = "mean", sample_weight: ArrayLike | None = None,
) -> LossValue:
    """The value of :class:`Quantile` in one call."""
    return shortcut_call(Quantile, (quantile, reduction), sample_weight, y_true, y_pred)


@overload
def poisson(
    y_true: ArrayLike, y_pred: ArrayLike, *, log_input: bool = True,
    reduction: Literal["mean", "sum"] = "mean", sample_weight: ArrayLike | None = None,
) -> float: ...
@overload
def poisson(
    y_true: ArrayLike, y_pred: ArrayLike, *, log_input: bool = True, reduction: Literal["none"],
    sample_weight: ArrayLike | None = None,
) -> FloatArray: ...
@overload
def poisson(
    y_true: ArrayLike, y_pred: ArrayLike, *, log_input: bool = True, reduction: Reduction,
    sample_weight: ArrayLike | None = None,
) -> LossValue: ...
def poisson(
    y_true: ArrayLike, y_pred: ArrayLike, *, log_input: bool = True,
    reduction: Reduction = "mean", sample_weight: ArrayLike | None = None,
) -> LossValue:
    """The value of :class:`Poisson` in one call."""
    return shortcut_call(Poisson, (log_input, reduction), sample_weight, y_true, y_pred)


@overload
def gamma(
    y_true: ArrayLike, y_pred: ArrayLike, *, log_input: bool = True,
    reduction: Literal["mean", "sum"] = "mean", sample_weight: ArrayLike | None = None,
) -> float: ...
@overload
def gamma(
    y_true: ArrayLike, y_pred: ArrayLike, *, log_input: bool = True, reduction: Literal["none"],
    sample_weight: ArrayLike | None = None,
) -> FloatArray: ...
@overload
def gamma(
    y_true: ArrayLike, y_pred: ArrayLike, *, log_input: bool = True, reduction: Reduction,
    sample_weight: ArrayLike | None = None,
) -> LossValue: ...
def gamma(
    y_true: ArrayLike, y_pred: ArrayLike, *, log_input: bool = True,
    reduction: Reduction = "mean", sample_weight: ArrayLike | None = None,
) -> LossValue:
    """The value of :class:`Gamma` in one call."""
    return shortcut_call(Gamma, (log_input, reduction), sample_weight, y_true, y_pred)


@overload
def tweedie(
    y_true: ArrayLike, y_pred: ArrayLike, *, power: float = 1.5, log_input: bool = True,
    reduction: Literal["mean", "sum"] = "mean", sample_weight: ArrayLike | None = None,
) -> float: ...
@overload
def tweedie(
    y_true: ArrayLike, y_pred: ArrayLike, *, power: float = 1.5, log_input: bool = True,
    reduction: Literal["none"], sample_weight: ArrayLike | None = None,
) -> FloatArray: ...
@overload
def tweedie(
    y_true: ArrayLike, y_pred: ArrayLike, *, power: float = 1.5, log_input: bool = True,
    reduction: Reduction, sample_weight: ArrayLike | None = None,
) -> LossValue: ...
def tweedie(
    y_true: ArrayLike, y_pred: ArrayLike, *, power: float = 1.5, log_input: bool = True,
    reduction: Reduction = "mean", sample_weight: ArrayLike | None = None,
) -> LossValue:
    """The value of :class:`Tweedie` in one call."""
    return shortcut_call(Tweedie, (power, log_input, reduction), sample_weight, y_true, y_pred)


@overload
def msle(
    y_true: ArrayLike, y_pred: ArrayLike, *, reduction: Literal["mean", "sum"] = "mean",
    sample_weight: ArrayLike | None = None,
) -> float: ...
@overload
def msle(
    y_true: ArrayLike, y_pred: ArrayLike, *, reduction: Literal["none"],
    sample_weight: ArrayLike | None = None,
) -> FloatArray: ...
@overload
def msle(
    y_true: ArrayLike, y_pred: ArrayLike, *, reduction: Reduction,
    sample_weight: ArrayLike | None = None,
) -> LossValue: ...
def msle(
    y_true: ArrayLike, y_pred: ArrayLike, *, reduction: Reduction = "mean",
    sample_weight: ArrayLike | None = None,
) -> LossValue:
    """The value of :class:`MeanSquaredLogarithmicError` in one call."""
    return shortcut_call(MeanSquaredLogarithmicError, (reduction,), sample_weight, y_true, y_pred)


@overload
def mape(
    y_true: ArrayLike, y_pred: ArrayLike, *, reduction: Literal["mean", "sum"] = "mean",
    sample_weight: ArrayLike | None = None,
) -> float: ...
@overload
def mape(
    y_true: ArrayLike, y_pred: ArrayLike, *, reduction: Literal["none"],
    sample_weight: ArrayLike | None = None,
) -> FloatArray: ...
@overload
def mape(
    y_true: ArrayLike, y_pred: ArrayLike, *, reduction: Reduction,
    sample_weight: ArrayLike | None = None,
) -> LossValue: ...
def mape(
    y_true: ArrayLike, y_pred: ArrayLike, *, reduction: Reduction = "mean",
    sample_weight: ArrayLike | None = None,
) -> LossValue:
    """The value of :class:`MeanAbsolutePercentageError` in one call."""
    return shortcut_call(MeanAbsolutePercentageError, (reduction,), sample_weight, y_true, y_pred)


@overload
def gaussian_nll(
    y_true: ArrayLike, mean: ArrayLike, var: ArrayLike, *, full: bool = False,
    eps: float = 1e-6, reduction: Literal["mean", "sum"] = "mean",
    sample_weight: ArrayLike | None = None,
) -> float: ...
@overload
def gaussian_nll(
    y_true: ArrayLike, mean: ArrayLike, var: ArrayLike, *, full: bool = False,
    eps: float = 1e-6, reduction: Literal["none"], sample_weight: ArrayLike | None = None,
) -> FloatArray: ...
@overload
def gaussian_nll(
    y_true: ArrayLike, mean: ArrayLike, var: ArrayLike, *, full: bool = False,
    eps: float = 1e-6, reduction: Reduction, sample_weight: ArrayLike | None = None,
) -> LossValue: ...
def gaussian_nll(
    y_true: ArrayLike, mean: ArrayLike, var: ArrayLike, *, full: bool = False,
    eps: float = 1e-6, reduction: Reduction = "mean", sample_weight: ArrayLike | None = None,
) -> LossValue:
    """The value of :class:`GaussianNLL` in one call."""
    return shortcut_call(GaussianNLL, (full, eps, reduction), sample_weight, y_true, mean, var)
