# NumPy and Python interop of everyday scripts: from_numpy memory sharing, dtype inference from
# NumPy scalars and arrays, NumPy-scalar arithmetic, indexing with NumPy arrays, format specs on
# tensors, iteration, sum()/max()/sorted() over tensors, membership
import numpy as np
import torch
torch.manual_seed(0)
a = np.arange(6, dtype=np.float32).reshape(2, 3)
t = torch.from_numpy(a)
a[0, 0] = 100
print(t[0, 0].item(), torch.tensor(a).dtype, torch.tensor(np.arange(3)).dtype, torch.as_tensor(a) is not None)
print(torch.tensor(np.float64(2.5)).dtype, torch.tensor([np.float32(1), np.float32(2)]).dtype, torch.tensor(np.array(3)).shape)
x = torch.randn(3)
print(np.array(x).dtype, np.asarray(x).shape, (x.numpy() * 2).dtype, type(x.tolist()[0]).__name__)
print((x + np.float32(1.0)).dtype, (x * np.float64(2.0)).dtype, (x + np.int64(1)).dtype, type(x.sum().item()).__name__)
print(np.mean(x.numpy()).dtype, float(x.mean()), int(torch.tensor(3.7)), bool(torch.tensor([True])))
print(torch.tensor(np.array([1, 2], dtype=np.int32)).dtype, torch.tensor(np.array([True, False])).dtype, torch.from_numpy(np.zeros(2, np.uint8)).dtype)
idx = np.array([0, 2])
print(x[idx].shape, x[torch.from_numpy(idx)].shape, x[np.int64(1)].shape, x[[True, False, True]].shape)
print(torch.stack([torch.from_numpy(np.ones(2)), torch.zeros(2, dtype=torch.float64)]).dtype, torch.cat([x, torch.tensor([1.0])]).shape)
print(np.concatenate([x.numpy(), np.ones(1, np.float32)]).shape, torch.tensor(x.numpy().tolist()).dtype)
print(f"{x[0]:.3f}", "%.2f" % x[1], "{:.1f}".format(x.sum()), round(x[2].item(), 3), x.max() > 0, abs(x).min().item() >= 0)
print(x.numpy().astype(np.float64).sum() - float(x.double().sum()) < 1e-6, len(x), list(x.shape), x.size(0), x.shape[-1])
y = torch.tensor([[1, 2], [3, 4]])
for row in y:
    print(row.tolist(), end=" ")
print(sum(y).tolist(), max(y[0]).item(), sorted(torch.tensor([3, 1, 2]).tolist()), [int(v) for v in y.flatten()], 3 in torch.tensor([1, 3]))
