# An attention block: multi-head self-attention, a feed-forward net, residuals and LayerNorm
import torch
from torch import nn

torch.manual_seed(0)


class Block(nn.Module):
    def __init__(self, d_model=16, heads=4):
        super().__init__()
        self.attn = nn.MultiheadAttention(d_model, heads, batch_first=True)
        self.norm1 = nn.LayerNorm(d_model)
        self.ff = nn.Sequential(nn.Linear(d_model, 32), nn.GELU(), nn.Linear(32, d_model))
        self.norm2 = nn.LayerNorm(d_model)

    def forward(self, x, mask=None):
        a, w = self.attn(x, x, x, attn_mask=mask)
        x = self.norm1(x + a)
        return self.norm2(x + self.ff(x)), w


block = Block()
x = torch.randn(2, 5, 16)
causal = torch.triu(torch.ones(5, 5, dtype=torch.bool), diagonal=1)
y, w = block(x, causal)
print(y.shape, w.shape)
print(w[0])
target = torch.randn(2, 5, 16)
opt = torch.optim.AdamW(block.parameters(), lr=1e-2)
for step in range(20):
    y, _ = block(x, causal)
    loss = ((y - target) ** 2).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    if step % 5 == 4:
        print(step, f"{loss.item():.6f}")
q = k = v = torch.randn(1, 2, 3, 4)
print(nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True))
