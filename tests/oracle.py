"""The oracle harness: the same inputs into chainrule and torch, compare values and gradients.

``check(cr_fn, torch_fn, *arrays)`` is the tinygrad-style one-liner every op test uses.
"""
import numpy as np
import torch

import chainrule as cr

TOL = {np.float32: dict(rtol=1e-5, atol=1e-6), np.float64: dict(rtol=1e-10, atol=1e-10)}


def to_np(t):
    if isinstance(t, torch.Tensor):
        return t.detach().numpy(force=True)  # force: torch may give a ZeroTensor
    if isinstance(t, cr.Tensor):
        return t.detach().numpy()
    return np.asarray(t)


def assert_close(a, b, dtype=np.float64, scale=1.0):
    tol = TOL[np.dtype(dtype).type]
    np.testing.assert_allclose(to_np(a), to_np(b), rtol=tol["rtol"] * scale, atol=tol["atol"] * scale)


def check(cr_fn, torch_fn, *arrays, grad=True, double=False, scale=1.0, rng=None):
    """Forward values, every input's gradient (with a random upstream gradient) and, with
    ``double``, the gradient of ⟨grads, grads⟩ (a second derivative) must match torch."""
    rng = np.random.default_rng(1) if rng is None else rng
    floats = [a.dtype.kind == "f" for a in arrays]
    cs = [cr.tensor(a, requires_grad=grad and f) for a, f in zip(arrays, floats)]
    ts = [torch.tensor(a, requires_grad=grad and f) for a, f in zip(arrays, floats)]
    dtype = next((a.dtype for a in arrays if a.dtype.kind == "f"), np.float64)
    oc, ot = cr_fn(*cs), torch_fn(*ts)
    assert tuple(oc.shape) == tuple(ot.shape), (oc.shape, ot.shape)
    assert str(oc.dtype).split(".")[1] == str(ot.dtype).split(".")[1], (oc.dtype, ot.dtype)
    assert_close(oc, ot, dtype, scale)
    if not grad or not ot.requires_grad:
        return
    g = rng.standard_normal(tuple(ot.shape)).astype(dtype)
    wrt_c = [c for c, f in zip(cs, floats) if f]
    wrt_t = [t for t, f in zip(ts, floats) if f]
    gc = cr.autograd.grad(oc, wrt_c, cr.tensor(g), create_graph=double, allow_unused=True)
    gt = torch.autograd.grad(ot, wrt_t, torch.tensor(g), create_graph=double, allow_unused=True)
    for a, b, t in zip(gc, gt, wrt_t):
        b = torch.zeros_like(t) if b is None else b
        a = cr.zeros_like(cr.tensor(to_np(t))) if a is None else a
        assert_close(a, b, dtype, scale)
    if double:
        pairs = [(a, b) for a, b in zip(gc, gt) if a is not None and b is not None and b.requires_grad]
        if not pairs:
            return
        sc = sum((a * a).sum() for a, _ in pairs)
        st = sum((b * b).sum() for _, b in pairs)
        # a gradient that is constant in the inputs has no graph here; torch may still record one
        hc = cr.autograd.grad(sc, wrt_c, allow_unused=True) if sc.requires_grad else [None] * len(wrt_c)
        ht = torch.autograd.grad(st, wrt_t, allow_unused=True)
        for a, b, t in zip(hc, ht, wrt_t):
            a = np.zeros(tuple(t.shape)) if a is None else to_np(a)
            b = np.zeros(tuple(t.shape)) if b is None else to_np(b)
            assert_close(a, b, dtype, scale * 10)


def finite_difference_check(fn, *arrays, eps=1e-6, rtol=1e-5, atol=1e-7):
    """Central differences in float64 vs backward() for the scalar ⟨fn(x), v⟩."""
    rng = np.random.default_rng(2)
    arrays = [np.asarray(a, np.float64) for a in arrays]
    ts = [cr.tensor(a, requires_grad=True) for a in arrays]
    out = fn(*ts)
    v = rng.standard_normal(tuple(out.shape))
    (out * cr.tensor(v)).sum().backward()
    for i, a in enumerate(arrays):
        num = np.zeros_like(a)
        for idx in np.ndindex(a.shape):
            d = np.zeros_like(a)
            d[idx] = eps
            plus = [cr.tensor(b + d if j == i else b) for j, b in enumerate(arrays)]
            minus = [cr.tensor(b - d if j == i else b) for j, b in enumerate(arrays)]
            num[idx] = ((fn(*plus).numpy() * v).sum() - (fn(*minus).numpy() * v).sum()) / (2 * eps)
        np.testing.assert_allclose(ts[i].grad.numpy(), num, rtol=rtol, atol=atol)


def check_jvp(cr_fn, torch_fn, *arrays, rng=None, rtol=1e-9, atol=1e-9):
    """Forward mode: the JVP of ``cr_fn`` (chainrule.func.jvp) at float64 ``arrays`` along random
    tangents equals torch.func.jvp's; integer arrays are held constant."""
    rng = np.random.default_rng(3) if rng is None else rng
    floats = [i for i, a in enumerate(arrays) if a.dtype.kind == "f"]
    tangents = [rng.standard_normal(arrays[i].shape) for i in floats]

    def bind(fn, lib):
        def f(*xs):
            full = [lib.tensor(a) for a in arrays]
            for i, x in zip(floats, xs):
                full[i] = x
            return fn(*full)
        return f
    out_c, jvp_c = cr.func.jvp(bind(cr_fn, cr), tuple(cr.tensor(arrays[i]) for i in floats),
                               tuple(cr.tensor(t) for t in tangents))
    out_t, jvp_t = torch.func.jvp(bind(torch_fn, torch), tuple(torch.tensor(arrays[i]) for i in floats),
                                  tuple(torch.tensor(t) for t in tangents))
    np.testing.assert_allclose(to_np(out_c), to_np(out_t), rtol=rtol, atol=atol)
    np.testing.assert_allclose(to_np(jvp_c), to_np(jvp_t), rtol=rtol, atol=atol)


def check_jvp_fd(cr_fn, *arrays, eps=1e-6, rtol=1e-6, atol=1e-7):
    """Forward mode against central differences in float64, for ops whose torch counterpart
    has no forward-mode rule: ⟨J, t⟩ ≈ (f(x + εt) − f(x − εt)) / 2ε."""
    rng = np.random.default_rng(4)
    floats = [i for i, a in enumerate(arrays) if a.dtype.kind == "f"]
    tangents = {i: rng.standard_normal(arrays[i].shape) for i in floats}

    def at(step):
        return cr_fn(*[cr.tensor(a + step * tangents[i] if i in tangents else a)
                       for i, a in enumerate(arrays)]).numpy()
    _, jvp = cr.func.jvp(lambda *xs: cr_fn(*[xs[floats.index(i)] if i in floats else cr.tensor(a)
                                            for i, a in enumerate(arrays)]),
                         tuple(cr.tensor(arrays[i]) for i in floats),
                         tuple(cr.tensor(tangents[i]) for i in floats))
    np.testing.assert_allclose(jvp.numpy(), (at(eps) - at(-eps)) / (2 * eps), rtol=rtol, atol=atol)
