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
    ("median_all", lambda t: cr.median(t), lambda t: torch.median(t), [R.standard_normal((3, 4))]),
    ("median_all_ties", lambda t: cr.median(t), lambda t: torch.median(t),
     [np.array([[1.0, 2.0, 2.0], [0.5, 2.0, 3.0]])]),
    ("nanmedian_all", lambda t: cr.nanmedian(t), lambda t: torch.nanmedian(t),
     [R.standard_normal((2, 5))]),
    ("gather_dim1", lambda t: cr.gather(t, 1, cr.tensor(_IDX)), lambda t: torch.gather(t, 1, torch.tensor(_IDX)),
     [R.standard_normal((2, 3))]),
    ("scatter", lambda t, s: cr.scatter(t, 0, cr.tensor(_IDX), s),
     lambda t, s: torch.scatter(t, 0, torch.tensor(_IDX), s),
     [R.standard_normal((3, 4)), R.standard_normal((2, 4))]),
    ("scatter_value", lambda t: cr.scatter(t, 0, cr.tensor(_IDX), 0.5),
     lambda t: torch.scatter(t, 0, torch.tensor(_IDX), 0.5), [R.standard_normal((3, 4))]),
    ("scatter_add", lambda t, s: cr.scatter_add(t, 0, cr.tensor(_IDX), s),
     lambda t, s: torch.scatter_add(t, 0, torch.tensor(_IDX), s),
     [R.standard_normal((3, 4)), R.standard_normal((2, 4))]),
    ("scatter_reduce_sum", lambda t, s: cr.scatter_reduce(t, 0, cr.tensor(_IDX), s, "sum"),
     lambda t, s: torch.scatter_reduce(t, 0, torch.tensor(_IDX), s, "sum"),
     [R.standard_normal((3, 4)), R.standard_normal((2, 4))]),
    ("index_add", lambda t, s: cr.index_add(t, 1, cr.tensor([2, 0, 2]), s, alpha=-1.5),
     lambda t, s: torch.index_add(t, 1, torch.tensor([2, 0, 2]), s, alpha=-1.5),
     [R.standard_normal((2, 4)), R.standard_normal((2, 3))]),
    ("index_copy", lambda t, s: cr.index_copy(t, 0, cr.tensor([2, 0]), s),
     lambda t, s: torch.index_copy(t, 0, torch.tensor([2, 0]), s),
     [R.standard_normal((3, 2)), R.standard_normal((2, 2))]),
    ("index_fill", lambda t: cr.index_fill(t, 1, cr.tensor([0, 2]), -1.0),
     lambda t: torch.index_fill(t, 1, torch.tensor([0, 2]), -1.0), [R.standard_normal((2, 3))]),
    ("index_put", lambda t, v: cr.index_put(t, (cr.tensor([0, 2]), cr.tensor([1, 0])), v),
     lambda t, v: torch.index_put(t, (torch.tensor([0, 2]), torch.tensor([1, 0])), v),
     [R.standard_normal((3, 2)), R.standard_normal(2)]),
    ("index_put_acc", lambda t, v: cr.index_put(t, (cr.tensor([0, 0, 2]),), v, accumulate=True),
     lambda t, v: torch.index_put(t, (torch.tensor([0, 0, 2]),), v, accumulate=True),
     [R.standard_normal((3, 2)), R.standard_normal((3, 2))]),
    ("masked_scatter", lambda t, s: cr.masked_scatter(t, cr.tensor([[True, False, True]]), s),
     lambda t, s: torch.masked_scatter(t, torch.tensor([[True, False, True]]), s),
     [R.standard_normal((2, 3)), R.standard_normal((2, 3))]),
    ("mode", lambda t: cr.mode(t, 1).values, lambda t: torch.mode(t, 1).values,
     [np.array([[1.0, 2.0, 2.0, 3.0], [4.0, 0.5, 4.0, 1.0]])]),
    ("cummin", lambda t: cr.cummin(t, 0).values, lambda t: torch.cummin(t, 0).values,
     [R.standard_normal((4, 2))]),
    ("nanmedian_dim", lambda t: cr.nanmedian(t, 1).values, lambda t: torch.nanmedian(t, 1).values,
     [R.standard_normal((2, 5))]),
]
