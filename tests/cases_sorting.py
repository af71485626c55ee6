"""The sorting breadth ops' cases for the shared tables of `ad_cases` (forward mode, gradcheck,
node names): (id, chainrule fn, torch fn, float64 arrays), the form of `ad_cases.NN_CASES`."""
import numpy as np
import torch

import chainrule as cr

R = np.random.default_rng(23)
_IDX = [[0, 1, 2, 0], [2, 0, 0, 1]]
# the product scattered into row r, column c as a plain torch expression: torch's own forward
# mode for scatter_reduce(prod) returns zero tangents (checked against finite differences)
_HITS = torch.tensor(_IDX)[None] == torch.arange(3)[:, None, None]

CASES = [
    ("sort", lambda t: cr.sort(t, 1).values, lambda t: torch.sort(t, 1).values, [R.standard_normal((3, 4))]),
    ("topk", lambda t: cr.topk(t, 2).values, lambda t: torch.topk(t, 2).values, [R.standard_normal((3, 5))]),
    ("kthvalue", lambda t: cr.kthvalue(t, 2).values, lambda t: torch.kthvalue(t, 2).values,
     [R.standard_normal((3, 4))]),
    ("median_dim", lambda t: cr.median(t, 0).values, lambda t: torch.median(t, 0).values,
     [R.standard_normal((5, 2))]),
    ("cummax", lambda t: cr.cummax(t, 1).values, lambda t: torch.cummax(t, 1).values,
     [R.standard_normal((2, 5))]),
    ("masked_select", lambda t: cr.masked_select(t, cr.tensor([True, False, True])),
     lambda t: torch.masked_select(t, torch.tensor([True, False, True])), [R.standard_normal((2, 3))]),
    ("scatter_prod", lambda t, s: cr.scatter_reduce(t, 0, cr.tensor(_IDX), s, "prod"),
     lambda t, s: t * torch.where(_HITS, s[None], 1).prod(1),
     [R.standard_normal((3, 4)), R.standard_normal((2, 4))]),
]
