"""crmn_legacy.ops -- the Ops the model needs that PyTensor 3 lacks.

:func:`conv2d` and the :class:`Conv2d` / :class:`Conv2dGradWeights` /
:class:`Conv2dGradInputs` family (:mod:`crmn_legacy.ops.conv`); :func:`batch_norm_train` and the fused
:class:`BatchNormTrain` / :class:`BatchNormTrainGrad` pair
(:mod:`crmn_legacy.ops.batchnorm`); the per-channel bias :func:`add_channel_bias`
(:mod:`crmn_legacy.ops.channel`), the mean pooling :func:`mean_pool`
(:mod:`crmn_legacy.ops.pool`), the rectifier :func:`relu` (:mod:`crmn_legacy.ops.relu`) and the two-core :func:`matmul`
(:mod:`crmn_legacy.ops.matmul`).

C build helpers are in :mod:`crmn_legacy.ops.c` (sources in ``c/src/``), the
JAX dispatch in :mod:`crmn_legacy.ops.jax`; the graph rewrites of these Ops
are in :mod:`crmn_legacy.rewrites`.  Importing this package registers no
rewrite; when JAX is installed it adds our Op classes to PyTensor's
``jax_funcify`` dispatch (which concerns only graphs holding our Ops).
"""

from .batchnorm import BatchNormTrain, BatchNormTrainGrad, batch_norm_train
from .channel import AddChannelBias, ChannelSum, add_channel_bias
from .conv import Conv2d, Conv2dGradInputs, Conv2dGradWeights, conv2d, conv_output_shape
from .matmul import Matmul, matmul
from .pool import MeanPool, MeanPoolGrad, mean_pool
from .relu import Relu, relu
from . import jax  # noqa: F401  (registers the JAX dispatch when JAX is installed)

__all__ = ["conv2d", "conv_output_shape", "Conv2d", "Conv2dGradWeights", "Conv2dGradInputs",
           "batch_norm_train", "BatchNormTrain", "BatchNormTrainGrad",
           "add_channel_bias", "AddChannelBias", "ChannelSum", "mean_pool", "MeanPool", "MeanPoolGrad",
           "matmul", "Matmul", "relu", "Relu"]
