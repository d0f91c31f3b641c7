"""One training step of a tiny CRMN compiled with mode="JAX" equals the same step
compiled with our C default, from a statically shaped input (every Op of the graph has a JAX implementation,
the fused BatchNorm pair included)."""

import numpy as np
import pytensor.tensor as pt
import pytest

import crmn_legacy  # noqa: F401
from crmn_legacy import random as crmn_random
from crmn_legacy.layers import get_all_param_values, set_all_param_values
from crmn_legacy.models import crmn
from crmn_legacy.ops.batchnorm import BatchNormTrain
from crmn_legacy.training.step import compile_training_step, training_step

pytestmark = pytest.mark.jax  # in every run where JAX is installed: ~15 s once the C modules are compiled


def test_jax_training_step_equals_c_training_step():
    crmn_random.set_rng(11)
    # JAX needs concrete shapes inside jit: a fully static input shape lets every
    # shape (option-A shortcut zeros, pooling reshapes) fold to constants.
    x_var = pt.tensor("x", dtype="float32", shape=(4, 3, 8, 8))
    net = crmn(1, 0.25, num_classes=3, input_var=x_var, input_shape=(None, 3, 8, 8))
    step = training_step(net)
    rng = np.random.default_rng(2)
    x = rng.standard_normal((4, 3, 8, 8)).astype("float32")
    y = rng.integers(0, 3, 4).astype("int32")
    start = get_all_param_values(net)
    results = []
    for mode in (None, "JAX"):
        set_all_param_values(net, start)
        for v in step.velocities:
            v.set_value(np.zeros_like(v.get_value()))
        fn = compile_training_step(step, mode=mode)
        if mode is None:
            assert any(isinstance(n.op, BatchNormTrain) for n in fn.maker.fgraph.apply_nodes)
        outs = [np.asarray(o, dtype="float64") for o in fn(x, y)]
        results.append((outs, get_all_param_values(net), [v.get_value() for v in step.velocities]))
    (o_c, p_c, v_c), (o_j, p_j, v_j) = results
    for a, b in zip(o_c, o_j):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    for a, b in zip(p_c + v_c, p_j + v_j):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
