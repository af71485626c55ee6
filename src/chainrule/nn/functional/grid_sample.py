"""Spatial transformers (Jaderberg et al., 2015): ``affine_grid`` maps an affine matrix θ to a
sampling grid, ``grid_sample`` reads the input at the grid's points.

Both are composites of differentiable chainrule ops, so gradients reach the input (through the
gathers) and the grid (through the interpolation weights), and from the grid back to θ."""
from __future__ import annotations

import itertools
import warnings

from ... import creation
from ..._modes import no_grad
from ...autograd.function import Function
from ...ops import stack

__all__ = ["affine_grid", "grid_sample"]

_ALIGN_WARNING = ("Default grid_sample and affine_grid behavior has changed to align_corners=False "
                  "since 1.3.0. Please specify align_corners=True if the old behavior is desired. "
                  "See the documentation of grid_sample for details.")


def _linspace_from_neg_one(theta, num_steps, align_corners):
    """The normalised pixel centres along one axis: linspace(−1, 1, n), scaled by (n − 1)/n
    without align_corners (the centres of n pixels spanning [−1, 1])."""
    if num_steps <= 1:
        return creation.tensor(0, dtype=theta.dtype)
    r = creation.linspace(-1, 1, num_steps, dtype=theta.dtype)
    if not align_corners:
        r = r * (num_steps - 1) / num_steps
    return r


def affine_grid(theta, size, align_corners=None):
    """The sampling grid of a batch of affine maps: for output pixel (x, y) with normalised
    coordinates in [−1, 1], grid[n, y, x] = θₙ · (x, y, 1)ᵀ (3-d: θₙ · (x, y, z, 1)ᵀ).

    Args:
        theta (Tensor): (N, 2, 3) for a 4-d ``size`` (N, C, H, W), or (N, 3, 4) for a 5-d one.
        size (list): the output size.
        align_corners (bool): whether −1 and 1 are the centres of the corner pixels (True) or
            their outer edges (False, the default, with a warning when not given).

    Returns:
        Tensor of shape (N, H, W, 2) or (N, D, H, W, 3), the last dim (x, y[, z]).
    """
    if align_corners is None:
        warnings.warn(_ALIGN_WARNING, stacklevel=2)
        align_corners = False
    if not theta.is_floating_point():
        raise ValueError(f"Expected theta to have floating point type, but got {theta.dtype}")
    if len(size) == 4:
        if theta.dim() != 3 or theta.shape[-2] != 2 or theta.shape[-1] != 3:
            raise ValueError(f"Expected a batch of 2D affine matrices of shape Nx2x3 for size "
                             f"{size}. Got {theta.shape}.")
        spatial = size[-2:]
    elif len(size) == 5:
        if theta.dim() != 3 or theta.shape[-2] != 3 or theta.shape[-1] != 4:
            raise ValueError(f"Expected a batch of 3D affine matrices of shape Nx3x4 for size "
                             f"{size}. Got {theta.shape}.")
        spatial = size[-3:]
    else:
        raise NotImplementedError("affine_grid only supports 4D and 5D sizes, for 2D and 3D "
                                  f"affine transforms, respectively. Got size {size}.")
    if align_corners and min(spatial) == 1:
        warnings.warn("Since version 1.3.0, affine_grid behavior has changed for unit-size grids "
                      "when align_corners=True. This is not an intended use case of affine_grid. "
                      "See the documentation of affine_grid for details.", stacklevel=2)
    elif min(size) <= 0:
        raise ValueError(f"Expected non-zero, positive output size. Got {size}")
    n = int(size[0])
    if theta.shape[0] != n:
        raise RuntimeError(f"affine_grid: expected theta of batch size {n} (size[0]), got "
                           f"{theta.shape[0]}")
    # base grid (…, x, y[, z], 1) with x varying along the last spatial dim
    axes = [_linspace_from_neg_one(theta, s, align_corners) for s in spatial]   # (z,) y, x
    shape = tuple(int(v) for v in spatial)
    coords = []
    for k, axis in enumerate(reversed(axes)):          # x, y(, z)
        view = [1] * len(spatial)
        view[len(spatial) - 1 - k] = -1
        coords.append(axis.reshape(view).expand(shape))
    coords.append(creation.ones(shape, dtype=theta.dtype))
    base = stack(coords, -1).reshape(1, -1, len(spatial) + 1).expand(n, -1, -1)
    grid = base.bmm(theta.transpose(1, 2))
    return grid.reshape((n,) + shape + (len(spatial),))


# ---------------------------------------------------------------------------- grid_sample
def _unnormalize(coord, size, align_corners):
    """[−1, 1] → pixel index space: corners at pixel centres (align_corners) or edges."""
    if align_corners:
        return ((coord + 1) / 2) * (size - 1)
    return ((coord + 1) * size - 1) / 2


def _reflect(coord, twice_low, twice_high):
    """coord reflected into [twice_low/2, twice_high/2] (torch's reflect_coordinates)."""
    if twice_low == twice_high:
        return coord * 0
    low = twice_low / 2
    span = (twice_high - twice_low) / 2
    coord = (coord - low).abs()
    extra = coord.fmod(span)
    with no_grad():
        flips = (coord / span).floor()
        even = flips.remainder(2) == 0
    return (extra + low).where(even, span - extra + low)


def _compute_coordinates(coord, size, padding_mode, align_corners):
    """Border: clip to [0, size − 1]; reflection: reflect at the borders, then clip."""
    if padding_mode == "border":
        return coord.clamp(0, size - 1)
    if padding_mode == "reflection":
        if align_corners:
            coord = _reflect(coord, 0, 2 * (size - 1))
        else:
            coord = _reflect(coord, -1, 2 * size - 1)
        return coord.clamp(0, size - 1)
    return coord


def _gather(flat, sizes, indices):
    """input values at integer positions ``indices`` (x, y[, z]) of each output point, zero
    where a position is out of bounds. flat: (N, C, prod(sizes)); indices: (N, P) each."""
    valid = None
    linear = None
    stride = 1
    for idx, size in zip(indices, sizes):               # x with stride 1, then y, then z
        ok = (idx >= 0) & (idx < size)
        valid = ok if valid is None else valid & ok
        term = idx.clamp(0, size - 1) * stride
        linear = term if linear is None else linear + term
        stride *= size
    n, c = flat.shape[0], flat.shape[1]
    values = flat.gather(2, linear.reshape(n, 1, -1).expand(n, c, -1))
    return values * valid.reshape(n, 1, -1).to(flat.dtype)


class _PiecewiseConstantIn(Function):
    """values, recorded as a function of ``grid`` with zero derivative (a nearest lookup is
    piecewise constant in its coordinates)."""

    @staticmethod
    def forward(ctx, values, grid):
        ctx.grid_shape, ctx.grid_dtype = tuple(grid.shape), grid.dtype
        return values

    @staticmethod
    def backward(ctx, grad):
        return grad, creation.zeros(ctx.grid_shape, dtype=ctx.grid_dtype)


def _cubic_coefficients(t):
    """Keys' cubic convolution weights (a = −0.75) of the 4 taps around fraction t."""
    a = -0.75

    def conv1(x):
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def conv2(x):
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
    x2 = 1.0 - t
    return [conv2(t + 1.0), conv1(t), conv1(x2), conv2(x2 + 1.0)]


def grid_sample(input, grid, mode="bilinear", padding_mode="zeros", align_corners=None):
    """out[n, c, p] = the input read at grid[n, p] (normalised: −1 the left/top edge, 1 the
    right/bottom one), interpolated with ``mode``.

    Args:
        input (Tensor): (N, C, H, W) or (N, C, D, H, W).
        grid (Tensor): (N, H_out, W_out, 2) or (N, D_out, H_out, W_out, 3), last dim (x, y[, z]).
        mode (str): 'bilinear' (trilinear for 5-d), 'nearest' (round half to even) or
            'bicubic' (4-d only).
        padding_mode (str): values outside the input: 'zeros', 'border' (clamped) or
            'reflection' (mirrored at the borders).
        align_corners (bool): as in :func:`affine_grid` (default False, with a warning).

    Returns:
        Tensor of shape (N, C, H_out, W_out) or (N, C, D_out, H_out, W_out).
    """
    if mode not in ("bilinear", "nearest", "bicubic"):
        raise ValueError("nn.functional.grid_sample(): expected mode to be 'bilinear', 'nearest' "
                         f"or 'bicubic', but got: '{mode}'")
    if padding_mode not in ("zeros", "border", "reflection"):
        raise ValueError("nn.functional.grid_sample(): expected padding_mode to be 'zeros', "
                         f"'border', or 'reflection', but got: '{padding_mode}'")
    if align_corners is None:
        warnings.warn(_ALIGN_WARNING, stacklevel=2)
        align_corners = False
    if input.dim() not in (4, 5) or grid.dim() != input.dim():
        raise RuntimeError("grid_sampler(): expected 4D or 5D input and grid with same number of "
                           f"dimensions, but got input with sizes {list(input.shape)} and grid "
                           f"with sizes {list(grid.shape)}")
    if input.shape[0] != grid.shape[0]:
        raise RuntimeError("grid_sampler(): expected grid and input to have same batch size, but "
                           f"got input with sizes {list(input.shape)} and grid with sizes "
                           f"{list(grid.shape)}")
    d = input.dim() - 2
    if grid.shape[-1] != d:
        raise RuntimeError(f"grid_sampler(): expected grid to have size {d} in last dimension, "
                           f"but got grid with sizes {list(grid.shape)}")
    if mode == "bicubic" and d != 2:
        raise RuntimeError("grid_sampler(): bicubic interpolation only supports 4D input")
    if input.dtype != grid.dtype:
        raise RuntimeError(f"grid_sampler(): expected input and grid to have the same dtype, but "
                           f"input has {input.dtype} and grid has {grid.dtype}")
    n, c = input.shape[0], input.shape[1]
    sizes = tuple(input.shape[2:])[::-1]                 # W, H(, D): the order of the grid's coords
    out_spatial = tuple(grid.shape[1:-1])
    flat = input.reshape(n, c, -1)
    points = grid.reshape(n, -1, d)
    coords = [_unnormalize(points[..., k], sizes[k], align_corners) for k in range(d)]

    if mode == "bicubic":
        with no_grad():
            base = [coord.floor() for coord in coords]
        tx, ty = coords[0] - base[0], coords[1] - base[1]
        wx, wy = _cubic_coefficients(tx), _cubic_coefficients(ty)
        out = None
        for i in range(4):
            row = None
            for j in range(4):
                pos = [base[0] + (j - 1), base[1] + (i - 1)]
                with no_grad():
                    idx = [_compute_coordinates(p, s, padding_mode, align_corners).long()
                           for p, s in zip(pos, sizes)]
                term = _gather(flat, sizes, idx) * wx[j].unsqueeze(1)
                row = term if row is None else row + term
            term = row * wy[i].unsqueeze(1)
            out = term if out is None else out + term
        return out.reshape((n, c) + out_spatial)

    coords = [_compute_coordinates(coord, size, padding_mode, align_corners)
              for coord, size in zip(coords, sizes)]
    if mode == "nearest":
        with no_grad():
            idx = [coord.round().long() for coord in coords]
        out = _gather(flat, sizes, idx)
        if grid.requires_grad:   # torch's grid gradient of a nearest lookup: zeros, not None
            out = _PiecewiseConstantIn.apply(out, grid)
        return out.reshape((n, c) + out_spatial)

    with no_grad():
        low = [coord.floor() for coord in coords]
    # corner weights as torch forms them: (low + 1 − coord) or (coord − low), multiplied x·y(·z)
    weights = [((lo + 1) - coord, coord - lo) for lo, coord in zip(low, coords)]
    out = None
    for offsets in itertools.product((0, 1), repeat=d):          # z, y outer; x innermost
        offsets = offsets[::-1]                                   # (x, y[, z]) offsets
        weight = None
        for k in range(d):
            w = weights[k][offsets[k]]
            weight = w if weight is None else weight * w
        idx = [(lo + o).long() for lo, o in zip(low, offsets)]
        term = _gather(flat, sizes, idx) * weight.unsqueeze(1)
        out = term if out is None else out + term
    return out.reshape((n, c) + out_spatial)
