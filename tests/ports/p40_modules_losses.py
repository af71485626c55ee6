# Layer and loss options user code reaches for: padding="same"/"valid", circular/reflect/replicate
# padding modes, depthwise groups, dilation, LSTM proj_size, GRU h0, MHA kdim/vdim, pre-norm decoder,
# from_pretrained embeddings, class weights, soft targets, label smoothing and the less common losses
import torch
import torch.nn as nn
import torch.nn.functional as F
torch.manual_seed(0)
x = torch.randn(2, 4, 7, 7)
mods = [nn.Conv2d(4, 6, 3, padding="same"), nn.Conv2d(4, 4, 3, padding=1, padding_mode="circular", groups=4),
        nn.Conv2d(4, 8, (3, 5), stride=(2, 1), padding=(1, 2), dilation=(1, 2), padding_mode="reflect"),
        nn.Conv2d(4, 4, 3, padding="valid", padding_mode="replicate", bias=False),
        nn.AdaptiveAvgPool2d((None, 3)), nn.Upsample(scale_factor=1.5, mode="bicubic", align_corners=True),
        nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False), nn.MaxPool2d(3, 2, 1, ceil_mode=True)]
for m in mods:
    y = m(x)
    print(type(m).__name__, tuple(y.shape), f"{y.sum().item():.4f}")
seq = torch.randn(5, 3, 6)
lstm = nn.LSTM(6, 8, proj_size=4, num_layers=2)
o, (h, c) = lstm(seq)
print(o.shape, h.shape, c.shape, f"{o.sum().item():.5f}")
gru = nn.GRU(6, 5, batch_first=False)
o, h = gru(seq, torch.ones(1, 3, 5))
print(o.shape, f"{h.sum().item():.5f}")
mha = nn.MultiheadAttention(8, 2, kdim=5, vdim=3, batch_first=True)
q, k, v = torch.randn(2, 4, 8), torch.randn(2, 6, 5), torch.randn(2, 6, 3)
o, w = mha(q, k, v, need_weights=False)
print(o.shape, w, f"{o.sum().item():.5f}")
dec = nn.TransformerDecoderLayer(8, 2, 16, dropout=0.0, batch_first=True, norm_first=True, activation="gelu")
print(dec(q, torch.randn(2, 6, 8), tgt_is_causal=False).shape)
emb = nn.Embedding.from_pretrained(torch.arange(12.).view(4, 3), freeze=True, padding_idx=0)
print(emb(torch.tensor([0, 3])).tolist(), emb.weight.requires_grad)
bag = nn.EmbeddingBag.from_pretrained(torch.arange(12.).view(4, 3), mode="max")
print(bag(torch.tensor([[0, 3], [1, 2]])).tolist())
logits, target = torch.randn(4, 3), torch.tensor([0, 2, 1, 2])
print(nn.CrossEntropyLoss(weight=torch.tensor([1.0, 2.0, 0.5]), reduction="none")(logits, target).tolist())
soft = torch.softmax(torch.randn(4, 3), 1)
print(f"{F.cross_entropy(logits, soft, label_smoothing=0.2).item():.6f}", f"{nn.BCEWithLogitsLoss(pos_weight=torch.tensor([2.0, 1.0, 0.5]))(logits, soft).item():.6f}")
print(f"{nn.NLLLoss(weight=torch.tensor([1.0, 2.0, 0.5]), ignore_index=1)(F.log_softmax(logits, 1), target).item():.6f}")
print(f"{F.kl_div(F.log_softmax(logits, 1), soft, reduction='batchmean').item():.6f}", f"{F.huber_loss(logits, soft, delta=0.5).item():.6f}")
print(f"{F.multilabel_soft_margin_loss(logits, (soft > 0.3).float()).item():.6f}", f"{F.poisson_nll_loss(logits.exp(), soft, log_input=False).item():.6f}")
print(f"{F.gaussian_nll_loss(logits, soft, torch.ones(4, 1)).item():.6f}", f"{F.margin_ranking_loss(logits[:, 0], logits[:, 1], torch.tensor([1., -1., 1., -1.])).item():.6f}")
