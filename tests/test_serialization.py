"""cr.save / cr.load (torch's semantics, no pickle), safetensors interop with torch, DLPack."""
import collections
import io
import os
import pickle

import numpy as np
import pytest
import torch

import chainrule as cr

DTYPES = [cr.float16, cr.float32, cr.float64, cr.int8, cr.int16, cr.int32, cr.int64, cr.uint8,
          cr.bool]


def roundtrip(obj, tmp_path, name="x.pt"):
    path = tmp_path / name
    cr.save(obj, path)
    return cr.load(path)


def same(a, b):
    assert type(a) is type(b)
    if isinstance(a, cr.Tensor):
        assert a.dtype == b.dtype and a.shape == b.shape and a.requires_grad == b.requires_grad
        np.testing.assert_array_equal(a.numpy(force=True), b.numpy(force=True))
    elif isinstance(a, dict):
        assert list(a) == list(b)
        for k in a:
            same(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            same(x, y)
    else:
        assert a == b


@pytest.mark.parametrize("ext", ["x.pt", "x.safetensors"])
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("shape", [(), (0,), (2, 3), (0, 4)])
def test_tensor_roundtrip(tmp_path, ext, dtype, shape):
    t = (cr.arange(int(np.prod(shape))) % 3).reshape(shape).to(dtype)
    u = roundtrip(t, tmp_path, ext)
    same(t, u)


def test_requires_grad_and_parameter_kept_as_torch(tmp_path):
    # torch.save keeps requires_grad and Parameter-ness
    b = io.BytesIO()
    torch.save(torch.ones(2).requires_grad_(), b)
    b.seek(0)
    assert torch.load(b).requires_grad
    u = roundtrip(cr.ones(2).requires_grad_(), tmp_path)
    assert type(u) is cr.Tensor and u.requires_grad and u.is_leaf
    p = roundtrip(cr.nn.Parameter(cr.ones(2)), tmp_path)
    assert isinstance(p, cr.nn.Parameter) and p.requires_grad


def mlp():
    return cr.nn.Sequential(cr.nn.Linear(4, 8), cr.nn.ReLU(), cr.nn.Linear(8, 2))


def cnn():
    return cr.nn.Sequential(cr.nn.Conv2d(1, 3, 3), cr.nn.BatchNorm2d(3), cr.nn.ReLU(),
                            cr.nn.Flatten(), cr.nn.Linear(12, 2))


@pytest.mark.parametrize("ext", ["m.pth", "m.safetensors", "m.npz"])
@pytest.mark.parametrize("make", [mlp, cnn])
def test_state_dict_roundtrip(tmp_path, ext, make):
    cr.manual_seed(0)
    m = make()
    if make is cnn:
        m.train()
        m(cr.randn(2, 1, 4, 4))            # move the BatchNorm buffers
    sd = m.state_dict()
    loaded = roundtrip(sd, tmp_path, ext)
    same(sd, loaded)          # an OrderedDict, as saved
    fresh = make()
    fresh.load_state_dict(loaded)
    x = cr.randn(3, 4) if make is mlp else cr.randn(3, 1, 4, 4)
    m.eval(), fresh.eval()
    np.testing.assert_array_equal(m(x).numpy(force=True), fresh(x).numpy(force=True))


@pytest.mark.parametrize("ext", ["o.pt", "o.safetensors"])
def test_adam_state_dict_roundtrip_gives_identical_steps(tmp_path, ext):
    cr.manual_seed(1)
    m = mlp()
    opt = cr.optim.Adam(m.parameters(), lr=0.01)
    x = cr.randn(5, 4)
    m(x).pow(2).sum().backward()
    opt.step()
    cr.save({"model": m.state_dict(), "opt": opt.state_dict(), "epoch": 3}, tmp_path / ext)
    ck = cr.load(tmp_path / ext)
    assert ck["epoch"] == 3 and list(ck["opt"]["state"]) == [0, 1, 2, 3]
    m2 = mlp()
    m2.load_state_dict(ck["model"])
    opt2 = cr.optim.Adam(m2.parameters(), lr=0.5)
    opt2.load_state_dict(ck["opt"])
    assert opt2.param_groups[0]["lr"] == 0.01 and opt2.param_groups[0]["betas"] == (0.9, 0.999)
    for model, o in ((m, opt), (m2, opt2)):
        o.zero_grad()
        model(x).pow(2).sum().backward()
        o.step()
    for p, q in zip(m.parameters(), m2.parameters()):
        np.testing.assert_array_equal(p.numpy(force=True), q.numpy(force=True))


def test_nested_values_and_file_objects(tmp_path):
    obj = {"a": [1, 2.5, None, "s", (cr.ones(2), True)], 3: {"x": np.arange(3)}, "inf": float("inf")}
    for fmt in ("npz", "safetensors"):
        b = io.BytesIO()
        cr.save(obj, b, format=fmt)
        b.seek(0)
        u = cr.load(b)
        assert u["a"][:4] == [1, 2.5, None, "s"] and isinstance(u["a"][4], tuple)
        same(u["a"][4][0], cr.ones(2))
        np.testing.assert_array_equal(u[3]["x"], np.arange(3))
        assert u["inf"] == float("inf") and isinstance(u[3]["x"], np.ndarray)
    with open(tmp_path / "f.bin", "wb") as f:
        cr.save(cr.arange(4), f)
    with open(tmp_path / "f.bin", "rb") as f:
        same(cr.load(f), cr.arange(4))
    # path as a str, atomic write: no temporary files left
    cr.save(cr.zeros(1), str(tmp_path / "s.pt"))
    assert sorted(os.listdir(tmp_path)) == ["f.bin", "s.pt"]


@pytest.mark.parametrize("fmt", ["npz", "safetensors"])
def test_dtypes_devices_sizes_and_ordered_dicts_round_trip_as_torch(fmt):
    """What torch's weights_only loader takes beside tensors: dtypes, devices, Size,
    OrderedDict (a state_dict), each back as what it was."""
    model = cr.nn.Linear(2, 3)
    obj = {"model": model.state_dict(), "dtype": cr.float16, "amp": cr.bfloat16,
           "device": cr.device("cpu"), "shape": cr.Size([2, 3]), "plain": (2, 3)}
    b = io.BytesIO()
    cr.save(obj, b, format=fmt)
    b.seek(0)
    u = cr.load(b)
    assert type(u["model"]) is collections.OrderedDict and list(u["model"]) == ["weight", "bias"]
    assert u["dtype"] is cr.float16 and u["amp"] is cr.bfloat16
    assert u["device"] == cr.device("cpu") and isinstance(u["device"], cr.device)
    assert type(u["shape"]) is cr.Size and u["shape"] == (2, 3)
    assert type(u["plain"]) is tuple and type(cr.load(_saved({"a": 1}, fmt))) is dict
    model.load_state_dict(u["model"])


def _saved(obj, fmt):
    b = io.BytesIO()
    cr.save(obj, b, format=fmt)
    b.seek(0)
    return b


def test_safetensors_to_torch_same_keys(tmp_path):
    from safetensors.torch import load_file
    cr.manual_seed(0)
    m = cnn()
    cr.save(m.state_dict(), tmp_path / "m.safetensors")
    sd = load_file(tmp_path / "m.safetensors")
    assert set(sd) == set(m.state_dict())
    tm = torch.nn.Sequential(torch.nn.Conv2d(1, 3, 3), torch.nn.BatchNorm2d(3), torch.nn.ReLU(),
                             torch.nn.Flatten(), torch.nn.Linear(12, 2))
    tm.load_state_dict(sd)            # strict: same names, shapes and dtypes
    x = np.random.default_rng(0).standard_normal((2, 1, 4, 4)).astype(np.float32)
    m.eval(), tm.eval()
    np.testing.assert_allclose(m(cr.tensor(x)).numpy(force=True),
                               tm(torch.tensor(x)).detach().numpy(), rtol=1e-5, atol=1e-6)


def test_safetensors_from_torch(tmp_path):
    from safetensors.torch import save_file
    torch.manual_seed(0)
    tm = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
    save_file(tm.state_dict(), tmp_path / "t.safetensors", metadata={"format": "pt"})
    sd = cr.load(tmp_path / "t.safetensors")
    assert isinstance(sd, dict) and set(sd) == set(tm.state_dict())
    assert all(type(v) is cr.Tensor for v in sd.values())
    m = mlp()
    m.load_state_dict(sd)
    x = np.ones((1, 4), np.float32)
    np.testing.assert_allclose(m(cr.tensor(x)).numpy(force=True), tm(torch.tensor(x)).detach(),
                               rtol=1e-6)
    save_file({"w": torch.ones(2, dtype=torch.bfloat16)}, tmp_path / "bf.safetensors")
    with pytest.raises(ValueError, match="'w'.*BF16.*cannot hold"):
        cr.load(tmp_path / "bf.safetensors")


def test_save_argument_errors(tmp_path):
    # objects are pickled now (tests/test_serialization_torch_files.py); safetensors holds data
    with pytest.raises(TypeError, match=r"safetensors file holds tensors only.*Sequential "
                                        r"object at 'net'"):
        cr.save({"net": mlp()}, tmp_path / "m.safetensors")
    with pytest.raises(TypeError, match="save: cannot pickle a function object"):
        cr.save(lambda: 0, tmp_path / "o.pt")
    with pytest.raises(TypeError, match="binary file object"):
        cr.save(cr.ones(1), 3)
    with pytest.raises(ValueError, match="format must be"):
        cr.save(cr.ones(1), tmp_path / "x.pt", format="pickle")
    assert not (tmp_path / "m.safetensors").exists() and not (tmp_path / "o.pt").exists()


class _Evil:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_npz_with_pickled_callable_is_refused_and_never_runs(tmp_path):
    marker = tmp_path / "PWNED"
    evil = np.empty(1, dtype=object)
    evil[0] = _Evil(str(marker))
    meta = np.frombuffer(b'{"format": "chainrule-checkpoint/1", "state": {"__tensor__": "x"}}',
                         np.uint8)
    np.savez(tmp_path / "evil.npz", x=evil, __chainrule_meta__=meta)
    assert not marker.exists()
    with pytest.raises(ValueError, match="not a readable .npz.*allow_pickle"):
        cr.load(tmp_path / "evil.npz")
    assert not marker.exists()
    # a raw pickle goes through the weights-only unpickler, which refuses the global
    (tmp_path / "p.pkl").write_bytes(pickle.dumps(_Evil(str(marker))))
    with pytest.raises(pickle.UnpicklingError, match="Unsupported global: GLOBAL io.open"):
        cr.load(tmp_path / "p.pkl")
    assert not marker.exists()


def test_load_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="load: no file at"):
        cr.load(tmp_path / "missing.pt")
    (tmp_path / "junk").write_bytes(b"hello world, not a checkpoint")
    with pytest.raises(ValueError, match="neither a chainrule file.*nor a torch.save file"):
        cr.load(tmp_path / "junk")
    with pytest.raises(ValueError, match="mmap"):
        cr.load(io.BytesIO(b""), mmap=True)
    with pytest.raises(TypeError, match="weights_only must be"):
        cr.load(tmp_path / "junk", weights_only="yes")
    with pytest.raises(TypeError, match="gave str, expected bytes.*binary mode"):
        cr.load(_TextFile())


class _TextFile:
    def read(self):
        return "text"


def test_plain_npz_loads_as_flat_dict(tmp_path):
    np.savez(tmp_path / "p.npz", a=np.arange(3), b=np.ones((2, 2), np.float32))
    d = cr.load(tmp_path / "p.npz")
    assert list(d) == ["a", "b"] and d["b"].dtype == cr.float32


def test_map_location_forms(tmp_path):
    path = tmp_path / "m.pt"
    cr.save({"w": cr.ones(2)}, path)
    for ml in (None, "cpu", cr.device("cpu"), {"cuda:0": "cpu"}, {"cpu": "cpu"},
               lambda storage, loc: storage, lambda storage, loc: None):
        same(cr.load(path, map_location=ml, weights_only=True), {"w": cr.ones(2)})
    seen = []
    cr.load(path, map_location=lambda s, loc: seen.append(loc))
    assert seen == ["cpu"]
    for ml in ("cuda", cr.device("cuda:0"), {"cpu": "cuda:1"}):
        with pytest.raises(RuntimeError, match="load.*not available.*CPU only"):
            cr.load(path, map_location=ml)
    with pytest.raises(RuntimeError):
        cr.load(path, map_location=lambda s, loc: s.cuda())
    with pytest.raises(TypeError, match="callable returned int"):
        cr.load(path, map_location=lambda s, loc: 3)


# ----------------------------------------------------------------------------------- DLPack
def test_dlpack_shares_memory_both_ways():
    t = cr.zeros(3)
    assert t.__dlpack_device__() == (1, 0)
    tt, a = torch.from_dlpack(t), np.from_dlpack(t)
    t[0] = 1.0
    assert tt[0].item() == 1.0 and a[0] == 1.0
    tt[1] = 2.0
    a[2] = 3.0
    np.testing.assert_array_equal(t.numpy(), [1, 2, 3])
    x = torch.arange(4.0)
    u = cr.from_dlpack(x)
    x[0] = 9.0
    u[1] = 7.0
    assert u[0].item() == 9.0 and x[1].item() == 7.0 and u.dtype == cr.float32
    n = np.arange(3)
    v = cr.from_dlpack(n)
    n[0] = 5
    assert v[0].item() == 5


def test_dlpack_requires_grad_refused_as_torch():
    with pytest.raises(BufferError, match="require gradient") as te:
        torch.ones(2, requires_grad=True).__dlpack__()
    with pytest.raises(BufferError, match="require gradient, use tensor.detach") as ce:
        cr.ones(2, requires_grad=True).__dlpack__()
    assert str(te.value) == str(ce.value)
    torch.from_dlpack(cr.ones(2, requires_grad=True).detach())
    with pytest.raises(TypeError, match="from_dlpack.*__dlpack__"):
        cr.from_dlpack([1, 2])


def test_array_protocol():
    t = cr.zeros(3)
    np.asarray(t)[0] = 1.0            # shares memory, as with torch
    assert t[0].item() == 1.0
    np.array(t)[1] = 1.0              # copies, as with torch
    assert t[1].item() == 0.0
    assert np.asarray(t, dtype=np.float64).dtype == np.float64
    with pytest.raises(ValueError, match="without a copy"):
        np.asarray(t, dtype=np.float64, copy=False)


def test_keys_that_are_numpy_keyword_names_round_trip(tmp_path):
    """np.savez's own keywords ("file", "allow_pickle") are ordinary state keys here."""
    state = {"file": cr.ones(2), "allow_pickle": cr.zeros(3)}
    cr.save(state, tmp_path / "k.pt")
    loaded = cr.load(tmp_path / "k.pt")
    assert loaded["file"].tolist() == [1.0, 1.0] and loaded["allow_pickle"].tolist() == [0.0] * 3
