"""torchvision's image utilities: ``torchvision.utils`` → ``chainrule.vision.utils``.

:func:`make_grid` tiles a batch of images into one image; :func:`save_image` writes that grid
as a PNG. The PNG encoder is the standard library's (zlib + struct), so saving needs no Pillow;
other formats (JPEG, ...) go through Pillow when it is importable, as torchvision's do.
Files are written atomically (:func:`chainrule._io.atomic_open`).
"""
from __future__ import annotations

import math
import os
import struct
import zlib

import numpy as np

from .._io import atomic_open
from ..tensor import Tensor

__all__ = ["make_grid", "save_image"]


def _check_input(tensor, name):
    if isinstance(tensor, Tensor):
        return tensor.detach().numpy()
    if isinstance(tensor, list):
        for t in tensor:
            if not isinstance(t, Tensor):
                raise TypeError(f"{name}: tensor or list of tensors expected, got a list "
                                f"containing {type(t)}")
        if not tensor:
            raise ValueError(f"{name}: expected a non-empty list of tensors")
        shapes = {tuple(t.shape) for t in tensor}
        if len(shapes) != 1:
            raise ValueError(f"{name}: the images of a list must have one shape, got "
                             f"{sorted(shapes)}")
        return np.stack([t.detach().numpy() for t in tensor])
    raise TypeError(f"{name}: tensor or list of tensors expected, got {type(tensor)}")


def _normalize(img, low, high):
    """In place: clamp to [low, high], then (img - low) / max(high - low, 1e-5), in img's dtype
    (torchvision's ``norm_ip``)."""
    dt = img.dtype.type
    np.clip(img, dt(low), dt(high), out=img)
    img -= dt(low)
    img /= dt(max(high - low, 1e-5))


def _grid(arr, nrow, padding, normalize, value_range, scale_each, pad_value, name):
    if arr.ndim == 2:                       # one image (H, W)
        arr = arr[None]
    if arr.ndim == 3:                       # one image (C, H, W)
        if arr.shape[0] == 1:
            arr = np.concatenate((arr, arr, arr), 0)
        arr = arr[None]
    if arr.ndim != 4:
        raise ValueError(f"{name}: expected images (B, C, H, W), (C, H, W) or (H, W), got "
                         f"shape {arr.shape}")
    if arr.shape[1] == 1:                   # single-channel images become grey RGB
        arr = np.concatenate((arr, arr, arr), 1)
    if normalize is True:
        if not np.issubdtype(arr.dtype, np.floating):
            raise RuntimeError(f"{name}: normalize needs a floating point tensor, got "
                               f"{arr.dtype}")
        if value_range is not None and not isinstance(value_range, tuple):
            raise TypeError("value_range has to be a tuple (min, max) if specified. min and max "
                            "are numbers")
        arr = arr.copy()                    # the caller's tensor stays as it was
        for img in (arr if scale_each is True else (arr,)):
            low, high = value_range if value_range is not None else (float(img.min()),
                                                                     float(img.max()))
            _normalize(img, low, high)
    if arr.shape[0] == 1:
        return arr[0]
    nmaps, channels, h, w = arr.shape
    xmaps = min(nrow, nmaps)
    ymaps = int(math.ceil(float(nmaps) / xmaps))
    height, width = h + padding, w + padding
    grid = np.full((channels, height * ymaps + padding, width * xmaps + padding), pad_value,
                   dtype=arr.dtype)
    for k in range(nmaps):
        y, x = divmod(k, xmaps)
        grid[:, y * height + padding:(y + 1) * height, x * width + padding:(x + 1) * width] = arr[k]
    return grid


def make_grid(tensor, nrow: int = 8, padding: int = 2, normalize: bool = False,
              value_range=None, scale_each: bool = False, pad_value: float = 0.0) -> Tensor:
    """Tile a batch of images into one image (torchvision's ``make_grid``).

    Images sit in rows of ``nrow`` (⌈B / nrow⌉ rows), ``padding`` pixels apart and from the
    border, the gaps filled with ``pad_value``. Single-channel images become 3-channel grey.
    ``normalize=True`` maps [low, high] to [0, 1] (values clamped first): (low, high) is
    ``value_range`` or the min and max of the batch, or of each image with ``scale_each``.
    A single image (one-image batch) is returned as it is (after the steps above), no padding.

    Args:
        tensor: (B, C, H, W), (C, H, W) or (H, W) tensor, or a list of (C, H, W) tensors.
    Returns:
        (C', (H + padding)·⌈B/nrow⌉ + padding, (W + padding)·min(nrow, B) + padding), C' = 3
        for single-channel input, else C; the input's dtype; no gradient.
    """
    arr = _check_input(tensor, "make_grid")
    return Tensor._make(np.ascontiguousarray(
        _grid(arr, nrow, padding, normalize, value_range, scale_each, pad_value, "make_grid")))


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


# PNG colour types by channel count: grey, grey + alpha, RGB, RGBA
_PNG_COLOUR = {1: 0, 2: 4, 3: 2, 4: 6}


def _encode_png(image: np.ndarray) -> bytes:
    """An 8-bit PNG of a uint8 array (H, W) or (H, W, C), C in 1 (grey), 2 (grey + alpha),
    3 (RGB), 4 (RGBA): signature, IHDR, one zlib IDAT (filter 0 on every row), IEND."""
    if image.dtype != np.uint8:
        raise TypeError(f"save_image: expected a uint8 array, got {image.dtype}")
    if image.ndim == 2:
        image = image[:, :, None]
    if image.ndim != 3 or image.shape[2] not in _PNG_COLOUR:
        raise TypeError(f"save_image: cannot write an image of shape {image.shape}: expected "
                        "(H, W) or (H, W, C) with C in 1, 2, 3, 4")
    h, w, c = image.shape
    rows = np.empty((h, 1 + w * c), np.uint8)
    rows[:, 0] = 0                          # filter type "None" on every scanline
    rows[:, 1:] = image.reshape(h, w * c)
    header = struct.pack(">IIBBBBB", w, h, 8, _PNG_COLOUR[c], 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header)
            + _png_chunk(b"IDAT", zlib.compress(rows.tobytes(), 6)) + _png_chunk(b"IEND", b""))


def _format_of(fp, format):
    if format is not None:
        return str(format).lower()
    name = os.fspath(fp) if isinstance(fp, (str, os.PathLike)) else getattr(fp, "name", "")
    ext = os.path.splitext(str(name))[1].lower().lstrip(".")
    return ext or "png"     # a file object without a name: PNG


def save_image(tensor, fp, format=None, **kwargs) -> None:
    """Write ``make_grid(tensor, **kwargs)`` as an image file (torchvision's ``save_image``).

    Pixel values: round(clamp(255·x, 0, 255)) as uint8 (computed as torchvision does,
    ``x·255 + 0.5`` clamped and truncated), so values in [0, 1] map to 0–255.

    Args:
        tensor: as for :func:`make_grid` (a batch is tiled into a grid).
        fp: a path (written atomically) or a binary file object.
        format: 'png' (written without Pillow) or another format Pillow writes; by default
            the path's extension (PNG when there is none, e.g. for a nameless file object).
    """
    grid = make_grid(tensor, **kwargs).numpy()
    if grid.ndim == 2:
        grid = grid[None]
    scaled = grid.astype(np.float32, copy=False) * np.float32(255)
    scaled += np.float32(0.5)
    np.clip(scaled, 0, 255, out=scaled)
    ndarr = np.ascontiguousarray(scaled.transpose(1, 2, 0).astype(np.uint8))
    fmt = _format_of(fp, format)
    if fmt == "png":
        data = _encode_png(ndarr[:, :, 0] if ndarr.shape[2] == 1 else ndarr)
        writer = lambda f: f.write(data)     # noqa: E731
    else:
        try:
            from PIL import Image
        except ImportError:
            raise ValueError(f"save_image: chainrule writes PNG itself; format {fmt!r} needs "
                             "Pillow, which is not installed") from None
        image = Image.fromarray(ndarr[:, :, 0] if ndarr.shape[2] == 1 else ndarr)
        pil_format = Image.registered_extensions().get("." + fmt, fmt.upper())
        writer = lambda f: image.save(f, format=pil_format)     # noqa: E731
    if isinstance(fp, (str, os.PathLike)):
        with atomic_open(fp, "wb") as f:
            writer(f)
    else:
        writer(fp)
