"""run_accuracy_table(...) -- the machinery of Tables 2 and 3 and the SVHN result.

Each of those tables lists the paper's own CRMN rows and the literature's
figures the paper cites.  We train the CRMN rows (``--budget``), print the
literature rows as the paper's cited figures, labelled as such, and put the
paper's and our accuracy side by side.  A row with ``repeats`` > 1 is trained
with seeds 0..repeats-1 and reported as best and mean +- std (the protocol of
He et al. that the paper follows for the 32-layer, 64-map model).
"""

import statistics
import sys
from collections import namedtuple

import _common as C

import crmn_legacy  # noqa: F401
from crmn_legacy.models import build_model, count_params

#: One of our rows: id, label, build_model arguments, the paper's accuracy, repetitions, and the row's
#: own batch size and rate list where the paper gives one (None: the paper's rule by width).
OurRow = namedtuple("OurRow", ["row_id", "label", "arch", "depth", "width", "depth_convention", "paper_acc",
                               "paper_note", "repeats", "batch_size", "lr_schedule"], defaults=(None, None))


def _row_params(r, num_classes):
    net = build_model(r.arch, r.depth, r.width, num_classes, depth_convention=r.depth_convention)
    return count_params(net, trainable=True)


def _train(script, r, args, data_note, dataset):
    runs = []
    for seed in range(args.seed, args.seed + (r.repeats if not args.no_repeats else 1)):
        print(f"{script}: training {r.row_id} seed {seed} ({args.budget}) ...", file=sys.stderr, flush=True)
        runs.append(C.train_row(script, r.row_id, r.arch, r.depth, r.width, dataset, args, data_note,
                                depth_convention=r.depth_convention, seed=seed, batch_size=r.batch_size,
                                lr_schedule=r.lr_schedule))
    accs = [x["test_acc"] for x in runs if x["test_acc"] is not None]
    out = dict(runs[0])
    out["runs"] = runs
    out["test_acc_best_val"] = None
    if accs:
        out["test_acc_mean"] = statistics.mean(accs)
        out["test_acc_std"] = statistics.pstdev(accs) if len(accs) > 1 else None
        best = max(runs, key=lambda x: max(x["val_acc_curve"] or [-1]))
        out["test_acc_best_val"] = best["test_acc"]
    return out


def _acc_cell(t):
    if not t or t.get("test_acc_mean") is None:
        return "-"
    if len(t["runs"]) > 1:
        return (f"{t['test_acc_best_val']:.2f} (best val of {len(t['runs'])}); "
                f"{t['test_acc_mean']:.2f} +- {t['test_acc_std']:.3f}")
    return f"{t['test_acc_mean']:.2f}"


def run_accuracy_table(name, title, dataset, num_classes, ours, literature, argv=None, notes=()):
    """run_accuracy_table(name, title, dataset, num_classes, ours, literature, argv=None, notes=()) -> int

    ``ours``: list of :class:`OurRow`; ``literature``: list of (accuracy %,
    method) as the paper prints them.
    """
    p = C.base_parser(name, title)
    C.add_training_options(p)
    p.add_argument("--no-repeats", action="store_true", help="train repeated rows once (seed --seed only)")
    args = p.parse_args(argv)
    rows = {r.row_id: r for r in ours}
    chosen = C.chosen_rows(p, args, rows)
    if chosen is None:
        return 0
    data_note, problem = (None, None) if args.collect else C.find_data(dataset, args.data_dir, args.dataset_file)
    if problem:
        print(problem, file=sys.stderr)

    results = []
    for rid, r in rows.items():
        path = C.row_file(args.results_dir, name, rid)
        saved = C.load_row(path) or {}
        if rid in chosen and not args.collect:
            saved.update({"row_id": rid, "label": r.label, "paper_acc": r.paper_acc, "paper_note": r.paper_note,
                          "params": _row_params(r, num_classes)})
            t = saved.get("training") or {}
            if data_note and (args.force or t.get("budget") != args.budget or t.get("dataset") != data_note):
                saved["training"] = _train(name, r, args, data_note, dataset)
            C.save_row(path, saved)
        elif not saved:
            saved = {"row_id": rid, "label": r.label, "paper_acc": r.paper_acc, "paper_note": r.paper_note,
                     "params": _row_params(r, num_classes)}
        results.append(saved)

    headers = ["acc. % (paper)", "method", "params (ours)", "acc. % (ours)", "budget / data"]
    body = [[f"{a:.2f}", f"{m} (cited by the paper)", "", "", ""] for a, m in literature]
    for s in results:
        t = s.get("training")
        body.append([f"{s['paper_acc']:.2f}" + (f" ({s['paper_note']})" if s["paper_note"] else ""),
                     s["label"], s["params"], _acc_cell(t), f"{t['budget']} / {t['dataset']}" if t else "-"])
    if args.json:
        import json
        print(json.dumps(results, indent=1, default=str))
    else:
        print(C.fixed_width_table(headers, body))
        if problem:
            print("\n" + problem)
    if not args.no_results_md:
        lines = [f"## {title}", "", C.markdown_table(headers, body), ""]
        lines += [f"- {n}" for n in notes]
        budgets = sorted({(s.get("training") or {}).get("budget_note") for s in results} - {None})
        lines += [f"- Budget: {b}" for b in budgets]
        datas = sorted({(s.get("training") or {}).get("dataset") for s in results} - {None})
        lines += [f"- Data: {d}" for d in datas] or [
            f"- No row has been trained yet: `python repro/{name}.py --budget cpu|paper` with {dataset} "
            "under --data-dir trains them (accuracy columns empty until then)."]
        hw = sorted({(s.get("training") or {}).get("hardware") for s in results} - {None})
        lines += [f"- Hardware: {h}" for h in hw]
        lines += ["", f"Generated by `python repro/{name}.py` on {C.now()}."]
        C.rewrite_section(args.results_md, name, "\n".join(lines))
    return 0
