"""python benchmarks/cpu_speed.py [--only NAME ...] [--steps 7] [--no-results-md] [--table-only]

The project's CPU speed targets, measured on this machine and written
to ``results/speed/<name>.json`` and to the "Speed on this CPU" section of
RESULTS.md.  Each case runs ``python -m crmn_legacy bench ... --json`` in a
fresh process (its own peak memory, its own matmul peak measured first):

=================  ===========================================================
name               what
=================  ===========================================================
``conv``           ``bench conv``: fwd+bwd of the ResNet conv shapes, k=1, k=4
``crmn32_k1``      CRMN-32 k=1 training step, batch 128 (target >= 60 % of peak)
``resnet32_k1``    ResNet-32 k=1 training step, batch 128
``crmn32_k4``      CRMN-32 k=4 training step, batch 128 (>= 78 %, < 8 GiB)
``resnet134_cold`` ResNet-134 compile with an empty graph cache (< 60 s)
``resnet134_warm`` the same again, from the cache just written (< 10 s)
=================  ===========================================================

FLOPs are the executed count of :mod:`crmn_legacy.flops` (the LSTM's input
projections at each step's real size d_l, no input gradient for conv1).  The
PyTorch column is *quoted* (PyTorch 2.13, same models and batch, measured
side by side on a 2-core AMD EPYC machine of this project with a numpy peak
of about 205 GFLOP/s); it is not measured here, and its fraction is our
executed FLOPs of the step over its quoted time and that peak.  Timings depend on what
else the machine runs: the load average at the start of each case is saved
with it and printed in the table.
"""

import argparse
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "repro"))

import _common as C  # noqa: E402

#: name -> (bench arguments, target fraction of peak or None, PyTorch's quoted s/step or None)
#: PyTorch's quoted times were measured on a machine whose numpy float32 matmul peak was about this (GFLOP/s).
TORCH_PEAK_GFLOPS = 205.0
CASES = {
    "conv": (["conv"], None, None),
    "crmn32_k1": (["--model", "crmn", "--depth", "32", "--width", "1"], 0.60, 0.62),
    "resnet32_k1": (["--model", "resnet", "--depth", "32", "--width", "1"], None, 0.44),
    "crmn32_k4": (["--model", "crmn", "--depth", "32", "--width", "4"], 0.78, 6.0),
    "resnet134_cold": (["--model", "resnet", "--depth", "134", "--width", "1"], None, None),
    "resnet134_warm": (["--model", "resnet", "--depth", "134", "--width", "1"], None, None),
}
RESULTS_DIR = ROOT / "results" / "speed"


def run_case(name, steps, cache_dir):
    """run_case(name, steps, cache_dir) -> dict: one bench process's JSON, plus load and wall time."""
    args, _, _ = CASES[name]
    cmd = [sys.executable, "-m", "crmn_legacy", "bench", *args, "--json"]
    if name != "conv":
        cmd += ["--steps", str(steps), "--no-inference"] if "134" not in name else ["--steps", "5"]
    env = dict(os.environ)
    if "134" in name:  # cold: an empty cache; warm: the cache the cold run wrote
        env["CRMN_GRAPH_CACHE"] = str(cache_dir)
    load = C.load_average()
    t0 = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT)
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{out.stderr[-2000:]}")
    res = json.loads(out.stdout.strip().splitlines()[-1])
    res.update(case=name, command=" ".join(cmd[1:]), load_average=load, wall_s=time.perf_counter() - t0,
               date=C.now(), hardware=C.hardware())
    return res


def _pct(x):
    return "" if x is None else f"{100 * x:.1f}%"


def section(results):
    """section(results) -> str: the RESULTS.md body."""
    lines = ["## Speed on this CPU", "",
             "Regenerate with `python benchmarks/cpu_speed.py` (one fresh process per row; JSON in "
             "`results/speed/`).  Fractions are of the float32 matmul peak the same process measured first "
             "(numpy 4096x4096).  FLOPs are executed FLOPs (`crmn_legacy.flops`): the LSTM's input projections at "
             "each step's real size d_l (the model never multiplies the zero padding) and no input gradient for "
             "conv1 (Table 1 shows the count with the padding charged beside it).  PyTorch figures are quoted "
             f"(PyTorch 2.13 on a 2-core AMD EPYC machine, numpy peak ~{TORCH_PEAK_GFLOPS:.0f} GFLOP/s), not "
             "measured here; their fraction is our executed FLOPs of the step over the quoted time and that "
             "peak.  \"compile s\" of the step rows is with the default "
             "rewritten-graph cache, i.e. a repeat compile when this machine compiled the same graph before; "
             "the ResNet-134 line gives cold and cached compiles.", ""]
    machines = sorted({r.get("hardware") for r in results.values() if r.get("hardware")})
    if machines:
        lines += [f"Measured on: {'; '.join(machines)}.", ""]
    conv = results.get("conv")
    if conv:
        lines += [f"Convolutions alone (`python -m crmn_legacy bench conv`, fwd + both grads, batch 128): "
                  f"k=1 {_pct(conv['k1_fraction'])} of a {conv['peak_gflops']:.0f} GFLOP/s peak (target 50%), "
                  f"k=4 {_pct(conv['k4_fraction'])} (target 75%); load {conv['load_average']}.", ""]
    rows = []
    for name in ("crmn32_k1", "resnet32_k1", "crmn32_k4"):
        r = results.get(name)
        if not r:
            continue
        _, target, torch = CASES[name]
        rows.append([f"{r['model']}-{r['depth']} k={r['width']:g}", f"{r['step_s_median']:.3f}",
                     f"{r['achieved_gflops']:.0f} / {r['peak_gflops']:.0f}", _pct(r["fraction_of_peak"]),
                     _pct(target) or "-",
                     (f"{torch:.2f} s, {_pct(r['achieved_gflops'] * r['step_s_median'] / torch / TORCH_PEAK_GFLOPS)}"
                      if torch else "-"),
                     f"{r['compile_s']:.0f}", f"{r['peak_rss_mib']:.0f}", str(r["load_average"]),
                     (f"{r['probe_gflops_median']:.0f} ({_pct(r['fraction_of_probe'])})"
                      if r.get("probe_gflops_median") else "-")])
    if rows:
        lines += ["Training step, batch 128, float32:", "",
                  C.markdown_table(["model", "s/step (median)", "GFLOP/s / peak", "of peak", "target",
                                    "PyTorch (quoted)", "compile s", "peak RSS MiB", "load avg",
                                    "matmul probe (step rate of it)"], rows), "",
                  "The last column: numpy's 2048x2048 matmul timed once after each timed step (median, GFLOP/s), "
                  "a reading of how disturbed the shared machine was during the steps, and the step rate as a "
                  "fraction of it; the figure of record is \"of peak\".", ""]
    cold, warm = results.get("resnet134_cold"), results.get("resnet134_warm")
    if cold:
        lines.append(f"ResNet-134 (Table 1 row 1) training step: graph build {cold['build_s']:.1f} s, compile "
                     f"{cold['compile_train_s']:.1f} s with an empty graph cache (target < 60 s), "
                     + (f"{warm['compile_train_s']:.1f} s from the cache (target < 10 s); " if warm else "")
                     + f"{cold['train_nodes']} nodes; load {cold['load_average']}.")
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--only", nargs="+", choices=list(CASES), help="run only these cases (others kept from "
                   "results/speed/ for the table)")
    p.add_argument("--steps", type=int, default=7, help="timed training steps per model (default 7)")
    p.add_argument("--no-results-md", action="store_true", help="do not rewrite RESULTS.md")
    p.add_argument("--table-only", action="store_true",
                   help="run nothing: rewrite the RESULTS.md section from the saved results/speed/*.json")
    args = p.parse_args(argv)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    names = [] if args.table_only else (args.only or list(CASES))
    if "resnet134_warm" in names and "resnet134_cold" not in names:
        p.error("resnet134_warm needs resnet134_cold in the same run (it reads the cache that one writes)")
    with tempfile.TemporaryDirectory(prefix="crmn-graph-cache-") as cache_dir:
        for i, name in enumerate(names, 1):
            print(f"[{i}/{len(names)}] {name} ...", file=sys.stderr, flush=True)
            res = run_case(name, args.steps, cache_dir)
            C.save_row(RESULTS_DIR / f"{name}.json", res)
            print(json.dumps({k: res.get(k) for k in ("case", "step_s_median", "fraction_of_peak", "compile_s",
                                                       "k1_fraction", "k4_fraction", "peak_rss_mib",
                                                       "load_average")}), flush=True)
    results = {n: C.load_row(RESULTS_DIR / f"{n}.json") for n in CASES if (RESULTS_DIR / f"{n}.json").exists()}
    if not args.no_results_md:
        C.rewrite_section(ROOT / "RESULTS.md", "speed", section(results))
        print(f"rewrote the speed section of {ROOT / 'RESULTS.md'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
