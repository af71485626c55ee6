# Spatial transformer networks tutorial pieces: affine_grid + grid_sample, localisation net, the
# transformer checkpointed (torch.utils.checkpoint), swa_utils AveragedModel / SWALR, tensor hooks
# with retain_grad, parameters_to_vector
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.optim.swa_utils import AveragedModel, SWALR
from torch.utils.checkpoint import checkpoint

torch.manual_seed(0)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.localization = nn.Sequential(nn.Conv2d(1, 4, kernel_size=5), nn.MaxPool2d(2, stride=2), nn.ReLU(True))
        self.fc_loc = nn.Sequential(nn.Linear(4 * 4 * 4, 8), nn.ReLU(True), nn.Linear(8, 3 * 2))
        self.fc_loc[2].weight.data.zero_()
        self.fc_loc[2].bias.data.copy_(torch.tensor([1, 0, 0, 0, 1, 0], dtype=torch.float))
        self.head = nn.Linear(12 * 12, 3)

    def stn(self, x):
        xs = self.localization(x)
        xs = xs.view(-1, 4 * 4 * 4)
        theta = self.fc_loc(xs).view(-1, 2, 3)
        grid = F.affine_grid(theta, x.size(), align_corners=False)
        return F.grid_sample(x, grid, align_corners=False)

    def forward(self, x):
        x = checkpoint(self.stn, x, use_reentrant=False)
        return self.head(x.flatten(1))


model = Net()
swa_model = AveragedModel(model)
opt = torch.optim.SGD(model.parameters(), lr=0.05)
swa_scheduler = SWALR(opt, swa_lr=0.01, anneal_epochs=2)
x, y = torch.rand(6, 1, 12, 12), torch.tensor([0, 1, 2, 0, 1, 2])
for step in range(4):
    opt.zero_grad()
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    opt.step()
    swa_model.update_parameters(model)
    swa_scheduler.step()
    print(step, f"{loss.item():.5f}", round(opt.param_groups[0]["lr"], 6), swa_model.n_averaged.item())
print(f"{swa_model(x).sum().item():.5f}", f"{model.fc_loc[2].bias.grad.abs().sum().item():.6f}")
theta = torch.tensor([[[0.8, 0.1, 0.0], [-0.1, 0.9, 0.1]]])
img = torch.arange(16.).view(1, 1, 4, 4)
g = F.affine_grid(theta, (1, 1, 4, 4), align_corners=True)
print([round(v, 4) for v in F.grid_sample(img, g, align_corners=True).flatten().tolist()[:6]])
print([round(v, 4) for v in F.grid_sample(img, g, mode="nearest", padding_mode="border", align_corners=False).flatten().tolist()[:6]])
a = torch.randn(3, requires_grad=True)
b = a * 2
b.retain_grad()
h = b.register_hook(lambda g: g * 10)
(b ** 2).sum().backward()
print(b.grad.tolist() == (2 * b).tolist(), torch.allclose(a.grad, 2 * 10 * 2 * b.detach()))
vec = torch.nn.utils.parameters_to_vector(model.parameters())
torch.nn.utils.vector_to_parameters(vec * 0 + 1, model.parameters())
print(vec.shape, model.head.weight.sum().item())
