# Saving and loading: state_dicts of a model and an optimizer, a checkpoint, tensors
import torch
from torch import nn

torch.manual_seed(0)
model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 2))
optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
x, y = torch.randn(16, 4), torch.randn(16, 2)
for _ in range(3):
    loss = nn.functional.mse_loss(model(x), y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
path = "checkpoint.pt"
torch.save({"epoch": 3, "model_state_dict": model.state_dict(),
            "optimizer_state_dict": optimizer.state_dict(), "loss": loss.item()}, path)
model2 = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 2))
optimizer2 = torch.optim.Adam(model2.parameters(), lr=0.01)
checkpoint = torch.load(path, weights_only=True)
print(model2.load_state_dict(checkpoint["model_state_dict"]))
optimizer2.load_state_dict(checkpoint["optimizer_state_dict"])
print(checkpoint["epoch"], round(checkpoint["loss"], 6))
print(sorted(checkpoint["optimizer_state_dict"]["state"][0].keys()))
print(checkpoint["optimizer_state_dict"]["param_groups"][0]["lr"])
for opt, m in ((optimizer, model), (optimizer2, model2)):
    loss = nn.functional.mse_loss(m(x), y)
    opt.zero_grad()
    loss.backward()
    opt.step()
    print(loss.item())
print(torch.equal(model[0].weight, model2[0].weight))
tensors = {"a": torch.arange(6).reshape(2, 3), "b": [torch.ones(2), (torch.zeros(1), 5)]}
torch.save(tensors, "tensors.pt")
print(torch.load("tensors.pt"))
