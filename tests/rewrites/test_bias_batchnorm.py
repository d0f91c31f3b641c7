"""crmn_legacy.rewrites.bias_batchnorm: a bias in front of a training-mode BatchNorm is dropped at compile time."""

import collections

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest

import crmn_legacy  # noqa: F401
from crmn_legacy.runtime.compile import function, get_mode
from crmn_legacy.ops import AddChannelBias, ChannelSum, add_channel_bias, batch_norm_train, conv2d

REWRITES = ("crmn_bn_train_absorbs_bias", "crmn_bn_grad_absorbs_bias", "crmn_bias_grad_through_bn_is_zero")


def _ops(fn):
    return collections.Counter(type(n.op).__name__ for n in fn.maker.fgraph.apply_nodes)


def _graph(relu, extra_reader=False):
    """z = conv(x, w) + b; (out, mean, inv) = BN(z); loss = sum(out * r) [+ sum(z) when extra_reader]."""
    x, r = pt.tensor4("x"), pt.tensor4("r")
    w, b = pt.tensor4("w"), pt.vector("b")
    gamma, beta = pt.vector("gamma"), pt.vector("beta")
    z = add_channel_bias(conv2d(x, w), b)
    out, mean, inv = batch_norm_train(z, gamma, beta, relu=relu)
    loss = (out * r).sum() + (0.1 * z.sum() if extra_reader else 0)
    grads = pytensor.grad(loss, [w, b, gamma, beta])
    return [x, r, w, b, gamma, beta], [out, mean, inv, *grads]


def _values(rng):
    x = rng.standard_normal((4, 3, 6, 5)).astype("float32")
    r = rng.standard_normal((4, 5, 6, 5)).astype("float32")
    w = (0.3 * rng.standard_normal((5, 3, 3, 3))).astype("float32")
    b = rng.standard_normal(5).astype("float32")
    gamma = (1 + 0.1 * rng.standard_normal(5)).astype("float32")
    beta = (0.1 * rng.standard_normal(5)).astype("float32")
    return [x, r, w, b, gamma, beta]


@pytest.mark.parametrize("relu", [False, True])
def test_rewritten_step_equals_the_literal_one(relu):
    ins, outs = _graph(relu)
    fast = function(ins, outs, cache=False)
    literal = function(ins, outs, mode=get_mode(None).excluding(*REWRITES), cache=False)
    assert _ops(fast)["AddChannelBias"] == 0 and _ops(fast)["ChannelSum"] == 0
    assert _ops(literal)["AddChannelBias"] == 1 and _ops(literal)["ChannelSum"] == 1
    vals = _values(np.random.default_rng(0))
    got, ref = fast(*vals), literal(*vals)
    names = ["out", "mean", "inv_std", "dw", "db", "dgamma", "dbeta"]
    for name, a, e in zip(names, got, ref):
        if name == "db":
            assert np.all(a == 0), "the bias gradient is an exact zero"
            np.testing.assert_allclose(e, 0, atol=1e-4)  # literal: rounding noise around 0
        else:
            np.testing.assert_allclose(a, e, rtol=2e-4, atol=2e-5, err_msg=name)
    # the batch mean (which the running average sees) still includes the bias
    vals_b0 = list(vals)
    vals_b0[3] = np.zeros_like(vals[3])
    np.testing.assert_allclose(got[1], fast(*vals_b0)[1] + vals[3], rtol=1e-5, atol=1e-5)


def test_a_second_reader_of_the_biased_tensor_keeps_its_bias_gradient():
    ins, outs = _graph(relu=False, extra_reader=True)
    fast = function(ins, outs, cache=False)
    literal = function(ins, outs, mode=get_mode(None).excluding(*REWRITES), cache=False)
    vals = _values(np.random.default_rng(1))
    db_fast, db_lit = fast(*vals)[4], literal(*vals)[4]
    # d(0.1 * sum z)/db = 0.1 * N*H*W per channel; the BatchNorm path adds ~0
    np.testing.assert_allclose(db_fast, 0.1 * 4 * 6 * 5 * np.ones(5), rtol=1e-4)
    np.testing.assert_allclose(db_fast, db_lit, rtol=1e-4, atol=1e-4)


def test_model_training_graph_has_no_bias_pass_but_inference_keeps_it():
    from crmn_legacy import random as crmn_random
    from crmn_legacy.models import build_model
    from crmn_legacy.training.step import compile_evaluation, compile_training_step, training_step

    crmn_random.set_rng(0)
    net = build_model("resnet", 8, 0.25, 10, input_var=pt.tensor4("inputs"))
    train = compile_training_step(training_step(net))
    assert _ops(train)["AddChannelBias"] == 0 and _ops(train)["ChannelSum"] == 0
    assert _ops(train)["BatchNormTrain"] == 7
    ev = compile_evaluation(net)
    assert sum(isinstance(n.op, AddChannelBias) for n in ev.maker.fgraph.apply_nodes) == 7
    assert not any(isinstance(n.op, ChannelSum) for n in ev.maker.fgraph.apply_nodes)


@pytest.mark.parametrize("static", [True, False])
def test_zero_bias_gradient_is_built_without_shape_inference(static):
    """Regression: pt.zeros(g.shape[1]) ran static-shape inference over the whole graph above g (0.7 s
    per bias in a ResNet-32 compile); the zeros are a constant, or shaped like the node's dgamma."""
    from pytensor.graph.basic import Constant
    from pytensor.graph.fg import FunctionGraph

    from crmn_legacy.ops.batchnorm import BatchNormTrainGrad
    from crmn_legacy.rewrites.bias_batchnorm import local_bias_grad_through_bn_is_zero

    c = 5 if static else None
    x, dy = pt.tensor("x", shape=(None, c, None, None)), pt.tensor("dy", shape=(None, c, None, None))
    gamma, mean, inv = pt.vector("gamma", shape=(c,)), pt.vector("mean", shape=(c,)), pt.vector("inv", shape=(c,))
    dx, dgamma, _ = BatchNormTrainGrad()(x, gamma, mean, inv, dy)
    s = ChannelSum()(dx)
    fg = FunctionGraph([x, gamma, mean, inv, dy], [s, dgamma], clone=False)
    (zeros,) = local_bias_grad_through_bn_is_zero.transform(fg, s.owner)
    if static:
        assert isinstance(zeros, Constant) and zeros.data.shape == (5,) and not zeros.data.any()
    else:
        assert dgamma in zeros.owner.inputs  # fill(dgamma, 0)
