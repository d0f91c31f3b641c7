"""Trainer(config, data=None) and train(config, resume=False) -- the paper's two-phase protocol.

Objective and step (compiled once per process)
----------------------------------------------
.. math::

    J = \\frac{1}{B}\\sum_b -\\log p_{b,y_b} + \\lambda \\sum_{W \\in \\mathcal{R}} \\sum W^2,
    \\qquad v \\leftarrow \\mu v - \\alpha \\nabla J, \\quad \\theta \\leftarrow \\theta + v

(built by :func:`crmn_legacy.training.step.training_step` from
:mod:`crmn_legacy.objectives`, :mod:`crmn_legacy.regularization`,
:mod:`crmn_legacy.updates`), plus the BatchNorm running-average updates; the
learning rate :math:`\\alpha` is a shared variable the schedule sets.

Phases
------
``select`` (phase 1): train on 90% of the training set with
:class:`~crmn_legacy.training.schedule.PlateauSchedule`; after every epoch
evaluate on the validation split; keep ``select/best.h5`` and
``select/last.h5``; at the end write ``select/schedule.json`` (the recorded
schedule) and report the best model's validation (and test) accuracy.
``final`` (phase 2): fresh initial weights (same seed), all training data,
:class:`~crmn_legacy.training.schedule.ReplaySchedule` of the recorded
schedule, test error every ``test_every`` epochs (the paper's Figure 3, right)
and at the end; ``final/last.h5``, ``final/final.h5``, ``final/result.json``.

Output folder ``OUT``::

    OUT/config.json              the resolved configuration
    OUT/select/{last,best}.h5    checkpoints (layout: crmn_legacy.training.checkpoint)
    OUT/select/log.jsonl         one JSON line per epoch
    OUT/select/schedule.json     recorded schedule, lr changes, best epoch, stop reason
    OUT/final/{last,final}.h5, OUT/final/log.jsonl, OUT/final/result.json

Resume: ``run(resume=True)`` continues from the newest ``last.h5``
bit-identically (parameters, BatchNorm statistics, velocities, learning rate,
schedule, iterator position -- the iterator's randomness is a pure function
of ``(seed, epoch, batch)`` -- and the package RNG are all restored).  The
floating-point results must be reproducible too: run with fixed thread counts
(``OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1``, as the SIGKILL test does; the
convolution and BatchNorm Ops use OpenMP) for bit-identical resumes.

Budgets: ``epochs`` caps the epochs of each phase; ``time_limit`` (seconds of
training+evaluation per phase, counted across resumes) stops a phase at an
epoch boundary when the next epoch would not fit (estimated from the mean
epoch time), so a run always stops on a finished, checkpointed epoch.
"""

import json
import math
import os
import pathlib
import statistics
import time

import numpy as np
import pytensor.tensor as pt

from .. import random as crmn_random
from ..utils import atomic_write_json
from ..datasets.iterator import MinibatchIterator
from ..layers import get_all_layers, get_all_params
from .backend import backend_mode, input_variables
from .checkpoint import check_compatible, load_checkpoint, save_checkpoint
from .config import TrainConfig
from .data import load_training_data
from .progress import EpochTable, JsonlLog, ProgressLine, format_duration
from .schedule import PlateauSchedule, ReplaySchedule
from .step import compile_evaluation, compile_training_step, evaluate_batches, training_step

__all__ = ["Trainer", "train", "TrainingDiverged", "OutputDirError", "prepare_output_dir", "build_network"]


BUDGET_REASONS = ("epoch budget", "time limit")


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite; the last good checkpoint is kept."""


class OutputDirError(RuntimeError):
    """The output folder cannot be written, or holds a run that would be overwritten."""


def prepare_output_dir(out):
    """prepare_output_dir(out) -> pathlib.Path

    Create ``out`` and check it is writable by writing and deleting a probe
    file, so an unwritable folder is reported before any training.
    """
    out = pathlib.Path(out)
    probe = out / f".write-test-{os.getpid()}"
    try:
        out.mkdir(parents=True, exist_ok=True)
        with open(probe, "wb") as fh:
            fh.write(b"ok")
            fh.flush()
            os.fsync(fh.fileno())
        probe.unlink()
    except OSError as exc:
        raise OutputDirError(f"output directory {out} is not writable: {exc.strerror or exc}") from exc
    return out


def build_network(config, input_shape, num_classes, input_var=None):
    """build_network(config, input_shape, num_classes, input_var=None) -> softmax output layer

    ``build_model(config.model, config.depth, config.width, num_classes, ...)``
    after seeding :mod:`crmn_legacy.random` with ``config.seed`` (so the
    initial weights are a function of the seed).
    """
    from ..models import build_model

    crmn_random.set_rng(int(config.seed))
    options = model_keywords(config.model_options)
    options.setdefault("input_shape", tuple(input_shape))
    return build_model(config.model, int(config.depth), _width(config.width), num_classes,
                       depth_convention=config.depth_convention, input_var=input_var, **options)


def model_keywords(model_options):
    """model_keywords(model_options) -> dict of :func:`~crmn_legacy.models.build_model` keywords

    Turns ``--model-option KEY=VALUE`` pairs into model keywords: a key of
    :class:`~crmn_legacy.layers.LSTMLayer` (``b_f``, ``outgate_nonlinearity``,
    ...) goes under ``memory_options``, and a number given for one of the
    LSTM's parameters (``b_f=-1``) is the constant initialiser of that value.
    Every other key is passed to the model builder as it is.
    """
    import inspect

    from .. import init
    from ..layers import LSTMLayer
    from ..models.resnet import residual_network

    lstm_keys = set(inspect.signature(LSTMLayer.__init__).parameters) - {"self", "incomings", "name"}
    net_keys = set(inspect.signature(residual_network).parameters)
    options = {}
    memory = dict(model_options.get("memory_options") or {})
    for key, value in model_options.items():
        if key == "memory_options":
            continue
        if key in lstm_keys and key not in net_keys:
            memory[key] = value
        else:
            options[key] = value
    param_keys = {"W_x", "W_h", "w_c", "b_i", "b_f", "b_o", "b_c", "h0", "c0"}
    for key, value in memory.items():
        if key in param_keys and isinstance(value, (int, float)) and not isinstance(value, bool):
            memory[key] = init.Constant(float(value))
    if memory:
        options["memory_options"] = memory
    return options


def _width(w):
    w = float(w)
    return int(w) if w.is_integer() else w


class Trainer:
    """Trainer(config, data=None, stdout=None, stderr=None)

    Build the model, compile the training and evaluation functions once, and
    run the phases of ``config.phase`` with :meth:`run`.

    Parameters
    ----------
    config : TrainConfig or dict
    data : dict, optional
        Splits already in memory (``{"train": (X, y), "test": (X, y)}``, X
        uint8 (N, C, H, W)); default: ``config.dataset_file`` or the named
        dataset from ``config.data_dir``.
    stdout, stderr : text streams
        For the epoch table and the progress line.
    """

    def __init__(self, config, data=None, stdout=None, stderr=None):
        if isinstance(config, dict):
            config = TrainConfig.from_dict(config)
        self.config = config.resolved()
        self.out = prepare_output_dir(self.config.out)  # before anything slow
        self.table = EpochTable(stdout)
        self.progress = ProgressLine(self.config.progress, stderr)
        self.data = load_training_data(self.config, data)
        self._build_and_compile()

    # ------------------------------------------------------------------ set-up
    def _build_and_compile(self):
        c = self.config
        x = pt.tensor4("inputs")
        self.net = build_network(c, self.data.input_shape, self.data.num_classes, input_var=x)
        self.input_var = get_all_layers(self.net)[0].input_var
        self.all_params = get_all_params(self.net, statistic=None)  # incl. BatchNorm statistics
        self.trainable = get_all_params(self.net, trainable=True)
        self.regularizable = get_all_params(self.net, regularizable=True)
        names = [p.name for p in self.all_params]
        if None in names or len(set(names)) != len(names):
            raise RuntimeError("model parameters need unique names for checkpoints")
        self.initial_values = [p.get_value() for p in self.all_params]

        mode = backend_mode(c.backend)
        image_shape = self.data.input_shape[1:]
        # under JAX every input shape is static: training batches are always full (drop_last) and the last
        # evaluation batch of a split is padded up to eval_batch_size (evaluate_batches); None: any size
        self.eval_batch = None if c.backend == "c" else c.eval_batch_size
        xs, ts = input_variables(c.backend, c.batch_size, image_shape)
        step = training_step(self.net, c.lr_schedule[0], c.momentum, c.weight_decay, c.decay_form,
                             targets=ts, inputs=xs)
        self.lr, self.velocities = step.learning_rate, step.velocities
        self.trainable = step.trainable
        t0 = time.perf_counter()
        self.train_fn = compile_training_step(step, mode=mode)
        xe, te = input_variables(c.backend, self.eval_batch, image_shape)
        self.eval_fn = compile_evaluation(self.net, mode=mode, inputs=xe, targets=te)
        self.compile_seconds = time.perf_counter() - t0

    # ------------------------------------------------------------ parameters
    def param_dict(self):
        """param_dict() -> {name: array} of every parameter incl. BatchNorm statistics."""
        return {p.name: np.asarray(p.get_value()) for p in self.all_params}

    def velocity_dict(self):
        """velocity_dict() -> {param name: velocity array}"""
        return {p.name: np.asarray(v.get_value()) for p, v in zip(self.trainable, self.velocities)}

    def set_params(self, values):
        """set_params(values) -> None: ``values`` ``{name: array}`` checked against the model, in order."""
        check_compatible(values, [(p.name, p.get_value(borrow=True).shape) for p in self.all_params])
        for p, v in zip(self.all_params, values.values()):
            p.set_value(np.asarray(v, dtype=p.dtype))

    def _set_velocities(self, values=None):
        if values is None:
            for v in self.velocities:
                v.set_value(np.zeros_like(v.get_value(borrow=True)))
            return
        check_compatible(values, [(p.name, p.get_value(borrow=True).shape) for p in self.trainable],
                         what="velocity")
        for v, a in zip(self.velocities, values.values()):
            v.set_value(np.asarray(a, dtype=v.dtype))

    def _reset_to_initial(self):
        for p, v in zip(self.all_params, self.initial_values):
            p.set_value(v.copy())
        self._set_velocities(None)

    def load_params(self, path):
        """load_params(path) -> Checkpoint: set the model's parameters from a checkpoint file."""
        ckpt = load_checkpoint(path)
        self.set_params(ckpt.params)
        return ckpt

    # ------------------------------------------------------------ evaluation
    def evaluate(self, split, transform):
        """evaluate(split, transform) -> (mean loss, accuracy) of ``(X, y)`` with deterministic BatchNorm."""
        X, y = split
        it = MinibatchIterator(X, y, self.eval_batch or self.config.eval_batch_size, shuffle=False,
                               transform=transform)
        return evaluate_batches(self.eval_fn, it, self.eval_batch)

    # ------------------------------------------------------------ running
    def _phase_dir(self, phase):
        d = self.out / phase
        d.mkdir(parents=True, exist_ok=True)
        return d

    def _phases(self):
        return {"select": ["select"], "final": ["final"], "both": ["select", "final"]}[self.config.phase]

    def run(self, resume=False):
        """run(resume=False) -> dict

        Run the phases of ``config.phase`` (continuing the newest checkpoint
        with ``resume``); returns ``{"select": {...}, "final": {...}}``
        summaries (only the phases run).
        """
        phases = self._phases()
        if not resume:
            for ph in phases:
                if (self.out / ph / "last.h5").exists():
                    raise OutputDirError(f"{self.out} already holds a {ph!r} run ({self.out / ph / 'last.h5'}); "
                                         "pass --resume to continue it or choose another --out")
        if resume and not any((self.out / ph / "last.h5").exists() for ph in phases):
            self.table.message(f"no checkpoint in {self.out}: starting a new run")
        atomic_write_json(self.out / "config.json", self.config.to_dict())
        results = {}
        for ph in phases:
            last = self.out / ph / "last.h5"
            ckpt = load_checkpoint(last) if resume and last.exists() else None
            status = ckpt.state.get("status", {}) if ckpt is not None else {}
            if status.get("finished") and status.get("stop_reason") not in BUDGET_REASONS:
                results[ph] = status["summary"]
                continue
            results[ph] = self._run_phase(ph, ckpt)
            if results[ph].get("stop_reason") == "diverged":
                break
        return results

    def _recorded_schedule(self):
        if self.config.replay_schedule is not None:
            return self.config.replay_schedule
        path = self.out / "select" / "schedule.json"
        if not path.exists():
            raise OutputDirError(f"phase 'final' replays the schedule recorded by phase 'select', but {path} "
                                 "does not exist: run --phase select (or both) first with this --out, "
                                 "or give --replay-schedule")
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)["recorded_schedule"]

    def _run_phase(self, phase, ckpt):
        return _PhaseRun(self, phase, ckpt).run()


class _PhaseRun:
    """One phase of a run: the epoch loop, checkpoints, logs."""

    def __init__(self, trainer, phase, ckpt):
        self.tr, self.phase, self.c = trainer, phase, trainer.config
        self.dir = trainer._phase_dir(phase)
        self.data = trainer.data.phase(phase)
        self.last_path, self.best_path = self.dir / "last.h5", self.dir / "best.h5"
        self.log = JsonlLog(self.dir / "log.jsonl")
        self.iterator = MinibatchIterator(*self.data.train, self.c.batch_size, shuffle=True, seed=self.c.seed,
                                          transform=self.data.transform, augment=self.data.augment,
                                          drop_last=True)
        if len(self.iterator) == 0:
            raise ValueError(f"{len(self.data.train[1])} training images are fewer than one batch of "
                             f"{self.c.batch_size}: lower --batch-size or raise --train-subset")
        self.step_seconds, self.step_medians = [], []  # timing diagnostics of this process (not checkpointed)
        if ckpt is None:
            self._fresh()
        else:
            self._restore(ckpt)

    # -------------------------------------------------------------- state
    def _fresh(self):
        tr = self.tr
        tr._reset_to_initial()
        crmn_random.set_rng(int(self.c.seed) + 1)  # post-build stream (unused by SGD; saved for completeness)
        self.epoch = self.step = self.step_in_epoch = 0
        self.elapsed = 0.0
        self.accum = {"loss": 0.0, "acc": 0.0, "count": 0, "seconds": 0.0}
        self.history = []
        self.best = None
        self.stop_reason = None
        if self.phase == "select":
            self.schedule = PlateauSchedule(self.c.lr_schedule, self.c.patience, self.c.min_epochs_per_rate,
                                            self.c.max_epochs_per_rate)
        else:
            self.schedule = ReplaySchedule(self.tr._recorded_schedule())
        self.log.rewrite([])

    def _restore(self, ckpt):
        tr = self.tr
        if ckpt.velocities is None or "schedule" not in ckpt.state:
            raise OutputDirError(f"{self.last_path} is a weights-only file (no velocities or schedule state): "
                                 "it evaluates but cannot resume a run")
        if ckpt.meta["phase"] != self.phase:
            raise OutputDirError(f"{self.last_path} belongs to phase {ckpt.meta['phase']!r}, not {self.phase!r}")
        tr.set_params(ckpt.params)
        tr._set_velocities(ckpt.velocities)
        m, s = ckpt.meta, ckpt.state
        self.epoch, self.step, self.step_in_epoch = int(m["epoch"]), int(m["step"]), int(m["step_in_epoch"])
        self.elapsed = float(m["elapsed_seconds"])
        self.accum = dict(s["epoch_accum"])
        self.history = list(s["history"])
        self.best = s["best"]
        reason = s["status"].get("stop_reason")
        self.stop_reason = None if reason in BUDGET_REASONS else reason  # a new budget may allow more
        cls = PlateauSchedule if self.phase == "select" else ReplaySchedule
        self.schedule = cls.from_state_dict(s["schedule"])
        self.iterator.set_state(s["rng"]["iterator"])
        gen = np.random.default_rng()
        gen.bit_generator.state = s["rng"]["global"]
        crmn_random.set_rng(gen)
        tr.lr.set_value(np.asarray(m["lr"], dtype=tr.lr.dtype))
        self._last_saved = (self.epoch, self.step)
        self.log.rewrite([self._log_record(r) for r in self.history])
        self.tr.table.message(f"resumed {self.phase} from {self.last_path}: epoch {self.epoch}, "
                              f"step {self.step} (+{self.step_in_epoch} in the unfinished epoch)")

    def _lr_for_epoch(self):
        if self.phase == "select":
            return self.schedule.lr
        return self.schedule.lr_at(self.epoch)

    def _save(self, path, kind, finished=False, summary=None):
        tr = self.tr
        meta = {"kind": kind, "phase": self.phase, "epoch": self.epoch, "step": self.step,
                "step_in_epoch": self.step_in_epoch, "lr": float(tr.lr.get_value()),
                "elapsed_seconds": float(self.elapsed)}
        state = {
            "schedule": self.schedule.state_dict(),
            "best": self.best,
            "rng": {"global": crmn_random.get_rng().bit_generator.state, "iterator": self.iterator.get_state()},
            "epoch_accum": self.accum,
            "history": self.history,
            "status": {"finished": finished, "stop_reason": self.stop_reason, "summary": summary},
        }
        save_checkpoint(path, tr.param_dict(), tr.velocity_dict(), meta, state, self.c.to_dict(),
                        self.data.transform.to_dict())

    def _log_record(self, rec):
        out = dict(rec)
        out["config"] = self.c.to_dict()
        return out

    # -------------------------------------------------------------- loop
    def _should_stop(self):
        if self.phase == "select" and self.schedule.finished:
            return "schedule finished"
        if self.phase == "final" and self.epoch >= self.schedule.total_epochs:
            return "schedule finished"
        if self.c.epochs is not None and self.epoch >= self.c.epochs:
            return "epoch budget"
        if self.c.time_limit is not None and self.step_in_epoch == 0:
            times = [r["epoch_time"] for r in self.history]
            mean = sum(times) / len(times) if times else 0.0
            if self.elapsed + mean > self.c.time_limit:
                return "time limit"
        return None

    def run(self):
        tr, c = self.tr, self.c
        self._t_mark = time.perf_counter()
        while True:
            reason = self._should_stop()
            if reason is not None:
                self.stop_reason = self.stop_reason or reason
                break
            tr.lr.set_value(np.asarray(self._lr_for_epoch(), dtype=tr.lr.dtype))
            self._train_epoch()
            self._end_epoch()
        return self._finish()

    def _tick(self):
        now = time.perf_counter()
        dt = now - self._t_mark
        self._t_mark = now
        self.elapsed += dt
        self.accum["seconds"] += dt

    def _train_epoch(self):
        tr, c = self.tr, self.c
        n = len(self.iterator)
        self.progress_label = f"{self.phase} epoch {self.epoch + 1}"
        tr.progress.start(self.progress_label, n, self.step_in_epoch)
        for xb, yb in self.iterator:
            t_step = time.perf_counter()
            # to host numbers inside the timed span: the JAX backend returns device arrays at once and
            # finishes the step asynchronously, so this is where a step ends under either backend
            ce, acc, obj = (float(v) for v in tr.train_fn(xb, yb))
            self.step_seconds.append(time.perf_counter() - t_step)
            if not (math.isfinite(float(obj)) and math.isfinite(float(ce))):
                tr.progress.finish()
                good = f"{self.last_path} (epoch {self._last_saved[0]}, step {self._last_saved[1]})" \
                    if getattr(self, "_last_saved", None) else "none written yet"
                raise TrainingDiverged(
                    f"the training loss became {float(obj)} at {self.phase} epoch {self.epoch + 1}, step "
                    f"{self.step + 1} (lr {float(tr.lr.get_value()):g}); training stopped. "
                    f"Last good checkpoint: {good}. Try a lower --lr-schedule.")
            self.step += 1
            self.step_in_epoch += 1
            k = len(yb)
            self.accum["loss"] += float(ce) * k
            self.accum["acc"] += float(acc) * k
            self.accum["count"] += k
            tr.progress.update(self.step_in_epoch, float(ce), float(acc), step=self.step)
            if c.checkpoint_every_steps and self.step % c.checkpoint_every_steps == 0 \
                    and self.step_in_epoch < n:
                self._tick()
                self._save(self.last_path, "last")
                self._last_saved = (self.epoch, self.step)
        tr.progress.finish()

    def _end_epoch(self):
        tr, c = self.tr, self.c
        lr = float(tr.lr.get_value())
        rec = {"phase": self.phase, "epoch": self.epoch + 1, "step": self.step, "lr": lr,
               "train_loss": self.accum["loss"] / max(self.accum["count"], 1),
               "train_acc": self.accum["acc"] / max(self.accum["count"], 1),
               "val_loss": None, "val_acc": None, "test_loss": None, "test_acc": None, "note": ""}
        notes = []
        if self.phase == "select":
            vl, va = tr.evaluate(self.data.valid, self.data.transform)
            if not (math.isfinite(vl)):
                raise TrainingDiverged(f"the validation loss became {vl} after {self.phase} epoch {self.epoch + 1}; "
                                       f"training stopped. Last good checkpoint: {self.last_path}")
            rec["val_loss"], rec["val_acc"] = vl, va
            if c.select_test_every and (self.epoch + 1) % c.select_test_every == 0:
                rec["test_loss"], rec["test_acc"] = tr.evaluate(self.data.test, self.data.transform)
            self.epoch += 1
            self.step_in_epoch = 0
            is_best, action = self.schedule.update(vl, va)
            if is_best:
                self.best = {"epoch": self.epoch, "val_loss": vl, "val_acc": va, "path": str(self.best_path)}
                notes.append("best")
            if action == "decay":
                notes.append(f"lr->{self.schedule.lr:g}, reload epoch {self.best['epoch']}")
            elif action == "stop":
                notes.append("schedule done")
        else:
            self.epoch += 1
            self.step_in_epoch = 0
            is_best, action = False, "continue"
            if c.test_every and (self.epoch % c.test_every == 0 or self.epoch == self.schedule.total_epochs):
                rec["test_loss"], rec["test_acc"] = tr.evaluate(self.data.test, self.data.transform)
        self._tick()
        rec["epoch_time"] = self.accum["seconds"]
        # training-step time alone (no evaluation, no data loading): the speed of the model here
        rec["step_seconds_median"] = statistics.median(self.step_seconds) if self.step_seconds else None
        self.step_medians.append(rec["step_seconds_median"])
        self.step_seconds = []
        rec["elapsed"] = self.elapsed
        rec["note"] = "; ".join(notes)
        self.history.append(rec)
        self.accum = {"loss": 0.0, "acc": 0.0, "count": 0, "seconds": 0.0}
        if is_best:
            self._save(self.best_path, "best")
        if action == "decay":
            tr.set_params(load_checkpoint(self.best_path).params)
            tr._set_velocities(None)
            tr.lr.set_value(np.asarray(self.schedule.lr, dtype=tr.lr.dtype))
        self._save(self.last_path, "last")
        self._last_saved = (self.epoch, self.step)
        self.log.append(self._log_record(rec))
        tr.table.print(rec)
        self._t_mark = time.perf_counter()

    def _finish(self):
        tr, c = self.tr, self.c
        summary = {"phase": self.phase, "epochs": self.epoch, "steps": self.step, "stop_reason": self.stop_reason,
                   "elapsed_seconds": self.elapsed,
                   "step_seconds_median": (statistics.median(m for m in self.step_medians if m is not None)
                                           if any(m is not None for m in self.step_medians) else None),
                   "epoch_seconds_mean": (sum(r["epoch_time"] for r in self.history) / len(self.history)
                                          if self.history else None)}
        if self.phase == "select":
            summary["recorded_schedule"] = self.schedule.recorded_schedule()
            summary["lr_changes"] = self.schedule.changes
            summary["best"] = self.best
            summary["schedule_complete"] = self.schedule.finished
            summary["val_acc_curve"] = [r["val_acc"] for r in self.history]
            summary["train_loss_curve"] = [r["train_loss"] for r in self.history]
            summary["test_error_curve"] = [None if r["test_acc"] is None else 1.0 - r["test_acc"]
                                           for r in self.history]
            if self.best is not None:
                current = tr.param_dict()
                tr.set_params(load_checkpoint(self.best_path).params)
                if c.test_every:
                    tl, ta = tr.evaluate(self.data.test, self.data.transform)
                    summary["best_model_test_loss"], summary["best_model_test_acc"] = tl, ta
                tr.set_params(current)
            atomic_write_json(self.dir / "schedule.json", summary)
            msg = (f"select: {self.epoch} epochs ({self.stop_reason}); recorded schedule "
                   f"{summary['recorded_schedule']}; best epoch "
                   f"{self.best['epoch'] if self.best else '-'} val acc "
                   f"{self.best['val_acc'] if self.best else float('nan'):.4f}")
            if "best_model_test_acc" in summary:
                msg += f"; its test acc {summary['best_model_test_acc']:.4f} (not the paper's protocol number)"
        else:
            last = self.history[-1] if self.history else None
            if last is not None and last["test_acc"] is not None:
                tl, ta = last["test_loss"], last["test_acc"]
            else:
                tl, ta = tr.evaluate(self.data.test, self.data.transform)
            summary.update({"replayed_schedule": self.schedule.segments, "test_loss": tl, "test_acc": ta,
                            "test_error": 1.0 - ta, "train_loss_curve": [r["train_loss"] for r in self.history],
                            "test_error_curve": [None if r["test_acc"] is None else 1.0 - r["test_acc"]
                                                 for r in self.history]})
            atomic_write_json(self.dir / "result.json", summary)
            self._save(self.dir / "final.h5", "final", finished=True, summary=summary)
            msg = (f"final: {self.epoch} epochs ({self.stop_reason}) replaying {self.schedule.segments}; "
                   f"test error {100 * (1 - ta):.2f}% (accuracy {100 * ta:.2f}%)")
        self._save(self.last_path, "last", finished=True, summary=summary)
        tr.table.message(msg + f"  [{format_duration(self.elapsed)}]")
        return summary


def train(config, resume=False, data=None, stdout=None, stderr=None):
    """train(config, resume=False, data=None, stdout=None, stderr=None) -> dict

    Python API: ``Trainer(config, data, stdout, stderr).run(resume)``.
    """
    return Trainer(config, data=data, stdout=stdout, stderr=stderr).run(resume=resume)
