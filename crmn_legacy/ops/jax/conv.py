"""register() -- JAX implementations of the convolution Ops (``mode="JAX"``, CPU or GPU).

:class:`~crmn_legacy.ops.conv.Conv2d` becomes ``jax.lax.conv_general_dilated``
with dimension numbers ``("NCHW", "OIHW", "NCHW")`` (cross-correlation, like
ours); the two gradient Ops become ``jax.vjp`` of that same call, which XLA
turns into the transposed convolutions.  Registered with
``pytensor.link.jax.dispatch.jax_funcify`` when :mod:`crmn_legacy.ops` is
imported and JAX is installed (``pip install -e .[jax]``); importing this
module without JAX raises ``ImportError``.

The gradient Ops' ``kshape`` / ``ishape`` inputs must be concrete when the JAX
function is traced: constants, or shapes of traced arrays (the rewrite
``crmn_conv_shape_as_tuple`` of :mod:`crmn_legacy.rewrites.jax_shapes` turns
the ``MakeVector`` of ``Shape_i`` that :meth:`Conv2d.pullback` builds into a
``JAXShapeTuple``, a tuple of Python ints inside ``jax.jit``, as PyTensor does
for random variables' ``size``).  That rewrite runs in ``crmn_legacy.runtime.compile.get_mode("JAX")``
(which :func:`crmn_legacy.runtime.compile.function` uses for ``mode="JAX"``), not in
PyTensor's own ``"JAX"`` mode.
"""

import jax
import numpy as np
import jax.numpy as jnp
from pytensor.graph.basic import Constant
from pytensor.link.jax.dispatch import jax_funcify

from ..conv import Conv2d, Conv2dGradInputs, Conv2dGradWeights, _pad_for

__all__ = ["register", "jax_conv2d"]

_DIMENSION_NUMBERS = ("NCHW", "OIHW", "NCHW")


def jax_conv2d(x, w, stride, border_mode):
    """jax_conv2d(x, w, stride, border_mode) -> jax array: our Conv2d in JAX."""
    ph, pw = _pad_for(border_mode, w.shape[2], w.shape[3])
    return jax.lax.conv_general_dilated(
        x, w, window_strides=stride, padding=((ph, ph), (pw, pw)), dimension_numbers=_DIMENSION_NUMBERS
    )


def _static_pair(node):
    """The shape input of a gradient node as Python ints if it is a constant, else None."""
    if node is not None and isinstance(node.inputs[2], Constant):
        return tuple(int(v) for v in np.asarray(node.inputs[2].data))
    return None


def _concrete_pair(value, what, op, static=None):
    if static is not None:
        return static
    try:
        return tuple(int(v) for v in value)
    except (TypeError, jax.errors.ConcretizationTypeError) as exc:
        raise NotImplementedError(
            f"{op}: JAX needs a concrete {what} (a constant or a shape of a traced array); got {value!r}"
        ) from exc


def _funcify_conv2d(op, **kwargs):
    stride, border_mode = op.stride, op.border_mode

    def conv2d(x, w):
        return jax_conv2d(x, w, stride, border_mode)

    return conv2d


def _funcify_grad(op, node, what, wrt_weights):
    """``jax.vjp`` of :func:`jax_conv2d` with respect to its filters (``kshape``) or its input (``ishape``)."""
    stride, border_mode = op.stride, op.border_mode
    static = _static_pair(node)

    def conv2d_grad(other, gy, pair):
        h, w = _concrete_pair(pair, what, op, static)
        if wrt_weights:  # other = x; the filters are (F, C, kh, kw)
            zeros = jnp.zeros((gy.shape[1], other.shape[1], h, w), dtype=other.dtype)
            forward = lambda filters: jax_conv2d(other, filters, stride, border_mode)  # noqa: E731
        else:  # other = the filters; the input is (N, C, H, W)
            zeros = jnp.zeros((gy.shape[0], other.shape[1], h, w), dtype=other.dtype)
            forward = lambda x: jax_conv2d(x, other, stride, border_mode)  # noqa: E731
        return jax.vjp(forward, zeros)[1](gy)[0]

    return conv2d_grad


def _funcify_grad_weights(op, node=None, **kwargs):
    return _funcify_grad(op, node, "kshape", wrt_weights=True)


def _funcify_grad_inputs(op, node=None, **kwargs):
    return _funcify_grad(op, node, "ishape", wrt_weights=False)


def register():
    """register() -> None: add the three Ops to ``jax_funcify`` (idempotent; our own Op classes only)."""
    jax_funcify.register(Conv2d)(_funcify_conv2d)
    jax_funcify.register(Conv2dGradWeights)(_funcify_grad_weights)
    jax_funcify.register(Conv2dGradInputs)(_funcify_grad_inputs)


register()
