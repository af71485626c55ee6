"""chainrule.summary: one row per module that ran, torchinfo's counts (parameters, mult-adds of
linear and convolution layers, memory), the table, the HTML display and the CLI."""
import math
import subprocess
import sys

import pytest

import chainrule as cr


def test_lenet_rows_and_counts():
    model = cr.models.LeNet5()
    s = cr.summary(model, (2, 1, 28, 28))
    convs = [r for r in s.rows if r.kind == "Conv2d"]
    linears = [r for r in s.rows if r.kind == "Linear"]
    assert [r.output_shape for r in convs] == [(2, 6, 28, 28), (2, 16, 10, 10)]
    assert convs[0].mult_adds == 2 * 6 * 28 * 28 * (1 * 5 * 5)     # out.numel · in · k²
    assert linears[0].mult_adds == 2 * 400 * 120                  # rows · in · out
    assert s.total_params == sum(p.numel() for p in model.parameters()) == 61706
    assert s.total_mult_adds == sum(r.mult_adds for r in s.rows)
    assert math.isclose(s.params_mb, 61706 * 4 / 2 ** 20)
    text = str(s)
    assert "Conv2d: 2 (features.0)" in text and "Total params: 61,706" in text
    assert "<table>" in s._repr_html_() and "61,706" in s._repr_html_()


def test_depth_hides_rows_but_keeps_totals_and_restores_the_model():
    model = cr.models.resnet20()
    full, shallow = cr.summary(model, (1, 3, 32, 32)), cr.summary(model, (1, 3, 32, 32), depth=1)
    assert len(shallow.rows) < len(full.rows) and max(r.depth for r in shallow.rows) == 1
    assert shallow.total_mult_adds == full.total_mult_adds > 40e6
    assert model.training and all(not m._forward_hooks for m in model.modules())


def test_several_inputs_and_errors():
    class Pair(cr.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = cr.nn.Linear(3, 2)

        def forward(self, a, b):
            return self.fc(a) + self.fc(b)
    s = cr.summary(Pair(), [(4, 3), (4, 3)])
    assert s.rows[-1].output_shape == (4, 2) and s.total_mult_adds == 2 * 4 * 3 * 2
    assert cr.summary(Pair(), input_data=[cr.ones(1, 3), cr.ones(1, 3)]).rows
    with pytest.raises(ValueError, match="input_size"):
        cr.summary(Pair())


def test_cli_summary():
    out = subprocess.run([sys.executable, "-m", "chainrule", "summary", "--model", "lenet5"],
                         capture_output=True, text=True)
    assert out.returncode == 0 and "Conv2d" in out.stdout and "Total params" in out.stdout
    bad = subprocess.run([sys.executable, "-m", "chainrule", "summary", "--model", "lenet5",
                          "--dataset", "iris"], capture_output=True, text=True)
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1
