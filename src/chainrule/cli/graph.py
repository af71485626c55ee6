"""``chainrule graph``: the computational graph of a model's loss (the deck's "Computational
Graphs of DNN" card) — operations as nodes, tensors with their shapes on the edges.

``-o graph.svg`` (or .png, .pdf, .dot) is drawn by :func:`chainrule.viz.graph`: through Graphviz
when its ``dot`` program is installed, else with matplotlib; leaves carry the parameter names,
and ``--detail primitives`` opens fused nodes into the deck's chain of primitives.
"""
from __future__ import annotations

import os
import shutil

from . import limits

# dataset -> (input shape of one sample, number of classes); no data is loaded
SHAPES = {"iris": ((4,), 3), "breast_cancer": ((30,), 2), "digits": ((1, 8, 8), 10),
          "mnist": ((1, 28, 28), 10), "fashion_mnist": ((1, 28, 28), 10),
          "cifar10": ((3, 32, 32), 10)}
GRAPH_MODELS = ("mlp", "linear", "lenet5", "resnet20")
# the input each model is drawn on when --dataset is not given: the CNNs need images
MODEL_DATASET = {"mlp": "iris", "linear": "iris", "lenet5": "digits", "resnet20": "cifar10"}


def add_model_options(p):
    """--model, --dataset, --hidden: which model is built, on what input shape (no data)."""
    p.add_argument("--model", default="mlp", choices=GRAPH_MODELS, help="(default: mlp)")
    p.add_argument("--dataset", choices=list(SHAPES),
                   help="sets the input shape and classes; no data is read (default: iris for "
                   "mlp and linear, digits for lenet5, cifar10 for resnet20)")
    p.add_argument("--hidden", default="8", help="hidden sizes of the mlp, comma-separated "
                   "(default: 8)")


def add_parser(sub):
    p = sub.add_parser("graph", help="draw the computational graph of a model's loss",
                       description="Draw the computational graph of a model's cross-entropy "
                       "loss on a batch as SVG, PNG, PDF (Graphviz when installed, else "
                       "matplotlib) or DOT source.")
    add_model_options(p)
    p.add_argument("--batch", type=limits.flag("graph_batch"), default=2,
                   help="batch size of the input (default: 2)")
    p.add_argument("--detail", choices=("primitives", "layers"), default="primitives",
                   help="primitives: fused nodes opened into the deck's chain (matmul, add, "
                        "logsumexp …); layers: one box per recorded node, torch's names")
    p.add_argument("-o", "--output", default="graph.svg", metavar="FILE",
                   help="graph.svg, graph.png, graph.pdf or graph.dot (default: graph.svg)")
    p.set_defaults(func=main)
    return p


def loss_graph(model_name="mlp", dataset="iris", hidden=(8,), batch=2):
    """(model, its loss tensor with the graph) of ``model_name`` on a random batch."""
    import chainrule as cr
    from .. import nn
    from .factories import build_model
    shape, classes = SHAPES[dataset]
    cr.manual_seed(0)
    model = build_model(model_name, shape, classes, hidden=list(hidden))
    x = cr.randn(batch, *shape)
    y = cr.randint(0, classes, (batch,))
    return model, nn.CrossEntropyLoss()(model(x), y)


def parse_hidden(text: str) -> list:
    """``--hidden 16,8`` as [16, 8], or the CLI's one-line error."""
    from . import CLIError
    try:
        hidden = [int(h) for h in text.split(",") if h.strip()]
    except ValueError:
        raise CLIError(f"--hidden must be comma-separated integers, got {text!r}") from None
    if any(h < 1 for h in hidden) or len(hidden) > limits.MAX_HIDDEN_LAYERS:
        raise CLIError(f"--hidden sizes must be ≥ 1, at most {limits.MAX_HIDDEN_LAYERS} of them; "
                       f"got {text!r}")
    return hidden


def main(args) -> int:
    from .. import viz
    from . import CLIError
    from .paths import check_output_file
    hidden = parse_hidden(args.hidden)
    root, ext = os.path.splitext(args.output)
    ext = ext.lower().lstrip(".")
    if ext not in ("dot", "gv", "svg", "png", "pdf"):
        raise CLIError(f"-o must end in .dot, .svg, .png or .pdf, got {args.output!r}")
    dataset = args.dataset or MODEL_DATASET[args.model]
    shape, classes = SHAPES[dataset]
    if args.model in ("mlp", "linear"):
        shape = (int(__import__("math").prod(shape)),)
    if args.model not in ("lenet5", "resnet20") or len(shape) == 3:
        problem = limits.memory_problem(
            limits.estimate_memory(args.model, shape, classes, args.batch, 0, hidden=hidden),
            limits.DEFAULT_MAX_MEMORY, f"--model {args.model} with --hidden {args.hidden}")
        if problem:
            raise CLIError(problem.replace("raise the limit with --max-memory",
                                           "no more than --max-memory of train allows"))
    check_output_file(args.output, "-o")
    try:
        model, loss = loss_graph(args.model, dataset, hidden, args.batch)
    except ValueError as e:         # e.g. --model lenet5 --dataset iris: not images
        raise CLIError(str(e)) from None
    g = viz.graph(loss, params=dict(model.named_parameters()), detail=args.detail)
    g.save(args.output)
    engine = ("DOT source" if ext in ("dot", "gv") else "Graphviz" if shutil.which("dot")
              else "matplotlib (no Graphviz installed)")
    ops = sum(n.kind == "op" for n in g.nodes)
    print(f"wrote {args.output} ({ops} operations, {args.detail} level, drawn by {engine})")
    return 0
