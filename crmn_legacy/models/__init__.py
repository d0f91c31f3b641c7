"""The paper's models: ResNet baselines and CRMNs, and Table 1.

``build_model(arch, depth, width, num_classes, **options)`` maps the paper's
(layers, "F.map 16x") description onto :func:`resnet` / :func:`crmn`.

Depth conventions (``depth_convention=``)
-----------------------------------------
``"he"`` (default)  depth = 6n + 2 (9n + 2 for bottleneck variants): He et
                    al.'s CIFAR count (conv1 + 2 convs x 3n blocks + softmax),
                    the paper's "6 x n + 2" (section 3.2).  All Table-1 depths
                    (32, 62, 92, 104, 134) and 56 are of this form.
``"wrn"``           depth = 6n + 4, Zagoruyko & Komodakis's Wide-ResNet count.
                    Tables 2 and 3's "28 layers; 160 feature maps" fits no
                    6n + 2; it is exactly WRN-28-10 (28 layers, 160 maps:
                    ref. [28], which the paper quotes with those very words),
                    i.e. n = 4 blocks per stage, k = 10.  We read "28 layers"
                    that way: ``build_model("crmn", 28, 10, 100,
                    depth_convention="wrn")`` = ``crmn(4, 10)`` (26 layers in
                    He's count).  :data:`PAPER_CONFIGS` records it.
"""

import inspect

from ..layers import count_params
from .crmn import crmn
from .resnet import INPUT_SHAPE, MEMORIES, VARIANTS, residual_network, resnet, stage_widths
from .table1 import TABLE1, Table1Row, matches_paper, paper_millions

__all__ = [
    "build_model", "blocks_per_stage", "resnet", "crmn", "residual_network", "stage_widths",
    "count_params", "TABLE1", "Table1Row", "paper_millions", "matches_paper", "PAPER_CONFIGS",
    "ARCHS", "DEPTH_CONVENTIONS", "VARIANTS", "MEMORIES", "INPUT_SHAPE",
]

ARCHS = ("resnet", "crmn")
DEPTH_CONVENTIONS = ("he", "wrn")

#: The configurations of Tables 2 and 3 and the SVHN result, as build_model keyword sets.
PAPER_CONFIGS = {
    "cifar100-32-64": dict(arch="crmn", depth=32, width=4, num_classes=100),
    "cifar100-28-160": dict(arch="crmn", depth=28, width=10, num_classes=100, depth_convention="wrn"),
    "cifar10-56-48": dict(arch="crmn", depth=56, width=3, num_classes=10),
    "cifar10-28-160": dict(arch="crmn", depth=28, width=10, num_classes=10, depth_convention="wrn"),
    "svhn-56-48": dict(arch="crmn", depth=56, width=3, num_classes=10),
}


def blocks_per_stage(depth, variant="standard", depth_convention="he"):
    """blocks_per_stage(depth, variant="standard", depth_convention="he") -> n

    Invert depth = 6n + 2 (``"he"``), 9n + 2 (``"he"``, bottleneck variants)
    or 6n + 4 (``"wrn"``); raises ``ValueError`` for other depths.
    """
    if isinstance(depth, bool) or not isinstance(depth, int):
        raise ValueError(f"depth must be an int, got {depth!r}")
    if depth_convention not in DEPTH_CONVENTIONS:
        raise ValueError(f"depth_convention must be one of {DEPTH_CONVENTIONS}, got {depth_convention!r}")
    bottleneck = str(variant).endswith("bottleneck")
    if depth_convention == "wrn":
        if bottleneck:
            raise ValueError("depth_convention='wrn' (6n+4) is defined for basic blocks only, not bottleneck")
        per, extra, form = 6, 4, "6n+4"
    else:
        per, extra, form = (9, 2, "9n+2") if bottleneck else (6, 2, "6n+2")
    if depth < per + extra or (depth - extra) % per:
        hint = ""
        if depth_convention == "he" and not bottleneck and depth >= 10 and (depth - 4) % 6 == 0:
            hint = (f"; depth {depth} is 6n+4 with n={(depth - 4) // 6} (Wide-ResNet count, e.g. the paper's "
                    "'28 layers'): pass depth_convention='wrn'")
        raise ValueError(f"depth {depth} is not of the form {form} with n >= 1 (variant {variant!r}){hint}")
    return (depth - extra) // per


def build_model(arch, depth, width, num_classes=100, depth_convention="he", **options):
    """build_model(arch, depth, width, num_classes=100, depth_convention="he", **options) -> softmax DenseLayer

    Parameters
    ----------
    arch : "resnet" or "crmn"
    depth : int
        Layers as the paper counts them (see the module docstring).
    width : number
        The multiplier k ("F.map 16x"): 16k, 32k, 64k maps.
    num_classes : int
    depth_convention : "he" or "wrn"
    **options
        Passed on to :func:`resnet` / :func:`crmn` (``variant``, ``memory``,
        ``input_var``, ``input_shape``, ``conv_bias``, ...).
    """
    if arch not in ARCHS:
        raise ValueError(f"arch must be one of {ARCHS}, got {arch!r}")
    known = set(inspect.signature(residual_network).parameters) - {"n", "k", "num_classes"}
    unknown = sorted(set(options) - known)
    if unknown:
        raise ValueError(f"unknown model option(s) {', '.join(unknown)}; the options are {', '.join(sorted(known))}")
    n = blocks_per_stage(depth, options.get("variant", "standard"), depth_convention)
    builder = resnet if arch == "resnet" else crmn
    return builder(n, width, num_classes=num_classes, **options)
