"""ElemwiseSumLayer(incomings) and ConcatLayer(incomings, axis=1)."""

import pytensor.tensor as pt

from .base import MergeLayer

__all__ = ["ElemwiseSumLayer", "ConcatLayer"]


class ElemwiseSumLayer(MergeLayer):
    """ElemwiseSumLayer(incomings, coeffs=1, name=None)

    y = sum_i coeffs_i * x_i; the residual addition x_l = x_{l-1} + f(x_{l-1}, {W_l})
    of eq. 1.  All inputs must have the same shape.
    """

    def __init__(self, incomings, coeffs=1, name=None):
        super().__init__(incomings, name=name)
        n = len(self.input_shapes)
        self.coeffs = [coeffs] * n if isinstance(coeffs, (int, float)) else list(coeffs)
        if len(self.coeffs) != n:
            raise ValueError(f"{self._describe()}: {len(self.coeffs)} coeffs for {n} inputs")
        self.get_output_shape_for(self.input_shapes)

    def get_output_shape_for(self, input_shapes):
        ref = input_shapes[0]
        for s in input_shapes[1:]:
            if len(s) != len(ref) or any(a is not None and b is not None and a != b for a, b in zip(ref, s)):
                raise ValueError(f"{self._describe()}: inputs have different shapes {input_shapes}")
        return tuple(next((d for d in dims if d is not None), None) for dims in zip(*input_shapes))

    def get_output_for(self, inputs, deterministic=False, **kwargs):
        out = None
        for c, x in zip(self.coeffs, inputs):
            term = x if c == 1 else c * x
            out = term if out is None else out + term
        return out


class ConcatLayer(MergeLayer):
    """ConcatLayer(incomings, axis=1, name=None)

    Concatenate along ``axis``; the CRMN's softmax input [GAP(x_L), h_L].
    """

    def __init__(self, incomings, axis=1, name=None):
        super().__init__(incomings, name=name)
        self.axis = axis
        self.get_output_shape_for(self.input_shapes)

    def get_output_shape_for(self, input_shapes):
        ndim = len(input_shapes[0])
        if any(len(s) != ndim for s in input_shapes):
            raise ValueError(f"{self._describe()}: inputs have different ranks {input_shapes}")
        axis = self.axis % ndim
        out = []
        for i, dims in enumerate(zip(*input_shapes)):
            if i == axis:
                out.append(None if any(d is None for d in dims) else sum(dims))
            else:
                known = {d for d in dims if d is not None}
                if len(known) > 1:
                    raise ValueError(f"{self._describe()}: sizes differ on axis {i}: {input_shapes}")
                out.append(known.pop() if known else None)
        return tuple(out)

    def get_output_for(self, inputs, deterministic=False, **kwargs):
        return pt.concatenate(inputs, axis=self.axis)
