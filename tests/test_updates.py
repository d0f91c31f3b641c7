"""SGD + momentum + weight decay against a float64 hand computation.

Model: softmax regression p = softmax(X W + b) with W regularizable and b not.
Loss   J = mean_b CE + lambda * sum(W^2)          (form "l2", Lasagne)
           mean_b CE + lambda/2 * sum(W^2)        (form "half_l2")
Step   v <- mu v - alpha dJ/dtheta ;  theta <- theta + v
"""

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
from pytensor.tensor.special import softmax

import crmn_legacy  # noqa: F401
from crmn_legacy.runtime.compile import function
from crmn_legacy.objectives import aggregate, categorical_crossentropy
from crmn_legacy.regularization import weight_decay_penalty
from crmn_legacy.updates import learning_rate_variable, make_velocities, momentum


def _hand_steps(X, y, W, b, lrs, mu, lam, form):
    W, b = W.astype(np.float64), b.astype(np.float64)
    vW, vb = np.zeros_like(W), np.zeros_like(b)
    onehot = np.eye(W.shape[1])[y]
    for lr in lrs:
        z = X @ W + b
        e = np.exp(z - z.max(1, keepdims=True))
        p = e / e.sum(1, keepdims=True)
        gz = (p - onehot) / len(y)
        decay = 2.0 * lam if form == "l2" else lam   # d/dW of lam*W^2 vs lam/2*W^2
        gW = X.T @ gz + decay * W
        gb = gz.sum(0)                                # biases are not decayed
        vW = mu * vW - lr * gW
        vb = mu * vb - lr * gb
        W, b = W + vW, b + vb
    return W, b, vW, vb


@pytest.mark.parametrize("form", ["l2", "half_l2"])
def test_momentum_weight_decay_matches_hand_computation(form):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(6, 3)).astype("float32")
    y = np.array([0, 1, 2, 1, 0, 2], dtype="int32")
    W0 = rng.normal(size=(3, 3)).astype("float32")
    b0 = rng.normal(size=(3,)).astype("float32")
    W = pytensor.shared(W0.copy(), name="dense.W")
    b = pytensor.shared(b0.copy(), name="dense.b")
    x, t = pt.matrix("x"), pt.ivector("t")
    lam, mu = 0.05, 0.9  # a large lambda so decay visibly matters
    loss = aggregate(categorical_crossentropy(softmax(x @ W + b, axis=-1), t))
    loss = loss + weight_decay_penalty([W], lam, form)
    lr = learning_rate_variable(0.1)
    vel = make_velocities([W, b])
    step = function([x, t], loss, updates=momentum(loss, [W, b], lr, mu, velocities=vel))
    lrs = [0.1, 0.1, 0.01, 0.01]  # a schedule change without recompiling
    for value in lrs:
        lr.set_value(np.float32(value))
        step(X, y)
    hW, hb, hvW, hvb = _hand_steps(X, y, W0, b0, lrs, mu, lam, form)
    np.testing.assert_allclose(W.get_value(), hW, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(b.get_value(), hb, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(vel[0].get_value(), hvW, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(vel[1].get_value(), hvb, rtol=1e-4, atol=1e-6)
    assert vel[0].name == "dense.W.velocity"
    assert W.get_value().dtype == np.float32


def test_forms_differ_by_factor_two():
    W = pytensor.shared(np.full((2, 2), 3.0, dtype="float32"), name="W")
    f = function([], [weight_decay_penalty([W], 1e-4, "l2"), weight_decay_penalty([W], 1e-4, "half_l2")])
    full, half = f()
    assert np.isclose(full, 1e-4 * 36.0) and np.isclose(half, 0.5e-4 * 36.0)
    with pytest.raises(ValueError, match="form"):
        weight_decay_penalty([W], 1e-4, "l1")
