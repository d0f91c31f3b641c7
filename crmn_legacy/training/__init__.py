"""Training the paper's way: SGD protocol, validation-driven schedule, HDF5 checkpoints that resume exactly.

Modules: :mod:`.config` (``TrainConfig``, paper defaults), :mod:`.schedule`
(``PlateauSchedule``, ``ReplaySchedule``), :mod:`.checkpoint` (HDF5 layout,
atomic writes), :mod:`.data` (splits, subsets, preprocessing),
:mod:`.trainer` (``Trainer``, ``train``), :mod:`.evaluate`
(``evaluate_checkpoint``), :mod:`.progress` (progress line, table, JSON log),
:mod:`.cli` (``python -m crmn_legacy train|evaluate``).

>>> from crmn_legacy.training import TrainConfig, train          # doctest: +SKIP
>>> train(TrainConfig(model="crmn", depth=8, width=1, dataset="cifar10",
...                   train_subset=5000, time_limit=1800, phase="select", out="runs/x"))  # doctest: +SKIP
"""

from .checkpoint import CheckpointError, CheckpointMismatch, check_compatible, load_checkpoint, save_checkpoint
from .config import TrainConfig
from .schedule import PAPER_SCHEDULES, PlateauSchedule, ReplaySchedule

__all__ = [
    "TrainConfig", "PlateauSchedule", "ReplaySchedule", "PAPER_SCHEDULES", "save_checkpoint", "load_checkpoint",
    "check_compatible", "CheckpointError", "CheckpointMismatch", "Trainer", "train", "TrainingDiverged",
    "OutputDirError", "evaluate_checkpoint",
]


def __getattr__(name):
    # the trainer imports the models and layers; load it on first use only
    if name in ("Trainer", "train", "TrainingDiverged", "OutputDirError"):
        from . import trainer

        return getattr(trainer, name)
    if name == "evaluate_checkpoint":
        from .evaluate import evaluate_checkpoint

        return evaluate_checkpoint
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
