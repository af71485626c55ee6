# text classification tutorial: EmbeddingBag with offsets, collate_batch building offsets with
# cumsum, device selection (cuda / mps checks), StepLR, clip_grad_norm_, evaluation loop
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset
from torch.utils.data.dataset import random_split

device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
use_mps = torch.backends.mps.is_available()
print(device, use_mps, torch.backends.cudnn.is_available() in (True, False))
torch.manual_seed(0)
vocab_size, num_class = 30, 3
data = [(int(torch.randint(0, 3, ()).item()), torch.randint(0, vocab_size, (int(torch.randint(3, 9, ()).item()),)).tolist()) for _ in range(40)]


class TextDS(Dataset):
    def __len__(self):
        return len(data)

    def __getitem__(self, i):
        return data[i]


def collate_batch(batch):
    label_list, text_list, offsets = [], [], [0]
    for _label, _text in batch:
        label_list.append(_label)
        processed_text = torch.tensor(_text, dtype=torch.int64)
        text_list.append(processed_text)
        offsets.append(processed_text.size(0))
    label_list = torch.tensor(label_list, dtype=torch.int64)
    offsets = torch.tensor(offsets[:-1]).cumsum(dim=0)
    text_list = torch.cat(text_list)
    return label_list.to(device), text_list.to(device), offsets.to(device)


class TextClassificationModel(nn.Module):
    def __init__(self, vocab_size, embed_dim, num_class):
        super().__init__()
        self.embedding = nn.EmbeddingBag(vocab_size, embed_dim, sparse=False)
        self.fc = nn.Linear(embed_dim, num_class)
        self.init_weights()

    def init_weights(self):
        initrange = 0.5
        self.embedding.weight.data.uniform_(-initrange, initrange)
        self.fc.weight.data.uniform_(-initrange, initrange)
        self.fc.bias.data.zero_()

    def forward(self, text, offsets):
        return self.fc(self.embedding(text, offsets))


model = TextClassificationModel(vocab_size, 8, num_class).to(device)
criterion = torch.nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=5)
scheduler = torch.optim.lr_scheduler.StepLR(optimizer, 1.0, gamma=0.1)
train_ds, valid_ds = random_split(TextDS(), [30, 10])
train_dataloader = DataLoader(train_ds, batch_size=8, shuffle=True, collate_fn=collate_batch)
valid_dataloader = DataLoader(valid_ds, batch_size=8, shuffle=False, collate_fn=collate_batch)


def evaluate(dataloader):
    model.eval()
    total_acc, total_count = 0, 0
    with torch.no_grad():
        for idx, (label, text, offsets) in enumerate(dataloader):
            predicted_label = model(text, offsets)
            total_acc += (predicted_label.argmax(1) == label).sum().item()
            total_count += label.size(0)
    return total_acc / total_count


for epoch in range(1, 4):
    model.train()
    total_acc, total_count = 0, 0
    for idx, (label, text, offsets) in enumerate(train_dataloader):
        optimizer.zero_grad()
        predicted_label = model(text, offsets)
        loss = criterion(predicted_label, label)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 0.1)
        optimizer.step()
        total_acc += (predicted_label.argmax(1) == label).sum().item()
        total_count += label.size(0)
    accu_val = evaluate(valid_dataloader)
    scheduler.step()
    print(f"| end of epoch {epoch:3d} | train acc {total_acc / total_count:8.3f} | valid accuracy {accu_val:8.3f} | loss {loss.item():.5f}")
bag = nn.EmbeddingBag(10, 3, mode="max")
print(bag(torch.tensor([[1, 2], [3, 4]])).shape, nn.EmbeddingBag(10, 3, mode="sum", padding_idx=0)(torch.tensor([0, 1, 2]), torch.tensor([0, 2])).shape)
w = torch.randn(10, 3)
print(torch.nn.functional.embedding_bag(torch.tensor([1, 2, 4, 5]), w, torch.tensor([0, 3]), mode="mean",
      per_sample_weights=None).tolist()[1] == w[5].tolist())
