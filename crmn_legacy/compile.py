"""How crmn_legacy compiles PyTensor functions.

``function(inputs, outputs, updates=None, mode=None, **kwargs)`` is
``pytensor.function`` with our default mode; nothing is hidden: the result is
an ordinary compiled PyTensor function, ``pytensor.dprint`` works on it, and
any other mode (``"JAX"``, ``"NUMBA"``, a ``Mode`` object) can be passed.

Default mode
------------
``DEFAULT_MODE = "CVM"``: PyTensor's C virtual machine linker, with the
``fast_run`` rewrites.  Our convolution Ops carry C code linked against
OpenBLAS (see :mod:`crmn_legacy.ops.conv`); under PyTensor 3's default Numba
linker they would fall back to object mode.  The environment variable
``CRMN_MODE`` overrides the default (for example ``CRMN_MODE=JAX``).
"""

import os

import pytensor
from pytensor.compile.mode import Mode, get_mode as _pt_get_mode

__all__ = ["DEFAULT_MODE", "get_mode", "function"]

DEFAULT_MODE = "CVM"


def get_mode(mode=None):
    """get_mode(mode=None) -> pytensor.compile.mode.Mode

    Resolve ``mode``: ``None`` means ``$CRMN_MODE`` or :data:`DEFAULT_MODE`;
    a string names a PyTensor predefined mode; a ``Mode`` is returned as is.
    """
    if mode is None:
        mode = os.environ.get("CRMN_MODE", DEFAULT_MODE)
    if isinstance(mode, Mode):
        return mode
    return _pt_get_mode(mode)


def function(inputs, outputs, updates=None, mode=None, **kwargs):
    """function(inputs, outputs, updates=None, mode=None, **kwargs) -> pytensor Function

    ``pytensor.function`` compiled with :func:`get_mode` ``(mode)``.
    """
    return pytensor.function(inputs, outputs, updates=updates, mode=get_mode(mode), **kwargs)
