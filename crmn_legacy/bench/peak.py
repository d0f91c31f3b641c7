"""matmul_peak_gflops(n=4096, repeats=5) -- the yardstick every benchmark divides by.

The float32 matrix-multiply rate numpy reaches in *this* process, now: the
best of ``repeats`` timed ``a @ b`` of two n x n matrices (2 n^3 FLOPs), after
one untimed warm-up.  Absolute times drift between runs and machines; a
fraction of this peak measured side by side does not.
"""

import time

import numpy as np

__all__ = ["matmul_peak_gflops", "MatmulProbe"]


def matmul_peak_gflops(n=4096, repeats=5, clock=time.perf_counter):
    """matmul_peak_gflops(n=4096, repeats=5, clock=time.perf_counter) -> float: best float32 ``a @ b`` rate of numpy, GFLOP/s.

    ``clock=time.thread_time`` times in the calling thread's CPU time
    (meaningful with a single-threaded BLAS only).
    """
    probe = MatmulProbe(n, settle_s=0.0, clock=clock)  # one untimed warm-up: threads, pages
    return max(probe() for _ in range(repeats))


class MatmulProbe:
    """MatmulProbe(n=2048, settle_s=0.3, clock=time.perf_counter) -- probe() -> float: one timed float32 ``a @ b``, GFLOP/s.

    A quick reading of the machine's state between the timed steps of a
    benchmark (one n x n matmul, about 0.1 s at n = 2048).  After the matmul
    it sleeps ``settle_s`` so that OpenBLAS's threads, which busy-wait for a
    while after a call, are asleep before the next timed step starts.
    """

    def __init__(self, n=2048, settle_s=0.3, clock=time.perf_counter):
        rng = np.random.default_rng(1)
        self.n, self.settle_s, self.clock = n, settle_s, clock
        self.a = rng.standard_normal((n, n), dtype=np.float32)
        self.b = rng.standard_normal((n, n), dtype=np.float32)
        self.a @ self.b  # warm-up

    def __call__(self):
        t0 = self.clock()
        self.a @ self.b
        dt = self.clock() - t0
        if self.settle_s > 0:
            time.sleep(self.settle_s)
        return 2.0 * self.n ** 3 / dt / 1e9
