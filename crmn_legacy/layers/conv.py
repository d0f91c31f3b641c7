"""Conv2DLayer(incoming, num_filters, filter_size, stride=1, pad="half", ...): 2-D convolution.

Built on our own Op, :func:`crmn_legacy.ops.conv2d` (NCHW cross-correlation,
no filter flip, like Lasagne's ``Conv2DLayer(flip_filters=False)`` with cuDNN).
"""

from .. import init, nonlinearities
from .base import Layer

__all__ = ["Conv2DLayer", "conv_output_length", "pad_amount"]


def _pair(value, what):
    if isinstance(value, int) and not isinstance(value, bool):
        return (value, value)
    value = tuple(value)
    if len(value) != 2 or not all(isinstance(v, int) for v in value):
        raise ValueError(f"{what} must be an int or a pair of ints, got {value!r}")
    return value


def pad_amount(pad, filter_size):
    """pad_amount(pad, filter_size) -> (ph, pw) zero-padding for each spatial side.

    ``"valid"`` -> 0; ``"half"``/``"same"`` -> filter_size // 2 (odd filters);
    ``"full"`` -> filter_size - 1; an int or pair is used as is.
    """
    fh, fw = filter_size
    if pad == "valid":
        return (0, 0)
    if pad in ("half", "same"):
        if fh % 2 == 0 or fw % 2 == 0:
            raise ValueError(f"pad={pad!r} needs odd filter sizes, got {filter_size}")
        return (fh // 2, fw // 2)
    if pad == "full":
        return (fh - 1, fw - 1)
    if isinstance(pad, str):
        raise ValueError(f"unknown pad {pad!r}; use 'valid', 'half'/'same', 'full', an int or a pair")
    p = _pair(pad, "pad")
    if min(p) < 0:
        raise ValueError(f"pad must be >= 0, got {p}")
    return p


def conv_output_length(length, filter_size, stride, pad):
    """conv_output_length(length, filter_size, stride, pad) -> (length + 2 pad - filter_size) // stride + 1."""
    from ..ops.conv_numpy import out_size  # the one formula, shared with the Ops

    if length is None:
        return None
    out = out_size(length, filter_size, stride, pad)
    if out <= 0:
        raise ValueError(
            f"convolution of size {filter_size} (stride {stride}, pad {pad}) does not fit input length {length}"
        )
    return out


class Conv2DLayer(Layer):
    """Conv2DLayer(incoming, num_filters, filter_size, stride=1, pad="half", W=init.HeNormal(), b=init.Constant(0.0), nonlinearity=nonlinearities.rectify, name=None)

    y = phi(W * x + b), with ``*`` the cross-correlation of
    :func:`crmn_legacy.ops.conv2d`; x is (N, C, H, W), the filter bank W is
    (F, C, kh, kw), b is (F,), y is (N, F, H', W').

    Parameters
    ----------
    incoming : Layer or tuple
        4-D input (N, C, H, W).
    num_filters : int
        F, number of output feature maps.
    filter_size : int or pair
    stride : int or pair
    pad : "valid", "half"/"same", "full", int or pair
    W : initialiser, array or shared variable
        Default He normal with gain sqrt(2) (He et al. 2015; paper section 4).
    b : initialiser, array, shared variable or None
        ``None`` for no bias (the usual choice before a BatchNorm).  The paper:
        "The biases of each convolutional layer is initialized to 0".
    nonlinearity : callable, str or None
        phi; Lasagne's default is the rectifier; ``None`` for linear.
    """

    def __init__(self, incoming, num_filters, filter_size, stride=1, pad="half",
                 W=init.HeNormal(), b=init.Constant(0.0), nonlinearity=nonlinearities.rectify, name=None):
        super().__init__(incoming, name=name)
        if len(self.input_shape) != 4:
            raise ValueError(f"{self._describe()}: needs a 4-D (N, C, H, W) input, got shape {self.input_shape}")
        if self.input_shape[1] is None:
            raise ValueError(f"{self._describe()}: the number of input channels must be known")
        if not isinstance(num_filters, int) or num_filters <= 0:
            raise ValueError(f"{self._describe()}: num_filters must be a positive int, got {num_filters!r}")
        self.num_filters = num_filters
        self.filter_size = _pair(filter_size, "filter_size")
        self.stride = _pair(stride, "stride")
        if min(self.filter_size) <= 0 or min(self.stride) <= 0:
            raise ValueError(f"{self._describe()}: filter_size and stride must be positive")
        self.pad = pad
        self.pad_hw = pad_amount(pad, self.filter_size)
        self.nonlinearity = nonlinearities.get(nonlinearity)
        self.W = self.add_param(W, (num_filters, self.input_shape[1]) + self.filter_size, name="W")
        self.b = None if b is None else self.add_param(b, (num_filters,), name="b", regularizable=False)
        self.output_shape  # validate the geometry now, with a clear message

    def get_output_shape_for(self, input_shape):
        h = conv_output_length(input_shape[2], self.filter_size[0], self.stride[0], self.pad_hw[0])
        w = conv_output_length(input_shape[3], self.filter_size[1], self.stride[1], self.pad_hw[1])
        return (input_shape[0], self.num_filters, h, w)

    def get_output_for(self, input, deterministic=False, **kwargs):
        from ..ops import add_channel_bias, conv2d  # imported late: the Op module is optional for the rest

        out = conv2d(input, self.W, stride=self.stride, pad=self.pad_hw)
        if self.b is not None:
            # out + b.dimshuffle("x", 0, "x", "x"), as one Op whose bias gradient is a
            # multi-threaded channel sum (crmn_legacy.ops.channel)
            out = add_channel_bias(out, self.b)
        return self.nonlinearity(out)
