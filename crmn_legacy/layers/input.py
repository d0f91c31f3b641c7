"""InputLayer(shape, input_var=None, name=None): where a network starts."""

import pytensor
import pytensor.tensor as pt

from .base import Layer

__all__ = ["InputLayer"]


class InputLayer(Layer):
    """InputLayer(shape, input_var=None, name=None)

    Parameters
    ----------
    shape : tuple of int or None
        Input shape, e.g. ``(None, 3, 32, 32)`` for a batch of CIFAR images.
    input_var : pytensor tensor variable or None
        The symbolic input; by default a new ``floatX`` tensor of
        ``len(shape)`` dimensions named ``"<name>.input"`` (or ``"input"``).
    """

    def __init__(self, shape, input_var=None, name=None):
        shape = tuple(shape)
        if any(s is not None and (not isinstance(s, int) or s <= 0) for s in shape):
            raise ValueError(f"InputLayer: shape entries must be positive ints or None, got {shape}")
        self.shape = shape
        if input_var is None:
            var_name = f"{name}.input" if name else "input"
            input_var = pt.tensor(dtype=pytensor.config.floatX, shape=(None,) * len(shape), name=var_name)
        elif input_var.ndim != len(shape):
            raise ValueError(
                f"InputLayer: input_var has {input_var.ndim} dimensions but shape {shape} has {len(shape)}"
            )
        self.input_var = input_var
        super().__init__(shape, name=name)

    @property
    def output_shape(self):
        return self.shape
