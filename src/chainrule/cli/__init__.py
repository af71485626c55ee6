"""The ``chainrule`` command (also ``python -m chainrule``).

    chainrule train [--model lenet5 --dataset digits --optimizer adam ...]   train, write a run folder
    chainrule evaluate RUN_DIR                 re-test a run's checkpoint
    chainrule predict RUN_DIR INPUT            classify an image file or a .npy array
    chainrule export RUN_DIR --format onnx     write a run's model as an ONNX file
    chainrule run EXPERIMENT.toml | NAME       the seed's ML flow, as a file
    chainrule examples [NAME]                  the experiment files shipped with chainrule
    chainrule graph [--model mlp] [-o g.svg]   the computational graph of a model's loss
    chainrule summary [--model lenet5]         a model's layers, shapes, parameters, mult-adds
    chainrule demo NAME [--fast] | --list      one demo per idea of the deck
    chainrule concepts                         every card of the deck and what implements it

Each subcommand lives in its own module with ``add_parser(subparsers)``; the heavy imports
happen inside the command, so ``chainrule --help`` is instant.

Exit status: 0 success; 2 a user error — a bad option, file, shape or path, a training run
that diverged, a missing optional package — printed as one line ``chainrule CMD: error: ...``
that names the option or file and the fix, never a traceback; 130 interrupted (Ctrl-C); 1 an
internal error (a bug of chainrule), printed as one line that asks to report it
(``CHAINRULE_TRACEBACK=1`` shows the traceback).
"""
from __future__ import annotations

import argparse
import difflib
import importlib
import os
import re
import sys

# subcommand -> module (relative to this package) that defines add_parser()
SUBCOMMANDS = {
    "train": ".train",
    "evaluate": ".evaluate",
    "predict": ".predict",
    "export": ".export",
    "run": ".experiment",
    "examples": ".examples",
    "graph": ".graph",
    "summary": ".summary",
    "demo": ".demo",
    "concepts": ".concepts",
}


def issue_tracker() -> str:
    """Where to report a bug: the ``Issues``/``Bug Tracker`` URL of the installed package's
    metadata (``[project.urls]`` of pyproject.toml), or words when it names none."""
    try:
        from importlib.metadata import metadata
        for entry in metadata("chainrule").get_all("Project-URL") or []:
            label, _, url = entry.partition(",")
            if label.strip().lower() in ("issues", "bug tracker", "tracker", "bugs"):
                return url.strip()
    except Exception:    # noqa: BLE001 — not installed (PYTHONPATH), broken metadata
        pass
    return "the chainrule issue tracker"


class CLIError(Exception):
    """A user error: printed as ``chainrule CMD: error: ...`` with exit status 2, no traceback."""


class UsageError(Exception):
    """A command line argparse refuses; ``prog`` is the (sub)command it belongs to."""

    def __init__(self, prog: str, message: str):
        super().__init__(message)
        self.prog = prog


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors: ``chainrule train: error: argument --lr: ...`` plus a
    "did you mean" for a misspelt option or choice, instead of the usage block and exit."""

    def error(self, message):
        raise UsageError(self.prog, message + self._suggestion(message))

    def option_strings(self) -> list[str]:
        return [o for a in self._actions for o in a.option_strings]

    def _suggestion(self, message: str) -> str:
        m = re.search(r"invalid choice: '([^']*)' \(choose from (.*)\)", message)
        if m:
            choices = re.findall(r"'([^']*)'", m.group(2)) or m.group(2).split(", ")
            close = difflib.get_close_matches(m.group(1), choices, n=1)
            return f"; did you mean {close[0]!r}?" if close else ""
        return ""


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
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
    parser.subcommands = sub.choices
    return parser


def _parse(parser, argv):
    """The parsed arguments; arguments no command knows are an error with a "did you mean"
    from the options of the command they were given to."""
    args, extra = parser.parse_known_args(argv)
    if extra:
        sub = parser.subcommands.get(getattr(args, "command", None), parser)
        options = sub.option_strings() if isinstance(sub, Parser) else []
        hint = ""
        for word in extra:
            if word.startswith("-"):
                close = difflib.get_close_matches(word.split("=")[0], options, n=1)
                if close:
                    hint = f"; did you mean {close[0]}?"
                    break
        raise UsageError(sub.prog, f"unrecognized arguments: {' '.join(extra)}{hint}")
    return args


def _error_kind(e: BaseException) -> str | None:
    """The one-line text of an expected failure that escaped a command's own handling (every
    command turns its known failures into CLIError): out of memory, disk full, a missing
    optional package. None for anything else, which is a bug."""
    if isinstance(e, MemoryError):
        return ("out of memory; use a smaller model or batch (--batch-size), or a machine with "
                "more memory")
    if isinstance(e, OSError) and e.errno is not None and e.strerror:
        where = f" ({e.filename})" if e.filename else ""
        return f"{e.strerror}{where}"
    from .._extras import missing_extra
    if missing_extra(e) is not None:      # a package an extra installs: name the extra
        return missing_extra(e)
    if isinstance(e, ImportError) and "pip install" in str(e):
        return str(e)
    return None


def main(argv=None) -> int:
    parser = build_parser()
    command = "chainrule"
    try:
        args = _parse(parser, argv)
        args.argv = list(sys.argv[1:] if argv is None else argv)   # to relaunch on N ranks
        command = f"chainrule {args.command}"
        status = args.func(args)
    except UsageError as e:
        print(f"{e.prog}: error: {e} (see `{e.prog} --help`)", file=sys.stderr)
        return 2
    except CLIError as e:
        print(f"{command}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:            # `chainrule concepts | head`: the reader left early
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as e:             # noqa: BLE001 — the last net: one line, never a traceback
        if os.environ.get("CHAINRULE_TRACEBACK"):
            raise
        text = _error_kind(e)
        if text is not None:
            print(f"{command}: error: {text}", file=sys.stderr)
            return 2
        print(f"{command}: internal error: {type(e).__name__}: {_short(e)} — this is a bug of "
              f"chainrule; please report it with the command you ran at {issue_tracker()} "
              "(CHAINRULE_TRACEBACK=1 shows the traceback)", file=sys.stderr)
        return 1
    return int(status or 0)


def _short(e: BaseException) -> str:
    text = " ".join(str(e).split())
    return text if len(text) <= 300 else text[:297] + "..."
