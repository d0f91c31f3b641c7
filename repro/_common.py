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
from collections import namedtuple

REPO = pathlib.Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # run as `python repro/x.py` from a checkout
    sys.path.insert(0, str(REPO))

import crmn_legacy  # noqa: E402
from crmn_legacy._cli import ArgumentParser, one_line_errors, positive_int  # noqa: E402

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
                min_epochs_per_rate=[18, 8, 2], max_epochs_per_rate=[20, 10, 3], select_test_every=1,
                note="cpu: the real model on the whole training split (90 percent; 10 percent validation) with the paper's "
                     "recipe and rate list 0.1, 0.01, 0.001; the validation-driven schedule compressed to 18-20 "
                     "epochs at 0.1, 8-10 at 0.01, 2-3 at 0.001 (patience 3 within those bounds; at most 33 "
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


def hardware(backend="c"):
    """hardware(backend="c") -> str: this machine's CPU model and core count, and the JAX device that ran
    ``backend="jax"`` (the GPU when JAX sees one)."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    if backend == "jax":
        from crmn_legacy.training.backend import jax_devices

        return f"{cpu}, {os.cpu_count()} cores; JAX backend on {(jax_devices() or ['?'])[0]}"
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


def print_result(args, rows, text, problem=None):
    """print_result(args, rows, text, problem=None) -> None: ``rows`` as JSON with ``--json``, else ``text``
    and, after it, the data ``problem`` (if any)."""
    if args.json:
        print(json.dumps(rows, indent=1, default=str))
        return
    print(text)
    if problem:
        print("\n" + problem)


def fmt(value, spec):
    """fmt(value, spec) -> str: ``format(value, spec)``, or '-' for None."""
    return "-" if value is None else format(value, spec)


def add_training_options(p, default_seeds="1"):
    """add_training_options(p, default_seeds="1") -> p: the options of scripts that train rows.

    ``--seeds K`` trains every row with seeds ``--seed`` .. ``--seed``+K-1
    (the table shows the best of K and mean +- std, see
    :func:`summarize_seeds`); ``--scheduler`` runs each (row, seed) as a task
    on Dask distributed (:mod:`_cluster`); ``--backend`` picks the training
    backend (:mod:`crmn_legacy.training.backend`).
    """
    from _cluster import scheduler_option
    from crmn_legacy.training.backend import add_backend_option

    p.add_argument("--seed", type=int, default=0, help="first seed of the training runs (default 0)")
    p.add_argument("--seeds", type=positive_int, metavar="K",
                   help=f"train every row with K seeds, --seed .. --seed+K-1 (default {default_seeds}); the "
                        "table shows the best of K and mean +- std")
    add_backend_option(p, default="c", more_help="Default c")
    p.add_argument("--scheduler", type=scheduler_option, metavar="local[:N]|HOST:PORT",
                   help="run every (row, seed) as a task on Dask distributed (pip install -e '.[cluster]'): "
                        "local[:N] = a LocalCluster of N worker processes here (default 1); HOST:PORT = a running "
                        "Dask scheduler (e.g. dask-jobqueue's SLURMCluster) whose workers share this results "
                        "folder. Default: train here, one row after the other")
    p.add_argument("--retries", type=_retries, default=2, metavar="R",
                   help="with --scheduler: attempts after the first for a task whose worker died or that "
                        "failed; each resumes from the run's last checkpoint (default 2)")
    return p


def _retries(text):
    """The argparse type of ``--retries``: a whole number >= 0."""
    try:
        n = int(text)
    except ValueError:
        n = -1
    if n < 0:
        raise argparse.ArgumentTypeError(f"need a whole number >= 0, got {text!r}")
    return n


#: One unit of work: train ``row_id`` of ``script`` with ``seed``; ``train`` holds the other keyword
#: arguments of :func:`train_row` (model, depth, width, dataset, data_note, ...).
RowTask = namedtuple("RowTask", ["script", "row_id", "seed", "train"])


def plan_row(saved, task, args, data_note, seeds):
    """plan_row(saved, task, args, data_note, seeds) -> [RowTask, ...]: the seeds of a row still to train

    ``saved``: the row's dict; when none of ``seeds`` is missing its
    ``training`` becomes their summary (:func:`summarize_seeds`) at once.
    ``task``: the row's :class:`RowTask` (any seed).
    """
    kept = runs_to_keep(saved.get("training"), args, data_note)
    missing = [s for s in seeds if s not in kept]
    if not missing:
        saved["training"] = summarize_seeds([kept[s] for s in seeds])
    return [task._replace(seed=s) for s in missing]


def record_runs(path, runs, args, data_note, seeds):
    """record_runs(path, runs, args, data_note, seeds) -> dict: the row file at ``path`` with new runs

    ``runs``: ``{seed: run}`` just trained; with the saved runs that still
    count (:func:`runs_to_keep`) they make the row's ``training``, the
    summary of ``seeds``.  The file is rewritten.
    """
    saved = load_row(path) or {}
    kept = runs_to_keep(saved.get("training"), args, data_note)
    kept.update(runs)
    saved["training"] = summarize_seeds([kept[s] for s in seeds if s in kept])
    save_row(path, saved)
    return saved


def wanted_seeds(args, default=1):
    """wanted_seeds(args, default=1) -> [seed, ...]: ``--seeds`` K (else ``default``) seeds from ``--seed``."""
    k = args.seeds if getattr(args, "seeds", None) is not None else default
    return list(range(args.seed, args.seed + k))


def row_runs(training):
    """row_runs(training) -> list of run dicts of a row's ``training`` entry (one run, or ``runs`` of several)."""
    if not training:
        return []
    return list(training.get("runs") or [training])


def runs_to_keep(training, args, data_note):
    """runs_to_keep(training, args, data_note) -> {seed: run}: saved runs of a row that need no training again

    Those trained with this ``--budget`` on this data; none with ``--force``.
    """
    if getattr(args, "force", False):
        return {}
    return {r["seed"]: r for r in row_runs(training)
            if r.get("seed") is not None and r.get("budget") == args.budget and r.get("dataset") == data_note}


def summarize_seeds(runs):
    """summarize_seeds(runs) -> dict: a row's ``training`` entry from its runs, one per seed

    One run: that run.  Several: the columns of the run with the best
    validation accuracy (the model one would pick without the test set), plus
    ``runs`` (all, by seed) and, over their test accuracies :math:`a_1..a_K`,
    ``test_acc_max`` (the paper's "best of K"), ``test_acc_best_val`` (the
    best-validation run's), ``test_acc_mean`` :math:`\\bar a` and
    ``test_acc_std`` :math:`\\sqrt{\\frac{1}{K}\\sum_i (a_i - \\bar a)^2}`
    (population standard deviation).
    """
    import statistics

    runs = sorted(runs, key=lambda r: r["seed"])
    if len(runs) == 1:
        return dict(runs[0])
    best = max(runs, key=lambda r: max(v for v in (r.get("val_acc_curve") or [float("-inf")]) if v is not None))
    out = dict(best)
    accs = [r["test_acc"] for r in runs if r.get("test_acc") is not None]
    out.update({"runs": runs, "seeds": [r["seed"] for r in runs], "test_acc_best_val": best.get("test_acc"),
                "test_acc_max": max(accs) if accs else None,
                "test_acc_mean": statistics.mean(accs) if accs else None,
                "test_acc_std": statistics.pstdev(accs) if accs else None})
    return out


def seeds_note(training):
    """seeds_note(training) -> str: "seed S", or "seeds A..B (columns of the best-validation run, seed S)"."""
    runs = row_runs(training)
    if len(runs) <= 1:
        return f"seed {(training or {}).get('seed')}"
    return (f"seeds {', '.join(str(r['seed']) for r in runs)} (epochs and curves of the best-validation run, "
            f"seed {training.get('seed')})")


def report_failures(script, failures):
    """report_failures(script, failures) -> exit status: 0, or 1 after one stderr line per failed task."""
    for f in failures:
        print(f"{script}: not trained: {f}", file=sys.stderr)
    return 1 if failures else 0


def seeds_cell(training):
    """seeds_cell(training) -> str: a row's test accuracy (%) cell: one run's, or best of K and mean +- std."""
    runs = row_runs(training)
    if len(runs) <= 1:
        return fmt((training or {}).get("test_acc"), ".2f")
    t = training
    if t.get("test_acc_mean") is None:
        return "-"
    return (f"{t['test_acc_max']:.2f} best of {len(runs)} (best-val run {fmt(t['test_acc_best_val'], '.2f')}); "
            f"{t['test_acc_mean']:.2f} +- {t['test_acc_std']:.2f}")


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


def run_dir(results_dir, script, row_id, budget, dataset, seed):
    """run_dir(results_dir, script, row_id, budget, dataset, seed) -> pathlib.Path: the training run folder of a row."""
    return pathlib.Path(results_dir) / script / "runs" / f"{row_id}-{budget}-{dataset}-seed{seed}"


def train_row(script, row_id, model, depth, width, dataset, args, data_note, depth_convention="he",
              seed=None, phase=None, batch_size=None, lr_schedule=None, resume=None, stdout=None, stderr=None,
              flip=False):
    """train_row(script, row_id, model, depth, width, dataset, args, data_note, depth_convention="he", seed=None, phase=None, batch_size=None, lr_schedule=None, resume=None, stdout=None, stderr=None, flip=False) -> dict

    Train one row with ``args.budget`` (on ``args.backend``) and return its
    training columns: ``test_acc`` (percent), curves, epochs, timing, and the
    labels (budget, data copy, protocol, hardware, date) that say what the
    number is.  ``batch_size`` / ``lr_schedule``: a row's own recipe (section
    4.2's batch 50 and [0.1, 0.01, 0.005, 0.001]); None: the paper's rule by
    width.  ``resume``: continue the run folder's last checkpoint (default
    ``args.resume``); else the folder is cleared first.  ``stdout`` /
    ``stderr``: where the epoch table and progress go (default: the console).
    ``flip``: random horizontal flips on top of the crops (not in the paper;
    ``repro/flips.py`` only), named in the budget note.
    """
    import shutil

    from crmn_legacy.training import TrainConfig, train

    b = BUDGETS[args.budget]
    t_depth = b["stand_in_depth"] or depth
    t_width = b["stand_in_width"] or width
    conv = "he" if b["stand_in_depth"] else depth_convention
    seed = args.seed if seed is None else seed
    backend = getattr(args, "backend", "c")
    resume = getattr(args, "resume", False) if resume is None else resume
    out = run_dir(args.results_dir, script, row_id, args.budget, dataset, seed)
    cfg = TrainConfig(model=model, depth=t_depth, width=t_width, depth_convention=conv, dataset=dataset,
                      data_dir=args.data_dir, dataset_file=args.dataset_file, train_subset=b["train_subset"],
                      val_subset=b["val_subset"], test_subset=b["test_subset"], epochs=b["epochs"],
                      time_limit=b["time_limit"], phase=phase or b["phase"], patience=b["patience"], seed=seed,
                      batch_size=batch_size, lr_schedule=None if lr_schedule is None else list(lr_schedule),
                      min_epochs_per_rate=b["min_epochs_per_rate"], max_epochs_per_rate=b["max_epochs_per_rate"],
                      select_test_every=b["select_test_every"], out=str(out), progress="lines", backend=backend,
                      flip=flip)
    if not resume:
        shutil.rmtree(out, ignore_errors=True)
    res = train(cfg, resume=resume, stdout=stdout, stderr=stderr)
    sel, fin = res.get("select") or {}, res.get("final")
    test_acc = fin["test_acc"] if fin else sel.get("best_model_test_acc")
    weights = export_tested_weights(out, fin, test_acc)
    stand_in = f" (trained as a {model}-{t_depth} k={t_width:g} stand-in)" if (t_depth, t_width) != (depth, width) \
        else ""
    flips = "; plus random horizontal flips (not in the paper)" if flip else ""
    return {"budget": args.budget, "budget_note": b["note"] + stand_in + flips, "dataset": data_note, "flip": flip,
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
            "backend": backend, "hardware": hardware(backend), "load_average": load_average(), "date": now()}
