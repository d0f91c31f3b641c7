"""Each layer against a NumPy reference; verify_grad for every layer with parameters.

All graphs are tiny and compiled once (module-scoped fixture) in FAST_COMPILE
mode to keep the run short on 2 cores.
"""

import numpy as np
import pytensor
import pytest
from pytensor.gradient import verify_grad
from pytensor.graph.replace import graph_replace

import crmn_legacy  # noqa: F401
from crmn_legacy import layers as L
from crmn_legacy.runtime.compile import function, get_mode

MODE = get_mode("FAST_COMPILE")  # a Mode object: verify_grad turns the string into FAST_RUN (Numba)
RNG = np.random.default_rng(0)
X = RNG.normal(size=(3, 2, 6, 6)).astype("float32")


def np_conv(x, w, b, stride, pad):
    x = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    n, c, h, wd = x.shape
    f, _, kh, kw = w.shape
    ho, wo = (h - kh) // stride + 1, (wd - kw) // stride + 1
    y = np.zeros((n, f, ho, wo))
    for i in range(ho):
        for j in range(wo):
            patch = x[:, :, i * stride:i * stride + kh, j * stride:j * stride + kw]
            y[:, :, i, j] = np.tensordot(patch, w, axes=([1, 2, 3], [1, 2, 3]))
    return y + b[None, :, None, None]


@pytest.fixture(scope="module")
def net():
    l_in = L.InputLayer((None, 2, 6, 6))
    layers = dict(
        conv=L.Conv2DLayer(l_in, 3, 3, nonlinearity=None, b=pytensor.shared(RNG.normal(size=3).astype("float32"))),
        conv_s2=L.Conv2DLayer(l_in, 4, 3, stride=2, nonlinearity="rectify"),
        bn=L.BatchNormLayer(l_in, alpha=0.25, gamma=np.array([1.5, 0.5]), beta=np.array([0.1, -0.2])),
        pool=L.Pool2DLayer(l_in, 2),
        maxpool=L.Pool2DLayer(l_in, 3, mode="max"),
        gap=L.GlobalPoolLayer(l_in),
        short=L.ShortcutLayer(l_in, 5, stride=2),
        flat=L.FlattenLayer(l_in),
    )
    layers["sum"] = L.ElemwiseSumLayer([layers["conv"], layers["conv"]], coeffs=[1, -2])
    layers["dense"] = L.DenseLayer(layers["pool"], 4, nonlinearity="tanh")
    layers["concat"] = L.ConcatLayer([layers["gap"], layers["dense"]])
    names = list(layers)
    train, updates = L.get_output([layers[k] for k in names], return_updates=True)
    bn_det = L.get_output(layers["bn"], deterministic=True)
    fn = function([l_in.input_var], train + [bn_det], updates=list(updates.items()), mode=MODE)
    out = dict(zip(names + ["bn_det"], fn(X)))
    return layers, out, updates


def test_conv(net):
    layers, out, _ = net
    c = layers["conv"]
    ref = np_conv(X, c.W.get_value(), c.b.get_value(), 1, 1)
    np.testing.assert_allclose(out["conv"], ref, rtol=1e-4, atol=1e-4)
    c2 = layers["conv_s2"]
    ref2 = np.maximum(np_conv(X, c2.W.get_value(), c2.b.get_value(), 2, 1), 0)
    assert out["conv_s2"].shape == (3,) + c2.output_shape[1:] == (3, 4, 3, 3)
    np.testing.assert_allclose(out["conv_s2"], ref2, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(out["sum"], -ref, rtol=1e-4, atol=1e-4)


def test_batchnorm_train_inference_and_updates(net):
    layers, out, updates = net
    bn = layers["bn"]
    mu = X.mean(axis=(0, 2, 3))
    inv_std = 1.0 / np.sqrt(X.var(axis=(0, 2, 3)) + 1e-4)
    g, b = np.array([1.5, 0.5]), np.array([0.1, -0.2])
    sh = (1, 2, 1, 1)
    ref_train = g.reshape(sh) * (X - mu.reshape(sh)) * inv_std.reshape(sh) + b.reshape(sh)
    np.testing.assert_allclose(out["bn"], ref_train, rtol=1e-4, atol=1e-4)
    # inference used the averages as they were before this call: mean 0, inv_std 1
    np.testing.assert_allclose(out["bn_det"], g.reshape(sh) * X + b.reshape(sh), rtol=1e-5, atol=1e-5)
    # the returned updates were applied by the compiled function
    np.testing.assert_allclose(bn.mean.get_value(), 0.25 * mu, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(bn.inv_std.get_value(), 0.75 + 0.25 * inv_std, rtol=1e-4)
    assert set(updates) == {bn.mean, bn.inv_std}
    assert bn.mean not in L.get_all_params(bn) and bn.mean in L.get_all_params(bn, statistic=True)


def test_pooling_shortcut_flatten_dense_concat(net):
    layers, out, _ = net
    np.testing.assert_allclose(out["pool"], X.reshape(3, 2, 3, 2, 3, 2).mean(axis=(3, 5)), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out["maxpool"], X.reshape(3, 2, 2, 3, 2, 3).max(axis=(3, 5)), rtol=1e-6)
    np.testing.assert_allclose(out["gap"], X.mean(axis=(2, 3)), rtol=1e-5, atol=1e-6)
    ref_short = np.concatenate([X[:, :, ::2, ::2], np.zeros((3, 3, 3, 3))], axis=1)
    np.testing.assert_array_equal(out["short"], ref_short)
    assert layers["short"].output_shape == (None, 5, 3, 3)
    np.testing.assert_array_equal(out["flat"], X.reshape(3, -1))
    d = layers["dense"]
    ref_dense = np.tanh(out["pool"].reshape(3, -1) @ d.W.get_value() + d.b.get_value())
    np.testing.assert_allclose(out["dense"], ref_dense, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(out["concat"], np.concatenate([out["gap"], ref_dense], axis=1), rtol=1e-5, atol=1e-5)
    for name, layer in layers.items():
        assert out[name].shape[1:] == tuple(layer.output_shape[1:]), name


def _grad_check(make_layer, x_shape, **kw):
    """verify_grad w.r.t. the input and every trainable parameter, in float64.

    The layer is built under floatX=float64 so the finite differences are
    accurate; its shared parameters are swapped for symbolic inputs.
    ``verify_grad`` compiles its gradient with the default mode, hence
    ``change_flags(mode=...)``.
    """
    with pytensor.config.change_flags(floatX="float64", mode=MODE):
        layer = make_layer()
        params = L.get_all_params(layer, trainable=True)
        x_value = np.random.default_rng(5).normal(size=x_shape)

        def fun(x_sym, *p_syms):
            out = L.get_output(layer, x_sym, **kw)
            return graph_replace(out, dict(zip(params, p_syms)))

        values = [x_value] + [p.get_value() for p in params]
        verify_grad(fun, values, rng=np.random.default_rng(3), mode=MODE)
    return params


def test_verify_grad_conv():
    params = _grad_check(lambda: L.Conv2DLayer((None, 2, 5, 5), 2, 3, stride=2, nonlinearity="tanh"), (2, 2, 5, 5))
    assert [p.name for p in params] == ["W", "b"]


def test_verify_grad_batchnorm_training():
    params = _grad_check(lambda: L.BatchNormLayer((None, 2, 3, 3), gamma=np.array([1.2, 0.7])), (3, 2, 3, 3))
    assert len(params) == 2


def test_verify_grad_dense():
    _grad_check(lambda: L.DenseLayer((None, 4), 3, nonlinearity="tanh"), (2, 4))
