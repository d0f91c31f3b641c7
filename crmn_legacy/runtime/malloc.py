"""keep_freed_memory() -- stop glibc from handing freed blocks back to the kernel.

A compiled training step frees each intermediate tensor after its last use
(PyTensor's ``allow_gc``) and allocates it again on the next step.  By
default glibc returns the top of the heap to the kernel once
``M_TRIM_THRESHOLD`` bytes are free there and serves large blocks with fresh
``mmap`` s, so every step page-faults its big buffers back in (the kernel
zeroes each 4 KiB page).  :func:`keep_freed_memory` raises the trim threshold
to 2 GiB and turns ``mmap`` off for allocations (``M_MMAP_MAX = 0``): freed
memory stays mapped, resident up to the peak, which is what a training
process wants and what a library must not impose, so it runs only from
:func:`crmn_legacy.configure` (never at import).  Measurements:
``docs/PERFORMANCE.md``.

It does nothing when not on glibc, when ``CRMN_MALLOC_TUNING=0``, or when the
user sets ``MALLOC_TRIM_THRESHOLD_``, ``MALLOC_MMAP_THRESHOLD_`` or
``MALLOC_MMAP_MAX_`` (glibc reads those itself).
"""

import ctypes
import ctypes.util
import os

__all__ = ["keep_freed_memory", "TRIM_THRESHOLD", "MMAP_THRESHOLD", "MMAP_MAX"]

#: glibc mallopt parameter numbers (malloc.h).
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD, _M_MMAP_MAX = -1, -3, -4
#: Free bytes at the top of the heap before glibc trims it (2 GiB - 1: an int).
TRIM_THRESHOLD = 2**31 - 1
#: Blocks at least this big would get their own mmap (32 MiB, glibc's maximum on 64-bit) ...
MMAP_THRESHOLD = 32 * 2**20
#: ... but at most this many mmapped blocks at a time: none.
MMAP_MAX = 0


def keep_freed_memory():
    """keep_freed_memory() -> bool: set the thresholds; False when not glibc, disabled or refused."""
    if os.environ.get("CRMN_MALLOC_TUNING", "1").strip() in ("0", "off", "false", "no"):
        return False
    if any(v in os.environ for v in ("MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_", "MALLOC_MMAP_MAX_")):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (macOS, musl without mallopt, ...)
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return all([mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD), mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD),
                mallopt(_M_MMAP_MAX, MMAP_MAX)])
