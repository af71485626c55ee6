# Transfer learning patterns: a "pretrained" backbone saved and reloaded with strict=False,
# freezing with requires_grad_(False), replacing the head, named_parameters filtering,
# optimizer param groups with different lr, unfreezing later with add_param_group
import os
import tempfile
import torch
from torch import nn

torch.manual_seed(0)


class Net(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, 6, 3, padding=1), nn.BatchNorm2d(6), nn.ReLU(),
                                      nn.MaxPool2d(2), nn.Conv2d(6, 8, 3), nn.ReLU(),
                                      nn.AdaptiveAvgPool2d((1, 1)))
        self.fc = nn.Linear(8, num_classes)

    def forward(self, x):
        return self.fc(torch.flatten(self.features(x), 1))


pretrained = Net(num_classes=10)
tmp = tempfile.mkdtemp()
path = os.path.join(tmp, "pretrained.pth")
torch.save(pretrained.state_dict(), path)

model = Net(num_classes=10)
state = torch.load(path, map_location="cpu")
state = {k: v for k, v in state.items() if not k.startswith("fc.")}
result = model.load_state_dict(state, strict=False)
print(sorted(result.missing_keys), result.unexpected_keys)
print(torch.equal(model.features[0].weight, pretrained.features[0].weight))
model.fc = nn.Linear(model.fc.in_features, 3)
for param in model.features.parameters():
    param.requires_grad_(False)
trainable = [n for n, p in model.named_parameters() if p.requires_grad]
print(trainable, sum(p.numel() for p in model.parameters() if p.requires_grad))
decay, no_decay = [], []
for name, p in model.named_parameters():
    if not p.requires_grad:
        continue
    (no_decay if name.endswith("bias") else decay).append(p)
optimizer = torch.optim.SGD([{"params": decay, "weight_decay": 1e-2},
                             {"params": no_decay, "weight_decay": 0.0}], lr=0.1, momentum=0.9)
x, y = torch.randn(12, 3, 8, 8), torch.randint(0, 3, (12,))
criterion = nn.CrossEntropyLoss(label_smoothing=0.1)
frozen_before = model.features[0].weight.clone()
model.train()
model.features.eval()
for step in range(4):
    optimizer.zero_grad()
    loss = criterion(model(x), y)
    loss.backward()
    optimizer.step()
    print(step, f"{loss.item():.5f}", model.features[0].weight.grad is None)
print(torch.equal(frozen_before, model.features[0].weight), model.features[1].num_batches_tracked)
for param in model.features[4].parameters():
    param.requires_grad = True
optimizer.add_param_group({"params": model.features[4].parameters(), "lr": 0.01})
print([(len(g["params"]), g["lr"], g["weight_decay"], g["momentum"]) for g in optimizer.param_groups])
model.train()
for step in range(3):
    optimizer.zero_grad(set_to_none=True)
    loss = criterion(model(x), y)
    loss.backward()
    optimizer.step()
    print(step, f"{loss.item():.5f}", model.features[4].weight.grad.abs().sum().item() > 0)
with torch.no_grad():
    pred = model(x).argmax(dim=1)
print(pred.tolist(), (pred == y).sum().item(), model.features[1].running_mean.tolist()[:2])
print([k for k in model.state_dict() if "num_batches" in k], len(model.state_dict()))
