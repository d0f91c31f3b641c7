"""The options that compress the paper's schedule into a budget and expose its open readings.

* :class:`PlateauSchedule` with per-rate epoch bounds (``min_epochs`` /
  ``max_epochs``): the rate is never lowered before the lower bound and always
  lowered at the upper one; with no bound it is the paper's rule alone.
* ``select_test_every``: phase 1 records the test error per epoch (Figure 3,
  right, of a run without phase 2) without changing what is trained.
* ``--model-option`` keys of the LSTM (``b_f=-1``) and ``--mean-mode``.
"""

import json

import numpy as np
import pytest

from crmn_legacy.training.cli import build_train_parser, _config_from_args
from crmn_legacy.training.config import TrainConfig
from crmn_legacy.training.data import load_training_data
from crmn_legacy.training.schedule import PlateauSchedule
from crmn_legacy.training.trainer import build_network, model_keywords
from training_helpers import make_tiny_data, retarget


def _run(schedule, vals):
    """Feed (loss, acc) pairs; return the 1-based epochs at which the rate changed or the run stopped."""
    events = []
    for epoch, (loss, acc) in enumerate(vals, start=1):
        _, action = schedule.update(loss, acc)
        if action != "continue":
            events.append((epoch, action))
        if schedule.finished:
            break
    return events


def test_max_epochs_moves_the_rate_on_without_a_plateau():
    # accuracy improves every epoch: the paper's rule alone would never lower the rate
    s = PlateauSchedule([0.1, 0.01, 0.001], patience=3, min_epochs=[15, 4, 1], max_epochs=[22, 8, 3])
    improving = [(1.0 / (10 + e), 0.1 + 0.01 * e) for e in range(100)]
    assert _run(s, improving) == [(22, "decay"), (30, "decay"), (33, "stop")]
    assert s.recorded_schedule() == [[0.1, 22], [0.01, 8], [0.001, 3]]


def test_min_epochs_holds_the_rate_through_a_plateau():
    # no improvement after the first epoch: patience 3 would decay at epoch 4, the bounds say 15, 19, 20
    s = PlateauSchedule([0.1, 0.01, 0.001], patience=3, min_epochs=[15, 4, 1], max_epochs=[22, 8, 3])
    flat = [(1.0, 0.5)] * 100
    # stage 2: 4 epochs (bad_epochs already >= 3 at its 4th); stage 3: patience 3 > its min of 1 -> 3 epochs
    assert _run(s, flat) == [(15, "decay"), (19, "decay"), (22, "stop")]


def test_no_bounds_is_the_papers_rule():
    bounded = PlateauSchedule([0.1, 0.01], patience=2, min_epochs=None, max_epochs=None)
    plain = PlateauSchedule([0.1, 0.01], patience=2)
    vals = [(1.0, 0.5), (0.9, 0.6), (0.95, 0.55), (0.96, 0.58), (0.8, 0.7), (0.85, 0.6), (0.9, 0.6)]
    assert _run(bounded, vals) == _run(plain, vals) == [(4, "decay"), (7, "stop")]


def test_bounds_survive_a_state_round_trip():
    s = PlateauSchedule([0.1, 0.01], patience=2, min_epochs=[3, 1], max_epochs=[5, 2])
    for _ in range(4):
        s.update(1.0, 0.5)
    r = PlateauSchedule.from_state_dict(json.loads(json.dumps(s.state_dict())))
    assert r.state_dict() == s.state_dict()
    # epoch 3 decayed (patience 2 met at min 3); epoch 5 is the 2nd bad epoch at the last rate: stop
    assert r.update(1.0, 0.5)[1] == s.update(1.0, 0.5)[1] == "stop"


@pytest.mark.parametrize("kwargs, match", [
    (dict(min_epochs=[1]), "one entry per learning rate"),
    (dict(max_epochs=[0, 1]), ">= 1 epoch"),
    (dict(min_epochs=[4, 1], max_epochs=[3, 1]), "exceeds"),
])
def test_bad_bounds_are_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        PlateauSchedule([0.1, 0.01], patience=2, **kwargs)


def test_bounds_reach_train_from_the_command_line():
    ns = build_train_parser().parse_args(["--lr-schedule", "0.1,0.01", "--min-epochs-per-rate", "3,1",
                                          "--max-epochs-per-rate", "5,2", "--select-test-every", "1"])
    cfg = TrainConfig(**_config_from_args(ns)[0]).resolved()
    assert (cfg.min_epochs_per_rate, cfg.max_epochs_per_rate, cfg.select_test_every) == ([3, 1], [5, 2], 1)
    with pytest.raises(ValueError, match="one epoch count >= 1 per learning rate"):
        TrainConfig(lr_schedule=[0.1, 0.01], max_epochs_per_rate=[5]).resolved()


def test_select_test_every_records_the_test_error_per_epoch(trainer, tiny_file, tmp_path):
    tr = retarget(trainer, tiny_file, tmp_path / "run", phase="select", epochs=3, select_test_every=1,
                  lr_schedule=[0.1, 0.01], patience=5)
    summary = tr.run()["select"]
    log = [json.loads(line) for line in (tmp_path / "run" / "select" / "log.jsonl").read_text().splitlines()]
    assert len(log) == 3 and all(r["test_acc"] is not None for r in log)
    # the recorded figure is the test set's: evaluate the last model directly and compare with the last epoch
    loss, acc = tr.evaluate(tr.data.phase("select").test, tr.data.phase("select").transform)
    assert log[-1]["test_acc"] == pytest.approx(acc, abs=1e-12)
    assert summary["test_error_curve"] == [pytest.approx(1.0 - r["test_acc"]) for r in log]
    assert summary["train_loss_curve"] == [r["train_loss"] for r in log]


def test_lstm_model_options_go_to_the_memory():
    kw = model_keywords({"b_f": -1, "outgate_nonlinearity": "tanh", "conv_bias": False})
    assert kw["conv_bias"] is False and kw["memory_options"]["outgate_nonlinearity"] == "tanh"
    cfg = TrainConfig(model="crmn", depth=8, width=0.125, model_options={"b_f": -1})
    net = build_network(cfg, (None, 3, 8, 8), 3)
    from crmn_legacy.layers import get_all_params
    (b_f,) = [p for p in get_all_params(net) if p.name == "memory.b_f"]
    np.testing.assert_array_equal(b_f.get_value(), np.full(100, -1.0, dtype=b_f.dtype))


def test_model_option_b_f_is_accepted_by_train():
    ns = build_train_parser().parse_args(["--model", "crmn", "--model-option", "b_f=-1"])
    assert TrainConfig(**_config_from_args(ns)[0]).model_options == {"b_f": -1}


@pytest.mark.parametrize("mode, shape", [("per_channel", (3, 1, 1)), ("image", (3, 8, 8)), ("global", (1, 1, 1))])
def test_mean_mode_chooses_the_mean_pixel(mode, shape):
    (X, y), test = make_tiny_data()
    ns = build_train_parser().parse_args(["--mean-mode", mode])
    cfg = TrainConfig(dataset="cifar10", val_fraction=0.2, **_config_from_args(ns)[0]).resolved()
    data = load_training_data(cfg, {"train": (X, y), "test": test})
    ph = data.phase("select")
    mean = np.asarray(ph.transform.mean)
    assert mean.shape == shape
    axes = {"per_channel": (0, 2, 3), "image": (0,), "global": (0, 1, 2, 3)}[mode]
    expected = (ph.train[0].astype(np.float64) / 255.0).mean(axis=axes, keepdims=True)[0]
    np.testing.assert_allclose(mean, expected, rtol=1e-6)
