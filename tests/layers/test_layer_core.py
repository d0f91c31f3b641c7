"""Layer core and helpers: contract, names, tags, counts, value round-trips, errors."""

from collections import OrderedDict

import numpy as np
import pytensor
import pytest

import crmn_legacy  # noqa: F401
from crmn_legacy import layers as L


def _net():
    l_in = L.InputLayer((None, 3, 6, 6), name="input")
    conv = L.Conv2DLayer(l_in, 4, 3, nonlinearity=None, name="stage1.block1.conv1")
    bn = L.BatchNormLayer(conv, name="stage1.block1.bn1")
    relu = L.NonlinearityLayer(bn, name="relu")
    gap = L.GlobalPoolLayer(relu, name="gap")
    flat = L.FlattenLayer(L.Pool2DLayer(relu, 2, name="pool"), name="flat")
    cat = L.ConcatLayer([gap, flat], name="concat")
    out = L.DenseLayer(cat, 5, nonlinearity="softmax", name="softmax")
    return l_in, conv, bn, out


def test_names_order_and_tags():
    l_in, conv, bn, out = _net()
    names = [p.name for p in L.get_all_params(out)]
    assert names == ["stage1.block1.conv1.W", "stage1.block1.conv1.b", "stage1.block1.bn1.beta",
                     "stage1.block1.bn1.gamma", "softmax.W", "softmax.b"]
    assert [p.name for p in L.get_all_params(out, regularizable=True)] == ["stage1.block1.conv1.W", "softmax.W"]
    assert [p.name for p in L.get_all_params(out, statistic=True)] == ["stage1.block1.bn1.mean",
                                                                       "stage1.block1.bn1.inv_std"]
    assert len(L.get_all_params(out, statistic=None)) == 8
    assert L.get_all_params(out, trainable=True) == L.get_all_params(out)
    layers = L.get_all_layers(out)
    assert layers[0] is l_in and layers[-1] is out and len(layers) == len(set(map(id, layers))) == 9


def test_count_params_per_tag():
    *_, out = _net()
    conv_w, conv_b, bn, dense_w, dense_b = 4 * 3 * 9, 4, 2 * 4, (4 + 4 * 3 * 3) * 5, 5
    assert L.count_params(out) == conv_w + conv_b + bn + dense_w + dense_b
    assert L.count_params(out, trainable=True) == L.count_params(out)
    assert L.count_params(out, regularizable=True) == conv_w + dense_w
    assert L.count_params(out, regularizable=False) == conv_b + bn + dense_b
    assert L.count_params(out, statistic=True) == 8


def test_shapes():
    l_in, conv, bn, out = _net()
    assert conv.output_shape == (None, 4, 6, 6)
    assert L.get_output_shape(out) == (None, 5)
    assert L.get_output_shape(conv, (2, 3, 8, 8)) == (2, 4, 8, 8)
    assert L.get_output_shape([conv, out], {l_in: (7, 3, 6, 6)}) == [(7, 4, 6, 6), (7, 5)]


def test_param_values_round_trip():
    *_, out = _net()
    values = L.get_all_param_values(out)
    assert len(values) == 8  # includes the running statistics
    new = [np.random.default_rng(i).normal(size=v.shape).astype(v.dtype) for i, v in enumerate(values)]
    L.set_all_param_values(out, new)
    for a, b in zip(L.get_all_param_values(out), new):
        np.testing.assert_array_equal(a, b)
    d = L.get_all_param_dict(out)
    assert isinstance(d, OrderedDict) and "stage1.block1.bn1.mean" in d
    L.set_all_param_values(out, values)
    L.set_all_param_dict(out, d)
    np.testing.assert_array_equal(L.get_all_param_values(out)[0], new[0])
    with pytest.raises(ValueError, match="got 2 arrays for 8"):
        L.set_all_param_values(out, values[:2])
    bad = list(values)
    bad[0] = np.zeros((1, 2))
    with pytest.raises(ValueError, match="shape"):
        L.set_all_param_values(out, bad)
    with pytest.raises(ValueError, match="missing"):
        L.set_all_param_dict(out, {"softmax.W": d["softmax.W"]})


def test_add_param_specs_and_errors():
    layer = L.DenseLayer((None, 3), 2, W=np.ones((3, 2)), b=None, name="d")
    assert layer.W.get_value().dtype == np.float32 and layer.b is None
    shared = pytensor.shared(np.zeros((3, 2), dtype="float32"), name="mine")
    assert L.DenseLayer((None, 3), 2, W=shared).W is shared
    with pytest.raises(ValueError, match="expected"):
        L.DenseLayer((None, 3), 2, W=np.ones((2, 2)))
    with pytest.raises(TypeError, match="initialiser"):
        L.DenseLayer((None, 3), 2, W="ones")
    with pytest.raises(TypeError, match="Layer or a shape"):
        L.DenseLayer([3], 2)
    with pytest.raises(ValueError, match="num_units"):
        L.DenseLayer((None, 3), 0)
    with pytest.raises(ValueError, match="4-D"):
        L.Conv2DLayer((None, 3, 4), 2, 3)
    with pytest.raises(ValueError, match="does not fit"):
        L.Conv2DLayer((None, 3, 2, 2), 2, 5, pad="valid")
    with pytest.raises(ValueError, match="unknown pad"):
        L.Conv2DLayer((None, 3, 4, 4), 2, 3, pad="wide")
    with pytest.raises(ValueError, match="different shapes"):
        L.ElemwiseSumLayer([(None, 2, 4, 4), (None, 3, 4, 4)])
    with pytest.raises(ValueError, match="only add zero maps"):
        L.ShortcutLayer((None, 8, 4, 4), 4)
    with pytest.raises(ValueError, match="unknown nonlinearity"):
        L.NonlinearityLayer((None, 2), "swish")
    with pytest.raises(ValueError, match="alpha"):
        L.BatchNormLayer((None, 2), alpha=0.0)
    with pytest.raises(ValueError, match="smaller than pool"):
        L.Pool2DLayer((None, 2, 1, 1), 2)


def test_get_output_inputs_and_dprint(capsys):
    l_in, conv, bn, out = _net()
    x = pytensor.tensor.tensor4("x")
    y = L.get_output(out, x)
    y2, upd = L.get_output(out, {l_in: x}, return_updates=True)
    assert list(upd) == [bn.mean, bn.inv_std]
    y3, upd3 = L.get_output(out, x, deterministic=True, return_updates=True)
    assert len(upd3) == 0
    for v in (y, y2, y3):
        pytensor.dprint(v)
    assert "softmax" in capsys.readouterr().out.lower()
    with pytest.raises(ValueError, match="has 2 inputs"):
        two = L.ConcatLayer([L.InputLayer((None, 2)), L.InputLayer((None, 2))])
        L.get_output(two, x)


def test_bad_incoming_and_names_are_type_errors():
    l_in = L.InputLayer((None, 3, 6, 6))
    with pytest.raises(TypeError, match="DenseLayer: incoming must be a Layer or a shape tuple, got list"):
        L.DenseLayer([None, 3], 5)
    with pytest.raises(TypeError, match="ConcatLayer: each incoming must be a Layer or a shape tuple, got str"):
        L.ConcatLayer([l_in, "input"])
    with pytest.raises(TypeError, match="layer name must be a str or None, got 3"):
        L.DenseLayer(l_in, 5, name=3)
    with pytest.raises(TypeError, match="layer name must be a str or None"):
        L.ElemwiseSumLayer([l_in, l_in], name=b"sum")
    merged = L.ConcatLayer([l_in, (None, 2, 6, 6)], name="cat")
    assert merged.input_layers == [l_in, None] and merged.input_shapes == [(None, 3, 6, 6), (None, 2, 6, 6)]
