"""function(inputs, outputs, updates=None, mode=None, cache=None, **kwargs) -- how crmn_legacy compiles PyTensor functions.

:func:`function` is ``pytensor.function`` with our default mode; nothing is
hidden: the result is an ordinary compiled PyTensor function,
``pytensor.dprint`` works on it, and any other mode (``"JAX"``, ``"NUMBA"``, a
``Mode`` object) can be passed.  A plain ``pytensor.function`` would run our
Ops through PyTensor 3's default Numba linker in object mode; compile with
:func:`function`, or pass ``mode=get_mode()``.

Default mode
------------
``DEFAULT_MODE = "CRMN_CVM"`` (:func:`crmn_mode`): PyTensor's C virtual
machine linker (``"cvm"``), in which our Ops run their C code (linked to
OpenBLAS, see :mod:`crmn_legacy.ops.conv`), with the rewrite query
:data:`FAST_QUERY`: PyTensor's ``fast_run``, our Ops' rewrites (tag
:data:`OPS_TAG`, :func:`crmn_legacy.rewrites.all_rewrites`), and two quadratic pieces
of ``fast_run`` replaced by linear ones (tag :data:`FAST_TAG`,
:mod:`crmn_legacy.rewrites.linear_inplace`):

* ``inplace_elemwise`` is excluded and ``TopoInplaceElemwise`` runs at
  its position (50.5) instead: same candidates, accepted by a local test
  against one topological order instead of a whole-graph cycle check per
  attempt;
* PyTensor's ``Supervisor`` is swapped for ``FastSupervisor`` (same
  check, without a loop over every output on every validation).

On a ResNet-134 training step this cuts rewriting from about 250 s to 35 s
and gives the same rewritten graph (profiles and A/B timings:
``docs/PERFORMANCE.md``).  ``CRMN_MODE`` overrides the default
(``CRMN_MODE=CVM``: PyTensor's own CVM query plus our Ops' rewrites;
``CRMN_MODE=JAX``, ...); a mode passed explicitly is used as given.

Our rewrites are registered in PyTensor's ``optdb`` by
:func:`register_rewrites` the first time :func:`get_mode` runs, never at
import, under tags no PyTensor mode includes: they rewrite only graphs
compiled in a mode :func:`get_mode` made.

Compile settings, cache, deep graphs
------------------------------------
:func:`function` compiles inside
:func:`crmn_legacy.runtime.configuration.compile_settings` (Elemwise OpenMP, PyTensor's
BLAS linked to ``scipy-openblas32``; ``pytensor.config`` restored after).
Graph rewriting, not C compilation, is what makes deep networks slow to
compile (PyTensor caches C modules across processes): with a C/VM linker the
rewritten graph is cached (:mod:`crmn_legacy.runtime.graph_cache`; ``cache=False`` or
``CRMN_GRAPH_CACHE=off`` turns it off).  Rewriting, gradients and pickling
recurse along the graph, so :func:`function` raises Python's recursion limit
to at least :data:`MIN_RECURSION_LIMIT` (ResNet-134 needs more than 1000).
"""

import os

import pytensor
from pytensor.compile.mode import Mode, get_mode as _pt_get_mode, optdb
from pytensor.graph.rewriting.db import RewriteDatabaseQuery

__all__ = ["DEFAULT_MODE", "MIN_RECURSION_LIMIT", "FAST_QUERY", "OPS_TAG", "FAST_TAG", "JAX_TAG", "get_mode", "crmn_mode",
           "function", "register_rewrites", "ensure_recursion_limit"]

DEFAULT_MODE = "CRMN_CVM"
#: Recursion limit :func:`function` guarantees (deep residual graphs).
MIN_RECURSION_LIMIT = 100_000

#: Tag of our Ops' rewrites (:func:`crmn_legacy.rewrites.all_rewrites`): every mode :func:`get_mode` returns includes it.
OPS_TAG = "crmn"
#: Tag of the two compile-speed rewrites of :mod:`crmn_legacy.rewrites.linear_inplace` (only in :func:`crmn_mode`).
FAST_TAG = "crmn_fast"
#: Tag of the rewrites only the JAX backend needs (included by ``get_mode("JAX")``).
JAX_TAG = "crmn_jax"

_registered = False


def register_rewrites():
    """register_rewrites() -> None: add our rewrites to PyTensor's ``optdb`` under our own tags (once).

    Called by :func:`get_mode`, never at import.  The tags (:data:`OPS_TAG`,
    :data:`FAST_TAG`, :data:`JAX_TAG`) are in no PyTensor mode, so the rewrites
    run only in the modes :func:`get_mode` builds: a user's own
    ``pytensor.function`` (``fast_run``, ``FAST_COMPILE``, ``NUMBA``, ``JAX``)
    is not rewritten by them.
    """
    global _registered
    if _registered:
        return
    from ..rewrites import all_rewrites

    for db, name, rewriter, tags, position in all_rewrites():
        target = optdb if db is None else optdb[db]
        if db is None:
            target.register(name, rewriter, *tags, position=position)
        else:
            target.register(name, rewriter, *tags)
    _registered = True


#: The rewrite query of :func:`crmn_mode`: PyTensor's ``fast_run`` plus our Ops' rewrites, with
#: ``inplace_elemwise`` replaced by ``TopoInplaceElemwise`` and the Supervisor by ``FastSupervisor``.
FAST_QUERY = RewriteDatabaseQuery(include=["fast_run", OPS_TAG, FAST_TAG], exclude=["inplace_elemwise"])


def crmn_mode():
    """crmn_mode() -> pytensor.compile.mode.Mode: the ``"CVM"`` linker with :data:`FAST_QUERY` (our default)."""
    register_rewrites()
    return Mode(linker="cvm", optimizer=FAST_QUERY)


def ensure_recursion_limit(limit=MIN_RECURSION_LIMIT):
    """ensure_recursion_limit(limit=100000) -> int: raise ``sys.getrecursionlimit()`` to ``limit`` if lower."""
    import sys

    if sys.getrecursionlimit() < limit:
        sys.setrecursionlimit(limit)
    return sys.getrecursionlimit()


def get_mode(mode=None):
    """get_mode(mode=None) -> pytensor.compile.mode.Mode

    Resolve ``mode``: ``None`` means ``$CRMN_MODE`` or :data:`DEFAULT_MODE`
    (:func:`crmn_mode`); a string names a PyTensor predefined mode, returned
    with our Ops' rewrites included (:data:`OPS_TAG`, and :data:`JAX_TAG` for
    ``"JAX"``); a ``Mode`` is returned as is.
    """
    if mode is None:
        mode = os.environ.get("CRMN_MODE", DEFAULT_MODE)
    if isinstance(mode, Mode):
        return mode
    if mode == "CRMN_CVM":
        return crmn_mode()
    register_rewrites()
    tags = (OPS_TAG, JAX_TAG) if str(mode).upper() == "JAX" else (OPS_TAG,)
    return _pt_get_mode(mode).including(*tags)


def function(inputs, outputs, updates=None, mode=None, cache=None, **kwargs):
    """function(inputs, outputs, updates=None, mode=None, cache=None, **kwargs) -> pytensor Function

    ``pytensor.function`` compiled with :func:`get_mode` ``(mode)`` inside
    :func:`crmn_legacy.runtime.configuration.compile_settings` (our C code linked to
    OpenBLAS, OpenMP elementwise loops; ``pytensor.config`` restored after).
    ``cache``: ``None`` (the rewritten-graph cache unless
    ``CRMN_GRAPH_CACHE=off``), ``False``, or a directory.
    """
    from .configuration import compile_settings

    ensure_recursion_limit()
    mode = get_mode(mode)
    with compile_settings():
        if cache is False:
            return pytensor.function(inputs, outputs, updates=updates, mode=mode, **kwargs)
        from .graph_cache import cached_function

        return cached_function(inputs, outputs, updates=updates, mode=mode, cache_dir=cache, **kwargs)
