"""keep_freed_memory() -- stop glibc from handing freed blocks back to the kernel.

A compiled training step frees each intermediate tensor after its last use
(PyTensor's ``allow_gc``) and allocates it again on the next step.  glibc
returns the top of the heap to the kernel when more than ``M_TRIM_THRESHOLD``
bytes are free there, and serves blocks above ``M_MMAP_THRESHOLD`` with fresh
``mmap`` s, so every step page-faults its big buffers back in (the kernel
zeroes each 4 KiB page).  Measured on a CRMN-32 k=1 step at batch 128 (2-core
machine, load ~3.5): 15,300 minor page faults and 54 ms of system time per
step by default; with the trim threshold at 2 GiB and the mmap threshold at
its 32 MiB maximum, 0 faults and 18 ms, peak RSS unchanged (957 vs 963 MiB).
Blocks over 32 MiB (a k=4 network's first-stage activations at batch 128
are 33.5 MiB) would still get their own ``mmap`` each time, so mmap is turned
off for allocations altogether (``M_MMAP_MAX = 0``): a CRMN-32 k=4 step went
from 7,100 page faults and 0.44 s of system time per step to 0 and 0.03 s,
peak RSS 2,363 vs 2,381 MiB.  The price: memory freed by the process stays
mapped (resident up to the peak), which is what a training process wants.

:func:`keep_freed_memory` runs at ``import crmn_legacy`` on glibc systems
unless ``CRMN_MALLOC_TUNING=0`` or the user already set ``MALLOC_TRIM_THRESHOLD_``,
``MALLOC_MMAP_THRESHOLD_`` or ``MALLOC_MMAP_MAX_`` in the environment (glibc reads
those itself).
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
