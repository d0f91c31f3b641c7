"""run_rows(tasks, args, on_row) -- every (row, seed) of a repro script as one task, here or on Dask distributed.

Without ``--scheduler`` the tasks run one after another in this process, as
they always did (nothing new to install).  With it, each task is submitted to
`Dask distributed <https://distributed.dask.org>`_ (``pip install -e
'.[cluster]'``):

``--scheduler local`` / ``local:N``
    a ``LocalCluster`` of N worker processes (default 1) on this machine, one
    task per worker at a time; unless already set, each worker's OpenMP and
    OpenBLAS thread counts are the cores divided by N.
``--scheduler HOST:PORT`` (or ``tcp://HOST:PORT``)
    a running Dask scheduler: ``dask scheduler`` plus ``dask worker`` on other
    machines, or a batch queue through dask-jobqueue (``SLURMCluster(...)``,
    then ``cluster.scheduler_address``; see README).  The workers need
    crmn_legacy installed and must see the results folder and the data at the
    same paths (a shared filesystem): they write the rows' checkpoints there.
    This module and ``_common`` are sent to them (``Client.upload_file``).

Results come back to this process, which writes the row files and the table
exactly as without a scheduler.

Failures.  A task that raises is retried ``--retries`` times (Dask's
``retries=``); a task whose worker dies (killed, node lost, out of memory) is
moved to another worker by the scheduler (up to its ``allowed-failures``, set
to ``--retries`` for a LocalCluster).  Either way the next attempt *resumes*
the row's training from its last checkpoint instead of starting again: every
attempt writes the id of this invocation of the script next to the run folder
(``<run>.invocation``), and an attempt that finds its own invocation's id there
is a retry and passes ``resume=True`` to :func:`_common.train_row`; a new
invocation starts the run afresh (unless ``--resume``).  Each attempt's
console output is appended to ``<run>.log`` beside the run folder, with a
header line per attempt.
"""

import argparse
import os
import pathlib
import socket
import sys
import uuid
from collections import namedtuple

import _common as C

class Scheduler(namedtuple("Scheduler", ["kind", "where"])):
    """Scheduler(kind, where): ``("local", N)`` or ``("address", "tcp://HOST:PORT")``; ``str()`` gives it back as
    a ``--scheduler`` value."""

    def __str__(self):
        return f"local:{self.where}" if self.kind == "local" else self.where


def parse_scheduler(text):
    """parse_scheduler(text) -> Scheduler; the argparse type of ``--scheduler`` (``local[:N]`` or ``HOST:PORT``)."""
    s = str(text).strip()
    if s == "local" or s.startswith("local:"):
        n = s.partition(":")[2] or "1"
        if not n.isdigit() or int(n) < 1:
            raise argparse.ArgumentTypeError(f"local:N needs a number of workers N >= 1, got {text!r}")
        return Scheduler("local", int(n))
    address = s if "://" in s else f"tcp://{s}"
    host, _, port = address.split("://", 1)[1].rpartition(":")
    if not host or not port.isdigit():
        raise argparse.ArgumentTypeError(f"--scheduler must be local, local:N or HOST:PORT, got {text!r}")
    return Scheduler("address", address)


def scheduler_option(text):
    """scheduler_option(text) -> Scheduler: :func:`parse_scheduler`, and Dask distributed must be installed."""
    import importlib.util

    scheduler = parse_scheduler(text)
    if importlib.util.find_spec("distributed") is None:
        raise argparse.ArgumentTypeError("needs Dask distributed, which is not installed: pip install -e '.[cluster]'")
    return scheduler


def row_task(task, args, invocation):
    """row_task(task, args, invocation) -> (task, run dict): one attempt at a :class:`_common.RowTask` (a Dask task)

    ``args``: the script's options as a dict; ``invocation``: the id of the
    script run that submitted the task (see the module docstring for how a
    retry is told from a new run).
    """
    import json

    from crmn_legacy.utils import atomic_write_json

    args = argparse.Namespace(**args)
    out = C.run_dir(args.results_dir, task.script, task.row_id, args.budget, task.train["dataset"], task.seed)
    out.parent.mkdir(parents=True, exist_ok=True)
    marker = out.with_name(out.name + ".invocation")
    try:
        retry = json.loads(marker.read_text(encoding="utf-8")).get("invocation") == invocation
    except (OSError, ValueError, AttributeError):
        retry = False
    if not retry:
        atomic_write_json(marker, {"invocation": invocation, "started": C.now()})
    resume = bool(getattr(args, "resume", False) or retry)
    with open(out.with_name(out.name + ".log"), "a", encoding="utf-8", buffering=1) as log:
        log.write(f"== {C.now()} {task.script} {task.row_id} seed {task.seed}: attempt on "
                  f"{socket.gethostname()} pid {os.getpid()}"
                  f"{' (a retry: resuming from the last checkpoint)' if retry else ''}\n")
        run = C.train_row(task.script, task.row_id, args=args, seed=task.seed, resume=resume, stdout=log,
                          stderr=log, **task.train)
    return task, run


def run_rows(tasks, args, on_row):
    """run_rows(tasks, args, on_row) -> list of str (one message per task that failed for good)

    Run every :class:`_common.RowTask` (in this process, or on ``args.scheduler``) and
    call ``on_row(row_id, {seed: run})`` in this process as soon as every
    task of a row has finished.  A row with a failed task is not passed on.
    """
    tasks = list(tasks)
    pending = {}
    for t in tasks:
        pending.setdefault(t.row_id, set()).add(t.seed)
    done = {rid: {} for rid in pending}

    def finished(task, run):
        done[task.row_id][task.seed] = run
        pending[task.row_id].discard(task.seed)
        if not pending[task.row_id]:
            on_row(task.row_id, done[task.row_id])

    if not tasks:
        return []
    if getattr(args, "scheduler", None) is None:
        for t in tasks:
            print(f"{t.script}: training {t.row_id} seed {t.seed} ({args.budget}) ...", file=sys.stderr, flush=True)
            finished(t, C.train_row(t.script, t.row_id, args=args, seed=t.seed, **t.train))
        return []
    return _run_on_dask(tasks, args, finished)


def _client(scheduler, retries):
    """A Client of a new LocalCluster (closed with it) or of the scheduler at an address."""
    import dask
    from distributed import Client, LocalCluster

    kind, where = scheduler
    if kind == "address":
        try:
            client = Client(where, timeout="30s")
        except OSError as exc:
            raise SystemExit(f"--scheduler {where}: no Dask scheduler answers there ({exc})") from None
        for module in ("_common", "_cluster"):
            client.upload_file(str(pathlib.Path(__file__).with_name(f"{module}.py")))
        return client, None
    threads = str(max(1, (os.cpu_count() or 1) // where))
    env = {k: os.environ.get(k, threads) for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS")}
    with dask.config.set({"distributed.scheduler.allowed-failures": retries}):
        cluster = LocalCluster(n_workers=where, threads_per_worker=1, processes=True, dashboard_address=None,
                               env=env)
        client = Client(cluster)
    return client, cluster


def _run_on_dask(tasks, args, finished):
    from distributed import as_completed

    invocation = uuid.uuid4().hex
    retries = int(getattr(args, "retries", 2))
    client, cluster = _client(args.scheduler, retries)
    opts = {k: v for k, v in vars(args).items() if k != "scheduler"}
    failures = []
    try:
        print(f"{tasks[0].script}: {len(tasks)} task(s) on {client.scheduler.address} "
              f"({len(client.scheduler_info()['workers'])} worker(s)); logs next to each run folder",
              file=sys.stderr, flush=True)
        futures = {}
        for t in tasks:
            key = f"{t.script}-{t.row_id}-seed{t.seed}-{invocation[:8]}"
            futures[client.submit(row_task, t, opts, invocation, key=key, retries=retries, pure=False)] = t
        for fut in as_completed(futures):
            t = futures[fut]
            try:
                _, run = fut.result()
            except Exception as exc:  # noqa: BLE001 -- any task error (KilledWorker, the training's own) is reported
                failures.append(f"{t.row_id} seed {t.seed}: {type(exc).__name__}: {exc}".splitlines()[0])
                print(f"{t.script}: {failures[-1]}", file=sys.stderr, flush=True)
                continue
            print(f"{t.script}: {t.row_id} seed {t.seed} done (test acc {C.fmt(run.get('test_acc'), '.2f')})",
                  file=sys.stderr, flush=True)
            finished(t, run)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    return failures
