"""``chainrule summary``: a model's layers as a table (output shapes, parameters, mult-adds,
memory), from one forward pass on zeros — :func:`chainrule.summary` on the command line."""
from __future__ import annotations

from . import limits
from .graph import MODEL_DATASET, SHAPES, add_model_options, parse_hidden


def add_parser(sub):
    p = sub.add_parser("summary", help="a model's layers, shapes, parameters and mult-adds",
                       description="Print a table of a model's layers: output shape, "
                       "parameters, multiply-adds and a memory estimate, for one batch.")
    add_model_options(p)
    p.add_argument("--batch", type=limits.flag("graph_batch"), default=1,
                   help="batch size of the input (default: 1)")
    p.add_argument("--depth", type=int, default=3, help="deepest nesting shown (default: 3)")
    p.set_defaults(func=main)
    return p


def main(args) -> int:
    import chainrule as cr
    from . import CLIError
    from .factories import build_model
    hidden = parse_hidden(args.hidden)
    if args.depth < 0:
        raise CLIError(f"--depth must be ≥ 0, got {args.depth}")
    dataset = args.dataset or MODEL_DATASET[args.model]
    shape, classes = SHAPES[dataset]
    try:
        model = build_model(args.model, shape, classes, hidden=hidden)
    except ValueError as e:        # e.g. --model lenet5 --dataset iris: not images
        raise CLIError(str(e)) from None
    print(cr.summary(model, (args.batch, *shape), depth=args.depth))
    return 0
