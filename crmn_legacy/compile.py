"""function(inputs, outputs, updates=None, mode=None, cache=None, **kwargs) -- how crmn_legacy compiles PyTensor functions.

:func:`function` is ``pytensor.function`` with our default mode; nothing is
hidden: the result is an ordinary compiled PyTensor function,
``pytensor.dprint`` works on it, and any other mode (``"JAX"``, ``"NUMBA"``, a
``Mode`` object) can be passed.  A plain ``pytensor.function`` would run our
Ops through PyTensor 3's default Numba linker in object mode; compile with
:func:`function`, or pass ``mode=get_mode()``.

Default mode
------------
``DEFAULT_MODE = "CRMN_CVM"`` (:func:`crmn_mode`): PyTensor's C virtual
machine linker (``"cvm"``), in which our Ops run their C code (linked to
OpenBLAS, see :mod:`crmn_legacy.ops.conv`), with the rewrite query
:data:`FAST_QUERY`: PyTensor's ``fast_run``, our Ops' rewrites (tag
:data:`OPS_TAG`, :func:`crmn_legacy.ops.rewrites`), and two quadratic pieces
of ``fast_run`` replaced by linear ones (tag :data:`FAST_TAG`):

* ``inplace_elemwise`` is excluded and :class:`TopoInplaceElemwise` runs at
  its position (50.5) instead: same candidates, accepted by a local test
  against one topological order instead of a whole-graph cycle check per
  attempt;
* PyTensor's ``Supervisor`` is swapped for :class:`FastSupervisor` (same
  check, without a loop over every output on every validation).

On a ResNet-134 training step this cuts rewriting from about 250 s to 35 s
and gives the same rewritten graph (profiles and A/B timings:
``docs/PERFORMANCE.md``).  ``CRMN_MODE`` overrides the default
(``CRMN_MODE=CVM``: PyTensor's own CVM query plus our Ops' rewrites;
``CRMN_MODE=JAX``, ...); a mode passed explicitly is used as given.

Our rewrites are registered in PyTensor's ``optdb`` by
:func:`register_rewrites` the first time :func:`get_mode` runs, never at
import, under tags no PyTensor mode includes: they rewrite only graphs
compiled in a mode :func:`get_mode` made.

Compile settings, cache, deep graphs
------------------------------------
:func:`function` compiles inside
:func:`crmn_legacy.configuration.compile_settings` (Elemwise OpenMP, PyTensor's
BLAS linked to ``scipy-openblas32``; ``pytensor.config`` restored after).
Graph rewriting, not C compilation, is what makes deep networks slow to
compile (PyTensor caches C modules across processes): with a C/VM linker the
rewritten graph is cached (:mod:`crmn_legacy.graph_cache`; ``cache=False`` or
``CRMN_GRAPH_CACHE=off`` turns it off).  Rewriting, gradients and pickling
recurse along the graph, so :func:`function` raises Python's recursion limit
to at least :data:`MIN_RECURSION_LIMIT` (ResNet-134 needs more than 1000).
"""

import os

import pytensor
from pytensor.compile.aliasing import Supervisor
from pytensor.compile.mode import Mode, get_mode as _pt_get_mode, optdb
from pytensor.graph.basic import Constant
from pytensor.graph.fg import Output
from pytensor.graph.rewriting.basic import GraphRewriter, copy_stack_trace
from pytensor.graph.rewriting.db import RewriteDatabaseQuery
from pytensor.graph.utils import InconsistencyError
from pytensor.tensor.rewriting.elemwise import InplaceElemwiseOptimizer

__all__ = ["DEFAULT_MODE", "MIN_RECURSION_LIMIT", "FAST_QUERY", "OPS_TAG", "FAST_TAG", "JAX_TAG", "get_mode", "crmn_mode",
           "function", "register_rewrites", "ensure_recursion_limit", "FastSupervisor", "UseFastSupervisor",
           "TopoInplaceElemwise"]

DEFAULT_MODE = "CRMN_CVM"
#: Recursion limit :func:`function` guarantees (deep residual graphs).
MIN_RECURSION_LIMIT = 100_000


class FastSupervisor(Supervisor):
    """FastSupervisor(protected) -- PyTensor's ``Supervisor`` with a validation that does not grow with the outputs.

    ``Supervisor.on_validate`` (``cycle_detection="regular"``) calls
    ``fgraph.destroyers(r)`` for every protected input and every output, on
    every ``fgraph.validate()``: with the ~1,300 outputs (updates) of the
    ResNet-134 training step and ~11,000 validations that was a third of its
    rewriting time (``docs/PERFORMANCE.md``).  A variable has a
    destroyer exactly when it is a key of the DestroyHandler's ``droot`` map
    (destroyed roots and their views), so the same condition is tested here as
    two C-level set intersections: no protected input and no output may be in
    ``droot``.  Same outcome as ``Supervisor.on_validate``, including the
    ``InconsistencyError``.
    """

    def __init__(self, protected):
        super().__init__(protected)
        self._protected_set = set(self.protected)

    def on_validate(self, fgraph):
        """on_validate(fgraph) -> True; raises ``InconsistencyError`` when a protected input or an output is destroyed."""
        dh = getattr(fgraph, "destroy_handler", None)
        if dh is None or pytensor.config.cycle_detection == "fast":
            return super().on_validate(fgraph)
        droot = dh.refresh_droot_impact()[0]
        if droot and (not self._protected_set.isdisjoint(droot) or not droot.keys().isdisjoint(fgraph.outputs)):
            bad = next(r for r in list(self.protected) + list(fgraph.outputs) if r in droot)
            raise InconsistencyError(f"Trying to destroy a protected variable: {bad}")
        return True


class UseFastSupervisor(GraphRewriter):
    """UseFastSupervisor() -- a rewrite whose only effect is to put a :class:`FastSupervisor` in place of the Supervisor.

    ``FunctionMaker`` attaches PyTensor's ``Supervisor`` before rewriting; a
    ``SequentialGraphRewriter`` calls every member's ``add_requirements``
    before it applies any, so this swap (same ``protected`` list) is in effect
    for every rewrite of the query.  ``apply`` does nothing.
    """

    def add_requirements(self, fgraph):
        """add_requirements(fgraph) -> None: replace a plain ``Supervisor`` by a :class:`FastSupervisor`."""
        sup = getattr(fgraph, "_supervisor", None)
        if type(sup) is not Supervisor:  # none, or already ours
            return
        fgraph.remove_feature(sup)
        del fgraph._supervisor
        fgraph.attach_feature(FastSupervisor(sup.protected))

    def apply(self, fgraph):
        """apply(fgraph) -> None (nothing to do)."""
        return None

    def __repr__(self):
        return "UseFastSupervisor()"


class TopoInplaceElemwise(InplaceElemwiseOptimizer):
    """TopoInplaceElemwise() -- PyTensor's ``inplace_elemwise`` without a whole-graph validation per attempt.

    PyTensor's ``InplaceElemwiseOptimizer`` makes each ``Elemwise`` destroy
    one of its inputs by ``replace_all_validate``: every attempt runs the
    DestroyHandler's cycle check over the whole graph (``orderings`` +
    ``_contains_cycle``), so the pass is quadratic in the graph size.

    Here the same candidates, in the same order and with the same update
    priority (the parent's ``apply`` and ``filter_candidate_pairs`` are used
    unchanged), are accepted by a local test against one topological order
    ``pos`` of the graph, computed once: destroying input ``x`` (view root
    ``r``) of node ``A`` makes every other client ``C`` of ``r`` and of its
    views run before ``A``; if every such ``C`` already precedes ``A`` in
    ``pos``, the new constraints agree with ``pos``, so ``pos`` stays a valid
    order and no cycle can appear.  The in-place node takes ``A``'s place in
    ``pos``, so the argument holds for every later node.  Also refused: a
    constant or ``indestructible`` root, an output in the impact set, and any
    other input of ``A`` aliasing the destroyed one (stricter than the
    DestroyHandler, which tolerates some).  Replacements are made without
    validation; one ``fgraph.validate()`` at the end checks the whole result
    (cycles, protected variables) and, should it ever fail, the pass reverts
    and runs PyTensor's own.  Cost: O(n) plus the clients of each candidate's
    view tree.  It may in-place slightly fewer nodes than PyTensor's
    search (a client that could be moved earlier but is not earlier in
    ``pos`` is refused; measured effect in ``docs/PERFORMANCE.md``).
    """

    def apply(self, fgraph):
        """apply(fgraph) -> dict: the pass (the parent's ``apply`` with the order ``pos``), then one validation."""
        chk = fgraph.checkpoint()
        self._pos = {node: i for i, node in enumerate(fgraph.toposort())}
        self._destroyed = set(fgraph.destroy_handler.refresh_droot_impact()[2])  # roots already destroyed
        try:
            prof = super().apply(fgraph)
        finally:
            del self._pos, self._destroyed
        try:
            fgraph.validate()
        except InconsistencyError:  # pragma: no cover -- the local test above should make this impossible
            import warnings

            warnings.warn("crmn_legacy TopoInplaceElemwise: result inconsistent, running PyTensor's inplace_elemwise",
                          stacklevel=2)
            fgraph.revert(chk)
            prof = InplaceElemwiseOptimizer().apply(fgraph)
        return prof

    def filter_candidate_pairs(self, fgraph, node, protected_inputs):
        """filter_candidate_pairs(fgraph, node, protected_inputs) -> [((o, out), (i, inp)), ...]

        ``pytensor.graph.destroyhandler.inplace_candidates`` without its
        ``has_destroyers`` call (which rebuilds the DestroyHandler's root maps
        after every replacement, quadratic over the pass): the roots this pass
        destroyed are tracked in ``self._destroyed``.  Same candidates.
        """
        view_i = fgraph.destroy_handler.view_i
        roots, cands = {}, []
        for i, inp in enumerate(node.inputs):
            if isinstance(inp, Constant):
                continue
            root, of_protected = inp, False
            while True:
                of_protected = of_protected or root in protected_inputs
                if root not in view_i:
                    break
                root = view_i[root]
            if root in roots:  # two inputs view the same storage: destroy neither
                if roots[root] is not None:
                    cands.remove(roots[root])
                roots[root] = None
            elif not of_protected and root not in self._destroyed:
                cands.append((i, inp))
                roots[root] = (i, inp)
            else:
                roots[root] = None
        return [((o, out), (i, inp)) for o, out in enumerate(node.outputs) for i, inp in cands
                if inp.type == out.type]

    def _safe(self, fgraph, node, i, pos):
        """_safe(fgraph, node, i, pos) -> bool: may ``node`` destroy its input ``i`` (see the class docstring)?"""
        dh = fgraph.destroy_handler
        inp = node.inputs[i]
        root = inp
        while root in dh.view_i:
            root = dh.view_i[root]
        if root in self._destroyed or isinstance(root, Constant) or getattr(root.tag, "indestructible", False):
            return False
        impact, todo = {root}, [root]
        while todo:
            for v in dh.view_o.get(todo.pop(), ()):
                if v not in impact:
                    impact.add(v)
                    todo.append(v)
        for j, other in enumerate(node.inputs):
            if j != i and other in impact:
                return False
        own = self._pos
        for v in impact:
            for client, _ in fgraph.clients[v]:
                if client is node:
                    continue
                if isinstance(client.op, Output):
                    return False
                p = own.get(client)
                if p is None or p >= pos:
                    return False
        return True

    def try_inplace_on_node(self, fgraph, node, candidate_pairs=None, reason="inplace_optimizer",
                            extra_protected_inputs=frozenset()):
        """try_inplace_on_node(fgraph, node, candidate_pairs=None, reason="inplace_optimizer", extra_protected_inputs=frozenset()) -> Apply

        Replace ``node`` (without validation) by an in-place version that
        destroys every candidate input passing :meth:`_safe`, in the order of
        ``candidate_pairs`` (the parent puts update targets first); returns
        the new node, or ``node`` when none passes.  Only valid inside
        :meth:`apply`.
        """
        if candidate_pairs is None:
            protected = self._get_protected_inputs(fgraph)
            protected.update(extra_protected_inputs)
            candidate_pairs = self.filter_candidate_pairs(fgraph, node, protected)
        pos = self._pos.get(node)
        if not candidate_pairs or pos is None:
            return node
        pattern, used, new = {}, set(), None
        for (o, _), (i, _) in candidate_pairs:
            if o in pattern or i in used or not self._safe(fgraph, node, i, pos):
                continue
            trial = dict(pattern)
            trial[o] = [i]
            cand = self.create_inplace_node(node, trial)
            if cand.op.destroy_map != trial:
                continue  # this Op cannot take this pattern
            pattern, new = trial, cand
            used.add(i)
        if new is None:
            return node
        view_i = fgraph.destroy_handler.view_i
        for [i] in pattern.values():
            root = node.inputs[i]
            while root in view_i:
                root = view_i[root]
            self._destroyed.add(root)
        fgraph.replace_all(tuple(zip(node.outputs, new.outputs)), reason=reason)
        copy_stack_trace(node.outputs, new.outputs)
        self._pos[new] = pos
        return new

    def __repr__(self):
        return "TopoInplaceElemwise()"


#: Tag of our Ops' rewrites (:func:`crmn_legacy.ops.rewrites`): every mode :func:`get_mode` returns includes it.
OPS_TAG = "crmn"
#: Tag of this module's two compile-speed rewrites (only in :func:`crmn_mode`).
FAST_TAG = "crmn_fast"
#: Tag of the rewrites only the JAX backend needs (included by ``get_mode("JAX")``).
JAX_TAG = "crmn_jax"

#: This module's rewrites, as :func:`crmn_legacy.ops.rewrites` lists the Ops': (database, name, rewriter, tags, position).
REWRITES = (
    (None, "crmn_fast_supervisor", UseFastSupervisor(), (FAST_TAG,), -0.5),
    (None, "crmn_inplace_elemwise", TopoInplaceElemwise(), (FAST_TAG, "inplace"), 50.5),
)

_registered = False


def register_rewrites():
    """register_rewrites() -> None: add our rewrites to PyTensor's ``optdb`` under our own tags (once).

    Called by :func:`get_mode`, never at import.  The tags (:data:`OPS_TAG`,
    :data:`FAST_TAG`, :data:`JAX_TAG`) are in no PyTensor mode, so the rewrites
    run only in the modes :func:`get_mode` builds: a user's own
    ``pytensor.function`` (``fast_run``, ``FAST_COMPILE``, ``NUMBA``, ``JAX``)
    is not rewritten by them.
    """
    global _registered
    if _registered:
        return
    from .ops import rewrites

    for db, name, rewriter, tags, position in (*REWRITES, *rewrites()):
        target = optdb if db is None else optdb[db]
        if db is None:
            target.register(name, rewriter, *tags, position=position)
        else:
            target.register(name, rewriter, *tags)
    _registered = True


#: The rewrite query of :func:`crmn_mode`: PyTensor's ``fast_run`` plus our Ops' rewrites, with
#: ``inplace_elemwise`` replaced by :class:`TopoInplaceElemwise` and the Supervisor by :class:`FastSupervisor`.
FAST_QUERY = RewriteDatabaseQuery(include=["fast_run", OPS_TAG, FAST_TAG], exclude=["inplace_elemwise"])


def crmn_mode():
    """crmn_mode() -> pytensor.compile.mode.Mode: the ``"CVM"`` linker with :data:`FAST_QUERY` (our default)."""
    register_rewrites()
    return Mode(linker="cvm", optimizer=FAST_QUERY)


def ensure_recursion_limit(limit=MIN_RECURSION_LIMIT):
    """ensure_recursion_limit(limit=100000) -> int: raise ``sys.getrecursionlimit()`` to ``limit`` if lower."""
    import sys

    if sys.getrecursionlimit() < limit:
        sys.setrecursionlimit(limit)
    return sys.getrecursionlimit()


def get_mode(mode=None):
    """get_mode(mode=None) -> pytensor.compile.mode.Mode

    Resolve ``mode``: ``None`` means ``$CRMN_MODE`` or :data:`DEFAULT_MODE`
    (:func:`crmn_mode`); a string names a PyTensor predefined mode, returned
    with our Ops' rewrites included (:data:`OPS_TAG`, and :data:`JAX_TAG` for
    ``"JAX"``); a ``Mode`` is returned as is.
    """
    if mode is None:
        mode = os.environ.get("CRMN_MODE", DEFAULT_MODE)
    if isinstance(mode, Mode):
        return mode
    if mode == "CRMN_CVM":
        return crmn_mode()
    register_rewrites()
    tags = (OPS_TAG, JAX_TAG) if str(mode).upper() == "JAX" else (OPS_TAG,)
    return _pt_get_mode(mode).including(*tags)


def function(inputs, outputs, updates=None, mode=None, cache=None, **kwargs):
    """function(inputs, outputs, updates=None, mode=None, cache=None, **kwargs) -> pytensor Function

    ``pytensor.function`` compiled with :func:`get_mode` ``(mode)`` inside
    :func:`crmn_legacy.configuration.compile_settings` (our C code linked to
    OpenBLAS, OpenMP elementwise loops; ``pytensor.config`` restored after).
    ``cache``: ``None`` (the rewritten-graph cache unless
    ``CRMN_GRAPH_CACHE=off``), ``False``, or a directory.
    """
    from .configuration import compile_settings

    ensure_recursion_limit()
    mode = get_mode(mode)
    with compile_settings():
        if cache is False:
            return pytensor.function(inputs, outputs, updates=updates, mode=mode, **kwargs)
        from .graph_cache import cached_function

        return cached_function(inputs, outputs, updates=updates, mode=mode, cache_dir=cache, **kwargs)
