"""Optimizer updates on oneDNN (``onednn.chain``: a binary primitive and its post-ops, one pass
over large float32 arrays): the same bits as NumPy's ufuncs one after the other, special values
included, into any operand; and SGD, Adam, RMSprop and the rest with every option equal to
themselves with oneDNN off and to torch's within float32 rounding."""
import itertools

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule.backends import onednn
from chainrule.optim.optimizer import CHAIN_MIN, _chain
from spies import record_calls

pytestmark = pytest.mark.skipif(not onednn.is_available(), reason="the onednn extra is not installed")
RNG = np.random.default_rng(5)
UFUNCS = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.divide}


def _array(shape=(1000, 300)):
    x = (RNG.standard_normal(shape) * 100).astype(np.float32)
    x.reshape(-1)[:10] = RNG.permutation(np.array(
        [0.0, -0.0, np.inf, -np.inf, np.nan, 1e-45, -1e-45, 3e38, -3e38, 1e-38], np.float32))
    return x


def _numpy(op, a, b, steps):
    with np.errstate(all="ignore"):
        r = UFUNCS[op](a, b)
        for o, c in steps:
            r = UFUNCS[o](r, c)
    return r


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("op", sorted(UFUNCS))
def test_chain_has_numpys_bits_for_every_op_order_and_operand_kind(threads, op):
    before = cr.get_num_threads()
    try:
        cr.set_num_threads(threads)
        for posts in itertools.product(sorted(UFUNCS), repeat=2):
            for scalar in itertools.product([False, True], repeat=3):
                a = _array()
                b, c1, c2 = (float(RNG.standard_normal() * 3) if s else _array() for s in scalar)
                steps = list(zip(posts, (c1, c2)))
                want = _numpy(op, a, b, steps)
                got = onednn.chain(op, a, b, steps)
                np.testing.assert_array_equal(got.view(np.uint32), want.view(np.uint32),
                                              err_msg=f"{op} then {posts}, scalars {scalar}")
    finally:
        cr.set_num_threads(before)


@pytest.mark.parametrize("into", ["a", "b", "c"])
def test_chain_writes_into_any_of_its_operands(into):
    a, b, c = _array(), _array(), _array()
    want = _numpy("sub", a, b, [("mul", 0.25), ("add", c)])
    arrays = {"a": a, "b": b, "c": c}
    out = arrays[into]
    assert onednn.chain("sub", a, b, [("mul", 0.25), ("add", c)], out=out) is out
    np.testing.assert_array_equal(out.view(np.uint32), want.view(np.uint32))


def test_chain_takes_channels_last_arrays_and_refuses_what_it_cannot_take():
    a, b = (np.ascontiguousarray(x.reshape(8, 16, 32, 64).transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)
            for x in (_array((8, 16, 32, 64)), _array((8, 16, 32, 64))))
    got = onednn.chain("mul", a, 0.5, [("add", b)])
    assert got.strides == a.strides
    np.testing.assert_array_equal(got.view(np.uint32), _numpy("mul", a, 0.5, [("add", b)]).view(np.uint32))
    refused = {"out in another layout": dict(out=np.empty(a.shape, np.float32)),
               "an operand of another shape": dict(b=np.ones(3, np.float32)),
               "float64": dict(a=a.astype(np.float64))}
    for name, kw in refused.items():
        args = {"a": a, "b": 0.5, "out": None, **kw}
        with pytest.raises(ValueError, match="onednn.chain: expected a, out and the array operands "
                                             "float32 of one shape and layout"):
            onednn.chain("mul", args["a"], args["b"], [("add", b)], out=args["out"])
    with pytest.raises(ValueError, match="onednn.chain: unknown op 'pow'"):
        onednn.chain("pow", a, 2.0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
def test_the_numpy_path_of_chain_writes_into_an_operand_a_later_step_reads(dtype):
    with np.errstate(all="ignore"):   # (inf − inf among the special values; 3e38 in float16)
        a, b = _array((50,)).astype(dtype), _array((50,)).astype(dtype)
        want = _numpy("sub", b, a, [("mul", 0.1), ("add", a)])
        got = _chain("sub", b, a, [("mul", 0.1), ("add", a)], out=a)   # small: NumPy's path
    assert got is a and got.dtype == dtype
    np.testing.assert_array_equal(got, want)


OPTIMIZERS = [
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-2)),
    ("SGD", dict(lr=0.1, momentum=0.5, dampening=0.1, weight_decay=1e-3)),
    ("SGD", dict(lr=0.1, momentum=0.9, maximize=True)),
    ("SGD", dict(lr=0.1)),
    ("Adam", dict(lr=1e-2)),
    ("Adam", dict(lr=1e-2, weight_decay=1e-2, amsgrad=True)),
    ("Adam", dict(lr=1e-2, betas=(0.3, 0.99))),   # the lerp's other side (w = 0.7)
    ("AdamW", dict(lr=1e-2, weight_decay=1e-2)),
    ("RMSprop", dict(lr=1e-2, momentum=0.9, weight_decay=1e-3)),
    ("RMSprop", dict(lr=1e-2, centered=True)),
    ("NAdam", dict(lr=1e-2)), ("RAdam", dict(lr=1e-2)), ("Adamax", dict(lr=1e-2)),
]


@pytest.mark.parametrize("name, options", OPTIMIZERS,
                         ids=[f"{n}-{','.join(o)}" for n, o in OPTIMIZERS])
def test_optimizers_on_large_parameters_match_numpy_bit_for_bit_and_torch(monkeypatch, name,
                                                                          options):
    shape = (CHAIN_MIN // 256 + 3, 256)   # above the size oneDNN takes
    w0 = RNG.standard_normal(shape).astype(np.float32)
    grads = [RNG.standard_normal(shape).astype(np.float32) for _ in range(3)]

    def run(lib):
        w = lib.tensor(w0.copy(), requires_grad=True)
        opt = getattr(lib.optim, name)([w], **options)
        for g in grads:
            w.grad = lib.tensor(g)
            opt.step()
        return w.detach().numpy()

    calls = record_calls(monkeypatch, onednn, ["chain"])
    fast = run(cr)
    assert calls, f"{name}'s update did not run on oneDNN"
    monkeypatch.setattr(onednn, "enabled", False)
    del calls[:]
    slow = run(cr)
    assert not calls
    np.testing.assert_array_equal(fast, slow)
    # torch fuses multiply-adds and divides by √v̂ + ε in its own order: within a few roundings
    np.testing.assert_allclose(fast, run(torch), rtol=1e-5, atol=1e-6)
