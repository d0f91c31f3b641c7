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

Rewritten-graph cache
---------------------
Graph rewriting, not C compilation, is what makes deep networks slow to
compile (PyTensor already caches C modules across processes).  With a C/VM
linker, :func:`function` goes through
:func:`crmn_legacy.graph_cache.cached_function`, which stores the rewritten
graph under a key that describes the un-rewritten graph exactly and reuses it
on the next compile of the same graph (see that module for why this is
sound).  ``cache=False`` or ``CRMN_GRAPH_CACHE=off`` turns it off.

Deep graphs
-----------
Rewriting, gradients and pickling recurse along the graph; :func:`function`
raises Python's recursion limit to at least :data:`MIN_RECURSION_LIMIT`
(ResNet-134 and deeper need more than the default 1000).
"""

import os

import pytensor
from pytensor.compile.mode import Mode, get_mode as _pt_get_mode

__all__ = ["DEFAULT_MODE", "MIN_RECURSION_LIMIT", "get_mode", "function", "ensure_recursion_limit"]

DEFAULT_MODE = "CVM"
#: Recursion limit :func:`function` guarantees (deep residual graphs).
MIN_RECURSION_LIMIT = 100_000


def ensure_recursion_limit(limit=MIN_RECURSION_LIMIT):
    """ensure_recursion_limit(limit=100000) -> int: raise ``sys.getrecursionlimit()`` to ``limit`` if lower."""
    import sys

    if sys.getrecursionlimit() < limit:
        sys.setrecursionlimit(limit)
    return sys.getrecursionlimit()


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


def function(inputs, outputs, updates=None, mode=None, cache=None, **kwargs):
    """function(inputs, outputs, updates=None, mode=None, cache=None, **kwargs) -> pytensor Function

    ``pytensor.function`` compiled with :func:`get_mode` ``(mode)``.
    ``cache``: ``None`` (the rewritten-graph cache unless
    ``CRMN_GRAPH_CACHE=off``), ``False``, or a directory.
    """
    ensure_recursion_limit()
    mode = get_mode(mode)
    if cache is False:
        return pytensor.function(inputs, outputs, updates=updates, mode=mode, **kwargs)
    from .graph_cache import cached_function

    return cached_function(inputs, outputs, updates=updates, mode=mode, cache_dir=cache, **kwargs)
