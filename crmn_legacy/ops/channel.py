"""add_channel_bias(x, b) -- a per-channel bias and its gradient as Ops.

A convolution's bias ``y = conv(x) + b_c`` written as a broadcast ``Add``
differentiates to ``Sum{axes=(0, 2, 3)}`` of the output gradient, which
PyTensor runs as a single-threaded strided reduction.  These two Ops do the
same arithmetic in one OpenMP pass each:

* :class:`AddChannelBias` ``(x, b) -> y``: :math:`y_{n,c,\\dots} = x_{n,c,\\dots} + b_c`;
* :class:`ChannelSum` ``(x) -> g``: :math:`g_c = \\sum_{n,\\dots} x_{n,c,\\dots}`
  (double accumulators), the gradient of :class:`AddChannelBias` w.r.t. ``b``.

The gradient of :class:`ChannelSum` is the broadcast of its output gradient,
``AddChannelBias(zeros_like(x), g)``, so derivatives of any order exist.

In place: graphs are built with ``AddChannelBias(inplace=False)``; the
compile-time rewrite ``crmn_inplace_channel_bias``
(:mod:`crmn_legacy.rewrites.inplace_bias`; tags ``crmn``,
``inplace``; PyTensor's destroy handler accepts it only where ``x`` is not
needed elsewhere, as for a convolution's fresh output) switches to
``inplace=True``, which adds the bias into ``x``'s buffer instead of writing a
new tensor: one memory pass instead of a read, a write and an allocation.  C
code in ``c/src/channel_*.{h,c}``, NumPy ``perform``, JAX dispatch in
:mod:`crmn_legacy.ops.jax.channel`.
"""

import numpy as np
import pytensor.tensor as pt
from pytensor.graph.basic import Apply
from pytensor.link.c.op import COp
from pytensor.link.c.params_type import ParamsType
from pytensor.scalar import int64

from .c.templates import OpenMPMixin, c_call
from .batchnorm import _as_vec, _as_x  # the same (N, C, ...) input and per-channel vector checks
from .shape_rule import shape_rule

__all__ = ["add_channel_bias", "AddChannelBias", "ChannelSum"]


def _bshape(ndim):
    return (1, -1) + (1,) * (ndim - 2)


class _ChannelC(OpenMPMixin, COp):
    __props__ = ()
    _c_sources = ("channel_common.h", "channel_template.c")


class AddChannelBias(_ChannelC):
    """AddChannelBias(inplace=False)(x, b) -> y = x + b broadcast over every axis but 1 (x is (N, C, ...), b is (C,)).

    ``inplace=True`` overwrites ``x`` (``destroy_map``); only the compile-time
    rewrite should make that choice (module docstring).
    """

    __props__ = ("inplace",)
    params_type = ParamsType(inplace=int64)

    def __init__(self, inplace=False):
        self.inplace = bool(inplace)
        if self.inplace:
            self.destroy_map = {0: [0]}

    def __str__(self):
        return "AddChannelBias{inplace}" if self.inplace else "AddChannelBias"

    def make_node(self, x, b):
        x = _as_x(x, "AddChannelBias")
        b = _as_vec(b, x, "bias", "AddChannelBias")
        return Apply(self, [x, b], [x.type()])

    def perform(self, node, inputs, outputs):
        x, b = inputs
        if b.shape[0] != x.shape[1]:
            raise ValueError(f"AddChannelBias: bias has {b.shape[0]} values but the input has {x.shape[1]} channels")
        if self.inplace and x.flags.writeable:
            x += b.reshape(_bshape(x.ndim))
            outputs[0][0] = x
        else:
            outputs[0][0] = (x + b.reshape(_bshape(x.ndim))).astype(x.dtype)

    @shape_rule
    def infer_shape(self, node, shapes):
        return [shapes[0]]

    def c_code(self, node, name, inputs, outputs, sub):
        return c_call("crmn_add_channel_bias", node, [*inputs, f"(int){sub['params']}->inplace", f"&{outputs[0]}"], sub)

    def pullback(self, inputs, outputs, output_grads):
        (gy,) = output_grads
        return [gy, ChannelSum()(gy)]


class ChannelSum(_ChannelC):
    """ChannelSum()(x) -> g, g[c] = sum of x[:, c, ...] (x is (N, C, ...))."""

    def make_node(self, x):
        x = _as_x(x, "ChannelSum")
        return Apply(self, [x], [pt.tensor(dtype=x.dtype, shape=(x.type.shape[1],))])

    def perform(self, node, inputs, outputs):
        (x,) = inputs
        axes = (0,) + tuple(range(2, x.ndim))
        outputs[0][0] = x.sum(axis=axes, dtype=np.float64).astype(x.dtype)

    @shape_rule
    def infer_shape(self, node, shapes):
        return [(shapes[0][1],)]

    def c_code(self, node, name, inputs, outputs, sub):
        return c_call("crmn_channel_sum", node, [inputs[0], f"&{outputs[0]}"], sub)

    def pullback(self, inputs, outputs, output_grads):
        (x,) = inputs
        return [AddChannelBias()(pt.zeros_like(x), output_grads[0])]


def add_channel_bias(x, b):
    """add_channel_bias(x, b) -> TensorVariable

    ``x + b`` with ``b`` (C,) broadcast over every axis of ``x`` (N, C, ...)
    but the channel axis 1, as one Op whose bias gradient is
    :class:`ChannelSum` (module docstring).

    Raises
    ------
    TypeError, ValueError
        At graph build time for a non-float or < 2-D ``x``, a non-vector
        ``b`` or (when known) a channel-count mismatch.
    """
    return AddChannelBias()(x, b)
