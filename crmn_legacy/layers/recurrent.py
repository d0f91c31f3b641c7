"""LSTMLayer and GRULayer: recurrent memories that run over *depth* (paper section 3.2).

The CRMN's LSTM does not read a time series: step l is the output x_l of
residual block l (eq. 1), 2x2 mean-pooled and flattened, so the L = 3n steps
have different sizes (16k*16*16, then 32k*8*8 = half, then 64k*4*4 = a
quarter).  The paper zero-pads every step to the largest size D.  Both layers
here are :class:`MergeLayer` s with one incoming per step, each (N, d_l)
with d_l <= D.

Zero-padding and weight slicing are the same maths: with x_l padded to D,

    W_x^T pad(x_l) = W_x[:d_l]^T x_l

so the unrolled form (default) multiplies each step by the first d_l rows of
W_x (``slice_weights=True``), and, since the inputs do not depend on the
recurrence, computes all input projections before the recurrence, one matrix
product per distinct step size.  The ``scan`` form (``unroll_scan=False``)
pads the steps, stacks them into (L, N, D) and runs ``pytensor.scan``; the
tests check that both agree.
"""

import pytensor
import pytensor.tensor as pt

from .. import init, nonlinearities
from .base import MergeLayer

__all__ = ["DepthRecurrentLayer", "LSTMLayer", "GRULayer", "FORGET_GATE_BIAS", "NUM_UNITS"]

#: Hidden = cell size of the paper's LSTM ("a constant value of 100", section 4).
NUM_UNITS = 100

#: Default initial bias b_f of the LSTM forget gate (eq. 3).  The paper (section 4):
#: "high negative biases tend to be favourable ... [they bias] the LSTM to
#: assign more importance to things seen more recently".  A negative *forget*
#: gate bias does exactly that: f_l = sigma(-3) ~= 0.047 at initialisation, so
#: c_l ~= i_l * s_l is dominated by the most recent (most abstract) block,
#: whereas a negative input-gate bias would do the opposite (ignore new
#: inputs).  -3 is the most negative of the gate biases the cited Highway
#: Networks paper [25] used (-1, -2, -3).  The other gate biases default to 0.
FORGET_GATE_BIAS = -3.0


class DepthRecurrentLayer(MergeLayer):
    """DepthRecurrentLayer(incomings, num_units=100, learn_init=True, unroll_scan=True, slice_weights=True, only_return_final=True, input_size=None, name=None)

    Base class of :class:`LSTMLayer` and :class:`GRULayer`: input handling
    (zero-padding / weight slicing), the learned initial state, and the
    unrolled and ``scan`` forms of the recurrence.  Subclasses declare
    ``_gates`` (names of the x/h weight pairs) and ``_states`` (recurrent
    states, hidden first) and implement ``_step``.

    Output: the final hidden state h_L, (N, num_units); with
    ``only_return_final=False`` all hidden states, (N, L, num_units).
    """

    _gates = ()
    _states = ("h",)

    def __init__(self, incomings, num_units=NUM_UNITS, learn_init=True, unroll_scan=True, slice_weights=True,
                 only_return_final=True, input_size=None, name=None):
        super().__init__(incomings, name=name)
        sizes = []
        for shape in self.input_shapes:
            if len(shape) != 2 or shape[1] is None:
                raise ValueError(
                    f"{self._describe()}: every step input must be (N, d_l) with known d_l "
                    f"(flatten the pooled block outputs first), got {shape}"
                )
            sizes.append(int(shape[1]))
        self.step_sizes = sizes
        self.input_size = max(sizes) if input_size is None else int(input_size)
        if self.input_size < max(sizes):
            raise ValueError(f"{self._describe()}: input_size {input_size} < largest step size {max(sizes)}")
        if not isinstance(num_units, int) or num_units <= 0:
            raise ValueError(f"{self._describe()}: num_units must be a positive int, got {num_units!r}")
        self.num_units = num_units
        self.learn_init = bool(learn_init)
        self.unroll_scan = bool(unroll_scan)
        self.slice_weights = bool(slice_weights)
        self.only_return_final = bool(only_return_final)

    def _add_gate_weights(self, W_x, W_h):
        """_add_gate_weights(W_x, W_h) -> None: W_x<g> (D, H) for every gate g, then W_h<g> (H, H)."""
        D, H = self.input_size, self.num_units
        for g in self._gates:
            setattr(self, f"W_x{g}", self.add_param(W_x, (D, H), name=f"W_x{g}"))
        for g in self._gates:
            setattr(self, f"W_h{g}", self.add_param(W_h, (H, H), name=f"W_h{g}"))

    def _add_init_state(self, spec, state):
        return self.add_param(spec, (self.num_units,), name=f"{state}0", trainable=self.learn_init,
                              regularizable=False)

    def get_output_shape_for(self, input_shapes):
        n = input_shapes[0][0]
        if self.only_return_final:
            return (n, self.num_units)
        return (n, len(input_shapes), self.num_units)

    # --- pieces shared by both forms ---------------------------------------------------
    def _W_x(self):
        """W_x = [W_x<g> for g in gates], (D, G*H)."""
        return pt.concatenate([getattr(self, f"W_x{g}") for g in self._gates], axis=1)

    def _W_h(self):
        return pt.concatenate([getattr(self, f"W_h{g}") for g in self._gates], axis=1)

    def _b(self):
        return pt.concatenate([getattr(self, f"b_{g}") for g in self._gates], axis=0)

    def _padded(self, x, d):
        if d == self.input_size:
            return x
        return pt.concatenate([x, pt.zeros((x.shape[0], self.input_size - d), dtype=x.dtype)], axis=1)

    def _input_projections(self, inputs):
        """One (N, G*H) tensor per step: W_x^T x_l + b (sliced weights or padded inputs).

        The products are :func:`crmn_legacy.ops.matmul` (two cores), one per
        input size: the steps of a stage are stacked into one (n_steps N, d)
        matrix times the first d rows of W_x.
        """
        from ..ops import matmul  # both cores: these are the layer's biggest products

        W_x, b = self._W_x(), self._b()
        if not self.slice_weights:
            return [matmul(self._padded(x, d), W_x) + b for x, d in zip(inputs, self.step_sizes)]
        out = [None] * len(inputs)
        n = inputs[0].shape[0]
        for d in sorted(set(self.step_sizes)):
            idx = [i for i, s in enumerate(self.step_sizes) if s == d]
            X = pt.concatenate([inputs[i] for i in idx], axis=0) if len(idx) > 1 else inputs[idx[0]]
            P = matmul(X, W_x[:d]) + b
            for j, i in enumerate(idx):
                out[i] = P[j * n:(j + 1) * n]
        return out

    def _initial_states(self, n):
        return [pt.zeros((n, self.num_units), dtype=getattr(self, f"{s}0").dtype) + getattr(self, f"{s}0")
                for s in self._states]

    def get_output_for(self, inputs, deterministic=False, **kwargs):
        if len(inputs) != len(self.step_sizes):
            raise ValueError(f"{self._describe()}: expected {len(self.step_sizes)} step inputs, got {len(inputs)}")
        inputs = [x.flatten(2) if x.ndim > 2 else x for x in inputs]
        n = inputs[0].shape[0]
        states = self._initial_states(n)
        W_h = self._W_h()
        if self.unroll_scan:
            hiddens = []
            for p in self._input_projections(inputs):
                states = self._step(p, *states, W_h)
                hiddens.append(states[0])
            if self.only_return_final:
                return hiddens[-1]
            return pt.stack(hiddens, axis=1)
        xs = pt.stack([self._padded(x, d) for x, d in zip(inputs, self.step_sizes)], axis=0)  # (L, N, D)
        proj = pt.tensordot(xs, self._W_x(), axes=[[2], [0]]) + self._b()  # (L, N, G*H)
        n_states = len(self._states)

        def step(p, *args):  # args: previous states, then W_h
            return self._step(p, *args[:n_states], args[n_states])

        outs = pytensor.scan(step, sequences=[proj], outputs_info=states, non_sequences=[W_h],
                             n_steps=len(self.step_sizes), strict=False, return_updates=False,
                             name=f"{self.name or 'recurrent'}_scan")
        h_seq = outs[0] if isinstance(outs, (list, tuple)) else outs
        if self.only_return_final:
            return h_seq[-1]
        return h_seq.dimshuffle(1, 0, 2)

    def _step(self, p, *args):
        raise NotImplementedError


class LSTMLayer(DepthRecurrentLayer):
    """LSTMLayer(incomings, num_units=100, W_x=init.Orthogonal(), W_h=init.Orthogonal(), w_c=init.Normal(0.1), b_i=init.Constant(0.0), b_f=init.Constant(FORGET_GATE_BIAS), b_o=init.Constant(0.0), b_c=init.Constant(0.0), h0=init.Constant(0.0), c0=init.Constant(0.0), learn_init=True, peepholes=True, gate_nonlinearity=nonlinearities.sigmoid, outgate_nonlinearity=nonlinearities.sigmoid, cell_nonlinearity=nonlinearities.tanh, hidden_nonlinearity=nonlinearities.tanh, unroll_scan=True, slice_weights=True, only_return_final=True, input_size=None, name=None)

    The CRMN memory, eqs. 2-7 of the paper, one step per residual block l:

        i_l = sigma_iof(W_xi x_l + W_hi h_{l-1} + w_ci . c_{l-1} + b_i)    (2)
        f_l = sigma_iof(W_xf x_l + W_hf h_{l-1} + w_cf . c_{l-1} + b_f)    (3)
        o_l = sigma_o  (W_xo x_l + W_ho h_{l-1} + w_co . c_l     + b_o)    (4)
        c_l = f_l . c_{l-1} + i_l . s_l                                    (5)
        s_l = sigma_c(W_xc x_l + W_hc h_{l-1} + b_c)                       (6)
        h_l = o_l . sigma_h(c_l)                                           (7)

    with ``.`` the elementwise product, sigma_iof the logistic function,
    sigma_c = sigma_h = tanh.  Note eq. 4 peeps at the *new* cell c_l (as
    Lasagne's LSTMLayer does).  x_l is the zero-padded input of size D; the
    weights are stored as (D, H) and (H, H) matrices (x W convention), i.e.
    ``memory.W_xi`` is W_xi^T.  The paper's section 4 also says "the output
    gate uses tanh", contradicting eq. 4; the equations are followed by
    default and ``outgate_nonlinearity="tanh"`` gives the other reading.

    Parameters
    ----------
    incomings : list of Layer
        One (N, d_l) layer per step (the flattened, 2x2-mean-pooled block outputs).
    num_units : int
        H, size of h_l and c_l (paper: 100).
    W_x, W_h : initialiser
        For W_xi, W_xf, W_xo, W_xc (D, H) and W_hi, W_hf, W_ho, W_hc (H, H);
        orthogonal (Saxe et al. 2013) as in section 4.
    w_c : initialiser
        Peephole vectors w_ci, w_cf, w_co (H,) (Lasagne's default N(0, 0.1^2)).
    b_i, b_f, b_o, b_c : initialiser
        Gate biases; b_f defaults to :data:`FORGET_GATE_BIAS` (= -3).
    h0, c0 : initialiser
        Initial state h_0, c_0 (H,), learned when ``learn_init`` (paper: "The
        initial hidden state of the LSTM is learned"; like Lasagne's
        ``learn_init`` both h_0 and c_0 are learned).
    peepholes : bool
        ``False`` drops the w_c terms (and their parameters).
    gate_nonlinearity, outgate_nonlinearity, cell_nonlinearity, hidden_nonlinearity : callable or str
        sigma_iof for i and f, sigma_o for o, sigma_c, sigma_h.
    unroll_scan : bool
        ``True``: a Python loop over the fixed depth; ``False``: ``pytensor.scan``.
    slice_weights : bool
        Unrolled form only: multiply x_l by W_x[:d_l] instead of padding x_l.
    only_return_final : bool
        Return h_L (N, H) or all h_l (N, L, H).
    input_size : int or None
        D; default the largest step size.
    """

    _gates = ("i", "f", "o", "c")
    _states = ("h", "c")

    def __init__(self, incomings, num_units=NUM_UNITS, W_x=init.Orthogonal(), W_h=init.Orthogonal(),
                 w_c=init.Normal(0.1), b_i=init.Constant(0.0), b_f=init.Constant(FORGET_GATE_BIAS),
                 b_o=init.Constant(0.0), b_c=init.Constant(0.0), h0=init.Constant(0.0), c0=init.Constant(0.0),
                 learn_init=True, peepholes=True, gate_nonlinearity=nonlinearities.sigmoid,
                 outgate_nonlinearity=nonlinearities.sigmoid, cell_nonlinearity=nonlinearities.tanh,
                 hidden_nonlinearity=nonlinearities.tanh, unroll_scan=True, slice_weights=True,
                 only_return_final=True, input_size=None, name=None):
        super().__init__(incomings, num_units=num_units, learn_init=learn_init, unroll_scan=unroll_scan,
                         slice_weights=slice_weights, only_return_final=only_return_final,
                         input_size=input_size, name=name)
        self._add_gate_weights(W_x, W_h)
        H = self.num_units
        self.peepholes = bool(peepholes)
        if self.peepholes:
            for g in ("i", "f", "o"):
                setattr(self, f"w_c{g}", self.add_param(w_c, (H,), name=f"w_c{g}"))
        for g, spec in zip(self._gates, (b_i, b_f, b_o, b_c)):
            setattr(self, f"b_{g}", self.add_param(spec, (H,), name=f"b_{g}", regularizable=False))
        self.h0 = self._add_init_state(h0, "h")
        self.c0 = self._add_init_state(c0, "c")
        self.gate_nonlinearity = nonlinearities.get(gate_nonlinearity)
        self.outgate_nonlinearity = nonlinearities.get(outgate_nonlinearity)
        self.cell_nonlinearity = nonlinearities.get(cell_nonlinearity)
        self.hidden_nonlinearity = nonlinearities.get(hidden_nonlinearity)

    def _step(self, p, h_prev, c_prev, W_h):
        """One step of eqs. 2-7; ``p`` holds W_x^T x_l + b for the four gates."""
        H = self.num_units
        a = p + h_prev @ W_h
        a_i, a_f, a_o, a_c = (a[:, k * H:(k + 1) * H] for k in range(4))
        if self.peepholes:
            a_i = a_i + self.w_ci * c_prev
            a_f = a_f + self.w_cf * c_prev
        i = self.gate_nonlinearity(a_i)                      # (2)
        f = self.gate_nonlinearity(a_f)                      # (3)
        s = self.cell_nonlinearity(a_c)                      # (6)
        c = f * c_prev + i * s                               # (5)
        if self.peepholes:
            a_o = a_o + self.w_co * c                        # peephole at the new c_l
        o = self.outgate_nonlinearity(a_o)                   # (4)
        h = o * self.hidden_nonlinearity(c)                  # (7)
        return [h, c]


class GRULayer(DepthRecurrentLayer):
    """GRULayer(incomings, num_units=100, W_x=init.Orthogonal(), W_h=init.Orthogonal(), b_r=init.Constant(0.0), b_u=init.Constant(0.0), b_c=init.Constant(0.0), h0=init.Constant(0.0), learn_init=True, unroll_scan=True, slice_weights=True, only_return_final=True, input_size=None, name=None)

    The GRU variant the paper mentions (section 4; Cho et al. 2014), in
    Lasagne's formulation, one step per residual block l:

        r_l = sigma(W_xr x_l + W_hr h_{l-1} + b_r)
        u_l = sigma(W_xu x_l + W_hu h_{l-1} + b_u)
        s_l = tanh(W_xc x_l + r_l . (W_hc h_{l-1}) + b_c)
        h_l = (1 - u_l) . h_{l-1} + u_l . s_l

    Same input handling, initial state and forms as :class:`LSTMLayer`; all
    biases default to 0 (the paper gives no GRU details).
    """

    _gates = ("r", "u", "c")
    _states = ("h",)

    def __init__(self, incomings, num_units=NUM_UNITS, W_x=init.Orthogonal(), W_h=init.Orthogonal(),
                 b_r=init.Constant(0.0), b_u=init.Constant(0.0), b_c=init.Constant(0.0), h0=init.Constant(0.0),
                 learn_init=True, unroll_scan=True, slice_weights=True, only_return_final=True,
                 input_size=None, name=None):
        super().__init__(incomings, num_units=num_units, learn_init=learn_init, unroll_scan=unroll_scan,
                         slice_weights=slice_weights, only_return_final=only_return_final,
                         input_size=input_size, name=name)
        self._add_gate_weights(W_x, W_h)
        H = self.num_units
        for g, spec in zip(self._gates, (b_r, b_u, b_c)):
            setattr(self, f"b_{g}", self.add_param(spec, (H,), name=f"b_{g}", regularizable=False))
        self.h0 = self._add_init_state(h0, "h")

    def _step(self, p, h_prev, W_h):
        H = self.num_units
        hW = h_prev @ W_h
        r = pt.sigmoid(p[:, :H] + hW[:, :H])
        u = pt.sigmoid(p[:, H:2 * H] + hW[:, H:2 * H])
        s = pt.tanh(p[:, 2 * H:] + r * hW[:, 2 * H:])
        h = (1 - u) * h_prev + u * s
        return [h]
