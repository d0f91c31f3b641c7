"""batch_norm_train(x, gamma, beta, epsilon=1e-4) -- fused training-mode batch normalisation Ops.

Two Ops replace the ~30 elementwise and reduction nodes that the graph form of
:class:`~crmn_legacy.layers.BatchNormLayer` (forward and gradient) puts in a
training graph, which cuts both the compile time of deep networks and the
memory passes of a step.  Statistics are per channel (axis 1) over every other
axis, ``M`` values each:

.. math::

    \\mu_c = \\frac1M \\sum x, \\quad \\sigma_c^2 = \\frac1M \\sum (x - \\mu_c)^2, \\quad
    r_c = \\frac{1}{\\sqrt{\\sigma_c^2 + \\epsilon}}, \\quad
    y = (x - \\mu_c)\\, r_c\\, \\gamma_c + \\beta_c

* :class:`BatchNormTrain` ``(x, gamma, beta) -> (y, mean, inv_std)``;
* :class:`BatchNormTrainGrad` ``(x, gamma, mean, inv_std, dy) -> (dx, dgamma, dbeta)``
  with :math:`\\hat x = (x - \\mu_c) r_c`, :math:`d\\beta_c = \\sum dy`,
  :math:`d\\gamma_c = \\sum dy\\,\\hat x` and
  :math:`dx = \\gamma_c r_c (dy - d\\beta_c / M - \\hat x\\, d\\gamma_c / M)`.

With ``relu=True`` both fold in the rectifier that follows most BatchNorms
of a ResNet: the forward returns :math:`\\max(y, 0)` and the gradient Op
takes that output as a sixth input and masks :math:`dy` by :math:`[y > 0]`
first (the subgradient 0 at 0), saving the two elementwise passes of a
separate ``maximum`` and its gradient.

Gradients reaching ``mean`` and ``inv_std`` (not used by training, whose
running averages are updates) are added in graph form:
:math:`\\partial\\mu/\\partial x = 1/M`, :math:`\\partial r/\\partial x = -r^2 \\hat x / M`.
The gradient of :class:`BatchNormTrainGrad` is the gradient of its graph-form
formula, so derivatives of any order exist.  C code in
``c/src/batchnorm_*.{h,c}`` (OpenMP over channels, double accumulators),
NumPy ``perform``, JAX dispatch in :mod:`crmn_legacy.ops.jax.batchnorm`.
"""

import numpy as np
import pytensor
import pytensor.tensor as pt
from pytensor.gradient import DisconnectedType
from pytensor.graph.basic import Apply
from pytensor.link.c.op import COp
from pytensor.link.c.params_type import ParamsType
from pytensor.scalar import float64, int64

from .c.templates import DTYPES as _DTYPES, OpenMPMixin, c_call
from .shape_rule import shape_rule

__all__ = ["batch_norm_train", "BatchNormTrain", "BatchNormTrainGrad", "batch_norm_train_reference",
           "batch_norm_grad_reference"]

def _axes(ndim):
    return (0,) + tuple(range(2, ndim))


def _bcast(v, ndim):
    """A per-channel vector broadcast against an (N, C, ...) tensor."""
    return v.dimshuffle(["x", 0] + ["x"] * (ndim - 2))


def batch_norm_train_reference(x, gamma, beta, epsilon, relu=False):
    """batch_norm_train_reference(x, gamma, beta, epsilon, relu=False) -> (y, mean, inv_std)

    The graph form (what :class:`~crmn_legacy.layers.BatchNormLayer` builds
    with ``impl="graph"``), used for the second derivatives and the tests;
    ``relu`` returns ``max(y, 0)``.
    """
    axes = _axes(x.ndim)
    mean = x.mean(axes)
    inv_std = pt.reciprocal(pt.sqrt(x.var(axes) + epsilon))
    y = (x - _bcast(mean, x.ndim)) * _bcast(inv_std, x.ndim) * _bcast(gamma, x.ndim) + _bcast(beta, x.ndim)
    if relu:
        y = pt.maximum(y, 0)
    return y, mean, inv_std


def batch_norm_grad_reference(x, gamma, mean, inv_std, dy, y=None):
    """batch_norm_grad_reference(x, gamma, mean, inv_std, dy, y=None) -> (dx, dgamma, dbeta) in graph form.

    ``y``: the forward output of a ``relu`` BatchNorm, whose mask ``y > 0`` is applied to ``dy`` first.
    """
    nd, axes = x.ndim, _axes(x.ndim)
    if y is not None:
        dy = pt.switch(pt.gt(y, 0), dy, pt.zeros_like(dy))
    m = pt.cast(pt.prod([x.shape[a] for a in axes]), x.dtype)
    xhat = (x - _bcast(mean, nd)) * _bcast(inv_std, nd)
    dbeta = dy.sum(axes)
    dgamma = (dy * xhat).sum(axes)
    dx = _bcast(gamma * inv_std, nd) * (dy - _bcast(dbeta / m, nd) - xhat * _bcast(dgamma / m, nd))
    return dx, dgamma, dbeta


def _as_x(x, opname):
    x = pt.as_tensor_variable(x)
    if x.ndim < 2 or x.dtype not in _DTYPES:
        raise TypeError(f"{opname}: input must be a float32/float64 tensor of >= 2 dimensions (N, C, ...), "
                        f"got {x.type}")
    return x


def _as_vec(v, x, what, opname):
    v = pt.as_tensor_variable(v)
    if v.ndim != 1:
        raise TypeError(f"{opname}: {what} must be a vector (one value per channel), got {v.type}")
    c, c2 = x.type.shape[1], v.type.shape[0]
    if c is not None and c2 is not None and c != c2:
        raise ValueError(f"{opname}: {what} has {c2} values but the input has {c} channels")
    return pt.cast(v, x.dtype) if v.dtype != x.dtype else v


def _disconnected(g):
    return g is None or isinstance(g.type, DisconnectedType)


class _BatchNormC(OpenMPMixin, COp):
    """Shared C settings: OpenMP, the support code, ``epsilon`` and ``relu`` as params."""

    __props__ = ("epsilon", "relu")
    params_type = ParamsType(epsilon=float64, relu=int64)
    _c_sources = ("batchnorm_common.h", "batchnorm_template.c")

    def __init__(self, epsilon=1e-4, relu=False):
        epsilon = float(epsilon)
        if not epsilon > 0:
            raise ValueError(f"{type(self).__name__}: epsilon must be > 0, got {epsilon}")
        self.epsilon = epsilon
        self.relu = bool(relu)

    def c_headers(self, **kwargs):
        return ["<math.h>", *super().c_headers(**kwargs)]

    def __str__(self):
        return f"{type(self).__name__}{{eps={self.epsilon:g}{', relu' if self.relu else ''}}}"


class BatchNormTrain(_BatchNormC):
    """BatchNormTrain(epsilon=1e-4, relu=False)(x, gamma, beta) -> (y, mean, inv_std)

    Batch normalisation with the mini-batch statistics (see the module
    docstring); ``x`` (N, C, ...), ``gamma``, ``beta``, ``mean``, ``inv_std``
    (C,).  ``relu``: ``y`` is rectified, ``max(y, 0)``.
    """

    def make_node(self, x, gamma, beta):
        name = "BatchNormTrain"
        x = _as_x(x, name)
        gamma, beta = _as_vec(gamma, x, "gamma", name), _as_vec(beta, x, "beta", name)
        c = x.type.shape[1]
        return Apply(self, [x, gamma, beta],
                     [x.type(), pt.tensor(dtype=x.dtype, shape=(c,)), pt.tensor(dtype=x.dtype, shape=(c,))])

    def perform(self, node, inputs, outputs):
        x, gamma, beta = inputs
        axes = _axes(x.ndim)
        shape = (1, -1) + (1,) * (x.ndim - 2)
        mean = x.mean(axes, dtype=np.float64)
        var = ((x - mean.reshape(shape)) ** 2).mean(axes, dtype=np.float64)
        inv = (1.0 / np.sqrt(var + self.epsilon)).astype(x.dtype)
        mean = mean.astype(x.dtype)
        y = (x - mean.reshape(shape)) * inv.reshape(shape) * gamma.reshape(shape) + beta.reshape(shape)
        if self.relu:
            y = np.maximum(y, 0)
        outputs[0][0], outputs[1][0], outputs[2][0] = y.astype(x.dtype), mean, inv

    @shape_rule
    def infer_shape(self, node, shapes):
        xs = shapes[0]
        return [xs, (xs[1],), (xs[1],)]

    def c_code(self, node, name, inputs, outputs, sub):
        p = sub["params"]
        return c_call("crmn_bn_fwd", node, [*inputs, f"{p}->epsilon", f"(int){p}->relu", *(f"&{o}" for o in outputs)],
                      sub)

    def pullback(self, inputs, outputs, output_grads):
        x, gamma, beta = inputs
        y, mean, inv_std = outputs
        gy, gm, gi = output_grads
        if _disconnected(gy):
            gy = pt.zeros_like(x)
        mask = (y,) if self.relu else ()
        dx, dgamma, dbeta = BatchNormTrainGrad(self.epsilon, self.relu)(x, gamma, mean, inv_std, gy, *mask)
        nd, axes = x.ndim, _axes(x.ndim)
        m = pt.cast(pt.prod([x.shape[a] for a in axes]), x.dtype)
        if not _disconnected(gm):
            dx = dx + _bcast(gm / m, nd)
        if not _disconnected(gi):
            xhat = (x - _bcast(mean, nd)) * _bcast(inv_std, nd)
            dx = dx - xhat * _bcast(gi * inv_std ** 2 / m, nd)
        return [dx, dgamma, dbeta]


class BatchNormTrainGrad(_BatchNormC):
    """BatchNormTrainGrad(epsilon=1e-4, relu=False)(x, gamma, mean, inv_std, dy[, y]) -> (dx, dgamma, dbeta)

    The gradient of :class:`BatchNormTrain`'s ``y`` (module docstring).
    ``epsilon`` is not used by the formula (``inv_std`` carries it); it is a
    property so that the pair prints alike.  With ``relu`` the sixth input
    ``y`` (the rectified forward output) masks ``dy`` by ``y > 0``.
    """

    def make_node(self, x, gamma, mean, inv_std, dy, y=None):
        name = "BatchNormTrainGrad"
        x = _as_x(x, name)
        gamma, mean, inv_std = (_as_vec(v, x, w, name) for v, w in
                                ((gamma, "gamma"), (mean, "mean"), (inv_std, "inv_std")))
        dy = pt.as_tensor_variable(dy)
        if dy.ndim != x.ndim:
            raise TypeError(f"{name}: output gradient must have the input's {x.ndim} dimensions, got {dy.type}")
        dy = pt.cast(dy, x.dtype) if dy.dtype != x.dtype else dy
        extra = []
        if self.relu:
            if y is None:
                raise TypeError(f"{name}(relu=True) needs the forward output y as a sixth input")
            y = pt.as_tensor_variable(y)
            if y.ndim != x.ndim:
                raise TypeError(f"{name}: forward output must have the input's {x.ndim} dimensions, got {y.type}")
            extra = [pt.cast(y, x.dtype) if y.dtype != x.dtype else y]
        elif y is not None:
            raise TypeError(f"{name}: a forward output y is only taken with relu=True")
        c = x.type.shape[1]
        return Apply(self, [x, gamma, mean, inv_std, dy, *extra],
                     [x.type(), pt.tensor(dtype=x.dtype, shape=(c,)), pt.tensor(dtype=x.dtype, shape=(c,))])

    def perform(self, node, inputs, outputs):
        x, gamma, mean, inv, dy = inputs[:5]
        if dy.shape != x.shape:
            raise ValueError(f"BatchNormTrainGrad: output gradient shape {dy.shape} != input shape {x.shape}")
        if self.relu:
            if inputs[5].shape != x.shape:
                raise ValueError(f"BatchNormTrainGrad: forward output shape {inputs[5].shape} != input shape {x.shape}")
            dy = np.where(inputs[5] > 0, dy, 0).astype(dy.dtype)
        axes = _axes(x.ndim)
        shape = (1, -1) + (1,) * (x.ndim - 2)
        m = x.size // x.shape[1]
        xhat = (x - mean.reshape(shape)) * inv.reshape(shape)
        dbeta = dy.sum(axes, dtype=np.float64)
        dgamma = (dy * xhat).sum(axes, dtype=np.float64)
        dx = (gamma * inv).reshape(shape) * (dy - (dbeta / m).reshape(shape) - xhat * (dgamma / m).reshape(shape))
        outputs[0][0] = dx.astype(x.dtype)
        outputs[1][0] = dgamma.astype(x.dtype)
        outputs[2][0] = dbeta.astype(x.dtype)

    @shape_rule
    def infer_shape(self, node, shapes):
        xs = shapes[0]
        return [xs, (xs[1],), (xs[1],)]

    def c_code(self, node, name, inputs, outputs, sub):
        args = [*inputs, *([] if self.relu else ["NULL"]), *(f"&{o}" for o in outputs)]
        return c_call("crmn_bn_grad", node, args, sub)

    def pullback(self, inputs, outputs, output_grads):
        # Partial derivatives of the formula: differentiate it on stand-ins for the
        # inputs (mean and inv_std are functions of x upstream; their own paths
        # are followed by the caller's gradient, not here), then substitute.
        dummies = [v.type() for v in inputs]
        refs = batch_norm_grad_reference(*dummies)
        known = {r: g for r, g in zip(refs, output_grads) if not _disconnected(g)}
        if not known:
            return [pt.zeros_like(v) for v in inputs]
        grads = pytensor.gradient.grad(None, dummies, known_grads=known, disconnected_inputs="ignore",
                                       return_disconnected="zero")
        return pytensor.graph.replace.graph_replace(grads, dict(zip(dummies, inputs)), strict=False)


def batch_norm_train(x, gamma, beta, epsilon=1e-4, relu=False):
    """batch_norm_train(x, gamma, beta, epsilon=1e-4, relu=False) -> (y, mean, inv_std)

    Fused training-mode batch normalisation over every axis but 1:
    ``y = (x - mean) * inv_std * gamma + beta`` with the batch's ``mean`` and
    ``inv_std = 1 / sqrt(var + epsilon)`` (biased variance), all returned;
    ``relu=True`` returns ``max(y, 0)`` instead of ``y``.

    Raises
    ------
    TypeError, ValueError
        At graph build time for a non-float or < 2-D input, non-vector
        ``gamma`` / ``beta`` or (when known) a channel-count mismatch.
    """
    return BatchNormTrain(epsilon, relu)(x, gamma, beta)
