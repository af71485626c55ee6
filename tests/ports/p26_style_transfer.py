# fast_neural_style and super_resolution pieces: ReflectionPad2d, InstanceNorm2d(affine),
# Upsample, PixelShuffle, gram matrix with bmm, forward hooks to grab features, total variation
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(2)


class ConvLayer(nn.Module):
    def __init__(self, in_channels, out_channels, kernel_size, stride):
        super().__init__()
        self.reflection_pad = nn.ReflectionPad2d(kernel_size // 2)
        self.conv2d = nn.Conv2d(in_channels, out_channels, kernel_size, stride)

    def forward(self, x):
        return self.conv2d(self.reflection_pad(x))


class ResidualBlock(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.conv1 = ConvLayer(channels, channels, kernel_size=3, stride=1)
        self.in1 = nn.InstanceNorm2d(channels, affine=True)
        self.conv2 = ConvLayer(channels, channels, kernel_size=3, stride=1)
        self.in2 = nn.InstanceNorm2d(channels, affine=True)
        self.relu = nn.ReLU()

    def forward(self, x):
        residual = x
        out = self.relu(self.in1(self.conv1(x)))
        out = self.in2(self.conv2(out))
        return out + residual


class UpsampleConvLayer(nn.Module):
    def __init__(self, in_channels, out_channels, kernel_size, stride, upsample=None):
        super().__init__()
        self.upsample = upsample
        self.reflection_pad = nn.ReflectionPad2d(kernel_size // 2)
        self.conv2d = nn.Conv2d(in_channels, out_channels, kernel_size, stride)

    def forward(self, x):
        if self.upsample:
            x = F.interpolate(x, mode='nearest', scale_factor=self.upsample)
        return self.conv2d(self.reflection_pad(x))


class TransformerNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = ConvLayer(3, 4, kernel_size=5, stride=1)
        self.in1 = nn.InstanceNorm2d(4, affine=True)
        self.conv2 = ConvLayer(4, 8, kernel_size=3, stride=2)
        self.in2 = nn.InstanceNorm2d(8, affine=True)
        self.res1 = ResidualBlock(8)
        self.deconv1 = UpsampleConvLayer(8, 4, kernel_size=3, stride=1, upsample=2)
        self.in4 = nn.InstanceNorm2d(4, affine=True)
        self.deconv3 = ConvLayer(4, 3, kernel_size=5, stride=1)
        self.relu = nn.ReLU()

    def forward(self, X):
        y = self.relu(self.in1(self.conv1(X)))
        y = self.relu(self.in2(self.conv2(y)))
        y = self.res1(y)
        y = self.relu(self.in4(self.deconv1(y)))
        return self.deconv3(y)


def gram_matrix(y):
    (b, ch, h, w) = y.size()
    features = y.view(b, ch, w * h)
    features_t = features.transpose(1, 2)
    return features.bmm(features_t) / (ch * h * w)


class SuperResolutionNet(nn.Module):
    def __init__(self, upscale_factor):
        super().__init__()
        self.relu = nn.ReLU()
        self.conv1 = nn.Conv2d(1, 8, (5, 5), (1, 1), (2, 2))
        self.conv2 = nn.Conv2d(8, upscale_factor ** 2, (3, 3), (1, 1), (1, 1))
        self.pixel_shuffle = nn.PixelShuffle(upscale_factor)
        nn.init.orthogonal_(self.conv1.weight, nn.init.calculate_gain('relu'))

    def forward(self, x):
        return self.pixel_shuffle(self.conv2(self.relu(self.conv1(x))))


net = TransformerNet()
feats = {}
handle = net.res1.register_forward_hook(lambda m, i, o: feats.__setitem__("res1", o.detach()))
opt = torch.optim.Adam(net.parameters(), 1e-3)
style = torch.rand(1, 3, 12, 12)
gram_style = gram_matrix(style)
x = torch.rand(2, 3, 12, 12)
for step in range(3):
    opt.zero_grad()
    y = net(x)
    content_loss = F.mse_loss(y, x)
    style_loss = F.mse_loss(gram_matrix(y), gram_style.expand(2, -1, -1))
    tv = (y[:, :, 1:] - y[:, :, :-1]).abs().mean() + (y[..., 1:] - y[..., :-1]).abs().mean()
    total = content_loss + 10 * style_loss + 0.1 * tv
    total.backward()
    opt.step()
    print(step, f"{content_loss.item():.5f} {style_loss.item():.6f} {tv.item():.5f}", feats["res1"].shape)
handle.remove()
net(x)
print(len(feats), y.shape, net.in1.running_mean)
sr = SuperResolutionNet(upscale_factor=3)
lr_img = torch.rand(2, 1, 5, 5)
out = sr(lr_img)
loss = F.mse_loss(out, F.interpolate(lr_img, scale_factor=3, mode="bicubic", align_corners=False))
loss.backward()
print(out.shape, f"{loss.item():.5f}", f"{sr.conv1.weight.grad.norm().item():.5f}",
      nn.PixelUnshuffle(3)(out).shape)
grads = []
h = sr.conv2.register_full_backward_hook(lambda m, gi, go: grads.append(go[0].shape))
sr(lr_img).sum().backward()
print(grads)
