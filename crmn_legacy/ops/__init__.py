"""crmn_legacy.ops -- the Ops the model needs that PyTensor 3 lacks.

:func:`conv2d` and the :class:`Conv2d` / :class:`Conv2dGradWeights` /
:class:`Conv2dGradInputs` family (:mod:`crmn_legacy.ops.conv`). Importing this
package also registers the JAX dispatch of those Ops when JAX is installed
(:mod:`crmn_legacy.ops.jax_conv`).
"""

from .conv import Conv2d, Conv2dGradInputs, Conv2dGradWeights, conv2d, conv_output_shape

__all__ = ["conv2d", "conv_output_shape", "Conv2d", "Conv2dGradWeights", "Conv2dGradInputs"]

try:  # JAX is an optional extra: register the JAX dispatch only when it imports
    import jax as _jax  # noqa: F401
except ImportError:
    pass
else:
    from . import jax_conv as _jax_conv  # noqa: F401  (registers with jax_funcify)
