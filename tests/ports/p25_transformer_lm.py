# Transformer language model (pytorch/examples word_language_model TransformerModel, and the
# nn.Transformer tutorial): PositionalEncoding with register_buffer, TransformerEncoder with a
# causal mask, key_padding_mask, MultiheadAttention weights, generate_square_subsequent_mask
import math
import torch
import torch.nn as nn
import torch.nn.functional as F


class PositionalEncoding(nn.Module):
    def __init__(self, d_model, dropout=0.1, max_len=50):
        super().__init__()
        self.dropout = nn.Dropout(p=dropout)
        pe = torch.zeros(max_len, d_model)
        position = torch.arange(0, max_len, dtype=torch.float).unsqueeze(1)
        div_term = torch.exp(torch.arange(0, d_model, 2).float() * (-math.log(10000.0) / d_model))
        pe[:, 0::2] = torch.sin(position * div_term)
        pe[:, 1::2] = torch.cos(position * div_term)
        pe = pe.unsqueeze(0).transpose(0, 1)
        self.register_buffer('pe', pe)

    def forward(self, x):
        x = x + self.pe[:x.size(0), :]
        return self.dropout(x)


class TransformerModel(nn.Transformer):
    def __init__(self, ntoken, ninp, nhead, nhid, nlayers, dropout=0.1):
        super().__init__(d_model=ninp, nhead=nhead, dim_feedforward=nhid, num_encoder_layers=nlayers)
        self.model_type = 'Transformer'
        self.src_mask = None
        self.pos_encoder = PositionalEncoding(ninp, dropout)
        self.input_emb = nn.Embedding(ntoken, ninp)
        self.ninp = ninp
        self.decoder = nn.Linear(ninp, ntoken)
        self.init_weights()

    def _generate_square_subsequent_mask(self, sz):
        return torch.log(torch.tril(torch.ones(sz, sz)))

    def init_weights(self):
        initrange = 0.1
        nn.init.uniform_(self.input_emb.weight, -initrange, initrange)
        nn.init.zeros_(self.decoder.bias)
        nn.init.uniform_(self.decoder.weight, -initrange, initrange)

    def forward(self, src, has_mask=True):
        if has_mask:
            if self.src_mask is None or self.src_mask.size(0) != len(src):
                self.src_mask = self._generate_square_subsequent_mask(len(src))
        else:
            self.src_mask = None
        src = self.input_emb(src) * math.sqrt(self.ninp)
        src = self.pos_encoder(src)
        output = self.encoder(src, mask=self.src_mask)
        output = self.decoder(output)
        return F.log_softmax(output, dim=-1)


torch.manual_seed(0)
model = TransformerModel(ntoken=15, ninp=16, nhead=2, nhid=32, nlayers=2, dropout=0.1)
print(sum(p.numel() for p in model.parameters()), model.pos_encoder.pe.shape, len(model.state_dict()))
data = torch.randint(0, 15, (7, 3))
targets = torch.randint(0, 15, (7 * 3,))
opt = torch.optim.SGD(model.parameters(), lr=0.5)
for step in range(3):
    model.train()
    opt.zero_grad()
    output = model(data)
    loss = F.nll_loss(output.view(-1, 15), targets)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 0.5)
    opt.step()
    print(step, f"{loss.item():.5f}")
model.eval()
with torch.no_grad():
    out = model(data)
    print(out.shape, f"{out.exp().sum(-1).mean().item():.5f}", out[0, 0, :3].tolist())
mask = nn.Transformer.generate_square_subsequent_mask(4)
print(mask)
mha = nn.MultiheadAttention(8, 2, batch_first=True)
q = torch.randn(2, 5, 8)
pad = torch.tensor([[False] * 5, [False, False, False, True, True]])
o, w = mha(q, q, q, key_padding_mask=pad)
print(o.shape, w.shape, w[1, 0].tolist()[3:], f"{o.sum().item():.5f}")
o2, w2 = mha(q, q, q, attn_mask=torch.zeros(5, 5, dtype=torch.bool), average_attn_weights=False)
print(w2.shape)
layer = nn.TransformerEncoderLayer(d_model=8, nhead=2, dim_feedforward=16, batch_first=True, norm_first=True)
enc = nn.TransformerEncoder(layer, num_layers=2, enable_nested_tensor=False)
enc.eval()
with torch.no_grad():
    r = enc(q, src_key_padding_mask=pad, is_causal=False)
print(r.shape, f"{r[0].sum().item():.5f}")
