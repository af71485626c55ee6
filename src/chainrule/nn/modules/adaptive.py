"""AdaptiveLogSoftmaxWithLoss (Grave et al. 2017, "Efficient softmax approximation for GPUs"):
frequent classes in a head softmax, rare ones in clusters reached through the head."""
from __future__ import annotations

from collections import namedtuple

import numpy as np

from ...ops.indexing import IndexAdd
from ...ops.shape import cat
from .. import functional as F
from .container import ModuleList, Sequential
from .linear import Linear
from .module import Module

_ASMoutput = namedtuple("_ASMoutput", ["output", "loss"])


class AdaptiveLogSoftmaxWithLoss(Module):
    """log p(y | x) with classes split by ``cutoffs`` = [c₁, …, c_k]: the shortlist [0, c₁) and
    one token per cluster share the head softmax; class y in cluster i has
    log p(y) = log p_head(cluster i) + log p_i(y − c_i), p_i a softmax over the cluster computed
    from a (in_features → in_features // div_valueⁱ → cluster size) projection.

    Parameters (torch's names): ``head`` Linear(in_features, c₁ + k, bias=head_bias), ``tail`` a
    ModuleList of Sequential(Linear(in, h, bias=False), Linear(h, size, bias=False)).
    forward(input (N, in) or (in,), target (N,) or ()) -> (output: log p(target) (N,) or (),
    loss: mean −output); ``log_prob(input)`` (N, n_classes); ``predict(input)`` (N,) int64."""

    def __init__(self, in_features, n_classes, cutoffs, div_value=4.0, head_bias=False,
                 device=None, dtype=None):
        super().__init__()
        cutoffs = list(cutoffs)
        if len(cutoffs) == 0:
            raise ValueError("cutoffs should be a sequence of length larger than 0")
        if (cutoffs != sorted(cutoffs) or min(cutoffs) <= 0 or max(cutoffs) > n_classes - 1
                or len(set(cutoffs)) != len(cutoffs) or any(int(c) != c for c in cutoffs)):
            raise ValueError("cutoffs should be a sequence of unique, positive integers sorted in "
                             "an increasing order, where each value is between 1 and n_classes-1")
        self.in_features, self.n_classes = in_features, n_classes
        self.cutoffs = cutoffs + [n_classes]
        self.div_value, self.head_bias = div_value, head_bias
        self.shortlist_size = self.cutoffs[0]
        self.n_clusters = len(self.cutoffs) - 1
        self.head_size = self.shortlist_size + self.n_clusters
        self.head = Linear(in_features, self.head_size, bias=head_bias, device=device, dtype=dtype)
        self.tail = ModuleList()
        for i in range(self.n_clusters):
            hsz = int(in_features // (div_value ** (i + 1)))
            osz = self.cutoffs[i + 1] - self.cutoffs[i]
            self.tail.append(Sequential(
                Linear(in_features, hsz, bias=False, device=device, dtype=dtype),
                Linear(hsz, osz, bias=False, device=device, dtype=dtype)))

    def reset_parameters(self):
        self.head.reset_parameters()
        for i2h, h2o in self.tail:
            i2h.reset_parameters()
            h2o.reset_parameters()

    def forward(self, input_, target_):
        """(log p(target | input) per row, its negated mean) — torch's ``_ASMoutput``."""
        if target_.ndim == 1:
            if input_.shape[0] != target_.shape[0]:
                raise RuntimeError("Input and target should have the same size in the batch "
                                   "dimension.")
            if input_.ndim != 2:
                raise RuntimeError(f"1D target tensor expects 2D input tensors, but found inputs "
                                   f"with size {tuple(input_.shape)}")
        elif target_.ndim == 0:
            if input_.ndim != 1:
                raise RuntimeError(f"0D target tensor expects 1D input tensors, but found inputs "
                                   f"with size {tuple(input_.shape)}")
        else:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
        batched = target_.ndim > 0
        input = input_ if batched else input_.unsqueeze(0)
        target = (target_ if batched else target_.unsqueeze(0))._data
        n = target.shape[0]
        gather = np.zeros(n, np.int64)
        bounds = [0] + self.cutoffs
        used, output = 0, None
        for i in range(len(bounds) - 1):
            rows = np.flatnonzero((target >= bounds[i]) & (target < bounds[i + 1]))
            if rows.size == 0:
                continue
            used += rows.size
            if i == 0:
                gather[rows] = target[rows]
                continue
            gather[rows] = self.shortlist_size + i - 1
            logp = F.log_softmax(self.tail[i - 1](input[rows]), 1)
            local = logp[np.arange(rows.size), target[rows] - bounds[i]]
            part = IndexAdd.apply(local, key=rows, shape=(n,), basic=False)
            output = part if output is None else output + part
        if used != n:
            raise RuntimeError(f"Target values should be in [0, {self.n_classes - 1}], but values "
                               f"in range [{int(target.min())}, {int(target.max())}] were found. ")
        head_logp = F.log_softmax(self.head(input), 1)
        head_part = head_logp[np.arange(n), gather]
        output = head_part if output is None else output + head_part
        loss = (-output).mean()
        return _ASMoutput(output if batched else output.squeeze(0), loss)

    def _get_full_log_prob(self, input, head_output):
        head_logp = F.log_softmax(head_output, 1)
        parts = [head_logp[:, :self.shortlist_size]]
        for i in range(self.n_clusters):
            cluster = F.log_softmax(self.tail[i](input), 1)
            parts.append(cluster + head_logp[:, self.shortlist_size + i].unsqueeze(1))
        return cat(parts, 1)

    def log_prob(self, input):
        """log p(c | input) for every class c. Shapes: (N, in_features) -> (N, n_classes)."""
        return self._get_full_log_prob(input, self.head(input))

    def predict(self, input):
        """argmax_c p(c | input), the full distribution computed only for rows whose head
        argmax is a cluster token. Shapes: (N, in_features) -> (N,) int64."""
        head_output = self.head(input)
        output = head_output.argmax(1)
        outside = output._data >= self.shortlist_size
        if not outside.any():
            return output
        rows = np.flatnonzero(outside)
        best = self._get_full_log_prob(input[rows], head_output[rows]).argmax(1)
        result = output._data.copy()
        result[rows] = best._data
        return output._make(result)
