"""evaluate_checkpoint(path, split="test", data_dir=None, dataset_file=None, batch_size=None) -- test a checkpoint.

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

from ..compile import function
from ..datasets.iterator import MinibatchIterator
from ..datasets.preprocessing import Standardize
from ..layers import get_all_params, get_output
from ..objectives import categorical_accuracy, categorical_crossentropy
from .checkpoint import check_compatible, load_checkpoint
from .config import TrainConfig
from .data import load_training_data

__all__ = ["evaluate_checkpoint"]


def evaluate_checkpoint(path, split="test", data_dir=None, dataset_file=None, batch_size=None):
    """evaluate_checkpoint(path, split="test", data_dir=None, dataset_file=None, batch_size=None) -> dict

    Returns ``{"checkpoint", "model", "depth", "width", "phase", "epoch", "split", "n", "loss", "acc",
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
    config = dataclasses.replace(config, **changes).resolved()
    data = load_training_data(config)
    phase = data.phase(ckpt.meta["phase"])
    splits = {"train": phase.train, "valid": phase.valid, "test": phase.test}
    if splits[split] is None:
        raise ValueError(f"a {ckpt.meta['phase']!r} checkpoint has no {split!r} split (phase 2 trains on "
                         "train+valid); use --split test or train")
    X, y = splits[split]
    x, t = pt.tensor4("inputs"), pt.ivector("targets")
    net = build_network(config, data.input_shape, data.num_classes, input_var=x)
    params = get_all_params(net, statistic=None)
    check_compatible(ckpt.params, [(p.name, p.get_value(borrow=True).shape) for p in params])
    for p, v in zip(params, ckpt.params.values()):
        p.set_value(v.astype(p.dtype))
    det = get_output(net, deterministic=True)
    fn = function([x, t], [categorical_crossentropy(det, t).sum(), categorical_accuracy(det, t).sum()])
    transform = Standardize.from_dict(ckpt.preprocessing) if ckpt.preprocessing else phase.transform
    it = MinibatchIterator(X, y, batch_size or config.eval_batch_size, shuffle=False, transform=transform)
    loss, correct = 0.0, 0.0
    for xb, yb in it:
        ls, cs = fn(xb, yb)
        loss += float(ls)
        correct += float(cs)
    n = len(y)
    return {"checkpoint": str(path), "model": config.model, "depth": config.depth, "width": float(config.width),
            "phase": ckpt.meta["phase"], "epoch": int(ckpt.meta["epoch"]), "split": split, "n": n,
            "loss": loss / n, "acc": correct / n, "error": 1.0 - correct / n}
