"""The documentation site builds with ``mkdocs build --strict`` (no broken link, reference or
anchor), and its pages render in a real browser: headless Chromium opens the home page, an API
page and a deck-card page, their text is there, the equations are typeset by the KaTeX the site
ships (no network), and every ``<a href>`` of the built site leads to a file that exists (and to
an element with that id when it names one).

The build takes about half a minute; it happens once for the module. ``make test`` installs the
``docs`` extra and Debian's ``chromium`` package when they are missing, so CI runs these tests;
only where no Chromium can be found are the browser checks skipped (the build and the link walk
still run).
"""
from __future__ import annotations

import os
import re
import struct
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools" / "docsite"))
import browser  # noqa: E402


needs_chromium = pytest.mark.skipif(
    browser.find_chromium() is None,
    reason="chromium is not installed: `apt-get install -y chromium` (make test does it)")

SIGMOID_CARD = "deck/12-sigmoid-function-and-its-derivative-eq.html"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("site")
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"), NO_MKDOCS_2_WARNING="1")
    r = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-q",
                        "-f", str(ROOT / "mkdocs.yml"), "-d", str(out)],
                       capture_output=True, text=True, env=env, cwd=ROOT, timeout=600)
    assert r.returncode == 0, f"mkdocs build --strict failed:\n{r.stdout}\n{r.stderr[-4000:]}"
    return out


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs, self.ids = [], set()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(a["id"])
        if tag == "a" and a.get("name"):
            self.ids.add(a["name"])
        if tag == "a" and a.get("href") is not None:
            self.hrefs.append(a["href"])


def _parse(path: Path) -> _Links:
    p = _Links()
    p.feed(path.read_text(encoding="utf-8"))
    return p


def test_the_site_has_every_section(site):
    for page in ("index.html", "getting-started.html", "tutorials/index.html",
                 "deck/index.html", "porting.html", "performance.html", "api-coverage.html",
                 "api/index.html", "api/tensor.html", "cli.html", "search/search_index.json",
                 "assets/katex/katex.min.js"):
        assert (site / page).is_file(), page
    cards = sorted((site / "deck").glob("[0-9][0-9]-*.html"))
    assert len(cards) == 52
    from chainrule.cli.concepts import CARDS
    deck_index = (site / "deck" / "index.html").read_text(encoding="utf-8")
    for title, _ in CARDS:      # every card of the map is listed (HTML-escaped)
        assert title.replace("&", "&amp;").replace("'", "&#39;") in deck_index \
            or title.replace("&", "&amp;") in deck_index, title


def test_the_pages_load_nothing_from_the_network(site):
    # scripts, stylesheets, fonts and images are files of the site: it works offline
    for page in ("index.html", SIGMOID_CARD, "api/nn.html"):
        html = (site / page).read_text(encoding="utf-8")
        external = re.findall(r'<(?:script|link|img)\b[^>]*\b(?:src|href)="(https?:)?//[^"]*"',
                              html)
        assert not external, (page, external)
        assert "katex.min.js" in html and "katex.min.css" in html


def test_every_link_of_the_built_site_leads_somewhere(site):
    pages = {p: _parse(p) for p in site.rglob("*.html")}
    broken, checked = [], 0
    for page, parsed in pages.items():
        for href in parsed.hrefs:
            parts = urlsplit(href)
            if parts.scheme or href.startswith(("mailto:", "javascript:")):
                continue        # external: not part of the site
            if not parts.path:
                target = page
            elif parts.path.startswith("/"):    # 404.html: absolute, from the site's root
                target = (site / unquote(parts.path).lstrip("/")).resolve()
            else:
                target = (page.parent / unquote(parts.path)).resolve()
            if target.is_dir():
                target = target / "index.html"
            checked += 1
            if not target.is_file():
                broken.append(f"{page.relative_to(site)}: {href} (no file)")
            elif parts.fragment and target.suffix == ".html":
                ids = pages[target].ids if target in pages else _parse(target).ids
                if unquote(parts.fragment) not in ids:
                    broken.append(f"{page.relative_to(site)}: {href} (no id)")
    assert checked > 1000
    assert not broken, "\n".join(broken[:40])


def test_a_deck_page_names_its_code_with_source(site):
    html = (site / SIGMOID_CARD).read_text(encoding="utf-8")
    assert "src/chainrule/ops/elementwise.py" in html        # the source lines, titled
    assert 'href="../api/tensor.html#chainrule.sigmoid"' in html
    assert 'href="../api/nn.html#chainrule.nn.Sigmoid"' in html
    api = (site / "api" / "tensor.html").read_text(encoding="utf-8")
    assert 'id="chainrule.sigmoid"' in api


@needs_chromium
def test_pages_render_in_chromium_with_typeset_equations(site, tmp_path):
    home = browser.dump_dom(site / "index.html")
    assert "A deep-learning library for Python built from first principles on NumPy" in home
    assert 'class="katex"' in home and "katex-error" not in home

    card = browser.dump_dom(site / SIGMOID_CARD)
    assert "An S-shaped activation function" in card
    # KaTeX turned the $$...$$ into its HTML and MathML: a display block with a fraction
    assert len(re.findall(r'class="katex-display"', card)) >= 1
    assert '<annotation encoding="application/x-tex">' in card
    assert "katex-error" not in card
    assert r"\frac{1}{1 + e^{-a}}" in card           # the TeX it typeset, kept as annotation

    api = browser.dump_dom(site / "api" / "nn.html")
    assert "chainrule.nn.Linear" in api and "in_features" in api
    assert "Source code in" in api                       # mkdocstrings' source block

    shot = browser.screenshot(site / "index.html", tmp_path / "home.png")
    data = Path(shot).read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (1280, 900)
    assert len(data) > 20_000           # a rendered page, not a blank one


def test_notebooks_become_tutorial_pages(tmp_path):
    import json

    import hooks
    assert "no notebooks" in hooks.tutorials(str(tmp_path / "none"))["tutorials/index.md"][1]
    nb = {"cells": [
        {"cell_type": "markdown", "source": ["# 1 · Tensors\n", "See [the deck](../docs/deck/"
                                             "index.md) and [a file](src/x.py): $y = x^2$."]},
        {"cell_type": "code", "source": ["import chainrule as cr\n", "cr.ones(2)"],
         "outputs": []},
        {"cell_type": "code", "source": [""], "outputs": []}]}
    (tmp_path / "01_tensors.ipynb").write_text(json.dumps(nb))
    pages = hooks.tutorials(str(tmp_path))
    assert set(pages) == {"tutorials/index.md", "tutorials/01-tensors.md"}
    title, md = pages["tutorials/01-tensors.md"]
    assert title == "1 · Tensors"
    assert "[the deck](../deck/index.md)" in md and "a file (`src/x.py`)" in md
    assert "```python\nimport chainrule as cr\ncr.ones(2)\n```" in md and md.count("```") == 2
    assert "[1 · Tensors](01-tensors.md)" in pages["tutorials/index.md"][1]


def test_docstring_index_expressions_are_not_markdown_references():
    from griffe_docstrings import plain_brackets
    text = ("out = input with out[index[i][j]][j] = src[i][j] (dim 0), `a[i][j]` kept\n"
            "Example::\n\n    x[i][j] = 1\nafter[a][b]")
    assert plain_brackets(text) == (
        "out = input with out[index[i]\\[j]]\\[j] = src[i]\\[j] (dim 0), `a[i][j]` kept\n"
        "Example::\n\n    x[i][j] = 1\nafter[a]\\[b]")
