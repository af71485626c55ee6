"""Classic edge and smoothing filters, as in the deck, computed with conv2d.

Sobel (first derivative, smoothed across):      Laplacian (second derivative, isotropic):
    G_x = [[−1, 0, +1],                             [[0,  1, 0],        [[1,  1, 1],
           [−2, 0, +2],   (vertical edges)           [1, −4, 1],   or    [1, −8, 1],
           [−1, 0, +1]]                              [0,  1, 0]]         [1,  1, 1]]
    G_y = G_xᵀ            (horizontal edges)
    |G| = √(G_x² + G_y²)  (edge strength),  θ = atan2(G_y, G_x) (edge direction)

The kernels are applied by cross-correlation (conv2d), which for these kernels is what
scipy.ndimage.sobel / laplace compute. Images may be (H, W), (C, H, W) or (N, C, H, W) arrays or
tensors; each channel is filtered separately and the result keeps the input's shape.

Boundary handling (``mode``), as scipy.ndimage names it: 'reflect' (default; d c b a | a b c d |
d c b a — the edge pixel repeated), 'mirror' (d c b | a b c d | c b a), 'nearest' (a a | a b c d
| d d), 'wrap' (periodic) and 'constant' (zeros). The output has the input's size.
"""
from __future__ import annotations

import numpy as np

from ..creation import as_tensor, tensor
from ..nn.functional.conv import conv2d
from ..ops.shape import ModePad, Pad
from ..tensor import Tensor

SOBEL_X = tensor([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]])
SOBEL_Y = tensor([[-1.0, -2.0, -1.0], [0.0, 0.0, 0.0], [1.0, 2.0, 1.0]])
LAPLACIAN_4 = tensor([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]])
LAPLACIAN_8 = tensor([[1.0, 1.0, 1.0], [1.0, -8.0, 1.0], [1.0, 1.0, 1.0]])

_NP_MODES = {"reflect": "symmetric", "mirror": "reflect", "nearest": "edge", "wrap": "wrap",
             "constant": "constant"}


def _as_batch(image, op):
    """-> (images as (B, 1, H, W) float tensor, original shape)."""
    t = image if isinstance(image, Tensor) else as_tensor(np.asarray(image))
    if t.ndim not in (2, 3, 4):
        raise ValueError(f"{op}: expected an image (H, W), (C, H, W) or (N, C, H, W), got shape "
                         f"{tuple(t.shape)}")
    if not t.is_floating_point():
        t = t.float()
    h, w = t.shape[-2:]
    return t.reshape(-1, 1, h, w), tuple(t.shape)


def _filter(image, kernel, mode, op):
    """Correlate every channel with ``kernel`` (kh, kw), same-size output, scipy.ndimage boundary."""
    if mode not in _NP_MODES:
        raise ValueError(f"{op}: mode must be one of {sorted(_NP_MODES)}, got {mode!r}")
    x, shape = _as_batch(image, op)
    k = kernel.to(x.dtype)
    kh, kw = k.shape
    widths = ((0, 0), (0, 0), (kh // 2, (kh - 1) // 2), (kw // 2, (kw - 1) // 2))
    if mode == "constant":
        x = Pad.apply(x, widths=widths)
    else:
        x = ModePad.apply(x, widths=widths, mode=_NP_MODES[mode])
    return conv2d(x, k.reshape(1, 1, kh, kw)).reshape(shape)


def sobel(image, axis: int = -1, mode: str = "reflect") -> Tensor:
    """The Sobel derivative along ``axis`` of the image, as ``scipy.ndimage.sobel``: the last
    axis (-1, x, across columns: G_x, finds vertical edges) or the one before it (-2, y, down
    rows: G_y, finds horizontal edges); axes count as in the input's own shape, so for a
    (C, H, W) input ``axis=2`` is x and ``axis=1`` is y. Same shape as ``image``."""
    ndim = np.ndim(image) if not isinstance(image, Tensor) else image.ndim
    a = axis + ndim if isinstance(axis, (int, np.integer)) and -ndim <= axis < 0 else axis
    if a == ndim - 1:
        kernel = SOBEL_X
    elif a == ndim - 2:
        kernel = SOBEL_Y
    else:
        raise ValueError(f"sobel: axis must be one of the two image axes ({ndim - 2}, {ndim - 1}, "
                         f"or -2, -1) of a {ndim}-D input, got {axis}")
    return _filter(image, kernel, mode, "sobel")


def gradient_magnitude(image, mode: str = "reflect") -> Tensor:
    """Edge strength |G| = √(G_x² + G_y²)."""
    gx, gy = sobel(image, -1, mode), sobel(image, -2, mode)
    return (gx * gx + gy * gy).sqrt()


def gradient_direction(image, mode: str = "reflect") -> Tensor:
    """Edge direction θ = atan2(G_y, G_x) in radians (not differentiable)."""
    gx, gy = sobel(image, -1, mode), sobel(image, -2, mode)
    return Tensor._make(np.arctan2(gy.detach().numpy(), gx.detach().numpy()))


def laplacian(image, neighbours: int = 4, mode: str = "reflect") -> Tensor:
    """∇²I = ∂²I/∂x² + ∂²I/∂y², by the 4- or 8-neighbour kernel. Zero on flat and linear ramps,
    large where intensity changes fast."""
    if neighbours not in (4, 8):
        raise ValueError(f"laplacian: neighbours must be 4 or 8, got {neighbours}")
    return _filter(image, LAPLACIAN_4 if neighbours == 4 else LAPLACIAN_8, mode, "laplacian")


def gaussian_kernel1d(sigma: float, truncate: float = 4.0) -> np.ndarray:
    """Normalised samples of exp(−x²/2σ²) for |x| ≤ ⌊truncate·σ + 0.5⌋ (scipy.ndimage's)."""
    if sigma <= 0:
        raise ValueError(f"gaussian_blur: sigma must be positive, got {sigma}")
    radius = int(truncate * sigma + 0.5)
    x = np.arange(-radius, radius + 1)
    k = np.exp(-0.5 * (x / sigma) ** 2)
    return k / k.sum()


def gaussian_blur(image, sigma: float, truncate: float = 4.0, mode: str = "reflect") -> Tensor:
    """Smooth with a Gaussian of std ``sigma`` (separable: a row pass then a column pass)."""
    k = tensor(gaussian_kernel1d(sigma, truncate))
    rows = _filter(image, k.reshape(1, -1), mode, "gaussian_blur")
    return _filter(rows, k.reshape(-1, 1), mode, "gaussian_blur")


def edges(image, threshold: float, mode: str = "reflect") -> Tensor:
    """A bool edge map: |G| > threshold (not differentiable)."""
    return gradient_magnitude(image, mode) > threshold
