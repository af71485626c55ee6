"""The graph view: leaves named after parameters, shapes on edges, torch's node names at the
layers level, the deck's chain at the primitives level, drawings with and without Graphviz,
inline display, and the README figure regenerated from it."""
import shutil
from pathlib import Path
from xml.etree import ElementTree

import pytest
import torch

import chainrule as cr

FIGURE = Path(__file__).resolve().parents[1] / "docs" / "figures" / "graph.svg"


def mlp_loss():
    cr.manual_seed(0)
    model = cr.models.MLP(4, [3], 2)          # Linear(4, 3), ReLU, Linear(3, 2): fc1, act1, fc2
    return model, cr.nn.functional.cross_entropy(model(cr.randn(2, 4)), cr.tensor([0, 1]))


def labels(g):
    return [n.label for n in g.nodes]


def test_layers_level_is_torchs_graph():
    model, loss = mlp_loss()
    g = cr.viz.graph(loss, dict(model.named_parameters()), detail="layers")
    tm = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2))
    tl = torch.nn.functional.cross_entropy(tm(torch.randn(2, 4)), torch.tensor([0, 1]))
    seen, stack = set(), [tl.grad_fn]
    while stack:
        n = stack.pop()
        seen.add(n.name())
        stack += [m for m, _ in n.next_functions if m is not None]
    ops = {n.label for n in g.nodes if n.kind == "op"}
    assert ops == seen - {"torch::autograd::AccumulateGrad"}
    leaves = sorted(n.label for n in g.nodes if n.kind == "leaf")
    assert leaves == sorted(name for name, _ in model.named_parameters())


def test_primitives_level_shows_the_decks_chain():
    model, loss = mlp_loss()
    g = cr.viz.graph(loss, dict(model.named_parameters()))
    names = labels(g)
    for step in ("matmul", "add", "transpose", "relu", "logsumexp", "sub", "gather", "neg", "mean"):
        assert step in names
    assert names.count("matmul") == 2 and "AddmmBackward0" not in names
    # shapes on the edges: the first layer's weight gradient is (3, 4)
    assert any(label.endswith("(3, 4)") for _, _, label in g.edges)
    # every edge points from the output side toward the leaves (the gradient's way)
    out = next(n.id for n in g.nodes if n.kind == "output")
    assert all(dst != out for _, dst, _ in g.edges)


def test_forward_direction_draws_tangents_toward_the_output():
    model, loss = mlp_loss()
    g = cr.viz.graph(loss, dict(model.named_parameters()), direction="forward")
    leaves = {n.id for n in g.nodes if n.kind == "leaf"}
    assert all(dst not in leaves for _, dst, _ in g.edges)
    assert all(label.startswith("ṫ") for _, _, label in g.edges if label)


def test_drawing_without_graphviz_is_valid_svg_and_png(tmp_path, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    model, loss = mlp_loss()
    g = cr.viz.graph(loss, dict(model.named_parameters()))
    svg = Path(g.save(str(tmp_path / "g.svg"))).read_text()
    ElementTree.fromstring(svg)
    assert "fc1.weight" in svg and "logsumexp" in svg           # text kept as text
    png = Path(g.save(str(tmp_path / "g.png"))).read_bytes()
    assert png.startswith(b"\x89PNG")
    with pytest.raises(RuntimeError, match="not installed"):
        g.save(str(tmp_path / "x.svg"), engine="graphviz")
    with pytest.raises(ValueError, match="must end in"):
        g.save(str(tmp_path / "x.txt"))


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed here")
def test_drawing_through_graphviz(tmp_path):
    model, loss = mlp_loss()
    svg = Path(cr.viz.graph(loss, dict(model.named_parameters())).save(
        str(tmp_path / "g.svg"), engine="graphviz")).read_text()
    assert "graphviz" in svg.lower() and "fc1.weight" in svg


def test_inline_display_and_no_backend_change():
    import matplotlib
    backend = matplotlib.get_backend()
    model, loss = mlp_loss()
    bundle = cr.viz.graph(loss, dict(model.named_parameters()))._repr_mimebundle_()
    assert bundle["image/svg+xml"].lstrip().startswith("<?xml") and "Graph(" in bundle["text/plain"]
    assert matplotlib.get_backend() == backend


def test_errors():
    _, loss = mlp_loss()
    with pytest.raises(ValueError, match="detail"):
        cr.viz.graph(loss, detail="all")
    with pytest.raises(ValueError, match="direction"):
        cr.viz.graph(loss, direction="sideways")
    assert len(cr.viz.graph(cr.ones(2)).nodes) == 1       # no graph: the output alone


def test_the_readme_figure_is_regenerated_from_the_graph_view(monkeypatch):
    """docs/figures/graph.svg is exactly what the graph view draws (matplotlib, no Graphviz)."""
    monkeypatch.setattr(shutil, "which", lambda name: None)
    model, loss = mlp_loss()
    from chainrule.viz import layout
    drawn = layout.to_bytes(cr.viz.graph(loss, dict(model.named_parameters())).to_figure(), "svg")
    assert FIGURE.read_bytes() == drawn, "regenerate with: python -c 'see tests/test_viz_graph.py'"


def test_leaves_carry_attribute_names_of_a_hand_written_model():
    class Net(cr.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1, self.fc2 = cr.nn.Linear(4, 3), cr.nn.Linear(3, 2)

        def forward(self, x):
            return self.fc2(self.fc1(x).relu())
    net = Net()
    loss = cr.nn.functional.cross_entropy(net(cr.randn(2, 4)), cr.tensor([0, 1]))
    leaves = {n.label for n in cr.viz.graph(loss, dict(net.named_parameters())).nodes if n.kind == "leaf"}
    assert leaves == {"fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"}
