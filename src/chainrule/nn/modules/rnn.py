"""Recurrent layers: RNN, LSTM, GRU and their one-step cells (torch's interface and weights).

A recurrent layer reads a sequence x_1 … x_L one step at a time and carries a state h_t from step
to step, h_t = cell(x_t, h_{t−1}); the same weights serve every step. The cells, and the layers
on packed sequences, with projections or in forward mode, are composed from differentiable ops
(``F.linear``, sigmoid, tanh, relu, chunk, cat, stack): backward, double backward and forward
mode come from the engine, and "backprop through time" is plain reverse mode over the unrolled
loop. Otherwise each layer and direction is one node
(:class:`~chainrule.nn.functional.recurrent.RecurrentLayer`) whose VJP is that backprop through
time written out on arrays: the same values to rounding, a training step 3–4× faster
(``benchmarks/recurrent.py``).

Layout shared with torch (so ``state_dict`` moves both ways): the gates of one layer sit stacked
in one matrix, W_ih (gates·H, H_in) and W_hh (gates·H, H), in the order i, f, g, o (LSTM) and
r, z, n (GRU); layer k's parameters are ``weight_ih_l{k}``, ``weight_hh_l{k}``, ``bias_ih_l{k}``,
``bias_hh_l{k}`` (and ``weight_hr_l{k}`` with ``proj_size``), with ``_reverse`` appended for the
backward direction of a bidirectional layer, registered in exactly that order.
"""
from __future__ import annotations

import math
import numbers
import warnings

import numpy as np

from ... import creation
from ..._device import check_device
from ..._modes import FORWARD
from ...ops import cat, relu, split, stack, tanh
from ...ops._util import check_tensor
from .. import functional as F
from .. import init
from ..functional.recurrent import GATES as _GATES
from ..functional.recurrent import gru_step as _gru_step
from ..functional.recurrent import lstm_step as _lstm_step
from ..functional.recurrent import recurrent_layer
from ..functional.recurrent import rnn_step as _rnn_step
from ..parameter import Parameter
from ..utils.rnn import PackedSequence
from .module import Module

__all__ = ["GRU", "LSTM", "RNN", "GRUCell", "LSTMCell", "RNNBase", "RNNCell", "RNNCellBase"]


def _nonlinearity(name, module):
    if name == "tanh":
        return tanh
    if name == "relu":
        return relu
    raise RuntimeError(f"{module}: Unknown nonlinearity: {name}")


def _check_flag(value, name):
    if not isinstance(value, bool):
        raise TypeError(f"{name} should be of type bool, got: {type(value).__name__}")


def _check_size(value, name):
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} should be of type int, got: {type(value).__name__}")
    if value <= 0:
        raise ValueError(f"{name} must be greater than zero")


# ---------------------------------------------------------------------------------- layers
class RNNBase(Module):
    """The machinery shared by :class:`RNN`, :class:`LSTM` and :class:`GRU`: parameters in torch's
    names and order, input/state checks, and the loop over layers, directions and time steps.

    ``mode`` is one of 'RNN_TANH', 'RNN_RELU', 'LSTM', 'GRU' (as torch's ``RNNBase``).
    """

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, proj_size: int = 0, device=None, dtype=None):
        super().__init__()
        check_device(device, type(self).__name__)
        if (isinstance(dropout, bool) or not isinstance(dropout, numbers.Number)
                or not 0 <= dropout <= 1):
            raise ValueError("dropout should be a number in range [0, 1] representing the "
                             f"probability of an element being zeroed, got {dropout!r}")
        if dropout > 0 and num_layers == 1:
            warnings.warn("dropout option adds dropout after all but last recurrent layer, so "
                          "non-zero dropout expects num_layers greater than 1, but got "
                          f"dropout={dropout} and num_layers={num_layers}", stacklevel=2)
        _check_flag(bias, "bias")
        _check_flag(batch_first, "batch_first")
        _check_size(input_size, "input_size")
        _check_size(hidden_size, "hidden_size")
        _check_size(num_layers, "num_layers")
        if proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable "
                             "projections")
        if proj_size >= hidden_size:
            raise ValueError(f"proj_size has to be smaller than hidden_size, got "
                             f"proj_size={proj_size} and hidden_size={hidden_size}")
        if mode not in _GATES:
            raise ValueError("Unrecognized RNN mode: " + str(mode))
        self.mode = mode
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.dropout = bias, batch_first, float(dropout)
        self.bidirectional, self.proj_size = bidirectional, proj_size

        gate_size = _GATES[mode] * hidden_size
        # with a projection the state that travels (and is output) has proj_size features
        real_hidden = proj_size if proj_size > 0 else hidden_size
        self._flat_weights_names, self._all_weights = [], []
        for layer in range(num_layers):
            for direction in range(self._num_directions):
                layer_input = input_size if layer == 0 else real_hidden * self._num_directions
                shapes = [("weight_ih", (gate_size, layer_input)),
                          ("weight_hh", (gate_size, real_hidden))]
                if bias:
                    shapes += [("bias_ih", (gate_size,)), ("bias_hh", (gate_size,))]
                if proj_size > 0:
                    shapes += [("weight_hr", (proj_size, hidden_size))]
                suffix = "_reverse" if direction == 1 else ""
                names = []
                for stem, shape in shapes:
                    name = f"{stem}_l{layer}{suffix}"
                    setattr(self, name, Parameter(creation.empty(*shape, dtype=dtype)))
                    names.append(name)
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self.reset_parameters()

    @property
    def _num_directions(self):
        return 2 if self.bidirectional else 1

    def reset_parameters(self) -> None:
        """Every parameter ~ U(−1/√hidden_size, 1/√hidden_size), drawn in registration order
        (torch's order, so the same seed gives the same weights)."""
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    @property
    def _flat_weights(self):
        # looked up on every access, so a parameter replaced by assignment is always the one used
        return [getattr(self, name) for name in self._flat_weights_names]

    @property
    def all_weights(self):
        """The parameters grouped per layer and direction: [[w_ih, w_hh, b_ih, b_hh(, w_hr)], …]."""
        return [[getattr(self, name) for name in names] for names in self._all_weights]

    def flatten_parameters(self) -> None:
        """A no-op kept for torch code that calls it (it packs weights for cuDNN there)."""

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s

    # ---------------------------------------------------------------------- forward
    def forward(self, input, hx=None):
        """Run every layer over the whole sequence. See the subclass docstrings for shapes."""
        name = type(self).__name__
        lstm = self.mode == "LSTM"
        packed = isinstance(input, PackedSequence)
        if packed:
            data, batch_sizes = input.data, input.batch_sizes
            check_tensor(data, name)
            self._check_input(data, 2)
            batch = int(batch_sizes[0])
            # the packed data lists each time step's sequences longest first; the state rows
            # follow the caller's order, so they are put into the sorted order and back
            if hx is not None:
                self._split_hidden(hx)  # the type checks, before indexing into it
            hx = self._permute_hidden(hx, input.sorted_indices)
        else:
            check_tensor(input, name)
            if input.dim() not in (2, 3):
                raise ValueError(f"{name}: Expected input to be 2D or 3D, got {input.dim()}D "
                                 "tensor instead")
            batched = input.dim() == 3
            if not batched:
                input = input.unsqueeze(0 if self.batch_first else 1)
            hx = self._batch_hidden(hx, batched)
            if self.batch_first:
                input = input.transpose(0, 1)  # the loop runs over dim 0: (L, N, H_in)
            self._check_input(input, 3)
            if input.shape[0] == 0:
                raise RuntimeError(f"{name}: Expected sequence length to be larger than 0 in RNN")
            batch = input.shape[1]
            data, batch_sizes = input, None

        h0, c0 = self._initial_state(hx, data.dtype, batch)
        fused = self._fused(data, batch_sizes)
        # the composed loop works on a list of time steps (N_t, H_in); packed steps shrink in N_t
        inputs = data if fused else (list(data.unbind(0)) if batch_sizes is None
                                     else list(split(data, [int(b) for b in batch_sizes], 0)))
        directions, h_n, c_n = self._run(inputs, h0, c0, fused)
        output = self._joined(directions, fused, stack if batch_sizes is None else cat)

        if packed:
            output = PackedSequence(output, batch_sizes, input.sorted_indices,
                                    input.unsorted_indices)
            h_n, c_n = (self._permute_hidden(s, input.unsorted_indices) for s in (h_n, c_n))
        else:
            if self.batch_first:
                output = output.transpose(0, 1)
            if not batched:
                output = output.squeeze(0 if self.batch_first else 1)
                h_n = h_n.squeeze(1)
                c_n = c_n.squeeze(1) if lstm else None
        return output, ((h_n, c_n) if lstm else h_n)

    def _check_input(self, input, expected_dim):
        name = type(self).__name__
        weight = self.weight_ih_l0
        if input.dtype != weight.dtype:
            raise ValueError(f"{name}: RNN input dtype ({input.dtype}) does not match weight dtype "
                             f"({weight.dtype}). Convert input: input.to({weight.dtype}), or "
                             f"convert model: model.to({input.dtype})")
        if input.dim() != expected_dim:
            raise RuntimeError(f"{name}: input must have {expected_dim} dimensions, got "
                               f"{input.dim()}")
        if input.shape[-1] != self.input_size:
            raise RuntimeError(f"{name}: input.size(-1) must be equal to input_size. Expected "
                               f"{self.input_size}, got {input.shape[-1]}")

    def _state_sizes(self, batch):
        """Expected shapes of h_0 and (LSTM) c_0: (D·num_layers, N, H_out) and (…, H_cell)."""
        layers = self._num_directions * self.num_layers
        h_out = self.proj_size if self.proj_size > 0 else self.hidden_size
        return (layers, batch, h_out), (layers, batch, self.hidden_size)

    def _split_hidden(self, hx):
        """hx as the pair (h, c): an LSTM takes a tuple, the others a single tensor."""
        name = type(self).__name__
        if self.mode == "LSTM":
            if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                raise TypeError(f"{name}: hx must be a tuple (h_0, c_0) of two Tensors, got "
                                f"{type(hx).__name__}")
            check_tensor(hx[0], name, "h_0")
            check_tensor(hx[1], name, "c_0")
            return hx[0], hx[1]
        check_tensor(hx, name, "hx")
        return hx, None

    def _batch_hidden(self, hx, batched):
        """Check hx's dims against the input's; unbatched states get their batch dim here."""
        if hx is None:
            return None
        h, c = self._split_hidden(hx)
        want = 3 if batched else 2
        kind = "batched 3-D" if batched else "unbatched 2-D"
        if self.mode == "LSTM":
            if h.dim() != want or c.dim() != want:
                raise RuntimeError(f"LSTM: For {kind} input, hx and cx should also be {want}-D "
                                   f"but got ({h.dim()}-D, {c.dim()}-D) tensors")
        elif h.dim() != want:
            raise RuntimeError(f"{type(self).__name__}: For {kind} input, hx should also be "
                               f"{want}-D but got {h.dim()}-D tensor")
        if not batched:
            h, c = h.unsqueeze(1), (None if c is None else c.unsqueeze(1))
        return (h, c) if self.mode == "LSTM" else h

    def _permute_hidden(self, hx, permutation):
        if hx is None or permutation is None:
            return hx
        if isinstance(hx, (tuple, list)):
            return tuple(self._permute_hidden(s, permutation) for s in hx)
        return hx.index_select(1, permutation)

    def _initial_state(self, hx, dtype, batch):
        """h_0 (and c_0) checked against the expected shapes, or zeros when hx is None."""
        name = type(self).__name__
        h_size, c_size = self._state_sizes(batch)
        lstm = self.mode == "LSTM"
        if hx is None:
            return (creation.zeros(*h_size, dtype=dtype),
                    creation.zeros(*c_size, dtype=dtype) if lstm else None)
        h, c = self._split_hidden(hx)
        label = "hidden[0]" if lstm else "hidden"
        if tuple(h.shape) != h_size:
            raise RuntimeError(f"{name}: Expected {label} size {h_size}, got {list(h.shape)}")
        if lstm and tuple(c.shape) != c_size:
            raise RuntimeError(f"{name}: Expected hidden[1] size {c_size}, got {list(c.shape)}")
        return h, c

    def _fused(self, data, batch_sizes) -> bool:
        """Whether each layer runs as one :class:`~chainrule.nn.functional.recurrent.RecurrentLayer`
        node: a padded (not packed) float32/float64 batch, no projection, and no forward-mode
        tangents (the composed steps carry them, their rules being the tangents' own)."""
        return (batch_sizes is None and self.proj_size == 0
                and data._data.dtype in (np.float32, np.float64) and not FORWARD.active)

    def _run(self, inputs, h0, c0, fused):
        """The stacked, optionally bidirectional recurrence over ``inputs``: the (L, N, H_in)
        tensor when ``fused`` (one node per layer and direction), else a list of L tensors
        (N_t, H_in) (N_t = N, or the packed batch size of step t).

        Returns the last layer's outputs per direction (a tensor, or a list of L tensors), and
        the final states (D·num_layers, N, ·) ordered layer by layer, forward before reverse.
        The composed layers hand each other lists, not a stacked tensor: slicing a step back out
        of a stacked (L, N, ·) tensor would cost a full-size gradient per step in backward, O(L²).
        Dropout between layers: over each step's (N_t, D·H), or the fused layer's whole output,
        the same draws in the same order (torch's).
        """
        lstm = self.mode == "LSTM"
        run = self._fused_direction if fused else self._run_direction
        h_n, c_n = [], []
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(self._num_directions):
                k = layer * self._num_directions + direction
                ys, h, c = run(inputs, self.all_weights[k], h0[k], c0[k] if lstm else None,
                               reverse=direction == 1)
                outputs.append(ys)
                h_n.append(h)
                c_n.append(c)
            if layer < self.num_layers - 1:
                # the next layer reads both directions' h_t side by side, as torch's output
                if fused:
                    inputs = self._joined(outputs, fused)
                elif len(outputs) == 1:
                    inputs = outputs[0]
                else:
                    inputs = [cat(y, -1) for y in zip(*outputs)]
                if self.dropout and self.training:
                    inputs = (F.dropout(inputs, self.dropout, True) if fused else
                              [F.dropout(y, self.dropout, True) for y in inputs])
        return outputs, stack(h_n), (stack(c_n) if lstm else None)

    @staticmethod
    def _joined(directions, fused, join=stack):
        """The directions' outputs side by side: (L, N, D·H) (``join`` = cat for packed steps,
        (Σ N_t, D·H))."""
        outs = directions if fused else [join(ys) for ys in directions]
        return outs[0] if len(outs) == 1 else cat(outs, -1)

    def _fused_direction(self, x, weights, h, c, reverse):
        """One layer in one direction as one node; returns (L, N, H), the final h (and c)."""
        w_ih, w_hh, *biases = weights
        return recurrent_layer(self.mode, x, h, c, w_ih, w_hh, *biases, reverse=reverse)

    def _run_direction(self, steps, weights, h, c, reverse):
        """One layer in one direction; returns its h_t for every step, and the final h (and c).

        Packed input shrinks the batch over time (sequences sorted longest first): at step t
        only the first N_t rows advance and the rest keep their state, which is then the final
        state of a sequence that has ended (forward) or the initial state of one that has not
        started yet (reverse)."""
        w_ih, w_hh = weights[0], weights[1]
        b_ih, b_hh = (weights[2], weights[3]) if self.bias else (None, None)
        w_hr = weights[-1] if self.proj_size > 0 else None
        act = relu if self.mode == "RNN_RELU" else tanh
        ys = [None] * len(steps)
        full = h.shape[0]
        for t in (range(len(steps) - 1, -1, -1) if reverse else range(len(steps))):
            # the input projection per step (not one GEMM for all steps, then sliced): its
            # backward then adds small per-step products instead of full-size slice gradients
            gi = F.linear(steps[t], w_ih, b_ih)
            b = gi.shape[0]
            h_in = h if b == full else h[:b]
            if self.mode == "LSTM":
                h_new, c_new = _lstm_step(gi, h_in, c if b == full else c[:b], w_hh, b_hh, w_hr)
                c = c_new if b == full else cat([c_new, c[b:]])
            elif self.mode == "GRU":
                h_new = _gru_step(gi, h_in, w_hh, b_hh)
            else:
                h_new = _rnn_step(gi, h_in, w_hh, b_hh, act)
            h = h_new if b == full else cat([h_new, h[b:]])
            ys[t] = h_new
        return ys, h, c


class RNN(RNNBase):
    r"""A multi-layer Elman RNN: for each layer and each time step t,

        h_t = act(x_t W_ihᵀ + b_ih + h_{t−1} W_hhᵀ + b_hh),    act = tanh or relu,

    where x_t is the input for the first layer and the previous layer's h_t (after dropout in
    training, if ``dropout`` > 0) for the others.

    Args: input_size (H_in), hidden_size (H), num_layers=1, nonlinearity='tanh' | 'relu',
    bias=True, batch_first=False, dropout=0.0 (between layers), bidirectional=False (D = 2).

    Shapes: input (L, N, H_in), (N, L, H_in) with ``batch_first``, (L, H_in) unbatched, or a
    :class:`~chainrule.nn.utils.rnn.PackedSequence`; h_0 (D·num_layers, N, H) or
    (D·num_layers, H), zeros if omitted. Returns output (L, N, D·H) — the last layer's h_t for
    every t, forward and reverse directions concatenated — and h_n (D·num_layers, N, H).

    Parameters (k = layer): weight_ih_l{k} (H, H_in) for k = 0 else (H, D·H), weight_hh_l{k}
    (H, H), bias_ih_l{k} (H,), bias_hh_l{k} (H,); ``_reverse`` copies for D = 2. All start
    ~ U(−1/√H, 1/√H).

    Example::

        >>> rnn = nn.RNN(10, 20, num_layers=2)
        >>> output, h_n = rnn(cr.randn(5, 3, 10))      # (5, 3, 20), (2, 3, 20)
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 nonlinearity: str = "tanh", bias: bool = True, batch_first: bool = False,
                 dropout: float = 0.0, bidirectional: bool = False, device=None, dtype=None,
                 **kwargs):
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if kwargs:
            raise TypeError(f"RNN.__init__() got an unexpected keyword argument "
                            f"{next(iter(kwargs))!r}")
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or "
                             "'relu'.")
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", input_size,
                         hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         device=device, dtype=dtype)
        self.nonlinearity = nonlinearity


class LSTM(RNNBase):
    r"""A multi-layer long short-term memory RNN (Hochreiter & Schmidhuber 1997). Per layer and
    time step t, with σ the logistic sigmoid and ⊙ the elementwise product:

        i_t = σ(W_ii x_t + b_ii + W_hi h_{t−1} + b_hi)        input gate
        f_t = σ(W_if x_t + b_if + W_hf h_{t−1} + b_hf)        forget gate
        g_t = tanh(W_ig x_t + b_ig + W_hg h_{t−1} + b_hg)     candidate cell
        o_t = σ(W_io x_t + b_io + W_ho h_{t−1} + b_ho)        output gate
        c_t = f_t ⊙ c_{t−1} + i_t ⊙ g_t
        h_t = o_t ⊙ tanh(c_t)                                 (then h_t ← W_hr h_t if proj_size > 0)

    The cell state c_t is updated additively, so gradients pass many steps back through the
    f_t-scaled path without the repeated squashing that makes a plain RNN's gradients vanish.

    Args: input_size (H_in), hidden_size (H_cell), num_layers=1, bias=True, batch_first=False,
    dropout=0.0 (between layers), bidirectional=False (D = 2), proj_size=0 (if > 0, h_t is
    projected to H_out = proj_size features; otherwise H_out = H_cell).

    Shapes: input (L, N, H_in), (N, L, H_in) with ``batch_first``, (L, H_in) unbatched, or a
    PackedSequence; (h_0, c_0) of shapes (D·num_layers, N, H_out) and (D·num_layers, N, H_cell)
    (no N when unbatched), zeros if omitted. Returns output (L, N, D·H_out) and (h_n, c_n).

    Parameters (k = layer): weight_ih_l{k} (4·H_cell, H_in) for k = 0 else (4·H_cell, D·H_out),
    weight_hh_l{k} (4·H_cell, H_out), bias_ih_l{k}, bias_hh_l{k} (4·H_cell,), weight_hr_l{k}
    (H_out, H_cell) with proj_size; gates stacked i, f, g, o. All start ~ U(−1/√H_cell, 1/√H_cell).

    Example::

        >>> lstm = nn.LSTM(10, 20, num_layers=2, batch_first=True)
        >>> output, (h_n, c_n) = lstm(cr.randn(3, 5, 10))  # (3, 5, 20), (2, 3, 20) twice
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 proj_size: int = 0, device=None, dtype=None):
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, proj_size, device=device, dtype=dtype)


class GRU(RNNBase):
    r"""A multi-layer gated recurrent unit RNN (Cho et al. 2014). Per layer and time step t:

        r_t = σ(W_ir x_t + b_ir + W_hr h_{t−1} + b_hr)              reset gate
        z_t = σ(W_iz x_t + b_iz + W_hz h_{t−1} + b_hz)              update gate
        n_t = tanh(W_in x_t + b_in + r_t ⊙ (W_hn h_{t−1} + b_hn))   candidate state
        h_t = (1 − z_t) ⊙ n_t + z_t ⊙ h_{t−1}

    Args: input_size (H_in), hidden_size (H), num_layers=1, bias=True, batch_first=False,
    dropout=0.0 (between layers), bidirectional=False (D = 2).

    Shapes: as :class:`RNN`: input (L, N, H_in) / (N, L, H_in) / (L, H_in) / PackedSequence,
    h_0 (D·num_layers, N, H); returns output (L, N, D·H) and h_n (D·num_layers, N, H).

    Parameters (k = layer): weight_ih_l{k} (3·H, H_in) for k = 0 else (3·H, D·H), weight_hh_l{k}
    (3·H, H), bias_ih_l{k}, bias_hh_l{k} (3·H,); gates stacked r, z, n. All ~ U(−1/√H, 1/√H).

    Example::

        >>> gru = nn.GRU(10, 20, bidirectional=True)
        >>> output, h_n = gru(cr.randn(5, 3, 10))       # (5, 3, 40), (2, 3, 20)
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 device=None, dtype=None, **kwargs):
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if kwargs:
            raise TypeError(f"GRU.__init__() got an unexpected keyword argument "
                            f"{next(iter(kwargs))!r}")
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, device=device, dtype=dtype)


# ---------------------------------------------------------------------------------- cells
class RNNCellBase(Module):
    """Parameters and checks shared by the one-step cells: weight_ih (gates·H, H_in),
    weight_hh (gates·H, H), bias_ih and bias_hh (gates·H,), all ~ U(−1/√H, 1/√H)."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool, num_chunks: int,
                 device=None, dtype=None):
        super().__init__()
        check_device(device, type(self).__name__)
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        self.weight_ih = Parameter(creation.empty(num_chunks * hidden_size, input_size,
                                                  dtype=dtype))
        self.weight_hh = Parameter(creation.empty(num_chunks * hidden_size, hidden_size,
                                                  dtype=dtype))
        if bias:
            self.bias_ih = Parameter(creation.empty(num_chunks * hidden_size, dtype=dtype))
            self.bias_hh = Parameter(creation.empty(num_chunks * hidden_size, dtype=dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        return s

    def _prepare(self, input, states):
        """Check input and states; returns them batched (N, ·) and whether input was."""
        name = type(self).__name__
        check_tensor(input, name)
        if input.dim() not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.dim()}D instead")
        labels = ["hidden"] if len(states) == 1 else ["hx[0]", "hx[1]"]
        for label, s in zip(labels, states):
            if s is not None:
                check_tensor(s, name, label)
                if s.dim() not in (1, 2):
                    raise ValueError(f"{name}: Expected {label} to be 1D or 2D, got {s.dim()}D "
                                     "instead")
        if input.dtype != self.weight_ih.dtype:
            raise RuntimeError(f"{name}: input dtype ({input.dtype}) does not match weight dtype "
                               f"({self.weight_ih.dtype})")
        if input.shape[-1] != self.input_size:
            raise RuntimeError(f"{name}: input has inconsistent input_size: got "
                               f"{input.shape[-1]} expected {self.input_size}")
        batched = input.dim() == 2
        if not batched:
            input = input.unsqueeze(0)
        out = []
        for k, s in enumerate(states):
            if s is None:
                s = creation.zeros(input.shape[0], self.hidden_size, dtype=input.dtype)
            elif s.dim() != (2 if batched else 1):
                raise RuntimeError(f"{name}: for {1 + batched}-D input, hidden{k} should also "
                                   f"be {1 + batched}-D but got {s.dim()}-D")
            elif not batched:
                s = s.unsqueeze(0)
            if s.shape[1] != self.hidden_size:
                raise RuntimeError(f"{name}: hidden{k} has inconsistent hidden_size: got "
                                   f"{s.shape[1]}, expected {self.hidden_size}")
            if s.shape[0] != input.shape[0]:
                raise RuntimeError(f"{name}: Input batch size {input.shape[0]} doesn't match "
                                   f"hidden{k} batch size {s.shape[0]}")
            out.append(s)
        return input, out, batched

    def _gi(self, input):
        return F.linear(input, self.weight_ih, self.bias_ih)


class RNNCell(RNNCellBase):
    """One step of an Elman RNN: h' = act(x W_ihᵀ + b_ih + h W_hhᵀ + b_hh), act = tanh | relu.

    Args: input_size (H_in), hidden_size (H), bias=True, nonlinearity='tanh' | 'relu'.
    Shapes: input (N, H_in) or (H_in); hx (N, H) or (H), zeros if omitted -> h' (N, H) or (H).
    Parameters: weight_ih (H, H_in), weight_hh (H, H), bias_ih (H,), bias_hh (H,).

    Example::

        >>> cell = nn.RNNCell(10, 20)
        >>> h = cell(cr.randn(3, 10))          # (3, 20); feed h back in for the next step
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 nonlinearity: str = "tanh", device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=1, device=device, dtype=dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        act = _nonlinearity(self.nonlinearity, type(self).__name__)
        input, (h,), batched = self._prepare(input, [hx])
        h = _rnn_step(self._gi(input), h, self.weight_hh, self.bias_hh, act)
        return h if batched else h.squeeze(0)


class LSTMCell(RNNCellBase):
    """One LSTM step: i, f, g, o = σ, σ, tanh, σ of (x W_ihᵀ + b_ih + h W_hhᵀ + b_hh) split in
    four;  c' = f ⊙ c + i ⊙ g;  h' = o ⊙ tanh(c').

    Args: input_size (H_in), hidden_size (H), bias=True.
    Shapes: input (N, H_in) or (H_in); hx = (h, c), each (N, H) or (H), zeros if omitted ->
    (h', c'), each (N, H) or (H).
    Parameters: weight_ih (4H, H_in), weight_hh (4H, H), bias_ih, bias_hh (4H,); gates i, f, g, o.

    Example::

        >>> cell = nn.LSTMCell(10, 20)
        >>> h, c = cell(cr.randn(3, 10))       # both (3, 20)
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None,
                 dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=4, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        if hx is not None and (not isinstance(hx, (tuple, list)) or len(hx) != 2):
            raise TypeError(f"LSTMCell: hx must be a tuple (h, c) of two Tensors, got "
                            f"{type(hx).__name__}")
        input, (h, c), batched = self._prepare(input, [None, None] if hx is None else list(hx))
        h, c = _lstm_step(self._gi(input), h, c, self.weight_hh, self.bias_hh)
        return (h, c) if batched else (h.squeeze(0), c.squeeze(0))


class GRUCell(RNNCellBase):
    """One GRU step: r = σ(x W_irᵀ + b_ir + h W_hrᵀ + b_hr), z = σ(… z …),
    n = tanh(x W_inᵀ + b_in + r ⊙ (h W_hnᵀ + b_hn)),  h' = (1 − z) ⊙ n + z ⊙ h.

    Args: input_size (H_in), hidden_size (H), bias=True.
    Shapes: input (N, H_in) or (H_in); hx (N, H) or (H), zeros if omitted -> h' (N, H) or (H).
    Parameters: weight_ih (3H, H_in), weight_hh (3H, H), bias_ih, bias_hh (3H,); gates r, z, n.

    Example::

        >>> cell = nn.GRUCell(10, 20)
        >>> h = cell(cr.randn(3, 10))          # (3, 20)
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None,
                 dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=3, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        input, (h,), batched = self._prepare(input, [hx])
        h = _gru_step(self._gi(input), h, self.weight_hh, self.bias_hh)
        return h if batched else h.squeeze(0)
