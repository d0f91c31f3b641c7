"""configure() and compile_settings() -- the process settings crmn_legacy's programs run with, applied explicitly.

Importing :mod:`crmn_legacy` (or any of its modules) changes nothing in the
host program: not ``pytensor.config``, not PyTensor's rewrite databases, not
the environment, not the allocator.  A *program* that wants the settings our
command lines use calls :func:`configure` once, first thing::

    import crmn_legacy
    crmn_legacy.configure()     # before building graphs and before the first compiled function runs

It applies, each unless the user already chose otherwise:

1. ``pytensor.config.floatX = "float32"`` (the paper trains in float32;
   PyTensor's default float64 would upcast every Python constant).  Graphs
   take their dtype when they are *built*, hence "before building graphs".
2. The PyTensor flags of :func:`crmn_legacy.runtime.pytensor_flags.pytensor_flags`:
   Elemwise OpenMP, its size threshold, PyTensor's BLAS linked to the
   ``scipy-openblas32`` wheel.
3. How idle OpenMP workers wait: ``OMP_WAIT_POLICY=passive`` and
   ``GOMP_SPINCOUNT=30000`` (spin ~0.3 ms, then sleep; libgomp's default
   spins ten times longer and, on a machine shared with other work, steals
   the CPU from the Python thread).  libgomp reads these **once, when it is
   loaded**, i.e. when the first compiled function that uses OpenMP is
   loaded; :func:`configure` called later cannot change them, skips them and
   says so with a warning (``"openmp_env"`` is then ``"too late"``).
4. The thread count of the ``scipy-openblas32`` library (our convolutions
   and PyTensor's ``Gemm``): 1, since our C code parallelises with OpenMP
   over images; ``CRMN_BLAS_THREADS=N`` chooses another, a user's
   ``OPENBLAS_NUM_THREADS`` is kept.
5. glibc keeps freed memory mapped (:func:`crmn_legacy.runtime.malloc.keep_freed_memory`).

:func:`compile_settings` is the polite subset for a library caller:
:func:`crmn_legacy.runtime.compile.function` compiles inside it, so a function
compiled by us gets item 2 (our C code linked to OpenBLAS, OpenMP loops)
whether or not :func:`configure` ran, and ``pytensor.config`` is restored
afterwards.  Measurements behind each setting: ``docs/PERFORMANCE.md``.
"""

import contextlib
import glob
import os
import warnings

from .pytensor_flags import blas_info, pytensor_flags, user_set

__all__ = ["configure", "compile_settings", "openmp_loaded", "set_blas_threads", "OMP_SPIN_COUNT"]

#: Spins an idle OpenMP worker makes before it sleeps (libgomp's ``GOMP_SPINCOUNT``; about 0.3 ms).
OMP_SPIN_COUNT = 30000

_applied = None


def openmp_loaded():
    """openmp_loaded() -> bool or None: is libgomp already loaded in this process (None: cannot tell)?"""
    try:
        with open("/proc/self/maps", encoding="utf-8", errors="replace") as fh:
            return "libgomp" in fh.read()
    except OSError:
        return None


def set_blas_threads(n):
    """set_blas_threads(n) -> bool: set the thread count of the ``scipy-openblas32`` library.

    That library serves our convolution C code and PyTensor's own ``Dot22`` /
    ``Gemm`` (numpy has its own OpenBLAS, untouched).  False when it cannot be
    loaded.
    """
    import ctypes

    info = blas_info()
    if not info.get("lib_dir") or not info.get("library"):
        return False
    paths = sorted(glob.glob(os.path.join(info["lib_dir"], f"lib{info['library']}.so*")))
    if not paths:
        return False
    try:
        ctypes.CDLL(paths[0]).scipy_openblas_set_num_threads(int(n))
    except (OSError, AttributeError):
        return False
    return True


def _openmp_env():
    if "OMP_WAIT_POLICY" in os.environ or "GOMP_SPINCOUNT" in os.environ:
        return "user"
    if openmp_loaded():
        warnings.warn("crmn_legacy.configure(): libgomp is already loaded, so OMP_WAIT_POLICY/GOMP_SPINCOUNT "
                      "cannot take effect; call configure() before compiling or running any function",
                      RuntimeWarning, stacklevel=3)
        return "too late"
    os.environ["OMP_WAIT_POLICY"] = "passive"
    os.environ["GOMP_SPINCOUNT"] = str(OMP_SPIN_COUNT)
    return "passive, spin 30000"


def _blas_threads():
    if "OPENBLAS_NUM_THREADS" in os.environ and "CRMN_BLAS_THREADS" not in os.environ:
        return "user"
    try:
        n = int(os.environ.get("CRMN_BLAS_THREADS", "1"))
    except ValueError:
        return "bad CRMN_BLAS_THREADS"
    return n if set_blas_threads(n) else "no scipy-openblas32"


def configure():
    """configure() -> dict: apply the settings of the module docstring to this process (idempotent).

    Returns what was applied: ``{"floatX": ..., "pytensor_flags": {...}, "openmp_env": ...,
    "blas_threads": ..., "keep_freed_memory": bool}``.
    """
    global _applied
    if _applied is not None:
        return dict(_applied)
    import pytensor

    from .malloc import keep_freed_memory

    applied = {"floatX": "user" if user_set("floatX") else "float32"}
    if applied["floatX"] == "float32":
        pytensor.config.floatX = "float32"
    flags = pytensor_flags()
    for name, value in flags.items():
        setattr(pytensor.config, name, value)
    applied.update(pytensor_flags=flags, openmp_env=_openmp_env(), blas_threads=_blas_threads(),
                   keep_freed_memory=keep_freed_memory())
    _applied = applied
    return dict(applied)


_UNSET = object()


@contextlib.contextmanager
def compile_settings():
    """compile_settings() -> context manager: :func:`pytensor_flags` set inside it, the previous values restored after.

    A flag PyTensor computes lazily on first use (``blas__ldflags``: a slow
    search for a system BLAS) and that nobody has read yet is put back in
    that unread state rather than computed.
    """
    import pytensor

    params = pytensor.config._config_var_dict  # PyTensor's own flag objects (the lazily computed ones have no .val)
    saved = {}
    try:
        for name, value in pytensor_flags().items():
            param = params[name]
            saved[name] = getattr(param, "val", _UNSET)
            setattr(pytensor.config, name, value)
        yield
    finally:
        for name, old in saved.items():
            if old is _UNSET:
                del params[name].val
            else:
                setattr(pytensor.config, name, old)

