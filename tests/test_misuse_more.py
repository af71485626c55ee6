"""More careless-user misuse, run against torch and chainrule (the runner of tests/test_misuse.py).

Each case is ``lambda lib: ...``. Where torch raises, chainrule raises the same exception type
(or a subclass) and its message holds the case's fragment, which starts with the op's name.
Where torch returns, chainrule returns the same value. ``warns``: a fragment of a UserWarning
that torch emits and chainrule must emit too (``once``: torch emits it once per process, so only
chainrule's is checked here; torch's text was read from a fresh process).
"""
from __future__ import annotations

import re
import warnings
from typing import NamedTuple

import numpy as np
import pytest
import torch

import chainrule as cr
from test_misuse import check_against_torch


class C(NamedTuple):
    category: str
    name: str
    fn: object
    match: str | None = None     # fragment of chainrule's message (names the op) where torch raises
    warns: str | None = None     # fragment of a UserWarning both libraries emit
    once: bool = False           # torch warns once per process (TORCH_WARN_ONCE): chainrule only


def F(lib):
    return lib.nn.functional


def leaf(lib, *size):
    return lib.ones(*(size or (3,)), requires_grad=True)


def relu_inplace_no_grad(lib):
    x = leaf(lib)
    with lib.no_grad():
        F(lib).relu(x * -1, inplace=True)
        F(lib).relu(x, inplace=True)
    return x.detach()


def backward_with(lib, gradient):
    x = leaf(lib, 2)
    (x * 2).backward(gradient)
    return x.grad


def grad_with(lib, seed):
    x = leaf(lib, 2)
    return lib.autograd.grad(x * 3, [x], seed)


def ds(lib, n=4):
    return lib.utils.data.TensorDataset(lib.arange(n * 2.0).reshape(n, 2), lib.arange(n))


def first_batch(lib, samples):
    return next(iter(lib.utils.data.DataLoader(samples, batch_size=len(samples))))


def cat_accumulator_grads(lib):
    acc, x = lib.tensor([], requires_grad=True), lib.ones(2, 3, requires_grad=True)
    (lib.cat([acc, x]) * 2).sum().backward()
    return acc.grad, x.grad


def bn_batches_after_int_input(lib):
    m = lib.nn.BatchNorm1d(3)
    try:
        m(lib.ones(2, 3, dtype=lib.int64))
    except RuntimeError:
        pass
    return m.num_batches_tracked


def set_item(lib, t, key, value):
    t[key] = value
    return t


def grads_of_parameters(lib):
    lib.manual_seed(0)
    m = lib.nn.Linear(3, 2)
    return lib.autograd.grad(m(lib.ones(1, 3)).sum(), m.parameters())


def run_function(lib, backward, save=None):
    class Fn(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            if save is not None:
                save(ctx, x)
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return backward(ctx, g)
    x = leaf(lib, 2)
    Fn.apply(x).sum().backward()
    return x.grad


def grad_of_updated_weight(lib):
    w = leaf(lib, 2)
    w = w - 0.1      # the classic slip: w is now a non-leaf, its .grad stays None
    (w * w).sum().backward()
    return w.grad


def grad_of_retained(lib):
    x = leaf(lib, 2)
    y = x * 2
    y.retain_grad()
    y.sum().backward()
    return y.grad


def linear_params(lib):
    lib.manual_seed(0)
    return lib.nn.Linear(3, 2).parameters()


CASES = [
    # ------------------------------------------------------------------ losses: target dtypes and shapes
    C("loss", "cross_entropy int32 target", lambda lib: F(lib).cross_entropy(lib.ones(2, 3), lib.tensor([0, 1], dtype=lib.int32)), "nll_loss: expected target dtype to be Long or Byte"),
    C("loss", "cross_entropy int16 target", lambda lib: F(lib).cross_entropy(lib.ones(2, 3), lib.tensor([0, 1], dtype=lib.int16)), "nll_loss: expected target dtype to be Long or Byte"),
    C("loss", "cross_entropy uint8 target", lambda lib: F(lib).cross_entropy(lib.ones(2, 3), lib.tensor([0, 1], dtype=lib.uint8))),
    C("loss", "nll_loss int32 target", lambda lib: F(lib).nll_loss(lib.ones(2, 3), lib.tensor([0, 1], dtype=lib.int32)), "nll_loss: expected target dtype to be Long or Byte"),
    C("loss", "nll_loss int32 spatial target", lambda lib: F(lib).nll_loss(lib.ones(2, 3, 2, 2), lib.zeros(2, 2, 2, dtype=lib.int32)), "nll_loss: expected target dtype"),
    C("loss", "nll_loss int64 input", lambda lib: F(lib).nll_loss(lib.ones(2, 3, dtype=lib.int64), lib.tensor([0, 1])), "nll_loss: not implemented for 'Long'"),
    C("loss", "nll_loss float64 weight", lambda lib: F(lib).nll_loss(lib.ones(2, 3), lib.tensor([0, 1]), weight=lib.ones(3, dtype=lib.float64)), "nll_loss: expected scalar type Float but found Double"),
    C("loss", "cross_entropy int weight", lambda lib: F(lib).cross_entropy(lib.ones(2, 3), lib.tensor([0, 1]), weight=lib.tensor([1, 1, 1])), "nll_loss: expected scalar type Float but found Long"),
    C("loss", "cross_entropy prob target float64 weight", lambda lib: F(lib).cross_entropy(lib.ones(2, 3), lib.full((2, 3), 1 / 3), weight=lib.ones(3, dtype=lib.float64))),
    C("loss", "cross_entropy 1-d logits, 2 targets", lambda lib: F(lib).cross_entropy(lib.ones(3), lib.tensor([0, 1])), "nll_loss: For 1D input, 1D target must have size 1"),
    C("loss", "nll_loss 1-d input, 2 targets", lambda lib: F(lib).nll_loss(lib.ones(3), lib.tensor([0, 1])), "nll_loss: For 1D input, 1D target must have size 1"),
    C("loss", "cross_entropy 1-d logits, [1] target", lambda lib: F(lib).cross_entropy(lib.ones(3), lib.tensor([1]))),
    C("loss", "cross_entropy 0-d logits", lambda lib: F(lib).cross_entropy(lib.tensor(1.0), lib.tensor(0)), "cross_entropy: input must have a class dimension"),
    C("loss", "cross_entropy probabilities with ignore_index", lambda lib: F(lib).cross_entropy(lib.ones(2, 3), lib.full((2, 3), 1 / 3), ignore_index=1), "cross_entropy: ignore_index is not supported"),
    C("loss", "cross_entropy float target of another batch", lambda lib: F(lib).cross_entropy(lib.ones(2, 3), lib.tensor([0.0, 1.0, 2.0])), "cross_entropy: Expected input batch_size (2) to match target batch_size (3)"),
    C("loss", "cross_entropy float target (N, C+1)", lambda lib: F(lib).cross_entropy(lib.ones(2, 3), lib.ones(2, 4)), "cross_entropy: probability targets must have the input's shape"),
    C("loss", "mse_loss of int64", lambda lib: F(lib).mse_loss(lib.tensor([1, 2]), lib.tensor([1, 3])), "mse_loss: not implemented for 'Long'"),
    C("loss", "mse_loss of bool", lambda lib: F(lib).mse_loss(lib.tensor([True]), lib.tensor([False])), "mse_loss: not implemented for 'Bool'"),
    C("loss", "l1_loss of int64", lambda lib: F(lib).l1_loss(lib.tensor([1, 2]), lib.tensor([1, 3])), "l1_loss: not implemented for 'Long'"),
    C("loss", "smooth_l1_loss of int64", lambda lib: F(lib).smooth_l1_loss(lib.tensor([1, 2]), lib.tensor([1, 3])), "smooth_l1_loss: not implemented"),
    C("loss", "huber_loss of int64", lambda lib: F(lib).huber_loss(lib.tensor([1, 2]), lib.tensor([1, 3])), "huber_loss: not implemented"),
    C("loss", "mse_loss int input, float target", lambda lib: F(lib).mse_loss(lib.tensor([1, 2]), lib.tensor([1.0, 3.0]))),
    C("loss", "binary_cross_entropy of a nan", lambda lib: F(lib).binary_cross_entropy(lib.tensor([float("nan"), 0.5]), lib.tensor([1.0, 0.0])), "binary_cross_entropy: all elements of input should be between 0 and 1"),
    C("loss", "binary_cross_entropy target 1.5", lambda lib: F(lib).binary_cross_entropy(lib.full((2,), 0.5), lib.tensor([1.5, 1.0])), "binary_cross_entropy: all elements of target should be between 0 and 1"),
    C("loss", "binary_cross_entropy target nan", lambda lib: F(lib).binary_cross_entropy(lib.full((2,), 0.5), lib.tensor([float("nan"), 1.0])), "binary_cross_entropy: all elements of target"),
    C("loss", "binary_cross_entropy of int64", lambda lib: F(lib).binary_cross_entropy(lib.tensor([1, 0]), lib.tensor([1, 0])), "binary_cross_entropy: not implemented for 'Long'"),
    C("loss", "binary_cross_entropy weight (N,)", lambda lib: F(lib).binary_cross_entropy(lib.full((2, 3), 0.5), lib.ones(2, 3), weight=lib.ones(2)), "binary_cross_entropy: weight of shape (2,) cannot be broadcast"),
    C("loss", "binary_cross_entropy weight (N, 1)", lambda lib: F(lib).binary_cross_entropy(lib.full((2, 3), 0.5), lib.ones(2, 3), weight=lib.ones(2, 1))),
    C("loss", "bce_with_logits weight (N,)", lambda lib: F(lib).binary_cross_entropy_with_logits(lib.full((2, 3), 0.5), lib.ones(2, 3), weight=lib.ones(2)), "binary_cross_entropy_with_logits: weight of shape (2,)"),
    C("loss", "bce_with_logits pos_weight (N,)", lambda lib: F(lib).binary_cross_entropy_with_logits(lib.ones(2, 3), lib.zeros(2, 3), pos_weight=lib.ones(2)), "binary_cross_entropy_with_logits: pos_weight of shape (2,)"),
    C("loss", "bce_with_logits int64 target", lambda lib: F(lib).binary_cross_entropy_with_logits(lib.ones(2), lib.tensor([1, 0])), "binary_cross_entropy_with_logits: result type Float can't be cast"),
    C("loss", "bce_with_logits bool target", lambda lib: F(lib).binary_cross_entropy_with_logits(lib.ones(2), lib.tensor([True, False])), "binary_cross_entropy_with_logits: result type"),
    C("loss", "BCEWithLogitsLoss int64 target", lambda lib: lib.nn.BCEWithLogitsLoss()(lib.ones(2), lib.tensor([1, 0])), "binary_cross_entropy_with_logits: result type"),
    C("loss", "bce_with_logits int64 logits", lambda lib: F(lib).binary_cross_entropy_with_logits(lib.tensor([1, 0]), lib.ones(2)), "binary_cross_entropy_with_logits: not implemented for 'Long'"),
    C("loss", "bce_with_logits float64 target", lambda lib: F(lib).binary_cross_entropy_with_logits(lib.ones(2), lib.ones(2, dtype=lib.float64))),
    C("loss", "bce_with_logits target 1.5", lambda lib: F(lib).binary_cross_entropy_with_logits(lib.full((2,), 0.5), lib.tensor([1.5, 1.0]))),
    C("loss", "kl_div of int64", lambda lib: F(lib).kl_div(lib.tensor([1, 2]), lib.tensor([1, 2]), reduction="sum"), "kl_div: Integral inputs not supported"),
    C("loss", "kl_div float input, int target", lambda lib: F(lib).kl_div(lib.tensor([1.0, 2.0]), lib.tensor([1, 2]), reduction="sum"), "kl_div: Integral inputs not supported"),
    C("loss", "kl_div reduction mean warns", lambda lib: F(lib).kl_div(lib.full((2, 2), -0.5), lib.full((2, 2), 0.25)), None, "'batchmean' divides only by the batch size"),
    C("loss", "KLDivLoss default warns", lambda lib: lib.nn.KLDivLoss()(lib.full((2, 2), -0.5), lib.full((2, 2), 0.25)), None, "'batchmean' divides only by the batch size"),
    # ------------------------------------------------------------------ activations, dropout: integer inputs and bad arguments
    C("activation", "leaky_relu of int64", lambda lib: F(lib).leaky_relu(lib.tensor([-1, 2])), 'leaky_relu: "leaky_relu_cpu" not implemented for \'Long\''),
    C("activation", "elu of int64", lambda lib: F(lib).elu(lib.tensor([-1, 2])), 'elu: "elu_cpu" not implemented'),
    C("activation", "selu of int64", lambda lib: F(lib).selu(lib.tensor([-1, 2])), "selu: "),
    C("activation", "celu of int64", lambda lib: F(lib).celu(lib.tensor([-1, 2])), "celu: "),
    C("activation", "gelu of int64", lambda lib: F(lib).gelu(lib.tensor([-1, 2])), 'gelu: "GeluKernelImpl" not implemented'),
    C("activation", "GELU module of int64", lambda lib: lib.nn.GELU()(lib.tensor([-1, 2])), "gelu: "),
    C("activation", "silu of int64", lambda lib: F(lib).silu(lib.tensor([-1, 2])), "silu: "),
    C("activation", "mish of int64", lambda lib: F(lib).mish(lib.tensor([-1, 2])), "mish: "),
    C("activation", "softplus of int64", lambda lib: F(lib).softplus(lib.tensor([-1, 2])), "softplus: "),
    C("activation", "hardswish of int64", lambda lib: F(lib).hardswish(lib.tensor([-1, 2])), "hardswish: "),
    C("activation", "hardsigmoid of int64", lambda lib: F(lib).hardsigmoid(lib.tensor([-1, 2])), "hardsigmoid: "),
    C("activation", "logsigmoid of int64", lambda lib: F(lib).logsigmoid(lib.tensor([-1, 2])), "logsigmoid: "),
    C("activation", "hardshrink of int64", lambda lib: F(lib).hardshrink(lib.tensor([-1, 2])), "hardshrink: "),
    C("activation", "softshrink of int64", lambda lib: F(lib).softshrink(lib.tensor([-1, 2])), "softshrink: "),
    C("activation", "glu of int64", lambda lib: F(lib).glu(lib.tensor([[-1, 2]])), "glu: "),
    C("activation", "rrelu of int64", lambda lib: F(lib).rrelu(lib.tensor([-1, 2])), "rrelu: "),
    C("activation", "relu of int64 stays int", lambda lib: F(lib).relu(lib.tensor([-1, 2]))),
    C("activation", "softsign of int64 is float", lambda lib: F(lib).softsign(lib.tensor([-1, 2]))),
    C("activation", "gelu approximate='fast'", lambda lib: F(lib).gelu(lib.ones(2), approximate="fast"), "gelu: approximate argument must be either none or tanh"),
    C("activation", "hardtanh min > max", lambda lib: F(lib).hardtanh(lib.ones(2), 1.0, -1.0), "hardtanh: min_val cannot be greater than max_val"),
    C("activation", "leaky_relu slope a string", lambda lib: F(lib).leaky_relu(lib.ones(2), "a"), "leaky_relu: argument 'negative_slope' must be a Number"),
    C("activation", "relu inplace on a leaf", lambda lib: F(lib).relu(leaf(lib), inplace=True), "relu_: a leaf Variable that requires grad"),
    C("activation", "ReLU(inplace) on a leaf", lambda lib: lib.nn.ReLU(inplace=True)(leaf(lib)), "relu_: a leaf Variable that requires grad"),
    C("activation", "relu inplace on a leaf under no_grad", lambda lib: relu_inplace_no_grad(lib)),
    C("activation", "softmax without dim warns", lambda lib: F(lib).softmax(lib.tensor([[1.0, 2.0, 3.0]])), None, "Implicit dimension choice for softmax"),
    C("activation", "log_softmax without dim warns", lambda lib: F(lib).log_softmax(lib.tensor([[1.0, 2.0, 3.0]])), None, "Implicit dimension choice for log_softmax"),
    C("activation", "softmin without dim warns", lambda lib: F(lib).softmin(lib.tensor([[1.0, 2.0, 3.0]])), None, "Implicit dimension choice for softmin"),
    C("activation", "Softmax() without dim warns", lambda lib: lib.nn.Softmax()(lib.tensor([[[1.0, 2.0]]])), None, "Implicit dimension choice for softmax"),
    C("activation", "torch.softmax without dim", lambda lib: lib.softmax(lib.ones(2, 3)), "softmax"),
    C("activation", "Tensor.log_softmax without dim", lambda lib: lib.ones(2, 3).log_softmax(), "log_softmax"),
    C("dropout", "dropout of int64", lambda lib: F(lib).dropout(lib.tensor([1, 2]), 0.5), "dropout: result type Float can't be cast"),
    C("dropout", "dropout of bool", lambda lib: F(lib).dropout(lib.tensor([True, False]), 0.5), "dropout: result type Float"),
    C("dropout", "dropout of int64 in eval", lambda lib: F(lib).dropout(lib.tensor([1, 2]), 0.5, training=False)),
    C("dropout", "dropout1d of int64", lambda lib: F(lib).dropout1d(lib.ones(2, 3, dtype=lib.int64), 0.5), "dropout1d: result type Float"),
    C("dropout", "dropout2d of int64", lambda lib: F(lib).dropout2d(lib.ones(2, 3, 3, dtype=lib.int64), 0.5), "dropout2d: result type Float"),
    C("dropout", "dropout2d of a 2-d input warns", lambda lib: (lib.manual_seed(0), F(lib).dropout2d(lib.ones(4, 6), 0.5))[1], None, "Received a 2-D input to dropout2d"),
    C("dropout", "dropout2d of a 5-d input warns", lambda lib: (lib.manual_seed(0), F(lib).dropout2d(lib.ones(2, 3, 2, 2, 2), 0.5))[1], None, "Received a 5-D input to dropout2d"),
    C("dropout", "dropout2d of a 1-d input", lambda lib: F(lib).dropout2d(lib.ones(5), 0.5), "dropout2d: Feature dropout requires at least 2 dimensions"),
    C("dropout", "dropout of a list", lambda lib: F(lib).dropout([1.0, 2.0], 0.5), "dropout: input must be a Tensor"),

    # ------------------------------------------------------------------ one_hot and Embedding: index dtypes
    C("index", "one_hot of int32", lambda lib: F(lib).one_hot(lib.tensor([0, 2], dtype=lib.int32)), "one_hot: only applicable to an index tensor of type LongTensor"),
    C("index", "one_hot of float", lambda lib: F(lib).one_hot(lib.tensor([0.0, 1.0])), "one_hot: only applicable"),
    C("index", "one_hot of a negative class", lambda lib: F(lib).one_hot(lib.tensor([-1, 0])), "one_hot: Class values must be non-negative"),
    C("index", "one_hot class >= num_classes", lambda lib: F(lib).one_hot(lib.tensor([0, 3]), 3), "one_hot: Class values must be smaller than num_classes"),
    C("index", "one_hot of empty without num_classes", lambda lib: F(lib).one_hot(lib.tensor([], dtype=lib.int64)), "one_hot: Can not infer total number of classes"),
    C("index", "one_hot num_classes float", lambda lib: F(lib).one_hot(lib.tensor([1]), 2.0), "one_hot: argument 'num_classes' must be int"),
    C("index", "one_hot of a list", lambda lib: F(lib).one_hot([0, 1]), "one_hot: argument 'input' must be a Tensor"),
    C("index", "one_hot of empty with num_classes", lambda lib: F(lib).one_hot(lib.tensor([], dtype=lib.int64), 3)),
    C("index", "one_hot of 0-d", lambda lib: F(lib).one_hot(lib.tensor(2), 3)),
    C("index", "Embedding of uint8 indices", lambda lib: lib.nn.Embedding(3, 2)(lib.tensor([1], dtype=lib.uint8)), "Embedding: expected indices of scalar type Long or Int"),
    C("index", "Embedding of a list", lambda lib: lib.nn.Embedding(3, 2)([1, 2]), "Embedding: argument 'indices' must be a Tensor"),
    C("index", "Embedding of int32 indices", lambda lib: (lib.manual_seed(0), lib.nn.Embedding(3, 2)(lib.tensor([1], dtype=lib.int32)))[1]),
    C("index", "Embedding padding_idx = num_embeddings", lambda lib: lib.nn.Embedding(3, 2, padding_idx=3), "Embedding: padding_idx must be within num_embeddings"),
    C("index", "Embedding padding_idx -4 of 3", lambda lib: lib.nn.Embedding(3, 2, padding_idx=-4), "Embedding: padding_idx must be within"),
    # ------------------------------------------------------------------ autograd: the seed gradient's dtype
    C("autograd", "backward(gradient=float64) of a float32 output", lambda lib: backward_with(lib, lib.ones(2, dtype=lib.float64))),
    C("autograd", "backward(gradient=int64) of a float32 output", lambda lib: backward_with(lib, lib.tensor([1, 2]))),
    C("autograd", "autograd.grad(grad_outputs=float64)", lambda lib: lib.autograd.grad(leaf(lib, 2) * 3, [leaf(lib, 2)], lib.ones(2, dtype=lib.float64), allow_unused=True)),
    C("autograd", "autograd.grad float64 seed reaches the input", lambda lib: grad_with(lib, lib.full((2,), 0.5, dtype=lib.float64))),

    # ------------------------------------------------------------------ data loading
    C("data", "collate float32 and int64 tensors", lambda lib: first_batch(lib, [lib.ones(2), lib.ones(2, dtype=lib.int64)])),
    C("data", "collate int64 and float32 tensors", lambda lib: first_batch(lib, [lib.ones(2, dtype=lib.int64), lib.ones(2)])),
    C("data", "collate float32 and int64 arrays", lambda lib: first_batch(lib, [np.ones(2, np.float32), np.ones(2, np.int64)])),
    C("data", "collate float16 and float32 arrays", lambda lib: first_batch(lib, [np.ones(2, np.float16), np.ones(2, np.float32)])),
    C("data", "collate ragged tensors", lambda lib: first_batch(lib, [lib.ones(1), lib.ones(2)]), "default_collate: stack expects each tensor to be equal size"),
    C("data", "DataLoader batch_size=None with drop_last", lambda lib: lib.utils.data.DataLoader(ds(lib), batch_size=None, drop_last=True), "DataLoader: batch_size=None option disables auto-batching"),
    C("data", "DataLoader prefetch_factor without workers", lambda lib: lib.utils.data.DataLoader(ds(lib), prefetch_factor=2), "prefetch_factor option could only be specified in multiprocessing"),
    C("data", "DataLoader persistent_workers without workers", lambda lib: lib.utils.data.DataLoader(ds(lib), persistent_workers=True), "persistent_workers option needs num_workers > 0"),
    C("data", "DataLoader negative timeout", lambda lib: lib.utils.data.DataLoader(ds(lib), timeout=-1), "DataLoader: timeout option should be non-negative"),
    C("data", "WeightedRandomSampler negative weight", lambda lib: list(lib.utils.data.WeightedRandomSampler([-1.0, 1.0], 2)), "WeightedRandomSampler: invalid multinomial distribution"),
    C("data", "WeightedRandomSampler nan weight", lambda lib: list(lib.utils.data.WeightedRandomSampler([float("nan"), 1.0], 2)), "WeightedRandomSampler: invalid multinomial distribution"),
    C("data", "WeightedRandomSampler zero weights", lambda lib: list(lib.utils.data.WeightedRandomSampler([0.0, 0.0], 2)), "WeightedRandomSampler: invalid multinomial distribution (sum"),
    C("data", "WeightedRandomSampler draws", lambda lib: (lib.manual_seed(0), list(lib.utils.data.WeightedRandomSampler([0.1, 0.0, 0.9], 5)))[1]),
    # ------------------------------------------------------------------ tensors: indexing, cat, fills, transposes
    C("tensor", "index with a uint8 tensor is a mask", lambda lib: lib.arange(3.0)[lib.tensor([1, 0, 1], dtype=lib.uint8)], None, "indexing with dtype torch.uint8 is now deprecated"),
    C("tensor", "index rows with a uint8 mask", lambda lib: lib.arange(6.0).reshape(2, 3)[lib.tensor([1, 0], dtype=lib.uint8)]),
    C("tensor", "uint8 mask of the wrong length", lambda lib: lib.arange(3.0)[lib.tensor([1, 0], dtype=lib.uint8)], "__getitem__: boolean index did not match"),
    C("tensor", "cat onto an empty accumulator", lambda lib: lib.cat([lib.tensor([]), lib.ones(2, 3)])),
    C("tensor", "cat an empty 1-d along dim 1", lambda lib: lib.cat([lib.ones(2, 3), lib.tensor([]), lib.ones(2, 1)], dim=1)),
    C("tensor", "cat empty accumulator promotes", lambda lib: lib.cat([lib.tensor([]), lib.ones(2, 3, dtype=lib.int64)])),
    C("tensor", "cat empty accumulator gradient", lambda lib: cat_accumulator_grads(lib)),
    C("tensor", "cat of empty (0, 3, 1)", lambda lib: lib.cat([lib.ones(2, 3), lib.zeros(0, 3, 1)]), "cat: "),
    C("tensor", "masked_fill with a 1-d value tensor", lambda lib: lib.zeros(3).masked_fill(lib.tensor([True, False, False]), lib.ones(3)), "masked_fill: only supports a 0-dimensional value tensor"),
    C("tensor", "masked_fill with a 0-d value tensor", lambda lib: lib.zeros(3).masked_fill(lib.tensor([True, False, False]), lib.tensor(2.0))),
    C("tensor", "fill_ with a 1-d tensor", lambda lib: lib.zeros(2).fill_(lib.ones(2)), "fill_: only supports a 0-dimension value tensor"),
    C("tensor", "fill_ with a 0-d tensor", lambda lib: lib.zeros(2).fill_(lib.tensor(3.0))),
    C("tensor", "mT of a 1-d tensor", lambda lib: lib.ones(3).mT, "Tensor.mT: only supported on matrices"),
    C("tensor", "mT of a 0-d tensor warns", lambda lib: lib.tensor(1.0).mT, None, "Tensor.mT is deprecated on 0-D tensors", True),
    C("tensor", "T of a 3-d tensor warns", lambda lib: lib.arange(24.0).reshape(2, 3, 4).T, None, "The use of `x.T` on tensors of dimension other than 2", True),
    C("tensor", "T of a 1-d tensor warns", lambda lib: lib.arange(3.0).T, None, "The use of `x.T`", True),
    C("tensor", "flip(0, 1) varargs", lambda lib: lib.arange(6.0).reshape(2, 3).flip(0, 1)),
    C("tensor", "flip(dims=(0,))", lambda lib: lib.arange(6.0).reshape(2, 3).flip(dims=(0,))),
    C("tensor", "flip(0, 0) repeated", lambda lib: lib.arange(6.0).reshape(2, 3).flip(0, 0), "flip: dims [0, 0] has a dim appearing multiple times"),
    C("tensor", "tile(2) of a 2-d tensor", lambda lib: lib.arange(6.0).reshape(2, 3).tile(2)),
    C("tensor", "tile(0)", lambda lib: lib.ones(2).tile(0)),
    C("tensor", "tile(2, 1, 1)", lambda lib: lib.arange(6.0).reshape(2, 3).tile(2, 1, 1)),
    # ------------------------------------------------------------------ layers: input dtypes
    C("layer", "BatchNorm1d of float64", lambda lib: lib.nn.BatchNorm1d(3)(lib.ones(2, 3, dtype=lib.float64)), "batch_norm: mixed dtype (CPU): all inputs must share same datatype"),
    C("layer", "BatchNorm2d eval of float64", lambda lib: lib.nn.BatchNorm2d(3).eval()(lib.ones(2, 3, 2, 2, dtype=lib.float64)), "batch_norm: mixed dtype"),
    C("layer", "BatchNorm1d(affine=False) of float64", lambda lib: lib.nn.BatchNorm1d(3, affine=False)(lib.ones(2, 3, dtype=lib.float64)), "batch_norm: mixed dtype"),
    C("layer", "BatchNorm1d without running stats of float64", lambda lib: lib.nn.BatchNorm1d(3, affine=False, track_running_stats=False)(lib.arange(6.0, dtype=lib.float64).reshape(2, 3))),
    C("layer", "F.batch_norm eval, float64 running stats on float32", lambda lib: lib.nn.functional.batch_norm(lib.ones(2, 3), lib.zeros(3, dtype=lib.float64), lib.ones(3, dtype=lib.float64), training=False), "batch_norm: mixed dtype"),
    C("layer", "F.batch_norm of int64", lambda lib: lib.nn.functional.batch_norm(lib.ones(2, 3, dtype=lib.int64), lib.zeros(3), lib.ones(3), training=True), 'batch_norm: "batch_norm" not implemented'),
    C("layer", "BatchNorm1d of int64", lambda lib: lib.nn.BatchNorm1d(3)(lib.ones(2, 3, dtype=lib.int64)), 'batch_norm: "batch_norm" not implemented'),
    C("layer", "BatchNorm1d of int64 counts no batch", lambda lib: bn_batches_after_int_input(lib)),
    C("layer", "BatchNorm1d of float64 after .double()", lambda lib: lib.nn.BatchNorm1d(3).double()(lib.arange(6.0, dtype=lib.float64).reshape(2, 3))),
    C("layer", "InstanceNorm1d of int64", lambda lib: lib.nn.InstanceNorm1d(3)(lib.ones(2, 3, 4, dtype=lib.int64)), "instance_norm: "),
    C("layer", "InstanceNorm1d of float64", lambda lib: lib.nn.InstanceNorm1d(3)(lib.arange(24.0, dtype=lib.float64).reshape(2, 3, 4))),
    C("layer", "LayerNorm of float64", lambda lib: lib.nn.LayerNorm(3)(lib.ones(2, 3, dtype=lib.float64)), "layer_norm: mixed dtype (CPU)"),
    C("layer", "LayerNorm of int64", lambda lib: lib.nn.LayerNorm(3)(lib.ones(2, 3, dtype=lib.int64)), "layer_norm: "),
    C("layer", "LayerNorm(elementwise_affine=False) of float64", lambda lib: lib.nn.LayerNorm(3, elementwise_affine=False)(lib.arange(6.0, dtype=lib.float64).reshape(2, 3))),
    C("layer", "GroupNorm of float64", lambda lib: lib.nn.GroupNorm(1, 3)(lib.ones(2, 3, 4, dtype=lib.float64)), "group_norm: mixed dtype (CPU)"),
    C("layer", "GroupNorm of int64", lambda lib: lib.nn.GroupNorm(1, 3)(lib.ones(2, 3, 4, dtype=lib.int64)), "group_norm: "),
    C("layer", "RMSNorm of int64", lambda lib: lib.nn.RMSNorm(3)(lib.ones(2, 3, dtype=lib.int64)), 'rms_norm: "rms_norm" not implemented'),
    C("layer", "RMSNorm of float64", lambda lib: lib.nn.RMSNorm(3)(lib.arange(6.0, dtype=lib.float64).reshape(2, 3))),
    C("layer", "ConvTranspose2d of float64", lambda lib: lib.nn.ConvTranspose2d(1, 1, 2)(lib.ones(1, 1, 2, 2, dtype=lib.float64)), "ConvTranspose2d: expected scalar type"),
    C("layer", "ConvTranspose1d of int64", lambda lib: lib.nn.ConvTranspose1d(1, 1, 2)(lib.ones(1, 1, 2, dtype=lib.int64)), "ConvTranspose1d: expected scalar type"),
    # ------------------------------------------------------------------ creation and assignment
    C("create", "tensor of a list of 2-element tensors", lambda lib: lib.tensor([lib.ones(2), lib.ones(2)]), "tensor: only one element tensors can be converted to Python scalars"),
    C("create", "tensor of nested 2-element tensors", lambda lib: lib.tensor([[lib.ones(2)], [lib.ones(2)]]), "tensor: only one element tensors"),
    C("create", "tensor of a list of 0-d tensors", lambda lib: lib.tensor([lib.tensor(1.0), lib.tensor(2.0)])),
    C("create", "tensor of a list of 1-element tensors", lambda lib: lib.tensor([lib.ones(1), lib.zeros(1)])),
    C("create", "tensor of a tensor warns", lambda lib: lib.tensor(lib.ones(2)), None, "To copy construct from a tensor"),
    C("create", "as_tensor of a tensor to float64", lambda lib: lib.as_tensor(lib.ones(2), dtype=lib.float64)),
    C("create", "setitem nan into int64", lambda lib: set_item(lib, lib.tensor([1, 2]), 0, float("nan")), "__setitem__: value nan cannot be converted to type int64 without overflow"),
    C("create", "setitem inf into int64", lambda lib: set_item(lib, lib.tensor([1, 2]), 0, float("inf")), "__setitem__: value inf cannot be converted"),
    C("create", "setitem 300.0 into uint8", lambda lib: set_item(lib, lib.tensor([1, 2], dtype=lib.uint8), 0, 300.0), "__setitem__: value 300.0 cannot be converted"),
    C("create", "setitem -3.5 into int64 truncates", lambda lib: set_item(lib, lib.tensor([1, 2]), 0, -3.5)),
    C("create", "normal with a negative std tensor", lambda lib: lib.normal(lib.zeros(2), -lib.ones(2)), "normal: expects all elements of std >= 0.0"),
    C("create", "normal with a nan std", lambda lib: lib.normal(lib.zeros(2), lib.tensor([float("nan"), 1.0])), "normal: expects all elements of std >= 0.0"),
    C("create", "normal with float mean, negative std tensor", lambda lib: lib.normal(0.0, -lib.ones(2)), "normal: expects all elements of std"),
    C("create", "bincount of float", lambda lib: lib.bincount(lib.tensor([1.0])), 'bincount: "bincount_cpu" not implemented'),
    C("create", "bincount of bool", lambda lib: lib.bincount(lib.tensor([True])), "bincount: "),
    C("create", "bincount weights of another length", lambda lib: lib.bincount(lib.tensor([1, 0]), weights=lib.ones(3)), "bincount: weights should be 1-d and have the same length as input"),
    C("create", "bincount with weights", lambda lib: lib.bincount(lib.tensor([1, 0, 1]), weights=lib.tensor([0.5, 1.0, 2.0]))),
    # ------------------------------------------------------------------ training-loop slips
    C("loop", "autograd.grad of model.parameters() (a generator)", lambda lib: grads_of_parameters(lib)),
    C("loop", "LBFGS.step() without a closure", lambda lib: lib.optim.LBFGS([lib.nn.Parameter(lib.ones(2))]).step(), "LBFGS.step: missing 1 required positional argument 'closure'"),
    C("loop", "pack_padded_sequence with float lengths", lambda lib: lib.nn.utils.rnn.pack_padded_sequence(lib.ones(3, 2, 1), lib.tensor([3.0, 2.0])).batch_sizes),
    C("loop", "diff with n=-1", lambda lib: lib.diff(lib.ones(3), n=-1), "diff: order must be non-negative"),
    C("loop", "cosine_similarity of int64", lambda lib: F(lib).cosine_similarity(lib.tensor([[1, 2]]), lib.tensor([[1, 2]])), "cosine_similarity: expected common dtype to be floating point"),
    C("loop", "cosine_similarity int and float", lambda lib: F(lib).cosine_similarity(lib.tensor([[1, 2]]), lib.tensor([[1.0, 2.0]]))),
    C("loop", "matmul of bool matrices", lambda lib: lib.ones(2, 2, dtype=lib.bool) @ lib.ones(2, 2, dtype=lib.bool), "matmul: "),
    C("loop", "mm of bool", lambda lib: lib.mm(lib.ones(2, 2, dtype=lib.bool), lib.ones(2, 2, dtype=lib.bool)), "matmul: \"addmm_impl_cpu_\" not implemented for 'Bool'"),
    C("loop", "linalg.norm ord='fro' of a vector", lambda lib: lib.linalg.norm(lib.ones(3), ord="fro"), "linalg.norm: ord='fro' is a matrix norm"),
    C("loop", "linalg.norm ord='nuc' over one dim", lambda lib: lib.linalg.norm(lib.ones(2, 3), ord="nuc", dim=1), "linalg.norm: ord='nuc' is a matrix norm"),
    C("loop", "linalg.norm ord='fro' of a matrix", lambda lib: lib.linalg.norm(lib.arange(6.0).reshape(2, 3), ord="fro")),
    # ------------------------------------------------------------------ more losses, layers and creation
    C("loss", "soft_margin_loss (N, 1) input, (N,) target", lambda lib: F(lib).soft_margin_loss(lib.ones(2, 1), lib.ones(2)), "soft_margin_loss: target of shape (2,) does not broadcast to the input's shape"),
    C("loss", "soft_margin_loss (N,) input, (N, 1) target", lambda lib: F(lib).soft_margin_loss(lib.ones(2), lib.ones(2, 1)), "soft_margin_loss: "),
    C("loss", "soft_margin_loss of int64", lambda lib: F(lib).soft_margin_loss(lib.tensor([1, 2]), lib.tensor([1, -1])), "soft_margin_loss: result type Float"),
    C("loss", "soft_margin_loss with a broadcast target", lambda lib: F(lib).soft_margin_loss(lib.ones(2, 3), lib.tensor([1.0, -1.0, 1.0]))),
    C("loss", "multi_margin_loss int32 target", lambda lib: F(lib).multi_margin_loss(lib.ones(2, 3), lib.tensor([0, 1], dtype=lib.int32)), "multi_margin_loss: expected scalar type Long but found"),
    C("loss", "multi_margin_loss float target", lambda lib: F(lib).multi_margin_loss(lib.ones(2, 3), lib.tensor([0.0, 1.0])), "multi_margin_loss: expected scalar type Long"),
    C("loss", "multi_margin_loss weight of 2 for 3 classes", lambda lib: F(lib).multi_margin_loss(lib.ones(2, 3), lib.tensor([0, 1]), weight=lib.ones(2)), "multi_margin_loss: inconsistent weight size"),
    C("loss", "multi_margin_loss 2-d weight", lambda lib: F(lib).multi_margin_loss(lib.ones(2, 3), lib.tensor([0, 1]), weight=lib.ones(1, 3)), "multi_margin_loss: weight must be one-dimensional"),
    C("loss", "multi_margin_loss of int64", lambda lib: F(lib).multi_margin_loss(lib.ones(2, 3, dtype=lib.int64), lib.tensor([0, 1])), "multi_margin_loss: "),
    C("loss", "triplet_margin_loss margin -1", lambda lib: F(lib).triplet_margin_loss(lib.ones(2, 3), lib.zeros(2, 3), lib.ones(2, 3), margin=-1.0), "triplet_margin_loss: margin must be greater than 0"),
    C("loss", "triplet_margin_loss margin 0", lambda lib: F(lib).triplet_margin_loss(lib.ones(2, 3), lib.zeros(2, 3), lib.ones(2, 3), margin=0.0), "triplet_margin_loss: margin must be greater than 0"),
    C("loss", "gaussian_nll_loss of int64", lambda lib: F(lib).gaussian_nll_loss(lib.tensor([1, 2]), lib.tensor([1, 2]), lib.tensor([1, 1])), "gaussian_nll_loss: result type Float"),
    C("loss", "gaussian_nll_loss int64 var", lambda lib: F(lib).gaussian_nll_loss(lib.ones(2), lib.ones(2), lib.tensor([1, 1])), "gaussian_nll_loss: result type Float"),
    C("loss", "gaussian_nll_loss int64 input", lambda lib: F(lib).gaussian_nll_loss(lib.tensor([1, 2]), lib.ones(2), lib.ones(2))),
    C("layer", "F.linear with a 1-d weight", lambda lib: F(lib).linear(lib.ones(2, 3), lib.ones(3))),
    C("layer", "F.linear with a 3-d weight", lambda lib: F(lib).linear(lib.ones(2, 3), lib.ones(1, 2, 3)), "t: expects a tensor with <= 2 dimensions"),
    C("layer", "Embedding.from_pretrained of a 1-d tensor", lambda lib: lib.nn.Embedding.from_pretrained(lib.ones(3)), "Embedding.from_pretrained: embeddings parameter is expected to be 2-dimensional"),
    C("layer", "embedding_bag index out of range", lambda lib: F(lib).embedding_bag(lib.tensor([0, 5]), lib.ones(3, 2), lib.tensor([0])), "embedding_bag: index out of range"),
    C("create", "arange(0, 1, 0.5, dtype=int64)", lambda lib: lib.arange(0, 1, 0.5, dtype=lib.int64), "arange: step must be nonzero"),
    C("create", "arange(0, 5, 2.5, dtype=int64)", lambda lib: lib.arange(0, 5, 2.5, dtype=lib.int64)),
    C("create", "arange(0.5, 3, dtype=int64)", lambda lib: lib.arange(0.5, 3, dtype=lib.int64)),
    C("create", "arange(-0.5, -3, -1, dtype=int32)", lambda lib: lib.arange(-0.5, -3, -1, dtype=lib.int32)),
    C("create", "logspace with a negative base", lambda lib: lib.logspace(0, 1, 3, base=-2)),
    C("create", "randint(0, 300) into uint8", lambda lib: lib.randint(0, 300, (2,), dtype=lib.uint8), "randint: to - 1 is out of bounds"),
    C("create", "randint(-1, 3) into uint8", lambda lib: lib.randint(-1, 3, (2,), dtype=lib.uint8), "randint: from is out of bounds"),
    C("create", "randint(0, 2**40) into int32", lambda lib: lib.randint(0, 2 ** 40, (2,), dtype=lib.int32), "randint: to - 1 is out of bounds"),
    C("create", "randint(0, 256) into uint8", lambda lib: (lib.manual_seed(0), lib.randint(0, 256, (4,), dtype=lib.uint8))[1]),
    C("create", "bernoulli of int64 probabilities", lambda lib: lib.bernoulli(lib.tensor([1, 0])), 'bernoulli: "bernoulli_tensor_cpu_p_" not implemented'),
    C("create", "bernoulli of bool probabilities", lambda lib: lib.bernoulli(lib.tensor([True])), "bernoulli: "),
    C("tensor", "expand(-2, 3)", lambda lib: lib.ones(1, 3).expand(-2, 3), "expand: the expanded size -2 is negative"),
    C("tensor", "index_fill_ with an int32 index", lambda lib: lib.zeros(3).index_fill_(0, lib.tensor([0], dtype=lib.int32), 1.0), "index_fill_(): Expected dtype int64 for index"),
    C("tensor", "index_fill_ with a float index", lambda lib: lib.zeros(3).index_fill_(0, lib.tensor([0.0]), 1.0), "index_fill_(): Expected dtype int64"),
    # ------------------------------------------------------------------ autograd.Function, func, utils
    C("function", "backward returns a float", lambda lib: run_function(lib, lambda ctx, g: 1.0), "Fn.backward: expected Variable or None (got float)"),
    C("function", "backward returns float64 for a float32 input", lambda lib: run_function(lib, lambda ctx, g: g.double())),
    C("function", "backward returns None", lambda lib: run_function(lib, lambda ctx, g: None)),
    C("function", "save_for_backward of an int", lambda lib: run_function(lib, lambda ctx, g: g, save=lambda ctx, x: ctx.save_for_backward(3)), "save_for_backward: can only save variables"),
    C("function", "save_for_backward of None", lambda lib: run_function(lib, lambda ctx, g: g, save=lambda ctx, x: ctx.save_for_backward(None, x))),
    C("autograd", ".grad of a non-leaf warns", lambda lib: grad_of_updated_weight(lib), None, "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed"),
    C("autograd", ".grad of a non-leaf that retains grad", lambda lib: grad_of_retained(lib)),
    C("func", "grad argnums out of range", lambda lib: lib.func.grad(lambda x: x.sum(), argnums=1)(lib.ones(3)), "grad: argnums 1 out of range"),
    C("func", "jacrev repeated argnums", lambda lib: lib.func.jacrev(lambda a, b: a + b, argnums=(0, 0))(lib.ones(2), lib.ones(2)), "jacrev: argnums (0, 0) repeats an argument"),
    C("func", "grad of an int64 input", lambda lib: lib.func.grad(lambda x: x.sum())(lib.tensor([1, 2])), "grad: differentiated arguments must be floating point"),
    C("func", "vjp of an int64 primal", lambda lib: lib.func.vjp(lambda v: v, lib.tensor([1, 2])), "vjp: primals must be floating point"),
    C("func", "jvp of an int64 primal", lambda lib: lib.func.jvp(lambda v: v, (lib.tensor([1, 2]),), (lib.tensor([1, 2]),)), "jvp: primals must be floating point"),
    C("func", "vmap in_dims=1 of a 1-d input", lambda lib: lib.func.vmap(lambda x: x * 2, in_dims=1)(lib.ones(3)), "vmap: Got in_dim=1 for an input"),
    C("func", "vmap in_dims=1.5", lambda lib: lib.func.vmap(lambda x: x, in_dims=1.5)(lib.ones(3)), "vmap: expected `in_dims` to be int"),
    C("func", "vmap returning a float", lambda lib: lib.func.vmap(lambda x: 3.0)(lib.ones(3)), "vmap: <lambda> must only return Tensors"),
    C("func", "vmap in_dims=-1", lambda lib: lib.func.vmap(lambda x: x * 2, in_dims=-1)(lib.arange(6.0).reshape(2, 3))),
    C("utils", "vector_to_parameters of the wrong size", lambda lib: lib.nn.utils.vector_to_parameters(lib.ones(3), linear_params(lib)), "vector_to_parameters: expected a 1-D vector of 8 elements"),
    # ------------------------------------------------------------------ tensor protocol
    C("tensor", "'a' in a tensor", lambda lib: "a" in lib.tensor([1, 2, 3]), "Tensor.__contains__ only supports Tensor or scalar"),
    C("tensor", "None in a tensor", lambda lib: None in lib.ones(2), "Tensor.__contains__ only supports"),
    C("tensor", "2.0 in a tensor", lambda lib: 2.0 in lib.tensor([1, 2, 3])),
    C("tensor", "0-d tensor in a tensor", lambda lib: lib.tensor(5) in lib.tensor([1, 2, 3])),
    C("tensor", "detach_ of a slice", lambda lib: lib.ones(3)[:1].detach_(), "detach_: Can't detach views in-place"),
    C("tensor", "detach_ of a non-leaf", lambda lib: (leaf(lib) * 2).detach_().requires_grad),
    C("tensor", "requires_grad_('yes')", lambda lib: lib.ones(1).requires_grad_("yes"), "requires_grad_(): argument 'requires_grad' must be bool"),
    C("tensor", "requires_grad_(1)", lambda lib: lib.ones(1).requires_grad_(1), "requires_grad_(): argument 'requires_grad' must be bool"),
    C("layer", "F.linear with a (N, out) bias", lambda lib: F(lib).linear(lib.ones(2, 3), lib.ones(4, 3), lib.arange(8.0).reshape(2, 4))),
    C("layer", "F.linear with a 0-d bias", lambda lib: F(lib).linear(lib.ones(2, 3), lib.ones(4, 3), lib.tensor(1.0))),
    C("layer", "F.linear with a bias that grows the output", lambda lib: F(lib).linear(lib.ones(2, 3), lib.ones(4, 3), lib.ones(3, 2, 4)), "linear: bias of shape (3, 2, 4) does not broadcast"),
    C("layer", "F.linear with a (3,) bias for 4 outputs", lambda lib: F(lib).linear(lib.ones(2, 3), lib.ones(4, 3), lib.ones(3)), "linear: bias of shape (3,)"),
    C("data", "ConcatDataset of nothing", lambda lib: lib.utils.data.ConcatDataset([]), "ConcatDataset: datasets should not be an empty iterable"),
    C("tensor", "cumsum of uint8", lambda lib: lib.tensor([250, 3, 1], dtype=lib.uint8).cumsum(0)),
    C("tensor", "cumsum of 0-d uint8", lambda lib: lib.tensor(7, dtype=lib.uint8).cumsum(0)),
    C("tensor", "cumsum of int16", lambda lib: lib.tensor([1, 0, 3], dtype=lib.int16).cumsum(0)),
    C("tensor", "argmax of bool", lambda lib: lib.tensor([True, False]).argmax(), "argmax(): does not support bool input"),
    C("tensor", "argmin(0) of bool", lambda lib: lib.tensor([True, False]).argmin(0), "argmin(): does not support bool input"),
    C("tensor", "max of bool", lambda lib: lib.tensor([True, False]).max(0)),
    C("tensor", "all of uint8", lambda lib: lib.tensor([[1, 0, 3], [2, 2, 0]], dtype=lib.uint8).all(1)),
    C("tensor", "any of uint8", lambda lib: lib.tensor([1, 0, 3], dtype=lib.uint8).any()),
    C("tensor", "any of int64", lambda lib: lib.tensor([1, 0, 3]).any()),
    C("tensor", "logcumsumexp of int64", lambda lib: lib.tensor([1, 0, 3]).logcumsumexp(0), 'logcumsumexp: "logcumsumexp_out_cpu" not implemented'),
]


def test_cases_are_named_once_and_fragments_name_the_op():
    names = [(c.category, c.name) for c in CASES]
    assert len(set(names)) == len(names)
    for c in CASES:
        if c.match is not None:   # "op: ...", "Tensor.__contains__ ...", "index_fill_() ..."
            m = re.match(r"[A-Za-z_][\w.]*(\(\))?(?=:|\s|$)", c.match)
            assert m and (c.match[m.end():].startswith(":") or m.end() == len(c.match)
                          or any(ch in m.group() for ch in "._")), \
                f"{c.name}: fragment {c.match!r} does not start with the op's name"


def _user_warnings(fn, lib):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            fn(lib)
        except Exception:   # noqa: BLE001  (only the warnings are compared here)
            pass
    return [str(w.message) for w in caught if issubclass(w.category, UserWarning)]


@pytest.mark.parametrize("case", CASES, ids=[f"{c.category}:{c.name}" for c in CASES])
def test_misuse_more(case):
    check_against_torch(case)
    if case.warns is not None:
        for lib in (cr,) if case.once else (torch, cr):
            got = _user_warnings(case.fn, lib)
            assert any(case.warns in m for m in got), f"{lib.__name__} does not warn: {got}"
