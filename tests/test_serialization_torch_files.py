"""cr.load on files torch.save wrote (zip and legacy formats, weights-only unpickler, no torch
import), and whole objects pickled by cr.save, loaded only with weights_only=False."""
import collections
import copy
import io
import os
import pickle
import subprocess
import sys
import zipfile

import numpy as np
import pytest
import torch

import chainrule as cr
import chainrule.nn as nn

FORMATS = [True, False]     # torch's zip format, the legacy one


def tsave(obj, path, zipped=True):
    torch.save(obj, path, _use_new_zipfile_serialization=zipped)
    return path


def same(a, t):
    """chainrule tensor ``a`` equals torch tensor ``t`` in values, dtype, shape, strides,
    storage offset and requires_grad."""
    assert str(a.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]
    assert tuple(a.shape) == tuple(t.shape) and a.stride() == t.stride()
    assert a.storage_offset() == t.storage_offset() and a.requires_grad == t.requires_grad
    np.testing.assert_array_equal(a.detach().numpy(), t.detach().numpy())


class TorchNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 4, 3, padding=1)
        self.bn = torch.nn.BatchNorm2d(4)
        self.lstm = torch.nn.LSTM(4, 5, num_layers=2, batch_first=True)
        self.fc = torch.nn.Linear(5, 2)

    def forward(self, x):
        h = self.bn(self.conv(x)).relu()          # (N, 4, H, W)
        seq = h.flatten(2).transpose(1, 2)        # (N, H*W, 4)
        return self.fc(self.lstm(seq)[0][:, -1])


class CrNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(4)
        self.lstm = nn.LSTM(4, 5, num_layers=2, batch_first=True)
        self.fc = nn.Linear(5, 2)

    def forward(self, x):
        h = self.bn(self.conv(x)).relu()
        seq = h.flatten(2).transpose(1, 2)
        return self.fc(self.lstm(seq)[0][:, -1])


@pytest.mark.parametrize("zipped", FORMATS)
def test_torch_state_dict_into_chainrule_model(tmp_path, zipped):
    torch.manual_seed(0)
    tm = TorchNet()
    x = torch.randn(2, 3, 4, 4)
    tm.train()(x)                                   # running stats, num_batches_tracked = 1
    tm.eval()
    path = tsave(tm.state_dict(), tmp_path / "torch_model.pt", zipped)
    sd = cr.load(path)
    assert list(sd) == list(tm.state_dict()) and type(sd).__name__ == "OrderedDict"
    assert sd._metadata == tm.state_dict()._metadata        # set by the pickle's BUILD
    same(sd["bn.num_batches_tracked"], tm.bn.num_batches_tracked)
    cm = CrNet()
    cm.load_state_dict(sd)
    cm.eval()
    np.testing.assert_allclose(cm(cr.tensor(x.numpy())).detach().numpy(),
                               tm(x).detach().numpy(), rtol=1e-5, atol=1e-6)


def test_adam_state_dict_resumes_like_torch(tmp_path):
    torch.manual_seed(0)
    tm = torch.nn.Linear(3, 2)
    topt = torch.optim.Adam(tm.parameters(), lr=0.1)
    x = torch.randn(4, 3)
    for _ in range(2):
        topt.zero_grad()
        tm(x).pow(2).sum().backward()
        topt.step()
    tsave({"model": tm.state_dict(), "opt": topt.state_dict()}, tmp_path / "ckpt.pt")
    ck = cr.load(tmp_path / "ckpt.pt", weights_only=True)
    same(ck["opt"]["state"][0]["step"], topt.state_dict()["state"][0]["step"])
    same(ck["opt"]["state"][1]["exp_avg_sq"], topt.state_dict()["state"][1]["exp_avg_sq"])
    assert ck["opt"]["param_groups"] == topt.state_dict()["param_groups"]
    cm = nn.Linear(3, 2)
    cm.load_state_dict(ck["model"])
    copt = cr.optim.Adam(cm.parameters(), lr=0.1)
    copt.load_state_dict(ck["opt"])
    for opt, m, inp in ((topt, tm, x), (copt, cm, cr.tensor(x.numpy()))):
        opt.zero_grad()
        m(inp).pow(2).sum().backward()
        opt.step()
    np.testing.assert_allclose(cm.weight.detach().numpy(), tm.weight.detach().numpy(),
                               rtol=1e-5)


@pytest.mark.parametrize("zipped", FORMATS)
def test_tensors_dtypes_views_and_containers(tmp_path, zipped):
    base = torch.arange(24.0).reshape(4, 6)
    obj = {"views": [base, base.t(), base[1:, ::2], base[2]],
           "dtypes": tuple(torch.tensor([1, 0, 2]).to(d) for d in (
               torch.bool, torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64,
               torch.float16, torch.float32, torch.float64)),
           "scalar": torch.tensor(2.5, dtype=torch.float64), "empty": torch.zeros(0, 3),
           "grad": torch.ones(2, requires_grad=True), "p": torch.nn.Parameter(torch.ones(3)),
           "frozen": torch.nn.Parameter(torch.ones(1), requires_grad=False),
           1: {"nested": [(torch.ones(1), "s", 3, 2.0, None, True)]},
           "size": torch.Size([2, 3]), "dtype": torch.float16, "dev": torch.device("cpu"),
           "set": {1, 2}, "bytes": b"\x00ab", "complex": 1 + 2j}
    got = cr.load(tsave(obj, tmp_path / "t.pt", zipped))
    for a, t in zip(got["views"] + list(got["dtypes"]), obj["views"] + list(obj["dtypes"])):
        same(a, t)
    same(got["scalar"], obj["scalar"])
    same(got["empty"], obj["empty"])
    same(got["grad"], obj["grad"])
    assert type(got["p"]) is nn.Parameter and got["p"].requires_grad
    assert type(got["frozen"]) is nn.Parameter and not got["frozen"].requires_grad
    assert got[1]["nested"][0][1:] == ("s", 3, 2.0, None, True)
    assert got["size"] == cr.Size([2, 3]) and isinstance(got["size"], cr.Size)
    assert got["dtype"] is cr.float16 and got["dev"] == cr.device("cpu")
    assert (got["set"], got["bytes"], got["complex"]) == ({1, 2}, b"\x00ab", 1 + 2j)
    got["views"][0][2, 0] = -1.0               # views saved together still share one storage
    assert got["views"][1][0, 2].item() == -1.0 and got["views"][3][0].item() == -1.0


def test_map_location_forms(tmp_path):
    path = tsave({"w": torch.ones(2)}, tmp_path / "w.pt")
    seen = []
    for ml in ("cpu", cr.device("cpu"), {"cpu": "cpu"}, {"cuda:0": "cpu"},
               lambda s, loc: seen.append(loc)):
        assert cr.load(path, map_location=ml)["w"].tolist() == [1.0, 1.0]
    assert seen == ["cpu"]
    doubled = cr.load(path, map_location=lambda s, loc: s * 2)
    assert doubled["w"].tolist() == [2.0, 2.0]
    for ml in ("cuda", {"cpu": "cuda:0"}, cr.device("meta")):
        with pytest.raises(RuntimeError, match="map_location.*not available"):
            cr.load(path, map_location=ml)
    with pytest.raises(TypeError, match="callable must return None or a 1-D Tensor"):
        cr.load(path, map_location=lambda s, loc: 3)
    # a file saved on a GPU: its location is 'cuda:0'
    gpu = _rewrite(path, tmp_path / "gpu.pt",
                   pkl=lambda b: b.replace(b"X\x03\x00\x00\x00cpu", b"X\x06\x00\x00\x00cuda:0"))
    with pytest.raises(RuntimeError, match="CUDA device.*map_location='cpu'"):
        cr.load(gpu)
    for ml in ("cpu", {"cuda:0": "cpu"}, lambda s, loc: s):
        assert cr.load(gpu, map_location=ml)["w"].tolist() == [1.0, 1.0]


def _rewrite(src, dst, pkl=None, member=None):
    """Copy torch's zip ``src`` to ``dst``, changing data.pkl by ``pkl`` / other members."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if pkl and info.filename.endswith("/data.pkl"):
                data = pkl(data)
            if member and info.filename.endswith(member[0]):
                data = member[1]
            zout.writestr(info.filename, data)
    return dst


class TorchStats:        # a plain class: not in torch's weights-only allowlist
    def __init__(self):
        self.best = torch.ones(1)


class Marker:
    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (os.system, (f"touch {self.path}",))


@pytest.mark.parametrize("zipped", FORMATS)
def test_weights_only_refuses_like_torch(tmp_path, zipped):
    path = tsave({"stats": TorchStats()}, tmp_path / "s.pt", zipped)
    with pytest.raises(pickle.UnpicklingError) as theirs:
        torch.load(path)
    for wo in (None, True):
        with pytest.raises(pickle.UnpicklingError) as ours:
            cr.load(path, weights_only=wo)
        unsupported = (f"Unsupported global: GLOBAL {__name__}.TorchStats was not an allowed "
                       "global by default.")
        assert unsupported in str(theirs.value) and unsupported in str(ours.value)
        assert str(ours.value).startswith("Weights only load failed.")
        assert "`weights_only` set to `False`" in str(ours.value)
    # torch's own objects need torch to rebuild them, even with weights_only=False
    mpath = tsave(torch.nn.Linear(2, 2), tmp_path / "m.pt", zipped)
    with pytest.raises(pickle.UnpicklingError, match="GLOBAL torch.nn.modules.linear.Linear"):
        cr.load(mpath)
    with pytest.raises(pickle.UnpicklingError, match=r"torch object \(torch.nn.modules.linear."
                                                     r"Linear\).*state_dict"):
        cr.load(mpath, weights_only=False)
    # a blocked module is never called, and names the block
    marker = tmp_path / "PWNED"
    evil = tsave([Marker(marker)], tmp_path / "evil.pt", zipped)
    with pytest.raises(pickle.UnpicklingError, match=r"GLOBAL (posix|os).system whose module "
                                                     r"(posix|os) is blocked"):
        cr.load(evil)
    assert not marker.exists()


def test_damaged_and_unsupported_files(tmp_path):
    path = tsave({"w": torch.arange(4.0)}, tmp_path / "w.pt")
    big = _rewrite(path, tmp_path / "big.pt", member=("/byteorder", b"big"))
    with pytest.raises(pickle.UnpicklingError, match="big-endian.*little-endian files only"):
        cr.load(big)
    # a crafted size that would read past the storage
    far = _rewrite(path, tmp_path / "far.pt",
                   pkl=lambda b: b.replace(b"K\x04\x85", b"K\x09\x85", 1))
    with pytest.raises(pickle.UnpicklingError, match="reaches past its storage"):
        cr.load(far)
    short = _rewrite(path, tmp_path / "short.pt", member=("/data/0", b"\x00" * 4))
    with pytest.raises(pickle.UnpicklingError, match="holds 4 bytes, expected 16"):
        cr.load(short)
    tsave({"w": torch.ones(2, dtype=torch.bfloat16)}, tmp_path / "bf.pt")
    with pytest.raises(pickle.UnpicklingError, match="BFloat16Storage.*no dtype"):
        cr.load(tmp_path / "bf.pt")
    tsave({"w": torch.ones(2, dtype=torch.uint16)}, tmp_path / "u16.pt")
    with pytest.raises(pickle.UnpicklingError, match="dtype torch.uint16.*no dtype"):
        cr.load(tmp_path / "u16.pt")
    assert cr.load(io.BytesIO(path.read_bytes()))["w"].tolist() == [0.0, 1.0, 2.0, 3.0]
    with pytest.raises(TypeError, match="only 'encoding'.*weights_only=False"):
        cr.load(path, encoding="latin1")


def test_load_does_not_import_torch(tmp_path):
    path = tsave({"w": torch.ones(2), "p": torch.nn.Parameter(torch.zeros(1))},
                 tmp_path / "w.pt")
    code = ("import sys, chainrule as cr; sd = cr.load(sys.argv[1]); "
            "assert sd['w'].tolist() == [1.0, 1.0]; assert 'torch' not in sys.modules")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    subprocess.run([sys.executable, "-c", code, str(path)], check=True, env=env)


# --------------------------------------------------------------- whole chainrule objects
class RNNModel(nn.Module):
    """pytorch/examples' word_language_model: encoder, LSTM, decoder with tied weights."""

    def __init__(self, ntoken=11, nhid=6):
        super().__init__()
        self.drop = nn.Dropout(0.2)
        self.encoder = nn.Embedding(ntoken, nhid)
        self.rnn = nn.LSTM(nhid, nhid, 2)
        self.decoder = nn.Linear(nhid, ntoken)
        self.decoder.weight = self.encoder.weight

    def forward(self, tokens):
        out, _ = self.rnn(self.drop(self.encoder(tokens)))
        return self.decoder(self.drop(out))


def _count_calls(module, args, output):
    module.calls = getattr(module, "calls", 0) + 1


def test_word_language_model_save_whole_model(tmp_path):
    cr.manual_seed(0)
    model = RNNModel()
    model.decoder.register_forward_hook(_count_calls)
    model.eval()
    tokens = cr.randint(0, 11, (5, 2))
    with open(tmp_path / "model.pt", "wb") as f:
        cr.save(model, f)
    with pytest.raises(pickle.UnpicklingError, match=r"GLOBAL .*RNNModel was not an allowed "
                                                     r"global.*weights_only=False"):
        cr.load(tmp_path / "model.pt")
    with open(tmp_path / "model.pt", "rb") as f:
        loaded = cr.load(f, weights_only=False)
    assert type(loaded) is RNNModel and not loaded.training
    assert loaded.decoder.weight is loaded.encoder.weight           # still tied
    assert type(loaded.rnn.weight_ih_l0) is nn.Parameter
    assert [k for k, _ in loaded.named_buffers()] == [k for k, _ in model.named_buffers()]
    np.testing.assert_array_equal(loaded(tokens).detach().numpy(),
                                  model(tokens).detach().numpy())
    assert loaded.decoder.calls == model.decoder.calls == 1         # the hook came along
    loaded.train()
    loaded(tokens).sum().backward()                                 # and it trains
    assert loaded.encoder.weight.grad is not None


def test_safe_globals_let_a_weights_only_load_rebuild_listed_classes(tmp_path):
    # word_language_model's current code: torch.load under safe_globals of its module classes,
    # named by torch's module paths (torch.nn.modules.sparse.Embedding, ...)
    cr.manual_seed(0)
    model = RNNModel().eval()
    cr.save(model, tmp_path / "model.pt")
    listed = [RNNModel, cr.nn.modules.sparse.Embedding, cr.nn.modules.rnn.LSTM,
              cr.nn.modules.linear.Linear, cr.nn.modules.dropout.Dropout]
    with cr.serialization.safe_globals(listed):
        assert cr.serialization.get_safe_globals() == listed
        loaded = cr.load(tmp_path / "model.pt")                     # weights_only by default
    assert cr.serialization.get_safe_globals() == []
    tokens = cr.randint(0, 11, (5, 2))
    np.testing.assert_array_equal(loaded(tokens).detach().numpy(),
                                  model(tokens).detach().numpy())
    with pytest.raises(pickle.UnpicklingError, match="RNNModel was not an allowed global"):
        cr.load(tmp_path / "model.pt")
    cr.serialization.add_safe_globals([(RNNModel, f"{RNNModel.__module__}.RNNModel")])
    try:
        with pytest.raises(pickle.UnpicklingError, match="Dropout was not an allowed global"):
            cr.load(tmp_path / "model.pt")
    finally:
        cr.serialization.clear_safe_globals()
    with pytest.raises(TypeError, match="add_safe_globals"):
        cr.serialization.add_safe_globals([3])
    # torch's module paths for these classes
    assert torch.nn.modules.sparse.Embedding.__name__ == cr.nn.modules.sparse.Embedding.__name__
    assert type(cr.nn.MultiheadAttention(4, 2).out_proj).__name__ == \
        type(torch.nn.MultiheadAttention(4, 2).out_proj).__name__ == \
        cr.nn.modules.linear.NonDynamicallyQuantizableLinear.__name__


def test_objects_with_optimizer_and_shared_tensors(tmp_path):
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 1))
    opt = cr.optim.Adam(model.parameters(), lr=0.05)
    x = cr.randn(8, 3)
    model(x).sum().backward()
    opt.step()
    base = cr.arange(6.0)
    cr.save({"model": model, "opt": opt, "epoch": 3, "a": base, "b": base[2:]},
            tmp_path / "ck.pt")
    ck = cr.load(tmp_path / "ck.pt", weights_only=False)
    assert ck["epoch"] == 3 and ck["b"].storage_offset() == 2
    ck["a"][3] = 100.0
    assert ck["b"][1].item() == 100.0                       # shared storage kept
    # the optimizer still steps the loaded model's parameters, as the original does its own
    for m, o in ((model, opt), (ck["model"], ck["opt"])):
        o.zero_grad()
        m(x).sum().backward()
        o.step()
    for p, q in zip(model.parameters(), ck["model"].parameters()):
        np.testing.assert_allclose(q.detach().numpy(), p.detach().numpy(), rtol=1e-6)
    with pytest.raises(TypeError, match="cannot pickle"):
        model[0].register_forward_hook(lambda *a: None)
        cr.save(model, tmp_path / "hooked.pt")


def test_data_keeps_pickle_free_format_and_bytes_load_weights_only(tmp_path):
    cr.save({"w": cr.ones(2)}, tmp_path / "data.pt")
    with np.load(tmp_path / "data.pt", allow_pickle=False) as z:    # still chainrule's .npz
        assert "__chainrule_meta__" in z.files
    cr.save({"w": cr.ones(2), "blob": b"raw"}, tmp_path / "blob.pt")   # bytes: pickled
    assert zipfile.ZipFile(tmp_path / "blob.pt").namelist()[0] == "archive/data.pkl"
    got = cr.load(tmp_path / "blob.pt")             # only allowlisted globals: no opt-in
    assert got["blob"] == b"raw" and got["w"].tolist() == [1.0, 1.0]


def test_compiled_and_parametrized_modules(tmp_path):
    x = cr.randn(2, 3)
    compiled = cr.compile(nn.Linear(3, 2))
    compiled(x)                                  # a captured graph, dropped when pickled
    cr.save(compiled, tmp_path / "c.pt")
    again = cr.load(tmp_path / "c.pt", weights_only=False)
    np.testing.assert_array_equal(again(x).detach().numpy(), compiled(x).detach().numpy())
    assert again.counters.captures == 1          # captured anew for the loaded weights
    wn = nn.utils.parametrizations.weight_norm(nn.Linear(3, 2))
    with pytest.raises(RuntimeError, match="parametrized modules is only supported through "
                                           r"state_dict\(\)"):                 # as torch
        cr.save(wn, tmp_path / "wn.pt")
    # deepcopy still works (torch's way)

    np.testing.assert_array_equal(copy.deepcopy(wn)(x).detach().numpy(),
                                  wn(x).detach().numpy())


def test_tensor_attributes_counter_and_layout(tmp_path):
    t = torch.ones(2)
    t.foo = 3                                    # pickled via torch._tensor._rebuild_from_type_v2
    p = torch.nn.Parameter(torch.zeros(2))
    p.bar = "x"                                  # via _rebuild_parameter_with_state
    got = cr.load(tsave({"t": t, "p": p, "c": collections.Counter("aab"), "l": torch.strided},
                        tmp_path / "a.pt"))
    assert got["t"].foo == 3 and got["p"].bar == "x" and type(got["p"]) is nn.Parameter
    assert got["c"] == {"a": 2, "b": 1} and got["l"] is cr.strided
