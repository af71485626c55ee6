"""chainrule.onnx.export and compile(backend="onnxruntime"): every exported model passes
onnx.checker (full_check) and ONNX Runtime's outputs equal chainrule's, at the traced batch
size and, through dynamic_axes, at another; the exported file runs without chainrule."""
import io
import json
import os
import subprocess
import sys
import warnings

import numpy as np
import onnx
import onnxruntime as ort
import pytest

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import models, nn

DYN = {"input": {0: "batch"}, "output": {0: "batch"}}


def _session(data):
    return ort.InferenceSession(data, providers=["CPUExecutionProvider"])


def _export_bytes(model, args, **kw):
    f = io.BytesIO()
    cr.onnx.export(model, args, f, **kw)
    return f.getvalue()


def _eager(model, x):
    with cr.no_grad():
        return model(x).numpy()


def check_model(model, x, *others, rtol=1e-5, atol=1e-6):
    """Export with a dynamic batch axis; compare ONNX Runtime with chainrule on x and others."""
    if isinstance(model, nn.Module):
        model.eval()
    data = _export_bytes(model, x, input_names=["input"], output_names=["output"],
                         dynamic_axes=DYN)
    proto = onnx.load_from_string(data)
    onnx.checker.check_model(proto, full_check=True)
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"
    assert proto.graph.output[0].type.tensor_type.shape.dim[0].dim_param == "batch"
    session = _session(data)
    for xx in (x, *others):
        want = _eager(model, xx) if isinstance(model, nn.Module) or callable(model) else None
        got, = session.run(None, {"input": xx.numpy()})
        assert got.shape == want.shape and got.dtype == want.dtype
        np.testing.assert_allclose(got, want, rtol=rtol, atol=atol)
    return proto


def _randomize_batch_norm(model, seed=0):
    rng = np.random.default_rng(seed)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            c = m.num_features
            m.running_mean._data[...] = rng.normal(0, 0.1, c)
            m.running_var._data[...] = rng.uniform(0.5, 1.5, c)
            m.weight._data[...] = rng.uniform(0.5, 1.5, c)
            m.bias._data[...] = rng.normal(0, 0.1, c)
    return model


# ---------------------------------------------------------------------------- the seed's models
@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "leaky_relu", "elu", "gelu",
                                        "silu", "identity", "softmax"])
def test_mlp_every_activation(activation):
    cr.manual_seed(0)
    check_model(models.MLP(6, [8, 7], 3, activation=activation), cr.randn(2, 6), cr.randn(5, 6))


@pytest.mark.parametrize("head", [nn.Softmax(dim=1), nn.LogSoftmax(dim=-1)])
def test_classifier_with_a_softmax_head(head):
    cr.manual_seed(1)
    check_model(models.MLP(6, [8], 4, output_activation=head), cr.randn(3, 6), cr.randn(1, 6))


def test_lenet5_both_forms():
    cr.manual_seed(2)
    proto = check_model(models.LeNet5(), cr.randn(2, 1, 28, 28), cr.randn(5, 1, 28, 28))
    assert [n.op_type for n in proto.graph.node] == [
        "Conv", "Relu", "MaxPool", "Conv", "Relu", "MaxPool", "Reshape", "Gemm", "Relu", "Gemm",
        "Relu", "Gemm"]
    assert [i.name for i in proto.graph.initializer if "." in i.name] == [
        k for k in models.LeNet5().state_dict()]          # named as in state_dict()
    check_model(models.LeNet5(input_size=32, activation="tanh", pool="avg"),
                cr.randn(2, 1, 32, 32), cr.randn(3, 1, 32, 32))


@pytest.mark.parametrize("plain", [False, True])
def test_resnet20(plain):
    cr.manual_seed(3)
    model = _randomize_batch_norm(models.resnet20(num_classes=5, plain=plain))
    check_model(model, cr.randn(2, 3, 8, 8), cr.randn(3, 3, 8, 8), atol=1e-5)


def test_resnet56_tiny():
    cr.manual_seed(4)
    model = _randomize_batch_norm(models.resnet56(num_classes=3, in_channels=1))
    check_model(model, cr.randn(1, 1, 4, 4), cr.randn(2, 1, 4, 4), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("plain", [False, True])
def test_resnet18(plain):
    cr.manual_seed(5)
    model = _randomize_batch_norm(models.resnet18(num_classes=4, plain=plain))
    check_model(model, cr.randn(1, 3, 16, 16), cr.randn(2, 3, 16, 16), atol=1e-5)


@pytest.mark.parametrize("basis", [lambda: models.RBF(3, 5), lambda: models.FourierFeatures(3, 4),
                                   lambda: models.PolynomialFeatures(3),
                                   lambda: models.RBF(3, 5, trainable=False)])
def test_basis_function_models(basis):
    cr.manual_seed(6)
    check_model(models.basis_model(basis(), 2, 3), cr.randn(4, 3), cr.randn(7, 3))


def test_xor_network_heaviside_steps():
    X = cr.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    check_model(models.xor_network(), X, cr.tensor([[0.5, 0.5], [1.0, 0.25]]))
    got, = _session(_export_bytes(models.xor_network(), X)).run(None, {"input": X.numpy()})
    assert got.ravel().tolist() == [0.0, 1.0, 1.0, 0.0]


@pytest.mark.parametrize("family", ["gaussian", "bernoulli", "poisson"])
def test_glm_exports_its_mean(family):
    rng = np.random.default_rng(7)
    X = rng.normal(size=(40, 3))
    y = {"gaussian": X @ [1.0, -2.0, 0.5] + rng.normal(size=40),
         "bernoulli": (X[:, 0] + 0.5 * rng.normal(size=40) > 0).astype(float),
         "poisson": rng.poisson(np.exp(X @ [0.2, 0.1, -0.3]))}[family]
    glm = models.GLM(family).fit(X, y)
    data = _export_bytes(glm, cr.tensor(X[:2]), input_names=["X"], dynamic_axes={"X": [0]})
    onnx.checker.check_model(onnx.load_from_string(data), full_check=True)
    got, = _session(data).run(None, {"X": X})
    np.testing.assert_allclose(got, glm.predict(X), rtol=1e-12, atol=1e-12)   # float64


def test_perceptron_exports_its_step():
    rng = np.random.default_rng(8)
    X = rng.normal(size=(30, 2)).astype(np.float32)
    y = (X[:, 0] - X[:, 1] > 0).astype(int)
    p = models.Perceptron().fit(X, y)
    data = _export_bytes(p, cr.from_numpy(X[:3]), input_names=["X"], dynamic_axes={"X": [0]})
    got, = _session(data).run(None, {"X": X})
    assert got.dtype == np.float32 and (got == p.predict(X)).all()
    with pytest.raises(RuntimeError, match="not fitted"):
        cr.onnx.export(models.Perceptron(), cr.from_numpy(X), io.BytesIO())


# ---------------------------------------------------------------------------- primitives one by one
def _ops_cases():
    def conv(x):
        w = cr.linspace(-1, 1, 4 * 1 * 3 * 2).reshape(4, 1, 3, 2)
        return F.conv2d(x, w, cr.tensor([0.1, -0.2, 0.3, 0.0]), stride=(2, 1), padding=(1, 0),
                        dilation=(1, 2), groups=2)
    return [
        ("add_alpha", lambda x: x.add(x * 2, alpha=3) - x.sub(x, alpha=0.5), (2, 3)),
        ("rsub_pow", lambda x: (1 - x) ** 2 + 2 ** x - x.abs().sqrt() / (x * x + 1), (2, 3)),
        ("clamp_hardtanh", lambda x: x.clamp(-0.5, 0.7) + F.hardtanh(x, -0.2, 0.3)
         + x.clamp(min=0.1), (2, 3)),
        ("threshold_softplus", lambda x: F.threshold(x, 0.1, -3.0) + F.softplus(x, 2, 1.0)
         + F.softplus(x), (2, 5)),
        ("selu_celu_gelu_tanh", lambda x: F.selu(x) + F.celu(x, 0.7) + F.gelu(x, approximate="tanh"),
         (3, 4)),
        ("unary", lambda x: x.exp().log() + x.sin() * x.cos() + x.tanh().atan() + x.floor()
         + x.sign() + x.erf(), (2, 4)),
        ("cast", lambda x: (x.double() * 3).float() + x.clone(), (2, 3)),
        ("reductions", lambda x: x.sum() + x.mean(1).sum(-1) + x.amax(dim=(1, 2))
         + x.sum(-1, keepdim=True).mean((1, 2)), (2, 3, 4)),
        ("shapes", lambda x: cr.cat([x.flip(1), x.permute(0, 2, 1).reshape(x.shape[0], 4, 3)], 1)
         .flatten(1), (2, 4, 3)),
        ("expand", lambda x: x[:, :1].expand(-1, 5) * x.sum(1, keepdim=True), (3, 2)),
        ("pad", lambda x: F.pad(x, (1, 2, 0, 1), value=0.5), (2, 3, 4)),
        ("getitem", lambda x: x[:, 1:3].sum((1, 2)) + x[..., 0].sum(-1) + x[:, None, -1, 0][:, 0]
         + x[:, ::2, 1].sum(-1), (2, 4, 3)),
        ("matmul", lambda x: (x @ x.mT).sum(-1) @ cr.ones(4), (2, 4, 3)),
        ("conv_groups_stride_dilation", conv, (2, 2, 7, 6)),
        ("pools", lambda x: F.max_pool2d(x, 3, 2, 1, ceil_mode=True).sum((2, 3))
         + F.avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False).sum((2, 3))
         + F.max_pool2d(x, 2, dilation=2).sum((2, 3))
         + F.adaptive_avg_pool2d(x, (2, 3)).sum((2, 3)), (2, 3, 7, 8)),
        ("conv1d", nn.Sequential(nn.Conv1d(2, 3, 3, stride=2, padding=1), nn.Tanh(),
                                 nn.Conv1d(3, 2, 2, dilation=2, bias=False)), (2, 2, 9)),
        ("layer_norm", nn.Sequential(nn.Linear(3, 6), nn.LayerNorm(6), nn.Unflatten(1, (2, 3)),
                                     nn.LayerNorm((2, 3), elementwise_affine=False),
                                     nn.Flatten()), (4, 3)),
        ("masked_fill_fixed_mask", lambda x: x.masked_fill(cr.tensor([True, False, True]), -1.0)
         .exp(), (2, 3)),
        ("batchnorm1d", nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU()), (5, 3)),
        ("attention_causal", lambda x: F.scaled_dot_product_attention(
            x, x * 0.5, x + 1, is_causal=True), (2, 3, 5, 4)),
        # the second row masked throughout: weights 0 there, as torch's
        ("attention_bool_mask", lambda x: F.scaled_dot_product_attention(
            x, x.flip(-1), x, cr.tensor([[True, False, True], [False] * 3, [True] * 3])),
         (2, 3, 4)),
    ]


@pytest.mark.parametrize("name,fn,shape", _ops_cases(), ids=[c[0] for c in _ops_cases()])
def test_each_mapped_primitive(name, fn, shape):
    cr.manual_seed(9)
    if isinstance(fn, nn.Module):
        fn.eval()
    x = cr.randn(*shape)
    check_model(fn, x, cr.randn(shape[0] + 2, *shape[1:]), rtol=1e-5, atol=1e-5)


class _Outputs(nn.Module):
    """A recurrent layer's output sequence alone, or all its outputs side by side."""

    def __init__(self, layer, everything=False):
        super().__init__()
        self.layer, self.everything = layer, everything

    def forward(self, x, *state):
        y, h = self.layer(x, *state)
        if not self.everything:
            return y
        return cr.cat([y.flatten()] + [s.flatten() for s in (h if isinstance(h, tuple) else (h,))])


@pytest.mark.parametrize("layer", [
    lambda: nn.LSTM(3, 4, num_layers=2, bidirectional=True, batch_first=True),
    lambda: nn.LSTM(3, 4, bias=False, batch_first=True),
    lambda: nn.GRU(3, 4, num_layers=2, bidirectional=True, batch_first=True),
    lambda: nn.RNN(3, 4, nonlinearity="relu", bidirectional=True, batch_first=True),
    lambda: nn.RNN(3, 4, bias=False, batch_first=True)], ids=["lstm", "lstm_no_bias", "gru",
                                                              "rnn_relu", "rnn_tanh"])
def test_recurrent_layers_as_onnx_operators(layer):
    """Each layer and direction is ONNX's LSTM, GRU or RNN operator (gates in ONNX's order,
    the GRU's reset after its hidden product); the batch axis stays free (zero initial states
    are ONNX's default)."""
    cr.manual_seed(9)
    proto = check_model(_Outputs(layer()), cr.randn(2, 5, 3), cr.randn(6, 5, 3))
    kinds = {n.op_type for n in proto.graph.node}
    assert kinds & {"LSTM", "GRU", "RNN"} and not kinds & {"Sigmoid", "Tanh", "MatMul"}


def test_recurrent_layers_with_given_initial_states_and_final_states():
    """The initial states as graph inputs, the final states among the outputs (at the traced
    batch: stacking the states reshapes by it)."""
    cr.manual_seed(9)
    x = cr.randn(5, 2, 3)
    for layer, states in [(nn.LSTM(3, 4, num_layers=2, bidirectional=True),
                           {"h0": cr.randn(4, 2, 4), "c0": cr.randn(4, 2, 4)}),
                          (nn.GRU(3, 4, bidirectional=True), {"h0": cr.randn(2, 2, 4)})]:
        model = _Outputs(layer, everything=True).eval()
        hidden = tuple(states.values()) if len(states) == 2 else states["h0"]
        data = _export_bytes(model, (x, hidden), input_names=["x", *states])
        onnx.checker.check_model(onnx.load_from_string(data), full_check=True)
        feed = {"x": x.numpy(), **{k: v.numpy() for k, v in states.items()}}
        got, = _session(data).run(None, feed)
        with cr.no_grad():
            np.testing.assert_allclose(got, model(x, hidden).numpy(), rtol=1e-5, atol=1e-6)


def test_transformer_layer_at_its_traced_batch():
    """(Its attention reshapes by the batch size read at capture: no dynamic batch axis.)"""
    cr.manual_seed(9)
    layer = nn.TransformerEncoderLayer(8, 2, 16, batch_first=True).eval()
    x = cr.randn(2, 5, 8)
    data = _export_bytes(layer, x, input_names=["input"], output_names=["output"])
    onnx.checker.check_model(onnx.load_from_string(data), full_check=True)
    got, = _session(data).run(None, {"input": x.numpy()})
    np.testing.assert_allclose(got, _eager(layer, x), rtol=1e-5, atol=1e-5)


def test_every_table_entry_is_a_primitive():
    assert "Conv" in cr.onnx.SUPPORTED_PRIMITIVES and "Addmm" in cr.onnx.SUPPORTED_PRIMITIVES
    assert len(cr.onnx.SUPPORTED_PRIMITIVES) > 50


# ---------------------------------------------------------------------------- the interface
def test_unsupported_primitive_is_named():
    with pytest.raises(cr.onnx.UnsupportedOperatorError,
                       match=r"^chainrule\.onnx\.export: no ONNX mapping for the primitive "
                             r"'CumSum' \(cumsum\)"):
        cr.onnx.export(lambda x: x.cumsum(0), cr.randn(3), io.BytesIO())
    assert issubclass(cr.onnx.UnsupportedOperatorError, RuntimeError)


def test_a_call_that_cannot_be_captured():
    with pytest.raises(RuntimeError, match="cannot be exported: .*item"):
        cr.onnx.export(lambda x: x * x.sum().item(), cr.randn(3), io.BytesIO())


def test_path_and_file_object_outputs(tmp_path):
    model = models.MLP(3, [4], 2).eval()
    x = cr.randn(2, 3)
    buf = io.BytesIO()
    cr.onnx.export(model, x, buf)
    path = tmp_path / "m.onnx"
    path.write_bytes(b"old")
    cr.onnx.export(model, (x,), str(path))               # replaced atomically
    assert path.read_bytes() == buf.getvalue()
    cr.onnx.export(model, x, tmp_path / "p.onnx")         # os.PathLike
    assert (tmp_path / "p.onnx").read_bytes() == buf.getvalue()
    assert sorted(os.listdir(tmp_path)) == ["m.onnx", "p.onnx"]     # no temporary left
    with pytest.raises(TypeError, match="f must be a path or a binary file object"):
        cr.onnx.export(model, x, 42)
    with pytest.raises(TypeError, match="args must be a Tensor or a tuple"):
        cr.onnx.export(model, x.numpy(), io.BytesIO())


def test_input_and_output_names():
    class Two(nn.Module):
        def forward(self, image, extra):
            return image * 2, {"s": image.sum(1) + extra}
    x, e = cr.randn(2, 3), cr.randn(2)
    proto = onnx.load_from_string(_export_bytes(Two(), (x, e)))
    assert [i.name for i in proto.graph.input] == ["image", "extra"]     # forward's names
    assert [o.name for o in proto.graph.output] == ["output_0", "output_1"]
    proto = onnx.load_from_string(_export_bytes(Two(), (x, e), input_names=["a"],
                                                output_names=["y"]))
    assert [i.name for i in proto.graph.input] == ["a", "extra"]
    assert [o.name for o in proto.graph.output] == ["y", "output_1"]
    y, s = _session(proto.SerializeToString()).run(None, {"a": x.numpy(), "extra": e.numpy()})
    np.testing.assert_allclose(y, x.numpy() * 2)
    np.testing.assert_allclose(s, x.numpy().sum(1) + e.numpy(), rtol=1e-6)
    with pytest.raises(ValueError, match="input_names must be at most 2"):
        cr.onnx.export(Two(), (x, e), io.BytesIO(), input_names=["a", "b", "c"])
    with pytest.raises(ValueError, match="must be distinct"):
        cr.onnx.export(Two(), (x, e), io.BytesIO(), input_names=["a", "y"], output_names=["y"])


def test_an_output_that_is_an_input_or_repeated():
    proto = onnx.load_from_string(_export_bytes(lambda x: (x, x.exp(), x.exp() + 0), cr.randn(2)))
    a = np.array([0.5, -1.0], np.float32)
    outs = _session(proto.SerializeToString()).run(None, {"x": a})
    np.testing.assert_allclose(outs[0], a)
    np.testing.assert_allclose(outs[1], np.exp(a), rtol=1e-6)


def test_dynamic_axes_forms_and_errors():
    model = models.MLP(3, [4], 2).eval()
    x = cr.randn(2, 3)
    proto = onnx.load_from_string(_export_bytes(model, x, input_names=["inp"],
                                                dynamic_axes={"inp": [0]}))
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "inp_dynamic_axes_1"
    # the output's batch axis follows the input's through shape inference
    assert proto.graph.output[0].type.tensor_type.shape.dim[0].dim_param == "inp_dynamic_axes_1"
    static = onnx.load_from_string(_export_bytes(model, x))
    assert [d.dim_value for d in static.graph.input[0].type.tensor_type.shape.dim] == [2, 3]
    with pytest.warns(UserWarning, match="dynamic_axes names 'nope'"):
        cr.onnx.export(model, x, io.BytesIO(), dynamic_axes={"nope": [0]})
    with pytest.raises(ValueError, match="names axis 2, but input has 2 dimensions"):
        cr.onnx.export(model, x, io.BytesIO(), dynamic_axes={"input": [2]})


@pytest.mark.parametrize("opset", [13, 17, 18])
def test_opsets(opset):
    model = _randomize_batch_norm(models.resnet20(num_classes=2)).eval()
    x = cr.randn(1, 3, 4, 4)
    proto = onnx.load_from_string(_export_bytes(model, x, opset_version=opset))
    assert proto.opset_import[0].version == opset
    got, = _session(proto.SerializeToString()).run(None, {"x": x.numpy()})
    np.testing.assert_allclose(got, _eager(model, x), rtol=1e-5, atol=1e-5)


def test_bad_opset():
    with pytest.raises(ValueError, match="opset_version must be an int in 13"):
        cr.onnx.export(models.MLP(2, [], 1), cr.randn(1, 2), io.BytesIO(), opset_version=9)


def test_export_params_false_makes_parameters_inputs():
    model = models.MLP(3, [4], 2).eval()
    x = cr.randn(2, 3)
    proto = onnx.load_from_string(_export_bytes(model, x, export_params=False))
    names = [i.name for i in proto.graph.input]
    assert names == ["input", "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
    assert not [i for i in proto.graph.initializer if "." in i.name]
    feeds = {"input": x.numpy(), **{k: v.numpy() for k, v in model.state_dict().items()}}
    got, = _session(proto.SerializeToString()).run(None, feeds)
    np.testing.assert_allclose(got, _eager(model, x), rtol=1e-6)


def test_constant_folding_on_and_off_agree():
    cr.manual_seed(10)
    model = models.basis_model(models.RBF(3, 4), 2, 3).eval()   # exp(2·log s) is constant
    x = cr.randn(3, 3)
    folded = onnx.load_from_string(_export_bytes(model, x))
    plain = onnx.load_from_string(_export_bytes(model, x, do_constant_folding=False))
    assert len(folded.graph.node) < len(plain.graph.node)
    a, = _session(folded.SerializeToString()).run(None, {"input": x.numpy()})
    b, = _session(plain.SerializeToString()).run(None, {"input": x.numpy()})
    np.testing.assert_allclose(a, b, rtol=1e-6)


def test_a_training_module_is_exported_in_eval_mode_and_left_training():
    model = nn.Sequential(nn.Linear(3, 4), nn.Dropout(0.5), nn.BatchNorm1d(4), nn.Linear(4, 2))
    model.train()
    x = cr.randn(6, 3)
    data = _export_bytes(model, x)
    assert model.training and all(m.training for m in model.modules())
    model.eval()
    got, = _session(data).run(None, {"input": x.numpy()})
    np.testing.assert_allclose(got, _eager(model, x), rtol=1e-5, atol=1e-6)


def test_verbose_prints_the_graph(capsys):
    cr.onnx.export(models.MLP(2, [], 1), cr.randn(1, 2), io.BytesIO(), verbose=True)
    assert "Gemm" in capsys.readouterr().out


def test_missing_extra_names_it(monkeypatch):
    from chainrule._extras import MissingExtra
    monkeypatch.setitem(sys.modules, "onnx", None)
    with pytest.raises(MissingExtra, match=r"^this needs onnx \(ONNX export\) — "
                                           r"pip install chainrule\[onnx\]$"):
        cr.onnx.export(models.MLP(2, [], 1), cr.randn(1, 2), io.BytesIO())


def test_lenet5_runs_in_onnxruntime_without_chainrule(tmp_path):
    cr.manual_seed(11)
    model = models.LeNet5().eval()
    x = cr.randn(3, 1, 28, 28)
    cr.onnx.export(model, cr.randn(1, 1, 28, 28), tmp_path / "lenet.onnx", input_names=["image"],
                   output_names=["logits"],
                   dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}})
    np.save(tmp_path / "x.npy", x.numpy())
    np.save(tmp_path / "want.npy", _eager(model, x))
    script = (
        "import sys, numpy as np, onnxruntime as ort\n"
        "d = sys.argv[1]\n"
        "s = ort.InferenceSession(d + '/lenet.onnx', providers=['CPUExecutionProvider'])\n"
        "got, = s.run(['logits'], {'image': np.load(d + '/x.npy')})\n"
        "np.testing.assert_allclose(got, np.load(d + '/want.npy'), rtol=1e-5, atol=1e-6)\n"
        "assert 'chainrule' not in sys.modules, 'chainrule was imported'\n"
        "print('ok', got.shape)\n")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    r = subprocess.run([sys.executable, "-c", script, str(tmp_path)], check=False,
                       capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "ok (3, 10)"


# ---------------------------------------------------------------------------- compile backend
def test_compile_onnxruntime_equals_eager():
    cr.manual_seed(12)
    for model, shape in ((models.LeNet5(), (4, 1, 28, 28)),
                         (_randomize_batch_norm(models.resnet20(num_classes=3)), (2, 3, 8, 8))):
        model.eval()
        fast = cr.compile(model, backend="onnxruntime")
        for n in (shape[0], 1):
            x = cr.randn(n, *shape[1:])
            y = fast(x)
            assert isinstance(y, cr.Tensor) and not y.requires_grad
            np.testing.assert_allclose(y.numpy(), _eager(model, x), rtol=1e-5, atol=1e-5)
        fast(cr.randn(*shape))
        assert fast.exports == 2                      # one per input shape, then cached
        assert "_orig_mod.fc.weight" in fast.state_dict() or \
            "_orig_mod.classifier.5.weight" in fast.state_dict()


def test_compile_onnxruntime_functions_and_refusals():
    f = cr.compile(lambda a, b: (a * b + 1, {"s": a.sum(), "none": None}), backend="onnxruntime")
    a, b = cr.randn(3), cr.randn(3)
    y, d = f(a, b)
    np.testing.assert_allclose(y.numpy(), (a * b + 1).numpy(), rtol=1e-6)
    np.testing.assert_allclose(d["s"].numpy(), a.sum().numpy(), rtol=1e-6)
    assert d["none"] is None
    g = cr.compile(lambda a, opts, *, scale: a * opts["w"] * scale, backend="onnxruntime")
    w = cr.randn(3)
    np.testing.assert_allclose(g(a, {"w": w}, scale=cr.tensor(2.0)).numpy(),
                               (a * w * 2).numpy(), rtol=1e-6)
    model = models.MLP(3, [4], 2)
    fast = cr.compile(model, backend="onnxruntime")
    with pytest.raises(RuntimeError, match="inference only: the module is in training mode"):
        fast(cr.randn(2, 3))
    model.eval()
    with pytest.raises(RuntimeError, match="an input requires grad"):
        fast(cr.randn(2, 3, requires_grad=True))
    with cr.no_grad():
        fast(cr.randn(2, 3, requires_grad=True))
    # new weights are read after reset()
    x = cr.randn(2, 3)
    before = fast(x).numpy()
    with cr.no_grad():
        model.fc2.bias.add_(1.0)
    fast.reset()
    np.testing.assert_allclose(fast(x).numpy(), before + 1, rtol=1e-5, atol=1e-6)


def test_metadata_and_names_are_json_friendly():
    proto = onnx.load_from_string(_export_bytes(models.MLP(2, [], 1), cr.randn(1, 2)))
    assert proto.producer_name == "chainrule"
    json.dumps([n.name for n in proto.graph.node])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        onnx.checker.check_model(proto, full_check=True)


def test_comparisons_and_casts_export_and_a_value_made_outside_the_primitives_is_refused():
    for fn in (lambda x: (x > 0).float() * x, lambda x: cr.where(x > 0, x, x * 0.1),
               lambda x: x.masked_fill(x <= 0, 0.5)):
        got, = _session(_export_bytes(fn, cr.randn(5))).run(None, {"x": -np.ones(5, np.float32)})
        np.testing.assert_allclose(got, fn(-cr.ones(5)).numpy())
    with pytest.raises(RuntimeError, match="computed outside the recorded primitives"):
        cr.onnx.export(lambda x: x * cr.count_nonzero(x > 0), cr.randn(5), io.BytesIO())
    const = cr.tensor([1.0, 2.0, 3.0])
    data = _export_bytes(lambda x: x * const + cr.tensor(0.5), cr.randn(3))   # true constants
    got, = _session(data).run(None, {"x": np.ones(3, np.float32)})
    np.testing.assert_allclose(got, [1.5, 2.5, 3.5])
