"""Graph helpers: get_output, get_output_shape, get_all_layers, get_all_params, ...

These walk a network from its output layer(s) back to its
:class:`InputLayer` s, as Lasagne's ``lasagne.layers.helper`` does.

BatchNorm running averages
--------------------------
PyTensor 3 deprecates ``default_update``, so the running-average updates of
:class:`BatchNormLayer` are returned explicitly::

    out, updates = get_output(net, return_updates=True)
    train_fn = crmn_legacy.runtime.compile.function([x, y], loss, updates=list(updates.items()) + sgd)

``get_output`` hands every layer an ``updates`` keyword (an ``OrderedDict``
it may add ``{shared variable: new value}`` pairs to); with
``deterministic=True`` the BatchNorm layers use their averages and add nothing.
"""

from collections import OrderedDict

import numpy as np
import pytensor.tensor as pt

from .base import Layer, MergeLayer, filter_params
from .input import InputLayer

__all__ = [
    "get_all_layers",
    "get_output",
    "get_output_shape",
    "get_all_params",
    "count_params",
    "get_all_param_values",
    "set_all_param_values",
    "get_all_param_dict",
    "set_all_param_dict",
]


def _as_list(layer_or_layers):
    if isinstance(layer_or_layers, Layer):
        return [layer_or_layers], False
    layers = list(layer_or_layers)
    for layer in layers:
        if not isinstance(layer, Layer):
            raise TypeError(f"expected Layer instances, got {type(layer).__name__}")
    return layers, True


def _parents(layer):
    if isinstance(layer, MergeLayer):
        return [p for p in layer.input_layers if p is not None]
    return [layer.input_layer] if layer.input_layer is not None else []


def get_all_layers(layer, treat_as_input=None):
    """get_all_layers(layer, treat_as_input=None) -> list of layers in topological order

    Every layer that ``layer`` (a layer or a list of layers) depends on,
    inputs first, each once.  Layers in ``treat_as_input`` are not expanded.
    """
    outputs, _ = _as_list(layer)
    stop = set(map(id, treat_as_input or ()))
    order, done = [], set()
    stack = [(l, False) for l in reversed(outputs)]
    while stack:
        current, expanded = stack.pop()
        if id(current) in done:
            continue
        if expanded or id(current) in stop:
            done.add(id(current))
            order.append(current)
            continue
        stack.append((current, True))
        for parent in reversed(_parents(current)):
            if id(parent) not in done:
                stack.append((parent, False))
    return order


def get_output(layer_or_layers, inputs=None, deterministic=False, return_updates=False, **kwargs):
    """get_output(layer_or_layers, inputs=None, deterministic=False, return_updates=False, **kwargs)

    Symbolic output(s) of a network.

    Parameters
    ----------
    layer_or_layers : Layer or list of Layer
    inputs : None, tensor variable or dict
        ``None`` uses each :class:`InputLayer`'s ``input_var``; a single
        variable replaces the input of a network with one InputLayer (or is
        the input of the one layer built from a shape tuple); a dict maps
        layers (InputLayers or any layer) to variables.
    deterministic : bool
        ``True`` for inference: BatchNorm uses its running averages.
    return_updates : bool
        Also return the ``OrderedDict`` of BatchNorm running-average updates
        (empty when ``deterministic=True``).
    **kwargs
        Passed to every layer's ``get_output_for``.

    Returns
    -------
    output or list of outputs; ``(output(s), updates)`` when ``return_updates``.
    """
    outputs, many = _as_list(layer_or_layers)
    treat_as_input = list(inputs.keys()) if isinstance(inputs, dict) else []
    all_layers = get_all_layers(outputs, treat_as_input)
    values = {}
    if isinstance(inputs, dict):
        for key, var in inputs.items():
            if not isinstance(key, Layer):
                raise TypeError("keys of the inputs dict must be Layer instances")
            values[id(key)] = pt.as_tensor_variable(var)
    shape_root_input = None
    elif_single = inputs is not None and not isinstance(inputs, dict)
    if elif_single:
        input_layers = [l for l in all_layers if isinstance(l, InputLayer)]
        # a layer built from a shape tuple (no InputLayer) takes the variable as its input
        roots = [l for l in all_layers if not isinstance(l, (InputLayer, MergeLayer)) and l.input_layer is None]
        if len(input_layers) == 1 and not roots:
            values[id(input_layers[0])] = pt.as_tensor_variable(inputs)
        elif len(roots) == 1 and not input_layers:
            shape_root_input = (roots[0], pt.as_tensor_variable(inputs))
        else:
            raise ValueError(
                f"get_output: a single input variable was given but the network has "
                f"{len(input_layers) + len(roots)} inputs; pass a dict {{layer: variable}}"
            )
    updates = OrderedDict()
    for layer in all_layers:
        if id(layer) in values:
            continue
        if isinstance(layer, InputLayer):
            values[id(layer)] = layer.input_var
            continue
        if isinstance(layer, MergeLayer):
            if any(p is None for p in layer.input_layers):
                raise ValueError(f"{layer._describe()} was built from shapes, not layers: no input")
            layer_in = [values[id(p)] for p in layer.input_layers]
        elif shape_root_input is not None and layer is shape_root_input[0]:
            layer_in = shape_root_input[1]
        else:
            if layer.input_layer is None:
                raise ValueError(f"{layer._describe()} was built from a shape, not a layer: no input")
            layer_in = values[id(layer.input_layer)]
        values[id(layer)] = layer.get_output_for(
            layer_in, deterministic=deterministic, updates=updates, **kwargs
        )
    result = [values[id(l)] for l in outputs]
    result = result if many else result[0]
    if return_updates:
        return result, updates
    return result


def get_output_shape(layer_or_layers, input_shapes=None):
    """get_output_shape(layer_or_layers, input_shapes=None) -> shape or list of shapes

    ``input_shapes`` (a dict ``{layer: shape}``, or one shape for a network
    with one InputLayer) overrides the shapes the layers were built with.
    """
    outputs, many = _as_list(layer_or_layers)
    if input_shapes is None:
        shapes = [l.output_shape for l in outputs]
        return shapes if many else shapes[0]
    treat = list(input_shapes.keys()) if isinstance(input_shapes, dict) else []
    all_layers = get_all_layers(outputs, treat)
    values = {}
    if isinstance(input_shapes, dict):
        values.update({id(k): tuple(v) for k, v in input_shapes.items()})
    else:
        ins = [l for l in all_layers if isinstance(l, InputLayer)]
        if len(ins) != 1:
            raise ValueError("get_output_shape: one shape given but the network has several inputs")
        values[id(ins[0])] = tuple(input_shapes)
    for layer in all_layers:
        if id(layer) in values:
            continue
        if isinstance(layer, InputLayer):
            values[id(layer)] = layer.output_shape
        elif isinstance(layer, MergeLayer):
            values[id(layer)] = layer.get_output_shape_for([values[id(p)] for p in layer.input_layers])
        else:
            values[id(layer)] = layer.get_output_shape_for(values[id(layer.input_layer)])
    shapes = [values[id(l)] for l in outputs]
    return shapes if many else shapes[0]


def get_all_params(layer, unwrap_shared=True, **tags):
    """get_all_params(layer, unwrap_shared=True, **tags) -> list of shared variables

    All parameters of the network, in layer order, each once, filtered by
    tags (``trainable=True``, ``regularizable=True``, ...).  BatchNorm running
    statistics (tag ``statistic``) are left out unless ``statistic=True``
    (only them) or ``statistic=None`` (everything) is passed.
    """
    tags.setdefault("statistic", False)
    seen, out = set(), []
    for l in get_all_layers(layer):
        for p in filter_params(l.params, tags):
            if id(p) not in seen:
                seen.add(id(p))
                out.append(p)
    return out


def count_params(layer, **tags):
    """count_params(layer, **tags) -> int: total number of scalar parameters.

    Same filtering as :func:`get_all_params`; running statistics not counted
    by default, so ``count_params(net)`` is the paper's Table-1 count.
    """
    return int(sum(np.prod(p.get_value(borrow=True).shape) for p in get_all_params(layer, **tags)))


def get_all_param_values(layer, **tags):
    """get_all_param_values(layer, **tags) -> list of numpy arrays (copies)

    Includes BatchNorm running statistics by default (``statistic=None``).
    """
    tags.setdefault("statistic", None)
    return [p.get_value() for p in get_all_params(layer, **tags)]


def set_all_param_values(layer, values, **tags):
    """set_all_param_values(layer, values, **tags) -> None

    Inverse of :func:`get_all_param_values` (same ``tags``); checks the count
    and every shape, and casts to each parameter's dtype.
    """
    tags.setdefault("statistic", None)
    params = get_all_params(layer, **tags)
    values = list(values)
    if len(values) != len(params):
        raise ValueError(f"set_all_param_values: got {len(values)} arrays for {len(params)} parameters")
    for p, v in zip(params, values):
        cur = p.get_value(borrow=True)
        v = np.asarray(v)
        if v.shape != cur.shape:
            raise ValueError(f"set_all_param_values: {p.name} has shape {cur.shape}, value has {v.shape}")
    for p, v in zip(params, values):
        p.set_value(np.asarray(v, dtype=p.dtype))


def get_all_param_dict(layer, **tags):
    """get_all_param_dict(layer, **tags) -> OrderedDict {dotted name: numpy array}

    Like :func:`get_all_param_values` but keyed by the stable parameter names
    (for checkpoints); raises if two parameters share a name.
    """
    tags.setdefault("statistic", None)
    out = OrderedDict()
    for p in get_all_params(layer, **tags):
        if p.name is None or p.name in out:
            raise ValueError(f"parameter names are not unique/usable: {p.name!r}")
        out[p.name] = p.get_value()
    return out


def set_all_param_dict(layer, values, strict=True, **tags):
    """set_all_param_dict(layer, values, strict=True, **tags) -> None

    Set parameters from ``{dotted name: array}``; with ``strict`` every
    parameter must be present and no extra names allowed.
    """
    tags.setdefault("statistic", None)
    params = {p.name: p for p in get_all_params(layer, **tags)}
    missing = sorted(set(params) - set(values))
    extra = sorted(set(values) - set(params))
    if strict and (missing or extra):
        raise ValueError(f"set_all_param_dict: missing {missing[:5]}, unexpected {extra[:5]}")
    for name, v in values.items():
        if name not in params:
            continue
        cur = params[name].get_value(borrow=True)
        if np.shape(v) != cur.shape:
            raise ValueError(f"set_all_param_dict: {name} has shape {cur.shape}, value has {np.shape(v)}")
    for name, v in values.items():
        if name in params:
            params[name].set_value(np.asarray(v, dtype=params[name].dtype))
