"""Ports of PyTorch's torch.func and autograd tutorials (per-sample gradients, model ensembling,
Jacobians/Hessians/hvp/vhp, neural tangent kernels, spatial transformer networks, custom autograd
Functions, double backward with custom Functions, the NumpySort example of "Extending torch.func
with autograd.Function"), each a function of the library module written as the tutorial writes
it, at small sizes, and run twice: with torch and with chainrule passed as ``torch``. The
tutorial's own asserts run inside both; the returned tensors must agree to float32 rounding.

One departure: the ensembling tutorial's base model goes to the 'meta' device, which chainrule
(CPU only) does not have; its chainrule run keeps the copied weights on the CPU instead, which
functional_call replaces all the same."""
import copy
from functools import partial

import numpy as np
import pytest
import torch

import chainrule


def per_sample_gradients(torch):
    """torch.func tutorial "Per-sample-gradients": vmap(grad(compute_loss)) vs a loop."""
    nn, F = torch.nn, torch.nn.functional
    functional_call, grad, vmap = torch.func.functional_call, torch.func.grad, torch.func.vmap
    torch.manual_seed(0)

    class SimpleCNN(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 4, 3, 1)
            self.conv2 = nn.Conv2d(4, 8, 3, 1)
            self.fc1 = nn.Linear(128, 16)
            self.fc2 = nn.Linear(16, 10)

        def forward(self, x):
            x = F.relu(self.conv1(x))
            x = F.relu(self.conv2(x))
            x = F.max_pool2d(x, 2)
            x = torch.flatten(x, 1)
            x = F.relu(self.fc1(x))
            return F.log_softmax(self.fc2(x), dim=1)

    def loss_fn(predictions, targets):
        return F.nll_loss(predictions, targets)

    batch_size = 8
    data = torch.randn(batch_size, 1, 12, 12)
    targets = torch.randint(10, (batch_size,))
    model = SimpleCNN()
    loss = loss_fn(model(data), targets)

    def compute_grad(sample, target):
        prediction = model(sample.unsqueeze(0))
        return torch.autograd.grad(loss_fn(prediction, target.unsqueeze(0)),
                                   list(model.parameters()))

    sample_grads = zip(*[compute_grad(data[i], targets[i]) for i in range(batch_size)])
    per_sample_grads = [torch.stack(shards) for shards in sample_grads]

    params = {k: v.detach() for k, v in model.named_parameters()}
    buffers = {k: v.detach() for k, v in model.named_buffers()}

    def compute_loss(params, buffers, sample, target):
        predictions = functional_call(model, (params, buffers), (sample.unsqueeze(0),))
        return loss_fn(predictions, target.unsqueeze(0))

    ft_compute_sample_grad = vmap(grad(compute_loss), in_dims=(None, None, 0, 0))
    ft_per_sample_grads = ft_compute_sample_grad(params, buffers, data, targets)
    for a, b in zip(per_sample_grads, ft_per_sample_grads.values()):
        assert torch.allclose(a, b, atol=3e-6, rtol=1e-5)
    return [loss] + per_sample_grads + list(ft_per_sample_grads.values())


def model_ensembling(torch, meta=True):
    """torch.func tutorial "Model ensembling": stack_module_state + vmap over a 'meta' model
    (``meta=False`` keeps the base model's copied weights on the CPU instead; functional_call
    replaces every one of them, so the results are the same)."""
    nn, F = torch.nn, torch.nn.functional
    torch.manual_seed(0)

    class SimpleMLP(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(36, 16)
            self.fc2 = nn.Linear(16, 16)
            self.fc3 = nn.Linear(16, 10)

        def forward(self, x):
            x = x.flatten(1)
            x = F.relu(self.fc1(x))
            x = F.relu(self.fc2(x))
            return self.fc3(x)

    num_models = 4
    data = torch.randn(10, 8, 1, 6, 6)
    models = [SimpleMLP() for _ in range(num_models)]
    minibatches = data[:num_models]
    predictions_diff_minibatch_loop = [m(mb) for m, mb in zip(models, minibatches)]
    minibatch = data[0]
    predictions2 = [m(minibatch) for m in models]

    params, buffers = torch.func.stack_module_state(models)
    base_model = copy.deepcopy(models[0])
    if meta:
        base_model = base_model.to("meta")

    def fmodel(params, buffers, x):
        return torch.func.functional_call(base_model, (params, buffers), (x,))

    assert [p.size(0) for p in params.values()] == [num_models] * 6
    assert minibatches.shape == (num_models, 8, 1, 6, 6)
    predictions1_vmap = torch.vmap(fmodel)(params, buffers, minibatches)
    assert torch.allclose(predictions1_vmap, torch.stack(predictions_diff_minibatch_loop),
                          atol=1e-6, rtol=1e-5)
    predictions2_vmap = torch.vmap(fmodel, in_dims=(0, 0, None))(params, buffers, minibatch)
    assert torch.allclose(predictions2_vmap, torch.stack(predictions2), atol=1e-6, rtol=1e-5)
    return [predictions1_vmap, predictions2_vmap] + list(params.values())


def jacobians_hessians(torch):
    """torch.func tutorial "Jacobians, Hessians, hvp, vhp, and more"."""
    F = torch.nn.functional
    jacfwd, jacrev, hessian = torch.func.jacfwd, torch.func.jacrev, torch.func.hessian
    jvp, vjp, vmap, grad = torch.func.jvp, torch.func.vjp, torch.func.vmap, torch.func.grad
    torch.manual_seed(0)
    out = []

    def predict(weight, bias, x):
        return F.linear(x, weight, bias).tanh()

    D = 8
    weight, bias, x = torch.randn(D, D), torch.randn(D), torch.randn(D)
    xp = x.clone().requires_grad_()
    unit_vectors = torch.eye(D)
    jacobian = torch.stack([torch.autograd.grad(predict(weight, bias, xp), xp, vec)[0]
                            for vec in unit_vectors])
    _, vjp_fn = vjp(partial(predict, weight, bias), x)
    ft_jacobian, = vmap(vjp_fn)(unit_vectors)
    assert torch.allclose(ft_jacobian, jacobian)
    ft_jacobian = jacrev(predict, argnums=2)(weight, bias, x)
    assert torch.allclose(ft_jacobian, jacobian)
    ft_jac_weight, ft_jac_bias = jacrev(predict, argnums=(0, 1))(weight, bias, x)
    ref_w = torch.autograd.functional.jacobian(lambda w: predict(w, bias, x), weight)
    ref_b = torch.autograd.functional.jacobian(lambda b: predict(weight, b, x), bias)
    assert torch.allclose(ft_jac_weight, ref_w) and torch.allclose(ft_jac_bias, ref_b)
    jf = jacfwd(predict, argnums=2)(weight, bias, x)
    assert torch.allclose(jf, jacobian, atol=1e-6)
    out += [jacobian, ft_jacobian, ft_jac_weight, ft_jac_bias, jf]

    batch_size, Din, Dout = 6, 5, 7
    weight, bias, x = torch.randn(Dout, Din), torch.randn(Dout), torch.randn(batch_size, Din)
    batch_jacobian0 = vmap(jacrev(predict, argnums=2), in_dims=(None, None, 0))(weight, bias, x)
    assert batch_jacobian0.shape == (batch_size, Dout, Din)

    def predict_with_output_summed(weight, bias, x):
        return predict(weight, bias, x).sum(0)

    batch_jacobian1 = jacrev(predict_with_output_summed, argnums=2)(weight, bias, x).movedim(1, 0)
    assert torch.allclose(batch_jacobian0, batch_jacobian1)

    x1 = torch.randn(Din)
    hess_api = hessian(predict, argnums=2)(weight, bias, x1)
    hess_fwdfwd = jacfwd(jacfwd(predict, argnums=2), argnums=2)(weight, bias, x1)
    hess_revrev = jacrev(jacrev(predict, argnums=2), argnums=2)(weight, bias, x1)
    assert torch.allclose(hess_api, hess_fwdfwd, atol=1e-6)
    assert torch.allclose(hess_api, hess_revrev, atol=1e-6)
    batch_hess = vmap(hessian(predict, argnums=2), in_dims=(None, None, 0))(weight, bias, x)
    assert batch_hess.shape == (batch_size, Dout, Din, Din)
    compute_batch_jacobian = vmap(jacrev(predict, argnums=2), in_dims=(None, None, 0))
    compute_batch_hessian = vmap(hessian(predict, argnums=2), in_dims=(None, None, 0))
    batch_jacobian2 = compute_batch_jacobian(weight, bias, x)
    assert torch.allclose(batch_jacobian2, batch_jacobian0)
    out += [batch_jacobian0, batch_jacobian1, hess_api, hess_fwdfwd, hess_revrev, batch_hess,
            compute_batch_hessian(weight, bias, x)]

    def hvp(f, primals, tangents):
        return jvp(grad(f), primals, tangents)[1]

    def f(x):
        return x.sin().sum()

    x, tangent = torch.randn(64), torch.randn(64)
    result = hvp(f, (x,), (tangent,))

    def hvp_revrev(f, primals, tangents):
        _, vjp_fn = vjp(grad(f), *primals)
        return vjp_fn(*tangents)

    result_hvp_revrev = hvp_revrev(f, (x,), (tangent,))
    assert torch.allclose(result, result_hvp_revrev[0])
    assert torch.allclose(result, -x.sin() * tangent)
    _, auto_hvp = torch.autograd.functional.hvp(f, x, tangent)
    _, auto_vhp = torch.autograd.functional.vhp(f, x, tangent)
    auto_hess = torch.autograd.functional.hessian(f, x[:6])
    assert torch.allclose(auto_hvp, result) and torch.allclose(auto_vhp, result)
    out += [result, result_hvp_revrev[0], auto_hvp, auto_vhp, auto_hess]
    return out


def neural_tangent_kernels(torch):
    """torch.func tutorial "Neural Tangent Kernels": jacobian contraction vs NTK-vector products."""
    nn = torch.nn
    functional_call, jacrev = torch.func.functional_call, torch.func.jacrev
    jvp, vjp, vmap = torch.func.jvp, torch.func.vjp, torch.func.vmap
    torch.manual_seed(0)

    class CNN(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(3, 4, (3, 3))
            self.conv2 = nn.Conv2d(4, 4, (3, 3))
            self.conv3 = nn.Conv2d(4, 4, (3, 3))
            self.fc = nn.Linear(16, 3)

        def forward(self, x):
            x = self.conv1(x).relu()
            x = self.conv2(x).relu()
            x = self.conv3(x)
            x = x.flatten(1)
            return self.fc(x)

    x_train, x_test = torch.randn(4, 3, 8, 8), torch.randn(3, 3, 8, 8)
    net = CNN()
    params = {k: v.detach() for k, v in net.named_parameters()}

    def fnet_single(params, x):
        return functional_call(net, params, (x.unsqueeze(0),)).squeeze(0)

    def empirical_ntk_jacobian_contraction(fnet_single, params, x1, x2, compute="full"):
        jac1 = [j.flatten(2) for j in vmap(jacrev(fnet_single), (None, 0))(params, x1).values()]
        jac2 = [j.flatten(2) for j in vmap(jacrev(fnet_single), (None, 0))(params, x2).values()]
        einsum_expr = {"full": "Naf,Mbf->NMab", "trace": "Naf,Maf->NM",
                       "diagonal": "Naf,Maf->NMa"}[compute]
        result = torch.stack([torch.einsum(einsum_expr, j1, j2) for j1, j2 in zip(jac1, jac2)])
        return result.sum(0)

    def empirical_ntk_ntk_vps(func, params, x1, x2, compute="full"):
        def get_ntk(x1, x2):
            def func_x1(params):
                return func(params, x1)

            def func_x2(params):
                return func(params, x2)

            output, vjp_fn = vjp(func_x1, params)

            def get_ntk_slice(vec):
                vjps = vjp_fn(vec)
                _, jvps = jvp(func_x2, (params,), vjps)
                return jvps

            basis = torch.eye(output.numel(), dtype=output.dtype,
                              device=output.device).view(output.numel(), -1)
            return vmap(get_ntk_slice)(basis)

        result = vmap(vmap(get_ntk, (None, 0)), (0, None))(x1, x2)
        if compute == "full":
            return result
        if compute == "trace":
            return torch.einsum("NMKK->NM", result)
        return torch.einsum("NMKK->NMK", result)

    out = []
    for compute in ("full", "trace", "diagonal"):
        a = empirical_ntk_jacobian_contraction(fnet_single, params, x_train, x_test, compute)
        b = empirical_ntk_ntk_vps(fnet_single, params, x_train, x_test, compute)
        assert torch.allclose(a, b, atol=1e-5), compute
        out += [a, b]
    assert out[0].shape == (4, 3, 3, 3)
    return out


def spatial_transformer(torch):
    """Tutorial "Spatial Transformer Networks": localization net + affine_grid + grid_sample."""
    nn, F, optim = torch.nn, torch.nn.functional, torch.optim
    torch.manual_seed(0)

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 10, kernel_size=5)
            self.conv2 = nn.Conv2d(10, 20, kernel_size=5)
            self.conv2_drop = nn.Dropout2d()
            self.fc1 = nn.Linear(320, 50)
            self.fc2 = nn.Linear(50, 10)
            self.localization = nn.Sequential(
                nn.Conv2d(1, 8, kernel_size=7), nn.MaxPool2d(2, stride=2), nn.ReLU(True),
                nn.Conv2d(8, 10, kernel_size=5), nn.MaxPool2d(2, stride=2), nn.ReLU(True))
            self.fc_loc = nn.Sequential(nn.Linear(10 * 3 * 3, 32), nn.ReLU(True),
                                        nn.Linear(32, 3 * 2))
            self.fc_loc[2].weight.data.zero_()
            self.fc_loc[2].bias.data.copy_(torch.tensor([1, 0, 0, 0, 1, 0], dtype=torch.float))

        def stn(self, x):
            xs = self.localization(x).view(-1, 10 * 3 * 3)
            theta = self.fc_loc(xs).view(-1, 2, 3)
            grid = F.affine_grid(theta, x.size())
            return F.grid_sample(x, grid)

        def forward(self, x):
            x = self.stn(x)
            x = F.relu(F.max_pool2d(self.conv1(x), 2))
            x = F.relu(F.max_pool2d(self.conv2_drop(self.conv2(x)), 2))
            x = x.view(-1, 320)
            x = F.relu(self.fc1(x))
            x = F.dropout(x, training=self.training)
            return F.log_softmax(self.fc2(x), dim=1)

    model = Net()
    optimizer = optim.SGD(model.parameters(), lr=0.01)
    data, target = torch.randn(4, 8, 1, 28, 28), torch.randint(10, (4, 8))
    losses = []
    model.train()
    for batch_idx in range(4):
        optimizer.zero_grad()
        loss = F.nll_loss(model(data[batch_idx]), target[batch_idx])
        loss.backward()
        optimizer.step()
        losses.append(loss.detach())
    model.eval()
    with torch.no_grad():
        transformed = model.stn(data[0])
        output = model(data[0])
        test_loss = F.nll_loss(output, target[0], reduction="sum")
        correct = output.max(1, keepdim=True)[1].eq(target[0].view_as(output.max(1)[1][:, None]))
    return losses + [transformed, output, test_loss, correct.sum(), model.fc_loc[2].bias]


def custom_functions(torch):
    """Autograd tutorials on custom Functions: save_for_backward, mark_non_differentiable,
    once_differentiable, setup_context + generate_vmap_rule, gradcheck / gradgradcheck."""
    Function = torch.autograd.Function
    once_differentiable = torch.autograd.function.once_differentiable
    torch.manual_seed(0)
    out = []

    class MyExp(Function):      # "Extending torch.autograd": save the output for backward
        @staticmethod
        def forward(ctx, i):
            result = i.exp()
            ctx.save_for_backward(result)
            return result

        @staticmethod
        def backward(ctx, grad_output):
            result, = ctx.saved_tensors
            return grad_output * result

    class Sort(Function):       # an output that is not differentiable (the indices)
        @staticmethod
        def forward(ctx, x):
            sorted_, idx = x.sort()
            ctx.mark_non_differentiable(idx)
            ctx.save_for_backward(x, idx)
            return sorted_, idx

        @staticmethod
        @once_differentiable
        def backward(ctx, g1, g2):
            x, idx = ctx.saved_tensors
            grad_input = torch.zeros_like(x)
            grad_input.index_add_(0, idx, g1)
            return grad_input

    class LinearFunction(Function):   # the documented setup_context form, with vmap support
        generate_vmap_rule = True

        @staticmethod
        def forward(input, weight, bias=None):
            output = input.mm(weight.t())
            if bias is not None:
                output += bias.unsqueeze(0).expand_as(output)
            return output

        @staticmethod
        def setup_context(ctx, inputs, output):
            input, weight, bias = inputs
            ctx.save_for_backward(input, weight, bias)

        @staticmethod
        def backward(ctx, grad_output):
            input, weight, bias = ctx.saved_tensors
            grad_input = grad_weight = grad_bias = None
            if ctx.needs_input_grad[0]:
                grad_input = grad_output.mm(weight)
            if ctx.needs_input_grad[1]:
                grad_weight = grad_output.t().mm(input)
            if bias is not None and ctx.needs_input_grad[2]:
                grad_bias = grad_output.sum(0)
            return grad_input, grad_weight, grad_bias

    class MulConstant(Function):     # a non-tensor argument gets None as its gradient
        generate_vmap_rule = True

        @staticmethod
        def forward(tensor, constant):
            return tensor * constant

        @staticmethod
        def setup_context(ctx, inputs, output):
            _, constant = inputs
            ctx.constant = constant

        @staticmethod
        def backward(ctx, grad_output):
            return grad_output * ctx.constant, None

    x = torch.randn(5, requires_grad=True)
    y = MyExp.apply(x)
    y.sum().backward()
    out += [y, x.grad]

    v, idx = Sort.apply(x)
    assert not idx.requires_grad and v.requires_grad
    (v * torch.arange(5.0)).sum().backward()
    out += [v, idx, x.grad]

    inp = torch.randn(4, 3, dtype=torch.double, requires_grad=True)
    w = torch.randn(2, 3, dtype=torch.double, requires_grad=True)
    b = torch.randn(2, dtype=torch.double, requires_grad=True)
    assert torch.autograd.gradcheck(LinearFunction.apply, (inp, w, b), eps=1e-6, atol=1e-4)
    assert torch.autograd.gradgradcheck(LinearFunction.apply, (inp, w, b))
    assert torch.autograd.gradcheck(MyExp.apply, (inp,))
    assert torch.autograd.gradgradcheck(MyExp.apply, (inp,))
    assert torch.autograd.gradcheck(lambda t: MulConstant.apply(t, 2.5), (inp,))
    assert torch.autograd.gradcheck(lambda t: Sort.apply(t)[0], (inp[0],))

    lin = LinearFunction.apply(inp, w, b)
    lin.sum().backward()
    out += [lin, inp.grad, w.grad, b.grad]

    batched = torch.randn(3, 4, 3, dtype=torch.double)
    vm = torch.vmap(LinearFunction.apply, in_dims=(0, None, None))(batched, w, b)
    assert torch.allclose(vm, torch.stack([LinearFunction.apply(t, w, b) for t in batched]))
    g = torch.func.grad(lambda t: MulConstant.apply(t, 3.0).sin().sum())(inp)
    per_sample = torch.func.vmap(torch.func.grad(
        lambda t: MulConstant.apply(t, 1.5).exp().sum()))(batched)
    out += [vm, g, per_sample, MulConstant.apply(inp, 2.0)]
    return out


def double_backward_functions(torch):
    """Tutorial "Double Backward with Custom Functions": saved outputs, intermediate results
    returned as outputs, and a backward written as another custom Function; plus the
    "Extending torch.func with autograd.Function" jvp / save_for_forward form."""
    torch.manual_seed(0)
    gradcheck, gradgradcheck = torch.autograd.gradcheck, torch.autograd.gradgradcheck

    class Exp(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            result = torch.exp(x)
            ctx.save_for_backward(result)
            return result

        @staticmethod
        def backward(ctx, grad_out):
            result, = ctx.saved_tensors
            return result * grad_out

    class Sinh(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            expx = torch.exp(x)
            expnegx = torch.exp(-x)
            ctx.save_for_backward(expx, expnegx)
            return (expx - expnegx) / 2, expx, expnegx

        @staticmethod
        def backward(ctx, grad_out, _grad_out_exp, _grad_out_negexp):
            expx, expnegx = ctx.saved_tensors
            grad_input = grad_out * (expx + expnegx) / 2
            grad_input += _grad_out_exp * expx
            grad_input -= _grad_out_negexp * expnegx
            return grad_input

    def sinh(x):
        return Sinh.apply(x)[0]

    def cube_forward(x):
        return x ** 3

    def cube_backward(grad_out, x):
        return grad_out * 3 * x ** 2

    def cube_backward_backward(grad_out, sav_grad_out, x):
        return grad_out * sav_grad_out * 6 * x

    def cube_backward_backward_grad_out(grad_out, x):
        return grad_out * 3 * x ** 2

    class Cube(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return cube_forward(x)

        @staticmethod
        def backward(ctx, grad_out):
            x, = ctx.saved_tensors
            return CubeBackward.apply(grad_out, x)

    class CubeBackward(torch.autograd.Function):
        @staticmethod
        def forward(ctx, grad_out, x):
            ctx.save_for_backward(x, grad_out)
            return cube_backward(grad_out, x)

        @staticmethod
        def backward(ctx, grad_out):
            x, sav_grad_out = ctx.saved_tensors
            dx = cube_backward_backward(grad_out, sav_grad_out, x)
            dgrad_out = cube_backward_backward_grad_out(grad_out, x)
            return dgrad_out, dx

    class MySquare(torch.autograd.Function):   # forward-mode rule, torch.func style
        generate_vmap_rule = True

        @staticmethod
        def forward(x):
            return x ** 2

        @staticmethod
        def setup_context(ctx, inputs, output):
            x, = inputs
            ctx.save_for_backward(x)
            ctx.save_for_forward(x)

        @staticmethod
        def backward(ctx, grad_output):
            x, = ctx.saved_tensors
            return 2 * x * grad_output

        @staticmethod
        def jvp(ctx, x_t):
            x, = ctx.saved_tensors
            return 2 * x * x_t

    x = torch.rand(3, 3, requires_grad=True, dtype=torch.double)
    assert gradcheck(Exp.apply, x) and gradgradcheck(Exp.apply, x)
    assert gradcheck(sinh, x) and gradgradcheck(sinh, x)
    c = torch.tensor(2., requires_grad=True, dtype=torch.double)
    assert gradcheck(Cube.apply, c) and gradgradcheck(Cube.apply, c)
    assert gradcheck(MySquare.apply, x, check_forward_ad=True)
    out = []
    for f in (Exp.apply, sinh, Cube.apply, MySquare.apply):
        g, = torch.autograd.grad(f(x).sum(), x, create_graph=True)
        gg, = torch.autograd.grad((g * g).sum(), x)
        out += [f(x), g, gg]
    v = torch.randn(3, 3, dtype=torch.double)
    out += list(torch.func.jvp(MySquare.apply, (x.detach(),), (v,)))
    out += [torch.func.jacfwd(MySquare.apply)(x.detach()[0]),
            torch.func.hessian(lambda t: MySquare.apply(t).sum())(x.detach()[0])]
    return out


def numpy_sort_function(torch):
    """Notes "Extending torch.func with autograd.Function": NumpySort / NumpyTake, NumPy inside
    forward, two non-differentiable index outputs, a backward that is another Function, jvp
    rules, and torch.func transforms (grad, vmap, jacrev, jacfwd) over them."""
    torch.manual_seed(0)

    def to_numpy(tensor):
        return tensor.cpu().numpy()

    def expand_bdim(x, x_bdim, batch_size):
        return x.expand(batch_size, *x.shape) if x_bdim is None else x.movedim(x_bdim, 0)

    class NumpySort(torch.autograd.Function):    # NumPy inside: its own vmap rule

        @staticmethod
        def forward(x, dim):
            device = x.device
            x = to_numpy(x)
            ind = np.argsort(x, axis=dim)
            ind_inv = np.argsort(ind, axis=dim)
            result = np.take_along_axis(x, ind, axis=dim)
            return (torch.tensor(result, device=device), torch.tensor(ind, device=device),
                    torch.tensor(ind_inv, device=device))

        @staticmethod
        def setup_context(ctx, inputs, output):
            x, dim = inputs
            _, ind, ind_inv = output
            ctx.mark_non_differentiable(ind, ind_inv)
            ctx.save_for_backward(ind, ind_inv)
            ctx.save_for_forward(ind, ind_inv)
            ctx.dim = dim

        @staticmethod
        def backward(ctx, grad_output, _0, _1):
            ind, ind_inv = ctx.saved_tensors
            return NumpyTake.apply(grad_output, ind_inv, ind, ctx.dim), None

        @staticmethod
        def jvp(ctx, x_tangent, _):
            ind, ind_inv = ctx.saved_tensors
            return NumpyTake.apply(x_tangent, ind, ind_inv, ctx.dim), None, None

        @staticmethod
        def vmap(info, in_dims, x, dim):
            x_bdim, _ = in_dims
            x = x.movedim(x_bdim, 0)
            dim = dim if dim >= 0 else dim + x.dim() - 1
            return NumpySort.apply(x, dim + 1), (0, 0, 0)

    class NumpyTake(torch.autograd.Function):

        @staticmethod
        def forward(x, ind, ind_inv, dim):
            device = x.device
            x = to_numpy(x)
            ind = to_numpy(ind)
            return torch.tensor(np.take_along_axis(x, ind, dim), device=device)

        @staticmethod
        def setup_context(ctx, inputs, output):
            x, ind, ind_inv, dim = inputs
            ctx.save_for_backward(ind, ind_inv)
            ctx.save_for_forward(ind, ind_inv)
            ctx.dim = dim

        @staticmethod
        def backward(ctx, grad_output):
            ind, ind_inv = ctx.saved_tensors
            result = NumpyTake.apply(grad_output, ind_inv, ind, ctx.dim)
            return result, None, None, None

        @staticmethod
        def jvp(ctx, x_tangent, ind_tangent, ind_inv_tangent, _):
            ind, ind_inv = ctx.saved_tensors
            return NumpyTake.apply(x_tangent, ind, ind_inv, ctx.dim)

        @staticmethod
        def vmap(info, in_dims, x, ind, ind_inv, dim):
            x_bdim, ind_bdim, ind_inv_bdim, _ = in_dims
            logical_dim = x.dim() if x_bdim is None else x.dim() - 1
            dim = dim if dim >= 0 else dim + logical_dim
            x = expand_bdim(x, x_bdim, info.batch_size)
            ind = expand_bdim(ind, ind_bdim, info.batch_size)
            ind_inv = expand_bdim(ind_inv, ind_inv_bdim, info.batch_size)
            return NumpyTake.apply(x, ind, ind_inv, dim + 1), 0

    def numpy_sort(x, dim=-1):
        result, _, _ = NumpySort.apply(x, dim)
        return result

    x = torch.randn(2, 3)
    result = torch.vmap(numpy_sort)(x)
    assert torch.allclose(result, numpy_sort(result, 1))
    sorted_, ind, ind_inv = NumpySort.apply(x, 1)
    assert not ind.requires_grad and ind.dtype == torch.int64

    weights = torch.arange(1.0, 4.0)
    g = torch.func.grad(lambda x: (numpy_sort(x) * weights).sum())(x)
    jr = torch.func.jacrev(numpy_sort)(x[0])
    jf = torch.func.jacfwd(numpy_sort)(x[0])
    assert torch.allclose(jr, jf)
    _, tangent_out = torch.func.jvp(numpy_sort, (x,), (torch.ones_like(x),))
    xg = x.clone().requires_grad_()
    (numpy_sort(xg) * weights).sum().backward()
    per_row = torch.func.vmap(torch.func.grad(lambda r: (numpy_sort(r) * weights).sum()))(x)
    return [result, sorted_, ind, ind_inv, g, jr, jf, tangent_out,
            xg.grad, per_row]


PROGRAMS = [per_sample_gradients, model_ensembling, jacobians_hessians, neural_tangent_kernels,
            spatial_transformer, custom_functions, double_backward_functions,
            numpy_sort_function]


def _array(t):
    return np.asarray(t.detach().numpy() if hasattr(t, "detach") else t)


def assert_same_results(mine, theirs):
    """Equal shapes and dtypes; values equal to float32 rounding (1e-5 of each tensor's scale:
    grid_sample after a few SGD steps moves a sample point by a rounding error)."""
    assert len(mine) == len(theirs)
    for i, (a, b) in enumerate(zip(mine, theirs)):
        assert tuple(a.shape) == tuple(b.shape), (i, a.shape, b.shape)
        assert str(a.dtype).replace("chainrule", "torch") == str(b.dtype), (i, a.dtype, b.dtype)
        b = _array(b)
        scale = float(np.abs(b).max()) if b.size else 0.0
        np.testing.assert_allclose(_array(a), b, rtol=1e-5, atol=1e-6 + 1e-5 * scale,
                                   err_msg=str(i))


@pytest.mark.filterwarnings("ignore:Default grid_sample and affine_grid behavior")
@pytest.mark.parametrize("program", PROGRAMS, ids=[p.__name__ for p in PROGRAMS])
def test_tutorial_program_returns_what_torch_returns(program):
    if program is model_ensembling:   # chainrule has no 'meta' device (CPU only): see the report
        theirs, mine = program(torch), program(chainrule, meta=False)
    else:
        theirs, mine = program(torch), program(chainrule)
    assert_same_results(mine, theirs)


def test_result_comparison_can_fail():
    with pytest.raises(AssertionError):
        assert_same_results([chainrule.ones(3)], [torch.ones(3) + 1e-4])
    with pytest.raises(AssertionError):
        assert_same_results([chainrule.ones(3, dtype=chainrule.float64)], [torch.ones(3)])
