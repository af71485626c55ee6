"""``chainrule examples [NAME]``: the experiment files shipped inside the package.

Without NAME it lists them (``chainrule run NAME`` runs one); with NAME it prints the file, to
copy and edit (``chainrule examples iris_mlp > my.toml``).
"""
from __future__ import annotations


def add_parser(sub):
    p = sub.add_parser("examples", help="list the shipped experiment files (chainrule run NAME)",
                       description="List the experiment files shipped with chainrule, or print "
                       "one (to copy and edit). `chainrule run NAME` runs one by name.")
    p.add_argument("name", nargs="?", metavar="NAME", help="print this experiment file")
    p.set_defaults(func=main)
    return p


def main(args) -> int:
    from .. import examples
    from . import CLIError
    names = examples.experiments()
    if args.name:
        path = examples.experiment_path(args.name)
        if path is None:
            raise CLIError(f"no example named {args.name!r}; the examples are: "
                           f"{', '.join(names)}")
        with open(path, encoding="utf-8") as f:
            print(f.read(), end="")
        return 0
    width = max(len(n) for n in names)
    for n in names:
        print(f"{n:<{width}}  {examples.describe(n)}")
    print("\nrun one with `chainrule run NAME`; `chainrule examples NAME` prints it")
    return 0
