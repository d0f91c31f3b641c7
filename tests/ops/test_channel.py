"""Tests of crmn_legacy.ops.channel: AddChannelBias / ChannelSum against NumPy, C
against perform, verify_grad (first and second order), infer_shape, errors, JAX."""

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
from pytensor.compile.mode import Mode
from pytensor.gradient import verify_grad

import crmn_legacy  # noqa: F401
from crmn_legacy.runtime.compile import function, get_mode
from crmn_legacy.ops.channel import AddChannelBias, ChannelSum, add_channel_bias

RNG = np.random.default_rng(13)
MODE = get_mode()
PY_MODE = Mode(linker="py", optimizer="fast_run")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape", [(3, 4, 5, 6), (2, 5), (1, 3, 7), (4, 2, 1, 1)])
def test_values_and_gradients_match_numpy(shape, dtype):
    x = pt.tensor("x", dtype=dtype, shape=(None,) * len(shape))
    b, gy = pt.vector("b", dtype=dtype), pt.tensor("gy", dtype=dtype, shape=(None,) * len(shape))
    y = add_channel_bias(x, b)
    gx, gb = pytensor.grad((y * gy).sum(), [x, b])
    f = function([x, b, gy], [y, gx, gb])
    xv, bv, gyv = (RNG.standard_normal(s).astype(dtype) for s in (shape, shape[1:2], shape))
    yv, gxv, gbv = f(xv, bv, gyv)
    bshape = (1, -1) + (1,) * (len(shape) - 2)
    tol = dict(rtol=1e-5, atol=1e-5) if dtype == "float32" else dict(rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(yv, xv + bv.reshape(bshape), **tol)
    np.testing.assert_allclose(gxv, gyv, **tol)
    axes = (0,) + tuple(range(2, len(shape)))
    np.testing.assert_allclose(gbv, gyv.astype("float64").sum(axis=axes), **tol)
    assert {AddChannelBias, ChannelSum} <= {type(n.op) for n in f.maker.fgraph.toposort()}


def test_c_equals_perform_on_a_large_strided_input():
    x, b = pt.tensor4("x"), pt.vector("b")
    outs = [add_channel_bias(x, b), ChannelSum()(x)]
    xv = RNG.standard_normal((16, 32, 24, 9)).astype("float32").transpose(0, 1, 3, 2)  # strided
    bv = RNG.standard_normal(32).astype("float32")
    for got, ref in zip(function([x, b], outs)(xv, bv), function([x, b], outs, mode=PY_MODE)(xv, bv)):
        np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-4)


def test_verify_grad_first_and_second_order():
    verify_grad(lambda x, b: AddChannelBias()(x, b), [RNG.standard_normal((2, 3, 4, 5)), RNG.standard_normal(3)],
                rng=RNG, mode=MODE)
    verify_grad(lambda x: ChannelSum()(x), [RNG.standard_normal((3, 2, 4))], rng=RNG, mode=MODE)

    def grad_of_energy(x, b):  # gradient of the bias gradient: ChannelSum's own gradient
        return pytensor.grad((ChannelSum()(pt.tanh(add_channel_bias(x, b))) ** 2).sum(), x)

    verify_grad(grad_of_energy, [RNG.standard_normal((2, 3, 2, 2)), RNG.standard_normal(3)], rng=RNG, mode=MODE)


def test_infer_shape():
    x = pt.tensor("x", shape=(None, 4, None, 5))
    assert add_channel_bias(x, pt.vector("b")).type.shape == (None, 4, None, 5)
    assert ChannelSum()(x).type.shape == (4,)
    f = function([x], ChannelSum()(x).shape)
    assert tuple(f(np.zeros((2, 4, 3, 5), "float32"))) == (4,)
    assert not any(isinstance(n.op, ChannelSum) for n in f.maker.fgraph.toposort())


def test_errors():
    with pytest.raises(TypeError, match=">= 2 dimensions"):
        add_channel_bias(pt.vector("v"), pt.vector("b"))
    with pytest.raises(TypeError, match="vector"):
        add_channel_bias(pt.tensor4("x"), pt.matrix("b"))
    with pytest.raises(ValueError, match="3 values but the input has 4 channels"):
        add_channel_bias(pt.tensor("x", shape=(None, 4, 2, 2)), pt.tensor("b", shape=(3,)))
    x, b = pt.tensor4("x"), pt.vector("b")
    f = function([x, b], add_channel_bias(x, b))
    with pytest.raises(ValueError, match="vector of 4 channel values"):
        f(np.zeros((1, 4, 2, 2), "float32"), np.zeros(3, "float32"))


@pytest.mark.jax
def test_jax_matches_c():
    x, b = pt.tensor4("x"), pt.vector("b")
    y = add_channel_bias(x, b)
    gx, gb = pytensor.grad((pt.tanh(y) ** 2).sum(), [x, b])
    ggx = pytensor.grad((gb**2).sum(), x)
    xv, bv = RNG.standard_normal((2, 3, 4, 5)).astype("float32"), RNG.standard_normal(3).astype("float32")
    res_c = function([x, b], [y, gx, gb, ggx])(xv, bv)
    res_j = function([x, b], [y, gx, gb, ggx], mode="JAX")(xv, bv)
    for c, j in zip(res_c, res_j):
        np.testing.assert_allclose(np.asarray(j), c, rtol=1e-4, atol=1e-5 * np.abs(c).max())


def test_inplace_rewrite_where_allowed_and_values_unchanged():
    """The compile-time rewrite adds the bias in place into a fresh intermediate (a conv output) but
    never into an input, and not into an intermediate that another node still reads."""
    from crmn_legacy.ops import conv2d

    x, w, b, c = pt.tensor4("x"), pt.tensor4("w"), pt.vector("b"), pt.vector("c")
    y = conv2d(x, w)
    fresh = add_channel_bias(y, b)            # y is read by nothing else: in place
    shared = add_channel_bias(x * 2, c)       # x * 2 is also an output below: not in place
    direct = add_channel_bias(x, c)           # an input of the function: never in place
    f = function([x, w, b, c], [fresh.sum(), shared, x * 2, direct])
    ops = {(n.inputs[0].owner.op.__class__.__name__ if n.inputs[0].owner else "input"): n.op.inplace
           for n in f.maker.fgraph.toposort() if isinstance(n.op, AddChannelBias)}
    assert ops.get("Conv2d") is True and ops.get("input") is False
    assert not any(n.op.inplace for n in f.maker.fgraph.toposort() if isinstance(n.op, AddChannelBias)
                   and n.inputs[0].owner is not None and n.inputs[0].owner.op.__class__.__name__ != "Conv2d")
    xv = RNG.standard_normal((2, 3, 5, 4)).astype("float32")
    wv = RNG.standard_normal((4, 3, 3, 3)).astype("float32")
    bv = RNG.standard_normal(4).astype("float32")
    b3 = RNG.standard_normal(3).astype("float32")
    keep = xv.copy()
    ref = function([x, w, b, c], [fresh.sum(), shared, x * 2, direct], mode=PY_MODE)
    got = f(xv, wv, bv, b3)
    np.testing.assert_allclose(got[0], ref(xv, wv, bv, b3)[0], rtol=1e-4)
    got = got[1:]
    np.testing.assert_allclose(got[0], 2 * keep + b3.reshape(1, -1, 1, 1), rtol=1e-6)
    np.testing.assert_allclose(got[1], 2 * keep, rtol=1e-6)
    np.testing.assert_allclose(got[2], keep + b3.reshape(1, -1, 1, 1), rtol=1e-6)
    np.testing.assert_array_equal(xv, keep)  # the caller's array is untouched
    assert str(AddChannelBias(inplace=True)) == "AddChannelBias{inplace}"
