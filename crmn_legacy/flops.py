"""Operation counts of a network, from its own layer shapes: what a step executes, and the paper's cost model.

Convention
----------
FLOPs are 2 x multiply-adds of the products a step *executes*, per image;
elementwise work (BatchNorm, ReLU, the LSTM's gate nonlinearities and
peepholes, pooling, the softmax, the SGD update) is not counted.

Forward pass, per layer:

* a convolution (F, C, kh, kw) with output (F, H', W'):  2 C kh kw F H' W';
* a dense layer D -> U:                                   2 D U;
* a depth-recurrent memory (LSTM: G = 4 gates; GRU: G = 3) of H units over L
  steps: the input projections, sum over the steps of 2 G H d_l, where d_l is
  the size step l really has (the unrolled, weight-sliced form, our default,
  multiplies x_l by the first d_l rows of W_x: see
  :mod:`crmn_legacy.layers.recurrent`), plus the recurrent projections
  2 L G H^2.  With ``padded=True``, or for a memory that pads its inputs
  (``slice_weights=False`` or the ``scan`` form), every step counts at the
  zero-padded size D instead: 2 L G H D.

A training step (``training=True``) adds, for each of these products y = x W,
the weight gradient x^T dy (same count as the forward product) when W is
trained, and the input gradient dy W^T (same count; a strided convolution's
input gradient is computed without multiplying the inserted zeros) only when
x depends on a trained parameter: the first convolution's input gradient
(the images') is never computed, while every other layer's is.  So a
training step is 3 x the forward count minus conv1's forward count, not
3 x the forward count.  :mod:`crmn_legacy.bench` divides this executed count
by the measured time.

The paper's cost model
----------------------
``paper_cost_model(layer)`` evaluates the paper's eqs. 8-10 instead: each
residual block costs C_r = f^2 k^2 n^2 (eq. 8: f maps of n x n, k x k filters)
and, with the memory, C_rm = C_r + h^2 + h i (eq. 9) with i = f n^2 the
block's output size; constants dropped, as the paper's O(.) does.  It is an
asymptotic model (no factor 2, no gate count, the un-pooled block output as
i), a different figure from the executed FLOPs, and is reported beside them,
labelled as such.
"""

from collections import OrderedDict

import numpy as np

from .layers import get_all_layers
from .layers.conv import Conv2DLayer
from .layers.dense import DenseLayer
from .layers.recurrent import DepthRecurrentLayer

__all__ = ["count_flops", "flops_by_kind", "paper_cost_model", "KINDS"]

#: Kinds of :func:`flops_by_kind`.
KINDS = ("conv", "dense", "memory")


def _trained(param, layer):
    return "trainable" in layer.params.get(param, ())


def _depends_on_training(layers):
    """{id(layer): True when its output depends on a trained parameter} (``layers`` in topological order)."""
    out = {}
    for lay in layers:
        incomings = getattr(lay, "input_layers", None) or [getattr(lay, "input_layer", None)]
        upstream = any(out.get(id(inc), False) for inc in incomings if inc is not None)
        out[id(lay)] = upstream or any("trainable" in tags for tags in lay.params.values())
    return out


def _memory_sizes(layer, padded):
    """The input size each step of a memory is multiplied at (d_l executed, or D)."""
    sliced = layer.unroll_scan and layer.slice_weights and not padded
    return list(layer.step_sizes) if sliced else [layer.input_size] * len(layer.step_sizes)


def _layer_flops(layer, training, padded, input_needs_grad):
    """(kind, FLOPs per image) of one layer; kind None for layers without products."""
    passes_x = 1 + (training and input_needs_grad)  # forward (+ input gradient)
    if isinstance(layer, Conv2DLayer):
        _, c, kh, kw = layer.W.get_value(borrow=True).shape
        _, f, h, w = layer.output_shape
        fwd = 2 * c * kh * kw * f * h * w
        return "conv", fwd * (passes_x + (training and _trained(layer.W, layer)))
    if isinstance(layer, DenseLayer):
        fwd = 2 * layer.num_inputs * layer.num_units
        return "dense", fwd * (passes_x + (training and _trained(layer.W, layer)))
    if isinstance(layer, DepthRecurrentLayer):
        g, h = len(layer._gates), layer.num_units
        w_x = getattr(layer, f"W_x{layer._gates[0]}")
        w_h = getattr(layer, f"W_h{layer._gates[0]}")
        inputs = 2 * g * h * sum(_memory_sizes(layer, padded))
        inputs *= passes_x + (training and _trained(w_x, layer))
        steps = len(layer.step_sizes)
        one = 2 * g * h * h  # h_{l-1} W_h of one step
        recurrent = steps * one
        if training:
            recurrent += steps * one if _trained(w_h, layer) else 0
            # dh_{l-1} = da_l W_h^T: every step but the first, whose h_0 is trained only with learn_init
            recurrent += (steps - 1 + bool(layer.learn_init)) * one
        return "memory", inputs + recurrent
    return None, 0


def flops_by_kind(layer, training=False, padded=False):
    """flops_by_kind(layer, training=False, padded=False) -> OrderedDict kind -> FLOPs per image

    Kinds: ``conv``, ``dense``, ``memory``.  ``training``: a whole training
    step (forward, the input gradients that are computed, the weight
    gradients); ``padded``: LSTM/GRU input projections at the zero-padded
    size D (see the module docstring).
    """
    layers = get_all_layers(layer)
    trained_upstream = _depends_on_training(layers)
    out = OrderedDict((k, 0) for k in KINDS)
    for lay in layers:
        incomings = getattr(lay, "input_layers", None) or [getattr(lay, "input_layer", None)]
        needs = any(trained_upstream.get(id(inc), False) for inc in incomings if inc is not None)
        kind, n = _layer_flops(lay, training, padded, needs)
        if kind is not None:
            out[kind] += int(n)
    return out


def count_flops(layer, training=False, padded=False):
    """count_flops(layer, training=False, padded=False) -> int: executed FLOPs per image (see :func:`flops_by_kind`)."""
    return int(sum(flops_by_kind(layer, training, padded).values()))


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
