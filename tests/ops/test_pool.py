"""Tests of crmn_legacy.ops.pool: MeanPool / MeanPoolGrad against NumPy, C against
perform, verify_grad (first and second order), infer_shape, errors, JAX."""

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
from pytensor.compile.mode import Mode
from pytensor.gradient import verify_grad

import crmn_legacy  # noqa: F401
from crmn_legacy.runtime.compile import function, get_mode
from crmn_legacy.ops.pool import MeanPool, MeanPoolGrad, mean_pool, mean_pool_grad_reference, mean_pool_reference

RNG = np.random.default_rng(11)
MODE = get_mode()
PY_MODE = Mode(linker="py", optimizer="fast_run")
TOL = {"float32": dict(rtol=1e-5, atol=1e-6), "float64": dict(rtol=1e-12, atol=1e-12)}


def _naive_pool(x, p):
    """Loop-by-loop definition: y[n,c,i,j] = mean of the p x p window."""
    n, c, h, w = x.shape
    y = np.zeros((n, c, h // p, w // p))
    for i in range(h // p):
        for j in range(w // p):
            y[:, :, i, j] = x[:, :, i * p:(i + 1) * p, j * p:(j + 1) * p].mean(axis=(2, 3))
    return y


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape, p", [((3, 4, 8, 6), 2), ((1, 2, 7, 9), 2), ((2, 3, 9, 10), 3), ((2, 1, 4, 4), 1)])
def test_forward_and_gradient_match_numpy(shape, p, dtype):
    x, gy = pt.tensor4("x", dtype=dtype), pt.tensor4("gy", dtype=dtype)
    y = mean_pool(x, p)
    gx = pytensor.grad((y * gy).sum(), x)
    f = function([x, gy], [y, gx])
    xv = RNG.standard_normal(shape).astype(dtype)
    gyv = RNG.standard_normal(shape[:2] + (shape[2] // p, shape[3] // p)).astype(dtype)
    yv, gxv = f(xv, gyv)
    assert yv.dtype == dtype and gxv.dtype == dtype
    np.testing.assert_allclose(yv, _naive_pool(xv.astype("float64"), p), **TOL[dtype])
    expect = np.zeros(shape)
    for i in range(shape[2] // p * p):
        for j in range(shape[3] // p * p):
            expect[:, :, i, j] = gyv[:, :, i // p, j // p] / p**2
    np.testing.assert_allclose(gxv, expect, **TOL[dtype])
    np.testing.assert_allclose(gxv, mean_pool_grad_reference(gyv, shape[2:], p), **TOL[dtype])


def test_c_code_is_used_and_equals_perform():
    x = pt.tensor4("x")
    y = mean_pool(x)
    gx = pytensor.grad((y**2).sum(), x)
    f_c, f_py = function([x], [y, gx]), function([x], [y, gx], mode=PY_MODE)
    assert {MeanPool, MeanPoolGrad} <= {type(n.op) for n in f_c.maker.fgraph.toposort()}
    xv = RNG.standard_normal((5, 3, 9, 8)).astype("float32")
    for got, ref in zip(f_c(xv), f_py(xv)):
        np.testing.assert_allclose(got, ref, rtol=1e-6, atol=1e-7)


def test_non_contiguous_input():
    x = pt.tensor4("x")
    f = function([x], mean_pool(x))
    xv = RNG.standard_normal((4, 6, 8, 3)).astype("float32").transpose(0, 3, 1, 2)  # (4, 3, 6, 8), strided
    np.testing.assert_allclose(f(xv), mean_pool_reference(np.ascontiguousarray(xv), 2), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("p, shape", [(2, (2, 3, 5, 4)), (3, (1, 2, 7, 6))])
def test_verify_grad(p, shape):
    verify_grad(lambda x: MeanPool(p)(x), [RNG.standard_normal(shape)], rng=RNG, mode=MODE)
    out = (shape[2] // p, shape[3] // p)
    verify_grad(lambda gy: MeanPoolGrad(p)(gy, shape[2:]), [RNG.standard_normal(shape[:2] + out)], rng=RNG,
                mode=MODE)


def test_verify_grad_float32_and_second_derivative():
    with pytensor.config.change_flags(floatX="float32"):
        verify_grad(lambda x: MeanPool(2)(x), [RNG.standard_normal((3, 2, 6, 5)).astype("float32")], rng=RNG,
                    mode=MODE, abs_tol=1e-3, rel_tol=1e-3)

    def grad_energy(x):  # d/dx of sum(pool(x)^3): exercises MeanPoolGrad's own gradient
        return pytensor.grad((MeanPool(2)(x) ** 3).sum(), x)

    verify_grad(grad_energy, [RNG.standard_normal((2, 2, 4, 6))], rng=RNG, mode=MODE)


def test_infer_shape_and_static_shapes():
    x = pt.tensor("x", shape=(None, 3, 9, None))
    y = mean_pool(x, 2)
    assert y.type.shape == (None, 3, 4, None)
    f = function([x], y.shape)
    assert tuple(f(np.zeros((2, 3, 9, 7), "float32"))) == (2, 3, 4, 3)
    assert not any(isinstance(n.op, MeanPool) for n in f.maker.fgraph.toposort())  # shape without computing
    g = MeanPoolGrad(2)(pt.tensor4("gy"), (9, 7))
    assert g.type.shape[2:] == (9, 7)


def test_errors_at_build_time():
    with pytest.raises(TypeError, match="4-D"):
        mean_pool(pt.matrix("m"))
    with pytest.raises(TypeError, match="float32/float64"):
        mean_pool(pt.tensor4("i", dtype="int32"))
    with pytest.raises(ValueError, match="positive int"):
        MeanPool(0)
    with pytest.raises(ValueError, match="smaller than the 2x2 pool"):
        mean_pool(pt.tensor("x", shape=(None, 1, 1, 4)))
    with pytest.raises(TypeError, match="ishape"):
        MeanPoolGrad(2)(pt.tensor4("gy"), pt.vector("s"))


def test_errors_at_run_time_are_python_errors():
    x, gy, hw = pt.tensor4("x"), pt.tensor4("gy"), pt.lvector("hw")
    f = function([x], mean_pool(x, 3))
    with pytest.raises(ValueError, match="smaller than the 3x3 pool"):
        f(np.zeros((1, 1, 2, 5), "float32"))
    g = function([gy, hw], MeanPoolGrad(2)(gy, hw))
    with pytest.raises(ValueError, match="does not come from a 2x2 pooling"):
        g(np.zeros((1, 1, 3, 3), "float32"), np.array([8, 6]))


@pytest.mark.jax
def test_jax_matches_c():
    x = pt.tensor4("x")
    y = mean_pool(x, 2)
    gx = pytensor.grad((pt.tanh(y) ** 2).sum(), x)
    ggx = pytensor.grad((gx**2).sum(), x)
    xv = RNG.standard_normal((2, 3, 7, 6)).astype("float32")
    res_c = function([x], [y, gx, ggx])(xv)
    res_j = function([x], [y, gx, ggx], mode="JAX")(xv)
    for c, j in zip(res_c, res_j):
        np.testing.assert_allclose(np.asarray(j), c, rtol=1e-5, atol=1e-6)


@pytest.mark.jax
def test_jax_grad_op_with_a_constant_shape():
    """Regression: a constant ``ishape`` reaches the jitted function as a traced array; the
    dispatch must read the constant from the node (the tour's CRMN failed with ConcretizationTypeError)."""
    gy = pt.tensor4("gy")
    dx = MeanPoolGrad(2)(gy, (7, 6))
    gyv = RNG.standard_normal((2, 3, 3, 3)).astype("float32")
    np.testing.assert_allclose(np.asarray(function([gy], dx, mode="JAX")(gyv)), function([gy], dx)(gyv), rtol=1e-6)
