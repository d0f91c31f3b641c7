"""crmn_legacy -- Convolutional Residual Memory Networks (Moniz & Pal, 2016) on PyTensor.

A Theano/Lasagne-style reproduction of arXiv:1606.05262: a ResNet whose
residual-block outputs feed an LSTM that runs over depth.

Importing the package changes no global setting of the host program.  A
program that wants the settings of our command lines (float32, OpenMP,
OpenBLAS threads, allocator) calls :func:`configure` once, first thing; see
:mod:`crmn_legacy.runtime.configuration`.  Compile with
:func:`crmn_legacy.runtime.compile.function`: it runs our Ops' C code.
"""

from .runtime.configuration import configure

__all__ = ["configure", "__version__"]

__version__ = "0.1.0"
