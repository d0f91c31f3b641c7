"""crmn(n, k, num_classes=100, input_var=None, memory="lstm", ...): the Convolutional Residual Memory Network.

A ResNet (:func:`crmn_legacy.models.resnet.residual_network`) whose 3n
residual-block outputs x_l, 2x2 mean-pooled, flattened and zero-padded to the
largest size (16k * 16 * 16 for 32x32 inputs), are the steps of an LSTM with
peepholes (eqs. 2-7, :class:`crmn_legacy.layers.LSTMLayer`, hidden = cell =
100); softmax([GAP(x_L), h_L]).  The memory adds

    4 D H + 4 H^2 + 4 H + 3 H (peepholes) + 2 H (h_0, c_0) + 100 H (softmax)

parameters, independent of the depth (section 4.1).
"""

from .resnet import residual_network

__all__ = ["crmn"]


def crmn(n, k, num_classes=100, input_var=None, memory="lstm", **options):
    """crmn(n, k, num_classes=100, input_var=None, memory="lstm", **options) -> softmax DenseLayer

    :func:`residual_network` with a memory (``"lstm"``, the paper's model,
    or ``"gru"``).  ``options``: ``variant``, ``memory_units``,
    ``memory_options``, ``input_shape``, ``conv_bias``, ...
    """
    if memory is None:
        raise ValueError("crmn() needs memory='lstm' or 'gru'; use resnet() for a network without memory")
    return residual_network(n, k, num_classes=num_classes, input_var=input_var, memory=memory, **options)
