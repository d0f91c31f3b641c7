"""JAX dispatch of the convolution Ops agrees with the C implementation."""

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest

import crmn_legacy  # noqa: F401
from crmn_legacy.runtime.compile import function
from crmn_legacy.ops import Conv2dGradInputs, Conv2dGradWeights, conv2d

pytestmark = pytest.mark.jax

RNG = np.random.default_rng(7)


def _rand(*shape):
    return RNG.standard_normal(shape).astype("float32")


@pytest.mark.parametrize(
    "xshape, wshape, stride, pad",
    [
        ((3, 2, 7, 6), (4, 2, 3, 3), 2, "half"),
        ((1, 3, 5, 8), (2, 3, 1, 1), 1, "valid"),
        ((2, 2, 6, 5), (3, 2, 2, 3), (1, 2), (1, 0)),
    ],
)
def test_jax_matches_c_outputs_and_gradients(xshape, wshape, stride, pad):
    x, w = pt.tensor4("x"), pt.tensor4("w")
    y = conv2d(x, w, stride=stride, pad=pad)
    cost = (pt.tanh(y) ** 2).sum()
    gx, gw = pytensor.grad(cost, [x, w])
    ggx = pytensor.grad((gw**2).sum(), x)  # second derivative through the grad Ops
    outs = [y, gx, gw, ggx]
    xv, wv = _rand(*xshape), _rand(*wshape)
    res_c = function([x, w], outs)(xv, wv)
    res_j = function([x, w], outs, mode="JAX")(xv, wv)
    for c, j in zip(res_c, res_j):
        assert c.shape == j.shape
        np.testing.assert_allclose(np.asarray(j), c, rtol=2e-4, atol=2e-4 * np.abs(c).max())


def test_jax_gradient_ops_with_constant_shapes():
    x, w, gy = pt.tensor4("x"), pt.tensor4("w"), pt.tensor4("gy")
    dw = Conv2dGradWeights(2, "half")(x, gy, (3, 3))
    dx = Conv2dGradInputs(2, "half")(w, gy, (7, 6))
    xv, wv, gyv = _rand(2, 3, 7, 6), _rand(4, 3, 3, 3), _rand(2, 4, 4, 3)
    res_c = function([x, w, gy], [dw, dx])(xv, wv, gyv)
    res_j = function([x, w, gy], [dw, dx], mode="JAX")(xv, wv, gyv)
    for c, j in zip(res_c, res_j):
        np.testing.assert_allclose(np.asarray(j), c, rtol=2e-4, atol=2e-4 * np.abs(c).max())
