"""Lasagne-style layers for crmn_legacy (see docs/ARCHITECTURE.md, "Layers")."""

from .base import Layer, MergeLayer
from .input import InputLayer
from .helper import (
    count_params,
    get_all_layers,
    get_all_param_dict,
    get_all_param_values,
    get_all_params,
    get_output,
    get_output_shape,
    set_all_param_dict,
    set_all_param_values,
)
from .conv import Conv2DLayer
from .normalization import BatchNormLayer
from .pool import GlobalPoolLayer, MeanPool2x2Layer, Pool2DLayer
from .merge import ConcatLayer, ElemwiseSumLayer
from .dense import DenseLayer, NonlinearityLayer
from .shape import FlattenLayer
from .shortcut import ShortcutLayer
from .recurrent import FORGET_GATE_BIAS, GRULayer, LSTMLayer

__all__ = [
    "Layer", "MergeLayer", "InputLayer",
    "get_output", "get_output_shape", "get_all_layers", "get_all_params", "count_params",
    "get_all_param_values", "set_all_param_values", "get_all_param_dict", "set_all_param_dict",
    "Conv2DLayer", "BatchNormLayer", "Pool2DLayer", "MeanPool2x2Layer", "GlobalPoolLayer",
    "ElemwiseSumLayer", "ConcatLayer", "DenseLayer", "NonlinearityLayer", "FlattenLayer",
    "ShortcutLayer", "LSTMLayer", "GRULayer", "FORGET_GATE_BIAS",
]
