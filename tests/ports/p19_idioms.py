# Tensor idioms of user code: masking, one-hot via scatter_ and F.one_hot, gather of
# per-sample scores, top-k accuracy, argmax, torch.where, einsum attention with a causal
# mask, F.pad, F.interpolate, inference_mode, .item()/.tolist()
import torch
import torch.nn.functional as F

torch.manual_seed(5)
logits = torch.randn(6, 5)
target = torch.tensor([0, 3, 4, 1, 1, 2])


def accuracy(output, target, topk=(1,)):
    with torch.no_grad():
        maxk = max(topk)
        batch_size = target.size(0)
        _, pred = output.topk(maxk, 1, True, True)
        pred = pred.t()
        correct = pred.eq(target.view(1, -1).expand_as(pred))
        res = []
        for k in topk:
            correct_k = correct[:k].reshape(-1).float().sum(0, keepdim=True)
            res.append(correct_k.mul_(100.0 / batch_size))
        return res


print([a.item() for a in accuracy(logits, target, topk=(1, 3))], logits.argmax(dim=1).tolist())
one_hot = torch.zeros(6, 5).scatter_(1, target.unsqueeze(1), 1.0)
print(torch.equal(one_hot, F.one_hot(target, num_classes=5).float()), one_hot.sum(0).tolist())
picked = logits.gather(1, target[:, None]).squeeze(1)
print(torch.allclose(picked, logits[torch.arange(6), target]),
      f"{(-F.log_softmax(logits, 1).gather(1, target[:, None])).mean().item():.5f}",
      f"{F.cross_entropy(logits, target).item():.5f}")
mask = logits > 0
print(mask.sum().item(), logits[mask].shape, logits.masked_fill(~mask, 0).clamp(max=1).sum().item())
print(torch.where(logits > 0.5, logits, torch.zeros_like(logits)).count_nonzero().item(),
      torch.where(target == 1)[0].tolist(), torch.nonzero(target > 2).flatten().tolist())
values, idx = logits.max(dim=0)
print(values.shape, idx.tolist(), logits.sort(dim=1, descending=True).indices[0].tolist())

q, k, v = torch.randn(2, 4, 8), torch.randn(2, 4, 8), torch.randn(2, 4, 8)
scores = torch.einsum("bqd,bkd->bqk", q, k) / 8 ** 0.5
causal = torch.triu(torch.ones(4, 4, dtype=torch.bool), diagonal=1)
scores = scores.masked_fill(causal, float("-inf"))
attn = scores.softmax(dim=-1)
out = torch.einsum("bqk,bkd->bqd", attn, v)
ref = F.scaled_dot_product_attention(q, k, v, is_causal=True)
print(out.shape, torch.allclose(out, ref, atol=1e-6), attn[0, 0].tolist(), f"{attn[1, 2, 1].item():.5f}")

img = torch.arange(16.).view(1, 1, 4, 4)
print(F.pad(img, (1, 2, 0, 1)).shape, F.pad(img, (1, 1, 1, 1), mode="reflect")[0, 0, 0].tolist(),
      F.pad(img[0], (1, 1), mode="replicate")[0, 1].tolist(), F.pad(img, (0, 1), value=-1.)[0, 0, 0].tolist())
print(F.interpolate(img, scale_factor=2, mode="nearest")[0, 0, 1].tolist())
print(F.interpolate(img, size=(3, 3), mode="bilinear", align_corners=False)[0, 0].tolist())
print(F.interpolate(img, size=(2, 6), mode="bilinear", align_corners=True)[0, 0, 1].tolist())
print(F.interpolate(torch.arange(4.).view(1, 1, 4), scale_factor=1.5, mode="linear")[0, 0].tolist())

w = torch.randn(5, 3, requires_grad=True)
with torch.inference_mode():
    y = logits @ w
print(y.requires_grad, torch.is_inference_mode_enabled(), y.is_inference())
with torch.no_grad():
    z = logits @ w
print(z.requires_grad, (logits @ w).requires_grad, (logits @ w).grad_fn.name())
loss = (logits @ w).pow(2).mean()
loss.backward()
print(f"{loss.item():.5f}", [round(g, 4) for g in w.grad[0].tolist()], w.grad.norm().item() > 0)
print(torch.tensor([[1, 2], [3, 4]]).tolist(), torch.tensor(2.5).item(), torch.tensor([7]).item())
x = torch.arange(12).view(3, 4)
print(x[x % 2 == 0].tolist(), x[:, [0, 3]].tolist(), x[[0, 2], [1, 3]].tolist(), x[..., -1].tolist())
x[x > 8] = -1
x[0, x[0] < 2] += 10
print(x.tolist(), x.flip(0)[0].tolist(), x.unbind(1)[2].tolist())
