"""python -m crmn_legacy bench [--model crmn] [--depth 32] [--width 1] [--batch-size 128] [--compile-only] [--json]

Whole-model benchmark: build a ResNet or CRMN, compile its training step (the
very graph :mod:`crmn_legacy.training.step` gives the trainer) and its
inference function, and report

* graph build time and compile time (training + inference functions);
* ms per training step: the median of ``--steps`` (>= 5) timed steps after
  ``--warmup`` untimed ones, on random data of the model's input shape;
* images per second; inference ms per image (median over batches);
* peak resident memory of this process (``ru_maxrss``);
* achieved GFLOP/s and its fraction of this process's float32 matmul peak
  (numpy 4096 x 4096 ``matmul``, measured here, now).  FLOPs are the
  executed ones, :func:`crmn_legacy.flops.count_flops` ``(net,
  training=True)``: 2 x multiply-adds of every convolution and matrix
  product the step runs -- forward, weight gradients, and the input
  gradients except conv1's (never computed); the LSTM input projections at
  the sizes d_l really multiplied, not the zero-padded D.  Elementwise work
  is not counted.

``--json`` prints one JSON object with (at least) ``peak_gflops``,
``step_s_median``, ``fraction_of_peak``, ``compile_s`` and ``peak_rss_mib``.

The development VM's speed swings with other tenants' load (the same step
ranges over +-15 % within a minute), and the peak is the best of 5 while the
step is a median.  So after each timed step (outside its timing) one smaller
matmul is timed as a probe of the machine's state (``probe_gflops``, median
``probe_gflops_median``; ``fraction_of_probe`` = step rate / that median).
``fraction_of_peak`` stays the figure of record; the probe says how disturbed
the run was.  ``--no-probe`` leaves it out.
``--compile-only`` stops after compiling the training step (no peak, steps or
inference: ``build_s``, ``compile_train_s``, ``compile_s``, ``train_nodes``,
``peak_rss_mib``), for measuring compile time; set ``CRMN_GRAPH_CACHE`` to an
empty directory for a cold compile, or to ``off``.
"""

import argparse
import json
import resource
import statistics
import sys
import time

import numpy as np

from .peak import MatmulProbe, matmul_peak_gflops

__all__ = ["matmul_peak_gflops", "measure_model", "main"]


def _peak_rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def measure_model(model="crmn", depth=32, width=1, batch_size=128, num_classes=100, steps=5, warmup=1,
                  mode=None, inference=True, peak=None, depth_convention="he", seed=0, log=None, compile_only=False,
                  probe_steps=True):
    """measure_model(model="crmn", depth=32, width=1, batch_size=128, num_classes=100, steps=5, warmup=1, mode=None, inference=True, peak=None, depth_convention="he", seed=0, log=None, compile_only=False, probe_steps=True) -> dict

    Build, compile and time one model; see the module docstring for the keys.
    ``peak`` (GFLOP/s) is measured when None.  ``log`` is a callable for
    progress lines (default: stderr).  ``compile_only``: return after
    compiling the training step (see the module docstring).
    ``probe_steps``: after each timed step, time one :class:`MatmulProbe`
    (untimed for the step; keys ``probe_gflops*``, ``fraction_of_probe``).
    """
    import crmn_legacy

    crmn_legacy.configure()  # measure with our programs' settings: float32, OpenMP, OpenBLAS threads
    import pytensor.tensor as pt

    from .. import random as crmn_random
    from ..flops import count_flops
    from ..models import build_model
    from ..training.step import compile_evaluation, compile_training_step, training_step

    if steps < 1 or warmup < 0:
        raise ValueError(f"need steps >= 1 and warmup >= 0, got steps={steps}, warmup={warmup}")
    log = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
    res = {"model": model, "depth": depth, "width": width, "batch_size": batch_size, "num_classes": num_classes}
    if peak is None and not compile_only:
        log("bench: measuring the float32 matmul peak ...")
        peak = matmul_peak_gflops()
    res["peak_gflops"] = peak

    crmn_random.set_rng(seed)
    t0 = time.perf_counter()
    net = build_model(model, depth, width, num_classes, depth_convention=depth_convention,
                      input_var=pt.tensor4("inputs"))
    step = training_step(net)
    res["build_s"] = time.perf_counter() - t0
    log(f"bench: graph built in {res['build_s']:.1f} s; compiling the training step ...")
    t0 = time.perf_counter()
    train_fn = compile_training_step(step, mode=mode)
    res["compile_train_s"] = time.perf_counter() - t0
    res["compile_s"] = res["compile_train_s"]
    res["train_nodes"] = len(train_fn.maker.fgraph.apply_nodes)
    if compile_only:
        log(f"bench: compiled in {res['compile_train_s']:.1f} s ({res['train_nodes']} nodes)")
        res["peak_rss_mib"] = _peak_rss_mib()
        return res

    shape = get_all_input(net).output_shape
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch_size,) + tuple(shape[1:]), dtype=np.float32)
    y = rng.integers(0, num_classes, batch_size).astype(np.int32)
    log(f"bench: compiled in {res['compile_train_s']:.1f} s ({res['train_nodes']} nodes); "
        f"timing {warmup} + {steps} steps at batch {batch_size} ...")
    for _ in range(warmup):
        train_fn(x, y)
    times, probes = [], []
    probe = MatmulProbe() if probe_steps else None
    for _ in range(steps):
        t0 = time.perf_counter()
        train_fn(x, y)
        times.append(time.perf_counter() - t0)
        if probe is not None:
            probes.append(probe())
    res["step_s"] = times
    res["step_s_median"] = statistics.median(times)
    res["images_per_s"] = batch_size / res["step_s_median"]
    flops = count_flops(net, training=True) * batch_size
    res["train_gflop_per_step"] = flops / 1e9
    res["achieved_gflops"] = flops / res["step_s_median"] / 1e9
    res["fraction_of_peak"] = res["achieved_gflops"] / peak
    if probes:
        res["probe_gflops"] = probes
        res["probe_gflops_median"] = statistics.median(probes)
        res["fraction_of_probe"] = res["achieved_gflops"] / res["probe_gflops_median"]

    if inference:
        t0 = time.perf_counter()
        eval_fn = compile_evaluation(net, mode=mode)
        res["compile_inference_s"] = time.perf_counter() - t0
        res["compile_s"] += res["compile_inference_s"]
        eval_fn(x, y)
        inf = []
        for _ in range(max(3, steps)):
            t0 = time.perf_counter()
            eval_fn(x, y)
            inf.append(time.perf_counter() - t0)
        res["inference_ms_per_image"] = 1e3 * statistics.median(inf) / batch_size
    res["peak_rss_mib"] = _peak_rss_mib()
    return res


def get_all_input(net):
    """get_all_input(net) -> the network's InputLayer."""
    from ..layers import get_all_layers

    return get_all_layers(net)[0]


def _print_human(r):
    print(f"model            {r['model']}-{r['depth']} k={r['width']}  batch {r['batch_size']}")
    print(f"graph build      {r['build_s']:.2f} s")
    print(f"compile          {r['compile_s']:.1f} s (training {r['compile_train_s']:.1f} s, "
          f"{r['train_nodes']} nodes)")
    print(f"training step    {1e3 * r['step_s_median']:.0f} ms median of {len(r['step_s'])} "
          f"({r['images_per_s']:.0f} images/s)")
    if "inference_ms_per_image" in r:
        print(f"inference        {r['inference_ms_per_image']:.2f} ms per image")
    print(f"peak memory      {r['peak_rss_mib']:.0f} MiB resident")
    print(f"throughput       {r['achieved_gflops']:.1f} GFLOP/s of a {r['peak_gflops']:.1f} GFLOP/s matmul peak "
          f"= {100 * r['fraction_of_peak']:.1f}% ({r['train_gflop_per_step']:.1f} executed GFLOP per step)")
    if "probe_gflops_median" in r:
        print(f"machine state    numpy matmul between the steps: median {r['probe_gflops_median']:.1f} GFLOP/s "
              f"(min {min(r['probe_gflops']):.1f}, max {max(r['probe_gflops']):.1f}); the step rate is "
              f"{100 * r['fraction_of_probe']:.1f}% of that median")


def main(argv=None):
    """main(argv=None) -> int"""
    p = argparse.ArgumentParser(prog="python -m crmn_legacy bench", description=__doc__.split("\n\n")[1],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", choices=("resnet", "crmn"), default="crmn", help="architecture (default crmn)")
    p.add_argument("--depth", type=int, default=32, help="layers, 6n+2 (default 32)")
    p.add_argument("--width", type=float, default=1, help="width multiplier k: 16k, 32k, 64k maps (default 1)")
    p.add_argument("--batch-size", type=int, default=128, help="images per step (default 128)")
    p.add_argument("--num-classes", type=int, default=100, help="classes of the softmax (default 100, CIFAR-100)")
    p.add_argument("--steps", type=int, default=5, help="timed training steps, median reported (default 5)")
    p.add_argument("--warmup", type=int, default=1, help="untimed steps first (default 1)")
    p.add_argument("--mode", default=None, help="PyTensor mode (default: crmn_legacy's, CVM)")
    p.add_argument("--no-inference", action="store_true", help="skip the inference function")
    p.add_argument("--compile-only", action="store_true",
                   help="only build and compile the training step; report build_s and compile_train_s")
    p.add_argument("--no-probe", action="store_true",
                   help="no matmul probe of the machine's state between the timed steps")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    args = p.parse_args(argv)
    if args.steps < 5:
        p.error("--steps must be >= 5 (the median of at least 5 steps is reported)")
    width = int(args.width) if float(args.width).is_integer() else args.width
    r = measure_model(args.model, args.depth, width, args.batch_size, args.num_classes, args.steps,
                      args.warmup, args.mode, not args.no_inference, compile_only=args.compile_only,
                      probe_steps=not args.no_probe)
    if args.json:
        print(json.dumps(r, sort_keys=True))
    elif args.compile_only:
        print(f"model            {r['model']}-{r['depth']} k={r['width']}")
        print(f"graph build      {r['build_s']:.2f} s")
        print(f"compile          {r['compile_train_s']:.1f} s (training step, {r['train_nodes']} nodes)")
    else:
        _print_human(r)
    return 0
