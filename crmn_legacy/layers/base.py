"""Layer(incoming, name=None) and MergeLayer(incomings, name=None): the layer core.

Lasagne's contract, unchanged in spirit:

* a layer knows its input layer(s) and input shape(s); ``output_shape`` is
  ``get_output_shape_for(input_shape)``;
* ``get_output_for(input, deterministic=False, **kwargs)`` builds the
  symbolic output from symbolic input(s); the helpers in
  :mod:`crmn_legacy.layers.helper` walk the graph and call it;
* parameters are PyTensor shared variables created by ``add_param(spec,
  shape, name=None, **tags)``; each carries a set of tags (``trainable``,
  ``regularizable`` by default; BatchNorm's running averages carry
  ``statistic`` instead).

Parameter names are dotted paths: a parameter ``W`` of a layer named
``stage2.block3.conv1`` is named ``stage2.block3.conv1.W``.
"""

from collections import OrderedDict

import numpy as np
import pytensor

from ..init import floatX

__all__ = ["Layer", "MergeLayer", "filter_params"]


def filter_params(params, tags):
    """filter_params(params, tags) -> list of the params whose tags agree with ``tags``.

    ``params`` is an ordered mapping ``{shared variable: set(tags)}``.  A tag
    given as ``True`` must be present, ``False`` must be absent, ``None``
    means "don't care".
    """
    out = []
    for param, ptags in params.items():
        ok = True
        for tag, want in tags.items():
            if want is None:
                continue
            if bool(want) != (tag in ptags):
                ok = False
                break
        if ok:
            out.append(param)
    return out


class Layer:
    """Layer(incoming, name=None)

    Base class of every layer with one input.

    Parameters
    ----------
    incoming : Layer or tuple
        The layer feeding this one, or the expected input shape (``None`` for
        unknown sizes, e.g. the batch size).
    name : str or None
        Prefix of this layer's parameter names (``"<name>.W"``).
    """

    def __init__(self, incoming, name=None):
        self.input_shape, self.input_layer = _shape_and_layer(self, incoming, "incoming")
        self.name = _checked_name(name)
        self.params = OrderedDict()
        if any(d is not None and d <= 0 for d in self.input_shape):
            raise ValueError(
                f"{self._describe()}: cannot build on input shape {self.input_shape} "
                "(every known size must be positive)"
            )

    def _describe(self):
        return f"{type(self).__name__}({self.name!r})" if self.name else type(self).__name__

    @property
    def output_shape(self):
        """output_shape -> tuple: ``get_output_shape_for(self.input_shape)``."""
        return self.get_output_shape_for(self.input_shape)

    def get_params(self, unwrap_shared=True, **tags):
        """get_params(unwrap_shared=True, **tags) -> list of this layer's shared variables.

        By default BatchNorm running statistics (tag ``statistic``) are left
        out; pass ``statistic=True`` for only them or ``statistic=None`` for all.
        """
        tags.setdefault("statistic", False)
        return filter_params(self.params, tags)

    def get_output_shape_for(self, input_shape):
        """get_output_shape_for(input_shape) -> tuple.  Identity by default."""
        return input_shape

    def get_output_for(self, input, deterministic=False, **kwargs):
        """get_output_for(input, deterministic=False, **kwargs) -> symbolic output."""
        raise NotImplementedError(f"{type(self).__name__} does not implement get_output_for")

    def add_param(self, spec, shape, name=None, **tags):
        """add_param(spec, shape, name=None, **tags) -> pytensor shared variable

        Create (or adopt) a parameter and register it with its tags.

        Parameters
        ----------
        spec : Initializer / callable, numpy array or shared variable
            A callable is called with ``shape``; an array is copied; a shared
            variable is used as is (its shape is checked when it has a value).
        shape : tuple of int
        name : str
            Short name; the full name is ``"<layer name>.<name>"``.
        **tags : bool
            Defaults ``trainable=True, regularizable=True``; a tag set to
            ``False`` is dropped.
        """
        shape = tuple(int(s) for s in shape)
        full = name if self.name is None or name is None else f"{self.name}.{name}"
        if isinstance(spec, pytensor.compile.SharedVariable):
            param = spec
            value = param.get_value(borrow=True)
            if value.shape != shape:
                raise ValueError(
                    f"{self._describe()}: shared variable for {name!r} has shape {value.shape}, "
                    f"expected {shape}"
                )
            if param.name is None:
                param.name = full
        else:
            if isinstance(spec, np.ndarray):
                value = spec
            elif callable(spec):
                value = spec(shape)
            else:
                raise TypeError(
                    f"{self._describe()}: cannot make parameter {name!r} from {type(spec).__name__}; "
                    "pass an initialiser, a numpy array or a shared variable"
                )
            value = floatX(value)
            if value.shape != shape:
                raise ValueError(
                    f"{self._describe()}: initial value for {name!r} has shape {value.shape}, "
                    f"expected {shape}"
                )
            # static shape: shapes propagate through the graph (and jax.jit needs them)
            param = pytensor.shared(value, name=full, shape=value.shape)
        tags.setdefault("trainable", True)
        tags.setdefault("regularizable", True)
        self.params[param] = {tag for tag, on in tags.items() if on}
        return param


class MergeLayer(Layer):
    """MergeLayer(incomings, name=None)

    Base class of layers with several inputs.  ``input_shapes`` and
    ``input_layers`` are lists; ``get_output_for(inputs, deterministic=False,
    **kwargs)`` receives a list of symbolic inputs.
    """

    def __init__(self, incomings, name=None):
        incomings = list(incomings)
        if not incomings:
            raise ValueError(f"{type(self).__name__} needs at least one incoming layer")
        pairs = [_shape_and_layer(self, inc, "each incoming") for inc in incomings]
        self.input_shapes = [shape for shape, _ in pairs]
        self.input_layers = [layer for _, layer in pairs]
        self.name = _checked_name(name)
        self.params = OrderedDict()

    @property
    def output_shape(self):
        return self.get_output_shape_for(self.input_shapes)

    def get_output_shape_for(self, input_shapes):
        """get_output_shape_for(input_shapes) -> tuple."""
        raise NotImplementedError

    def get_output_for(self, inputs, deterministic=False, **kwargs):
        """get_output_for(inputs, deterministic=False, **kwargs) -> symbolic output."""
        raise NotImplementedError


def _shape_and_layer(owner, incoming, what):
    """_shape_and_layer(owner, incoming, what) -> (input shape, input layer or None) of a Layer or a shape tuple."""
    if isinstance(incoming, tuple):
        return incoming, None
    if isinstance(incoming, Layer):
        return incoming.output_shape, incoming
    raise TypeError(f"{type(owner).__name__}: {what} must be a Layer or a shape tuple, got {type(incoming).__name__}")


def _checked_name(name):
    """_checked_name(name) -> name, a str or None (else TypeError)."""
    if name is not None and not isinstance(name, str):
        raise TypeError(f"layer name must be a str or None, got {name!r}")
    return name
