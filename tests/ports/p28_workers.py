# Workers seen from user code: random augmentation inside __getitem__ with num_workers, the
# reproducibility recipe (worker_init_fn seeding numpy and random from torch.initial_seed(),
# a seeded generator), persistent workers, get_worker_info sharding of an IterableDataset with uneven
# shards, ConcatDataset / Subset / ChainDataset
import random
import numpy as np
import torch
from torch.utils.data import (ChainDataset, ConcatDataset, DataLoader, Dataset, IterableDataset, Subset,
                              TensorDataset, get_worker_info)


class Noisy(Dataset):
    def __len__(self):
        return 10

    def __getitem__(self, i):
        return torch.tensor(float(i)) + torch.rand(()), np.random.randint(0, 1000), random.randint(0, 1000)


def seed_worker(worker_id):
    worker_seed = torch.initial_seed() % 2**32
    np.random.seed(worker_seed)
    random.seed(worker_seed)


torch.manual_seed(0)
g = torch.Generator()
g.manual_seed(0)
loader = DataLoader(Noisy(), batch_size=3, num_workers=2, worker_init_fn=seed_worker, generator=g, shuffle=True)
for epoch in range(2):
    for x, a, b in loader:
        print(epoch, [round(v, 4) for v in x.tolist()], a.tolist(), b.tolist())
print(torch.rand(2).tolist())
loader = DataLoader(Noisy(), batch_size=4, num_workers=3, persistent_workers=True)
for epoch in range(2):
    print(epoch, [[round(v, 4) for v in x.tolist()] for x, _, _ in loader])
print(torch.rand(2).tolist())


class Shards(IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        info = get_worker_info()
        if info is None:
            return iter(range(self.n))
        return iter(range(info.id, self.n, info.num_workers * 2 - info.id))


class Naive(IterableDataset):
    def __iter__(self):
        info = get_worker_info()
        yield from [(info.id if info else -1, info.num_workers if info else 0, torch.randint(0, 100, ()).item()) for _ in range(3)]


print([b.tolist() for b in DataLoader(Shards(11), batch_size=2, num_workers=3)])
print([b.tolist() for b in DataLoader(Shards(11), batch_size=2, num_workers=3, drop_last=True)])
print([int(b) for b in DataLoader(Shards(7), batch_size=None, num_workers=2)])
print([tuple(int(t) for t in s) for s in DataLoader(Naive(), batch_size=None, num_workers=2)])
print([tuple(int(t) for t in s) for s in DataLoader(Naive(), batch_size=None)])
print(torch.rand(1).item())
a = TensorDataset(torch.arange(5.), torch.arange(5) * 10)
b = TensorDataset(torch.arange(5., 8.), torch.arange(5, 8) * 10)
cat = ConcatDataset([a, b])
print(len(cat), cat[6], cat.cumulative_sizes)
sub = Subset(cat, [7, 0, 3])
print([int(sub[i][1]) for i in range(3)])
loader = DataLoader(cat, batch_size=4, shuffle=True, num_workers=2, persistent_workers=True)
for epoch in range(2):
    print(epoch, [yb.tolist() for _, yb in loader])
print([int(v) for v in ChainDataset([Shards(3), Shards(2)])])
loader = DataLoader(a, batch_size=2, pin_memory=True, num_workers=2, prefetch_factor=2)
print([xb.sum().item() for xb, _ in loader], len(loader))
