"""Shared cases for the forward-mode, transform and gradcheck tests: every primitive of the core
(the reverse-mode suite's tables in test_ops, so a new op there is covered here too) and the
nn.functional primitives and composites, each as (id, chainrule fn, torch fn, float64 arrays)."""
import numpy as np
import torch
import torch.nn.functional as TF

import chainrule as cr
import chainrule.nn.functional as F
from test_ops import BINARY, INDEX, REDUCTIONS, SHAPE, UNARY

import cases_conv
import cases_linalg
import cases_nn
import cases_sampling
import cases_shape
import cases_sorting

R = np.random.default_rng(11)


def a(*shape, lo=None, scale=1.0):
    v = R.standard_normal(shape) * scale
    return np.abs(v) + lo if lo is not None else v


def to_np(t):
    return t.detach().numpy() if hasattr(t, "detach") else np.asarray(t)


CORE_CASES = [(c[0], c[1], c[2], [v.astype(np.float64) for v in c[3]]) for c in UNARY + BINARY] + \
    [(c[0], c[1], c[2], [a(2, 3, 4)]) for c in REDUCTIONS + SHAPE + INDEX]

_T = [0, 2, 1, 2]
_RM, _RV = a(3), a(3, lo=0.5)

NN_CASES = [
    ("cast_roundtrip", lambda x: x.to(cr.float32).to(cr.float64) * x,
     lambda x: x.to(torch.float32).to(torch.float64) * x, [a(3, 4)]),
    ("conv2d", lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1),
     lambda x, w, b: TF.conv2d(x, w, b, stride=2, padding=1), [a(1, 2, 5, 5), a(3, 2, 3, 3), a(3)]),
    ("conv2d_dilated_groups", lambda x, w: F.conv2d(x, w, padding=2, dilation=2, groups=2),
     lambda x, w: TF.conv2d(x, w, padding=2, dilation=2, groups=2), [a(1, 4, 4, 4), a(2, 2, 2, 2)]),
    ("conv1d", lambda x, w: F.conv1d(x, w, padding=1), lambda x, w: TF.conv1d(x, w, padding=1),
     [a(2, 2, 5), a(3, 2, 3)]),
    ("conv_transpose2d", lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1),
     lambda x, w, b: TF.conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1),
     [a(1, 2, 3, 3), a(2, 2, 3, 3), a(2)]),
    ("unfold", lambda x: F.unfold(x, 2, padding=1), lambda x: TF.unfold(x, 2, padding=1), [a(1, 2, 3, 3)]),
    ("fold", lambda x: F.fold(x, (3, 3), 2), lambda x: TF.fold(x, (3, 3), 2), [a(1, 8, 4)]),
    ("linear", F.linear, TF.linear, [a(4, 3), a(2, 3), a(2)]),
    ("linear_3d_no_bias", F.linear, TF.linear, [a(2, 2, 3), a(4, 3)]),
    ("linear_1d", F.linear, TF.linear, [a(3), a(2, 3), a(2)]),
    ("leaky_relu", lambda x: F.leaky_relu(x, 0.1), lambda x: TF.leaky_relu(x, 0.1), [a(3, 4)]),
    ("softplus_beta", lambda x: F.softplus(x, beta=2.0), lambda x: TF.softplus(x, beta=2.0), [a(3, 4, scale=3)]),
    ("logsigmoid", F.logsigmoid, TF.logsigmoid, [a(3, 4)]),
    ("gelu", F.gelu, TF.gelu, [a(3, 4)]),
    ("gelu_tanh", lambda x: F.gelu(x, approximate="tanh"), lambda x: TF.gelu(x, approximate="tanh"), [a(3, 4)]),
    ("elu", F.elu, TF.elu, [a(3, 4)]),
    ("silu", F.silu, TF.silu, [a(3, 4)]),
    ("hardtanh", F.hardtanh, TF.hardtanh, [a(3, 4, scale=2)]),
    ("batch_norm_train", lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
     lambda x, w, b: TF.batch_norm(x, None, None, w, b, training=True), [a(4, 3, 2), a(3), a(3)]),
    ("batch_norm_eval", lambda x: F.batch_norm(x, cr.tensor(_RM), cr.tensor(_RV)),
     lambda x: TF.batch_norm(x, torch.tensor(_RM), torch.tensor(_RV)), [a(4, 3)]),
    ("layer_norm", lambda x, w, b: F.layer_norm(x, (4,), w, b), lambda x, w, b: TF.layer_norm(x, (4,), w, b),
     [a(3, 4), a(4), a(4)]),
    ("max_pool2d", lambda x: F.max_pool2d(x, 2), lambda x: TF.max_pool2d(x, 2), [a(1, 2, 4, 4)]),
    ("max_pool2d_overlap_pad_dilation", lambda x: F.max_pool2d(x, 3, 1, padding=1, dilation=2, ceil_mode=True),
     lambda x: TF.max_pool2d(x, 3, 1, padding=1, dilation=2, ceil_mode=True), [a(1, 2, 5, 5)]),
    # max pooling's VJP as a function of (x, ȳ): forward-over-reverse on it reaches the VJP of the
    # VJP (MaxPoolScatter's adjoint, MaxPoolSelect)
    ("max_pool2d_vjp", lambda x, u: cr.func.vjp(lambda w: F.max_pool2d(w, 2), x)[1](u)[0],
     lambda x, u: torch.func.vjp(lambda w: TF.max_pool2d(w, 2), x)[1](u)[0], [a(1, 2, 4, 4), a(1, 2, 2, 2)]),
    ("avg_pool2d", lambda x: F.avg_pool2d(x, 2, padding=1), lambda x: TF.avg_pool2d(x, 2, padding=1),
     [a(1, 2, 4, 4)]),
    ("avg_pool2d_ceil_no_pad_count", lambda x: F.avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False),
     lambda x: TF.avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False), [a(1, 2, 6, 6)]),
    ("adaptive_max_pool2d", lambda x: F.adaptive_max_pool2d(x, (2, 3)),
     lambda x: TF.adaptive_max_pool2d(x, (2, 3)), [a(1, 2, 5, 5)]),
    ("adaptive_avg_pool2d", lambda x: F.adaptive_avg_pool2d(x, (3, 2)),
     lambda x: TF.adaptive_avg_pool2d(x, (3, 2)), [a(1, 2, 5, 5)]),
    ("cross_entropy_indices", lambda x: F.cross_entropy(x, cr.tensor(_T)),
     lambda x: TF.cross_entropy(x, torch.tensor(_T)), [a(4, 3)]),
    ("cross_entropy_sum", lambda x: F.cross_entropy(x, cr.tensor(_T), reduction="sum"),
     lambda x: TF.cross_entropy(x, torch.tensor(_T), reduction="sum"), [a(4, 3)]),
    ("cross_entropy_probs", F.cross_entropy, TF.cross_entropy, [a(4, 3), np.full((4, 3), 1 / 3)]),
    ("nll_loss", lambda x: F.nll_loss(x, cr.tensor(_T)), lambda x: TF.nll_loss(x, torch.tensor(_T)), [a(4, 3)]),
    ("mse_loss", F.mse_loss, TF.mse_loss, [a(3, 4), a(3, 4)]),
    ("huber_loss", F.huber_loss, TF.huber_loss, [a(3, 4, scale=2), a(3, 4)]),
    ("bce", F.binary_cross_entropy, TF.binary_cross_entropy,
     [1 / (1 + np.exp(-a(3, 4))), R.uniform(0, 1, (3, 4))]),
    ("bce_with_logits", F.binary_cross_entropy_with_logits, TF.binary_cross_entropy_with_logits,
     [a(3, 4), R.uniform(0, 1, (3, 4))]),
    ("kl_div", lambda x, y: F.kl_div(x, y, reduction="batchmean"),
     lambda x, y: TF.kl_div(x, y, reduction="batchmean"), [a(3, 4), a(3, 4, lo=0.1)]),
    ("embedding", lambda w: F.embedding(cr.tensor([[0, 2], [1, 1]]), w),
     lambda w: TF.embedding(torch.tensor([[0, 2], [1, 1]]), w), [a(3, 4)]),
]

# the breadth tables live in one file per area (tests/cases_*.py)
NN_CASES += (cases_sorting.CASES + cases_shape.CASES + cases_linalg.CASES + cases_nn.CASES
             + cases_conv.CASES + cases_sampling.CASES)

ALL_CASES = CORE_CASES + NN_CASES
