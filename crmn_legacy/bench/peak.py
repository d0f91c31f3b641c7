"""matmul_peak_gflops(n=4096, repeats=5) -- the yardstick every benchmark divides by.

The float32 matrix-multiply rate numpy reaches in *this* process, now: the
best of ``repeats`` timed ``a @ b`` of two n x n matrices (2 n^3 FLOPs), after
one untimed warm-up.  Absolute times drift between runs and machines; a
fraction of this peak measured side by side does not.
"""

import time

import numpy as np

__all__ = ["matmul_peak_gflops", "MatmulProbe"]


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


class MatmulProbe:
    """MatmulProbe(n=2048, settle_s=0.3) -- probe() -> float: one timed float32 ``a @ b``, GFLOP/s.

    A quick reading of the machine's state between the timed steps of a
    benchmark (one n x n matmul, about 0.1 s at n = 2048).  After the matmul
    it sleeps ``settle_s`` so that OpenBLAS's threads, which busy-wait for a
    while after a call, are asleep before the next timed step starts.
    """

    def __init__(self, n=2048, settle_s=0.3):
        rng = np.random.default_rng(1)
        self.n, self.settle_s = n, settle_s
        self.a = rng.standard_normal((n, n), dtype=np.float32)
        self.b = rng.standard_normal((n, n), dtype=np.float32)
        self.a @ self.b  # warm-up

    def __call__(self):
        t0 = time.perf_counter()
        self.a @ self.b
        dt = time.perf_counter() - t0
        time.sleep(self.settle_s)
        return 2.0 * self.n ** 3 / dt / 1e9
