"""cached_function(inputs, outputs, updates=None, mode=None, cache_dir=None, **kwargs) -- skip graph rewriting on a second compile.

PyTensor caches *compiled C modules* across processes (its compiledir), but
every ``pytensor.function`` call still rewrites the graph, and for a deep
network that is nearly all of the compile time (ResNet-134: minutes).  This
module stores the *rewritten* ``FunctionGraph`` on disk and, when the same
graph is compiled again, links it directly (``FunctionMaker(...,
fgraph=cached, no_fgraph_prep=True)``), so only linking remains (C modules
from the compiledir).

Soundness
---------
* **Key** (:func:`graph_key`): SHA-256 over a canonical description of the
  un-rewritten graph -- every node in topological order (Op class and
  ``__props__``, input positions), every root (explicit input: position, type,
  name; shared variable: type, name, *not* its value; constant: type and the
  bytes of its value), the outputs and which shared variable each update
  writes -- plus the mode (linker, rewrite query), the names of every rewrite
  registered in PyTensor's ``optdb`` (:func:`crmn_legacy.runtime.compile.register_rewrites`
  adds ours, a user's import may add others: a graph rewritten before must
  not be reused after), the PyTensor and NumPy
  versions, ``floatX``, ``openmp`` (the rewrites build Elemwise Ops with it)
  and this file's cache format.  Two graphs with the same
  key compute the same function of their inputs and shared values, so the
  cached rewrite of one is a valid rewrite of the other.  Ops whose props
  ``repr`` carries a memory address are hashed by their pickle instead; an Op
  that cannot be described makes the graph uncacheable (compiled normally).
* **No stale state**: shared variables and explicit inputs are *not* stored:
  the pickle refers to them by position (``persistent_id``) and loading binds
  the graph to the caller's own variables, so the function reads and updates
  the caller's parameters, exactly as a fresh compile would.
* Anything unexpected on load (unpickling error, mismatch) falls back to a
  normal compile, which then rewrites the cache entry.

The cache directory is ``cache_dir``, else ``$CRMN_GRAPH_CACHE``, else
``~/.cache/crmn_legacy/graphs``; ``CRMN_GRAPH_CACHE=off`` disables it.

Stored layout
-------------
An entry is two pickles: the key-description numbers (see :func:`graph_key`'s
``ids``) of the compiled function's inputs, in ``FunctionMaker`` order, which
a hit uses to find the caller's own explicit and shared variables without
cloning the graph (:func:`_direct_args`, :func:`_hit_ins`); then the rewritten
``FunctionGraph``'s ``__dict__`` without its Features (:func:`_graph_state`).
On load, ``FunctionMaker(..., accept_inplace=True)`` attaches a fresh
DestroyHandler (rebuilt from the graph's nodes) and Supervisor, so the VM
linker orders in-place Ops after the readers of what they overwrite exactly
as after a fresh compile.  Entries are written atomically
(:func:`crmn_legacy.utils.atomic_write_bytes`).  A hit on a ResNet-134
training step takes about 9 s instead of a cold compile's 45; what remains is
PyTensor's linking and unpickling (cost breakdown and the history of
``CACHE_FORMAT``: ``docs/PERFORMANCE.md``).
"""

import hashlib
import io
import os
import pathlib
import pickle
import sys
import warnings

import numpy as np
import pytensor
from pytensor.compile.sharedvalue import SharedVariable
from pytensor.graph.basic import Constant, Variable
from pytensor.graph.features import Feature
from pytensor.graph.fg import FunctionGraph
from pytensor.graph.traversal import io_toposort

from ..utils import atomic_write_bytes, atomic_write_text

__all__ = ["cached_function", "graph_key", "default_cache_dir", "CACHE_FORMAT"]

#: Bumped whenever the key or the stored layout changes -- and whenever a change to our Ops (their
#: ``make_node``/``grad``/``infer_shape``) or to the rewrites would rewrite the same graph differently,
#: since the key describes the graph, not the code that rewrites it.
CACHE_FORMAT = 7


def default_cache_dir():
    """default_cache_dir() -> pathlib.Path or None (``None``: caching is off)."""
    env = os.environ.get("CRMN_GRAPH_CACHE")
    if env is not None and env.strip().lower() in ("", "0", "off", "false", "no"):
        return None
    if env:
        return pathlib.Path(env)
    return pathlib.Path.home() / ".cache" / "crmn_legacy" / "graphs"


class Uncacheable(Exception):
    """The graph contains something :func:`graph_key` cannot describe."""


def _op_desc(op):
    props = getattr(op, "__props__", None)
    name = f"{type(op).__module__}.{type(op).__qualname__}"
    if props is not None:
        text = repr(op._props())
        if " at 0x" not in text:
            return f"{name}{text}"
    try:
        return f"{name}#pickle:{hashlib.sha256(pickle.dumps(op, protocol=4)).hexdigest()}"
    except Exception as exc:  # noqa: BLE001
        raise Uncacheable(f"cannot describe Op {op!r}: {exc}") from None


def _const_desc(c):
    data = c.data
    try:
        arr = np.asarray(data)
        if arr.dtype == object:
            raise TypeError
        digest = hashlib.sha256(arr.tobytes()).hexdigest()
        return f"const:{c.type}:{arr.dtype}:{arr.shape}:{digest}"
    except TypeError:
        return f"const:{c.type}:{data!r}"


def _registered_rewrites(db, prefix=""):
    """Names of every rewrite registered in ``db`` and, recursively, its sub-databases (sorted, '/'-joined paths).

    Part of the key: registering a rewrite (ours from :mod:`crmn_legacy.rewrites`, or a
    user's) changes what a compile does, so a graph rewritten without it must not be reused.
    """
    from pytensor.graph.rewriting.db import RewriteDatabase

    names = []
    for name in sorted(db._names):
        names.append(prefix + name)
        for rewriter in db.__db__[name]:
            if isinstance(rewriter, RewriteDatabase):
                names.extend(_registered_rewrites(rewriter, f"{prefix}{name}/"))
    return names


def _mode_desc(mode):
    """The linker and rewrite query of a Mode, without memory addresses, and the registered rewrites."""
    q = mode.provided_optimizer
    if hasattr(q, "include"):
        q = (f"Query(include={sorted(q.include)}, require={sorted(q.require)}, exclude={sorted(q.exclude)}, "
             f"subquery={sorted(q.subquery)}, position_cutoff={q.position_cutoff}, "
             f"extra={[str(r) for r in (q.extra_rewrites or [])]})")
    else:
        q = repr(q)
    if " at 0x" in q:
        raise Uncacheable(f"cannot describe the mode's rewriter {q}")
    linker = mode.linker
    lk = f"{type(linker).__name__}:{getattr(linker, 'c_thunks', '')}:{getattr(linker, 'allow_gc', '')}:" \
         f"{getattr(linker, 'use_cloop', '')}:{getattr(linker, 'lazy', '')}"
    from pytensor.compile import optdb

    rewrites = hashlib.sha256(" ".join(_registered_rewrites(optdb)).encode()).hexdigest()
    return f"mode linker={lk} optimizer={q} rewrites={rewrites}"


def graph_key(explicit, outputs, update_pairs, mode, ids=None):
    """graph_key(explicit, outputs, update_pairs, mode, ids=None) -> str (hex SHA-256)

    ``explicit``: the function's input variables, in order; ``outputs``: its
    output variables; ``update_pairs``: ``[(shared_variable, new_value), ...]``
    in order; ``mode``: the ``Mode``.  ``ids``: a dict, filled with the
    number the description gives each variable (roots included).  See the
    module docstring.
    """
    h = hashlib.sha256()

    debug = os.environ.get("CRMN_GRAPH_CACHE_DEBUG")
    lines = [] if debug else None
    ids = {} if ids is None else ids

    def put(s):
        if lines is not None:
            lines.append(s)
        h.update(s.encode())
        h.update(b"\n")

    put(f"crmn-graph-cache {CACHE_FORMAT} pytensor {pytensor.__version__} numpy {np.__version__} "
        f"floatX {pytensor.config.floatX} openmp {pytensor.config.openmp} python {sys.version_info[:2]}")
    put(_mode_desc(mode))
    for i, v in enumerate(explicit):
        ids[v] = len(ids)
        put(f"in {i} {v.type} {v.name}")
    ends = list(outputs) + [new for _, new in update_pairs]
    roots = list(explicit) + [s for s, _ in update_pairs]
    for node in io_toposort(roots, ends):
        args = []
        for v in node.inputs:
            if v not in ids:
                ids[v] = len(ids)
                if isinstance(v, Constant):
                    put(f"root {ids[v]} {_const_desc(v)}")
                elif isinstance(v, SharedVariable):
                    put(f"root {ids[v]} shared {v.type} {v.name}")
                elif v.owner is None:
                    raise Uncacheable(f"free input variable {v} is not among the function's inputs")
            args.append(str(ids[v]))
        for o in node.outputs:
            ids[o] = len(ids)
        put(f"node {_op_desc(node.op)} ({','.join(args)}) -> {[str(o.type) for o in node.outputs]}")
    for s, _ in update_pairs:
        if s not in ids:
            ids[s] = len(ids)
            put(f"root {ids[s]} shared {s.type} {s.name}")
    for v in ends:
        if v not in ids:  # an output that is itself a root
            ids[v] = len(ids)
            put(f"root {ids[v]} {_const_desc(v) if isinstance(v, Constant) else v.type}")
    put("outputs " + ",".join(str(ids[v]) for v in outputs))
    put("updates " + ",".join(f"{ids[s]}<-{ids[n]}" for s, n in update_pairs))
    if lines is not None:
        atomic_write_text(debug, "\n".join(lines) + "\n")
    return h.hexdigest()


class _Pickler(pickle.Pickler):
    def __init__(self, file, roots):
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self._roots = {id(v): i for i, v in enumerate(roots)}

    def persistent_id(self, obj):
        if isinstance(obj, Variable) and id(obj) in self._roots:
            return ("root", self._roots[id(obj)])
        return None


class _Unpickler(pickle.Unpickler):
    def __init__(self, file, roots):
        super().__init__(file)
        self._roots = roots

    def persistent_load(self, pid):
        kind, i = pid
        if kind != "root":
            raise pickle.UnpicklingError(f"unknown persistent id {pid!r}")
        return self._roots[i]


def _graph_state(fgraph):
    """_graph_state(fgraph) -> dict: what is stored of a rewritten FunctionGraph -- its ``__dict__`` without Features.

    The Features (ShapeFeature, MergeFeature, the Supervisor, the
    DestroyHandler, ...) serve rewriting only and each holds its own maps over
    the whole graph; leaving them out makes the ResNet-134 entry smaller and
    quicker to load and avoids PyTensor's ``Supervisor.on_attach`` formatting
    the whole graph into an ``AlreadyThere`` message (1 s) when the loaded
    graph is linked.  Linking needs the DestroyHandler's orderings (in-place
    Ops after the readers of what they overwrite): ``FunctionMaker`` attaches
    a fresh one, rebuilt from the graph, when the graph has destroyers (see
    :func:`_graph_from_state`).
    """
    return {k: v for k, v in fgraph.__dict__.items()
            if k not in ("_features", "_feature_methods", "_supervisor", "_execute_callbacks_times_dict")
            and not isinstance(v, Feature)}


def _graph_from_state(state):
    """_graph_from_state(state) -> FunctionGraph without Features, for ``FunctionMaker(..., accept_inplace=True)``.

    ``accept_inplace=True`` makes ``FunctionMaker`` attach a DestroyHandler
    (built from the graph, so it knows every view and destroyer) whenever a
    node has a ``destroy_map``, then the Supervisor; the VM linker's schedule
    follows the DestroyHandler's orderings exactly as after a fresh compile.
    """
    fgraph = FunctionGraph.__new__(FunctionGraph)
    fgraph.__dict__.update(state)
    fgraph._features = []
    fgraph._feature_methods = {}
    return fgraph


def _direct_args(inputs, outputs, updates, kwargs):
    """_direct_args(inputs, outputs, updates, kwargs) -> (explicit, out_vars, pairs) or None

    The key's arguments taken from the caller's own variables, without
    ``construct_function_ins_and_outs``'s clone of the whole graph (1.5-3 s
    of a ResNet-134 cache hit).  ``None`` (use the clone) for anything but
    plain input and output Variables, a dict or list of update pairs, and no
    ``givens``.  Sound because the clone is a deterministic function of the
    graph the key describes (same Ops, roots copied over, each update passed
    through its shared variable's ``filter_variable``); shared variables with
    a ``default_update`` are refused later (:func:`cached_function`).
    """
    if kwargs.get("givens"):
        return None
    if not isinstance(inputs, (list, tuple)) or not all(
            isinstance(v, Variable) and not isinstance(v, (Constant, SharedVariable)) for v in inputs):
        return None
    if len(set(inputs)) != len(inputs):
        return None
    outs = list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]
    if not all(isinstance(o, Variable) for o in outs):
        return None
    if updates is None:
        pairs = []
    elif isinstance(updates, dict):
        pairs = list(updates.items())
    else:
        pairs = [tuple(p) for p in updates]
    if not all(len(p) == 2 and isinstance(p[0], SharedVariable) and isinstance(p[1], Variable) for p in pairs):
        return None
    if len({id(s) for s, _ in pairs}) != len(pairs):
        return None
    return list(inputs), outs, pairs


def _hit_ins(roots, explicit, pairs, kwargs):
    """_hit_ins(roots, explicit, pairs, kwargs) -> [In, ...] as ``construct_function_ins_and_outs`` makes them.

    Explicit inputs: ``In(v, strict=False, allow_downcast=...)``; shared
    variables: ``In(v, value=v.container, mutable=<updated>, borrow=True,
    update=..., shared=True)`` (the update is replaced by the stored graph's
    output in :func:`_link_cached`).
    """
    from pytensor.compile.io import In

    upd = {s: u for s, u in pairs}
    expl = set(explicit)
    ins = []
    for v in roots:
        if v in expl:
            ins.append(In(variable=v, strict=False, allow_downcast=kwargs.get("allow_input_downcast")))
        else:
            ins.append(In(variable=v, value=v.container, mutable=v in upd, borrow=True, update=upd.get(v),
                          shared=True))
    return ins


def _fresh_maker_args(inputs, outputs, updates, kwargs):
    from pytensor.compile.rebuild import construct_function_ins_and_outs

    ins, outs = construct_function_ins_and_outs(
        inputs, outputs, updates=updates, givens=kwargs.get("givens"), no_default_updates=False,
        rebuild_strict=kwargs.get("rebuild_strict", True), allow_input_downcast=kwargs.get("allow_input_downcast"))
    return ins, outs


def _check_unused(maker_cls, explicit, out_vars, pairs, on_unused_input):
    """PyTensor's unused-input check (``on_unused_input``) on the un-rewritten graph."""
    from pytensor.compile.io import In, SymbolicOutput

    maker_cls.check_unused_inputs([In(v) for v in explicit],
                                  [SymbolicOutput(o) for o in [*out_vars, *(u for _, u in pairs)]],
                                  on_unused_input)


def _link_cached(maker_cls, fgraph, ins, outs, single, mode, maker_kw):
    """Link a stored rewritten graph (as ``Function.copy`` does): every fgraph
    output, updates included, becomes an output spec, and each updated input's
    ``update`` points at its (rewritten) fgraph output."""
    import copy

    from pytensor.compile.io import SymbolicOutput

    fresh_outs = [outs] if single else list(outs)
    n_out = len(fresh_outs)
    rev = {v: k for k, v in fgraph.update_mapping.items()}
    if n_out + len(rev) != len(fgraph.outputs) or len(ins) != len(fgraph.inputs):
        raise ValueError("cached graph's outputs do not match")
    new_ins = []
    for n, spec in enumerate(ins):
        spec = copy.copy(spec)
        if (spec.update is not None) != (n in rev):
            raise ValueError("cached graph's updates do not match")
        spec.update = fgraph.outputs[rev[n]] if n in rev else None
        new_ins.append(spec)
    new_outs = [SymbolicOutput(o) for o in fgraph.outputs]
    for o_new, o_old in zip(new_outs, fresh_outs):
        o_new.borrow = getattr(o_old, "borrow", False)
    maker = maker_cls(new_ins, new_outs, mode, accept_inplace=True, fgraph=fgraph, no_fgraph_prep=True,
                      **maker_kw)
    maker.unpack_single = single
    return maker.create()


_SUPPORTED = {"name", "on_unused_input", "allow_input_downcast", "trust_input"}


def cached_function(inputs, outputs, updates=None, mode=None, cache_dir=None, **kwargs):
    """cached_function(inputs, outputs, updates=None, mode=None, cache_dir=None, **kwargs) -> pytensor Function

    ``pytensor.function(inputs, outputs, updates=updates, mode=mode,
    **kwargs)``, reusing a stored rewritten graph when one with the same key
    exists (and storing it otherwise).  ``mode`` must be a ``Mode``.  Falls
    back to a plain compile (no caching) for keywords other than ``name``,
    ``on_unused_input``, ``allow_input_downcast``, ``trust_input``, for
    non-C linkers, and for graphs :func:`graph_key` cannot describe.
    """
    from pytensor.compile.maker import FunctionMaker

    cache_dir = default_cache_dir() if cache_dir is None else pathlib.Path(cache_dir)
    plain = lambda: pytensor.function(inputs, outputs, updates=updates, mode=mode, **kwargs)  # noqa: E731
    if cache_dir is None or set(kwargs) - _SUPPORTED or type(mode.linker).__name__ not in ("VMLinker", "CLinker",
                                                                                            "OpWiseCLinker"):
        return plain()
    single = not isinstance(outputs, (list, tuple))
    direct = _direct_args(inputs, outputs, updates, kwargs)
    ids = {}
    ins = outs = None
    try:
        if direct is not None:
            explicit, out_vars, pairs = direct
            key = graph_key(explicit, out_vars, pairs, mode, ids=ids)
            if any(isinstance(v, SharedVariable) and getattr(v, "default_update", None) is not None for v in ids):
                direct = None
        if direct is None:
            ins, outs = _fresh_maker_args(inputs, outputs, updates, kwargs)
            explicit = [i.variable for i in ins if not i.implicit]
            pairs = [(i.variable, i.update) for i in ins if i.update is not None]
            out_vars = [getattr(o, "variable", o) for o in ([outs] if single else outs)]
            ids = {}
            key = graph_key(explicit, out_vars, pairs, mode, ids=ids)
    except Uncacheable:
        return plain()
    path = cache_dir / key[:2] / f"{key}.pkl"
    maker_kw = dict(on_unused_input=kwargs.get("on_unused_input"), name=kwargs.get("name"),
                    trust_input=kwargs.get("trust_input", False))
    by_id = {i: v for v, i in ids.items()}
    if path.is_file():
        try:
            with open(path, "rb") as fh:
                root_ids = pickle.load(fh)
                roots = [by_id[i] for i in root_ids]
                if ins is None:
                    ins = _hit_ins(roots, explicit, pairs, kwargs)
                if [i.variable for i in ins] != roots:
                    raise ValueError("cached graph's inputs do not match")
                fgraph = _graph_from_state(_Unpickler(fh, roots).load())
            if list(fgraph.inputs) != roots:
                raise ValueError("cached graph's inputs do not match")
            # unused inputs are judged on the caller's graph, as a fresh compile does: rewriting
            # may have removed every use of an input (e.g. outputs that are only shapes)
            _check_unused(FunctionMaker, explicit, out_vars, pairs, kwargs.get("on_unused_input"))
            return _link_cached(FunctionMaker, fgraph, ins, outputs if outs is None else outs, single, mode,
                                dict(maker_kw, on_unused_input="ignore"))
        except Exception as exc:  # noqa: BLE001 -- a bad entry: compile afresh and overwrite it
            warnings.warn(f"crmn_legacy graph cache: ignoring {path} ({type(exc).__name__}: {exc})", stacklevel=2)
    if outs is None or ins is None or direct is not None:
        ins, outs = _fresh_maker_args(inputs, outputs, updates, kwargs)
    roots = [i.variable for i in ins]
    maker = FunctionMaker(ins, outs, mode, **maker_kw)
    fn = maker.create()
    try:
        if not all(v in ids for v in roots):
            raise Uncacheable("an input of the compiled graph is not in the key's description")
        buf = io.BytesIO()
        pickle.dump([ids[v] for v in roots], buf, protocol=pickle.HIGHEST_PROTOCOL)
        _Pickler(buf, roots).dump(_graph_state(maker.fgraph))
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(path, buf.getvalue())
    except Exception as exc:  # noqa: BLE001 -- caching is an optimisation only
        warnings.warn(f"crmn_legacy graph cache: cannot store {path} ({type(exc).__name__}: {exc})", stacklevel=2)
    return fn
