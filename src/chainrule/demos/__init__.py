"""One runnable demo per idea of the seed deck.

Each module has ``run(fast=False, out_dir=None) -> DemoResult``: it measures one finding, prints
it in one line, draws a figure (needs matplotlib: ``pip install chainrule[viz]``) and returns the
measured numbers as a dict (plus ``"finding"``, the printed line, and ``"figure"``, the path of
the PNG saved into ``out_dir`` when one is given, else None) whose ``.fig`` is the
``matplotlib.figure.Figure``. The figure is made without pyplot, so matplotlib's backend is never
changed; in Jupyter the result, as a cell's last expression, shows the finding and the figure
inline. ``fast=True`` shrinks sizes so the whole set runs in about a minute; the findings still
hold. Run one with ``chainrule demo NAME`` or ``chainrule.demos.run(NAME)``.
"""
from __future__ import annotations

import importlib

from ._common import DemoResult

__all__ = ["DEMOS", "DemoResult", "get", "run"]

# demo name -> (module, one-line description)
DEMOS = {
    "xor": ("xor", "the perceptron fails XOR; the hand-wired AND/OR net and a trained MLP solve it"),
    "activations": ("activations", "each activation and its derivative; saturation zones"),
    "universal-approximation": ("universal_approximation",
                                "one hidden tanh layer: fit error falls as the width grows"),
    "vanishing-gradients": ("vanishing_gradients",
                            "per-layer gradient norms of a deep sigmoid vs a deep ReLU net"),
    "exploding-gradients": ("exploding_gradients",
                            "per-layer gradient norms grow exponentially under a large init"),
    "gd-variants": ("gd_variants", "full-batch vs mini-batch vs stochastic gradient descent"),
    "optimizers": ("optimizers", "SGD, momentum, Adagrad, RMSprop and Adam on a convex bowl and "
                                 "a non-convex surface"),
    "forward-vs-reverse": ("forward_vs_reverse",
                           "gradient cost vs input dimension: forward mode vs reverse mode"),
    "convolution": ("convolution", "true convolution (flipped kernel) vs cross-correlation"),
    "filters": ("filters", "Sobel Gx, Gy, |G| and the Laplacian on a real photo"),
    "cnn-vs-mlp": ("cnn_vs_mlp", "a fixed pixel permutation hurts the CNN, not the MLP"),
    "filter-hierarchy": ("filter_hierarchy", "first- and second-layer feature maps of a trained CNN"),
    "pooling": ("pooling", "max pooling makes features invariant to small shifts"),
    "residual": ("residual", "deep plain net vs the same depth with shortcuts: degradation"),
    "cross-entropy-stability": ("cross_entropy_stability",
                                "naive softmax-then-log overflows; log-sum-exp does not"),
    "glm": ("glm", "Gaussian, Bernoulli and Poisson GLMs fitted to real data"),
}


def get(name: str):
    """The module of demo ``name`` (raises KeyError listing the demos when unknown)."""
    if name not in DEMOS:
        raise KeyError(f"unknown demo {name!r}; the demos are: {', '.join(DEMOS)}")
    return importlib.import_module(f".{DEMOS[name][0]}", __name__)


def run(name: str, fast: bool = False, out_dir: str | None = None):
    """Run demo ``name`` and return its finding: a dict of the measured numbers with ``.fig``,
    its figure (shown inline in Jupyter); the PNG is saved into ``out_dir`` when given."""
    return get(name).run(fast=fast, out_dir=out_dir)
