"""register() -- JAX implementations of the per-channel bias Ops (``mode="JAX"``, CPU or GPU).

:class:`~crmn_legacy.ops.channel.AddChannelBias` is a broadcast add and
:class:`~crmn_legacy.ops.channel.ChannelSum` a sum over every axis but 1.
Registered with ``pytensor.link.jax.dispatch.jax_funcify`` when
:mod:`crmn_legacy.ops` is imported and JAX is installed.
"""

import jax.numpy as jnp
from pytensor.link.jax.dispatch import jax_funcify

from ..channel import AddChannelBias, ChannelSum

__all__ = ["register"]


def _funcify_add(op, **kwargs):
    def add_channel_bias(x, b):
        return x + b.reshape((1, -1) + (1,) * (x.ndim - 2))

    return add_channel_bias


def _funcify_sum(op, **kwargs):
    def channel_sum(x):
        return jnp.sum(x, axis=(0,) + tuple(range(2, x.ndim))).astype(x.dtype)

    return channel_sum


def register():
    """register() -> None: add the two Ops to ``jax_funcify`` (idempotent)."""
    jax_funcify.register(AddChannelBias)(_funcify_add)
    jax_funcify.register(ChannelSum)(_funcify_sum)


register()
