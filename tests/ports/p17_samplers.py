# Data pipelines of user code: a variable-length Dataset with a padding collate_fn,
# WeightedRandomSampler for class imbalance, SubsetRandomSampler train/valid split,
# random_split with a seeded generator and fractions, BatchSampler, drop_last, default_collate
import torch
from torch.nn.utils.rnn import pad_sequence
from torch.utils.data import (BatchSampler, DataLoader, Dataset, SequentialSampler,
                              SubsetRandomSampler, TensorDataset, WeightedRandomSampler,
                              random_split)
from torch.utils.data.dataloader import default_collate

torch.manual_seed(3)


class Sentences(Dataset):
    def __init__(self, n):
        self.lengths = torch.randint(2, 6, (n,)).tolist()
        self.labels = [int(i % 4 == 0) for i in range(n)]

    def __len__(self):
        return len(self.lengths)

    def __getitem__(self, i):
        return {"tokens": torch.arange(1, self.lengths[i] + 1) + i, "label": self.labels[i]}


def collate(batch):
    tokens = [b["tokens"] for b in batch]
    lengths = torch.tensor([len(t) for t in tokens])
    padded = pad_sequence(tokens, batch_first=True, padding_value=0)
    return padded, lengths, torch.tensor([b["label"] for b in batch])


ds = Sentences(12)
loader = DataLoader(ds, batch_size=5, shuffle=True, collate_fn=collate, drop_last=True)
for padded, lengths, labels in loader:
    print(padded.shape, lengths.tolist(), labels.tolist(), (padded != 0).sum(1).tolist())
print(len(loader))

class_counts = torch.bincount(torch.tensor(ds.labels))
weights = 1.0 / class_counts.float()
sample_weights = weights[torch.tensor(ds.labels)]
sampler = WeightedRandomSampler(sample_weights, num_samples=16, replacement=True)
drawn = list(sampler)
print(class_counts.tolist(), drawn, sum(ds.labels[i] for i in drawn))

features, targets = torch.randn(20, 3), torch.arange(20) % 3
full = TensorDataset(features, targets)
indices = torch.randperm(len(full)).tolist()
train_idx, valid_idx = indices[:15], indices[15:]
train_loader = DataLoader(full, batch_size=4, sampler=SubsetRandomSampler(train_idx))
valid_loader = DataLoader(full, batch_size=4, sampler=SubsetRandomSampler(valid_idx))
print([yb.tolist() for _, yb in train_loader], [len(yb) for _, yb in valid_loader])

train, val, test = random_split(full, [0.6, 0.2, 0.2], generator=torch.Generator().manual_seed(42))
print(len(train), len(val), len(test), train.indices[:5], test.indices)
print(list(BatchSampler(SequentialSampler(range(7)), batch_size=3, drop_last=False)))
print(list(BatchSampler(range(7), batch_size=3, drop_last=True)))
batch = default_collate([(torch.ones(2), 1, {"a": 2.5}), (torch.zeros(2), 0, {"a": 0.5})])
print(batch)
loader = DataLoader(full, batch_sampler=BatchSampler(SubsetRandomSampler(range(8)), 3, False))
print([xb.shape[0] for xb, _ in loader], sum(yb.sum().item() for _, yb in loader) >= 0)
