"""main_train(argv=None) / main_evaluate(argv=None) -- ``python -m crmn_legacy train|evaluate``.

``train`` runs the paper's protocol (section 4) in one command: phase 1
(``select``) finds the learning-rate schedule on a validation split, phase 2
(``final``) replays it on all training data and reports the test error.  See
:mod:`crmn_legacy.training.trainer` for the output folder and
:mod:`crmn_legacy.training.checkpoint` for the checkpoint layout.

Exit status: 0 success; 2 bad options, unusable output folder or checkpoint;
3 the loss diverged (NaN/inf; the last good checkpoint is kept).

Examples::

    # the paper's protocol for Table 1's CRMN-32, k=1 on CIFAR-100 (GPU-scale)
    python -m crmn_legacy train --model crmn --depth 32 --width 1 --dataset cifar100 --out runs/crmn32

    # a small CPU run: CRMN n=1, k=1 on 5,000 CIFAR-10 images for 30 minutes
    python -m crmn_legacy train --model crmn --depth 8 --width 1 --dataset cifar10 \\
        --data-dir data --train-subset 5000 --val-subset 1000 --test-subset 2000 \\
        --time-limit 30m --phase select --out runs/cpu-crmn8

    # continue it after a crash or kill
    python -m crmn_legacy train --out runs/cpu-crmn8 --resume --time-limit 60m

    python -m crmn_legacy evaluate runs/cpu-crmn8/select/best.h5 --split test
"""

import argparse
import json
import pathlib
import re
import sys

from .backend import add_backend_option
from .._cli import ArgumentParser, fail, positive_int
from ..datasets.registry import names as dataset_names
from ..utils import os_error_text
from .config import RESUMABLE_OVERRIDES, TrainConfig

__all__ = ["main_train", "main_evaluate", "main_export", "build_train_parser", "build_evaluate_parser",
           "parse_duration", "parse_lr_schedule", "parse_replay_schedule"]

_D = TrainConfig()


def parse_duration(text):
    """parse_duration(text) -> seconds: ``"90"``/``"90s"``, ``"30m"``, ``"1.5h"``, ``"1h30m"``."""
    s = str(text).strip().lower()
    try:
        return float(s)
    except ValueError:
        pass
    parts = re.fullmatch(r"(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m)?(?:(\d+(?:\.\d+)?)s)?", s)
    if not s or parts is None or not any(parts.groups()):
        raise argparse.ArgumentTypeError(f"not a duration: {text!r} (use e.g. 90s, 30m, 1.5h, 1h30m)")
    h, m, sec = (float(g) if g else 0.0 for g in parts.groups())
    return 3600 * h + 60 * m + sec


def _number_list(text, convert, what):
    """The comma-separated ``convert`` -ed numbers of ``text``; ArgumentTypeError naming ``what`` when bad or empty."""
    try:
        values = [convert(v) for v in str(text).split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a comma-separated list of {what}: {text!r}") from None
    if not values:
        raise argparse.ArgumentTypeError(f"empty list of {what}")
    return values


def parse_lr_schedule(text):
    """parse_lr_schedule(text) -> list of floats: ``"0.1,0.01,0.001"``."""
    return _number_list(text, float, "learning rates")


def parse_replay_schedule(text):
    """parse_replay_schedule(text) -> [[lr, epochs], ...]: ``"0.1:30,0.01:10"``."""
    try:
        segs = [[float(a), int(b)] for a, b in (seg.split(":") for seg in str(text).split(",") if seg.strip())]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not LR:EPOCHS pairs: {text!r} (e.g. 0.1:30,0.01:10)")
    return segs


def parse_epoch_counts(text):
    """parse_epoch_counts(text) -> list of ints: ``"15,4,1"`` (one per learning rate)."""
    return _number_list(text, int, "epoch counts")


def _model_option(text):
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"--model-option needs KEY=VALUE, got {text!r}")
    key, value = text.split("=", 1)
    try:
        value = json.loads(value)
    except json.JSONDecodeError:
        pass  # a bare string
    return key.strip(), value


def build_train_parser():
    """build_train_parser() -> argparse.ArgumentParser for ``train``."""
    p = ArgumentParser(
        prog="python -m crmn_legacy train", argument_default=argparse.SUPPRESS,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Train a ResNet or CRMN with the protocol of section 4 of Moniz & Pal (2016): SGD, momentum "
                    "0.9, weight decay 1e-4, lr 0.1 lowered along a list whenever neither validation loss nor "
                    "accuracy improved for PATIENCE epochs (best model reloaded), then a second run on all "
                    "training data replaying that schedule, reporting the test error.",
        epilog="Paper defaults are used for every option not given. Output: OUT/config.json, "
               "OUT/select/{last,best}.h5, log.jsonl, schedule.json; OUT/final/{last,final}.h5, log.jsonl, "
               "result.json. For bit-identical --resume, fix the thread counts "
               "(OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1).")
    m = p.add_argument_group("model")
    m.add_argument("--model", choices=("resnet", "crmn"), help=f"architecture (default {_D.model}; paper: both)")
    m.add_argument("--depth", type=int, help=f"layers, 6n+2 (default {_D.depth}, Table 1's CRMN depth)")
    m.add_argument("--width", type=float,
                   help=f"feature-map multiplier k: stages of 16k, 32k, 64k maps (default {_D.width:g}; "
                        "paper: 1, 1.5, 2, 4, 10; 16k must be an integer, e.g. 0.25 -> 4 maps)")
    m.add_argument("--depth-convention", choices=("he", "wrn"),
                   help="'he': depth=6n+2 (default); 'wrn': 6n+4, the paper's '28 layers' wide models")
    m.add_argument("--model-option", type=_model_option, action="append", metavar="KEY=VALUE",
                   help="extra build_model option, VALUE parsed as JSON (e.g. memory_units=100, "
                        "variant=\"preact\", conv_bias=false); keys of the LSTM go to it (b_f=-1 sets the "
                        "forget-gate bias, outgate_nonlinearity=\"tanh\" the prose's output gate); repeatable")
    d = p.add_argument_group("data")
    d.add_argument("--dataset", choices=dataset_names(),
                   help=f"dataset (default {_D.dataset}; paper: all three)")
    d.add_argument("--data-dir", help="folder holding the datasets (default: $CRMN_DATA_DIR, else <repo>/data)")
    d.add_argument("--dataset-file", help="instead of --dataset: an HDF5 file with train/X, train/y, test/X, test/y "
                                          "(uint8 N,C,H,W images), preprocessed like CIFAR")
    d.add_argument("--val-fraction", type=float,
                   help=f"share of the training set held out for validation (default {_D.val_fraction:g}, the "
                        "paper's 10%%; SVHN uses 5,000 images of train+extra instead)")
    d.add_argument("--train-subset", type=int, metavar="N",
                   help="train on a seeded random N images of the training split (at most its size; default: "
                        "all; for CPU runs)")
    d.add_argument("--val-subset", type=int, metavar="N", help="validate on at most N images (default: all)")
    d.add_argument("--test-subset", type=int, metavar="N",
                   help="test on at most N images (default: all 10,000/26,032)")
    d.add_argument("--mean-mode", choices=("per_channel", "image", "global"),
                   help="the 'mean pixel' subtracted from CIFAR inputs in [0, 1]: one mean per colour channel "
                        "(default), the mean image (Lasagne's CIFAR recipe), or one scalar")
    d.add_argument("--no-augment", dest="augment", action="store_false",
                   help="no pad-4 random 32x32 crops (paper: crops on, for all datasets)")
    d.add_argument("--flip", action="store_true", help="also random horizontal flips (paper: no)")
    o = p.add_argument_group("optimisation")
    o.add_argument("--batch-size", type=int,
                   help="minibatch size (default: 100, the paper's; 50 for wide models, width >= 10)")
    o.add_argument("--eval-batch-size", type=int, help=f"batch size for evaluation (default {_D.eval_batch_size})")
    o.add_argument("--lr-schedule", type=parse_lr_schedule, metavar="LR,LR,...",
                   help="decreasing learning rates (default 0.1,0.01,0.001; wide models 0.1,0.01,0.005,0.001 -- "
                        "both the paper's); the run stops after the last")
    o.add_argument("--patience", type=int, metavar="BETA",
                   help=f"beta: epochs without improvement of validation loss or accuracy before the next rate "
                        f"(default {_D.patience}; not given in the paper)")
    o.add_argument("--min-epochs-per-rate", type=parse_epoch_counts, metavar="E,E,...",
                   help="never lower a rate before this many epochs at it (one count per rate; default: no bound, "
                        "the paper's rule alone)")
    o.add_argument("--max-epochs-per-rate", type=parse_epoch_counts, metavar="E,E,...",
                   help="lower a rate (or stop after the last) after this many epochs at it even without a plateau "
                        "(one count per rate; default: no bound). With --min-epochs-per-rate: the schedule "
                        "compressed into a time budget")
    o.add_argument("--momentum", type=float, help=f"momentum mu (default {_D.momentum:g}, paper)")
    o.add_argument("--weight-decay", type=float, help=f"lambda (default {_D.weight_decay:g}, paper)")
    o.add_argument("--decay-form", choices=("l2", "half_l2"),
                   help="how decay enters the loss: 'l2' = lambda*sum(W^2), Lasagne's idiom, gradient 2*lambda*W "
                        "(default); 'half_l2' = lambda/2*sum(W^2), gradient lambda*W (Caffe/Torch)")
    b = p.add_argument_group("budget and protocol")
    b.add_argument("--phase", choices=("select", "final", "both"),
                   help="select: phase 1 on the validation split; final: phase 2 replaying OUT/select/schedule.json "
                        "(or --replay-schedule) on all training data; both: the paper's protocol (default)")
    b.add_argument("--epochs", type=int, help="at most this many epochs per phase (default: until the schedule ends)")
    b.add_argument("--time-limit", type=parse_duration, metavar="DURATION",
                   help="stop a phase at the epoch boundary where the next epoch would exceed DURATION of "
                        "training+evaluation (e.g. 30m, 1h; default: none). Counts across --resume")
    b.add_argument("--replay-schedule", type=parse_replay_schedule, metavar="LR:EPOCHS,...",
                   help="phase 2 schedule to replay instead of the recorded one (e.g. 0.1:40,0.01:12,0.001:6)")
    b.add_argument("--test-every", type=int, metavar="K",
                   help="phase 2: test error every K epochs, the paper's Figure 3 right (default 1; 0 = only at "
                        "the end; also 0 skips the test of phase 1's best model)")
    b.add_argument("--select-test-every", type=int, metavar="K",
                   help="phase 1: also record the test error every K epochs (never used to choose anything; "
                        "Figure 3 right of a run without phase 2; default 0 = never)")
    r = p.add_argument_group("run")
    r.add_argument("--seed", type=int, help=f"seed of weights, validation split, subsets, order and crops "
                                            f"(default {_D.seed})")
    r.add_argument("--out", help=f"output folder (default {_D.out})")
    r.add_argument("--resume", action="store_true", default=False,
                   help="continue the run in --out from its newest checkpoint (settings from OUT/config.json; only "
                        "--time-limit, --epochs, --progress, --data-dir, --backend may change)")
    r.add_argument("--checkpoint-every-steps", type=int, metavar="N",
                   help="also write OUT/<phase>/last.h5 every N steps within an epoch (default 0: at epoch ends)")
    r.add_argument("--progress", choices=("auto", "bar", "lines", "none"),
                   help="progress with ETA on stderr: bar (one carriage-return line), lines (one line per step), "
                        "none; auto = bar when stderr is a terminal (default)")
    add_backend_option(r, more_help="Default c. Checkpoints are the same for both: --resume may switch")
    return p


def _config_from_args(ns):
    given = dict(vars(ns))
    resume = given.pop("resume", False)
    if "model_option" in given:
        given["model_options"] = dict(given.pop("model_option"))
    return given, resume


def _fail(msg, code=2):
    return fail("python -m crmn_legacy train", msg, code)


def main_train(argv=None):
    """main_train(argv=None) -> int: the ``train`` subcommand."""
    from .checkpoint import CheckpointError
    from .trainer import OutputDirError, Trainer, TrainingDiverged, prepare_output_dir

    parser = build_train_parser()
    ns = parser.parse_args(argv)
    given, resume = _config_from_args(ns)
    try:
        if resume:
            out = pathlib.Path(given.get("out", _D.out))
            saved = out / "config.json"
            if not saved.exists():
                return _fail(f"--resume: {saved} does not exist (no run to continue in {out})")
            try:
                config = TrainConfig.from_dict(json.loads(saved.read_text()))
            except ValueError as exc:
                return _fail(f"--resume: {saved} is not a run configuration ({exc})")
            for key, value in given.items():
                old = getattr(config, key)
                if key not in RESUMABLE_OVERRIDES and old != value and not (old is None and value is None):
                    return _fail(f"--resume: {key.replace('_', '-')}={value!r} differs from the run's {old!r}; "
                                 f"only {', '.join(RESUMABLE_OVERRIDES)} may change on resume")
                setattr(config, key, value)
        else:
            config = TrainConfig(**given)
        config = config.resolved()
        prepare_output_dir(config.out)  # report an unwritable folder before loading data or compiling
        trainer = Trainer(config)
        trainer.table.message(f"compiled in {trainer.compile_seconds:.1f}s ({config.backend} backend); {config.model} "
                              f"depth {config.depth} width {config.width:g}; data {trainer.data.name} "
                              f"{len(trainer.data.phase('select').train[1])} train images; out {config.out}")
        results = trainer.run(resume=resume)
    except (OutputDirError, CheckpointError, ValueError) as exc:
        return _fail(str(exc))
    except OSError as exc:  # a full disk or an unreadable file outside the checkpoints (atomic writes keep the old)
        return _fail(os_error_text(exc))
    except TrainingDiverged as exc:
        return _fail(str(exc), code=3)
    except KeyboardInterrupt:
        print("\ninterrupted; continue with --resume", file=sys.stderr)
        return 130
    del results
    return 0


def build_evaluate_parser():
    """build_evaluate_parser() -> argparse.ArgumentParser for ``evaluate``."""
    p = ArgumentParser(
        prog="python -m crmn_legacy evaluate",
        description="Evaluate a training checkpoint (any OUT/<phase>/*.h5) on a split of its dataset, with the "
                    "model, preprocessing and splits recorded in the checkpoint.")
    p.add_argument("checkpoint", help="an HDF5 checkpoint written by 'train'")
    p.add_argument("--split", choices=("test", "valid", "train"), default="test",
                   help="which split (default test; 'valid' is phase 1's validation split)")
    p.add_argument("--data-dir", default=None, help="dataset folder (default: the run's, then $CRMN_DATA_DIR)")
    p.add_argument("--dataset-file", default=None, help="override the run's --dataset-file path")
    p.add_argument("--batch-size", type=positive_int, default=None, help="evaluation batch size (default: the run's)")
    add_backend_option(p, more_help="Default: the run's; any checkpoint evaluates under either")
    p.add_argument("--json", action="store_true", help="print the result as one JSON object")
    return p


def main_evaluate(argv=None):
    """main_evaluate(argv=None) -> int: the ``evaluate`` subcommand."""
    from .checkpoint import CheckpointError
    from .evaluate import evaluate_checkpoint

    ns = build_evaluate_parser().parse_args(argv)
    try:
        res = evaluate_checkpoint(ns.checkpoint, split=ns.split, data_dir=ns.data_dir,
                                  dataset_file=ns.dataset_file, batch_size=ns.batch_size, backend=ns.backend)
    except (CheckpointError, ValueError) as exc:
        return fail("python -m crmn_legacy evaluate", exc)
    except OSError as exc:
        return fail("python -m crmn_legacy evaluate", os_error_text(exc))
    if ns.json:
        print(json.dumps(res, sort_keys=True))
    else:
        print(f"{res['checkpoint']}: {res['model']} depth {res['depth']} width {res['width']:g}, "
              f"{res['phase']} epoch {res['epoch']}; {res['split']} ({res['n']} images): loss {res['loss']:.4f}, "
              f"accuracy {100 * res['acc']:.2f}%, error {100 * res['error']:.2f}%")
    return 0


def main_export(argv=None):
    """main_export(argv=None) -> int: the ``export`` subcommand (weights-only copy of a checkpoint)."""
    from .checkpoint import CheckpointError, export_weights

    p = argparse.ArgumentParser(
        prog="python -m crmn_legacy export",
        description="Write the weights of a checkpoint (parameters and BatchNorm statistics, float32, with the "
                    "preprocessing and configuration; no velocities, no resume state) to a new HDF5 file that "
                    "'evaluate' reads like the checkpoint.")
    p.add_argument("checkpoint", help="a checkpoint written by 'train' (e.g. OUT/select/best.h5)")
    p.add_argument("output", help="the weights file to write (replaced atomically)")
    ns = p.parse_args(argv)
    if pathlib.Path(ns.output).resolve() == pathlib.Path(ns.checkpoint).resolve():
        print("crmn_legacy export: error: the output would replace the checkpoint it reads", file=sys.stderr)
        return 2
    try:
        path = export_weights(ns.checkpoint, ns.output)
    except (CheckpointError, OSError) as exc:
        print(f"crmn_legacy export: error: {exc}", file=sys.stderr)
        return 2
    print(f"{path}: {pathlib.Path(path).stat().st_size / 2**20:.1f} MiB of weights")
    return 0
