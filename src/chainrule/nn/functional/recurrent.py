"""Recurrent layers' computation: one step of an Elman RNN, an LSTM and a GRU, composed of
differentiable ops, and :class:`RecurrentLayer`, a whole layer in one direction as one primitive.

The steps (``rnn_step``, ``lstm_step``, ``gru_step``) are what the cells and the general path of
``nn.RNN`` / ``nn.LSTM`` / ``nn.GRU`` run: ~15 recorded ops per time step, each a node in the
forward and a rule call in the backward. A layer over L steps made of them cost 3–5× torch's
time. :class:`RecurrentLayer` runs the same recurrence on arrays: one product for the input
projection of every step, then per step the hidden product and the gates in place; its VJP is
backpropagation through time written out (per step the gates' local derivatives and one
product, then one product each for W_ih, W_hh and the input, over all steps at once). For a
second derivative (``create_graph``) the rule recomputes the layer from the composed steps and
differentiates that, so higher derivatives are exact.
"""
from __future__ import annotations

import numpy as np

from ... import _backprop, creation
from ..._graph import Node
from ..._modes import enable_grad
from ...backends.namespace import matmul, product_with
from ...backends.namespace import sigmoid as _sigmoid
from ...ops import relu, sigmoid, stack, tanh
from ._optional import given, optional
from .linear import linear

GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


# ---------------------------------------------------------------------------------- one step
# Each step takes gi = W_ih x + b_ih, the input's part (the cells and layers compute it), and
# adds the recurrent part W_hh h + b_hh.

def rnn_step(gi, h, w_hh, b_hh, act):
    """h' = act(W_ih x + b_ih + W_hh h + b_hh)."""
    return act(gi + linear(h, w_hh, b_hh))


def lstm_step(gi, h, c, w_hh, b_hh, w_hr=None):
    """i, f, g, o = σ, σ, tanh, σ of (W_ih x + b_ih + W_hh h + b_hh), split in four;
    c' = f ⊙ c + i ⊙ g;  h' = o ⊙ tanh(c'), then h' ← W_hr h' with a projection."""
    i, f, g, o = (gi + linear(h, w_hh, b_hh)).chunk(4, -1)
    c = sigmoid(f) * c + sigmoid(i) * tanh(g)
    h = sigmoid(o) * tanh(c)
    return (h if w_hr is None else linear(h, w_hr)), c


def gru_step(gi, h, w_hh, b_hh):
    """r = σ(W_ir x + b_ir + W_hr h + b_hr),  z = σ(W_iz x + b_iz + W_hz h + b_hz),
    n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)),  h' = (1 − z) ⊙ n + z ⊙ h.

    The reset gate scales W_hn h + b_hn (bias included), as torch and cuDNN do; that is why the
    hidden-side product is kept apart from the input side instead of summed first."""
    gh = linear(h, w_hh, b_hh)
    i_r, i_z, i_n = gi.chunk(3, -1)
    h_r, h_z, h_n = gh.chunk(3, -1)
    r = sigmoid(i_r + h_r)
    z = sigmoid(i_z + h_z)
    n = tanh(i_n + r * h_n)
    return n + z * (h - n)  # (1 − z) n + z h, with one product fewer (torch's order too)


def _unrolled(mode, x, h, c, w_ih, w_hh, b_ih, b_hh, reverse):
    """The layer of :class:`RecurrentLayer` composed of the steps above, on Tensors: its
    output, (L, N, H) h_t for every t, with c_L appended as row L for an LSTM."""
    act = relu if mode == "RNN_RELU" else tanh
    steps = x.unbind(0)
    ys = [None] * len(steps)
    for t in (range(len(steps) - 1, -1, -1) if reverse else range(len(steps))):
        gi = linear(steps[t], w_ih, b_ih)
        if mode == "LSTM":
            h, c = lstm_step(gi, h, c, w_hh, b_hh)
        elif mode == "GRU":
            h = gru_step(gi, h, w_hh, b_hh)
        else:
            h = rnn_step(gi, h, w_hh, b_hh, act)
        ys[t] = h
    return stack(ys + [c]) if mode == "LSTM" else stack(ys)


# ---------------------------------------------------------------------------------- one layer
class RecurrentLayer(Node):
    """One recurrent layer in one direction over a whole sequence, as one primitive.

    Inputs x (L, N, H_in), h_0 (N, H), c_0 (N, H) (an LSTM's; NOT_GIVEN otherwise), W_ih
    (G·H, H_in), W_hh (G·H, H), b_ih, b_hh (G·H,) or NOT_GIVEN; parameters ``mode`` ('LSTM',
    'GRU', 'RNN_TANH', 'RNN_RELU'; G = 4, 3, 1, 1) and ``reverse`` (steps t = L−1 … 0).
    Output (L, N, H): h_t for every t in time order; an LSTM's has c at the last step as an
    extra row L. The step equations are those of :func:`lstm_step`, :func:`gru_step`,
    :func:`rnn_step`, with the input projection X W_ihᵀ + b_ih of all steps as one product.

    VJP (backpropagation through time; the steps in reverse order of the forward's, with h̄
    and c̄ carried from step to step, starting from the output's rows):
    LSTM, u = tanh c_t: ō = h̄·u;  c̄ ← c̄ + h̄·o·(1 − u²);  ī = c̄·g;  ḡ = c̄·i;  f̄ = c̄·c_{t−1};
    then c̄ ← c̄·f, and the pre-activation gradients ā = (ī·i(1−i), f̄·f(1−f), ḡ·(1−g²),
    ō·o(1−o)) for both products. GRU, with a_h = W_hn h + b_hn: n̄ = h̄·(1 − z)·(1 − n²);
    z̄ = h̄·(h_{t−1} − n)·z(1−z);  r̄ = n̄·a_h·r(1−r); input side (r̄, z̄, n̄), hidden side
    (r̄, z̄, n̄·r); h̄_{t−1} gets h̄·z directly. RNN: ā = h̄·act′. Each step: h̄_{t−1} +=
    ā_h W_hh. Over all steps: W̄_ih = Āᵀ X, W̄_hh = Ā_hᵀ H_prev, b̄ = Σ Ā, x̄ = Ā W_ih."""

    params = ("mode", "reverse")
    backward_name = "MkldnnRnnLayerBackward0"   # torch's float32 LSTM layer node
    saved = None   # what the forward kept for the VJP on arrays (see ``forward``)

    def forward(self, x, h0, c0, w_ih, w_hh, b_ih, b_hh):
        mode, (steps, n, width), hidden = self.mode, x.shape, w_hh.shape[1]
        lstm, gru = mode == "LSTM", mode == "GRU"
        # every step's input projection at once, (L, N, G·H)
        xi = matmul(x.reshape(steps * n, width), w_ih.T).reshape(steps, n, w_ih.shape[0])
        if given(b_ih):
            xi += b_ih
        out = np.empty((steps + lstm, n, hidden), x.dtype)
        acts = np.empty_like(xi)   # the gates after their nonlinearities, by time step
        cs = np.empty((steps, n, hidden), x.dtype) if lstm else None    # c_t
        hn = np.empty((steps, n, hidden), x.dtype) if gru else None     # W_hn h + b_hn
        h, c = h0, c0
        by_w_hh_t = product_with(w_hh.T, n)   # (W_hhᵀ packed once for all steps)
        for t in (range(steps - 1, -1, -1) if self.reverse else range(steps)):
            gh = by_w_hh_t(h)
            if given(b_hh):
                gh += b_hh
            a = acts[t]
            if lstm:
                gh += xi[t]
                a[...] = _sigmoid(gh)
                np.tanh(gh[:, 2 * hidden:3 * hidden], out=a[:, 2 * hidden:3 * hidden])
                i, f, g, o = (a[:, k * hidden:(k + 1) * hidden] for k in range(4))
                c = np.multiply(f, c, out=cs[t])
                c += i * g
                h = np.multiply(o, np.tanh(c), out=out[t])
            elif gru:
                pre = xi[t, :, :2 * hidden] + gh[:, :2 * hidden]
                a[:, :2 * hidden] = _sigmoid(pre)
                r, z = a[:, :hidden], a[:, hidden:2 * hidden]
                hn[t] = gh[:, 2 * hidden:]
                nt = np.tanh(xi[t, :, 2 * hidden:] + r * hn[t], out=a[:, 2 * hidden:])
                h = np.add(nt, z * (h - nt), out=out[t])
            else:
                gh += xi[t]
                h = (np.tanh(gh, out=out[t]) if mode == "RNN_TANH"
                     else np.maximum(0, gh, out=out[t]))
        if lstm:
            out[steps] = c
        self.saved = acts, cs, hn
        return out

    def _release(self):
        super()._release()
        self.saved = None

    def vjp(self, xp, g, x, h0, c0, w_ih, w_hh, b_ih, b_hh, out):
        if xp.recording:   # a differentiable gradient: the composed layer, differentiated
            return self._recorded_vjp(g, (x, h0, c0, w_ih, w_hh, b_ih, b_hh))
        mode, hidden, (steps, n, width) = self.mode, w_hh.shape[1], x.shape
        lstm, gru = mode == "LSTM", mode == "GRU"
        acts, cs, hn = self.saved
        d_in = np.empty_like(acts)                       # Ā on the input side, by time step
        d_h = np.empty_like(acts) if gru else d_in       # on the hidden side (GRU: differs)
        h_prev = np.empty((steps, n, hidden), x.dtype)   # the h each step read
        order = range(steps - 1, -1, -1) if self.reverse else range(steps)
        first = order[0]
        for t, prev in zip(order, [None, *order[:-1]]):
            h_prev[t] = h0 if prev is None else out[prev]
        dh = np.zeros((n, hidden), x.dtype)
        dc = np.array(g[steps]) if lstm else None
        by_w_hh = product_with(w_hh, n)
        for k in range(steps - 1, -1, -1):
            t = order[k]
            dh += g[t]
            a = acts[t]
            if lstm:
                i, f, gg, o = (a[:, j * hidden:(j + 1) * hidden] for j in range(4))
                u = np.tanh(cs[t])
                d = d_in[t]
                np.multiply(dh * u, o * (1 - o), out=d[:, 3 * hidden:])   # ō·o(1−o)
                dc += dh * o * (1 - u * u)
                np.multiply(dc * gg, i * (1 - i), out=d[:, :hidden])
                c_prev = c0 if t == first else cs[order[k - 1]]
                np.multiply(dc * c_prev, f * (1 - f), out=d[:, hidden:2 * hidden])
                np.multiply(dc * i, 1 - gg * gg, out=d[:, 2 * hidden:3 * hidden])
                dc *= f
                dh = by_w_hh(d)
            elif gru:
                r, z, nt = a[:, :hidden], a[:, hidden:2 * hidden], a[:, 2 * hidden:]
                d_n = dh * (1 - z) * (1 - nt * nt)
                d_z = dh * (h_prev[t] - nt) * (z * (1 - z))
                d_r = d_n * hn[t] * (r * (1 - r))
                for d in (d_in[t], d_h[t]):
                    d[:, :hidden], d[:, hidden:2 * hidden] = d_r, d_z
                d_in[t, :, 2 * hidden:] = d_n
                np.multiply(d_n, r, out=d_h[t, :, 2 * hidden:])
                dh = dh * z + by_w_hh(d_h[t])
            else:
                yt = out[t]
                d = d_in[t]
                if mode == "RNN_TANH":
                    np.multiply(dh, 1 - yt * yt, out=d)
                else:
                    np.multiply(dh, yt > 0, out=d)
                dh = by_w_hh(d)
        need = self.needs_input_grad
        flat_in, flat_h = (d.reshape(steps * n, d.shape[2]) for d in (d_in, d_h))
        grads = [None] * 7
        if need[0]:
            grads[0] = matmul(flat_in, w_ih).reshape(x.shape)
        if need[1]:
            grads[1] = dh
        if lstm and need[2]:
            grads[2] = dc
        if need[3]:
            grads[3] = matmul(flat_in.T, x.reshape(steps * n, width))
        if need[4]:
            grads[4] = matmul(flat_h.T, h_prev.reshape(steps * n, hidden))
        if given(b_ih) and need[5]:
            grads[5] = flat_in.sum(0)
        if given(b_hh) and need[6]:
            grads[6] = flat_h.sum(0)
        return grads

    def jvp(self, xp, tangents, x, h0, c0, w_ih, w_hh, b_ih, b_hh):
        # the tangent recurrence beside the primal one, on Tensors (recorded: differentiable);
        # an input without a tangent gets zeros
        tx, th, tc, tw_ih, tw_hh, tb_ih, tb_hh = (
            t if t is not None or not given(v) else creation.zeros_like(v)
            for t, v in zip(tangents, (x, h0, c0, w_ih, w_hh, b_ih, b_hh)))

        def affine(a, da, w, dw, b, db):   # a Wᵀ + b and its tangent
            y, dy = linear(a, w, b if given(b) else None), linear(da, w) + linear(a, dw)
            return y, (dy + db if given(b) else dy)

        mode, steps = self.mode, x.shape[0]
        h, dh, c, dc = h0, th, c0, tc
        dys = [None] * steps
        for t in (range(steps - 1, -1, -1) if self.reverse else range(steps)):
            gi, dgi = affine(x[t], tx[t], w_ih, tw_ih, b_ih, tb_ih)
            gh, dgh = affine(h, dh, w_hh, tw_hh, b_hh, tb_hh)
            if mode == "LSTM":
                (i, f, g, o), (di, df, dg, do) = (gi + gh).chunk(4, -1), (dgi + dgh).chunk(4, -1)
                i, f, g, o = sigmoid(i), sigmoid(f), tanh(g), sigmoid(o)
                di, df, do = di * i * (1 - i), df * f * (1 - f), do * o * (1 - o)
                dg = dg * (1 - g * g)
                c, dc = f * c + i * g, df * c + f * dc + di * g + i * dg
                u = tanh(c)
                h, dh = o * u, do * u + o * (1 - u * u) * dc
            elif mode == "GRU":
                (ir, iz, i_n), (d_ir, d_iz, d_in) = gi.chunk(3, -1), dgi.chunk(3, -1)
                (hr, hz, hn), (d_hr, d_hz, d_hn) = gh.chunk(3, -1), dgh.chunk(3, -1)
                r, z = sigmoid(ir + hr), sigmoid(iz + hz)
                dr, dz = (d_ir + d_hr) * r * (1 - r), (d_iz + d_hz) * z * (1 - z)
                n = tanh(i_n + r * hn)
                dn = (d_in + dr * hn + r * d_hn) * (1 - n * n)
                h, dh = n + z * (h - n), dn + dz * (h - n) + z * (dh - dn)
            else:
                pre, dpre = gi + gh, dgi + dgh
                h = tanh(pre) if mode == "RNN_TANH" else relu(pre)
                dh = dpre * (1 - h * h) if mode == "RNN_TANH" else dpre * (h > 0)
            dys[t] = dh
        return stack(dys + [dc]) if mode == "LSTM" else stack(dys)

    def _recorded_vjp(self, g, xs):
        with enable_grad():
            inputs = [t if given(t) else None for t in xs]
            out = _unrolled(self.mode, *inputs, self.reverse)
            wrt = [t for t, need in zip(xs, self.needs_input_grad) if need and given(t)]
            found = iter(_backprop.grad([out], wrt, [g], create_graph=True, allow_unused=True))
        return [next(found) if need and given(t) else None
                for t, need in zip(xs, self.needs_input_grad)]


def recurrent_layer(mode, x, h0, c0, w_ih, w_hh, b_ih=None, b_hh=None, reverse=False):
    """One layer in one direction as one :class:`RecurrentLayer` node: x (L, N, H_in), h0 and
    (LSTM) c0 (N, H), weights as ``nn.LSTM``'s -> (outputs (L, N, H), h_L, c_L or None)."""
    out = RecurrentLayer.apply(x, h0, optional(c0), w_ih, w_hh, optional(b_ih), optional(b_hh),
                               mode=mode, reverse=reverse)
    steps = x.shape[0]
    ys = out[:steps] if mode == "LSTM" else out
    return ys, ys[0 if reverse else steps - 1], (out[steps] if mode == "LSTM" else None)

