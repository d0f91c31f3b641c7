"""residual_network(n, k, ...): the ONE builder of the paper's ResNets and CRMNs.

``resnet(n, k, ...)`` and :func:`crmn_legacy.models.crmn.crmn` are thin
wrappers; every variant the paper mentions (section 4) is a named option.

Architecture (He et al. 2015, CIFAR; paper section 3.2)
-------------------------------------------------------
input (N, 3, 32, 32)
-> conv1 3x3, 16k maps -> bn1 -> ReLU
-> stage1: n blocks, 16k maps, 32x32
-> stage2: n blocks, 32k maps, 16x16 (first conv stride 2)
-> stage3: n blocks, 64k maps, 8x8   (first conv stride 2)
-> global average pool -> [concat h_L of the memory] -> softmax DenseLayer

A ``"standard"`` block (eq. 1, x_l = x_{l-1} + f(x_{l-1}, {W_l}), then ReLU):

    f(x) = BN(conv3x3(ReLU(BN(conv3x3(x)))))
    x_l  = ReLU(s(x_{l-1}) + f(x_{l-1}))

with s the option-A shortcut (identity, or stride-2 subsampling plus zero
maps: no parameters).  Depth = 2 (convs per block) x 3n + conv1 + softmax
= 6n + 2 weight layers.

Variants (``variant=``)
-----------------------
``"standard"``   as above (the paper's Table-1 models).
``"preact"``     pre-activation blocks (He et al. 2016): f(x) =
                 conv(ReLU(BN(conv(ReLU(BN(x)))))), x_l = s(x_{l-1}) + f(x_{l-1})
                 (no ReLU after the addition); conv1 has no BN/ReLU; a final
                 BN-ReLU ("post") precedes the global pool.
``"bottleneck"`` 1x1 (w) -> 3x3 (w) -> 1x1 (4w) blocks, each conv followed
                 by BN (ReLU after the first two), stage widths w = 16k, 32k,
                 64k, block outputs 4w; depth 9n + 2.
``"preact-bottleneck"`` both.
``"plain"``      standard blocks without the shortcut/addition:
                 x_l = ReLU(BN(conv(ReLU(BN(conv(x_{l-1})))))).

Memory (``memory=``)
--------------------
``None`` (ResNet), ``"lstm"`` (the CRMN, eqs. 2-7) or ``"gru"``.  The output
x_l of every residual block (after the addition and its ReLU; for the
pre-activation variants, after the addition) is 2x2 mean-pooled, flattened
and fed as step l of the memory; conv1 and the global pool are not fed
(section 3.2).  The final hidden state h_L is concatenated with the
global-average-pooled features into the softmax layer.

Parameter names
---------------
``conv1.W``, ``bn1.gamma``, ``stage2.block3.conv1.W``,
``stage2.block3.bn2.beta``, ``stage2.block3.bn2.mean`` (running statistic),
``memory.W_xi``, ``memory.h0``, ``softmax.W``, ``softmax.b``.
"""

import math

from .. import init, nonlinearities
from ..layers import (
    BatchNormLayer,
    ConcatLayer,
    Conv2DLayer,
    DenseLayer,
    ElemwiseSumLayer,
    FlattenLayer,
    GlobalPoolLayer,
    GRULayer,
    InputLayer,
    LSTMLayer,
    NonlinearityLayer,
    Pool2DLayer,
    ShortcutLayer,
)
from ..layers.normalization import DEFAULT_ALPHA, DEFAULT_EPSILON

__all__ = ["residual_network", "resnet", "stage_widths", "VARIANTS", "MEMORIES", "INPUT_SHAPE"]

#: Block variants of :func:`residual_network`.
VARIANTS = ("standard", "preact", "bottleneck", "preact-bottleneck", "plain")
#: Memories of :func:`residual_network`.
MEMORIES = (None, "lstm", "gru")
#: CIFAR / SVHN input shape (N, C, H, W).
INPUT_SHAPE = (None, 3, 32, 32)
#: Output maps of a bottleneck block relative to its inner width (He et al. 2016).
BOTTLENECK_EXPANSION = 4


def stage_widths(k):
    """stage_widths(k) -> (16k, 32k, 64k): the feature maps of the three stages.

    ``k`` is the paper's "F.map 16x" multiplier (1, 1.5, 2, 4 in Table 1;
    1.5 -> 24, 48, 96).  16k must be a positive integer.
    """
    if isinstance(k, bool) or not isinstance(k, (int, float)) or not k > 0 or not math.isfinite(k):
        raise ValueError(f"width multiplier k must be a positive number, got {k!r}")
    base = 16 * k
    if abs(base - round(base)) > 1e-9:
        raise ValueError(f"width multiplier k={k} gives 16k = {base} feature maps: 16k must be an integer")
    base = int(round(base))
    return (base, 2 * base, 4 * base)


def _check_int(name, value, minimum=1):
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")


class _Builder:
    """Holds the options while :func:`residual_network` adds layers."""

    def __init__(self, conv_bias, bn_alpha, bn_epsilon):
        self.conv_bias = conv_bias
        self.bn_alpha = bn_alpha
        self.bn_epsilon = bn_epsilon

    def conv(self, incoming, num_filters, size, stride, name):
        return Conv2DLayer(incoming, num_filters, size, stride=stride, pad="half", W=init.HeNormal(),
                           b=init.Constant(0.0) if self.conv_bias else None, nonlinearity=None, name=name)

    def bn(self, incoming, name, nonlinearity=None):
        return BatchNormLayer(incoming, alpha=self.bn_alpha, epsilon=self.bn_epsilon, name=name,
                              nonlinearity=nonlinearity)

    def bn_relu(self, incoming, name):
        """BatchNorm then ReLU as one layer (one fused Op forward, one backward)."""
        return self.bn(incoming, name, nonlinearity=nonlinearities.rectify)

    @staticmethod
    def relu(incoming, name):
        return NonlinearityLayer(incoming, nonlinearities.rectify, name=name)


def _block(b, x, width, stride, prefix, preact, bottleneck, residual):
    """One residual block; returns its output layer x_l."""
    if bottleneck:
        specs = [(width, 1, stride), (width, 3, 1), (BOTTLENECK_EXPANSION * width, 1, 1)]
    else:
        specs = [(width, 3, stride), (width, 3, 1)]
    out_maps = specs[-1][0]
    h = x
    for j, (maps, size, s) in enumerate(specs, start=1):
        last = j == len(specs)
        if preact:
            h = b.bn_relu(h, f"{prefix}.bn{j}")
            h = b.conv(h, maps, size, s, f"{prefix}.conv{j}")
        else:
            h = b.conv(h, maps, size, s, f"{prefix}.conv{j}")
            h = b.bn_relu(h, f"{prefix}.bn{j}") if not last or not residual else b.bn(h, f"{prefix}.bn{j}")
    if not residual:
        return h
    shortcut = x
    if x.output_shape[1] != out_maps or stride != 1:
        shortcut = ShortcutLayer(x, out_maps, stride=stride, name=f"{prefix}.shortcut")
    out = ElemwiseSumLayer([shortcut, h], name=f"{prefix}.sum")
    if not preact:
        out = b.relu(out, f"{prefix}.relu")
    return out


def residual_network(n, k, num_classes=100, input_var=None, input_shape=INPUT_SHAPE, variant="standard",
                     memory=None, memory_units=100, memory_options=None, conv_bias=True,
                     bn_alpha=DEFAULT_ALPHA, bn_epsilon=DEFAULT_EPSILON):
    """residual_network(n, k, num_classes=100, input_var=None, input_shape=(None, 3, 32, 32), variant="standard", memory=None, memory_units=100, memory_options=None, conv_bias=True, bn_alpha=0.1, bn_epsilon=1e-4)

    Build a ResNet (``memory=None``) or a CRMN (``memory="lstm"``/``"gru"``).

    Parameters
    ----------
    n : int >= 1
        Blocks per stage (depth 6n + 2; 9n + 2 for bottleneck variants).
    k : number
        Width multiplier: stages of 16k, 32k, 64k maps (16k integral).
    num_classes : int
        Softmax outputs (Table 1: CIFAR-100, 100).
    input_var : tensor or None
        Symbolic input of the :class:`InputLayer`.
    input_shape : tuple
        (None, C, H, W); smaller images (e.g. 8x8) build small test nets.
    variant : str
        One of :data:`VARIANTS` (see the module docstring).
    memory : None, "lstm" or "gru"
    memory_units : int
        H, hidden = cell size (paper: 100).
    memory_options : dict or None
        Extra keywords for :class:`LSTMLayer` / :class:`GRULayer`
        (``b_f``, ``outgate_nonlinearity``, ``unroll_scan``, ``slice_weights``, ...).
    conv_bias : bool
        Give every convolution a bias b (initialised to 0, paper section 4).
        ``True`` by default, following the paper's text; with ``False`` (what
        Lasagne's ``batch_norm()`` helper does: it deletes the bias the
        BatchNorm's beta makes redundant) Table 1 is matched too; see
        :mod:`crmn_legacy.models.table1`.
    bn_alpha, bn_epsilon : float
        BatchNorm averaging factor and epsilon.

    Returns
    -------
    DenseLayer
        The softmax output layer, named ``"softmax"``.
    """
    _check_int("n (blocks per stage)", n)
    _check_int("num_classes", num_classes)
    _check_int("memory_units", memory_units)
    widths = stage_widths(k)
    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}; choose one of {VARIANTS}")
    if memory not in MEMORIES:
        raise ValueError(f"unknown memory {memory!r}; choose one of {MEMORIES}")
    input_shape = tuple(input_shape)
    if len(input_shape) != 4 or any(not isinstance(s, int) or s <= 0 for s in input_shape[1:]):
        raise ValueError(f"input_shape must be (None, C, H, W) with known positive C, H, W; got {input_shape}")
    min_hw = 8 if memory is not None else 4
    if min(input_shape[2:]) < min_hw:
        raise ValueError(
            f"input images of {input_shape[2]}x{input_shape[3]} are too small: two stride-2 stages"
            + (" and the 2x2 memory pooling" if memory else "") + f" need at least {min_hw}x{min_hw}"
        )
    preact = variant.startswith("preact")
    bottleneck = variant.endswith("bottleneck")
    residual = variant != "plain"
    b = _Builder(conv_bias, bn_alpha, bn_epsilon)

    net = InputLayer(input_shape, input_var=input_var, name="input")
    net = b.conv(net, widths[0], 3, 1, "conv1")
    if not preact:
        net = b.bn_relu(net, "bn1")
    block_outputs = []
    for s, width in enumerate(widths, start=1):
        for j in range(1, n + 1):
            stride = 2 if (s > 1 and j == 1) else 1
            net = _block(b, net, width, stride, f"stage{s}.block{j}", preact, bottleneck, residual)
            block_outputs.append(net)
    if preact:
        net = b.bn_relu(net, "post.bn")
    features = GlobalPoolLayer(net, name="gap")
    if memory is not None:
        steps = []
        for layer in block_outputs:
            prefix = layer.name.rsplit(".", 1)[0] if layer.name.count(".") >= 2 else layer.name
            pooled = Pool2DLayer(layer, pool_size=2, mode="average", name=f"{prefix}.pool")
            steps.append(FlattenLayer(pooled, name=f"{prefix}.flat"))
        options = dict(memory_options or {})
        cls = LSTMLayer if memory == "lstm" else GRULayer
        try:
            mem = cls(steps, num_units=memory_units, name="memory", **options)
        except TypeError as err:
            raise ValueError(f"bad memory_options for {cls.__name__}: {err}") from None
        features = ConcatLayer([features, mem], axis=1, name="concat")
    return DenseLayer(features, num_classes, W=init.HeNormal(gain=1.0), b=init.Constant(0.0),
                      nonlinearity=nonlinearities.softmax, name="softmax")


def resnet(n, k, num_classes=100, input_var=None, variant="standard", **options):
    """resnet(n, k, num_classes=100, input_var=None, variant="standard", **options) -> softmax DenseLayer

    The paper's ResNet baseline (6n + 2 layers, stages of 16k, 32k, 64k
    maps, option-A shortcuts): :func:`residual_network` with ``memory=None``.
    ``options`` are those of :func:`residual_network`.
    """
    if options.get("memory") is not None:
        raise ValueError("resnet() builds networks without memory; use crmn() for memory='lstm'/'gru'")
    options.pop("memory", None)
    return residual_network(n, k, num_classes=num_classes, input_var=input_var, variant=variant, **options)
