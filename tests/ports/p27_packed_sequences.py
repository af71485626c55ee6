# Variable-length sequences: pack_padded_sequence / pad_packed_sequence with a bidirectional GRU,
# enforce_sorted=False, masking the loss of padded steps, sequence classification
import torch
import torch.nn as nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence, pad_sequence, pack_sequence

torch.manual_seed(9)
seqs = [torch.randint(1, 10, (n,)) for n in (5, 2, 4, 3)]
lengths = torch.tensor([len(s) for s in seqs])
padded = pad_sequence(seqs, batch_first=True)
labels = torch.tensor([0, 1, 1, 0])


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(10, 6, padding_idx=0)
        self.rnn = nn.GRU(6, 5, batch_first=True, bidirectional=True, num_layers=2)
        self.fc = nn.Linear(10, 2)

    def forward(self, x, lengths):
        packed = pack_padded_sequence(self.emb(x), lengths, batch_first=True, enforce_sorted=False)
        out, h = self.rnn(packed)
        out, out_lengths = pad_packed_sequence(out, batch_first=True, total_length=6)
        feat = torch.cat([h[-2], h[-1]], dim=1)
        return self.fc(feat), out, out_lengths


model = Classifier()
opt = torch.optim.RMSprop(model.parameters(), lr=0.01)
for step in range(4):
    logits, out, out_lengths = model(padded, lengths)
    loss = nn.functional.cross_entropy(logits, labels)
    opt.zero_grad()
    loss.backward()
    opt.step()
    print(step, f"{loss.item():.5f}", out.shape, out_lengths.tolist(), out[1, 2:].abs().sum().item())
print(model.emb.weight.grad[0].abs().sum().item())
packed = pack_sequence([s.float() for s in sorted(seqs, key=len, reverse=True)])
print(packed.batch_sizes.tolist(), packed.data.shape, packed.sorted_indices)
mask = torch.arange(padded.size(1))[None, :] < lengths[:, None]
lstm = nn.LSTM(1, 3, batch_first=True)
o, _ = lstm(padded.unsqueeze(-1).float())
masked_mean = (o * mask.unsqueeze(-1)).sum(1) / lengths[:, None]
print(mask.int().tolist(), masked_mean.shape, f"{masked_mean.sum().item():.5f}")
