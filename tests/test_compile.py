"""crmn_legacy.compile and the rewritten-graph cache (crmn_legacy.graph_cache)."""

import sys

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest

import crmn_legacy  # noqa: F401
from crmn_legacy import graph_cache
from crmn_legacy.compile import MIN_RECURSION_LIMIT, function, get_mode


def _graph(scale=2.0):
    x = pt.matrix("x")
    w = pytensor.shared(np.ones((3, 2), dtype="float32"), name="w")
    v = pytensor.shared(np.zeros((3, 2), dtype="float32"), name="v")
    y = pt.tanh(pt.dot(x, w)) * scale
    cost = y.sum()
    g = pytensor.grad(cost, w)
    return x, w, v, [y, cost], {v: 0.9 * v - 0.1 * g, w: w + 0.9 * v - 0.1 * g}


def _count_files(path):
    return len(list(path.rglob("*.pkl")))


def test_cache_hit_gives_the_same_function_bound_to_the_callers_shared_variables(tmp_path, monkeypatch):
    calls = []
    real = graph_cache._link_cached
    monkeypatch.setattr(graph_cache, "_link_cached", lambda *a, **k: calls.append(1) or real(*a, **k))
    data = np.arange(6, dtype="float32").reshape(2, 3) / 6
    results = []
    for attempt in range(2):
        x, w, v, outs, upd = _graph()
        f = function([x], outs, updates=upd, cache=tmp_path)
        r = [f(data) for _ in range(2)]
        results.append((r, w.get_value(), v.get_value()))
        w.set_value(np.full((3, 2), 0.5, dtype="float32"))  # the caller's variable feeds the function
        results[-1] += (f(data)[1],)
    assert calls == [1] and _count_files(tmp_path) == 1
    (r1, w1, v1, c1), (r2, w2, v2, c2) = results
    for a, b in zip(r1, r2):
        np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(w1, w2)
    np.testing.assert_array_equal(v1, v2)
    assert c1 == c2
    assert not np.array_equal(w1, np.ones((3, 2)))  # the updates reached the caller's shared variables


def test_single_output_and_no_updates(tmp_path):
    for _ in range(2):
        x = pt.vector("x")
        f = function([x], (x ** 2).sum(), cache=tmp_path)
        assert f(np.array([1, 2], dtype="float32")) == pytest.approx(5.0)
    assert _count_files(tmp_path) == 1


def _key(outs, upd, x, mode=None):
    ins, outs_ = graph_cache._fresh_maker_args([x], outs, upd, {})
    return graph_cache.graph_key([i.variable for i in ins if not i.implicit], outs_,
                                 [(i.variable, i.update) for i in ins if i.update is not None], get_mode(mode))


def test_key_is_deterministic_and_sensitive():
    x, w, v, outs, upd = _graph()
    k1 = _key(outs, upd, x)
    x, w, v, outs, upd = _graph()
    assert _key(outs, upd, x) == k1  # fresh but identical graph: same key
    x, w, v, outs, upd = _graph(scale=3.0)
    assert _key(outs, upd, x) != k1  # a different constant
    x, w, v, outs, upd = _graph()
    assert _key(outs, {w: upd[w]}, x) != k1  # different updates
    x, w, v, outs, upd = _graph()
    assert _key(outs, upd, x, mode=get_mode().excluding("inplace")) != k1  # a different rewrite query


def test_cache_off(tmp_path, monkeypatch):
    monkeypatch.setenv("CRMN_GRAPH_CACHE", "off")
    assert graph_cache.default_cache_dir() is None
    x = pt.vector("x")
    f = function([x], x + 1)
    assert f(np.zeros(2, dtype="float32")).tolist() == [1, 1]


def test_corrupt_entry_falls_back_to_a_fresh_compile(tmp_path):
    x = pt.vector("x")
    function([x], x * 3, cache=tmp_path)
    (entry,) = list(tmp_path.rglob("*.pkl"))
    entry.write_bytes(b"not a pickle")
    x = pt.vector("x")
    with pytest.warns(UserWarning, match="graph cache"):
        f = function([x], x * 3, cache=tmp_path)
    assert f(np.ones(2, dtype="float32")).tolist() == [3, 3]


def test_recursion_limit_is_raised():
    x = pt.vector("x")
    function([x], x + 1, cache=False)
    assert sys.getrecursionlimit() >= MIN_RECURSION_LIMIT
