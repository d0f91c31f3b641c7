"""Tests of crmn_legacy.ops.batchnorm: the fused Ops against the graph form
(values, first and second derivatives), verify_grad, infer_shape, errors."""

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
from pytensor.gradient import verify_grad

import crmn_legacy  # noqa: F401
from crmn_legacy.runtime.compile import function, get_mode
from crmn_legacy.ops.batchnorm import (BatchNormTrain, BatchNormTrainGrad, batch_norm_grad_reference,
                                       batch_norm_train, batch_norm_train_reference)

RNG = np.random.default_rng(7)
TOL = {"float32": dict(rtol=1e-5, atol=2e-5), "float64": dict(rtol=1e-9, atol=1e-9)}
EPS = 1e-4


def _data(shape, dtype):
    c = shape[1]
    return [(RNG.standard_normal(shape) * 2 + 0.5).astype(dtype), RNG.standard_normal(c).astype(dtype),
            RNG.standard_normal(c).astype(dtype), RNG.standard_normal(shape).astype(dtype)]


@pytest.fixture(scope="module", params=["float32", "float64"])
def fused_and_reference(request):
    """One compiled function: fused and graph-form outputs and gradients, side by side."""
    dtype = request.param
    x, g, b = pt.tensor4("x", dtype=dtype), pt.vector("g", dtype=dtype), pt.vector("b", dtype=dtype)
    gy = pt.tensor4("gy", dtype=dtype)
    outs = []
    for build in (batch_norm_train, batch_norm_train_reference):
        y, m, i = build(x, g, b, EPS)
        # gradients through y and through the statistics (mean, inv_std) too
        cost = (y * gy).sum() + 0.3 * (m ** 2).sum() + 0.2 * (i ** 2).sum()
        outs += [y, m, i, *pytensor.grad(cost, [x, g, b])]
    return dtype, function([x, g, b, gy], outs)


@pytest.mark.parametrize("shape", [(3, 4, 5, 6), (1, 2, 3, 1), (7, 3, 1, 1)])
def test_fused_equals_graph_form(fused_and_reference, shape):
    dtype, f = fused_and_reference
    out = f(*_data(shape, dtype))
    for got, ref in zip(out[:6], out[6:]):
        assert got.dtype == dtype and got.shape == ref.shape
        np.testing.assert_allclose(got, ref, **TOL[dtype])


@pytest.mark.parametrize("shape", [(16, 3, 32, 32), (5, 4, 3, 1), (9, 2, 1, 1)])
def test_one_pass_statistics_match_float64(shape):
    """The C forward takes both statistics in one pass (per-row sum and deviations, Chan's combination):
    mean and inv_std equal float64 numpy's two-pass figures, with a large offset and rows of unequal means."""
    x, g, b = pt.tensor4("x"), pt.vector("g"), pt.vector("b")
    f = function([x, g, b], batch_norm_train(x, g, b, EPS), cache=False)
    rng = np.random.default_rng(3)
    data = (300.0 + rng.standard_normal(shape) * 0.5 + rng.standard_normal(shape[:2] + (1, 1)) * 2)
    data = data.astype("float32")
    _, mean, inv = f(data, np.ones(shape[1], "float32"), np.zeros(shape[1], "float32"))
    d64 = data.astype(np.float64)
    np.testing.assert_allclose(mean, d64.mean(axis=(0, 2, 3)), rtol=1e-6)
    np.testing.assert_allclose(inv, 1 / np.sqrt(d64.var(axis=(0, 2, 3)) + EPS), rtol=2e-5)


def test_c_code_is_used_and_equals_perform():
    x, g, b = pt.tensor4("x"), pt.vector("g"), pt.vector("b")
    outs = batch_norm_train(x, g, b, EPS)
    f_c = function([x, g, b], outs)
    f_py = function([x, g, b], outs, mode=get_mode().excluding("cxx_only").__class__(linker="py",
                                                                                      optimizer="fast_run"))
    ops = [type(n.op) for n in f_c.maker.fgraph.toposort()]
    assert BatchNormTrain in ops
    data = _data((4, 3, 5, 5), "float32")[:3]
    for got, ref in zip(f_c(*data), f_py(*data)):
        np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("shape", [(3, 2, 3, 4), (2, 3, 2)])
def test_verify_grad_forward(shape):
    rng = np.random.default_rng(3)
    x, g, b, _ = _data(shape, "float64")
    proj = [rng.standard_normal(shape), rng.standard_normal(shape[1]), rng.standard_normal(shape[1])]

    def fn(x, g, b):
        y, m, i = batch_norm_train(x, g, b, EPS)
        return (y * proj[0]).sum() + (m * proj[1]).sum() + (i * proj[2]).sum()

    verify_grad(fn, [x, g, b], rng=rng, mode=get_mode())


def test_verify_grad_backward_op():
    rng = np.random.default_rng(4)
    shape = (3, 2, 3, 2)
    x, g, _, dy = _data(shape, "float64")
    mean, inv = rng.standard_normal(2), rng.uniform(0.5, 2.0, 2)
    for k in range(3):
        verify_grad(lambda *a, k=k: BatchNormTrainGrad(EPS)(*a)[k], [x, g, mean, inv, dy], rng=rng, mode=get_mode())


def test_second_derivative_matches_graph_form():
    x, g, b = pt.tensor4("x", dtype="float64"), pt.vector("g", dtype="float64"), pt.vector("b", dtype="float64")
    res = []
    for build in (batch_norm_train, batch_norm_train_reference):
        y = build(x, g, b, EPS)[0]
        gx = pytensor.grad((y ** 3).sum(), x)
        res += pytensor.grad((gx ** 2).sum(), [x, g])
    f = function([x, g, b], res)
    fx, fg, rx, rg = f(*_data((2, 3, 2, 3), "float64")[:3])
    np.testing.assert_allclose(fx, rx, rtol=1e-7, atol=1e-7)
    np.testing.assert_allclose(fg, rg, rtol=1e-7, atol=1e-7)


def test_grad_reference_formula_equals_autodiff():
    x, g, b, gy = pt.tensor4("x", dtype="float64"), pt.vector("g", dtype="float64"), \
        pt.vector("b", dtype="float64"), pt.tensor4("gy", dtype="float64")
    y, m, i = batch_norm_train_reference(x, g, b, EPS)
    auto = pytensor.grad((y * gy).sum(), [x, g, b])
    formula = batch_norm_grad_reference(x, g, m, i, gy)
    f = function([x, g, b, gy], [*auto, *formula])
    out = f(*_data((3, 2, 4, 3), "float64"))
    for p, q in zip(out[:3], out[3:]):
        np.testing.assert_allclose(p, q, rtol=1e-9, atol=1e-9)


def test_infer_shape():
    x, g, b = pt.tensor4("x"), pt.vector("g"), pt.vector("b")
    y, m, i = batch_norm_train(x, g, b)
    f = function([x, g, b], [y.shape, m.shape, i.shape])
    f_nodes = [type(n.op) for n in f.maker.fgraph.apply_nodes]
    assert BatchNormTrain not in f_nodes  # shapes come from infer_shape
    shapes = f(*_data((2, 3, 4, 5), "float32")[:3])
    assert [tuple(s) for s in shapes] == [(2, 3, 4, 5), (3,), (3,)]


def test_bad_inputs_raise_at_build_time():
    with pytest.raises(TypeError, match="vector"):
        batch_norm_train(pt.tensor4(), pt.matrix(), pt.vector())
    with pytest.raises(TypeError, match=">= 2 dimensions"):
        batch_norm_train(pt.vector(), pt.vector(), pt.vector())
    with pytest.raises(ValueError, match="channels"):
        batch_norm_train(pt.tensor4(shape=(None, 3, None, None)), pt.vector(shape=(4,)), pt.vector())
    with pytest.raises(ValueError, match="epsilon"):
        BatchNormTrain(0.0)


def test_channel_mismatch_at_run_time_is_a_clear_error():
    x, g, b = pt.tensor4("x"), pt.vector("g"), pt.vector("b")
    f = function([x, g, b], batch_norm_train(x, g, b)[0])
    data = _data((2, 3, 2, 2), "float32")
    with pytest.raises(ValueError, match="gamma"):
        f(data[0], data[1][:2], data[2])


# ----------------------------------------------------------------------------- relu=True (BatchNorm + ReLU)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_relu_fused_equals_graph_form(dtype):
    """relu=True equals maximum(graph-form BN, 0): values, first and second derivatives."""
    x, g, b = pt.tensor4("x", dtype=dtype), pt.vector("g", dtype=dtype), pt.vector("b", dtype=dtype)
    gy = pt.tensor4("gy", dtype=dtype)
    outs = []
    for build in (batch_norm_train, batch_norm_train_reference):
        y, m, i = build(x, g, b, EPS, relu=True)
        cost = (y * gy).sum() + 0.3 * (m ** 2).sum() + 0.2 * (i ** 2).sum()
        gx, gg, gb = pytensor.grad(cost, [x, g, b])
        outs += [y, gx, gg, gb, pytensor.grad((gx ** 2).sum(), x)]
    f = function([x, g, b, gy], outs)
    # the fused build is one BatchNormTrain and its gradients, all with the rectifier; the graph form has none
    ops = [n.op for n in f.maker.fgraph.toposort()]
    forward = [op for op in ops if type(op) is BatchNormTrain]
    backward = [op for op in ops if type(op) is BatchNormTrainGrad]
    assert len(forward) == 1 and forward[0].relu
    assert backward and all(op.relu for op in backward)
    data = _data((4, 3, 5, 6), dtype)
    res = f(*data)
    assert (res[0] >= 0).all() and (res[0] == 0).any() and (res[0] > 0).any()
    for got, ref in zip(res[:5], res[5:]):
        np.testing.assert_allclose(got, ref, **TOL[dtype])


def test_relu_c_equals_perform_and_verify_grad():
    from pytensor.compile.mode import Mode

    x, g, b, gy = pt.tensor4("x"), pt.vector("g"), pt.vector("b"), pt.tensor4("gy")
    y = batch_norm_train(x, g, b, EPS, relu=True)[0]
    outs = [y, *pytensor.grad((y * gy).sum(), [x, g, b])]
    data = _data((3, 2, 4, 5), "float32")
    for got, ref in zip(function([x, g, b, gy], outs)(*data),
                        function([x, g, b, gy], outs, mode=Mode(linker="py", optimizer="fast_run"))(*data)):
        np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-5)
    rng = np.random.default_rng(5)
    xv, gv, bv, _ = _data((3, 2, 3, 2), "float64")
    verify_grad(lambda x, g, b: batch_norm_train(x, g, b, EPS, relu=True)[0], [xv, gv, bv], rng=rng,
                mode=get_mode())
    yv = np.maximum(rng.standard_normal((3, 2, 3, 2)), 0)
    mean, inv = rng.standard_normal(2), rng.uniform(0.5, 2.0, 2)
    for k in range(3):
        verify_grad(lambda x, g, m, i, dy, k=k: BatchNormTrainGrad(EPS, relu=True)(x, g, m, i, dy, yv)[k],
                    [xv, gv, mean, inv, rng.standard_normal((3, 2, 3, 2))], rng=rng, mode=get_mode())


def test_relu_grad_op_needs_the_forward_output():
    x, g, m, i, dy = pt.tensor4("x"), pt.vector("g"), pt.vector("m"), pt.vector("i"), pt.tensor4("dy")
    with pytest.raises(TypeError, match="sixth input"):
        BatchNormTrainGrad(EPS, relu=True)(x, g, m, i, dy)
    with pytest.raises(TypeError, match="only taken with relu=True"):
        BatchNormTrainGrad(EPS)(x, g, m, i, dy, dy)
    assert "relu" in str(BatchNormTrain(EPS, relu=True)) and "relu" not in str(BatchNormTrain(EPS))
