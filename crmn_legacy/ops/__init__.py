"""crmn_legacy.ops -- the Ops the model needs that PyTensor 3 lacks.

:func:`conv2d` and the :class:`Conv2d` / :class:`Conv2dGradWeights` /
:class:`Conv2dGradInputs` family (:mod:`crmn_legacy.ops.conv`); :func:`batch_norm_train` and the fused
:class:`BatchNormTrain` / :class:`BatchNormTrainGrad` pair
(:mod:`crmn_legacy.ops.batchnorm`); the per-channel bias :func:`add_channel_bias`
(:mod:`crmn_legacy.ops.channel`), the mean pooling :func:`mean_pool`
(:mod:`crmn_legacy.ops.pool`), the rectifier :func:`relu` (:mod:`crmn_legacy.ops.relu`) and the two-core :func:`matmul`
(:mod:`crmn_legacy.ops.matmul`).

Graph rewrites that belong to these Ops -- a bias in front of a training-mode
BatchNorm dropped (:mod:`~crmn_legacy.ops.bias_batchnorm`), float32 ``tanh``
in C without libm (:mod:`~crmn_legacy.ops.tanh`), single-reader elementwise
fusion (:mod:`~crmn_legacy.ops.fusion`), the in-place bias
(:mod:`~crmn_legacy.ops.channel`), concrete shapes for JAX
(:mod:`~crmn_legacy.ops.jax_conv`) -- are listed by :func:`rewrites`.
Importing this package registers none of them: PyTensor's rewrite databases
are left as they were until :func:`crmn_legacy.compile.get_mode` registers
them, under tags no PyTensor mode includes.  When JAX is installed, importing
this package adds our Op classes to PyTensor's ``jax_funcify`` dispatch (which
concerns only graphs holding our Ops).
"""

from .batchnorm import BatchNormTrain, BatchNormTrainGrad, batch_norm_train
from .channel import AddChannelBias, ChannelSum, add_channel_bias
from .conv import Conv2d, Conv2dGradInputs, Conv2dGradWeights, conv2d, conv_output_shape
from .matmul import Matmul, matmul
from .pool import MeanPool, MeanPoolGrad, mean_pool
from .relu import Relu, relu

__all__ = ["conv2d", "conv_output_shape", "Conv2d", "Conv2dGradWeights", "Conv2dGradInputs",
           "batch_norm_train", "BatchNormTrain", "BatchNormTrainGrad",
           "add_channel_bias", "AddChannelBias", "ChannelSum", "mean_pool", "MeanPool", "MeanPoolGrad",
           "matmul", "Matmul", "relu", "Relu", "rewrites"]

try:  # JAX is an optional extra: register the JAX dispatch only when it imports
    import jax as _jax  # noqa: F401
except ImportError:
    _HAVE_JAX = False
else:
    _HAVE_JAX = True
    from . import jax_batchnorm as _jax_batchnorm  # noqa: F401  (registers with jax_funcify)
    from . import jax_channel as _jax_channel  # noqa: F401
    from . import jax_conv as _jax_conv  # noqa: F401
    from . import jax_matmul as _jax_matmul  # noqa: F401
    from . import jax_pool as _jax_pool  # noqa: F401
    from . import jax_relu as _jax_relu  # noqa: F401


def rewrites():
    """rewrites() -> tuple of (database, name, rewriter, tags, position): every graph rewrite of our Ops.

    ``database``: ``None`` for PyTensor's ``optdb`` itself, else the name of
    one of its sub-databases (``"canonicalize"``, ``"specialize"``);
    ``position`` only for ``optdb``.  :func:`crmn_legacy.compile.register_rewrites`
    registers them.
    """
    from . import bias_batchnorm, channel, fusion, tanh

    table = (*bias_batchnorm.REWRITES, *tanh.REWRITES, *fusion.REWRITES, *channel.REWRITES)
    if _HAVE_JAX:
        table += _jax_conv.REWRITES
    return table
