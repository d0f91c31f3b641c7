"""python -m crmn_legacy bench conv [--json] [--batch-size 128] [--repeats 5] [--mode CVM] [--parallel batch]

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

``--json`` prints one JSON object (keys ``peak_gflops``, ``k1_fraction``,
``k4_fraction``, ``shapes``, ...).
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


def _timed(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def _compile(c, f, stride, dtype, mode):
    """One function (x, w, gy) -> (y, dx, dw) made of the three Ops."""
    import pytensor.tensor as pt

    from ..compile import function
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


def bench_shape(batch, c, f, hw, stride, repeats=5, dtype="float32", mode=None):
    """bench_shape(batch, c, f, hw, stride, repeats=5, dtype="float32", mode=None) -> dict

    Best time (s) of forward + both gradients for one layer shape, and its FLOPs.
    """
    ho = (hw + 2 - 3) // stride + 1
    rng = np.random.default_rng(1)
    x = rng.standard_normal((batch, c, hw, hw), dtype=np.float32).astype(dtype)
    w = (rng.standard_normal((f, c, 3, 3), dtype=np.float32) * 0.1).astype(dtype)
    gy = rng.standard_normal((batch, f, ho, ho), dtype=np.float32).astype(dtype)
    fn = _compile(c, f, stride, dtype, mode)
    fn(x, w, gy)  # warm-up: allocates outputs and workspaces
    best = min(_timed(lambda: fn(x, w, gy)) for _ in range(repeats))
    flops = 3 * 2.0 * batch * f * c * 9 * ho * ho
    return {"seconds": best, "flops": flops, "gflops": flops / best / 1e9}


def run(batch_size=128, repeats=5, mode=None, dtype="float32"):
    """run(batch_size=128, repeats=5, mode=None, dtype="float32") -> dict: the whole benchmark."""
    import crmn_legacy  # noqa: F401  (BLAS and floatX set-up)

    peak = matmul_peak_gflops()
    rows = []
    for k, c, f, hw, s in SHAPES:
        r = bench_shape(batch_size, c, f, hw, s, repeats, dtype, mode)
        r.update(k=k, c_in=c, c_out=f, size=hw, stride=s, fraction=r["gflops"] / peak)
        rows.append(r)
    result = {"peak_gflops": peak, "batch_size": batch_size, "repeats": repeats, "dtype": dtype,
              "mode": mode or os.environ.get("CRMN_MODE", "CVM"),
              "parallel": os.environ.get("CRMN_CONV_PARALLEL", "batch"), "shapes": rows}
    for k in (1, 4):
        sel = [r for r in rows if r["k"] == k]
        secs = sum(r["seconds"] for r in sel)
        gflops = sum(r["flops"] for r in sel) / secs / 1e9
        result[f"k{k}_seconds"] = secs
        result[f"k{k}_gflops"] = gflops
        result[f"k{k}_fraction"] = gflops / peak
    return result


def _print_table(res):
    print(f"float32 matmul peak (numpy 4096x4096): {res['peak_gflops']:.1f} GFLOP/s")
    print(f"batch {res['batch_size']}, {res['dtype']}, mode {res['mode']}, parallel {res['parallel']}, "
          f"best of {res['repeats']}; forward + grad inputs + grad weights, 3x3 'half'")
    print(f"{'k':>2} {'in->out':>9} {'size':>5} {'str':>3} {'ms':>9} {'GFLOP/s':>8} {'of peak':>8}")
    for r in res["shapes"]:
        print(f"{r['k']:>2} {r['c_in']:>4}->{r['c_out']:<4} {r['size']:>5} {r['stride']:>3} "
              f"{1e3 * r['seconds']:>9.2f} {r['gflops']:>8.1f} {100 * r['fraction']:>7.1f}%")
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
    args = p.parse_args(sys.argv[1:] if argv is None else argv)
    if args.batch_size < 1 or args.repeats < 1:
        p.error("--batch-size and --repeats must be >= 1")
    if args.parallel:
        os.environ["CRMN_CONV_PARALLEL"] = args.parallel
    res = run(args.batch_size, args.repeats, args.mode, args.dtype)
    if args.json:
        print(json.dumps(res))
    else:
        _print_table(res)
    return 0


if __name__ == "__main__":
    sys.exit(main())
