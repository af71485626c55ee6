# Every optimizer with its less common options (nesterov, maximize, amsgrad, decoupled weight decay,
# centered RMSprop, lr_decay, tensor lr), clip_grad_norm_ with error_if_nonfinite, clip_grad_value_,
# get_total_norm / clip_grads_with_norm_, the state_dict keys each optimizer keeps
import torch
from torch import nn
torch.manual_seed(0)
x, y = torch.randn(16, 5), torch.randn(16, 2)
configs = [
    ("SGD nesterov", lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3, dampening=0)),
    ("SGD maximize", lambda p: torch.optim.SGD(p, lr=0.01, maximize=True, foreach=False)),
    ("Adam amsgrad", lambda p: torch.optim.Adam(p, lr=0.01, amsgrad=True, weight_decay=0.01)),
    ("AdamW", lambda p: torch.optim.AdamW(p, lr=0.01, betas=(0.8, 0.99), eps=1e-6, amsgrad=True)),
    ("Adam decoupled", lambda p: torch.optim.Adam(p, lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
    ("RMSprop centered", lambda p: torch.optim.RMSprop(p, lr=0.01, momentum=0.5, centered=True, alpha=0.9)),
    ("Adagrad", lambda p: torch.optim.Adagrad(p, lr=0.1, lr_decay=0.01, initial_accumulator_value=0.1)),
    ("Adadelta", lambda p: torch.optim.Adadelta(p, lr=1.0, rho=0.8)),
    ("Adamax", lambda p: torch.optim.Adamax(p, lr=0.02)),
    ("NAdam", lambda p: torch.optim.NAdam(p, lr=0.01, momentum_decay=0.004, decoupled_weight_decay=True, weight_decay=0.01)),
    ("RAdam", lambda p: torch.optim.RAdam(p, lr=0.01, decoupled_weight_decay=True, weight_decay=0.01)),
    ("ASGD", lambda p: torch.optim.ASGD(p, lr=0.01, t0=2)),
    ("Rprop", lambda p: torch.optim.Rprop(p, lr=0.01, etas=(0.4, 1.3), step_sizes=(1e-5, 1))),
    ("Adam tensor lr", lambda p: torch.optim.Adam(p, lr=torch.tensor(0.01))),
]
for name, make in configs:
    torch.manual_seed(1)
    model = nn.Sequential(nn.Linear(5, 4), nn.ReLU(), nn.Linear(4, 2))
    opt = make(model.parameters())
    for step in range(5):
        opt.zero_grad()
        loss = nn.functional.mse_loss(model(x), y)
        loss.backward()
        norm = nn.utils.clip_grad_norm_(model.parameters(), max_norm=2.0, norm_type=2.0, error_if_nonfinite=True)
        opt.step()
    state = opt.state_dict()
    print(f"{name:18s} {loss.item():.6f} {norm.item():.5f}", sorted(state["state"].get(0, {}).keys()),
          sorted(k for k in state["param_groups"][0].keys() if k != "params"))
nn.utils.clip_grad_value_(model.parameters(), 0.01)
print(max(p.grad.abs().max().item() for p in model.parameters()) <= 0.01)
grads = [p.grad for p in model.parameters()]
total = nn.utils.get_total_norm(grads, norm_type=2.0)
nn.utils.clip_grads_with_norm_(model.parameters(), 0.001, total)
print(round(total.item(), 6), round(nn.utils.get_total_norm([p.grad for p in model.parameters()]).item(), 6))
print(round(nn.utils.clip_grad_norm_(model.parameters(), 1.0, norm_type="inf").item(), 6))
