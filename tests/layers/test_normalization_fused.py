"""BatchNormLayer(impl="fused") against impl="graph": same outputs, running-average
updates and gradients, alone and inside one training step of a tiny CRMN."""

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest

import crmn_legacy  # noqa: F401
from crmn_legacy import random as crmn_random
from crmn_legacy.runtime.compile import function
from crmn_legacy.layers import BatchNormLayer, InputLayer, get_all_param_values, get_output
from crmn_legacy.layers import normalization
from crmn_legacy.ops.batchnorm import BatchNormTrain


def _layer(impl, x, nonlinearity=None):
    inp = InputLayer((None, 3, 4, 5), input_var=x)
    bn = BatchNormLayer(inp, name="bn", impl=impl, gamma=lambda s: np.linspace(0.5, 1.5, s[0]).astype("float32"),
                        beta=lambda s: np.linspace(-1, 1, s[0]).astype("float32"), nonlinearity=nonlinearity)
    return bn


def test_impl_option_and_default():
    x = pt.tensor4("x")
    assert _layer("graph", x).impl == "graph"
    assert _layer(None, x).impl == normalization.DEFAULT_IMPL == "fused"
    with pytest.raises(ValueError, match="impl"):
        _layer("cudnn", x)


@pytest.mark.parametrize("nonlinearity", [None, "rectify", "tanh"])
def test_fused_layer_equals_graph_layer(nonlinearity):
    """Same outputs, updates and gradients; with a rectifier the fused Op applies it (relu=True)."""
    x = pt.tensor4("x")
    outs = []
    for impl in ("fused", "graph"):
        bn = _layer(impl, x, nonlinearity)
        y, upd = get_output(bn, return_updates=True)
        y_det = get_output(bn, deterministic=True)
        grads = pytensor.grad((y * pt.sin(x)).sum(), [x, bn.gamma, bn.beta])
        outs += [y, y_det, *upd.values(), *grads]
    f = function([x], outs)
    ops = {type(n.op) for n in f.maker.fgraph.apply_nodes}
    assert BatchNormTrain in ops
    fused_relu = [n.op.relu for n in f.maker.fgraph.apply_nodes if isinstance(n.op, BatchNormTrain)]
    assert fused_relu == [nonlinearity == "rectify"]
    data = (np.random.default_rng(0).standard_normal((6, 3, 4, 5)) * 3 + 1).astype("float32")
    res = f(data)
    half = len(res) // 2
    for got, ref in zip(res[:half], res[half:]):
        np.testing.assert_allclose(got, ref, rtol=1e-5, atol=2e-5)


def _tiny_step(impl, monkeypatch):
    from crmn_legacy.models import crmn
    from crmn_legacy.training.step import compile_training_step, training_step

    monkeypatch.setattr(normalization, "DEFAULT_IMPL", impl)
    monkeypatch.delenv("CRMN_BN_IMPL", raising=False)
    crmn_random.set_rng(5)
    net = crmn(1, 0.25, num_classes=3, input_var=pt.tensor4("x"), input_shape=(None, 3, 8, 8))
    return net, compile_training_step(training_step(net))


def test_tiny_crmn_training_step_fused_equals_graph(monkeypatch):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((5, 3, 8, 8)).astype("float32")
    y = rng.integers(0, 3, 5).astype("int32")
    results = []
    for impl in ("fused", "graph"):
        net, fn = _tiny_step(impl, monkeypatch)
        n_fused = sum(isinstance(n.op, BatchNormTrain) for n in fn.maker.fgraph.apply_nodes)
        assert (n_fused > 0) == (impl == "fused")
        outs = [fn(x, y) for _ in range(2)]
        results.append((outs, get_all_param_values(net)))
    (o1, p1), (o2, p2) = results
    for a, b in zip(o1, o2):
        np.testing.assert_allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float), rtol=1e-4, atol=1e-5)
    for a, b in zip(p1, p2):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
