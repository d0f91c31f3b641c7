"""One whole float32 CRMN training step, compiled the way training compiles it (our default mode: C Ops,
every rewrite of ours and PyTensor's ``fast_run``), against an independent reference: the same model with
the same values in float64, evaluated by PyTensor's Python linker with no rewrites at all, i.e. NumPy (our
Ops' ``perform``, each checked against NumPy references and finite differences in tests/ops) and PyTensor's
own symbolic gradient.

Compared: the loss, accuracy and objective; every gradient; every updated parameter, velocity and
BatchNorm running statistic, each to float32 precision (max |ours - reference| <= REL x max |reference|).

Documented deviation (RESULTS.md, "bias before BatchNorm"): in our default mode the bias of a
convolution that feeds a training-mode BatchNorm is dropped, BN(y + b) = BN(y), so its gradient is
*exactly* 0 and the parameter only moves by its momentum; mathematically the gradient is 0 as well, and the
float64 reference computes it as a rounding residue.  Those gradients are compared accordingly (exact 0 in
our step, below 1e-12 of the weights' gradient in the reference); the updated biases and the running means,
which the rewrite forms as mean(y) + b, are compared like every other value.
"""

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
from pytensor.compile.mode import Mode

import crmn_legacy  # noqa: F401
from crmn_legacy import random as crmn_random
from crmn_legacy.layers import BatchNormLayer, Conv2DLayer, get_all_layers, get_all_params
from crmn_legacy.models import crmn
from crmn_legacy.ops.batchnorm import BatchNormTrain
from crmn_legacy.ops.tanh import DoubleExpTanh
from crmn_legacy.training.step import compile_training_step, training_step

LR, MU, BATCH, CLASSES = 0.1, 0.9, 6, 4
#: max |ours - reference| / max |reference| per tensor.  float32 has eps = 6e-8; a value of the step is a
#: sum of up to a few thousand rounded products (3x3 x 64 maps x 16 pixels x 6 images), and BatchNorm and the
#: softmax subtract nearly equal numbers, so ~1e-6 is what float32 gets; 1e-5 leaves room for summation orders.
REL = 1e-5


def _build(dtype):
    """CRMN n=1 (depth 8) k=1 on 16x16 images and its training step, built with floatX = ``dtype``."""
    with pytensor.config.change_flags(floatX=dtype):
        crmn_random.set_rng(7)
        net = crmn(1, 1, num_classes=CLASSES, input_var=pt.tensor4("x"), input_shape=(None, 3, 16, 16))
        return net, training_step(net, learning_rate=LR, momentum_coef=MU, weight_decay=1e-3)


def _biases_before_batchnorm(net):
    return [lay.input_layer.b for lay in get_all_layers(net)
            if isinstance(lay, BatchNormLayer) and isinstance(lay.input_layer, Conv2DLayer)
            and lay.input_layer.b is not None]


def _randomise_state(net, step, rng):
    """Non-trivial starting values, so that every term of the step matters: conv biases (the rewritten
    path), gamma/beta, running statistics, and velocities (the momentum term; about alpha x a gradient,
    so that recovering the gradient from v1 = mu v0 - alpha g does not cancel digits away)."""
    for p in get_all_params(net, statistic=None):
        v = p.get_value()
        if p.name.endswith((".b", ".beta", ".mean")):
            v = rng.normal(0.0, 0.2, v.shape)
        elif p.name.endswith((".gamma", ".inv_std")):
            v = rng.uniform(0.5, 1.5, v.shape)
        p.set_value(np.asarray(v, dtype=p.dtype))
    for vel in step.velocities:
        vel.set_value(rng.normal(0.0, 1e-4, vel.get_value().shape).astype(vel.dtype))


def _check(name, got, ref, rel=REL, atol=0.0):
    got, ref = np.asarray(got, dtype=np.float64), np.asarray(ref, dtype=np.float64)
    assert got.shape == ref.shape, name
    scale = np.abs(ref).max()
    err = np.abs(got - ref).max()
    assert err <= rel * scale + atol, f"{name}: max |diff| {err:.3g} > {rel:g} x max |ref| {scale:.3g} + {atol:.3g}"


@pytest.fixture(scope="module")
def one_step():
    """One training step of our float32 CRMN in the default mode and of its float64 NumPy reference."""
    net, step = _build("float32")
    rng = np.random.default_rng(0)
    _randomise_state(net, step, rng)
    x = rng.standard_normal((BATCH, 3, 16, 16)).astype(np.float32)
    y = np.arange(BATCH, dtype=np.int32) % CLASSES

    # the reference: same model, same values, float64; PyTensor's graph on the Python linker, no rewrites
    net64, step64 = _build("float64")
    for p, q in zip(get_all_params(net, statistic=None) + step.velocities,
                    get_all_params(net64, statistic=None) + step64.velocities):
        assert p.name == q.name and q.dtype == "float64"
        q.set_value(p.get_value().astype(np.float64))
    updated64 = list(step64.updates)
    grads64 = pytensor.grad(step64.outputs[2], step64.trainable)
    with pytensor.config.change_flags(floatX="float64"):
        ref_fn = pytensor.function(step64.inputs, step64.outputs + grads64 + [step64.updates[v] for v in updated64],
                                   mode=Mode(linker="py", optimizer=None))
    ref = ref_fn(x.astype(np.float64), y)
    n_out, n_g = len(step64.outputs), len(grads64)
    reference = {"outputs": ref[:n_out], "grads": dict(zip([p.name for p in step64.trainable], ref[n_out:n_out + n_g])),
                 "updates": {v.name: r for v, r in zip(updated64, ref[n_out + n_g:])}}

    before = {v.name: v.get_value() for v in step.updates}
    fn = compile_training_step(step)  # what Trainer and bench compile
    outputs = fn(x, y)
    after = {v.name: v.get_value() for v in step.updates}
    return net, step, fn, outputs, before, after, reference


def _scalar_ops(op):
    """The scalar Ops of an Elemwise, those inside a fused Composite included."""
    scalar = getattr(op, "scalar_op", None)
    inner = getattr(scalar, "fgraph", None)
    return [scalar] if inner is None else [n.op for n in inner.apply_nodes]


def test_default_mode_is_the_rewritten_c_graph(one_step):
    net, step, fn, *_ = one_step
    assert type(fn.vm).__name__ == "CVM"  # PyTensor's C virtual machine: our Ops run their C code
    ops = [n.op for n in fn.maker.fgraph.apply_nodes]
    assert any(isinstance(op, BatchNormTrain) for op in ops)
    # our rewrites ran: float32 tanh by crmn_float32_tanh (inside the fused LSTM gate Composites)
    assert any(isinstance(s, DoubleExpTanh) for op in ops for s in _scalar_ops(op))
    # the step updates every parameter, velocity and BatchNorm statistic
    assert set(step.updates) == set(step.trainable) | set(step.velocities) | set(get_all_params(net, statistic=True))


def test_loss_accuracy_objective_equal_reference(one_step):
    *_, outputs, before, after, reference = one_step
    for name, got, ref in zip(("cross-entropy", "accuracy", "objective"), outputs, reference["outputs"]):
        _check(name, got, ref, rel=1e-6)


def test_every_gradient_equals_reference(one_step):
    """Our step's gradient, recovered from its velocity update v1 = mu v0 - alpha g."""
    net, step, fn, outputs, before, after, reference = one_step
    zero_grad = {b.name for b in _biases_before_batchnorm(net)}
    assert len(zero_grad) == 7  # conv1 and the 2 convs of each of the 3 blocks
    for p, vel in zip(step.trainable, step.velocities):
        g_ref = reference["grads"][p.name]
        g = (MU * before[vel.name].astype(np.float64) - after[vel.name]) / LR
        if p.name in zero_grad:  # the documented deviation: exactly 0 in our step, ~0 in the reference
            # v1 is mu v0 correctly rounded to float32: no gradient term at all
            np.testing.assert_allclose(after[vel.name], MU * before[vel.name].astype(np.float64), rtol=2.0 ** -24,
                                       atol=0, err_msg=p.name)
            g_w = reference["grads"][p.name[:-len(".b")] + ".W"]
            assert np.abs(g_ref).max() <= 1e-12 * np.abs(g_w).max(), p.name
        else:
            _check(f"gradient of {p.name}", g, g_ref)


def test_updated_parameters_velocities_and_statistics_equal_reference(one_step):
    net, step, fn, outputs, before, after, reference = one_step
    assert len(get_all_params(net, statistic=True)) == 2 * 7  # running mean and inv_std of the 7 BatchNorms
    assert set(reference["updates"]) == set(after)
    for name, ref in reference["updates"].items():
        assert np.abs(ref - before[name]).max() > 0, f"{name} did not change in the reference step"
        _check(name, after[name], ref)
        # the change itself, not only the new value (a parameter moves by far less than its size).  The
        # update rounds p-sized values in float32 twice, (p - alpha g) - p and p + v: up to 2 x half an ulp of p
        ulp = 2.0 ** -23 * np.abs(after[name]).max()
        _check(f"change of {name}", after[name] - before[name].astype(np.float64), ref - before[name], atol=ulp)
