"""CConvMixin -- the C side shared by the three convolution Ops.

Loads ``c_code/conv2d_common.h`` and ``c_code/conv2d_direct.h`` (the AVX2
direct float32 kernels) and instantiates ``c_code/conv2d_template.c``
for float and double, links the ``scipy-openblas32`` wheel (header
``<cblas.h>``, symbols ``scipy_cblas_sgemm`` / ``scipy_cblas_dgemm``) and
OpenMP, and gives each Apply node a scratch workspace that lives as long as
the compiled thunk (so repeated calls reuse the im2col buffers).

The Op parameters reach C through a ``ParamsType`` (``sh``, ``sw``, ``padh``,
``padw``; ``padh = -1`` means "half", ``-2`` "full"), so one compiled module
per Op class and dtype serves every stride and padding.
"""

import hashlib
import os
import pathlib

from pytensor.link.c.params_type import ParamsType
from pytensor.scalar import int64

from .._pytensor_setup import blas_info
from ._c_templates import BlasMixin

__all__ = ["CConvMixin", "C_SOURCES", "set_blas_threads", "OMP_SPIN_COUNT"]

#: Spins an idle OpenMP worker makes before it sleeps (libgomp's ``GOMP_SPINCOUNT``; ~0.3 ms).
OMP_SPIN_COUNT = 30000

# How idle OpenMP workers wait between parallel regions.  libgomp's default
# spins for ~3 ms (300,000 spins) before sleeping; on this 2-core VM that
# steals the CPU from the Python thread (measured under load: 2.2-7 ms per
# small conv call spinning vs 35 us sleeping at once, OMP_WAIT_POLICY=passive).
# Sleeping at once costs a futex wake-up at each of the ~1,000 parallel regions
# of a training step.  A short spin, then sleep, wins: CRMN-32 k=1 training
# step, batch 128, fresh processes alternated (12 steps each, median):
# passive 0.696 / 0.685 / 0.690 / 0.831 / 0.696 s vs 30,000 spins
# 0.682 / 0.598 / 0.659 / 0.607 / 0.682 s; in another series of 4 rounds
# 0.649 / 0.656 / 0.784 / 0.695 (passive), 0.657 / 0.670 / 0.661 / 0.574
# (30,000), 0.673 / 0.618 / 0.673 / 0.659 (100,000) and 0.718 / 0.690 / 0.751
# / 0.838 (libgomp's default).  libgomp reads these once, when our first
# compiled module loads it, so they are set here, at import; a user who sets
# either variable keeps their own policy.
if "OMP_WAIT_POLICY" not in os.environ and "GOMP_SPINCOUNT" not in os.environ:
    os.environ["OMP_WAIT_POLICY"] = "passive"
    os.environ["GOMP_SPINCOUNT"] = str(OMP_SPIN_COUNT)


def set_blas_threads(n):
    """set_blas_threads(n) -> bool: set the thread count of the ``scipy-openblas32`` library.

    That library serves our conv C code and PyTensor's own ``Dot22`` / ``Gemm``
    (numpy has its own OpenBLAS, untouched).  Returns False when it cannot be
    loaded.
    """
    import ctypes
    import glob

    info = blas_info()
    if not info.get("lib_dir") or not info.get("library"):
        return False
    paths = sorted(glob.glob(os.path.join(info["lib_dir"], f"lib{info['library']}.so*")))
    if not paths:
        return False
    lib = ctypes.CDLL(paths[0])
    lib.scipy_openblas_set_num_threads(int(n))
    return True


# OpenBLAS's own (pthread, busy-waiting) threads: on a 2-core machine shared
# with other work they collapse.  Measured under load (load average ~3.5):
# (128 x 4096) . (4096 x 400), the CRMN's LSTM input projection, 170 ms with 2
# OpenBLAS threads vs 11 ms with one; a CRMN-8 k=1 training step at batch 128
# 1.46 s vs 0.60 s.  Our conv code parallelises with OpenMP over images
# instead, so the library runs single-threaded unless ``CRMN_BLAS_THREADS``
# (or ``OPENBLAS_NUM_THREADS``) says otherwise.
if "OPENBLAS_NUM_THREADS" not in os.environ or "CRMN_BLAS_THREADS" in os.environ:
    try:
        set_blas_threads(int(os.environ.get("CRMN_BLAS_THREADS", "1")))
    except (OSError, AttributeError, ValueError):  # no library / symbol: leave OpenBLAS as it is
        pass

_DIR = pathlib.Path(__file__).resolve().parent / "c_code"
C_SOURCES = ("conv2d_common.h", "conv2d_direct.h", "conv2d_template.c")
_DTYPES = {
    "float32": ("float", "NPY_FLOAT32", "scipy_cblas_sgemm"),
    "float64": ("double", "NPY_FLOAT64", "scipy_cblas_dgemm"),
}


def _read(name):
    return (_DIR / name).read_text(encoding="utf-8")


def _support_code():
    """The C support code: common helpers, then the float and double kernels."""
    template = _read("conv2d_template.c")
    parts = [_read("conv2d_common.h"), _read("conv2d_direct.h")]
    for ctype, npytype, gemm in _DTYPES.values():
        parts.append(
            template.replace("NPYTYPE", npytype).replace("GEMM", gemm).replace("DTYPE", ctype)
        )
    return "\n".join(parts)


def _source_version():
    """An int that changes whenever the C sources change (part of the cache key)."""
    digest = hashlib.sha256("".join(_read(n) for n in C_SOURCES).encode()).hexdigest()
    return int(digest[:12], 16)


_BORDER_CODES = {"half": -1, "full": -2}


class CConvMixin(BlasMixin):
    """Mixin giving a convolution Op its C implementation.

    Subclasses set ``_c_entry`` (the C function prefix, e.g.
    ``"crmn_conv2d_fwd"``) and have ``stride`` and ``border_mode``.
    """

    params_type = ParamsType(sh=int64, sw=int64, padh=int64, padw=int64)
    _c_entry = None

    # params read by ParamsType.get_params
    @property
    def sh(self):
        return self.stride[0]

    @property
    def sw(self):
        return self.stride[1]

    @property
    def padh(self):
        bm = self.border_mode
        return _BORDER_CODES[bm] if isinstance(bm, str) else bm[0]

    @property
    def padw(self):
        bm = self.border_mode
        return _BORDER_CODES[bm] if isinstance(bm, str) else bm[1]

    # build settings: BlasMixin's, with the conv sources (GEMM substituted per dtype)
    def c_support_code(self, **kwargs):
        return _support_code()

    def c_code_cache_version(self):
        return (1, _source_version())

    # per-node workspace
    def c_support_code_struct(self, node, name):
        return f"crmn_workspace ws_{name};"

    def c_init_code_struct(self, node, name, sub):
        return f"ws_{name}.data = NULL; ws_{name}.bytes = 0;"

    def c_cleanup_code_struct(self, node, name):
        return f"free(ws_{name}.data); ws_{name}.data = NULL; ws_{name}.bytes = 0;"

    def c_code(self, node, name, inputs, outputs, sub):
        ctype = _DTYPES[node.outputs[0].dtype][0]
        args = ", ".join(inputs)
        (out,) = outputs
        p = sub["params"]
        return f"""
        if ({self._c_entry}_{ctype}({args}, &{out}, (int){p}->sh, (int){p}->sw, (int){p}->padh,
                                     (int){p}->padw, &ws_{name}) != 0) {{
            {sub["fail"]}
        }}
        """
