"""ShortcutLayer(incoming, num_filters, stride=1): He et al.'s parameter-free option-A shortcut."""

import pytensor.tensor as pt

from .base import Layer

__all__ = ["ShortcutLayer"]


class ShortcutLayer(Layer):
    """ShortcutLayer(incoming, num_filters, stride=1, name=None)

    Option A of He et al. (2015), used for CIFAR: the identity when shapes
    agree; otherwise subsample by ``stride`` and append zero feature maps

        s(x)[n, c, i, j] = x[n, c, stride i, stride j]   for c < C_in,
                           0                             for C_in <= c < num_filters.

    No parameters (this is why Table 1's counts match with option A).
    """

    def __init__(self, incoming, num_filters, stride=1, name=None):
        super().__init__(incoming, name=name)
        if len(self.input_shape) != 4:
            raise ValueError(f"{self._describe()}: needs a 4-D input, got {self.input_shape}")
        c_in = self.input_shape[1]
        if not isinstance(num_filters, int) or c_in is None or num_filters < c_in:
            raise ValueError(
                f"{self._describe()}: option-A shortcut can only add zero maps: {c_in} -> {num_filters} impossible"
            )
        if not isinstance(stride, int) or stride < 1:
            raise ValueError(f"{self._describe()}: stride must be a positive int, got {stride!r}")
        self.num_filters = num_filters
        self.stride = stride

    def get_output_shape_for(self, input_shape):
        s = self.stride
        n, _, h, w = input_shape
        return (n, self.num_filters, None if h is None else -(-h // s), None if w is None else -(-w // s))

    def get_output_for(self, input, deterministic=False, **kwargs):
        out = input
        if self.stride > 1:
            out = out[:, :, :: self.stride, :: self.stride]
        extra = self.num_filters - self.input_shape[1]
        if extra:
            zeros = pt.zeros((out.shape[0], extra, out.shape[2], out.shape[3]), dtype=out.dtype)
            out = pt.concatenate([out, zeros], axis=1)
        return out
