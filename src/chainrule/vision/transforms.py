"""torchvision's transforms for what a course needs: ``torchvision.transforms`` → ``chainrule.vision.transforms``.

Every transform takes a chainrule tensor (C, H, W) or (..., H, W) and, like torchvision's, a PIL
image; where a dataset hands out NumPy arrays (no Pillow installed) the transforms take an
uint8 array (H, W) or (H, W, C) as well and give one back. ``ToTensor`` turns either into a
float32 tensor (C, H, W) in [0, 1].

Random transforms draw from chainrule's default generator exactly as torchvision draws from
torch's (``randint`` for crop offsets, ``rand(1) < p`` for flips, ``uniform_`` for angles), so
``cr.manual_seed(s)`` makes augmentation reproducible — and the offsets, flips and angles are
the ones torchvision picks after ``torch.manual_seed(s)``.

Example:
    >>> from chainrule.vision import transforms as T
    >>> train_tf = T.Compose([T.RandomCrop(32, padding=4), T.RandomHorizontalFlip(),
    ...                       T.ToTensor(), T.Normalize((0.49, 0.48, 0.45), (0.25, 0.24, 0.26))])

Differences from torchvision (deliberate): ``Resize`` on tensors and arrays is bilinear without
antialiasing (``F.interpolate(..., align_corners=False)``; torchvision ≥ 0.17 antialiases when
shrinking a tensor); geometric transforms on tensors do not record an autograd graph.
"""
from __future__ import annotations

import math
import numbers

import numpy as np

from ..creation import empty as _empty, rand as _rand, randint as _randint
from ..nn import functional as F
from ..tensor import Tensor

_UNSET = object()
_PILImage = _UNSET   # PIL.Image, imported on first use (import chainrule stays light)


def _pil():
    """PIL.Image, or None without Pillow (optional, as in torchvision)."""
    global _PILImage
    if _PILImage is _UNSET:
        try:
            from PIL import Image
        except ImportError:   # pragma: no cover - Pillow is optional
            Image = None
        _PILImage = Image
    return _PILImage

__all__ = ["Compose", "ToTensor", "ToPILImage", "Normalize", "Pad", "RandomCrop",
           "RandomHorizontalFlip", "RandomVerticalFlip", "RandomRotation", "Resize", "CenterCrop",
           "RandomResizedCrop", "Lambda"]


# ----------------------------------------------------------------------------- helpers
def _is_pil(img) -> bool:
    return _pil() is not None and isinstance(img, _pil().Image)


def _check_image(img, name):
    if isinstance(img, Tensor):
        if img.ndim < 2:
            raise ValueError(f"{name}: expected a tensor (..., H, W), got shape {tuple(img.shape)}")
        return "tensor"
    if _is_pil(img):
        return "pil"
    if isinstance(img, np.ndarray):
        if img.ndim not in (2, 3):
            raise ValueError(f"{name}: expected a NumPy image (H, W) or (H, W, C), got shape "
                             f"{img.shape}")
        return "numpy"
    raise TypeError(f"{name}: img should be a chainrule Tensor, a PIL Image or a NumPy array "
                    f"(H, W[, C]), got {type(img).__name__}")


def _size_hw(img, kind):
    """(H, W) of a tensor (..., H, W), a PIL image or an array (H, W[, C])."""
    if kind == "tensor":
        return int(img.shape[-2]), int(img.shape[-1])
    if kind == "pil":
        return img.size[1], img.size[0]
    return img.shape[0], img.shape[1]


def _pair(size, name, what="size"):
    if isinstance(size, numbers.Integral):
        return int(size), int(size)
    if isinstance(size, (tuple, list)) and len(size) == 1:
        return int(size[0]), int(size[0])
    if isinstance(size, (tuple, list)) and len(size) == 2:
        return int(size[0]), int(size[1])
    raise ValueError(f"{name}: {what} must be an int or a sequence (h, w), got {size!r}")


def _as_hwc(img, kind):
    """A NumPy array with the spatial axes first (H, W, ...) and a function that puts it back."""
    if kind == "tensor":
        arr = np.moveaxis(img.numpy(), (-2, -1), (0, 1))
        return arr, lambda a: Tensor._make(np.ascontiguousarray(np.moveaxis(a, (0, 1), (-2, -1))))
    if kind == "pil":
        return np.asarray(img), lambda a: _pil().fromarray(np.ascontiguousarray(a))
    return img, np.ascontiguousarray


def _crop(img, kind, top, left, height, width):
    if kind == "tensor":
        return img[..., top:top + height, left:left + width]
    if kind == "pil":
        return img.crop((left, top, left + width, top + height))
    return img[top:top + height, left:left + width]


def _pad(img, kind, pad, fill, padding_mode):
    """Pad (left, top, right, bottom) with ``fill`` or by 'edge', 'reflect', 'symmetric'."""
    left, top, right, bottom = pad
    arr, back = _as_hwc(img, kind)
    widths = [(top, bottom), (left, right)] + [(0, 0)] * (arr.ndim - 2)
    if padding_mode == "constant":
        if isinstance(fill, (tuple, list)):
            out = np.empty((arr.shape[0] + top + bottom, arr.shape[1] + left + right)
                           + arr.shape[2:], arr.dtype)
            out[...] = np.asarray(fill, dtype=arr.dtype)
            out[top:top + arr.shape[0], left:left + arr.shape[1]] = arr
            return back(out)
        return back(np.pad(arr, widths, mode="constant", constant_values=fill))
    return back(np.pad(arr, widths, mode=padding_mode))


def _padding_sides(padding):
    """torchvision's padding argument → (left, top, right, bottom): an int pads all sides, a
    pair is (left/right, top/bottom), four values are the sides themselves."""
    if isinstance(padding, numbers.Integral):
        return (int(padding),) * 4
    p = [int(v) for v in padding]
    return tuple(p * 4) if len(p) == 1 else (p[0], p[1], p[0], p[1]) if len(p) == 2 \
        else tuple(p)


def _hflip(img, kind):
    if kind == "tensor":
        return img.flip(-1)
    if kind == "pil":
        return img.transpose(_pil().FLIP_LEFT_RIGHT)
    return np.ascontiguousarray(img[:, ::-1])


def _vflip(img, kind):
    if kind == "tensor":
        return img.flip(-2)
    if kind == "pil":
        return img.transpose(_pil().FLIP_TOP_BOTTOM)
    return np.ascontiguousarray(img[::-1])



# --------------------------------------------------------------------------- transforms
class Compose:
    """Apply ``transforms`` one after another: ``Compose([t1, t2])(x) == t2(t1(x))``."""

    def __init__(self, transforms):
        self.transforms = list(transforms)

    def __call__(self, img):
        for t in self.transforms:
            img = t(img)
        return img

    def __repr__(self):
        body = "".join(f"\n    {t}" for t in self.transforms)
        return f"{type(self).__name__}({body}\n)"


class ToTensor:
    """PIL image or NumPy array (H, W) / (H, W, C) → float32 tensor (C, H, W).

    uint8 input (and PIL images of modes L, RGB, ...) is divided by 255, giving values in
    [0, 1]; other dtypes keep their values (as torchvision). Mode '1' (bits) becomes 0/1.
    """

    def __call__(self, pic):
        if _is_pil(pic):
            arr = np.asarray(pic)
            if pic.mode == "1":
                arr = arr.astype(np.uint8) * 255
        elif isinstance(pic, np.ndarray):
            arr = pic
        else:
            raise TypeError(f"ToTensor: pic should be a PIL Image or a NumPy array (H, W[, C]), "
                            f"got {type(pic).__name__}")
        if arr.ndim == 2:
            arr = arr[:, :, None]
        if arr.ndim != 3:
            raise ValueError(f"ToTensor: pic should be 2 or 3 dimensional, got {arr.ndim} "
                             "dimensions")
        chw = np.ascontiguousarray(arr.transpose(2, 0, 1))
        if chw.dtype == np.uint8:
            chw = chw.astype(np.float32) / np.float32(255.0)
        return Tensor._make(np.ascontiguousarray(chw))

    def __repr__(self):
        return "ToTensor()"


# torchvision's mode for an array (H, W) / (H, W, C) of a dtype when none is given; others
# (YCbCr, CMYK, ...) read the same bytes with another meaning
_NATURAL_MODES = {(1, np.uint8): "L", (1, np.int16): "I;16", (1, np.int32): "I",
                  (1, np.float32): "F", (2, np.uint8): "LA", (3, np.uint8): "RGB",
                  (4, np.uint8): "RGBA"}


def _to_pil_image(pic, mode=None):
    """torchvision's ``to_pil_image``: the checks, the float → uint8 scaling and the mode."""
    if isinstance(pic, Tensor):
        pic = pic.detach().numpy()
        if pic.ndim == 3:
            pic = pic.transpose(1, 2, 0)
    elif not isinstance(pic, np.ndarray):
        raise TypeError(f"ToPILImage: pic should be Tensor or ndarray. Got {type(pic)}.")
    if pic.ndim == 2:
        pic = pic[:, :, None]
    if pic.ndim != 3:
        raise ValueError(f"ToPILImage: pic should be 2/3 dimensional. Got {pic.ndim} dimensions.")
    if pic.shape[-1] > 4:
        raise ValueError(f"ToPILImage: pic should not have > 4 channels. Got {pic.shape[-1]} "
                         "channels.")
    npimg = pic
    if np.issubdtype(npimg.dtype, np.floating) and mode != "F":
        # x·255 truncated toward zero and wrapped modulo 256, as torch's and NumPy's casts do
        # on x86 (-0.5 → 0, -1.5 → 255, 256.7 → 0); through int64 so the wrap is defined
        npimg = (npimg * npimg.dtype.type(255)).astype(np.int64).astype(np.uint8)
    channels = npimg.shape[2]
    natural = _NATURAL_MODES.get((channels, npimg.dtype.type))
    if channels == 1:
        npimg = npimg[:, :, 0]
        if mode is not None and mode != natural:
            raise ValueError(f"ToPILImage: Incorrect mode ({mode}) supplied for input type "
                             f"{npimg.dtype}. Should be {natural}")
    else:
        permitted = {2: ["LA"], 3: ["RGB", "YCbCr", "HSV"], 4: ["RGBA", "CMYK", "RGBX"]}[channels]
        if mode is not None and mode not in permitted:
            raise ValueError(f"ToPILImage: Only modes {permitted} are supported for "
                             f"{channels}D inputs")
    mode = natural if mode is None else mode
    if mode is None:
        raise TypeError(f"ToPILImage: Input type {npimg.dtype} is not supported")
    Image = _pil()
    if Image is None:       # without Pillow: the array a PIL image of that mode would hold
        return npimg
    # the array's bytes read in ``mode`` (torchvision's ``fromarray(npimg, mode=mode)``, whose
    # mode argument Pillow deprecates)
    npimg = np.ascontiguousarray(npimg)
    return Image.frombytes(mode, (npimg.shape[1], npimg.shape[0]), npimg.tobytes())


class ToPILImage:
    """Tensor (C, H, W) / (H, W) or array (H, W, C) / (H, W) → PIL image (torchvision's).

    Float input becomes uint8(255·x) (unless ``mode='F'``); the mode follows the channels and
    dtype (1: 'L' for uint8, 'I;16' int16, 'I' int32, 'F' float32; 2: 'LA'; 3: 'RGB'; 4:
    'RGBA') or ``mode`` ('YCbCr'/'HSV' for 3 channels, 'CMYK'/'RGBX' for 4). Without Pillow
    the result is that image's uint8 array (H, W) or (H, W, C), which every transform here
    (ToTensor included) takes.
    """

    def __init__(self, mode=None):
        self.mode = mode

    def __call__(self, pic):
        return _to_pil_image(pic, self.mode)

    def __repr__(self):
        return f"{type(self).__name__}()" if self.mode is None else \
            f"{type(self).__name__}(mode={self.mode})"


class Normalize:
    """(x - mean[c]) / std[c] per channel of a float tensor (..., C, H, W).

    ``inplace=True`` overwrites the input tensor's values (it must not need grad). Raises
    ValueError for a std with a zero.
    """

    def __init__(self, mean, std, inplace: bool = False):
        self.mean, self.std, self.inplace = mean, std, inplace

    def __call__(self, tensor):
        if not isinstance(tensor, Tensor):
            raise TypeError(f"Normalize: input should be a chainrule Tensor, got "
                            f"{type(tensor).__name__}; put ToTensor() before it")
        if not tensor.is_floating_point():
            raise TypeError(f"Normalize: input tensor should be a float tensor, got "
                            f"{tensor.dtype}")
        if tensor.ndim < 3:
            raise ValueError(f"Normalize: expected a tensor image (..., C, H, W), got shape "
                             f"{tuple(tensor.shape)}")
        dt = tensor.numpy().dtype
        mean = np.asarray(self.mean, dtype=dt).reshape(-1, 1, 1)
        std = np.asarray(self.std, dtype=dt).reshape(-1, 1, 1)
        if (std == 0).any():
            raise ValueError(f"Normalize: std evaluated to zero after conversion to {dt}, "
                             "leading to division by zero")
        if self.inplace:
            arr = tensor.numpy()
            arr -= mean
            arr /= std
            return tensor
        return (tensor - Tensor._make(mean)) / Tensor._make(std)

    def __repr__(self):
        return f"{type(self).__name__}(mean={self.mean}, std={self.std})"


class Pad:
    """Pad every side of the image (torchvision's ``transforms.Pad``).

    ``padding``: an int (all sides), (left/right, top/bottom) or (left, top, right, bottom);
    ``fill`` a number or per-channel tuple for ``padding_mode='constant'``, else 'edge',
    'reflect' (the edge pixel not repeated) or 'symmetric' (repeated). CIFAR recipes write
    ``Pad(4)`` then ``RandomCrop(32)`` for what ``RandomCrop(32, padding=4)`` does in one.
    """

    def __init__(self, padding, fill=0, padding_mode: str = "constant"):
        if not isinstance(padding, (numbers.Integral, tuple, list)):
            raise TypeError("Got inappropriate padding arg")
        if not isinstance(fill, (numbers.Number, tuple, list)):
            raise TypeError("Got inappropriate fill arg")
        if padding_mode not in ("constant", "edge", "reflect", "symmetric"):
            raise ValueError("Padding mode should be either constant, edge, reflect or symmetric")
        if isinstance(padding, (tuple, list)) and len(padding) not in (1, 2, 4):
            raise ValueError(f"Padding must be an int or a 1, 2, or 4 element tuple, not a "
                             f"{len(padding)} element tuple")
        self.padding, self.fill, self.padding_mode = padding, fill, padding_mode

    def __call__(self, img):
        kind = _check_image(img, "Pad")
        return _pad(img, kind, _padding_sides(self.padding), self.fill, self.padding_mode)

    def __repr__(self):
        return (f"{type(self).__name__}(padding={self.padding}, fill={self.fill}, "
                f"padding_mode={self.padding_mode})")


class RandomCrop:
    """Crop a random (h, w) window, after optional padding.

    ``padding``: int (all sides), (lr, tb) or (left, top, right, bottom); ``pad_if_needed``
    pads an image smaller than ``size``; ``fill`` (number or per-channel tuple) for
    ``padding_mode='constant'``, else 'edge', 'reflect' or 'symmetric'. The offsets are
    ``randint(0, H - h + 1)`` then ``randint(0, W - w + 1)`` from the default generator.
    """

    def __init__(self, size, padding=None, pad_if_needed: bool = False, fill=0,
                 padding_mode: str = "constant"):
        self.size = _pair(size, "RandomCrop")
        if padding_mode not in ("constant", "edge", "reflect", "symmetric"):
            raise ValueError(f"RandomCrop: padding_mode should be 'constant', 'edge', 'reflect' "
                             f"or 'symmetric', got {padding_mode!r}")
        if padding is not None and not isinstance(padding, (numbers.Integral, tuple, list)):
            raise TypeError(f"RandomCrop: padding should be an int or a sequence, got "
                            f"{type(padding).__name__}")
        if isinstance(padding, (tuple, list)) and len(padding) not in (1, 2, 4):
            raise ValueError(f"RandomCrop: padding must be an int or a sequence of 1, 2 or 4 "
                             f"values, got {len(padding)}")
        self.padding, self.pad_if_needed = padding, pad_if_needed
        self.fill, self.padding_mode = fill, padding_mode

    _sides = staticmethod(_padding_sides)

    @staticmethod
    def get_params(img, output_size):
        """(top, left, h, w) of a random crop of ``output_size`` from ``img``."""
        kind = _check_image(img, "RandomCrop")
        H, W = _size_hw(img, kind)
        h, w = output_size
        if H < h or W < w:
            raise ValueError(f"RandomCrop: required crop size {(h, w)} is larger than the input "
                             f"image size {(H, W)}")
        if H == h and W == w:
            return 0, 0, h, w
        top = int(_randint(0, H - h + 1, size=(1,)).item())
        left = int(_randint(0, W - w + 1, size=(1,)).item())
        return top, left, h, w

    def __call__(self, img):
        kind = _check_image(img, "RandomCrop")
        if self.padding is not None:
            img = _pad(img, kind, self._sides(self.padding), self.fill, self.padding_mode)
        H, W = _size_hw(img, kind)
        h, w = self.size
        if self.pad_if_needed and (H < h or W < w):
            dw, dh = max(w - W, 0), max(h - H, 0)
            img = _pad(img, kind, (dw, dh, dw, dh), self.fill, self.padding_mode)
        top, left, h, w = self.get_params(img, self.size)
        return _crop(img, kind, top, left, h, w)

    def __repr__(self):
        return f"{type(self).__name__}(size={self.size}, padding={self.padding})"


class RandomHorizontalFlip:
    """Mirror left↔right with probability ``p`` (drawn as ``rand(1) < p``)."""

    def __init__(self, p: float = 0.5):
        self.p = p

    def __call__(self, img):
        kind = _check_image(img, type(self).__name__)
        if _rand(1).item() < self.p:
            return self._flip(img, kind)
        return img

    _flip = staticmethod(_hflip)

    def __repr__(self):
        return f"{type(self).__name__}(p={self.p})"


class RandomVerticalFlip(RandomHorizontalFlip):
    """Mirror top↕bottom with probability ``p``."""

    _flip = staticmethod(_vflip)


class CenterCrop:
    """Crop the central (h, w) window; an image smaller than that is zero-padded first.
    The top-left corner is ``round((H - h) / 2), round((W - w) / 2)`` as torchvision's."""

    def __init__(self, size):
        self.size = _pair(size, "CenterCrop")

    def __call__(self, img):
        kind = _check_image(img, "CenterCrop")
        H, W = _size_hw(img, kind)
        h, w = self.size
        if h > H or w > W:
            pad = ((w - W) // 2 if w > W else 0, (h - H) // 2 if h > H else 0,
                   (w - W + 1) // 2 if w > W else 0, (h - H + 1) // 2 if h > H else 0)
            img = _pad(img, kind, pad, 0, "constant")
            H, W = _size_hw(img, kind)
            if H == h and W == w:
                return img
        top, left = int(round((H - h) / 2.0)), int(round((W - w) / 2.0))
        return _crop(img, kind, top, left, h, w)

    def __repr__(self):
        return f"{type(self).__name__}(size={self.size})"


def _resized_size(H, W, size):
    if isinstance(size, numbers.Integral) or (isinstance(size, (tuple, list)) and len(size) == 1):
        s = int(size if isinstance(size, numbers.Integral) else size[0])
        if H <= W:
            return s, int(s * W / H)
        return int(s * H / W), s
    return int(size[0]), int(size[1])


class Resize:
    """Resize to ``size``: (h, w), or an int that the shorter side becomes (aspect kept).

    Tensors (..., H, W) and NumPy arrays go through ``nn.functional.interpolate`` with
    ``mode='bilinear', align_corners=False`` (or ``'nearest'``), without antialiasing; uint8
    input is rounded back to uint8. PIL images use PIL's own resize, as torchvision does.
    """

    def __init__(self, size, interpolation: str = "bilinear"):
        if not (isinstance(size, numbers.Integral)
                or (isinstance(size, (tuple, list)) and len(size) in (1, 2))):
            raise TypeError(f"Resize: size should be an int or a sequence of 1 or 2 ints, got "
                            f"{size!r}")
        interpolation = str(getattr(interpolation, "value", interpolation)).lower()
        if interpolation not in ("bilinear", "nearest"):
            raise ValueError(f"Resize: interpolation must be 'bilinear' or 'nearest', got "
                             f"{interpolation!r}")
        self.size, self.interpolation = size, interpolation

    def __call__(self, img):
        kind = _check_image(img, "Resize")
        H, W = _size_hw(img, kind)
        h, w = _resized_size(H, W, self.size)
        if kind == "pil":
            resample = _pil().BILINEAR if self.interpolation == "bilinear" else _pil().NEAREST
            return img.resize((w, h), resample)
        arr, back = _as_hwc(img, kind) if kind == "numpy" else (None, None)
        x = img if kind == "tensor" else Tensor._make(
            np.moveaxis(arr, (0, 1), (-2, -1)).astype(np.float32))
        dtype = x.numpy().dtype
        lead = tuple(x.shape[:-2])
        flat = x.reshape(1, -1, H, W)
        if not x.is_floating_point():
            flat = flat.float()
        kw = {"align_corners": False} if self.interpolation == "bilinear" else {}
        out = F.interpolate(flat, size=(h, w), mode=self.interpolation, **kw).reshape(*lead, h, w)
        if kind == "tensor":
            if dtype == np.uint8:
                return Tensor._make(np.clip(np.round(out.numpy()), 0, 255).astype(np.uint8))
            return out
        res = np.moveaxis(out.numpy(), (-2, -1), (0, 1))
        if arr.dtype == np.uint8:
            res = np.clip(np.round(res), 0, 255).astype(np.uint8)
        return back(res.astype(arr.dtype, copy=False))

    def __repr__(self):
        return f"{type(self).__name__}(size={self.size}, interpolation={self.interpolation})"


class RandomResizedCrop:
    """Crop a random window and resize it to ``size`` (torchvision's ``RandomResizedCrop``,
    the Inception-style augmentation).

    The window covers a fraction of the area drawn from ``scale`` and has an aspect ratio
    (w / h) drawn log-uniformly from ``ratio``; up to 10 draws, as torchvision's
    :meth:`get_params` (``empty(1).uniform_`` for area and log-ratio, ``randint`` for the
    corner, from the default generator: torch's picks after the same seed), else a central
    crop of the ratio nearest the image's. The crop is then resized as :class:`Resize` does
    (PIL images by PIL; tensors and arrays bilinearly without antialiasing).
    Shapes: an image (..., H, W) / PIL / (H, W[, C]) → the same kind of size ``size``.
    """

    def __init__(self, size, scale=(0.08, 1.0), ratio=(3.0 / 4.0, 4.0 / 3.0),
                 interpolation: str = "bilinear", antialias=True):
        self.size = _pair(size, "RandomResizedCrop")
        if not (isinstance(scale, (tuple, list)) and isinstance(ratio, (tuple, list))):
            raise TypeError("RandomResizedCrop: Scale and ratio should be sequences, got "
                            f"{scale!r} and {ratio!r}")
        if scale[0] > scale[1] or ratio[0] > ratio[1]:
            import warnings
            warnings.warn("Scale and ratio should be of kind (min, max)", stacklevel=2)
        self.scale, self.ratio, self.antialias = scale, ratio, antialias
        self._resize = Resize(self.size, interpolation)
        self.interpolation = self._resize.interpolation

    @staticmethod
    def get_params(img, scale, ratio):
        """(top, left, height, width) of a random window (see the class docstring)."""
        height, width = _size_hw(img, _check_image(img, "RandomResizedCrop"))
        area = height * width
        # torch takes the log in float32 and hands its values on as Python floats
        log_ratio = np.log(np.asarray(ratio, dtype=np.float32))
        for _ in range(10):
            target_area = area * _empty(1).uniform_(float(scale[0]), float(scale[1])).item()
            aspect = float(np.exp(np.float32(
                _empty(1).uniform_(float(log_ratio[0]), float(log_ratio[1])).item())))
            w = int(round(math.sqrt(target_area * aspect)))
            h = int(round(math.sqrt(target_area / aspect)))
            if 0 < w <= width and 0 < h <= height:
                i = int(_randint(0, height - h + 1, size=(1,)).item())
                j = int(_randint(0, width - w + 1, size=(1,)).item())
                return i, j, h, w
        in_ratio = float(width) / float(height)
        if in_ratio < min(ratio):
            w, h = width, int(round(width / min(ratio)))
        elif in_ratio > max(ratio):
            h, w = height, int(round(height * max(ratio)))
        else:
            w, h = width, height
        return (height - h) // 2, (width - w) // 2, h, w

    def __call__(self, img):
        kind = _check_image(img, "RandomResizedCrop")
        i, j, h, w = self.get_params(img, self.scale, self.ratio)
        return self._resize(_crop(img, kind, i, j, h, w))

    def __repr__(self):
        return (f"{type(self).__name__}(size={self.size}, scale={tuple(self.scale)}, "
                f"ratio={tuple(self.ratio)}, interpolation={self.interpolation})")


def _rotation(w, h, angle, expand, center):
    """PIL's rotation (torchvision's for PIL images) as an inverse map: ((a, b, c, d, e, f),
    (W', H')) such that the output point (u, v) shows the input point (a·u + b·v + c,
    d·u + e·v + f), in
    coordinates with the origin at the image's top-left corner and pixel centres at k + 0.5.
    The turn is ``angle`` degrees counter-clockwise about ``center`` (x, y) (default the image
    centre (w/2, h/2)); ``expand`` grows the output to hold the whole turned image."""
    cx, cy = (w / 2, h / 2) if center is None else (float(center[0]), float(center[1]))
    phi = -math.radians(angle)
    a, b = round(math.cos(phi), 15), round(math.sin(phi), 15)
    d, e = round(-math.sin(phi), 15), round(math.cos(phi), 15)
    c, f = a * -cx + b * -cy + cx, d * -cx + e * -cy + cy
    if expand:
        xs = [a * x + b * y + c for x, y in ((0, 0), (w, 0), (w, h), (0, h))]
        ys = [d * x + e * y + f for x, y in ((0, 0), (w, 0), (w, h), (0, h))]
        nw = math.ceil(max(xs)) - math.floor(min(xs))
        nh = math.ceil(max(ys)) - math.floor(min(ys))
        tx, ty = -(nw - w) / 2.0, -(nh - h) / 2.0
        c, f = a * tx + b * ty + c, d * tx + e * ty + f
        w, h = nw, nh
    return (a, b, c, d, e, f), (w, h)


def _nearest_sources(m, rows, cols):
    """For each output pixel (i, j) the input pixel (yi, xi) PIL's nearest-neighbour affine
    transform reads: the map m = (a, b, c, d, e, f) at the pixel centre, summed in 16.16 fixed
    point as PIL does (so that points on a pixel boundary round its way) and floored; in
    floating point where fixed point would overflow (coordinates beyond ±32768)."""
    a, b, c, d, e, f = m
    i, j = np.arange(rows)[:, None], np.arange(cols)[None, :]
    corners = [(0, 0), (cols, rows), (0, rows), (cols, 0)]
    if all(abs(x * a + y * b + c) < 32768 and abs(x * d + y * e + f) < 32768 for x, y in corners):
        fix = lambda v: math.floor(v * 65536.0 + 0.5)
        xx = fix(c + a * 0.5 + b * 0.5) + i * fix(b) + j * fix(a)
        yy = fix(f + d * 0.5 + e * 0.5) + i * fix(e) + j * fix(d)
        return yy >> 16, xx >> 16
    return (np.floor(d * (j + 0.5) + e * (i + 0.5) + f).astype(np.int64),
            np.floor(a * (j + 0.5) + b * (i + 0.5) + c).astype(np.int64))


def _rotate_array(arr, angle, interpolation, fill, expand=False, center=None):
    """Rotate an array (H, W, ...) by ``angle`` degrees counter-clockwise about ``center`` (x, y)
    (default the centre), keeping the size or, with ``expand``, growing it to fit (PIL's rule)."""
    H, W = arr.shape[:2]
    turns = angle % 360.0
    if center is None and (turns in (0.0, 180.0) or turns in (90.0, 270.0) and (expand or H == W)):
        # exact quarter turns about the centre: a transpose, as PIL (its formula would pad a
        # non-square image by a pixel)
        return np.rot90(arr, int(turns // 90), axes=(0, 1)).copy()
    (a, b, c, d, e, f), (Wo, Ho) = _rotation(W, H, angle, expand, center)
    work = arr.astype(np.float64)
    fillv = np.broadcast_to(np.asarray(fill, np.float64), arr.shape[2:]) if arr.ndim > 2 \
        else np.float64(fill if not isinstance(fill, (tuple, list)) else fill[0])
    if interpolation == "nearest":
        yi, xi = _nearest_sources((a, b, c, d, e, f), Ho, Wo)
        inside = (xi >= 0) & (xi < W) & (yi >= 0) & (yi < H)
        out = work[np.clip(yi, 0, H - 1), np.clip(xi, 0, W - 1)]
        out[~inside] = fillv
    else:
        v, u = np.meshgrid(np.arange(Ho) + 0.5, np.arange(Wo) + 0.5, indexing="ij")
        # the input point each output pixel centre shows, in index coordinates (centres at k)
        xs = a * u + b * v + c - 0.5
        ys = d * u + e * v + f - 0.5
        x0, y0 = np.floor(xs).astype(np.int64), np.floor(ys).astype(np.int64)
        fx, fy = xs - x0, ys - y0
        out = np.zeros((Ho, Wo) + arr.shape[2:])
        for dy, wy in ((0, 1 - fy), (1, fy)):
            for dx, wx in ((0, 1 - fx), (1, fx)):
                yy, xx = y0 + dy, x0 + dx
                ok = (xx >= 0) & (xx < W) & (yy >= 0) & (yy < H)
                val = work[np.clip(yy, 0, H - 1), np.clip(xx, 0, W - 1)]
                val[~ok] = fillv
                wgt = wy * wx
                out += val * wgt.reshape(wgt.shape + (1,) * (arr.ndim - 2))
    if arr.dtype == np.uint8:
        return np.clip(np.round(out), 0, 255).astype(np.uint8)
    return out.astype(arr.dtype)


class RandomRotation:
    """Rotate by an angle drawn uniformly from ``degrees`` (a number d means (-d, d)),
    counter-clockwise, about ``center`` (x, y), origin at the top-left corner (default the
    image centre), keeping the size or, with ``expand``, growing the image to hold all of it
    (PIL's rule, as torchvision); uncovered pixels get ``fill``.

    ``interpolation`` 'nearest' (default, as torchvision) or 'bilinear'. Tensors and arrays are
    resampled here by inverse mapping (the output pixel at offset (x, y) from the centre shows
    the input at that offset rotated back); PIL images use PIL's ``rotate``, as torchvision.
    The angle is ``empty(1).uniform_(lo, hi)`` from the default generator.
    """

    def __init__(self, degrees, interpolation: str = "nearest", expand: bool = False,
                 center=None, fill=0):
        if isinstance(degrees, numbers.Number):
            if degrees < 0:
                raise ValueError(f"RandomRotation: if degrees is a single number it must be "
                                 f"positive, got {degrees}")
            degrees = (-float(degrees), float(degrees))
        elif not (isinstance(degrees, (tuple, list)) and len(degrees) == 2):
            raise ValueError(f"RandomRotation: degrees should be a number or a sequence of 2 "
                             f"numbers, got {degrees!r}")
        interpolation = str(getattr(interpolation, "value", interpolation)).lower()
        if interpolation not in ("nearest", "bilinear"):
            raise ValueError(f"RandomRotation: interpolation must be 'nearest' or 'bilinear', "
                             f"got {interpolation!r}")
        if center is not None:
            if not isinstance(center, (tuple, list)):
                raise TypeError("RandomRotation: center should be a sequence of length 2.")
            if len(center) != 2:
                raise ValueError("RandomRotation: center should be a sequence of length 2.")
        self.degrees = [float(degrees[0]), float(degrees[1])]
        self.interpolation, self.expand, self.center, self.fill = interpolation, expand, center, fill

    @staticmethod
    def get_params(degrees):
        return float(_empty(1).uniform_(float(degrees[0]), float(degrees[1])).item())

    def __call__(self, img):
        kind = _check_image(img, "RandomRotation")
        angle = self.get_params(self.degrees)
        if kind == "pil":
            resample = _pil().BILINEAR if self.interpolation == "bilinear" else _pil().NEAREST
            fill = self.fill
            if isinstance(fill, (tuple, list)):
                fill = tuple(int(v) for v in fill)
            return img.rotate(angle, resample=resample, expand=self.expand,
                              center=None if self.center is None else tuple(self.center),
                              fillcolor=fill)
        arr, back = _as_hwc(img, kind)
        return back(_rotate_array(arr, angle, self.interpolation, self.fill, self.expand,
                                  self.center))

    def __repr__(self):
        center = "" if self.center is None else f", center={self.center}"
        return (f"{type(self).__name__}(degrees={self.degrees}, interpolation="
                f"{self.interpolation}, expand={self.expand}{center}, fill={self.fill})")


class Lambda:
    """Wrap a function as a transform: ``Lambda(lambda x: x * 2)``."""

    def __init__(self, lambd):
        if not callable(lambd):
            raise TypeError(f"Lambda: argument should be callable, got {type(lambd).__name__}")
        self.lambd = lambd

    def __call__(self, img):
        return self.lambd(img)

    def __repr__(self):
        return f"{type(self).__name__}()"
