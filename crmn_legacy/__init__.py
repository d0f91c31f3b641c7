"""crmn_legacy -- Convolutional Residual Memory Networks (Moniz & Pal, 2016) on PyTensor.

A Theano/Lasagne-style reproduction of arXiv:1606.05262: a ResNet whose
residual-block outputs feed an LSTM that runs over depth.

Importing the package configures PyTensor (``floatX=float32`` and a linked
OpenBLAS for C code) unless ``PYTENSOR_FLAGS`` says otherwise; see
:mod:`crmn_legacy._pytensor_setup`; and it keeps freed memory mapped
(glibc's trim and mmap thresholds; ``CRMN_MALLOC_TUNING=0`` turns that off),
see :mod:`crmn_legacy._malloc`.
"""

from ._malloc import keep_freed_memory as _keep_freed_memory
from ._pytensor_setup import configure as _configure

__version__ = "0.1.0"

_configure()
_keep_freed_memory()
