"""python repro/figure3.py [--budget cpu] [--out results/figure3.png] ...

Figure 3 of the paper: (left) training-set learning curves, (right) test error
during the final optimisation schedule, for the last row of each block of
Table 1: ResNet-62 k=4, ResNet-32 k=4 and CRMN-32 k=4.  Each model is trained
with ``--budget`` through both phases (select, then final with the recorded
schedule and the test error after every epoch); the curves come from the runs'
``log.jsonl`` files.  Drawing needs matplotlib (``pip install -e .[plot]``);
without it the curves are still written as JSON and summarised in RESULTS.md.
"""

import json
import pathlib
import sys

import _common as C

NAME = "figure3"
#: (row id, arch, depth, width): the last line of each Table 1 block.
MODELS = [("resnet-62-k4", "resnet", 62, 4), ("resnet-32-k4", "resnet", 32, 4), ("crmn-32-k4", "crmn", 32, 4)]


def read_curves(run_dir):
    """read_curves(run_dir) -> dict: per-epoch train loss (both phases) and final-phase test error."""
    out = {"select_train_loss": [], "final_train_loss": [], "final_test_error": []}
    for phase in ("select", "final"):
        log = pathlib.Path(run_dir) / phase / "log.jsonl"
        if not log.exists():
            continue
        for line in log.read_text(encoding="utf-8").splitlines():
            rec = json.loads(line)
            out[f"{phase}_train_loss"].append(rec.get("train_loss"))
            if phase == "final":
                acc = rec.get("test_acc")
                out["final_test_error"].append(None if acc is None else 100.0 * (1.0 - acc))
    return out


def draw(rows, path):
    """draw(rows, path) -> str or None: write the two-panel PNG; None when matplotlib is missing."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    for r in rows:
        c = r["curves"]
        loss = c["select_train_loss"] + c["final_train_loss"]
        left.plot(range(1, len(loss) + 1), loss, marker="o", label=r["row_id"])
        err = [e for e in c["final_test_error"] if e is not None]
        right.plot(range(1, len(err) + 1), err, marker="o", label=r["row_id"])
    left.set(title="Training loss (phase 1, then phase 2)", xlabel="epoch", ylabel="cross-entropy")
    right.set(title="Test error during the final schedule", xlabel="epoch", ylabel="test error (%)")
    for ax in (left, right):
        ax.legend()
        ax.grid(alpha=0.3)
    fig.suptitle(f"Figure 3 ({rows[0]['training']['budget_note']})", fontsize=8)
    fig.tight_layout()
    pathlib.Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    return str(path)


def main(argv=None):
    """main(argv=None) -> int"""
    p = C.base_parser(NAME, __doc__.split("\n\n")[1])
    C.add_training_options(p)
    p.add_argument("--dataset", default="cifar100", choices=("cifar100", "cifar10"),
                   help="training data (paper: cifar100; cifar10 is a labelled deviation)")
    p.add_argument("--out", help="PNG path (default: <results-dir>/figure3.png)")
    args = p.parse_args(argv)
    rows = {m[0]: m for m in MODELS}
    chosen = C.chosen_rows(p, args, rows)
    if chosen is None:
        return 0
    note, problem = (None, None) if args.collect else C.find_data(args.dataset, args.data_dir, args.dataset_file)
    if problem:
        print(problem, file=sys.stderr)
        if not args.collect:
            return 1
    results = []
    for rid, (_, arch, depth, width) in rows.items():
        path = C.row_file(args.results_dir, NAME, rid)
        saved = C.load_row(path)
        if rid in chosen and not args.collect:
            t = (saved or {}).get("training") or {}
            if args.force or t.get("budget") != args.budget or t.get("dataset") != note:
                print(f"figure3: training {rid} ({args.budget}) ...", file=sys.stderr, flush=True)
                t = C.train_row(NAME, rid, arch, depth, width, args.dataset, args, note, phase="both")
            saved = {"row_id": rid, "training": t, "curves": read_curves(t["run_dir"])}
            C.save_row(path, saved)
        if saved:
            results.append(saved)
    if not results:
        print("figure3: no results yet", file=sys.stderr)
        return 1
    png = draw(results, args.out or pathlib.Path(args.results_dir) / "figure3.png")
    body = [[r["row_id"], len(r["curves"]["select_train_loss"]), len(r["curves"]["final_train_loss"]),
             C.fmt(r["curves"]["final_train_loss"][-1] if r["curves"]["final_train_loss"] else None, ".3f"),
             C.fmt(r["curves"]["final_test_error"][-1] if r["curves"]["final_test_error"] else None, ".2f")]
            for r in results]
    headers = ["model", "phase-1 epochs", "phase-2 epochs", "final train loss", "final test error %"]
    print(C.fixed_width_table(headers, body))
    print(f"figure: {png}" if png else "figure: matplotlib not installed (pip install -e .[plot]); curves in JSON")
    if not args.no_results_md:
        t0 = results[0]["training"]
        lines = ["## Figure 3: learning curves (last row of each Table 1 block)", "",
                 C.markdown_table(headers, body), "",
                 f"- Figure: `{png}`" if png else "- Figure: not drawn (matplotlib missing); curves in the row JSON.",
                 f"- Budget: {t0['budget_note']}", f"- Data: {t0['dataset']}", f"- Hardware: {t0['hardware']}",
                 "", f"Generated by `python repro/figure3.py` on {C.now()}."]
        C.rewrite_section(args.results_md, NAME, "\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
