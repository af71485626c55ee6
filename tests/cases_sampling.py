"""grid_sample / affine_grid cases for the shared tables of `ad_cases` (forward mode, gradcheck,
node names): (id, chainrule fn, torch fn, float64 arrays), the form of `ad_cases.NN_CASES`.

torch has no forward-mode rule for grid_sampler_2d, so the grid_sample case's torch side is the
same bilinear sampling written with torch ops (tests/test_grid_sample.py checks it equals
TF.grid_sample): torch.func.jvp differentiates that."""
import numpy as np
import torch
import torch.nn.functional as TF

import chainrule.nn.functional as F

_R = np.random.default_rng(29)


def torch_bilinear_zeros(x, g):
    """TF.grid_sample(x, g, 'bilinear', 'zeros', align_corners=False) from torch ops."""
    n, c, h, w = x.shape
    ix = ((g[..., 0] + 1) * w - 1) / 2
    iy = ((g[..., 1] + 1) * h - 1) / 2
    x0, y0 = torch.floor(ix), torch.floor(iy)
    tx, ty = ix - x0, iy - y0
    flat = x.reshape(n, c, h * w)
    out = 0
    for dy, wy in ((0, 1 - ty), (1, ty)):
        for dx, wx in ((0, 1 - tx), (1, tx)):
            xi, yi = x0 + dx, y0 + dy
            inside = (xi >= 0) & (xi < w) & (yi >= 0) & (yi < h)
            index = (yi.clamp(0, h - 1) * w + xi.clamp(0, w - 1)).long().reshape(n, 1, -1)
            values = torch.gather(flat, 2, index.expand(n, c, index.shape[-1]))
            out = out + values.reshape(n, c, *g.shape[1:3]) * (wx * wy * inside).unsqueeze(1)
    return out


CASES = [
    ("grid_sample", lambda x, g: F.grid_sample(x, g, align_corners=False), torch_bilinear_zeros,
     [_R.standard_normal((2, 2, 3, 4)), _R.uniform(-1.3, 1.3, (2, 3, 2, 2))]),
    ("affine_grid", lambda t: F.affine_grid(t, (2, 1, 3, 4), align_corners=False),
     lambda t: TF.affine_grid(t, (2, 1, 3, 4), align_corners=False),
     [_R.standard_normal((2, 2, 3))]),
]
