"""PlateauSchedule(learning_rates=(0.1, 0.01, 0.001), patience=10, min_epochs=None, max_epochs=None) and ReplaySchedule(segments).

The paper's protocol (section 4)
--------------------------------
"The model is trained until neither the validation error nor the validation
accuracy improves for :math:`\\beta` epochs, at which point the previous best
model is loaded and the system trained with a lower learning rate.  This is
repeated until the learning rate falls below a set threshold.  The learning
schedule so obtained is then used on another run with all the training data."

Phase 1 (``select``) is :class:`PlateauSchedule`:

* *validation error* is read as the validation **cross-entropy loss**
  :math:`L_v` and *validation accuracy* as :math:`A_v` (the error rate
  :math:`1 - A_v` would carry no extra information).  An epoch *improves* when
  :math:`L_v < \\min L_v^{past}` **or** :math:`A_v > \\max A_v^{past}`; after
  ``patience`` (:math:`\\beta`) epochs in a row without improvement the rate
  moves to the next entry of ``learning_rates`` and the best model is reloaded;
  after the last entry the run stops ("below the threshold").  The paper does
  not give :math:`\\beta`; our default is 10.
* the *best model* is the one with the highest :math:`A_v` (ties: lower
  :math:`L_v`); it is what gets reloaded and what phase 1 ends with.
* momentum velocities are reset to zero when the best model is reloaded.
* optional stage bounds (not in the paper; used to compress the schedule
  into a wall-clock budget): ``min_epochs[s]`` epochs at rate ``s`` before
  the plateau rule may act (the rate is never lowered earlier), and
  ``max_epochs[s]`` epochs after which the rate moves on (or the run stops)
  even without a plateau.  ``None`` (the default) is the paper's rule alone.

The recorded schedule is the *trajectory of the best model*: the learning
rate of every epoch that led to it, with the epochs discarded by reloads
removed, run-length encoded as ``[[lr, epochs], ...]``.  For example with
:math:`\\beta=2`: lr 0.1 for epochs 1-7 with the best at epoch 5, reload, lr
0.01 for epochs 8-12 with the best at epoch 10, stop -> segments
``[[0.1, 5], [0.01, 3]]`` (epochs 6 and 7 were discarded, and 11-12 were not
needed).  ``changes`` additionally lists, in raw epochs, when each rate change
happened and which epoch's model was reloaded.

Phase 2 (``final``) is :class:`ReplaySchedule`: train on train+validation for
``sum(epochs)`` epochs, epoch :math:`e` using the rate of the segment that
contains it.
"""

__all__ = ["PlateauSchedule", "ReplaySchedule", "PAPER_SCHEDULES"]

#: The two learning-rate lists of the paper: the default and the one of the
#: wide (28 layers, 160 maps, batch 50) models of section 4.2.
PAPER_SCHEDULES = {"default": (0.1, 0.01, 0.001), "wide": (0.1, 0.01, 0.005, 0.001)}


def _stage_bounds(bounds, n, name):
    if bounds is None:
        return None
    bounds = [int(b) for b in bounds]
    if len(bounds) != n:
        raise ValueError(f"{name} needs one entry per learning rate ({n}), got {bounds}")
    if any(b < 1 for b in bounds):
        raise ValueError(f"{name} entries must be >= 1 epoch, got {bounds}")
    return bounds


def _rle_append(segments, lr):
    if segments and segments[-1][0] == lr:
        segments[-1][1] += 1
    else:
        segments.append([lr, 1])


class PlateauSchedule:
    """PlateauSchedule(learning_rates=(0.1, 0.01, 0.001), patience=10, min_epochs=None, max_epochs=None)

    Validation-driven learning-rate schedule of section 4 (see module doc).
    ``min_epochs`` / ``max_epochs``: per-rate lists of epoch bounds (same
    length as ``learning_rates``), or None for no bound.

    Use: read :attr:`lr` before an epoch, call :meth:`update` after it with
    the validation loss and accuracy; it returns ``(is_new_best, action)``
    with ``action`` in ``{"continue", "decay", "stop"}``.  On ``"decay"`` the
    caller reloads the best model and continues with the new :attr:`lr`.
    State round-trips through :meth:`state_dict` / :meth:`from_state_dict`
    (plain JSON types).
    """

    def __init__(self, learning_rates=(0.1, 0.01, 0.001), patience=10, min_epochs=None, max_epochs=None):
        learning_rates = [float(r) for r in learning_rates]
        if not learning_rates:
            raise ValueError("the learning-rate schedule must list at least one rate")
        if any(r <= 0 for r in learning_rates):
            raise ValueError(f"learning rates must be positive, got {learning_rates}")
        if int(patience) < 1:
            raise ValueError(f"patience (beta) must be >= 1 epoch, got {patience}")
        self.learning_rates = learning_rates
        self.patience = int(patience)
        self.min_epochs = _stage_bounds(min_epochs, len(learning_rates), "min_epochs")
        self.max_epochs = _stage_bounds(max_epochs, len(learning_rates), "max_epochs")
        if self.min_epochs and self.max_epochs and any(a > b for a, b in zip(self.min_epochs, self.max_epochs)):
            raise ValueError(f"min_epochs {self.min_epochs} exceeds max_epochs {self.max_epochs} at some rate")
        self.stage = 0
        self.stage_epochs = 0  # epochs trained at the current rate
        self.bad_epochs = 0
        self.epochs = 0
        self.best_loss = float("inf")  # running best of each metric separately
        self.best_acc = float("-inf")
        self.best = None  # {"epoch", "val_loss", "val_acc"} of the best model
        self.changes = []  # [{"epoch", "lr", "reloaded_epoch"}]
        self.finished = False
        self._trajectory = []  # RLE lrs of the current model's history
        self._best_trajectory = []

    @property
    def lr(self):
        """Learning rate for the next epoch."""
        return self.learning_rates[self.stage]

    def update(self, val_loss, val_acc):
        """update(val_loss, val_acc) -> (is_new_best, action)

        Record one finished epoch trained at :attr:`lr`.
        """
        if self.finished:
            raise RuntimeError("the schedule has already finished")
        val_loss, val_acc = float(val_loss), float(val_acc)
        self.epochs += 1
        _rle_append(self._trajectory, self.lr)
        improved = val_loss < self.best_loss or val_acc > self.best_acc
        self.best_loss = min(self.best_loss, val_loss)
        self.best_acc = max(self.best_acc, val_acc)
        is_best = self.best is None or (val_acc, -val_loss) > (self.best["val_acc"], -self.best["val_loss"])
        if is_best:
            self.best = {"epoch": self.epochs, "val_loss": val_loss, "val_acc": val_acc}
            self._best_trajectory = [list(s) for s in self._trajectory]
        self.bad_epochs = 0 if improved else self.bad_epochs + 1
        self.stage_epochs += 1
        at_least = self.min_epochs[self.stage] if self.min_epochs else 0
        at_most = self.max_epochs[self.stage] if self.max_epochs else None
        plateau = self.bad_epochs >= self.patience and self.stage_epochs >= at_least
        if not plateau and (at_most is None or self.stage_epochs < at_most):
            return is_best, "continue"
        if self.stage + 1 >= len(self.learning_rates):
            self.finished = True
            return is_best, "stop"
        self.stage += 1
        self.bad_epochs = 0
        self.stage_epochs = 0
        self._trajectory = [list(s) for s in self._best_trajectory]
        self.changes.append({"epoch": self.epochs, "lr": self.lr, "reloaded_epoch": self.best["epoch"]})
        return is_best, "decay"

    def recorded_schedule(self):
        """recorded_schedule() -> list of [lr, epochs]

        The run-length-encoded learning rates of the best model's trajectory
        (what phase 2 replays).
        """
        return [list(s) for s in self._best_trajectory]

    def state_dict(self):
        """state_dict() -> dict of JSON types"""
        return {
            "kind": "plateau",
            "learning_rates": self.learning_rates,
            "patience": self.patience,
            "min_epochs": self.min_epochs,
            "max_epochs": self.max_epochs,
            "stage": self.stage,
            "stage_epochs": self.stage_epochs,
            "bad_epochs": self.bad_epochs,
            "epochs": self.epochs,
            "best_loss": self.best_loss if self.best_loss != float("inf") else None,
            "best_acc": self.best_acc if self.best_acc != float("-inf") else None,
            "best": self.best,
            "changes": self.changes,
            "finished": self.finished,
            "trajectory": self._trajectory,
            "best_trajectory": self._best_trajectory,
        }

    @classmethod
    def from_state_dict(cls, state):
        """from_state_dict(state) -> PlateauSchedule"""
        if state.get("kind") != "plateau":
            raise ValueError(f"not a PlateauSchedule state: kind={state.get('kind')!r}")
        self = cls(state["learning_rates"], state["patience"], state.get("min_epochs"), state.get("max_epochs"))
        self.stage = state["stage"]
        self.stage_epochs = state.get("stage_epochs", 0)
        self.bad_epochs = state["bad_epochs"]
        self.epochs = state["epochs"]
        self.best_loss = float("inf") if state["best_loss"] is None else state["best_loss"]
        self.best_acc = float("-inf") if state["best_acc"] is None else state["best_acc"]
        self.best = state["best"]
        self.changes = [dict(c) for c in state["changes"]]
        self.finished = state["finished"]
        self._trajectory = [list(s) for s in state["trajectory"]]
        self._best_trajectory = [list(s) for s in state["best_trajectory"]]
        return self


class ReplaySchedule:
    """ReplaySchedule(segments)

    Phase-2 schedule: ``segments = [[lr, epochs], ...]`` from
    :meth:`PlateauSchedule.recorded_schedule`; epoch :math:`e` (0-based)
    uses the rate of the segment that contains it.
    """

    def __init__(self, segments):
        segments = [[float(lr), int(n)] for lr, n in segments]
        if not segments or sum(n for _, n in segments) < 1:
            raise ValueError("the recorded schedule is empty: phase 1 trained no epoch to replay")
        if any(n < 0 or lr <= 0 for lr, n in segments):
            raise ValueError(f"invalid schedule segments {segments}")
        self.segments = segments
        self.total_epochs = sum(n for _, n in segments)

    def lr_at(self, epoch):
        """lr_at(epoch) -> float: the rate of 0-based epoch ``epoch``."""
        if epoch < 0 or epoch >= self.total_epochs:
            raise IndexError(f"epoch {epoch} outside the replayed schedule of {self.total_epochs} epochs")
        for lr, n in self.segments:
            if epoch < n:
                return lr
            epoch -= n
        raise AssertionError("unreachable")

    def state_dict(self):
        """state_dict() -> dict of JSON types"""
        return {"kind": "replay", "segments": self.segments}

    @classmethod
    def from_state_dict(cls, state):
        """from_state_dict(state) -> ReplaySchedule"""
        if state.get("kind") != "replay":
            raise ValueError(f"not a ReplaySchedule state: kind={state.get('kind')!r}")
        return cls(state["segments"])
