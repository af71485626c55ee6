"""Layers of the long tail against torch: the dropout family's masks (same seed, same mask),
parameter containers, padding and fold layers, distances; values, gradients and reprs."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import chainrule as cr
import chainrule.nn.functional as F
from oracle import check, check_jvp, check_jvp_fd

R = np.random.default_rng(5)


@pytest.mark.parametrize("name, shape", [("dropout1d", (3, 4, 5)), ("dropout1d", (4, 5)),
                                         ("dropout3d", (2, 3, 2, 2, 2)), ("dropout3d", (3, 2, 2, 2)),
                                         ("alpha_dropout", (4, 6)),
                                         ("feature_alpha_dropout", (2, 3, 4))])
@pytest.mark.parametrize("p", [0.0, 0.4, 1.0])
def test_dropout_family_draws_torchs_masks(name, shape, p):
    x = R.standard_normal(shape).astype(np.float32)
    cr.manual_seed(3)
    torch.manual_seed(3)
    xc, xt = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    a, b = getattr(F, name)(xc, p, True), getattr(TF, name)(xt, p, True)
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-6, atol=1e-6)
    g = R.standard_normal(shape).astype(np.float32)
    a.backward(cr.tensor(g))
    b.backward(torch.tensor(g))
    np.testing.assert_allclose(xc.grad.numpy(), xt.grad.numpy(), rtol=1e-6, atol=1e-6)
    assert getattr(F, name)(xc, p, False) is xc


def test_dropout_modules_and_errors():
    for name in ("Dropout1d", "Dropout3d", "AlphaDropout", "FeatureAlphaDropout"):
        assert repr(getattr(cr.nn, name)(0.3)) == repr(getattr(torch.nn, name)(0.3))
    with pytest.raises(RuntimeError, match="Expected 2D or 3D input"):
        F.dropout1d(cr.ones(2, 2, 2, 2))
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.alpha_dropout(cr.ones(2), 1.5, True)


def _both(build):
    return build(cr), build(torch)


def test_parameter_list_and_dict_register_like_torch():
    def build(lib):
        m = lib.nn.Module()
        m.pl = lib.nn.ParameterList([lib.nn.Parameter(lib.ones(2, 3)), lib.zeros(3)])
        m.pl.append(lib.ones(1))
        m.pd = lib.nn.ParameterDict({"a": lib.ones(2), "b": lib.nn.Parameter(lib.zeros(2, 2))})
        m.pd["c"] = lib.ones(4)
        m.pd.update([("d", lib.ones(1))])
        del m.pd["a"]
        return m
    mine, theirs = _both(build)
    assert list(mine.state_dict()) == list(theirs.state_dict())
    assert [tuple(p.shape) for p in mine.parameters()] == [tuple(p.shape) for p in theirs.parameters()]
    assert isinstance(mine.pl[1], cr.nn.Parameter) and mine.pl[1].requires_grad
    assert list(mine.pd.keys()) == list(theirs.pd.keys()) and "c" in mine.pd and len(mine.pl) == 3
    assert repr(mine).replace("chainrule", "torch") == repr(theirs)
    assert mine.pd.pop("c").shape == (4,) and "c" not in mine.pd
    with pytest.raises(IndexError):
        mine.pl[5]
    with pytest.raises(KeyError):
        mine.pd["zz"]


PADS = [("ReflectionPad1d", (2,), (2, 3, 5)), ("ReflectionPad2d", ((1, 2, 0, 1),), (1, 2, 4, 5)),
        ("ReflectionPad3d", (1,), (1, 1, 3, 3, 3)), ("ReplicationPad1d", ((3, 1),), (2, 5)),
        ("ReplicationPad2d", (2,), (1, 2, 3, 4)), ("ReplicationPad3d", ((1, 0, 2, 1, 0, 1),), (1, 2, 2, 3, 2)),
        ("CircularPad1d", (1,), (2, 2, 4)), ("CircularPad2d", ((1, 2, 2, 0),), (1, 1, 3, 4)),
        ("CircularPad3d", (1,), (1, 1, 2, 3, 3)), ("ConstantPad1d", (2, 3.5), (2, 3)),
        ("ConstantPad2d", ((1, 0, 2, 1), -1.0), (2, 3, 3)), ("ConstantPad3d", (1, 0.5), (1, 2, 2, 2)),
        ("ZeroPad1d", ((0, 2),), (1, 3)), ("ZeroPad2d", (1,), (1, 2, 2)), ("ZeroPad3d", ((1, 0, 0, 1, 2, 0),), (1, 1, 2, 2))]


@pytest.mark.parametrize("name, args, shape", PADS, ids=[p[0] for p in PADS])
def test_padding_layers_match_torch(name, args, shape):
    mine, theirs = getattr(cr.nn, name)(*args), getattr(torch.nn, name)(*args)
    assert repr(mine) == repr(theirs)
    check(mine, theirs, R.standard_normal(shape), double=True)


def test_fold_and_unfold_layers_match_torch():
    unfold_c, unfold_t = cr.nn.Unfold(2, stride=2, padding=1), torch.nn.Unfold(2, stride=2, padding=1)
    fold_c, fold_t = cr.nn.Fold((4, 5), 2, padding=1, stride=2), torch.nn.Fold((4, 5), 2, padding=1, stride=2)
    assert repr(unfold_c) == repr(unfold_t) and repr(fold_c) == repr(fold_t)
    check(unfold_c, unfold_t, R.standard_normal((2, 3, 4, 5)), double=True)
    check(fold_c, fold_t, R.standard_normal((2, 12, 9)), double=True)


DIST = [
    ("cosine", lambda a, b: F.cosine_similarity(a, b), lambda a, b: TF.cosine_similarity(a, b),
     [R.standard_normal((4, 5)), R.standard_normal((4, 5))]),
    ("cosine_dim_bcast", lambda a, b: F.cosine_similarity(a, b, dim=-1),
     lambda a, b: TF.cosine_similarity(a, b, dim=-1), [R.standard_normal((3, 1, 4)), R.standard_normal((2, 4))]),
    ("cosine_zero", lambda a, b: F.cosine_similarity(a, b), lambda a, b: TF.cosine_similarity(a, b),
     [np.array([[0.0, 0.0, 0.0], [1.0, 2.0, 3.0]]), R.standard_normal((2, 3))]),
    ("pairwise2", F.pairwise_distance, TF.pairwise_distance, [R.standard_normal((4, 5)), R.standard_normal((4, 5))]),
    ("pairwise1_keep", lambda a, b: F.pairwise_distance(a, b, 1.0, keepdim=True),
     lambda a, b: TF.pairwise_distance(a, b, 1.0, keepdim=True), [R.standard_normal((4, 5)), R.standard_normal(5)]),
    ("pairwise3", lambda a, b: F.pairwise_distance(a, b, 3.0), lambda a, b: TF.pairwise_distance(a, b, 3.0),
     [R.standard_normal((3, 4)), R.standard_normal((3, 4))]),
    ("pairwise_inf", lambda a, b: F.pairwise_distance(a, b, float("inf")),
     lambda a, b: TF.pairwise_distance(a, b, float("inf")), [R.standard_normal((3, 4)), R.standard_normal((3, 4))]),
    ("pdist", F.pdist, TF.pdist, [R.standard_normal((5, 3))]),
    ("pdist_p1", lambda a: F.pdist(a, 1.0), lambda a: TF.pdist(a, 1.0), [R.standard_normal((4, 3))]),
    ("pdist_dup_rows", F.pdist, TF.pdist, [np.array([[1.0, 2.0], [1.0, 2.0], [0.0, 1.0]])]),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", DIST, ids=[c[0] for c in DIST])
def test_distances_match_torch(case, dtype):
    _, fc, ft, arrays = case
    # torch's second order is nan at a zero vector, and pdist has none ("not implemented")
    double = not case[0].endswith(("zero", "dup_rows")) and not case[0].startswith("pdist")
    check(fc, ft, *[a.astype(dtype) for a in arrays], double=double, scale=10 if dtype == np.float32 else 1)


def test_distance_modules_and_errors():
    a, b = R.standard_normal((3, 4)), R.standard_normal((3, 4))
    np.testing.assert_allclose(cr.nn.CosineSimilarity(dim=0)(cr.tensor(a), cr.tensor(b)).numpy(),
                               torch.nn.CosineSimilarity(dim=0)(torch.tensor(a), torch.tensor(b)).numpy())
    np.testing.assert_allclose(cr.nn.PairwiseDistance(p=1)(cr.tensor(a), cr.tensor(b)).numpy(),
                               torch.nn.PairwiseDistance(p=1)(torch.tensor(a), torch.tensor(b)).numpy())
    with pytest.raises(RuntimeError, match="2D"):
        F.pdist(cr.ones(2, 2, 2))
    with pytest.raises(RuntimeError, match="cosine_similarity"):
        F.cosine_similarity(cr.ones(2, 3), cr.ones(4, 3))


@pytest.mark.parametrize("case", DIST, ids=[c[0] for c in DIST])
def test_distance_jvp_matches_torch_func(case):
    name, fc, ft, arrays = case
    if name.startswith("pdist"):      # torch has no forward mode for pdist
        check_jvp_fd(fc, *arrays)
        return
    check_jvp(fc, ft, *arrays)


def test_replacing_a_child_or_parameter_keeps_its_place_as_torch():
    """seq[0] = new_layer (the fine-tuning pattern) must not move layer 0 after the others."""
    def orders(lib):
        nn = lib.nn
        seq = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 4))
        seq[0] = nn.Linear(2, 3)
        seq[1] = nn.Tanh()
        ml = nn.ModuleList([nn.ReLU(), nn.Tanh()])
        ml[0] = nn.Sigmoid()
        md = nn.ModuleDict({"a": nn.ReLU(), "b": nn.Tanh()})
        md["a"] = nn.Sigmoid()
        lin = nn.Linear(2, 2)
        lin.weight = nn.Parameter(lib.ones(2, 2))
        seq.add_module("0", nn.Linear(2, 3))
        return ([type(m).__name__ for m in seq], list(seq.state_dict()), tuple(seq(lib.ones(1, 2)).shape),
                [type(m).__name__ for m in ml], list(md.keys()), [k for k, _ in lin.named_parameters()])
    assert orders(cr) == orders(torch)


@pytest.mark.parametrize("case", [dict(), dict(label_smoothing=0.1), dict(weight=True),
                                  dict(weight=True, label_smoothing=0.2), dict(nll=True)])
def test_a_batch_with_every_target_ignored_has_a_nan_loss_and_zero_gradient_as_torch(case):
    a = np.random.default_rng(3).standard_normal((3, 4)).astype(np.float32)
    w = np.array([1., 2., 0.5, 1.], np.float32)
    out = []
    for lib, fn in ((cr, F), (torch, TF)):
        x = lib.tensor(a, requires_grad=True)
        kw = {k: v for k, v in case.items() if k == "label_smoothing"}
        if case.get("weight"):
            kw["weight"] = lib.tensor(w)
        loss = (fn.nll_loss if case.get("nll") else fn.cross_entropy)(x, lib.tensor([-100, -100, -100]), **kw)
        loss.backward()
        out.append((loss.item(), x.grad.numpy()))
    assert np.isnan(out[0][0]) and np.isnan(out[1][0])
    np.testing.assert_array_equal(out[0][1], out[1][1])


@pytest.mark.parametrize("freeze", [True, False])
def test_embeddings_from_pretrained_use_the_table_as_given(freeze):
    table = np.random.default_rng(4).standard_normal((5, 3))   # float64, kept as such
    idx = np.array([[0, 4], [2, 2]])
    for lib in (cr, torch):
        t = lib.tensor(table)
        emb = lib.nn.Embedding.from_pretrained(t, freeze=freeze, padding_idx=1)
        bag = lib.nn.EmbeddingBag.from_pretrained(t, freeze=freeze, mode="sum")
        assert emb.weight.requires_grad is (not freeze) and bag.weight.requires_grad is (not freeze)
        assert str(emb.weight.dtype).endswith("float64") and emb.padding_idx == 1
        np.testing.assert_array_equal(emb(lib.tensor(idx)).detach().numpy(), table[idx])
        np.testing.assert_array_equal(bag(lib.tensor(idx)).detach().numpy(), table[idx].sum(1))
        t[0, 0] = 7.0      # the weight is the given tensor's memory
        assert emb.weight[0, 0].item() == 7.0
    with pytest.raises(AssertionError, match="2-dimensional"):   # torch asserts
        cr.nn.Embedding.from_pretrained(cr.ones(3))
    with pytest.raises(AssertionError, match="does not match"):
        cr.nn.Embedding(4, 3, _weight=cr.ones(5, 3))


def test_a_batch_norm_checkpoint_without_num_batches_tracked_loads_as_torch():
    for lib in (cr, torch):
        bn = lib.nn.BatchNorm2d(3)
        bn.num_batches_tracked += 5
        sd = {k: v.clone() + 1 for k, v in bn.state_dict().items() if k != "num_batches_tracked"}
        result = bn.load_state_dict(sd)
        assert list(result.missing_keys) == [] and bn.num_batches_tracked.item() == 5
        np.testing.assert_array_equal(bn.running_mean.numpy(), np.ones(3, np.float32))
    assert cr.nn.init.calculate_gain("linear") == torch.nn.init.calculate_gain("linear")
    assert type(cr.nn.init.calculate_gain("conv2d")) is type(torch.nn.init.calculate_gain("conv2d"))


def test_a_shared_submodule_is_listed_under_each_name_as_torch():
    def build(lib):
        lin = lib.nn.Linear(2, 2)
        return lib.nn.Sequential(lin, lib.nn.ReLU(), lin)
    mine, ref = build(cr), build(torch)
    assert list(mine.state_dict()) == list(ref.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    for kw in ({}, {"remove_duplicate": False}):
        assert [k for k, _ in mine.named_parameters(**kw)] == [k for k, _ in ref.named_parameters(**kw)]
    mine.load_state_dict({k: cr.tensor(v.detach().numpy()) for k, v in ref.state_dict().items()})
    x = np.ones((1, 2), np.float32)
    np.testing.assert_allclose(mine(cr.tensor(x)).detach().numpy(), ref(torch.tensor(x)).detach().numpy(),
                               rtol=1e-6)


def test_forward_hooks_with_kwargs_prepend_and_always_call_as_torch():
    def run(lib):
        nn, calls = lib.nn, []

        class Scale(nn.Module):
            def forward(self, x, factor=1.0):
                if factor < 0:
                    raise ValueError("negative factor")
                return x * factor
        m = Scale()
        m.register_forward_pre_hook(lambda mod, a, kw: (a, {**kw, "factor": kw.get("factor", 1.0) * 2}),
                                    with_kwargs=True)
        m.register_forward_pre_hook(lambda mod, a: calls.append("pre-first"), prepend=True)
        m.register_forward_hook(lambda mod, a, kw, out: out + kw["factor"], with_kwargs=True)
        m.register_forward_hook(lambda mod, a, out: calls.append(("always", out is None)),
                                always_call=True)
        out = m(lib.ones(2), factor=3.0)
        try:
            m(lib.ones(2), factor=-1.0)
        except ValueError:
            calls.append("raised")
        return out.tolist(), calls
    assert run(cr) == run(torch)


def test_containers_add_multiply_and_check_names_as_torch():
    def run(lib):
        nn = lib.nn
        a, b = nn.Sequential(nn.ReLU(), nn.Tanh()), nn.Sequential(nn.Sigmoid())
        out = [[type(m).__name__ for m in a + b], [type(m).__name__ for m in a * 2],
               [type(m).__name__ for m in nn.ModuleList([nn.ReLU()]) + nn.ModuleList([nn.Tanh()])],
               (a * 2)[0] is (a * 2)[2]]
        for bad in (1, "a.b", ""):
            try:
                nn.ModuleDict({bad: nn.ReLU()})
            except (TypeError, KeyError) as e:
                out.append(type(e).__name__)
        try:
            a + nn.ReLU()
        except ValueError as e:
            out.append(type(e).__name__)
        model = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2))
        out.append(tuple(model.get_buffer("1.running_var").shape))
        model.set_submodule("0", nn.Linear(2, 2, bias=False))
        out.append(model[0].bias is None)
        return out
    assert run(cr) == run(torch)


def test_torch_import_paths_and_gradient_utilities():
    from chainrule.nn.modules.batchnorm import _BatchNorm
    from chainrule.nn.utils.rnn import pad_sequence, unpad_sequence
    from chainrule.optim.lr_scheduler import _LRScheduler
    assert isinstance(cr.nn.BatchNorm2d(2), _BatchNorm) and issubclass(_LRScheduler, cr.optim.lr_scheduler.LRScheduler)
    seqs = [cr.arange(3.), cr.arange(5.)]
    for batch_first in (False, True):
        back = unpad_sequence(pad_sequence(seqs, batch_first=batch_first), cr.tensor([3, 5]), batch_first)
        assert [b.tolist() for b in back] == [s.tolist() for s in seqs]
    grads = []
    for lib in (cr, torch):
        params = [lib.nn.Parameter(lib.ones(3)), lib.nn.Parameter(lib.ones(2))]
        for p, g in zip(params, ([3., 4., 0.], [0., 12.])):
            p.grad = lib.tensor(g)
        total = lib.nn.utils.get_total_norm([p.grad for p in params])
        lib.nn.utils.clip_grads_with_norm_(params, 1.0, total)
        grads.append([p.grad.tolist() for p in params] + [total.item()])
    np.testing.assert_allclose(np.concatenate([np.ravel(g) for g in grads[0]]),
                               np.concatenate([np.ravel(g) for g in grads[1]]), rtol=1e-6)
    loader = cr.utils.data.DataLoader(cr.utils.data.TensorDataset(cr.ones(4, 2)), batch_size=2,
                                      multiprocessing_context=None, pin_memory_device="", in_order=True)
    assert len(list(loader)) == 2


def test_an_nn_buffer_assigned_as_an_attribute_is_registered_as_torch():
    def run(lib):
        m = lib.nn.Linear(2, 2)
        m.steps = lib.nn.Buffer(lib.zeros((), dtype=lib.int64))
        m.scratch = lib.nn.Buffer(lib.ones(3), persistent=False)
        m.plain = lib.ones(1)      # a plain tensor stays a plain attribute
        b = lib.nn.Buffer(lib.ones(2))
        return (sorted(k for k, _ in m.named_buffers()), sorted(m.state_dict()),
                isinstance(b, lib.nn.Buffer), isinstance(lib.ones(2), lib.nn.Buffer),
                isinstance(m.steps, lib.nn.Buffer), b.requires_grad)
    assert run(cr) == run(torch)
