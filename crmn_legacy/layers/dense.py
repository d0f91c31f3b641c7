"""DenseLayer(incoming, num_units, ...) and NonlinearityLayer(incoming, nonlinearity)."""

import numpy as np

from .. import init, nonlinearities
from .base import Layer

__all__ = ["DenseLayer", "NonlinearityLayer"]


class DenseLayer(Layer):
    """DenseLayer(incoming, num_units, W=init.HeNormal(gain=1.0), b=init.Constant(0.0), nonlinearity=nonlinearities.rectify, name=None)

    y = phi(x W + b), x (N, D) (inputs of more dimensions are flattened), W
    (D, num_units), b (num_units,).  The CRMN's output layer is
    ``DenseLayer([GAP(x_L), h_L], num_classes, nonlinearity=softmax)``.
    """

    def __init__(self, incoming, num_units, W=init.HeNormal(gain=1.0), b=init.Constant(0.0),
                 nonlinearity=nonlinearities.rectify, name=None):
        super().__init__(incoming, name=name)
        if not isinstance(num_units, int) or num_units <= 0:
            raise ValueError(f"{self._describe()}: num_units must be a positive int, got {num_units!r}")
        rest = self.input_shape[1:]
        if any(s is None for s in rest):
            raise ValueError(f"{self._describe()}: input feature sizes must be known, got {self.input_shape}")
        self.num_inputs = int(np.prod(rest))
        self.num_units = num_units
        self.nonlinearity = nonlinearities.get(nonlinearity)
        self.W = self.add_param(W, (self.num_inputs, num_units), name="W")
        self.b = None if b is None else self.add_param(b, (num_units,), name="b", regularizable=False)

    def get_output_shape_for(self, input_shape):
        return (input_shape[0], self.num_units)

    def get_output_for(self, input, deterministic=False, **kwargs):
        if input.ndim > 2:
            input = input.flatten(2)
        out = input @ self.W
        if self.b is not None:
            out = out + self.b.dimshuffle("x", 0)
        return self.nonlinearity(out)


class NonlinearityLayer(Layer):
    """NonlinearityLayer(incoming, nonlinearity=nonlinearities.rectify, name=None): y = phi(x)."""

    def __init__(self, incoming, nonlinearity=nonlinearities.rectify, name=None):
        super().__init__(incoming, name=name)
        self.nonlinearity = nonlinearities.get(nonlinearity)

    def get_output_for(self, input, deterministic=False, **kwargs):
        return self.nonlinearity(input)
