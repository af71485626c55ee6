"""Read the card titles out of the seed deck's flashcard-site export.

The export is plain text: a few lines of page furniture (the "1/52" card counter, "Looks like no
tags are added yet.", the Mastery/Learn/Test table, "No analytics yet", "Send a link ..."), then
the cards, each a title line followed by its answer lines. Nothing marks where a card ends, so
the split needs a rule. A line is a card **title** when

1. it is the first line after the furniture (the deck opens with a title), or
2. it ends with ``?`` (the question cards), or
3. it ends with a card-type tag: ``(eq)``, ``(def)`` or ``(df + ex)``, or
4. it is a bare phrase — only words, no ``=``, no LaTeX backslash, no final punctuation — and
   the next line is a prose sentence (starts with a capital, ends with ``.`` or ``:``). This
   finds the untagged titles "The Baseline Equation of Neural Networks", "Computational
   Graphs of DNN" and "Give def of Adaptive Heuristic Optimizers and give examples", whose
   answers are sentences.

What the rule deliberately does *not* count: the answer lines of the "Machine Learning Flow"
card (Define Task ...), the five names listed under "Activation functions (df + ex)"
("Heaviside Step Function", "Sigmoid Function", ...) and the four under "Adaptive Heuristic
Optimizers" (SGD, Adagard, RMSprop, Adam). They are bare phrases too, but each is followed by
another bare phrase or a title, never by a sentence, so rule 4 leaves them alone; they are list
items of the card above them. "Heaviside Step Function" therefore counts once, as the tagged
card "Heaviside Step Function (eq)" — its first appearance is a list item. Formula lines
(``σ(a)=1+e−a1``, ``g(z) = \\max(0, z) ...``) can precede a sentence but contain ``=`` and are
excluded by rule 4. The result is exactly the 52 the counter announces.
"""
from __future__ import annotations

import re

_FURNITURE = (
    re.compile(r"^\d+/\d+$"),                    # card counter "1/52"
    re.compile(r"^Looks like no tags"),
    re.compile(r"\|"),                           # the Mastery/Learn/Test table and its rule
    re.compile(r"^No analytics yet"),
    re.compile(r"^Send a link to your students"),
)
_TAG = re.compile(r"\((eq|def|df \+ ex)\)$")
_BARE = re.compile(r"^[A-Za-z][A-Za-z0-9 ()'\-/&,]*[A-Za-z0-9)]$")
_SENTENCE = re.compile(r"^[A-Z].*[.:]$")


def expected_count(text: str) -> int | None:
    """The card count the export announces in its "k/N" counter line, or None."""
    for line in text.splitlines()[:5]:
        m = re.match(r"^\s*\d+/(\d+)\s*$", line)
        if m:
            return int(m.group(1))
    return None


def _is_furniture(line: str) -> bool:
    return any(p.search(line) for p in _FURNITURE)


def card_titles(text: str) -> list[str]:
    """The card titles of a deck export, in order, by the rule in this module's docstring."""
    lines = [ln.strip() for ln in text.splitlines()]
    lines = [ln for ln in lines if ln]
    start = 0
    while start < len(lines) and _is_furniture(lines[start]):
        start += 1
    body = lines[start:]
    titles = []
    for i, line in enumerate(body):
        nxt = body[i + 1] if i + 1 < len(body) else ""
        if (i == 0 or line.endswith("?") or _TAG.search(line)
                or (_BARE.match(line) and "=" not in line and _SENTENCE.match(nxt))):
            titles.append(line)
    return titles
