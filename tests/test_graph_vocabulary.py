"""torch's graph vocabulary: the same node names, edges and Node interface as torch's.

A learner following a PyTorch tutorial walks ``loss.grad_fn.next_functions`` and should meet the
same nodes in the same order: AddmmBackward0 for a Linear layer, TBackward0 for its weight, an
AccumulateGrad (whose ``.variable`` is the leaf) for every parameter, None for an input that
needs no gradient.
"""
import numpy as np
import pytest
import torch

import chainrule as cr


def walk(fn):
    """Depth-first list of (depth, name, leaf shape) from a grad_fn, edges in order."""
    out = []

    def visit(node, depth):
        if node is None:
            out.append((depth, None, None))
            return
        leaf = getattr(node, "variable", None)
        out.append((depth, node.name(), None if leaf is None else tuple(leaf.shape)))
        for nxt, index in node.next_functions:
            assert index == 0
            visit(nxt, depth + 1)
    visit(fn, 0)
    return out


def both(build, make_input, loss):
    """Build the model in both libraries from one recipe, run one loss, walk both graphs."""
    walks = []
    for lib in (cr, torch):
        lib.manual_seed(0)
        model = build(lib)
        x = make_input(lib)
        walks.append(walk(loss(lib, model(x)).grad_fn))
    return walks


def mlp(lib):
    nn = lib.nn
    return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))


def lenet5(lib):
    nn = lib.nn
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(16 * 5 * 5, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
        nn.Linear(84, 10))


def torch_basic_block(inplanes, planes, stride):
    """torchvision's BasicBlock, written out: the twin of chainrule.models.resnet.BasicBlock."""
    nn = torch.nn

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(planes)
            self.relu = nn.ReLU(inplace=True)
            self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(planes)
            self.downsample = None
            if stride != 1 or inplanes != planes:
                self.downsample = nn.Sequential(nn.Conv2d(inplanes, planes, 1, stride, bias=False),
                                                nn.BatchNorm2d(planes))

        def forward(self, x):
            out = self.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            return self.relu(out + (x if self.downsample is None else self.downsample(x)))
    return Block()


LOSSES = {
    "cross_entropy": lambda lib, y: lib.nn.functional.cross_entropy(y, lib.tensor([0, 2, 1, 0, 1])),
    "mse": lambda lib, y: lib.nn.functional.mse_loss(y, lib.ones(5, 3)),
    "mean": lambda lib, y: y.mean(),
    "sum_of_squares": lambda lib, y: (y ** 2).sum(),
    "nll": lambda lib, y: lib.nn.functional.nll_loss(y.log_softmax(1), lib.tensor([0, 2, 1, 0, 1])),
}


@pytest.mark.parametrize("loss", sorted(LOSSES))
@pytest.mark.parametrize("input_grad", [False, True])
def test_mlp_walk_lists_torchs_nodes(loss, input_grad):
    cr_walk, torch_walk = both(mlp, lambda lib: lib.randn(5, 4, requires_grad=input_grad),
                               LOSSES[loss])
    assert cr_walk == torch_walk


@pytest.mark.parametrize("loss", ["cross_entropy", "mean"])
def test_lenet5_walk_lists_torchs_nodes(loss):
    cr_walk, torch_walk = both(lenet5, lambda lib: lib.randn(5, 1, 28, 28),
                               lambda lib, y: LOSSES[loss](lib, y[:, :3]))
    assert cr_walk == torch_walk


@pytest.mark.parametrize("inplanes, planes, stride", [(4, 4, 1), (4, 8, 2)])
@pytest.mark.parametrize("train", [True, False])
def test_resnet_block_walk_lists_torchs_nodes(inplanes, planes, stride, train):
    from chainrule.models.resnet import BasicBlock
    build = {cr: lambda: BasicBlock(inplanes, planes, stride),
             torch: lambda: torch_basic_block(inplanes, planes, stride)}
    walks = []
    for lib in (cr, torch):
        block = build[lib]().train(train)
        x = lib.randn(2, inplanes, 8, 8, requires_grad=True)
        walks.append(walk(block(x).sum().grad_fn))
    assert walks[0] == walks[1]


def test_node_classes_are_named_as_torchs():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = (x * 2).sum()
    assert type(y.grad_fn).__name__ == y.grad_fn.name() == "SumBackward0"
    assert repr(y.grad_fn).startswith("<SumBackward0 object at 0x")
    mul, index = y.grad_fn.next_functions[0]
    assert (type(mul).__name__, index) == ("MulBackward0", 0)
    acc = mul.next_functions[0][0]
    assert type(acc).__name__ == "AccumulateGrad" and acc.variable is x
    assert acc.name() == torch.ones(1, requires_grad=True).mul(2).grad_fn.next_functions[0][0].name()
    assert mul.next_functions[1] == (None, 0)       # the constant 2 needs no gradient
    assert acc.next_functions == ()
    # overloads as torch names them
    for make in (lambda lib, t: t.sum(0), lambda lib, t: t.mean(), lambda lib, t: t.mean(0),
                 lambda lib, t: t ** 2, lambda lib, t: t ** t, lambda lib, t: 2 ** t,
                 lambda lib, t: 1 - t, lambda lib, t: t.t(), lambda lib, t: t.transpose(0, 1),
                 lambda lib, t: t.permute(1, 0), lambda lib, t: t[0], lambda lib, t: t[:, 1:],
                 lambda lib, t: t[lib.tensor([1, 0])], lambda lib, t: t.squeeze(),
                 lambda lib, t: t.unsqueeze(0), lambda lib, t: t.view(-1), lambda lib, t: t.max(),
                 lambda lib, t: t.clamp(0, 1), lambda lib, t: t.log1p(),
                 lambda lib, t: lib.stack([t, t]), lambda lib, t: t.split(1)[0],
                 lambda lib, t: t.unbind()[1], lambda lib, t: t.to(lib.float64),
                 lambda lib, t: t.masked_fill(t > 0, 0.0), lambda lib, t: t @ t,
                 lambda lib, t: lib.addmm(t, t, t), lambda lib, t: t.expand(3, 2, 2)):
        names = [make(lib, lib.ones(2, 2, requires_grad=True)).grad_fn.name() for lib in (cr, torch)]
        assert names[0] == names[1]


def test_saved_values_metadata_and_hooks_as_torchs():
    x = cr.tensor([1.0, -2.0, 3.0], requires_grad=True)
    w = cr.tensor([0.5, 0.5, 0.5], requires_grad=True)
    y = x.exp()
    assert np.array_equal(y.grad_fn._saved_result.detach().numpy(), y.detach().numpy())   # exp saves its output
    z = x * w
    assert z.grad_fn._saved_self is x and z.grad_fn._saved_other is w
    with pytest.raises(AttributeError, match="saved no 'bogus'"):
        z.grad_fn._saved_bogus
    z.grad_fn.metadata["note"] = "mine"
    assert z.grad_fn.metadata == {"note": "mine"}

    seen = []
    z = x * w
    loss = z.sum()
    z.grad_fn.register_prehook(lambda grad_outputs: seen.append(("pre", len(grad_outputs))))
    z.grad_fn.register_hook(lambda grad_inputs, grad_outputs: (grad_inputs[0] * 10, grad_inputs[1]))
    loss.backward()
    assert seen == [("pre", 1)]
    assert x.grad.tolist() == [5.0, 5.0, 5.0]       # the post hook scaled the first input's gradient
    assert w.grad.tolist() == [1.0, -2.0, 3.0]

    # torch's prehook may replace the output gradient it is given
    x.grad = None
    y = x * 2
    y.grad_fn.register_prehook(lambda grad_outputs: (grad_outputs[0] * 0,))
    y.sum().backward()
    assert x.grad.tolist() == [0.0, 0.0, 0.0]


def test_saved_values_are_gone_after_backward():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    z = x * x
    z.sum().backward()
    with pytest.raises(RuntimeError, match="freed after backward"):
        z.grad_fn._saved_self


def test_custom_function_node_is_named_after_the_function():
    class Cube(cr.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 3 * x ** 2 * g

    y = Cube.apply(cr.tensor([2.0], requires_grad=True))
    assert type(y.grad_fn).__name__ == y.grad_fn.name() == "CubeBackward"   # torch: no 0
    assert y.grad_fn.next_functions[0][0].name() == "torch::autograd::AccumulateGrad"
