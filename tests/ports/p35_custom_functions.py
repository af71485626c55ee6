# Custom autograd Functions as user code writes them: several outputs with mark_non_differentiable
# and once_differentiable, non-tensor arguments with needs_input_grad, the setup_context style, gradcheck
import torch
from torch.autograd import Function
from torch.autograd.function import once_differentiable


class SortWithIndices(Function):
    @staticmethod
    def forward(ctx, x):
        values, idx = x.sort(dim=-1)
        ctx.save_for_backward(idx)
        ctx.mark_non_differentiable(idx)
        return values, idx

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_values, grad_idx):
        (idx,) = ctx.saved_tensors
        grad = torch.zeros_like(grad_values)
        return grad.scatter_(-1, idx, grad_values)


class ScaleShift(Function):
    @staticmethod
    def forward(ctx, x, scale, shift, note):
        ctx.save_for_backward(x, scale)
        ctx.note = note
        return x * scale + shift

    @staticmethod
    def backward(ctx, grad):
        x, scale = ctx.saved_tensors
        gx = grad * scale if ctx.needs_input_grad[0] else None
        gs = (grad * x).sum() if ctx.needs_input_grad[1] else None
        return gx, gs, grad.sum(), None


class MulConst(Function):
    @staticmethod
    def forward(x, c):
        return x * c

    @staticmethod
    def setup_context(ctx, inputs, output):
        _, c = inputs
        ctx.c = c

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.c, None


x = torch.tensor([[3.0, 1.0, 2.0]], requires_grad=True)
v, i = SortWithIndices.apply(x)
(v * torch.tensor([1.0, 2.0, 3.0])).sum().backward()
print(v, i, i.requires_grad, x.grad, v.grad_fn.name())
scale = torch.tensor(2.0, requires_grad=True)
shift = torch.tensor(0.5, requires_grad=True)
y = ScaleShift.apply(x, scale, shift, "hello")
y.sum().backward()
print(y, scale.grad, shift.grad, y.grad_fn.name())
z = MulConst.apply(x, 3.0)
z.sum().backward()
print(z, x.grad)
print(torch.autograd.gradcheck(lambda t: MulConst.apply(t, 2.0), (torch.randn(3, dtype=torch.double, requires_grad=True),)))
