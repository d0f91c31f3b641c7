"""MinibatchIterator(X, y, batch_size, ...) -- seeded, resumable minibatches, preprocessed lazily per batch.

Randomness is a pure function of ``(seed, epoch, batch)``:

* the order of epoch ``e`` is ``default_rng([seed, e]).permutation(N)``;
* batch ``b`` of epoch ``e`` is augmented with ``default_rng([seed, e, b, 1])``.

So the whole state is two integers, ``epoch`` and ``batch`` (the number of
batches of that epoch already handed out), and :meth:`~MinibatchIterator.set_state`
from a saved :meth:`~MinibatchIterator.get_state` yields exactly the remaining
batches -- images, order and augmentation -- an uninterrupted run would have.

Measured on the 2-core CPU machine of this project (45,000 CIFAR images,
batch 128, mean subtraction + pad-and-crop): see ``data/README.md`` and
:func:`time_epoch`.
"""

import time

import numpy as np

__all__ = ["MinibatchIterator", "time_epoch"]


class MinibatchIterator:
    """MinibatchIterator(X, y, batch_size, shuffle=True, seed=0, transform=None, augment=None, drop_last=False)

    Iterating yields one epoch of ``(inputs, targets)``: ``inputs`` float32
    (B, C, H, W) = ``augment(transform(X[idx]), rng)``, ``targets`` = ``y[idx]``
    (int32, as the network's symbolic ``ivector`` expects).  Each ``for`` loop
    continues where the previous one stopped: a finished epoch starts the next
    one; an interrupted one (``break``, or a resumed state) continues it.  A
    batch counts as consumed once it has been handed out, so save
    :meth:`get_state` after training on it.

    Parameters
    ----------
    X : numpy.ndarray, (N, C, H, W)
        Images, normally uint8 (kept as they are; converted per batch).
    y : numpy.ndarray, (N,)
        Integer labels.
    batch_size : int
    shuffle : bool
        New seeded random order every epoch; False keeps the stored order.
    seed : int
        Seed of all randomness (order and augmentation).
    transform : callable ``transform(X_batch) -> float32``, optional
        Deterministic preprocessing, e.g. :class:`~crmn_legacy.datasets.preprocessing.Standardize`.
        Default: ``to_unit_range`` for uint8, ``float32`` cast otherwise.
    augment : callable ``augment(batch, rng) -> batch``, optional
        Random augmentation, e.g. :class:`~crmn_legacy.datasets.preprocessing.RandomCrop`.
        It must draw all its randomness from ``rng``.
    drop_last : bool
        Skip the last, smaller batch (False yields it).

    Attributes
    ----------
    epoch : int
        Current epoch (0-based).
    batch : int
        Batches of ``epoch`` already yielded.
    """

    def __init__(self, X, y, batch_size, shuffle=True, seed=0, transform=None, augment=None, drop_last=False):
        if len(X) != len(y):
            raise ValueError(f"X has {len(X)} examples but y has {len(y)}")
        if int(batch_size) < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.X, self.y = X, np.asarray(y).astype(np.int32, copy=False)
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.seed = int(seed)
        self.transform = transform
        self.augment = augment
        self.drop_last = bool(drop_last)
        self.epoch = 0
        self.batch = 0
        self._order_epoch, self._order = None, None

    @property
    def num_examples(self):
        """num_examples -- N."""
        return len(self.y)

    def __len__(self):
        """Number of batches per epoch."""
        n, b = self.num_examples, self.batch_size
        return n // b if self.drop_last else -(-n // b)

    def order(self, epoch):
        """order(epoch) -- the example indices of ``epoch`` in yield order."""
        if self._order_epoch != epoch:
            if self.shuffle:
                self._order = np.random.default_rng([self.seed, epoch]).permutation(self.num_examples)
            else:
                self._order = np.arange(self.num_examples)
            self._order_epoch = epoch
        return self._order

    def get_batch(self, epoch, batch):
        """get_batch(epoch, batch) -- ``(inputs, targets)`` of batch ``batch`` of ``epoch`` (no state change)."""
        idx = self.order(epoch)[batch * self.batch_size:(batch + 1) * self.batch_size]
        if self.shuffle:
            idx = np.sort(idx)  # faster gather; the batch's contents are what matters, its order is random anyway
        xb = self.X[idx]
        if self.transform is not None:
            xb = self.transform(xb)
        elif xb.dtype == np.uint8:
            xb = np.divide(xb, np.float32(255), dtype=np.float32)
        else:
            xb = xb.astype(np.float32, copy=False)
        if self.augment is not None:
            xb = self.augment(xb, np.random.default_rng([self.seed, epoch, batch, 1]))
        return np.ascontiguousarray(xb, dtype=np.float32), self.y[idx]

    def __iter__(self):
        if self.batch >= len(self):
            self.epoch += 1
            self.batch = 0
        epoch = self.epoch
        while self.epoch == epoch and self.batch < len(self):
            out = self.get_batch(epoch, self.batch)
            self.batch += 1  # counted as consumed once handed out
            yield out

    def get_state(self):
        """get_state() -- ``dict`` of plain ints/bools (JSON- and HDF5-attribute friendly) describing the position."""
        return {
            "epoch": int(self.epoch), "batch": int(self.batch), "seed": self.seed,
            "num_examples": int(self.num_examples), "batch_size": self.batch_size,
            "shuffle": self.shuffle, "drop_last": self.drop_last,
        }

    def set_state(self, state):
        """set_state(state) -- continue from a :meth:`get_state` result.

        Raises
        ------
        ValueError
            When the state was saved for different data size, batch size, seed,
            shuffling or ``drop_last`` (resuming would then not reproduce the run).
        """
        for key in ("seed", "num_examples", "batch_size", "shuffle", "drop_last"):
            if key in state and _plain(state[key]) != _plain(self.get_state()[key]):
                raise ValueError(f"iterator state was saved with {key}={_plain(state[key])!r}, "
                                 f"this iterator has {key}={self.get_state()[key]!r}")
        epoch, batch = int(state["epoch"]), int(state["batch"])
        if epoch < 0 or not 0 <= batch <= len(self):
            raise ValueError(f"invalid iterator state: epoch={epoch}, batch={batch} (epoch has {len(self)} batches)")
        self.epoch, self.batch = epoch, batch


def _plain(v):
    return v.item() if isinstance(v, np.generic) else v


def time_epoch(iterator, max_batches=None):
    """time_epoch(iterator, max_batches=None) -- seconds to produce one epoch (or ``max_batches``) and per batch.

    Returns
    -------
    dict
        ``{"seconds": total, "batches": count, "per_batch_ms": ..., "epoch_seconds": extrapolated to len(iterator)}``.
    """
    t0, count = time.perf_counter(), 0
    for _ in iterator:
        count += 1
        if max_batches is not None and count >= max_batches:
            break
    total = time.perf_counter() - t0
    per = total / max(count, 1)
    return {"seconds": total, "batches": count, "per_batch_ms": 1e3 * per, "epoch_seconds": per * len(iterator)}
