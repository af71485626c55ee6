# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %%

# %% [markdown]
# # 5 · Convolution, filters and convolutional networks
#
# * 2-D convolution: S(i, j) = (I ∗ K)(i, j) = Σₘ Σₙ I(i − m, j − n) K(m, n) — the kernel is
#   flipped; deep-learning "convolution" layers compute cross-correlation (no flip).
# * Hand-made filters: Sobel Gₓ, G_y (first derivatives → edges), |G| = √(Gₓ² + G_y²), the
#   Laplacian ∇²I (second derivative).
# * CNNs learn their filters, share them across positions (weight sharing), control the output
#   size with padding and stride, and pool for invariance to small shifts.

# %%
import matplotlib.pyplot as plt
import numpy as np

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import datasets, nn, optim, vision
from chainrule.train import Trainer
from chainrule.utils.data import DataLoader, TensorDataset

cr.manual_seed(0)
rng = np.random.default_rng(0)

# %% [markdown]
# ## The convolution formula, by hand
#
# Four nested loops of the card's formula against `vision.convolve2d`; `F.conv2d` (what
# `nn.Conv2d` runs) equals cross-correlation, i.e. convolution with the flipped kernel.

# %%
I = rng.standard_normal((9, 9))
K = np.array([[1.0, 2.0, 0.0], [0.0, 3.0, 0.0], [0.0, 0.0, -1.0]])   # asymmetric on purpose


def convolve_by_hand(I, K):
    """'full' output: S(i, j) = Σ_m Σ_n I(i − m, j − n) K(m, n) over the valid I indices."""
    H, W = I.shape
    kh, kw = K.shape
    S = np.zeros((H + kh - 1, W + kw - 1))
    for i in range(S.shape[0]):
        for j in range(S.shape[1]):
            for m in range(kh):
                for n in range(kw):
                    if 0 <= i - m < H and 0 <= j - n < W:
                        S[i, j] += I[i - m, j - n] * K[m, n]
    return S


S = convolve_by_hand(I, K)
assert np.allclose(S, vision.convolve2d(I, K, mode="full").numpy())
corr = F.conv2d(cr.tensor(I[None, None]), cr.tensor(K[None, None])).numpy()[0, 0]
assert np.allclose(corr, vision.correlate2d(I, K, mode="valid").numpy())
assert np.allclose(corr, vision.convolve2d(I, K[::-1, ::-1].copy(), mode="valid").numpy())
assert not np.allclose(corr, vision.convolve2d(I, K, mode="valid").numpy())
print("convolve2d = the formula; conv2d = cross-correlation = convolution with K flipped")

# %% [markdown]
# ## Sobel, gradient magnitude and Laplacian
#
# On a synthetic image with a vertical and a horizontal edge: Gₓ answers the vertical edge
# only, G_y the horizontal one; the Laplacian vanishes on a linear ramp.

# %%
Gx = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=np.float32)
assert np.array_equal(vision.filters.SOBEL_X.numpy(), Gx)
assert np.array_equal(vision.filters.SOBEL_Y.numpy(), Gx.T)

img = np.zeros((32, 32), np.float32)
img[:, 16:] = 1.0                               # a vertical edge ...
img[24:, :] += 0.5                              # ... and a horizontal one below
gx, gy = vision.sobel(img, axis=-1).numpy(), vision.sobel(img, axis=-2).numpy()
mag = vision.gradient_magnitude(img).numpy()
lap = vision.laplacian(img).numpy()
print("|Gx| at the vertical edge:", abs(gx[8, 15]), " |Gy| there:", abs(gy[8, 15]))
assert abs(gx[8, 15]) == 4.0 and gy[8, 15] == 0.0
assert abs(gy[23, 4]) == 2.0 and gx[23, 4] == 0.0
assert np.allclose(mag, np.sqrt(gx ** 2 + gy ** 2))
ramp = np.tile(np.arange(16, dtype=np.float32), (16, 1))
assert np.abs(vision.laplacian(ramp, mode="nearest").numpy()[1:-1, 1:-1]).max() < 1e-5

fig, axes = plt.subplots(1, 5, figsize=(14, 3))
for ax, (title, a) in zip(axes, [("image", img), ("Gₓ", gx), ("G_y", gy), ("|G|", mag),
                                 ("∇²I", lap)]):
    ax.imshow(a, cmap="gray" if title == "image" else "RdBu_r"), ax.set_title(title)
    ax.set_xticks([]), ax.set_yticks([])
plt.show()

# %% [markdown]
# ## Padding, stride and weight sharing
#
# Output size ⌊(H + 2p − k)/s⌋ + 1. A 3×3 convolution from 3 to 16 channels has
# 16·3·3·3 + 16 = 448 parameters whatever the image size; a fully connected layer producing
# the same output from a 32×32 image needs millions.

# %%
x = cr.randn(2, 3, 32, 32)
for k, p, s in [(3, 0, 1), (3, 1, 1), (3, 1, 2), (5, 2, 2)]:
    out = nn.Conv2d(3, 16, k, stride=s, padding=p)(x)
    expected = (32 + 2 * p - k) // s + 1
    print(f"k={k} p={p} s={s}: {tuple(out.shape)}")
    assert tuple(out.shape) == (2, 16, expected, expected)
conv = nn.Conv2d(3, 16, 3, padding=1)
conv_params = sum(t.numel() for t in conv.parameters())
dense_params = (3 * 32 * 32) * (16 * 32 * 32) + 16 * 32 * 32
print(f"conv: {conv_params} parameters; an equivalent dense layer: {dense_params:,}")
assert conv_params == 448

# %% [markdown]
# ## Pooling gives invariance to small shifts
#
# Shift a digit by one pixel: the raw feature map changes a lot, after 2×2 max pooling less,
# after global max pooling not at all (when the shift keeps the pattern inside the image).

# %%
Xd, yd = datasets.load_digits(images=True)
Xd = Xd / 16.0
edge = cr.tensor(Gx[None, None])
fmap = F.relu(F.conv2d(F.pad(Xd[:50], (2, 2, 2, 2)), edge))
shifted = F.relu(F.conv2d(F.pad(Xd[:50], (3, 1, 2, 2)), edge))    # one pixel to the right


def rel_change(a, b):
    return float(((a - b).norm() / a.norm()).item())


change = {"no pooling": rel_change(fmap, shifted),
          "2×2 max pool": rel_change(F.max_pool2d(fmap, 2), F.max_pool2d(shifted, 2)),
          "global max pool": rel_change(fmap.amax((2, 3)), shifted.amax((2, 3)))}
print({k: round(v, 3) for k, v in change.items()})
assert change["no pooling"] > change["2×2 max pool"] > change["global max pool"]
assert change["global max pool"] < 1e-6

# %% [markdown]
# ## A small CNN on the 8×8 digits
#
# Two convolution + pooling stages learn their own filters; `Trainer` runs the loop (a
# progress bar in Jupyter).

# %%
perm = np.random.default_rng(0).permutation(len(yd))
train_idx, test_idx = perm[:1200], perm[1200:]
cnn = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                    nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                    nn.Flatten(), nn.Linear(16 * 2 * 2, 10))
loader = DataLoader(TensorDataset(Xd[train_idx], yd[train_idx]), batch_size=32, shuffle=True)
trainer = Trainer(cnn, nn.CrossEntropyLoss(), optim.Adam(cnn.parameters(), lr=3e-3),
                  metrics=["accuracy"])
history = trainer.fit(loader, epochs=6)
cnn.eval()
with cr.no_grad():
    cnn_accuracy = float((cnn(Xd[test_idx]).argmax(1) == yd[test_idx]).float().mean())
print(f"CNN test accuracy: {cnn_accuracy:.3f}")
assert cnn_accuracy > 0.9
assert history["loss"][-1] < history["loss"][0]

kernels = cnn[0].weight.detach().numpy()[:, 0]
fig, axes = plt.subplots(1, 8, figsize=(12, 1.8))
for ax, k in zip(axes, kernels):
    ax.imshow(k, cmap="RdBu_r"), ax.set_xticks([]), ax.set_yticks([])
fig.suptitle("the first layer's learned 3×3 filters")
plt.show()
