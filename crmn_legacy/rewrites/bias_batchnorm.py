"""Compile-time rewrites: a per-channel bias in front of training-mode BatchNorm is a no-op.

With the mini-batch statistics, batch normalisation removes any per-channel
shift of its input: for :math:`z = y + b_c`,

.. math::

    \\mu_c(z) = \\mu_c(y) + b_c, \\quad \\sigma_c(z) = \\sigma_c(y), \\quad
    \\hat z = \\frac{z - \\mu_c(z)}{\\sqrt{\\sigma_c^2 + \\epsilon}} = \\hat y,

so ``BatchNormTrain(y + b)`` normalises exactly as ``BatchNormTrain(y)``,
and the gradient of the loss w.r.t. ``b`` is exactly zero: it is
:math:`\\sum_{n,h,w} dz`, and the BatchNorm input gradient
:math:`dz = \\gamma_c r_c (dy - \\overline{dy} - \\hat z\\,\\overline{dy\\,\\hat z})`
sums to zero over every channel because :math:`\\sum \\hat z = 0`.

Every convolution of the paper's ResNet has a bias (section 4, "The biases of
each convolutional layer"; kept for the parameter counts of Table 1) and is
followed by a BatchNorm.  Computed literally, each bias costs a pass over the
convolution's output (``AddChannelBias``) and another over the BatchNorm's
input gradient (``ChannelSum``, whose result is rounding noise around 0).
Three rewrites (in ``canonicalize``, tag ``crmn``: they run in the modes of
:func:`crmn_legacy.runtime.compile.get_mode`) remove both passes without changing the
mathematics:

* ``crmn_bn_train_absorbs_bias``: ``BatchNormTrain(AddChannelBias(y, b))`` ->
  ``BatchNormTrain(y)``, with the batch mean output ``mean(y) + b`` (the
  running-average update, hence inference, still sees the bias);
* ``crmn_bn_grad_absorbs_bias``: ``BatchNormTrainGrad(AddChannelBias(y, b),
  gamma, mean, ...)`` -> ``BatchNormTrainGrad(y, gamma, mean - b, ...)``
  (``(mean(y) + b) - b`` then simplifies to ``mean(y)``);
* ``crmn_bias_grad_through_bn_is_zero``: ``ChannelSum`` of a
  ``BatchNormTrainGrad``'s input gradient -> zeros.

They match only when the BatchNorm is the sole reader of the biased tensor on
the pattern's path (a ``ChannelSum`` of a sum of several gradients is left
alone).  The graph a user builds and prints is unchanged; ``pytensor.dprint``
of a compiled function shows the rewritten form.  ``RESULTS.md`` (Deviations
and interpretations) records the one observable effect: the biases' gradient
is an exact 0 instead of rounding noise, so the biases stay at their initial
value, 0, exactly.
"""

import numpy as np
import pytensor.tensor as pt
from pytensor.graph.rewriting.basic import copy_stack_trace, node_rewriter

from ..ops.batchnorm import BatchNormTrain, BatchNormTrainGrad
from ..ops.channel import AddChannelBias, ChannelSum

__all__ = ["local_bn_train_absorbs_bias", "local_bn_grad_absorbs_bias", "local_bias_grad_through_bn_is_zero", "REWRITES"]


def _biased(var):
    """(y, b) when ``var`` is ``AddChannelBias(y, b)``, else (None, None)."""
    owner = var.owner
    if owner is not None and isinstance(owner.op, AddChannelBias):
        return owner.inputs
    return None, None


@node_rewriter([BatchNormTrain])
def local_bn_train_absorbs_bias(fgraph, node):
    """BatchNormTrain(y + b, gamma, beta) -> (out, mean + b, inv_std) of BatchNormTrain(y, gamma, beta)."""
    y, b = _biased(node.inputs[0])
    if y is None:
        return False
    out, mean, inv_std = node.op(y, *node.inputs[1:])
    mean_z = mean + b
    copy_stack_trace(node.outputs, [out, mean_z, inv_std])
    return [out, mean_z, inv_std]


@node_rewriter([BatchNormTrainGrad])
def local_bn_grad_absorbs_bias(fgraph, node):
    """BatchNormTrainGrad(y + b, gamma, mean, inv_std, dy[, out]) -> the same Op on (y, gamma, mean - b, ...)."""
    y, b = _biased(node.inputs[0])
    if y is None:
        return False
    gamma, mean = node.inputs[1], node.inputs[2]
    new = node.op(y, gamma, mean - b, *node.inputs[3:])
    copy_stack_trace(node.outputs, new)
    return new


@node_rewriter([ChannelSum])
def local_bias_grad_through_bn_is_zero(fgraph, node):
    """ChannelSum(dx of BatchNormTrainGrad) -> zeros: a BatchNorm input gradient sums to 0 per channel."""
    g = node.inputs[0]
    if g.owner is None or not isinstance(g.owner.op, BatchNormTrainGrad) or g.owner.outputs[0] is not g:
        return False
    # Zeros of the channel count: a constant when it is static, else shaped like the same node's dgamma.
    # (zeros_like(output) would keep the ChannelSum as its shape source, and pt.zeros(g.shape[1]) runs
    # static-shape inference over the whole graph above g: 0.7 s per bias in a ResNet-32.)
    out = node.outputs[0]
    if out.type.shape[0] is not None:
        zeros = pt.as_tensor_variable(np.zeros(out.type.shape[0], dtype=out.dtype))
    else:
        zeros = pt.zeros_like(g.owner.outputs[1], dtype=out.dtype)
    copy_stack_trace(node.outputs, zeros)
    return [zeros]


#: (database, name, rewriter, tags, position), registered by :func:`crmn_legacy.runtime.compile.register_rewrites`.
REWRITES = (
    ("canonicalize", "crmn_bn_train_absorbs_bias", local_bn_train_absorbs_bias, ("crmn",), None),
    ("canonicalize", "crmn_bn_grad_absorbs_bias", local_bn_grad_absorbs_bias, ("crmn",), None),
    ("canonicalize", "crmn_bias_grad_through_bn_is_zero", local_bias_grad_through_bn_is_zero, ("crmn",), None),
)
