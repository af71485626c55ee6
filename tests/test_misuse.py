"""A library misuse corpus: every case is written once, as ``lambda lib: ...``, and run against
both torch and chainrule.

* Where torch raises, chainrule must raise the same exception type (or a subclass of it) with a
  message containing the case's fragment (chainrule's own wording: it names the op and says
  what was expected and what was received).
* Where torch returns a value, chainrule must return the same value: tensors by shape, dtype
  and values (NaN equal to NaN), numbers, strings (``torch`` read as ``chainrule``) and
  containers of them, recursively.
* chainrule must not leak NumPy's floating-point RuntimeWarnings (log(0), 0/0, ...) where torch
  computes the IEEE value silently: under ``-W error`` they would turn into exceptions.

Add a case by appending ``C(category, name, fn, fragment)`` to the table below.
"""
from __future__ import annotations

import math
import warnings
from typing import NamedTuple

import numpy as np
import pytest
import torch

import chainrule as cr

nan, inf = float("nan"), float("inf")


class C(NamedTuple):
    category: str
    name: str
    fn: object            # lambda lib: ...
    match: str | None = None   # fragment of chainrule's message where torch raises


def F(lib):
    return lib.nn.functional


def leaf(lib, *size):
    return lib.ones(*(size or (3,)), requires_grad=True)


def linear(lib, i=3, o=2):
    lib.manual_seed(0)
    return lib.nn.Linear(i, o)


def ds(lib, n=4):
    return lib.utils.data.TensorDataset(lib.arange(n * 2.0).reshape(n, 2), lib.arange(n))


def backward_twice(lib):
    x = leaf(lib)
    y = (x * x).sum()
    y.backward()
    y.backward()


def retained_twice(lib):
    x = leaf(lib)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    return x.grad


def grad_of_nonleaf(lib):
    x = leaf(lib)
    y = x * 2
    y.sum().backward()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # torch warns that .grad of a non-leaf is not populated
        return y.grad


def modified_saved_tensor(lib):
    x = leaf(lib)
    y = x.exp()
    y.add_(1)
    y.sum().backward()


def detach_shares(lib):
    x = leaf(lib)
    x.detach().add_(1)
    return x.detach()


def no_grad_update(lib):
    x = leaf(lib)
    with lib.no_grad():
        x.add_(1)
    return x.detach()


def no_grad_backward(lib):
    x = leaf(lib)
    with lib.no_grad():
        y = x * 2
    y.sum().backward()


def step_without_grads(lib):
    p = lib.nn.Parameter(lib.ones(2))
    opt = lib.optim.SGD([p], lr=0.1, momentum=0.9)
    opt.step()
    return p.detach()


def sgd_step(lib, **kw):
    p = lib.nn.Parameter(lib.tensor([1.0, -2.0]))
    opt = lib.optim.SGD([p], **kw)
    (p * p).sum().backward()
    opt.step()
    return p.detach()


def overlapping_groups(lib):
    p = leaf(lib)
    lib.optim.SGD([{"params": [p]}, {"params": [p]}], lr=0.1)


def add_overlapping_group(lib):
    p = lib.nn.Parameter(lib.ones(2))
    opt = lib.optim.SGD([p], lr=0.1)
    opt.add_param_group({"params": [p]})


def opt_load_wrong_groups(lib):
    p, q = lib.nn.Parameter(lib.ones(2)), lib.nn.Parameter(lib.ones(2))
    a = lib.optim.SGD([p], lr=0.1)
    b = lib.optim.SGD([{"params": [p]}, {"params": [q]}], lr=0.1)
    a.load_state_dict(b.state_dict())


def load_sd(lib, change):
    m = linear(lib)
    sd = dict(m.state_dict())
    change(lib, sd)
    return m.load_state_dict(sd)


def load_sd_nonstrict(lib):
    m = linear(lib)
    sd = dict(m.state_dict())
    del sd["bias"]
    sd["extra"] = lib.ones(1)
    res = m.load_state_dict(sd, strict=False)
    return (list(res.missing_keys), list(res.unexpected_keys))


def register(lib, kind, name, value):
    m = lib.nn.Module()
    getattr(m, "register_" + kind)(name, value)
    return sorted(m.state_dict().keys())


def assign_tensor_over_param(lib):
    m = linear(lib)
    m.weight = lib.ones(2, 3)


def assign_none_param(lib):
    m = linear(lib)
    m.bias = None
    return sorted(m.state_dict().keys())


def lstm_out_shape(lib, x_shape, hidden=None):
    lib.manual_seed(0)
    out, _ = lib.nn.LSTM(3, 4)(lib.ones(*x_shape), hidden)
    return tuple(out.shape)


def bn_forward(lib, num, shape, cls="BatchNorm1d"):
    return getattr(lib.nn, cls)(num)(lib.ones(*shape))


def loader_first(lib, **kw):
    return next(iter(lib.utils.data.DataLoader(ds(lib), **kw)))


def norm_grad_at_zero(lib):
    x = lib.zeros(3, requires_grad=True)
    x.norm().backward() if hasattr(x, "norm") else lib.linalg.vector_norm(x).backward()
    return x.grad


def grad_at(lib, fn, value):
    x = lib.tensor([value], requires_grad=True)
    fn(x).sum().backward()
    return x.grad


def module_forward_missing(lib):
    lib.nn.Module()(lib.ones(1))


def lin_zero_in(lib):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")      # "Initializing zero-element tensors is a no-op"
        m = linear(lib, 0, 3)
    return m(lib.ones(2, 0))


def conv(lib, *args, x=(1, 1, 5, 5), **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lib.manual_seed(0)
        m = lib.nn.Conv2d(*args, **kw)
    return m(lib.ones(*x))


def kaiming_empty(lib):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        t = lib.nn.init.kaiming_uniform_(lib.empty(0, 3))
    return (tuple(t.shape), [str(x.message) for x in w])


def set_item(lib, t, key, value):
    t[key] = value
    return t


CASES = [
    # ------------------------------------------------------------------ shapes that don't broadcast
    C("broadcast", "add (2,)+(3,)", lambda lib: lib.ones(2) + lib.ones(3), "cannot be broadcast"),
    C("broadcast", "mul (2,3)*(3,2)", lambda lib: lib.ones(2, 3) * lib.ones(3, 2), "cannot be broadcast"),
    C("broadcast", "sub (2,3)-(2,)", lambda lib: lib.ones(2, 3) - lib.ones(2), "cannot be broadcast"),
    C("broadcast", "div (4,1,3)/(2,3)", lambda lib: lib.ones(4, 1, 3) / lib.ones(2, 3)),
    C("broadcast", "maximum", lambda lib: lib.maximum(lib.ones(2), lib.ones(3)), "cannot be broadcast"),
    C("broadcast", "where", lambda lib: lib.where(lib.ones(2) > 0, lib.ones(3), lib.ones(2)), "cannot be broadcast"),
    C("broadcast", "eq", lambda lib: lib.ones(2, 3) == lib.ones(3, 2), "cannot be broadcast"),
    C("broadcast", "add_ output shape", lambda lib: lib.ones(3).add_(lib.ones(2, 3)), "doesn't match the broadcast shape"),
    C("broadcast", "(2,1)+(1,3)", lambda lib: lib.ones(2, 1) + lib.ones(1, 3)),
    C("broadcast", "empty + (1,)", lambda lib: lib.ones(0) + lib.ones(1)),
    C("broadcast", "matmul vectors", lambda lib: lib.ones(3) @ lib.ones(4), "not aligned"),
    C("broadcast", "matmul matrices", lambda lib: lib.ones(2, 3) @ lib.ones(2, 3), "not aligned"),
    C("broadcast", "matmul batch", lambda lib: lib.ones(2, 2, 3) @ lib.ones(3, 3, 4), "cannot be broadcast"),
    C("broadcast", "expand", lambda lib: lib.ones(2, 3).expand(4, 3), "expanded size"),
    C("broadcast", "broadcast_to", lambda lib: lib.broadcast_to(lib.ones(2, 3), (3,)), "number of sizes provided"),
    C("broadcast", "setitem shape", lambda lib: set_item(lib, lib.ones(3), slice(None), lib.ones(2)), "could not broadcast"),

    # ------------------------------------------------------------------ dtypes
    C("dtype", "mean of int", lambda lib: lib.tensor([1, 2]).mean(), "could not infer output dtype"),
    C("dtype", "requires_grad_ on int", lambda lib: lib.tensor([1, 2]).requires_grad_(), "floating point"),
    C("dtype", "int tensor requires_grad=True", lambda lib: lib.tensor([1, 2], requires_grad=True), "floating point"),
    C("dtype", "negate bool", lambda lib: -lib.tensor([True]), "bool"),
    C("dtype", "bool minus bool", lambda lib: lib.tensor([True]) - lib.tensor([False]), "bool"),
    C("dtype", "bool plus bool", lambda lib: lib.tensor([True, False]) + lib.tensor([True, False])),
    C("dtype", "bool times int", lambda lib: lib.tensor([True, False]) * 3),
    C("dtype", "int true division", lambda lib: lib.tensor([1, 2]) / lib.tensor([2, 2])),
    C("dtype", "int sqrt", lambda lib: lib.tensor([4, 9]).sqrt()),
    C("dtype", "int exp", lambda lib: lib.tensor([0, 1]).exp()),
    C("dtype", "int32 * float", lambda lib: lib.tensor([1, 2], dtype=lib.int32) * 2.5),
    C("dtype", "float64 + float32", lambda lib: lib.ones(2, dtype=lib.float64) + lib.ones(2)),
    C("dtype", "int remainder by 0", lambda lib: lib.tensor([5]) % 0, "ZeroDivisionError"),
    C("dtype", "int floor_divide by 0", lambda lib: lib.tensor([5]) // 0, "ZeroDivisionError"),
    C("dtype", "matmul int @ float", lambda lib: lib.tensor([[1, 2]]) @ lib.ones(2, 1), "dtype"),
    C("dtype", "linear int input", lambda lib: F(lib).linear(lib.tensor([[1, 2]]), lib.ones(3, 2)), "dtype"),
    C("dtype", "var of int", lambda lib: lib.tensor([1, 2]).var(), "floating point"),
    C("dtype", "softmax of int", lambda lib: lib.tensor([1, 2]).softmax(0), "not implemented for"),
    C("dtype", "int add_ float", lambda lib: lib.tensor([1, 2]).add_(1.5), "can't be cast"),
    C("dtype", "float to int truncates", lambda lib: lib.tensor([1.7, -1.7]).long()),

    # ------------------------------------------------------------------ dims out of range
    C("dims", "sum dim 2 of 2-d", lambda lib: lib.ones(2, 3).sum(2), "out of range"),
    C("dims", "softmax dim -3", lambda lib: lib.ones(2, 3).softmax(-3), "out of range"),
    C("dims", "transpose dim 2", lambda lib: lib.ones(2, 3).transpose(0, 2), "out of range"),
    C("dims", "unsqueeze 3", lambda lib: lib.ones(2, 3).unsqueeze(3), "out of range"),
    C("dims", "unsqueeze 2", lambda lib: lib.ones(2, 3).unsqueeze(2)),
    C("dims", "0-d sum(0)", lambda lib: lib.tensor(1.0).sum(0)),
    C("dims", "0-d sum(1)", lambda lib: lib.tensor(1.0).sum(1), "out of range"),
    C("dims", "max dim 5", lambda lib: lib.ones(2, 3).max(dim=5), "out of range"),
    C("dims", "cat sizes", lambda lib: lib.cat([lib.ones(2, 3), lib.ones(2, 4)], 0), "must match"),
    C("dims", "cat dim 2", lambda lib: lib.cat([lib.ones(2, 3), lib.ones(2, 3)], 2), "out of range"),
    C("dims", "stack sizes", lambda lib: lib.stack([lib.ones(2), lib.ones(3)]), "equal size"),
    C("dims", "permute repeated", lambda lib: lib.ones(2, 3).permute(0, 0), "repeated dim"),
    C("dims", "permute too few", lambda lib: lib.ones(2, 3).permute(0), "number of dims don't match"),
    C("dims", "flatten start > end", lambda lib: lib.ones(2, 3, 4).flatten(2, 1), "cannot come after"),
    C("dims", "size(2)", lambda lib: lib.ones(2, 3).size(2), "out of range"),
    C("dims", "mean dims repeated", lambda lib: lib.ones(2, 3).mean(dim=(0, 0)), "appears multiple times"),
    C("dims", "squeeze 5", lambda lib: lib.ones(2, 3).squeeze(5), "out of range"),
    C("dims", "squeeze non-1 dim", lambda lib: lib.ones(2, 3).squeeze(0)),

    # ------------------------------------------------------------------ empty tensors into reductions
    C("empty", "max of empty", lambda lib: lib.ones(0).max(), "numel() == 0"),
    C("empty", "min of empty", lambda lib: lib.ones(0).min(), "numel() == 0"),
    C("empty", "max(0) of (0, 3)", lambda lib: lib.ones(0, 3).max(0), "non-zero size"),
    C("empty", "max(0) of (2, 0)", lambda lib: lib.ones(2, 0).max(0)),
    C("empty", "argmax of empty", lambda lib: lib.ones(0).argmax(), "numel() == 0"),
    C("empty", "amax(1) of (0, 3)", lambda lib: lib.ones(0, 3).amax(1)),
    C("empty", "amax of empty", lambda lib: lib.ones(0).amax(), "numel() == 0"),
    C("empty", "mean of empty", lambda lib: lib.ones(0).mean()),
    C("empty", "mean(0) of (0, 3)", lambda lib: lib.ones(0, 3).mean(0)),
    C("empty", "sum of empty", lambda lib: lib.ones(0).sum()),
    C("empty", "sum of empty int", lambda lib: lib.ones(0, dtype=lib.int64).sum()),
    C("empty", "prod of empty", lambda lib: lib.ones(0).prod()),
    C("empty", "var of empty", lambda lib: lib.ones(0).var()),
    C("empty", "std of one", lambda lib: lib.ones(1).std()),
    C("empty", "logsumexp of empty", lambda lib: lib.ones(0).logsumexp(0)),
    C("empty", "softmax of empty", lambda lib: lib.ones(0).softmax(0)),
    C("empty", "cumsum of empty", lambda lib: lib.ones(0).cumsum(0)),
    C("empty", "all / any of empty", lambda lib: (lib.ones(0).bool().all(), lib.ones(0).bool().any())),
    C("empty", "mean of empty float64 requires grad", lambda lib: leaf(lib, 0).mean()),

    # ------------------------------------------------------------------ indexing
    C("indexing", "[3] of 3", lambda lib: lib.ones(3)[3], "out of bounds"),
    C("indexing", "[-4] of 3", lambda lib: lib.ones(3)[-4], "out of bounds"),
    C("indexing", "[0, 3] of (2, 3)", lambda lib: lib.ones(2, 3)[0, 3], "out of bounds"),
    C("indexing", "tensor index out of bounds", lambda lib: lib.ones(3)[lib.tensor([3])], "out of bounds"),
    C("indexing", "float tensor index", lambda lib: lib.ones(3)[lib.tensor([0.5])], "long, int, byte or bool"),
    C("indexing", "float index", lambda lib: lib.ones(3)[1.5], "only integers"),
    C("indexing", "string index", lambda lib: lib.ones(3)["a"], "not a valid index"),
    C("indexing", "mask shape", lambda lib: lib.ones(3)[lib.tensor([True, False])], "did not match"),
    C("indexing", "negative step", lambda lib: lib.ones(3)[::-1], "step must be greater than zero"),
    C("indexing", "too many indices", lambda lib: lib.ones(2, 3)[0, 0, 0], "too many indices"),
    C("indexing", "0-d [0]", lambda lib: lib.tensor(1.0)[0], "invalid index of a 0-dim tensor"),
    C("indexing", "index_select out of range", lambda lib: lib.ones(3).index_select(0, lib.tensor([5])), "out of bounds"),
    C("indexing", "gather out of bounds", lambda lib: lib.ones(2, 3).gather(1, lib.tensor([[3]])), "out of bounds"),
    C("indexing", "embedding out of range", lambda lib: F(lib).embedding(lib.tensor([5]), lib.ones(3, 2)), "out of range"),
    C("indexing", "setitem out of bounds", lambda lib: set_item(lib, lib.ones(3), 5, 1.0), "out of bounds"),
    C("indexing", "tensor index", lambda lib: lib.arange(3.0)[lib.tensor([0, 2])]),
    C("indexing", "list index", lambda lib: lib.arange(3.0)[[0, 1]]),
    C("indexing", "None and slice", lambda lib: lib.arange(3.0)[None, 1:]),
    C("indexing", "bool mask", lambda lib: lib.arange(3.0)[lib.tensor([True, False, True])]),
    C("indexing", "slice past the end", lambda lib: lib.arange(3.0)[1:10]),

    # ------------------------------------------------------------------ view / reshape
    C("view", "view 6 -> 4", lambda lib: lib.ones(6).view(4), "invalid for input of size 6"),
    C("view", "reshape 6 -> (4, -1)", lambda lib: lib.ones(6).reshape(4, -1), "invalid for input of size 6"),
    C("view", "two -1", lambda lib: lib.ones(6).view(-1, -1), "invalid for input of size 6"),
    C("view", "view of a transpose", lambda lib: lib.ones(2, 3).T.view(6), "not compatible"),
    C("view", "reshape of a transpose", lambda lib: lib.arange(6.0).reshape(2, 3).T.reshape(6)),
    C("view", "view (2, -1)", lambda lib: lib.arange(6.0).view(2, -1)),
    C("view", "invalid -2", lambda lib: lib.ones(6).reshape(-2, 3), "[-2, 3] is invalid"),
    C("view", "view (0, -1) of 6", lambda lib: lib.ones(6).view(0, -1), "invalid for input of size 6"),
    C("view", "view (0, -1) of 0", lambda lib: lib.ones(0).view(0, -1), "[0, -1] is invalid"),
    C("view", "unflatten sizes", lambda lib: lib.ones(2, 3).unflatten(1, (2, 2)), "[2, 2, 2] is invalid for input of size 6"),
    C("view", "chunk 0", lambda lib: lib.ones(4).chunk(0), "greater than 0"),
    C("view", "split sizes", lambda lib: lib.ones(3).split([1, 1]), "sum exactly to 3"),
    C("view", "split 0", lambda lib: lib.ones(3).split(0), "split_size"),
    C("view", "repeat too few", lambda lib: lib.ones(2, 3).repeat(2), "number of repeat dims"),

    # ------------------------------------------------------------------ in-place
    C("inplace", "add_ on leaf", lambda lib: leaf(lib).add_(1), "leaf Variable that requires grad"),
    C("inplace", "zero_ on leaf", lambda lib: leaf(lib).zero_(), "leaf Variable that requires grad"),
    C("inplace", "mul_ on leaf", lambda lib: leaf(lib).mul_(2), "leaf Variable that requires grad"),
    C("inplace", "setitem on leaf", lambda lib: set_item(lib, leaf(lib), 0, 1.0), "requires grad"),
    C("inplace", "add_ on expand", lambda lib: lib.ones(1, 3).expand(2, 3).add_(1), "single memory location"),
    C("inplace", "mul_ on expand", lambda lib: lib.ones(1, 3).expand(2, 3).mul_(2), "single memory location"),
    C("inplace", "under no_grad", no_grad_update),
    C("inplace", "detach shares memory", detach_shares),
    C("inplace", "modified saved tensor", modified_saved_tensor, "modified by an inplace operation"),
    C("inplace", "expand of a copy", lambda lib: lib.ones(1, 3).expand(2, 3).clone().add_(1)),

    # ------------------------------------------------------------------ autograd misuse
    C("autograd", "backward twice", backward_twice, "second time"),
    C("autograd", "retain_graph twice", retained_twice),
    C("autograd", "backward of non-scalar", lambda lib: (leaf(lib) * 2).backward(), "only for scalar outputs"),
    C("autograd", "backward without grad", lambda lib: lib.ones(2).sum().backward(), "does not require grad"),
    C("autograd", "backward under no_grad", no_grad_backward, "does not require grad"),
    C("autograd", "grad of input not requiring grad",
      lambda lib: lib.autograd.grad((leaf(lib) * 2).sum(), lib.ones(3)), "does not require grad"),
    C("autograd", "grad of unused input",
      lambda lib: lib.autograd.grad(leaf(lib).sum(), [leaf(lib)]), "not to have been used in the graph"),
    C("autograd", "grad allow_unused",
      lambda lib: lib.autograd.grad(leaf(lib).sum(), [leaf(lib)], allow_unused=True)),
    C("autograd", "grad of non-scalar",
      lambda lib: lib.autograd.grad(leaf(lib) * 2, leaf(lib)), "only for scalar outputs"),
    C("autograd", "backward gradient shape", lambda lib: (leaf(lib, 2) * 2).backward(lib.ones(3)), "shape"),
    C("autograd", "grad of a non-leaf is None", grad_of_nonleaf),
    C("autograd", "hook on no-grad tensor", lambda lib: lib.ones(2).register_hook(lambda g: g), "doesn't require"),
    C("autograd", "requires_grad_(False) on non-leaf", lambda lib: (leaf(lib) * 2).requires_grad_(False), "leaf variables"),
    C("autograd", "numpy of requires-grad", lambda lib: leaf(lib).numpy(), "detach().numpy()"),
    C("autograd", "retain_grad without grad", lambda lib: lib.ones(2).retain_grad(), "requires_grad=False"),
    C("autograd", "item of 2 elements", lambda lib: lib.ones(2).item(), "cannot be converted to a Python scalar"),
    C("autograd", "bool of 2 elements", lambda lib: bool(lib.ones(2)), "ambiguous"),
    C("autograd", "float of 1-element leaf", lambda lib: float(leaf(lib, 1))),
    C("autograd", "grad assignment shape", lambda lib: setattr(leaf(lib), "grad", lib.ones(4)), "different size"),
    C("autograd", "grad assignment type", lambda lib: setattr(leaf(lib), "grad", [1.0, 2.0, 3.0]), "Tensor or None"),

    # ------------------------------------------------------------------ optimizer misuse
    C("optim", "negative lr", lambda lib: lib.optim.SGD([leaf(lib)], lr=-1), "Invalid learning rate"),
    C("optim", "Adam beta0 = 1", lambda lib: lib.optim.Adam([leaf(lib)], betas=(1.0, 0.9)), "Invalid beta parameter at index 0"),
    C("optim", "Adam beta1 < 0", lambda lib: lib.optim.Adam([leaf(lib)], betas=(0.9, -0.1)), "Invalid beta parameter at index 1"),
    C("optim", "negative momentum", lambda lib: lib.optim.SGD([leaf(lib)], lr=0.1, momentum=-1), "Invalid momentum value"),
    C("optim", "nesterov without momentum", lambda lib: lib.optim.SGD([leaf(lib)], lr=0.1, nesterov=True), "Nesterov momentum requires"),
    C("optim", "negative eps", lambda lib: lib.optim.Adam([leaf(lib)], eps=-1), "Invalid epsilon value"),
    C("optim", "negative weight decay", lambda lib: lib.optim.SGD([leaf(lib)], lr=0.1, weight_decay=-1), "Invalid weight_decay value"),
    C("optim", "RMSprop negative alpha", lambda lib: lib.optim.RMSprop([leaf(lib)], alpha=-1), "Invalid alpha value"),
    C("optim", "Adagrad negative lr_decay", lambda lib: lib.optim.Adagrad([leaf(lib)], lr_decay=-1), "Invalid lr_decay value"),
    C("optim", "empty parameter list", lambda lib: lib.optim.SGD([], lr=0.1), "empty parameter list"),
    C("optim", "tensor as params", lambda lib: lib.optim.SGD(leaf(lib), lr=0.1), "iterable of Tensors or dicts"),
    C("optim", "overlapping groups", overlapping_groups, "more than one parameter group"),
    C("optim", "add_param_group overlap", add_overlapping_group, "more than one parameter group"),
    C("optim", "non-leaf parameter", lambda lib: lib.optim.SGD([leaf(lib) * 2], lr=0.1), "non-leaf Tensor"),
    C("optim", "step without grads", step_without_grads),
    C("optim", "SGD default lr", lambda lib: sgd_step(lib)),
    C("optim", "SGD step", lambda lib: sgd_step(lib, lr=0.1, momentum=0.9, weight_decay=0.1)),
    C("optim", "load_state_dict group count", opt_load_wrong_groups, "different number of parameter groups"),

    # ------------------------------------------------------------------ module misuse
    C("module", "Linear wrong in_features", lambda lib: linear(lib)(lib.ones(2, 4)), "must equal in_features"),
    C("module", "Linear unbatched", lambda lib: linear(lib)(lib.ones(3)).shape),
    C("module", "Linear on 0-d", lambda lib: linear(lib)(lib.tensor(1.0)), "input has shape ()"),
    C("module", "Linear(0, 3)", lin_zero_in),
    C("module", "Linear(-1, 3)", lambda lib: lib.nn.Linear(-1, 3), "negative dimension"),
    C("module", "Linear(2.5, 3)", lambda lib: lib.nn.Linear(2.5, 3), "size"),
    C("module", "Conv2d channels", lambda lib: conv(lib, 3, 4, 3, x=(1, 2, 5, 5)), "channels"),
    C("module", "Conv2d unbatched", lambda lib: conv(lib, 3, 4, 3, x=(3, 5, 5)).shape),
    C("module", "Conv2d 2-d input", lambda lib: conv(lib, 3, 4, 3, x=(5, 5)), "input"),
    C("module", "Conv2d stride=0", lambda lib: conv(lib, 1, 1, 3, stride=0), "non-positive stride"),
    C("module", "Conv2d padding=-1", lambda lib: conv(lib, 1, 1, 3, padding=-1), "negative padding"),
    C("module", "Conv2d kernel_size=0", lambda lib: conv(lib, 1, 1, 0), "kernel size should be greater than zero"),
    C("module", "Conv2d dilation=0", lambda lib: conv(lib, 1, 1, 3, dilation=0), "dilation should be greater than zero"),
    C("module", "Conv2d groups not dividing", lambda lib: lib.nn.Conv2d(2, 2, 3, groups=3), "divisible by groups"),
    C("module", "Conv2d groups=0", lambda lib: lib.nn.Conv2d(2, 2, 3, groups=0), "groups must be a positive integer"),
    C("module", "Conv2d out_channels=0", lambda lib: conv(lib, 1, 0, 3), "at least 1 at dimension 0"),
    C("module", "Conv2d kernel > input", lambda lib: conv(lib, 1, 1, 7), "input"),
    C("module", "Conv2d float stride", lambda lib: conv(lib, 1, 1, 3, stride=1.5), "stride"),
    C("module", "Conv2d padding string", lambda lib: lib.nn.Conv2d(1, 1, 3, padding="full"), "Invalid padding string"),
    C("module", "Conv2d padding_mode", lambda lib: lib.nn.Conv2d(1, 1, 3, padding_mode="mirror"), "padding_mode must be one of"),
    C("module", "Conv2d same + stride", lambda lib: lib.nn.Conv2d(1, 1, 3, stride=2, padding="same"), "not supported for strided"),
    C("module", "BatchNorm1d features", lambda lib: bn_forward(lib, 3, (2, 4)), "should contain 4 elements"),
    C("module", "BatchNorm2d 3-d input", lambda lib: bn_forward(lib, 3, (2, 3, 4), "BatchNorm2d"), "4D input"),
    C("module", "BatchNorm1d one sample", lambda lib: bn_forward(lib, 3, (1, 3)), "more than 1 value per channel"),
    C("module", "BatchNorm1d ok", lambda lib: bn_forward(lib, 3, (2, 3))),
    C("module", "LayerNorm shape", lambda lib: lib.nn.LayerNorm(4)(lib.ones(2, 3)), "normalized_shape"),
    C("module", "LSTM input size", lambda lib: lstm_out_shape(lib, (5, 2, 2)), "input_size"),
    C("module", "LSTM unbatched", lambda lib: lstm_out_shape(lib, (5, 3))),
    C("module", "LSTM hidden shape",
      lambda lib: lstm_out_shape(lib, (5, 2, 3), (lib.zeros(1, 3, 4), lib.zeros(1, 3, 4))), "hidden"),
    C("module", "RNN nonlinearity", lambda lib: lib.nn.RNN(3, 4, nonlinearity="sigmoid"), "nonlinearity"),
    C("module", "Embedding index", lambda lib: lib.nn.Embedding(3, 2)(lib.tensor([3])), "out of range"),
    C("module", "Embedding float index", lambda lib: lib.nn.Embedding(3, 2)(lib.tensor([0.5])), "Long or Int"),
    C("module", "Dropout p", lambda lib: lib.nn.Dropout(1.5), "between 0 and 1"),
    C("module", "MaxPool2d stride=0", lambda lib: lib.nn.MaxPool2d(2, stride=0)(lib.ones(1, 1, 4, 4)), "stride should not be zero"),
    C("module", "MaxPool2d kernel=0", lambda lib: lib.nn.MaxPool2d(0)(lib.ones(1, 1, 4, 4)), "zero"),
    C("module", "MaxPool2d padding", lambda lib: lib.nn.MaxPool2d(2, padding=2)(lib.ones(1, 1, 4, 4)), "pad should be at most half"),
    C("module", "AvgPool2d stride=0", lambda lib: lib.nn.AvgPool2d(2, stride=0)(lib.ones(1, 1, 4, 4)), "stride should not be zero"),
    C("module", "AvgPool2d too large", lambda lib: lib.nn.AvgPool2d(5)(lib.ones(1, 1, 4, 4)), "too small"),
    C("module", "MaxPool2d 2-d input", lambda lib: lib.nn.MaxPool2d(2)(lib.ones(4, 4)), "3D or 4D"),
    C("module", "load_state_dict missing", lambda lib: load_sd(lib, lambda lib, sd: sd.pop("bias")), "Missing key(s)"),
    C("module", "load_state_dict unexpected", lambda lib: load_sd(lib, lambda lib, sd: sd.update(extra=lib.ones(1))), "Unexpected key(s)"),
    C("module", "load_state_dict size", lambda lib: load_sd(lib, lambda lib, sd: sd.update(bias=lib.ones(3))), "size mismatch"),
    C("module", "load_state_dict non-strict", load_sd_nonstrict),
    C("module", "register_parameter plain tensor", lambda lib: register(lib, "parameter", "w", lib.ones(2)), "Parameter or None"),
    C("module", "register_parameter None", lambda lib: register(lib, "parameter", "w", None)),
    C("module", "register_parameter dotted", lambda lib: register(lib, "parameter", "a.b", None), 'contain "."'),
    C("module", "register_parameter empty name", lambda lib: register(lib, "parameter", "", None), "be empty"),
    C("module", "register_buffer int", lambda lib: register(lib, "buffer", "b", 5), "Tensor or None"),
    C("module", "register_buffer ok", lambda lib: register(lib, "buffer", "b", lib.ones(2))),
    C("module", "assign tensor over parameter", assign_tensor_over_param, "Parameter or None"),
    C("module", "assign None to parameter", assign_none_param),
    C("module", "add_module non-module", lambda lib: lib.nn.Module().add_module("m", 3), "is not a Module subclass"),
    C("module", "forward missing", module_forward_missing, "forward"),
    C("module", "Sequential index", lambda lib: lib.nn.Sequential(lib.nn.ReLU())[5], "out of range"),
    C("module", "Module.to(int64)", lambda lib: linear(lib).to(lib.int64), "floating point"),

    # ------------------------------------------------------------------ loss misuse
    C("loss", "mse shapes", lambda lib: F(lib).mse_loss(lib.ones(3), lib.ones(4)), "broadcast"),
    C("loss", "cross_entropy class 3 of 3", lambda lib: F(lib).cross_entropy(lib.ones(2, 3), lib.tensor([0, 3])), "out of bounds"),
    C("loss", "cross_entropy class -2", lambda lib: F(lib).cross_entropy(lib.ones(2, 3), lib.tensor([0, -2])), "out of bounds"),
    C("loss", "cross_entropy 2-d target", lambda lib: F(lib).cross_entropy(lib.ones(2, 3), lib.tensor([[0], [1]])), "target"),
    C("loss", "cross_entropy float target shape", lambda lib: F(lib).cross_entropy(lib.ones(2, 3), lib.tensor([0.0, 1.0])), "target"),
    C("loss", "cross_entropy weight length",
      lambda lib: F(lib).cross_entropy(lib.ones(2, 3), lib.tensor([0, 1]), weight=lib.ones(2)), "weight"),
    C("loss", "cross_entropy reduction name",
      lambda lib: F(lib).cross_entropy(lib.ones(2, 3), lib.tensor([0, 1]), reduction="avg"), "reduction must be one of"),
    C("loss", "mse reduction name", lambda lib: F(lib).mse_loss(lib.ones(2), lib.ones(2), reduction="foo"), "reduction must be one of"),
    C("loss", "nll batch sizes", lambda lib: F(lib).nll_loss(lib.ones(2, 3), lib.tensor([0, 1, 2])), "to match target batch_size (3)"),
    C("loss", "bce target size", lambda lib: F(lib).binary_cross_entropy(lib.full((2,), 0.5), lib.ones(3)), "target size"),
    C("loss", "bce input range", lambda lib: F(lib).binary_cross_entropy(lib.tensor([1.5]), lib.ones(1)), "between 0 and 1"),
    C("loss", "bce int target", lambda lib: F(lib).binary_cross_entropy(lib.full((2,), 0.5), lib.tensor([1, 0])), "Found dtype"),
    C("loss", "cross_entropy all ignored", lambda lib: F(lib).cross_entropy(lib.ones(2, 3), lib.tensor([-100, -100]))),
    C("loss", "cross_entropy label_smoothing", lambda lib: F(lib).cross_entropy(lib.ones(2, 3), lib.tensor([0, 1]), label_smoothing=1.5), "label_smoothing"),
    C("loss", "CrossEntropyLoss value", lambda lib: lib.nn.CrossEntropyLoss()(lib.ones(2, 3), lib.tensor([1, 2]))),
    C("loss", "cross_entropy unbatched", lambda lib: F(lib).cross_entropy(lib.ones(3), lib.tensor(1))),
    C("loss", "l1 none", lambda lib: F(lib).l1_loss(lib.ones(2, 3), lib.zeros(2, 3), reduction="none")),
    C("loss", "huber negative delta", lambda lib: F(lib).huber_loss(lib.ones(2), lib.zeros(2), delta=-1.0), "delta"),
    C("loss", "smooth_l1 negative beta", lambda lib: F(lib).smooth_l1_loss(lib.ones(2), lib.zeros(2), beta=-1.0), "beta"),
    C("loss", "bce_with_logits shapes", lambda lib: F(lib).binary_cross_entropy_with_logits(lib.ones(2), lib.ones(3)), "target size"),
    C("loss", "kl_div batchmean", lambda lib: F(lib).kl_div(lib.full((2, 2), -0.5), lib.full((2, 2), 0.25), reduction="batchmean")),

    # ------------------------------------------------------------------ DataLoader misuse
    C("data", "batch_size 0", lambda lib: lib.utils.data.DataLoader(ds(lib), batch_size=0), "positive integer"),
    C("data", "batch_size -1", lambda lib: lib.utils.data.DataLoader(ds(lib), batch_size=-1), "positive integer"),
    C("data", "sampler + shuffle",
      lambda lib: lib.utils.data.DataLoader(ds(lib), sampler=lib.utils.data.SequentialSampler(range(4)), shuffle=True),
      "mutually exclusive with shuffle"),
    C("data", "batch_sampler + batch_size",
      lambda lib: lib.utils.data.DataLoader(
          ds(lib), batch_size=2,
          batch_sampler=lib.utils.data.BatchSampler(range(4), 2, False)), "mutually exclusive"),
    C("data", "negative num_workers", lambda lib: lib.utils.data.DataLoader(ds(lib), num_workers=-1), "num_workers"),
    C("data", "TensorDataset sizes", lambda lib: lib.utils.data.TensorDataset(lib.ones(3), lib.ones(4)), "Size mismatch"),
    C("data", "random_split lengths", lambda lib: lib.utils.data.random_split(ds(lib), [2, 3]), "Sum of input lengths"),
    C("data", "len with drop_last", lambda lib: len(lib.utils.data.DataLoader(ds(lib, 5), batch_size=2, drop_last=True))),
    C("data", "len without drop_last", lambda lib: len(lib.utils.data.DataLoader(ds(lib, 5), batch_size=2))),
    C("data", "first batch", lambda lib: loader_first(lib, batch_size=3)),
    C("data", "first batch shuffled", lambda lib: (lib.manual_seed(0), loader_first(lib, batch_size=3, shuffle=True))[1]),
    C("data", "dataset index", lambda lib: ds(lib)[4], "out of bounds"),

    # ------------------------------------------------------------------ init misuse
    C("init", "kaiming of 1-d", lambda lib: lib.nn.init.kaiming_uniform_(lib.ones(3)), "fewer than 2 dimensions"),
    C("init", "xavier of 1-d", lambda lib: lib.nn.init.xavier_uniform_(lib.ones(3)), "fewer than 2 dimensions"),
    C("init", "kaiming mode", lambda lib: lib.nn.init.kaiming_normal_(lib.ones(2, 3), mode="fan_foo"), "not supported"),
    C("init", "calculate_gain name", lambda lib: lib.nn.init.calculate_gain("foo"), "nonlinearity"),
    C("init", "calculate_gain slope", lambda lib: lib.nn.init.calculate_gain("leaky_relu", "a"), "not a valid number"),
    C("init", "orthogonal of 1-d", lambda lib: lib.nn.init.orthogonal_(lib.ones(3)), "2 or more dimensions"),
    C("init", "eye_ of 3-d", lambda lib: lib.nn.init.eye_(lib.ones(2, 2, 2)), "2 dimensions"),
    C("init", "kaiming of empty", kaiming_empty),
    C("init", "constant_", lambda lib: lib.nn.init.constant_(lib.ones(2), 3)),

    # ------------------------------------------------------------------ devices
    C("device", "zeros cuda", lambda lib: lib.zeros(2, device="cuda"), "runs on the CPU"),
    C("device", "zeros cuda:0", lambda lib: lib.zeros(2, device="cuda:0"), "runs on the CPU"),
    C("device", "randn cuda", lambda lib: lib.randn(2, device="cuda"), "runs on the CPU"),
    C("device", "tensor cuda", lambda lib: lib.tensor([1.0], device="cuda"), "runs on the CPU"),
    C("device", "ones_like cuda", lambda lib: lib.ones_like(lib.ones(2), device="cuda"), "runs on the CPU"),
    C("device", "zeros mps", lambda lib: lib.zeros(2, device="mps"), "runs on the CPU"),
    C("device", "to cuda", lambda lib: lib.zeros(2).to("cuda"), "runs on the CPU"),
    C("device", "to mps", lambda lib: lib.zeros(2).to("mps"), "runs on the CPU"),
    C("device", "to cuda, float64", lambda lib: lib.zeros(2).to("cuda", lib.float64), "runs on the CPU"),
    C("device", "to(device=cuda)", lambda lib: lib.zeros(2).to(device=lib.device("cuda")), "runs on the CPU"),
    C("device", ".cuda()", lambda lib: lib.zeros(2).cuda(), "runs on the CPU"),
    C("device", "Linear device=cuda", lambda lib: lib.nn.Linear(2, 2, device="cuda"), "runs on the CPU"),
    C("device", "Conv2d device=cuda", lambda lib: lib.nn.Conv2d(1, 1, 3, device="cuda"), "runs on the CPU"),
    C("device", "LSTM device=cuda", lambda lib: lib.nn.LSTM(2, 2, device="cuda"), "runs on the CPU"),
    C("device", "BatchNorm device=cuda", lambda lib: lib.nn.BatchNorm1d(2, device="cuda"), "runs on the CPU"),
    C("device", "Module.cuda()", lambda lib: linear(lib).cuda(), "runs on the CPU"),
    C("device", "Module.to(cuda:0)", lambda lib: linear(lib).to("cuda:0"), "runs on the CPU"),
    C("device", "cuda.current_device", lambda lib: lib.cuda.current_device(), "runs on the CPU"),
    C("device", "unknown device", lambda lib: lib.zeros(2, device="gpu"), "Expected one of cpu, cuda"),
    C("device", "device='cpu'", lambda lib: lib.zeros(2, device="cpu")),
    C("device", "device(cpu)", lambda lib: lib.zeros(2, device=lib.device("cpu"))),
    C("device", "Linear device=cpu", lambda lib: linear(lib).to("cpu").to(lib.device("cpu")).weight.shape),
    C("device", "to(cpu, float64)", lambda lib: lib.zeros(2).to(lib.device("cpu"), lib.float64)),
    C("device", "to(other tensor)", lambda lib: lib.zeros(2).to(lib.ones(1, dtype=lib.float64))),
    C("device", "device facts", lambda lib: (str(lib.zeros(2).device), repr(lib.zeros(2).device),
                                            lib.zeros(2).device == lib.device("cpu"), lib.zeros(2).is_cuda,
                                            lib.cuda.is_available(), lib.cuda.device_count())),
    C("device", "device index", lambda lib: (lib.device("cuda:1").index, lib.device("cpu").index,
                                            str(lib.device("cpu", 0)), repr(lib.device("cuda", 1)))),

    # ------------------------------------------------------------------ numeric edge cases (values, no warnings)
    C("numeric", "log 0", lambda lib: lib.tensor([0.0, 1.0]).log()),
    C("numeric", "log -1", lambda lib: lib.tensor([-1.0]).log()),
    C("numeric", "sqrt -1", lambda lib: lib.tensor([-1.0, 4.0]).sqrt()),
    C("numeric", "0/0", lambda lib: lib.tensor([0.0]) / lib.tensor([0.0])),
    C("numeric", "1/0", lambda lib: lib.tensor([1.0, -1.0]) / 0),
    C("numeric", "int / 0", lambda lib: lib.tensor([1, 0]) / 0),
    C("numeric", "log1p -1", lambda lib: lib.tensor([-1.0]).log1p()),
    C("numeric", "exp 1000", lambda lib: lib.tensor([1000.0]).exp()),
    C("numeric", "rsqrt 0", lambda lib: lib.tensor([0.0]).rsqrt()),
    C("numeric", "0 ** -1", lambda lib: lib.tensor([0.0]) ** -1),
    C("numeric", "0 ** 0", lambda lib: lib.tensor([0.0]) ** 0),
    C("numeric", "(-8) ** (1/3)", lambda lib: lib.tensor([-8.0]) ** (1 / 3)),
    C("numeric", "0 * inf", lambda lib: lib.tensor([0.0]) * inf),
    C("numeric", "inf - inf sum", lambda lib: lib.tensor([inf, -inf]).sum()),
    C("numeric", "sigmoid extremes", lambda lib: lib.tensor([-1000.0, 1000.0]).sigmoid()),
    C("numeric", "tanh extremes", lambda lib: lib.tensor([-1000.0, 1000.0]).tanh()),
    C("numeric", "softmax with inf", lambda lib: lib.tensor([inf, 0.0]).softmax(0)),
    C("numeric", "log_softmax all -inf", lambda lib: lib.tensor([-inf, -inf]).log_softmax(0)),
    C("numeric", "logsumexp all -inf", lambda lib: lib.tensor([-inf, -inf]).logsumexp(0)),
    C("numeric", "float16 overflow", lambda lib: lib.tensor([70000.0], dtype=lib.float16)),
    C("numeric", "float16 sum overflow", lambda lib: lib.full((2,), 60000.0, dtype=lib.float16).sum()),
    C("numeric", "clamp nan", lambda lib: lib.tensor([nan, 2.0]).clamp(0, 1)),
    C("numeric", "relu nan", lambda lib: lib.tensor([nan, -1.0]).relu()),
    C("numeric", "sqrt grad at 0", lambda lib: grad_at(lib, lambda x: x.sqrt(), 0.0)),
    C("numeric", "abs grad at 0", lambda lib: grad_at(lib, lambda x: x.abs(), 0.0)),
    C("numeric", "relu grad at 0", lambda lib: grad_at(lib, lambda x: x.relu(), 0.0)),
    C("numeric", "log grad at 0", lambda lib: grad_at(lib, lambda x: x.log(), 0.0)),
    C("numeric", "pow 0.5 grad at 0", lambda lib: grad_at(lib, lambda x: x ** 0.5, 0.0)),
    C("numeric", "mean of nan", lambda lib: lib.tensor([nan, 1.0]).mean()),
    C("numeric", "var of constant", lambda lib: lib.full((4,), 1e8).var()),

    # ------------------------------------------------------------------ float -> int overflow
    C("overflow", "tensor(1e20, int64)", lambda lib: lib.tensor([1e20], dtype=lib.int64), "overflow"),
    C("overflow", "tensor(inf, int32)", lambda lib: lib.tensor([inf], dtype=lib.int32), "overflow"),
    C("overflow", "tensor(nan, int64)", lambda lib: lib.tensor([nan], dtype=lib.int64), "overflow"),
    C("overflow", "tensor(2**63)", lambda lib: lib.tensor([2 ** 63]), "overflow"),
    C("overflow", "tensor(-2**63)", lambda lib: lib.tensor([-2 ** 63])),
    C("overflow", "full(1e20, int64)", lambda lib: lib.full((2,), 1e20, dtype=lib.int64), "overflow"),
    C("overflow", "full(300, uint8)", lambda lib: lib.full((1,), 300, dtype=lib.uint8), "overflow"),
    C("overflow", "int64 to int32 wraps", lambda lib: lib.tensor([2 ** 40 + 5]).int()),
    C("overflow", "float64 to float32 inf", lambda lib: lib.tensor([1e300], dtype=lib.float64).float()),

    # ------------------------------------------------------------------ printing
    C("printing", "1000 zeros", lambda lib: repr(lib.zeros(1000))),
    C("printing", "100x100 arange", lambda lib: repr(lib.arange(10000).reshape(100, 100))),
    C("printing", "1001x1001 ones", lambda lib: str(lib.ones(1001, 1001))),
    C("printing", "large and small", lambda lib: repr(lib.tensor([1e20, 1.0, 1e-10]))),
    C("printing", "nan and inf", lambda lib: repr(lib.tensor([nan, inf, -inf, 1.5]))),
    C("printing", "empty", lambda lib: (repr(lib.zeros(0)), repr(lib.zeros(2, 0)))),
    C("printing", "requires grad", lambda lib: repr(leaf(lib, 2))),
    C("printing", "float64 empty", lambda lib: repr(lib.zeros(0, dtype=lib.float64))),

    # ------------------------------------------------------------------ NaN into sort-like ops
    C("nan-order", "max with nan", lambda lib: lib.tensor([1.0, nan, 3.0]).max()),
    C("nan-order", "min with nan", lambda lib: lib.tensor([1.0, nan, 3.0]).min()),
    C("nan-order", "max(dim) with nan", lambda lib: lib.tensor([[1.0, nan, 3.0]]).max(1)),
    C("nan-order", "min(dim) with nan", lambda lib: lib.tensor([[1.0, nan, 3.0]]).min(1)),
    C("nan-order", "argmax with nan", lambda lib: lib.tensor([1.0, nan, 3.0]).argmax()),
    C("nan-order", "argmin with nan", lambda lib: lib.tensor([1.0, nan, -3.0]).argmin()),
    C("nan-order", "amax with nan", lambda lib: lib.tensor([[1.0, nan], [2.0, 0.0]]).amax(0)),
    C("nan-order", "maximum with nan", lambda lib: lib.maximum(lib.tensor([1.0, nan]), lib.tensor([nan, 0.0]))),
    C("nan-order", "minimum with nan", lambda lib: lib.minimum(lib.tensor([1.0, nan]), lib.tensor([nan, 0.0]))),
    C("nan-order", "max_pool2d with nan", lambda lib: F(lib).max_pool2d(lib.tensor([[[[1.0, nan], [2.0, 0.0]]]]), 2)),
    C("nan-order", "cummax-free cumsum with nan", lambda lib: lib.tensor([1.0, nan, 1.0]).cumsum(0)),
    C("nan-order", "logsumexp with nan", lambda lib: lib.tensor([1.0, nan]).logsumexp(0)),
    # ------------------------------------------------------------------ torch's exception types (probe, 2026-12-04)
    C("types", "int() of 2 elements", lambda lib: int(lib.ones(2)), "one element tensors"),
    C("types", "float() of 2 elements", lambda lib: float(lib.ones(2)), "one element tensors"),
    C("types", "expand -1 in a new leading dim", lambda lib: lib.ones(2).expand(-1, 2), "leading, non-existing"),
    C("types", "arange to nan", lambda lib: lib.arange(0, nan), "unsupported range"),
    C("types", "arange to inf", lambda lib: lib.arange(0, inf), "unsupported range"),
    C("types", "randn_like of int64", lambda lib: lib.randn_like(lib.ones(2, dtype=lib.int64)), "floating-point"),
    C("types", "rand(dtype=int64)", lambda lib: lib.rand(2, dtype=lib.int64), "floating-point"),
    C("types", "histc of int64", lambda lib: lib.histc(lib.ones(2, dtype=lib.int64)), "histogram_cpu"),
    C("types", "x == None", lambda lib: lib.ones(2) == None),   # noqa: E711  (a value: False)
    C("types", "t() of 1-d", lambda lib: lib.arange(3.0).t()),
    C("types", "add ints with a float alpha", lambda lib: lib.add(lib.tensor([1, 2]), lib.tensor([1, 2]), alpha=0.5), "alpha must not be a floating point"),
    C("types", "sub ints with a float alpha", lambda lib: lib.sub(lib.tensor([1, 2]), lib.tensor([1, 2]), alpha=0.5), "alpha must not be a floating point"),
    C("types", "masked_fill -inf into int64", lambda lib: lib.tensor([1, 2]).masked_fill(lib.tensor([True, False]), -inf), "without overflow"),
    C("types", "masked_fill nan into int64", lambda lib: lib.tensor([1, 2]).masked_fill(lib.tensor([True, False]), nan), "without overflow"),
    C("types", "masked_fill 300 into uint8", lambda lib: lib.tensor([1, 2], dtype=lib.uint8).masked_fill(lib.tensor([True, False]), 300), "without overflow"),
    C("types", "masked_fill -1 into uint8 wraps", lambda lib: lib.tensor([1, 2], dtype=lib.uint8).masked_fill(lib.tensor([True, False]), -1)),
    C("types", "index_select a negative index", lambda lib: lib.arange(5.0).index_select(0, lib.tensor([-1])), "negative indices"),

]


# ---------------------------------------------------------------------------------- the runner
def _run(fn, lib):
    """(exception or None, value, RuntimeWarnings raised by NumPy)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            value, exc = fn(lib), None
        except Exception as e:   # noqa: BLE001  (the corpus compares what each library raises)
            value, exc = None, e
    return exc, value, [w for w in caught if issubclass(w.category, RuntimeWarning)]


def _is_tensor(v):
    return isinstance(v, (torch.Tensor, cr.Tensor))


def _normalise(v):
    """A value both libraries can be compared by: tensors as (shape, dtype name, array)."""
    if _is_tensor(v):
        arr = np.asarray(v.detach().numpy())
        return ("tensor", tuple(v.shape), str(v.dtype).split(".")[-1], arr)
    if isinstance(v, (torch.Size, cr.Size)):
        return ("size", tuple(v))
    if isinstance(v, (tuple, list)):
        return ("seq", [_normalise(x) for x in v])
    if isinstance(v, dict):
        return ("dict", {k: _normalise(x) for k, x in v.items()})
    if isinstance(v, str):
        return ("str", v.replace("chainrule.", "torch.").replace("chainrule", "torch"))
    if isinstance(v, (torch.dtype, cr.dtype)):
        return ("dtype", str(v).split(".")[-1])
    if v is None or isinstance(v, (bool, int, float, np.generic)):
        return ("scalar", v)
    return ("other", type(v).__name__)


def _equal(a, b, path="value"):
    assert a[0] == b[0], f"{path}: torch gave {a[0]}, chainrule {b[0]}"
    if a[0] == "tensor":
        assert a[1] == b[1], f"{path}: shape torch {a[1]} != chainrule {b[1]}"
        assert a[2] == b[2], f"{path}: dtype torch {a[2]} != chainrule {b[2]}"
        np.testing.assert_allclose(b[3].astype(np.float64) if b[3].dtype.kind != "b" else b[3],
                                   a[3].astype(np.float64) if a[3].dtype.kind != "b" else a[3],
                                   rtol=1e-6, atol=0, equal_nan=True, err_msg=path)
    elif a[0] == "seq":
        assert len(a[1]) == len(b[1]), f"{path}: lengths {len(a[1])} != {len(b[1])}"
        for i, (x, y) in enumerate(zip(a[1], b[1])):
            _equal(x, y, f"{path}[{i}]")
    elif a[0] == "dict":
        assert a[1].keys() == b[1].keys(), path
        for k in a[1]:
            _equal(a[1][k], b[1][k], f"{path}[{k!r}]")
    elif a[0] == "scalar" and isinstance(a[1], float) and math.isnan(a[1]):
        assert isinstance(b[1], float) and math.isnan(b[1]), f"{path}: torch nan, chainrule {b[1]}"
    else:
        assert a[1] == b[1], f"{path}: torch {a[1]!r} != chainrule {b[1]!r}"


def test_the_corpus_is_large_and_named_once():
    assert len(CASES) >= 150
    names = [(c.category, c.name) for c in CASES]
    assert len(set(names)) == len(names)
    for c in CASES:
        assert c.match is None or c.match.strip(), c.name


@pytest.mark.parametrize("case", CASES, ids=[f"{c.category}:{c.name}" for c in CASES])
def test_misuse(case):
    check_against_torch(case)


def check_against_torch(case):
    """Run ``case.fn`` under torch and chainrule: where torch raises, chainrule raises the same
    type with one clear message holding ``case.match``; else the same result, no warnings."""
    t_exc, t_val, _ = _run(case.fn, torch)
    c_exc, c_val, c_warn = _run(case.fn, cr)
    if t_exc is not None:
        assert case.match is not None, (
            f"torch raises {type(t_exc).__name__}: {t_exc}; give the case a message fragment")
        assert c_exc is not None, (
            f"torch raises {type(t_exc).__name__}: {str(t_exc)[:200]}; chainrule returned {c_val!r}")
        assert isinstance(c_exc, type(t_exc)), (
            f"torch raises {type(t_exc).__name__} ({str(t_exc)[:200]}), chainrule "
            f"{type(c_exc).__name__}: {c_exc}")
        assert case.match.lower() in str(c_exc).lower(), (
            f"chainrule's message {str(c_exc)!r} lacks {case.match!r}")
        assert "\n" not in str(c_exc).strip() or len(str(c_exc)) < 400, "one clear message"
        return
    assert case.match is None, f"torch returns {t_val!r} here; drop the fragment {case.match!r}"
    if c_exc is not None:
        raise AssertionError(f"torch returns {t_val!r}, chainrule raises "
                             f"{type(c_exc).__name__}: {c_exc}") from c_exc
    assert not c_warn, f"chainrule leaks {[str(w.message) for w in c_warn]}"
    _equal(_normalise(t_val), _normalise(c_val))


def test_device_error_is_one_runtime_error_that_torch_code_catches():
    with pytest.raises(RuntimeError) as info:
        cr.zeros(2, device="cuda")
    assert isinstance(info.value, AssertionError)      # torch's CPU build: AssertionError
    assert isinstance(info.value, NotImplementedError)  # torch for a device without kernels
    assert str(info.value).startswith("zeros: device 'cuda' is not available")
    assert cr.device("cpu") != cr.device("cpu:0") and cr.device("cpu", 0) == "cpu:0"   # as torch
    assert {cr.device("cpu"): 1}[cr.device("cpu")] == 1
    assert cr.device("cpu") != "cuda" and cr.device("cpu") != 3
