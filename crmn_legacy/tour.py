"""python -m crmn_legacy tour [--step N] [--list] -- a guided tour of symbolic autodiff through a CRMN.

Six numbered steps walk through what PyTensor does with the CRMN of the paper
(section 3.2): the LSTM over depth (eqs. 2-7) as a symbolic graph, the
gradient graph and what the rewrites make of it, a finite-difference check,
the two paths by which the gradient reaches a residual block, the C code of
our convolution Op, and the same function compiled by JAX.  Every number
printed is computed when the step runs; ``docs/TOUR.md`` explains what to
look for.

Each step is a function ``step(ctx, say) -> dict``: it prints its
explanation and output through ``say`` and returns the facts it computed
(the tests check them).  :class:`TourContext` builds, once and lazily, what
the steps share: a tiny CRMN (n=1, k=0.25: 4/8/16 maps, 8x8 inputs, H=6
memory units, 5 classes, batch 2) in float64 so that finite differences are
meaningful, and ONE compiled function (steps 2-4 and 6 reuse it; compiling
is the expensive part).
"""

import argparse
import collections
import os
import re
import sys
import textwrap
import time
import warnings

import numpy as np
import pytensor
import pytensor.tensor as pt
from pytensor.compile.sharedvalue import SharedVariable
from pytensor.graph.basic import Constant
from pytensor.graph.fg import FunctionGraph
from pytensor.graph.replace import clone_replace
from pytensor.graph.traversal import applys_between, graph_inputs
from pytensor.scalar.basic import Composite
from pytensor.tensor.basic import tensor_copy
from pytensor.tensor.elemwise import Elemwise

from .runtime import compile as crmn_compile
from . import layers, objectives
from .models import crmn
from .ops import Conv2d
from .random import get_rng, set_rng

__all__ = ["TourContext", "STEPS", "run_tour", "main"]

CONV_PARAM = "stage1.block1.conv1.W"   # a convolution inside the first residual block
GATE_PARAM = "memory.W_xi"             # the input-gate weights W_xi of eq. 2
BLOCK = "stage1.block1"                # the first residual block, x_1 of eq. 1
EQUATIONS = {"i_l": 2, "f_l": 3, "o_l": 4, "c_l": 5, "s_l": 6, "h_l": 7}


class TourContext:
    """TourContext(seed=0, batch=2, image=8, k=0.25, memory_units=6, num_classes=5, dtype="float64")

    What the steps share, built on first use: the network ``net``, the
    symbolic ``loss`` and gradients, the data ``X``, ``Y`` and the compiled
    function ``fn`` (outputs :attr:`OUTPUTS`).
    """

    #: Names of the outputs of :attr:`fn`, in order.
    OUTPUTS = ("loss", "dL/dW_conv", "dL/dW_xi", "dL/dx1_res", "dL/dx1_mem", "dL/dx1")

    def __init__(self, seed=0, batch=2, image=8, k=0.25, memory_units=6, num_classes=5, dtype="float64"):
        self.seed, self.dtype = seed, dtype
        saved_rng = get_rng()
        set_rng(seed)   # reproducible initial weights; the package's generator is restored below
        with pytensor.config.change_flags(floatX=dtype):
            # static data shapes: jax.jit (step 6) needs them, and the rewrites fold what depends only on them
            self.x = pt.tensor("x", dtype=dtype, shape=(batch, 3, image, image))
            self.y = pt.tensor("y", dtype="int32", shape=(batch,))
            self.net = crmn(1, k, num_classes=num_classes, input_var=self.x, input_shape=(None, 3, image, image),
                            memory_units=memory_units)
        set_rng(saved_rng)
        self.layers = {layer.name: layer for layer in layers.get_all_layers(self.net)}
        self.params = {p.name: p for p in layers.get_all_params(self.net, trainable=True)}
        self.memory = self.layers["memory"]
        rng = np.random.default_rng(seed)
        self.X = rng.normal(size=(batch, 3, image, image)).astype(dtype)
        self.Y = rng.integers(0, num_classes, size=batch).astype("int32")
        self._symbolic = None
        self._fn = None
        self.compile_seconds = None

    # ------------------------------------------------------------------ symbolic graph
    @property
    def symbolic(self):
        """dict: ``outputs`` (the symbolic :attr:`OUTPUTS`), ``x1``, ``x1_res``, ``x1_mem``, ``W_conv``, ``W_gate``."""
        if self._symbolic is None:
            self._symbolic = self._build()
        return self._symbolic

    def _build(self):
        block = self.layers[f"{BLOCK}.relu"]   # x_1 = ReLU(x_0 + f(x_0)), eq. 1
        pool = self.layers[f"{BLOCK}.pool"]    # the LSTM's view of x_1 (2x2 mean pool)
        x1 = layers.get_output(block, deterministic=True)
        # Two copies of x_1: one for each consumer.  dL/dx1_res is the gradient that
        # arrives through the residual stack, dL/dx1_mem the one through the LSTM.
        x1_res, x1_mem = tensor_copy(x1), tensor_copy(x1)
        x1.name, x1_res.name, x1_mem.name = "x1", "x1_res", "x1_mem"
        probs = layers.get_output(self.net, deterministic=True,
                                  inputs={block: x1_res, pool: pool.get_output_for(x1_mem)})
        loss = objectives.categorical_crossentropy(probs, self.y).mean()
        loss.name = "loss"
        W_conv, W_gate = self.params[CONV_PARAM], self.params[GATE_PARAM]
        grads = pytensor.grad(loss, [W_conv, W_gate, x1_res, x1_mem, x1])
        for g, name in zip(grads, self.OUTPUTS[1:]):
            g.name = name
        return dict(outputs=[loss, *grads], x1=x1, x1_res=x1_res, x1_mem=x1_mem, W_conv=W_conv, W_gate=W_gate)

    @property
    def fn(self):
        """The compiled function ``fn(X, Y) -> [loss, dL/dW_conv, dL/dW_xi, dL/dx1_res, dL/dx1_mem, dL/dx1]``."""
        if self._fn is None:
            start = time.perf_counter()
            self._fn = crmn_compile.function([self.x, self.y], self.symbolic["outputs"])
            self.compile_seconds = time.perf_counter() - start
        return self._fn

    def values(self):
        """values() -> dict {output name: numpy value} of :attr:`fn` on (X, Y)."""
        return dict(zip(self.OUTPUTS, self.fn(self.X, self.Y)))


# ---------------------------------------------------------------------- helpers
def _banner(say, number, title):
    """_banner(say, number, title): print a step's heading."""
    say("")
    say(f"=== Step {number}: {title} " + "=" * max(0, 60 - len(title)))


def _dprint(var, depth=-1, **kwargs):
    """_dprint(var, depth=-1, **kwargs) -> str: ``pytensor.dprint`` as a string, without inner graphs."""
    return pytensor.dprint(var, file="str", depth=depth, print_inner_graphs=False, **kwargs).rstrip()


def _op_kind(node):
    """_op_kind(node) -> str: a label for the node's Op; Elemwise labelled by its scalar Op (Composite = fused)."""
    op = node.op
    if isinstance(op, Elemwise):
        if isinstance(op.scalar_op, Composite):
            return "Elemwise{Composite} (fused)"
        return f"Elemwise{{{type(op.scalar_op).__name__}}}"
    return type(op).__name__


def _graph_stats(fgraph):
    """_graph_stats(fgraph) -> dict: counts that show what the rewrites did to ``fgraph``."""
    nodes = list(fgraph.apply_nodes)
    elemwise = [n for n in nodes if isinstance(n.op, Elemwise)]
    fused = [n for n in elemwise if isinstance(n.op.scalar_op, Composite)]
    inplace = [n for n in nodes if getattr(n.op, "destroy_map", None)]
    constants = {v for n in nodes for v in n.inputs if isinstance(v, Constant)}
    # nodes constant folding could evaluate now (Ops such as Alloc ask not to be folded)
    foldable = [n for n in nodes if n.inputs and all(isinstance(v, Constant) for v in n.inputs)
                and n.op.do_constant_folding(fgraph, n)]
    return {
        "nodes": len(nodes),
        "elemwise": len(elemwise) - len(fused),
        "fused": len(fused),
        "scalar_ops_in_fused": sum(len(n.op.scalar_op.fgraph.apply_nodes) for n in fused),
        "inplace": len(inplace),
        "inplace_ops": collections.Counter(str(n.op) if len(str(n.op)) < 40 else type(n.op).__name__
                                           for n in inplace),
        "constants": len(constants),
        "all_constant_input_nodes": len(foldable),
        "by_kind": collections.Counter(_op_kind(n) for n in nodes),
    }


def _subgraph_size(fgraph_inputs, output):
    """_subgraph_size(fgraph_inputs, output) -> int: Apply nodes between the inputs and ``output``."""
    return len(list(applys_between(fgraph_inputs, [output])))


# ---------------------------------------------------------------------- step 1
def step_lstm_graph(ctx, say=print):
    """step_lstm_graph(ctx, say=print) -> dict

    Step 1: one step of the CRMN's LSTM (eqs. 2-7) as a symbolic graph, with
    the paper's names i_l, f_l, o_l, c_l, s_l, h_l on the variables.
    """
    _banner(say, 1, "one LSTM step (eqs. 2-7) as a symbolic graph")
    mem = ctx.memory
    D, H = mem.input_size, mem.num_units
    say(f"""The LSTM of a CRMN runs over depth: step l reads x_l, the (pooled, flattened,
zero-padded) output of residual block l.  Below, the model's own memory layer builds
one step from symbolic inputs x_l (N, D={D}), h_(l-1), c_(l-1) (N, H={H}).  Nothing is
computed yet: PyTensor records each operation as a node, and the result is a graph.
Names were attached to the variables afterwards, by walking the graph backwards
from h_l (eq. 7) and c_l (eq. 5).  Shared variables (memory.W_xi, ...) are the
parameters; the four gate weight matrices are concatenated into one (D, 4H) matrix,
so each gate's pre-activation is a column slice (Subtensor) of one product.""")
    x_l = pt.matrix("x_l", dtype=ctx.dtype)
    h_prev = pt.matrix("h_(l-1)", dtype=ctx.dtype)
    c_prev = pt.matrix("c_(l-1)", dtype=ctx.dtype)
    p = x_l @ mem._W_x() + mem._b()       # W_x x_l + b for the four gates (the layer precomputes these)
    h, c = mem._step(p, h_prev, c_prev, mem._W_h())
    named = name_lstm_step(h, c, c_prev, mem)
    say("")
    say(_dprint([h, c]))
    nodes = len(list(applys_between([x_l, h_prev, c_prev], [h, c])))
    say("")
    say(f"{nodes} Apply nodes build h_l and c_l from x_l, h_(l-1), c_(l-1). Named variables: "
        + ", ".join(f"{k} = {v.owner.op} (eq. {EQUATIONS[k]})" for k, v in named.items()))
    return {"names": sorted(named), "nodes": nodes, "D": D, "H": H}


def name_lstm_step(h, c, c_prev, mem):
    """name_lstm_step(h, c, c_prev, mem) -> dict {paper name: variable}

    Find i_l, f_l, o_l, s_l in the graph of one step by structure and name
    them (and h_l, c_l): h_l = o_l * sigma_h(c_l) (7), c_l = f_l * c_(l-1) +
    i_l * s_l (5), s_l = sigma_c(...) (6).
    """
    def inputs_of(var, what):
        if var.owner is None:
            raise ValueError(f"name_lstm_step: {what} has no owner; the step's structure changed")
        return var.owner.inputs

    h.name, c.name = "h_l", "c_l"
    a, b = inputs_of(h, "h_l")                       # o_l * sigma_h(c_l)
    o = b if a.owner is not None and c in a.owner.inputs else a
    f_term, i_term = inputs_of(c, "c_l")             # f_l * c_(l-1) + i_l * s_l
    if c_prev not in inputs_of(f_term, "f_l * c_(l-1)"):
        f_term, i_term = i_term, f_term
    f = next(v for v in inputs_of(f_term, "f_l * c_(l-1)") if v is not c_prev)
    u, v = inputs_of(i_term, "i_l * s_l")
    cell_op = mem.cell_nonlinearity(pt.matrix(dtype=c.dtype)).owner.op
    s, i = (u, v) if u.owner is not None and u.owner.op == cell_op else (v, u)
    for var, name in ((o, "o_l"), (f, "f_l"), (i, "i_l"), (s, "s_l")):
        if var.owner is None:
            raise ValueError(f"name_lstm_step: could not find {name}; the step's structure changed")
        var.name = name
    return {"i_l": i, "f_l": f, "o_l": o, "c_l": c, "s_l": s, "h_l": h}


# ---------------------------------------------------------------------- step 2
def step_rewrites(ctx, say=print):
    """step_rewrites(ctx, say=print) -> dict

    Step 2: the gradient graph of dL/dW for one convolution and one LSTM gate
    weight, before and after PyTensor's rewrites (fusion, inplace, constant
    folding), counted by Op type.
    """
    _banner(say, 2, "the gradient graph, before and after rewriting")
    sym = ctx.symbolic
    outs = sym["outputs"]
    say(f"""pytensor.grad(loss, [W, ...]) does not compute numbers: it walks the graph from the
loss back to W and, for every node, asks its Op for the vector-Jacobian product
(Op.pullback / L_op), adding new nodes.  The result is a bigger graph.  The tour
compiles ONE function for steps 2-4 with outputs {', '.join(ctx.OUTPUTS)}
(W_conv = {CONV_PARAM}, W_xi = {GATE_PARAM}, x1 = output of {BLOCK}, step 4).
Compiling (mode {os.environ.get('CRMN_MODE', crmn_compile.DEFAULT_MODE)}) first rewrites the graph with the "fast_run"
rewrites, then links each node to C code or Python.""")
    say("")
    say("dL/dW_conv as pytensor.grad built it (3 levels):")
    say(_dprint(outs[1], depth=3))
    inputs = [v for v in graph_inputs(outs) if not isinstance(v, Constant)]   # x, y and the shared W's
    before = FunctionGraph(inputs, outs, clone=True)
    fn = ctx.fn
    after = fn.maker.fgraph
    say("")
    say(f"... and after rewriting (3 levels; compiled in {ctx.compile_seconds:.1f} s):")
    say(_dprint(after.outputs[1], depth=3, print_destroy_map=True))
    b, a = _graph_stats(before), _graph_stats(after)
    sizes = {
        name: (_subgraph_size(before.inputs, before.outputs[k]), _subgraph_size(after.inputs, after.outputs[k]))
        for k, name in ((1, "dL/dW_conv"), (2, "dL/dW_xi"))
    }
    say("")
    say(f"{'':34}{'before':>8}{'after':>8}")
    rows = [("Apply nodes (whole function)", "nodes"), ("  single Elemwise nodes", "elemwise"),
            ("  fused Elemwise{Composite} nodes", "fused"), ("  inplace nodes (destroy_map)", "inplace"),
            ("  distinct constants", "constants"), ("  foldable constant-only nodes", "all_constant_input_nodes")]
    for label, key in rows:
        say(f"{label:34}{b[key]:>8}{a[key]:>8}")
    for name, (nb, na) in sizes.items():
        say(f"{'nodes needed for ' + name:34}{nb:>8}{na:>8}")
    say("")
    say("Op types, most frequent (before -> after):")
    kinds = sorted(set(b["by_kind"]) | set(a["by_kind"]), key=lambda k: -(b["by_kind"][k] + a["by_kind"][k]))
    for kind in kinds[:14]:
        say(f"  {kind:38}{b['by_kind'][kind]:>6} -> {a['by_kind'][kind]:<6}")
    say("")
    say(f"""What the rewrites did:
  fusion:   {a['fused']} Elemwise{{Composite}} nodes now each run a loop over the array with
            several scalar operations inside ({a['scalar_ops_in_fused']} scalar ops in all), instead of
            one pass (and one temporary array) per operation;
  inplace:  {a['inplace']} nodes overwrite one of their inputs instead of allocating
            ({', '.join(f'{n} x {op}' for op, n in a['inplace_ops'].most_common(4))});
  constant folding and shape rewrites: nodes whose inputs are all constants are evaluated
            once at compile time ({b['all_constant_input_nodes']} such nodes before, {a['all_constant_input_nodes']} after);
  shape inference: Shape nodes ({b['by_kind']['Shape']} -> {a['by_kind']['Shape']}) become Shape_i ({a['by_kind']['Shape_i']}) and
            Assert nodes ({a['by_kind']['Assert']}) check at run time that shapes which must broadcast agree
            where static shapes do not already prove it;
  and the gradient of our conv Op is made of the Ops its pullback returns:
            Conv2dGradWeights for dL/dW, Conv2dGradInputs for dL/dinput.""")
    return {"before": b, "after": a, "sizes": sizes, "compile_seconds": ctx.compile_seconds}


# ---------------------------------------------------------------------- step 3
def finite_difference_checks(ctx, param, grad, coords=3, eps=1e-6, seed=0):
    """finite_difference_checks(ctx, param, grad, coords=3, eps=1e-6, seed=0) -> list of dict

    Central differences (L(W + eps e) - L(W - eps e)) / (2 eps) along
    ``coords`` random coordinate vectors e and one random unit direction,
    compared with <grad, e>.  ``param`` is restored afterwards.
    """
    rng = np.random.default_rng(seed)
    w0 = param.get_value()
    directions = []
    for flat in rng.choice(w0.size, size=coords, replace=False):
        e = np.zeros_like(w0)
        e.flat[flat] = 1.0
        directions.append((f"coordinate {tuple(int(i) for i in np.unravel_index(flat, w0.shape))}", e))
    u = rng.normal(size=w0.shape)
    directions.append(("random unit direction", (u / np.linalg.norm(u)).astype(w0.dtype)))

    def loss_at(w):
        param.set_value(w)
        return float(ctx.fn(ctx.X, ctx.Y)[0])

    checks = []
    try:
        for label, e in directions:
            fd = (loss_at(w0 + eps * e) - loss_at(w0 - eps * e)) / (2 * eps)
            an = float(np.sum(grad * e))
            err = abs(fd - an)
            checks.append({"where": label, "analytic": an, "finite_difference": fd, "abs_error": err,
                           "rel_error": err / max(abs(fd) + abs(an), 1e-12)})
    finally:
        param.set_value(w0)
    return checks


def step_finite_differences(ctx, say=print):
    """step_finite_differences(ctx, say=print) -> dict

    Step 3: check dL/dW_conv and dL/dW_xi against central finite differences.
    """
    _banner(say, 3, "checking the gradients with finite differences")
    eps = 1e-6
    say(f"""A symbolic gradient can be checked numerically: for a small eps and a direction e,
  (L(W + eps e) - L(W - eps e)) / (2 eps)  =  <dL/dW, e> + O(eps^2).
The tour's network is float64 (training uses float32) so that eps = {eps:g} leaves
about 10 significant digits.  Each row moves W along one random coordinate, or along a
random unit direction (what pytensor.gradient.verify_grad does), calling the compiled
function twice.  rel = |fd - analytic| / (|fd| + |analytic|).""")
    vals = ctx.values()
    sym = ctx.symbolic
    results = {}
    for name, param, grad in ((CONV_PARAM, sym["W_conv"], vals["dL/dW_conv"]),
                              (GATE_PARAM, sym["W_gate"], vals["dL/dW_xi"])):
        checks = finite_difference_checks(ctx, param, grad, eps=eps)
        say("")
        say(f"{name} {param.get_value().shape}:")
        say(f"  {'where':30}{'analytic':>15}{'finite diff.':>15}{'abs err':>10}{'rel err':>10}")
        for ch in checks:
            say(f"  {ch['where']:30}{ch['analytic']:>15.8g}{ch['finite_difference']:>15.8g}"
                f"{ch['abs_error']:>10.1e}{ch['rel_error']:>10.1e}")
        results[name] = checks
    worst = max(ch["abs_error"] for checks in results.values() for ch in checks)
    say("")
    say(f"Largest absolute error: {worst:.1e} (loss = {float(vals['loss']):.6f}).")
    return {"checks": results, "max_abs_error": worst, "eps": eps, "loss": float(vals["loss"])}


# ---------------------------------------------------------------------- step 4
def step_two_paths(ctx, say=print):
    """step_two_paths(ctx, say=print) -> dict

    Step 4: the gradient reaching the first residual block's output x_1 by
    the residual stack and by the LSTM, and a check that the two sum to the
    total gradient.
    """
    _banner(say, 4, "two paths from the loss back to the first residual block")
    say(f"""x1, the output of {BLOCK} (eq. 1), is used twice: by the next residual block
(the residual stack) and, 2x2 mean-pooled, as step 1 of the LSTM (the memory).  The
multivariate chain rule says dL/dx1 is the SUM of what flows back along each use.
To see each term, the tour built the graph with two copies of x1 (tensor_copy, an
identity Op): x1_res feeds the next block, x1_mem feeds the LSTM.  pytensor.grad
with respect to each copy gives one path's contribution; with respect to x1 itself,
the total (PyTensor adds the two contributions where the paths meet).""")
    vals = ctx.values()
    g_res, g_mem, g_tot = vals["dL/dx1_res"], vals["dL/dx1_mem"], vals["dL/dx1"]
    residual = float(np.linalg.norm(g_res + g_mem - g_tot))
    norms = {k: float(np.linalg.norm(v)) for k, v in (("residual path", g_res), ("memory path", g_mem),
                                                        ("total", g_tot))}
    cosine = float(np.sum(g_res * g_mem) / max(norms["residual path"] * norms["memory path"], 1e-300))
    say("")
    say(f"x1 has shape {g_tot.shape} (batch, maps, height, width).")
    for (k, v), sym in zip(norms.items(), ("dL/dx1_res", "dL/dx1_mem", "dL/dx1")):
        say(f"  ||{sym:10}|| = {v:.6e}   ({k})")
    say(f"  ||res + mem - total|| = {residual:.1e}   (relative {residual / norms['total']:.1e})")
    say(f"  cosine(res, mem)      = {cosine:+.3f}")
    say("")
    say("""The memory path skips every later convolution (x1 -> pool -> LSTM steps 1..L -> h_L ->
softmax): the LSTM gives early blocks a second route for the gradient, next to the
residual stack and its identity shortcuts.""")
    return {"norms": norms, "sum_error": residual, "relative_sum_error": residual / norms["total"],
            "cosine": cosine, "shape": tuple(g_tot.shape)}


# ---------------------------------------------------------------------- step 5
def conv_c_source(node):
    """conv_c_source(node) -> (CLinker, str): the C module PyTensor generates for one conv ``node``.

    Like :meth:`COp.make_c_thunk`, the node is put alone in a FunctionGraph
    and given to a :class:`pytensor.link.c.basic.CLinker`; ``get_src_code``
    generates (but does not compile) the module's source.
    """
    from pytensor.link.c.basic import CLinker

    fgraph = FunctionGraph(node.inputs, node.outputs)
    linker = CLinker().accept(fgraph)
    return linker, linker.get_src_code()


def _cache_entry(linker):
    """_cache_entry(linker) -> str or None: path of the compiled module for ``linker`` in PyTensor's cache."""
    from pytensor.link.c.basic import get_module_cache

    try:
        key = linker.cmodule_key()
        return get_module_cache().entry_from_key.get(key)
    except Exception:  # noqa: BLE001 -- best effort: the cache layout is PyTensor's business
        return None


def step_c_code(ctx, say=print):
    """step_c_code(ctx, say=print) -> dict

    Step 5: what the C backend compiled for our Conv2d Op: the generated
    function names and a short excerpt of the C source.
    """
    _banner(say, 5, "what the C backend compiled for our conv Op")
    fn = ctx.fn
    conv_nodes = [n for n in fn.maker.fgraph.toposort() if isinstance(n.op, Conv2d)]
    kinds = collections.Counter(type(n.op).__name__ for n in fn.maker.fgraph.apply_nodes
                                if type(n.op).__name__.startswith("Conv2d"))
    thunks = dict(zip(fn.vm.nodes, fn.vm.thunks)) if hasattr(fn.vm, "thunks") else {}
    in_c = sum(1 for t in thunks.values() if hasattr(t, "cthunk"))
    in_python = sorted({str(n.op) for n, t in thunks.items() if not hasattr(t, "cthunk")})
    node = conv_nodes[0]
    say(f"""The compiled function has {', '.join(f'{n} {k}' for k, n in sorted(kinds.items()))} nodes.
Of its {len(thunks)} nodes, {in_c} run compiled C code; the others run their Op's Python
`perform` method: {', '.join(in_python)}.
For an Op with C code (a COp), PyTensor's CLinker writes a small C++ module per node:
a struct holding the node's inputs and outputs, whose run() method contains the Op's
c_code() fragment, plus the Op's c_support_code() (here our im2col + GEMM kernels,
instantiated for float and double).  It is compiled once and cached on disk, keyed by
a hash of the source.  The module for the first Conv2d node, {node.op}:""")
    linker, src = conv_c_source(node)
    functions = sorted(set(re.findall(r"^\s*static[^\n(;=]*?\b(crmn_\w+)\s*\(", src, flags=re.M)))
    structs = sorted(set(re.findall(r"\bstruct\s+(__struct_compiled_op_\w+)", src)))
    exported = re.findall(r"\{\"(\w+)\",\s*\w+,\s*METH_", src)
    exported += re.findall(r"\b(PyInit_\w+|__struct_compiled_op_\w+_(?:executor|destructor))\s*\(", src)
    methods = list(dict.fromkeys(re.findall(r"^\s*(?:int|void)\s+(init|run|cleanup)\s*\(", src, flags=re.M)))
    say("")
    entry = _cache_entry(linker)
    source_file = os.path.join(os.path.dirname(entry), "mod.cpp") if entry else None
    for label, text in (
        (f"source ({len(src.splitlines())} lines), our C functions:", ", ".join(functions)),
        ("the node's struct and its methods:", f"{', '.join(structs)}: {', '.join(methods)}"),
        ("the module's own functions:", ", ".join(exported)),
        ("compiled module in the cache:", entry or "(not found under this key)"),
        ("its source file:", source_file if source_file and os.path.exists(source_file) else "(not found)"),
    ):
        say(textwrap.fill(text, width=100, initial_indent=f"  {label} ", subsequent_indent="      ",
                          break_on_hyphens=False, break_long_words=False))
    lines = src.splitlines()
    call = next((k for k, line in enumerate(lines) if re.search(r"crmn_conv2d_fwd_\w+\(\s*V\d", line)), None)
    first = next((k for k in range(call, max(call - 10, 0), -1) if "// Op class" in lines[k]), call) if call else 0
    excerpt = [ln for ln in lines[first:call + 5] if ln.strip()] if call is not None else []
    say("")
    say("Excerpt: the node's c_code() inside the struct's run() (V<n> are the struct's variables):")
    for line in excerpt:
        say("    " + line.rstrip())
    return {"functions": functions, "structs": structs, "exported": exported, "methods": methods, "cache_entry": entry, "source_file": source_file,
            "excerpt": excerpt, "c_nodes": in_c, "python_nodes": in_python, "nodes": len(thunks), "conv_kinds": dict(kinds)}


# ---------------------------------------------------------------------- step 6
def step_jax(ctx, say=print):
    """step_jax(ctx, say=print) -> dict

    Step 6: the same outputs compiled with ``mode="JAX"`` and compared with
    the C backend's; skipped (with a message) when JAX is not installed or
    our conv Op has no JAX dispatch.
    """
    _banner(say, 6, "the same function compiled by JAX")
    say("""The graph is backend-independent: the same symbolic outputs can be compiled by
another linker.  mode="JAX" rewrites the graph for JAX, turns each node into a JAX
function (our conv Ops via crmn_legacy/ops/jax/conv.py) and jax.jit-compiles the whole
graph with XLA.  The results must match the C backend's.""")
    try:
        import jax  # noqa: F401
    except ImportError:
        say("\nSKIPPED: JAX is not installed (pip install jax).")
        return {"skipped": "JAX is not installed"}
    try:
        from .ops.jax import conv as _jax_conv  # noqa: F401
    except ImportError as exc:
        say(f"\nSKIPPED: our conv Op has no JAX dispatch ({exc}).")
        return {"skipped": f"no JAX dispatch for the conv Op: {exc}"}
    say("""\nTwo details: JAX computes in float32 unless x64 is enabled (the tour enables it, as
the network is float64), and jax.jit traces with concrete array shapes, whereas
PyTensor shared variables (our parameters) have no static shape; so the JAX function
takes the parameters as inputs of known shape (the graph is otherwise the same).""")
    reference = ctx.values()
    jax.config.update("jax_enable_x64", True)
    outs = ctx.symbolic["outputs"]
    shared = [v for v in graph_inputs(outs) if isinstance(v, SharedVariable)]
    static = [pt.tensor(name=v.name, dtype=v.dtype, shape=v.get_value(borrow=True).shape) for v in shared]
    start = time.perf_counter()
    with warnings.catch_warnings():
        # PyTensor warns that JAX drops the run-time Assert (shape check) nodes: expected here
        warnings.filterwarnings("ignore", message="Skipping Assert", category=UserWarning)
        warnings.filterwarnings("ignore", message="Split node does not have constant", category=UserWarning)
        try:
            jfn = crmn_compile.function([ctx.x, ctx.y, *static],
                                        clone_replace(outs, replace=dict(zip(shared, static))), mode="JAX")
            outs = jfn(ctx.X, ctx.Y, *[v.get_value() for v in shared])
        except NotImplementedError as exc:
            say(f"\nSKIPPED: JAX cannot compile this graph yet: {exc}")
            return {"skipped": f"JAX cannot compile the graph: {exc}"}
        except Exception as exc:  # noqa: BLE001 -- report, do not abort the tour
            message = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
            say(f"\nFAILED: the JAX function could not be compiled or run: {message}")
            return {"skipped": None, "error": message}
    seconds = time.perf_counter() - start
    say(f"\nCompiled and ran with JAX in {seconds:.1f} s.  Largest differences from the C backend:")
    diffs = {}
    for name, value in zip(ctx.OUTPUTS, outs):
        ref = reference[name]
        diff = float(np.max(np.abs(np.asarray(value) - ref)))
        scale = float(np.max(np.abs(ref)))
        diffs[name] = {"max_abs_diff": diff, "max_abs": scale}
        say(f"  {name:12} max |jax - c| = {diff:.1e}   (max |value| = {scale:.2e})")
    return {"skipped": None, "diffs": diffs, "seconds": seconds, "dtype": str(np.asarray(outs[1]).dtype)}


# ---------------------------------------------------------------------- driver
Step = collections.namedtuple("Step", "number title function")

STEPS = (
    Step(1, "one LSTM step (eqs. 2-7) as a symbolic graph", step_lstm_graph),
    Step(2, "the gradient graph, before and after rewriting", step_rewrites),
    Step(3, "checking the gradients with finite differences", step_finite_differences),
    Step(4, "two paths from the loss back to the first residual block", step_two_paths),
    Step(5, "what the C backend compiled for our conv Op", step_c_code),
    Step(6, "the same function compiled by JAX (skipped without JAX)", step_jax),
)


def run_tour(steps=None, ctx=None, say=print):
    """run_tour(steps=None, ctx=None, say=print) -> dict {step number: facts}

    Run the given step numbers (all by default) in order, sharing one
    :class:`TourContext`; each step's facts include its run time ``seconds``.
    """
    ctx = TourContext() if ctx is None else ctx
    wanted = [s.number for s in STEPS] if steps is None else list(steps)
    facts = {}
    for step in STEPS:
        if step.number in wanted:
            start = time.perf_counter()
            facts[step.number] = step.function(ctx, say)
            facts[step.number]["seconds"] = time.perf_counter() - start
    return facts


def main(argv=None):
    """main(argv=None) -> int: ``python -m crmn_legacy tour [--step N] [--list]``."""
    parser = argparse.ArgumentParser(prog="python -m crmn_legacy tour",
                                     description="A guided tour of symbolic autodiff through a tiny CRMN.")
    parser.add_argument("--step", type=int, action="append", choices=[s.number for s in STEPS],
                        help="run only this step (repeatable)")
    parser.add_argument("--list", action="store_true", help="list the steps and exit")
    args = parser.parse_args(argv)
    if args.list:
        for step in STEPS:
            print(f"{step.number}. {step.title}")
        return 0
    start = time.perf_counter()
    facts = run_tour(args.step)
    print("\nseconds per step: " + ", ".join(f"{n}: {f['seconds']:.1f}" for n, f in facts.items()))
    print(f"\n(tour finished in {time.perf_counter() - start:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
