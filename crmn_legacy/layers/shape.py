"""FlattenLayer(incoming, outdim=2): reshape to (N, prod(rest))."""

import numpy as np

from .base import Layer

__all__ = ["FlattenLayer"]


class FlattenLayer(Layer):
    """FlattenLayer(incoming, outdim=2, name=None)

    Keep the first ``outdim - 1`` axes and flatten the rest (C-order): a
    pooled block output (N, C, H, W) becomes the LSTM input x_l of size C H W.
    """

    def __init__(self, incoming, outdim=2, name=None):
        super().__init__(incoming, name=name)
        if not isinstance(outdim, int) or outdim < 1 or outdim > len(self.input_shape):
            raise ValueError(f"{self._describe()}: outdim must be in 1..{len(self.input_shape)}, got {outdim!r}")
        self.outdim = outdim

    def get_output_shape_for(self, input_shape):
        head = tuple(input_shape[: self.outdim - 1])
        rest = input_shape[self.outdim - 1:]
        return head + (None if any(s is None for s in rest) else int(np.prod(rest)),)

    def get_output_for(self, input, deterministic=False, **kwargs):
        return input.flatten(self.outdim)
