"""Elementwise nonlinearities (Lasagne's ``lasagne.nonlinearities``).

Each is a plain function of a symbolic tensor.  ``get(name_or_callable)``
turns the names used in model options (``"sigmoid"``, ``"tanh"``, ...) into
the function.
"""

import pytensor.tensor as pt

__all__ = ["rectify", "sigmoid", "tanh", "softmax", "identity", "linear", "get"]


def rectify(x):
    """rectify(x) -> max(x, 0), the ReLU of He et al. (2015).

    One scalar Op, :func:`crmn_legacy.ops.relu.relu`, differentiated from its
    output (:math:`g\\,[z > 0]`), so a residual sum fuses into it.
    """
    from .ops.relu import relu

    return relu(x)


def sigmoid(x):
    """sigmoid(x) -> 1 / (1 + exp(-x)), the logistic sigma_iof of eqs. 2-4."""
    return pt.sigmoid(x)


def tanh(x):
    """tanh(x) -> hyperbolic tangent, sigma_c and sigma_h of eqs. 6-7."""
    return pt.tanh(x)


def softmax(x):
    """softmax(x) -> row-wise softmax of a (N, K) matrix."""
    return pt.special.softmax(x, axis=-1)


def identity(x):
    """identity(x) -> x."""
    return x


linear = identity

_BY_NAME = {
    "rectify": rectify,
    "relu": rectify,
    "sigmoid": sigmoid,
    "logistic": sigmoid,
    "tanh": tanh,
    "softmax": softmax,
    "identity": identity,
    "linear": identity,
}


def get(nonlinearity):
    """get(nonlinearity) -> callable

    ``None`` gives :func:`identity`; a string names one of ``rectify``/``relu``,
    ``sigmoid``/``logistic``, ``tanh``, ``softmax``, ``identity``/``linear``;
    a callable is returned unchanged.
    """
    if nonlinearity is None:
        return identity
    if callable(nonlinearity):
        return nonlinearity
    if isinstance(nonlinearity, str) and nonlinearity in _BY_NAME:
        return _BY_NAME[nonlinearity]
    raise ValueError(
        f"unknown nonlinearity {nonlinearity!r}; use a callable or one of {sorted(_BY_NAME)}"
    )
