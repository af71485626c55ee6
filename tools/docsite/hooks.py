"""MkDocs hooks that generate the pages of the documentation site from the repository itself.

Nothing here is written by hand twice: the pages come from the files that already say it, so
the site cannot drift from them.

* ``getting-started.md``, ``porting.md``, ``performance.md``: sections of README.md (and
  benchmarks/README.md), links to repository files rewritten for the site;
* ``deck/``: one page per card of the seed deck — its text from ``tests/data/deck.txt`` (split
  by :mod:`chainrule.cli.deck`), its equation from ``deck_equations.toml`` beside this file,
  and the code that implements it from :data:`chainrule.cli.concepts.CARDS` (the map that
  ``chainrule concepts`` prints), with the source lines and a link to the API reference;
* ``api/``: the API reference, one page per part of the package, rendered by mkdocstrings;
* ``cli.md``: the ``--help`` of every ``chainrule`` subcommand;
* ``tutorials.md``: the notebooks of ``notebooks/`` (markdown and code cells) when the folder
  exists, else where the tutorials are.
"""
from __future__ import annotations

import argparse
import importlib
import json
import os
import re
import sys

try:
    import tomllib
except ImportError:  # Python 3.10
    import tomli as tomllib

from mkdocs.structure.files import File

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SRC = os.path.join(ROOT, "src")


def use_checkout() -> None:
    """Import chainrule from this checkout's src/, also where another copy is installed.
    (Called from the hooks, not at import: mkdocs restores sys.path after loading this file.)"""
    if SRC not in sys.path:
        sys.path.insert(0, SRC)
    mod = sys.modules.get("chainrule")
    if mod is not None and not os.path.abspath(mod.__file__).startswith(SRC + os.sep):
        raise RuntimeError(f"docs: chainrule was imported from {mod.__file__}, not from {SRC}")

# The API reference: page -> (title, namespaces). Each namespace is documented as a user imports
# it (``chainrule.tanh``, ``chainrule.nn.Linear``, like torch's reference), whichever module
# defines the object: every public function, class and constant it holds.
API_PAGES = [
    ("tensor", "Tensors and tensor operations", ["chainrule", "chainrule.linalg"]),
    ("autograd", "Automatic differentiation", ["chainrule.autograd", "chainrule.autograd.forward_ad",
                                               "chainrule.autograd.functional", "chainrule.func"]),
    ("nn", "Layers: chainrule.nn", ["chainrule.nn", "chainrule.nn.init", "chainrule.nn.utils"]),
    ("functional", "Functions: chainrule.nn.functional", ["chainrule.nn.functional"]),
    ("optim", "Optimizers and schedules", ["chainrule.optim", "chainrule.optim.lr_scheduler"]),
    ("data", "Data: loading, splitting, scaling, data sets",
     ["chainrule.utils", "chainrule.utils.data", "chainrule.data", "chainrule.datasets"]),
    ("training", "Training, metrics and models", ["chainrule.train", "chainrule.metrics",
                                                   "chainrule.models"]),
    ("vision", "Vision: convolution, filters, transforms",
     ["chainrule.vision", "chainrule.vision.filters", "chainrule.vision.transforms",
      "chainrule.vision.datasets", "chainrule.vision.models", "chainrule.vision.utils"]),
    ("viz", "Figures and graphs", ["chainrule.viz"]),
    ("fx", "Graph capture, compile and custom operators", ["chainrule.fx", "chainrule.library"]),
    ("demos", "Demos (one per idea of the deck)", ["chainrule.demos"]),
    ("backends", "Backends, devices, distributed, profiling",
     ["chainrule.backends", "chainrule.backends.cpu", "chainrule.backends.onednn",
      "chainrule.distributed", "chainrule.onnx", "chainrule.multiprocessing",
      "chainrule.profiler"]),
]

# ---------------------------------------------------------------------------- helpers
def _read(*parts) -> str:
    with open(os.path.join(ROOT, *parts), encoding="utf-8") as f:
        return f.read()


def section(text: str, heading: str) -> str:
    """The body of the markdown section ``heading`` (e.g. ``"## Speed"``), up to the next
    heading of the same or a higher level; fenced code is skipped when looking for headings."""
    level = len(heading) - len(heading.lstrip("#"))
    lines = text.splitlines()
    out, inside, fence = [], False, False
    for line in lines:
        if line.startswith("```"):
            fence = not fence
        if not fence and re.match(r"^#{1,6} ", line):
            this = len(line) - len(line.lstrip("#"))
            if inside and this <= level:
                break
            if line.strip() == heading:
                inside = True
                continue
        if inside:
            out.append(line)
    if not inside:
        raise ValueError(f"docs: README section {heading!r} not found")
    return "\n".join(out).strip() + "\n"


def site_links(text: str, prefix: str = "") -> str:
    """Rewrite the links of a repository markdown file for a site page at the site's root
    (``prefix`` "../" for a page one folder down): ``docs/X`` -> ``X``; a link to any other
    repository file, which the site does not hold, becomes its path in code."""
    def link(m):
        label, target = m.group(1), m.group(2)
        if re.match(r"^[a-z]+://", target) or target.startswith("#"):
            return m.group(0)
        if target.startswith("docs/"):
            return f"[{label}]({prefix}{target[5:]})"
        return f"{label} (`{target}`)"

    text = re.sub(r"(?<!!)\[([^\]]+)\]\(([^)\s]+)\)", link, text)
    # a page of the site named as code (`docs/random.md`) becomes a link to it
    text = re.sub(r"(?<!\[)`docs/([\w./-]+\.md)`",
                  lambda m: f"[`docs/{m.group(1)}`]({prefix}{m.group(1)})"
                  if os.path.exists(os.path.join(ROOT, "docs", m.group(1))) else m.group(0), text)
    text = re.sub(r"(!\[[^\]]*\]\()docs/", rf"\g<1>{prefix}", text)
    text = re.sub(r'(src=")docs/', rf"\g<1>{prefix}", text)
    return text


def slug(text: str) -> str:
    s = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return s[:60].rstrip("-")


# ---------------------------------------------------------------------------- pages from README
def getting_started() -> str:
    readme = _read("README.md")
    return ("# Getting started\n\n"
            "Clone the repository and run one of the two commands; each creates `.venv` when it "
            "is missing and installs what it needs.\n\n"
            + site_links(section(readme, "## The two commands"))
            + "\n## A first example\n\n" + site_links(section(readme, "## A first example"))
            + "\n## Installing\n\n"
            "```sh\npip install chainrule              # NumPy only\n"
            "pip install 'chainrule[all]'       # every optional feature (figures, data sets, "
            "progress bars, notebooks, docs)\n```\n\n"
            + site_links(section(readme, "## Optional extras"))
            + "\n## The `chainrule` command\n\n"
            + site_links(section(readme, "## The `chainrule` command"))
            + "\nEvery subcommand's options are on the [command line](cli.md) page.\n")


def porting() -> str:
    readme = _read("README.md")
    return ("# Porting from PyTorch\n\n"
            "chainrule's API is PyTorch's: `torch.X` becomes `chainrule.X`. The table below "
            "lists the correspondences and then the differences; name by name, the "
            "[API coverage](api-coverage.md) table says which of torch's names exist.\n\n"
            + site_links(section(readme, "## From PyTorch to chainrule")))


def performance() -> str:
    readme = _read("README.md")
    bench = _read("benchmarks", "README.md")
    body = re.sub(r"^#", "##", bench.split("\n", 1)[1], flags=re.M)
    return ("# Performance\n\n" + site_links(section(readme, "## Speed"))
            + "\n## The benchmarks in detail\n\nFrom `benchmarks/README.md`.\n\n"
            + site_links(body))


# ---------------------------------------------------------------------------- API reference
def public_names(namespace: str) -> list[str]:
    """The names a user reaches through ``namespace``: public functions and classes of
    chainrule (wherever defined), constants defined in it, and for chainrule.demos its demo
    modules. Submodules are namespaces of their own and are left out."""
    import inspect
    mod = importlib.import_module(namespace)
    names = []
    for name, obj in vars(mod).items():
        if name.startswith("_"):
            continue
        if inspect.ismodule(obj):
            continue
        if inspect.isclass(obj) or inspect.isfunction(obj) or inspect.isbuiltin(obj) \
                or callable(obj) and hasattr(obj, "__module__"):
            if _reexported(namespace, getattr(obj, "__module__", "") or ""):
                names.append(name)
        elif name.isupper() and _defined_in(namespace, name):
            names.append(name)          # a constant of the module (SOBEL_X ...)
    if namespace == "chainrule.demos":
        from chainrule.demos import DEMOS
        names += sorted({module for module, _ in DEMOS.values()})
    return names


def _reexported(namespace: str, module: str) -> bool:
    """Whether an object defined in ``module`` belongs to ``namespace``'s documented names:
    defined in it (or below it), in a private module (``chainrule._backprop``: its public
    home is the namespace), or one of the tensor operations (chainrule.ops), which torch's
    namespaces re-export on purpose (``F.relu``, ``chainrule.special``). A helper a module
    merely imports for its own use (``Tensor`` in chainrule.vision.filters) is not."""
    if not module.startswith("chainrule"):
        return False
    if namespace == "chainrule" or module == namespace or module.startswith(namespace + "."):
        return True
    return any(p.startswith("_") for p in module.split(".")) or module.startswith("chainrule.ops")


def _defined_in(module: str, name: str) -> bool:
    path = importlib.import_module(module).__file__
    with open(path, encoding="utf-8") as f:
        return re.search(rf"^{name}\b\s*[:=]", f.read(), flags=re.M) is not None


def _resolves(obj) -> bool:
    """Whether ``obj.__module__`` + ``obj.__qualname__`` leads back to ``obj``."""
    target = sys.modules.get(getattr(obj, "__module__", None) or "")
    for part in (getattr(obj, "__qualname__", None) or "<none>").split("."):
        target = getattr(target, part, None)
    return target is obj


def name_factory_functions() -> None:
    """Give each function whose ``__module__.__qualname__`` does not lead back to it the
    name it is reached by. A factory's functions (``chainrule.ops.reduction._arg`` makes
    argmax and argmin: ``_arg.<locals>.arg``) and functions stored under another name are
    paths mkdocstrings' inspection cannot follow. Only this build's process sees the change."""
    for _, _, namespaces in API_PAGES:
        for ns in namespaces:
            mod = importlib.import_module(ns)
            for name in public_names(ns):
                obj = getattr(mod, name, None)
                while obj is not None:      # a decorated function: its __wrapped__ too
                    if (callable(obj) and not isinstance(obj, type)
                            and hasattr(obj, "__qualname__") and not _resolves(obj)):
                        try:
                            obj.__qualname__, obj.__module__ = name, ns
                        except (AttributeError, TypeError):
                            pass
                    obj = getattr(obj, "__wrapped__", None)


def api_pages() -> dict[str, tuple[str, str, list[str]]]:
    """page path -> (title, markdown, namespaces documented on it)."""
    pages = {}
    index = ["# API reference\n",
             "Generated from chainrule's docstrings by mkdocstrings; every object shows its "
             "source. The names are the ones you import (`chainrule.tanh`, "
             "`chainrule.nn.Linear`), as in torch's reference. The equations are in the "
             "docstrings (PyTorch-doc style); the [deck tour](../deck/index.md) shows them "
             "typeset, card by card.\n"]
    for name, title, namespaces in API_PAGES:
        md = [f"# {title}\n"]
        for ns in namespaces:
            mod = importlib.import_module(ns)
            doc = (mod.__doc__ or "").strip().split("\n\n")[0]
            md.append(f'## `{ns}` {{ #{ns} }}\n\n{doc}\n')
            for member in sorted(public_names(ns), key=str.lower):
                md.append(f"::: {ns}.{member}\n    options:\n      heading_level: 3\n")
        pages[f"api/{name}.md"] = (title, "\n".join(md), namespaces)
        index.append(f"- [{title}]({name}.md): " + ", ".join(f"`{m}`" for m in namespaces))
    pages["api/index.md"] = ("API reference", "\n".join(index) + "\n", [])
    return pages


# ---------------------------------------------------------------------------- command line
def cli_page() -> str:
    from chainrule.cli import SUBCOMMANDS, build_parser
    parser = build_parser()
    md = ["# The `chainrule` command\n",
          "Installed with the package (also `python -m chainrule`). The `--help` of every "
          "subcommand, as the command prints it:\n",
          "```text\n" + parser.format_help().rstrip() + "\n```\n"]
    old = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "100"
    try:
        for name in SUBCOMMANDS:
            sub = parser.subcommands[name]
            md.append(f"## chainrule {name}\n\n```text\n{sub.format_help().rstrip()}\n```\n")
    finally:
        if old is None:
            os.environ.pop("COLUMNS", None)
        else:
            os.environ["COLUMNS"] = old
    return "\n".join(md)


# ---------------------------------------------------------------------------- the deck tour
def card_texts(text: str) -> dict[str, list[str]]:
    """Card title -> the answer lines under it, split by chainrule.cli.deck's rule."""
    from chainrule.cli.deck import card_titles
    titles = card_titles(text)
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    start = lines.index(titles[0])
    out, cur = {}, None
    for ln in lines[start:]:
        if cur is None or (len(out) < len(titles) and ln == titles[len(out)]):
            cur = ln
            out[cur] = []
        else:
            out[cur].append(ln)
    return out


def _is_flattened_formula(line: str) -> bool:
    """A formula line the export flattened (``σ(a)=1+e−a1``): the page typesets it instead."""
    if "amp;" in line or "\\" in line:
        return True
    return "=" in line and len(line.split()) < 4


def _prose(lines: list[str]) -> str:
    out = []
    for ln in lines:
        if _is_flattened_formula(ln):
            continue
        if len(ln.split()) <= 4 and not ln.endswith((".", ":", "?")):
            out.append(f"- {ln}")        # a list item of the card (SGD, Adagrad ...)
        else:
            out.append(ln + "\n")
    return "\n".join(out)


class _Griffe:
    """The package as mkdocstrings sees it (static analysis), to link only to what the API
    pages really render and to quote the lines that define an object."""

    def __init__(self):
        import griffe
        self.pkg = griffe.load("chainrule", search_paths=[SRC], allow_inspection=False)

    def get(self, path: str):
        try:
            obj = self.pkg[path.split(".", 1)[1]] if "." in path else self.pkg
        except (KeyError, ValueError):
            return None
        try:
            return obj.final_target if obj.is_alias else obj
        except Exception:   # noqa: BLE001 — an alias griffe cannot resolve
            return None


def code_block(obj, max_lines: int = 30) -> str:
    path = os.path.relpath(str(obj.filepath), ROOT)
    if obj.lineno is None:      # a module: its docstring says what is in it
        doc = obj.docstring.value.split("\n\n")[0] if obj.docstring else ""
        return f"`{path}`" + (f": {' '.join(doc.split())}" if doc else "") + "\n"
    lo, hi = obj.lineno, obj.endlineno or obj.lineno
    with open(obj.filepath, encoding="utf-8") as f:
        lines = f.read().splitlines()
    snippet = lines[lo - 1:min(hi, lo - 1 + max_lines)]
    more = f"\n    # … ({hi - lo + 1 - max_lines} more lines)" if hi - lo + 1 > max_lines else ""
    title = f"{path}, lines {lo}–{hi}" if hi > lo else f"{path}, line {lo}"
    return f'```python title="{title}"\n' + "\n".join(snippet) + more + "\n```\n"


def deck_pages(rendered: dict[str, str]) -> dict[str, tuple[str, str]]:
    """deck/... page path -> (title, markdown). ``rendered`` maps a module rendered on an API
    page to that page."""
    from chainrule.cli import SUBCOMMANDS
    from chainrule.cli.concepts import CARDS
    from chainrule.demos import DEMOS
    with open(os.path.join(HERE, "deck_equations.toml"), "rb") as f:
        equations = tomllib.load(f)
    texts = card_texts(_read("tests", "data", "deck.txt"))
    g = _Griffe()
    pages, index = {}, []
    for i, (title, targets) in enumerate(CARDS, 1):
        path = f"deck/{i:02d}-{slug(title)}.md"
        md = [f"# {i}. {title}\n", _prose(texts.get(title, [])) + "\n",
              "## The equation\n", f"$$\n{equations[title]}\n$$\n",
              "## The code that implements it\n"]
        for tgt in targets:
            md.append(_target_md(tgt, g, rendered, SUBCOMMANDS, DEMOS))
        prev = f"[← previous card]({os.path.basename(list(pages)[-1])})" if pages else ""
        md.append(f"\n---\n\n{prev}  [all cards](index.md)\n")
        pages[path] = (title, "\n".join(md))
        index.append(f"{i}. [{title}]({os.path.basename(path)})")
    intro = ("# The deck tour\n\nThe seed deck has 52 cards: the ideas of a first course on "
             "neural networks, from the perceptron to residual networks. Each page below gives "
             "the card's idea, its equation typeset, and the code of chainrule that implements "
             "it, with its source and a link to its API reference. The same map is printed by "
             "`chainrule concepts`; each demo (`chainrule demo NAME`) measures the card's claim "
             "and draws the figure shown on its page.\n\n")
    pages["deck/index.md"] = ("The deck tour", intro + "\n".join(index) + "\n")
    return pages


def _target_md(tgt, g, rendered, subcommands, demos) -> str:
    if tgt.startswith("cli:"):
        name = tgt[4:]
        assert name in subcommands, tgt
        return (f"- the command [`chainrule {name}`](../cli.md#chainrule-{name}) "
                f"(`src/chainrule/cli/{subcommands[name].lstrip('.')}.py`)\n")
    if tgt.startswith("demo:"):
        name = tgt[5:]
        module, what = demos[name]
        md = (f"- the demo `chainrule demo {name}`: {what} — "
              f"[`chainrule.demos.{module}`](../api/demos.md#chainrule.demos.{module})\n")
        fig = os.path.join(ROOT, "docs", "figures", f"{name}.png")
        if os.path.exists(fig):
            md += f"\n    ![{name}](../figures/{name}.png)\n"
        return md
    obj = g.get(tgt)
    if obj is None:
        raise ValueError(f"docs: deck target {tgt} is not in the package griffe sees")
    # the target's namespace: the longest documented prefix (chainrule.Tensor.backward is on
    # chainrule's page, under the Tensor class)
    parts = tgt.split(".")
    for i in range(len(parts), 0, -1):
        page = rendered.get(".".join(parts[:i]))
        if page:
            break
    else:
        raise ValueError(f"docs: {tgt} is in no namespace of the API pages")
    link = f"[`{tgt}`](../{page}#{tgt})"
    md = f"- {link}\n\n" + _indent(code_block(obj))
    rule = _rule_class(obj)
    if rule is not None:      # `sigmoid = _unary(Sigmoid, "sigmoid")`: the rule is the class
        md += "\n    The derivative rule it records:\n\n" + _indent(code_block(rule))
    return md + "\n"


def _rule_class(obj):
    """For an op made in one line from a rule class of its module (``_unary(Sigmoid, ...)``),
    that class."""
    if obj.kind.value != "attribute" or not obj.lineno or obj.endlineno not in (None, obj.lineno):
        return None
    with open(obj.filepath, encoding="utf-8") as f:
        line = f.read().splitlines()[obj.lineno - 1]
    m = re.match(r"^\w+\s*=\s*[\w.]+\(\s*([A-Z]\w*)\b", line)
    if not m or m.group(1) not in obj.parent.members:
        return None
    cls = obj.parent.members[m.group(1)]
    return None if cls.is_alias or cls.kind.value not in ("class", "attribute") else cls


def _indent(text: str) -> str:
    return "\n".join(("    " + ln) if ln else "" for ln in text.splitlines()) + "\n"


# ---------------------------------------------------------------------------- tutorials
def tutorials(folder: str | None = None) -> dict[str, tuple[str, str]]:
    """tutorials/... page path -> (title, markdown): one page per notebook of ``folder``
    (default: the repository's notebooks/), its markdown cells as they are and its code cells
    as Python blocks, or an index that says where the tutorials are when there are none."""
    folder = folder or os.path.join(ROOT, "notebooks")
    nbs = sorted(f for f in os.listdir(folder) if f.endswith(".ipynb")) \
        if os.path.isdir(folder) else []
    if not nbs:
        return {"tutorials/index.md": ("Tutorials", (
            "# Tutorials\n\nThe tutorials are Jupyter notebooks in the repository's "
            "`notebooks/` folder (install with `pip install 'chainrule[notebooks]'` and open them "
            "with `jupyter lab notebooks/`). This build found no notebooks in the checkout, so "
            "none are rendered here; the [deck tour](../deck/index.md) walks through the same "
            "ideas card by card, and [getting started](../getting-started.md) has the first "
            "example.\n"))}
    pages, index = {}, ["# Tutorials\n", "The Jupyter notebooks of the repository's "
                        "`notebooks/` folder, rendered (markdown and code; run them with "
                        "`jupyter lab notebooks/` after `pip install 'chainrule[notebooks]'`).\n"]
    for nb in nbs:
        with open(os.path.join(folder, nb), encoding="utf-8") as f:
            cells = json.load(f).get("cells", [])
        md, title = [], nb[:-6]
        for c in cells:
            src = "".join(c.get("source", []))
            if c.get("cell_type") == "markdown":
                m = re.search(r"^# (.+)$", src, flags=re.M)
                if m and title == nb[:-6]:
                    title = m.group(1).strip()
                md.append(_notebook_links(src))
            elif c.get("cell_type") == "code" and src.strip():
                md.append(f"```python\n{src}\n```")
        if not any(s.lstrip().startswith("# ") for s in md):
            md.insert(0, f"# {title}")
        path = f"tutorials/{slug(nb[:-6])}.md"
        pages[path] = (title, "\n\n".join(md) + "\n\n---\n\nSource: `notebooks/" + nb + "`\n")
        index.append(f"- [{title}]({os.path.basename(path)}) (`notebooks/{nb}`)")
    pages["tutorials/index.md"] = ("Tutorials", "\n".join(index) + "\n")
    return pages


def _notebook_links(text: str) -> str:
    """A notebook's links to repository files: ../docs/X -> ../X; others become code."""
    text = re.sub(r"\]\(\.\./docs/", "](../", text)

    def link(m):
        target = m.group(2)
        if re.match(r"^[a-z]+://", target) or target.startswith(("#", "../")):
            return m.group(0)
        return f"{m.group(1)} (`{target}`)"
    return re.sub(r"(?<!!)\[([^\]]+)\]\(([^)\s]+)\)", link, text)


# ---------------------------------------------------------------------------- the hook
def generated_pages() -> dict[str, str]:
    use_checkout()
    api = api_pages()
    rendered = {m: page for page, (_, _, mods) in api.items() for m in mods}
    pages = {p: md for p, (_, md, _) in api.items()}
    pages.update({p: md for p, (_, md) in deck_pages(rendered).items()})
    pages.update({p: md for p, (_, md) in tutorials().items()})
    pages["getting-started.md"] = getting_started()
    pages["porting.md"] = porting()
    pages["performance.md"] = performance()
    pages["cli.md"] = cli_page()
    return pages


def on_config(config):
    use_checkout()
    name_factory_functions()
    return config


def on_files(files, config):
    for path, content in generated_pages().items():
        files.append(File.generated(config, path, content=content))
    return files


if __name__ == "__main__":     # print the generated pages' paths (a quick look without mkdocs)
    parser = argparse.ArgumentParser()
    parser.add_argument("--show", help="print this page's markdown")
    a = parser.parse_args()
    pages = generated_pages()
    if a.show:
        print(pages[a.show])
    else:
        print("\n".join(pages))
