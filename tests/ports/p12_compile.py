# compile: a small classifier trained with torch.compile — the model compiled, and a whole
# training step compiled as one function
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
x = torch.randn(64, 10)
y = (x[:, 0] + x[:, 1] > 0).long()
model = nn.Sequential(nn.Linear(10, 32), nn.ReLU(), nn.Linear(32, 2))
compiled = torch.compile(model, backend="eager")
optimizer = torch.optim.SGD(compiled.parameters(), lr=0.1, momentum=0.9)
for epoch in range(3):
    for i in range(0, 64, 16):
        optimizer.zero_grad()
        loss = F.cross_entropy(compiled(x[i:i + 16]), y[i:i + 16])
        loss.backward()
        optimizer.step()
    print("epoch", epoch, "loss", round(loss.item(), 4))
print(list(compiled.state_dict())[:2])


@torch.compile(backend="eager")
def train_step(inputs, targets):
    optimizer.zero_grad()
    loss = F.cross_entropy(model(inputs), targets)
    loss.backward()
    optimizer.step()
    return loss


for epoch in range(3):
    for i in range(0, 64, 16):
        loss = train_step(x[i:i + 16], y[i:i + 16])
    print("epoch", epoch + 3, "loss", round(loss.item(), 4))
with torch.no_grad():
    accuracy = (compiled(x).argmax(1) == y).float().mean()
print("accuracy", round(accuracy.item(), 4))
