"""crmn_legacy.ops.jax -- JAX implementations of our Ops (``mode="JAX"``, CPU or GPU).

One module per Op family (:mod:`.conv`, :mod:`.batchnorm`, :mod:`.channel`,
:mod:`.pool`, :mod:`.matmul`, :mod:`.relu`), each registering its Op classes
with PyTensor's ``jax_funcify``.  JAX is an optional extra
(``pip install -e .[jax]``): this package imports them only when ``jax``
imports, and :data:`HAVE_JAX` says whether it did.
"""

try:  # JAX is an optional extra: register the JAX dispatch only when it imports
    import jax as _jax  # noqa: F401
except ImportError:
    HAVE_JAX = False
else:
    HAVE_JAX = True
    from . import batchnorm, channel, conv, matmul, pool, relu  # noqa: F401  (each registers with jax_funcify)

__all__ = ["HAVE_JAX"]
