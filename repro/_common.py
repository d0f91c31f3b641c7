"""Shared machinery of the repro/ scripts: budgets, per-row results, RESULTS.md sections.

Every script regenerates one table or figure of the paper:

* ``--budget smoke|cpu|paper`` (see :data:`BUDGETS`) says how much training a
  row gets; every row records its budget and the data copy it used, so a budget
  run is never mistaken for a reproduction.
* Each row's result is one JSON file ``<results-dir>/<script>/<row>.json``
  (written atomically).  ``--only ROW`` runs one row (rows can run as separate
  jobs on separate machines), ``--collect`` only assembles the table from the
  files, a finished row is reused unless ``--force``.
* The script then rewrites its own section of ``RESULTS.md``, between
  ``<!-- repro:NAME:begin -->`` and ``<!-- repro:NAME:end -->``.
"""

import argparse
import datetime
import json
import os
import pathlib
import platform
import sys

REPO = pathlib.Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # run as `python repro/x.py` from a checkout
    sys.path.insert(0, str(REPO))

import crmn_legacy  # noqa: E402
from crmn_legacy._cli import ArgumentParser, one_line_errors  # noqa: E402

# The repro scripts are programs: float32, OpenMP, OpenBLAS threads before anything compiles, and bad input
# (a missing or unwritable file, a full disk, an invalid setting) ends a run with one line, not a traceback.
crmn_legacy.configure()
one_line_errors()

#: What each budget means for a training row.  ``train_subset``: training images
#: used (None = all); ``epochs``: cap per phase; ``time_limit``: seconds per phase;
#: ``stand_in_depth``: smoke runs replace the model's depth with this (n=1),
#: labelled as such.
BUDGETS = {
    "smoke": dict(train_subset=200, val_subset=100, test_subset=200, epochs=1, time_limit=None,
                  stand_in_depth=8, stand_in_width=1, phase="both", patience=1,
                  min_epochs_per_rate=None, max_epochs_per_rate=None, select_test_every=0,
                  note="smoke: pipeline check, 200 images, 1 epoch per phase, n=1 k=1 stand-in model; "
                       "NOT a reproduction"),
    "cpu": dict(train_subset=None, val_subset=None, test_subset=None, epochs=None, time_limit=2 * 3600,
                stand_in_depth=None, stand_in_width=None, phase="select", patience=3,
                min_epochs_per_rate=[15, 4, 1], max_epochs_per_rate=[22, 8, 3], select_test_every=1,
                note="cpu: the real model on the whole training split (90 percent; 10 percent validation) with the paper's "
                     "recipe and rate list 0.1, 0.01, 0.001; the validation-driven schedule compressed to 15-22 "
                     "epochs at 0.1, 4-8 at 0.01, 1-3 at 0.001 (patience 3 within those bounds; at most 33 "
                     "epochs, 2 h per row on a 2-core CPU); no phase 2: the test accuracy (full test set) is "
                     "that of the best-validation model of this run"),
    "paper": dict(train_subset=None, val_subset=None, test_subset=None, epochs=None, time_limit=None,
                  stand_in_depth=None, stand_in_width=None, phase="both", patience=10,
                  min_epochs_per_rate=None, max_epochs_per_rate=None, select_test_every=0,
                  note="paper: the full two-phase protocol of section 4 (needs a GPU and days)"),
}


def base_parser(name, description):
    """base_parser(name, description) -> argparse.ArgumentParser with the options every script shares."""
    p = ArgumentParser(prog=f"python repro/{name}.py", description=description,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--budget", choices=sorted(BUDGETS), default="cpu",
                   help="how much training each row gets (default: cpu). " +
                        "; ".join(f"{k}: {v['note']}" for k, v in BUDGETS.items()).replace("%", "%%"))
    p.add_argument("--only", metavar="ROW", action="append",
                   help="run only this row id (repeatable); see --list")
    p.add_argument("--list", action="store_true", help="list the row ids and exit")
    p.add_argument("--collect", action="store_true",
                   help="train nothing: assemble the table from the row files already written")
    p.add_argument("--force", action="store_true", help="re-run rows whose result file exists")
    p.add_argument("--results-dir", default=str(REPO / "results"),
                   help="where row results (JSON) and training runs go (default: <repo>/results)")
    p.add_argument("--results-md", default=str(REPO / "RESULTS.md"),
                   help="the RESULTS.md whose section this script rewrites (default: <repo>/RESULTS.md)")
    p.add_argument("--no-results-md", action="store_true", help="do not touch RESULTS.md")
    p.add_argument("--data-dir", help="dataset folder (default: $CRMN_DATA_DIR, then <repo>/data)")
    p.add_argument("--dataset-file", help="train on this HDF5 file instead (tests' fixture data)")
    p.add_argument("--json", action="store_true", help="print the rows as a JSON list")
    p.add_argument("--resume", action="store_true",
                   help="continue a row's interrupted training run from its last checkpoint (same budget and "
                        "seed) instead of starting it again")
    return p


def chosen_rows(parser, args, row_ids):
    """chosen_rows(parser, args, row_ids) -> list of row ids to run, or None after ``--list`` printed them.

    ``--only`` picks rows (an unknown id is a usage error naming the valid ones).
    """
    row_ids = list(row_ids)
    if args.list:
        print("\n".join(row_ids))
        return None
    chosen = args.only or row_ids
    unknown = [r for r in chosen if r not in row_ids]
    if unknown:
        parser.error(f"unknown row(s) {unknown}; choose from {row_ids}")
    return chosen


def now():
    """now() -> str: the current UTC time, ISO format to the second."""
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat()


def hardware():
    """hardware() -> str: this machine's CPU model and core count (and GPU, if JAX sees one)."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, no GPU used"


def load_average():
    """load_average() -> list of the 1, 5 and 15-minute load averages (timings made under load are slower)."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def row_file(results_dir, script, row_id):
    """row_file(results_dir, script, row_id) -> pathlib.Path of one row's JSON."""
    return pathlib.Path(results_dir) / script / f"{row_id}.json"


def save_row(path, row):
    """save_row(path, row) -> None: write one row's dict atomically (tmp + rename)."""
    from crmn_legacy.utils import atomic_write_json

    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_json(path, row)


def load_row(path):
    """load_row(path) -> dict or None when the file does not exist."""
    path = pathlib.Path(path)
    if not path.exists():
        return None
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def markdown_table(headers, rows):
    """markdown_table(headers, rows) -> str: a GitHub markdown table (cells via str)."""
    out = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    out += ["| " + " | ".join("" if c is None else str(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


def fixed_width_table(headers, rows):
    """fixed_width_table(headers, rows) -> str: a plain-text table for the terminal."""
    cells = [[str(h) for h in headers]] + [["" if c is None else str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["  ".join(c.rjust(w) for c, w in zip(r, widths)) for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def rewrite_section(results_md, name, body):
    """rewrite_section(results_md, name, body) -> None

    Replace the text between ``<!-- repro:NAME:begin -->`` and
    ``<!-- repro:NAME:end -->`` in ``results_md`` with ``body`` (the markers
    are appended at the end of the file when missing).  Written atomically.
    """
    path = pathlib.Path(results_md)
    begin, end = f"<!-- repro:{name}:begin -->", f"<!-- repro:{name}:end -->"
    text = path.read_text(encoding="utf-8") if path.exists() else "# Results\n"
    block = f"{begin}\n{body.rstrip()}\n{end}"
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        _, tail = rest.split(end, 1)
        text = head + block + tail
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    from crmn_legacy.utils import atomic_write_text

    atomic_write_text(path, text)


def fmt(value, spec):
    """fmt(value, spec) -> str: ``format(value, spec)``, or '-' for None."""
    return "-" if value is None else format(value, spec)


def add_training_options(p):
    """add_training_options(p) -> p: the options of scripts that train rows."""
    p.add_argument("--seed", type=int, default=0, help="seed of the training runs (default 0)")
    return p


def find_data(dataset, data_dir=None, dataset_file=None):
    """find_data(dataset, data_dir=None, dataset_file=None) -> (note, problem)

    ``note`` describes the data a row trains on (which copy, official or
    not); ``problem`` is a message saying how to get the data when it is
    missing (then ``note`` is None).
    """
    if dataset_file:
        return f"fixture file {dataset_file} (standing in for {dataset})", None
    from crmn_legacy.datasets import get_dataset
    from crmn_legacy.datasets.paths import data_dir as resolve, find_datasets

    where = find_datasets(data_dir)[dataset]
    if where is None:
        return None, (f"{dataset}: not found under {resolve(data_dir)} (looked for "
                      f"{', '.join(get_dataset(dataset).official_names)}).  Get it with `python -m crmn_legacy fetch "
                      f"{dataset}`, or point --data-dir / $CRMN_DATA_DIR at a folder holding it "
                      "(see data/README.md).  Training columns are left empty.")
    from crmn_legacy.datasets import load_dataset

    splits = load_dataset(dataset, data_dir, verify="off")
    official = getattr(splits, "official", None)
    if official:
        return f"{dataset} (official files)", None
    return f"{dataset} (NOT the official files, e.g. the CIFAR-10 copy of data/README.md)", None


def tested_run_curves(select, final):
    """tested_run_curves(select, final) -> dict: per-epoch curves of the run whose model is tested

    The paper's Figure 3 draws the final run (phase 2); a budget without
    phase 2 tests phase 1's best-validation model, so its curves are phase
    1's.  Keys: ``phase``, ``train_loss`` (mean training cross-entropy per
    epoch), ``test_error`` (fraction, None where not measured),
    ``tested_epoch`` (1-based epoch of the tested model).
    """
    run = final or select or {}
    best = (select or {}).get("best") or {}
    return {"phase": "final" if final else "select", "train_loss": run.get("train_loss_curve"),
            "test_error": run.get("test_error_curve"),
            "tested_epoch": run.get("epochs") if final else best.get("epoch")}


def export_tested_weights(run_dir, final, test_acc):
    """export_tested_weights(run_dir, final, test_acc) -> str or None: path of the tested model's weights

    The model whose test accuracy a row reports (phase 2's ``final.h5``, else
    phase 1's ``best.h5``), weights only (float32, no velocities), written
    next to the row files as ``<results>/<script>/weights/<run name>.h5``:
    small enough to commit, and ``python -m crmn_legacy evaluate FILE``
    reproduces the row's test accuracy from it.
    """
    from crmn_legacy.training.checkpoint import export_weights

    run_dir = pathlib.Path(run_dir)
    src = run_dir / ("final/final.h5" if final else "select/best.h5")
    if test_acc is None or not src.exists():
        return None
    dst = run_dir.parent.parent / "weights" / f"{run_dir.name}.h5"
    export_weights(src, dst)
    try:
        return str(dst.relative_to(REPO))
    except ValueError:
        return str(dst)


def train_row(script, row_id, model, depth, width, dataset, args, data_note, depth_convention="he",
              seed=None, phase=None, batch_size=None, lr_schedule=None):
    """train_row(script, row_id, model, depth, width, dataset, args, data_note, depth_convention="he", seed=None, phase=None, batch_size=None, lr_schedule=None) -> dict

    Train one row with ``args.budget`` and return its training columns:
    ``test_acc`` (percent), curves, epochs, timing, and the labels (budget,
    data copy, protocol, hardware, date) that say what the number is.
    ``batch_size`` / ``lr_schedule``: a row's own recipe (section 4.2's
    batch 50 and [0.1, 0.01, 0.005, 0.001]); None: the paper's rule by width.
    """
    import shutil

    from crmn_legacy.training import TrainConfig, train

    b = BUDGETS[args.budget]
    t_depth = b["stand_in_depth"] or depth
    t_width = b["stand_in_width"] or width
    conv = "he" if b["stand_in_depth"] else depth_convention
    seed = args.seed if seed is None else seed
    out = pathlib.Path(args.results_dir) / script / "runs" / f"{row_id}-{args.budget}-{dataset}-seed{seed}"
    cfg = TrainConfig(model=model, depth=t_depth, width=t_width, depth_convention=conv, dataset=dataset,
                      data_dir=args.data_dir, dataset_file=args.dataset_file, train_subset=b["train_subset"],
                      val_subset=b["val_subset"], test_subset=b["test_subset"], epochs=b["epochs"],
                      time_limit=b["time_limit"], phase=phase or b["phase"], patience=b["patience"], seed=seed,
                      batch_size=batch_size, lr_schedule=None if lr_schedule is None else list(lr_schedule),
                      min_epochs_per_rate=b["min_epochs_per_rate"], max_epochs_per_rate=b["max_epochs_per_rate"],
                      select_test_every=b["select_test_every"], out=str(out), progress="lines")
    if not getattr(args, "resume", False):
        shutil.rmtree(out, ignore_errors=True)
    res = train(cfg, resume=getattr(args, "resume", False))
    sel, fin = res.get("select") or {}, res.get("final")
    test_acc = fin["test_acc"] if fin else sel.get("best_model_test_acc")
    weights = export_tested_weights(out, fin, test_acc)
    stand_in = f" (trained as a {model}-{t_depth} k={t_width:g} stand-in)" if (t_depth, t_width) != (depth, width) \
        else ""
    return {"budget": args.budget, "budget_note": b["note"] + stand_in, "dataset": data_note,
            "trained_depth": t_depth, "trained_width": t_width, "seed": seed,
            "test_acc": None if test_acc is None else 100.0 * test_acc,
            "val_acc_curve": sel.get("val_acc_curve"), "select_epochs": sel.get("epochs"),
            "curves": tested_run_curves(sel, fin), "weights": weights,
            "train_seconds": sum((ph or {}).get("elapsed_seconds") or 0.0 for ph in (sel, fin)) or None,
            "stop_reason": sel.get("stop_reason"),
            "recorded_schedule": sel.get("recorded_schedule"),
            "final_test_error_curve": fin.get("test_error_curve") if fin else None,
            "epoch_seconds_mean": sel.get("epoch_seconds_mean"), "run_dir": str(out),
            "batch_size": cfg.resolved().batch_size, "step_seconds_median": sel.get("step_seconds_median"),
            "protocol": "phase 2 (all training data, replayed schedule) test accuracy" if fin
            else "phase-1 best-validation model's test accuracy",
            "hardware": hardware(), "load_average": load_average(), "date": now()}
