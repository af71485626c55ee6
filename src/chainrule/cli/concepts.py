"""Every card of the seed deck, mapped to the function, class, command or demo that implements it.

``chainrule concepts`` prints the map; ``chainrule concepts --deck FILE`` also reads the card
titles from a deck export (see :mod:`chainrule.cli.deck` for how the export is split into cards)
and fails when a card is not mapped. Targets are written as

* ``chainrule.x.y`` — an importable object (module, class or function),
* ``demo:NAME``     — a demo in :mod:`chainrule.demos` (``chainrule demo NAME``),
* ``cli:NAME``      — a subcommand of the ``chainrule`` command.
"""
from __future__ import annotations

import importlib

# (card title exactly as the deck writes it, [targets])
CARDS: list[tuple[str, list[str]]] = [
    ("The Machine Learning Flow STeps",
     ["cli:run", "chainrule.data.train_test_split", "chainrule.data.StandardScaler",
      "chainrule.metrics.accuracy", "chainrule.train.Trainer"]),
    ("The Baseline Equation of Neural Networks",
     ["chainrule.nn.Linear", "chainrule.tanh", "demo:universal-approximation"]),
    ("Generalized Linear Model (GLM) (eq)", ["chainrule.models.GLM", "demo:glm"]),
    ("Basis Function (eq)",
     ["chainrule.models.PolynomialFeatures", "chainrule.models.RBF",
      "chainrule.models.FourierFeatures"]),
    ("Complex Function Composition (eq)", ["chainrule.nn.Sequential", "chainrule.models.MLP"]),
    ("Perceptron (eq)", ["chainrule.models.Perceptron", "demo:xor"]),
    ("Multilayer Perceptron (MLP) (def)",
     ["chainrule.models.MLP", "chainrule.models.xor_network", "demo:xor"]),
    ("What is Universal Function Approximator of MLP?", ["demo:universal-approximation"]),
    ("What is the requirement to train an MLP via gradient descent?",
     ["chainrule.nn.functional.heaviside", "demo:activations"]),
    ("Activation functions (df + ex)", ["chainrule.nn.functional", "demo:activations"]),
    ("Heaviside Step Function (eq)", ["chainrule.nn.functional.heaviside", "demo:activations"]),
    ("Sigmoid Function and its derivative (eq)",
     ["chainrule.sigmoid", "chainrule.nn.Sigmoid", "demo:activations"]),
    ("Tanh (Hyperbolic Tangent) Function (eq)",
     ["chainrule.tanh", "chainrule.nn.Tanh", "demo:activations"]),
    ("ReLU (Rectified Linear Unit) and its derivative (eq)",
     ["chainrule.relu", "chainrule.nn.ReLU", "demo:activations"]),
    ("Leaky ReLU (eq)",
     ["chainrule.nn.functional.leaky_relu", "chainrule.nn.LeakyReLU", "demo:activations"]),
    ("What are the 3 steps of the Neural Network Training Loop?",
     ["chainrule.train.Trainer", "cli:train"]),
    ("Computational Graphs of DNN", ["chainrule.viz.graph", "cli:graph"]),
    ("What is Forward-Mode Differentiation and why is it bad for NN?",
     ["chainrule.autograd.forward_ad.make_dual", "chainrule.func.jvp", "chainrule.func.jacfwd",
      "demo:forward-vs-reverse"]),
    ("What is Reverse-Mode Differentiation (Backpropagation)?",
     ["chainrule.Tensor.backward", "chainrule.autograd.grad", "chainrule.func.grad"]),
    ("Why is Reverse-Mode Differentiation highly efficient for deep learning?",
     ["demo:forward-vs-reverse"]),
    ("What is a Jacobian Matrix (J_f)? (eq)",
     ["chainrule.func.jacrev", "chainrule.func.jacfwd", "chainrule.autograd.functional.jacobian"]),
    ("How does backpropagation avoid the massive cost of computing full high-dimensional "
     "Jacobian matrices?",
     ["chainrule.func.vjp", "chainrule.autograd.Node", "demo:forward-vs-reverse"]),
    ("What is the formula for Cross-Entropy Loss and what is it?",
     ["chainrule.nn.CrossEntropyLoss", "chainrule.nn.BCEWithLogitsLoss",
      "demo:cross-entropy-stability"]),
    ("What is the Log-Sum-Exp (LSE) trick and why is it used?",
     ["chainrule.logsumexp", "chainrule.log_softmax", "demo:cross-entropy-stability"]),
    ("What is the Vanishing Gradient problem?", ["demo:vanishing-gradients", "cli:train"]),
    ("What is the Exploding Gradient problem?",
     ["demo:exploding-gradients", "chainrule.nn.utils.clip_grad_norm_"]),
    ("What characterizes a Convex Optimization Surface?", ["demo:optimizers"]),
    ("What characterizes a Non-Convex Optimization Surface?", ["demo:optimizers"]),
    ("What are the trade-offs of Stochastic Gradient Descent (SGD)?",
     ["demo:gd-variants", "chainrule.utils.data.DataLoader"]),
    ("What are the trade-offs of Batch Gradient Descent?",
     ["demo:gd-variants", "chainrule.utils.data.DataLoader"]),
    ("What are the trade-offs of Mini-Batch Gradient Descent?",
     ["demo:gd-variants", "chainrule.utils.data.DataLoader"]),
    ("Give def of Adaptive Heuristic Optimizers and give examples",
     ["chainrule.optim.SGD", "chainrule.optim.Adagrad", "chainrule.optim.RMSprop",
      "chainrule.optim.Adam", "demo:optimizers"]),
    ("How does SGD with Momentum improve standard gradient descent?",
     ["chainrule.optim.SGD", "demo:optimizers"]),
    ("What is the mathematical update rule for SGD with Momentum?", ["chainrule.optim.SGD"]),
    ("How does the Adagrad optimizer handle learning rates?",
     ["chainrule.optim.Adagrad", "demo:optimizers"]),
    ("What is the main drawback of Adagrad?", ["chainrule.optim.Adagrad", "demo:optimizers"]),
    ("How does RMSprop improve upon Adagrad?", ["chainrule.optim.RMSprop", "demo:optimizers"]),
    ("How does the Adam optimizer combine momentum and adaptive learning rates?",
     ["chainrule.optim.Adam", "demo:optimizers"]),
    ("What is the formula for a discrete 2D image convolution?",
     ["chainrule.vision.convolve2d", "chainrule.vision.correlate2d", "demo:convolution"]),
    ("What does a Sobel Filter calculate to detect edges?",
     ["chainrule.vision.filters.sobel", "demo:filters"]),
    ("What is the matrix for a Horizontal Sobel Filter (G_x)?",
     ["chainrule.vision.filters.SOBEL_X", "demo:filters"]),
    ("What is the matrix for a Vertical Sobel Filter (G_y)?",
     ["chainrule.vision.filters.SOBEL_Y", "demo:filters"]),
    ("What is the formula for Gradient Magnitude in edge detection?",
     ["chainrule.vision.filters.gradient_magnitude", "demo:filters"]),
    ("What is the Laplacian Operator (∇²I) in image filtering? And the matrix representation?",
     ["chainrule.vision.filters.laplacian", "chainrule.vision.filters.LAPLACIAN_4",
      "chainrule.vision.filters.LAPLACIAN_8", "demo:filters"]),
    ("Why are standard MLPs poorly suited for computer vision compared to CNNs?",
     ["demo:cnn-vs-mlp"]),
    ("What is Weight Sharing in CNNs?", ["chainrule.nn.Conv2d", "demo:cnn-vs-mlp"]),
    ("What is a Filter Hierarchy in deep learning?", ["demo:filter-hierarchy"]),
    ("What do Padding and Stride control in a convolution operation?",
     ["chainrule.nn.functional.conv2d", "chainrule.nn.Conv2d"]),
    ("What is the purpose of Pooling layers in CNNs?",
     ["chainrule.nn.MaxPool2d", "chainrule.nn.AvgPool2d", "demo:pooling"]),
    ("What structural problem do Residual Connections fix?",
     ["demo:residual", "chainrule.models.resnet20"]),
    ("What is the mathematical formulation of a Residual Block?",
     ["chainrule.models.BasicBlock", "demo:residual"]),
    ("Why do Residual Connections eliminate the vanishing gradient problem?", ["demo:residual"]),
]

CARD_MAP = dict(CARDS)


def resolve(target: str):
    """Return the object behind a target, or raise LookupError saying what is missing."""
    if target.startswith("demo:"):
        from .. import demos
        name = target[5:]
        if name not in demos.DEMOS:
            raise LookupError(f"concepts: no demo named {name!r}")
        try:
            return demos.get(name)
        except (ImportError, AttributeError) as e:   # what it needs is missing
            raise LookupError(f"concepts: demo {name!r} cannot be imported ({e})") from None
    if target.startswith("cli:"):
        from . import SUBCOMMANDS
        name = target[4:]
        if name not in SUBCOMMANDS:
            raise LookupError(f"concepts: no subcommand named {name!r}")
        return SUBCOMMANDS[name]
    parts = target.split(".")
    # The longest importable module prefix, then attributes.
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        try:
            for attr in parts[i:]:
                obj = getattr(obj, attr)
        except AttributeError as e:
            raise LookupError(f"concepts: {target} does not exist ({e})") from None
        return obj
    raise LookupError(f"concepts: cannot import any module of {target}")


def unmapped(titles) -> list[str]:
    """The titles among ``titles`` that have no entry in the card map."""
    return [t for t in titles if t not in CARD_MAP]


def add_parser(sub):
    p = sub.add_parser("concepts", help="every card of the seed deck and what implements it",
                       description="List every card of the seed deck with the function, class, "
                       "command or demo of chainrule that implements it.")
    p.add_argument("--deck", metavar="FILE", help="also read the card titles from a deck export "
                   "and fail when one of them is not mapped")
    p.add_argument("--check", action="store_true",
                   help="import every target and fail when one does not resolve")
    p.set_defaults(func=main)
    return p


def main(args) -> int:
    status = 0
    titles = [t for t, _ in CARDS]
    if args.deck:
        from .deck import card_titles, expected_count
        with open(args.deck, encoding="utf-8") as f:
            text = f.read()
        titles = card_titles(text)
        want = expected_count(text)
        missing = unmapped(titles)
        print(f"{args.deck}: {len(titles)} cards (the export announces {want})")
        for t in missing:
            print(f"UNMAPPED: {t}")
            status = 1
    width = len(str(len(titles)))
    for i, title in enumerate(titles, 1):
        targets = CARD_MAP.get(title, [])
        print(f"{i:>{width}}. {title}")
        for tgt in targets:
            mark = ""
            if args.check:
                try:
                    resolve(tgt)
                except LookupError as e:
                    mark, status = f"   <-- MISSING: {e}", 1
            print(f"{'':>{width}}    {tgt}{mark}")
    return status
