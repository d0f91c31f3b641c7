"""atomic_writer(path) and atomic_write_{bytes,text,json} -- the one way crmn_legacy writes a file.

A file is written to a hidden temporary file in the same folder, flushed and
``fsync`` -ed, then ``os.replace`` -d over ``path`` (atomic on POSIX), and the
folder is ``fsync`` -ed.  Whatever fails on the way (a full disk, a kill, an
exception in the caller's writing code) leaves the old file, or none, and no
temporary file; never a torn one.  Checkpoints, run logs, result rows,
``RESULTS.md`` sections, cached graphs and downloads all go through here.
"""

import contextlib
import json
import os
import pathlib
import secrets

__all__ = ["atomic_writer", "atomic_write_bytes", "atomic_write_text", "atomic_write_json", "fsync_dir",
           "os_error_text"]


def fsync_dir(folder):
    """fsync_dir(folder) -> None: make a rename inside ``folder`` durable (best effort; not every system allows it)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_writer(path, mode="wb", encoding=None):
    """atomic_writer(path, mode="wb", encoding=None) -> context manager yielding the open temporary file.

    ``mode`` is a writing mode of :func:`open` (``"wb"``, ``"w+b"`` for
    libraries that read back what they write, such as h5py, ``"w"`` for text,
    with ``encoding`` defaulting to UTF-8 then).  On a clean exit the file
    replaces ``path``; on an exception the temporary file is removed and the
    exception propagates.  The folder of ``path`` must exist.
    """
    path = pathlib.Path(path)
    if "b" not in mode and encoding is None:
        encoding = "utf-8"
    tmp = path.with_name(f".{path.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o666)  # permissions as open() gives (umask applies)
    try:
        with open(fd, mode, encoding=encoding) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    fsync_dir(path.parent)


def atomic_write_bytes(path, data):
    """atomic_write_bytes(path, data) -> None: write ``data`` to ``path`` atomically."""
    with atomic_writer(path, "wb") as fh:
        fh.write(data)


def atomic_write_text(path, text):
    """atomic_write_text(path, text) -> None: write ``text`` (UTF-8) to ``path`` atomically."""
    with atomic_writer(path, "w") as fh:
        fh.write(text)


def atomic_write_json(path, obj):
    """atomic_write_json(path, obj) -> None: ``obj`` as indented, key-sorted JSON (``default=str``), atomically."""
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n")


def os_error_text(exc):
    """os_error_text(exc) -> str: ``"FILE: reason"`` for an OSError, from the most specific error in its chain.

    Libraries that write through a Python file (h5py) wrap its ``OSError(ENOSPC)`` in a vaguer one; the
    first error of the chain that carries an ``errno`` says what happened.
    """
    cause = exc
    while cause is not None and getattr(cause, "errno", None) is None:
        cause = cause.__context__ or cause.__cause__
    cause = cause or exc
    name = getattr(cause, "filename", None) or getattr(exc, "filename", None)
    text = getattr(cause, "strerror", None) or str(cause)
    return f"{name}: {text}" if name else text
