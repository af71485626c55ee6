"""The nn breadth ops' cases for the shared tables of `ad_cases` (forward mode, gradcheck, node
names): (id, chainrule fn, torch fn, float64 arrays), the form of `ad_cases.NN_CASES`."""
import numpy as np
import torch
import torch.nn.functional as TF

import chainrule as cr
import chainrule.nn.functional as F

_R = np.random.default_rng(23)


def _a(*shape, scale=1.0):
    return _R.standard_normal(shape) * scale


_MASK = _R.random((3, 5)) > 0.4
_MASK[:, 0] = True
_DEAD = _MASK.copy()
_DEAD[1] = False

CASES = [
    ("celu", lambda x: F.celu(x, 0.7), lambda x: TF.celu(x, 0.7), [_a(3, 4, scale=2)]),
    ("selu", F.selu, TF.selu, [_a(3, 4, scale=2)]),
    ("relu6", F.relu6, TF.relu6, [_a(3, 4, scale=5)]),
    ("hardswish", F.hardswish, TF.hardswish, [_a(3, 4, scale=3)]),
    # (no hardsigmoid: torch has neither a second derivative nor forward-over-reverse for it)
    ("mish", F.mish, TF.mish, [_a(3, 4, scale=2)]),
    ("softsign", F.softsign, TF.softsign, [_a(3, 4, scale=2)]),
    ("glu", F.glu, TF.glu, [_a(3, 4)]),
    ("glu_dim0", lambda x: F.glu(x, 0), lambda x: TF.glu(x, 0), [_a(4, 3)]),
    ("softmin", lambda x: F.softmin(x, 1), lambda x: TF.softmin(x, 1), [_a(3, 4)]),
    ("hardshrink", F.hardshrink, TF.hardshrink, [_a(3, 4)]),
    ("softshrink", lambda x: F.softshrink(x, 0.3), lambda x: TF.softshrink(x, 0.3), [_a(3, 4)]),
    ("tanhshrink", F.tanhshrink, TF.tanhshrink, [_a(3, 4)]),
    ("threshold", lambda x: F.threshold(x, 0.1, -2.0), lambda x: TF.threshold(x, 0.1, -2.0),
     [_a(3, 4)]),
    ("prelu", F.prelu, TF.prelu, [_a(2, 3, 4, scale=2), _a(3)]),
    ("prelu_shared", F.prelu, TF.prelu, [_a(2, 3, scale=2), _a(1)]),
    ("normalize", F.normalize, TF.normalize, [_a(3, 4)]),
    ("normalize_p1", lambda x: F.normalize(x, 1.0, 0), lambda x: TF.normalize(x, 1.0, 0), [_a(3, 4)]),
    ("group_norm", lambda x, w, b: F.group_norm(x, 2, w, b),
     lambda x, w, b: TF.group_norm(x, 2, w, b), [_a(2, 4, 3), _a(4), _a(4)]),
    ("group_norm_plain", lambda x: F.group_norm(x, 3), lambda x: TF.group_norm(x, 3), [_a(2, 6, 2, 2)]),
    ("instance_norm", lambda x, w, b: F.instance_norm(x, weight=w, bias=b),
     lambda x, w, b: TF.instance_norm(x, weight=w, bias=b), [_a(2, 3, 4), _a(3), _a(3)]),
    ("sdpa", F.scaled_dot_product_attention, TF.scaled_dot_product_attention,
     [_a(2, 3, 4), _a(2, 5, 4), _a(2, 5, 3)]),
    ("sdpa_causal_bool_mask", lambda q, k, v: F.scaled_dot_product_attention(q, k, v, cr.tensor(_MASK)),
     lambda q, k, v: TF.scaled_dot_product_attention(q, k, v, torch.tensor(_MASK)),
     [_a(2, 3, 4), _a(2, 5, 4), _a(2, 5, 3)]),
    ("sdpa_causal_scaled", lambda q, k, v: F.scaled_dot_product_attention(
        q, k, v, is_causal=True, scale=0.3),
     lambda q, k, v: TF.scaled_dot_product_attention(q, k, v, is_causal=True, scale=0.3),
     [_a(2, 2, 4, 3), _a(2, 2, 4, 3), _a(2, 2, 4, 5)]),
    # a float mask is differentiated too; the (3, 5) bool mask with a row masked throughout
    ("sdpa_float_mask", F.scaled_dot_product_attention, TF.scaled_dot_product_attention,
     [_a(2, 3, 4), _a(2, 5, 4), _a(2, 5, 3), _a(3, 5)]),
    ("sdpa_dead_row", lambda q, k, v: F.scaled_dot_product_attention(q, k, v, cr.tensor(_DEAD)),
     lambda q, k, v: TF.scaled_dot_product_attention(q, k, v, torch.tensor(_DEAD)),
     [_a(2, 3, 4), _a(2, 5, 4), _a(2, 5, 3)]),
    ("sdpa_gqa", lambda q, k, v: F.scaled_dot_product_attention(q, k, v, enable_gqa=True),
     lambda q, k, v: TF.scaled_dot_product_attention(q, k, v, enable_gqa=True),
     [_a(1, 4, 3, 2), _a(1, 2, 5, 2), _a(1, 2, 5, 3)]),
    ("rrelu_eval", lambda x: F.rrelu(x, 0.1, 0.3), lambda x: TF.rrelu(x, 0.1, 0.3), [_a(3, 4)]),
    ("rms_norm", lambda x, w: F.rms_norm(x, (4,), w), lambda x, w: TF.rms_norm(x, (4,), w),
     [_a(3, 4), _a(4)]),
    ("local_response_norm", lambda x: F.local_response_norm(x, 3, 0.5, 0.8, 2.0),
     lambda x: TF.local_response_norm(x, 3, 0.5, 0.8, 2.0), [_a(2, 4, 3)]),
]


# One recurrent layer in one direction as one node (RecurrentLayer), against torch's own layer
# functions (torch.lstm / gru / rnn_tanh / rnn_relu, one layer): the reverse direction is the
# forward one on the time-reversed sequence; an LSTM's output is h_t for every t, then c_L.
def _torch_layer(fn, x, states, weights, reverse):
    xs = x.flip(0) if reverse else x
    out, *rest = fn(xs, states, weights, len(weights) == 4, 1, 0.0, False, False, False)
    out = out.flip(0) if reverse else out
    return torch.cat([out, rest[1]]) if len(rest) == 2 else out   # (LSTM: h_L, c_L follow)


def _layer_case(name, mode, n_states, bias, reverse):
    from chainrule.nn.functional.recurrent import recurrent_layer
    fn = {"LSTM": torch.lstm, "GRU": torch.gru, "RNN_TANH": torch.rnn_tanh,
          "RNN_RELU": torch.rnn_relu}[mode]
    gates = {"LSTM": 4, "GRU": 3}.get(mode, 1) * 2

    def mine(x, *rest):
        states, weights = rest[:n_states], rest[n_states:]
        c0 = states[1] if n_states == 2 else None
        ys, _, c = recurrent_layer(mode, x, states[0], c0, *weights, reverse=reverse)
        return ys if c is None else cr.cat([ys, c[None]])

    def theirs(x, *rest):
        states = tuple(s[None] for s in rest[:n_states])
        return _torch_layer(fn, x, states if n_states == 2 else states[0], list(rest[n_states:]),
                            reverse)
    arrays = [_a(3, 2, 3)] + [_a(2, 2) for _ in range(n_states)] + [_a(gates, 3), _a(gates, 2)]
    if bias:
        arrays += [_a(gates), _a(gates)]
    return (name, mine, theirs, arrays)


CASES += [_layer_case("lstm_layer", "LSTM", 2, True, False),
          _layer_case("lstm_layer_reverse_no_bias", "LSTM", 2, False, True),
          _layer_case("gru_layer", "GRU", 1, True, False),
          _layer_case("gru_layer_reverse", "GRU", 1, True, True),
          _layer_case("rnn_tanh_layer", "RNN_TANH", 1, True, False),
          _layer_case("rnn_relu_layer_reverse", "RNN_RELU", 1, False, True)]
