"""The tutorial notebooks (notebooks/*.py, jupytext percent format, paired with .ipynb) run in a
fresh Jupyter kernel without error and show their plots inline; chainrule's progress bars and
demo figures show in a notebook without touching matplotlib's backend.

Each notebook asserts its own findings, so running it is the test. The kernel is ipykernel's
"python3" from this virtual environment (nothing registered globally); it imports chainrule
from this checkout's src/.
"""
import io
import os
import sys
import textwrap
import types

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn, optim
from chainrule.train import Trainer, progress
from chainrule.utils.data import DataLoader, TensorDataset

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NOTEBOOKS = sorted(f[:-3] for f in os.listdir(os.path.join(ROOT, "notebooks"))
                   if f.endswith(".py"))
SRC = os.path.dirname(os.path.dirname(os.path.abspath(cr.__file__)))


def test_there_is_one_tutorial_per_part_of_the_deck():
    assert [n[:2] for n in NOTEBOOKS] == ["01", "02", "03", "04", "05", "06", "07"]


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_the_ipynb_is_the_jupytext_pair_of_the_script(name):
    """The committed .ipynb holds the same cells as the .py (regenerate it with
    ``jupytext --sync notebooks/*.py`` after editing the script)."""
    jupytext = pytest.importorskip("jupytext")
    nbformat = pytest.importorskip("nbformat")
    base = os.path.join(ROOT, "notebooks", name)
    script = jupytext.read(base + ".py")
    paired = nbformat.read(base + ".ipynb", as_version=4)
    assert [(c.cell_type, c.source) for c in script.cells] == \
        [(c.cell_type, c.source) for c in paired.cells]
    assert paired.metadata["kernelspec"]["name"] == "python3"
    assert all(not c.get("outputs") for c in paired.cells)      # committed without outputs


# ---------------------------------------------------------------------- running in a kernel
@pytest.fixture
def kernel_env(monkeypatch):
    """The kernel inherits the environment: chainrule from this checkout (an absolute path, as
    the kernel runs in a temporary folder), and no MPLBACKEND so Jupyter's inline one applies."""
    pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        [SRC] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]))
    monkeypatch.delenv("MPLBACKEND", raising=False)


def execute(nb, tmp_path):
    """Run ``nb`` in a fresh python3 kernel; a cell that raises fails the test."""
    from nbclient import NotebookClient
    NotebookClient(nb, kernel_name="python3", timeout=120,
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    return nb


def outputs_of(cell):
    """(output_type, mime types or stream name, text) for each output of ``cell``."""
    out = []
    for o in cell.get("outputs", []):
        if o["output_type"] == "stream":
            out.append(("stream", o["name"], o["text"]))
        elif o["output_type"] in ("display_data", "execute_result"):
            out.append((o["output_type"], set(o["data"]), o["data"].get("text/plain", "")))
    return out


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_tutorial_notebook_runs_and_shows_its_plots(name, tmp_path, kernel_env):
    import jupytext
    nb = execute(jupytext.read(os.path.join(ROOT, "notebooks", name + ".py")), tmp_path)
    kinds = [k for c in nb.cells for (_, k, _) in outputs_of(c) if isinstance(k, set)]
    assert any("image/png" in k for k in kinds), "no inline figure"
    assert os.listdir(tmp_path) == []                   # nothing written beside the notebook


def test_trainer_progress_and_demo_figures_in_a_notebook(tmp_path, kernel_env):
    """In a notebook, ``Trainer.fit`` shows progress (tqdm's widget bar with ipywidgets, plain
    epoch lines without), ``demos.run`` displays its figure inline as PNG and saves nothing,
    and matplotlib's backend is the notebook's before and after."""
    import nbformat
    cells = [textwrap.dedent(c).strip() for c in ("""
        import matplotlib
        backend_before = matplotlib.get_backend()
        print(backend_before)
        """, """
        import sys
        import chainrule as cr
        from chainrule import nn, optim
        from chainrule.train import Trainer
        from chainrule.utils.data import DataLoader, TensorDataset

        def fit():
            cr.manual_seed(0)
            model = nn.Linear(4, 3)
            data = DataLoader(TensorDataset(cr.randn(32, 4), cr.randint(0, 3, (32,))),
                              batch_size=8)
            Trainer(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1),
                    metrics=["accuracy"]).fit(data, epochs=2)

        fit()
        """, """
        sys.modules["ipywidgets"] = None      # as if ipywidgets were not installed
        fit()
        """, """
        import os
        import chainrule.demos
        result = cr.demos.run("convolution", fast=True)
        assert os.listdir(".") == []
        result
        """, """
        assert matplotlib.get_backend() == backend_before, matplotlib.get_backend()
        import matplotlib.pyplot as plt
        print(len(plt.get_fignums()))
        """)]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    execute(nb, tmp_path)
    backend, widget_fit, plain_fit, demo, after = (outputs_of(c) for c in nb.cells)
    assert "inline" in backend[0][2]

    # with ipywidgets: two tqdm notebook bars (widgets), labelled with the epoch
    bars = [o for o in widget_fit if o[0] == "display_data"]
    assert len(bars) == 2 and all("application/vnd.jupyter.widget-view+json" in o[1]
                                  for o in bars)
    assert "epoch 1/2" in bars[0][2] and "epoch 2/2" in bars[1][2]
    # without: one plain line per epoch on stdout
    text = "".join(o[2] for o in plain_fit if o[:2] == ("stream", "stdout"))
    lines = text.strip().splitlines()
    assert len(lines) == 2 and lines[0].startswith("epoch 1/2  loss ") and "accuracy" in lines[0]

    # the demo: its finding printed, then the result displayed as PNG (and its finding as text)
    assert any(o[0] == "stream" and o[2].startswith("convolution:") for o in demo)
    shown = [o for o in demo if o[0] == "execute_result"]
    assert len(shown) == 1 and "image/png" in shown[0][1]
    assert shown[0][2].startswith("convolution:")
    assert after[0][2].strip() == "0"            # no figure left registered with pyplot


# ---------------------------------------------------------------------- matplotlib's backend
def test_no_module_of_chainrule_sets_matplotlib_backend_or_uses_pyplot():
    """Figures are drawn on standalone ``Figure`` objects: choosing the backend (and showing
    windows) is the user's or Jupyter's business, never the library's."""
    import re
    found = []
    for folder, _, files in os.walk(SRC):
        for f in files:
            if f.endswith(".py"):
                path = os.path.join(folder, f)
                with open(path, encoding="utf-8") as fh:
                    text = fh.read()
                for pattern in (r"matplotlib\.use\(", r"switch_backend\(",
                                r"import matplotlib\.pyplot", r"from matplotlib import pyplot"):
                    if re.search(pattern, text):
                        found.append((os.path.relpath(path, SRC), pattern))
    assert found == []


def test_run_figures_leave_the_backend_and_pyplot_alone(tmp_path):
    """``chainrule train``'s figures (cli.runs.save_figures) as well as the demos'."""
    matplotlib = pytest.importorskip("matplotlib")
    from chainrule.cli.runs import save_figures
    backend = matplotlib.get_backend()
    paths = save_figures(str(tmp_path), {"epoch": [1, 2], "loss": [1.0, 0.5],
                                         "accuracy": [0.5, 0.8]}, confusion=np.eye(3, dtype=int))
    assert [os.path.basename(p) for p in paths] == ["loss.png", "accuracy.png",
                                                    "confusion_matrix.png"]
    assert matplotlib.get_backend() == backend
    assert "matplotlib.pyplot" not in sys.modules or \
        not sys.modules["matplotlib.pyplot"].get_fignums()


# ---------------------------------------------------------------------- Progress in-process
class _Quiet(io.StringIO):
    def isatty(self):
        return False


def _fit_small():
    cr.manual_seed(0)
    x, y = cr.randn(32, 4), cr.randint(0, 3, (32,))
    model = nn.Linear(4, 3)
    Trainer(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1),
            metrics=["accuracy"]).fit(DataLoader(TensorDataset(x, y), batch_size=16), epochs=2)


def test_in_notebook_is_false_outside_a_kernel():
    assert progress.in_notebook() is False


def test_in_a_notebook_without_ipywidgets_progress_is_plain_lines_on_stdout(monkeypatch, capsys):
    monkeypatch.setattr(sys, "stderr", _Quiet())
    monkeypatch.setattr(progress, "in_notebook", lambda: True)
    monkeypatch.setattr(progress, "_has_widgets", lambda: False)
    _fit_small()
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and lines[1].startswith("epoch 2/2  loss ") and "accuracy" in lines[1]
    assert sys.stderr.getvalue() == ""


def test_in_a_notebook_with_ipywidgets_progress_uses_tqdm_auto(monkeypatch):
    """Bars although stderr is no terminal; tqdm.auto then picks the notebook bar itself."""
    made = []

    class FakeTqdm:
        def __init__(self, total, desc, **kw):
            self.desc, self.n, self.closed = desc, 0, False
            made.append(self)

        def update(self, k):
            self.n += k

        def set_postfix(self, **kw):
            pass

        def set_postfix_str(self, s):
            self.postfix = s

        def close(self):
            self.closed = True
    auto = types.ModuleType("tqdm.auto")
    auto.tqdm = FakeTqdm
    monkeypatch.setitem(sys.modules, "tqdm", types.ModuleType("tqdm"))
    monkeypatch.setitem(sys.modules, "tqdm.auto", auto)
    monkeypatch.setattr(sys, "stderr", _Quiet())
    monkeypatch.setattr(progress, "in_notebook", lambda: True)
    monkeypatch.setattr(progress, "_has_widgets", lambda: True)
    _fit_small()
    assert [(b.desc, b.n, b.closed) for b in made] == [("epoch 1/2", 2, True),
                                                       ("epoch 2/2", 2, True)]
    assert made[1].postfix.startswith("loss ") and "accuracy" in made[1].postfix


def test_progress_false_stays_silent_in_a_notebook(monkeypatch, capsys):
    monkeypatch.setattr(progress, "in_notebook", lambda: True)
    monkeypatch.setattr(sys, "stderr", _Quiet())
    cr.manual_seed(0)
    model = nn.Linear(4, 3)
    Trainer(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1),
            progress=False).fit(DataLoader(TensorDataset(cr.randn(8, 4),
                                                         cr.randint(0, 3, (8,))), batch_size=4),
                                epochs=1)
    assert capsys.readouterr().out == "" and sys.stderr.getvalue() == ""
    assert np.isfinite(model.weight.detach().numpy()).all()
