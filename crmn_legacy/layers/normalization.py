"""BatchNormLayer(incoming, axes="auto", epsilon=1e-4, alpha=0.1, ...): batch normalisation.

Ioffe & Szegedy (2015), as in He et al.'s CIFAR ResNets and Lasagne's
``BatchNormLayer``.
"""

import pytensor.tensor as pt

from .. import init, nonlinearities
from .base import Layer

__all__ = ["BatchNormLayer", "DEFAULT_ALPHA", "DEFAULT_EPSILON", "DEFAULT_IMPL", "IMPLS"]

#: Averaging factor of the running statistics (Lasagne's default).
DEFAULT_ALPHA = 0.1
#: Added to the variance before the square root (Lasagne's default).
DEFAULT_EPSILON = 1e-4
#: Implementations of the training-mode (batch statistics) output: ``"fused"``
#: (:func:`crmn_legacy.ops.batch_norm_train`: one C Op forward, one backward)
#: or ``"graph"`` (the readable elementwise/reduction graph below).  Same maths;
#: ``tests/layers/test_normalization_fused.py`` checks they agree.
IMPLS = ("fused", "graph")
#: Default implementation (``impl=None``); the environment variable
#: ``CRMN_BN_IMPL`` overrides it.
DEFAULT_IMPL = "fused"


def _resolve_impl(impl):
    import os

    impl = impl or os.environ.get("CRMN_BN_IMPL") or DEFAULT_IMPL
    if impl not in IMPLS:
        raise ValueError(f"BatchNormLayer: impl must be one of {IMPLS}, got {impl!r}")
    return impl


class BatchNormLayer(Layer):
    """BatchNormLayer(incoming, axes="auto", epsilon=1e-4, alpha=0.1, beta=init.Constant(0.0), gamma=init.Constant(1.0), mean=init.Constant(0.0), inv_std=init.Constant(1.0), name=None, impl=None, nonlinearity=None)

    y = phi(gamma * (x - mu) * inv_std + beta),   inv_std = 1 / sqrt(sigma^2 + epsilon)

    with phi the identity unless ``nonlinearity`` is given.

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
    impl : None, "fused" or "graph"
        How the training output (batch statistics, normalised over all axes
        but 1) is built: ``"fused"`` uses the C Ops of
        :mod:`crmn_legacy.ops.batchnorm` (2 nodes instead of ~30 with the
        gradient); ``"graph"`` the elementwise graph.  Identical maths.
        ``None``: ``$CRMN_BN_IMPL`` or :data:`DEFAULT_IMPL`.  Inference
        (running averages) always uses the graph form.
    nonlinearity : callable, str or None
        phi, applied after the normalisation: this layer is then
        ``NonlinearityLayer(BatchNormLayer(...), phi)`` in one.  With
        ``impl="fused"`` the rectifier is folded into the fused Ops
        (``relu=True``: the forward writes ``max(y, 0)``, the gradient masks
        by it), which saves two elementwise passes per layer; other
        nonlinearities, and the graph form, apply phi in graph form.

    Extra ``get_output_for`` keywords (Lasagne's): ``batch_norm_use_averages``
    and ``batch_norm_update_averages`` (default: ``deterministic`` and
    ``not deterministic``).  The updates go into the ``updates`` dict that
    :func:`~crmn_legacy.layers.get_output` passes; a direct call without one
    computes the output and drops them.
    """

    def __init__(self, incoming, axes="auto", epsilon=DEFAULT_EPSILON, alpha=DEFAULT_ALPHA,
                 beta=init.Constant(0.0), gamma=init.Constant(1.0),
                 mean=init.Constant(0.0), inv_std=init.Constant(1.0), name=None, impl=None, nonlinearity=None):
        super().__init__(incoming, name=name)
        self.impl = _resolve_impl(impl)
        self.nonlinearity = nonlinearities.get(nonlinearity)
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
        out, fused_relu = self._normalise(input, deterministic, updates, batch_norm_use_averages,
                                          batch_norm_update_averages)
        return out if fused_relu else self.nonlinearity(out)

    def _normalise(self, input, deterministic, updates, batch_norm_use_averages, batch_norm_update_averages):
        """(normalised output, whether the rectifier is already applied by the fused Op)."""
        use_averages = deterministic if batch_norm_use_averages is None else batch_norm_use_averages
        update_averages = (not deterministic) if batch_norm_update_averages is None else batch_norm_update_averages
        fused = None
        if self.impl == "fused" and input.dtype in ("float32", "float64") and \
                (not use_averages or update_averages) and \
                self.axes == (0,) + tuple(range(2, input.ndim)):
            fused = self._fused(input)
            batch_mean, batch_inv_std = fused[1], fused[2]
        elif not use_averages or update_averages:
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
        if fused is not None and not use_averages:
            return fused[0], self._fuse_relu
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
        return out, False

    @property
    def _fuse_relu(self):
        return self.nonlinearity is nonlinearities.rectify

    def _fused(self, input):
        """(y, batch mean, batch inv_std) from the fused Op; absent gamma/beta are 1/0 constants."""
        from ..ops.batchnorm import batch_norm_train

        c = self.mean.get_value(borrow=True).shape[0]
        gamma = self.gamma if self.gamma is not None else pt.ones((c,), dtype=input.dtype)
        beta = self.beta if self.beta is not None else pt.zeros((c,), dtype=input.dtype)
        return batch_norm_train(input, gamma, beta, self.epsilon, relu=self._fuse_relu)
