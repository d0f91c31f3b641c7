"""evaluate_checkpoint(path, split="test", data_dir=None, dataset_file=None, batch_size=None, backend=None) -- test a checkpoint.

Rebuilds the network from the checkpoint's configuration, loads every
parameter (a checkpoint of another architecture fails naming the first
mismatching parameter), preprocesses with the checkpoint's stored
``/preprocessing`` (the training mean pixel / GCN of that phase) and reports
the mean cross-entropy and the accuracy with deterministic BatchNorm:

.. math::

    L = \\frac{1}{N}\\sum_i -\\log p_{i,y_i}, \\qquad
    A = \\frac{1}{N}\\sum_i [\\arg\\max_k p_{i,k} = y_i], \\qquad \\text{error} = 1 - A.
"""

import dataclasses

import pytensor.tensor as pt

from ..datasets.iterator import MinibatchIterator
from ..datasets.preprocessing import Standardize
from ..layers import get_all_params
from .backend import backend_mode, input_variables
from .checkpoint import check_compatible, load_checkpoint
from .config import TrainConfig
from .data import load_training_data
from .step import compile_evaluation, evaluate_batches

__all__ = ["evaluate_checkpoint"]


def evaluate_checkpoint(path, split="test", data_dir=None, dataset_file=None, batch_size=None, backend=None):
    """evaluate_checkpoint(path, split="test", data_dir=None, dataset_file=None, batch_size=None, backend=None) -> dict

    ``backend``: ``"c"`` or ``"jax"`` (:mod:`crmn_legacy.training.backend`;
    default: the run's); checkpoints do not depend on the backend that wrote
    them.  Returns ``{"checkpoint", "model", "depth", "width", "phase", "epoch", "split", "n", "loss", "acc",
    "error"}``.
    """
    from .trainer import build_network

    ckpt = load_checkpoint(path)
    config = TrainConfig.from_dict(ckpt.config)
    changes = {}
    if data_dir is not None:
        changes["data_dir"] = str(data_dir)
    if dataset_file is not None:
        changes["dataset_file"] = str(dataset_file)
    if backend is not None:
        changes["backend"] = backend
    config = dataclasses.replace(config, **changes).resolved()
    data = load_training_data(config)
    phase = data.phase(ckpt.meta["phase"])
    splits = {"train": phase.train, "valid": phase.valid, "test": phase.test}
    if splits[split] is None:
        raise ValueError(f"a {ckpt.meta['phase']!r} checkpoint has no {split!r} split (phase 2 trains on "
                         "train+valid); use --split test or train")
    X, y = splits[split]
    net = build_network(config, data.input_shape, data.num_classes, input_var=pt.tensor4("inputs"))
    params = get_all_params(net, statistic=None)
    check_compatible(ckpt.params, [(p.name, p.get_value(borrow=True).shape) for p in params])
    for p, v in zip(params, ckpt.params.values()):
        p.set_value(v.astype(p.dtype))
    batch = batch_size or config.eval_batch_size
    static = None if config.backend == "c" else batch  # JAX: one static batch, the last one padded
    x, t = input_variables(config.backend, batch, data.input_shape[1:])
    fn = compile_evaluation(net, mode=backend_mode(config.backend), inputs=x, targets=t)
    transform = Standardize.from_dict(ckpt.preprocessing) if ckpt.preprocessing else phase.transform
    it = MinibatchIterator(X, y, batch, shuffle=False, transform=transform)
    loss, acc = evaluate_batches(fn, it, static)
    n = len(y)
    return {"checkpoint": str(path), "model": config.model, "depth": config.depth, "width": float(config.width),
            "phase": ckpt.meta["phase"], "epoch": int(ckpt.meta["epoch"]), "split": split, "n": n,
            "loss": loss, "acc": acc, "error": 1.0 - acc, "backend": config.backend}
