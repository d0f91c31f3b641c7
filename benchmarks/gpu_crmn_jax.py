"""python benchmarks/gpu_crmn_jax.py [--depth 32] [--width 4] [--batch-size 100] [--steps 100] [--precision float32]

CRMN training on a GPU through PyTensor's JAX backend (``--backend jax``):
build the CRMN (default CRMN-32 k=4, CIFAR-100 shapes), compile the very
training step the trainer compiles under that backend
(:func:`crmn_legacy.training.step.training_step` on the static inputs of
:func:`crmn_legacy.training.backend.input_variables`), run ``--steps`` steps
on random data and print the median seconds per step, images per second and
the seconds per epoch of ``--train-size`` images (``train-size / batch``
steps), with the device's name.

Each step is timed from the host, from the call until the device has finished
it (``jax.block_until_ready``; JAX dispatches asynchronously): the images go to
the device and the whole step runs, as in the trainer, which reads the loss
after every step; the trainer's data preparation (crops, mean subtraction) is
not included.  ``--precision``: JAX's precision for float32 convolutions and
matrix products (default: JAX's own, TensorFloat-32 on recent NVIDIA GPUs;
``float32``: float32 arithmetic, as the C backend).

Needs JAX with a GPU (``pip install -e .[jax]`` and a CUDA jaxlib).  Put the
printed line, with the GPU's name, in RESULTS.md.
"""

import argparse
import contextlib
import json
import statistics
import sys
import time


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--depth", type=int, default=32)
    p.add_argument("--width", type=float, default=4)
    p.add_argument("--batch-size", type=int, default=100, help="images per step (default 100, the paper's)")
    p.add_argument("--steps", type=int, default=100)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--train-size", type=int, default=50000, help="images per epoch (CIFAR train: 50000)")
    p.add_argument("--num-classes", type=int, default=100)
    p.add_argument("--precision", choices=("default", "tensorfloat32", "float32"), default="default",
                   help="JAX matmul/convolution precision for float32 (default: JAX's own)")
    p.add_argument("--allow-cpu", action="store_true", help="run even if JAX sees no GPU (smoke test)")
    args = p.parse_args(argv)

    import jax
    import numpy as np
    import pytensor

    import crmn_legacy
    from crmn_legacy import random as crmn_random
    from crmn_legacy.models import build_model
    from crmn_legacy.training.backend import backend_mode, input_variables
    from crmn_legacy.training.step import compile_training_step, training_step

    crmn_legacy.configure()  # float32 graphs, as our command lines build them
    devices = jax.devices()
    gpu = [d for d in devices if d.platform == "gpu"]
    if not gpu and not args.allow_cpu:
        print(f"no GPU visible to JAX (devices: {devices}); use --allow-cpu for a smoke test", file=sys.stderr)
        return 2
    device = (gpu or devices)[0]
    name = getattr(device, "device_kind", str(device))
    width = int(args.width) if float(args.width).is_integer() else args.width
    b = args.batch_size
    precision = contextlib.nullcontext() if args.precision == "default" else \
        jax.default_matmul_precision(args.precision)
    crmn_random.set_rng(0)
    t0 = time.perf_counter()
    net = build_model("crmn", args.depth, width, args.num_classes)
    x, t = input_variables("jax", b, (3, 32, 32))
    fn = compile_training_step(training_step(net, inputs=x, targets=t), mode=backend_mode("jax"))
    build_s = time.perf_counter() - t0
    rng = np.random.default_rng(0)
    xs = rng.standard_normal((b, 3, 32, 32), dtype=np.float32)
    ys = rng.integers(0, args.num_classes, b).astype(np.int32)
    with precision:
        t0 = time.perf_counter()
        for _ in range(args.warmup):  # the first call traces and compiles (XLA)
            out = jax.block_until_ready(fn(xs, ys))
        first_s = time.perf_counter() - t0
        times = []
        for _ in range(args.steps):
            t0 = time.perf_counter()
            out = jax.block_until_ready(fn(xs, ys))  # JAX dispatches asynchronously: wait for the step's end
            times.append(time.perf_counter() - t0)
    med = statistics.median(times)
    steps_per_epoch = args.train_size / b
    res = {"device": name, "platform": device.platform, "model": f"crmn-{args.depth} k={width}", "batch_size": b,
           "precision": args.precision, "steps": args.steps, "step_s_median": med,
           "step_s_min": min(times), "images_per_s": b / med, "epoch_s": med * steps_per_epoch,
           "train_size": args.train_size, "build_compile_s": build_s, "warmup_s": first_s,
           "last_loss": float(out[0]), "jax": jax.__version__, "pytensor": pytensor.__version__,
           "crmn_legacy": crmn_legacy.__version__}
    print(json.dumps(res))
    print(f"{name}: crmn-{args.depth} k={width} batch {b}, precision {args.precision}: {med:.4f} s/step, "
          f"{b / med:.0f} images/s, {res['epoch_s']:.1f} s per epoch of {args.train_size} images "
          f"({steps_per_epoch:g} steps; median of {args.steps}); build+compile {build_s:.0f} s, first steps "
          f"{first_s:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
