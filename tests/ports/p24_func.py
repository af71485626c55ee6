# torch.func recipes from the tutorials: per-sample gradients (vmap of grad over functional_call
# with a params dict), model ensembling with stack_module_state, a MAML-style inner step with
# create_graph through functional_call, jacrev / hessian of a small function
import copy
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.func import functional_call, grad, hessian, jacrev, stack_module_state, vmap

torch.manual_seed(0)
model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
params = {k: v.detach() for k, v in model.named_parameters()}
buffers = {k: v.detach() for k, v in model.named_buffers()}
x, t = torch.randn(5, 3), torch.tensor([0, 1, 1, 0, 1])


def compute_loss(params, buffers, sample, target):
    batch = sample.unsqueeze(0)
    predictions = functional_call(model, (params, buffers), (batch,))
    return F.cross_entropy(predictions, target.unsqueeze(0))


ft_per_sample_grads = vmap(grad(compute_loss), in_dims=(None, None, 0, 0))(params, buffers, x, t)
manual = []
for i in range(5):
    model.zero_grad()
    F.cross_entropy(model(x[i:i + 1]), t[i:i + 1]).backward()
    manual.append(model[0].weight.grad.clone())
print({k: tuple(v.shape) for k, v in ft_per_sample_grads.items()},
      torch.allclose(ft_per_sample_grads["0.weight"], torch.stack(manual), atol=1e-6))
print(ft_per_sample_grads["2.bias"][:2].tolist())

models = [nn.Linear(3, 2) for _ in range(4)]
ens_params, ens_buffers = stack_module_state(models)
base = copy.deepcopy(models[0])


def fmodel(params, buffers, x):
    return functional_call(base, (params, buffers), (x,))


out = vmap(fmodel, in_dims=(0, 0, None))(ens_params, ens_buffers, x)
print(out.shape, torch.allclose(out[2], models[2](x), atol=1e-6), ens_params["weight"].requires_grad)

meta_opt = torch.optim.SGD(model.parameters(), lr=0.1)
for step in range(3):
    xs, ys = torch.randn(4, 3), torch.randn(4, 2)
    fast = dict(model.named_parameters())
    for _ in range(2):
        inner = F.mse_loss(functional_call(model, fast, (xs,)), ys)
        grads = torch.autograd.grad(inner, fast.values(), create_graph=True)
        fast = {k: v - 0.05 * g for (k, v), g in zip(fast.items(), grads)}
    outer = F.mse_loss(functional_call(model, fast, (xs,)), ys)
    meta_opt.zero_grad()
    outer.backward()
    meta_opt.step()
    print(step, f"inner {inner.item():.5f} outer {outer.item():.5f}", f"{model[0].weight.grad.norm().item():.5f}")

f = lambda v: (v.sin() * v.pow(2)).sum()
v = torch.tensor([0.5, -1.0, 2.0])
print([round(a, 5) for a in jacrev(f)(v).tolist()], [round(a, 5) for a in hessian(f)(v).diagonal().tolist()])
