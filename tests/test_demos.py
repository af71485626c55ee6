"""Every demo runs in fast mode and its measured finding holds (the deck's claims, measured)."""
import math
import os

import numpy as np
import pytest

from chainrule import demos


def _run(name, tmp_path, capsys):
    import matplotlib
    from matplotlib.figure import Figure
    backend = matplotlib.get_backend()
    result = demos.run(name, fast=True, out_dir=str(tmp_path))
    assert matplotlib.get_backend() == backend                    # the backend is left alone
    printed = capsys.readouterr().out.strip().splitlines()
    assert printed and printed[-1] == result["finding"]           # one line, the finding
    assert result["finding"].startswith(name + ":")
    assert isinstance(result.fig, Figure) and result.fig.axes     # the figure it drew
    assert os.path.getsize(result["figure"]) > 1000               # a PNG was written
    with open(result["figure"], "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    return result


def test_registry_lists_one_module_per_idea():
    assert len(demos.DEMOS) == 16
    with pytest.raises(KeyError, match="unknown demo 'nope'"):
        demos.get("nope")


def test_a_demo_saves_only_when_asked_and_shows_inline(tmp_path, capsys, monkeypatch):
    """Without ``out_dir`` nothing is written; the result renders as PNG for Jupyter, its text
    is the finding, it stays a JSON-serialisable dict, and pyplot holds no figure of it."""
    import json
    import sys
    monkeypatch.chdir(tmp_path)
    result = demos.run("convolution", fast=True)
    assert result["figure"] is None and os.listdir(tmp_path) == []
    assert result._repr_png_()[:8] == b"\x89PNG\r\n\x1a\n"
    pretty = pytest.importorskip("IPython.lib.pretty").pretty
    assert pretty(result) == result["finding"]
    assert json.loads(json.dumps(result))["finding"] == result["finding"]
    assert "matplotlib.pyplot" not in sys.modules or \
        not sys.modules["matplotlib.pyplot"].get_fignums()


def test_xor(tmp_path, capsys):
    r = _run("xor", tmp_path, capsys)
    assert r["perceptron_accuracy"] < 1.0
    assert r["perceptron_warned"]
    assert r["hand_wired_predictions"] == [0, 1, 1, 0]
    assert r["mlp_accuracy"] == 1.0
    assert "XOR solved" in r["finding"]


def test_activations(tmp_path, capsys):
    r = _run("activations", tmp_path, capsys)
    assert r["max_derivative"]["Heaviside"] == 0.0                # no gradient to descend
    assert r["max_derivative"]["sigmoid"] == pytest.approx(0.25, abs=1e-4)
    assert r["max_derivative"]["tanh"] == pytest.approx(1.0, abs=1e-3)
    assert r["sigmoid_identity_max_error"] < 1e-6                 # σ' = σ(1 − σ)
    assert r["relu_derivative_is_step"]
    sat = r["saturated_fraction"]
    assert sat["sigmoid"] > 0.3 and sat["tanh"] > 0.5             # saturation zones
    assert sat["leaky ReLU"] == 0.0 and 0.45 < sat["ReLU"] < 0.55


def test_universal_approximation(tmp_path, capsys):
    r = _run("universal-approximation", tmp_path, capsys)
    for errs in r["mse"].values():
        assert errs[-1] < errs[0] / 10                            # width 128 ≪ width 2
        assert errs[2] < errs[0]


def test_vanishing_gradients(tmp_path, capsys):
    r = _run("vanishing-gradients", tmp_path, capsys)
    sig, relu = r["norms"]["sigmoid"], r["norms"]["relu"]
    assert sig[0] < 1e-2 * sig[-1]
    assert relu[0] > 1e-1 * relu[-1]
    assert r["first_over_last"]["relu"] > 100 * r["first_over_last"]["sigmoid"]


def test_exploding_gradients(tmp_path, capsys):
    r = _run("exploding-gradients", tmp_path, capsys)
    ratio = r["first_over_last"]
    assert ratio["2.0"] > 100 > 1e-2 > ratio["0.5"]             # ≈ g^(L−1) both ways
    assert 0.1 < ratio["1.0"] < 10                                # He init: preserved
    assert r["unclipped_blew_up"]
    assert math.isfinite(r["clipped_losses"][-1])
    assert r["clipped_losses"][-1] < r["clipped_losses"][0]


def test_gd_variants(tmp_path, capsys):
    r = _run("gd-variants", tmp_path, capsys)
    final, spe = r["final_loss"], r["seconds_per_epoch"]
    full, mini, sgd = "full batch", "mini-batch (32)", "stochastic (1)"
    assert final[mini] < final[full] and final[sgd] < final[full]  # more updates per epoch
    assert spe[sgd] > 3 * spe[full]                                # but no vectorisation
    assert r["steps"][full] == r["epochs"]


def test_optimizers(tmp_path, capsys):
    r = _run("optimizers", tmp_path, capsys)
    assert all(v < 1e-2 for k, v in r["final_bowl"].items() if k != "SGD")
    steps = r["steps_to_1e-3"]
    assert steps["momentum"] is not None
    assert steps["SGD"] is None or steps["momentum"] < steps["SGD"]  # momentum accelerates
    assert r["adagrad_step_shrink"] > 10                               # Adagrad's drawback
    assert set(r["wavy_basin"].values()) == {"global", "local"}        # non-convex: it matters


def test_forward_vs_reverse(tmp_path, capsys):
    r = _run("forward-vs-reverse", tmp_path, capsys)
    i = r["sizes"].index(1000)
    assert r["forward_s"][i] > 10 * r["reverse_s"][i]
    assert r["max_abs_diff"] < 1e-4                                    # same gradient


def test_convolution(tmp_path, capsys):
    r = _run("convolution", tmp_path, capsys)
    assert r["conv_stamps_kernel"] and r["corr_stamps_flipped_kernel"]
    assert r["conv2d_vs_correlate2d_max_err"] < 1e-4
    assert r["convolve_vs_flipped_correlate_max_err"] < 1e-4
    assert r["convolve_vs_correlate_max_diff"] > 1.0


def test_filters(tmp_path, capsys):
    r = _run("filters", tmp_path, capsys)
    v, h = r["step_response"]["vertical"], r["step_response"]["horizontal"]
    assert v["Gx"] > 10 and v["Gy"] < 1e-3 * v["Gx"]
    assert h["Gy"] > 10 and h["Gx"] < 1e-3 * h["Gy"]
    assert r["magnitude_identity_max_err"] < 1e-4
    assert 0.001 < r["edge_share"] < 0.5


def test_cnn_vs_mlp(tmp_path, capsys):
    r = _run("cnn-vs-mlp", tmp_path, capsys)
    assert r["accuracy"]["CNN original"] > 0.9
    assert r["drop"]["CNN"] > r["drop"]["MLP"]


def test_filter_hierarchy(tmp_path, capsys):
    r = _run("filter-hierarchy", tmp_path, capsys)
    assert r["test_accuracy"] > 0.9
    assert r["probe_accuracy"]["layer 2"] > r["probe_accuracy"]["layer 1"]


def test_pooling(tmp_path, capsys):
    r = _run("pooling", tmp_path, capsys)
    c = r["relative_change"]
    assert c["no pooling"] > c["2x2 max pool"] > c["global max pool"]
    assert c["global max pool"] < 1e-6                              # exactly invariant


def test_residual(tmp_path, capsys):
    r = _run("residual", tmp_path, capsys)
    assert r["final_loss"]["plain"] > r["final_loss"]["residual"]
    g = r["first_layer_grad_at_init"]
    assert g["residual"] > 10 * g["plain"]


def test_cross_entropy_stability(tmp_path, capsys):
    r = _run("cross-entropy-stability", tmp_path, capsys)
    assert r["naive_first_nonfinite_scale"] is not None
    assert r["naive_first_nonfinite_scale"] <= 1000
    assert r["stable_all_finite"] and r["grad_all_finite"]
    assert r["stable_max_rel_error"] < 1e-5
    naive = np.array(r["naive"])
    assert not np.isfinite(naive[-1])


def test_glm(tmp_path, capsys):
    r = _run("glm", tmp_path, capsys)
    for fam in ("gaussian", "bernoulli", "poisson"):
        assert r["families"][fam]["max_rel_coef_diff_vs_sklearn"] < 1e-3
    assert r["families"]["bernoulli"]["accuracy"] > 0.9
    assert r["families"]["gaussian"]["r2"] > 0.3


def test_bare_tensor_xor_example_solves_xor(capsys):
    from chainrule.examples.xor import main
    main()
    assert capsys.readouterr().out.strip().endswith("XOR solved")
