# A small LSTM learning to continue a sine wave
import math
import torch
from torch import nn

torch.manual_seed(0)
t = torch.linspace(0, 8 * math.pi, 161)
wave = torch.sin(t)
seq_len = 20
xs = torch.stack([wave[i:i + seq_len] for i in range(0, 120, 4)]).unsqueeze(-1)
ys = torch.stack([wave[i + seq_len] for i in range(0, 120, 4)]).unsqueeze(-1)


class SineLSTM(nn.Module):
    def __init__(self, hidden=16):
        super().__init__()
        self.lstm = nn.LSTM(input_size=1, hidden_size=hidden, batch_first=True)
        self.head = nn.Linear(hidden, 1)

    def forward(self, x):
        out, (h, c) = self.lstm(x)
        return self.head(out[:, -1])


model = SineLSTM()
optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
for step in range(60):
    loss = nn.functional.mse_loss(model(xs), ys)
    optimizer.zero_grad()
    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    if step % 15 == 14:
        print(step, f"{loss.item():.6f}")
with torch.no_grad():
    print(model(xs[:3]).squeeze(-1), ys[:3].squeeze(-1))
print(model.lstm.weight_ih_l0.shape, model.lstm.weight_hh_l0.shape)
