"""run_accuracy_table(...) -- the machinery of Tables 2 and 3 and the SVHN result.

Each of those tables lists the paper's own CRMN rows and the literature's
figures the paper cites.  We train the CRMN rows (``--budget``), print the
literature rows as the paper's cited figures, labelled as such, and put the
paper's and our accuracy side by side.  A row with ``repeats`` > 1 is trained
with seeds 0..repeats-1 (``--seeds K``: K seeds for every row) and reported as
best of K and mean +- std (the protocol of He et al. that the paper follows
for the 32-layer, 64-map model; :func:`_common.summarize_seeds`).
"""

import sys
from collections import namedtuple

import _common as C
from _cluster import run_rows

import crmn_legacy  # noqa: F401
from crmn_legacy.models import build_model, count_params

#: One of our rows: id, label, build_model arguments, the paper's accuracy, repetitions, and the row's
#: own batch size and rate list where the paper gives one (None: the paper's rule by width).
OurRow = namedtuple("OurRow", ["row_id", "label", "arch", "depth", "width", "depth_convention", "paper_acc",
                               "paper_note", "repeats", "batch_size", "lr_schedule"], defaults=(None, None))


def _row_params(r, num_classes):
    net = build_model(r.arch, r.depth, r.width, num_classes, depth_convention=r.depth_convention)
    return count_params(net, trainable=True)


def _static(r, num_classes):
    return {"row_id": r.row_id, "label": r.label, "paper_acc": r.paper_acc, "paper_note": r.paper_note,
            "params": _row_params(r, num_classes)}


def run_accuracy_table(name, title, dataset, num_classes, ours, literature, argv=None, notes=()):
    """run_accuracy_table(name, title, dataset, num_classes, ours, literature, argv=None, notes=()) -> int

    ``ours``: list of :class:`OurRow`; ``literature``: list of (accuracy %,
    method) as the paper prints them.
    """
    p = C.base_parser(name, title)
    C.add_training_options(p, default_seeds="the paper's repetitions of the row")
    p.add_argument("--no-repeats", action="store_true",
                   help="train repeated rows once (seed --seed only; --seeds K overrides both)")
    args = p.parse_args(argv)
    rows = {r.row_id: r for r in ours}
    chosen = C.chosen_rows(p, args, rows)
    if chosen is None:
        return 0
    data_note, problem = (None, None) if args.collect else C.find_data(dataset, args.data_dir, args.dataset_file)
    if problem:
        print(problem, file=sys.stderr)

    tasks, seeds = [], {}
    for rid in (chosen if not args.collect else []):
        r, path = rows[rid], C.row_file(args.results_dir, name, rid)
        saved = C.load_row(path) or {}
        saved.update(_static(r, num_classes))
        seeds[rid] = C.wanted_seeds(args, default=1 if args.no_repeats else r.repeats)
        if data_note:
            task = C.RowTask(name, rid, None, dict(model=r.arch, depth=r.depth, width=r.width, dataset=dataset,
                                                   data_note=data_note, depth_convention=r.depth_convention,
                                                   batch_size=r.batch_size, lr_schedule=r.lr_schedule))
            tasks += C.plan_row(saved, task, args, data_note, seeds[rid])
        C.save_row(path, saved)
    failures = run_rows(tasks, args, lambda rid, runs: C.record_runs(C.row_file(args.results_dir, name, rid), runs,
                                                                     args, data_note, seeds[rid]))
    results = [C.load_row(C.row_file(args.results_dir, name, rid)) or _static(r, num_classes)
               for rid, r in rows.items()]

    headers = ["acc. % (paper)", "method", "params (ours)", "acc. % (ours)", "budget / data"]
    body = [[f"{a:.2f}", f"{m} (cited by the paper)", "", "", ""] for a, m in literature]
    for s in results:
        t = s.get("training")
        body.append([f"{s['paper_acc']:.2f}" + (f" ({s['paper_note']})" if s["paper_note"] else ""),
                     s["label"], s["params"], C.seeds_cell(t), f"{t['budget']} / {t['dataset']}" if t else "-"])
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
    return C.report_failures(name, failures)
