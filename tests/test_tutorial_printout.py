"""A PyTorch tutorial's autograd section, run unchanged with torch and with chainrule: the same
random tensors, losses, gradients, grad_fn names and printout (with `chainrule` for `torch`)."""
import contextlib
import io

import torch

import chainrule

TUTORIAL = '''
torch.manual_seed(0)
x = torch.ones(5)  # input tensor
y = torch.zeros(3)  # expected output
w = torch.randn(5, 3, requires_grad=True)
b = torch.randn(3, requires_grad=True)
z = torch.matmul(x, w) + b
loss = torch.nn.functional.binary_cross_entropy_with_logits(z, y)
print(w)
print(f"Gradient function for z = {type(z.grad_fn).__name__}")
print(f"Gradient function for loss = {loss.grad_fn.name()}")
loss.backward()
print(w.grad)
print(b.grad)
with torch.no_grad():
    z = torch.matmul(x, w) + b
print(z.requires_grad)
inp = torch.eye(4, 5, requires_grad=True)
out = (inp + 1).pow(2).t()
out.backward(torch.ones_like(out), retain_graph=True)
print(f"First call\\n{inp.grad}")
out.backward(torch.ones_like(out), retain_graph=True)
print(f"\\nSecond call\\n{inp.grad}")
inp.grad.zero_()
out.backward(torch.ones_like(out), retain_graph=True)
print(f"\\nCall after zeroing gradients\\n{inp.grad}")
model = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.ReLU())
print(model)
for name, param in model.named_parameters():
    print(name, param)
print(f"loss {loss:.4f}")
'''


def run(lib):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(TUTORIAL, {"torch": lib})
    return out.getvalue()


def test_tutorial_prints_the_same_numbers_and_graph_as_torch():
    expected = run(torch).replace("torch", "chainrule")
    assert run(chainrule) == expected
