# Datasets and DataLoaders: a custom Dataset, TensorDataset, batching, shuffling, random_split
import torch
from torch.utils.data import DataLoader, Dataset, TensorDataset, random_split


class SquaresDataset(Dataset):
    def __init__(self, n, transform=None):
        self.x = torch.arange(n, dtype=torch.float32)
        self.transform = transform

    def __len__(self):
        return len(self.x)

    def __getitem__(self, idx):
        x = self.x[idx]
        if self.transform:
            x = self.transform(x)
        return x, x ** 2


torch.manual_seed(0)
ds = SquaresDataset(10, transform=lambda v: v / 10)
print(len(ds), ds[3])
loader = DataLoader(ds, batch_size=4, shuffle=True)
for epoch in range(2):
    for xb, yb in loader:
        print(epoch, xb, yb)
features, labels = torch.randn(12, 3), torch.randint(0, 2, (12,))
train, test = random_split(TensorDataset(features, labels), [9, 3])
print(len(train), len(test), test[0])
for xb, yb in DataLoader(train, batch_size=5, drop_last=True):
    print(xb.shape, yb)
g = torch.Generator().manual_seed(42)
print([int(i) for xb, _ in DataLoader(ds, batch_size=3, shuffle=True, generator=g) for i in xb * 10])
