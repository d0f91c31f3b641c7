"""python -m crmn_legacy bench conv [--json] [--batch-size 128] [--repeats 5] [--mode CVM] [--parallel batch] [--impl auto] [--isa auto] [--per-op] [--clock wall]

Convolution benchmark on the ResNet layer shapes of the paper (3x3 kernels,
"half" padding): at width k=1, 16->16 at 32x32, 16->32 stride 2 from 32x32,
32->32 at 16x16, 32->64 stride 2 from 16x16, 64->64 at 8x8; at k=4 the same
with 64, 128 and 256 maps.  For each shape it times one compiled function
computing forward + gradient w.r.t. inputs + gradient w.r.t. weights (the
three Ops of :mod:`crmn_legacy.ops.conv`), takes the best of ``--repeats``
runs after a warm-up (the machine is shared: the minimum is the least
disturbed run), and reports GFLOP/s (``3 x 2 N F C kh kw Ho Wo`` FLOPs) and
the fraction of this process's float32 matmul peak (numpy 4096 x 4096
``matmul``, best of 5, measured first).  ``k1_fraction`` / ``k4_fraction``
are total FLOPs over total time of each width's five shapes, over the peak.

``--impl`` picks the float32 C kernels (``CRMN_CONV_IMPL``): ``auto`` (the
default: direct AVX2 kernels where they measured faster), ``direct`` or
``gemm`` (im2col + sgemm, the previous code), for before/after comparisons in
one session.  ``--isa avx2`` (``CRMN_CONV_ISA``) keeps the direct kernels on
their AVX2 tiles on a CPU with AVX-512 (the default, ``auto``, takes the
AVX-512 tiles; the results are bit-identical, only the time differs).  For a single-core figure, insensitive to other jobs on the
other core, run with ``OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1``: the peak is
then numpy's single-thread rate, measured in the same process.

``--per-op`` also times each Op alone (key ``ops`` of each shape);
``--clock thread`` times in the calling thread's CPU time instead of wall
time (single-threaded runs only), peak included -- the least disturbed
single-core figure on a shared machine.

``--json`` prints one JSON object (keys ``peak_gflops``, ``k1_fraction``,
``k4_fraction``, ``shapes``, ``impl``, ``clock``, ...).
"""

import argparse
import json
import os
import sys
import time

import numpy as np

from .peak import matmul_peak_gflops

__all__ = ["main", "SHAPES", "matmul_peak_gflops", "bench_shape"]

# (width k, C in, F out, H = W of the input, stride)
SHAPES = [
    (k, c * k, f * k, hw, s)
    for k in (1, 4)
    for (c, f, hw, s) in ((16, 16, 32, 1), (16, 32, 32, 2), (32, 32, 16, 1), (32, 64, 16, 2), (64, 64, 8, 1))
]


_CLOCKS = {"wall": time.perf_counter, "thread": time.thread_time}


def _timed(fn, clock="wall"):
    now = _CLOCKS[clock]
    t0 = now()
    fn()
    return now() - t0


def _compile_ops(c, f, stride, dtype, mode):
    """Three functions, one Op each: (x, w) -> y, (w, gy, x) -> dx, (x, gy) -> dw."""
    import pytensor.tensor as pt

    from ..runtime.compile import function
    from ..ops import Conv2d, Conv2dGradInputs, Conv2dGradWeights

    x = pt.tensor("x", dtype=dtype, shape=(None, c, None, None))
    w = pt.tensor("w", dtype=dtype, shape=(f, c, 3, 3))
    gy = pt.tensor("gy", dtype=dtype, shape=(None, f, None, None))
    fns = {
        "forward": function([x, w], Conv2d(stride, "half")(x, w), mode=mode),
        "grad_inputs": function([w, gy, x], Conv2dGradInputs(stride, "half")(w, gy, x.shape[2:]), mode=mode,
                                on_unused_input="ignore"),
        "grad_weights": function([x, gy], Conv2dGradWeights(stride, "half")(x, gy, (3, 3)), mode=mode),
    }
    for fn in fns.values():
        fn.trust_input = True
    return fns


def _compile(c, f, stride, dtype, mode):
    """One function (x, w, gy) -> (y, dx, dw) made of the three Ops."""
    import pytensor.tensor as pt

    from ..runtime.compile import function
    from ..ops import Conv2d, Conv2dGradInputs, Conv2dGradWeights

    x = pt.tensor("x", dtype=dtype, shape=(None, c, None, None))
    w = pt.tensor("w", dtype=dtype, shape=(f, c, 3, 3))
    gy = pt.tensor("gy", dtype=dtype, shape=(None, f, None, None))
    y = Conv2d(stride, "half")(x, w)
    dx = Conv2dGradInputs(stride, "half")(w, gy, x.shape[2:])
    dw = Conv2dGradWeights(stride, "half")(x, gy, (3, 3))
    fn = function([x, w, gy], [y, dx, dw], mode=mode)
    fn.trust_input = True
    return fn


def bench_shape(batch, c, f, hw, stride, repeats=5, dtype="float32", mode=None, per_op=False, clock="wall"):
    """bench_shape(batch, c, f, hw, stride, repeats=5, dtype="float32", mode=None, per_op=False, clock="wall") -> dict

    Best time (s) of forward + both gradients for one layer shape, and its
    FLOPs; with ``per_op``, also ``ops``: GFLOP/s of each Op timed alone.
    ``clock="thread"`` times in the calling thread's CPU time (meaningful
    single-threaded only: ``OMP_NUM_THREADS=1``).
    """
    from ..ops import conv_output_shape

    ho = conv_output_shape((batch, c, hw, hw), (f, c, 3, 3), stride, "half")[2]
    rng = np.random.default_rng(1)
    x = rng.standard_normal((batch, c, hw, hw), dtype=np.float32).astype(dtype)
    w = (rng.standard_normal((f, c, 3, 3), dtype=np.float32) * 0.1).astype(dtype)
    gy = rng.standard_normal((batch, f, ho, ho), dtype=np.float32).astype(dtype)
    fn = _compile(c, f, stride, dtype, mode)
    fn(x, w, gy)  # warm-up: allocates outputs and workspaces
    best = min(_timed(lambda: fn(x, w, gy), clock) for _ in range(repeats))
    flops = 3 * 2.0 * batch * f * c * 9 * ho * ho
    res = {"seconds": best, "flops": flops, "gflops": flops / best / 1e9}
    if per_op:
        args = {"forward": (x, w), "grad_inputs": (w, gy, x), "grad_weights": (x, gy)}
        res["ops"] = {}
        for name, op_fn in _compile_ops(c, f, stride, dtype, mode).items():
            op_fn(*args[name])
            t = min(_timed(lambda: op_fn(*args[name]), clock) for _ in range(repeats))
            res["ops"][name] = flops / 3 / t / 1e9
    return res


def _thread_peak_gflops(n=4096, repeats=5):
    """numpy's float32 matmul rate in the calling thread's CPU time (single-threaded BLAS only)."""
    return matmul_peak_gflops(n, repeats, clock=_CLOCKS["thread"])


def run(batch_size=128, repeats=5, mode=None, dtype="float32", per_op=False, clock="wall"):
    """run(batch_size=128, repeats=5, mode=None, dtype="float32", per_op=False, clock="wall") -> dict: the whole benchmark."""
    import crmn_legacy

    crmn_legacy.configure()  # measure with our programs' settings: float32, OpenMP, OpenBLAS threads

    peak = matmul_peak_gflops() if clock == "wall" else _thread_peak_gflops()
    rows = []
    for k, c, f, hw, s in SHAPES:
        r = bench_shape(batch_size, c, f, hw, s, repeats, dtype, mode, per_op, clock)
        r.update(k=k, c_in=c, c_out=f, size=hw, stride=s, fraction=r["gflops"] / peak)
        rows.append(r)
    result = {"peak_gflops": peak, "batch_size": batch_size, "repeats": repeats, "dtype": dtype,
              "mode": mode or os.environ.get("CRMN_MODE", "CVM"),
              "parallel": os.environ.get("CRMN_CONV_PARALLEL", "batch"),
              "impl": os.environ.get("CRMN_CONV_IMPL", "auto") or "auto",
              "isa": os.environ.get("CRMN_CONV_ISA", "auto") or "auto", "clock": clock, "shapes": rows}
    for k in (1, 4):
        sel = [r for r in rows if r["k"] == k]
        secs = sum(r["seconds"] for r in sel)
        gflops = sum(r["flops"] for r in sel) / secs / 1e9
        result[f"k{k}_seconds"] = secs
        result[f"k{k}_gflops"] = gflops
        result[f"k{k}_fraction"] = gflops / peak
    return result


def _print_table(res):
    print(f"float32 matmul peak (numpy 4096x4096, {res['clock']} clock): {res['peak_gflops']:.1f} GFLOP/s")
    print(f"batch {res['batch_size']}, {res['dtype']}, mode {res['mode']}, parallel {res['parallel']}, "
          f"impl {res['impl']}, isa {res.get('isa', 'auto')}, best of {res['repeats']}; forward + grad inputs + grad weights, 3x3 'half'")
    per_op = "ops" in res["shapes"][0]
    extra = f" {'fwd':>6} {'gradi':>6} {'gradw':>6}  (GFLOP/s, each Op alone)" if per_op else ""
    print(f"{'k':>2} {'in->out':>9} {'size':>5} {'str':>3} {'ms':>9} {'GFLOP/s':>8} {'of peak':>8}{extra}")
    for r in res["shapes"]:
        ops = "".join(f" {r['ops'][o]:>6.1f}" for o in ("forward", "grad_inputs", "grad_weights")) if per_op else ""
        print(f"{r['k']:>2} {r['c_in']:>4}->{r['c_out']:<4} {r['size']:>5} {r['stride']:>3} "
              f"{1e3 * r['seconds']:>9.2f} {r['gflops']:>8.1f} {100 * r['fraction']:>7.1f}%{ops}")
    print(f"summary: k=1 {res['k1_gflops']:.1f} GFLOP/s = {100 * res['k1_fraction']:.1f}% of peak "
          f"(target 50%), k=4 {res['k4_gflops']:.1f} GFLOP/s = {100 * res['k4_fraction']:.1f}% of peak "
          f"(target 75%)")


def main(argv=None):
    """main(argv=None) -> int"""
    p = argparse.ArgumentParser(prog="python -m crmn_legacy bench conv", description=__doc__.split("\n\n")[1])
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--batch-size", type=int, default=128, help="images per batch (default 128)")
    p.add_argument("--repeats", type=int, default=5, help="timed runs per shape, best kept (default 5)")
    p.add_argument("--mode", default=None, help="PyTensor mode (default: ours, CVM; e.g. NUMBA, JAX)")
    p.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    p.add_argument("--parallel", choices=("batch", "blas"), default=None,
                   help="C code threading: OpenMP over images with 1-thread BLAS (batch, default) "
                        "or one thread calling threaded BLAS (blas)")
    p.add_argument("--impl", choices=("auto", "direct", "gemm"), default=None,
                   help="float32 C kernels (sets CRMN_CONV_IMPL): auto (default), direct AVX2 kernels "
                        "wherever they apply, or im2col + GEMM")
    p.add_argument("--isa", choices=("auto", "avx2"), default=None,
                   help="direct kernels' vector tiles (sets CRMN_CONV_ISA): auto (default: AVX-512 where the CPU "
                        "has it) or avx2")
    p.add_argument("--per-op", action="store_true", help="also time each Op alone (GFLOP/s per Op)")
    p.add_argument("--clock", choices=tuple(_CLOCKS), default="wall",
                   help="wall (default) or thread: the calling thread's CPU time, for single-threaded runs "
                        "(OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1) on a shared machine; the peak is then "
                        "timed the same way")
    args = p.parse_args(sys.argv[1:] if argv is None else argv)
    if args.batch_size < 1 or args.repeats < 1:
        p.error("--batch-size and --repeats must be >= 1")
    if args.parallel:
        os.environ["CRMN_CONV_PARALLEL"] = args.parallel
    if args.impl:
        os.environ["CRMN_CONV_IMPL"] = args.impl
    if args.isa:
        os.environ["CRMN_CONV_ISA"] = args.isa
    if args.clock == "thread" and os.environ.get("OMP_NUM_THREADS") != "1":
        p.error("--clock thread needs OMP_NUM_THREADS=1 (and OPENBLAS_NUM_THREADS=1)")
    res = run(args.batch_size, args.repeats, args.mode, args.dtype, args.per_op, args.clock)
    if args.json:
        print(json.dumps(res))
    else:
        _print_table(res)
    return 0


if __name__ == "__main__":
    sys.exit(main())
