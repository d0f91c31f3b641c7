"""CConvMixin -- the C side shared by the three convolution Ops.

Builds on :class:`~crmn_legacy.ops.c.templates.BlasMixin`: the support code
is ``crmn_common.h``, ``blas_common.h``, ``conv2d_common.h``,
``conv2d_direct.h`` (the direct float32 kernels, AVX2),
``conv2d_direct512.h`` (their AVX-512 register tiles) and
``conv2d_template.c`` for float and double, linked to the ``scipy-openblas32``
wheel and OpenMP.  Each Apply node gets a scratch workspace that lives as long
as the compiled thunk, so repeated calls reuse the im2col buffers.

The Op parameters reach C through a ``ParamsType`` (``sh``, ``sw``, ``padh``,
``padw``; ``padh = -1`` means "half", ``-2`` "full"), so one compiled module
per Op class and dtype serves every stride and padding.
"""

from pytensor.link.c.params_type import ParamsType
from pytensor.scalar import int64

from .templates import BLAS_HEADER, BlasMixin, c_call

__all__ = ["CConvMixin", "C_SOURCES"]

#: The convolution family's sources, in support-code order (after ``crmn_common.h``).
C_SOURCES = (BLAS_HEADER, "conv2d_common.h", "conv2d_direct.h", "conv2d_direct512.h", "conv2d_template.c")

_BORDER_CODES = {"half": -1, "full": -2}


class CConvMixin(BlasMixin):
    """Mixin giving a convolution Op its C implementation.

    Subclasses set ``_c_entry`` (the C function prefix, e.g.
    ``"crmn_conv2d_fwd"``) and have ``stride`` and ``border_mode``.
    """

    params_type = ParamsType(sh=int64, sw=int64, padh=int64, padw=int64)
    _c_entry = None
    _c_sources = C_SOURCES

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

    # per-node workspace
    def c_support_code_struct(self, node, name):
        return f"crmn_workspace ws_{name};"

    def c_init_code_struct(self, node, name, sub):
        return f"ws_{name}.data = NULL; ws_{name}.bytes = 0;"

    def c_cleanup_code_struct(self, node, name):
        return f"free(ws_{name}.data); ws_{name}.data = NULL; ws_{name}.bytes = 0;"

    def c_code(self, node, name, inputs, outputs, sub):
        p = sub["params"]
        geometry = [f"(int){p}->{k}" for k in ("sh", "sw", "padh", "padw")]
        return c_call(self._c_entry, node, [*inputs, f"&{outputs[0]}", *geometry, f"&ws_{name}"], sub)
