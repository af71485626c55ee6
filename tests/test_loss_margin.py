"""The margin and embedding losses against torch: every reduction, float32 and float64,
values, gradients and second derivatives; the modules, the legacy flags and the errors."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import chainrule as cr
import chainrule.nn.functional as F
from oracle import check, check_jvp, check_jvp_fd

R = np.random.default_rng(9)
x = lambda *s: R.standard_normal(s)
sign = lambda *s: np.where(R.random(s) < 0.5, -1.0, 1.0)
N, C = 4, 5
LABELS = np.array([[3, 0, -1, 1, 2], [1, 4, 2, 3, 0], [-1, 0, 0, 0, 0], [2, -1, 4, 0, 1]])

# (id, F name, differentiable inputs, constant targets, kwargs)
CASES = [
    ("margin_ranking", "margin_ranking_loss", [x(N), x(N), sign(N)], [], dict(margin=0.3)),
    ("hinge_embedding", "hinge_embedding_loss", [np.abs(x(N, 3))], [sign(N, 3)], dict(margin=1.2)),
    ("soft_margin", "soft_margin_loss", [x(N, 3)], [sign(N, 3)], {}),
    ("multilabel_soft_margin", "multilabel_soft_margin_loss", [x(N, C), (R.random((N, C)) < 0.4) * 1.0],
     [], {}),
    ("cosine_embedding", "cosine_embedding_loss", [x(N, 3), x(N, 3)], [sign(N)], dict(margin=0.1)),
    ("cosine_embedding_1d", "cosine_embedding_loss", [x(3), x(3)], [np.array(-1.0)], {}),
    ("multi_margin", "multi_margin_loss", [x(N, C)], [np.array([0, 3, 4, 1])], {}),
    ("multi_margin_p2", "multi_margin_loss", [x(N, C)], [np.array([2, 2, 0, 1])], dict(p=2, margin=0.5)),
    ("multi_margin_1d", "multi_margin_loss", [x(C)], [np.array(3)], {}),
    ("multilabel_margin", "multilabel_margin_loss", [x(N, C)], [LABELS], {}),
    ("multilabel_margin_1d", "multilabel_margin_loss", [x(C)], [LABELS[1]], {}),
    ("triplet", "triplet_margin_loss", [x(N, 3), x(N, 3), x(N, 3)], [], {}),
    ("triplet_swap_p1", "triplet_margin_loss", [x(N, 3), x(N, 3), x(N, 3)], [],
     dict(p=1, swap=True, margin=0.5)),
]


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_margin_losses_match_torch(case, dtype, reduction):
    _, name, arrays, targets, kw = case
    cast = lambda a: a.astype(dtype) if a.dtype.kind == "f" else a
    const_c = [cr.tensor(cast(t)) for t in targets]
    const_t = [torch.tensor(cast(t)) for t in targets]
    # torch has no second derivative for the multi-class margin losses
    check(lambda *t: getattr(F, name)(*t, *const_c, reduction=reduction, **kw),
          lambda *t: getattr(TF, name)(*t, *const_t, reduction=reduction, **kw),
          *[cast(a) for a in arrays], double=not name.startswith(("multi_margin", "multilabel_margin")),
          scale=10 if dtype == np.float32 else 1)


def test_weighted_and_distance_variants_match_torch():
    w = R.random(C) + 0.5
    check(lambda a: F.multi_margin_loss(a, cr.tensor([1, 0, 4, 2]), weight=cr.tensor(w)),
          lambda a: TF.multi_margin_loss(a, torch.tensor([1, 0, 4, 2]), weight=torch.tensor(w)), x(N, C))
    check(lambda a, b: F.multilabel_soft_margin_loss(a, cr.tensor(LABELS.clip(0, 1) * 1.0), b),
          lambda a, b: TF.multilabel_soft_margin_loss(a, torch.tensor(LABELS.clip(0, 1) * 1.0), b),
          x(N, C), w, double=True)
    l1 = lambda lib: (lambda a, b: (a - b).abs().sum(-1))
    check(lambda a, p, n: F.triplet_margin_with_distance_loss(a, p, n, distance_function=l1(cr), swap=True),
          lambda a, p, n: TF.triplet_margin_with_distance_loss(a, p, n, distance_function=l1(torch), swap=True),
          x(N, 3), x(N, 3), x(N, 3), double=True)


@pytest.mark.parametrize("module, args, inputs", [
    ("MarginRankingLoss", dict(margin=0.2), [x(N), x(N), sign(N)]),
    ("HingeEmbeddingLoss", {}, [x(N), sign(N)]),
    ("SoftMarginLoss", {}, [x(N), sign(N)]),
    ("MultiLabelSoftMarginLoss", {}, [x(N, C), (R.random((N, C)) < 0.5) * 1.0]),
    ("MultiLabelMarginLoss", {}, [x(N, C), LABELS]),
    ("CosineEmbeddingLoss", dict(margin=0.2), [x(N, 3), x(N, 3), sign(N)]),
    ("MultiMarginLoss", dict(p=2), [x(N, C), np.array([0, 1, 2, 3])]),
    ("TripletMarginLoss", dict(margin=0.7, swap=True), [x(N, 3), x(N, 3), x(N, 3)]),
    ("TripletMarginWithDistanceLoss", dict(margin=0.5), [x(N, 3), x(N, 3), x(N, 3)]),
])
def test_loss_modules_match_torch(module, args, inputs):
    mine, theirs = getattr(cr.nn, module)(**args), getattr(torch.nn, module)(**args)
    assert repr(mine) == repr(theirs)
    np.testing.assert_allclose(mine(*[cr.tensor(a) for a in inputs]).numpy(),
                               theirs(*[torch.tensor(a) for a in inputs]).numpy(), rtol=1e-10)


def test_legacy_flags_on_margin_losses():
    a, b, y = x(N), x(N), sign(N)
    with pytest.warns(UserWarning, match="reduction='sum'"):
        mine = F.margin_ranking_loss(cr.tensor(a), cr.tensor(b), cr.tensor(y), size_average=False)
    np.testing.assert_allclose(mine.numpy(), TF.margin_ranking_loss(
        torch.tensor(a), torch.tensor(b), torch.tensor(y), reduction="sum").numpy())
    with pytest.warns(UserWarning):
        assert cr.nn.SoftMarginLoss(reduce=False).reduction == "none"


@pytest.mark.parametrize("call, exc, match", [
    (lambda: F.margin_ranking_loss(cr.ones(2), cr.ones(2, 1), cr.ones(2)), RuntimeError, "same dimension"),
    (lambda: F.multi_margin_loss(cr.ones(2, 3), cr.tensor([0, 3])), RuntimeError, "out of range"),
    (lambda: F.multi_margin_loss(cr.ones(2, 3), cr.tensor([0, 1]), p=3), ValueError, "p == 1"),
    (lambda: F.multilabel_margin_loss(cr.ones(2, 3), cr.tensor([0, 1])), RuntimeError, "inconsistent"),
    (lambda: F.triplet_margin_loss(cr.ones(2, 3), cr.ones(3), cr.ones(2, 3)), RuntimeError, "dimensions"),
    (lambda: F.triplet_margin_with_distance_loss(cr.ones(2), cr.ones(2), cr.ones(2), margin=0),
     ValueError, "greater than 0"),
    (lambda: F.cosine_embedding_loss(cr.ones(2, 3), cr.ones(2, 3), cr.ones(2, 1)), RuntimeError, "1D target"),
    (lambda: F.soft_margin_loss(cr.ones(2), cr.ones(2), reduction="avg"), ValueError, "reduction"),
])
def test_margin_loss_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_margin_loss_jvp_matches_torch_func(case):
    _, name, arrays, targets, kw = case
    const_c, const_t = [cr.tensor(t) for t in targets], [torch.tensor(t) for t in targets]
    if name in ("multi_margin_loss", "multilabel_margin_loss"):   # torch has no forward mode here
        check_jvp_fd(lambda *t: getattr(F, name)(*t, *const_c, **kw), *arrays)
        return
    check_jvp(lambda *t: getattr(F, name)(*t, *const_c, **kw),
              lambda *t: getattr(TF, name)(*t, *const_t, **kw), *arrays)
