"""python repro/table1.py [--params-only] [--budget cpu] [--dataset cifar100] [--speed] [--only ROW] ...

Regenerate Table 1 of the paper (ResNets vs CRMNs of similar complexity,
CIFAR-100) with the paper's numbers and ours side by side.

Columns
-------
* parameters: exact count of our model, next to the paper's millions
  (``match`` compares at the 0.01M the paper prints; see
  :mod:`crmn_legacy.models.table1` for which parameters count);
* FLOPs per image, forward, 2 x multiply-adds (:mod:`crmn_legacy.flops`):
  "executed" counts what the model computes (the LSTM multiplies each step's
  input x_l by the first d_l rows of W_x, its real size, not the zero-padded
  D); "LSTM padded" charges every step at D, as a padded implementation
  would (equal for a ResNet).  Beside them the paper's eqs. 8-10 cost model
  (eq. 9's i is each block's own output size f n^2: no padding, no pooling;
  constants dropped, so it is not a FLOP count);
* seconds per epoch (``--speed``): the median training step at the paper's
  batch size (100) on this machine, times 450 steps (one epoch of the 45,000
  images phase 1 trains on), labelled with the hardware;
* test accuracy: trained with ``--budget`` on ``--dataset`` (the paper:
  CIFAR-100), each row labelled with its budget and data copy.

Without a dataset the script still prints the parameter and FLOP columns and
says how to get the data.
"""

import sys

import _common as C
from _cluster import run_rows

from crmn_legacy.flops import count_flops, paper_cost_model
from crmn_legacy.models import TABLE1, build_model, count_params, matches_paper, paper_millions

NAME = "table1"
PAPER_BATCH = 100
EPOCH_IMAGES = 45000


def row_id(row):
    """row_id(row) -> str such as ``crmn-32-k1.5``."""
    return f"{row.arch}-{row.depth}-k{row.width:g}"


def row_ids():
    """row_ids() -> list of the 12 row ids, in the paper's order."""
    return [row_id(r) for r in TABLE1]


def _budget_cell(t):
    """``budget, E ep, H h`` of a trained row: its budget, epochs trained and training wall time."""
    if not t:
        return "-"
    wall = t.get("train_seconds")
    wall = f", {wall / 3600:.1f} h" if wall else ""
    return f"{t['budget']}, {t.get('select_epochs')} ep{wall}, {t['dataset'].split()[0]}"


def static_columns(row):
    """static_columns(row) -> dict: parameters and FLOPs, computed from the network (no training)."""
    net = build_model(row.arch, row.depth, row.width, 100)
    params = count_params(net, trainable=True)
    return {
        "model": row.arch, "layers": row.depth, "width": row.width, "paper_params_m": row.paper_params_m,
        "params": params, "params_m": paper_millions(params), "match": matches_paper(params, row.paper_params_m),
        "flops_forward": count_flops(net), "flops_forward_padded": count_flops(net, padded=True),
        "flops_train": count_flops(net, training=True),
        "paper_cost_model": paper_cost_model(net), "paper_sec_per_epoch": row.paper_sec_per_epoch,
        "paper_test_acc": row.paper_test_acc,
    }


def speed_columns(row):
    """speed_columns(row) -> dict: seconds per epoch extrapolated from timed training steps here."""
    from crmn_legacy.bench.model import measure_model

    r = measure_model(row.arch, row.depth, row.width, batch_size=PAPER_BATCH, steps=5, warmup=1,
                      inference=False)
    return {"sec_per_epoch": r["step_s_median"] * EPOCH_IMAGES / PAPER_BATCH, "step_s_median": r["step_s_median"],
            "compile_s": r["compile_s"], "speed_hardware": C.hardware(), "speed_date": C.now(),
            "load_average": C.load_average(),
            "speed_note": f"median of 5 steps at batch {PAPER_BATCH} x {EPOCH_IMAGES // PAPER_BATCH} steps"}


def _sec_per_epoch_cell(r):
    """s/epoch (ours): the benchmark's (``--speed``), else ``(t)`` from the training run's median step."""
    s, t = r.get("speed") or {}, r.get("training") or {}
    if s.get("sec_per_epoch") is not None:
        return f"{s['sec_per_epoch']:.0f}"
    if t.get("step_seconds_median") and t.get("trained_depth") == r["layers"] and t.get("batch_size"):
        return f"{t['step_seconds_median'] * EPOCH_IMAGES / t['batch_size']:.0f} (t)"
    return "-"


def render(rows, hardware_note):
    """render(rows, hardware_note) -> (terminal text, markdown) of the table."""
    headers = ["model", "layers", "k", "params (paper, M)", "params (ours)", "match", "MFLOPs/img (executed)",
               "MFLOPs/img (LSTM padded)", "eq.8-10 cost (M)", "s/epoch (paper)", "s/epoch (ours)",
               "test acc % (paper)", "test acc % (ours)", "budget, epochs, wall time, data"]
    body = []
    for r in rows:
        t = r.get("training") or {}
        body.append([r["model"], r["layers"], f"{r['width']:g}", f"{r['paper_params_m']:.2f}", r["params"],
                     "yes" if r["match"] else "NO", C.fmt(r["flops_forward"] / 1e6, ".1f"),
                     C.fmt(r["flops_forward_padded"] / 1e6, ".1f"),
                     C.fmt(r["paper_cost_model"]["C_rm"] / 1e6, ".1f"), r["paper_sec_per_epoch"],
                     _sec_per_epoch_cell(r), f"{r['paper_test_acc']:.2f}",
                     C.seeds_cell(t),
                     _budget_cell(t)])
    return C.fixed_width_table(headers, body), C.markdown_table(headers, body)


def memory_effect_notes(results):
    """memory_effect_notes(results) -> list of str: CRMN minus ResNet at equal depth and width, against the paper.

    For every width whose ResNet-32 and CRMN-32 rows are both tested on the
    same data: the difference of test accuracies (points) and its spread,
    and whether it supports, contradicts or cannot resolve the paper's
    difference (Table 1, CIFAR-100).  With K_r, K_c >= 2 seeds the
    difference is of the means, d = mean_c - mean_r, with standard error
    se = sqrt(s_c^2 / K_c + s_r^2 / K_r) (population std s); d - 2 se > 0
    supports a positive effect, d + 2 se < 0 contradicts it, anything else
    cannot resolve it.  One seed on either side measures no spread: it
    cannot resolve it whatever d is.  Rows trained with different budgets
    are not a like-for-like comparison, which the note says.
    """
    import math

    resnets = {(r["layers"], r["width"]): r for r in results if r["model"] == "resnet"}
    notes = []
    for crmn in sorted((r for r in results if r["model"] == "crmn"), key=lambda r: r["width"]):
        layers, width = crmn["layers"], crmn["width"]
        resnet = resnets.get((layers, width))
        tc, tr = crmn.get("training") or {}, (resnet or {}).get("training") or {}
        if tc.get("test_acc") is None or tr.get("test_acc") is None:
            continue
        if tc.get("dataset") != tr.get("dataset"):
            continue
        paper = crmn["paper_test_acc"] - resnet["paper_test_acc"]
        kc, kr = len(C.row_runs(tc)), len(C.row_runs(tr))
        head = f"Memory effect at {layers} layers, k={width:g} (CRMN minus ResNet, test accuracy): "
        if kc >= 2 and kr >= 2:
            d = tc["test_acc_mean"] - tr["test_acc_mean"]
            se = math.sqrt(tc["test_acc_std"] ** 2 / kc + tr["test_acc_std"] ** 2 / kr)
            verdict = ("supports" if d - 2 * se > 0 and paper > 0 else
                       "contradicts" if d + 2 * se < 0 < paper else "cannot resolve")
            text = (f"{d:+.2f} +- {se:.2f} points (difference of the means of {kc} and {kr} seeds +- its "
                    f"standard error); this {verdict} the paper's {paper:+.2f} (CIFAR-100)")
        else:
            d = tc["test_acc"] - tr["test_acc"]
            text = (f"{d:+.2f} points from one run each, so no spread is measured: this cannot resolve the "
                    f"paper's {paper:+.2f} (CIFAR-100), whose size a seed-to-seed spread could match; "
                    "`--seeds K` measures the spread")
        if tc.get("budget_note") != tr.get("budget_note") or tc.get("budget") != tr.get("budget"):
            text += (f". The two rows were trained with different budgets ({tr.get('select_epochs')} and "
                     f"{tc.get('select_epochs')} epochs under different per-rate bounds: see the budget lines), "
                     "so the difference also holds a schedule effect")
        notes.append(head + text + ".")
    return notes


def main(argv=None):
    """main(argv=None) -> int"""
    p = C.base_parser(NAME, __doc__.split("\n\n")[1])
    p.add_argument("--params-only", action="store_true",
                   help="print the parameter columns of all 12 rows and exit (instant)")
    p.add_argument("--speed", action="store_true",
                   help="measure seconds per epoch for each row here with the C backend (compiles every model: "
                        "slow; a GPU's: benchmarks/gpu_crmn_jax.py)")
    p.add_argument("--no-train", action="store_true", help="do not train (parameters, FLOPs, --speed only)")
    p.add_argument("--dataset", default="cifar100", choices=("cifar100", "cifar10"),
                   help="training data (paper: cifar100; cifar10 is a labelled deviation)")
    C.add_training_options(p)
    args = p.parse_args(argv)
    if args.speed and args.backend != "c":
        p.error("--speed times the C backend on this CPU; for the JAX backend on a GPU run "
                "benchmarks/gpu_crmn_jax.py")

    rows = {row_id(r): r for r in TABLE1}
    chosen = C.chosen_rows(p, args, rows)
    if chosen is None:
        return 0

    if args.params_only:
        out = []
        for rid in chosen:
            s = static_columns(rows[rid])
            out.append({k: s[k] for k in ("model", "layers", "width", "paper_params_m", "params", "params_m",
                                          "match")})
        if args.json:
            import json
            print(json.dumps(out, indent=1))
        else:
            print(C.fixed_width_table(["model", "layers", "width", "paper (M)", "ours", "ours (M)", "match"],
                                      [[o["model"], o["layers"], f"{o['width']:g}", f"{o['paper_params_m']:.2f}",
                                        o["params"], f"{o['params_m']:.2f}", "yes" if o["match"] else "NO"]
                                       for o in out]))
        return 0 if all(o["match"] for o in out) else 1

    data_note, data_problem = (None, None) if args.no_train or args.collect else C.find_data(
        args.dataset, args.data_dir, args.dataset_file)
    if data_problem:
        print(data_problem, file=sys.stderr)
    seeds, tasks = C.wanted_seeds(args), []
    # parameter and FLOP columns always come from the code (a row file may predate a column); built once per row
    static = {rid: static_columns(rows[rid]) for rid in rows}
    for rid in (chosen if not args.collect else []):
        path = C.row_file(args.results_dir, NAME, rid)
        saved = C.load_row(path) or {}
        row = rows[rid]
        saved.update(static[rid])
        if args.speed and (args.force or "speed" not in saved):
            print(f"table1: timing {rid} ...", file=sys.stderr, flush=True)
            saved["speed"] = speed_columns(row)
        if data_note:
            task = C.RowTask(NAME, rid, None, dict(model=row.arch, depth=row.depth, width=row.width,
                                                   dataset=args.dataset, data_note=data_note))
            tasks += C.plan_row(saved, task, args, data_note, seeds)
        C.save_row(path, saved)
    failures = run_rows(tasks, args, lambda rid, runs: C.record_runs(C.row_file(args.results_dir, NAME, rid), runs,
                                                                     args, data_note, seeds))
    results = [{**(C.load_row(C.row_file(args.results_dir, NAME, rid)) or {}), **static[rid]} for rid in rows]

    text, md = render(results, C.hardware())
    C.print_result(args, results, text, data_problem)
    if not args.no_results_md:
        notes = ["Parameters and FLOPs are computed from our networks (exact; no training).",
                 "MFLOPs/img: forward FLOPs per image (2 x multiply-adds of convolutions, dense layers and the "
                 "LSTM's projections). (executed): what our model computes; the LSTM multiplies step l's input "
                 "by the first d_l rows of W_x (its real size; the zero padding is never multiplied). "
                 "(LSTM padded): every step charged at the padded size D, as the paper's description (zero-"
                 "padded features) would compute it; equal for ResNets. eq.8-10 cost: the paper's asymptotic "
                 "cost model (eq. 8 per block plus eq. 9's h^2 + h i with i the block's own, unpadded output "
                 "size f n^2; constants dropped), not a FLOP count.",
                 f"s/epoch (ours): {EPOCH_IMAGES // PAPER_BATCH} steps x the median training step at batch "
                 f"{PAPER_BATCH}, measured on: {C.hardware()}; paper: a GPU (Theano).  (t): the median "
                 "training step of the row's cpu-budget training run (same graph, real data), times "
                 f"{EPOCH_IMAGES // PAPER_BATCH}; otherwise `--speed` (5 timed steps after 1 warm-up)."]
        loads = [x for r in results for x in ((r.get("speed") or {}).get("load_average"),
                                              (r.get("training") or {}).get("load_average")) if x]
        if loads:
            notes.append(f"Timings were taken while other jobs shared the 2 cores: 1-minute load average "
                         f"{min(x[0] for x in loads):.1f} to {max(x[0] for x in loads):.1f} at the end of the "
                         "measurements (a quiet machine would be faster).")
        budgets = sorted({(r.get("training") or {}).get("budget_note") for r in results} - {None})
        notes += [f"Budget: {b}" for b in budgets]
        if any((r.get("training") or {}).get("budget") == "cpu" for r in results):
            notes.append("A cpu-budget accuracy is a real training run of the row's model on the whole training "
                         "split, with the paper's recipe and a compressed schedule (see the budget line and "
                         "'Deviations and interpretations'); it is not the paper's two-phase protocol, and on "
                         "CIFAR-10 it is not comparable with the paper's CIFAR-100 column.")
        trained = [r for r in results if (r.get("training") or {}).get("test_acc") is not None]
        notes += [f"{r['model']}-{r['layers']} k={r['width']:g}: stopped by {r['training'].get('stop_reason')}; "
                  f"tested model: epoch {(r['training'].get('curves') or {}).get('tested_epoch')} "
                  f"(best validation accuracy); {C.seeds_note(r['training'])}; "
                  f"trained on {r['training'].get('hardware')}, 1-minute load average at the end "
                  f"{r['training'].get('load_average')}"
                  for r in trained]
        notes += memory_effect_notes(results)
        datasets = sorted({(r.get("training") or {}).get("dataset") for r in results} - {None})
        notes += [f"Data: {d}" for d in datasets] or ["Data: no training results yet (test accuracy columns empty)."]
        body = "## Table 1: ResNets vs CRMNs (paper: CIFAR-100)\n\n" + md + "\n\n" + "\n".join(
            f"- {n}" for n in notes) + f"\n\nGenerated by `python repro/table1.py` on {C.now()}."
        C.rewrite_section(args.results_md, NAME, body)
    return C.report_failures(NAME, failures)


if __name__ == "__main__":
    sys.exit(main())
