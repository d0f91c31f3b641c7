"""repro/_cluster.py: every (row, seed) of a table as a task on Dask distributed, with the smoke budget.

* ``--scheduler local:2 --seeds 2``: two seeds of a Table 1 row train as two tasks on a LocalCluster of
  two worker processes; the row file holds both runs and the table shows best of 2 and mean +- std.
* A worker killed in the middle of a task (SIGKILL, from outside, once the run's first checkpoint is on
  disk): the scheduler gives the task to the restarted worker, which resumes the run from that checkpoint
  instead of starting again -- the run's log has a second attempt, marked as a retry, and the trainer's
  "resumed select from ..." line.  This test connects by address (``--scheduler HOST:PORT``) to a
  LocalCluster it started itself, so the modules go to the workers the way they go to remote ones.

Dask is an optional extra (``.[cluster]``): without it these tests are skipped.
"""

import argparse
import importlib
import json
import os
import pathlib
import signal
import sys
import threading
import time

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "repro"))

from _cluster import Scheduler, parse_scheduler  # noqa: E402

ROW = "crmn-32-k1"


def _argv(fixture, results, md, *extra):
    return ["--budget", "smoke", "--only", ROW, "--dataset-file", str(fixture), "--results-dir", str(results),
            "--results-md", str(md), *extra]


@pytest.mark.parametrize("text, parsed", [
    ("local", ("local", 1)), ("local:3", ("local", 3)), ("node7:8786", ("address", "tcp://node7:8786")),
    ("tcp://10.0.0.2:8786", ("address", "tcp://10.0.0.2:8786")),
])
def test_scheduler_values(text, parsed):
    s = parse_scheduler(text)
    assert s == Scheduler(*parsed) and parse_scheduler(str(s)) == s


@pytest.mark.parametrize("text", ["local:0", "local:x", "node7", "node7:port", ":8786"])
def test_bad_scheduler_is_one_usage_line(text, capsys):
    with pytest.raises(argparse.ArgumentTypeError):
        parse_scheduler(text)
    table1 = importlib.import_module("table1")
    with pytest.raises(SystemExit) as exc:
        table1.main(["--scheduler", text, "--no-results-md"])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and "--scheduler" in err and "Traceback" not in err


def test_rows_x_seeds_on_a_local_cluster(fixture_file, tmp_path, capsys):
    pytest.importorskip("distributed")
    results, md = tmp_path / "results", tmp_path / "RESULTS.md"
    table1 = importlib.import_module("table1")
    rc = table1.main(_argv(fixture_file, results, md, "--seeds", "2", "--scheduler", "local:2"))
    err = capsys.readouterr().err
    assert rc == 0, err[-3000:]
    assert "2 task(s)" in err and "2 worker(s)" in err
    t = json.loads((results / "table1" / f"{ROW}.json").read_text())["training"]
    assert t["seeds"] == [0, 1] and [r["seed"] for r in t["runs"]] == [0, 1]
    accs = [r["test_acc"] for r in t["runs"]]
    assert t["test_acc_mean"] == pytest.approx(sum(accs) / 2) and t["test_acc_max"] == max(accs)
    assert t["test_acc_std"] == pytest.approx(abs(accs[0] - accs[1]) / 2)  # population std of two values
    for seed in (0, 1):
        run = results / "table1" / "runs" / f"{ROW}-smoke-cifar100-seed{seed}"
        assert (run / "final" / "final.h5").exists()
        log = run.with_name(run.name + ".log").read_text()
        assert log.count("attempt on") == 1 and "select" in log
    section = md.read_text().split("<!-- repro:table1:begin -->")[1]
    assert "best of 2" in section and "+-" in section and "seeds 0, 1" in section


def test_a_killed_worker_is_retried_and_resumes_from_its_checkpoint(fixture_file, tmp_path, capsys):
    pytest.importorskip("distributed")
    import dask
    from distributed import Client, LocalCluster

    results, md = tmp_path / "results", tmp_path / "RESULTS.md"
    run = results / "table1" / "runs" / f"{ROW}-smoke-cifar100-seed0"
    with dask.config.set({"distributed.scheduler.allowed-failures": 2}), \
            LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        (victim,) = client.run(os.getpid).values()
        table1 = importlib.import_module("table1")
        outcome = {}
        argv = _argv(fixture_file, results, md, "--scheduler", cluster.scheduler_address.split("://", 1)[1])
        main = threading.Thread(target=lambda: outcome.setdefault("rc", table1.main(argv)))
        main.start()
        deadline = time.monotonic() + 900
        while not (run / "select" / "last.h5").exists():  # the first checkpoint of the task is on disk
            assert main.is_alive() and time.monotonic() < deadline, "the task never wrote a checkpoint"
            time.sleep(0.05)
        os.kill(victim, signal.SIGKILL)
        main.join(timeout=900)
        assert not main.is_alive()
        with pytest.raises(ProcessLookupError):
            os.kill(victim, 0)
    err = capsys.readouterr().err
    assert outcome.get("rc") == 0, err[-3000:]
    log = run.with_name(run.name + ".log").read_text()
    attempts = [line for line in log.splitlines() if line.startswith("== ") and "attempt on" in line]
    assert len(attempts) == 2, log[-3000:]
    assert "retry" not in attempts[0] and "a retry: resuming" in attempts[1]
    assert f"pid {victim}" in attempts[0] and f"pid {victim}" not in attempts[1]
    second = log.split(attempts[1], 1)[1]
    assert "resumed select from" in second and str(run / "select" / "last.h5") in second, second[-3000:]
    t = json.loads((results / "table1" / f"{ROW}.json").read_text())["training"]
    assert t["seed"] == 0
    # the row reports the resumed run's final model: evaluated afresh on the fixture's 100 test images
    from crmn_legacy.training.evaluate import evaluate_checkpoint

    check = evaluate_checkpoint(run / "final" / "final.h5", split="test", dataset_file=fixture_file)
    assert check["n"] == 100 and t["test_acc"] == pytest.approx(100.0 * check["acc"], abs=1e-9)


def test_scheduler_without_dask_is_one_usage_line(monkeypatch, capsys):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "distributed" else real(name, *a))
    table1 = importlib.import_module("table1")
    with pytest.raises(SystemExit) as exc:
        table1.main(["--scheduler", "local", "--no-results-md"])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and "pip install -e '.[cluster]'" in err and "Traceback" not in err
