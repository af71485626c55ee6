"""``chainrule demo NAME [--fast] [--out DIR]`` and ``chainrule demo --list``."""
from __future__ import annotations

import json
import os

from .._io import atomic_write_text


def add_parser(sub):
    from ..demos import DEMOS
    p = sub.add_parser(
        "demo", help="run one demo of an idea of the deck (or --list them)",
        description="Run a demo: it measures one finding of the deck, prints it in one line and "
        "saves a PNG figure (matplotlib: pip install 'chainrule[viz]'). NAME 'all' runs every "
        "demo. Demos: " + ", ".join(DEMOS) + ".")
    p.add_argument("name", nargs="?", metavar="NAME", help="the demo to run, or 'all'")
    p.add_argument("--list", action="store_true", help="list the demos and exit")
    p.add_argument("--fast", action="store_true",
                   help="smaller sizes: seconds instead of minutes, same finding")
    p.add_argument("--out", default="demo-figures", metavar="DIR",
                   help="folder for the figures and the findings JSON (default: demo-figures)")
    p.set_defaults(func=main)
    return p


def main(args) -> int:
    from .. import demos
    from . import CLIError
    if args.list or not args.name:
        width = max(map(len, demos.DEMOS))
        for name, (_, text) in demos.DEMOS.items():
            print(f"{name:<{width}}  {text}")
        return 0
    names = list(demos.DEMOS) if args.name == "all" else [args.name]
    from .paths import check_writable_dir
    from .schema import did_you_mean
    for name in names:
        if name not in demos.DEMOS:
            raise CLIError(f"unknown demo {name!r}; choose one of: all, {', '.join(demos.DEMOS)}"
                           + did_you_mean(name, list(demos.DEMOS)))
    check_writable_dir(args.out, "--out")
    for name in names:
        result = demos.run(name, fast=args.fast, out_dir=args.out)
        atomic_write_text(os.path.join(args.out, f"{name}.json"),
                          json.dumps(result, indent=2, default=float))
        print(f"  figure: {result['figure']}")
    return 0
