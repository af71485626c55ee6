# Graph neural network by hand (the way PyG-free user code does it): edge_index message passing
# with index_select + scatter_add_ / index_add_, degree normalisation, scatter_reduce mean/amax
# pooling per graph, a dense adjacency built with index_put_(accumulate=True), node classification with a train mask
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(4)
num_nodes, num_feats, num_classes = 10, 5, 3
src = torch.tensor([0, 1, 1, 2, 3, 4, 5, 6, 7, 8, 9, 2, 5])
dst = torch.tensor([1, 0, 2, 1, 4, 3, 6, 5, 8, 7, 8, 3, 7])
edge_index = torch.cat([torch.stack([src, dst]), torch.stack([dst, src])], dim=1)
loops = torch.arange(num_nodes)
edge_index = torch.cat([edge_index, torch.stack([loops, loops])], dim=1)
x = torch.randn(num_nodes, num_feats)
y = torch.tensor([0, 0, 0, 1, 1, 2, 2, 2, 1, 1])
batch = torch.tensor([0, 0, 0, 0, 0, 1, 1, 1, 1, 1])
train_mask = torch.zeros(num_nodes, dtype=torch.bool)
train_mask[::2] = True


class GCNConv(nn.Module):
    def __init__(self, in_channels, out_channels):
        super().__init__()
        self.lin = nn.Linear(in_channels, out_channels, bias=False)
        self.bias = nn.Parameter(torch.zeros(out_channels))

    def forward(self, x, edge_index):
        row, col = edge_index
        deg = torch.zeros(x.size(0)).scatter_add_(0, col, torch.ones(col.size(0)))
        deg_inv_sqrt = deg.pow(-0.5)
        deg_inv_sqrt[deg_inv_sqrt == float("inf")] = 0
        norm = deg_inv_sqrt[row] * deg_inv_sqrt[col]
        h = self.lin(x)
        messages = norm.view(-1, 1) * h.index_select(0, row)
        out = torch.zeros_like(h).index_add_(0, col, messages)
        return out + self.bias


class GCN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = GCNConv(num_feats, 8)
        self.conv2 = GCNConv(8, num_classes)

    def forward(self, x, edge_index):
        x = F.relu(self.conv1(x, edge_index))
        x = F.dropout(x, p=0.3, training=self.training)
        return self.conv2(x, edge_index)


model = GCN()
optimizer = torch.optim.Adam(model.parameters(), lr=0.05, weight_decay=5e-4)
for epoch in range(20):
    model.train()
    optimizer.zero_grad()
    out = model(x, edge_index)
    loss = F.cross_entropy(out[train_mask], y[train_mask])
    loss.backward()
    optimizer.step()
    if epoch % 5 == 4:
        model.eval()
        pred = model(x, edge_index).argmax(dim=1)
        acc = (pred[~train_mask] == y[~train_mask]).sum().item() / int((~train_mask).sum())
        print(f"Epoch {epoch:03d} loss {loss.item():.4f} test acc {acc:.2f}")

with torch.no_grad():
    h = model.conv1(x, edge_index)
    mean_pool = torch.zeros(2, 8).scatter_reduce(0, batch[:, None].expand(-1, 8), h, reduce="mean",
                                                 include_self=False)
    max_pool = torch.zeros(2, 8).scatter_reduce(0, batch[:, None].expand(-1, 8), h, reduce="amax",
                                                include_self=False)
    counts = torch.bincount(batch)
    manual = torch.zeros(2, 8).index_add_(0, batch, h) / counts[:, None]
print(torch.allclose(mean_pool, manual, atol=1e-6), [round(v, 4) for v in max_pool[1, :3].tolist()])
dense = torch.zeros(num_nodes, num_nodes).index_put_((edge_index[0], edge_index[1]),
                                                     torch.ones(edge_index.size(1)), accumulate=True)
flat = torch.zeros(num_nodes * num_nodes).scatter_add_(0, edge_index[0] * num_nodes + edge_index[1],
                                                      torch.ones(edge_index.size(1)))
print(dense.sum().item(), torch.equal(flat.view(num_nodes, num_nodes), dense), (dense @ x).shape)
deg = dense.sum(1)
print(deg.tolist(), torch.unique(edge_index[0], return_counts=True)[1].tolist() == deg.long().tolist())
