"""register() -- JAX implementations of the fused batch-norm Ops (``mode="JAX"``, CPU or GPU).

:class:`~crmn_legacy.ops.batchnorm.BatchNormTrain` and
:class:`~crmn_legacy.ops.batchnorm.BatchNormTrainGrad` become the same
formulas in ``jax.numpy`` (XLA fuses them), ``relu`` included.  Registered with
``pytensor.link.jax.dispatch.jax_funcify`` when :mod:`crmn_legacy.ops` is
imported and JAX is installed.
"""

import jax.numpy as jnp
from pytensor.link.jax.dispatch import jax_funcify

from ..batchnorm import BatchNormTrain, BatchNormTrainGrad

__all__ = ["register"]


def _shape(ndim):
    return (1, -1) + (1,) * (ndim - 2)


def _axes(ndim):
    return (0,) + tuple(range(2, ndim))


def _funcify_train(op, **kwargs):
    eps, relu = op.epsilon, op.relu

    def batch_norm_train(x, gamma, beta):
        axes, shape = _axes(x.ndim), _shape(x.ndim)
        mean = jnp.mean(x, axis=axes)
        xc = x - mean.reshape(shape)
        inv = 1.0 / jnp.sqrt(jnp.mean(xc * xc, axis=axes) + eps)
        inv = inv.astype(x.dtype)
        y = xc * inv.reshape(shape) * gamma.reshape(shape) + beta.reshape(shape)
        if relu:
            y = jnp.maximum(y, 0)
        return y, mean, inv

    return batch_norm_train


def _funcify_grad(op, **kwargs):
    def batch_norm_train_grad(x, gamma, mean, inv, dy, y=None):
        axes, shape = _axes(x.ndim), _shape(x.ndim)
        if y is not None:  # relu=True: mask by the rectified forward output
            dy = jnp.where(y > 0, dy, 0).astype(dy.dtype)
        m = x.size // x.shape[1]
        xhat = (x - mean.reshape(shape)) * inv.reshape(shape)
        dbeta = jnp.sum(dy, axis=axes)
        dgamma = jnp.sum(dy * xhat, axis=axes)
        dx = (gamma * inv).reshape(shape) * (dy - (dbeta / m).reshape(shape) - xhat * (dgamma / m).reshape(shape))
        return dx.astype(x.dtype), dgamma, dbeta

    return batch_norm_train_grad


def register():
    """register() -> None: add the two Ops to ``jax_funcify`` (idempotent)."""
    jax_funcify.register(BatchNormTrain)(_funcify_train)
    jax_funcify.register(BatchNormTrainGrad)(_funcify_grad)


register()
