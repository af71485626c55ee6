# Learning-rate schedules of training loops: OneCycleLR, CosineAnnealingWarmRestarts with
# fractional epochs, ReduceLROnPlateau, LambdaLR + SequentialLR / ChainedScheduler, warmup;
# gradient accumulation; checkpoint resume with optimizer + scheduler state
import io
import torch
from torch import nn
from torch.optim import lr_scheduler


def make(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(4, 6), nn.GELU(), nn.Linear(6, 1))


def lrs(opt):
    return [round(g["lr"], 6) for g in opt.param_groups]


model = make()
opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
sched = lr_scheduler.OneCycleLR(opt, max_lr=0.5, total_steps=8, pct_start=0.25)
seen = []
for _ in range(8):
    opt.step()
    seen.append(round(sched.get_last_lr()[0], 5))
    sched.step()
print("onecycle", seen, round(opt.param_groups[0]["momentum"], 5))

opt = torch.optim.Adam(model.parameters(), lr=0.2)
sched = lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=3, T_mult=2, eta_min=0.01)
seen = []
for epoch in range(4):
    for i in range(2):
        opt.step()
        sched.step(epoch + i / 2)
        seen.append(round(sched.get_last_lr()[0], 5))
print("warm restarts", seen)

opt = torch.optim.SGD(model.parameters(), lr=1.0)
sched = lr_scheduler.ReduceLROnPlateau(opt, mode="min", factor=0.5, patience=1, threshold=0.01)
seen = []
for val_loss in [1.0, 0.9, 0.95, 0.91, 0.92, 0.5, 0.6, 0.7, 0.8]:
    opt.step()
    sched.step(val_loss)
    seen.append(opt.param_groups[0]["lr"])
print("plateau", seen, sched.num_bad_epochs)

opt = torch.optim.SGD([{"params": model[0].parameters()}, {"params": model[2].parameters(), "lr": 0.05}],
                      lr=0.1)
warmup = lr_scheduler.LambdaLR(opt, lr_lambda=[lambda e: (e + 1) / 3, lambda e: 1.0])
decay = lr_scheduler.ExponentialLR(opt, gamma=0.5)
sched = lr_scheduler.SequentialLR(opt, schedulers=[warmup, decay], milestones=[3])
seen = []
for _ in range(6):
    opt.step()
    sched.step()
    seen.append(lrs(opt))
print("sequential", seen)
opt = torch.optim.SGD(model.parameters(), lr=1.0)
sched = lr_scheduler.ChainedScheduler([lr_scheduler.ConstantLR(opt, factor=0.1, total_iters=2),
                                       lr_scheduler.ExponentialLR(opt, gamma=0.9)])
seen = []
for _ in range(4):
    opt.step()
    sched.step()
    seen.append(round(sched.get_last_lr()[0], 6))
print("chained", seen)

# gradient accumulation over micro-batches equals one big batch
x, y = torch.randn(8, 4), torch.randn(8, 1)
big = make(1)
small = make(1)
nn.functional.mse_loss(big(x), y).backward()
accum = 4
for xb, yb in zip(x.chunk(accum), y.chunk(accum)):
    (nn.functional.mse_loss(small(xb), yb) / accum).backward()
print("accumulated", all(torch.allclose(a.grad, b.grad, atol=1e-6)
                         for a, b in zip(big.parameters(), small.parameters())))


# resume: train 3 steps, checkpoint, train 3 more; a fresh run resumed from the checkpoint agrees
def train(model, opt, sched, steps):
    out = []
    for _ in range(steps):
        opt.zero_grad()
        loss = nn.functional.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        sched.step()
        out.append(f"{loss.item():.6f}")
    return out


model = make(2)
opt = torch.optim.AdamW(model.parameters(), lr=0.05, weight_decay=0.01)
sched = lr_scheduler.StepLR(opt, step_size=2, gamma=0.3)
print("first", train(model, opt, sched, 3))
buffer = io.BytesIO()
torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "sched": sched.state_dict()}, buffer)
print("continued", train(model, opt, sched, 3), lrs(opt))
buffer.seek(0)
ckpt = torch.load(buffer)
model2 = make(5)
opt2 = torch.optim.AdamW(model2.parameters(), lr=0.05, weight_decay=0.01)
sched2 = lr_scheduler.StepLR(opt2, step_size=2, gamma=0.3)
model2.load_state_dict(ckpt["model"])
opt2.load_state_dict(ckpt["opt"])
sched2.load_state_dict(ckpt["sched"])
print("resumed", train(model2, opt2, sched2, 3), lrs(opt2), sched2.last_epoch,
      opt2.state_dict()["state"][0]["step"])
