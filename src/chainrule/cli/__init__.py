"""The ``chainrule`` command (also ``python -m chainrule``).

    chainrule train [--model lenet5 --dataset digits --optimizer adam ...]   train, write a run folder
    chainrule evaluate RUN_DIR                 re-test a run's checkpoint
    chainrule predict RUN_DIR INPUT            classify an image file or a .npy array
    chainrule run EXPERIMENT.toml              the seed's ML flow, as a file
    chainrule graph [--model mlp] [-o g.svg]   the computational graph of a model's loss
    chainrule demo NAME [--fast] | --list      one demo per idea of the deck
    chainrule concepts                         every card of the deck and what implements it

Each subcommand lives in its own module with ``add_parser(subparsers)``; the heavy imports
happen inside the command, so ``chainrule --help`` is instant.
"""
from __future__ import annotations

import argparse
import importlib
import sys

# subcommand -> module (relative to this package) that defines add_parser()
SUBCOMMANDS = {
    "train": ".train",
    "evaluate": ".evaluate",
    "predict": ".predict",
    "run": ".experiment",
    "graph": ".graph",
    "demo": ".demo",
    "concepts": ".concepts",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="chainrule",
        description="chainrule: deep learning from first principles on NumPy, with PyTorch's API.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Run `chainrule COMMAND --help` for the options of a command.")
    from .. import __version__
    parser.add_argument("--version", action="version", version=f"chainrule {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for mod in SUBCOMMANDS.values():
        importlib.import_module(mod, __name__).add_parser(sub)
    return parser


class CLIError(Exception):
    """A user error: printed as ``chainrule: error: ...`` with exit status 2, no traceback."""


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        status = args.func(args)
    except CLIError as e:
        print(f"chainrule {args.command}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:            # `chainrule concepts | head`: the reader left early
        import os
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    return int(status or 0)
