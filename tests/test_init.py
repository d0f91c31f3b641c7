"""crmn_legacy.init and crmn_legacy.random."""

import math

import numpy as np
import pytest

import crmn_legacy  # noqa: F401
from crmn_legacy import init
from crmn_legacy.random import get_rng, set_rng


def test_constant():
    v = init.Constant(-3.0)((4, 5))
    assert v.dtype == np.float32 and v.shape == (4, 5) and np.all(v == -3.0)


def test_he_normal_std_uses_gain_sqrt2_by_default():
    w = init.HeNormal(rng=np.random.default_rng(0))((64, 32, 3, 3))
    fan_in = 32 * 9
    assert abs(w.std() - math.sqrt(2.0 / fan_in)) < 0.02 * math.sqrt(2.0 / fan_in)
    d = init.HeNormal(gain=1.0, rng=np.random.default_rng(0))((400, 300))
    assert abs(d.std() - math.sqrt(1.0 / 400)) < 0.02 * math.sqrt(1.0 / 400)
    assert init.HeNormal(gain="relu").gain == pytest.approx(math.sqrt(2.0))


@pytest.mark.parametrize("shape", [(50, 20), (20, 50), (30, 30)])
def test_orthogonal(shape):
    w = init.Orthogonal(gain=2.0, rng=np.random.default_rng(1))(shape).astype(np.float64)
    small = min(shape)
    gram = w.T @ w if shape[0] >= shape[1] else w @ w.T
    np.testing.assert_allclose(gram, 4.0 * np.eye(small), atol=1e-4)


def test_set_rng_reproducible_and_checked():
    set_rng(7)
    a = init.Normal(1.0)((3, 3))
    set_rng(np.random.default_rng(7))
    b = init.Normal(1.0)((3, 3))
    np.testing.assert_array_equal(a, b)
    assert isinstance(get_rng(), np.random.Generator)
    with pytest.raises(TypeError):
        set_rng("seed")


def test_bad_shapes():
    with pytest.raises(ValueError, match="> 0"):
        init.Constant(0)((3, 0))
    with pytest.raises(ValueError, match=">= 2 dimensions"):
        init.HeNormal()((5,))
    with pytest.raises(ValueError, match=">= 2 dimensions"):
        init.Orthogonal()((5,))
