"""configure() -- make PyTensor ready for crmn_legacy before any graph is built.

Importing :mod:`crmn_legacy` calls :func:`configure` once.  It does these things,
each of which the user can override with ``PYTENSOR_FLAGS``:

1. ``floatX = float32``.  The paper trains in float32 (Theano on a GPU); with
   PyTensor's default ``float64`` every Python float constant would upcast our
   float32 graphs.  A user who sets ``floatX`` in ``PYTENSOR_FLAGS`` keeps it.
2. A real BLAS for PyTensor's own C code (``Gemm``, ``Gemv``, ``Dot22`` ...).
   A pip-installed PyTensor finds none and warns "could not link to a BLAS
   installation".  The ``scipy-openblas32`` wheel ships OpenBLAS with
   ``scipy_``-prefixed symbols (``scipy_sgemm_``); we link it with an rpath and
   map PyTensor's Fortran names onto the prefixed ones with ``-D`` macros
   (``-Dsgemm_=scipy_sgemm_``).  A user who sets ``blas__ldflags`` keeps it.
3. ``openmp = True``: PyTensor's own elementwise C loops (the fused
   ``Composite`` s: residual sums, ReLU gradients, LSTM gates, SGD updates)
   run on every core when big enough (``openmp_elemwise_minsize``).  Measured
   on a CRMN-32 k=1 training step, batch 128, two functions compiled in one
   process and timed alternately (12 steps each, quiet 2-core machine):
   median 0.766 s with vs 0.788 s without.  ``CRMN_ELEMWISE_OPENMP=0`` turns
   it off; a user who sets ``openmp`` in ``PYTENSOR_FLAGS`` keeps it.
4. ``openmp_elemwise_minsize = 128`` (PyTensor's default: 200,000).  The
   threshold is compared with the element count in PyTensor's contiguous
   loop, which it uses only when every input has a known static shape, and
   with the *outermost dimension* in its strided loop, the one our
   activations (batch size unknown at compile time) always take: with the
   default a ``(128, C, H, W)`` Composite never ran on more than one core.
   At 128 the activation Composites (rectifiers, gradient masks), the LSTM
   gate Composites (128 x 100) and the larger SGD updates run on both.
   Measured: two CRMN-32 training steps compiled in one process, timed
   alternately, batch 128: k=1 median 0.588 s (default) vs 0.571 s (16 each),
   k=4 6.914 vs 6.787 s, mean 6.960 vs 6.647 s (6 each).  A user who sets
   ``openmp_elemwise_minsize`` in ``PYTENSOR_FLAGS`` keeps it.
"""

import os

__all__ = ["configure", "blas_info", "ELEMWISE_OPENMP", "ELEMWISE_OPENMP_MINSIZE"]

#: Whether PyTensor's Elemwise C loops run with OpenMP (``config.openmp``) by default.
ELEMWISE_OPENMP = True

#: PyTensor's ``openmp_elemwise_minsize`` we set by default (item 4 of the module docstring).
ELEMWISE_OPENMP_MINSIZE = 128

# The Fortran BLAS entry points PyTensor's C code calls (pytensor/tensor/blas*.py).
_FORTRAN_BLAS = ("sgemm", "dgemm", "sgemv", "dgemv", "sger", "dger", "sdot", "ddot")

_configured = False
_blas = {"source": None, "ldflags": "", "include_dir": None, "lib_dir": None, "library": None}


def _user_flag(name):
    """True when ``name`` is set explicitly in ``PYTENSOR_FLAGS``."""
    flags = os.environ.get("PYTENSOR_FLAGS", "")
    return any(item.split("=")[0].strip() == name for item in flags.split(","))


def blas_info():
    """blas_info() -> dict: where our C code finds BLAS.

    Keys: ``source`` ("scipy-openblas32", "user" or None), ``ldflags``,
    ``include_dir``, ``lib_dir``, ``library``.
    """
    configure()
    return dict(_blas)


def configure():
    """configure() -> None.  Idempotent; see the module docstring."""
    global _configured
    if _configured:
        return
    _configured = True
    import pytensor

    if not _user_flag("floatX"):
        pytensor.config.floatX = "float32"
    if not _user_flag("openmp"):
        env = os.environ.get("CRMN_ELEMWISE_OPENMP")
        pytensor.config.openmp = ELEMWISE_OPENMP if env is None else env.strip().lower() in ("1", "true", "yes")
    if not _user_flag("openmp_elemwise_minsize"):
        pytensor.config.openmp_elemwise_minsize = ELEMWISE_OPENMP_MINSIZE

    try:
        import scipy_openblas32 as sob
    except ImportError:  # doctor reports this with a remedy
        sob = None
    if sob is not None:
        _blas.update(
            include_dir=sob.get_include_dir(),
            lib_dir=sob.get_lib_dir(),
            library=sob.get_library(),
        )
    if _user_flag("blas__ldflags"):
        _blas.update(source="user", ldflags=pytensor.config.blas__ldflags)
    elif sob is not None:
        ldflags = f"-L{_blas['lib_dir']} -l{_blas['library']} -Wl,-rpath,{_blas['lib_dir']}"
        pytensor.config.blas__ldflags = ldflags
        renames = " ".join(f"-D{n}_=scipy_{n}_" for n in _FORTRAN_BLAS)
        pytensor.config.gcc__cxxflags = (pytensor.config.gcc__cxxflags + " " + renames).strip()
        _blas.update(source="scipy-openblas32", ldflags=ldflags)
