# Metric learning (pytorch/examples/siamese_network style): a shared embedding net, pairs with
# a contrastive loss built from F.pairwise_distance, TripletMarginLoss, CosineEmbeddingLoss,
# MarginRankingLoss, cdist retrieval with topk, and hard-negative mining with masks
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(11)
centers = torch.randn(4, 6) * 2
labels = torch.arange(24) % 4
points = centers[labels] + 0.5 * torch.randn(24, 6)


class EmbeddingNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(6, 16), nn.PReLU(), nn.Dropout(0.1), nn.Linear(16, 3))

    def forward(self, x):
        return F.normalize(self.net(x), p=2, dim=1)


class SiameseNetwork(nn.Module):
    def __init__(self, embedding):
        super().__init__()
        self.embedding = embedding

    def forward(self, x1, x2):
        return self.embedding(x1), self.embedding(x2)


def contrastive_loss(e1, e2, same, margin=1.0):
    d = F.pairwise_distance(e1, e2)
    return torch.mean(same * d.pow(2) + (1 - same) * torch.clamp(margin - d, min=0.0).pow(2))


embedding = EmbeddingNet()
siamese = SiameseNetwork(embedding)
optimizer = torch.optim.Adam(siamese.parameters(), lr=0.01)
triplet = nn.TripletMarginLoss(margin=0.3, p=2)
cosine = nn.CosineEmbeddingLoss(margin=0.1)
for step in range(6):
    siamese.train()
    perm = torch.randperm(24)
    x1, x2 = points, points[perm]
    same = (labels == labels[perm]).float()
    e1, e2 = siamese(x1, x2)
    loss_c = contrastive_loss(e1, e2, same)
    emb = embedding(points)
    dist = torch.cdist(emb, emb)
    pos_mask = labels[:, None] == labels[None, :]
    hardest_pos = (dist * pos_mask).argmax(dim=1)
    hardest_neg = dist.masked_fill(pos_mask, float("inf")).argmin(dim=1)
    loss_t = triplet(emb, emb[hardest_pos], emb[hardest_neg])
    loss_cos = cosine(e1, e2, same * 2 - 1)
    loss = loss_c + loss_t + 0.1 * loss_cos
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    if step % 2 == 1:
        print(step, f"{loss_c.item():.5f} {loss_t.item():.5f} {loss_cos.item():.5f}",
              int(same.sum().item()))
embedding.eval()
with torch.no_grad():
    emb = embedding(points)
    d = torch.cdist(emb, emb).fill_diagonal_(float("inf"))
    nearest = d.topk(3, dim=1, largest=False).indices
    recall = (labels[nearest[:, 0]] == labels).float().mean().item()
    sims = F.cosine_similarity(emb[:1], emb).tolist()
print(f"recall@1 {recall:.4f}", nearest.shape, [round(s, 4) for s in sims[:4]])
ranking = nn.MarginRankingLoss(margin=0.2)
s1, s2 = torch.randn(5, requires_grad=True), torch.randn(5)
r = ranking(s1, s2, torch.tensor([1., -1., 1., 1., -1.]))
r.backward()
print(f"{r.item():.5f}", s1.grad.tolist(), embedding.net[1].weight.item() != 0.25)
print(F.triplet_margin_loss(emb[:4], emb[4:8], emb[8:12], margin=1.0, swap=True, reduction="none").shape)
