"""Pool2DLayer(incoming, pool_size=2, mode="average") and GlobalPoolLayer(incoming): pooling."""


from .base import Layer

__all__ = ["Pool2DLayer", "MeanPool2x2Layer", "GlobalPoolLayer"]


class Pool2DLayer(Layer):
    """Pool2DLayer(incoming, pool_size=2, mode="average", name=None)

    Non-overlapping p x p pooling of a (N, C, H, W) input (stride = pool size,
    borders that do not fill a window ignored, like Lasagne's
    ``ignore_border=True``):

        y[n, c, i, j] = mean (or max) of x[n, c, p i : p i + p, p j : p j + p]

    The CRMN memory interface applies ``pool_size=2, mode="average"`` to every
    residual-block output before the LSTM (paper section 3.2).  Mean pooling
    of a float input is the :class:`~crmn_legacy.ops.MeanPool` Op (one C pass
    forward and backward); max pooling is written in graph form.
    """

    def __init__(self, incoming, pool_size=2, mode="average", name=None):
        super().__init__(incoming, name=name)
        if len(self.input_shape) != 4:
            raise ValueError(f"{self._describe()}: needs a 4-D input, got shape {self.input_shape}")
        if not isinstance(pool_size, int) or pool_size <= 0:
            raise ValueError(f"{self._describe()}: pool_size must be a positive int, got {pool_size!r}")
        if mode not in ("average", "max"):
            raise ValueError(f"{self._describe()}: mode must be 'average' or 'max', got {mode!r}")
        for s in self.input_shape[2:]:
            if s is not None and s < pool_size:
                raise ValueError(f"{self._describe()}: input {self.input_shape} smaller than pool {pool_size}")
        self.pool_size = pool_size
        self.mode = mode

    def get_output_shape_for(self, input_shape):
        p = self.pool_size
        return tuple(input_shape[:2]) + tuple(None if s is None else s // p for s in input_shape[2:])

    def get_output_for(self, input, deterministic=False, **kwargs):
        p = self.pool_size
        if self.mode == "average" and input.dtype in ("float32", "float64"):
            from ..ops import mean_pool

            return mean_pool(input, p)
        n, c, h, w = input.shape
        ho, wo = h // p, w // p
        h_in, w_in = self.input_shape[2:]
        if h_in is None or w_in is None or h_in % p or w_in % p:
            input = input[:, :, : ho * p, : wo * p]  # drop the border that does not fill a window
        # (when the sizes are known multiples of p no slice is built: PyTensor 3.0.7's
        # IncSubtensor-serialising rewrite breaks the gradient of that slice when a
        # broadcast gradient, e.g. from the global pool, is added to it)
        x = input.reshape((n, c, ho, p, wo, p))
        return x.mean(axis=(3, 5)) if self.mode == "average" else x.max(axis=(3, 5))


def MeanPool2x2Layer(incoming, name=None):
    """MeanPool2x2Layer(incoming, name=None) -> Pool2DLayer(incoming, 2, "average", name)."""
    return Pool2DLayer(incoming, pool_size=2, mode="average", name=name)


class GlobalPoolLayer(Layer):
    """GlobalPoolLayer(incoming, name=None)

    Global average pooling: y[n, c] = mean over (h, w) of x[n, c, h, w]
    (the last ResNet layer before the softmax).
    """

    def __init__(self, incoming, name=None):
        super().__init__(incoming, name=name)
        if len(self.input_shape) < 3:
            raise ValueError(f"{self._describe()}: needs an input of >= 3 dimensions, got {self.input_shape}")

    def get_output_shape_for(self, input_shape):
        return tuple(input_shape[:2])

    def get_output_for(self, input, deterministic=False, **kwargs):
        return input.mean(axis=tuple(range(2, input.ndim)))
