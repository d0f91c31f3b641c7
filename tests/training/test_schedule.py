"""PlateauSchedule / ReplaySchedule against hand-worked sequences (section 4 of the paper)."""

import pytest

from crmn_legacy.training.schedule import PlateauSchedule, ReplaySchedule


def test_plateau_decays_reloads_and_records_best_trajectory():
    s = PlateauSchedule([0.1, 0.01], patience=2)
    # epoch: (val_loss, val_acc) -> expected (is_best, action)
    seq = [
        ((1.0, 0.50), (True, "continue")),   # 1 best
        ((0.9, 0.55), (True, "continue")),   # 2 best
        ((0.95, 0.54), (False, "continue")), # 3 no improvement (1)
        ((0.85, 0.53), (False, "continue")), # 4 loss improved -> counter reset, not best (acc lower)
        ((0.90, 0.52), (False, "continue")), # 5 (1)
        ((0.90, 0.52), (False, "decay")),    # 6 (2) -> lr 0.01, reload epoch 2
        ((0.80, 0.60), (True, "continue")),  # 7 best
        ((0.81, 0.59), (False, "continue")), # 8 (1)
        ((0.82, 0.58), (False, "stop")),     # 9 (2) -> last rate: stop
    ]
    for i, ((loss, acc), expected) in enumerate(seq, 1):
        assert s.lr == (0.1 if i <= 6 else 0.01)
        assert s.update(loss, acc) == expected, f"epoch {i}"
    assert s.finished
    assert s.changes == [{"epoch": 6, "lr": 0.01, "reloaded_epoch": 2}]
    assert s.best == {"epoch": 7, "val_loss": 0.80, "val_acc": 0.60}
    # best model = 2 epochs at 0.1 (epochs 3-6 discarded by the reload) + 1 epoch at 0.01
    assert s.recorded_schedule() == [[0.1, 2], [0.01, 1]]
    with pytest.raises(RuntimeError, match="already finished"):
        s.update(0.1, 0.9)


def test_no_improvement_after_reload_gives_zero_epochs_of_that_rate():
    s = PlateauSchedule([0.1, 0.01, 0.001], patience=1)
    assert s.update(1.0, 0.5) == (True, "continue")
    assert s.update(1.1, 0.4) == (False, "decay")
    assert s.update(1.2, 0.4) == (False, "decay")
    assert s.update(1.3, 0.4) == (False, "stop")
    assert s.recorded_schedule() == [[0.1, 1]]
    assert [c["epoch"] for c in s.changes] == [2, 3]


def test_state_round_trip_continues_identically():
    a = PlateauSchedule([0.1, 0.01], patience=2)
    vals = [(1.0, 0.5), (1.1, 0.4), (0.9, 0.6), (1.2, 0.3), (1.3, 0.2), (0.7, 0.7), (0.8, 0.6), (0.9, 0.5)]
    for v in vals[:4]:
        a.update(*v)
    b = PlateauSchedule.from_state_dict(a.state_dict())
    for v in vals[4:]:
        assert a.update(*v) == b.update(*v)
    assert a.state_dict() == b.state_dict()


def test_replay_schedule():
    r = ReplaySchedule([[0.1, 2], [0.01, 0], [0.001, 1]])
    assert r.total_epochs == 3
    assert [r.lr_at(e) for e in range(3)] == [0.1, 0.1, 0.001]
    with pytest.raises(IndexError):
        r.lr_at(3)
    with pytest.raises(ValueError, match="empty"):
        ReplaySchedule([])
    assert ReplaySchedule.from_state_dict(r.state_dict()).segments == r.segments


def test_invalid_settings():
    with pytest.raises(ValueError, match="patience"):
        PlateauSchedule([0.1], patience=0)
    with pytest.raises(ValueError, match="positive"):
        PlateauSchedule([0.1, -1.0])
