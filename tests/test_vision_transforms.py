"""chainrule.vision.transforms and chainrule.vision.datasets, torchvision's interface.

Oracles: torch arithmetic (ToTensor, Normalize), torch.nn.functional.interpolate (Resize),
hand-computed windows, flips and rotations, torch's random streams (the crop offsets torchvision
would draw). Data files are written here into tmp_path; nothing touches the network."""
import os
import pickle

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule.vision import datasets as vds
from chainrule.vision import transforms as T

try:
    from PIL import Image
except ImportError:                               # pragma: no cover
    Image = None
needs_pil = pytest.mark.skipif(Image is None, reason="Pillow not installed")


def hwc(seed=0, shape=(32, 32, 3)):
    return np.random.default_rng(seed).integers(0, 256, shape).astype(np.uint8)


# ------------------------------------------------------------------- ToTensor / Normalize
def test_to_tensor_matches_torch_arithmetic():
    a = hwc(1, (5, 7, 3))
    x = T.ToTensor()(a)
    expected = torch.from_numpy(a).permute(2, 0, 1).float().div(255)
    assert isinstance(x, cr.Tensor) and x.dtype == cr.float32 and tuple(x.shape) == (3, 5, 7)
    np.testing.assert_array_equal(x.numpy(), expected.numpy())
    g = T.ToTensor()(a[:, :, 0])                                   # (H, W) → (1, H, W)
    assert tuple(g.shape) == (1, 5, 7)
    f = T.ToTensor()(np.ones((2, 3, 1), np.float32) * 7)          # non-uint8 keeps its values
    assert f.numpy().max() == 7
    with pytest.raises(TypeError, match="ToTensor: pic should be a PIL Image or a NumPy array"):
        T.ToTensor()([1, 2])


@needs_pil
def test_to_tensor_pil():
    a = hwc(2, (4, 6, 3))
    np.testing.assert_array_equal(T.ToTensor()(Image.fromarray(a)).numpy(),
                                  T.ToTensor()(a).numpy())
    assert tuple(T.ToTensor()(Image.fromarray(a[:, :, 0])).shape) == (1, 4, 6)


def test_normalize_matches_torch():
    a = np.random.default_rng(3).random((2, 3, 4, 5)).astype(np.float32)
    mean, std = (0.4914, 0.4822, 0.4465), (0.247, 0.243, 0.261)
    out = T.Normalize(mean, std)(cr.tensor(a))
    ref = (torch.from_numpy(a) - torch.tensor(mean).view(3, 1, 1)) / torch.tensor(std).view(3, 1, 1)
    np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-6, atol=1e-7)
    x = cr.tensor(a[0])
    same = T.Normalize(mean, std, inplace=True)(x)
    assert same is x
    np.testing.assert_allclose(x.numpy(), ref[0].numpy(), rtol=1e-6, atol=1e-7)
    with pytest.raises(ValueError, match="std evaluated to zero"):
        T.Normalize((0.5,), (0.0,))(cr.rand(1, 2, 2))
    with pytest.raises(TypeError, match="float tensor"):
        T.Normalize((0.5,), (1.0,))(cr.zeros(1, 2, 2, dtype=cr.int64))
    with pytest.raises(TypeError, match="put ToTensor"):
        T.Normalize((0.5,), (1.0,))(hwc())


def test_compose_repr_and_lambda():
    tf = T.Compose([T.ToTensor(), T.Normalize(mean=(0.5,), std=(0.25,)), T.Lambda(lambda t: t * 2)])
    assert repr(tf) == ("Compose(\n    ToTensor()\n    Normalize(mean=(0.5,), std=(0.25,))\n"
                        "    Lambda()\n)")
    a = hwc(4, (3, 3, 1))
    np.testing.assert_allclose(tf(a).numpy(), ((a.transpose(2, 0, 1) / 255 - 0.5) / 0.25) * 2,
                               rtol=1e-5, atol=1e-6)
    assert repr(T.RandomCrop(32, padding=4)) == "RandomCrop(size=(32, 32), padding=4)"
    assert repr(T.RandomHorizontalFlip()) == "RandomHorizontalFlip(p=0.5)"
    assert repr(T.CenterCrop(8)) == "CenterCrop(size=(8, 8))"
    with pytest.raises(TypeError, match="Lambda: argument should be callable"):
        T.Lambda(3)


# --------------------------------------------------------------------------- RandomCrop
def test_random_crop_padding_is_a_window_of_the_padded_image():
    cr.manual_seed(0)
    x = cr.rand(3, 32, 32)
    padded = np.pad(x.numpy(), ((0, 0), (4, 4), (4, 4)))
    seen = set()
    for _ in range(20):
        out = T.RandomCrop(32, padding=4)(x)
        assert tuple(out.shape) == (3, 32, 32)
        hits = [(i, j) for i in range(9) for j in range(9)
                if np.array_equal(out.numpy(), padded[:, i:i + 32, j:j + 32])]
        assert hits, "the crop is no window of the zero-padded image"
        seen.add(hits[0])
    assert len(seen) > 5                                            # the offsets do vary


def test_random_crop_draws_torchvisions_offsets():
    """torchvision draws top = randint(0, H-h+1), then left; chainrule's stream is torch's."""
    x = cr.arange(100.).reshape(1, 10, 10)
    cr.manual_seed(7)
    torch.manual_seed(7)
    for _ in range(5):
        out = T.RandomCrop(4)(x)
        top = torch.randint(0, 7, size=(1,)).item()
        left = torch.randint(0, 7, size=(1,)).item()
        np.testing.assert_array_equal(out.numpy(), x.numpy()[:, top:top + 4, left:left + 4])


def test_random_crop_numpy_pil_fill_modes_and_errors():
    a = hwc(5, (6, 6, 3))
    cr.manual_seed(1)
    out = T.RandomCrop(6, padding=2, fill=(1, 2, 3))(a)
    assert out.shape == (6, 6, 3) and out.dtype == np.uint8
    padded = np.pad(a, ((2, 2), (2, 2), (0, 0)), mode="reflect")
    cr.manual_seed(1)
    r = T.RandomCrop(6, padding=2, padding_mode="reflect")(a)
    assert any(np.array_equal(r, padded[i:i + 6, j:j + 6]) for i in range(5) for j in range(5))
    small = T.RandomCrop(8, pad_if_needed=True)(a)
    assert small.shape == (8, 8, 3)
    if Image is not None:
        cr.manual_seed(3)
        p = T.RandomCrop(4)(Image.fromarray(a))
        cr.manual_seed(3)
        np.testing.assert_array_equal(np.asarray(p), T.RandomCrop(4)(a))
    with pytest.raises(ValueError, match=r"required crop size \(8, 8\) is larger than the input "
                                         r"image size \(6, 6\)"):
        T.RandomCrop(8)(a)
    with pytest.raises(ValueError, match="padding_mode should be"):
        T.RandomCrop(4, padding_mode="wrap")
    with pytest.raises(TypeError, match="img should be a chainrule Tensor, a PIL Image or a NumPy"):
        T.RandomCrop(4)("image.png")


# ------------------------------------------------------------------------------------ Pad
@pytest.mark.parametrize("padding", [4, (1, 2), (1, 2, 3, 0), [2]])
@pytest.mark.parametrize("mode,torch_mode", [("constant", "constant"), ("edge", "replicate"),
                                             ("reflect", "reflect")])
def test_pad_matches_torch_pad(padding, mode, torch_mode):
    """torchvision pads a tensor with torch's F.pad (edge = replicate); the CIFAR recipe
    ``Compose([Pad(4), RandomHorizontalFlip(), RandomCrop(32)])`` (yunjey's ResNet tutorial)
    failed at ``transforms.Pad``."""
    a = np.random.default_rng(4).random((3, 6, 7)).astype(np.float32)
    p = [padding] * 4 if isinstance(padding, int) else list(padding) * (4 // len(padding))
    left, top, right, bottom = p if len(p) == 4 else (p[0], p[1], p[0], p[1])
    ref = torch.nn.functional.pad(torch.from_numpy(a)[None], (left, right, top, bottom),
                                  mode=torch_mode)[0]
    out = T.Pad(padding, padding_mode=mode)(cr.tensor(a))
    np.testing.assert_array_equal(out.numpy(), ref.numpy())
    u8 = (a.transpose(1, 2, 0) * 255).astype(np.uint8)             # HWC array: the same pixels
    ref8 = torch.nn.functional.pad(torch.from_numpy(u8).permute(2, 0, 1)[None].float(),
                                   (left, right, top, bottom), mode=torch_mode)[0]
    arr = T.Pad(padding, padding_mode=mode)(u8)
    assert arr.dtype == np.uint8
    np.testing.assert_array_equal(arr.transpose(2, 0, 1), ref8.numpy().astype(np.uint8))
    if Image is not None:
        np.testing.assert_array_equal(
            np.asarray(T.Pad(padding, padding_mode=mode)(Image.fromarray(u8))), arr)


def test_pad_fill_symmetric_repr_and_errors():
    a = hwc(6, (3, 4, 3))
    out = T.Pad(1, fill=(1, 2, 3))(a)
    assert out.shape == (5, 6, 3)
    np.testing.assert_array_equal(out[0, 0], [1, 2, 3])
    np.testing.assert_array_equal(out[1:-1, 1:-1], a)
    np.testing.assert_array_equal(T.Pad(2, padding_mode="symmetric")(a),
                                  np.pad(a, ((2, 2), (2, 2), (0, 0)), mode="symmetric"))
    assert repr(T.Pad(4)) == "Pad(padding=4, fill=0, padding_mode=constant)"
    with pytest.raises(TypeError, match="Got inappropriate padding arg"):
        T.Pad("4")
    with pytest.raises(ValueError, match="Padding must be an int or a 1, 2, or 4 element tuple, "
                                         "not a 3 element tuple"):
        T.Pad((1, 2, 3))
    with pytest.raises(ValueError, match="Padding mode should be either constant, edge, reflect "
                                         "or symmetric"):
        T.Pad(1, padding_mode="wrap")


def test_pad_then_random_crop_draws_like_torchvision():
    """Pad(4) then RandomCrop(32) is RandomCrop(32, padding=4): same offsets, same pixels."""
    x = cr.rand(3, 32, 32)
    cr.manual_seed(5)
    two = T.Compose([T.Pad(4), T.RandomCrop(32)])(x)
    cr.manual_seed(5)
    one = T.RandomCrop(32, padding=4)(x)
    np.testing.assert_array_equal(two.numpy(), one.numpy())


# ---------------------------------------------------------------------------------- flips
def test_flips():
    x = cr.arange(24.).reshape(2, 3, 4)
    np.testing.assert_array_equal(T.RandomHorizontalFlip(p=1.0)(x).numpy(), x.numpy()[:, :, ::-1])
    np.testing.assert_array_equal(T.RandomHorizontalFlip(p=0.0)(x).numpy(), x.numpy())
    np.testing.assert_array_equal(T.RandomVerticalFlip(p=1.0)(x).numpy(), x.numpy()[:, ::-1])
    a = hwc(6, (3, 4, 3))
    np.testing.assert_array_equal(T.RandomHorizontalFlip(1.0)(a), a[:, ::-1])
    if Image is not None:
        np.testing.assert_array_equal(np.asarray(T.RandomHorizontalFlip(1.0)(Image.fromarray(a))),
                                      a[:, ::-1])
    # flips when rand(1) < p, as torchvision: same decisions as torch's stream
    cr.manual_seed(11)
    torch.manual_seed(11)
    for _ in range(10):
        flipped = not np.array_equal(T.RandomHorizontalFlip()(x).numpy(), x.numpy())
        assert flipped == bool(torch.rand(1) < 0.5)


# ------------------------------------------------------------------ Resize / CenterCrop
@pytest.mark.parametrize("size, out", [((20, 12), (20, 12)), (8, (8, 12)), (48, (48, 72))])
def test_resize_matches_torch_interpolate(size, out):
    a = np.random.default_rng(8).random((3, 16, 24)).astype(np.float32)
    got = T.Resize(size)(cr.tensor(a))
    ref = torch.nn.functional.interpolate(torch.from_numpy(a)[None], size=out, mode="bilinear",
                                          align_corners=False)[0]
    assert tuple(got.shape) == (3, *out)
    np.testing.assert_allclose(got.numpy(), ref.numpy(), rtol=1e-5, atol=1e-6)


def test_resize_uint8_numpy_and_pil():
    a = hwc(9, (16, 16, 3))
    r = T.Resize(8)(a)
    ref = torch.nn.functional.interpolate(torch.from_numpy(a).permute(2, 0, 1)[None].float(),
                                          size=(8, 8), mode="bilinear", align_corners=False)[0]
    assert r.dtype == np.uint8 and r.shape == (8, 8, 3)
    np.testing.assert_array_equal(r, ref.round().clamp(0, 255).byte().permute(1, 2, 0).numpy())
    if Image is not None:
        assert T.Resize((10, 6))(Image.fromarray(a)).size == (6, 10)      # PIL: (w, h)
    with pytest.raises(ValueError, match="interpolation must be 'bilinear' or 'nearest'"):
        T.Resize(4, interpolation="bicubic")


def test_center_crop():
    x = cr.arange(64.).reshape(1, 8, 8)
    np.testing.assert_array_equal(T.CenterCrop(4)(x).numpy(), x.numpy()[:, 2:6, 2:6])
    np.testing.assert_array_equal(T.CenterCrop((3, 5))(x).numpy(), x.numpy()[:, 2:5, 2:7])
    big = T.CenterCrop(10)(x)                                       # zero-padded, as torchvision
    assert tuple(big.shape) == (1, 10, 10) and big.numpy()[0, 0].sum() == 0
    np.testing.assert_array_equal(big.numpy()[:, 1:9, 1:9], x.numpy())
    a = hwc(10, (8, 8, 3))
    np.testing.assert_array_equal(T.CenterCrop(4)(a), a[2:6, 2:6])
    if Image is not None:
        np.testing.assert_array_equal(np.asarray(T.CenterCrop(4)(Image.fromarray(a))), a[2:6, 2:6])


# ------------------------------------------------------------------------- RandomRotation
def test_random_rotation():
    x = cr.arange(25.).reshape(1, 5, 5)
    quarter = T.RandomRotation((90, 90))(x)                          # counter-clockwise
    np.testing.assert_array_equal(quarter.numpy(), np.rot90(x.numpy(), 1, axes=(1, 2)))
    bil = T.RandomRotation((90, 90), interpolation="bilinear")(x)
    np.testing.assert_allclose(bil.numpy(), np.rot90(x.numpy(), 1, axes=(1, 2)), atol=1e-4)
    same = T.RandomRotation((0, 0), interpolation="bilinear")(x)
    np.testing.assert_allclose(same.numpy(), x.numpy(), atol=1e-6)
    corners = T.RandomRotation((45, 45), fill=-1)(x).numpy()         # uncovered corners get fill
    assert corners[0, 0, 0] == -1 and corners[0, 2, 2] == 12
    cr.manual_seed(5)
    torch.manual_seed(5)
    assert T.RandomRotation.get_params([-30, 30]) == torch.empty(1).uniform_(-30, 30).item()
    a = hwc(12, (6, 6, 3))
    np.testing.assert_array_equal(T.RandomRotation((90, 90))(a), np.rot90(a, 1, axes=(0, 1)))
    if Image is not None:                      # the same pixels as PIL's rotate (torchvision's path)
        g = hwc(13, (9, 9))
        for angle in (30.0, -17.0):
            pil = np.asarray(Image.fromarray(g).rotate(angle, resample=Image.NEAREST))
            np.testing.assert_array_equal(T.RandomRotation((angle, angle))(g), pil)
            pil_bil = np.asarray(Image.fromarray(g).rotate(angle, resample=Image.BILINEAR))
            mine = T.RandomRotation((angle, angle), interpolation="bilinear")(g)
            assert np.abs(mine.astype(int) - pil_bil)[2:-2, 2:-2].max() <= 1
    with pytest.raises(ValueError, match="must be positive"):
        T.RandomRotation(-3)
    with pytest.raises(ValueError, match="center should be a sequence of length 2"):
        T.RandomRotation(3, center=(1, 2, 3))
    with pytest.raises(TypeError, match="center should be a sequence"):
        T.RandomRotation(3, center=4)


@pytest.mark.skipif(Image is None, reason="PIL is the oracle for the rotated pixels")
@pytest.mark.parametrize("expand,center", [(True, None), (False, (4, 3)), (True, (1.5, 3.0))],
                         ids=["expand", "center", "expand-center"])
def test_random_rotation_expand_and_center_match_pil(expand, center):
    """expand grows the image to hold the whole turn; center moves the pivot (x, y) from the
    top-left corner: the same pixels and size as PIL's rotate (torchvision's path)."""
    g = hwc(14, (9, 12))
    for angle in (30.0, -17.0, 90.0, 135.0):
        pil = Image.fromarray(g).rotate(angle, resample=Image.NEAREST, expand=expand,
                                        center=center, fillcolor=7)
        mine = T.RandomRotation((angle, angle), expand=expand, center=center, fill=7)(g)
        np.testing.assert_array_equal(mine, np.asarray(pil))
        assert T.RandomRotation((angle, angle), expand=expand, center=center)(
            Image.fromarray(g)).size == pil.size
        bil = np.asarray(Image.fromarray(g).rotate(angle, resample=Image.BILINEAR, expand=expand,
                                                   center=center))
        mine = T.RandomRotation((angle, angle), "bilinear", expand=expand, center=center)(g)
        assert mine.shape == bil.shape
        # a pixel away from the turned image's edge (PIL clamps the taps there, chainrule
        # blends them with the fill): white in a turned white image, and so are its neighbours
        white = np.pad(np.asarray(Image.fromarray(np.full_like(g, 255)).rotate(
            angle, resample=Image.BILINEAR, expand=expand, center=center)) == 255, 1)
        inside = white[1:-1, 1:-1] & white[:-2, 1:-1] & white[2:, 1:-1] & white[1:-1, :-2] \
            & white[1:-1, 2:]
        assert inside.sum() >= 10
        assert np.abs(mine.astype(int) - bil)[inside].max() <= 1
    x = cr.tensor(g[None].astype(np.float32))                  # tensors (C, H, W) alike
    out = T.RandomRotation((30, 30), expand=expand, center=center)(x)
    assert tuple(out.shape[1:]) == np.asarray(Image.fromarray(g).rotate(
        30, expand=expand, center=center)).shape
    assert "expand=" in repr(T.RandomRotation(3, expand=expand, center=center))


def test_augmentation_reproducible_under_manual_seed():
    tf = T.Compose([T.RandomCrop(32, padding=4), T.RandomHorizontalFlip(), T.RandomRotation(15),
                    T.ToTensor(), T.Normalize((0.5, 0.5, 0.5), (0.25, 0.25, 0.25))])
    imgs = [hwc(s) for s in range(6)]
    cr.manual_seed(123)
    first = [tf(a).numpy() for a in imgs]
    cr.manual_seed(123)
    second = [tf(a).numpy() for a in imgs]
    cr.manual_seed(124)
    third = [tf(a).numpy() for a in imgs]
    for p, q in zip(first, second):
        np.testing.assert_array_equal(p, q)
    assert any(not np.array_equal(p, q) for p, q in zip(first, third))


# ------------------------------------------------------------------------------- datasets
def write_cifar(root, n_per_batch=(4, 4, 4, 4, 4), n_test=3, seed=0):
    r = np.random.default_rng(seed)
    folder = os.path.join(root, "cifar-10-batches-py")
    os.makedirs(folder, exist_ok=True)
    names = [f"data_batch_{i + 1}" for i in range(5)] + ["test_batch"]
    out = {}
    for name, n in zip(names, list(n_per_batch) + [n_test]):
        batch = {b"data": r.integers(0, 256, (n, 3072)).astype(np.uint8),
                 b"labels": r.integers(0, 10, n).tolist()}
        out[name] = batch
        with open(os.path.join(folder, name), "wb") as f:
            pickle.dump(batch, f, protocol=4)
    return out


def write_mnist(root, n=5, seed=0, prefix="train"):
    r = np.random.default_rng(seed)
    images, labels = r.integers(0, 256, (n, 28, 28)).astype(np.uint8), r.integers(0, 10, n)
    for kind, arr in (("images-idx3-ubyte", images), ("labels-idx1-ubyte", labels)):
        header = bytes([0, 0, 8, arr.ndim]) + b"".join(int(s).to_bytes(4, "big") for s in arr.shape)
        with open(os.path.join(root, f"{prefix}-{kind}"), "wb") as f:
            f.write(header + arr.astype(np.uint8).tobytes())
    return images, labels


def test_cifar10_dataset(tmp_path, monkeypatch):
    batches = write_cifar(str(tmp_path))
    ds = vds.CIFAR10(tmp_path, train=True)
    assert len(ds) == 20 and ds.data.shape == (20, 32, 32, 3) and ds.data.dtype == np.uint8
    assert ds.targets == sum((batches[f"data_batch_{i}"][b"labels"] for i in range(1, 6)), [])
    assert ds.classes[0] == "airplane" and len(ds.classes) == 10
    image, target = ds[5]                                           # 2nd image of data_batch_2
    expected = batches["data_batch_2"][b"data"][1].reshape(3, 32, 32).transpose(1, 2, 0)
    if Image is not None:
        assert isinstance(image, Image.Image) and image.mode == "RGB" and image.size == (32, 32)
    np.testing.assert_array_equal(np.asarray(image), expected)
    assert isinstance(target, int) and target == batches["data_batch_2"][b"labels"][1]
    tf = vds.CIFAR10(str(tmp_path), train=False, transform=T.ToTensor(), target_transform=str)
    x, y = tf[0]
    assert len(tf) == 3 and tuple(x.shape) == (3, 32, 32) and x.dtype == cr.float32
    np.testing.assert_allclose(x.numpy(), batches["test_batch"][b"data"][0].reshape(3, 32, 32) / 255,
                               rtol=1e-6)
    assert y == str(batches["test_batch"][b"labels"][0])
    monkeypatch.setattr(vds, "_PIL", None)                          # without Pillow: arrays
    arr, _ = ds[5]
    assert isinstance(arr, np.ndarray) and arr.dtype == np.uint8
    np.testing.assert_array_equal(arr, expected)
    with pytest.raises(RuntimeError, match="not found"):
        vds.CIFAR10(tmp_path / "nowhere")


@pytest.mark.parametrize("cls", [vds.MNIST, vds.FashionMNIST])
def test_mnist_dataset(tmp_path, monkeypatch, cls):
    images, labels = write_mnist(str(tmp_path))
    ds = cls(tmp_path, transform=None)
    assert len(ds) == 5 and isinstance(ds.data, cr.Tensor) and ds.data.dtype == cr.uint8
    assert tuple(ds.data.shape) == (5, 28, 28) and ds.targets.dtype == cr.int64
    assert ds.targets.tolist() == labels.tolist()
    assert len(ds.classes) == 10 and (ds.classes[0] == "0 - zero") == (cls is vds.MNIST)
    image, target = ds[3]
    if Image is not None:
        assert isinstance(image, Image.Image) and image.mode == "L" and image.size == (28, 28)
    np.testing.assert_array_equal(np.asarray(image), images[3])
    assert target == labels[3] and isinstance(target, int)
    tf = cls(tmp_path, transform=T.Compose([T.ToTensor(), T.Normalize((0.1307,), (0.3081,))]),
             target_transform=lambda t: t + 10)
    x, y = tf[3]
    assert tuple(x.shape) == (1, 28, 28) and y == labels[3] + 10
    np.testing.assert_allclose(x.numpy()[0], (images[3] / 255 - 0.1307) / 0.3081, rtol=1e-5,
                               atol=1e-5)
    X, Y = ds.tensors()
    assert tuple(X.shape) == (5, 1, 28, 28) and Y.tolist() == labels.tolist()
    monkeypatch.setattr(vds, "_PIL", None)
    arr, _ = ds[3]
    assert isinstance(arr, np.ndarray) and arr.shape == (28, 28)


# --------------------------------------------------- resnet20 with augmentation, end to end
def train_steps(root, seed, steps=3):
    cr.manual_seed(seed)
    tf = T.Compose([T.RandomCrop(32, padding=4), T.RandomHorizontalFlip(), T.ToTensor(),
                    T.Normalize((0.4914, 0.4822, 0.4465), (0.247, 0.243, 0.261))])
    ds = vds.CIFAR10(root, train=True, transform=tf)
    loader = cr.utils.data.DataLoader(ds, batch_size=8, shuffle=True)
    model = cr.models.resnet20()
    opt = cr.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    losses = []
    for step, (x, y) in enumerate(loader):
        if step == steps:
            break
        assert tuple(x.shape) == (8, 3, 32, 32) and x.dtype == cr.float32
        loss = cr.nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


def test_resnet20_trains_on_augmented_cifar(tmp_path):
    write_cifar(str(tmp_path), n_per_batch=(5, 5, 5, 5, 4))      # 24 images: 3 full batches
    first = train_steps(tmp_path, seed=0)
    assert len(first) == 3
    assert all(np.isfinite(first))
    assert train_steps(tmp_path, seed=0) == first                    # same seed, same losses
