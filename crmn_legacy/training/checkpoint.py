"""save_checkpoint(path, ...) / load_checkpoint(path) -- HDF5 checkpoints that resume a run exactly.

File layout (format ``crmn_legacy-checkpoint``, ``format_version`` 1)
--------------------------------------------------------------------
Root attributes::

    format              "crmn_legacy-checkpoint"
    format_version      1
    kind                "last" | "best" | "final"  (which file of the run this is)
    phase               "select" (phase 1, validation split) | "final" (phase 2, train+valid)
    epoch               completed epochs of this phase (int)
    step                optimisation steps of this phase so far (int)
    step_in_epoch       steps already done in the current, unfinished epoch (0 at an epoch end)
    lr                  learning rate of the next step (float)
    elapsed_seconds     training wall time of this phase so far (float; used by --time-limit)
    created             ISO-8601 UTC time of writing
    config              the full run configuration, JSON text (see training.config.TrainConfig)
    crmn_legacy_version, pytensor_version, numpy_version, h5py_version, python_version

Groups and datasets::

    /params/<name>        every network parameter by its stable dotted name, BatchNorm running
                          statistics included (e.g. ``stage1.block1.bn1.mean``); float32 arrays.
                          Group attribute ``order``: JSON list of the names in network order.
    /velocities/<name>    momentum velocity v of every *trainable* parameter <name> (same shape).
                          Group attribute ``order``: JSON list.  Absent from a weights-only file
                          (``kind`` "weights", :func:`export_weights`), which evaluates but never resumes.
    /preprocessing/       what turns uint8 images into network input (``Standardize.to_dict()``):
                          dataset ``mean`` (empty when none) and attributes ``gcn``, ``gcn_scale``, ...
    /state/<key>          one UTF-8 JSON text (scalar string dataset) per key:
        schedule            PlateauSchedule / ReplaySchedule ``state_dict()`` (best-so-far, lr changes,
                            recorded schedule, patience counter)
        best                {"epoch", "val_loss", "val_acc", "path"} of the best model so far (or null)
        rng                 {"global": numpy ``Generator.bit_generator.state`` of crmn_legacy.random,
                             "iterator": MinibatchIterator.get_state()}  -- every source of randomness
        epoch_accum         running sums of the unfinished epoch (loss, accuracy, count)
        history             list of the finished epochs' log records (rewrites the log on resume)
        status              {"finished": bool, "stop_reason": str or null, ...}

Atomicity: written with :func:`crmn_legacy.utils.atomic_writer` (a temporary file in the
same folder, ``fsync``, ``os.replace``): a crash or a full disk at any point leaves either the
old or the new checkpoint, never a torn one; a failed write raises :class:`CheckpointError`.
"""

import datetime
import json
import pathlib
import platform
from collections import OrderedDict

import h5py
import numpy as np

from ..utils import atomic_writer, os_error_text

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "Checkpoint",
    "CheckpointError",
    "CheckpointMismatch",
    "save_checkpoint",
    "load_checkpoint",
    "export_weights",
    "check_compatible",
    "versions",
]

FORMAT = "crmn_legacy-checkpoint"
FORMAT_VERSION = 1
_META_KEYS = ("kind", "phase", "epoch", "step", "step_in_epoch", "lr", "elapsed_seconds")


class CheckpointError(RuntimeError):
    """A checkpoint file is missing, unreadable or not ours."""


class CheckpointMismatch(CheckpointError):
    """A checkpoint does not fit the model it is loaded into."""


def versions():
    """versions() -> dict: versions of crmn_legacy, PyTensor, numpy, h5py and Python."""
    import pytensor

    import crmn_legacy

    return {
        "crmn_legacy_version": crmn_legacy.__version__,
        "pytensor_version": pytensor.__version__,
        "numpy_version": np.__version__,
        "h5py_version": h5py.__version__,
        "python_version": platform.python_version(),
    }


class Checkpoint:
    """Checkpoint(params, velocities, meta, state, config, preprocessing, attrs)

    What :func:`load_checkpoint` returns.  ``params`` and ``velocities`` are
    ``OrderedDict`` s ``{name: numpy array}`` in network order; ``meta`` holds
    ``kind, phase, epoch, step, step_in_epoch, lr, elapsed_seconds``;
    ``state`` the decoded ``/state`` JSON texts; ``config`` the decoded
    configuration; ``attrs`` all root attributes (versions included).
    """

    def __init__(self, params, velocities, meta, state, config, preprocessing, attrs):
        self.params = params
        self.velocities = velocities
        self.meta = meta
        self.state = state
        self.config = config
        self.preprocessing = preprocessing
        self.attrs = attrs

    def __repr__(self):
        m = self.meta
        return (f"Checkpoint(kind={m.get('kind')}, phase={m.get('phase')}, epoch={m.get('epoch')}, "
                f"step={m.get('step')}, lr={m.get('lr')}, {len(self.params)} params)")


def _write_named_arrays(group, arrays):
    names = list(arrays)
    for name in names:
        if not name or "/" in name:
            raise CheckpointError(f"parameter name {name!r} cannot be stored (empty or contains '/')")
        group.create_dataset(name, data=np.asarray(arrays[name]))
    group.attrs["order"] = json.dumps(names)


def _read_named_arrays(group):
    names = json.loads(group.attrs["order"])
    return OrderedDict((n, group[n][()]) for n in names)


def save_checkpoint(path, params, velocities, meta, state, config, preprocessing=None):
    """save_checkpoint(path, params, velocities, meta, state, config, preprocessing=None) -> pathlib.Path

    Write a checkpoint atomically (module docstring); :class:`CheckpointError` when it cannot be
    written (the previous file at ``path``, if any, is left as it was).

    Parameters
    ----------
    path : str or os.PathLike
    params : mapping name -> array
        Every parameter incl. BatchNorm statistics, in network order.
    velocities : mapping name -> array, or None
        Momentum velocities keyed by their parameter's name; None writes a
        weights-only file (no ``/velocities`` group).
    meta : dict
        ``kind, phase, epoch, step, step_in_epoch, lr, elapsed_seconds``.
    state : dict
        ``{key: JSON-serialisable}``, stored under ``/state/<key>``.
    config : dict
        The run configuration (JSON-serialisable).
    preprocessing : dict, optional
        ``Standardize.to_dict()``: ``mean`` array plus scalar settings.
    """
    path = pathlib.Path(path)
    missing = [k for k in _META_KEYS if k not in meta]
    if missing:
        raise ValueError(f"checkpoint meta lacks {missing}")
    try:
        with atomic_writer(path, "w+b") as fh:
            with h5py.File(fh, "w") as f:
                f.attrs["format"] = FORMAT
                f.attrs["format_version"] = FORMAT_VERSION
                for k in _META_KEYS:
                    f.attrs[k] = meta[k]
                f.attrs["created"] = datetime.datetime.now(datetime.timezone.utc).isoformat()
                f.attrs["config"] = json.dumps(config, sort_keys=True)
                for k, v in versions().items():
                    f.attrs[k] = v
                _write_named_arrays(f.create_group("params"), params)
                if velocities is not None:
                    _write_named_arrays(f.create_group("velocities"), velocities)
                g = f.create_group("preprocessing")
                for k, v in (preprocessing or {}).items():
                    if isinstance(v, np.ndarray):
                        g.create_dataset(k, data=v)
                    else:
                        g.attrs[k] = v
                s = f.create_group("state")
                for k, v in state.items():
                    s.create_dataset(k, data=json.dumps(v), dtype=h5py.string_dtype("utf-8"))
    except OSError as exc:  # a full disk, a vanished folder, ...
        kept = f"; the previous {path.name} is kept" if path.exists() else ""
        raise CheckpointError(f"cannot write the checkpoint {path}: {os_error_text(exc)}{kept}") from None
    return path



def load_checkpoint(path):
    """load_checkpoint(path) -> Checkpoint

    Raises
    ------
    CheckpointError
        When the file is missing, not HDF5 or not a crmn_legacy checkpoint.
    """
    path = pathlib.Path(path)
    if not path.is_file():
        raise CheckpointError(f"no checkpoint at {path}")
    try:
        f = h5py.File(path, "r")
    except OSError as exc:
        raise CheckpointError(f"{path} is not a readable HDF5 file ({exc})") from exc
    with f:
        if f.attrs.get("format") != FORMAT:
            raise CheckpointError(f"{path} is not a crmn_legacy checkpoint (format={f.attrs.get('format')!r})")
        try:
            return _read_checkpoint(f, path)
        except (KeyError, ValueError, TypeError, OSError) as exc:  # a missing group, bad JSON, a truncated dataset
            raise CheckpointError(f"{path} is a damaged crmn_legacy checkpoint ({type(exc).__name__}: {exc})") \
                from None


def _read_checkpoint(f, path):
    """The :class:`Checkpoint` in the open crmn_legacy HDF5 file ``f``."""
    if int(f.attrs["format_version"]) > FORMAT_VERSION:
        raise CheckpointError(f"{path} has format_version {f.attrs['format_version']}, "
                              f"this crmn_legacy reads up to {FORMAT_VERSION}")
    attrs = {k: (v.item() if isinstance(v, np.generic) else v) for k, v in f.attrs.items()}
    meta = {k: attrs[k] for k in _META_KEYS}
    params = _read_named_arrays(f["params"])
    velocities = _read_named_arrays(f["velocities"]) if "velocities" in f else None
    prep = {}
    for k, v in f["preprocessing"].attrs.items():
        prep[k] = v.item() if isinstance(v, np.generic) else v
    for k in f["preprocessing"]:
        prep[k] = f["preprocessing"][k][()]
    state = {k: json.loads(f["state"][k].asstr()[()]) for k in f["state"]}
    config = json.loads(attrs["config"])
    return Checkpoint(params, velocities, meta, state, config, prep, attrs)


def export_weights(src, dst):
    """export_weights(src, dst) -> pathlib.Path

    Write the weights of checkpoint ``src`` to ``dst``: every parameter and
    BatchNorm statistic (float32), the preprocessing, the configuration and
    the epoch, but no velocities and no resume state (``kind`` "weights").
    ``evaluate`` reads it like any checkpoint; ``train --resume`` refuses it.
    """
    ckpt = load_checkpoint(src)
    meta = dict(ckpt.meta, kind="weights")
    params = OrderedDict((k, np.asarray(v, dtype=np.float32)) for k, v in ckpt.params.items())
    state = {"source": {"kind": ckpt.meta["kind"], "status": ckpt.state.get("status", {}).get("stop_reason"),
                        "best": ckpt.state.get("best")}}
    pathlib.Path(dst).parent.mkdir(parents=True, exist_ok=True)
    return save_checkpoint(dst, params, None, meta, state, ckpt.config, ckpt.preprocessing)


def check_compatible(saved, model, what="parameter"):
    """check_compatible(saved, model, what="parameter") -> None

    Compare a checkpoint's ``{name: array}`` with the model's
    ``[(name, shape), ...]`` in order; raise :class:`CheckpointMismatch`
    naming the **first** parameter whose name or shape differs (or that one
    side lacks).
    """
    saved = list(saved.items())
    model = list(model)
    for i in range(max(len(saved), len(model))):
        if i >= len(saved):
            name, shape = model[i]
            raise CheckpointMismatch(f"checkpoint does not match the model: {what} #{i} {name!r} {tuple(shape)} "
                                     f"of the model is missing from the checkpoint ({len(saved)} {what}s saved, "
                                     f"model has {len(model)})")
        if i >= len(model):
            raise CheckpointMismatch(f"checkpoint does not match the model: {what} #{i} {saved[i][0]!r} of the "
                                     f"checkpoint does not exist in the model ({len(saved)} {what}s saved, "
                                     f"model has {len(model)})")
        (sname, svalue), (mname, mshape) = saved[i], model[i]
        if sname != mname or tuple(np.shape(svalue)) != tuple(mshape):
            raise CheckpointMismatch(
                f"checkpoint does not match the model: first mismatching {what} is #{i}: checkpoint has "
                f"{sname!r} {tuple(np.shape(svalue))}, model has {mname!r} {tuple(mshape)} "
                f"(different architecture? check --model/--depth/--width)")
