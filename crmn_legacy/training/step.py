"""training_step(net, ...) -- the symbolic SGD step every trainer and benchmark compiles.

One graph, so the benchmark measures exactly what training runs:

.. math::

    J = \\frac{1}{B}\\sum_b -\\log p_{b,y_b} + \\lambda \\sum_{W \\in \\mathcal{R}} \\|W\\|^2,
    \\qquad v \\leftarrow \\mu v - \\alpha \\nabla_\\theta J, \\quad \\theta \\leftarrow \\theta + v

plus the BatchNorm running-average updates returned by
``get_output(net, return_updates=True)``.
"""

from collections import namedtuple

import pytensor.tensor as pt

from ..compile import function
from ..layers import get_all_layers, get_all_params, get_output
from ..objectives import aggregate, categorical_accuracy, categorical_crossentropy
from ..regularization import weight_decay_penalty
from ..updates import learning_rate_variable, make_velocities, momentum

__all__ = ["TrainingStep", "training_step", "compile_training_step", "compile_evaluation"]

TrainingStep = namedtuple("TrainingStep", ["inputs", "outputs", "updates", "learning_rate", "velocities",
                                           "trainable"])
TrainingStep.__doc__ = """TrainingStep(inputs, outputs, updates, learning_rate, velocities, trainable)

``inputs`` = [images (N, C, H, W), targets (N,) int32]; ``outputs`` =
[cross-entropy, accuracy, objective J]; ``updates`` an OrderedDict (momentum
SGD, then BatchNorm statistics); ``learning_rate`` the shared alpha."""


def training_step(net, learning_rate=0.1, momentum_coef=0.9, weight_decay=1e-4, decay_form="l2", targets=None):
    """training_step(net, learning_rate=0.1, momentum_coef=0.9, weight_decay=1e-4, decay_form="l2", targets=None) -> TrainingStep

    Build (do not compile) one training step of ``net`` (a softmax output layer).
    """
    t = pt.ivector("targets") if targets is None else targets
    x = get_all_layers(net)[0].input_var
    trainable = get_all_params(net, trainable=True)
    regularizable = get_all_params(net, regularizable=True)
    out, bn_updates = get_output(net, deterministic=False, return_updates=True)
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


def compile_evaluation(net, mode=None):
    """compile_evaluation(net, mode=None) -> Function (images, targets) -> [summed ce, number correct]

    Uses the deterministic (inference) output: BatchNorm running averages.
    """
    x = get_all_layers(net)[0].input_var
    t = pt.ivector("targets")
    det = get_output(net, deterministic=True)
    return function([x, t], [categorical_crossentropy(det, t).sum(), categorical_accuracy(det, t).sum()],
                    mode=mode)
