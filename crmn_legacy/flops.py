"""Operation counts of a network, from its own layer shapes.

``count_flops(layer)`` walks the graph of layers and counts, per image,

* a convolution (F, C, kh, kw) with output (F, H', W'):  2 C kh kw F H' W';
* a dense layer D -> U:                                   2 D U;
* a depth-recurrent memory (LSTM: G = 4 gates; GRU: 3) of H units over L steps
  with input size D (the zero-padded size, as the paper defines the model):
  2 L G H (D + H)  (input and recurrent projections).

FLOPs are 2 x multiply-adds; elementwise work (BatchNorm, ReLU, the LSTM's
gate nonlinearities, pooling) is not counted.  A training step is counted as
3 x the forward pass (forward, gradient w.r.t. inputs, w.r.t. weights).

``paper_cost_model(layer)`` evaluates the paper's eqs. 8-10 instead: each
residual block costs C_r = f^2 k^2 n^2 (eq. 8: f maps of n x n, k x k filters)
and, with the memory, C_rm = C_r + h^2 + h i (eq. 9) with i = f n^2 the
block's output size; constants dropped, as the paper's O(.) does.
"""

from collections import OrderedDict

import numpy as np

from .layers import get_all_layers
from .layers.conv import Conv2DLayer
from .layers.dense import DenseLayer
from .layers.recurrent import DepthRecurrentLayer

__all__ = ["count_flops", "flops_by_kind", "paper_cost_model", "TRAIN_FACTOR"]

#: training step = forward + grad wrt inputs + grad wrt weights
TRAIN_FACTOR = 3


def _layer_flops(layer):
    if isinstance(layer, Conv2DLayer):
        _, c, kh, kw = layer.W.get_value(borrow=True).shape
        _, f, h, w = layer.output_shape
        return "conv", 2 * c * kh * kw * f * h * w
    if isinstance(layer, DenseLayer):
        return "dense", 2 * layer.num_inputs * layer.num_units
    if isinstance(layer, DepthRecurrentLayer):
        g, h, d, steps = len(layer._gates), layer.num_units, layer.input_size, len(layer.step_sizes)
        return "memory", 2 * steps * g * h * (d + h)
    return None, 0


def flops_by_kind(layer):
    """flops_by_kind(layer) -> OrderedDict kind -> forward FLOPs per image (kinds: conv, dense, memory)."""
    out = OrderedDict((k, 0) for k in ("conv", "dense", "memory"))
    for lay in get_all_layers(layer):
        kind, n = _layer_flops(lay)
        if kind is not None:
            out[kind] += int(n)
    return out


def count_flops(layer, training=False):
    """count_flops(layer, training=False) -> int: forward FLOPs per image (x3 when ``training``)."""
    total = sum(flops_by_kind(layer).values())
    return total * (TRAIN_FACTOR if training else 1)


def paper_cost_model(layer):
    """paper_cost_model(layer) -> dict: the eqs. 8-10 operation counts, summed over residual blocks.

    Keys: ``C_r`` (sum of f^2 k^2 n^2 over blocks, eq. 8), ``memory`` (sum of
    h^2 + h i, eq. 9; 0 without a memory) and ``C_rm`` (their sum).  Blocks are
    the residual blocks whose outputs the memory reads (for a plain ResNet: the
    ``ElemwiseSumLayer`` outputs); k is the blocks' filter size.
    """
    from .layers.merge import ElemwiseSumLayer

    layers = get_all_layers(layer)
    memory = [lay for lay in layers if isinstance(lay, DepthRecurrentLayer)]
    blocks = [lay for lay in layers if isinstance(lay, ElemwiseSumLayer)]
    convs = [lay for lay in layers if isinstance(lay, Conv2DLayer)]
    k = int(np.median([lay.filter_size[0] for lay in convs])) if convs else 0
    c_r = 0
    mem = 0
    h = memory[0].num_units if memory else 0
    for blk in blocks:
        _, f, n, _ = blk.output_shape
        c_r += f * f * k * k * n * n
        if memory:
            mem += h * h + h * f * n * n
    return {"C_r": int(c_r), "memory": int(mem), "C_rm": int(c_r + mem)}
