"""python repro/figure3.py [--budget cpu] [--rows ROW,ROW] [--out results/figure3.png] ...

Figure 3 of the paper: "training set learning curves and test set error over
the final optimization schedule" of Table 1 models.  Left: the mean training
cross-entropy per epoch; right: the test error per epoch; both from the one
continuous run whose model is tested (phase 2 when the budget runs it, else
phase 1, whose best-validation model is then the tested one and is marked).
The curves come from Table 1's row results (``results/table1/ROW.json``);
rows not yet trained with ``--budget`` are trained by ``repro/table1.py``
first (same options).  Rows: the paper draws the last line of each Table 1
block (ResNet-62 k=4, ResNet-32 k=4, CRMN-32 k=4); the ``cpu`` budget draws
the pair it trains (ResNet-32 k=1, CRMN-32 k=1).  Drawing needs matplotlib
(``pip install -e .[plot]``); without it the curves are still summarised.
"""

import pathlib
import sys

import _common as C
from crmn_legacy.utils import atomic_writer

NAME = "figure3"
#: Rows drawn by default: the last line of each Table 1 block, as the paper;
#: the cpu budget trains only the k=1 pair, so it draws those.
PAPER_ROWS = ["resnet-62-k4", "resnet-32-k4", "crmn-32-k4"]
DEFAULT_ROWS = {"cpu": ["resnet-32-k1", "crmn-32-k1"], "smoke": ["crmn-32-k1"], "paper": PAPER_ROWS}


def row_curves(results_dir, row_id):
    """row_curves(results_dir, row_id) -> (training dict, curves dict) or (None, None) when not trained."""
    t = (C.load_row(C.row_file(results_dir, "table1", row_id)) or {}).get("training")
    if not t or not (t.get("curves") or {}).get("train_loss"):
        return None, None
    return t, t["curves"]


def draw(rows, path, title):
    """draw(rows, path, title) -> str or None: write the two-panel PNG; None when matplotlib is missing."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    for rid, _, c in rows:
        loss = c["train_loss"]
        line, = left.plot(range(1, len(loss) + 1), loss, marker=".", label=rid)
        pts = [(e, 100.0 * v) for e, v in enumerate(c["test_error"] or [], start=1) if v is not None]
        if pts:
            right.plot(*zip(*pts), marker=".", color=line.get_color(), label=rid)
        tested = c.get("tested_epoch")
        if tested and tested <= len(c["test_error"] or []) and c["test_error"][tested - 1] is not None:
            right.plot([tested], [100.0 * c["test_error"][tested - 1]], marker="*", markersize=14,
                       color=line.get_color(), linestyle="none",
                       label=f"{rid}: tested model (epoch {tested})")
    phase = {r[2].get("phase") for r in rows}
    which = "phase 2 (final schedule)" if phase == {"final"} else "phase 1 (no phase 2 in this budget)"
    left.set(title=f"Training loss, {which}", xlabel="epoch", ylabel="mean training cross-entropy")
    right.set(title=f"Test error, {which}", xlabel="epoch", ylabel="test error (%)")
    left.set_yscale("log")
    for ax in (left, right):
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    fig.suptitle(title, fontsize=8)
    fig.tight_layout()
    pathlib.Path(path).parent.mkdir(parents=True, exist_ok=True)
    with atomic_writer(path) as fh:  # a crash mid-write leaves the previous PNG intact
        fig.savefig(fh, dpi=110, format="png")
    plt.close(fig)
    return str(path)


def _train_rows(args, rows):
    import table1

    argv = ["--budget", args.budget, "--dataset", args.dataset, "--results-dir", args.results_dir,
            "--results-md", args.results_md, "--seed", str(args.seed)]
    for flag in ("data_dir", "dataset_file"):
        if getattr(args, flag):
            argv += [f"--{flag.replace('_', '-')}", getattr(args, flag)]
    argv += ["--no-results-md"] * args.no_results_md + ["--resume"] * args.resume
    argv += ["--backend", args.backend, "--retries", str(args.retries)]
    argv += ["--seeds", str(args.seeds)] * (args.seeds is not None)
    argv += ["--scheduler", str(args.scheduler)] * (args.scheduler is not None)
    for rid in rows:
        argv += ["--only", rid]
    return table1.main(argv)


def main(argv=None):
    """main(argv=None) -> int"""
    p = C.base_parser(NAME, __doc__.split("\n\n")[1])
    C.add_training_options(p)
    p.add_argument("--dataset", default="cifar100", choices=("cifar100", "cifar10"),
                   help="training data of the rows (paper: cifar100; cifar10 is a labelled deviation)")
    p.add_argument("--rows", type=lambda s: [r for r in s.split(",") if r],
                   help="Table 1 row ids to draw (default: the k=1 pair for --budget cpu, the paper's three "
                        f"otherwise: {', '.join(PAPER_ROWS)})")
    p.add_argument("--out", help="PNG path (default: <results-dir>/figure3.png)")
    args = p.parse_args(argv)
    import table1

    valid = table1.row_ids()
    if args.list:
        print("\n".join(valid))
        return 0
    rows = args.rows or args.only or DEFAULT_ROWS[args.budget]
    unknown = [r for r in rows if r not in valid]
    if unknown:
        p.error(f"unknown row(s) {unknown}; choose from {valid}")
    missing = [r for r in rows if row_curves(args.results_dir, r)[0] is None
               or row_curves(args.results_dir, r)[0].get("budget") != args.budget]
    if missing and not args.collect:
        print(f"figure3: training Table 1 row(s) {missing} ({args.budget}) with repro/table1.py ...",
              file=sys.stderr, flush=True)
        rc = _train_rows(args, missing)
        if rc:
            return rc
    drawn = []
    for rid in rows:
        t, c = row_curves(args.results_dir, rid)
        if t is None:
            print(f"figure3: row {rid} has no training curves (train it: python repro/table1.py --budget "
                  f"{args.budget} --only {rid})", file=sys.stderr)
            continue
        drawn.append((rid, t, c))
    if not drawn:
        print("figure3: no trained row to draw", file=sys.stderr)
        return 1
    budgets = sorted({t["budget_note"] for _, t, _ in drawn})
    png = draw(drawn, args.out or pathlib.Path(args.results_dir) / "figure3.png",
               f"Figure 3 from {', '.join(r for r, _, _ in drawn)}; budget: {', '.join(sorted({t['budget'] for _, t, _ in drawn}))}")
    headers = ["model", "run drawn", "epochs", "first / last train loss", "tested epoch", "test error % there",
               "lowest test error %"]
    body = []
    for rid, t, c in drawn:
        errs = [e for e in (c["test_error"] or []) if e is not None]
        te = c.get("tested_epoch")
        at = c["test_error"][te - 1] if te and c["test_error"] and te <= len(c["test_error"]) else None
        body.append([rid, c["phase"], len(c["train_loss"]),
                     f"{c['train_loss'][0]:.3f} / {c['train_loss'][-1]:.3f}", te or "-",
                     C.fmt(None if at is None else 100 * at, ".2f"), C.fmt(100 * min(errs) if errs else None, ".2f")])
    print(C.fixed_width_table(headers, body))
    print(f"figure: {png}" if png else "figure: matplotlib not installed (pip install -e .[plot])")
    if not args.no_results_md:
        rel = None
        if png:
            try:
                rel = pathlib.Path(png).resolve().relative_to(pathlib.Path(args.results_md).resolve().parent)
            except ValueError:
                rel = pathlib.Path(png).name
        cmd = f"python repro/figure3.py --budget {args.budget} --dataset {args.dataset} --rows {','.join(rows)}"
        lines = ["## Figure 3: training loss and test error per epoch", "",
                 f"![Figure 3]({rel})" if rel else "Figure not drawn (matplotlib missing).", "",
                 C.markdown_table(headers, body), "",
                 "- Left: mean training cross-entropy of each epoch (the augmented minibatches, BatchNorm in "
                 "training mode); right: test error after each epoch; the star marks the model whose test "
                 "accuracy Table 1 reports.  One continuous run per model, never two phases joined.",
                 *[f"- Budget: {b}" for b in budgets],
                 *[f"- Data: {d}" for d in sorted({t['dataset'] for _, t, _ in drawn})],
                 f"- Hardware: {drawn[0][1]['hardware']}", "",
                 f"Generated by `{cmd}` (add `--collect` to redraw from the rows without training) on {C.now()}."]
        C.rewrite_section(args.results_md, NAME, "\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
