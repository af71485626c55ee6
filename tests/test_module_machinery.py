"""nn.Module's machinery as torch's, from an outside sweep of everyday and careless use: each
case runs the same code with L = torch and L = chainrule and compares what it observes."""
import numpy as np
import pytest
import torch

import chainrule as cr


def both(fn):
    """fn(L) under torch and chainrule: equal results, or the same exception type."""
    out = []
    for L in (torch, cr):
        try:
            out.append(fn(L))
        except Exception as e:   # noqa: BLE001  (compared below)
            out.append(type(e))
    assert out[0] == out[1], out
    return out[1]


def test_train_and_eval_call_each_childs_own_train():
    # the usual way to keep a BatchNorm frozen: a parent's train() must run the override
    def frozen(L):
        class Frozen(L.nn.Module):
            def __init__(self):
                super().__init__()
                self.bn = L.nn.BatchNorm1d(2)

            def train(self, mode=True):
                super().train(mode)
                self.bn.eval()
                return self
        m = L.nn.Sequential(Frozen())
        m.train()
        a = m[0].bn.training
        m.eval()
        m.train()
        return a, m[0].bn.training, m.training, m[0].training
    assert both(frozen) == (False, False, True, True)


def test_plain_attributes_before_init_and_what_cannot_be_assigned():
    def early(L):
        class M(L.nn.Module):
            def __init__(self):
                self.hidden = 4
                super().__init__()
                self.lin = L.nn.Linear(2, 2)
        return M().hidden
    assert both(early) == 4
    for make in (lambda L: L.nn.Linear(2, 2), lambda L: L.nn.Parameter(L.ones(2))):
        def too_early(L, make=make):
            class M(L.nn.Module):
                def __init__(self):
                    self.x = make(L)
                    super().__init__()
            try:
                M()
            except AttributeError as e:
                return str(e)
        assert both(too_early).startswith("cannot assign")

    def module_over_parameter(L):
        m = L.nn.Linear(2, 2)
        m.bias = L.nn.ReLU()
    both(module_over_parameter)   # TypeError in both

    def parameter_over_buffer(L):
        m = L.nn.Module()
        m.register_buffer("z", L.ones(1))
        m.register_parameter("z", L.nn.Parameter(L.ones(1)))
    both(parameter_over_buffer)   # KeyError in both


def test_load_from_state_dict_override_renames_old_keys():
    def renamed(L):
        class Old(L.nn.Linear):
            def _load_from_state_dict(self, state_dict, prefix, *args):
                if prefix + "w_old" in state_dict:
                    state_dict[prefix + "weight"] = state_dict.pop(prefix + "w_old")
                super()._load_from_state_dict(state_dict, prefix, *args)
        m = L.nn.Sequential(Old(2, 2))
        sd = {"0.w_old": L.full((2, 2), 3.0), "0.bias": L.zeros(2)}
        keys = m.load_state_dict(sd)
        return (float(m[0].weight.detach().sum()), list(keys.missing_keys),
                list(keys.unexpected_keys))
    assert both(renamed) == (12.0, [], [])


def test_extra_state_child_overrides_metadata_and_hooks():
    def extra(L):
        class WithExtra(L.nn.Module):
            def __init__(self):
                super().__init__()
                self.lin, self.note = L.nn.Linear(1, 1), "a"

            def get_extra_state(self):
                return {"note": self.note}

            def set_extra_state(self, state):
                self.note = state["note"]

        class Custom(L.nn.Linear):
            def state_dict(self, *args, destination=None, prefix="", keep_vars=False):
                out = super().state_dict(destination=destination, prefix=prefix,
                                         keep_vars=keep_vars)
                out[prefix + "custom"] = L.ones(1)
                return out
        m = L.nn.Sequential(WithExtra(), Custom(1, 1), L.nn.BatchNorm1d(1))
        sd = m.state_dict()
        sd["0._extra_state"] = {"note": "b"}
        calls = []
        m[2].register_load_state_dict_post_hook(
            lambda mod, keys: calls.append(list(keys.unexpected_keys)))
        m.register_state_dict_pre_hook(lambda mod, prefix, keep: calls.append(("pre", prefix)))
        m.register_state_dict_post_hook(lambda mod, d, prefix, meta: calls.append(("post", len(d))))
        result = m.load_state_dict(sd, strict=False)
        m.state_dict()
        return (list(sd), dict(sd._metadata), m[0].note, list(result.unexpected_keys), calls)
    keys, metadata, note, unexpected, calls = both(extra)
    assert keys[0] == "0._extra_state" and "1.custom" in keys and note == "b"
    assert metadata["2"] == {"version": 2} and unexpected == ["1.custom"]


def test_hook_handles_are_context_managers_with_ids():
    def with_handle(L):
        m, seen = L.nn.Linear(2, 2), []
        with m.register_forward_hook(lambda *a: seen.append(1)) as handle:
            m(L.ones(1, 2))
            inside = handle.id in m._forward_hooks
        m(L.ones(1, 2))
        return seen, inside, isinstance(handle.id, int)
    assert both(with_handle) == ([1], True, True)


def test_a_one_element_value_loads_into_a_zero_dim_buffer():
    def old_count(L):
        bn = L.nn.BatchNorm1d(2)
        sd = {k: v.clone() for k, v in bn.state_dict().items()}
        sd["num_batches_tracked"] = L.tensor([7])
        bn.load_state_dict(sd)
        return int(bn.num_batches_tracked), tuple(bn.num_batches_tracked.shape)
    assert both(old_count) == (7, ())


def test_load_errors_read_as_torchs():
    def mismatch(L):
        m = L.nn.Linear(3, 2)
        try:
            m.load_state_dict({"weight": L.ones(1, 3), "extra": L.ones(1)})
        except RuntimeError as e:
            return str(e).replace("torch.", "").replace("chainrule.", "")
    assert "size mismatch for weight: copying a param with shape Size([1, 3]) from checkpoint" \
        in both(mismatch)


def test_parameter_list_extends_with_plus_equals():
    def plus(L):
        ps = L.nn.ParameterList([L.nn.Parameter(L.ones(1))])
        ps += [L.zeros(2)]
        return len(ps), type(ps[1]).__name__
    assert both(plus) == (2, "Parameter")
    np.testing.assert_array_equal(cr.nn.ParameterList([cr.ones(1)])[0].detach().numpy(), [1.0])


def test_state_dict_positional_arguments_warn_as_torch():
    for L in (torch, cr):
        with pytest.warns(FutureWarning, match="Positional args are being deprecated"):
            sd = L.nn.Linear(1, 1).state_dict(None, "pre.")
        assert sorted(sd) == ["pre.bias", "pre.weight"]


def test_full_backward_pre_hook_sees_and_replaces_grad_output():
    def pre(L):
        m, seen = L.nn.Linear(2, 1), []
        with torch.no_grad() if L is torch else cr.no_grad():
            m.weight.fill_(1.0)

        def hook(mod, grad_output):
            seen.append(tuple(grad_output[0].shape))
            return (grad_output[0] * 3,)
        m.register_full_backward_pre_hook(hook)
        x = L.ones(1, 2, requires_grad=True)
        m(x).sum().backward()
        return seen, x.grad.tolist()
    assert both(pre) == ([(1, 1)], [[3.0, 3.0]])


def test_optimizer_state_dict_hooks_and_step_hook_arguments():
    def hooks(L):
        p = L.nn.Parameter(L.ones(2))
        opt, calls = L.optim.SGD([p], lr=0.1, momentum=0.9), []
        opt.register_state_dict_pre_hook(lambda o: calls.append("pre"))
        opt.register_state_dict_post_hook(lambda o, sd: {**sd, "tag": 1})
        opt.register_load_state_dict_pre_hook(
            lambda o, sd: calls.append(("load-pre", sorted(sd))) or None)
        opt.register_load_state_dict_post_hook(lambda o: calls.append("load-post"))
        opt.register_step_pre_hook(lambda o, args, kwargs: calls.append(len(args)))
        p.grad = L.ones(2)
        opt.step()
        sd = opt.state_dict()
        opt.load_state_dict(sd)
        return calls, sd["tag"]
    assert both(hooks) == ([1, "pre", ("load-pre", ["param_groups", "state", "tag"]),
                            "load-post"], 1)


def test_small_names_as_torch():
    assert cr.nn.Linear(1, 1)._get_name() == "Linear"
    with pytest.raises(TypeError, match="bfloat16"):
        cr.nn.Linear(1, 1).bfloat16()
    p = cr.nn.Parameter(cr.ones(3))
    p.grad = cr.full((3,), 4.0)
    with pytest.warns(FutureWarning, match="clip_grad_norm_"):
        total = cr.nn.utils.clip_grad_norm([p], 1.0)
    assert float(total) == pytest.approx(48 ** 0.5)
    with cr.ones(2, requires_grad=True).register_hook(lambda g: g) as handle:
        assert handle is not None


def test_parameter_dict_takes_a_plain_dict_in_sorted_order():
    def order(L):
        from collections import OrderedDict
        one = lambda: L.nn.Parameter(L.ones(1))   # noqa: E731
        plain = L.nn.ParameterDict({"b": one(), "a": one()})
        ordered = L.nn.ParameterDict(OrderedDict([("b", one()), ("a", one())]))
        pairs = L.nn.ParameterDict([("b", one()), ("a", one())])
        plain.update({"z": one(), "c": one()})
        return list(plain), list(ordered), list(pairs), list(plain.copy())
    assert both(order) == (["a", "b", "c", "z"], ["b", "a"], ["b", "a"], ["a", "b", "c", "z"])


LAYERS = {"conv": lambda L: L.nn.Conv2d(3, 4, 3),
          "conv_nobias": lambda L: L.nn.Conv2d(3, 4, 3, bias=False),
          "conv_transpose": lambda L: L.nn.ConvTranspose2d(3, 4, 3),
          "linear": lambda L: L.nn.Linear(5, 4), "bn_plain": lambda L: L.nn.Conv2d(3, 4, 1)}


@pytest.mark.parametrize("kind", list(LAYERS))
def test_fuse_batch_norm_into_the_layer_before_as_torch(kind):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 5) if kind == "linear" else (2, 3, 6, 6)).astype(np.float32)
    mean, var = rng.standard_normal(4), rng.uniform(0.5, 2, 4)
    weights = {k: v.numpy() for k, v in LAYERS[kind](torch).state_dict().items()}
    bn_state = {"running_mean": mean, "running_var": var, "num_batches_tracked": np.array(3)}
    if kind != "bn_plain":
        bn_state.update(weight=var - 1, bias=mean * 2)
    outs = []
    for L in (torch, cr):
        layer = LAYERS[kind](L)
        bn = (L.nn.BatchNorm1d(4) if kind == "linear"
              else L.nn.BatchNorm2d(4, affine=kind != "bn_plain"))
        layer.load_state_dict({k: L.tensor(v) for k, v in weights.items()})
        bn.load_state_dict({k: L.tensor(v if k == "num_batches_tracked" else np.float32(v))
                            for k, v in bn_state.items()})
        layer.eval(), bn.eval()
        fused = (L.nn.utils.fuse_linear_bn_eval(layer, bn) if kind == "linear" else
                 L.nn.utils.fuse_conv_bn_eval(layer, bn, transpose=kind == "conv_transpose"))
        with (torch.no_grad() if L is torch else cr.no_grad()):
            outs.append((fused(L.tensor(x)).numpy(), bn(layer(L.tensor(x))).numpy(),
                         fused.weight.detach().numpy(), fused.bias.detach().numpy(),
                         fused.weight.requires_grad))
    (_, _, tw, tb, t_grad), (c_fused, c_plain, cw, cb, c_grad) = outs
    np.testing.assert_allclose(c_fused, c_plain, rtol=1e-5, atol=1e-5)   # fused = unfused
    np.testing.assert_allclose(cw, tw, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(cb, tb, rtol=1e-6, atol=1e-7)
    assert c_grad == t_grad
    with pytest.raises(AssertionError, match="Fusion only for eval"):
        cr.nn.utils.fuse_conv_bn_eval(cr.nn.Conv2d(1, 1, 1), cr.nn.BatchNorm2d(1))
