"""The shape breadth ops' cases for the shared tables of `ad_cases` (forward mode, gradcheck,
node names): (id, chainrule fn, torch fn, float64 arrays), the form of `ad_cases.NN_CASES`."""
import numpy as np
import torch

import chainrule as cr

R = np.random.default_rng(29)

CASES = [
    ("roll", lambda t: cr.roll(t, 1, 0), lambda t: torch.roll(t, 1, 0), [R.standard_normal((3, 2))]),
    ("diagonal", lambda t: cr.diagonal(t, 1), lambda t: torch.diagonal(t, 1), [R.standard_normal((3, 4))]),
    ("diag_embed", cr.diag_embed, torch.diag_embed, [R.standard_normal((2, 3))]),
    ("tensor_unfold", lambda t: t.unfold(1, 2, 1), lambda t: t.unfold(1, 2, 1), [R.standard_normal((2, 4))]),
    ("einsum", lambda a, b: cr.einsum("bij,bjk->bik", a, b), lambda a, b: torch.einsum("bij,bjk->bik", a, b),
     [R.standard_normal((2, 2, 3)), R.standard_normal((2, 3, 2))]),
]
