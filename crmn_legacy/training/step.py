"""training_step(net, ...) -- the symbolic SGD step every trainer and benchmark compiles.

One graph, so the benchmark measures exactly what training runs:

.. math::

    J = \\frac{1}{B}\\sum_b -\\log p_{b,y_b} + \\lambda \\sum_{W \\in \\mathcal{R}} \\|W\\|^2,
    \\qquad v \\leftarrow \\mu v - \\alpha \\nabla_\\theta J, \\quad \\theta \\leftarrow \\theta + v

plus the BatchNorm running-average updates returned by
``get_output(net, return_updates=True)``.
"""

from collections import namedtuple

import numpy as np
import pytensor.tensor as pt

from ..runtime.compile import function
from ..layers import get_all_layers, get_all_params, get_output
from ..objectives import aggregate, categorical_accuracy, categorical_crossentropy
from ..regularization import weight_decay_penalty
from ..updates import learning_rate_variable, make_velocities, momentum

__all__ = ["TrainingStep", "training_step", "compile_training_step", "compile_evaluation", "evaluate_batches"]

TrainingStep = namedtuple("TrainingStep", ["inputs", "outputs", "updates", "learning_rate", "velocities",
                                           "trainable"])
TrainingStep.__doc__ = """TrainingStep(inputs, outputs, updates, learning_rate, velocities, trainable)

``inputs`` = [images (N, C, H, W), targets (N,) int32]; ``outputs`` =
[cross-entropy, accuracy, objective J]; ``updates`` an OrderedDict (momentum
SGD, then BatchNorm statistics); ``learning_rate`` the shared alpha."""


def training_step(net, learning_rate=0.1, momentum_coef=0.9, weight_decay=1e-4, decay_form="l2", targets=None,
                  inputs=None):
    """training_step(net, learning_rate=0.1, momentum_coef=0.9, weight_decay=1e-4, decay_form="l2", targets=None, inputs=None) -> TrainingStep

    Build (do not compile) one training step of ``net`` (a softmax output layer).
    ``inputs``: an image variable to use instead of the network's own
    ``input_var`` (e.g. a statically shaped one for JAX, see
    :func:`crmn_legacy.training.backend.input_variables`).
    """
    t = pt.ivector("targets") if targets is None else targets
    x = get_all_layers(net)[0].input_var if inputs is None else inputs
    trainable = get_all_params(net, trainable=True)
    regularizable = get_all_params(net, regularizable=True)
    out, bn_updates = get_output(net, inputs, deterministic=False, return_updates=True)
    ce = aggregate(categorical_crossentropy(out, t))
    acc = categorical_accuracy(out, t).mean()
    objective = ce + weight_decay_penalty(regularizable, weight_decay, decay_form)
    lr = learning_rate if hasattr(learning_rate, "get_value") else learning_rate_variable(learning_rate)
    velocities = make_velocities(trainable)
    updates = momentum(objective, trainable, lr, momentum_coef, velocities=velocities)
    for var, upd in bn_updates.items():
        updates[var] = upd
    return TrainingStep([x, t], [ce, acc, objective], updates, lr, velocities, trainable)


def compile_training_step(step, mode=None):
    """compile_training_step(step, mode=None) -> pytensor Function (images, targets) -> [ce, acc, J]"""
    return function(step.inputs, step.outputs, updates=step.updates, mode=mode)


def compile_evaluation(net, mode=None, inputs=None, targets=None):
    """compile_evaluation(net, mode=None, inputs=None, targets=None) -> Function (images, targets) -> [ce, correct]

    Per image, with the deterministic (inference) output, BatchNorm using its
    running averages: the cross-entropy :math:`-\\log p_{i,y_i}` and
    :math:`[\\arg\\max_k p_{i,k} = y_i]` (both vectors of length N).  In
    inference mode every image's output depends on that image alone, so a
    batch padded with extra images gives the same values for the real ones
    (see :func:`evaluate_batches`).  ``inputs`` / ``targets``: variables
    replacing the network's ``input_var`` and a fresh ``ivector``.
    """
    x = get_all_layers(net)[0].input_var if inputs is None else inputs
    t = pt.ivector("targets") if targets is None else targets
    det = get_output(net, inputs, deterministic=True)
    return function([x, t], [categorical_crossentropy(det, t), categorical_accuracy(det, t)], mode=mode)


def evaluate_batches(fn, iterator, static_batch=None):
    """evaluate_batches(fn, iterator, static_batch=None) -> (mean cross-entropy, accuracy)

    .. math::

        L = \\frac{1}{N}\\sum_i -\\log p_{i,y_i}, \\qquad A = \\frac{1}{N}\\sum_i [\\arg\\max_k p_{i,k} = y_i]

    over every image of ``iterator`` (a :class:`~crmn_legacy.datasets.iterator.MinibatchIterator`
    without shuffling), ``fn`` from :func:`compile_evaluation`; sums in
    float64.  ``static_batch``: the batch size ``fn`` was compiled for (JAX);
    a shorter last batch is padded up to it by repeating its last image and
    only its real images are counted, so no image is dropped and none is
    counted twice.
    """
    loss_sum, correct, n = 0.0, 0.0, 0
    for xb, yb in iterator:
        k = len(yb)
        if static_batch is not None and k != static_batch:
            if k > static_batch:
                raise ValueError(f"a batch of {k} images does not fit the compiled batch of {static_batch}")
            pad = static_batch - k
            xb = np.concatenate([xb, np.repeat(xb[-1:], pad, axis=0)])
            yb = np.concatenate([yb, np.repeat(yb[-1:], pad, axis=0)])
        ce, hit = fn(xb, yb)
        loss_sum += float(np.sum(np.asarray(ce)[:k], dtype=np.float64))
        correct += float(np.sum(np.asarray(hit)[:k], dtype=np.float64))
        n += k
    if n == 0:
        raise ValueError("nothing to evaluate: the split is empty")
    return loss_sum / n, correct / n
