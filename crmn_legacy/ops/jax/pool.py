"""register() -- JAX implementations of the mean-pooling Ops (``mode="JAX"``, CPU or GPU).

:class:`~crmn_legacy.ops.pool.MeanPool` is a reshape and a mean;
:class:`~crmn_legacy.ops.pool.MeanPoolGrad` repeats each value over its
window, scaled by 1/p^2, and zero-pads the ignored border.  Registered with
``pytensor.link.jax.dispatch.jax_funcify`` when :mod:`crmn_legacy.ops` is
imported and JAX is installed.
"""

import jax.numpy as jnp
import numpy as np
from pytensor.graph.basic import Constant
from pytensor.link.jax.dispatch import jax_funcify

from ..pool import MeanPool, MeanPoolGrad

__all__ = ["register"]


def _funcify_pool(op, **kwargs):
    p = op.p

    def mean_pool(x):
        n, c, h, w = x.shape
        ho, wo = h // p, w // p
        v = x[:, :, : ho * p, : wo * p].reshape(n, c, ho, p, wo, p)
        return v.mean(axis=(3, 5)).astype(x.dtype)

    return mean_pool


def _funcify_pool_grad(op, node=None, **kwargs):
    p = op.p
    # JAX needs static shapes: (H, W) from the node's output type when known, else
    # from ``ishape`` (a constant, or a JAXShapeTuple of traced shapes: see
    # crmn_legacy.rewrites.jax_shapes.SHAPE_INPUTS, whose rewrite covers MeanPoolGrad)
    static_hw = tuple(node.outputs[0].type.shape[2:]) if node is not None else (None, None)
    if None in static_hw and node is not None and isinstance(node.inputs[1], Constant):
        static_hw = tuple(int(v) for v in np.asarray(node.inputs[1].data))

    def mean_pool_grad(gy, ishape):
        h, w = (int(s) for s in (static_hw if None not in static_hw else ishape))
        n, c, ho, wo = gy.shape
        up = jnp.repeat(jnp.repeat(gy, p, axis=2), p, axis=3) / p**2
        return jnp.pad(up, ((0, 0), (0, 0), (0, h - ho * p), (0, w - wo * p))).astype(gy.dtype)

    return mean_pool_grad


def register():
    """register() -> None: add the two Ops to ``jax_funcify`` (idempotent)."""
    jax_funcify.register(MeanPool)(_funcify_pool)
    jax_funcify.register(MeanPoolGrad)(_funcify_pool_grad)


register()
