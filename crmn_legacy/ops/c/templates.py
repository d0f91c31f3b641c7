"""support_code(*sources) and source_version(*names) -- the one loader of our COps' C sources.

Each Op family keeps its C code in ``c/src/``: dtype-independent headers
(``crmn_common.h`` for every Op, ``blas_common.h`` for those calling BLAS, the
family's ``*_common.h``) and a ``*_template.c`` written once with the
placeholders ``DTYPE`` (``float`` / ``double``) and ``NPYTYPE``
(``NPY_FLOAT32`` / ``NPY_FLOAT64``), instantiated here for both dtypes.
"""

import hashlib
import pathlib

__all__ = ["C_DIR", "DTYPES", "SHARED_HEADER", "BLAS_HEADER", "read", "support_code", "source_version", "c_call",
           "OpenMPMixin", "BlasMixin"]

C_DIR = pathlib.Path(__file__).resolve().parent / "src"
#: dtype -> (C type, NumPy type number macro)
DTYPES = {"float32": ("float", "NPY_FLOAT32"), "float64": ("double", "NPY_FLOAT64")}


def read(name):
    """read(name) -> str: the text of ``c/src/<name>``."""
    return (C_DIR / name).read_text(encoding="utf-8")


#: Helpers every Op family's support code starts with.
SHARED_HEADER = "crmn_common.h"
#: BLAS names (thread control, ``CRMN_GEMM_DTYPE``) of the Ops that call the ``scipy-openblas32`` wheel.
BLAS_HEADER = "blas_common.h"


def support_code(*sources):
    """support_code(*headers, template) -> str: :data:`SHARED_HEADER`, the headers, then ``template`` for float and double."""
    *headers, template = sources
    text = read(template)
    return "\n".join([read(SHARED_HEADER), *map(read, headers)]
                     + [text.replace("NPYTYPE", npy).replace("DTYPE", ctype) for ctype, npy in DTYPES.values()])


def source_version(*names):
    """source_version(*names) -> int that changes whenever one of the named sources changes."""
    return int(hashlib.sha256("".join(read(n) for n in names).encode()).hexdigest()[:12], 16)


def c_call(function, node, args, sub):
    """c_call(function, node, args, sub) -> str: an Op's ``c_code``: call ``function_<ctype>(args...)``, fail on non-zero.

    ``<ctype>`` (``float`` / ``double``) is the C type of the node's first input; ``args`` are C expressions.
    """
    ctype = DTYPES[node.inputs[0].dtype][0]
    return f"""
    if ({function}_{ctype}({", ".join(args)}) != 0) {{
        {sub["fail"]}
    }}
    """


class OpenMPMixin:
    """C build settings of a COp: OpenMP, ``-O3``, its sources.

    Subclasses set ``_c_sources = (header, ..., template)``.
    """

    _c_sources = None

    def c_headers(self, **kwargs):
        return ["<omp.h>"]

    def c_libraries(self, **kwargs):
        return ["gomp"]

    def c_compile_args(self, **kwargs):
        return ["-fopenmp", "-O3"]

    def c_support_code(self, **kwargs):
        return support_code(*self._c_sources)

    def c_code_cache_version(self):
        return (1, source_version(SHARED_HEADER, *self._c_sources))


class BlasMixin(OpenMPMixin):
    """:class:`OpenMPMixin` plus the ``scipy-openblas32`` wheel: ``<cblas.h>``, its library, an rpath.

    Used by the Ops that call ``scipy_cblas_?gemm`` (the convolution family and
    :class:`~crmn_legacy.ops.matmul.Matmul`); their ``_c_sources`` start with :data:`BLAS_HEADER`.
    """

    def c_headers(self, **kwargs):
        return ["<cblas.h>", "<string.h>", "<stdlib.h>", *super().c_headers(**kwargs)]

    def c_header_dirs(self, **kwargs):
        return [_blas()["include_dir"]]

    def c_lib_dirs(self, **kwargs):
        return [_blas()["lib_dir"]]

    def c_libraries(self, **kwargs):
        return [_blas()["library"], *super().c_libraries(**kwargs)]

    def c_compile_args(self, **kwargs):
        return [*super().c_compile_args(**kwargs), f"-Wl,-rpath,{_blas()['lib_dir']}"]


def _blas():
    from ...runtime.pytensor_flags import blas_info

    return blas_info()
