"""matmul_peak_gflops(n=4096, repeats=5) -- the yardstick every benchmark divides by.

The float32 matrix-multiply rate numpy reaches in *this* process, now: the
best of ``repeats`` timed ``a @ b`` of two n x n matrices (2 n^3 FLOPs), after
one untimed warm-up.  Absolute times drift between runs and machines; a
fraction of this peak measured side by side does not.
"""

import time

import numpy as np

__all__ = ["matmul_peak_gflops"]


def matmul_peak_gflops(n=4096, repeats=5):
    """matmul_peak_gflops(n=4096, repeats=5) -> float: best float32 ``a @ b`` rate of numpy, GFLOP/s."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    a @ b  # warm-up: threads, pages
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - t0)
    return 2.0 * n ** 3 / best / 1e9
