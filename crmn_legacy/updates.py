"""SGD with classical momentum, written out by hand (Lasagne's ``updates``).

The paper trains with "a momentum of 0.9 and a weight decay of 0.0001"
(section 4) and an initial learning rate :math:`\\alpha = 0.1`.  With the loss

.. math::

    J(\\theta) = \\mathcal{L}_{CE}(\\theta) + \\Omega(\\theta)

(cross-entropy from :mod:`crmn_legacy.objectives`, weight decay
:math:`\\Omega` from :mod:`crmn_legacy.regularization`, so decay enters
**through the gradient of the loss**), one step on a minibatch is Lasagne's
``momentum`` update:

.. math::

    g_t     &= \\nabla_\\theta J(\\theta_t) \\\\
    v_{t+1} &= \\mu v_t - \\alpha g_t \\\\
    \\theta_{t+1} &= \\theta_t + v_{t+1}

with :math:`\\mu = 0.9`, velocities :math:`v_0 = 0`, and the learning rate
:math:`\\alpha` read from a **shared variable** (:func:`learning_rate_variable`)
so a schedule changes it with ``lr.set_value(...)`` without recompiling.
Note that the velocity carries the learning rate (Lasagne's form, not the
Torch form :math:`v \\leftarrow \\mu v + g,\\ \\theta \\leftarrow \\theta - \\alpha v`);
both agree while :math:`\\alpha` is constant.

Every parameter in ``params`` (the *trainable* ones) is updated; the
velocities are shared variables named ``<param name>.velocity`` so that
checkpoints can store them by name.
"""

from collections import OrderedDict

import numpy as np
import pytensor
import pytensor.tensor as pt

__all__ = [
    "learning_rate_variable",
    "get_or_compute_grads",
    "make_velocities",
    "sgd",
    "apply_momentum",
    "momentum",
]


def learning_rate_variable(value=0.1, name="learning_rate"):
    """learning_rate_variable(value=0.1, name="learning_rate") -> shared floatX scalar

    The learning rate :math:`\\alpha` as a shared variable; change it with
    ``lr.set_value(np.float32(0.01))`` between calls of the compiled step.
    """
    return pytensor.shared(np.asarray(value, dtype=pytensor.config.floatX), name=name)


def get_or_compute_grads(loss_or_grads, params):
    """get_or_compute_grads(loss_or_grads, params) -> list of symbolic gradients

    ``pytensor.grad(loss, params)`` for a scalar loss, or the given list of
    gradients checked against ``params``.
    """
    if isinstance(loss_or_grads, (list, tuple)):
        if len(loss_or_grads) != len(params):
            raise ValueError(f"got {len(loss_or_grads)} gradients for {len(params)} parameters")
        return list(loss_or_grads)
    return pytensor.grad(loss_or_grads, params)


def make_velocities(params):
    """make_velocities(params) -> list of shared variables

    One zero-initialised velocity :math:`v_0 = 0` per parameter, same shape
    and dtype, named ``<param name>.velocity``.
    """
    velocities = []
    for p in params:
        value = p.get_value(borrow=True)
        velocities.append(
            pytensor.shared(
                np.zeros(value.shape, dtype=value.dtype),
                name=f"{p.name}.velocity" if p.name else None,
                shape=p.type.shape,
            )
        )
    return velocities


def sgd(loss_or_grads, params, learning_rate):
    """sgd(loss_or_grads, params, learning_rate) -> OrderedDict

    Plain SGD: :math:`\\theta \\leftarrow \\theta - \\alpha g`.
    """
    grads = get_or_compute_grads(loss_or_grads, params)
    updates = OrderedDict()
    for p, g in zip(params, grads):
        updates[p] = p - pt.cast(learning_rate, p.dtype) * g
    return updates


def apply_momentum(updates, params=None, momentum=0.9, velocities=None):
    """apply_momentum(updates, params=None, momentum=0.9, velocities=None) -> OrderedDict

    Turn the SGD steps ``updates[p] = p - alpha g`` into momentum steps:
    :math:`v' = \\mu v + (\\text{updates}[p] - p)`, :math:`p' = p + v'`.

    Parameters
    ----------
    updates : OrderedDict
        ``{param: new value}`` from :func:`sgd`.
    params : list, optional
        Which parameters get momentum (default: all keys of ``updates``).
    momentum : float
        :math:`\\mu`.
    velocities : list of shared variables, optional
        From :func:`make_velocities`; created here when omitted.
    """
    if params is None:
        params = list(updates.keys())
    if velocities is None:
        velocities = make_velocities(params)
    if len(velocities) != len(params):
        raise ValueError(f"got {len(velocities)} velocities for {len(params)} parameters")
    updates = OrderedDict(updates)
    for p, v in zip(params, velocities):
        x = pt.cast(momentum, p.dtype) * v + updates[p]
        updates[v] = x - p
        updates[p] = x
    return updates


def momentum(loss_or_grads, params, learning_rate, momentum=0.9, velocities=None):
    """momentum(loss_or_grads, params, learning_rate, momentum=0.9, velocities=None) -> OrderedDict

    SGD with classical momentum (see the module docstring):
    :math:`v \\leftarrow \\mu v - \\alpha g`, :math:`\\theta \\leftarrow \\theta + v`.
    """
    updates = sgd(loss_or_grads, params, learning_rate)
    return apply_momentum(updates, params, momentum=momentum, velocities=velocities)
