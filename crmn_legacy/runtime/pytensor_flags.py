"""pytensor_flags() and blas_info() -- the PyTensor flags our compiled functions want, computed, not applied.

Nothing here changes PyTensor: :func:`crmn_legacy.runtime.configuration.configure`
applies :func:`pytensor_flags` to the process, and
:func:`crmn_legacy.runtime.compile.function` applies them only while it compiles.

* ``openmp = True``: PyTensor's own elementwise C loops (the fused
  ``Composite`` s: residual sums, ReLU gradient masks, LSTM gates, SGD
  updates) run on every core.  ``CRMN_ELEMWISE_OPENMP=0`` turns it off.
* ``openmp_elemwise_minsize = 128`` (PyTensor's default: 200,000).  PyTensor
  compares it with the *outermost dimension* in its strided loop, the one our
  activations (batch size unknown when compiling) take, so with the default a
  ``(128, C, H, W)`` Composite never ran on more than one core.
* ``blas__ldflags`` / ``gcc__cxxflags``: PyTensor's ``Gemm`` / ``Dot22`` C
  code linked to the ``scipy-openblas32`` wheel.  The wheel prefixes its
  symbols (``scipy_sgemm_``), so PyTensor's Fortran names are mapped onto
  them with ``-D`` macros (``-Dsgemm_=scipy_sgemm_``).  A pip-installed
  PyTensor finds no BLAS by itself ("could not link to a BLAS installation").

A flag the user sets in ``PYTENSOR_FLAGS`` or ``.pytensorrc`` is left out
(theirs wins).  The measurements behind these choices are in
``docs/PERFORMANCE.md``.
"""

import functools
import os

__all__ = ["pytensor_flags", "blas_info", "user_set", "ELEMWISE_OPENMP", "ELEMWISE_OPENMP_MINSIZE"]

#: Whether PyTensor's Elemwise C loops run with OpenMP (``config.openmp``) by default.
ELEMWISE_OPENMP = True

#: ``openmp_elemwise_minsize`` we compile with (see the module docstring).
ELEMWISE_OPENMP_MINSIZE = 128

# The Fortran BLAS entry points PyTensor's C code calls (pytensor/tensor/blas*.py).
_FORTRAN_BLAS = ("sgemm", "dgemm", "sgemv", "dgemv", "sger", "dger", "sdot", "ddot")


def user_set(name):
    """user_set(name) -> bool: True when the user sets PyTensor flag ``name`` in ``PYTENSOR_FLAGS`` or ``.pytensorrc``."""
    flags = os.environ.get("PYTENSOR_FLAGS", "")
    if any(item.split("=")[0].strip() == name for item in flags.split(",")):
        return True
    import pytensor

    try:
        pytensor.config.fetch_val_for_key(name)
    except KeyError:
        return False
    return True


@functools.cache
def _scipy_openblas():
    """(include_dir, lib_dir, library) of the ``scipy-openblas32`` wheel, or None when it is not installed."""
    try:
        import scipy_openblas32 as sob
    except ImportError:  # doctor reports this with a remedy
        return None
    return sob.get_include_dir(), sob.get_lib_dir(), sob.get_library()


def blas_info():
    """blas_info() -> dict: where our C code finds BLAS.

    Keys: ``source`` (where PyTensor's own BLAS flags come from: "scipy-openblas32", "user" or None),
    ``ldflags`` (ours; "" when the user's are used), ``include_dir``, ``lib_dir``, ``library``.
    """
    sob = _scipy_openblas()
    include_dir, lib_dir, library = sob if sob is not None else (None, None, None)
    info = {"source": None, "ldflags": "", "include_dir": include_dir, "lib_dir": lib_dir, "library": library}
    if user_set("blas__ldflags"):
        info["source"] = "user"
    elif sob is not None:
        info["source"] = "scipy-openblas32"
        info["ldflags"] = f"-L{lib_dir} -l{library} -Wl,-rpath,{lib_dir}"
    return info


def pytensor_flags():
    """pytensor_flags() -> dict: PyTensor flag -> the value our compiled functions want (user-set flags left out)."""
    import pytensor

    flags = {}
    if not user_set("openmp"):
        env = os.environ.get("CRMN_ELEMWISE_OPENMP")
        flags["openmp"] = ELEMWISE_OPENMP if env is None else env.strip().lower() in ("1", "true", "yes")
    if not user_set("openmp_elemwise_minsize"):
        flags["openmp_elemwise_minsize"] = ELEMWISE_OPENMP_MINSIZE
    info = blas_info()
    if info["source"] == "scipy-openblas32":
        flags["blas__ldflags"] = info["ldflags"]
        renames = " ".join(f"-D{n}_=scipy_{n}_" for n in _FORTRAN_BLAS)
        current = pytensor.config.gcc__cxxflags
        flags["gcc__cxxflags"] = current if renames in current else (current + " " + renames).strip()
    return flags
