"""Small helpers shared across the package."""

import json
import os

__all__ = ["atomic_write_json"]


def atomic_write_json(path, obj):
    """atomic_write_json(path, obj) -> None

    Write ``obj`` as JSON to ``path`` through a temporary file in the same
    folder, fsync'd, then ``os.replace``: a crash leaves the old file or the
    new one, never a torn one.
    """
    path = os.fspath(path)
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(obj, fh, indent=2, sort_keys=True, default=str)
        fh.write("\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
