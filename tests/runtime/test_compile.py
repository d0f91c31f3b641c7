"""crmn_legacy.runtime.compile and the rewritten-graph cache (crmn_legacy.runtime.graph_cache)."""

import sys

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest

import crmn_legacy  # noqa: F401
from crmn_legacy.runtime import graph_cache
from crmn_legacy.runtime.compile import MIN_RECURSION_LIMIT, function, get_mode


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
    x, w, v, outs, upd = _graph()
    assert _key(outs, upd, x, mode=get_mode("CVM")) != k1  # PyTensor's CVM: not our query
    x, w, v, outs, upd = _graph()
    with pytensor.config.change_flags(openmp=not pytensor.config.openmp):
        assert _key(outs, upd, x) != k1  # the rewrites would build Elemwise Ops with another openmp flag


def test_key_sees_newly_registered_rewrites():
    """Regression: a graph rewritten before ``import crmn_legacy.ops`` (which registers the float32 tanh and
    bias rewrites) was reused after it, so the cached graph silently lacked them."""
    from pytensor.compile import optdb
    from pytensor.graph.rewriting.basic import node_rewriter
    from pytensor.tensor.elemwise import Elemwise

    x, w, v, outs, upd = _graph()
    k1 = _key(outs, upd, x)

    @node_rewriter([Elemwise])
    def test_only_noop_rewrite(fgraph, node):
        return False

    optdb["specialize"].register("test_only_noop_rewrite", test_only_noop_rewrite, "fast_run")
    try:
        assert _key(outs, upd, x) != k1
    finally:
        optdb["specialize"].remove_tags("test_only_noop_rewrite", "fast_run", "specialize")
        optdb["specialize"]._names.discard("test_only_noop_rewrite")
        optdb["specialize"].__db__.pop("test_only_noop_rewrite", None)
        optdb["specialize"].__db__[type(test_only_noop_rewrite).__name__].discard(test_only_noop_rewrite)
    assert _key(outs, upd, x) == k1


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


# --- the default mode's rewrite query (crmn_legacy.runtime.compile.FAST_QUERY) ---------------------------------------

from pytensor.compile.aliasing import Supervisor  # noqa: E402
from pytensor.graph.destroyhandler import DestroyHandler  # noqa: E402
from pytensor.graph.fg import FunctionGraph  # noqa: E402
from pytensor.graph.utils import InconsistencyError  # noqa: E402
from pytensor.scalar import add as scalar_add  # noqa: E402
from pytensor.tensor.elemwise import Elemwise  # noqa: E402

from crmn_legacy.rewrites.linear_inplace import FastSupervisor  # noqa: E402
from crmn_legacy.runtime.compile import DEFAULT_MODE, crmn_mode  # noqa: E402


def _names(mode):
    return [getattr(r, "name", None) for r in mode.optimizer.data]


def _destroyers(f):
    return [n for n in f.maker.fgraph.apply_nodes if n.op.destroy_map]


def test_default_query_swaps_the_quadratic_passes_and_keeps_the_rest():
    names = _names(get_mode())
    assert DEFAULT_MODE == "CRMN_CVM" and type(get_mode().linker).__name__ == "VMLinker"
    assert "inplace_elemwise" not in names
    assert "crmn_inplace_elemwise" in names and "crmn_fast_supervisor" in names
    assert set(_names(get_mode("CVM"))) - set(names) == {"inplace_elemwise"}  # nothing else left out
    assert "crmn_inplace_elemwise" not in _names(get_mode().excluding("inplace"))  # tagged "inplace"
    assert "crmn_inplace_elemwise" not in _names(get_mode("FAST_RUN"))  # PyTensor's own modes unchanged
    assert get_mode("CRMN_CVM").provided_optimizer is crmn_mode().provided_optimizer


def _elemwise_graph():
    """Many unfused Elemwise nodes whose inputs have several clients, plus momentum updates."""
    x = pt.matrix("x")
    w = pytensor.shared(np.linspace(-1, 1, 12, dtype="float32").reshape(4, 3), name="w")
    v = pytensor.shared(np.zeros((4, 3), dtype="float32"), name="v")
    h = pt.dot(x, w)
    a = pt.exp(h) + h           # h read twice
    b = pt.tanh(a) * a - h      # a and h read again later
    c = (b * 2 + a) / (1 + pt.abs(h))
    cost = (c ** 2).sum() + (b * a).mean()
    g = pytensor.grad(cost, w)
    v_new = 0.9 * v - 0.1 * g
    return [x], [c, cost, b], {v: v_new, w: w + v_new}, (w, v)


@pytest.mark.parametrize("fusion", [True, False])
def test_default_mode_matches_pytensor_cvm_and_makes_as_many_inplace_nodes(fusion):
    data = np.random.default_rng(0).standard_normal((5, 4)).astype("float32")
    results, counts = [], []
    for mode in (get_mode("CVM"), get_mode()):
        mode = mode if fusion else mode.excluding("fusion")
        ins, outs, upd, (w, v) = _elemwise_graph()
        f = function(ins, outs, updates=upd, mode=mode, cache=False)
        before = data.copy()
        results.append([f(data) for _ in range(3)] + [w.get_value(), v.get_value()])
        np.testing.assert_array_equal(data, before)  # the explicit input is protected
        counts.append(len(_destroyers(f)))
    for a, b in zip(results[0], results[1]):
        for x, y in zip(a if isinstance(a, list) else [a], b if isinstance(b, list) else [b]):
            np.testing.assert_allclose(x, y, rtol=1e-6, atol=1e-7)
    # the fixed-order test may refuse an in-place PyTensor finds by reordering (here 24 of 26 without fusion)
    assert counts[0] > 0 and counts[1] >= 0.9 * counts[0]


def test_dprint_of_a_function_compiled_with_the_default_mode(tmp_path):
    import io

    for _ in range(2):  # fresh compile, then from the graph cache
        ins, outs, upd, _ = _elemwise_graph()
        f = function(ins, outs, updates=upd, cache=tmp_path)
        buf = io.StringIO()
        pytensor.dprint(f, file=buf)
        assert "Elemwise" in buf.getvalue() or "Composite" in buf.getvalue()
        assert _destroyers(f)


def _inplace_add_graph(protect_input, destroy_output):
    x, y = pt.vector("x"), pt.vector("y")
    x2 = x * 2
    target = x2 if destroy_output else x
    out = Elemwise(scalar_add, {0: 0})(target, y)  # destroys its first input
    fg = FunctionGraph([x, y], [out, x2] if destroy_output else [out], clone=False)
    fg.attach_feature(DestroyHandler())
    return fg, [x] if protect_input else []


@pytest.mark.parametrize("protect_input,destroy_output", [(True, False), (False, True), (False, False)])
def test_fast_supervisor_agrees_with_pytensors_supervisor(protect_input, destroy_output):
    verdicts = []
    for cls in (Supervisor, FastSupervisor):
        fg, protected = _inplace_add_graph(protect_input, destroy_output)
        fg.attach_feature(cls(protected))
        try:
            fg.validate()
            verdicts.append("ok")
        except InconsistencyError:
            verdicts.append("refused")
    assert verdicts[0] == verdicts[1] == ("ok" if not (protect_input or destroy_output) else "refused")


@pytest.fixture(scope="module")
def small_resnet_step():
    import pytensor.tensor as pt_

    from crmn_legacy import random as crmn_random
    from crmn_legacy.layers import get_all_param_values
    from crmn_legacy.models import build_model
    from crmn_legacy.training.step import training_step

    crmn_random.set_rng(0)
    net = build_model("resnet", 8, 1, 10, input_var=pt_.tensor4("inputs"))
    return net, training_step(net, learning_rate=0.05), get_all_param_values(net)


def test_small_resnet_training_step_same_as_pytensor_cvm(small_resnet_step):
    """The default mode (FAST_QUERY) computes the same training step as PyTensor's CVM (fast_run)."""
    from crmn_legacy.layers import get_all_param_values, set_all_param_values

    net, step, init = small_resnet_step
    rng = np.random.default_rng(1)
    x = rng.standard_normal((4, 3, 32, 32), dtype=np.float32)
    y = rng.integers(0, 10, 4).astype(np.int32)
    runs = []
    for mode in (get_mode("CVM"), get_mode()):
        set_all_param_values(net, init)
        for vel in step.velocities:
            vel.set_value(np.zeros_like(vel.get_value()))
        f = function(step.inputs, step.outputs, updates=step.updates, mode=mode, cache=False)
        runs.append(([f(x, y) for _ in range(3)], get_all_param_values(net), len(f.maker.fgraph.apply_nodes),
                     len(_destroyers(f))))
    (o0, p0, n0, d0), (o1, p1, n1, d1) = runs
    for a, b in zip(o0, o1):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    for a, b in zip(p0, p1):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert n1 == n0 and d1 >= 0.9 * d0  # ResNet-8: 64 in-place nodes vs PyTensor's 68; ResNet-32, CRMN-32: as many


def test_cache_entry_holds_no_features_and_relinks_with_a_destroy_handler(tmp_path):
    import pickle

    ins, outs, upd, _ = _elemwise_graph()
    f1 = function(ins, outs, updates=upd, cache=tmp_path)
    (entry,) = list(tmp_path.rglob("*.pkl"))

    class _Roots(pickle.Unpickler):
        def persistent_load(self, pid):
            return None

    with open(entry, "rb") as fh:
        root_ids = pickle.load(fh)  # format 3: the inputs' numbers in the key's description, then the graph
        state = _Roots(fh).load()
    assert root_ids[0] == 0 and len(root_ids) == 3  # x, then the shared w and v
    assert isinstance(state, dict) and "apply_nodes" in state
    assert not any(k in state for k in ("_features", "destroy_handler", "shape_feature", "_supervisor"))
    ins, outs, upd, _ = _elemwise_graph()
    f2 = function(ins, outs, updates=upd, cache=tmp_path)
    assert hasattr(f2.maker.fgraph, "destroy_handler") and _destroyers(f2)
    assert len(f2.maker.fgraph.apply_nodes) == len(f1.maker.fgraph.apply_nodes)
    assert graph_cache.CACHE_FORMAT >= 2


def test_a_hit_does_not_clone_the_graph_and_keys_agree_for_dict_and_list_updates(tmp_path, monkeypatch):
    calls = []
    real = graph_cache._fresh_maker_args
    monkeypatch.setattr(graph_cache, "_fresh_maker_args", lambda *a, **k: calls.append(1) or real(*a, **k))
    data = np.arange(6, dtype="float32").reshape(2, 3) / 6
    x, w, v, outs, upd = _graph()
    r1 = function([x], outs, updates=upd, cache=tmp_path)(data)
    assert calls == [1]  # a miss compiles the usual clone
    x, w, v, outs, upd = _graph()
    r2 = function([x], outs, updates=list(upd.items()), cache=tmp_path)(data)  # same pairs, same order
    assert calls == [1] and _count_files(tmp_path) == 1
    for a, b in zip(r1, r2):
        np.testing.assert_array_equal(a, b)


def test_default_update_takes_the_cloning_path(tmp_path, monkeypatch):
    calls = []
    real = graph_cache._fresh_maker_args
    monkeypatch.setattr(graph_cache, "_fresh_maker_args", lambda *a, **k: calls.append(1) or real(*a, **k))
    for _ in range(2):
        x = pt.vector("x")
        c = pytensor.shared(np.float32(0), name="c")
        with pytest.warns(DeprecationWarning):
            c.default_update = c + 1
        f = function([x], x + c, cache=tmp_path)
        assert f(np.zeros(2, dtype="float32")).tolist() == [0, 0] and c.get_value() == 1
    assert len(calls) == 2  # one clone per compile: the direct key is refused


def test_cache_hit_of_a_graph_whose_rewrite_drops_an_input(tmp_path, recwarn):
    """Regression: outputs that are only shapes lose every use of an input when rewritten; the
    hit path judged unused inputs on the rewritten graph, raised UnusedInputError and recompiled
    with a warning.  Unused inputs are judged on the caller's graph, as a fresh compile does."""
    results = []
    for _ in range(2):
        x, g = pt.matrix("x"), pt.vector("g")
        y = x + g.sum()  # its shape is x's: the rewritten graph does not read g
        f = function([x, g], y.shape, cache=tmp_path)
        results.append(tuple(f(np.zeros((2, 3), "float32"), np.zeros(3, "float32"))))
    assert results == [(2, 3), (2, 3)]
    assert not [w for w in recwarn if "graph cache" in str(w.message)]
    x, g = pt.matrix("x"), pt.vector("g")  # a truly unused input still raises, cached or not
    for _ in range(2):
        with pytest.raises(pytensor.compile.UnusedInputError):
            function([x, g], x.sum(), cache=tmp_path)
    assert function([x, g], x.sum(), cache=tmp_path, on_unused_input="ignore")(np.ones((1, 2), "float32"),
                                                                               np.ones(1, "float32")) == 2
