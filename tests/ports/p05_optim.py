# optim: a third-order polynomial fitted to sin(x) with nn.Sequential and each optimizer
import math
import torch

x = torch.linspace(-math.pi, math.pi, 500)
y = torch.sin(x)
p = torch.tensor([1, 2, 3])
xx = x.unsqueeze(-1).pow(p)
for name, make in [("SGD", lambda ps: torch.optim.SGD(ps, lr=1e-4, momentum=0.9)),
                   ("RMSprop", lambda ps: torch.optim.RMSprop(ps, lr=1e-3)),
                   ("Adam", lambda ps: torch.optim.Adam(ps, lr=1e-3)),
                   ("Adagrad", lambda ps: torch.optim.Adagrad(ps, lr=1e-2)),
                   ("AdamW", lambda ps: torch.optim.AdamW(ps, lr=1e-3, weight_decay=0.1))]:
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 1), torch.nn.Flatten(0, 1))
    loss_fn = torch.nn.MSELoss(reduction="sum")
    optimizer = make(model.parameters())
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=40, gamma=0.5)
    for t in range(120):
        y_pred = model(xx)
        loss = loss_fn(y_pred, y)
        if t % 40 == 39:
            print(name, t, round(loss.item(), 3), scheduler.get_last_lr())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        scheduler.step()
    linear_layer = model[0]
    print(f"{name}: y = {linear_layer.bias.item():.5f} + {linear_layer.weight[:, 0].item():.5f} x"
          f" + {linear_layer.weight[:, 1].item():.5f} x^2 + {linear_layer.weight[:, 2].item():.5f} x^3")
