"""TrainConfig(...) -- every setting of a training run, with the paper's defaults.

Paper defaults (section 4): SGD with momentum 0.9, weight decay 1e-4,
initial learning rate 0.1, schedule [0.1, 0.01, 0.001] (wide models:
[0.1, 0.01, 0.005, 0.001] with batch 50), batch 100, 10% of the training set
held out for validation (SVHN: 5,000 images of train + extra), CIFAR inputs in
[0, 1] minus the training mean pixel, SVHN GCN, pad-4 random 32x32 crops.
Not given by the paper, our choice: patience :math:`\\beta` = 10 epochs,
weight-decay form "l2" (Lasagne's, no 1/2; see
:mod:`crmn_legacy.regularization`), no horizontal flips.

"Wide" means width k >= 10 (the 160-map models); ``batch_size=None`` and
``lr_schedule=None`` resolve to the wide or default values accordingly.
"""

import dataclasses
import json
from typing import Optional

from ..datasets.registry import names as dataset_names
from .backend import BACKENDS
from .schedule import PAPER_SCHEDULES

__all__ = ["TrainConfig", "WIDE_WIDTH", "PHASES"]

#: Width multiplier from which a model counts as "wide" (paper: 160 maps = 16 x 10).
WIDE_WIDTH = 10
PHASES = ("select", "final", "both")
# settings that may differ between a run and its --resume (they do not change the result; the backend
# changes it only by float32 rounding: both run the same graph, see training.backend)
RESUMABLE_OVERRIDES = ("time_limit", "epochs", "progress", "data_dir", "out", "backend")


@dataclasses.dataclass
class TrainConfig:
    """TrainConfig(model="crmn", depth=32, width=1.0, ..., seed=0, out="runs/crmn")

    Attributes mirror the ``train`` command-line options (see
    :mod:`crmn_legacy.training.cli` for each one's meaning); ``resolved()``
    fills ``batch_size`` and ``lr_schedule`` from the paper's rules.
    """

    model: str = "crmn"
    depth: int = 32
    width: float = 1.0
    depth_convention: str = "he"
    model_options: dict = dataclasses.field(default_factory=dict)
    dataset: str = "cifar100"
    data_dir: Optional[str] = None
    dataset_file: Optional[str] = None
    val_fraction: float = 0.1
    svhn_valid: int = 5000
    train_subset: Optional[int] = None
    val_subset: Optional[int] = None
    test_subset: Optional[int] = None
    mean_mode: str = "per_channel"
    augment: bool = True
    flip: bool = False
    batch_size: Optional[int] = None
    eval_batch_size: int = 500
    lr_schedule: Optional[list] = None
    patience: int = 10
    min_epochs_per_rate: Optional[list] = None
    max_epochs_per_rate: Optional[list] = None
    momentum: float = 0.9
    weight_decay: float = 1e-4
    decay_form: str = "l2"
    epochs: Optional[int] = None
    time_limit: Optional[float] = None
    phase: str = "both"
    test_every: int = 1
    select_test_every: int = 0
    replay_schedule: Optional[list] = None
    seed: int = 0
    out: str = "runs/crmn"
    checkpoint_every_steps: int = 0
    progress: str = "auto"
    backend: str = "c"

    def is_wide(self):
        """is_wide() -> bool: width >= 10 (the paper's 160-map models)."""
        return float(self.width) >= WIDE_WIDTH

    def resolved(self):
        """resolved() -> TrainConfig with ``batch_size`` and ``lr_schedule`` filled in and checked."""
        c = dataclasses.replace(self, model_options=dict(self.model_options))
        if c.batch_size is None:
            c.batch_size = 50 if c.is_wide() else 100
        if c.lr_schedule is None:
            c.lr_schedule = list(PAPER_SCHEDULES["wide" if c.is_wide() else "default"])
        c.lr_schedule = [float(r) for r in c.lr_schedule]
        c.validate()
        return c

    def validate(self):
        """validate() -> None; raises ValueError naming the bad setting."""
        def need(cond, msg):
            if not cond:
                raise ValueError(msg)

        need(self.model in ("resnet", "crmn"), f"--model must be resnet or crmn, got {self.model!r}")
        need(self.phase in PHASES, f"--phase must be one of {PHASES}, got {self.phase!r}")
        need(self.dataset_file is not None or self.dataset in dataset_names(),
             f"--dataset must be one of {', '.join(dataset_names())}, got {self.dataset!r}")
        need(self.mean_mode in ("per_channel", "image", "global"),
             f"--mean-mode must be per_channel, image or global, got {self.mean_mode!r}")
        need(0.0 < self.val_fraction < 1.0, f"--val-fraction must be in (0, 1), got {self.val_fraction}")
        need(self.batch_size is None or self.batch_size >= 1, f"--batch-size must be >= 1, got {self.batch_size}")
        need(self.eval_batch_size >= 1, f"--eval-batch-size must be >= 1, got {self.eval_batch_size}")
        need(self.patience >= 1, f"--patience must be >= 1, got {self.patience}")
        need(0.0 <= self.momentum < 1.0, f"--momentum must be in [0, 1), got {self.momentum}")
        need(self.weight_decay >= 0, f"--weight-decay must be >= 0, got {self.weight_decay}")
        need(self.decay_form in ("l2", "half_l2"), f"--decay-form must be l2 or half_l2, got {self.decay_form!r}")
        need(self.epochs is None or self.epochs >= 1, f"--epochs must be >= 1, got {self.epochs}")
        need(self.time_limit is None or self.time_limit > 0, f"--time-limit must be > 0, got {self.time_limit}")
        need(self.checkpoint_every_steps >= 0, "--checkpoint-every-steps must be >= 0")
        need(self.test_every >= 0, "--test-every must be >= 0")
        need(self.select_test_every >= 0, "--select-test-every must be >= 0")
        if self.lr_schedule is not None:
            for name in ("min_epochs_per_rate", "max_epochs_per_rate"):
                v = getattr(self, name)
                need(v is None or (len(v) == len(self.lr_schedule) and all(int(e) >= 1 for e in v)),
                     f"--{name.replace('_', '-')} needs one epoch count >= 1 per learning rate "
                     f"({len(self.lr_schedule)}), got {v}")
            lo, hi = self.min_epochs_per_rate, self.max_epochs_per_rate
            need(lo is None or hi is None or all(int(a) <= int(b) for a, b in zip(lo, hi)),
                 f"--min-epochs-per-rate {lo} exceeds --max-epochs-per-rate {hi}")
        for name in ("train_subset", "val_subset", "test_subset"):
            v = getattr(self, name)
            need(v is None or v >= 1, f"--{name.replace('_', '-')} must be >= 1, got {v}")
        need(self.backend in BACKENDS, f"--backend must be one of {', '.join(BACKENDS)}, got {self.backend!r}")
        need(self.progress in ("auto", "bar", "lines", "none"),
             f"--progress must be auto, bar, lines or none, got {self.progress!r}")
        if self.replay_schedule is not None:
            segs = self.replay_schedule
            need(all(len(s) == 2 and float(s[0]) > 0 and int(s[1]) >= 0 for s in segs) and
                 sum(int(s[1]) for s in segs) >= 1, f"--replay-schedule needs LR:EPOCHS pairs, got {segs}")
        if self.lr_schedule is not None:
            rates = [float(r) for r in self.lr_schedule]
            need(rates and all(r > 0 for r in rates), f"--lr-schedule needs positive rates, got {rates}")
            need(all(a > b for a, b in zip(rates, rates[1:])),
                 f"--lr-schedule must be strictly decreasing, got {rates}")

    def to_dict(self):
        """to_dict() -> dict of JSON types."""
        return dataclasses.asdict(self)

    def to_json(self):
        """to_json() -> str"""
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, d):
        """from_dict(d) -> TrainConfig; unknown keys raise ValueError."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - names)
        if unknown:
            raise ValueError(f"unknown training settings: {unknown}")
        return cls(**d)
