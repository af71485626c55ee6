"""Sampling an input at arbitrary points: ``affine_grid`` and ``grid_sample`` (torch's pair behind
Spatial Transformer Networks).

``grid_sample`` reads the input at the normalised points of a grid, (x, y) ∈ [−1, 1]² (and z in
3-D). Along each spatial axis of size ``S`` a grid value ``g`` becomes the pixel coordinate

    u = (g + 1)/2 · (S − 1)          align_corners=True  (−1, 1 → centres of the corner pixels)
    u = ((g + 1)·S − 1)/2            align_corners=False (−1, 1 → outer edges of the corners)

then padding maps it into the image ('border': clip to [0, S − 1]; 'reflection': reflect about
the borders — the corner centres, or the outer edges without align_corners — until it lands
inside, then clip). Interpolation weighs the pixels around the point: 'nearest' takes the pixel
at round(u) (half to even, torch's nearbyint); 'bilinear' the 2ᵈ corners ⌊u⌋, ⌊u⌋ + 1 with
weights (1 − t), t per axis, t = u − ⌊u⌋; 'bicubic' the 4 × 4 pixels ⌊u⌋ − 1 … ⌊u⌋ + 2 with
Keys' cubic convolution weights (a = −0.75; there padding maps each tap's pixel, not the point).
Taps outside the image read 0 ('zeros'). All of it follows torch's CPU kernels (2-D: the
vectorised one's unnormalisation (g + 1)·S/2 − ½ and reflection; 3-D: the scalar one's).

The derivative: the output is Σ_taps w(t)·x[tap], with the taps (indices) piecewise constant in
the grid and t = a·g + b locally affine in it (a: the unnormalisation scale times the padding's
slope — ±1 through a reflection, 0 where a clip holds the point on or past a border, as torch's
``clip_coordinates_set_grad``). So x̄[tap] += ḡ·w and ḡrid = a·Σ_c Σ_taps ḡ·x[tap]·∂w/∂t, and
'nearest' has a zero grid gradient, as in torch. The rules are written with differentiable
gathers and scatters, so double backward and forward mode come for free.
"""
from __future__ import annotations

import warnings

import numpy as np

from ..._graph import Node
from ..._mathfun import fma32, fma64
from ...ops._util import check_tensor
from ...tensor import Tensor
from .pooling import scalar_name

_MODES = ("bilinear", "nearest", "bicubic")
_PADDINGS = ("zeros", "border", "reflection")
_DEFAULT_CHANGED = ("Default grid_sample and affine_grid behavior has changed to align_corners="
                    "False since 1.3.0. Please specify align_corners=True if the old behavior is "
                    "desired. See the documentation of grid_sample for details.")


def _cubic_polynomials(a=-0.75):
    """Keys' four tap weights as polynomials in t ∈ [0, 1): rows = powers t⁰…t³, columns = the
    taps at offsets −1, 0, 1, 2 (torch's get_cubic_coefficients, expanded)."""
    P = np.polynomial.Polynomial
    t = P([0.0, 1.0])

    def near(x):      # |x| ≤ 1
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x):       # 1 < |x| < 2
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
    taps = [far(t + 1), near(t), near(1 - t), far(2 - t)]
    return np.stack([np.pad(p.coef, (0, 4 - len(p.coef))) for p in taps], 1)


# per mode: tap offsets from the base pixel, and the weights' polynomial coefficients in t
_KERNELS = {
    "nearest": (np.array([0.0]), np.array([[1.0]])),
    "bilinear": (np.array([0.0, 1.0]), np.array([[1.0, 0.0], [-1.0, 1.0]])),   # 1 − t, t
    "bicubic": (np.array([-1.0, 0.0, 1.0, 2.0]), _cubic_polynomials()),
}


# ---------------------------------------------------------------------------- coordinates
def _pad(u, size, padding, align_corners):
    """(c, ∂c/∂u): the coordinate u mapped into the image by the padding mode (torch's
    compute_coordinates), and its slope (0 where a clip holds it, borders included)."""
    dt = u.dtype.type
    if padding == "zeros":
        return u, None
    top = dt(size - 1)
    slope = None
    if padding == "reflection":
        if align_corners and size <= 1:
            return np.zeros_like(u), np.zeros_like(u)
        low = dt(0) if align_corners else dt(-0.5)
        span2 = dt(2 * (size - 1)) if align_corners else dt(2 * size)
        v = u - low
        mag = np.abs(v)
        extra = mag - np.trunc(mag / span2) * span2
        back = span2 - extra
        flip = extra > back
        u = np.where(flip, back, extra) + low
        slope = np.where(flip ^ (v < 0), dt(-1), dt(1))
    c = np.minimum(np.fmax(u, dt(0)), top)       # a NaN lands on 0, as torch's clamp
    inside = (u > 0) & (u < top)
    slope = inside.astype(u.dtype) if slope is None else slope * inside
    return c, slope


def _locate(g, size, mode, padding, align_corners, scalar_formula):
    """One spatial axis: (t, a, taps, valid) — the fractional offset t (None for 'nearest'),
    ∂t/∂g = a, the taps' pixel indices (K, …) and which of them lie inside the image."""
    dt = g.dtype.type
    one, two = dt(1), dt(2)
    if align_corners:
        scale = dt(size - 1) / two
        u = ((g + one) / two) * dt(size - 1) if scalar_formula else (g + one) * scale
    else:
        scale = dt(size) / two
        u = ((g + one) * dt(size) - one) / two if scalar_formula else (g + one) * scale - dt(0.5)
    offsets = _KERNELS[mode][0].astype(g.dtype).reshape((-1,) + (1,) * g.ndim)
    if mode == "bicubic":     # the point is not padded; each tap's pixel is
        base = np.floor(u)
        t = u - base
        taps = _pad(base + offsets, size, padding, align_corners)[0]
        a = np.full_like(u, scale)
    else:
        c, slope = _pad(u, size, padding, align_corners)
        a = np.full_like(u, scale) if slope is None else slope * scale
        if mode == "nearest":
            base, t = np.rint(c), None
        else:
            base = np.floor(c)
            t = c - base
        taps = base + offsets
    valid = (taps > -1) & (taps < size)          # false for NaN
    return t, a, np.where(valid, taps, 0).astype(np.int64), valid


class _Plan:
    """What a grid decides, as arrays: per spatial axis (in the input's order D, H, W) the
    fractional offsets t (N, P), their slopes a and the grid values, and the input pixel of
    every tap, ``rows`` (K, N, P): an index into the input laid out (C, N·∏S), or the zero
    column past the end for a tap outside the image."""

    def __init__(self, in_shape, grid, mode, padding, align_corners):
        n, spatial = in_shape[0], tuple(in_shape[2:])
        d = len(spatial)
        self.points = p = int(np.prod(grid.shape[1:-1], dtype=np.int64))
        self.kernel = len(_KERNELS[mode][0])
        self.taps = self.kernel ** d
        flat = grid.reshape(n, p, d)
        self.ts, self.slopes, self.values = [], [], []
        rows = np.arange(n, dtype=np.int64).reshape(n, 1)
        valid = np.ones((n, 1), bool)
        for axis, size in enumerate(spatial):
            g = np.ascontiguousarray(flat[..., d - 1 - axis])  # grid[..., 0] is x: the last axis
            t, a, taps, ok = _locate(g, size, mode, padding, align_corners, d == 3)
            self.ts.append(t)
            self.slopes.append(a)
            self.values.append(g)
            rows = rows[..., None, :, :] * size + taps          # (K_0, …, K_axis, N, P)
            valid = valid[..., None, :, :] & ok
        self.rows = np.where(valid, rows, n * int(np.prod(spatial))).reshape(self.taps, n, p)


# ---------------------------------------------------------------------------- gathers
class TapGather(Node):
    """V[c, k, n, p] = x[n, c, tap (k, n, p)] (0 at the sentinel): the input's values under
    the taps, read from the input laid out (C, N·∏S + 1). Linear; transpose: ``TapScatter``."""

    linear = True
    params = ("rows", "shape")
    data_params = ("rows",)

    def forward(self, x):
        n, c = self.shape[:2]
        pixels = int(np.prod(self.shape[2:]))
        count = n * pixels
        table = np.empty((c, count + 1), x.dtype)
        table[:, :count].reshape(c, n, pixels)[...] = np.swapaxes(x.reshape(n, c, pixels), 0, 1)
        table[:, count] = 0
        return np.take(table, self.rows, axis=1)

    def transpose(self, xp, g):
        return xp.apply(TapScatter, g, rows=self.rows, shape=self.shape)


class TapScatter(Node):
    """x̄ = zeros(shape); x̄[n, c, tap (k, n, p)] += V̄[c, k, n, p] (the sentinel dropped):
    the adjoint of ``TapGather``, a bincount per channel."""

    linear = True
    params = ("rows", "shape")
    data_params = ("rows",)

    def forward(self, g):
        n, c = self.shape[:2]
        pixels = int(np.prod(self.shape[2:]))
        count = n * pixels
        index = self.rows.ravel()
        out = np.empty((n, c, pixels), g.dtype)
        for ch in range(c):
            sums = np.bincount(index, weights=g[ch].ravel(), minlength=count + 1)
            out[:, ch] = sums[:count].reshape(n, pixels)
        return out.reshape(self.shape)

    def transpose(self, xp, g):
        return xp.apply(TapGather, g, rows=self.rows, shape=self.shape)


# ---------------------------------------------------------------------------- the sampler
def _poly(xp, t, coefs, dtype, shape):
    """Σ_d coefs[d]·t^d per tap (Horner): t (1, N, P) → ``shape`` (K, N, P)."""
    acc = None
    for row in coefs[::-1]:
        c = xp.const(row.astype(dtype).reshape(-1, 1, 1))
        acc = c if acc is None else acc * t + c
    return acc if tuple(acc.shape) == shape else xp.expand(acc, shape)   # a constant kernel


class GridSampler(Node):
    """out[n, c, p] = Σ_k w_k(t)·x[n, c, tap_k]; see the module docstring for taps and weights.
    VJP: x̄ = scatter(ḡ·w), ḡrid_i = a_i·Σ_{c,k} ḡ·x[tap_k]·∂w_k/∂t_i ('nearest': 0).
    JVP: ẏ = Σ_k w_k·ẋ[tap_k] + Σ_i Σ_k ∂w_k/∂t_i·a_i·ġ_i·x[tap_k]."""

    params = ("mode", "padding_mode", "align_corners")
    backward_name = "GridSampler2DBackward0"

    def forward(self, input, grid):
        self.plan = plan = _Plan(input.shape, grid, self.mode, self.padding_mode,
                                 self.align_corners)
        n, c = input.shape[:2]
        values = TapGather.run(input, rows=plan.rows, shape=input.shape)    # (C, K, N, P)
        if self.mode == "nearest":       # a copy: an inf stays an inf (no 0·inf)
            out = values[:, 0]
        else:
            w = self._weights(_Arrays, None, input.dtype, derivatives=False)[0]
            out = w[0] * values[:, 0]
            for k in range(1, plan.taps):
                out += w[k] * values[:, k]
        return np.ascontiguousarray(np.swapaxes(out, 0, 1)).reshape(
            (n, c) + tuple(grid.shape[1:-1]))

    def _ts(self, xp, grid):
        """The offsets t per axis: the saved values, and as functions of the grid when
        recording (t = t₀ + a·(g − g₀), exact at the point, slope a)."""
        plan = self.plan
        if not xp.recording:
            return plan.ts
        d = len(plan.ts)
        flat = xp.reshape(grid, (plan.rows.shape[1], plan.points, d))
        return [xp.const(t) + (flat[..., d - 1 - i] - xp.const(g)) * xp.const(a)
                for i, (t, a, g) in enumerate(zip(plan.ts, plan.slopes, plan.values))]

    def _weights(self, xp, grid, dtype, derivatives=True):
        """(w, [∂w/∂t_i]) over the taps (K, N, P): the outer product of the axes' kernels."""
        plan = self.plan
        coefs = _KERNELS[self.mode][1]
        k, n, p = plan.rows.shape
        d = len(plan.ts)
        deriv = coefs[1:] * np.arange(1, len(coefs))[:, None]
        ws, dws = [], []
        taps = (plan.kernel, n, p)
        for i, t in enumerate(self._ts(xp, grid)):
            shape = (1,) * i + (plan.kernel,) + (1,) * (d - 1 - i) + (n, p)
            t = xp.reshape(t, (1, n, p))
            ws.append(xp.reshape(_poly(xp, t, coefs, dtype, taps), shape))
            if derivatives:
                dws.append(xp.reshape(_poly(xp, t, deriv, dtype, taps), shape))

        def product(factors):
            out = factors[0]
            for f in factors[1:]:
                out = out * f
            return xp.reshape(out, (k, n, p))
        w = product(ws)
        dw = [product(ws[:i] + [dws[i]] + ws[i + 1:]) for i in range(d)] if derivatives else []
        return w, dw

    def vjp(self, xp, g, input, grid):
        plan = self.plan
        k, n, p = plan.rows.shape
        c = input.shape[1]
        d = len(plan.ts)
        dtype = xp.data(input).dtype
        shape = tuple(input.shape)
        gp = xp.reshape(xp.permute(xp.reshape(g, (n, c, p)), (1, 0, 2)), (c, 1, n, p))
        nearest = self.mode == "nearest"
        if not nearest:
            w, dws = self._weights(xp, grid, dtype, self.needs_input_grad[1])
        grads = [None, None]
        if self.needs_input_grad[0]:
            gv = gp if nearest else xp.reshape(w, (1, k, n, p)) * gp       # (C, K, N, P)
            grads[0] = xp.apply(TapScatter, gv, rows=plan.rows, shape=shape)
        if self.needs_input_grad[1]:
            if nearest:
                grads[1] = xp.zeros_like(grid)
            else:
                values = xp.apply(TapGather, input, rows=plan.rows, shape=shape)
                s = xp.sum(values * gp, 0)                                  # (K, N, P)
                total = None
                for i in range(d):
                    gi = xp.sum(s * dws[i], 0) * xp.const(plan.slopes[i])
                    unit = np.zeros(d, dtype)
                    unit[d - 1 - i] = 1
                    term = xp.reshape(gi, (n, p, 1)) * xp.const(unit)
                    total = term if total is None else total + term
                grads[1] = xp.reshape(total, tuple(grid.shape))
        return grads

    def jvp(self, xp, tangents, input, grid):
        plan = self.plan
        k, n, p = plan.rows.shape
        c = input.shape[1]
        d = len(plan.ts)
        tin, tgrid = tangents
        dtype = xp.data(input).dtype
        out_shape = (n, c) + tuple(grid.shape[1:-1])
        nearest = self.mode == "nearest"
        if tgrid is not None and nearest:
            tgrid = None
        if tin is None and tgrid is None:
            return xp.const(np.zeros(out_shape, dtype))
        if not nearest:
            w, dws = self._weights(xp, grid, dtype, tgrid is not None)
        rows, shape = plan.rows, tuple(input.shape)
        out = None
        if tin is not None:
            dv = xp.apply(TapGather, tin, rows=rows, shape=shape)          # (C, K, N, P)
            out = (xp.reshape(dv, (c, n, p)) if nearest else
                   xp.sum(xp.reshape(w, (1, k, n, p)) * dv, 1))
        if tgrid is not None:
            values = xp.apply(TapGather, input, rows=rows, shape=shape)
            flat = xp.reshape(tgrid, (n, p, d))
            dt = None
            for i in range(d):
                term = dws[i] * xp.reshape(flat[..., d - 1 - i] * xp.const(plan.slopes[i]),
                                           (1, n, p))
                dt = term if dt is None else dt + term
            term = xp.sum(xp.reshape(dt, (1, k, n, p)) * values, 1)
            out = term if out is None else out + term
        return xp.reshape(xp.permute(out, (1, 0, 2)), out_shape)


GridSampler3D = GridSampler.named("GridSampler3DBackward0")


class _Arrays:
    """The array namespace the forward evaluates the weights with (nothing recorded)."""

    recording = False
    const = staticmethod(lambda array: array)
    reshape = staticmethod(lambda x, shape: x.reshape(shape))
    expand = staticmethod(np.broadcast_to)


def _check_sampler_inputs(input, grid, mode):
    """torch's grid_sampler checks, in its order, with its messages."""
    if input.dtype != grid.dtype:
        raise RuntimeError(f"expected scalar type {scalar_name(input)} but found "
                           f"{scalar_name(grid)}")
    ishape, gshape = list(input.shape), list(grid.shape)
    if input.ndim == 0 or grid.ndim == 0 or ishape[0] != gshape[0]:
        raise RuntimeError("grid_sampler(): expected grid and input to have same batch size, but "
                           f"got input with sizes {ishape} and grid with sizes {gshape}")
    if gshape[-1] != input.ndim - 2:
        raise RuntimeError(f"grid_sampler(): expected grid to have size {input.ndim - 2} in last "
                           f"dimension, but got grid with sizes {gshape}")
    for i in range(2, input.ndim):
        if ishape[i] <= 0:
            raise RuntimeError("grid_sampler(): expected input to have non-empty spatial "
                               f"dimensions, but input has sizes {ishape} with dimension {i} "
                               "being empty")
    if input.ndim == 4 and grid.ndim != 4 or input.ndim not in (4, 5):
        raise RuntimeError("grid_sampler(): expected 4D input and grid with same number of "
                           f"dimensions, but got input with sizes {ishape} and grid with sizes "
                           f"{gshape}")
    if input.ndim == 5:
        if grid.ndim != 5:
            raise RuntimeError("grid_sampler(): expected 5D input and grid with same number of "
                               f"dimensions, but got input with sizes {ishape} and grid with "
                               f"sizes {gshape}")
        if mode == "bicubic":
            raise RuntimeError("grid_sampler(): bicubic interpolation only supports 4D input")
    if not input.is_floating_point():
        kernel = "grid_sampler_2d_cpu_kernel_impl" if input.ndim == 4 else "grid_sampler_3d_cpu"
        raise NotImplementedError(f'"{kernel}" not implemented for \'{scalar_name(input)}\'')


def grid_sample(input: Tensor, grid: Tensor, mode: str = "bilinear", padding_mode: str = "zeros",
                align_corners: bool | None = None) -> Tensor:
    r"""Sample ``input`` at the points of a flow field ``grid`` (torch's
    ``F.grid_sample``).

    Shapes: input (N, C, H_in, W_in), grid (N, H_out, W_out, 2) → (N, C, H_out, W_out); in 3-D
    input (N, C, D_in, H_in, W_in), grid (N, D_out, H_out, W_out, 3) → (N, C, D_out, H_out,
    W_out). ``grid[n, h, w] = (x, y)`` are normalised coordinates: x = −1 is the left of the
    input, x = 1 its right (y the same for top/bottom, z for front/back).

    Each coordinate g of an axis of size S maps to the pixel coordinate
    u = (g + 1)/2·(S − 1) (``align_corners=True``: ±1 are the centres of the corner pixels) or
    u = ((g + 1)·S − 1)/2 (``False``, the default: ±1 are the outer edges of the corner pixels).

    Args:
        input: (N, C, H_in, W_in) or (N, C, D_in, H_in, W_in), floating point.
        grid: (N, H_out, W_out, 2) or (N, D_out, H_out, W_out, 3), input's dtype.
        mode: ``'bilinear'`` (trilinear in 3-D): Σ over the 2ᵈ neighbours of Π (1 − t) or t,
            t = u − ⌊u⌋; ``'nearest'``: the pixel at round(u), halves to even (its grid
            gradient is 0); ``'bicubic'`` (4-D only): the 4 × 4 neighbours with Keys' cubic
            convolution weights, a = −0.75 (it may overshoot the input's range).
        padding_mode: ``'zeros'`` (pixels outside read 0), ``'border'`` (u clipped to
            [0, S − 1]) or ``'reflection'`` (u reflected about the borders until inside, then
            clipped). NaN coordinates land on pixel 0 under 'border' and 'reflection'.
        align_corners: see above. ``None`` means False and warns, as torch.

    Returns:
        Tensor (N, C, H_out, W_out) (or (N, C, D_out, H_out, W_out)), differentiable in both
        ``input`` and ``grid`` (to any order).

    Example::

        >>> theta = chainrule.tensor([[[1., 0., 0.], [0., 1., 0.]]])
        >>> grid = F.affine_grid(theta, (1, 1, 3, 3), align_corners=False)
        >>> x = chainrule.arange(9.).reshape(1, 1, 3, 3)
        >>> F.grid_sample(x, grid, align_corners=False)   # the identity: x again
    """
    check_tensor(input, "grid_sample", "input")
    check_tensor(grid, "grid_sample", "grid")
    if mode not in _MODES:
        raise ValueError("nn.functional.grid_sample(): expected mode to be 'bilinear', "
                         f"'nearest' or 'bicubic', but got: '{mode}'")
    if padding_mode not in _PADDINGS:
        raise ValueError("nn.functional.grid_sample(): expected padding_mode to be 'zeros', "
                         f"'border', or 'reflection', but got: '{padding_mode}'")
    if align_corners is None:
        warnings.warn(_DEFAULT_CHANGED, UserWarning, stacklevel=2)
        align_corners = False
    _check_sampler_inputs(input, grid, mode)
    node = GridSampler if input.ndim == 4 else GridSampler3D
    return node.apply(input, grid, mode=mode, padding_mode=padding_mode,
                      align_corners=bool(align_corners))


# ---------------------------------------------------------------------------- affine_grid
def _linspace_from_neg_one(steps, align_corners, dtype):
    """torch's linspace(−1, 1, steps), rounding for rounding: step = 2/(steps − 1), the first
    half RN(−1 + step·i), the second RN(1 − step·(steps − 1 − i)), each one fused multiply-add
    (an ulp off would move a pixel-centre sample into the next cell, and change the grid
    gradient there); scaled by (steps − 1)/steps without align_corners; one step is 0."""
    dt = dtype.type
    if steps <= 1:
        return np.zeros(1, dtype)
    fma = fma64 if dtype == np.float64 else fma32
    step = (dt(1) - dt(-1)) / dt(steps - 1)
    i = np.arange(steps)
    fi = i.astype(dtype)
    up = np.asarray(fma(step, fi, dt(-1)), dtype)
    down = np.asarray(fma(-step, dt(steps - 1) - fi, dt(1)), dtype)
    r = np.where(i < steps // 2, up, down).astype(dtype)
    if not align_corners:
        r = (r * dt(steps - 1) / dt(steps)).astype(dtype)
    return r


def _base_grid(spatial, align_corners, dtype):
    """(∏S, d + 1): each output point's (x, y[, z], 1), x varying fastest."""
    axes = [_linspace_from_neg_one(s, align_corners, dtype) for s in spatial]
    mesh = np.meshgrid(*axes, indexing="ij")          # in (D,) H, W order
    cols = [m.reshape(-1) for m in mesh[::-1]]        # x (along W) first
    count = int(np.prod(spatial))
    cols = [np.broadcast_to(col, (count,)) for col in cols]
    return np.stack(cols + [np.ones(count, dtype)], 1).astype(dtype)


class AffineGridGenerator(Node):
    """grid[n, p] = θ[n] · (x_p, y_p[, z_p], 1)ᵀ over the base grid of the output points: linear
    in θ; transpose θ̄[n] = Σ_p ḡ[n, p] ⊗ (x_p, y_p[, z_p], 1)."""

    linear = True
    params = ("size", "align_corners")

    def forward(self, theta):
        spatial = tuple(self.size[2:])
        self.base = base = _base_grid(spatial, self.align_corners, theta.dtype)
        out = np.matmul(base, np.swapaxes(theta, 1, 2))      # (N, ∏S, d)
        return out.reshape((theta.shape[0],) + spatial + (theta.shape[1],))

    def transpose(self, xp, g):
        n, d = self.size[0], len(self.size) - 2
        flat = xp.reshape(g, (n, -1, d))
        return xp.matmul(xp.mT(flat), xp.const(self.base))


def affine_grid(theta: Tensor, size, align_corners: bool | None = None) -> Tensor:
    r"""The sampling grid of a batch of affine maps (torch's ``F.affine_grid``), for
    :func:`grid_sample`.

    For output size (N, C, H, W) and θ (N, 2, 3): grid[n, h, w] = θ[n]·(x_w, y_h, 1)ᵀ, with
    x_w, y_h the normalised coordinates of the output pixels — linspace(−1, 1, W) with
    ``align_corners=True``, scaled by (W − 1)/W without (the pixel centres); a unit axis is 0.
    3-D: θ (N, 3, 4), size (N, C, D, H, W) → grid (N, D, H, W, 3) of (x, y, z).

    Args:
        theta: (N, 2, 3) or (N, 3, 4), floating point.
        size: the output size (N, C, H, W) or (N, C, D, H, W).
        align_corners: as in :func:`grid_sample` (use the same value there). ``None`` means
            False and warns, as torch.

    Returns:
        Tensor (N, H, W, 2) or (N, D, H, W, 3), differentiable in ``theta``.

    Example::

        >>> theta = chainrule.tensor([[[1., 0., 0.], [0., 1., 0.]]])
        >>> F.affine_grid(theta, (1, 1, 2, 2), align_corners=False)[0, 0]
        tensor([[-0.5000, -0.5000],
                [ 0.5000, -0.5000]])
    """
    check_tensor(theta, "affine_grid", "theta")
    if align_corners is None:
        warnings.warn(_DEFAULT_CHANGED, UserWarning, stacklevel=2)
        align_corners = False
    if not theta.is_floating_point():
        raise ValueError(f"Expected theta to have floating point type, but got {theta.dtype}")
    dims = list(size)
    if len(dims) == 4:
        if theta.ndim != 3 or tuple(theta.shape[-2:]) != (2, 3):
            raise ValueError("Expected a batch of 2D affine matrices of shape Nx2x3 for size "
                             f"{size}. Got {theta.shape}.")
    elif len(dims) == 5:
        if theta.ndim != 3 or tuple(theta.shape[-2:]) != (3, 4):
            raise ValueError("Expected a batch of 3D affine matrices of shape Nx3x4 for size "
                             f"{size}. Got {theta.shape}.")
    else:
        raise NotImplementedError("affine_grid only supports 4D and 5D sizes, for 2D and 3D "
                                  f"affine transforms, respectively. Got size {size}.")
    spatial = dims[2:]
    if align_corners and min(spatial) == 1:
        warnings.warn("Since version 1.3.0, affine_grid behavior has changed for unit-size grids "
                      "when align_corners=True. This is not an intended use case of affine_grid. "
                      "See the documentation of affine_grid for details.", UserWarning,
                      stacklevel=2)
    elif min(dims) <= 0:
        raise ValueError(f"Expected non-zero, positive output size. Got {size}")
    if theta.shape[0] != dims[0]:
        raise RuntimeError("Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{dims[0]}, {len(dims) - 1}] but got: [{theta.shape[0]}, "
                           f"{len(dims) - 1}].")
    return AffineGridGenerator.apply(theta, size=tuple(int(s) for s in dims),
                                     align_corners=bool(align_corners))
