"""register() -- JAX implementation of :class:`~crmn_legacy.ops.matmul.Matmul` (``mode="JAX"``)."""

import jax.numpy as jnp
from pytensor.link.jax.dispatch import jax_funcify

from ..matmul import Matmul

__all__ = ["register"]


def _funcify_matmul(op, **kwargs):
    ta, tb = op.trans_a, op.trans_b

    def matmul(a, b):
        return jnp.matmul(a.T if ta else a, b.T if tb else b)

    return matmul


def register():
    """register() -> None: add Matmul to ``jax_funcify`` (idempotent)."""
    jax_funcify.register(Matmul)(_funcify_matmul)


register()
