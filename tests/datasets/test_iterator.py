"""MinibatchIterator: seeded order, float32 batches, exact mid-epoch resume (augmentation included)."""

import json

import numpy as np
import pytest

from crmn_legacy.datasets.iterator import MinibatchIterator, time_epoch
from crmn_legacy.datasets.preprocessing import RandomCrop, Standardize, compute_mean_pixel


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.integers(0, 256, size=(103, 3, 32, 32), dtype=np.uint8)
    return X, np.arange(103) % 10


def _make(data, **kw):
    X, y = data
    kw.setdefault("transform", Standardize(mean=compute_mean_pixel(X)))
    kw.setdefault("augment", RandomCrop())
    return MinibatchIterator(X, y, 16, seed=7, **kw)


def _run(it, n_epochs):
    out = []
    for _ in range(n_epochs):
        out += [(x.copy(), t.copy()) for x, t in it]
    return out


def test_epoch_covers_every_example_once(data):
    it = _make(data)
    assert len(it) == 7
    batches = list(it)
    assert len(batches) == 7 and [len(t) for _, t in batches] == [16] * 6 + [7]
    x, t = batches[0]
    assert x.dtype == np.float32 and x.shape == (16, 3, 32, 32) and x.flags.c_contiguous and t.dtype == np.int32
    seen = np.concatenate([it.order(0)[i * 16:(i + 1) * 16] for i in range(7)])
    assert np.array_equal(np.sort(seen), np.arange(103))
    assert not np.array_equal(it.order(0), np.arange(103)) and not np.array_equal(it.order(0), it.order(1))
    assert it.epoch == 0 and it.batch == 7
    list(it)
    assert it.epoch == 1


def test_unshuffled_unaugmented_order_and_drop_last(data):
    X, y = data
    it = MinibatchIterator(X, y, 16, shuffle=False, drop_last=True)
    batches = list(it)
    assert len(batches) == 6 == len(it)
    np.testing.assert_array_equal(batches[1][0], X[16:32] / np.float32(255))
    np.testing.assert_array_equal(batches[1][1], y[16:32])


def test_same_seed_same_stream(data):
    a, b = _run(_make(data), 2), _run(_make(data), 2)
    for (xa, ta), (xb, tb) in zip(a, b):
        np.testing.assert_array_equal(xa, xb)
        np.testing.assert_array_equal(ta, tb)


def _take(it, n, into):
    """Train on batches until ``into`` holds ``n`` of them, epoch after epoch, like a training loop."""
    for _ in range(10):
        if len(into) >= n:
            return
        for x, t in it:
            into.append((x.copy(), t.copy()))
            if len(into) >= n:
                return


@pytest.mark.parametrize("n_before", [0, 3, 7, 13, 20])
def test_resume_mid_epoch_matches_uninterrupted(data, n_before):
    reference = _run(_make(data), 3)  # 21 batches
    it = _make(data)
    done = []
    _take(it, n_before, done)
    state = json.loads(json.dumps(it.get_state()))  # plain data: JSON (and HDF5 attributes) can hold it
    del it
    resumed = _make(data)
    resumed.set_state(state)
    _take(resumed, len(reference), done)
    assert len(done) == len(reference)
    for (xa, ta), (xb, tb) in zip(reference, done):
        np.testing.assert_array_equal(xa, xb)
        np.testing.assert_array_equal(ta, tb)
    assert resumed.epoch == 2


def test_state_is_checked(data):
    it = _make(data)
    state = it.get_state()
    other = MinibatchIterator(*data, 32, seed=7)
    with pytest.raises(ValueError, match="batch_size=16"):
        other.set_state(state)
    with pytest.raises(ValueError, match="invalid iterator state"):
        it.set_state(dict(state, batch=99))


def test_time_epoch_reports_the_batches_it_timed(monkeypatch):
    """time_epoch's arithmetic, on a scripted clock (how fast batches come is measured, not asserted:
    data/README.md records it; speed targets belong to benchmarks, not tests)."""
    from types import SimpleNamespace

    from crmn_legacy.datasets import iterator

    X = np.random.default_rng(0).integers(0, 256, size=(2048, 3, 32, 32), dtype=np.uint8)
    it = MinibatchIterator(X, np.zeros(2048, np.int64), 128, transform=Standardize(compute_mean_pixel(X)),
                           augment=RandomCrop())
    ticks = iter([100.0, 100.8])  # 0.8 s from the first tick to the last
    monkeypatch.setattr(iterator, "time", SimpleNamespace(perf_counter=lambda: next(ticks)))
    t = time_epoch(it, max_batches=5)
    assert t["batches"] == 5 and it.batch == 5                       # stopped after 5 of the 16 batches
    assert t["seconds"] == pytest.approx(0.8)
    assert t["per_batch_ms"] == pytest.approx(800 / 5)                # 160 ms each
    assert t["epoch_seconds"] == pytest.approx(0.16 * 16)             # extrapolated to 2048 / 128 batches
    ticks = iter([0.0, 3.2])
    t = time_epoch(it)                                                # the rest of the epoch: 11 batches
    assert t["batches"] == 11 and t["per_batch_ms"] == pytest.approx(3200 / 11)
