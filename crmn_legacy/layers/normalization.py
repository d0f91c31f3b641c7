"""BatchNormLayer(incoming, axes="auto", epsilon=1e-4, alpha=0.1, ...): batch normalisation.

Ioffe & Szegedy (2015), as in He et al.'s CIFAR ResNets and Lasagne's
``BatchNormLayer``.
"""

import pytensor.tensor as pt

from .. import init
from .base import Layer

__all__ = ["BatchNormLayer", "DEFAULT_ALPHA", "DEFAULT_EPSILON"]

#: Averaging factor of the running statistics (Lasagne's default).
DEFAULT_ALPHA = 0.1
#: Added to the variance before the square root (Lasagne's default).
DEFAULT_EPSILON = 1e-4


class BatchNormLayer(Layer):
    """BatchNormLayer(incoming, axes="auto", epsilon=1e-4, alpha=0.1, beta=init.Constant(0.0), gamma=init.Constant(1.0), mean=init.Constant(0.0), inv_std=init.Constant(1.0), name=None)

    y = gamma * (x - mu) * inv_std + beta,   inv_std = 1 / sqrt(sigma^2 + epsilon)

    Training (``deterministic=False``): mu, sigma^2 are the statistics of the
    current mini-batch over ``axes``; the running averages are updated by

        mean    <- (1 - alpha) * mean    + alpha * mu_B
        inv_std <- (1 - alpha) * inv_std + alpha * 1 / sqrt(sigma_B^2 + epsilon)

    and these updates are *returned* (``get_output(..., return_updates=True)``),
    never attached to the variables.  Inference (``deterministic=True``): the
    running ``mean`` and ``inv_std`` are used.

    Parameters
    ----------
    axes : "auto" or tuple of int
        Axes to normalise over; "auto" = all but axis 1 (per feature map).
    epsilon : float
    alpha : float in (0, 1]
        Averaging factor of the running statistics.
    beta, gamma : initialiser or None
        Learned shift and scale (counted as parameters, Table 1); ``None``
        leaves either out.
    mean, inv_std : initialiser
        Running statistics: shared variables tagged ``statistic`` (not
        trainable, not regularizable), left out of ``get_all_params`` and
        ``count_params`` by default, included in ``get_all_param_values``.

    Extra ``get_output_for`` keywords (Lasagne's): ``batch_norm_use_averages``
    and ``batch_norm_update_averages`` (default: ``deterministic`` and
    ``not deterministic``).  The updates go into the ``updates`` dict that
    :func:`~crmn_legacy.layers.get_output` passes; a direct call without one
    computes the output and drops them.
    """

    def __init__(self, incoming, axes="auto", epsilon=DEFAULT_EPSILON, alpha=DEFAULT_ALPHA,
                 beta=init.Constant(0.0), gamma=init.Constant(1.0),
                 mean=init.Constant(0.0), inv_std=init.Constant(1.0), name=None):
        super().__init__(incoming, name=name)
        ndim = len(self.input_shape)
        if axes == "auto":
            axes = (0,) + tuple(range(2, ndim))
        elif isinstance(axes, int):
            axes = (axes,)
        axes = tuple(sorted(a % ndim for a in axes))
        if not axes or len(set(axes)) != len(axes):
            raise ValueError(f"{self._describe()}: bad axes {axes}")
        self.axes = axes
        if not 0.0 < float(alpha) <= 1.0:
            raise ValueError(f"{self._describe()}: alpha must be in (0, 1], got {alpha}")
        if float(epsilon) <= 0.0:
            raise ValueError(f"{self._describe()}: epsilon must be > 0, got {epsilon}")
        self.epsilon = float(epsilon)
        self.alpha = float(alpha)
        shape = tuple(s for i, s in enumerate(self.input_shape) if i not in axes)
        if any(s is None for s in shape):
            raise ValueError(f"{self._describe()}: sizes of the non-normalised axes must be known, got {shape}")
        self.beta = None if beta is None else self.add_param(beta, shape, "beta", regularizable=False)
        self.gamma = None if gamma is None else self.add_param(gamma, shape, "gamma", regularizable=False)
        self.mean = self.add_param(mean, shape, "mean", trainable=False, regularizable=False, statistic=True)
        self.inv_std = self.add_param(inv_std, shape, "inv_std", trainable=False, regularizable=False,
                                      statistic=True)

    def get_output_for(self, input, deterministic=False, updates=None, batch_norm_use_averages=None,
                       batch_norm_update_averages=None, **kwargs):
        use_averages = deterministic if batch_norm_use_averages is None else batch_norm_use_averages
        update_averages = (not deterministic) if batch_norm_update_averages is None else batch_norm_update_averages
        if not use_averages or update_averages:
            batch_mean = input.mean(self.axes)
            batch_inv_std = pt.reciprocal(pt.sqrt(input.var(self.axes) + self.epsilon))
        if use_averages:
            mean, inv_std = self.mean, self.inv_std
        else:
            mean, inv_std = batch_mean, batch_inv_std
        if update_averages and updates is not None:
            a = pt.constant(self.alpha, dtype=self.mean.dtype)
            updates[self.mean] = (1 - a) * self.mean + a * batch_mean.astype(self.mean.dtype)
            updates[self.inv_std] = (1 - a) * self.inv_std + a * batch_inv_std.astype(self.inv_std.dtype)
        # broadcast the per-feature vectors back over the normalised axes
        pattern = []
        k = 0
        for i in range(input.ndim):
            if i in self.axes:
                pattern.append("x")
            else:
                pattern.append(k)
                k += 1
        out = (input - mean.dimshuffle(pattern)) * inv_std.dimshuffle(pattern)
        if self.gamma is not None:
            out = out * self.gamma.dimshuffle(pattern)
        if self.beta is not None:
            out = out + self.beta.dimshuffle(pattern)
        return out
