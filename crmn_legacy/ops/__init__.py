"""crmn_legacy.ops -- the Ops the model needs that PyTensor 3 lacks.

:func:`conv2d` and the :class:`Conv2d` / :class:`Conv2dGradWeights` /
:class:`Conv2dGradInputs` family (:mod:`crmn_legacy.ops.conv`); :func:`batch_norm_train` and the fused
:class:`BatchNormTrain` / :class:`BatchNormTrainGrad` pair
(:mod:`crmn_legacy.ops.batchnorm`); the per-channel bias :func:`add_channel_bias`
(:mod:`crmn_legacy.ops.channel`), the mean pooling :func:`mean_pool`
(:mod:`crmn_legacy.ops.pool`), the rectifier :func:`relu` (:mod:`crmn_legacy.ops.relu`) and the two-core :func:`matmul`
(:mod:`crmn_legacy.ops.matmul`). Importing this package registers the
compile-time rewrites that drop a bias in front of a training-mode BatchNorm
(:mod:`crmn_legacy.ops.bias_batchnorm`), the rewrite of float32 ``tanh`` to a faster,
correctly rounded C version (:mod:`crmn_legacy.ops.tanh`) and the JAX dispatch of those Ops when JAX is installed
(:mod:`crmn_legacy.ops.jax_conv`).
"""

from . import bias_batchnorm as _bias_batchnorm  # noqa: F401  (registers its rewrites)
from . import tanh as _tanh  # noqa: F401  (registers the float32 tanh rewrite)
from . import fusion as _fusion  # noqa: F401  (registers the single-reader elementwise fusion)
from .batchnorm import BatchNormTrain, BatchNormTrainGrad, batch_norm_train
from .channel import AddChannelBias, ChannelSum, add_channel_bias
from .conv import Conv2d, Conv2dGradInputs, Conv2dGradWeights, conv2d, conv_output_shape
from .matmul import Matmul, matmul
from .pool import MeanPool, MeanPoolGrad, mean_pool
from .relu import Relu, relu

__all__ = ["conv2d", "conv_output_shape", "Conv2d", "Conv2dGradWeights", "Conv2dGradInputs",
           "batch_norm_train", "BatchNormTrain", "BatchNormTrainGrad",
           "add_channel_bias", "AddChannelBias", "ChannelSum", "mean_pool", "MeanPool", "MeanPoolGrad",
           "matmul", "Matmul", "relu", "Relu"]

try:  # JAX is an optional extra: register the JAX dispatch only when it imports
    import jax as _jax  # noqa: F401
except ImportError:
    pass
else:
    from . import jax_batchnorm as _jax_batchnorm  # noqa: F401  (registers with jax_funcify)
    from . import jax_channel as _jax_channel  # noqa: F401
    from . import jax_conv as _jax_conv  # noqa: F401
    from . import jax_matmul as _jax_matmul  # noqa: F401
    from . import jax_pool as _jax_pool  # noqa: F401
    from . import jax_relu as _jax_relu  # noqa: F401
