"""Command line: --help, option parsing, resume safety, evaluate; progress line and table."""

import argparse
import io
import json
import re

import pytest

from crmn_legacy.training import cli
from crmn_legacy.training.config import TrainConfig
from crmn_legacy.training.progress import EpochTable, ProgressLine
from training_helpers import retarget


def test_help_explains_every_option_with_paper_default(capsys):
    with pytest.raises(SystemExit) as e:
        cli.main_train(["--help"])
    assert e.value.code == 0
    text = capsys.readouterr().out
    for opt in ("--model", "--depth", "--width", "--dataset", "--data-dir", "--epochs", "--time-limit",
                "--train-subset", "--val-fraction", "--batch-size", "--lr-schedule", "--patience", "--seed",
                "--out", "--resume", "--phase", "--checkpoint-every-steps", "--progress", "--weight-decay",
                "--momentum", "--decay-form"):
        assert opt in text, opt
    flat = " ".join(text.split())
    for fact in ("0.1,0.01,0.001", "0.1,0.01,0.005,0.001", "100", "50 for wide", "10%", "1e-4",
                 "momentum mu (default 0.9"):
        assert fact in flat, fact
    parser = cli.build_train_parser()
    for action in parser._actions:
        if action.option_strings and action.dest != "help":
            assert action.help and len(action.help) > 15, action.option_strings


def test_parsers():
    assert cli.parse_duration("30m") == 1800 and cli.parse_duration("1h30m") == 5400
    assert cli.parse_duration("90") == 90 and cli.parse_duration("1.5h") == 5400
    assert cli.parse_lr_schedule("0.1,0.01,0.005,0.001") == [0.1, 0.01, 0.005, 0.001]
    assert cli.parse_replay_schedule("0.1:3,0.01:2") == [[0.1, 3], [0.01, 2]]
    with pytest.raises(argparse.ArgumentTypeError, match="not a duration: 'soon'"):
        cli.parse_duration("soon")


def test_paper_defaults_resolve():
    c = TrainConfig().resolved()
    assert (c.batch_size, c.lr_schedule, c.momentum, c.weight_decay, c.val_fraction) == \
        (100, [0.1, 0.01, 0.001], 0.9, 1e-4, 0.1)
    w = TrainConfig(depth=28, width=10, depth_convention="wrn").resolved()
    assert (w.batch_size, w.lr_schedule) == (50, [0.1, 0.01, 0.005, 0.001])
    with pytest.raises(ValueError, match="decreasing"):
        TrainConfig(lr_schedule=[0.01, 0.1]).resolved()


def test_resume_refuses_changed_settings(tmp_path, capsys):
    (tmp_path / "config.json").write_text(json.dumps(TrainConfig(out=str(tmp_path)).to_dict()))
    rc = cli.main_train(["--out", str(tmp_path), "--resume", "--depth", "14"])
    assert rc == 2 and "depth=14 differs" in capsys.readouterr().err
    rc = cli.main_train(["--out", str(tmp_path / "nothing"), "--resume"])
    assert rc == 2 and "no run to continue" in capsys.readouterr().err


def test_evaluate_cli_matches_training_numbers(trainer, tiny_file, tmp_path, capsys):
    tr = retarget(trainer, tiny_file, tmp_path / "run", epochs=1, phase="select", test_every=0)
    tr.run()
    logged = json.loads((tmp_path / "run/select/log.jsonl").read_text().splitlines()[0])
    rc = cli.main_evaluate([str(tmp_path / "run/select/best.h5"), "--split", "valid", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert rc == 0 and out["n"] == 16
    assert out["acc"] == logged["val_acc"] and out["loss"] == pytest.approx(logged["val_loss"], rel=1e-6)


def test_progress_bar_and_table():
    class TTY(io.StringIO):
        def isatty(self):
            return True

    s = TTY()
    p = ProgressLine("auto", s, min_interval=0.0)
    p.start("select epoch 1", 4)
    for i in range(1, 5):
        p.update(i, 1.0 / i, 0.5)
    p.finish()
    text = s.getvalue()
    assert text.count("\r") >= 4 and "ETA" in text and "[4/4]" in text and "\n" not in text
    assert ProgressLine("auto", io.StringIO()).mode == "none"  # not a terminal: silent
    t = io.StringIO()
    table = EpochTable(t)
    table.print({"phase": "select", "epoch": 1, "lr": 0.1, "train_loss": 2.0, "train_acc": 0.25,
                 "val_loss": 1.5, "val_acc": 0.5, "epoch_time": 3.0, "note": "best"})
    table.print({"phase": "final", "epoch": 12, "lr": 0.001, "train_loss": 0.5, "train_acc": 0.875,
                 "val_loss": None, "val_acc": None, "epoch_time": 13.25, "note": ""})
    lines = t.getvalue().splitlines()
    assert len(lines) == 3 and lines[0].split() == ["phase", "epoch", "lr", "train_loss", "train_acc", "val_loss",
                                                   "val_acc", "time_s", "note"]

    def cells(line):
        return [(m.group(), m.start(), m.end()) for m in re.finditer(r"\S+", line)]

    head = cells(lines[0])
    rows = [cells(line) for line in lines[1:]]
    # the values, as formatted: lr 5 decimals, losses and accuracies 4, seconds 1 (13.25 rounds half to even)
    assert [c[0] for c in rows[0]] == ["select", "1", "0.10000", "2.0000", "0.2500", "1.5000", "0.5000", "3.0", "best"]
    assert [c[0] for c in rows[1]] == ["final", "12", "0.00100", "0.5000", "0.8750", "-", "-", "13.2"]
    # fixed-width columns: the phase left-aligned under its header, every number right-aligned under its header
    for row in rows:
        assert row[0][1] == head[0][1] == 0
        assert [c[2] for c in row[1:8]] == [c[2] for c in head[1:8]], row
    assert rows[0][8][1] == head[8][1]  # the note starts under "note"
