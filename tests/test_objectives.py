"""Cross-entropy and accuracy against numpy hand computation."""

import numpy as np
import pytensor.tensor as pt
from pytensor.tensor.special import softmax

import crmn_legacy  # noqa: F401
from crmn_legacy.runtime.compile import function
from crmn_legacy.objectives import aggregate, categorical_accuracy, categorical_crossentropy


def _np_softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def test_crossentropy_and_accuracy_match_hand_computation():
    z = pt.matrix("z")
    y = pt.ivector("y")
    p = softmax(z, axis=-1)
    f = function([z, y], [aggregate(categorical_crossentropy(p, y)), categorical_accuracy(p, y).mean()])
    rng = np.random.default_rng(0)
    zv = rng.normal(size=(5, 4)).astype("float32")
    yv = np.array([0, 1, 2, 3, 1], dtype="int32")
    ce, acc = f(zv, yv)
    pv = _np_softmax(zv.astype(np.float64))
    assert np.isclose(ce, -np.log(pv[np.arange(5), yv]).mean(), rtol=1e-5)
    assert np.isclose(acc, (pv.argmax(1) == yv).mean())


def test_crossentropy_uses_logits_for_softmax_so_no_inf():
    """A probability that underflows in float32 still gives a finite loss."""
    z = pt.matrix("z")
    y = pt.ivector("y")
    f = function([z, y], categorical_crossentropy(softmax(z, axis=-1), y))
    out = f(np.array([[0.0, 200.0]], dtype="float32"), np.array([0], dtype="int32"))
    assert np.isfinite(out).all() and np.isclose(out[0], 200.0)


def test_crossentropy_on_plain_probabilities_and_sum():
    p = pt.matrix("p")
    y = pt.ivector("y")
    f = function([p, y], aggregate(categorical_crossentropy(p, y), "sum"))
    pv = np.array([[0.25, 0.75], [0.5, 0.5]], dtype="float32")
    assert np.isclose(f(pv, np.array([1, 0], dtype="int32")), -np.log(0.75) - np.log(0.5), rtol=1e-6)
