"""load_pickle(source, name=None) -- unpickle the CIFAR "python version" files without running code.

``pickle.load`` calls whatever callable a pickle names, so a crafted file can
run ``os.system``.  :class:`RestrictedUnpickler` resolves only the globals that
the official CIFAR files (written by Python 2 with protocol 2) and protocol-2
re-pickles by Python 3 actually contain:

* ``numpy.core.multiarray._reconstruct`` / ``numpy._core.multiarray._reconstruct``,
  ``numpy.ndarray``, ``numpy.dtype`` -- numpy array reconstruction;
* ``_codecs.encode`` -- how Python 3 writes ``bytes`` at protocol 2; it is
  replaced by a function that only accepts the ``latin1`` codec;
* no builtins at all: dicts, lists, ints and strings have their own opcodes.

Anything else raises :class:`~crmn_legacy.datasets.errors.DatasetError` naming
the file and the refused global.  Strings written by Python 2 are returned as
``bytes`` (``encoding="bytes"``), as the CIFAR pages document.
"""

import codecs
import io
import pickle

from .errors import DatasetError

__all__ = ["RestrictedUnpickler", "load_pickle", "ALLOWED_GLOBALS"]


def _latin1_encode(obj, encoding="latin1", errors="strict"):
    """_latin1_encode(obj, encoding="latin1", errors="strict") -- ``_codecs.encode`` limited to latin-1 text."""
    if not isinstance(obj, str) or codecs.lookup(encoding).name != "iso8859-1" or errors != "strict":
        raise pickle.UnpicklingError(f"_codecs.encode({type(obj).__name__}, {encoding!r}) is not allowed")
    return obj.encode("latin1")


def _numpy_globals():
    import numpy as np

    try:
        from numpy._core.multiarray import _reconstruct
    except ImportError:  # numpy < 2
        from numpy.core.multiarray import _reconstruct

    return {
        ("numpy.core.multiarray", "_reconstruct"): _reconstruct,
        ("numpy._core.multiarray", "_reconstruct"): _reconstruct,
        ("numpy", "ndarray"): np.ndarray,
        ("numpy", "dtype"): np.dtype,
        ("_codecs", "encode"): _latin1_encode,
    }


ALLOWED_GLOBALS = _numpy_globals()
"""dict ``(module, name) -> object``: every global a pickle may name."""


class RestrictedUnpickler(pickle.Unpickler):
    """RestrictedUnpickler(file, *, encoding="bytes") -- a ``pickle.Unpickler`` resolving only :data:`ALLOWED_GLOBALS`.

    Parameters
    ----------
    file : binary file object
        Opened pickle.
    encoding : str
        How Python-2 ``str`` objects are decoded; ``"bytes"`` keeps them as ``bytes``.
    """

    def __init__(self, file, *, encoding="bytes"):
        super().__init__(file, encoding=encoding, fix_imports=False)

    def find_class(self, module, name):
        """find_class(module, name) -- return the allowed global or raise ``pickle.UnpicklingError``."""
        try:
            return ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(
                f"global '{module}.{name}' is forbidden (only numpy array reconstruction is allowed)"
            ) from None

    def persistent_load(self, pid):
        """persistent_load(pid) -- always refused (the CIFAR files use no persistent ids)."""
        raise pickle.UnpicklingError("persistent ids are forbidden")


def load_pickle(source, name=None):
    """load_pickle(source, name=None) -- unpickle a file path, bytes or binary file with :class:`RestrictedUnpickler`.

    Parameters
    ----------
    source : str, os.PathLike, bytes or binary file object
        The pickle.
    name : str, optional
        Name used in error messages (default: the path, or ``"<bytes>"``).

    Returns
    -------
    object
        The unpickled object (CIFAR files: a dict with ``bytes`` keys).

    Raises
    ------
    DatasetError
        When the file is missing, truncated, corrupt, or names a forbidden global.
    """
    if isinstance(source, (bytes, bytearray, memoryview)):
        name = name or "<bytes>"
        return _load(io.BytesIO(source), name)
    if hasattr(source, "read"):
        return _load(source, name or getattr(source, "name", "<file>"))
    name = name or str(source)
    try:
        with open(source, "rb") as f:
            return _load(f, name)
    except FileNotFoundError:
        raise DatasetError(f"{name}: file not found") from None
    except IsADirectoryError:
        raise DatasetError(f"{name}: is a directory, expected a pickle file") from None
    except PermissionError as exc:
        raise DatasetError(f"{name}: cannot be read ({exc.strerror})") from None


def _load(f, name):
    try:
        return RestrictedUnpickler(f).load()
    except pickle.UnpicklingError as exc:
        msg = str(exc)
        if "forbidden" in msg or "not allowed" in msg:
            raise DatasetError(f"{name}: refused to unpickle: {msg}") from None
        if "truncated" in msg:
            raise DatasetError(f"{name}: truncated pickle (file ends early)") from None
        raise DatasetError(f"{name}: corrupt pickle ({msg})") from None
    except EOFError:
        raise DatasetError(f"{name}: truncated pickle (file ends early)") from None
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, OverflowError, MemoryError) as exc:
        raise DatasetError(f"{name}: corrupt pickle ({type(exc).__name__}: {exc})") from None
