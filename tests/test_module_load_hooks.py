"""``Module.register_load_state_dict_pre_hook`` / ``_register_load_state_dict_pre_hook``: the
hook arguments, prefixes, the loader's private copy and removal, side by side with torch."""
from collections import OrderedDict

import numpy as np
import pytest

import chainrule as cr

torch = pytest.importorskip("torch")


def _build(lib):
    lib.manual_seed(0)
    return lib.nn.Sequential(OrderedDict([("inp", lib.nn.Linear(2, 3)), ("act", lib.nn.Tanh()),
                                          ("out", lib.nn.Sequential(lib.nn.Linear(3, 1)))]))


@pytest.mark.parametrize("public", [True, False])
def test_pre_hooks_see_the_same_calls_as_torch(public):
    """Every hooked module is called once with its own prefix, strict flag, the loader's copy of
    the dict (renames there are what gets loaded; the caller's dict is untouched)."""
    calls = {}
    for lib in (cr, torch):
        net, seen = _build(lib), []

        def hook(*args, seen=seen):
            module = args[0] if public else None
            sd, prefix, _meta, strict, missing, _unexpected, errors = args[-7:]
            seen.append((type(module).__name__ if public else None, prefix, strict,
                         sorted(sd), type(missing).__name__, type(errors).__name__))
            if prefix == "out.":                  # rename an old key the way MLP does
                sd[prefix + "0.bias"] = sd.pop(prefix + "legacy_bias")

        for m in (net, net.out):
            if public:
                m.register_load_state_dict_pre_hook(hook)
            else:
                m._register_load_state_dict_pre_hook(hook)
        sd = OrderedDict((k, lib.full(tuple(v.shape), 0.5)) for k, v in net.state_dict().items())
        sd["out.legacy_bias"] = sd.pop("out.0.bias")
        keys_before = list(sd)
        result = net.load_state_dict(sd, strict=True)
        assert list(sd) == keys_before and not result.missing_keys and not result.unexpected_keys
        assert float(net.out[0].bias.detach()[0]) == 0.5
        calls[lib.__name__] = seen
    assert calls["chainrule"] == calls["torch"]
    assert [c[1] for c in calls["torch"]] == ["", "out."]


def test_removed_pre_hook_no_longer_runs_and_unhandled_old_keys_fail_like_torch():
    errors = {}
    for lib in (cr, torch):
        net, seen = _build(lib), []
        handle = net.register_load_state_dict_pre_hook(lambda *a, seen=seen: seen.append(a[2]))
        sd = net.state_dict()
        net.load_state_dict(sd)
        handle.remove()
        net.load_state_dict(sd)
        assert seen == [""]
        old = OrderedDict(sd)
        old["out.legacy_bias"] = old.pop("out.0.bias")
        with pytest.raises(RuntimeError) as e:
            net.load_state_dict(old)
        errors[lib.__name__] = [line.strip() for line in str(e.value).splitlines()[1:]]
        missing = net.load_state_dict(old, strict=False)
        assert missing.missing_keys == ["out.0.bias"] and missing.unexpected_keys == ["out.legacy_bias"]
    assert errors["chainrule"] == errors["torch"]


def test_pre_hook_on_a_shared_module_runs_under_each_prefix_like_torch():
    """A module registered twice (weight sharing) is loaded under both names, as in torch."""
    prefixes = {}
    for lib in (cr, torch):
        shared = lib.nn.Linear(2, 2)
        net = lib.nn.Sequential(shared, shared)
        seen = []
        shared.register_load_state_dict_pre_hook(lambda *a, seen=seen: seen.append(a[2]))
        net.load_state_dict(net.state_dict())
        prefixes[lib.__name__] = seen
    assert prefixes["chainrule"] == prefixes["torch"]


def test_hooked_load_values_match_torch():
    """End to end: the same renaming hook on both sides loads the same numbers."""
    outs = []
    x = np.random.default_rng(1).standard_normal((5, 2)).astype(np.float32)
    weights = {"inp.weight": np.arange(6, dtype=np.float32).reshape(3, 2) / 6,
               "inp.bias": np.ones(3, np.float32), "out.first.weight": np.full((1, 3), -0.5, np.float32),
               "out.first.bias": np.zeros(1, np.float32)}

    def rename(module, sd, prefix, *rest):
        for k in [k for k in sd if k.startswith(prefix + "first.")]:
            sd[prefix + "0." + k[len(prefix + "first."):]] = sd.pop(k)

    for lib in (cr, torch):
        net = _build(lib)
        net.out.register_load_state_dict_pre_hook(rename)
        net.load_state_dict({k: lib.tensor(v) for k, v in weights.items()})
        outs.append(net(lib.tensor(x)).detach().numpy())
    np.testing.assert_allclose(outs[0], outs[1], rtol=1e-6)
