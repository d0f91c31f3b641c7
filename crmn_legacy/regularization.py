"""Weight decay as an explicit L2 penalty added to the loss.

The paper uses "a weight decay of 0.0001 throughout" (section 4) and was
implemented in Lasagne, whose idiom is ::

    loss = loss + 1e-4 * regularize_network_params(net, l2)

with Lasagne's ``l2(x) = sum(x ** 2)`` -- **no factor 1/2**.  We reproduce
that convention by default and name it ``"l2"``:

.. math::

    \\Omega_{l2}(\\theta) = \\lambda \\sum_{W \\in \\mathcal{R}} \\sum W^2,
    \\qquad \\partial \\Omega / \\partial W = 2 \\lambda W,

so with :math:`\\lambda = 10^{-4}` each step adds :math:`2 \\cdot 10^{-4} W` to
the gradient.  The Caffe/Torch convention ("decay :math:`\\lambda W` added to
the gradient") is available as ``"half_l2"``:

.. math::

    \\Omega_{half\\_l2}(\\theta) = \\frac{\\lambda}{2} \\sum_{W \\in \\mathcal{R}} \\sum W^2,
    \\qquad \\partial \\Omega / \\partial W = \\lambda W.

:math:`\\mathcal{R}` is the set of *regularizable* parameters,
``get_all_params(net, regularizable=True)``: convolution, dense and LSTM
weight matrices; never biases, BatchNorm :math:`\\gamma, \\beta`, BatchNorm
running statistics or the learned initial LSTM state (the layers tag them
``regularizable=False``, as Lasagne does).
"""

import pytensor
import pytensor.tensor as pt

__all__ = ["DECAY_FORMS", "l2", "weight_decay_penalty"]

DECAY_FORMS = ("l2", "half_l2")


def l2(x):
    """l2(x) -> symbolic scalar

    Lasagne's squared L2 norm :math:`\\sum x^2` (no 1/2).
    """
    return pt.sum(x**2)


def weight_decay_penalty(params, weight_decay=1e-4, form="l2"):
    """weight_decay_penalty(params, weight_decay=1e-4, form="l2") -> symbolic scalar

    :math:`\\lambda \\sum_{W} \\sum W^2` (``form="l2"``, Lasagne, the default)
    or :math:`\\frac{\\lambda}{2} \\sum_{W} \\sum W^2` (``form="half_l2"``).

    Parameters
    ----------
    params : list of shared variables
        The regularizable parameters :math:`\\mathcal{R}`.
    weight_decay : float
        :math:`\\lambda`; ``0`` gives a constant zero.
    form : {"l2", "half_l2"}
    """
    if form not in DECAY_FORMS:
        raise ValueError(f"weight-decay form must be one of {DECAY_FORMS}, got {form!r}")
    if weight_decay < 0:
        raise ValueError(f"weight decay must be >= 0, got {weight_decay}")
    scale = weight_decay if form == "l2" else weight_decay / 2.0
    if not params or weight_decay == 0:
        return pt.constant(0.0, dtype=pytensor.config.floatX)
    total = pt.add(*[l2(p) for p in params]) if len(params) > 1 else l2(params[0])
    return pt.cast(scale, "floatX") * total
