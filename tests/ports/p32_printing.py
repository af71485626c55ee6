# What user scripts print: module reprs, parameter tables, tensor reprs in several regimes,
# state_dict keys, dtypes and devices, named_modules, summaries of grads
import torch
import torch.nn as nn

torch.manual_seed(0)


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(c)
        self.act = nn.SiLU(inplace=True)
        self.register_buffer("scale", torch.ones(1), persistent=False)

    def forward(self, x):
        return x + self.act(self.bn(self.conv(x))) * self.scale


model = nn.Sequential(
    nn.Conv2d(3, 8, kernel_size=3, stride=2, padding=1), Block(8), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
    nn.Dropout(p=0.2), nn.Linear(8, 10),
    nn.ModuleDict({"a": nn.Identity(), "b": nn.GELU(approximate="tanh")}),
    nn.ModuleList([nn.LayerNorm(10, eps=1e-6), nn.Embedding(5, 3, padding_idx=0)]),
    nn.LSTM(4, 5, num_layers=2, batch_first=True, dropout=0.1, bidirectional=True),
    nn.MultiheadAttention(8, 2), nn.TransformerEncoderLayer(8, 2, 16, batch_first=True),
    nn.Upsample(scale_factor=2, mode="bilinear"), nn.MaxPool2d(2, 2), nn.ConvTranspose2d(3, 4, 2, 2),
    nn.LeakyReLU(0.1), nn.Softmax(dim=1), nn.CrossEntropyLoss(label_smoothing=0.1), nn.PReLU(3),
    nn.GroupNorm(2, 4), nn.Unflatten(1, (2, 5)), nn.ZeroPad2d((1, 1, 2, 0)), nn.Hardtanh(-2, 2),
    nn.Bilinear(2, 3, 4), nn.PixelShuffle(2), nn.Threshold(0.1, 20), nn.ELU(alpha=0.5), nn.RReLU(),
)
print(model)
for name, p in list(model.named_parameters())[:6]:
    print(name, tuple(p.shape), p.requires_grad, p.dtype)
print(len(list(model.modules())), len(model.state_dict()), [k for k in model.state_dict() if "scale" in k])
print(torch.tensor([1e-8, 1.0, 1e8]), torch.tensor([0.1, 2.5, -3.0]), torch.tensor([[1, 2], [3, 4]]))
print(torch.tensor([1.5, float("nan"), float("inf")]), torch.tensor(3.14159), torch.tensor([True, False]))
print(torch.arange(12.).view(3, 4) / 7, torch.zeros(2, 0), torch.tensor([1e-3, 2e-3]))
print(torch.randn(2, 3, dtype=torch.float64), torch.tensor([100000.0, 1.0]), torch.tensor([123456789.0]))
x = torch.randn(3, requires_grad=True)
y = (x * 2).sum()
print(y, x * 2, x.detach(), torch.ones(2, dtype=torch.int32), torch.ones(2, dtype=torch.float16))
print(torch.linspace(0, 1, 12), torch.full((2, 2), 7, dtype=torch.uint8), torch.empty(0))
torch.set_printoptions(precision=2, sci_mode=False)
print(torch.tensor([1e-5, 3.14159, 1234.5678]))
torch.set_printoptions(profile="default")
print(torch.arange(2000).float())
print(nn.Linear(3, 2).weight.data, nn.Parameter(torch.zeros(2)))
