"""register() -- JAX implementations of the scalar :class:`~crmn_legacy.ops.relu.Relu` and its gradient (``mode="JAX"``).

``jnp.maximum(x, 0)`` and, for its gradient :class:`~crmn_legacy.ops.relu.ReluGrad`,
``jnp.where(z > 0, g, 0)``.  Registered with
``jax_funcify`` when :mod:`crmn_legacy.ops` is imported and JAX is installed.
"""

import jax.numpy as jnp
from pytensor.link.jax.dispatch import jax_funcify

from ..relu import Relu, ReluGrad

__all__ = ["register"]


def _funcify_relu(op, **kwargs):
    def relu(x):
        return jnp.maximum(x, jnp.zeros((), dtype=x.dtype))

    return relu


def _funcify_relu_grad(op, **kwargs):
    def relu_grad(z, g):
        return jnp.where(z > 0, g, jnp.zeros((), dtype=g.dtype))

    return relu_grad


def register():
    """register() -> None: add the scalar Relu and ReluGrad to ``jax_funcify`` (idempotent)."""
    jax_funcify.register(Relu)(_funcify_relu)
    jax_funcify.register(ReluGrad)(_funcify_relu_grad)


register()
