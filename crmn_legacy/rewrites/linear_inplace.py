"""Compile-speed rewrites: PyTensor's in-place pass and Supervisor check in linear time.

Two pieces of PyTensor's ``fast_run`` grow quadratically with the graph; in
our default mode (:func:`crmn_legacy.runtime.compile.crmn_mode`) they are
replaced by equivalents that do not:

* :class:`TopoInplaceElemwise` runs at ``inplace_elemwise``'s position (50.5,
  which the mode excludes): same candidates, accepted by a local test
  against one topological order instead of a whole-graph cycle check per
  attempt;
* :class:`UseFastSupervisor` (position -0.5) swaps PyTensor's ``Supervisor``
  for :class:`FastSupervisor` (same check, without a loop over every output
  on every validation).

On a ResNet-134 training step this cuts rewriting from about 250 s to 35 s
and gives the same rewritten graph (``docs/PERFORMANCE.md``).
"""

import pytensor
from pytensor.compile.aliasing import Supervisor
from pytensor.graph.basic import Constant
from pytensor.graph.fg import Output
from pytensor.graph.rewriting.basic import GraphRewriter, copy_stack_trace
from pytensor.graph.utils import InconsistencyError
from pytensor.tensor.rewriting.elemwise import InplaceElemwiseOptimizer

__all__ = ["FastSupervisor", "UseFastSupervisor", "TopoInplaceElemwise", "REWRITES"]


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


#: (database, name, rewriter, tags, position), registered by :func:`crmn_legacy.runtime.compile.register_rewrites`;
#: tag ``crmn_fast`` (:data:`crmn_legacy.runtime.compile.FAST_TAG`): only the default mode includes it.
REWRITES = (
    (None, "crmn_fast_supervisor", UseFastSupervisor(), ("crmn_fast",), -0.5),
    (None, "crmn_inplace_elemwise", TopoInplaceElemwise(), ("crmn_fast", "inplace"), 50.5),
)
