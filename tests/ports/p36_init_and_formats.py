# Initialisers with their options (trunc_normal_, kaiming with a=sqrt(5) and fan_out, orthogonal_,
# sparse_, calculate_gain), a disabled GradScaler/autocast loop,
# state_dict round trip through a buffer, half/double casts of a model
import io
import math
import torch
import torch.nn as nn
torch.manual_seed(0)
m = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU())
x = torch.randn(2, 3, 5, 5)
print(m(x).shape, x.is_contiguous(), x.stride())
w = torch.empty(4, 5)
nn.init.trunc_normal_(w, std=0.02, a=-0.04, b=0.04)
print(round(w.abs().max().item(), 6) <= 0.04, round(w.sum().item(), 6))
nn.init.kaiming_uniform_(w, a=math.sqrt(5))
print(round(w.sum().item(), 6), round(nn.init.calculate_gain("leaky_relu", 0.2), 6), nn.init.calculate_gain("tanh"))
nn.init.xavier_normal_(w, gain=nn.init.calculate_gain("relu"))
print(round(w.std().item(), 5))
nn.init.kaiming_normal_(w, mode="fan_out", nonlinearity="relu")
print(round(w.sum().item(), 5))
nn.init.orthogonal_(w)
print(round((w @ w.t()).trace().item(), 4))
nn.init.sparse_(w, sparsity=0.5)
print((w == 0).sum().item())
nn.init.uniform_(w, -0.1, 0.1); nn.init.normal_(w, 0, 0.01); nn.init.constant_(w, 0.3); nn.init.ones_(w); nn.init.zeros_(w)
print(w.sum().item())
buf = io.BytesIO()
model = nn.Sequential(nn.Linear(3, 2), nn.Tanh())
torch.save(model.state_dict(), buf)
buf.seek(0)
loaded = nn.Sequential(nn.Linear(3, 2), nn.Tanh())
print(loaded.load_state_dict(torch.load(buf)), torch.equal(loaded[0].weight, model[0].weight))
scaler = torch.amp.GradScaler("cpu", enabled=False)
opt = torch.optim.SGD(model.parameters(), lr=0.1)
with torch.autocast(device_type="cpu", enabled=False):
    loss = model(torch.randn(4, 3)).pow(2).sum()
scaler.scale(loss).backward()
scaler.step(opt)
scaler.update()
print(round(loss.item(), 5), scaler.is_enabled(), scaler.get_scale())
h = model.half()
print(h[0].weight.dtype, model.double()[0].weight.dtype, model.float()[0].bias.dtype)
