"""crmn_legacy.rewrites -- our graph rewrites, registered only in our compile modes.

One module per rewrite family: a bias in front of a training-mode BatchNorm
dropped (:mod:`.bias_batchnorm`), the in-place per-channel bias
(:mod:`.inplace_bias`), float32 ``tanh`` in C without libm
(:mod:`.float32_tanh`), single-reader elementwise fusion (:mod:`.fusion`),
concrete shapes for JAX (:mod:`.jax_shapes`), and the linear-time in-place
pass and Supervisor of our default mode (:mod:`.linear_inplace`).  Each
module lists its rewrites in ``REWRITES``; :func:`all_rewrites` gathers them.

Importing this package registers none of them: PyTensor's rewrite databases
are left as they were until :func:`crmn_legacy.runtime.compile.get_mode`
registers them, under tags no PyTensor mode includes.
"""

__all__ = ["all_rewrites"]


def all_rewrites():
    """all_rewrites() -> tuple of (database, name, rewriter, tags, position): every graph rewrite of ours.

    ``database``: ``None`` for PyTensor's ``optdb`` itself, else the name of
    one of its sub-databases (``"canonicalize"``, ``"specialize"``);
    ``position`` only for ``optdb``.  The JAX one is listed only when JAX is
    installed.  :func:`crmn_legacy.runtime.compile.register_rewrites` registers them.
    """
    from ..ops.jax import HAVE_JAX
    from . import bias_batchnorm, float32_tanh, fusion, inplace_bias, linear_inplace

    table = (*linear_inplace.REWRITES, *bias_batchnorm.REWRITES, *float32_tanh.REWRITES, *fusion.REWRITES,
             *inplace_bias.REWRITES)
    if HAVE_JAX:
        from . import jax_shapes

        table += jax_shapes.REWRITES
    return table
