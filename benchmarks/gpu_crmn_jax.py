"""python benchmarks/gpu_crmn_jax.py [--depth 32] [--width 4] [--batch-size 128] [--steps 300] [--train-size 50000]

CRMN training on a GPU through PyTensor's JAX backend (``mode="JAX"``): build
the CRMN (default CRMN-32 k=4, CIFAR-100 shapes), compile the very training
step the trainer uses (:func:`crmn_legacy.training.step.training_step`),
run ``--steps`` steps on random data resident on the device, and print the
median seconds per step, images per second and the seconds per epoch
extrapolated to ``--train-size`` images, with the device's name.

Needs JAX with a GPU (``pip install -e .[jax]`` and ``jax[cuda12]``).  The
input has a fully static shape (batch included): JAX needs every shape to be
concrete inside ``jit``.  Put the printed line, with the GPU's name, in
RESULTS.md.
"""

import argparse
import json
import statistics
import sys
import time


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--depth", type=int, default=32)
    p.add_argument("--width", type=float, default=4)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--train-size", type=int, default=50000, help="images per epoch (CIFAR train: 50000)")
    p.add_argument("--num-classes", type=int, default=100)
    p.add_argument("--allow-cpu", action="store_true", help="run even if JAX sees no GPU (smoke test)")
    args = p.parse_args(argv)

    import jax
    import numpy as np
    import pytensor.tensor as pt

    import crmn_legacy  # noqa: F401
    from crmn_legacy import random as crmn_random
    from crmn_legacy.models import build_model
    from crmn_legacy.training.step import compile_training_step, training_step

    devices = jax.devices()
    gpu = [d for d in devices if d.platform == "gpu"]
    if not gpu and not args.allow_cpu:
        print(f"no GPU visible to JAX (devices: {devices}); use --allow-cpu for a smoke test", file=sys.stderr)
        return 2
    device = (gpu or devices)[0]
    name = getattr(device, "device_kind", str(device))
    width = int(args.width) if float(args.width).is_integer() else args.width
    b = args.batch_size
    crmn_random.set_rng(0)
    t0 = time.perf_counter()
    x = pt.tensor("inputs", dtype="float32", shape=(b, 3, 32, 32))
    net = build_model("crmn", args.depth, width, args.num_classes, input_var=x)
    step = training_step(net)
    fn = compile_training_step(step, mode="JAX")
    build_s = time.perf_counter() - t0
    rng = np.random.default_rng(0)
    xs = rng.standard_normal((b, 3, 32, 32), dtype=np.float32)
    ys = rng.integers(0, args.num_classes, b).astype(np.int32)
    t0 = time.perf_counter()
    for _ in range(args.warmup):
        out = fn(xs, ys)
    first_s = time.perf_counter() - t0
    times = []
    for _ in range(args.steps):
        t0 = time.perf_counter()
        out = fn(xs, ys)  # outputs come back as NumPy: each step is synchronised
        times.append(time.perf_counter() - t0)
    med = statistics.median(times)
    res = {"device": name, "platform": device.platform, "model": f"crmn-{args.depth} k={width}", "batch_size": b,
           "steps": args.steps, "step_s_median": med, "images_per_s": b / med,
           "epoch_s": med * args.train_size / b, "train_size": args.train_size, "build_compile_s": build_s,
           "warmup_s": first_s, "last_loss": float(out[0])}
    print(json.dumps(res))
    print(f"{name}: crmn-{args.depth} k={width} batch {b}: {1e3 * med:.1f} ms/step, {b / med:.0f} images/s, "
          f"{res['epoch_s']:.1f} s per epoch of {args.train_size} images (extrapolated, median of {args.steps})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
