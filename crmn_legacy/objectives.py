"""Training objectives: softmax cross-entropy and classification accuracy.

The paper (section 4) trains every model by minimising the mean categorical
cross-entropy of the softmax output over a minibatch of :math:`B` examples,

.. math::

    \\mathcal{L}_{CE} = -\\frac{1}{B} \\sum_{b=1}^{B} \\log p_{b, y_b},
    \\qquad p_b = \\mathrm{softmax}(z_b),

plus the weight-decay penalty of :mod:`crmn_legacy.regularization`.

Numerical stability
-------------------
When ``predictions`` is literally the output of a ``softmax(z)`` node (what the
models' final ``DenseLayer`` produces) the log-probabilities are computed as
``log_softmax(z)`` from the logits ``z``; this is exactly
:math:`\\log p` but never evaluates ``log(0) = -inf`` when a probability
underflows in float32.  For any other input the plain ``log(predictions)`` is
used, as in Lasagne.
"""

import pytensor.tensor as pt
from pytensor.tensor.special import Softmax, log_softmax

__all__ = [
    "log_probabilities",
    "categorical_crossentropy",
    "categorical_accuracy",
    "aggregate",
]


def log_probabilities(predictions):
    """log_probabilities(predictions) -> symbolic matrix

    :math:`\\log p` for a (B, K) matrix of class probabilities.  If
    ``predictions = softmax(z)`` (a PyTensor ``Softmax`` node over the class
    axis), returns ``log_softmax(z)``; otherwise ``log(predictions)``.
    """
    owner = predictions.owner
    if owner is not None and isinstance(owner.op, Softmax):
        axis = owner.op.axis
        if axis is None or tuple(axis) in ((1,), (-1,)):
            return log_softmax(owner.inputs[0], axis=-1)
    return pt.log(predictions)


def categorical_crossentropy(predictions, targets):
    """categorical_crossentropy(predictions, targets) -> symbolic vector (B,)

    Per-example cross-entropy :math:`\\ell_b = -\\log p_{b, y_b}`.

    Parameters
    ----------
    predictions : symbolic (B, K) matrix
        Class probabilities (rows sum to one), normally the softmax output.
    targets : symbolic int vector (B,)
        Integer class labels :math:`y_b \\in \\{0, \\dots, K-1\\}`.
    """
    if targets.ndim != 1:
        raise ValueError(f"targets must be an integer vector of class labels, got ndim={targets.ndim}")
    logp = log_probabilities(predictions)
    return -logp[pt.arange(targets.shape[0]), targets]


def categorical_accuracy(predictions, targets):
    """categorical_accuracy(predictions, targets) -> symbolic vector (B,)

    :math:`a_b = [\\arg\\max_k p_{b,k} = y_b]` as floatX 0/1 values.
    """
    if targets.ndim != 1:
        raise ValueError(f"targets must be an integer vector of class labels, got ndim={targets.ndim}")
    hits = pt.eq(pt.argmax(predictions, axis=-1), targets)
    return pt.cast(hits, "floatX")


def aggregate(loss, mode="mean"):
    """aggregate(loss, mode="mean") -> symbolic scalar

    Reduce a per-example loss: ``"mean"`` (:math:`\\frac{1}{B}\\sum_b \\ell_b`)
    or ``"sum"``.
    """
    if mode == "mean":
        return loss.mean()
    if mode == "sum":
        return loss.sum()
    raise ValueError(f"aggregate mode must be 'mean' or 'sum', got {mode!r}")
